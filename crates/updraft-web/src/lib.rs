//! updraft's browser driver, the WebAssembly half.
//!
//! In scope: one [`Core`] per `Uploader`, wrapping the engine of `updraft-core` with the
//! browser's view of it — options as the JS API takes them, keys rendered from the
//! template, resume records keyed by a file's fingerprint, and the STS and Cognito
//! answers turned into credentials without the keys ever leaving WebAssembly memory.
//! The checksum functions serve the Web Worker that computes part checksums.
//!
//! Not in scope: I/O. The ES module (`js/updraft.js`) sends the requests this crate
//! describes (XMLHttpRequest, `Blob.slice`), runs the timers, stores the records in
//! `localStorage` and calls the sign-in adapters. Everything crosses the boundary as
//! numbers and strings (actions and events as JSON), which keeps the generated glue
//! and the package small; no `web-sys`, no `js-sys`.
//!
//! The same code compiles natively, so its tests run with `cargo test`.

use updraft_core::checksum::{
    ChecksumAlgorithm, Crc32c, Crc64Nvme, crc32c_combine, crc64nvme_combine,
};
use updraft_core::cognito::{GetCredentialsForIdentity, GetId, Logins};
use updraft_core::engine::{
    Action, Engine, EngineConfig, Event, FileId, FileSpec, FileStatus, Progress, RefreshFailure,
    RequestId, ResumeRecord, Validation,
};
use updraft_core::http::{Body, Method, Request, Response};
use updraft_core::json::{self, ObjectWriter, Value};
use updraft_core::object::{
    CannedAcl, KeyContext, KeyTemplate, Metadata, StorageClass, content_type_for, uuid_v4,
};
use updraft_core::plan::{MAX_PART_SIZE, MIN_PART_SIZE};
use updraft_core::s3::{Addressing, DeleteObject, Endpoint, ListObjectsV2, Origin, PutOptions};
use updraft_core::sts::AssumeRoleWithWebIdentity;
use updraft_core::text::Piece;
use updraft_core::{Credentials, Error, Secret, Timestamp, cat};
use wasm_bindgen::prelude::*;

/// The allocator: talc in place of std's dlmalloc. It is 3.5 KB less wasm (1.4 KB gzip
/// -9, `cargo xtask web`), and the engine's allocations are few and small (requests,
/// JSON texts), so dlmalloc's speed buys nothing here.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// The `Uploader` options this half reads (the rest — credentials, handlers — stay in
/// JS), by their camelCase JSON names; `null` is the same as absent. Defaults are the
/// engine's ([`EngineConfig`], [`updraft_core::plan::PlanConfig`]).
#[derive(Debug, Default)]
struct Options {
    bucket: String,
    /// Default `us-east-1`.
    region: Option<String>,
    /// An S3-compatible endpoint URL; default AWS S3 in `region`.
    endpoint: Option<String>,
    /// Path-style URLs (`endpoint/bucket/key`) instead of virtual-hosted ones.
    path_style: Option<bool>,
    /// Default [`KeyTemplate::DEFAULT`].
    key: Option<String>,
    acl: Option<String>,
    metadata: Vec<(String, String)>,
    /// Default: from the file's type, else its extension.
    content_type: Option<String>,
    storage_class: Option<String>,
    part_size: Option<u64>,
    concurrency: Option<usize>,
    /// `CRC64NVME`, `CRC32C` or `none`.
    checksum: Option<String>,
    validation: Validation,
    /// Files up to this size go as POST forms (no CORS preflight); default
    /// [`POST_MAX_SIZE`], 0 never.
    post_max_size: Option<u64>,
    /// More URLs of the bucket that forms are spread over ([`EngineConfig::form_urls`]).
    form_urls: Vec<String>,
    /// Ms without a byte moving before a request is abandoned and retried; default
    /// [`updraft_core::engine::STALL_TIMEOUT_MS`], 0 never.
    stall_timeout: Option<u64>,
}

/// Files of at most this many bytes are sent as POST Object forms rather than PUTs: a
/// form is a CORS simple request, so it skips the preflight each PUT to a new key costs.
/// `cargo xtask bench browser --runs 3` (Chromium, release `updraft dev`, 2 cores, median
/// of 3): 500 files of 64 KiB at 15.5 MiB/s as forms against 12.6 as PUTs on loopback,
/// 5.8 against 3.6 on its 40 ms WAN; 40 files of 1 MiB at 97.8 against 97.3 on loopback,
/// 22.3 against 20.0 on the WAN.
pub const POST_MAX_SIZE: u64 = 1024 * 1024;

// Options, actions and events cross the boundary as JSON through the core's own small
// reader and writer (`updraft_core::json`): serde_json and the serde impls it
// instantiated were about 90 KB of the 420 KB of wasm code (twiggy), against a 30 KB
// gzip budget for the whole package.

/// `v` as a string; `what` names it in the error.
fn string(v: &Value, what: &str) -> Result<String, String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| cat!("`{}` must be a string", what))
}

/// `v` as a non-negative integer.
fn integer(v: &Value, what: &str) -> Result<u64, String> {
    v.as_u64()
        .ok_or_else(|| cat!("`{}` must be a non-negative integer", what))
}

/// `v` as an object of strings.
fn strings(v: &Value, what: &str) -> Result<Vec<(String, String)>, String> {
    let Value::Object(m) = v else {
        return Err(cat!("`{}` must be an object of strings", what));
    };
    // Loops, not `collect::<Result<…>>`, whose adapters are code of their own (wasm size).
    let mut out = Vec::new();
    for (k, v) in m {
        out.push((k.clone(), string(v, what)?));
    }
    Ok(out)
}

/// `v` as an array of strings.
fn string_list(v: &Value, what: &str) -> Result<Vec<String>, String> {
    let Value::Array(items) = v else {
        return Err(cat!("`{}` must be an array of strings", what));
    };
    let mut out = Vec::new();
    for v in items {
        out.push(string(v, what)?);
    }
    Ok(out)
}

/// The members of object `v` that are not `null`.
fn members<'a>(
    v: &'a Value,
    what: &str,
) -> Result<impl Iterator<Item = (&'a str, &'a Value)>, String> {
    match v {
        Value::Object(m) => Ok(m
            .iter()
            .filter(|(_, v)| !matches!(v, Value::Null))
            .map(|(k, v)| (k.as_str(), v))),
        _ => Err(cat!("`{}` must be an object", what)),
    }
}

