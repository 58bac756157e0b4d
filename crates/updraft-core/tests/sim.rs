//! The deterministic simulator (issue 3): the engine against a simulated S3 and STS with
//! virtual time and seeded faults — connection resets, every retryable status, SlowDown
//! bursts, clock skew, credentials that expire or are revoked mid-upload, a sign-in that
//! expires and comes back, answers lost after the server applied the request,
//! `200 OK` with an `<Error>` body, pause / resume / cancel at random moments, and a crash
//! followed by a resume from the stored records.
//!
//! Every scenario asserts that each completed object equals its source byte for byte,
//! that no multipart upload is left open, that no part confirmed in a resume record is
//! sent again after the crash, that progress stays within bounds and ends at 100 %, and
//! that files fail only where the retry table says they must.
//!
//! `UPDRAFT_SIM_SCENARIOS=N` runs N scenarios (default 1,000); `UPDRAFT_SIM_SEED=S` runs
//! seed S alone. The simulated S3 keeps no bytes: parts are byte ranges of the sources,
//! so equality of the stored object is equality of ranges, and checksums are computed
//! over the real bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::sync::OnceLock;

use updraft_core::checksum::{
    ChecksumAlgorithm, Crc32c, Crc64Nvme, crc32c_base64, crc32c_composite, crc64nvme_base64,
    crc64nvme_combine,
};
use updraft_core::engine::{
    Action, Engine, EngineConfig, Event, FileId, FileSpec, FileStatus, RefreshFailure, RequestId,
    ResumeRecord,
};
use updraft_core::http::{Method, Request, Response};
use updraft_core::plan::PlanConfig;
use updraft_core::retry::RetryConfig;
use updraft_core::s3::{Addressing, Endpoint, PutOptions};
use updraft_core::{Credentials, Error, Timestamp};

const MIB: u64 = 1024 * 1024;
const START_MS: u64 = 1_700_000_000_000;
const BUCKET: &str = "uploads";

/// Random bytes shared by every scenario; a file is a window of it.
fn pool() -> &'static [u8] {
    static POOL: OnceLock<Vec<u8>> = OnceLock::new();
    POOL.get_or_init(|| {
        let mut rng = fastrand::Rng::with_seed(0x5eed);
        let mut v = vec![0u8; 24 * MIB as usize];
        rng.fill(&mut v);
        v
    })
}

#[derive(Clone, Debug)]
struct Source {
    offset: usize,
    size: u64,
}

impl Source {
    fn bytes(&self, a: u64, b: u64) -> &'static [u8] {
        &pool()[self.offset + a as usize..self.offset + b as usize]
    }
}

/// A stored range: file index, byte range within it.
type Piece = (usize, u64, u64);

#[derive(Clone, Debug)]
struct SimPart {
    piece: Piece,
    etag: String,
    crc64: u64,
    crc32c: u32,
}

#[derive(Debug)]
struct SimUpload {
    key: String,
    parts: BTreeMap<u32, SimPart>,
}

#[derive(Debug)]
struct SimObject {
    pieces: Vec<Piece>,
    etag: String,
}

enum Outcome {
    Answer(Response),
    /// No answer: the connection reset before (or after) the server applied it.
    Reset,
    /// No answer, and no error either: the connection stalled before (or after) the
    /// server applied it. Only the engine's stall timeout ends the request.
    Hang,
}

#[derive(Default)]
struct Faults {
    reset: f64,
    status: f64,
    lost: f64,
    hang: f64,
    revoke: f64,
    slowdown_until: u64,
}

/// How often each fault was injected, so the test can assert that each still fires.
#[derive(Clone, Copy, Debug, Default)]
struct Injected {
    resets: u32,
    hangs: u32,
    slowdowns: u32,
    statuses: u32,
    revoked: u32,
    lost_answers: u32,
    skewed: u32,
}

struct Sim {
    rng: fastrand::Rng,
    faults: Faults,
    injected: Injected,
    sources: Vec<Source>,
    /// Key → source index, so the server knows what a body is.
    objects: BTreeMap<String, SimObject>,
    uploads: BTreeMap<String, SimUpload>,
    tokens: BTreeMap<String, u64>,
    deny: BTreeSet<String>,
    next: u64,
    /// (server time, upload id, part number) of every UploadPart applied.
    part_log: Vec<(u64, String, u32)>,
}

fn xml_error(status: u16, code: &str, message: &str, extra: &str) -> Response {
    Response {
        status,
        headers: vec![],
        body: format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
             <Message>{message}</Message>{extra}<RequestId>SIM</RequestId></Error>"
        )
        .into_bytes(),
    }
}

fn iso(ms: u64) -> String {
    let t = Timestamp::from_unix((ms / 1000) as i64).iso8601_millis();
    t.replace(".000Z", "Z")
}

fn amz_to_unix(s: &str) -> Option<i64> {
    if s.len() != 16 {
        return None;
    }
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[9..11],
        &s[11..13],
        &s[13..15]
    );
    Timestamp::parse_rfc3339(&iso, "x-amz-date")
        .ok()
        .map(Timestamp::unix)
}

impl Sim {
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    fn issue_credentials(&mut self, now: u64, ttl_ms: u64) -> Credentials {
        let token = self.id("token-");
        let expiry = now + ttl_ms;
        self.tokens.insert(token.clone(), expiry);
        Credentials::new(self.id("ASIA"), "sim-secret")
            .with_session_token(token)
            .with_expiration(Timestamp::from_unix((expiry / 1000) as i64))
    }

