//! Resume records: what it takes to continue a multipart upload after a crash or a
//! reload. They hold no secret — no keys, no tokens, no signed URLs — so a driver may
//! keep them in `localStorage` or a cache file.

use serde::{Deserialize, Serialize};

use crate::json::{self, Value};

/// A multipart upload in progress, as far as this device knows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResumeRecord {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub size: u64,
    pub part_size: u64,
    /// The file's fingerprint when the upload started (the driver's choice: name, size,
    /// last-modified time). A different fingerprint means a different file.
    pub fingerprint: String,
    /// The checksum algorithm the upload was created with (`CRC32C`, `CRC64NVME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<String>,
    /// Parts S3 confirmed, in part-number order.
    pub parts: Vec<RecordedPart>,
}

/// One part S3 confirmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedPart {
    pub number: u32,
    pub etag: String,
    /// The part's checksum (the raw CRC value) when one was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc: Option<u64>,
}

impl ResumeRecord {
    /// Reads a record stored as JSON (the form [`ResumeRecord::to_json`] writes, which is
    /// also the serde form; unknown members are ignored).
    ///
    /// # Errors
    /// [`crate::Error::InvalidResponse`] when `json` is not a resume record.
    pub fn from_json(json: &str) -> Result<Self, crate::Error> {
        let v = json::parse(json).map_err(|detail| crate::Error::InvalidResponse {
            what: "stored resume record",
            detail,
        })?;
        Self::from_value(&v).ok_or_else(|| crate::Error::InvalidResponse {
            what: "stored resume record",
            detail: "a member is missing or has the wrong type".into(),
        })
    }

    fn from_value(v: &Value) -> Option<Self> {
        let string = |v: &Value, name| v.get(name)?.as_str().map(str::to_owned);
        let optional = |v: &Value, name| match v.get(name) {
            None | Some(Value::Null) => Some(None),
            Some(x) => x.as_u64().map(Some),
        };
        let parts = match v.get("parts")? {
            Value::Array(parts) => parts
                .iter()
                .map(|p| {
                    Some(RecordedPart {
                        number: u32::try_from(p.get("number")?.as_u64()?).ok()?,
                        etag: string(p, "etag")?,
                        crc: optional(p, "crc")?,
                    })
                })
                .collect::<Option<Vec<_>>>()?,
            _ => return None,
        };
        Some(ResumeRecord {
            bucket: string(v, "bucket")?,
            key: string(v, "key")?,
            upload_id: string(v, "uploadId")?,
            size: v.get("size")?.as_u64()?,
            part_size: v.get("partSize")?.as_u64()?,
            fingerprint: string(v, "fingerprint")?,
            checksum_algorithm: match v.get("checksumAlgorithm") {
                None | Some(Value::Null) => None,
                Some(a) => Some(a.as_str()?.to_owned()),
            },
            parts,
        })
    }

    /// The record as JSON.
    pub fn to_json(&self) -> String {
        let parts = self
            .parts
            .iter()
            .map(|p| {
                let mut m = vec![
                    ("number".to_owned(), u64::from(p.number).into()),
                    ("etag".to_owned(), p.etag.as_str().into()),
                ];
                if let Some(crc) = p.crc {
                    m.push(("crc".to_owned(), crc.into()));
                }
                Value::Object(m)
            })
            .collect();
        let mut m = vec![
            ("bucket".to_owned(), self.bucket.as_str().into()),
            ("key".to_owned(), self.key.as_str().into()),
            ("uploadId".to_owned(), self.upload_id.as_str().into()),
            ("size".to_owned(), self.size.into()),
            ("partSize".to_owned(), self.part_size.into()),
            ("fingerprint".to_owned(), self.fingerprint.as_str().into()),
        ];
        if let Some(a) = &self.checksum_algorithm {
            m.push(("checksumAlgorithm".to_owned(), a.as_str().into()));
        }
        m.push(("parts".to_owned(), Value::Array(parts)));
        Value::Object(m).to_json()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The record's own JSON and its serde form are one format: records written by
    /// either are read by both.
    #[test]
    fn json_is_the_serde_form() {
        let mut r = ResumeRecord {
            bucket: "b".into(),
            key: "k/\"x\".bin".into(),
            upload_id: "u~1".into(),
            size: 5_368_709_121,
            part_size: 8 << 20,
            fingerprint: "f|1|2".into(),
            checksum_algorithm: Some("CRC64NVME".into()),
            parts: vec![
                RecordedPart {
                    number: 1,
                    etag: "\"e1\"".into(),
                    crc: Some(u64::MAX),
                },
                RecordedPart {
                    number: 2,
                    etag: "\"e2\"".into(),
                    crc: None,
                },
            ],
        };
        for _ in 0..2 {
            assert_eq!(r.to_json(), serde_json::to_string(&r).unwrap());
            assert_eq!(ResumeRecord::from_json(&r.to_json()).unwrap(), r);
            r.checksum_algorithm = None;
            r.parts.clear();
        }
        let extra = r#"{"bucket":"b","key":"k","uploadId":"u","size":1,"partSize":1,
            "fingerprint":"f","checksumAlgorithm":null,"new":[1],"parts":[{"number":1,"etag":"e","crc":null}]}"#;
        assert_eq!(
            ResumeRecord::from_json(extra).unwrap(),
            serde_json::from_str::<ResumeRecord>(extra).unwrap()
        );
        for bad in [
            "{}",
            r#"{"bucket":"b","key":"k","uploadId":"u","size":-1,"partSize":1,"fingerprint":"f","parts":[]}"#,
            r#"{"bucket":"b","key":"k","uploadId":"u","size":1,"partSize":1,"fingerprint":"f","parts":[{"number":4294967296,"etag":"e"}]}"#,
        ] {
            assert!(ResumeRecord::from_json(bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<ResumeRecord>(bad).is_err(), "{bad}");
        }
    }
}