impl Options {
    /// Reads the options' JSON; an unknown name is refused (a misspelt option would
    /// otherwise be ignored without a word).
    fn from_json(text: &str) -> Result<Options, String> {
        let mut o = Options::default();
        for (name, v) in members(&json::parse(text)?, "options")? {
            match name {
                "bucket" => o.bucket = string(v, name)?,
                "region" => o.region = Some(string(v, name)?),
                "endpoint" => o.endpoint = Some(string(v, name)?),
                "pathStyle" => match v {
                    Value::Bool(b) => o.path_style = Some(*b),
                    _ => return Err("`pathStyle` must be true or false".into()),
                },
                "key" => o.key = Some(string(v, name)?),
                "acl" => o.acl = Some(string(v, name)?),
                "metadata" => o.metadata = strings(v, name)?,
                "contentType" => o.content_type = Some(string(v, name)?),
                "storageClass" => o.storage_class = Some(string(v, name)?),
                "partSize" => match integer(v, name)? {
                    p @ MIN_PART_SIZE..=MAX_PART_SIZE => o.part_size = Some(p),
                    _ => {
                        return Err(
                            "`partSize` must be from 5 MiB to 5 GiB (5242880 to 5368709120)".into(),
                        );
                    }
                },
                "concurrency" => match integer(v, name)? {
                    0 => return Err("`concurrency` must be at least 1".into()),
                    n => o.concurrency = Some(usize::try_from(n).unwrap_or(usize::MAX)),
                },
                "checksum" => o.checksum = Some(string(v, name)?),
                "validation" => o.validation = validation(v)?,
                "postMaxSize" => o.post_max_size = Some(integer(v, name)?),
                "formUrls" => {
                    o.form_urls = string_list(v, name)?;
                    let url = |u: &String| {
                        // `text::find`, not `split_once("://")` (wasm size).
                        updraft_core::text::find(u, "://").is_some_and(|i| {
                            let (scheme, rest) = (&u[..i], &u[i + 3..]);
                            (scheme == "https" || scheme == "http")
                                && !rest.starts_with(['/', '?', '#'])
                                && !rest.is_empty()
                        })
                    };
                    if let Some(bad) = o.form_urls.iter().find(|u| !url(u)) {
                        return Err(cat!(
                            "`formUrls`: {} is not a URL of the bucket (https://host[:port][/path])",
                            bad
                        ));
                    }
                }
                "stallTimeout" => o.stall_timeout = Some(integer(v, name)?),
                other => return Err(unknown(other, "", OPTIONS)),
            }
        }
        Ok(o)
    }
}

/// The names `new Uploader({...})` takes besides `credentials` (which stays in JS).
const OPTIONS: &[&str] = &[
    "bucket",
    "region",
    "endpoint",
    "pathStyle",
    "key",
    "acl",
    "metadata",
    "contentType",
    "storageClass",
    "partSize",
    "concurrency",
    "checksum",
    "validation",
    "postMaxSize",
    "formUrls",
    "stallTimeout",
];

/// The names the `validation` option takes.
const VALIDATION: &[&str] = &[
    "minSize",
    "maxSize",
    "allowedTypes",
    "allowedExtensions",
    "maxFiles",
];

/// The error for an option `name` (under `within`) that is not one of `known`: it names
/// the option and, when it differs from a known one only in case, `_` or `-` (`partsize`,
/// `part_size`), that one; else it lists them all (issue 15: a misspelt option was
/// ignored without a word).
fn unknown(name: &str, within: &str, known: &[&str]) -> String {
    let fold = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let folded = fold(name);
    let mut out = String::from("unknown option `");
    out.push_str(within);
    out.push_str(name);
    out.push('`');
    match known.iter().find(|k| fold(k) == folded) {
        Some(k) => {
            out.push_str("; did you mean `");
            out.push_str(within);
            out.push_str(k);
            out.push_str("`?");
        }
        None => {
            out.push_str("; the options");
            if !within.is_empty() {
                out.push_str(" of `");
                out.push_str(within.trim_end_matches('.'));
                out.push('`');
            }
            out.push_str(" are ");
            for (i, k) in known.iter().enumerate() {
                out.push_str(if i > 0 { ", " } else { "" });
                out.push_str(k);
            }
        }
    }
    out
}

/// The `validation` option ([`Validation`]'s camelCase form; an unknown name is refused).
fn validation(v: &Value) -> Result<Validation, String> {
    let mut out = Validation::default();
    for (name, v) in members(v, "validation")? {
        match name {
            "minSize" => out.min_size = Some(integer(v, name)?),
            "maxSize" => out.max_size = Some(integer(v, name)?),
            "allowedTypes" => out.allowed_types = string_list(v, name)?,
            "allowedExtensions" => out.allowed_extensions = string_list(v, name)?,
            "maxFiles" => {
                out.max_files = Some(
                    u32::try_from(integer(v, name)?)
                        .map_err(|_| "`maxFiles` is too large".to_owned())?,
                );
            }
            other => return Err(unknown(other, "validation.", VALIDATION)),
        }
    }
    Ok(out)
}

/// `x` with at most three decimals, as JSON text (`null` when not finite), without
/// `core::fmt`'s float formatting.
fn decimal(x: f64) -> String {
    if !x.is_finite() {
        return "null".into();
    }
    // `as` saturates: no value can panic here.
    let m = (x.abs() * 1000.0 + 0.5) as u64;
    let mut s = String::new();
    if x < 0.0 && m > 0 {
        s.push('-');
    }
    json::write_u64(&mut s, m / 1000);
    let frac = m % 1000;
    if frac > 0 {
        let mut f = String::new();
        json::write_u64(&mut f, frac + 1000);
        s.push('.');
        s.push_str(f[1..].trim_end_matches('0'));
    }
    s
}

fn progress_json(p: &Progress) -> String {
    ObjectWriter::new()
        .num("sent", p.sent)
        .num("total", p.total)
        .raw("rate", &decimal(p.rate))
        .opt_num("etaMs", p.eta_ms)
        .finish()
}

fn status_name(s: FileStatus) -> &'static str {
    match s {
        FileStatus::Queued => "queued",
        FileStatus::Uploading => "uploading",
        FileStatus::Paused => "paused",
        FileStatus::Completed => "completed",
        FileStatus::Failed => "failed",
        FileStatus::Cancelled => "cancelled",
    }
}