    /// Serves `req` at server time `now`; `body` is the piece the request carries.
    fn serve(&mut self, req: &Request, body: Option<Piece>, now: u64) -> Outcome {
        let r = self.rng.f64();
        if r < self.faults.reset {
            self.injected.resets += 1;
            return Outcome::Reset;
        }
        if self.rng.f64() < self.faults.hang / 2.0 {
            self.injected.hangs += 1;
            return Outcome::Hang;
        }
        if now < self.faults.slowdown_until {
            self.injected.slowdowns += 1;
            return Outcome::Answer(xml_error(
                503,
                "SlowDown",
                "Please reduce your request rate.",
                "",
            ));
        }
        if r < self.faults.reset + self.faults.status {
            let (status, code) = [
                (500, "InternalError"),
                (502, "BadGateway"),
                (503, "SlowDown"),
                (504, "GatewayTimeout"),
                (429, "TooManyRequests"),
                (400, "RequestTimeout"),
            ][self.rng.usize(0..6)];
            self.injected.statuses += 1;
            return Outcome::Answer(xml_error(status, code, "simulated fault", ""));
        }
        // Authentication, as S3 checks it.
        let date = req.header("x-amz-date").and_then(amz_to_unix).unwrap_or(0);
        if (date - (now / 1000) as i64).abs() > 15 * 60 {
            self.injected.skewed += 1;
            let extra = format!(
                "<RequestTime>{}</RequestTime><ServerTime>{}</ServerTime>\
                 <MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>",
                iso((date.max(0) as u64) * 1000),
                iso(now)
            );
            return Outcome::Answer(xml_error(
                403,
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
                &extra,
            ));
        }
        let token = req.header("x-amz-security-token").unwrap_or("");
        match self.tokens.get(token) {
            None => {
                return Outcome::Answer(xml_error(
                    403,
                    "InvalidToken",
                    "The provided token is malformed or otherwise invalid.",
                    "",
                ));
            }
            Some(&exp) if exp <= now => {
                return Outcome::Answer(xml_error(
                    400,
                    "ExpiredToken",
                    "The provided token has expired.",
                    "",
                ));
            }
            _ => {}
        }
        if self.rng.f64() < self.faults.revoke {
            // Revoked early: S3 says the token expired although its expiry is ahead.
            self.injected.revoked += 1;
            self.tokens.insert(token.to_owned(), now);
            return Outcome::Answer(xml_error(
                400,
                "ExpiredToken",
                "The provided token has expired.",
                "",
            ));
        }
        let answer = self.apply(req, body, now);
        let applied = (200..300).contains(&answer.status) && !answer.body.starts_with(b"<Error");
        if applied && self.rng.f64() < self.faults.lost {
            self.injected.lost_answers += 1;
            return Outcome::Reset; // applied, but the answer never arrives
        }
        if applied && self.rng.f64() < self.faults.hang / 2.0 {
            self.injected.lost_answers += 1;
            return Outcome::Hang; // applied, but the connection stalls before the answer
        }
        Outcome::Answer(answer)
    }

