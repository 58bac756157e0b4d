//! `updraft doctor` (issue 14): checks a live setup as the browser sees it — the CORS
//! preflights of the requests the package sends, from the app's origin, with their
//! headers; the headers the page must be able to read; STS and the role's trust (with a
//! signed-in user's token); a test upload and abort under the user's folder; the clock.
//! Every failure says its cause and the exact fix, and the exit status whether all passed.
//!
//! It signs with `updraft-core`, as the package does, and sends with reqwest; a browser's
//! CORS decisions are made here from the answers, as Chromium would make them.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use clap::Args;
use updraft_core::checksum::Crc64Nvme;
use updraft_core::http::{Body, Method, Request, Response};
use updraft_core::s3::{
    AbortMultipartUpload, Addressing, Checksums, CompleteMultipartUpload, CreateMultipartUpload,
    DeleteObject, Endpoint, Origin, PutObject, PutOptions, cors,
};
use updraft_core::sigv4::{Signer, SigningParams};
use updraft_core::sts::AssumeRoleWithWebIdentity;
use updraft_core::{Credentials, Error as CoreError, Secret, Timestamp};

use crate::cli::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};

/// S3 refuses a request signed further than this from its clock (`RequestTimeTooSkewed`).
const MAX_SKEW_SECS: i64 = 15 * 60;
/// Skew this large is reported: the package corrects it after one refused request, but a
/// clock this far off is wrong for everything else too.
const WARN_SKEW_SECS: i64 = 5 * 60;

/// Check a live setup as the browser sees it.
#[derive(Clone, Debug, Args)]
pub struct DoctorArgs {
    /// The page's `config.json` (the shape `updraft dev` serves): its URL on the app, whose
    /// origin is then the app's origin, or a file (then give `--app-origin`).
    #[arg(long)]
    pub config: String,
    /// The origin the page is served from, e.g. `https://app.example.com` [default: the
    /// origin of `--config` when it is a URL].
    #[arg(long)]
    pub app_origin: Option<String>,
    /// A signed-in user's ID token: then STS, the role's trust and a test upload under the
    /// user's folder are checked too.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Check as if this machine's clock were off by SECONDS (to see what the clock check
    /// says).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 0,
        allow_hyphen_values = true
    )]
    pub clock_offset: i64,
}

/// What a check found.
#[derive(Debug)]
enum Outcome {
    Pass(String),
    Fail { cause: String, fix: String },
    Skip(String),
}

struct Report {
    failed: usize,
}

impl Report {
    fn say(&mut self, name: &str, outcome: Outcome) {
        match outcome {
            Outcome::Pass(detail) => println!("ok    {name}: {detail}"),
            Outcome::Skip(why) => println!("skip  {name}: {why}"),
            Outcome::Fail { cause, fix } => {
                self.failed += 1;
                println!("FAIL  {name}: {cause}");
                for line in fix.lines() {
                    println!("      {line}");
                }
            }
        }
    }
}

/// The setup, as `config.json` gives it.
struct Setup {
    bucket: String,
    region: String,
    endpoint: Endpoint,
    role_arn: Option<String>,
    sts: Option<Origin>,
    origin: String,
    acl: Option<String>,
}

/// `scheme://host[:port]` of an origin.
fn url(o: &Origin) -> String {
    format!("{}://{}", o.scheme.as_str(), o.host)
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Runs `updraft doctor`; returns its exit status: 0 all passed, 1 some failed, 2 the
/// setup could not be read.
pub fn doctor(args: &DoctorArgs) -> u8 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return EXIT_USAGE;
        }
    };
    runtime.block_on(run(args))
}