/// An event as JSON in the form of its serde `Serialize` (`type` tag, camelCase variant
/// names), except the two [`Core::event`] writes itself.
fn event_json(event: &Event) -> String {
    let mut w = ObjectWriter::new();
    match event {
        Event::Submitted { file } => w.str("type", "submitted").num("file", file.0),
        Event::StatusChanged { file, status } => w
            .str("type", "statusChanged")
            .num("file", file.0)
            .str("status", status_name(*status)),
        Event::Progress {
            file,
            file_progress,
            total,
        } => w
            .str("type", "progress")
            .num("file", file.0)
            .raw("file_progress", &progress_json(file_progress))
            .raw("total", &progress_json(total)),
        Event::ResumeRecordChanged { file } => {
            w.str("type", "resumeRecordChanged").num("file", file.0)
        }
        Event::Completed { file, completed: c } => {
            w.str("type", "completed").num("file", file.0).raw(
                "completed",
                &ObjectWriter::new()
                    .str("bucket", &c.bucket)
                    .str("key", &c.key)
                    .str("location", &c.location)
                    .str("etag", &c.etag)
                    .opt_str("checksum", c.checksum.as_deref())
                    .finish(),
            )
        }
        Event::Failed { file, error } => w.str("type", "failed").num("file", file.0).raw(
            "error",
            &ObjectWriter::new()
                .str("name", &error.name)
                .str("bucket", &error.bucket)
                .str("key", &error.key)
                .str("error", &cat!("{}", error.error))
                .finish(),
        ),
        Event::CredentialsExpired => w.str("type", "credentialsExpired"),
        Event::AllComplete {
            completed,
            failed,
            cancelled,
        } => w
            .str("type", "allComplete")
            .num("completed", u64::from(*completed))
            .num("failed", u64::from(*failed))
            .num("cancelled", u64::from(*cancelled)),
    };
    w.finish()
}

/// One uploader's engine, its options and its user.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Core {
    engine: Engine,
    template: KeyTemplate,
    options: PutOptions,
    content_type: Option<String>,
    /// The signed-in user's subject, once credentials told it.
    sub: Option<String>,
    /// Resume storage key of each file, for the events that ask to store its record (a
    /// list: a map's code costs wasm size and a page holds few files).
    storage_keys: Vec<(FileId, String)>,
}

fn js_error(e: impl Piece) -> JsError {
    JsError::new(&cat!("{}", e))
}

fn engine_config(o: &mut Options) -> Result<EngineConfig, Error> {
    let region = o.region.clone().unwrap_or_else(|| "us-east-1".to_owned());
    let addressing = match o.path_style {
        Some(true) => Addressing::Path,
        Some(false) => Addressing::VirtualHosted,
        None => Addressing::Auto,
    };
    let endpoint = match &o.endpoint {
        Some(url) => Endpoint::custom(url, &region, addressing)?,
        None => Endpoint {
            addressing,
            ..Endpoint::aws(&region)
        },
    };
    let mut config = EngineConfig {
        bucket: o.bucket.clone(),
        endpoint,
        // Taken, not cloned (a clone of its lists is code of its own: wasm size).
        validation: std::mem::take(&mut o.validation),
        ..EngineConfig::default()
    };
    config.post_max_size = o.post_max_size.unwrap_or(POST_MAX_SIZE);
    if let Some(ms) = o.stall_timeout {
        config.stall_timeout_ms = ms;
    }
    if let Some(n) = o.concurrency {
        config.concurrency = n.max(1);
    }
    if let Some(p) = o.part_size {
        config.plan.part_size = p;
        config.plan.multipart_threshold = p;
    }
    config.checksum = match o.checksum.as_deref() {
        None => config.checksum,
        Some("CRC64NVME") => Some(ChecksumAlgorithm::Crc64Nvme),
        Some("CRC32C") => Some(ChecksumAlgorithm::Crc32c),
        Some("none") => None,
        Some(other) => {
            return Err(Error::InvalidSetting {
                what: "checksum",
                value: other.to_owned(),
                valid: "\"CRC64NVME\", \"CRC32C\" or \"none\"",
            });
        }
    };
    Ok(config)
}

fn put_options(o: &Options) -> Result<PutOptions, Error> {
    let mut metadata = Metadata::new();
    for (name, value) in &o.metadata {
        metadata.insert(name, value)?;
    }
    Ok(PutOptions {
        acl: match &o.acl {
            Some(a) => Some(a.parse::<CannedAcl>()?.as_str().to_owned()),
            None => None,
        },
        storage_class: match &o.storage_class {
            Some(s) => Some(s.parse::<StorageClass>()?.as_str().to_owned()),
            None => None,
        },
        metadata: metadata.into_entries(),
        ..PutOptions::default()
    })
}

/// Milliseconds from JS (a double) as the engine's `u64`; negative or NaN is 0.
fn ms(now: f64) -> u64 {
    if now.is_finite() && now > 0.0 {
        now as u64
    } else {
        0
    }
}

/// An answer read with `fetch` (STS, Cognito, the page's own calls): no header is needed.
fn answer(status: u16, body: &str) -> Response {
    Response {
        status,
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
    }
}

