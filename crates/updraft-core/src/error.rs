//! The one error type of the wire layer. Every variant says what happened, to what,
//! and what to do next.

use std::fmt::{self, Write as _};

/// `s` in double quotes with `"`, `\` and control characters escaped: what `{:?}`
/// writes for ordinary text, without the Unicode tables `str`'s `Debug` pulls into the
/// wasm build (about 3 KB; twiggy, wasm-release). For the names and values messages
/// quote.
pub(crate) struct Quoted<'a>(pub(crate) &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                '\0' => f.write_str("\\0")?,
                // Control characters are below U+00A0: at most two hex digits, without `core::fmt`'s
                // `LowerHex` (wasm size).
                c if c.is_control() => {
                    f.write_str("\\u{")?;
                    let h = crate::sigv4::hex(&[c as u8]);
                    f.write_str(h.strip_prefix('0').unwrap_or(&h))?;
                    f.write_char('}')?;
                }
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

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
                "the endpoint {} cannot be used ({detail}); give a URL such as \
                 https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000",
                Quoted(endpoint)
            ),
            Error::Sts(e) => e.fmt(f),
            Error::Cognito(e) => e.fmt(f),
            Error::KeyTemplate { template, detail } => write!(
                f,
                "the key template {} cannot be used: {detail}; placeholders are \
                 {{sub}}, {{uuid}}, {{name}}, {{path}}, {{ext}} and {{date}}",
                Quoted(template)
            ),
            Error::InvalidKeyPart {
                what,
                value,
                detail,
            } => write!(
                f,
                "the {what} {} cannot be part of an object key: {detail}",
                Quoted(value)
            ),
            Error::KeyTooLong {
                file_name,
                key_prefix,
                len,
            } => write!(
                f,
                "the object key for file {} ({key_prefix}...) would be {len} bytes, \
                 {} bytes too long for S3's {}-byte key limit; rename the file or shorten the \
                 key's prefix",
                Quoted(file_name),
                len.saturating_sub(crate::object::MAX_KEY_LEN),
                crate::object::MAX_KEY_LEN
            ),
            Error::InvalidMetadata { name, detail } => {
                write!(
                    f,
                    "the metadata entry {} cannot be sent: {detail}",
                    Quoted(name)
                )
            }
            Error::MetadataTooLarge { size, limit } => write!(
                f,
                "the user metadata is {size} bytes, more than S3's limit of {limit} bytes for \
                 all x-amz-meta-* names and values together; shorten or drop entries"
            ),
            Error::InvalidSetting { what, value, valid } => {
                write!(
                    f,
                    "{} is not a valid {what}; use one of: {valid}",
                    Quoted(value)
                )
            }
            Error::FileRejected { name, reason } => {
                write!(f, "{} was not added: {reason}", Quoted(name))
            }
            Error::EtagNotExposed { bucket } => write!(
                f,
                "S3 stored the part but the answer's ETag header is hidden from this page: the \
                 CORS configuration of bucket {} does not expose it; add \
                 <ExposeHeader>ETag</ExposeHeader> to its CORS rule",
                Quoted(bucket)
            ),
            Error::AbortFailed { upload_id, reason } => write!(
                f,
                "the multipart upload {upload_id} could not be aborted ({reason}); its parts \
                 stay stored until it is: run `updraft uploads abort` or set a lifecycle rule \
                 that aborts incomplete multipart uploads"
            ),
            Error::ReadFailed { detail } => write!(
                f,
                "the file could not be read ({detail}); the parts already stored are kept: \
                 make the file readable again (put it back, reconnect its disk) and retry, \
                 or add it again to continue"
            ),
            Error::ChecksumMismatch {
                key,
                algorithm,
                expected,
                actual,
            } => write!(
                f,
                "the {algorithm} checksum of {} is {actual} but the file read gave \
                 {expected}: the data changed on the way or the file changed while uploading; \
                 upload it again",
                Quoted(key)
            ),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::Quoted;

    /// `Quoted` writes what `{:?}` writes, but for exotic Unicode (`Debug` escapes
    /// unassigned and combining characters too).
    #[test]
    fn quoted_is_debug_for_text() {
        for s in [
            "",
            "a b",
            "é/😀",
            "q\"b\\s",
            "l\nr\rt\t",
            "\u{0}\u{1}\u{1f}\u{7f}\u{85}\u{9f}",
        ] {
            assert_eq!(Quoted(s).to_string(), format!("{s:?}"));
        }
    }
}
