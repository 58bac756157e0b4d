//! AWS Signature Version 4: header auth, presigned URLs and POST-policy signatures.
//!
//! [`Signer`] signs [`Request`]s in place. It caches the derived signing key per access
//! key, day, region and service, so signing a request costs one SHA-256 of the canonical
//! request and one HMAC — not the five HMACs of a fresh key derivation.
//!
//! S3 differs from the other services: its paths are encoded once and never normalised
//! ([`PathRule::AsIs`]); other services encode the path again and remove dot segments
//! ([`PathRule::Encode`]). See
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html>
//! and <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html>.

mod canonical;
mod encode;
mod post_policy;

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub use canonical::normalize_path;
pub use encode::uri_encode;
pub use post_policy::{Condition, PostPolicy, PostPolicyForm};

use crate::http::{Body, Request};
use crate::{Credentials, Error, Secret, Timestamp};

/// The signing algorithm's name, as it appears in headers and query strings.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The payload hash of requests whose body is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// SHA-256 of the empty string, in hex.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// The longest a presigned URL may stay valid: seven days.
pub const MAX_PRESIGN_SECS: u32 = 7 * 24 * 3600;

type HmacSha256 = hmac::Hmac<Sha256>;

/// How the request path becomes the canonical URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathRule {
    /// S3: the path is already encoded once and is used as it is.
    AsIs,
    /// Other services: the path is encoded (again), after removing `.`/`..` segments and
    /// repeated slashes when `normalize` is set.
    Encode { normalize: bool },
}

/// What stands for the body in the canonical request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// `UNSIGNED-PAYLOAD`: the body is not covered by the signature (S3 only).
    Unsigned,
    /// The hex SHA-256 the caller computed, e.g. of a file part.
    Sha256(String),
    /// Hash the request's [`Body::Bytes`] (or the empty body).
    HashBody,
}

/// Where a session token goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenPlacement {
    /// Covered by the signature (S3, STS and nearly every service).
    Signed,
    /// Added after signing, outside the signature (a few services want this).
    AfterSigning,
}

/// Everything a signature depends on besides the request.
#[derive(Clone, Debug)]
pub struct SigningParams<'a> {
    pub credentials: &'a Credentials,
    pub region: &'a str,
    pub service: &'a str,
    /// The time of signing, from the driver's clock corrected for skew.
    pub time: Timestamp,
    pub path_rule: PathRule,
    pub payload: Payload,
    /// Send the payload hash as `x-amz-content-sha256` (S3 requires it on header auth).
    pub content_sha256_header: bool,
    pub token_placement: TokenPlacement,
}

impl<'a> SigningParams<'a> {
    /// Parameters for S3: path as is, `UNSIGNED-PAYLOAD`, `x-amz-content-sha256` sent.
    pub fn s3(credentials: &'a Credentials, region: &'a str, time: Timestamp) -> Self {
        SigningParams {
            credentials,
            region,
            service: "s3",
            time,
            path_rule: PathRule::AsIs,
            payload: Payload::Unsigned,
            content_sha256_header: true,
            token_placement: TokenPlacement::Signed,
        }
    }

    /// Parameters for another service: normalised, re-encoded path, body hashed.
    pub fn service(
        credentials: &'a Credentials,
        region: &'a str,
        service: &'a str,
        time: Timestamp,
    ) -> Self {
        SigningParams {
            credentials,
            region,
            service,
            time,
            path_rule: PathRule::Encode { normalize: true },
            payload: Payload::HashBody,
            content_sha256_header: false,
            token_placement: TokenPlacement::Signed,
        }
    }

    /// These parameters with another payload rule.
    pub fn with_payload(mut self, payload: Payload) -> Self {
        self.payload = payload;
        self
    }

    fn scope(&self) -> String {
        crate::cat!(
            "{}/{}/{}/aws4_request",
            self.time.date_stamp(),
            self.region,
            self.service
        )
    }
}

/// The intermediate and final results of signing, for tests and debugging.
/// Holds no secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    pub canonical_request: String,
    pub string_to_sign: String,
    /// Lowercase hex.
    pub signature: String,
}

