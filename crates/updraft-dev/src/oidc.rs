//! The dev OpenID Connect issuer, on its own origin (default `http://127.0.0.1:4182`).
//!
//! - `/.well-known/openid-configuration` (discovery) and `/jwks.json`: one RSA-2048 key,
//!   generated on first start and kept in `<data-dir>/oidc-key.pem` (PKCS#8, mode 0600).
//! - `/authorize`: a plain-HTML sign-in page (type any name; no JavaScript; the name
//!   field comes first and Enter submits), for the authorization code flow with PKCE
//!   S256 only, exact redirect URI match, for the registered client only.
//! - `/token`: trades a code (one use, 60 s) and its PKCE verifier for an RS256 ID token
//!   with `sub`, `aud`, `iss`, `exp`, `iat`, `nonce`, `email`.
//!
//! Discovery, JWKS and token answer CORS for the app origin, as a browser's page calls
//! them. An invalid redirect URI or client is answered with an error page, never a
//! redirect (RFC 6749 §4.1.2.1).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use sha2::Digest as _;

use crate::Error;
use crate::keys::write_private;
use crate::store::random_id;

/// File name of the issuer's private key inside the data directory.
pub const OIDC_KEY_FILE: &str = "oidc-key.pem";
/// The client the dev issuer knows.
pub const DEFAULT_CLIENT_ID: &str = "updraft-dev";
/// Default lifetime of an ID token.
pub const DEFAULT_ID_TOKEN_TTL: u64 = 3600;
const CODE_TTL: Duration = Duration::from_secs(60);

/// The issuer's signing key and its public form.
#[derive(Clone)]
pub struct IssuerKey {
    kid: String,
    encoding: EncodingKey,
    jwks: String,
}

impl std::fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerKey").field("kid", &self.kid).finish()
    }
}

/// Claims of the ID tokens the dev issuer signs.
#[derive(Debug, Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: u64,
    iat: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    email: String,
}

pub(crate) fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn config_err(detail: impl Into<String>) -> Error {
    Error::Config {
        detail: detail.into(),
    }
}

impl IssuerKey {
    /// Reads the key of the data directory `dir`, or makes one (RSA 2048) and keeps it
    /// there with mode 0600.
    ///
    /// # Errors
    /// [`Error::Io`] for the file, [`Error::Config`] for a file that is not a PKCS#8 RSA key.
    pub fn load_or_create(dir: &Path) -> Result<IssuerKey, Error> {
        use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
        let path = dir.join(OIDC_KEY_FILE);
        let private = match std::fs::read_to_string(&path) {
            Ok(pem) => rsa::RsaPrivateKey::from_pkcs8_pem(&pem).map_err(|e| {
                config_err(format!(
                    "{} is not a PKCS#8 RSA key ({e}); delete it to get a new issuer key",
                    path.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::io("create the data directory", dir, e))?;
                let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
                    .map_err(|e| config_err(format!("cannot generate the issuer key: {e}")))?;
                let pem = key
                    .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
                    .map_err(|e| config_err(format!("cannot encode the issuer key: {e}")))?;
                write_private(&path, pem.as_bytes())?;
                key
            }
            Err(e) => return Err(Error::io("read the issuer key", &path, e)),
        };
        Self::from_private(&private)
    }

    fn from_private(private: &rsa::RsaPrivateKey) -> Result<IssuerKey, Error> {
        use rsa::pkcs8::EncodePrivateKey as _;
        use rsa::traits::PublicKeyParts as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let n = private.n().to_bytes_be();
        let e = private.e().to_bytes_be();
        let kid = crate::store::hex(&sha2::Sha256::digest(&n)[..8]);
        let pem = private
            .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|e| config_err(format!("cannot encode the issuer key: {e}")))?;
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| config_err(format!("cannot use the issuer key: {e}")))?;
        let jwks = serde_json::json!({
            "keys": [{
                "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                "n": b64.encode(&n), "e": b64.encode(&e),
            }]
        })
        .to_string();
        Ok(IssuerKey {
            kid,
            encoding,
            jwks,
        })
    }

