//! What the process tests share: temporary directories and `updraft dev` started on
//! ephemeral ports, with signed requests of our own to check what it stores.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use updraft_core::http::{Body, Method, Request};
use updraft_core::sigv4::{Signer, SigningParams, uri_encode};
use updraft_core::{Credentials, Timestamp};

pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p =
            std::env::temp_dir().join(format!("updraft-proc-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) struct Dev {
    pub(crate) child: Child,
    pub(crate) endpoint: String,
    pub(crate) creds: Credentials,
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `updraft dev` on ephemeral ports and waits for its `stack.json`.
pub(crate) fn start(dir: &Path, verbose: bool) -> Dev {
    start_with(dir, verbose, &[])
}

/// [`start`] with more `updraft dev` flags (e.g. `--config FILE`).
pub(crate) fn start_with(dir: &Path, verbose: bool, extra: &[&str]) -> Dev {
    start_logging(dir, verbose, extra, None)
}

/// [`start_with`], its stderr (the `--verbose` log, the faults' summary) into `log`.
pub(crate) fn start_logging(dir: &Path, verbose: bool, extra: &[&str], log: Option<&Path>) -> Dev {
    let stack = dir.join("stack.json");
    let _ = std::fs::remove_file(&stack);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_updraft"));
    cmd.args([
        "dev",
        "--app-port",
        "0",
        "--s3-port",
        "0",
        "--issuer-port",
        "0",
        "--data-dir",
    ])
    .arg(dir)
    .stdout(Stdio::null())
    .stderr(match log {
        Some(log) => Stdio::from(std::fs::File::create(log).unwrap()),
        None if verbose => Stdio::piped(),
        None => Stdio::null(),
    });
    if verbose {
        cmd.arg("--verbose");
    }
    cmd.args(extra);
    let child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let json = loop {
        if let Ok(bytes) = std::fs::read(&stack)
            && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes)
        {
            break v;
        }
        assert!(Instant::now() < deadline, "no stack.json after 20 s");
        std::thread::sleep(Duration::from_millis(20));
    };
    let s = |k: &str| json[k].as_str().unwrap().to_owned();
    Dev {
        child,
        endpoint: s("s3_endpoint"),
        creds: Credentials::new(s("admin_access_key_id"), s("admin_secret_access_key")),
    }
}

pub(crate) fn now() -> Timestamp {
    Timestamp(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    )
}

impl Dev {
    pub(crate) fn host(&self) -> String {
        self.endpoint.trim_start_matches("http://").to_owned()
    }

    /// A signed request's head (request line and headers) and body.
    pub(crate) fn signed(
        &self,
        method: Method,
        key: &str,
        query: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (String, Vec<u8>) {
        let mut req = Request::new(
            method,
            "http",
            self.host(),
            format!("/uploads/{}", uri_encode(key, false)),
        );
        for (k, v) in query {
            req.query.push(((*k).to_owned(), (*v).to_owned()));
        }
        req.body = Body::Bytes(body.clone());
        Signer::new()
            .sign(
                &mut req,
                &SigningParams::s3(&self.creds, "us-east-1", now()),
            )
            .unwrap();
        let url = req.url();
        let target = &url[url.find(&self.host()).unwrap() + self.host().len()..];
        let mut head = format!("{} {target} HTTP/1.1\r\n", method.as_str());
        for (n, v) in &req.headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        (head, body)
    }

    /// Sends a whole request; returns status and body.
    pub(crate) fn call(
        &self,
        method: Method,
        key: &str,
        query: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u16, String) {
        let (mut head, body) = self.signed(method, key, query, body);
        head.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        ));
        let mut s = TcpStream::connect(self.host()).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(&body).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text.split(' ').nth(1).unwrap().parse().unwrap();
        (status, text)
    }

    /// [`Dev::call`] that gives up after `wait` or when the connection closes without an
    /// answer (a stack with `--faults` may do either): `None` then.
    pub(crate) fn try_call(
        &self,
        method: Method,
        key: &str,
        query: &[(&str, &str)],
        wait: Duration,
    ) -> Option<(u16, String)> {
        let (mut head, _) = self.signed(method, key, query, Vec::new());
        head.push_str("content-length: 0\r\nconnection: close\r\n\r\n");
        let mut s = TcpStream::connect(self.host()).ok()?;
        s.set_read_timeout(Some(wait)).ok()?;
        s.write_all(head.as_bytes()).ok()?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).ok()?;
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text.split(' ').nth(1)?.parse().ok()?;
        Some((status, text))
    }

    /// GETs `key`: status, response head, body bytes.
    pub(crate) fn get_raw(&self, key: &str) -> (u16, String, Vec<u8>) {
        let (mut head, _) = self.signed(Method::Get, key, &[], Vec::new());
        head.push_str("connection: close\r\n\r\n");
        let mut s = TcpStream::connect(self.host()).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&out[..split]).into_owned();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, head, out[split + 4..].to_vec())
    }

    /// Starts a request announcing `len` body bytes but sends only `sent` of them.
    pub(crate) fn half_sent(
        &self,
        key: &str,
        query: &[(&str, &str)],
        len: usize,
        sent: usize,
    ) -> TcpStream {
        let (mut head, _) = self.signed(Method::Put, key, query, Vec::new());
        // Signed with UNSIGNED-PAYLOAD, so the announced length is free to differ.
        head.push_str(&format!("content-length: {len}\r\n\r\n"));
        let mut s = TcpStream::connect(self.host()).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(&vec![9u8; sent]).unwrap();
        s.flush().unwrap();
        s
    }
}
