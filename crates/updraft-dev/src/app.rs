//! The app origin: the demo page (built only on the browser package's public API), its
//! `config.json`, and the browser package itself under `/pkg/`.
//!
//! The package is what `cargo xtask web` builds into `<target dir>/web/pkg`: found beside
//! the running executable (`<target dir>/<profile>/updraft`), or where
//! [`DevConfig::web_pkg`](crate::DevConfig::web_pkg) says. Without it, `/` says which
//! command builds it.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;

use crate::stack::StackInfo;

const INDEX_HTML: &str = include_str!("../site/index.html");
const DEMO_JS: &str = include_str!("../site/demo.js");

/// `<exe dir>/../web/pkg`: where `cargo xtask web` puts the package for a binary of the
/// same target dir.
pub(crate) fn find_pkg() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let pkg = exe.parent()?.parent()?.join("web").join("pkg");
    pkg.join("updraft.js").is_file().then_some(pkg)
}

/// What the demo reads: where to upload and whom to ask for keys.
pub(crate) fn config_json(info: &StackInfo) -> String {
    serde_json::json!({
        "bucket": info.bucket,
        "region": info.region,
        "endpoint": info.s3_endpoint,
        "pathStyle": true,
        "roleArn": info.role_arn,
        "stsEndpoint": info.sts_endpoint,
        "issuer": info.issuer,
        "clientId": info.client_id,
        "identityPoolId": info.identity_pool_id,
        "cognitoEndpoint": info.cognito_endpoint,
    })
    .to_string()
}

#[derive(Debug)]
pub(crate) struct App {
    pub(crate) config: String,
    pub(crate) pkg: Option<PathBuf>,
}

fn respond(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

fn content_type(name: &str) -> &'static str {
    match Path::new(name).extension().and_then(|e| e.to_str()) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("ts") => "text/plain; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
}

const NOT_BUILT: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>updraft dev</title></head>\n<body>\n<h1>updraft dev</h1>\n<p>The store, STS and the sign-in issuer are running, but the browser package is not built, so the upload demo cannot load.</p>\n<p>Build it with <code>cargo xtask web</code> (it goes to <code>target/web/pkg</code>, beside this executable's directory), then reload.</p>\n</body></html>\n";

impl App {
    pub(crate) fn respond<B>(&self, req: &Request<B>) -> Response<Full<Bytes>> {
        let path = req.uri().path();
        let not_found = || {
            respond(
                StatusCode::NOT_FOUND,
                "text/plain; charset=utf-8",
                Bytes::from_static(b"not found\n"),
            )
        };
        match path {
            "/" | "/index.html" | "/callback" => match self.pkg {
                Some(_) => respond(
                    StatusCode::OK,
                    "text/html; charset=utf-8",
                    Bytes::from_static(INDEX_HTML.as_bytes()),
                ),
                None => respond(
                    StatusCode::OK,
                    "text/html; charset=utf-8",
                    Bytes::from_static(NOT_BUILT.as_bytes()),
                ),
            },
            "/demo.js" => respond(
                StatusCode::OK,
                content_type(path),
                Bytes::from_static(DEMO_JS.as_bytes()),
            ),
            "/config.json" => respond(
                StatusCode::OK,
                content_type(path),
                Bytes::from(self.config.clone()),
            ),
            _ => {
                let (Some(pkg), Some(name)) = (&self.pkg, path.strip_prefix("/pkg/")) else {
                    return not_found();
                };
                // One file name of the package: no separators, no dot files.
                let safe = !name.is_empty()
                    && !name.starts_with('.')
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
                if !safe {
                    return not_found();
                }
                match std::fs::read(pkg.join(name)) {
                    Ok(bytes) => respond(StatusCode::OK, content_type(name), Bytes::from(bytes)),
                    Err(_) => not_found(),
                }
            }
        }
    }
}
