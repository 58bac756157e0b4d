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

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use hmac::Mac as _;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use s3s::auth::{S3Auth, SecretKey};
use s3s::{Body, S3Result, s3_error};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::keys::{AdminKeys, write_private};
use crate::oidc::{field, form, now_s};
use crate::policy::{Identity, Role, assumed_role_arn, provider_of, role_id, s3_action};

/// File name of the server key that signs session tokens.
pub(crate) const STS_KEY_FILE: &str = "sts-key";
/// AWS's limit on `WebIdentityToken`.
const MAX_TOKEN_LEN: usize = 20_000;
const LEEWAY: u64 = 60;
const TEMP_PREFIX: &str = "ASIA";

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The server key (32 bytes), read from or made in the data directory.
pub(crate) fn load_or_create_key(dir: &Path) -> Result<Arc<[u8; 32]>, Error> {
    let path = dir.join(STS_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .ok()
                .and_then(|v| <[u8; 32]>::try_from(v).ok())
                .ok_or_else(|| Error::Config {
                    detail: format!(
                        "{} is not a base64 32-byte key; delete it (issued temporary keys stop working)",
                        path.display()
                    ),
                })?;
            Ok(Arc::new(raw))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut k = [0u8; 32];
            getrandom::fill(&mut k).map_err(|e| Error::Config {
                detail: format!("no randomness for the STS key: {e}"),
            })?;
            let text = base64::engine::general_purpose::STANDARD.encode(k);
            write_private(&path, text.as_bytes())?;
            Ok(Arc::new(k))
        }
        Err(e) => Err(Error::io("read the STS key", &path, e)),
    }
}

/// What a session token carries.
#[derive(Debug, Serialize, Deserialize)]
struct Session {
    akid: String,
    exp: u64,
    sub: String,
    iss: String,
    aud: String,
    role: String,
    session: String,
}

pub(crate) fn mac(key: &[u8; 32], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes keys of any length; a 32-byte key cannot fail.
    let mut m = <HmacSha256 as hmac::Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

fn secret_for(key: &[u8; 32], akid: &str) -> String {
    let raw = mac(key, &[b"secret\0", akid.as_bytes()]);
    base64::engine::general_purpose::STANDARD.encode(&raw[..30])
}

fn seal(key: &[u8; 32], s: &Session) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let json = serde_json::to_vec(s).unwrap_or_default();
    let sig = mac(key, &[b"session\0", &json]);
    format!("{}.{}", b64.encode(&json), b64.encode(sig))
}

fn open(key: &[u8; 32], token: &str) -> Option<Session> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (payload, sig) = token.split_once('.')?;
    let json = b64.decode(payload).ok()?;
    let sig = b64.decode(sig).ok()?;
    let mut m = <HmacSha256 as hmac::Mac>::new_from_slice(key).ok()?;
    m.update(b"session\0");
    m.update(&json);
    m.verify_slice(&sig).ok()?;
    serde_json::from_slice(&json).ok()
}

/// Keys of one issuer, by `kid`.
struct IssuerKeys {
    keys: HashMap<String, (DecodingKey, Algorithm)>,
    fetched: Instant,
}

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
    jwks: Arc<tokio::sync::Mutex<HashMap<String, IssuerKeys>>>,
    client: hyper_util::client::legacy::Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        http_body_util::Empty<Bytes>,
    >,
}

