//! What the engine tells its driver: events, file states and upload errors.

use std::fmt;

use serde::Serialize;

use super::FileId;
use crate::Error;

/// Where a file stands, as a user sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FileStatus {
    /// Waiting for a free request slot.
    Queued,
    /// Requests are being sent for it.
    Uploading,
    /// Paused by the user; nothing new is sent.
    Paused,
    /// Stored; the [`Event::Completed`] event carries the details.
    Completed,
    /// Failed; [`Engine::retry`](super::Engine::retry) continues it.
    Failed,
    /// Cancelled by the user; its multipart upload was aborted.
    Cancelled,
}

/// Bytes sent and how fast, for one file or for all.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// Bytes stored or on their way. Within one attempt it only grows; a retried request
    /// takes its bytes back.
    pub sent: u64,
    pub total: u64,
    /// Bytes per second since the upload started (0 until something was sent).
    pub rate: f64,
    /// Milliseconds left at that rate, when there is one.
    pub eta_ms: Option<u64>,
}

/// A finished upload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Completed {
    pub bucket: String,
    pub key: String,
    /// The object's URL (path- or virtual-hosted-style, as the endpoint addresses it).
    pub location: String,
    pub etag: String,
    /// The whole-object checksum S3 confirmed (base64), when one was sent.
    pub checksum: Option<String>,
}

/// Something the driver should show, store or pass on.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Event {
    /// A file was accepted and queued.
    Submitted {
        file: FileId,
    },
    StatusChanged {
        file: FileId,
        status: FileStatus,
    },
    /// Progress of one file, and of everything this engine holds.
    Progress {
        file: FileId,
        file_progress: Progress,
        total: Progress,
    },
    /// The file's resume record changed: store [`Engine::resume_record`](super::Engine::resume_record)
    /// (or delete the stored one when it returns `None`).
    ResumeRecordChanged {
        file: FileId,
    },
    Completed {
        file: FileId,
        completed: Completed,
    },
    Failed {
        file: FileId,
        error: UploadError,
    },
    /// The credentials provider cannot give new credentials without the user (the sign-in
    /// itself expired). Requests wait until [`Engine::set_credentials`](super::Engine::set_credentials).
    CredentialsExpired,
    /// Nothing is queued, uploading or paused any more.
    AllComplete {
        completed: u32,
        failed: u32,
        cancelled: u32,
    },
}

/// Why a file failed: the error, the file and the key it concerns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadError {
    pub name: String,
    pub bucket: String,
    pub key: String,
    #[serde(serialize_with = "display")]
    pub error: Error,
}

fn display<S: serde::Serializer>(e: &Error, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(e)
}

impl crate::text::Piece for UploadError {
    fn put(&self, out: &mut String) {
        crate::cat_into!(
            out,
            "uploading {} to s3://{}/{} failed: {}",
            crate::text::Quoted(&self.name),
            self.bucket,
            self.key,
            self.error
        );
    }
}

impl fmt::Display for UploadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::text::display(self, f)
    }
}

impl std::error::Error for UploadError {}
