//! The one error type of the wire layer. Every variant says what happened, to what,
//! and what to do next.

use std::fmt;

use crate::cat_into;
use crate::text::{Piece, Quoted};

/// `items` with `sep` between them: `[T]::join` without std's specialised copy loop,
/// which is about 1 KB of wasm for each item type it is used with (twiggy).
pub(crate) fn join<S: AsRef<str>>(items: &[S], sep: &str) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(item.as_ref());
    }
    out
}

/// Everything the wire layer can reject.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    // ---- responses --------------------------------------------------------------------
    /// A response body or header could not be read as the operation's answer.
    InvalidResponse {
        /// What was being read, e.g. `CompleteMultipartUpload response`.
        what: &'static str,
        detail: String,
    },
    /// No answer arrived: the connection failed, timed out or was reset. In a browser a
    /// bucket whose CORS rules refuse the page's origin looks the same.
    Network { detail: String },
    // ---- sigv4 ------------------------------------------------------------------------
    /// A request cannot be signed as given.
    Signing { detail: String },
    // ---- planning ---------------------------------------------------------------------
    /// An object larger than S3 stores.
    ObjectTooLarge { size: u64, max: u64 },
    // ---- s3 ---------------------------------------------------------------------------
    /// S3 (or an S3-compatible server) refused an operation; boxed to keep `Error` small.
    S3(Box<crate::s3::S3Error>),
    /// An endpoint URL cannot be used to reach S3, STS or Cognito.
    InvalidEndpoint { endpoint: String, detail: String },
    // ---- sts / cognito ----------------------------------------------------------------
    /// STS refused `AssumeRoleWithWebIdentity`.
    Sts(Box<crate::sts::StsError>),
    /// Cognito Identity refused `GetId` or `GetCredentialsForIdentity`.
    Cognito(Box<crate::cognito::CognitoError>),
    // ---- object properties ------------------------------------------------------------
    /// A key template cannot be used: an unknown placeholder, an unbalanced brace, or
    /// literal text that would make a `.`/`..` path segment.
    KeyTemplate { template: String, detail: String },
    /// A value that goes into an object key (the user's `sub`, a uuid) would change the
    /// key's shape, e.g. contains `/`.
    InvalidKeyPart {
        /// `sub` or `uuid`.
        what: &'static str,
        value: String,
        detail: &'static str,
    },
    /// The object key made for `file_name` exceeds S3's 1024-byte limit.
    KeyTooLong {
        file_name: String,
        /// The first characters of the key, to tell which upload it was.
        key_prefix: String,
        /// The key's length in UTF-8 bytes.
        len: usize,
    },
    /// A user-metadata entry cannot be sent as an `x-amz-meta-*` header.
    InvalidMetadata { name: String, detail: String },
    /// The user metadata adds up to more than S3 accepts.
    MetadataTooLarge { size: usize, limit: usize },
    /// A setting (ACL, storage class, encryption) has a value S3 does not know.
    InvalidSetting {
        /// `canned ACL`, `storage class`, `server-side encryption`, ...
        what: &'static str,
        value: String,
        /// What would be accepted.
        valid: &'static str,
    },
    // ---- engine -----------------------------------------------------------------------
    /// A file was refused before any request: it breaks a validation rule.
    FileRejected { name: String, reason: String },
    /// A part was stored but its answer carried no `ETag`: the bucket's CORS rules do
    /// not expose it to the page.
    EtagNotExposed { bucket: String },
    /// A cancelled multipart upload could not be aborted; its parts stay (and cost) until
    /// aborted.
    AbortFailed { upload_id: String, reason: String },
    /// The driver could not read the file's bytes (moved, deleted, a disk unplugged); the
    /// parts S3 stored stay for a retry.
    ReadFailed { detail: String },
    // ---- checksum ---------------------------------------------------------------------
    /// S3 (or the driver) saw different bytes from the ones checksummed: the stored
    /// object's checksum differs from the one computed while reading the file.
    ChecksumMismatch {
        key: String,
        /// `CRC32C` or `CRC64NVME`.
        algorithm: &'static str,
        /// The base64 value computed from the file while reading it.
        expected: String,
        /// The base64 value S3 reported.
        actual: String,
    },
}

