//! Cognito Identity's enhanced flow for guests and signed-in users: `GetId` and
//! `GetCredentialsForIdentity` (JSON protocol, `X-Amz-Target:
//! AWSCognitoIdentityService.*`), on the S3 origin next to STS.
//!
//! One identity pool, [`DEFAULT_IDENTITY_POOL_ID`]:
//! - unauthenticated identities get keys of the guest role (`roles/updraft-guest.json`):
//!   uploads only under `guest/${cognito-identity.amazonaws.com:sub}/`, the variable
//!   being the identity id, as on AWS;
//! - authenticated identities (`Logins` with an ID token of a trusted issuer, checked as
//!   STS checks it) get keys of the uploader role, as the token's `sub`.
//!
//! Identity ids are `us-east-1:` + a UUID whose second half is an HMAC of its first (with
//! the server key), so an id this stack did not hand out is `ResourceNotFoundException`;
//! a signed-in user's id is derived from (issuer, sub), so it is the same at every
//! sign-in. Nothing is stored.

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use s3s::Body;

use crate::policy::provider_of;
use crate::sts::{Sts, StsErr, mac};

/// The identity pool `updraft dev` serves.
pub const DEFAULT_IDENTITY_POOL_ID: &str = "us-east-1:00000000-0000-4000-8000-000000000000";
/// The guest role: its trust and permission policies, in one IAM-valid file.
pub const GUEST_ROLE_JSON: &str = include_str!("../roles/updraft-guest.json");
/// The guest role's ARN.
pub const GUEST_ROLE_ARN: &str = "arn:aws:iam::000000000000:role/updraft-guest";
/// The issuer guests' sessions carry: the provider of `${cognito-identity.amazonaws.com:sub}`.
pub(crate) const COGNITO_ISS: &str = "https://cognito-identity.amazonaws.com";
const CREDENTIAL_SECONDS: u32 = 3600;

/// Whether a request to the S3 origin is a Cognito Identity call.
pub(crate) fn is_cognito(req: &Request<hyper::body::Incoming>) -> bool {
    req.method() == http::Method::POST
        && req.uri().path() == "/"
        && req
            .headers()
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("AWSCognitoIdentityService."))
}