    /// The key id (`kid`) the JWKS publishes and tokens carry.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWKS document (public key only).
    pub fn jwks(&self) -> &str {
        &self.jwks
    }

    /// Signs an RS256 ID token for `sub`, valid for `ttl` seconds.
    ///
    /// # Errors
    /// [`Error::Config`] when signing fails.
    pub fn id_token(
        &self,
        issuer: &str,
        audience: &str,
        sub: &str,
        ttl: i64,
        nonce: Option<&str>,
    ) -> Result<String, Error> {
        let now = now_s();
        // A negative `ttl`: a token that expired that long ago (`updraft dev token`).
        let exp = now.saturating_add_signed(ttl);
        let claims = IdClaims {
            iss: issuer,
            sub,
            aud: audience,
            exp,
            iat: now.min(exp),
            nonce,
            email: format!("{sub}@updraft.invalid"),
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| config_err(format!("cannot sign the ID token: {e}")))
    }
}

/// Decodes an `application/x-www-form-urlencoded` body or query.
pub(crate) fn form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |x: &str| {
                percent_encoding::percent_decode_str(&x.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

pub(crate) fn field<'a>(f: &'a [(String, String)], name: &str) -> Option<&'a str> {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

struct Code {
    sub: String,
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    created: Instant,
}

/// The issuer's HTTP service.
#[derive(Clone)]
pub(crate) struct IssuerService {
    pub(crate) issuer: String,
    pub(crate) key: IssuerKey,
    pub(crate) client_id: String,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) app_origin: String,
    pub(crate) id_token_ttl: u64,
    codes: Arc<Mutex<HashMap<String, Code>>>,
}

impl std::fmt::Debug for IssuerService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerService")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

type Resp = Response<Full<Bytes>>;

fn respond(status: StatusCode, ctype: &'static str, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    r.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    r
}

fn oauth_error(error: &str, description: &str) -> Resp {
    respond(
        StatusCode::BAD_REQUEST,
        "application/json",
        serde_json::json!({"error": error, "error_description": description}).to_string(),
    )
}

fn error_page(description: &str) -> Resp {
    respond(
        StatusCode::BAD_REQUEST,
        "text/html; charset=utf-8",
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in error</title></head>\n<body><h1>Sign-in error</h1><p>{}</p></body></html>\n",
            html_escape(description)
        ),
    )
}

impl IssuerService {
    pub(crate) fn new(
        issuer: String,
        key: IssuerKey,
        client_id: String,
        redirect_uris: Vec<String>,
        app_origin: String,
        id_token_ttl: u64,
    ) -> IssuerService {
        IssuerService {
            issuer,
            key,
            client_id,
            redirect_uris,
            app_origin,
            id_token_ttl,
            codes: Arc::default(),
        }
    }

