//! The two [Cognito Identity](https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/)
//! calls that turn a sign-in (or a guest) into AWS credentials: [`GetId`] then
//! [`GetCredentialsForIdentity`] (the "enhanced" flow).
//!
//! # In scope
//! Unsigned JSON requests (`application/x-amz-json-1.1`) and their answers, including
//! error answers as [`CognitoError`].
//!
//! # Out of scope
//! Cognito user pools, the "basic" flow (`GetOpenIdToken` + STS), and caching.

use std::fmt;

use crate::credentials::{Credentials, Secret};
use crate::http::{Body, Method, Request, Response};
use crate::json::{self, ObjectWriter, Value};
use crate::s3::{Origin, Scheme};
use crate::text::Piece;
use crate::timestamp::Timestamp;
use crate::{Error, cat, cat_into};

/// The Cognito Identity endpoint of AWS `region`: `https://cognito-identity.{region}.amazonaws.com`.
pub fn aws(region: &str) -> Origin {
    Origin {
        scheme: Scheme::Https,
        host: cat!("cognito-identity.{}.amazonaws.com", region),
    }
}

/// Identity-provider tokens by provider name (`accounts.google.com`,
/// `cognito-idp.{region}.amazonaws.com/{pool}`…). Tokens print as `***`.
pub type Logins = Vec<(String, Secret)>;

fn call(origin: &Origin, target: &str, body: String) -> Request {
    let mut req = origin.request(Method::Post, "/");
    req.set_header("content-type", "application/x-amz-json-1.1");
    req.set_header("x-amz-target", cat!("AWSCognitoIdentityService.{}", target));
    req.body = Body::Bytes(body.into_bytes());
    req
}

/// The request's JSON: the `pairs` that are set, then `Logins` when there are any;
/// written as text straight away, not as a tree of values (wasm size, issue 16).
fn fields(pairs: [(&str, Option<&str>); 2], logins: &Logins) -> String {
    let mut w = ObjectWriter::new();
    for (k, v) in pairs {
        if let Some(v) = v {
            w.str(k, v);
        }
    }
    if !logins.is_empty() {
        let mut l = String::from("{");
        for (p, t) in logins {
            if l.len() > 1 {
                l.push(',');
            }
            json::write_str(&mut l, p);
            l.push(':');
            json::write_str(&mut l, t.expose());
        }
        l.push('}');
        w.raw("Logins", &l);
    }
    w.finish()
}

/// Reads a JSON answer of `operation`, or its error.
fn answer(response: &Response, operation: &'static str) -> Result<Value, Error> {
    if !(200..300).contains(&response.status) {
        return Err(CognitoError::new(response, operation).into());
    }
    let bad = |detail: String| Error::InvalidResponse {
        what: operation,
        detail,
    };
    let text = std::str::from_utf8(&response.body).map_err(|e| bad(crate::xml::not_utf8(&e)))?;
    json::parse(text).map_err(bad)
}

/// Member `name` of `v`, a string.
fn string(v: &Value, name: &str, operation: &'static str) -> Result<String, Error> {
    v.get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::InvalidResponse {
            what: operation,
            detail: cat!("no string `{}`", name),
        })
}

/// [GetId](https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetId.html):
/// the identity id of a user (or, with no logins, a new guest) in a pool.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GetId {
    /// `us-east-1:0123…`.
    pub identity_pool_id: String,
    pub logins: Logins,
    pub account_id: Option<String>,
}

impl GetId {
    /// The unsigned request.
    pub fn request(&self, cognito: &Origin) -> Request {
        let pairs = [
            ("IdentityPoolId", Some(self.identity_pool_id.as_str())),
            ("AccountId", self.account_id.as_deref()),
        ];
        call(cognito, "GetId", fields(pairs, &self.logins))
    }

    /// Reads the identity id.
    ///
    /// # Errors
    /// [`Error::Cognito`] for an error answer, [`Error::InvalidResponse`] for a body
    /// without `IdentityId`.
    pub fn parse(&self, response: &Response) -> Result<String, Error> {
        let out = answer(response, "GetId")?;
        string(&out, "IdentityId", "GetId")
    }
}

/// [GetCredentialsForIdentity](https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetCredentialsForIdentity.html).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GetCredentialsForIdentity {
    pub identity_id: String,
    pub logins: Logins,
    pub custom_role_arn: Option<String>,
}

impl GetCredentialsForIdentity {
    /// The unsigned request.
    pub fn request(&self, cognito: &Origin) -> Request {
        let pairs = [
            ("IdentityId", Some(self.identity_id.as_str())),
            ("CustomRoleArn", self.custom_role_arn.as_deref()),
        ];
        call(
            cognito,
            "GetCredentialsForIdentity",
            fields(pairs, &self.logins),
        )
    }

