//! S3's error answers: the `<Error>` body, or the status alone when there is no body
//! (HEAD), mapped to an [`S3ErrorKind`] in one place.

use std::fmt;

use crate::http::Response;
use crate::text::Piece;
use crate::timestamp::Timestamp;
use crate::{Error, cat, cat_into, xml};

/// What an S3 error means for an uploader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum S3ErrorKind {
    /// `AccessDenied`, 403: the policy does not allow it.
    AccessDenied,
    /// `ExpiredToken`, `TokenRefreshRequired`, `InvalidToken`, `ExpiredTokenException`: the
    /// temporary keys ran out or their session token was refused; new keys are fetched.
    ExpiredCredentials,
    /// `InvalidAccessKeyId`: the key id is unknown (temporary keys: revoked, or of another
    /// account; new keys are fetched).
    UnknownAccessKey,
    /// `SignatureDoesNotMatch`, `InvalidSecurity`: the secret key or the signing is wrong.
    InvalidCredentials,
    /// `RequestTimeTooSkewed`: the clock is off; [`S3Error::server_time`] tells by how much.
    ClockSkew,
    /// `PermanentRedirect`, `AuthorizationHeaderMalformed`…: the bucket is in another region.
    WrongRegion,
    NoSuchBucket,
    /// `NoSuchKey`, or a 404 without a body.
    NotFound,
    /// `NoSuchUpload`: the multipart upload was completed or aborted.
    NoSuchUpload,
    /// `InvalidPart`, `InvalidPartOrder`: the part list does not match what S3 stored.
    InvalidPart,
    /// `EntityTooSmall`: a part other than the last is under 5 MiB.
    EntityTooSmall,
    /// `EntityTooLarge`.
    EntityTooLarge,
    /// `BadDigest`, `XAmzContentSHA256Mismatch`: the bytes changed on the way; sent again.
    BadDigest,
    /// `InvalidDigest`, `InvalidChecksum`: the checksum header itself is malformed, so
    /// sending the same again cannot help.
    InvalidDigest,
    /// `RequestTimeout`: the connection carried no bytes for too long; sent again.
    RequestTimeout,
    /// `PreconditionFailed`, 412.
    PreconditionFailed,
    /// `SlowDown`, 503, 429: retry later.
    SlowDown,
    /// `InternalError` and other 5xx: retry.
    ServerError,
    /// A 4xx answer whose body is not S3's XML: the endpoint is not an S3 endpoint.
    NotS3,
    /// Anything else; see [`S3Error::code`].
    Other,
}

impl S3ErrorKind {
    /// The kind of error `code` with HTTP `status`.
    pub fn classify(code: &str, status: u16) -> Self {
        use S3ErrorKind::*;
        match code {
            "AccessDenied" | "Forbidden" | "AllAccessDisabled" | "AccountProblem" => AccessDenied,
            "ExpiredToken" | "TokenRefreshRequired" | "InvalidToken" | "ExpiredTokenException" => {
                ExpiredCredentials
            }
            "InvalidAccessKeyId" => UnknownAccessKey,
            "SignatureDoesNotMatch" | "InvalidSecurity" => InvalidCredentials,
            "RequestTimeTooSkewed" => ClockSkew,
            "PermanentRedirect"
            | "AuthorizationHeaderMalformed"
            | "IllegalLocationConstraintException"
            | "TemporaryRedirect" => WrongRegion,
            "NoSuchBucket" => NoSuchBucket,
            "NoSuchKey" | "NotFound" => NotFound,
            "NoSuchUpload" => NoSuchUpload,
            "InvalidPart" | "InvalidPartOrder" => InvalidPart,
            "EntityTooSmall" => EntityTooSmall,
            "EntityTooLarge" => EntityTooLarge,
            "BadDigest" | "XAmzContentSHA256Mismatch" => BadDigest,
            "InvalidDigest" | "InvalidChecksum" => InvalidDigest,
            "RequestTimeout" => RequestTimeout,
            // 501: this server does not do it; asking again will not change that.
            "NotImplemented" => Other,
            "PreconditionFailed" => PreconditionFailed,
            "SlowDown" | "ServiceUnavailable" | "Throttling" | "TooManyRequests" => SlowDown,
            "InternalError" => ServerError,
            _ => match status {
                301 | 307 => WrongRegion,
                403 => AccessDenied,
                404 => NotFound,
                412 => PreconditionFailed,
                429 | 503 => SlowDown,
                500..=599 => ServerError,
                _ => Other,
            },
        }
    }