#[derive(Clone)]
struct CachedKey {
    access_key_id: String,
    secret: Secret,
    date: String,
    region: String,
    service: String,
    key: Zeroizing<[u8; 32]>,
}

/// Signs requests, caching derived signing keys.
#[derive(Clone, Default)]
pub struct Signer {
    keys: Vec<CachedKey>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("cached_keys", &self.keys.len())
            .finish()
    }
}

/// How many signing keys a [`Signer`] keeps (one per access key, day, region, service).
const KEY_CACHE_SIZE: usize = 4;

impl Signer {
    /// A signer with an empty key cache.
    pub fn new() -> Self {
        Signer::default()
    }

    /// The signing key for `p`'s credentials, day, region and service, derived once.
    fn signing_key(&mut self, p: &SigningParams<'_>) -> [u8; 32] {
        let date = p.time.date_stamp();
        let c = p.credentials;
        if let Some(i) = self.keys.iter().position(|k| {
            k.access_key_id == c.access_key_id
                && k.secret == c.secret_access_key
                && k.date == date
                && k.region == p.region
                && k.service == p.service
        }) {
            let hit = self.keys.remove(i);
            let key = *hit.key;
            self.keys.push(hit);
            return key;
        }
        // The secret is copied once, after the buffer grew for it: no copy is left behind.
        let secret = Zeroizing::new(crate::cat!("AWS4{}", c.secret_access_key.expose()));
        let k = hmac(secret.as_bytes(), date.as_bytes());
        let k = hmac(&k, p.region.as_bytes());
        let k = hmac(&k, p.service.as_bytes());
        let key = hmac(&k, b"aws4_request");
        if self.keys.len() == KEY_CACHE_SIZE {
            self.keys.remove(0);
        }
        self.keys.push(CachedKey {
            access_key_id: c.access_key_id.clone(),
            secret: c.secret_access_key.clone(),
            date,
            region: p.region.to_owned(),
            service: p.service.to_owned(),
            key: Zeroizing::new(key),
        });
        key
    }

    /// How many derived keys are cached (for tests of the cache).
    pub fn cached_keys(&self) -> usize {
        self.keys.len()
    }

    /// Signs `req` with an `Authorization` header, adding `host`, `x-amz-date`,
    /// `x-amz-security-token` and (when asked) `x-amz-content-sha256` first.
    ///
    /// # Errors
    /// [`Error::Signing`] when the payload is to be hashed but the body is supplied by
    /// the driver ([`Body::External`]): pass its hash as [`Payload::Sha256`] instead.
    pub fn sign(&mut self, req: &mut Request, p: &SigningParams<'_>) -> Result<Signature, Error> {
        let payload_hash = payload_hash(req, &p.payload)?;
        if req.header("host").is_none() {
            let host = req.host.clone();
            req.set_header("host", host);
        }
        req.set_header("x-amz-date", p.time.amz_date());
        if p.content_sha256_header {
            req.set_header("x-amz-content-sha256", payload_hash.clone());
        }
        let token = p.credentials.session_token.as_ref();
        if let (Some(t), TokenPlacement::Signed) = (token, p.token_placement) {
            req.set_header("x-amz-security-token", t.expose());
        }
        let (canonical_request, signed_headers) =
            canonical::request(req, &req.query, p.path_rule, &payload_hash);
        let sig = self.finish(p, canonical_request);
        req.set_header(
            "authorization",
            crate::cat!(
                "{} Credential={}/{}, SignedHeaders={}, Signature={}",
                ALGORITHM,
                p.credentials.access_key_id,
                p.scope(),
                signed_headers,
                sig.signature
            ),
        );
        if let (Some(t), TokenPlacement::AfterSigning) = (token, p.token_placement) {
            req.set_header("x-amz-security-token", t.expose());
        }
        Ok(sig)
    }