impl Piece for Error {
    fn put(&self, out: &mut String) {
        match self {
            Error::InvalidResponse { what, detail } => {
                cat_into!(
                    out,
                    "the {} could not be read ({}); the server may not be S3-compatible or a proxy changed the answer",
                    what,
                    detail
                )
            }
            Error::Network { detail } => {
                cat_into!(
                    out,
                    "no answer from the server ({}); check the network connection, and in a browser that the bucket's CORS \
                 rules allow this page's origin",
                    detail
                )
            }
            Error::Signing { detail } => cat_into!(out, "the request cannot be signed: {}", detail),
            Error::ObjectTooLarge { size, max } => {
                cat_into!(
                    out,
                    "the file is {} bytes, larger than the {} bytes (48.8 TiB) S3 stores in one object; split it into smaller files",
                    size,
                    max
                )
            }
            Error::S3(e) => e.put(out),
            Error::InvalidEndpoint { endpoint, detail } => {
                cat_into!(
                    out,
                    "the endpoint {} cannot be used ({}); give a URL such as https://s3.eu-west-1.amazonaws.com or \
                 http://127.0.0.1:9000",
                    Quoted(endpoint),
                    detail
                )
            }
            Error::Sts(e) => e.put(out),
            Error::Cognito(e) => e.put(out),
            Error::KeyTemplate { template, detail } => {
                cat_into!(
                    out,
                    "the key template {} cannot be used: {}; placeholders are {sub}, {uuid}, {name}, {path}, {ext} and {date}",
                    Quoted(template),
                    detail
                )
            }
            Error::InvalidKeyPart {
                what,
                value,
                detail,
            } => {
                cat_into!(
                    out,
                    "the {} {} cannot be part of an object key: {}",
                    what,
                    Quoted(value),
                    detail
                )
            }
            Error::KeyTooLong {
                file_name,
                key_prefix,
                len,
            } => {
                cat_into!(
                    out,
                    "the object key for file {} ({}...) would be {} bytes, {} bytes too long for S3's {}-byte key limit; rename the file or shorten the key's prefix",
                    Quoted(file_name),
                    key_prefix,
                    len,
                    len.saturating_sub(crate::object::MAX_KEY_LEN),
                    crate::object::MAX_KEY_LEN
                )
            }
            Error::InvalidMetadata { name, detail } => {
                cat_into!(
                    out,
                    "the metadata entry {} cannot be sent: {}",
                    Quoted(name),
                    detail
                )
            }
            Error::MetadataTooLarge { size, limit } => {
                cat_into!(
                    out,
                    "the user metadata is {} bytes, more than S3's limit of {} bytes for all x-amz-meta-* names and values together; shorten or drop \
                 entries",
                    size,
                    limit
                )
            }
            Error::InvalidSetting { what, value, valid } => {
                cat_into!(
                    out,
                    "{} is not a valid {}; use one of: {}",
                    Quoted(value),
                    what,
                    valid
                )
            }
            Error::FileRejected { name, reason } => {
                cat_into!(out, "{} was not added: {}", Quoted(name), reason)
            }
            Error::EtagNotExposed { bucket } => {
                cat_into!(
                    out,
                    "S3 stored the part but the answer's ETag header is hidden from this page: \
                 the CORS configuration of bucket {} does not expose it; add <ExposeHeader>ETag</ExposeHeader> to its CORS rule",
                    Quoted(bucket)
                )
            }
            Error::AbortFailed { upload_id, reason } => {
                cat_into!(
                    out,
                    "the multipart upload {} could not be aborted ({}); its parts stay stored until it is: run `updraft uploads abort` or set a \
                 lifecycle rule that aborts incomplete multipart uploads",
                    upload_id,
                    reason
                )
            }
            Error::ReadFailed { detail } => {
                cat_into!(
                    out,
                    "the file could not be read ({}); the parts already stored are kept: make the file readable again (put it \
                 back, reconnect its disk) and retry, or add it again to continue",
                    detail
                )
            }
            Error::ChecksumMismatch {
                key,
                algorithm,
                expected,
                actual,
            } => {
                cat_into!(
                    out,
                    "the {} checksum of {} is {} but the file read gave {}: the data changed on the way or the file changed while uploading; upload \
                 it again",
                    algorithm,
                    Quoted(key),
                    actual,
                    expected
                )
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::text::display(self, f)
    }
}

impl std::error::Error for Error {}