/// Reads `getAllResponseHeaders()` text: `name: value` lines, CRLF separated.
fn parse_headers(raw: &str) -> Vec<(String, String)> {
    // A loop, not adapters and `collect`, whose code is its own (wasm size).
    let mut out = Vec::new();
    for line in raw.lines() {
        if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    out
}

/// A request as the JS side sends it: method, URL, headers the browser lets a page set,
/// and the body (text the core built, or a byte range of the file).
fn request_json(
    request: &Request,
    id: Option<u64>,
    file: Option<u64>,
    range: Option<(u64, u64)>,
) -> String {
    // The browser sets `host` and `content-length` itself (to the same values the
    // signature covers) and refuses a page that tries.
    let headers = json::pairs(&request.headers, &["host", "content-length"]);
    let body = match &request.body {
        // The core writes its bodies (XML, JSON, forms) as UTF-8 text; `from_utf8` and
        // not `from_utf8_lossy`, whose chunking is 1.1 KB of wasm.
        Body::Bytes(b) => std::str::from_utf8(b).ok(),
        _ => None,
    };
    ObjectWriter::new()
        .str("type", "send")
        .opt_num("id", id)
        .opt_num("file", file)
        .str("method", request.method.as_str())
        .str("url", &request.url())
        .raw("headers", &headers)
        .opt_str("body", body)
        .raw(
            "range",
            &range.map_or("null".into(), |(s, e)| json::range(s, e)),
        )
        .finish()
}

/// The numbers of [`Core::tell`]'s `what` (`TELL` in updraft.js says the same).
struct Tell;

impl Tell {
    const PAUSE: u32 = 0;
    const RESUME: u32 = 1;
    const CANCEL: u32 = 2;
    const RETRY: u32 = 3;
    const REMOVE: u32 = 4;
    const PROGRESS: u32 = 5;
    const NETWORK_ERROR: u32 = 6;
    const READ_FAILED: u32 = 7;
    const CREDENTIALS_FAILED: u32 = 8;
}

impl Core {
    /// The credentials provider failed: for a moment (`sign_in` false) or until the user
    /// signs in again (`sign_in` true).
    fn credentials_failed(&mut self, sign_in: bool, now: u64) {
        let failure = if sign_in {
            RefreshFailure::SignInExpired
        } else {
            RefreshFailure::Transient
        };
        self.engine.handle_credentials_failure(failure, now);
    }
}

fn sign_in_needed(e: &Error) -> bool {
    match e {
        Error::Sts(s) => !s.kind.is_retryable(),
        Error::Cognito(c) => !c.kind.is_retryable(),
        _ => false,
    }
}

#[wasm_bindgen]
impl Core {
    /// An engine for the options (JSON of the `Uploader` options this half reads) and a
    /// random seed (the engine has no randomness of its own).
    ///
    /// # Errors
    /// A message naming the option that cannot be used.
    #[wasm_bindgen(constructor)]
    pub fn new(options: &str, seed: f64) -> Result<Core, JsError> {
        let mut o = Options::from_json(options)
            .map_err(|e| js_error(cat!("updraft: invalid options: {}", e)))?;
        if o.bucket.is_empty() {
            return Err(js_error("updraft: the `bucket` option is required"));
        }
        let mut config = engine_config(&mut o).map_err(js_error)?;
        let options = put_options(&o).map_err(js_error)?;
        let template = KeyTemplate::parse(o.key.as_deref().unwrap_or(KeyTemplate::DEFAULT))
            .map_err(js_error)?;
        config.form_urls = o.form_urls;
        Ok(Core {
            engine: Engine::new(config, ms(seed)),
            template,
            options,
            content_type: o.content_type,
            sub: None,
            storage_keys: Vec::new(),
        })
    }

    /// The signed-in user's subject, as the credentials gave it (`{sub}` in keys).
    #[wasm_bindgen(getter)]
    pub fn sub(&self) -> Option<String> {
        self.sub.clone()
    }

    /// Sets the subject when the credentials do not tell it (static keys).
    #[wasm_bindgen(setter)]
    pub fn set_sub(&mut self, sub: Option<String>) {
        self.sub = sub;
    }

    /// Where a file's resume record is stored: its fingerprint (name, size, last
    /// modified, endpoint, bucket, key template and user). No secret is in it. The name
    /// comes first with `%` and `|` percent-encoded, so `resumable()` reads it back whole
    /// (a name without them is written as it always was, and its records still match).
    #[wasm_bindgen(js_name = storageKey)]
    pub fn storage_key(&self, name: &str, size: f64, last_modified: f64) -> String {
        let c = self.engine.config();
        cat!(
            "updraft:{}|{}|{}|{}|{}|{}|{}",
            name.replace('%', "%25").replace('|', "%7C"),
            ms(size),
            ms(last_modified),
            c.endpoint.origin.host,
            c.bucket,
            self.template.as_str(),
            self.sub.as_deref().unwrap_or("")
        )
    }

    /// Adds a file: its name, size, last-modified time and type as the browser tells
    /// them, 16 random bytes for `{uuid}`, the time, and the record stored for it, if
    /// any. Returns the file's id.
    ///
    /// # Errors
    /// The file is refused (validation, a key the template cannot make).
    // Flat arguments: numbers and strings cross to JS with the least glue.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        name: &str,
        size: f64,
        last_modified: f64,
        file_type: &str,
        random: &[u8],
        now: f64,
        stored: Option<String>,
    ) -> Result<u32, JsError> {
        let storage_key = self.storage_key(name, size, last_modified);
        let resume = stored
            .as_deref()
            .and_then(|s| ResumeRecord::from_json(s).ok())
            .filter(|r| r.fingerprint == storage_key);
        let key = match &resume {
            Some(r) => r.key.clone(),
            None => {
                let mut bytes = [0u8; 16];
                for (b, r) in bytes.iter_mut().zip(random) {
                    *b = *r;
                }
                let uuid = uuid_v4(bytes);
                let ctx = KeyContext {
                    sub: self.sub.as_deref().unwrap_or(""),
                    uuid: &uuid,
                    file_name: name,
                    date: Timestamp::from_unix((ms(now) / 1000) as i64),
                };
                self.template.render(&ctx).map_err(js_error)?
            }
        };
        let mut options = self.options.clone();
        options.content_type = Some(match &self.content_type {
            Some(t) => t.clone(),
            None if !file_type.is_empty() => file_type.to_owned(),
            None => content_type_for(name).to_owned(),
        });
        let spec = FileSpec {
            name: name.to_owned(),
            key,
            size: ms(size),
            fingerprint: storage_key.clone(),
            options,
            resume,
        };
        let id = self.engine.add(spec).map_err(js_error)?;
        self.storage_keys.push((id, storage_key));
        Ok(id.0 as u32)
    }

    /// The next action as JSON (`send`, `checksum`, `cancel`, `refresh`), or nothing.
    pub fn poll(&mut self, now: f64) -> Option<String> {
        let action = self.engine.poll_action(ms(now))?;
        let mut w = ObjectWriter::new();
        match action {
            Action::Send {
                id,
                file,
                request,
                body,
            } => return Some(request_json(&request, Some(id.0), Some(file.0), body)),
            Action::Checksum {
                file,
                part,
                range,
                algorithm,
            } => w
                .str("type", "checksum")
                .num("file", file.0)
                .num("part", u64::from(part))
                .raw("range", &json::range(range.0, range.1))
                .str("algorithm", algorithm.as_str()),
            Action::Post {
                id,
                file,
                url,
                fields,
                body,
            } => w
                .str("type", "post")
                .num("id", id.0)
                .num("file", file.0)
                .str("url", &url)
                .raw("fields", &json::pairs(&fields, &[]))
                .raw("range", &json::range(body.0, body.1)),
            Action::Cancel { id } => w.str("type", "cancel").num("id", id.0),
            Action::RefreshCredentials => w.str("type", "refresh"),
        };
        Some(w.finish())
    }

    /// The next event as JSON, or nothing. A `resumeRecordChanged` event carries the
    /// record to store (`record`, JSON, or `null` to delete) under `storageKey`.
    pub fn event(&mut self) -> Option<String> {
        let event = self.engine.poll_event()?;
        Some(match &event {
            Event::ResumeRecordChanged { file } => ObjectWriter::new()
                .str("type", "resumeRecordChanged")
                .num("file", file.0)
                .opt_str(
                    "storageKey",
                    self.storage_keys
                        .iter()
                        .find(|(f, _)| f == file)
                        .map(|(_, k)| k.as_str()),
                )
                .opt_str(
                    "record",
                    self.engine
                        .resume_record(*file)
                        .map(|r| r.to_json())
                        .as_deref(),
                )
                .finish(),
            Event::Failed { file, error } => ObjectWriter::new()
                .str("type", "failed")
                .num("file", file.0)
                .str("key", &error.key)
                .str("message", &cat!("{}", error))
                .bool("signIn", sign_in_needed(&error.error))
                .finish(),
            other => event_json(other),
        })
    }

    /// The page's own S3 calls besides uploads (issue 13), signed with the uploads'
    /// credentials and clock, in one export to keep the glue small. `op` is:
    /// - `prefix`: the signed-in user's folder (the key template up to its first
    ///   per-file part, e.g. `alice/`);
    /// - `list`: a ListObjectsV2 request for the keys under `key` (a prefix), page
    ///   `token` (empty: the first);
    /// - `delete`: a DeleteObject request for `key`;
    /// - `link`: a presigned GET URL for `key`, valid `expires` seconds.
    ///
    /// With `status` 0 it returns what the op makes (the request as a `send` action's
    /// JSON, the URL or the prefix); for a request or URL, `""` when there are no usable
    /// credentials yet (refresh them and ask again). With S3's answer (`status`, `body`) to a `list` or
    /// `delete` it checks it and returns `""`; the page reads the listing itself.
    ///
    /// # Errors
    /// S3's refusal (naming the bucket and key), an expiry out of range, no user.
    #[allow(clippy::too_many_arguments)]
    pub fn own(
        &mut self,
        op: &str,
        key: &str,
        token: &str,
        expires: f64,
        status: u16,
        body: &str,
        now: f64,
    ) -> Result<String, JsError> {
        let c = self.engine.config();
        let bucket = c.bucket.clone();
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let list = ListObjectsV2 {
            bucket: bucket.clone(),
            prefix: some(key),
            continuation_token: some(token),
            ..ListObjectsV2::default()
        };
        let delete = DeleteObject {
            bucket: bucket.clone(),
            key: key.to_owned(),
        };
        if status > 0 {
            let response = answer(status, body);
            return match op {
                "list" => list.check(&response),
                _ => delete.parse(&response),
            }
            .map(|()| String::new())
            .map_err(js_error);
        }
        let (mut request, presign) = match op {
            "prefix" => {
                let Some(sub) = &self.sub else {
                    return Err(js_error("updraft: no user is signed in; sign in first"));
                };
                return self.template.user_prefix(sub).map_err(js_error);
            }
            "list" => (list.request(&c.endpoint), None),
            "delete" => (delete.request(&c.endpoint), None),
            _ => (
                c.endpoint.request(Method::Get, &bucket, Some(key)),
                Some(ms(expires).min(u64::from(u32::MAX)) as u32),
            ),
        };
        match self.engine.sign_own(&mut request, presign, ms(now)) {
            None => Ok(String::new()),
            Some(Err(e)) => Err(js_error(e)),
            Some(Ok(())) if presign.is_some() => Ok(request.url()),
            Some(Ok(())) => Ok(request_json(&request, None, None, None)),
        }
    }

    /// When to poll next for what waits (ms since the epoch), or -1 for never.
    #[wasm_bindgen(js_name = nextTimeout)]
    pub fn next_timeout(&self) -> f64 {
        self.engine.poll_timeout().map_or(-1.0, |t| t as f64)
    }

    /// An answer to request `id`: status, `getAllResponseHeaders()` and the body text.
    pub fn response(&mut self, id: f64, status: u16, headers: &str, body: &str, now: f64) {
        let response = Response {
            status,
            headers: parse_headers(headers),
            body: body.as_bytes().to_vec(),
        };
        self.engine
            .handle_response(RequestId(ms(id)), Ok(response), ms(now));
    }

    /// What the page tells the engine, in one export (each export costs a shim in the
    /// wasm and in the glue, issue 16): `what` is one of [`Tell`]'s numbers — a user's
    /// command for file `id` (pause, resume, cancel, retry, remove); `n` bytes of request
    /// `id`'s body sent (progress); request `id` got no answer, `detail` says why
    /// (network error, CORS refusal); file `id`'s bytes could not be read, `detail` says
    /// why (the file fails, its multipart upload stays for a retry or a resume); or the
    /// credentials provider failed, for a moment (`n` 0: asked again after a pause) or
    /// until the user signs in again (`n` 1: `credentialsExpired`).
    pub fn tell(&mut self, what: u32, id: f64, n: f64, detail: &str, now: f64) {
        let (file, now) = (FileId(ms(id)), ms(now));
        match what {
            Tell::PAUSE => self.engine.pause(file),
            Tell::RESUME => self.engine.resume(file),
            Tell::CANCEL => self.engine.cancel(file),
            Tell::RETRY => self.engine.retry(file),
            Tell::REMOVE => {
                self.engine.remove(file);
                self.storage_keys.retain(|(f, _)| *f != file);
            }
            Tell::PROGRESS => self.engine.handle_progress(RequestId(ms(id)), ms(n), now),
            Tell::NETWORK_ERROR => {
                let error = Error::Network {
                    detail: detail.to_owned(),
                };
                self.engine
                    .handle_response(RequestId(ms(id)), Err(error), now);
            }
            Tell::READ_FAILED => self.engine.handle_read_error(file, detail.to_owned()),
            Tell::CREDENTIALS_FAILED => self.credentials_failed(n > 0.0, now),
            _ => debug_assert!(false, "unknown tell {what}"),
        }
    }

    /// The checksum asked for by a `checksum` action.
    pub fn checksum(&mut self, file: u32, part: u32, crc: u64) {
        self.engine
            .handle_checksum(FileId(u64::from(file)), part, crc);
    }

    /// Keys given by the page (`staticCredentials`): expiration in seconds since the
    /// epoch, or a negative number when they do not expire.
    #[wasm_bindgen(js_name = setCredentials)]
    pub fn set_credentials(
        &mut self,
        access_key_id: &str,
        secret_access_key: &str,
        session_token: Option<String>,
        expiration: f64,
        now: f64,
    ) {
        let mut c = Credentials::new(access_key_id, secret_access_key);
        if let Some(t) = session_token.filter(|t| !t.is_empty()) {
            c = c.with_session_token(t);
        }
        if expiration.is_finite() && expiration >= 0.0 {
            c = c.with_expiration(Timestamp::from_unix(expiration as i64));
        }
        self.engine.set_credentials(c, ms(now));
    }

    /// STS `AssumeRoleWithWebIdentity`, in one export. With `status` 0: the request
    /// (JSON, as [`Core::poll`]'s `send`) for `token`; `provider_id` only for OAuth 2.0
    /// providers, `duration` 0 for STS's default. With STS's answer (`status`, `body`):
    /// on success the keys go straight to the engine (they never reach JS) and the
    /// result is empty; on failure the engine is told and the result is a message,
    /// prefixed `sign-in:` when only signing in again helps.
    ///
    /// # Errors
    /// The STS endpoint is not a URL.
    #[allow(clippy::too_many_arguments)]
    pub fn sts(
        &mut self,
        endpoint: &str,
        role_arn: &str,
        session_name: &str,
        token: &str,
        provider_id: Option<String>,
        duration: u32,
        status: u16,
        body: &str,
        now: f64,
    ) -> Result<String, JsError> {
        let op = web_identity(role_arn, session_name, token, provider_id, duration);
        if status == 0 {
            let origin = Origin::parse(endpoint).map_err(js_error)?;
            return Ok(request_json(&op.request(&origin), None, None, None));
        }
        Ok(match op.parse(&answer(status, body)) {
            Ok(out) => {
                if let Some(sub) = out.subject_from_web_identity_token {
                    self.sub = Some(sub);
                }
                self.engine.set_credentials(out.credentials, ms(now));
                String::new()
            }
            Err(e) => self.refused(&e, now),
        })
    }

    /// Cognito Identity, in one export: `GetId` for the pool `id` (`credentials`
    /// false), or `GetCredentialsForIdentity` for the identity `id`. `logins` is a JSON
    /// object of provider → token, `{}` for a guest. With `status` 0: the request (JSON,
    /// as [`Core::poll`]'s `send`). With Cognito's answer: `GetId`'s identity id; or, for
    /// the credentials, as [`Core::sts`] (the identity id becomes `{sub}`).
    ///
    /// # Errors
    /// The endpoint is not a URL or `logins` not an object of strings; Cognito refused
    /// `GetId`.
    #[allow(clippy::too_many_arguments)]
    pub fn cognito(
        &mut self,
        credentials: bool,
        endpoint: &str,
        id: &str,
        logins: &str,
        status: u16,
        body: &str,
        now: f64,
    ) -> Result<String, JsError> {
        if status == 0 {
            let origin = Origin::parse(endpoint).map_err(js_error)?;
            let logins = parse_logins(logins)?;
            let request = if credentials {
                GetCredentialsForIdentity {
                    identity_id: id.to_owned(),
                    logins,
                    custom_role_arn: None,
                }
                .request(&origin)
            } else {
                GetId {
                    identity_pool_id: id.to_owned(),
                    logins,
                    account_id: None,
                }
                .request(&origin)
            };
            return Ok(request_json(&request, None, None, None));
        }
        let response = answer(status, body);
        if !credentials {
            return GetId::default().parse(&response).map_err(js_error);
        }
        Ok(
            match GetCredentialsForIdentity::default().parse(&response) {
                Ok(keys) => {
                    self.sub = Some(id.to_owned());
                    self.engine.set_credentials(keys, ms(now));
                    String::new()
                }
                Err(e) => self.refused(&e, now),
            },
        )
    }

    fn refused(&mut self, e: &Error, now: f64) -> String {
        let sign_in = sign_in_needed(e);
        self.credentials_failed(sign_in, ms(now));
        if sign_in {
            cat!("sign-in:{}", e)
        } else {
            cat!("{}", e)
        }
    }
}