/// The TLS client configuration for `https://` issuers: Mozilla's roots, and the
/// certificates of the PEM file `extra_ca`.
pub(crate) fn issuer_tls(
    extra_ca: Option<&std::path::Path>,
) -> Result<rustls::ClientConfig, crate::Error> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = extra_ca {
        let bad = |detail: String| crate::Error::Config {
            detail: format!(
                "issuer_ca {}: {detail}; give a PEM file of CA certificates",
                path.display()
            ),
        };
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| bad(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(e.to_string()))?;
        if certs.is_empty() {
            return Err(bad("it holds no certificate".to_owned()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| bad(e.to_string()))?;
        }
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        .map_err(|e| crate::Error::Config {
            detail: format!("TLS for https:// issuers: {e}"),
        })
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

/// Temporary keys just issued.
pub(crate) struct Issued {
    pub(crate) access_key_id: String,
    pub(crate) secret: zeroize::Zeroizing<String>,
    pub(crate) session_token: String,
    /// Unix seconds.
    pub(crate) expires: u64,
}

fn invalid(msg: impl Into<String>) -> StsErr {
    StsErr(StatusCode::BAD_REQUEST, "InvalidIdentityToken", msg.into())
}

fn validation(msg: impl Into<String>) -> StsErr {
    StsErr(StatusCode::BAD_REQUEST, "ValidationError", msg.into())
}

fn idp(msg: impl Into<String>) -> StsErr {
    StsErr(StatusCode::BAD_REQUEST, "IDPCommunicationError", msg.into())
}

/// Why `url` could not be fetched: the error and its causes (a TLS refusal is a cause),
/// with what to do when the certificate is not trusted.
fn fetch_failed(url: &str, e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = format!("Cannot fetch {url}: {e}");
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if text.contains("UnknownIssuer") {
        text.push_str(
            ". If the issuer's certificate comes from a private CA, name a PEM file of that \
             CA as `issuer_ca` in the configuration",
        );
    }
    text.push('.');
    text
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

fn xml_response(status: StatusCode, body: String) -> Response<Body> {
    let mut r = Response::new(Body::from(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml"),
    );
    r
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: Option<String>,
    iss: String,
    aud: Aud,
    iat: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Aud {
    One(String),
    Many(Vec<String>),
}

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
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(issuer_tls)
            .https_or_http()
            .enable_http1()
            .build();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(https);
        Sts {
            key,
            role: Arc::new(role),
            guest_role: Arc::new(guest_role),
            identity_pool_id,
            min_duration,
            app_origin,
            jwks: Arc::default(),
            client,
        }
    }

    /// Whether a request to the S3 origin is an STS call: a GET query or POST form
    /// with `Action=...` at the root.
    pub(crate) fn is_sts(req: &Request<hyper::body::Incoming>) -> bool {
        if req.uri().path() != "/" {
            return false;
        }
        match *req.method() {
            http::Method::GET => req
                .uri()
                .query()
                .is_some_and(|q| form(q).iter().any(|(k, _)| k == "Action")),
            http::Method::POST => req
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded")),
            _ => false,
        }
    }

    async fn get_json(&self, url: &str) -> Result<serde_json::Value, StsErr> {
        let uri: http::Uri = url
            .parse()
            .map_err(|_| idp(format!("The issuer's URL {url} is not valid.")))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(idp(format!(
                "The issuer's URL {url} is neither http:// nor https://."
            )));
        }
        let resp = tokio::time::timeout(Duration::from_secs(5), self.client.get(uri))
            .await
            .map_err(|_| idp(format!("Timed out fetching {url}.")))?
            .map_err(|e| idp(fetch_failed(url, &e)))?;
        if !resp.status().is_success() {
            return Err(idp(format!("{url} answered {}.", resp.status())));
        }
        let body = http_body_util::Limited::new(resp.into_body(), 1 << 20)
            .collect()
            .await
            .map_err(|_| idp(format!("Cannot read {url}.")))?
            .to_bytes();
        serde_json::from_slice(&body).map_err(|_| idp(format!("{url} is not JSON.")))
    }

    async fn fetch_keys(&self, iss: &str) -> Result<IssuerKeys, StsErr> {
        let disc = self
            .get_json(&format!(
                "{}/.well-known/openid-configuration",
                iss.trim_end_matches('/')
            ))
            .await?;
        let jwks_uri = disc["jwks_uri"]
            .as_str()
            .ok_or_else(|| idp("The discovery document has no jwks_uri."))?;
        let jwks: jsonwebtoken::jwk::JwkSet =
            serde_json::from_value(self.get_json(jwks_uri).await?)
                .map_err(|_| idp("The issuer's JWKS is not valid."))?;
        let mut keys = HashMap::new();
        for jwk in &jwks.keys {
            let (Some(kid), Ok(dk)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk))
            else {
                continue;
            };
            let alg = match &jwk.algorithm {
                jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
                jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                _ => continue,
            };
            keys.insert(kid, (dk, alg));
        }
        Ok(IssuerKeys {
            keys,
            fetched: Instant::now(),
        })
    }

    /// The key for (`iss`, `kid`), fetching the issuer's JWKS when not cached or when
    /// the `kid` is unknown.
    async fn key_for(&self, iss: &str, kid: &str) -> Result<(DecodingKey, Algorithm), StsErr> {
        let mut cache = self.jwks.lock().await;
        if let Some(k) = cache.get(iss).and_then(|c| c.keys.get(kid)) {
            return Ok(k.clone());
        }
        let recent = cache
            .get(iss)
            .is_some_and(|c| c.fetched.elapsed() < Duration::from_secs(5));
        if !recent {
            let fresh = self.fetch_keys(iss).await?;
            cache.insert(iss.to_owned(), fresh);
        }
        cache
            .get(iss)
            .and_then(|c| c.keys.get(kid))
            .cloned()
            .ok_or_else(|| invalid("The token's key id is not in the issuer's JWKS."))
    }

    /// Verifies the token; `Ok` is the identity it proves.
    pub(crate) async fn verify(&self, token: &str) -> Result<(String, String, String), StsErr> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| invalid("The token is not a valid JWT."))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(invalid(
                "The token's signing algorithm is not supported (RS256 and ES256 are).",
            ));
        }
        let unverified: Claims = jsonwebtoken::dangerous::insecure_decode_claims(token)
            .map_err(|_| invalid("The token's claims are not valid."))?;
        let iss = unverified.iss;
        let Some(auds) = self.role.audiences(&iss) else {
            return Err(invalid(format!(
                "No OpenIDConnect provider found in your account for {}",
                xml_escape(&iss).chars().take(200).collect::<String>()
            )));
        };
        let kid = header
            .kid
            .ok_or_else(|| invalid("The token has no key id (kid)."))?;
        let (key, alg) = self.key_for(&iss, &kid).await?;
        if alg != header.alg {
            return Err(invalid("The token's algorithm does not match its key."));
        }
        let mut v = Validation::new(alg);
        v.leeway = LEEWAY;
        v.validate_nbf = true;
        v.set_issuer(&[iss.as_str()]);
        v.validate_aud = false;
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<Claims>(token, &key, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::ExpiredSignature => StsErr(
                    StatusCode::BAD_REQUEST,
                    "ExpiredTokenException",
                    "Token expired: current date/time must be before the expiration date/time."
                        .into(),
                ),
                K::ImmatureSignature => invalid("Token used before issued (nbf)."),
                K::InvalidSignature => invalid("The token's signature is not valid."),
                _ => invalid("The token is not valid."),
            }
        })?;
        let c = data.claims;
        let aud = match c.aud {
            Aud::One(a) => vec![a],
            Aud::Many(a) => a,
        };
        let Some(aud) = aud.into_iter().find(|a| auds.contains(a)) else {
            return Err(invalid("Incorrect token audience."));
        };
        if c.iat.is_some_and(|iat| iat > now_s() + LEEWAY) {
            return Err(invalid("Token used before issued (iat)."));
        }
        let sub = c
            .sub
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid("The token has no sub claim."))?;
        Ok((sub, iss, aud))
    }

    async fn assume(&self, f: &[(String, String)]) -> Result<String, StsErr> {
        if field(f, "Action") != Some("AssumeRoleWithWebIdentity") {
            return Err(StsErr(
                StatusCode::BAD_REQUEST,
                "InvalidAction",
                "Could not find operation for this request.".into(),
            ));
        }
        let need = |k: &str| {
            field(f, k).ok_or_else(|| {
                StsErr(
                    StatusCode::BAD_REQUEST,
                    "MissingParameter",
                    format!("The request must contain the parameter {k}"),
                )
            })
        };
        let role_arn = need("RoleArn")?;
        let session = need("RoleSessionName")?;
        let token = need("WebIdentityToken")?;
        if session.len() < 2
            || session.len() > 64
            || !session
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
        {
            return Err(validation(
                "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
            ));
        }
        if token.len() < 4 || token.len() > MAX_TOKEN_LEN {
            return Err(validation(
                "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length less than or equal to 20000",
            ));
        }
        let duration: u32 = match field(f, "DurationSeconds") {
            None => 3600.min(self.role.max_session_seconds),
            Some(d) => d
                .parse()
                .map_err(|_| validation("DurationSeconds is not a number."))?,
        };
        if duration < self.min_duration || duration > 43200 {
            return Err(validation(format!(
                "1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value between {} and 43200",
                self.min_duration
            )));
        }
        if duration > self.role.max_session_seconds {
            return Err(validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ));
        }
        let (sub, iss, aud) = self.verify(token).await?;
        if role_arn != self.role.arn {
            return Err(StsErr(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "Not authorized to perform sts:AssumeRoleWithWebIdentity".into(),
            ));
        }
        let role = self.role.arn.clone();
        let Issued {
            access_key_id: akid,
            secret,
            session_token,
            expires: exp,
        } = self.issue(&sub, &iss, &aud, &role, session, duration)?;
        let expiration = time::OffsetDateTime::from_unix_timestamp(exp as i64)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        let request_id = crate::store::random_id().unwrap_or_default();
        Ok(format!(
            "<AssumeRoleWithWebIdentityResponse xmlns=\"{STS_NS}\">\n  <AssumeRoleWithWebIdentityResult>\n    <SubjectFromWebIdentityToken>{sub}</SubjectFromWebIdentityToken>\n    <Audience>{aud}</Audience>\n    <AssumedRoleUser>\n      <Arn>{arn}</Arn>\n      <AssumedRoleId>{rid}:{session}</AssumedRoleId>\n    </AssumedRoleUser>\n    <Credentials>\n      <SessionToken>{session_token}</SessionToken>\n      <SecretAccessKey>{secret}</SecretAccessKey>\n      <Expiration>{expiration}</Expiration>\n      <AccessKeyId>{akid}</AccessKeyId>\n    </Credentials>\n    <Provider>{provider}</Provider>\n  </AssumeRoleWithWebIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n</AssumeRoleWithWebIdentityResponse>\n",
            sub = xml_escape(&sub),
            aud = xml_escape(&aud),
            arn = xml_escape(&assumed_role_arn(&self.role.arn, session)),
            rid = role_id(&self.role.arn),
            secret = secret.as_str(),
            provider = xml_escape(provider_of(&iss)),
        ))
    }

    /// Issues temporary keys of `role_arn` for an identity.
    pub(crate) fn issue(
        &self,
        sub: &str,
        iss: &str,
        aud: &str,
        role_arn: &str,
        session: &str,
        duration: u32,
    ) -> Result<Issued, StsErr> {
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw).map_err(|_| {
            StsErr(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                "No randomness.".into(),
            )
        })?;
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let akid: String = std::iter::once(TEMP_PREFIX.to_owned())
            .chain(
                raw.iter()
                    .map(|b| char::from(alphabet[usize::from(*b) % 32]).to_string()),
            )
            .collect();
        let exp = now_s() + u64::from(duration);
        let s = Session {
            akid: akid.clone(),
            exp,
            sub: sub.to_owned(),
            iss: iss.to_owned(),
            aud: aud.to_owned(),
            role: role_arn.to_owned(),
            session: session.to_owned(),
        };
        Ok(Issued {
            session_token: seal(&self.key, &s),
            secret: zeroize::Zeroizing::new(secret_for(&self.key, &akid)),
            access_key_id: akid,
            expires: exp,
        })
    }

    /// The role a session acts as.
    fn role_of(&self, arn: &str) -> Option<Arc<Role>> {
        [&self.role, &self.guest_role]
            .into_iter()
            .find(|r| r.arn == arn)
            .cloned()
    }

    pub(crate) fn cors(&self, origin: Option<&str>, r: &mut Response<Body>) {
        if origin == Some(self.app_origin.as_str())
            && let Ok(v) = HeaderValue::from_str(&self.app_origin)
        {
            let h = r.headers_mut();
            h.insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
            h.insert(http::header::VARY, HeaderValue::from_static("Origin"));
            h.insert(
                http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("x-amzn-requestid"),
            );
        }
    }

    /// A CORS preflight for STS at the root of the S3 origin.
    pub(crate) fn preflight(&self, req: &Request<hyper::body::Incoming>) -> Response<Body> {
        let origin = req
            .headers()
            .get(http::header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        let mut r = Response::new(Body::empty());
        if origin == Some(self.app_origin.as_str()) {
            self.cors(origin, &mut r);
            let h = r.headers_mut();
            h.insert(
                http::header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST"),
            );
            if let Some(v) = req
                .headers()
                .get(http::header::ACCESS_CONTROL_REQUEST_HEADERS)
            {
                h.insert(http::header::ACCESS_CONTROL_ALLOW_HEADERS, v.clone());
            }
            h.insert(
                http::header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("3000"),
            );
        } else {
            *r.status_mut() = StatusCode::FORBIDDEN;
        }
        r
    }

    /// Answers an STS call (see [`Sts::is_sts`]).
    pub(crate) async fn handle(&self, req: Request<hyper::body::Incoming>) -> Response<Body> {
        let origin = req
            .headers()
            .get(http::header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut f = form(req.uri().query().unwrap_or(""));
        if req.method() == http::Method::POST {
            // Enough for a token over AWS's limit to be answered as AWS does.
            match http_body_util::Limited::new(req.into_body(), 4 << 20)
                .collect()
                .await
            {
                Ok(b) => f.extend(form(&String::from_utf8_lossy(&b.to_bytes()))),
                Err(_) => {
                    let e = validation("The request body is too large.");
                    return self.error(e, origin.as_deref());
                }
            }
        }
        let mut r = match self.assume(&f).await {
            Ok(xml) => xml_response(StatusCode::OK, xml),
            Err(e) => return self.error(e, origin.as_deref()),
        };
        self.cors(origin.as_deref(), &mut r);
        r
    }

    fn error(&self, StsErr(status, code, msg): StsErr, origin: Option<&str>) -> Response<Body> {
        let request_id = crate::store::random_id().unwrap_or_default();
        let kind = if status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        };
        let mut r = xml_response(
            status,
            format!(
                "<ErrorResponse xmlns=\"{STS_NS}\">\n  <Error>\n    <Type>{kind}</Type>\n    <Code>{code}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
                xml_escape(&msg)
            ),
        );
        self.cors(origin, &mut r);
        r
    }

    /// Checks a request signed with a temporary key: its session token, then the role's
    /// policy for the operation.
    fn check(&self, cx: &mut s3s::access::S3AccessContext<'_>, akid: &str) -> S3Result<()> {
        if cx.s3_op().name() == "PostObject" {
            // The form's session token and key were checked by the front (`post_form`).
            return match cx.extensions_mut().get::<PostChecked>() {
                Some(c) if c.0 == akid => Ok(()),
                _ => Err(s3_error!(AccessDenied, "Access Denied")),
            };
        }
        let token = cx
            .headers()
            .get("x-amz-security-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| {
                form(cx.uri().query().unwrap_or(""))
                    .into_iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("X-Amz-Security-Token"))
                    .map(|(_, v)| v)
            });
        let Some(token) = token else {
            return Err(s3_error!(
                InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records."
            ));
        };
        let Some(s) = open(&self.key, &token).filter(|s| s.akid == akid) else {
            return Err(s3_error!(
                InvalidToken,
                "The provided token is malformed or otherwise invalid."
            ));
        };
        if now_s() >= s.exp {
            return Err(s3_error!(ExpiredToken, "The provided token has expired."));
        }
        let Some(role) = self.role_of(&s.role) else {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        };
        let op = cx.s3_op().name();
        if op == "DeleteObjects" {
            // The keys are in the body: the backend asks, key by key, with this.
            cx.extensions_mut().insert(KeyCheck {
                role,
                identity: Identity {
                    sub: s.sub,
                    iss: s.iss,
                    aud: s.aud,
                    role_arn: s.role,
                    session_name: s.session,
                },
            });
            return Ok(());
        }
        let (bucket, key) = match cx.s3_path() {
            s3s::path::S3Path::Root => (String::new(), String::new()),
            s3s::path::S3Path::Bucket { bucket } => (bucket.to_string(), String::new()),
            s3s::path::S3Path::Object { bucket, key } => (bucket.to_string(), key.to_string()),
        };
        let identity = Identity {
            sub: s.sub,
            iss: s.iss,
            aud: s.aud,
            role_arn: s.role,
            session_name: s.session,
        };
        let (action, resource) = s3_action(op, &bucket, &key);
        let q = form(cx.uri().query().unwrap_or(""));
        let mut extra: Vec<(&str, &str)> = Vec::new();
        if action == "s3:ListBucket"
            && let Some(p) = field(&q, "prefix")
        {
            extra.push(("s3:prefix", p));
        }
        if action == "s3:ListBucket"
            && let Some(d) = field(&q, "delimiter")
        {
            extra.push(("s3:delimiter", d));
        }
        let mut allowed = role.allows(&identity, &action, &resource, &extra);
        // CopyObject also reads its source.
        if allowed
            && op == "CopyObject"
            && let Some(src) = cx
                .headers()
                .get("x-amz-copy-source")
                .and_then(|v| v.to_str().ok())
        {
            let src = percent_encoding::percent_decode_str(src.split('?').next().unwrap_or(""))
                .decode_utf8_lossy()
                .into_owned();
            let src = src.trim_start_matches('/');
            allowed = role.allows(
                &identity,
                "s3:GetObject",
                &format!("arn:aws:s3:::{src}"),
                &[],
            );
        }
        if allowed {
            Ok(())
        } else {
            Err(s3_error!(AccessDenied, "Access Denied"))
        }
    }
}

