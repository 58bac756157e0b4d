//! The issuers' signing keys (found through discovery, fetched as JWKS, cached by `kid`)
//! and the check of a `WebIdentityToken` against them and the role's trust policy.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use http_body_util::BodyExt as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::endpoint::xml_escape;
use super::{Sts, StsErr};
use crate::oidc::now_s;

/// Leeway on `exp`, `nbf` and `iat`, in seconds.
const LEEWAY: u64 = 60;

/// Keys of one issuer, by `kid`.
struct IssuerKeys {
    keys: HashMap<String, (DecodingKey, Algorithm)>,
    fetched: Instant,
}

/// The keys of every issuer seen, and the client that fetches them.
#[derive(Clone)]
pub(super) struct JwksCache {
    issuers: Arc<tokio::sync::Mutex<HashMap<String, IssuerKeys>>>,
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

fn invalid(msg: impl Into<String>) -> StsErr {
    StsErr(StatusCode::BAD_REQUEST, "InvalidIdentityToken", msg.into())
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

impl JwksCache {
    /// An empty cache whose client fetches `https://` issuers with `issuer_tls`
    /// ([`issuer_tls`]) and `http://` ones in the clear.
    pub(super) fn new(issuer_tls: rustls::ClientConfig) -> JwksCache {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(issuer_tls)
            .https_or_http()
            .enable_http1()
            .build();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(https);
        JwksCache {
            issuers: Arc::default(),
            client,
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
        let mut cache = self.issuers.lock().await;
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
}

impl Sts {
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
        let (key, alg) = self.jwks.key_for(&iss, &kid).await?;
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
}
