//! STS `AssumeRoleWithWebIdentity` on the S3 origin (as MinIO serves it), the session
//! tokens of the temporary keys it issues, and their checks on every S3 request.
//!
//! ## The token check
//! The JWT is verified by `jsonwebtoken` (never by hand): RS256 or ES256 only; the key
//! is found by `kid` in the issuer's JWKS, located through its discovery document
//! (`<iss>/.well-known/openid-configuration`), cached, and fetched again when a token
//! names a `kid` the cache lacks (at most once every 5 s per issuer). The issuer must be
//! trusted by the role's trust policy, `aud` must be one its condition admits, and
//! `exp`, `nbf`, `iat` are checked with 60 s of leeway. `https://` issuers are fetched
//! with rustls, trusting Mozilla's roots and the CAs of `issuer_ca` ([`DevConfig`]);
//! `http://` ones (the dev issuer, local test issuers) in the clear.
//!
//! [`DevConfig`]: crate::DevConfig
//!
//! ## Temporary keys and session tokens
//! - access key id `ASIA` + 16 random characters;
//! - secret key = base64(HMAC-SHA256(server key, "secret" ‖ access key id)), so nothing
//!   is stored per session and the secret is never inside the token;
//! - session token = base64url(JSON {akid, exp, sub, iss, aud, role, session}) `.`
//!   base64url(HMAC-SHA256(server key, that JSON)): opaque to clients, unforgeable
//!   without the server key (32 random bytes in `<data-dir>/sts-key`, mode 0600).
//!
//! Every S3 request signed with an `ASIA` key must carry its session token (header
//! `x-amz-security-token` or presigned `X-Amz-Security-Token`), bound to that key, whose
//! HMAC verifies (else `400 InvalidToken`) and which has not expired (else
//! `400 ExpiredToken`); then the role's policy decides ([`crate::policy`]).
//! `DeleteObjects` is checked key by key in the backend (`s3:DeleteObject` on each).
//! POST-form uploads: s3s does not hand the form's fields to the access check, so the
//! front reads the fields before the file (up to 1 MiB), checks the
//! `x-amz-security-token` field and `s3:PutObject` on the `key` field, marks the request
//! ([`PostChecked`]) and hands s3s the body unchanged.
//!
//! ## Layout
//! - `endpoint`: the STS calls on the S3 origin: parsing `AssumeRoleWithWebIdentity`,
//!   its XML answer and errors, CORS for the app origin;
//! - `jwks`: the issuers' keys (discovery, JWKS, the cache) and the token check;
//! - `session`: the server key, and minting and opening temporary keys and session
//!   tokens;
//! - `access`: the s3s hooks ([`StackAuth`], [`StackAccess`]) and the POST-form check.

mod access;
mod endpoint;
mod jwks;
mod session;

use std::sync::Arc;

use http::StatusCode;

use crate::policy::Role;

pub(crate) use access::{KeyCheck, PostChecked, StackAccess, StackAuth};
pub(crate) use jwks::issuer_tls;
pub(crate) use session::{load_or_create_key, mac};

/// STS and the checks of temporary keys.
#[derive(Clone)]
pub(crate) struct Sts {
    pub(crate) key: Arc<[u8; 32]>,
    pub(crate) role: Arc<Role>,
    /// The role of Cognito guests ([`crate::cognito`]).
    pub(crate) guest_role: Arc<Role>,
    pub(crate) identity_pool_id: String,
    /// Shortest DurationSeconds accepted: 900 as AWS, less only as a dev setting.
    pub(crate) min_duration: u32,
    pub(crate) app_origin: String,
    jwks: jwks::JwksCache,
}

impl std::fmt::Debug for Sts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sts")
            .field("role", &self.role.arn)
            .finish_non_exhaustive()
    }
}

/// An STS error: code, HTTP status, message (never the token).
#[derive(Debug)]
pub(crate) struct StsErr(
    pub(crate) StatusCode,
    pub(crate) &'static str,
    pub(crate) String,
);

impl Sts {
    pub(crate) fn new(
        key: Arc<[u8; 32]>,
        role: Role,
        guest_role: Role,
        identity_pool_id: String,
        min_duration: u32,
        app_origin: String,
        issuer_tls: rustls::ClientConfig,
    ) -> Sts {
        Sts {
            key,
            role: Arc::new(role),
            guest_role: Arc::new(guest_role),
            identity_pool_id,
            min_duration,
            app_origin,
            jwks: jwks::JwksCache::new(issuer_tls),
        }
    }
}