    /// Whether the same request may succeed if sent again later: the engine retries
    /// exactly these kinds with backoff (`retry::classify`).
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            S3ErrorKind::SlowDown
                | S3ErrorKind::ServerError
                | S3ErrorKind::BadDigest
                | S3ErrorKind::RequestTimeout
        )
    }

    fn advice(self) -> &'static str {
        use S3ErrorKind::*;
        match self {
            AccessDenied => {
                "check that the role's policy allows this action on this bucket and key, \
                 and that the bucket policy does not deny it"
            }
            ExpiredCredentials => {
                "the temporary credentials expired or their session token was refused; sign \
                 in again for new ones, then retry"
            }
            UnknownAccessKey => {
                "the access key id is not known: temporary keys may have been revoked (sign in \
                 again); long-term keys: check the key id and that the endpoint is the right \
                 account's"
            }
            InvalidCredentials => {
                "check the secret key, and that the endpoint's region is the bucket's region"
            }
            ClockSkew => {
                "this device's clock is wrong; correct it by the server time and send it again"
            }
            WrongRegion => "the bucket is in another region; use that region's endpoint",
            NoSuchBucket => "check the bucket name and the endpoint",
            NotFound => "check the key; the object may not exist or may have been deleted",
            NoSuchUpload => "the multipart upload was completed or aborted; start the upload again",
            InvalidPart => {
                "the part list does not match the stored parts; list the parts and upload the \
                 missing ones again"
            }
            EntityTooSmall => "every part but the last must be at least 5 MiB; use larger parts",
            EntityTooLarge => "the object or part is over S3's size limit; use smaller parts",
            BadDigest => "the bytes changed on the way or the file changed; send them again",
            InvalidDigest => {
                "the checksum header is malformed, which is a fault of the uploader; report it"
            }
            RequestTimeout => "the connection carried no bytes for too long; send it again",
            PreconditionFailed => "the object changed meanwhile; check it and try again",
            SlowDown => "S3 asks to slow down; retry after a pause",
            ServerError => "this is S3's own fault; retry after a pause",
            NotS3 => "the endpoint does not answer as S3 does; check the endpoint URL",
            Other => "see S3's message",
        }
    }
}

/// An error answer from S3, with the context of the request that caused it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Error {
    pub kind: S3ErrorKind,
    /// HTTP status; 200 for a CompleteMultipartUpload that failed after starting.
    pub status: u16,
    /// S3's `Code`, or for a body-less answer a name for the status (`NotFound`, `Forbidden`…).
    pub code: String,
    pub message: String,
    /// The AWS operation, e.g. `UploadPart`.
    pub operation: &'static str,
    pub bucket: String,
    pub key: Option<String>,
    pub upload_id: Option<String>,
    pub resource: Option<String>,
    pub request_id: Option<String>,
    pub host_id: Option<String>,
    /// `RequestTimeTooSkewed`: S3's clock and the request's time.
    pub server_time: Option<Timestamp>,
    pub request_time: Option<Timestamp>,
    pub max_allowed_skew_ms: Option<u64>,
}

/// The request an answer belongs to.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Target<'a> {
    pub(crate) operation: &'static str,
    pub(crate) bucket: &'a str,
    pub(crate) key: Option<&'a str>,
    pub(crate) upload_id: Option<&'a str>,
}

impl S3Error {
    /// The error in `response` to a request for `target`. Reads the `<Error>` body when
    /// there is one and falls back to the status when it is empty or unreadable.
    pub(crate) fn from_response(response: &Response, target: Target<'_>) -> Self {
        match xml::parse(&response.body, "S3 error") {
            Ok(root) if root.name == "Error" => Self::from_xml(&root, response, target),
            // S3's error bodies are XML (or empty, for HEAD): any other body comes from
            // something else at that address. Not for 5xx and 429, which a proxy in
            // front of S3 may send and which are retried.
            _ if !response.body.is_empty() && response.status < 500 && response.status != 429 => {
                let mut e = Self::from_status(response, target);
                e.kind = S3ErrorKind::NotS3;
                e
            }
            _ => Self::from_status(response, target),
        }
    }