/// For DeleteObjects with temporary keys: whether the role may delete each key (S3
/// checks `s3:DeleteObject` per key and reports a denied one as that key's
/// `AccessDenied` error).
#[derive(Clone, Debug)]
pub(crate) struct KeyCheck {
    role: Arc<Role>,
    identity: Identity,
}

impl KeyCheck {
    pub(crate) fn may_delete(&self, bucket: &str, key: &str) -> bool {
        let (action, resource) = s3_action("DeleteObject", bucket, key);
        self.role.allows(&self.identity, &action, &resource, &[])
    }
}

/// Marks a POST-form upload whose `x-amz-security-token` field and key the front checked
/// for this temporary access key id.
#[derive(Clone, Debug)]
pub(crate) struct PostChecked(pub(crate) String);

impl Sts {
    /// Checks the session token of a POST-form upload signed with the temporary key
    /// `akid`, and that its role may `s3:PutObject` `bucket`/`key`. `Err` is the S3
    /// error: status, code, message.
    pub(crate) fn check_post(
        &self,
        akid: &str,
        token: Option<&str>,
        bucket: &str,
        key: &str,
    ) -> Result<(), (StatusCode, &'static str, &'static str)> {
        let Some(token) = token else {
            return Err((
                StatusCode::FORBIDDEN,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
            ));
        };
        let Some(s) = open(&self.key, token).filter(|s| s.akid == akid) else {
            return Err((
                StatusCode::BAD_REQUEST,
                "InvalidToken",
                "The provided token is malformed or otherwise invalid.",
            ));
        };
        if now_s() >= s.exp {
            return Err((
                StatusCode::BAD_REQUEST,
                "ExpiredToken",
                "The provided token has expired.",
            ));
        }
        let denied = (StatusCode::FORBIDDEN, "AccessDenied", "Access Denied");
        let role = self.role_of(&s.role).ok_or(denied)?;
        let identity = Identity {
            sub: s.sub,
            iss: s.iss,
            aud: s.aud,
            role_arn: s.role,
            session_name: s.session,
        };
        let (action, resource) = s3_action("PostObject", bucket, key);
        if role.allows(&identity, &action, &resource, &[]) {
            Ok(())
        } else {
            Err(denied)
        }
    }
}