fn web_identity(
    role_arn: &str,
    session_name: &str,
    token: &str,
    provider_id: Option<String>,
    duration: u32,
) -> AssumeRoleWithWebIdentity {
    AssumeRoleWithWebIdentity {
        role_arn: role_arn.to_owned(),
        role_session_name: session_name.to_owned(),
        web_identity_token: Secret::new(token),
        provider_id: provider_id.filter(|p| !p.is_empty()),
        duration_seconds: (duration > 0).then_some(duration),
        policy: None,
    }
}

fn parse_logins(logins: &str) -> Result<Logins, JsError> {
    let map = json::parse(logins)
        .and_then(|v| strings(&v, "logins"))
        .map_err(|e| {
            js_error(cat!(
                "updraft: `logins` must map provider names to tokens: {}",
                e
            ))
        })?;
    let mut out = Vec::new();
    for (p, t) in map {
        out.push((p, Secret::new(t)));
    }
    Ok(out)
}

/// The file name a storage key ([`Core::storage_key`]) begins with, its `%25` and `%7C`
/// decoded.
fn stored_name(storage_key: &str) -> Option<String> {
    let encoded = storage_key.strip_prefix("updraft:")?.split('|').next()?;
    let mut name = String::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some(i) = rest.find('%') {
        name.push_str(&rest[..i]);
        let (c, skip) = match rest.get(i..i + 3) {
            Some("%25") => ('%', 3),
            Some("%7C") => ('|', 3),
            _ => ('%', 1),
        };
        name.push(c);
        rest = &rest[i + skip..];
    }
    name.push_str(rest);
    Some(name)
}