async fn run(args: &DoctorArgs) -> u8 {
    let http = reqwest::Client::new();
    let setup = match read_setup(&http, args).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    println!(
        "Checking s3://{} at {} as a page on {} sees it",
        setup.bucket,
        url(&setup.endpoint.origin),
        setup.origin
    );
    let mut report = Report { failed: 0 };
    let mut d = Doctor {
        http,
        setup,
        skew: 0,
        clock_offset: args.clock_offset,
    };

    // The clock first: everything signed after it is signed on S3's time.
    let clock = d.clock().await;
    report.say("clock", clock);
    let put = d.preflight(Method::Put).await;
    report.say("CORS preflight for PUT (PutObject, UploadPart)", put);
    let post = d.preflight(Method::Post).await;
    report.say(
        "CORS preflight for POST (CreateMultipartUpload, CompleteMultipartUpload)",
        post,
    );
    let exposed = d.exposed().await;
    report.say(
        "headers the page reads (Access-Control-Expose-Headers)",
        exposed,
    );
    let token = match &args.token_file {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(t) if !t.trim().is_empty() => Some(t.trim().to_owned()),
            Ok(_) => {
                eprintln!("error: {} is empty: put the ID token in it", path.display());
                return EXIT_USAGE;
            }
            Err(e) => {
                eprintln!("error: {} cannot be read: {e}", path.display());
                return EXIT_USAGE;
            }
        },
        None => None,
    };
    let (sts, keys) = d.sts(token.as_deref()).await;
    report.say("STS AssumeRoleWithWebIdentity", sts);
    match keys {
        Some((credentials, sub)) => {
            let upload = d.test_upload(&credentials, &sub).await;
            report.say("test upload and abort under the user's folder", upload);
        }
        None => report.say(
            "test upload and abort under the user's folder",
            Outcome::Skip(if token.is_some() {
                "STS gave no keys (above)".into()
            } else {
                "give --token-file with a signed-in user's ID token to check it".into()
            }),
        ),
    }
    if report.failed == 0 {
        println!("All checks passed.");
        EXIT_OK
    } else {
        println!(
            "{} check{} failed.",
            report.failed,
            if report.failed == 1 { "" } else { "s" }
        );
        EXIT_FAILED
    }
}

async fn read_setup(http: &reqwest::Client, args: &DoctorArgs) -> Result<Setup, String> {
    let is_url = args.config.starts_with("http://") || args.config.starts_with("https://");
    let text = if is_url {
        let r = http
            .get(&args.config)
            .send()
            .await
            .map_err(|e| format!("{} cannot be fetched: {e}", args.config))?;
        if !r.status().is_success() {
            return Err(format!("{} answered {}", args.config, r.status()));
        }
        r.text()
            .await
            .map_err(|e| format!("{} cannot be read: {e}", args.config))?
    } else {
        std::fs::read_to_string(&args.config)
            .map_err(|e| format!("{} cannot be read: {e}", args.config))?
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", args.config))?;
    let field = |name: &str| v.get(name).and_then(|x| x.as_str()).map(str::to_owned);
    let bucket = field("bucket")
        .ok_or_else(|| format!("{} has no \"bucket\": add the bucket's name", args.config))?;
    let region = field("region").unwrap_or_else(|| "us-east-1".to_owned());
    let addressing = match v.get("pathStyle").and_then(serde_json::Value::as_bool) {
        Some(true) => Addressing::Path,
        Some(false) => Addressing::VirtualHosted,
        None => Addressing::Auto,
    };
    let endpoint = match field("endpoint") {
        Some(url) => Endpoint::custom(&url, &region, addressing)
            .map_err(|e| format!("{}: \"endpoint\": {e}", args.config))?,
        None => Endpoint {
            addressing,
            ..Endpoint::aws(&region)
        },
    };
    let sts = match field("stsEndpoint") {
        Some(url) => Some(
            Origin::parse(&url).map_err(|e| format!("{}: \"stsEndpoint\": {e}", args.config))?,
        ),
        None => Some(updraft_core::sts::aws(&region)),
    };
    let origin = match (&args.app_origin, is_url) {
        (Some(o), _) => o.trim_end_matches('/').to_owned(),
        (None, true) => {
            let rest = args.config.split_once("://").map_or("", |(_, r)| r);
            let host = rest.split('/').next().unwrap_or_default();
            let scheme = args.config.split_once("://").map_or("https", |(s, _)| s);
            format!("{scheme}://{host}")
        }
        (None, false) => {
            return Err(format!(
                "give --app-origin (the origin the page is served from, e.g. https://app.example.com): {} is a file, so it does not say",
                args.config
            ));
        }
    };
    Ok(Setup {
        bucket,
        region,
        endpoint,
        role_arn: field("roleArn"),
        sts,
        origin,
        acl: field("acl"),
    })
}

struct Doctor {
    http: reqwest::Client,
    setup: Setup,
    /// S3's clock minus this machine's, in seconds (measured by [`Doctor::clock`]).
    skew: i64,
    clock_offset: i64,
}

/// An answer as a browser sees it: status, headers (lower-case names), body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The S3 error code in the body, if any.
    fn code(&self) -> String {
        let t = String::from_utf8_lossy(&self.body);
        t.split("<Code>")
            .nth(1)
            .and_then(|r| r.split("</Code>").next())
            .unwrap_or_default()
            .to_owned()
    }

    fn response(&self) -> Response {
        Response {
            status: self.status,
            headers: self.headers.clone(),
            body: self.body.clone(),
        }
    }
}