    /// Presigns `req`: adds the `X-Amz-*` query parameters, valid for `expires_secs`
    /// from `p.time`. [`Request::url`] then gives a URL anyone may use until then.
    ///
    /// # Errors
    /// [`Error::Signing`] when `expires_secs` is 0 or over [`MAX_PRESIGN_SECS`], or as
    /// [`Signer::sign`].
    pub fn presign(
        &mut self,
        req: &mut Request,
        p: &SigningParams<'_>,
        expires_secs: u32,
    ) -> Result<Signature, Error> {
        if expires_secs == 0 || expires_secs > MAX_PRESIGN_SECS {
            return Err(Error::Signing {
                detail: crate::cat!(
                    "a presigned URL must expire within 1 to {} seconds (7 days), not {}",
                    MAX_PRESIGN_SECS,
                    expires_secs
                ),
            });
        }
        let payload_hash = payload_hash(req, &p.payload)?;
        if req.header("host").is_none() {
            let host = req.host.clone();
            req.set_header("host", host);
        }
        // Each name once (`contains`, not `dedup`, which is code of its own: wasm size).
        let mut names: Vec<String> = Vec::new();
        for (n, _) in &req.headers {
            let n = n.to_ascii_lowercase();
            if !names.contains(&n) {
                names.push(n);
            }
        }
        canonical::sort_small(&mut names, |a, b| a < b);
        let q = &mut req.query;
        q.push(("X-Amz-Algorithm".into(), ALGORITHM.into()));
        q.push((
            "X-Amz-Credential".into(),
            crate::cat!("{}/{}", p.credentials.access_key_id, p.scope()),
        ));
        q.push(("X-Amz-Date".into(), p.time.amz_date()));
        q.push(("X-Amz-Expires".into(), crate::cat!("{}", expires_secs)));
        let token = p.credentials.session_token.as_ref();
        if let (Some(t), TokenPlacement::Signed) = (token, p.token_placement) {
            q.push(("X-Amz-Security-Token".into(), t.expose().to_owned()));
        }
        q.push((
            "X-Amz-SignedHeaders".into(),
            crate::error::join(&names, ";"),
        ));
        let (canonical_request, _) =
            canonical::request(req, &req.query, p.path_rule, &payload_hash);
        let sig = self.finish(p, canonical_request);
        if let (Some(t), TokenPlacement::AfterSigning) = (token, p.token_placement) {
            req.query
                .push(("X-Amz-Security-Token".into(), t.expose().to_owned()));
        }
        req.query
            .push(("X-Amz-Signature".into(), sig.signature.clone()));
        Ok(sig)
    }

    /// The signature of an already-encoded string, e.g. a base64 POST policy.
    pub fn sign_string(&mut self, p: &SigningParams<'_>, s: &str) -> String {
        hex(&hmac(&self.signing_key(p), s.as_bytes()))
    }

    fn finish(&mut self, p: &SigningParams<'_>, canonical_request: String) -> Signature {
        let string_to_sign = crate::cat!(
            "{}\n{}\n{}\n{}",
            ALGORITHM,
            p.time.amz_date(),
            p.scope(),
            sha256_hex(canonical_request.as_bytes())
        );
        let signature = self.sign_string(p, &string_to_sign);
        Signature {
            canonical_request,
            string_to_sign,
            signature,
        }
    }
}

fn payload_hash(req: &Request, payload: &Payload) -> Result<String, Error> {
    Ok(match payload {
        Payload::Unsigned => UNSIGNED_PAYLOAD.to_owned(),
        Payload::Sha256(h) => h.clone(),
        Payload::HashBody => match &req.body {
            Body::Empty => EMPTY_SHA256.to_owned(),
            Body::Bytes(b) => sha256_hex(b),
            Body::External { .. } => {
                return Err(Error::Signing {
                    detail: "the body is read by the driver, so the signer cannot hash it; \
                             pass its SHA-256 as Payload::Sha256 or sign it as UNSIGNED-PAYLOAD"
                        .into(),
                });
            }
        },
    })
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Lowercase hex of `bytes`, without `core::fmt` (its `{:02x}` costs wasm size).
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}