/// The uploads earlier pages stored that can continue when their file is added again:
/// `entries` is a JSON array of `[storageKey, record]` pairs from `localStorage`; the
/// answer a JSON array of `{name, key, bucket, size, partsDone, partSize}`. The one
/// reader of stored records ([`ResumeRecord::from_json`]), as [`Core::add`] uses it; an
/// entry that is not a record is left out.
#[wasm_bindgen]
pub fn resumable(entries: &str) -> String {
    let list = match json::parse(entries) {
        Ok(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    // Written as text straight away, not as a tree of values (wasm size).
    let mut out = String::from("[");
    for entry in &list {
        let Value::Array(pair) = entry else { continue };
        let Some(name) = pair.first().and_then(Value::as_str).and_then(stored_name) else {
            continue;
        };
        let Some(r) = pair
            .get(1)
            .and_then(Value::as_str)
            .and_then(|t| ResumeRecord::from_json(t).ok())
        else {
            continue;
        };
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(
            &ObjectWriter::new()
                .str("name", &name)
                .str("key", &r.key)
                .str("bucket", &r.bucket)
                .num("size", r.size)
                .num("partsDone", r.parts.len() as u64)
                .num("partSize", r.part_size)
                .finish(),
        );
    }
    out.push(']');
    out
}

/// Folds `bytes` into a running checksum `state` (0 to start) of `algorithm`
/// (`CRC64NVME` or `CRC32C`): what the Web Worker computes for a part, chunk by chunk.
#[wasm_bindgen(js_name = crcUpdate)]
pub fn crc_update(algorithm: &str, state: u64, bytes: &[u8]) -> u64 {
    let len = bytes.len() as u64;
    if algorithm == "CRC32C" {
        u64::from(crc32c_combine(state as u32, Crc32c::checksum(bytes), len))
    } else {
        crc64nvme_combine(state, Crc64Nvme::checksum(bytes), len)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use updraft_core::engine::{Completed, UploadError};

    use super::*;

    fn same(ours: &str, theirs: serde_json::Value) {
        let ours: serde_json::Value = serde_json::from_str(ours).unwrap();
        assert_eq!(ours, theirs);
    }

    /// The events the JS side reads have the shape of their serde form.
    #[test]
    fn events_have_their_serde_shape() {
        let file = FileId(7);
        let p = Progress {
            sent: 3 << 20,
            total: 10 << 20,
            rate: 1_048_576.5,
            eta_ms: Some(7_000),
        };
        let completed = Completed {
            bucket: "b".into(),
            key: "k/\"x\"".into(),
            location: "https://b.s3.amazonaws.com/k".into(),
            etag: "\"e\"".into(),
            checksum: None,
        };
        let error = UploadError {
            name: "x".into(),
            bucket: "b".into(),
            key: "k".into(),
            error: Error::Network {
                detail: "gone".into(),
            },
        };
        let mut events = vec![
            Event::Submitted { file },
            Event::ResumeRecordChanged { file },
            Event::Progress {
                file,
                file_progress: p,
                total: Progress { eta_ms: None, ..p },
            },
            Event::Completed {
                file,
                completed: completed.clone(),
            },
            Event::Completed {
                file,
                completed: Completed {
                    checksum: Some("AAAAAAAAAAA=".into()),
                    ..completed
                },
            },
            Event::Failed { file, error },
            Event::CredentialsExpired,
            Event::AllComplete {
                completed: 1,
                failed: 2,
                cancelled: 3,
            },
        ];
        for status in [
            FileStatus::Queued,
            FileStatus::Uploading,
            FileStatus::Paused,
            FileStatus::Completed,
            FileStatus::Failed,
            FileStatus::Cancelled,
        ] {
            events.push(Event::StatusChanged { file, status });
        }
        for e in &events {
            same(&event_json(e), serde_json::to_value(e).unwrap());
        }
    }

    #[test]
    fn decimals() {
        let d = decimal;
        assert_eq!(d(0.0), "0");
        assert_eq!(d(1_048_576.0), "1048576");
        assert_eq!(d(2.5), "2.5");
        assert_eq!(d(0.1234), "0.123");
        assert_eq!(d(-3.05), "-3.05");
        assert_eq!(d(f64::NAN), "null");
        assert_eq!(d(f64::INFINITY), "null");
    }

    #[test]
    fn options() {
        let o = Options::from_json(
            r#"{"bucket":"b","region":"eu-west-1","endpoint":null,"pathStyle":true,
                "metadata":{"Owner":"me"},"partSize":8388608,"concurrency":4,"checksum":"CRC32C",
                "validation":{"maxSize":100,"allowedTypes":["image/*"],"maxFiles":3}}"#,
        )
        .unwrap();
        assert_eq!(o.bucket, "b");
        assert_eq!(o.region.as_deref(), Some("eu-west-1"));
        assert_eq!(o.endpoint, None);
        assert_eq!(o.path_style, Some(true));
        assert_eq!(o.metadata, vec![("Owner".to_owned(), "me".to_owned())]);
        assert_eq!(o.part_size, Some(8 << 20));
        assert_eq!(o.concurrency, Some(4));
        assert_eq!(
            o.validation,
            Validation {
                max_size: Some(100),
                allowed_types: vec!["image/*".into()],
                max_files: Some(3),
                ..Validation::default()
            }
        );
        for bad in [
            r#"{"bucket":"b","bucktet":"c"}"#,
            r#"{"bucket":1}"#,
            r#"{"partSize":-1}"#,
            r#"{"partSize":1024}"#,
            r#"{"concurrency":0}"#,
            r#"{"pathStyle":"yes"}"#,
            r#"{"metadata":{"a":1}}"#,
            r#"{"validation":{"allowedTypes":"image/*"}}"#,
            "[]",
            "{",
        ] {
            assert!(Options::from_json(bad).is_err(), "{bad}");
        }
    }

    /// `formUrls`: URLs of the bucket on other host names, each named when refused.
    #[test]
    fn r17_form_urls() {
        let o = Options::from_json(
            r#"{"formUrls":["https://b.s3.dualstack.eu-west-1.amazonaws.com","http://localhost:9000/b"]}"#,
        )
        .unwrap();
        assert_eq!(
            o.form_urls,
            [
                "https://b.s3.dualstack.eu-west-1.amazonaws.com",
                "http://localhost:9000/b"
            ]
        );
        for (bad, named) in [
            (
                r#"{"formUrls":"https://b.example"}"#,
                "must be an array of strings",
            ),
            (r#"{"formUrls":[1]}"#, "must be a string"),
            (
                r#"{"formUrls":["b.s3.amazonaws.com"]}"#,
                "b.s3.amazonaws.com is not",
            ),
            (
                r#"{"formUrls":["https://a.example","ftp://b"]}"#,
                "ftp://b is not",
            ),
            (r#"{"formUrls":["https:///b"]}"#, "https:///b is not"),
            (r#"{"formUrls":["http://"]}"#, "http:// is not"),
        ] {
            let e = Options::from_json(bad).unwrap_err();
            assert!(e.contains("formUrls") && e.contains(named), "{bad}: {e}");
        }
    }

    /// `resumable` reads the names `storageKey` wrote, whatever `|` and `%` they hold
    /// (the JS reader cut `a|b.txt` at its `|`), through the one record reader; what is
    /// not a record is left out.
    #[test]
    fn r15_resumable_reads_back_every_name_through_the_one_reader() {
        let core = Core::new(r#"{"bucket":"b"}"#, 1.0).unwrap();
        let record = |key: &str| {
            ResumeRecord {
                bucket: "b".into(),
                key: key.into(),
                upload_id: "u1".into(),
                size: 20 << 20,
                part_size: 8 << 20,
                fingerprint: String::new(),
                checksum_algorithm: None,
                parts: vec![updraft_core::engine::RecordedPart {
                    number: 1,
                    etag: "\"e\"".into(),
                    crc: None,
                }],
            }
            .to_json()
        };
        let names = ["a|b.txt", "x%7Cy.bin", "100%.bin", "%25|%", "plain.mov"];
        let mut entries: Vec<Value> = names
            .iter()
            .map(|n| {
                Value::Array(vec![
                    core.storage_key(n, 1.0, 2.0).into(),
                    record(&format!("k/{n}")).into(),
                ])
            })
            .collect();
        entries.push(Value::Array(vec!["updraft:broken|1|2".into(), "{".into()]));
        entries.push(Value::Array(vec![
            "updraft:half".into(),
            r#"{"bucket":"b"}"#.into(),
        ]));
        let out = json::parse(&resumable(&Value::Array(entries).to_json())).unwrap();
        let Value::Array(found) = out else {
            panic!("an array")
        };
        let got: Vec<(&str, &str)> = found
            .iter()
            .map(|r| {
                (
                    r.get("name").unwrap().as_str().unwrap(),
                    r.get("key").unwrap().as_str().unwrap(),
                )
            })
            .collect();
        let want: Vec<(&str, String)> = names.iter().map(|n| (*n, format!("k/{n}"))).collect();
        assert_eq!(
            got,
            want.iter()
                .map(|(n, k)| (*n, k.as_str()))
                .collect::<Vec<_>>()
        );
        assert_eq!(found[0].get("partsDone").unwrap().as_u64(), Some(1));
        assert_eq!(found[0].get("partSize").unwrap().as_u64(), Some(8 << 20));
        assert_eq!(resumable("not json"), "[]");
    }

    #[test]
    fn r15_a_misspelt_option_is_refused_naming_the_nearest() {
        let err = |json: &str| Options::from_json(json).err().unwrap_or_default();
        assert_eq!(
            err(r#"{"bucket":"b","partsize":5}"#),
            "unknown option `partsize`; did you mean `partSize`?"
        );
        assert_eq!(
            err(r#"{"bucket":"b","stall_timeout":5}"#),
            "unknown option `stall_timeout`; did you mean `stallTimeout`?"
        );
        assert_eq!(
            err(r#"{"bucket":"b","validation":{"maxsize":5}}"#),
            "unknown option `validation.maxsize`; did you mean `validation.maxSize`?"
        );
        let listed = err(r#"{"bucket":"b","validation":{"types":["image/*"]}}"#);
        assert!(
            listed.starts_with("unknown option `validation.types`; the options of `validation` are minSize, maxSize"),
            "{listed}"
        );
        let listed = err(r#"{"bucket":"b","speed":5}"#);
        assert!(
            listed.contains("`speed`") && listed.contains("partSize, concurrency"),
            "{listed}"
        );
    }

    #[test]
    fn small_files_are_post_forms_by_default() {
        let mut core = Core::new(r#"{"bucket":"b","checksum":"none"}"#, 1.0).unwrap();
        core.set_credentials("AKID", "secret", None, -1.0, 1.7e12);
        core.set_sub(Some("alice".into()));
        let id = core
            .add("a.txt", 5.0, 0.0, "text/plain", &[0; 16], 1.7e12, None)
            .unwrap();
        let a: serde_json::Value = serde_json::from_str(&core.poll(1.7e12).unwrap()).unwrap();
        assert_eq!(a["type"], "post");
        assert_eq!(a["file"], u64::from(id));
        assert_eq!(a["url"], "https://s3.us-east-1.amazonaws.com/b");
        assert_eq!(a["range"], serde_json::json!([0, 5]));
        let fields = a["fields"].as_array().unwrap();
        assert_eq!(fields[0][0], "key");
        assert!(
            fields
                .iter()
                .any(|f| f[0] == "Content-Type" && f[1] == "text/plain")
        );
        assert_eq!(fields.last().unwrap()[0], "X-Amz-Signature");
        assert!(core.poll(1.7e12).is_none());
    }

    #[test]
    fn actions() {
        let mut core = Core::new(r#"{"bucket":"b","concurrency":1,"postMaxSize":0}"#, 1.0).unwrap();
        core.set_credentials("AKID", "secret", None, -1.0, 1.7e12);
        core.set_sub(Some("alice".into()));
        let id = core
            .add("a.txt", 5.0, 0.0, "", &[0; 16], 1.7e12, None)
            .unwrap();
        let mut sends = 0;
        while let Some(a) = core.poll(1.7e12) {
            let a: serde_json::Value = serde_json::from_str(&a).unwrap();
            match a["type"].as_str().unwrap() {
                "send" => {
                    sends += 1;
                    assert_eq!(a["file"], u64::from(id));
                    assert_eq!(a["method"], "PUT");
                    assert!(a["url"].as_str().unwrap().starts_with("https://"), "{a}");
                    assert!(
                        a["headers"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|h| h[0] == "authorization")
                    );
                    assert_eq!(a["range"], serde_json::json!([0, 5]));
                    assert!(a["body"].is_null());
                }
                "checksum" => {
                    assert_eq!(a["range"], serde_json::json!([0, 5]));
                    assert_eq!(a["algorithm"], "CRC64NVME");
                    core.checksum(id, a["part"].as_u64().unwrap() as u32, 0);
                }
                other => panic!("{other}"),
            }
        }
        assert_eq!(sends, 1);
        let mut types = Vec::new();
        while let Some(e) = core.event() {
            let e: serde_json::Value = serde_json::from_str(&e).unwrap();
            types.push(e["type"].as_str().unwrap().to_owned());
        }
        assert!(types.contains(&"submitted".to_owned()), "{types:?}");
        let logins = parse_logins(r#"{"accounts.google.com":"t"}"#).unwrap();
        assert_eq!(logins.len(), 1);
        // (The error path makes a `JsError`, which only works in wasm.)
        assert!(strings(&json::parse("[]").unwrap(), "logins").is_err());
        let sts: serde_json::Value = serde_json::from_str(
            &core
                .sts(
                    "https://sts.amazonaws.com",
                    "arn:r",
                    "s",
                    "tok",
                    None,
                    0,
                    0,
                    "",
                    0.0,
                )
                .unwrap(),
        )
        .unwrap();
        assert_eq!(sts["method"], "POST");
        assert!(
            sts["body"]
                .as_str()
                .unwrap()
                .contains("AssumeRoleWithWebIdentity")
        );
        assert!(sts["range"].is_null() && sts["id"].is_null());
    }
}