/// The headers of `asked` a browser finds not admitted by an `Access-Control-Allow-Headers`
/// answer: each must be listed (in any case), and a `*` admits all but `authorization`
/// (<https://fetch.spec.whatwg.org/#http-access-control-allow-headers>).
fn headers_refused(allow: Option<&str>, asked: &[String]) -> Vec<String> {
    let listed: Vec<String> = allow
        .unwrap_or_default()
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    let star = listed.iter().any(|h| h == "*");
    asked
        .iter()
        .filter(|h| {
            let h = h.to_ascii_lowercase();
            !(listed.contains(&h) || (star && h != "authorization"))
        })
        .cloned()
        .collect()
}

/// The CORS rule that lets the package work from `origin`, and the command that puts it.
fn cors_fix(bucket: &str, origin: &str) -> String {
    let rule = serde_json::json!({
        "CORSRules": [{
            "AllowedOrigins": [origin],
            "AllowedMethods": cors::ALLOWED_METHODS,
            "AllowedHeaders": cors::ALLOWED_HEADERS,
            "ExposeHeaders": cors::EXPOSE_HEADERS,
            "MaxAgeSeconds": cors::MAX_AGE_SECONDS,
        }]
    });
    format!(
        "fix: a rule like this one (put-bucket-cors replaces the bucket's rules: merge it with yours):\n  aws s3api put-bucket-cors --bucket {bucket} --cors-configuration '{rule}'"
    )
}

impl Doctor {
    fn now(&self) -> i64 {
        now_secs() + self.clock_offset
    }

    async fn send(&self, req: &Request, origin: bool) -> Result<Answer, String> {
        let method = reqwest::Method::from_bytes(req.method.as_str().as_bytes())
            .map_err(|e| e.to_string())?;
        self.send_as(req, method, origin).await
    }