    fn apply(&mut self, req: &Request, body: Option<Piece>, now: u64) -> Response {
        let path = percent_encoding::percent_decode_str(&req.path)
            .decode_utf8()
            .unwrap()
            .into_owned();
        let key = path
            .strip_prefix(&format!("/{BUCKET}"))
            .unwrap_or_else(|| panic!("path-style request expected, got {path}"))
            .trim_start_matches('/')
            .to_owned();
        let q = |name: &str| {
            req.query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let ok = |headers: Vec<(String, String)>, body: String| Response {
            status: 200,
            headers,
            body: body.into_bytes(),
        };
        let no_such_upload = || {
            xml_error(
                404,
                "NoSuchUpload",
                "The specified upload does not exist.",
                "",
            )
        };
        match (req.method, q("uploadId"), q("partNumber")) {
            (Method::Put, None, None) => {
                if self.deny.contains(&key) {
                    return xml_error(403, "AccessDenied", "Access Denied", "");
                }
                let piece = body.expect("a PutObject body");
                if let Some(bad) = self.check_checksums(req, piece) {
                    return bad;
                }
                let etag = format!("\"{}\"", self.id("etag"));
                self.objects.insert(
                    key,
                    SimObject {
                        pieces: vec![piece],
                        etag: etag.clone(),
                    },
                );
                ok(vec![("etag".into(), etag)], String::new())
            }
            (Method::Get, None, None) if q("uploads").is_some() => {
                // ListMultipartUploads, one upload a page so that paging is exercised.
                let prefix = q("prefix").unwrap_or_default();
                let after = (
                    q("key-marker").unwrap_or_default(),
                    q("upload-id-marker").unwrap_or_default(),
                );
                let mut all: Vec<(String, String)> = self
                    .uploads
                    .iter()
                    .filter(|(_, u)| u.key.starts_with(&prefix))
                    .map(|(id, u)| (u.key.clone(), id.clone()))
                    .collect();
                all.sort();
                let rest: Vec<&(String, String)> = all
                    .iter()
                    .filter(|(k, id)| after.0.is_empty() || (k.clone(), id.clone()) > after)
                    .collect();
                let mut xml = format!(
                    "<ListMultipartUploadsResult><Bucket>{BUCKET}</Bucket><IsTruncated>{}</IsTruncated>",
                    rest.len() > 1
                );
                if let Some((k, id)) = rest.first() {
                    xml.push_str(&format!(
                        "<NextKeyMarker>{}</NextKeyMarker><NextUploadIdMarker>{id}</NextUploadIdMarker>\
                         <Upload><Key>{}</Key><UploadId>{id}</UploadId></Upload>",
                        k.replace('&', "&amp;"),
                        k.replace('&', "&amp;")
                    ));
                }
                xml.push_str("</ListMultipartUploadsResult>");
                ok(vec![], xml)
            }
            (Method::Post, None, None) if q("uploads").is_some() => {
                let id = self.id("upload-");
                self.uploads.insert(
                    id.clone(),
                    SimUpload {
                        key: key.clone(),
                        parts: BTreeMap::new(),
                    },
                );
                ok(
                    vec![],
                    format!(
                        "<InitiateMultipartUploadResult><Bucket>{BUCKET}</Bucket><Key>{key}</Key>\
                         <UploadId>{id}</UploadId></InitiateMultipartUploadResult>"
                    ),
                )
            }
            (Method::Put, Some(id), Some(n)) => {
                if self.deny.contains(&key) {
                    return xml_error(403, "AccessDenied", "Access Denied", "");
                }
                let n: u32 = n.parse().unwrap();
                if !self.uploads.contains_key(&id) {
                    return no_such_upload();
                }
                let piece = body.expect("an UploadPart body");
                if let Some(bad) = self.check_checksums(req, piece) {
                    return bad;
                }
                let etag = format!("\"{}\"", self.id("part"));
                let bytes = self.sources[piece.0].bytes(piece.1, piece.2);
                let part = SimPart {
                    piece,
                    etag: etag.clone(),
                    crc64: Crc64Nvme::checksum(bytes),
                    crc32c: Crc32c::checksum(bytes),
                };
                self.uploads.get_mut(&id).unwrap().parts.insert(n, part);
                self.part_log.push((now, id, n));
                ok(vec![("etag".into(), etag)], String::new())
            }
            (Method::Get, Some(id), None) => {
                let Some(up) = self.uploads.get(&id) else {
                    return no_such_upload();
                };
                // Two parts a page, so that paging is exercised.
                let marker: u32 = q("part-number-marker").map_or(0, |m| m.parse().unwrap());
                let page: Vec<(&u32, &SimPart)> = up.parts.range(marker + 1..).take(2).collect();
                let truncated = up.parts.range(marker + 1..).count() > page.len();
                let mut xml = format!(
                    "<ListPartsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                     <Bucket>{BUCKET}</Bucket><Key>{}</Key><UploadId>{id}</UploadId>\
                     <IsTruncated>{truncated}</IsTruncated>",
                    up.key
                );
                if let Some((last, _)) = page.last() {
                    xml.push_str(&format!(
                        "<NextPartNumberMarker>{last}</NextPartNumberMarker>"
                    ));
                }
                for (n, p) in &page {
                    xml.push_str(&format!(
                        "<Part><PartNumber>{n}</PartNumber><ETag>{}</ETag><Size>{}</Size></Part>",
                        p.etag.replace('"', "&quot;"),
                        p.piece.2 - p.piece.1
                    ));
                }
                xml.push_str("</ListPartsResult>");
                ok(vec![], xml)
            }
            (Method::Post, Some(id), None) => self.complete(req, &key, &id, now),
            (Method::Delete, Some(id), None) => {
                if self.uploads.remove(&id).is_none() {
                    return no_such_upload();
                }
                Response {
                    status: 204,
                    ..Response::default()
                }
            }
            (Method::Head, None, None) => match self.objects.get(&key) {
                Some(o) => {
                    let len: u64 = o.pieces.iter().map(|p| p.2 - p.1).sum();
                    ok(
                        vec![
                            ("content-length".into(), len.to_string()),
                            ("etag".into(), o.etag.clone()),
                        ],
                        String::new(),
                    )
                }
                None => Response {
                    status: 404,
                    ..Response::default()
                },
            },
            other => panic!("unexpected request {other:?} {}", req.url()),
        }
    }

    fn complete(&mut self, req: &Request, key: &str, id: &str, _now: u64) -> Response {
        if self.rng.f64() < self.faults.status {
            // S3 may fail a Complete after answering 200: the body is an <Error>.
            return Response {
                status: 200,
                headers: vec![],
                body: b"<Error><Code>InternalError</Code><Message>We encountered an internal \
                        error. Please try again.</Message></Error>"
                    .to_vec(),
            };
        }
        let Some(up) = self.uploads.get(id) else {
            return xml_error(
                404,
                "NoSuchUpload",
                "The specified upload does not exist.",
                "",
            );
        };
        let body = match &req.body {
            updraft_core::http::Body::Bytes(b) => String::from_utf8(b.clone()).unwrap(),
            other => panic!("Complete body {other:?}"),
        };
        let mut listed = Vec::new();
        for chunk in body.split("<Part>").skip(1) {
            let field = |name: &str| {
                let open = format!("<{name}>");
                let close = format!("</{name}>");
                let a = chunk.find(&open).unwrap() + open.len();
                let b = chunk.find(&close).unwrap();
                chunk[a..b].replace("&quot;", "\"")
            };
            listed.push((field("PartNumber").parse::<u32>().unwrap(), field("ETag")));
        }
        let mut pieces = Vec::new();
        let mut crc64 = 0u64;
        let mut crc32s = Vec::new();
        for (i, (n, etag)) in listed.iter().enumerate() {
            match up.parts.get(n) {
                Some(p) if p.etag == *etag && (i == 0 || listed[i - 1].0 < *n) => {
                    let len = p.piece.2 - p.piece.1;
                    crc64 = if i == 0 {
                        p.crc64
                    } else {
                        crc64nvme_combine(crc64, p.crc64, len)
                    };
                    crc32s.push(p.crc32c);
                    pieces.push(p.piece);
                }
                _ => {
                    return xml_error(
                        400,
                        "InvalidPart",
                        "One or more of the specified parts could not be found.",
                        "",
                    );
                }
            }
        }
        if let Some(want) = req.header("x-amz-checksum-crc64nvme")
            && want != crc64nvme_base64(crc64)
        {
            return xml_error(
                400,
                "BadDigest",
                "The CRC64NVME you specified did not match the calculated checksum.",
                "",
            );
        }
        let count = pieces.len();
        let etag = format!("\"{}-{count}\"", self.id("mp"));
        let checksum = if req.header("x-amz-checksum-crc64nvme").is_some() {
            format!(
                "<ChecksumCRC64NVME>{}</ChecksumCRC64NVME>",
                crc64nvme_base64(crc64)
            )
        } else if listed.is_empty() {
            String::new()
        } else {
            format!(
                "<ChecksumCRC32C>{}</ChecksumCRC32C>",
                crc32c_composite(&crc32s)
            )
        };
        self.uploads.remove(id);
        self.objects.insert(
            key.to_owned(),
            SimObject {
                pieces,
                etag: etag.clone(),
            },
        );
        Response {
            status: 200,
            headers: vec![],
            body: format!(
                "<CompleteMultipartUploadResult><Location>http://sim/{BUCKET}/{key}</Location>\
                 <Bucket>{BUCKET}</Bucket><Key>{key}</Key><ETag>{}</ETag>{checksum}\
                 </CompleteMultipartUploadResult>",
                etag.replace('"', "&quot;")
            )
            .into_bytes(),
        }
    }

    fn check_checksums(&self, req: &Request, piece: Piece) -> Option<Response> {
        let bytes = self.sources[piece.0].bytes(piece.1, piece.2);
        if let Some(v) = req.header("x-amz-checksum-crc64nvme")
            && v != crc64nvme_base64(Crc64Nvme::checksum(bytes))
        {
            return Some(xml_error(
                400,
                "BadDigest",
                "The CRC64NVME you specified did not match the calculated checksum.",
                "",
            ));
        }
        if let Some(v) = req.header("x-amz-checksum-crc32c")
            && v != crc32c_base64(Crc32c::checksum(bytes))
        {
            return Some(xml_error(
                400,
                "BadDigest",
                "The CRC32C you specified did not match the calculated checksum.",
                "",
            ));
        }
        None
    }
}

#[derive(Debug)]
enum Due {
    Deliver(RequestId),
    Progress(RequestId, u64),
    Credentials,
    SignInBack,
    Pause(usize),
    Resume(usize),
    Cancel(usize),
    Crash,
}

struct TestFile {
    name: String,
    key: String,
    source: usize,
    engine_id: FileId,
    status: FileStatus,
    failed_with: Option<String>,
    last_progress: Option<(u64, u64)>,
    record: Option<String>,
    removed: bool,
}

struct Scenario {
    seed: u64,
    rng: fastrand::Rng,
    sim: Sim,
    engine: Engine,
    config: EngineConfig,
    files: Vec<TestFile>,
    skew_ms: i64,
    now: u64,
    due: BinaryHeap<Reverse<(u64, u64, usize)>>,
    dues: Vec<Option<Due>>,
    pending: BTreeMap<RequestId, (Outcome, u64)>,
    ttl_ms: u64,
    signed_out_until: u64,
    credentials_expired_events: u32,
    crash_at: Option<u64>,
    /// Parts confirmed in the stored records at the crash: (upload id, part).
    confirmed_at_crash: BTreeSet<(String, u32)>,
    log: Vec<String>,
    /// The file of each request sent.
    request_file: BTreeMap<RequestId, FileId>,
    /// Where each request went: a form's URL, else the endpoint (`""`).
    request_host: BTreeMap<RequestId, String>,
    /// Files whose `sent` may go down at their next Progress: a request of theirs failed
    /// or was abandoned, or the user cancelled them (issue 15: otherwise it only grows).
    may_retreat: BTreeSet<FileId>,
    /// The same for the total, which any file's failure, cancel or removal may lower.
    total_may_retreat: bool,
    /// A file was removed: the total starts afresh with the next events.
    total_recount: bool,
    last_total: Option<(u64, u64)>,
    /// Progress events that went backwards while nothing allowed it.
    retreats: Vec<String>,
}

impl Scenario {
    fn new(seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let sizes = [
            0,
            1,
            1000,
            5 * MIB - 1,
            5 * MIB + 1,
            8 * MIB - 1,
            8 * MIB,
            8 * MIB + 1,
            11 * MIB + 7,
            16 * MIB,
        ];
        let n = rng.usize(1..=4);
        let mut sources = Vec::new();
        let mut files = Vec::new();
        for i in 0..n {
            let size = sizes[rng.usize(0..sizes.len())];
            let offset = rng.usize(0..(pool().len() - size as usize));
            sources.push(Source { offset, size });
            let deny = rng.u8(0..20) == 0;
            let key = format!(
                "{}alice/{seed}/{i}/file {i}+%#?.bin",
                if deny { "deny/" } else { "" }
            );
            files.push(TestFile {
                name: format!("file {i}.bin"),
                key,
                source: i,
                engine_id: FileId(0),
                status: FileStatus::Queued,
                failed_with: None,
                last_progress: None,
                record: None,
                removed: false,
            });
        }
        let faulty = rng.bool();
        let faults = Faults {
            reset: if faulty { rng.f64() * 0.08 } else { 0.0 },
            status: if faulty { rng.f64() * 0.08 } else { 0.0 },
            lost: if faulty { rng.f64() * 0.05 } else { 0.0 },
            hang: if faulty { rng.f64() * 0.03 } else { 0.0 },
            revoke: if rng.u8(0..4) == 0 { 0.03 } else { 0.0 },
            slowdown_until: if rng.u8(0..5) == 0 {
                START_MS + rng.u64(2_000..8_000)
            } else {
                0
            },
        };
        let deny = files
            .iter()
            .filter(|f| f.key.starts_with("deny/"))
            .map(|f| f.key.clone())
            .collect();
        let sim = Sim {
            rng: fastrand::Rng::with_seed(seed ^ 0xabcdef),
            faults,
            injected: Injected::default(),
            sources,
            objects: BTreeMap::new(),
            uploads: BTreeMap::new(),
            tokens: BTreeMap::new(),
            deny,
            next: 0,
            part_log: Vec::new(),
        };
        let checksum = match rng.u8(0..3) {
            0 => None,
            1 => Some(ChecksumAlgorithm::Crc32c),
            _ => Some(ChecksumAlgorithm::Crc64Nvme),
        };
        let ttl_ms = rng.u64(90_000..900_000);
        let config = EngineConfig {
            bucket: BUCKET.into(),
            endpoint: Endpoint::custom("http://127.0.0.1:9000", "us-east-1", Addressing::Auto)
                .unwrap(),
            concurrency: rng.usize(1..=6),
            checksum,
            refresh_ahead_ms: ttl_ms / 4,
            plan: PlanConfig {
                part_size: 5 * MIB,
                multipart_threshold: 8 * MIB,
            },
            retry: RetryConfig::default(),
            validation: Default::default(),
            // Half the scenarios send single-request files as POST forms, as browsers do.
            post_max_size: if rng.bool() { 8 * MIB } else { 0 },
            // Forms spread over one or two more URLs of the bucket, now and then.
            form_urls: (0..rng.usize(0..3))
                .map(|i| format!("http://s{i}.localhost:9000/{BUCKET}"))
                .collect(),
            // Above the longest silence a request here has (half of 8 MiB at 2 MB/s).
            stall_timeout_ms: rng.u64(5_000..60_000),
        };
        let skew_ms = if rng.u8(0..5) == 0 {
            let m = rng.i64(16..90) * 60_000;
            if rng.bool() { m } else { -m }
        } else {
            rng.i64(-5_000..5_000)
        };
        let engine = Engine::new(config.clone(), seed);
        let mut s = Scenario {
            seed,
            rng,
            sim,
            engine,
            config,
            files,
            skew_ms,
            now: START_MS,
            due: BinaryHeap::new(),
            dues: Vec::new(),
            pending: BTreeMap::new(),
            ttl_ms,
            signed_out_until: 0,
            credentials_expired_events: 0,
            crash_at: None,
            confirmed_at_crash: BTreeSet::new(),
            log: Vec::new(),
            request_file: BTreeMap::new(),
            request_host: BTreeMap::new(),
            may_retreat: BTreeSet::new(),
            total_may_retreat: false,
            total_recount: false,
            last_total: None,
            retreats: Vec::new(),
        };
        if s.rng.u8(0..5) == 0 {
            // The sign-in expires for a while; the user signs in again later.
            let at = START_MS + s.rng.u64(0..30_000);
            s.signed_out_until = at + s.rng.u64(10_000..120_000);
            s.log.push(format!(
                "signed out until +{}",
                s.signed_out_until - START_MS
            ));
        }
        for i in 0..s.files.len() {
            if s.rng.u8(0..4) == 0 {
                let at = START_MS + s.rng.u64(0..40_000);
                s.schedule(at, Due::Pause(i));
                let back = at + s.rng.u64(1_000..60_000);
                s.schedule(back, Due::Resume(i));
            }
            if s.rng.u8(0..8) == 0 {
                let at = START_MS + s.rng.u64(0..60_000);
                s.schedule(at, Due::Cancel(i));
            }
        }
        if s.rng.u8(0..5) == 0 {
            let at = START_MS + s.rng.u64(0..60_000);
            s.crash_at = Some(at);
            s.schedule(at, Due::Crash);
        }
        s
    }

