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
            Error::Network { detail } => write!(
                f,
                "no answer from the server ({detail}); check the network connection, and in a \
                 browser that the bucket's CORS rules allow this page's origin"
            ),
            Error::Signing { detail } => write!(f, "the request cannot be signed: {detail}"),
            Error::ObjectTooLarge { size, max } => write!(
                f,
                "the file is {size} bytes, larger than the {max} bytes (48.8 TiB) S3 stores in \
                 one object; split it into smaller files"
            ),
            Error::S3(e) => e.fmt(f),
            Error::InvalidEndpoint { endpoint, detail } => write!(
                f,
                "the endpoint {endpoint:?} cannot be used ({detail}); give a URL such as \
                 https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000"
            ),
            Error::Sts(e) => e.fmt(f),
            Error::Cognito(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {}