    pub(crate) fn from_xml(root: &xml::Element, response: &Response, target: Target<'_>) -> Self {
        let time = |name| root.text(name).and_then(parse_time);
        let mut e = Self::from_status(response, target);
        if let Some(code) = root.text("Code").filter(|c| !c.is_empty()) {
            e.code = code.to_owned();
            e.kind = S3ErrorKind::classify(code, response.status);
        }
        e.message = root.string("Message").unwrap_or_default();
        // Garage says InvalidDigest where AWS says BadDigest: a checksum that did not
        // validate ("Failed to validate checksum for algorithm …", "SHA256 checksum
        // verification failed") means the bytes changed on the way, as BadDigest does;
        // a malformed one ("… is not valid", AWS's and Garage's) stays InvalidDigest.
        if e.kind == S3ErrorKind::InvalidDigest && crate::text::find(&e.message, "ailed").is_some()
        {
            e.kind = S3ErrorKind::BadDigest;
        }
        e.resource = root.string("Resource");
        e.request_id = root.string("RequestId").or(e.request_id);
        e.host_id = root.string("HostId").or(e.host_id);
        e.key = root.string("Key").or(e.key);
        e.upload_id = root.string("UploadId").or(e.upload_id);
        e.server_time = time("ServerTime");
        e.request_time = time("RequestTime");
        e.max_allowed_skew_ms = root
            .num("MaxAllowedSkewMilliseconds", "S3 error")
            .ok()
            .flatten();
        e
    }

    fn from_status(response: &Response, target: Target<'_>) -> Self {
        let status = response.status;
        let code = match status {
            301 => "PermanentRedirect",
            304 => "NotModified",
            400 => "BadRequest",
            403 => "Forbidden",
            404 => "NotFound",
            405 => "MethodNotAllowed",
            409 => "Conflict",
            411 => "MissingContentLength",
            412 => "PreconditionFailed",
            416 => "InvalidRange",
            429 => "TooManyRequests",
            500 => "InternalError",
            503 => "ServiceUnavailable",
            _ => "UnknownError",
        };
        S3Error {
            kind: S3ErrorKind::classify(code, status),
            status,
            code: code.to_owned(),
            message: String::new(),
            operation: target.operation,
            bucket: target.bucket.to_owned(),
            key: target.key.map(str::to_owned),
            upload_id: target.upload_id.map(str::to_owned),
            resource: None,
            request_id: response.header("x-amz-request-id").map(str::to_owned),
            host_id: response.header("x-amz-id-2").map(str::to_owned),
            server_time: None,
            request_time: None,
            max_allowed_skew_ms: None,
        }
    }

    /// How far this device's clock is ahead of S3's (negative: behind), when S3 said.
    pub fn clock_skew_secs(&self) -> Option<i64> {
        Some(self.request_time?.unix() - self.server_time?.unix())
    }
}

/// An RFC 3339 time, or the `20240102T030405Z` form S3 uses for `RequestTime`.
fn parse_time(t: &str) -> Option<Timestamp> {
    let t = t.trim();
    let amz =
        |r: std::ops::Range<usize>| t.get(r).filter(|p| p.bytes().all(|b| b.is_ascii_digit()));
    let rfc = match (t.len(), t.as_bytes().get(8)) {
        (16, Some(b'T')) => cat!(
            "{}-{}-{}T{}:{}:{}Z",
            amz(0..4)?,
            amz(4..6)?,
            amz(6..8)?,
            amz(9..11)?,
            amz(11..13)?,
            amz(13..15)?
        ),
        _ => t.to_owned(),
    };
    Timestamp::parse_rfc3339(&rfc, "S3 error").ok()
}

impl From<S3Error> for Error {
    fn from(e: S3Error) -> Self {
        Error::S3(Box::new(e))
    }
}

impl Piece for S3Error {
    fn put(&self, out: &mut String) {
        let who = if self.kind == S3ErrorKind::NotS3 {
            "the endpoint"
        } else {
            "S3"
        };
        cat_into!(
            out,
            "{} of s3://{}/{} failed: {} answered {} {}",
            self.operation,
            self.bucket,
            self.key.as_deref().unwrap_or(""),
            who,
            self.status,
            self.code
        );
        if !self.message.is_empty() {
            cat_into!(out, " ({})", self.message);
        }
        out.push_str("; ");
        out.push_str(self.kind.advice());
        if let Some(id) = &self.request_id {
            cat_into!(out, " [request id {}]", id);
        }
    }
}

impl fmt::Display for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::text::display(self, f)
    }
}