    fn device_now(&self) -> u64 {
        self.now.saturating_add_signed(self.skew_ms)
    }

    fn schedule(&mut self, at: u64, due: Due) {
        self.dues.push(Some(due));
        let seq = self.dues.len() - 1;
        self.due.push(Reverse((at, seq as u64, seq)));
    }

    fn add_files(&mut self) {
        for i in 0..self.files.len() {
            let f = &self.files[i];
            if f.removed || matches!(f.status, FileStatus::Completed | FileStatus::Cancelled) {
                // Not in the new engine: its old id must not match a new file.
                self.files[i].engine_id = FileId(u64::MAX);
                continue;
            }
            let resume = f
                .record
                .as_deref()
                .map(|j| ResumeRecord::from_json(j).unwrap());
            let spec = FileSpec {
                name: f.name.clone(),
                key: f.key.clone(),
                size: self.sim.sources[f.source].size,
                fingerprint: format!("{}:{}", f.name, self.sim.sources[f.source].size),
                options: PutOptions {
                    content_type: Some("application/octet-stream".into()),
                    ..PutOptions::default()
                },
                resume,
            };
            self.files[i].engine_id = self.engine.add(spec).unwrap();
            self.files[i].status = FileStatus::Queued;
            self.files[i].last_progress = None;
        }
    }

