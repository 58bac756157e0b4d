//! [AssumeRoleWithWebIdentity](https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html):
//! trading an identity provider's token for temporary AWS credentials.
//!
//! # In scope
//! The request (a POST form, or the same fields as a GET query), unsigned as STS
//! expects for this call, and its answer: [`Credentials`] plus who they belong to, or
//! an [`StsError`].
//!
//! # Out of scope
//! Getting the token (the driver's sign-in), caching and refreshing credentials, and
//! every other STS action.

use std::fmt;

use crate::credentials::{Credentials, Secret};
use crate::http::{Body, Method, Request, Response};
use crate::s3::{Origin, Scheme};
use crate::sigv4::uri_encode;
use crate::text::Piece;
use crate::timestamp::Timestamp;
use crate::{Error, cat, cat_into, xml};

/// The STS endpoint of AWS `region`: `https://sts.{region}.amazonaws.com`.
pub fn aws(region: &str) -> Origin {
    Origin {
        scheme: Scheme::Https,
        host: cat!("sts.{}.amazonaws.com", region),
    }
}

/// The `AssumeRoleWithWebIdentity` call. `Debug` hides the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssumeRoleWithWebIdentity {
    pub role_arn: String,
    /// 2 to 64 characters of `[\w+=,.@-]`; shows up in CloudTrail and the role ARN.
    pub role_session_name: String,
    /// The OpenID Connect ID token or OAuth 2.0 access token.
    pub web_identity_token: Secret,
    /// Only for OAuth 2.0 providers (`www.amazon.com`, `graph.facebook.com`).
    pub provider_id: Option<String>,
    /// 900 to the role's maximum; STS's default is 3600.
    pub duration_seconds: Option<u32>,
    /// A session policy (JSON) that narrows the role's permissions.
    pub policy: Option<String>,
}

/// The answer: credentials and who they were issued to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssumeRoleWithWebIdentityOutput {
    pub credentials: Credentials,
    /// The token's `sub`: the user at the identity provider.
    pub subject_from_web_identity_token: Option<String>,
    pub assumed_role_arn: Option<String>,
    pub assumed_role_id: Option<String>,
    /// The token's `iss`, or the `ProviderId` given.
    pub provider: Option<String>,
    /// The token's `aud`: the app's client id.
    pub audience: Option<String>,
    pub source_identity: Option<String>,
}

impl AssumeRoleWithWebIdentity {
    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = vec![
            ("Action", "AssumeRoleWithWebIdentity".to_owned()),
            ("Version", "2011-06-15".to_owned()),
            ("RoleArn", self.role_arn.clone()),
            ("RoleSessionName", self.role_session_name.clone()),
            (
                "WebIdentityToken",
                self.web_identity_token.expose().to_owned(),
            ),
        ];
        let opt = [
            ("ProviderId", self.provider_id.clone()),
            (
                "DurationSeconds",
                self.duration_seconds.map(|d| cat!("{}", d)),
            ),
            ("Policy", self.policy.clone()),
        ];
        for (k, v) in opt {
            if let Some(v) = v {
                p.push((k, v));
            }
        }
        p
    }

    /// The request as a POST form, which keeps the token out of URLs and logs.
    pub fn request(&self, sts: &Origin) -> Request {
        let mut req = sts.request(Method::Post, "/");
        req.set_header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        );
        let mut form = Vec::new();
        for (k, v) in self.params() {
            form.push(cat!("{}={}", k, uri_encode(&v, true)));
        }
        req.body = Body::Bytes(crate::error::join(&form, "&").into_bytes());
        req
    }

    /// The request as a GET with the fields in the query. Prefer [`Self::request`]: a
    /// URL with the token may end up in logs.
    pub fn get_request(&self, sts: &Origin) -> Request {
        let mut req = sts.request(Method::Get, "/");
        req.query = self
            .params()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        req
    }

    /// Reads the answer.
    ///
    /// # Errors
    /// [`Error::Sts`] for an error answer, [`Error::InvalidResponse`] for a body that
    /// is not an `AssumeRoleWithWebIdentityResponse` with credentials.
    pub fn parse(&self, response: &Response) -> Result<AssumeRoleWithWebIdentityOutput, Error> {
        const WHAT: &str = "AssumeRoleWithWebIdentity response";
        let doc = xml::parse(&response.body, WHAT);
        let doc = match doc {
            Ok(d) if (200..300).contains(&response.status) && d.name != "ErrorResponse" => d,
            other => {
                return Err(StsError::new(response, other.ok().as_ref(), &self.role_arn).into());
            }
        };
        let missing = |what: &str| Error::InvalidResponse {
            what: WHAT,
            detail: cat!("<{}> is missing", what),
        };
        let result = doc
            .child("AssumeRoleWithWebIdentityResult")
            .ok_or_else(|| missing("AssumeRoleWithWebIdentityResult"))?;
        let c = result
            .child("Credentials")
            .ok_or_else(|| missing("Credentials"))?;
        let mut credentials = Credentials::new(
            c.required("AccessKeyId", WHAT)?,
            c.required("SecretAccessKey", WHAT)?,
        );
        credentials.session_token = c.string("SessionToken").map(Secret::new);
        credentials.expiration = c
            .text("Expiration")
            .map(|t| Timestamp::parse_rfc3339(t, WHAT))
            .transpose()?;
        let user = result.child("AssumedRoleUser");
        Ok(AssumeRoleWithWebIdentityOutput {
            credentials,
            subject_from_web_identity_token: result.string("SubjectFromWebIdentityToken"),
            assumed_role_arn: user.and_then(|u| u.string("Arn")),
            assumed_role_id: user.and_then(|u| u.string("AssumedRoleId")),
            provider: result.string("Provider"),
            audience: result.string("Audience"),
            source_identity: result.string("SourceIdentity"),
        })
    }
}

