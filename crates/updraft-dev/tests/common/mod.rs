//! Test helpers: a stack on ephemeral ports in a fresh directory, a raw HTTP/1.1 client,
//! and SigV4 signing with `updraft-core` (the server verifies with s3s, not with this).
// Test-only helpers: a failure here is a test failure, so unwrap is what we want.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use updraft_core::http::{Body, Method, Request};
use updraft_core::sigv4::{Signer, SigningParams, uri_encode};
use updraft_core::{Credentials, Timestamp};
use updraft_dev::{DevConfig, Stack, StackInfo};

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).unwrap();
        let name: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let p = std::env::temp_dir().join(format!("updraft-test-{tag}-{name}"));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn config(dir: &Path) -> DevConfig {
    DevConfig {
        data_dir: dir.to_owned(),
        app_port: 0,
        s3_port: 0,
        issuer_port: 0,
        ..DevConfig::default()
    }
}

pub async fn start(dir: &Path) -> Stack {
    updraft_dev::start(&config(dir)).await.unwrap()
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The `<Code>` of an S3 error body.
    pub fn code(&self) -> String {
        let t = self.text();
        t.split("<Code>")
            .nth(1)
            .and_then(|r| r.split("</Code>").next())
            .unwrap_or("")
            .to_owned()
    }
}

pub fn host(url: &str) -> String {
    url.trim_start_matches("http://").to_owned()
}

/// Sends one request on a new connection and reads the whole answer.
pub async fn send(
    host: &str,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(host).await.unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("host: {host}\r\n"));
    }
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        && method != "GET"
        && method != "HEAD"
    {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("connection: close\r\n\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    parse(&raw, method == "HEAD")
}

fn parse(raw: &[u8], head_only: bool) -> Resp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("no header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if head_only {
        Vec::new()
    } else if chunked {
        let mut out = Vec::new();
        let mut r = rest;
        loop {
            let nl = r.windows(2).position(|w| w == b"\r\n").unwrap();
            let size = usize::from_str_radix(String::from_utf8_lossy(&r[..nl]).trim(), 16).unwrap();
            r = &r[nl + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(&r[..size]);
            r = &r[size + 2..];
        }
        out
    } else {
        rest.to_vec()
    };
    Resp {
        status,
        headers,
        body,
    }
}

pub fn now() -> Timestamp {
    Timestamp(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    )
}

pub fn creds(info: &StackInfo) -> Credentials {
    Credentials::new(
        info.admin_access_key_id.clone(),
        info.admin_secret_access_key.clone(),
    )
}

/// A path-style request for `bucket`/`key` (the key encoded once, as S3 wants).
pub fn request(info: &StackInfo, method: Method, bucket: &str, key: &str) -> Request {
    let path = if key.is_empty() {
        format!("/{bucket}")
    } else {
        format!("/{bucket}/{}", uri_encode(key, false))
    };
    Request::new(method, "http", host(&info.s3_endpoint), path)
}

fn target(req: &Request) -> String {
    let url = req.url();
    let rest = url.trim_start_matches("http://");
    rest[rest.find('/').unwrap()..].to_owned()
}

/// Signs `req` (header auth) with `creds` and sends it.
pub async fn signed(info: &StackInfo, creds: &Credentials, mut req: Request) -> Resp {
    let mut signer = Signer::new();
    let p = SigningParams::s3(creds, &info.region, now());
    signer.sign(&mut req, &p).unwrap();
    let body = match &req.body {
        Body::Bytes(b) => b.clone(),
        _ => Vec::new(),
    };
    send(
        &host(&info.s3_endpoint),
        req.method.as_str(),
        &target(&req),
        &req.headers,
        &body,
    )
    .await
}

/// Signs with the admin keys and sends.
pub async fn admin(info: &StackInfo, req: Request) -> Resp {
    signed(info, &creds(info), req).await
}

/// A presigned URL's target (path and query) for `req`, valid `secs` from `time`.
pub fn presign(info: &StackInfo, mut req: Request, time: Timestamp, secs: u32) -> String {
    let mut signer = Signer::new();
    let c = creds(info);
    let p = SigningParams::s3(&c, &info.region, time);
    signer.presign(&mut req, &p, secs).unwrap();
    target(&req)
}

pub async fn put(
    info: &StackInfo,
    bucket: &str,
    key: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> Resp {
    let mut req = request(info, Method::Put, bucket, key);
    for (n, v) in headers {
        req.set_header(n, *v);
    }
    req.body = Body::Bytes(body.to_vec());
    admin(info, req).await
}

pub async fn get(info: &StackInfo, bucket: &str, key: &str) -> Resp {
    admin(info, request(info, Method::Get, bucket, key)).await
}
