//! Resume records: what it takes to continue a multipart upload after a crash or a
//! reload. They hold no secret — no keys, no tokens, no signed URLs — so a driver may
//! keep them in `localStorage` or a cache file.

use serde::{Deserialize, Serialize};

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
    /// Reads a record stored as JSON.
    ///
    /// # Errors
    /// [`crate::Error::InvalidResponse`] when `json` is not a resume record.
    pub fn from_json(json: &str) -> Result<Self, crate::Error> {
        serde_json::from_str(json).map_err(|e| crate::Error::InvalidResponse {
            what: "stored resume record",
            detail: e.to_string(),
        })
    }

    /// The record as JSON.
    pub fn to_json(&self) -> String {
        // A struct of strings and numbers always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }
}