    fn file_index(&self, id: FileId) -> Option<usize> {
        self.files.iter().position(|f| f.engine_id == id)
    }

    fn run(&mut self) -> Result<(), String> {
        self.add_files();
        for step in 0..200_000 {
            self.drain()?;
            let all_done = self.files.iter().all(|f| {
                if f.removed {
                    // Removed: done once the engine has aborted its upload and forgotten it.
                    self.engine.status(f.engine_id).is_none()
                } else {
                    matches!(f.status, FileStatus::Completed | FileStatus::Cancelled)
                }
            });
            if all_done && self.pending.is_empty() {
                return self.check();
            }
            let next_due = self.due.peek().map(|Reverse((t, _, _))| *t);
            let next_timeout = self
                .engine
                .poll_timeout()
                .map(|t| t.saturating_add_signed(-self.skew_ms));
            let Some(next) = [next_due, next_timeout].into_iter().flatten().min() else {
                return Err(format!("stuck after {step} steps: nothing scheduled"));
            };
            self.now = self.now.max(next);
            while let Some(Reverse((t, _, idx))) = self.due.peek().copied() {
                if t > self.now {
                    break;
                }
                self.due.pop();
                if let Some(due) = self.dues[idx].take() {
                    self.fire(due)?;
                }
            }
            let device_now = self.device_now();
            self.engine.handle_timeout(device_now);
            if self.now > START_MS + 6 * 3_600_000 {
                return Err("still not done after 6 virtual hours".into());
            }
        }
        Err("too many steps".into())
    }