    /// [`Doctor::send`] with another method (a preflight's `OPTIONS`, which the core's
    /// requests do not have).
    async fn send_as(
        &self,
        req: &Request,
        method: reqwest::Method,
        origin: bool,
    ) -> Result<Answer, String> {
        let mut rb = self.http.request(method, req.url());
        for (n, v) in &req.headers {
            if !n.eq_ignore_ascii_case("host") {
                rb = rb.header(n.as_str(), v.as_str());
            }
        }
        if origin {
            rb = rb.header("origin", self.setup.origin.as_str());
        }
        if let Body::Bytes(b) = &req.body {
            rb = rb.body(b.clone());
        }
        let r = rb
            .send()
            .await
            .map_err(|e| crate::driver::network_detail(&e))?;
        let status = r.status().as_u16();
        let headers = crate::driver::header_pairs(r.headers());
        let body = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    fn object(&self, method: Method, key: &str) -> Request {
        self.setup
            .endpoint
            .request(method, &self.setup.bucket, Some(key))
    }

    /// The clock: `Date` of an S3 answer against this machine's.
    async fn clock(&mut self) -> Outcome {
        let req = self.object(Method::Get, ".updraft-doctor");
        let sent = self.now();
        let a = match self.send(&req, false).await {
            Ok(a) => a,
            Err(e) => {
                return Outcome::Fail {
                    cause: format!("S3 at {} cannot be reached: {e}", url(&self.setup.endpoint.origin)),
                    fix: "fix: check \"endpoint\" and \"region\" in the config, and that this machine can reach it".into(),
                };
            }
        };
        let Some(server) = a
            .header("date")
            .and_then(|d| Timestamp::parse_http_date(d).ok())
        else {
            return Outcome::Skip("S3's answer has no Date header to compare with".into());
        };
        self.skew = server.unix() - sent;
        let off = self.skew.abs();
        let way = if self.skew < 0 { "ahead of" } else { "behind" };
        if off > WARN_SKEW_SECS {
            Outcome::Fail {
                cause: format!(
                    "this machine's clock is {} min {way} S3's; S3 refuses requests signed more than {} min off (RequestTimeTooSkewed)",
                    off / 60,
                    MAX_SKEW_SECS / 60
                ),
                fix: "fix: set the clock by NTP (e.g. `timedatectl set-ntp true`); the package corrects a page's skew after one refused request, the rest of the machine does not".into(),
            }
        } else {
            Outcome::Pass(format!("within {off} s of S3's"))
        }
    }

    /// Signing at S3's time, as the package does once it knows the skew.
    fn sign(&self, req: &mut Request, credentials: &Credentials) -> Result<(), CoreError> {
        let time = Timestamp::from_unix(self.now() + self.skew);
        Signer::new()
            .sign(
                req,
                &SigningParams::s3(credentials, &self.setup.region, time),
            )
            .map(|_| ())
    }

    /// The header names a browser lists in `Access-Control-Request-Headers` for the
    /// requests the package sends with `method`: built and signed as it builds them, with
    /// temporary keys.
    fn requested_headers(&self, method: Method) -> Vec<String> {
        let keys =
            Credentials::new("ASIAUPDRAFTDOCTOR000", "secret").with_session_token("session-token");
        let options = PutOptions {
            content_type: Some("application/octet-stream".into()),
            acl: self.setup.acl.clone(),
            checksum_algorithm: Some("CRC64NVME".into()),
            checksum_type: Some("FULL_OBJECT".into()),
            ..PutOptions::default()
        };
        let mut reqs = Vec::new();
        if method == Method::Put {
            reqs.push(
                PutObject {
                    bucket: self.setup.bucket.clone(),
                    key: "k".into(),
                    len: 1,
                    options: options.clone(),
                    content_md5: None,
                    checksums: Checksums {
                        crc32c: None,
                        crc64nvme: Some(Crc64Nvme::new().to_base64()),
                    },
                }
                .request(&self.setup.endpoint),
            );
        } else {
            reqs.push(
                CreateMultipartUpload {
                    bucket: self.setup.bucket.clone(),
                    key: "k".into(),
                    options,
                }
                .request(&self.setup.endpoint),
            );
            reqs.push(
                CompleteMultipartUpload {
                    bucket: self.setup.bucket.clone(),
                    key: "k".into(),
                    upload_id: "u".into(),
                    parts: Vec::new(),
                    full_object_crc64nvme: Some(Crc64Nvme::new().to_base64()),
                }
                .request(&self.setup.endpoint),
            );
        }
        let mut names: Vec<String> = Vec::new();
        for mut r in reqs {
            if self.sign(&mut r, &keys).is_err() {
                continue;
            }
            for (n, _) in &r.headers {
                let n = n.to_ascii_lowercase();
                // Set by the browser itself, or CORS-safelisted.
                if ["host", "content-length", "accept"].contains(&n.as_str()) {
                    continue;
                }
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        names.sort();
        names
    }

    async fn preflight_with(&self, method: Method, headers: &[String]) -> Result<bool, String> {
        let mut req = self.object(Method::Get, ".updraft-doctor");
        req.set_header("access-control-request-method", method.as_str());
        if !headers.is_empty() {
            req.set_header("access-control-request-headers", headers.join(","));
        }
        let a = self.send_as(&req, reqwest::Method::OPTIONS, true).await?;
        let origin_ok = a
            .header("access-control-allow-origin")
            .is_some_and(|o| o == "*" || o == self.setup.origin);
        let allow = a.header("access-control-allow-headers");
        Ok((200..300).contains(&a.status)
            && origin_ok
            && headers_refused(allow, headers).is_empty())
    }

    /// What the preflight of `method` with only `header` answers in
    /// `Access-Control-Allow-Headers`.
    async fn allow_headers(&self, method: Method, header: &str) -> Option<String> {
        let mut req = self.object(Method::Get, ".updraft-doctor");
        req.set_header("access-control-request-method", method.as_str());
        req.set_header("access-control-request-headers", header);
        let a = self
            .send_as(&req, reqwest::Method::OPTIONS, true)
            .await
            .ok()?;
        a.header("access-control-allow-headers")
            .map(|h| h.to_string())
    }

    /// The preflight a browser sends before the package's `method` requests, and when it
    /// is refused, which part of it: the origin, the method or which headers.
    async fn preflight(&self, method: Method) -> Outcome {
        let headers = self.requested_headers(method);
        let bucket = &self.setup.bucket;
        let origin = &self.setup.origin;
        match self.preflight_with(method, &headers).await {
            Err(e) => {
                return Outcome::Fail {
                    cause: format!("the preflight got no answer: {e}"),
                    fix: "fix: check \"endpoint\" in the config".into(),
                };
            }
            Ok(true) => {
                return Outcome::Pass(format!(
                    "{origin} may send {} with {}",
                    method.as_str(),
                    headers.join(", ")
                ));
            }
            Ok(false) => {}
        }
        let fix = cors_fix(bucket, origin);
        if !matches!(self.preflight_with(method, &[]).await, Ok(true)) {
            let cause = if matches!(self.preflight_with(Method::Get, &[]).await, Ok(true)) {
                format!(
                    "the bucket's CORS rules let {origin} GET but not {}",
                    method.as_str()
                )
            } else {
                format!(
                    "no CORS rule of the bucket admits the origin {origin} (or the bucket has none)"
                )
            };
            return Outcome::Fail { cause, fix };
        }
        let mut refused = Vec::new();
        for h in &headers {
            if !matches!(
                self.preflight_with(method, std::slice::from_ref(h)).await,
                Ok(true)
            ) {
                refused.push(h.clone());
            }
        }
        // A literal `*` in the answer (Garage echoes the rule's `*`, where AWS lists the
        // headers asked for) covers every header but `Authorization`, which the package
        // signs with: the Fetch standard never lets a wildcard admit it.
        if refused.iter().any(|h| h == "authorization")
            && self
                .allow_headers(method, "authorization")
                .await
                .is_some_and(|a| a.split(',').any(|x| x.trim() == "*"))
        {
            return Outcome::Fail {
                cause: format!(
                    "the preflight for {} answers `Access-Control-Allow-Headers: *`, and browsers never take `*` to cover Authorization, which the package signs with (some S3-compatible stores, Garage among them, echo the rule's `*` where AWS lists the headers asked for)",
                    method.as_str()
                ),
                fix: format!(
                    "list the headers in the rule's AllowedHeaders instead of `*`, lower case (such stores match them case-sensitively);\n{fix}"
                ),
            };
        }
        Outcome::Fail {
            cause: format!(
                "the bucket's CORS rule does not allow the request header{} {} that the package sends with {}",
                if refused.len() == 1 { "" } else { "s" },
                refused.join(", "),
                method.as_str()
            ),
            fix: format!(
                "add {} to the rule's AllowedHeaders (lower case: some S3-compatible stores match them case-sensitively);\n{fix}",
                refused
                    .iter()
                    .map(|h| format!("\"{h}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// An actual (not preflight) answer from the page's origin: the headers it exposes.
    async fn exposed(&self) -> Outcome {
        let req = self.object(Method::Get, ".updraft-doctor");
        let a = match self.send(&req, true).await {
            Ok(a) => a,
            Err(e) => {
                return Outcome::Fail {
                    cause: format!("no answer: {e}"),
                    fix: "fix: check \"endpoint\" in the config".into(),
                };
            }
        };
        let fix = cors_fix(&self.setup.bucket, &self.setup.origin);
        let allowed = a
            .header("access-control-allow-origin")
            .is_some_and(|o| o == "*" || o == self.setup.origin);
        if !allowed {
            return Outcome::Fail {
                cause: format!(
                    "answers to {} carry no Access-Control-Allow-Origin for it, so the page cannot read any answer",
                    self.setup.origin
                ),
                fix,
            };
        }
        let exposed: Vec<String> = a
            .header("access-control-expose-headers")
            .unwrap_or_default()
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        let missing: Vec<&str> = cors::EXPOSE_HEADERS
            .iter()
            .copied()
            .filter(|h| {
                ["etag", "date"].contains(&h.to_ascii_lowercase().as_str())
                    && !exposed.contains(&h.to_ascii_lowercase())
            })
            .collect();
        if missing.is_empty() {
            Outcome::Pass(format!("exposed: {}", exposed.join(", ")))
        } else {
            let why = missing
                .iter()
                .map(|h| match *h {
                    "ETag" => "ETag (without it the page cannot complete a multipart upload)",
                    _ => "Date (without it the page cannot correct its clock)",
                })
                .collect::<Vec<_>>()
                .join(" and ");
            Outcome::Fail {
                cause: format!("the bucket's CORS rule does not expose {why}"),
                fix: format!(
                    "add {} to the rule's ExposeHeaders;\n{fix}",
                    missing
                        .iter()
                        .map(|h| format!("\"{h}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
    }

    /// STS: with a token, the role's trust; without, whether STS answers at all.
    async fn sts(&self, token: Option<&str>) -> (Outcome, Option<(Credentials, String)>) {
        let (Some(sts), Some(role)) = (&self.setup.sts, &self.setup.role_arn) else {
            return (
                Outcome::Skip("the config names no \"roleArn\"".into()),
                None,
            );
        };
        let op = AssumeRoleWithWebIdentity {
            role_arn: role.clone(),
            role_session_name: "updraft-doctor".into(),
            web_identity_token: Secret::new(token.unwrap_or("not-a-token").to_owned()),
            provider_id: None,
            duration_seconds: None,
            policy: None,
        };
        let a = match self.send(&op.request(sts), false).await {
            Ok(a) => a,
            Err(e) => {
                return (
                    Outcome::Fail {
                        cause: format!("STS at {} cannot be reached: {e}", url(sts)),
                        fix: "fix: check \"stsEndpoint\" in the config (AWS: https://sts.REGION.amazonaws.com)".into(),
                    },
                    None,
                );
            }
        };
        let Some(token) = token else {
            return (
                if a.code().is_empty() && a.status >= 500 {
                    Outcome::Fail {
                        cause: format!("STS at {} answered {}", url(sts), a.status),
                        fix: "fix: check \"stsEndpoint\" in the config".into(),
                    }
                } else {
                    Outcome::Pass(format!(
                        "STS at {} answers; give --token-file to check the role's trust",
                        url(sts)
                    ))
                },
                None,
            );
        };
        let claims = token_claims(token);
        let claim = |name: &str| {
            claims
                .get(name)
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .unwrap_or_else(|| "?".into())
        };
        match op.parse(&a.response()) {
            Ok(out) => {
                let sub = out
                    .subject_from_web_identity_token
                    .clone()
                    .unwrap_or_else(|| claim("sub"));
                (
                    Outcome::Pass(format!(
                        "{role} trusts the token of {sub} (aud {})",
                        claim("aud")
                    )),
                    Some((out.credentials, sub)),
                )
            }
            Err(e) => {
                let code = a.code();
                let issuer = claim("iss");
                let host = issuer
                    .trim_start_matches("https://")
                    .trim_start_matches("http://")
                    .trim_end_matches('/')
                    .to_owned();
                let fix = match code.as_str() {
                    "InvalidIdentityToken"
                        if String::from_utf8_lossy(&a.body).contains("audience") =>
                    {
                        format!(
                            "fix: the token is for the app (client id) `{}`: sign in with the client id the role trusts, or make the role's trust policy condition `{host}:aud` equal `{}`",
                            claim("aud"),
                            claim("aud")
                        )
                    }
                    "ExpiredTokenException" | "ExpiredToken" => {
                        "fix: the token expired: sign in again and give the fresh token".into()
                    }
                    "AccessDenied" => format!(
                        "fix: the role's trust policy must allow sts:AssumeRoleWithWebIdentity to the Federated principal of `{host}` (an IAM OIDC provider for a generic issuer; `accounts.google.com`, `www.amazon.com`, `graph.facebook.com` need none)"
                    ),
                    _ => {
                        "fix: see STS's message; check \"roleArn\" and the identity provider".into()
                    }
                };
                (
                    Outcome::Fail {
                        cause: e.to_string(),
                        fix,
                    },
                    None,
                )
            }
        }
    }

    /// A small PUT, its DELETE, and a multipart upload begun and aborted, under `sub/`.
    async fn test_upload(&self, credentials: &Credentials, sub: &str) -> Outcome {
        let key = format!("{sub}/.updraft-doctor-{}", now_secs());
        let body = b"updraft doctor".to_vec();
        let mut crc = Crc64Nvme::new();
        crc.update(&body);
        let put = PutObject {
            bucket: self.setup.bucket.clone(),
            key: key.clone(),
            len: body.len() as u64,
            options: PutOptions {
                acl: self.setup.acl.clone(),
                ..PutOptions::default()
            },
            content_md5: None,
            checksums: Checksums {
                crc32c: None,
                crc64nvme: Some(crc.to_base64()),
            },
        };
        let mut steps: Vec<String> = Vec::new();
        let policy_fix = format!(
            "fix: the role's permission policy must allow s3:PutObject, s3:DeleteObject, s3:AbortMultipartUpload and s3:ListMultipartUploadParts on arn:aws:s3:::{}/${{sub}}/* (the policy updraft dev enforces: crates/updraft-dev/roles/updraft-uploader.json)",
            self.setup.bucket
        );
        let mut req = put.request(&self.setup.endpoint);
        req.body = Body::Bytes(body);
        let r = self.signed(req, credentials).await;
        match r.and_then(|a| put.parse(&a.response()).map_err(|e| e.to_string())) {
            Ok(_) => steps.push("PUT".into()),
            Err(e) => {
                return Outcome::Fail {
                    cause: format!("PutObject of {key}: {e}"),
                    fix: policy_fix,
                };
            }
        }
        let del = DeleteObject {
            bucket: self.setup.bucket.clone(),
            key: key.clone(),
        };
        let r = self
            .signed(del.request(&self.setup.endpoint), credentials)
            .await;
        if let Err(e) = r.and_then(|a| del.parse(&a.response()).map_err(|e| e.to_string())) {
            return Outcome::Fail {
                cause: format!("DeleteObject of {key}: {e} (the test object stays)"),
                fix: policy_fix,
            };
        }
        steps.push("DELETE".into());
        let create = CreateMultipartUpload {
            bucket: self.setup.bucket.clone(),
            key: key.clone(),
            options: PutOptions::default(),
        };
        let r = self
            .signed(create.request(&self.setup.endpoint), credentials)
            .await;
        let upload_id = match r.and_then(|a| create.parse(&a.response()).map_err(|e| e.to_string()))
        {
            Ok(out) => out.upload_id,
            Err(e) => {
                return Outcome::Fail {
                    cause: format!("CreateMultipartUpload of {key}: {e}"),
                    fix: policy_fix,
                };
            }
        };
        let abort = AbortMultipartUpload {
            bucket: self.setup.bucket.clone(),
            key: key.clone(),
            upload_id,
        };
        let r = self
            .signed(abort.request(&self.setup.endpoint), credentials)
            .await;
        if let Err(e) = r.and_then(|a| abort.parse(&a.response()).map_err(|e| e.to_string())) {
            return Outcome::Fail {
                cause: format!("AbortMultipartUpload of {key}: {e} (the upload stays open)"),
                fix: policy_fix,
            };
        }
        steps.push("CreateMultipartUpload, AbortMultipartUpload".into());
        let mut detail = String::new();
        let _ = write!(detail, "{} of {key}", steps.join(", "));
        Outcome::Pass(detail)
    }

    async fn signed(&self, mut req: Request, credentials: &Credentials) -> Result<Answer, String> {
        self.sign(&mut req, credentials)
            .map_err(|e| e.to_string())?;
        self.send(&req, true).await
    }
}

/// The claims of a JWT, read without checking it (only to name them in messages).
fn token_claims(token: &str) -> serde_json::Map<String, serde_json::Value> {
    token
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p.trim_end_matches('='))
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::headers_refused;

    #[test]
    fn r19_a_wildcard_admits_every_header_but_authorization() {
        let asked: Vec<String> = ["authorization", "x-amz-date", "X-Amz-Security-Token"]
            .map(String::from)
            .to_vec();
        assert!(
            headers_refused(
                Some("authorization, x-amz-date, x-amz-security-token"),
                &asked
            )
            .is_empty()
        );
        assert!(
            headers_refused(
                Some("Authorization,X-Amz-Date,x-amz-security-token"),
                &asked
            )
            .is_empty()
        );
        assert_eq!(headers_refused(Some("*"), &asked), ["authorization"]);
        assert_eq!(
            headers_refused(Some("*, authorization"), &asked),
            Vec::<String>::new()
        );
        assert_eq!(headers_refused(None, &asked), asked);
        assert_eq!(
            headers_refused(Some("x-amz-date"), &asked),
            ["authorization", "X-Amz-Security-Token"]
        );
    }
}
