//! Resume records on disk, one JSON file per upload in the user's cache directory,
//! named by a hash of the file's fingerprint. They hold no secret (see
//! [`updraft_core::engine::ResumeRecord`]).

use std::path::PathBuf;

use sha2::{Digest, Sha256};
use updraft_core::engine::ResumeRecord;

/// A directory of resume records.
#[derive(Clone, Debug)]
pub struct ResumeStore {
    dir: PathBuf,
}

impl ResumeStore {
    /// Records under `dir` (created when first written).
    pub fn new(dir: PathBuf) -> Self {
        ResumeStore { dir }
    }

    /// `<user cache dir>/updraft/resume`, e.g. `~/.cache/updraft/resume`.
    pub fn default_dir() -> Option<PathBuf> {
        dirs::cache_dir().map(|d| d.join("updraft").join("resume"))
    }

    fn path(&self, fingerprint: &str) -> PathBuf {
        let digest = Sha256::digest(fingerprint.as_bytes());
        let name: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{name}.json"))
    }

    /// The record stored for `fingerprint`, if any and readable.
    pub fn load(&self, fingerprint: &str) -> Option<ResumeRecord> {
        let text = std::fs::read_to_string(self.path(fingerprint)).ok()?;
        ResumeRecord::from_json(&text).ok()
    }

    /// Stores `record` atomically (write, then rename). Failing to store only costs the
    /// ability to resume, so it is not an error.
    pub fn save(&self, fingerprint: &str, record: &ResumeRecord) {
        let path = self.path(fingerprint);
        let tmp = path.with_extension("tmp");
        let _ = std::fs::create_dir_all(&self.dir)
            .and_then(|()| std::fs::write(&tmp, record.to_json()))
            .and_then(|()| std::fs::rename(&tmp, &path));
    }

    /// Forgets the record for `fingerprint`.
    pub fn delete(&self, fingerprint: &str) {
        let _ = std::fs::remove_file(self.path(fingerprint));
    }

    /// How many records are stored.
    pub fn len(&self) -> usize {
        std::fs::read_dir(&self.dir).map_or(0, |d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
    }

    /// Whether no record is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