    fn drain(&mut self) -> Result<(), String> {
        loop {
            let device_now = self.device_now();
            let Some(action) = self.engine.poll_action(device_now) else {
                break;
            };
            let action = match action {
                // The simulated S3 takes a form as the PutObject it amounts to: the
                // signed fields become the headers it checks.
                Action::Post {
                    id,
                    file,
                    url,
                    fields,
                    body,
                } => {
                    let field = |name: &str| {
                        fields
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(name))
                            .map(|(_, v)| v.clone())
                    };
                    let key = field("key").ok_or("a POST form without a key")?;
                    if !url.ends_with(&format!("/{BUCKET}")) {
                        return Err(format!("a POST form to {url}, not the bucket"));
                    }
                    let path =
                        format!("/{BUCKET}/{}", updraft_core::sigv4::uri_encode(&key, false));
                    let mut request = Request::new(Method::Put, "http", "127.0.0.1:9000", path);
                    for (header, name) in [
                        ("x-amz-date", "X-Amz-Date"),
                        ("x-amz-security-token", "X-Amz-Security-Token"),
                        ("x-amz-checksum-crc32c", "x-amz-checksum-crc32c"),
                        ("x-amz-checksum-crc64nvme", "x-amz-checksum-crc64nvme"),
                    ] {
                        if let Some(v) = field(name) {
                            request.set_header(header, v);
                        }
                    }
                    self.request_host.insert(id, url.clone());
                    if field("Policy").is_none() || field("X-Amz-Signature").is_none() {
                        return Err("a POST form without a signed policy".into());
                    }
                    Action::Send {
                        id,
                        file,
                        request,
                        body: Some(body),
                    }
                }
                other => other,
            };
            match action {
                Action::Post { .. } => unreachable!("turned into a Send above"),
                Action::Send {
                    id,
                    file,
                    request,
                    body,
                } => {
                    let i = self
                        .file_index(file)
                        .ok_or("a request for an unknown file")?;
                    let piece = body.map(|(a, b)| (self.files[i].source, a, b));
                    let len = body.map_or(0, |(a, b)| b - a);
                    self.request_file.insert(id, file);
                    let outcome = self.sim.serve(&request, piece, self.now);
                    if trace() {
                        let what = match &outcome {
                            Outcome::Answer(r) => format!(
                                "{} {}",
                                r.status,
                                String::from_utf8_lossy(&r.body)
                                    .chars()
                                    .take(120)
                                    .collect::<String>()
                            ),
                            Outcome::Reset => "reset".into(),
                            Outcome::Hang => "(stalls)".into(),
                        };
                        println!(
                            "+{} {:?} {} {} -> {what}",
                            self.now - START_MS,
                            id,
                            request.method,
                            request.url()
                        );
                    }
                    // 20–200 ms latency plus 2–20 MB/s.
                    let bandwidth = self.rng.u64(2..20) * 1_000;
                    let took = self.rng.u64(20..200) + len / bandwidth;
                    let hangs = matches!(outcome, Outcome::Hang);
                    // At most `concurrency` in flight to each host (issue 17's form URLs).
                    let host = self.request_host.entry(id).or_default().clone();
                    let same_host = self
                        .pending
                        .keys()
                        .filter(|p| self.request_host.get(p) == Some(&host))
                        .count();
                    if same_host >= self.config.concurrency {
                        return Err(format!(
                            "{} requests in flight to {host:?}, concurrency {}",
                            same_host + 1,
                            self.config.concurrency
                        ));
                    }
                    self.pending.insert(id, (outcome, len));
                    if len > 0 {
                        self.schedule(self.now + took / 2, Due::Progress(id, len / 2));
                    }
                    if !hangs {
                        self.schedule(self.now + took, Due::Deliver(id));
                    }
                }
                Action::Checksum {
                    file,
                    part,
                    range,
                    algorithm,
                } => {
                    let i = self
                        .file_index(file)
                        .ok_or("a checksum for an unknown file")?;
                    let bytes = self.sim.sources[self.files[i].source].bytes(range.0, range.1);
                    let crc = match algorithm {
                        ChecksumAlgorithm::Crc32c => u64::from(Crc32c::checksum(bytes)),
                        ChecksumAlgorithm::Crc64Nvme => Crc64Nvme::checksum(bytes),
                    };
                    self.engine.handle_checksum(file, part, crc);
                }
                Action::Cancel { id } => {
                    self.pending.remove(&id);
                    // An abandoned request takes its bytes back.
                    if let Some(f) = self.request_file.get(&id) {
                        self.may_retreat.insert(*f);
                    }
                    self.total_may_retreat = true;
                }
                Action::RefreshCredentials => {
                    let at = self.now + self.rng.u64(50..500);
                    self.schedule(at, Due::Credentials);
                }
            }
            self.events()?;
        }
        self.events()
    }

    fn events(&mut self) -> Result<(), String> {
        while let Some(event) = self.engine.poll_event() {
            if trace() && !matches!(event, Event::Progress { .. }) {
                println!("+{} {event:?}", self.now - START_MS);
            }
            match event {
                Event::StatusChanged { file, status } => {
                    if let Some(i) = self.file_index(file) {
                        self.files[i].status = status;
                    }
                }
                Event::Progress {
                    file,
                    file_progress,
                    total,
                } => {
                    if file_progress.sent > file_progress.total || total.sent > total.total {
                        return Err(format!(
                            "progress beyond the total: {file_progress:?} {total:?}"
                        ));
                    }
                    if let Some(i) = self.file_index(file) {
                        // Every file's and the total's `sent` only grow, unless a failure,
                        // an abandoned request or a cancel took bytes back (issue 15).
                        if let Some((before, _)) = self.files[i].last_progress
                            && file_progress.sent < before
                            && !self.may_retreat.contains(&file)
                        {
                            self.retreats.push(format!(
                                "{} went from {before} to {} bytes",
                                self.files[i].key, file_progress.sent
                            ));
                        }
                        self.files[i].last_progress =
                            Some((file_progress.sent, file_progress.total));
                    }
                    if let Some((before, of)) = self.last_total
                        && total.sent < before
                        && total.total == of
                        && !self.total_may_retreat
                    {
                        self.retreats.push(format!(
                            "the total went from {before} to {} bytes",
                            total.sent
                        ));
                    }
                    self.last_total = Some((total.sent, total.total));
                }
                Event::ResumeRecordChanged { file } => {
                    if let Some(i) = self.file_index(file) {
                        self.files[i].record = self.engine.resume_record(file).map(|r| r.to_json());
                    }
                }
                Event::Completed { file, completed } => {
                    let i = self.file_index(file).ok_or("completed an unknown file")?;
                    if completed.key != self.files[i].key {
                        return Err(format!(
                            "completed key {} is not {}",
                            completed.key, self.files[i].key
                        ));
                    }
                }
                Event::Failed { file, error } => {
                    let i = self.file_index(file).ok_or("failed an unknown file")?;
                    let text = error.to_string();
                    if !text.contains(&self.files[i].key) {
                        return Err(format!("the error does not name the key: {text}"));
                    }
                    self.files[i].failed_with = Some(text.clone());
                    match &error.error {
                        Error::S3(e)
                            if e.code == "AccessDenied"
                                && self.files[i].key.starts_with("deny/") =>
                        {
                            // As the table says: AccessDenied fails the file. Clean up.
                            // (The removed file leaves the total: counted afresh after.)
                            self.engine.remove(file);
                            self.total_recount = true;
                            self.files[i].removed = true;
                        }
                        Error::AbortFailed { .. } => {
                            return Err(format!("abort failed: {text}"));
                        }
                        _ => return Err(format!("unexpected failure: {text}")),
                    }
                }
                Event::CredentialsExpired => {
                    // Told once per sign-in expiry, not once per waiting request.
                    self.credentials_expired_events += 1;
                    if self.credentials_expired_events > 1 {
                        return Err("CredentialsExpired told more than once".into());
                    }
                }
                Event::Submitted { .. } | Event::AllComplete { .. } => {}
            }
        }
        // What allowed a retreat applied to the events it caused, all drained now.
        self.may_retreat.clear();
        self.total_may_retreat = false;
        if std::mem::take(&mut self.total_recount) {
            self.last_total = None;
        }
        Ok(())
    }