    /// Reads the credentials. `Expiration` is epoch seconds, possibly fractional.
    ///
    /// # Errors
    /// [`Error::Cognito`] for an error answer, [`Error::InvalidResponse`] for a body
    /// without credentials.
    pub fn parse(&self, response: &Response) -> Result<Credentials, Error> {
        const OP: &str = "GetCredentialsForIdentity";
        let out = answer(response, OP)?;
        let c = out.get("Credentials").unwrap_or(&Value::Null);
        let mut creds =
            Credentials::new(string(c, "AccessKeyId", OP)?, string(c, "SecretKey", OP)?);
        creds.session_token = c
            .get("SessionToken")
            .and_then(Value::as_str)
            .map(Secret::new);
        // Whole seconds, saturating: no value can panic here.
        creds.expiration = c
            .get("Expiration")
            .and_then(Value::as_floor_i64)
            .map(Timestamp::from_unix);
        Ok(creds)
    }
}

/// What a Cognito Identity error means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CognitoErrorKind {
    /// `NotAuthorizedException`: the login token is invalid or expired, or guests are off.
    NotAuthorized,
    /// `ResourceNotFoundException`: no such pool or identity.
    ResourceNotFound,
    /// `InvalidParameterException`.
    InvalidParameter,
    /// `InvalidIdentityPoolConfigurationException`: the pool's roles are wrong.
    InvalidPoolConfiguration,
    /// `ResourceConflictException`: the login is linked to another identity.
    ResourceConflict,
    /// `TooManyRequestsException`, `LimitExceededException`, `InternalErrorException`,
    /// `ExternalServiceException`, 5xx: retry later.
    Unavailable,
    Other,
}

impl CognitoErrorKind {
    fn classify(code: &str, status: u16) -> Self {
        use CognitoErrorKind::*;
        match code {
            "NotAuthorizedException" => NotAuthorized,
            "ResourceNotFoundException" => ResourceNotFound,
            "InvalidParameterException" => InvalidParameter,
            "InvalidIdentityPoolConfigurationException" => InvalidPoolConfiguration,
            "ResourceConflictException" => ResourceConflict,
            "TooManyRequestsException"
            | "LimitExceededException"
            | "InternalErrorException"
            | "ExternalServiceException" => Unavailable,
            _ if status == 429 || status >= 500 => Unavailable,
            _ => Other,
        }
    }

    /// Whether the same call may succeed if sent again later.
    pub fn is_retryable(self) -> bool {
        self == CognitoErrorKind::Unavailable
    }

    fn advice(self) -> &'static str {
        use CognitoErrorKind::*;
        match self {
            NotAuthorized => {
                "sign in again; if this is a guest, check that the pool allows unauthenticated identities"
            }
            ResourceNotFound => "check the identity pool id and its region",
            InvalidParameter => "check the pool id and the login provider names",
            InvalidPoolConfiguration => {
                "check the pool's authenticated and guest roles and their trust policies"
            }
            ResourceConflict => {
                "this login belongs to another identity; sign in with that identity"
            }
            Unavailable => "Cognito is busy or failing; retry after a pause",
            Other => "see Cognito's message",
        }
    }
}

/// An error answer from Cognito Identity. Never holds a login token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CognitoError {
    pub kind: CognitoErrorKind,
    pub status: u16,
    /// `__type` without its `prefix#`, e.g. `NotAuthorizedException`.
    pub code: String,
    pub message: String,
    /// `GetId` or `GetCredentialsForIdentity`.
    pub operation: &'static str,
}

impl CognitoError {
    fn new(response: &Response, operation: &'static str) -> Self {
        let body = std::str::from_utf8(&response.body)
            .ok()
            .and_then(|t| json::parse(t).ok())
            .unwrap_or(Value::Null);
        let text = |name: &str| body.get(name).and_then(Value::as_str);
        let message = text("message").or_else(|| text("Message"));
        let header = response
            .header("x-amzn-errortype")
            .map(|h| h.split(':').next().unwrap_or(h));
        let raw = text("__type").or(header).unwrap_or("");
        let code = raw.rsplit('#').next().unwrap_or(raw);
        let code = if code.is_empty() {
            cat!("HTTP {}", response.status)
        } else {
            code.to_owned()
        };
        CognitoError {
            kind: CognitoErrorKind::classify(&code, response.status),
            status: response.status,
            code,
            message: message.unwrap_or_default().to_owned(),
            operation,
        }
    }
}

impl From<CognitoError> for Error {
    fn from(e: CognitoError) -> Self {
        Error::Cognito(Box::new(e))
    }
}

impl Piece for CognitoError {
    fn put(&self, out: &mut String) {
        cat_into!(
            out,
            "Cognito Identity refused {}: {} {}",
            self.operation,
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

impl fmt::Display for CognitoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::text::display(self, f)
    }
}