    fn discovery(&self) -> String {
        let i = &self.issuer;
        serde_json::json!({
            "issuer": i,
            "authorization_endpoint": format!("{i}/authorize"),
            "token_endpoint": format!("{i}/token"),
            "jwks_uri": format!("{i}/jwks.json"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email"],
            "token_endpoint_auth_methods_supported": ["none"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "aud", "iss", "exp", "iat", "nonce", "email"],
        })
        .to_string()
    }

    /// Checks the parameters of an authorization request; `Err` is the page to show.
    fn check_authorize(&self, q: &[(String, String)]) -> Result<(), Box<Resp>> {
        if field(q, "client_id") != Some(self.client_id.as_str()) {
            return Err(Box::new(error_page("Unknown client_id.")));
        }
        let Some(redirect) = field(q, "redirect_uri") else {
            return Err(Box::new(error_page("Missing redirect_uri.")));
        };
        if !self.redirect_uris.iter().any(|u| u == redirect) {
            return Err(Box::new(error_page(
                "The redirect_uri is not registered for this client.",
            )));
        }
        let bad = |e: &str, d: &str| -> Box<Resp> {
            let mut loc = format!("{redirect}?error={e}&error_description={}", enc(d));
            if let Some(s) = field(q, "state") {
                loc.push_str(&format!("&state={}", enc(s)));
            }
            Box::new(redirect_to(&loc))
        };
        if field(q, "response_type") != Some("code") {
            return Err(bad(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
        if field(q, "code_challenge_method") != Some("S256")
            || field(q, "code_challenge").is_none_or(|c| c.len() != 43)
        {
            return Err(bad(
                "invalid_request",
                "PKCE with code_challenge_method=S256 is required",
            ));
        }
        Ok(())
    }

    fn sign_in_page(&self, q: &[(String, String)]) -> Resp {
        let hidden: String = [
            "client_id",
            "redirect_uri",
            "response_type",
            "code_challenge",
            "code_challenge_method",
            "state",
            "nonce",
            "scope",
        ]
        .iter()
        .filter_map(|k| {
            field(q, k).map(|v| {
                format!(
                    "<input type=\"hidden\" name=\"{k}\" value=\"{}\">\n",
                    html_escape(v)
                )
            })
        })
        .collect();
        respond(
            StatusCode::OK,
            "text/html; charset=utf-8",
            format!(
                "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in — updraft dev</title></head>\n<body>\n<h1>Sign in to updraft dev</h1>\n<form method=\"post\" action=\"/authorize\">\n<label for=\"name\">Name</label>\n<input id=\"name\" name=\"name\" autofocus required pattern=\"[A-Za-z0-9._@\\-]{{1,64}}\" autocomplete=\"username\">\n{hidden}<button type=\"submit\">Sign in</button>\n</form>\n<p>This is the local development issuer: any name signs in as that user.</p>\n</body></html>\n"
            ),
        )
    }

    fn authorize_post(&self, f: &[(String, String)]) -> Resp {
        if let Err(page) = self.check_authorize(f) {
            return *page;
        }
        let name = field(f, "name").unwrap_or("").trim();
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b))
        {
            return error_page(
                "The name must be 1 to 64 letters, digits, dots, underscores, @ or hyphens.",
            );
        }
        let Ok(code) = random_id() else {
            return error_page("No randomness for the code.");
        };
        let redirect = field(f, "redirect_uri").unwrap_or("").to_owned();
        let mut codes = self.codes.lock().unwrap_or_else(|p| p.into_inner());
        codes.retain(|_, c| c.created.elapsed() < CODE_TTL);
        codes.insert(
            code.clone(),
            Code {
                sub: name.to_owned(),
                redirect_uri: redirect.clone(),
                challenge: field(f, "code_challenge").unwrap_or("").to_owned(),
                nonce: field(f, "nonce").map(str::to_owned),
                created: Instant::now(),
            },
        );
        let mut loc = format!("{redirect}?code={code}&iss={}", enc(&self.issuer));
        if let Some(s) = field(f, "state") {
            loc.push_str(&format!("&state={}", enc(s)));
        }
        redirect_to(&loc)
    }

    fn token(&self, f: &[(String, String)]) -> Resp {
        if field(f, "grant_type") != Some("authorization_code") {
            return oauth_error(
                "unsupported_grant_type",
                "only authorization_code is supported",
            );
        }
        if field(f, "client_id") != Some(self.client_id.as_str()) {
            return oauth_error("invalid_client", "unknown client_id");
        }
        // One use: the code is gone whether or not the rest is right.
        let code = {
            let mut codes = self.codes.lock().unwrap_or_else(|p| p.into_inner());
            field(f, "code").and_then(|c| codes.remove(c))
        };
        let Some(code) = code.filter(|c| c.created.elapsed() < CODE_TTL) else {
            return oauth_error("invalid_grant", "the code is unknown, used or expired");
        };
        if field(f, "redirect_uri") != Some(code.redirect_uri.as_str()) {
            return oauth_error("invalid_grant", "redirect_uri does not match");
        }
        let Some(verifier) = field(f, "code_verifier") else {
            return oauth_error("invalid_request", "code_verifier is required");
        };
        let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()));
        if verifier.len() < 43 || verifier.len() > 128 || computed != code.challenge {
            return oauth_error("invalid_grant", "code_verifier does not match");
        }
        match self.key.id_token(
            &self.issuer,
            &self.client_id,
            &code.sub,
            i64::try_from(self.id_token_ttl).unwrap_or(i64::MAX),
            code.nonce.as_deref(),
        ) {
            Ok(tok) => respond(
                StatusCode::OK,
                "application/json",
                serde_json::json!({
                    "id_token": tok,
                    "token_type": "Bearer",
                    "expires_in": self.id_token_ttl,
                    "scope": "openid email",
                })
                .to_string(),
            ),
            Err(_) => oauth_error("server_error", "cannot sign the token"),
        }
    }