/// s3s's view of who may sign: the admin keys, and temporary keys (`ASIA…`), whose
/// secret is derived from the server key.
#[derive(Debug)]
pub(crate) struct StackAuth {
    pub(crate) admin: AdminKeys,
    pub(crate) sts: Sts,
}

#[async_trait::async_trait]
impl S3Auth for StackAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        if access_key == self.admin.access_key_id {
            Ok(self.admin.secret_access_key.clone())
        } else if access_key.len() == 20 && access_key.starts_with(TEMP_PREFIX) {
            Ok(SecretKey::from(secret_for(&self.sts.key, access_key)))
        } else {
            Err(s3_error!(
                InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records."
            ))
        }
    }
}

/// Anonymous requests reach only GetObject and HeadObject (the backend then demands a
/// `public-read` ACL); the admin key may do anything; temporary keys what their session
/// token and role allow.
#[derive(Debug)]
pub(crate) struct StackAccess {
    pub(crate) admin_key_id: String,
    pub(crate) sts: Sts,
}

#[async_trait::async_trait]
impl s3s::access::S3Access for StackAccess {
    async fn check(&self, cx: &mut s3s::access::S3AccessContext<'_>) -> S3Result<()> {
        match cx.credentials().map(|c| c.access_key.clone()) {
            Some(k) if k == self.admin_key_id => Ok(()),
            Some(k) => self.sts.check(cx, &k),
            None => match cx.s3_op().name() {
                "GetObject" | "HeadObject" => Ok(()),
                _ => Err(s3_error!(AccessDenied, "Access Denied")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_sessions_open_and_altered_ones_do_not() {
        let key = [7u8; 32];
        let s = Session {
            akid: "ASIAAAAAAAAAAAAAAAAA".into(),
            exp: 10,
            sub: "alice".into(),
            iss: "http://127.0.0.1:4182".into(),
            aud: "updraft-dev".into(),
            role: "r".into(),
            session: "s".into(),
        };
        let t = seal(&key, &s);
        assert_eq!(open(&key, &t).map(|s| s.sub), Some("alice".into()));
        for i in 0..t.len() {
            let mut b = t.clone().into_bytes();
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(b).unwrap();
            if altered != t {
                assert!(open(&key, &altered).is_none(), "byte {i}");
            }
        }
        assert!(open(&[8u8; 32], &t).is_none());
    }
}
