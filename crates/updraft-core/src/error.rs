//! The one error type of the wire layer. Every variant says what happened, to what,
//! and what to do next.

use std::fmt;

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
    // ---- sigv4 ------------------------------------------------------------------------
    /// A request cannot be signed as given.
    Signing { detail: String },
    // ---- planning ---------------------------------------------------------------------
    /// An object larger than S3 stores.
    ObjectTooLarge { size: u64, max: u64 },
    // ---- s3 ---------------------------------------------------------------------------
    // ---- sts / cognito ----------------------------------------------------------------
    // ---- object properties ------------------------------------------------------------
    // ---- checksum ---------------------------------------------------------------------
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidResponse { what, detail } => write!(
                f,
                "the {what} could not be read ({detail}); the server may not be S3-compatible \
                 or a proxy changed the answer"
            ),
            Error::Signing { detail } => write!(f, "the request cannot be signed: {detail}"),
            Error::ObjectTooLarge { size, max } => write!(
                f,
                "the file is {size} bytes, larger than the {max} bytes (48.8 TiB) S3 stores in \
                 one object; split it into smaller files"
            ),
        }
    }
}

impl std::error::Error for Error {}