    fn fire(&mut self, due: Due) -> Result<(), String> {
        let device_now = self.device_now();
        if trace() && !matches!(due, Due::Progress(..)) {
            println!("+{} fire {due:?}", self.now - START_MS);
        }
        match due {
            Due::Deliver(id) => {
                if let Some((outcome, len)) = self.pending.remove(&id) {
                    let failed = match &outcome {
                        Outcome::Answer(r) => r.status >= 300 || r.body.starts_with(b"<Error"),
                        _ => true,
                    };
                    if failed {
                        if let Some(f) = self.request_file.get(&id) {
                            self.may_retreat.insert(*f);
                        }
                        self.total_may_retreat = true;
                    }
                    let result = match outcome {
                        Outcome::Answer(r) => {
                            if len > 0 && (200..300).contains(&r.status) {
                                self.engine.handle_progress(id, len, device_now);
                            }
                            Ok(r)
                        }
                        Outcome::Reset => Err(Error::Network {
                            detail: "connection reset".into(),
                        }),
                        Outcome::Hang => return Err(format!("{id:?} stalls yet was delivered")),
                    };
                    self.engine.handle_response(id, result, device_now);
                }
            }
            Due::Progress(id, sent) => {
                if self.pending.contains_key(&id) {
                    self.engine.handle_progress(id, sent, device_now);
                }
            }
            Due::Credentials => {
                if self.now < self.signed_out_until {
                    self.engine
                        .handle_credentials_failure(RefreshFailure::SignInExpired, device_now);
                    let back = self.signed_out_until;
                    self.schedule(back, Due::SignInBack);
                } else {
                    let c = self.sim.issue_credentials(self.now, self.ttl_ms);
                    self.engine.set_credentials(c, device_now);
                }
            }
            Due::SignInBack => {
                let c = self.sim.issue_credentials(self.now, self.ttl_ms);
                self.engine.set_credentials(c, device_now);
            }
            Due::Pause(i) => {
                if !self.files[i].removed {
                    self.engine.pause(self.files[i].engine_id);
                }
            }
            Due::Resume(i) => {
                if !self.files[i].removed {
                    self.engine.resume(self.files[i].engine_id);
                }
            }
            Due::Cancel(i) => {
                if !self.files[i].removed {
                    self.may_retreat.insert(self.files[i].engine_id);
                    self.total_may_retreat = true;
                    self.engine.cancel(self.files[i].engine_id);
                }
            }
            Due::Crash => self.crash(),
        }
        Ok(())
    }

    /// The process dies: answers in flight are lost (what the server applied stays,
    /// except a CreateMultipartUpload still on its way, which never left the device),
    /// and a new engine starts from the stored records.
    fn crash(&mut self) {
        self.log.push(format!("crash at +{}", self.now - START_MS));
        self.pending.clear();
        // A new engine counts from nothing.
        self.last_total = None;
        self.may_retreat.clear();
        // Drop deliveries and progress of the dead engine.
        for d in &mut self.dues {
            if matches!(
                d,
                Some(Due::Deliver(_) | Due::Progress(..) | Due::Credentials)
            ) {
                *d = None;
            }
        }
        let known: BTreeSet<String> = self
            .files
            .iter()
            .filter_map(|f| f.record.as_deref())
            .map(|j| ResumeRecord::from_json(j).unwrap().upload_id)
            .collect();
        // Uploads created by the dead engine that no record names never reached S3.
        let mut orphans = Vec::new();
        for (id, up) in &self.sim.uploads {
            if !known.contains(id) && up.parts.is_empty() {
                orphans.push(id.clone());
            }
        }
        for id in orphans {
            self.sim.uploads.remove(&id);
        }
        for f in &self.files {
            if let Some(r) = f
                .record
                .as_deref()
                .map(|j| ResumeRecord::from_json(j).unwrap())
            {
                if self.rng.u8(0..3) == 0 {
                    // While the device was off, a lifecycle rule aborted the upload: the
                    // resumed engine meets NoSuchUpload and must start afresh.
                    self.sim.uploads.remove(&r.upload_id);
                    self.log.push(format!("{} aborted while down", r.upload_id));
                }
                for p in r.parts {
                    self.confirmed_at_crash
                        .insert((r.upload_id.clone(), p.number));
                }
            }
        }
        let seed = self.seed.wrapping_add(1);
        self.engine = Engine::new(self.config.clone(), seed);
        self.credentials_expired_events = 0;
        self.add_files();
    }