    fn cors(&self, req_origin: Option<&str>, r: &mut Resp) {
        if req_origin == Some(self.app_origin.as_str())
            && let Ok(v) = HeaderValue::from_str(&self.app_origin)
        {
            let h = r.headers_mut();
            h.insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
            h.insert(http::header::VARY, HeaderValue::from_static("Origin"));
        }
    }

    pub(crate) async fn handle(self, req: Request<hyper::body::Incoming>) -> Resp {
        let origin = req
            .headers()
            .get(http::header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let path = req.uri().path().to_owned();
        let query = form(req.uri().query().unwrap_or(""));
        let method = req.method().clone();
        let mut r = match (&method, path.as_str()) {
            (&Method::OPTIONS, _) => {
                let mut r = respond(StatusCode::NO_CONTENT, "text/plain", "");
                if origin.as_deref() == Some(self.app_origin.as_str()) {
                    let h = r.headers_mut();
                    h.insert(
                        http::header::ACCESS_CONTROL_ALLOW_METHODS,
                        HeaderValue::from_static("GET, POST"),
                    );
                    h.insert(
                        http::header::ACCESS_CONTROL_ALLOW_HEADERS,
                        HeaderValue::from_static("content-type, authorization"),
                    );
                    h.insert(
                        http::header::ACCESS_CONTROL_MAX_AGE,
                        HeaderValue::from_static("3000"),
                    );
                }
                r
            }
            (&Method::GET, "/.well-known/openid-configuration") => {
                respond(StatusCode::OK, "application/json", self.discovery())
            }
            (&Method::GET, "/jwks.json") => respond(
                StatusCode::OK,
                "application/json",
                self.key.jwks().to_owned(),
            ),
            (&Method::GET, "/authorize") => match self.check_authorize(&query) {
                Ok(()) => self.sign_in_page(&query),
                Err(page) => *page,
            },
            (&Method::POST, "/authorize" | "/token") => {
                let body = match http_body_util::Limited::new(req.into_body(), 64 * 1024)
                    .collect()
                    .await
                {
                    Ok(b) => b.to_bytes(),
                    Err(_) => return oauth_error("invalid_request", "body too large"),
                };
                let f = form(&String::from_utf8_lossy(&body));
                if path == "/token" {
                    self.token(&f)
                } else {
                    self.authorize_post(&f)
                }
            }
            _ => respond(StatusCode::NOT_FOUND, "text/plain", "not found\n"),
        };
        self.cors(origin.as_deref(), &mut r);
        r
    }
}

fn redirect_to(location: &str) -> Resp {
    let mut r = respond(StatusCode::SEE_OTHER, "text/plain", "");
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(http::header::LOCATION, v);
    }
    r
}
