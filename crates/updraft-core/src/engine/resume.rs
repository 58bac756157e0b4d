//! Resume records: what it takes to continue a multipart upload after a crash or a
//! reload. They hold no secret — no keys, no tokens, no signed URLs — so a driver may
//! keep them in `localStorage` or a cache file.

use serde::{Deserialize, Serialize};

use crate::json::{self, ObjectWriter, Value};

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
        let Value::Array(list) = v.get("parts")? else {
            return None;
        };
        // A loop, not `collect::<Option<…>>` (its adapters are code of their own: wasm size).
        let mut parts = Vec::new();
        for p in list {
            parts.push(RecordedPart {
                number: u32::try_from(p.get("number")?.as_u64()?).ok()?,
                etag: string(p, "etag")?,
                crc: optional(p, "crc")?,
            });
        }
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

    /// The record as JSON, written as text straight away (wasm size, issue 16).
    pub fn to_json(&self) -> String {
        let mut parts = String::from("[");
        for p in &self.parts {
            if parts.len() > 1 {
                parts.push(',');
            }
            let mut w = ObjectWriter::new();
            w.num("number", u64::from(p.number)).str("etag", &p.etag);
            if let Some(crc) = p.crc {
                w.num("crc", crc);
            }
            parts.push_str(&w.finish());
        }
        parts.push(']');
        let mut w = ObjectWriter::new();
        w.str("bucket", &self.bucket)
            .str("key", &self.key)
            .str("uploadId", &self.upload_id)
            .num("size", self.size)
            .num("partSize", self.part_size)
            .str("fingerprint", &self.fingerprint);
        if let Some(a) = &self.checksum_algorithm {
            w.str("checksumAlgorithm", a.as_str());
        }
        w.raw("parts", &parts).finish()
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