    fn check(&mut self) -> Result<(), String> {
        if let Some(r) = self.retreats.first() {
            return Err(format!("progress went backwards: {r}"));
        }
        for f in &self.files {
            if f.removed {
                if f.failed_with.is_none() {
                    return Err(format!("{} removed without a failure", f.key));
                }
                continue;
            }
            let src = &self.sim.sources[f.source];
            match f.status {
                FileStatus::Completed => {
                    let obj = self
                        .sim
                        .objects
                        .get(&f.key)
                        .ok_or_else(|| format!("{} completed but not stored", f.key))?;
                    let mut next = 0;
                    for &(source, a, b) in &obj.pieces {
                        if source != f.source || a != next {
                            return Err(format!(
                                "{} stored the wrong bytes: {:?}",
                                f.key, obj.pieces
                            ));
                        }
                        next = b;
                    }
                    if next != src.size {
                        return Err(format!("{} stored {next} of {} bytes", f.key, src.size));
                    }
                    match f.last_progress {
                        Some((sent, total)) if sent == total && total == src.size => {}
                        other => return Err(format!("{} ended with progress {other:?}", f.key)),
                    }
                }
                FileStatus::Cancelled => {}
                other => return Err(format!("{} ended {other:?}", f.key)),
            }
        }
        if !self.sim.uploads.is_empty() {
            return Err(format!(
                "multipart uploads left open: {:?}",
                self.sim.uploads.keys()
            ));
        }
        if let Some(crash) = self.crash_at {
            for (t, id, n) in &self.sim.part_log {
                if *t > crash && self.confirmed_at_crash.contains(&(id.clone(), *n)) {
                    return Err(format!(
                        "part {n} of {id} was confirmed before the crash and sent again"
                    ));
                }
            }
        }
        Ok(())
    }
}

fn trace() -> bool {
    std::env::var_os("UPDRAFT_SIM_TRACE").is_some()
}

fn scenarios() -> Vec<u64> {
    if let Ok(seed) = std::env::var("UPDRAFT_SIM_SEED") {
        return vec![seed.parse().expect("UPDRAFT_SIM_SEED is a number")];
    }
    let n: u64 = std::env::var("UPDRAFT_SIM_SCENARIOS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000);
    (0..n).collect()
}

/// What the scenarios covered: how many had each fault, crash, skew and expiry.
#[derive(Debug, Default)]
struct Coverage {
    scenarios: u32,
    crashes: u32,
    skews: u32,
    expiries: u32,
    refused: u32,
    resets: u32,
    hangs: u32,
    slowdowns: u32,
    statuses: u32,
    revoked: u32,
    lost_answers: u32,
    skew_answers: u32,
}

impl Coverage {
    fn add(&mut self, s: &Scenario) {
        let i = s.sim.injected;
        self.scenarios += 1;
        self.crashes += u32::from(s.crash_at.is_some());
        self.skews += u32::from(s.skew_ms.abs() > 15 * 60_000);
        self.expiries += u32::from(s.credentials_expired_events > 0);
        self.refused += s.files.iter().filter(|f| f.removed).count() as u32;
        self.resets += u32::from(i.resets > 0);
        self.hangs += u32::from(i.hangs > 0);
        self.slowdowns += u32::from(i.slowdowns > 0);
        self.statuses += u32::from(i.statuses > 0);
        self.revoked += u32::from(i.revoked > 0);
        self.lost_answers += u32::from(i.lost_answers > 0);
        self.skew_answers += u32::from(i.skewed > 0);
    }

    /// Each kind of trouble must occur in at least this share of the scenarios (about
    /// half what seeds 0..1000 give: crashes 19.8%, skew 19.4%, expiry 19.2%, refused
    /// files 13.7%, resets 12.1%, stalls 3.5%, SlowDown 14.3%, error statuses 10.6%,
    /// revoked tokens 3.8%, lost answers 7.7%): a change that stopped injecting one
    /// fails here instead of passing quietly.
    fn below_floor(&self) -> Vec<String> {
        let floors = [
            ("a crash", self.crashes, 0.10),
            ("clock skew", self.skews, 0.10),
            ("a sign-in expiry", self.expiries, 0.10),
            ("a refused file", self.refused, 0.05),
            ("a connection reset", self.resets, 0.06),
            ("a stalled connection", self.hangs, 0.02),
            ("SlowDown", self.slowdowns, 0.07),
            ("an error status", self.statuses, 0.05),
            ("a revoked token", self.revoked, 0.02),
            ("a lost answer", self.lost_answers, 0.04),
            ("RequestTimeTooSkewed", self.skew_answers, 0.10),
        ];
        floors
            .iter()
            .filter(|(_, n, share)| f64::from(*n) < share * f64::from(self.scenarios))
            .map(|(what, n, share)| {
                format!(
                    "{what} in {n} of {} scenarios, under the floor of {:.0}%",
                    self.scenarios,
                    share * 100.0
                )
            })
            .collect()
    }
}

#[test]
fn simulator() {
    let seeds = scenarios();
    let mut failures = Vec::new();
    let mut coverage = Coverage::default();
    for &seed in &seeds {
        let mut s = Scenario::new(seed);
        match s.run() {
            Ok(()) => coverage.add(&s),
            Err(e) => failures.push(format!(
                "seed {seed}: {e} (rerun: UPDRAFT_SIM_SEED={seed} cargo test -p updraft-core \
                 --test sim) [{}]",
                s.log.join("; ")
            )),
        }
    }
    println!(
        "simulator: {} scenarios, {} failures",
        seeds.len(),
        failures.len()
    );
    println!("simulator: {coverage:?}");
    for f in failures.iter().take(10) {
        println!("{f}");
    }
    assert!(failures.is_empty(), "{} scenarios failed", failures.len());
    // One seed (UPDRAFT_SIM_SEED) covers what it covers; a run of many must cover all.
    if seeds.len() >= 200 {
        let below = coverage.below_floor();
        assert!(below.is_empty(), "the scenarios no longer cover: {below:?}");
    }
}