/// What an STS error means for a sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StsErrorKind {
    /// `InvalidIdentityToken`: bad signature, issuer or audience.
    InvalidIdentityToken,
    /// `ExpiredTokenException`: sign in again.
    ExpiredToken,
    /// `AccessDenied`: the role's trust policy does not admit this token.
    AccessDenied,
    /// `IDPCommunicationError`: STS could not reach the provider's keys; retry.
    IdpCommunication,
    /// `IDPRejectedClaim`.
    IdpRejectedClaim,
    /// `MalformedPolicyDocument`, `PackedPolicyTooLarge`.
    InvalidPolicy,
    /// `RegionDisabledException`.
    RegionDisabled,
    /// `Throttling` and 5xx: retry later.
    Unavailable,
    Other,
}

impl StsErrorKind {
    fn classify(code: &str, status: u16) -> Self {
        use StsErrorKind::*;
        match code {
            "InvalidIdentityToken" => InvalidIdentityToken,
            "ExpiredTokenException" | "ExpiredToken" => ExpiredToken,
            "AccessDenied" => AccessDenied,
            "IDPCommunicationError" => IdpCommunication,
            "IDPRejectedClaim" => IdpRejectedClaim,
            "MalformedPolicyDocument" | "PackedPolicyTooLarge" => InvalidPolicy,
            "RegionDisabledException" => RegionDisabled,
            "Throttling" | "ServiceUnavailable" | "InternalFailure" => Unavailable,
            _ if status == 429 || status >= 500 => Unavailable,
            _ if status == 403 => AccessDenied,
            _ => Other,
        }
    }

    /// Whether the same call may succeed if sent again later.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            StsErrorKind::IdpCommunication | StsErrorKind::Unavailable
        )
    }

    fn advice(self) -> &'static str {
        use StsErrorKind::*;
        match self {
            InvalidIdentityToken => {
                "check that the role trusts this identity provider and that the token's audience \
                 is the provider's registered client id"
            }
            ExpiredToken => "the sign-in token expired; sign in again",
            AccessDenied => {
                "the role's trust policy does not admit this user; check its conditions on aud and sub"
            }
            IdpCommunication => "STS could not reach the identity provider; retry shortly",
            IdpRejectedClaim => "the identity provider rejected the claim; sign in again",
            InvalidPolicy => "the session policy is invalid or too large; shorten or fix it",
            RegionDisabled => "STS is not activated in this region; use another STS endpoint",
            Unavailable => "STS is busy or failing; retry after a pause",
            Other => "see STS's message",
        }
    }
}

/// An error answer from STS. Never holds the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsError {
    pub kind: StsErrorKind,
    pub status: u16,
    pub code: String,
    pub message: String,
    /// `Sender` or `Receiver`.
    pub fault: Option<String>,
    pub request_id: Option<String>,
    pub role_arn: String,
}

impl StsError {
    fn new(response: &Response, doc: Option<&xml::Element>, role_arn: &str) -> Self {
        let error = doc.and_then(|d| {
            if d.name == "Error" {
                Some(d)
            } else {
                d.child("Error")
            }
        });
        let code = error
            .and_then(|e| e.string("Code"))
            .unwrap_or_else(|| cat!("HTTP {}", response.status));
        StsError {
            kind: StsErrorKind::classify(&code, response.status),
            status: response.status,
            code,
            message: error.and_then(|e| e.string("Message")).unwrap_or_default(),
            fault: error.and_then(|e| e.string("Type")),
            request_id: doc
                .and_then(|d| d.string("RequestId"))
                .or(response.header("x-amzn-requestid").map(str::to_owned)),
            role_arn: role_arn.to_owned(),
        }
    }
}

impl From<StsError> for Error {
    fn from(e: StsError) -> Self {
        Error::Sts(Box::new(e))
    }
}

impl Piece for StsError {
    fn put(&self, out: &mut String) {
        cat_into!(
            out,
            "STS refused AssumeRoleWithWebIdentity for role {}: {} {}",
            self.role_arn,
            self.status,
            self.code
        );
        if !self.message.is_empty() {
            cat_into!(out, " ({})", self.message);
        }
        out.push_str("; ");
        out.push_str(self.kind.advice());
    }
}

impl fmt::Display for StsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::text::display(self, f)
    }
}