struct CognitoErr(&'static str, String);

fn uuid(bytes: &[u8]) -> String {
    let h = crate::store::hex(&bytes[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn region_of(pool: &str) -> &str {
    pool.split_once(':').map_or("us-east-1", |(r, _)| r)
}

impl Sts {
    fn guest_id(&self, first: &[u8; 8]) -> String {
        let tag = mac(&self.key, &[b"guest\0", first]);
        let mut b = first.to_vec();
        b.extend_from_slice(&tag[..8]);
        format!("{}:{}", region_of(&self.identity_pool_id), uuid(&b))
    }

    fn user_id(&self, iss: &str, sub: &str) -> String {
        let b = mac(
            &self.key,
            &[b"login\0", iss.as_bytes(), b"\0", sub.as_bytes()],
        );
        format!("{}:{}", region_of(&self.identity_pool_id), uuid(&b))
    }

    fn is_guest_id(&self, id: &str) -> bool {
        let hex: String = id
            .split_once(':')
            .map_or("", |(_, u)| u)
            .chars()
            .filter(|c| *c != '-')
            .collect();
        let mut raw = [0u8; 16];
        if hex::decode_to_slice(&hex, &mut raw).is_err() {
            return false;
        }
        let first: [u8; 8] = std::array::from_fn(|i| raw[i]);
        self.guest_id(&first) == id
    }

    /// The login of a `Logins` map: (sub, iss, aud) of its one valid token.
    async fn login(
        &self,
        logins: &serde_json::Value,
    ) -> Result<Option<(String, String, String)>, CognitoErr> {
        let Some(map) = logins.as_object().filter(|m| !m.is_empty()) else {
            return Ok(None);
        };
        if map.len() > 1 {
            return Err(CognitoErr(
                "InvalidParameterException",
                "updraft dev accepts one login at a time.".into(),
            ));
        }
        let Some((provider, token)) = map.iter().next() else {
            return Ok(None);
        };
        let token = token.as_str().unwrap_or("");
        let (sub, iss, aud) = self.verify(token).await.map_err(|StsErr(_, code, _)| {
            CognitoErr(
                "NotAuthorizedException",
                if code == "ExpiredTokenException" {
                    "Invalid login token. Token expired.".into()
                } else {
                    "Invalid login token.".into()
                },
            )
        })?;
        if provider_of(&iss) != provider.as_str() {
            return Err(CognitoErr(
                "NotAuthorizedException",
                "Invalid login token. Issuer doesn't match providerName".into(),
            ));
        }
        Ok(Some((sub, iss, aud)))
    }

    async fn cognito_call(
        &self,
        target: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, CognitoErr> {
        match target {
            "GetId" => {
                let pool = body["IdentityPoolId"].as_str().unwrap_or("");
                if pool != self.identity_pool_id {
                    return Err(CognitoErr(
                        "ResourceNotFoundException",
                        format!(
                            "IdentityPool '{}' not found.",
                            pool.chars().take(80).collect::<String>()
                        ),
                    ));
                }
                let id = match self.login(&body["Logins"]).await? {
                    Some((sub, iss, _)) => self.user_id(&iss, &sub),
                    None => {
                        let mut first = [0u8; 8];
                        getrandom::fill(&mut first).map_err(|_| {
                            CognitoErr("InternalErrorException", "No randomness.".into())
                        })?;
                        self.guest_id(&first)
                    }
                };
                Ok(serde_json::json!({ "IdentityId": id }))
            }
            "GetCredentialsForIdentity" => {
                let id = body["IdentityId"].as_str().unwrap_or("").to_owned();
                let not_found = || {
                    CognitoErr(
                        "ResourceNotFoundException",
                        format!(
                            "Identity '{}' not found.",
                            id.chars().take(80).collect::<String>()
                        ),
                    )
                };
                let issued = match self.login(&body["Logins"]).await? {
                    Some((sub, iss, aud)) => {
                        if self.user_id(&iss, &sub) != id {
                            return Err(CognitoErr(
                                "NotAuthorizedException",
                                "Logins don't match. Please include at least one valid login for this identity or identity pool.".into(),
                            ));
                        }
                        let role = self.role.arn.clone();
                        self.issue(&sub, &iss, &aud, &role, "cognito", CREDENTIAL_SECONDS)
                    }
                    None => {
                        if !self.is_guest_id(&id) {
                            return Err(not_found());
                        }
                        let pool = self.identity_pool_id.clone();
                        self.issue(&id, COGNITO_ISS, &pool, GUEST_ROLE_ARN, "CognitoIdentityCredentials", CREDENTIAL_SECONDS)
                    }
                }
                .map_err(|StsErr(_, _, m)| CognitoErr("InternalErrorException", m))?;
                Ok(serde_json::json!({
                    "IdentityId": id,
                    "Credentials": {
                        "AccessKeyId": issued.access_key_id,
                        "SecretKey": issued.secret.as_str(),
                        "SessionToken": issued.session_token,
                        "Expiration": issued.expires,
                    }
                }))
            }
            other => Err(CognitoErr(
                "UnknownOperationException",
                format!(
                    "{} is not supported by updraft dev.",
                    other.chars().take(80).collect::<String>()
                ),
            )),
        }
    }

    /// Answers a Cognito Identity call (see [`is_cognito`]).
    pub(crate) async fn cognito(&self, req: Request<hyper::body::Incoming>) -> Response<Body> {
        let origin = req
            .headers()
            .get(http::header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let target = req
            .headers()
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.strip_prefix("AWSCognitoIdentityService."))
            .unwrap_or("")
            .to_owned();
        let body = http_body_util::Limited::new(req.into_body(), 256 * 1024)
            .collect()
            .await
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b.to_bytes()).ok());
        let result = match body {
            Some(b) => self.cognito_call(&target, &b).await,
            None => Err(CognitoErr(
                "InvalidParameterException",
                "The request body is not JSON.".into(),
            )),
        };
        let (status, json) = match result {
            Ok(v) => (StatusCode::OK, v),
            Err(CognitoErr(t, m)) => (
                StatusCode::BAD_REQUEST,
                serde_json::json!({ "__type": t, "message": m }),
            ),
        };
        let mut r = Response::new(Body::from(Bytes::from(json.to_string())));
        *r.status_mut() = status;
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        if let Ok(v) = HeaderValue::from_str(&crate::store::random_id().unwrap_or_default()) {
            r.headers_mut().insert("x-amzn-requestid", v);
        }
        self.cors(origin.as_deref(), &mut r);
        r
    }
}
