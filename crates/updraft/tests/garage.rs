//! Beyond one machine (issue 19): the same conformance cases against `updraft dev` and a
//! 3-node Garage cluster (`tests/garage/cluster.sh`, replication 3), through `updraft
//! upload` and `updraft uploads` with static keys, everything read back with the AWS CLI:
//! single PUTs, multipart with CRC64NVME and CRC32C, resume through ListParts after a
//! `kill -9`, abort, odd keys, the CORS preflight and exposed headers. Then the faults only
//! a cluster has: a node killed mid-upload, and two down (no quorum) until one returns.
//!
//! `cargo xtask test` runs these (ignored by plain `cargo test`) with `UPDRAFT_GARAGE` (the
//! garage binary it installs) and `UPDRAFT_AWS_CLI`. The browser package's side is
//! `crates/updraft-web/tests/e2e/garage.test.mjs`.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Dev, TempDir, start};
use serde_json::Value;
use updraft_core::s3::cors;

const MIB: usize = 1 << 20;
const ORIGIN: &str = "http://app.example.test";

fn tool(var: &str) -> PathBuf {
    PathBuf::from(
        std::env::var_os(var).unwrap_or_else(|| panic!("{var}: run through `cargo xtask test`")),
    )
}

/// Where the cases run: an S3 endpoint, its bucket and a static key.
struct Target {
    name: &'static str,
    endpoint: String,
    region: String,
    bucket: String,
    key_id: String,
    secret: String,
    nodes: Vec<Node>,
    _dev: Option<Dev>,
}

/// A Garage node: its config and the running server, if it runs.
struct Node {
    config: String,
    child: Option<Child>,
    pid: Option<u32>,
}

impl Node {
    fn kill(&mut self) {
        if let Some(pid) = self.pid.take() {
            Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status()
                .unwrap();
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    fn start(&mut self, log: &Path) {
        let log = std::fs::File::create(log).unwrap();
        let child = Command::new(tool("UPDRAFT_GARAGE"))
            .args(["-c", &self.config, "server"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.pid = Some(child.id());
        self.child = Some(child);
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            n.kill();
        }
    }
}

fn dev_target(dir: &Path) -> Target {
    let dev = start(dir, false);
    Target {
        name: "updraft dev",
        endpoint: dev.endpoint.clone(),
        region: "us-east-1".into(),
        bucket: "uploads".into(),
        key_id: dev.creds.access_key_id.clone(),
        secret: dev.creds.secret_access_key.expose().to_string(),
        nodes: Vec::new(),
        _dev: Some(dev),
    }
}

fn garage_target(dir: &Path) -> Target {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/garage/cluster.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(tool("UPDRAFT_GARAGE"))
        .arg(dir)
        .arg(ORIGIN)
        .arg(env!("CARGO_BIN_EXE_updraft"))
        .arg(tool("UPDRAFT_AWS_CLI"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cluster.sh: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let c: Value =
        serde_json::from_slice(&std::fs::read(dir.join("cluster.json")).unwrap()).unwrap();
    let s = |f: &str| c[f].as_str().unwrap().to_string();
    Target {
        name: "Garage",
        endpoint: s("endpoint"),
        region: s("region"),
        bucket: s("bucket"),
        key_id: s("accessKeyId"),
        secret: s("secretAccessKey"),
        nodes: c["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| Node {
                config: n["config"].as_str().unwrap().into(),
                child: None,
                pid: n["pid"].as_u64().map(|p| p as u32),
            })
            .collect(),
        _dev: None,
    }
}

impl Target {
    /// `updraft ARGS` against the target with its key and nothing else from this
    /// environment.
    fn updraft(&self, work: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_updraft"));
        cmd.args(args)
            .args(["--endpoint-url", &self.endpoint, "--region", &self.region])
            .env("AWS_ACCESS_KEY_ID", &self.key_id)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret)
            .env("HOME", work)
            .env("XDG_CACHE_HOME", work.join("cache"))
            .env("AWS_CONFIG_FILE", work.join("no-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", work.join("no-credentials"));
        for v in [
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_S3",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
        ] {
            cmd.env_remove(v);
        }
        cmd
    }

    fn upload(&self, work: &Path, paths: &[&Path], extra: &[&str]) -> Command {
        let mut args: Vec<String> = vec!["upload".into()];
        args.extend(paths.iter().map(|p| p.display().to_string()));
        args.extend(
            [
                "--bucket",
                &self.bucket,
                "--no-progress",
                "--part-size",
                "5MiB",
                "--json",
            ]
            .map(String::from),
        );
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.updraft(work, &args)
    }

    /// The AWS CLI against the target; its JSON answer.
    fn aws(&self, args: &[&str]) -> Result<Value, String> {
        let out = Command::new(tool("UPDRAFT_AWS_CLI"))
            .args(["--endpoint-url", &self.endpoint, "--output", "json"])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", &self.key_id)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret)
            .env("AWS_DEFAULT_REGION", &self.region)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .output()
            .unwrap();
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(serde_json::from_slice(&out.stdout).unwrap_or(Value::Null))
    }

    fn get(&self, key: &str, into: &Path) -> Vec<u8> {
        self.aws(&[
            "s3api",
            "get-object",
            "--bucket",
            &self.bucket,
            "--key",
            key,
            &into.display().to_string(),
        ])
        .unwrap_or_else(|e| panic!("{}: get {key}: {e}", self.name));
        std::fs::read(into).unwrap()
    }

    /// The first multipart upload under `prefix` (key, id, parts stored), or `None` when
    /// there is none. A listing the store refuses fails the test with its answer: an
    /// error is never read as "no upload" (a cold run once lost the upload here with no
    /// word of why).
    fn stored_parts(&self, prefix: &str) -> Option<(String, String, usize)> {
        let list = self
            .aws(&[
                "s3api",
                "list-multipart-uploads",
                "--bucket",
                &self.bucket,
                "--prefix",
                prefix,
            ])
            .unwrap_or_else(|e| panic!("{}: list-multipart-uploads {prefix}: {e}", self.name));
        let u = list["Uploads"].as_array()?.first()?.clone();
        let (key, id) = (
            u["Key"].as_str()?.to_string(),
            u["UploadId"].as_str()?.to_string(),
        );
        let parts = self
            .aws(&[
                "s3api",
                "list-parts",
                "--bucket",
                &self.bucket,
                "--key",
                &key,
                "--upload-id",
                &id,
            ])
            .unwrap_or_else(|e| panic!("{}: list-parts {key}: {e}", self.name));
        let n = parts["Parts"].as_array().map_or(0, Vec::len);
        Some((key, id, n))
    }

    /// One raw HTTP/1.1 exchange (a preflight, as a browser sends it); the answer's head.
    fn raw(&self, request: &str) -> String {
        let addr = self.endpoint.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(request.replace("{host}", addr).as_bytes())
            .unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf).into_owned();
        text.split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    }
}

/// `aws s3 presign`: a GET URL of `key` (printed as text, not JSON).
fn presigned(t: &Target, key: &str) -> Option<String> {
    let out = Command::new(tool("UPDRAFT_AWS_CLI"))
        .args([
            "--endpoint-url",
            &t.endpoint,
            "s3",
            "presign",
            &format!("s3://{}/{key}", t.bucket),
        ])
        .env("AWS_ACCESS_KEY_ID", &t.key_id)
        .env("AWS_SECRET_ACCESS_KEY", &t.secret)
        .env("AWS_DEFAULT_REGION", &t.region)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0] ^ seed)
        .collect()
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn summary(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|_| panic!("{}", text(out)))
}

/// Sends `child` a signal (`-STOP`, `-CONT`).
fn signal(child: &Child, which: &str) {
    assert!(
        Command::new("kill")
            .args([which, &child.id().to_string()])
            .status()
            .unwrap()
            .success(),
        "kill {which}"
    );
}

fn kill_9(child: &mut Child) {
    Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status()
        .unwrap();
    let _ = child.wait();
}

/// Every case against one target.
fn conformance(t: &Target, work: &Path) {
    let n = t.name;
    // Single PUTs and the keys people really use.
    let tree = work.join("tree");
    let names = [
        "empty.txt",
        "a b.txt",
        "ü/ñ é.txt",
        "plus+sign.txt",
        "percent%41.txt",
        "semi;colon,comma.txt",
        "tilde~(paren)'quote.txt",
        "日本語.txt",
        "hash#question?.txt",
        "a/b/c/deep.txt",
    ];
    let mut files = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let p = tree.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let bytes = if i == 0 {
            Vec::new()
        } else {
            data(1000 * i + 7, i as u8)
        };
        std::fs::write(&p, &bytes).unwrap();
        files.push((format!("conf/tree/{name}"), bytes));
    }
    let out = t
        .upload(work, &[&tree], &["--prefix", "conf/"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{n}: {}", text(&out));
    for (key, bytes) in &files {
        assert!(t.get(key, &work.join("got")) == *bytes, "{n}: {key}");
    }

    // Multipart with each checksum: 12 MiB in 5 MiB parts.
    for (checksum, seed) in [("crc64nvme", 1u8), ("crc32c", 2)] {
        let file = work.join(format!("{checksum}.bin"));
        let bytes = data(12 * MIB, seed);
        std::fs::write(&file, &bytes).unwrap();
        let key = format!("conf/multipart-{checksum}.bin");
        let out = t
            .upload(work, &[&file], &["--key", &key, "--checksum", checksum])
            .output()
            .unwrap();
        assert!(out.status.success(), "{n} {checksum}: {}", text(&out));
        assert_eq!(summary(&out)["partsSent"], 3, "{n} {checksum}");
        assert!(t.get(&key, &work.join("got")) == bytes, "{n}: {key}");
    }

    // Resume through ListParts: killed once parts are stored, the rerun sends the rest.
    let file = work.join("resume.bin");
    let bytes = data(60 * MIB, 3);
    std::fs::write(&file, &bytes).unwrap();
    let args = ["--key", "conf/resume.bin", "--concurrency", "1"];
    let mut first = t
        .upload(work, &[&file], &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The upload is stopped (SIGSTOP) while its parts are listed, so it cannot finish
    // between a listing that shows two parts and the kill: an idle machine sends the
    // other ten parts in less time than the AWS CLI takes to list them, and the kill
    // then found nothing left to resume.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        signal(&first, "-STOP");
        let stored = t.stored_parts("conf/resume");
        assert!(
            first.try_wait().unwrap().is_none(),
            "{n}: finished before it could be killed"
        );
        if stored.is_some_and(|(_, _, n)| n >= 2) {
            break;
        }
        signal(&first, "-CONT");
        assert!(Instant::now() < deadline, "{n}: no parts stored after 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill_9(&mut first);
    // A moment, as a person takes before running it again. Once, in a loaded cold run, a
    // rerun at once after the kill had Garage refuse the CompleteMultipartUpload with
    // InvalidPart (docs/self-hosted-s3.md): Garage compares the parts given with the
    // newest upload of each part number, finished or not, and the killed request's part
    // may be recorded after the rerun's.
    std::thread::sleep(Duration::from_secs(2));
    let (_, _, kept) = t
        .stored_parts("conf/resume")
        .unwrap_or_else(|| panic!("{n}: no upload left open after kill -9"));
    let out = t.upload(work, &[&file], &args).output().unwrap();
    if t.name == "Garage" && !out.status.success() && text(&out).contains("InvalidPart") {
        // Known and not fixed (about 1 run in 3 here; docs/self-hosted-s3.md): even 2 s
        // after the kill, Garage can refuse the resumed upload's CompleteMultipartUpload.
        // What is checked then: the error says what happened and what to do, and the same
        // command stores the file once the broken upload is aborted.
        eprintln!("{n}: the rerun after kill -9 got InvalidPart (known Garage difference)");
        assert!(text(&out).contains("list the parts"), "{n}: {}", text(&out));
        let (key, id, _) = t.stored_parts("conf/resume").unwrap();
        t.aws(&[
            "s3api",
            "abort-multipart-upload",
            "--bucket",
            &t.bucket,
            "--key",
            &key,
            "--upload-id",
            &id,
        ])
        .unwrap();
        let again = t.upload(work, &[&file], &args).output().unwrap();
        assert!(again.status.success(), "{n}: {}", text(&again));
    } else {
        assert!(out.status.success(), "{n}: {}", text(&out));
        assert_eq!(
            summary(&out)["partsSent"],
            12 - kept as u64,
            "{n}: kept {kept}"
        );
    }
    assert!(
        t.get("conf/resume.bin", &work.join("got")) == bytes,
        "{n}: resumed"
    );
    assert!(t.stored_parts("conf/resume").is_none(), "{n}: completed");

    // Abort: an upload left open is listed and aborted by `updraft uploads`.
    let id = t
        .aws(&[
            "s3api",
            "create-multipart-upload",
            "--bucket",
            &t.bucket,
            "--key",
            "conf/left.bin",
        ])
        .unwrap()["UploadId"]
        .as_str()
        .unwrap()
        .to_string();
    let part = work.join("part.bin");
    std::fs::write(&part, data(MIB, 9)).unwrap();
    t.aws(&[
        "s3api",
        "upload-part",
        "--bucket",
        &t.bucket,
        "--key",
        "conf/left.bin",
        "--upload-id",
        &id,
        "--part-number",
        "1",
        "--body",
        &part.display().to_string(),
    ])
    .unwrap();
    let list = t
        .updraft(
            work,
            &[
                "uploads", "list", "--bucket", &t.bucket, "--prefix", "conf/",
            ],
        )
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&list.stdout).starts_with(&format!("conf/left.bin\t{id}")),
        "{n}: {}",
        text(&list)
    );
    let abort = t
        .updraft(
            work,
            &[
                "uploads", "abort", "--bucket", &t.bucket, "--all", "--prefix", "conf/",
            ],
        )
        .output()
        .unwrap();
    assert!(abort.status.success(), "{n}: {}", text(&abort));
    assert!(t.stored_parts("conf/").is_none(), "{n}: aborted");

    // The CORS preflight of the package's PUT, from the page's origin, with the headers it
    // sends (lower case, as browsers send them), and the headers it must read.
    let headers = "authorization,content-type,x-amz-checksum-crc64nvme,x-amz-content-sha256,x-amz-date,x-amz-security-token";
    let pre = t.raw(&format!(
        "OPTIONS /{}/conf/x.txt HTTP/1.1\r\nHost: {{host}}\r\nOrigin: {ORIGIN}\r\nAccess-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: {headers}\r\nConnection: close\r\n\r\n",
        t.bucket
    ));
    assert!(pre.starts_with("http/1.1 200"), "{n}: {pre}");
    assert!(
        pre.contains(&format!("access-control-allow-origin: {ORIGIN}")),
        "{n}: {pre}"
    );
    assert!(
        pre.contains("access-control-allow-methods:") && pre.contains("put"),
        "{n}: {pre}"
    );
    for h in headers.split(',') {
        assert!(pre.contains(h), "{n}: {h} not allowed: {pre}");
    }
    let other = t.raw(&format!(
        "OPTIONS /{}/conf/x.txt HTTP/1.1\r\nHost: {{host}}\r\nOrigin: http://evil.example.test\r\nAccess-Control-Request-Method: PUT\r\nConnection: close\r\n\r\n",
        t.bucket
    ));
    assert!(
        !other.contains("access-control-allow-origin: http://evil"),
        "{n}: {other}"
    );
    // An actual answer to the page (a presigned GET: the bucket is not public).
    let url = presigned(t, "conf/multipart-crc32c.bin").expect("aws s3 presign");
    let path = url.trim().trim_start_matches(&t.endpoint).to_string();
    let got = t.raw(&format!("GET {path} HTTP/1.1\r\nHost: {{host}}\r\nOrigin: {ORIGIN}\r\nRange: bytes=0-0\r\nConnection: close\r\n\r\n"));
    assert!(got.starts_with("http/1.1 206"), "{n}: {got}");
    let exposed = got
        .lines()
        .find(|l| l.starts_with("access-control-expose-headers:"))
        .unwrap_or_else(|| panic!("{n}: {got}"));
    for h in cors::EXPOSE_HEADERS {
        assert!(
            exposed.contains(&h.to_ascii_lowercase()),
            "{n}: {h} not exposed: {exposed}"
        );
    }
}

#[test]
#[ignore = "needs the AWS CLI: cargo xtask test"]
fn r19_conformance_against_updraft_dev() {
    let dir = TempDir::new("conf-dev");
    let work = TempDir::new("conf-dev-work");
    let t = dev_target(&dir.0);
    // The dev bucket's rule admits the app origin; this test's origin is added as a page's
    // would be, with the rule `updraft setup aws` writes.
    let rule = serde_json::json!({"CORSRules": [{"AllowedOrigins": [ORIGIN], "AllowedMethods": cors::ALLOWED_METHODS, "AllowedHeaders": cors::ALLOWED_HEADERS, "ExposeHeaders": cors::EXPOSE_HEADERS, "MaxAgeSeconds": cors::MAX_AGE_SECONDS}]});
    t.aws(&[
        "s3api",
        "put-bucket-cors",
        "--bucket",
        &t.bucket,
        "--cors-configuration",
        &rule.to_string(),
    ])
    .unwrap();
    conformance(&t, &work.0);
}

#[test]
#[ignore = "needs garage and the AWS CLI: cargo xtask test"]
fn r19_conformance_against_a_three_node_garage_cluster() {
    let dir = TempDir::new("conf-garage");
    let work = TempDir::new("conf-garage-work");
    let t = garage_target(&dir.0);
    conformance(&t, &work.0);
}

#[test]
#[ignore = "needs garage and the AWS CLI: cargo xtask test"]
fn r19_garage_a_node_killed_mid_upload_and_two_down_until_one_returns() {
    let dir = TempDir::new("garage-faults");
    let work = TempDir::new("garage-faults-work");
    let mut t = garage_target(&dir.0);

    // One node of three killed mid-upload: a quorum of two is left; the upload completes.
    let file = work.0.join("big.bin");
    let bytes = data(100 * MIB, 4);
    std::fs::write(&file, &bytes).unwrap();
    let mut child = t
        .upload(
            &work.0,
            &[&file],
            &["--key", "faults/one-down.bin", "--concurrency", "2"],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while t
        .stored_parts("faults/one-down")
        .is_none_or(|(_, _, n)| n < 3)
    {
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before a node could be killed"
        );
        assert!(Instant::now() < deadline, "no parts stored after 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    t.nodes[2].kill();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(t.get("faults/one-down.bin", &work.0.join("got")) == bytes);

    // Two of three down: no quorum. The upload fails within its retry budget, saying
    // what the cluster answered, and nothing is claimed stored.
    t.nodes[1].kill();
    let file = work.0.join("quorum.bin");
    let bytes = data(12 * MIB, 6);
    std::fs::write(&file, &bytes).unwrap();
    let args = ["--key", "faults/no-quorum.bin", "--stall-timeout", "5"];
    let started = Instant::now();
    let out = t.upload(&work.0, &[&file], &args).output().unwrap();
    let took = started.elapsed();
    eprintln!("no quorum, after {took:?}:\n{}", text(&out));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("faults/no-quorum.bin")
            || String::from_utf8_lossy(&out.stdout).contains("faults/no-quorum.bin"),
        "{}",
        text(&out)
    );
    assert!(
        err.contains("503") || err.to_lowercase().contains("quorum"),
        "{}",
        text(&out)
    );
    assert!(took < Duration::from_secs(180), "gave up after {took:?}");

    // A node returns: the rerun resumes (or starts again) and completes.
    t.nodes[1].start(&dir.0.join("node2-again.log"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = t.upload(&work.0, &[&file], &args).output().unwrap();
        if out.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no quorum 60 s after a node returned: {}",
            text(&out)
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(t.get("faults/no-quorum.bin", &work.0.join("got")) == bytes);
}

impl Target {
    /// A signed PUT of `body` to `key` with `headers`: status and the answer.
    fn signed_put(&self, key: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
        use updraft_core::http::{Body, Method, Request};
        use updraft_core::sigv4::{Signer, SigningParams, uri_encode};
        let host = self.endpoint.trim_start_matches("http://").to_string();
        let mut req = Request::new(
            Method::Put,
            "http",
            host.clone(),
            format!("/{}/{}", self.bucket, uri_encode(key, false)),
        );
        for (n, v) in headers {
            req.set_header(n, *v);
        }
        req.body = Body::Bytes(body.to_vec());
        let creds = updraft_core::Credentials::new(self.key_id.clone(), self.secret.clone());
        Signer::new()
            .sign(
                &mut req,
                &SigningParams::s3(&creds, &self.region, common::now()),
            )
            .unwrap();
        let mut head = format!(
            "PUT /{}/{} HTTP/1.1\r\n",
            self.bucket,
            uri_encode(key, false)
        );
        for (n, v) in &req.headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        ));
        let mut s = std::net::TcpStream::connect(&host).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out).into_owned();
        (
            text.split(' ')
                .nth(1)
                .and_then(|c| c.parse().ok())
                .unwrap_or(0),
            text,
        )
    }

    /// A POST Object form of `body` to `key` with the extra signed `fields`: status and
    /// the answer.
    fn post_form(&self, key: &str, fields: &[(&str, &str)], body: &[u8]) -> (u16, String) {
        use updraft_core::sigv4::{PostPolicy, Signer, SigningParams};
        let creds = updraft_core::Credentials::new(self.key_id.clone(), self.secret.clone());
        let now = common::now();
        let mut all: Vec<(String, String)> = vec![("key".into(), key.into())];
        all.extend(fields.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        let mut policy = PostPolicy::new(now.add_secs(600))
            .equals("bucket", &self.bucket)
            .content_length_range(body.len() as u64, body.len() as u64);
        for (n, v) in &all {
            policy = policy.equals(n, v);
        }
        all.extend(
            policy
                .sign(
                    &mut Signer::new(),
                    &SigningParams::s3(&creds, &self.region, now),
                )
                .fields,
        );
        let boundary = "updraftconformanceboundary";
        let mut form = Vec::new();
        for (n, v) in &all {
            form.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        form.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n").as_bytes());
        form.extend_from_slice(body);
        form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let host = self.endpoint.trim_start_matches("http://").to_string();
        let head = format!(
            "POST /{} HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.bucket,
            form.len()
        );
        let mut s = std::net::TcpStream::connect(&host).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(&form).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out).into_owned();
        (
            text.split(' ')
                .nth(1)
                .and_then(|c| c.parse().ok())
                .unwrap_or(0),
            text,
        )
    }

    fn put_cors(&self, allowed_headers: &[&str]) {
        let rule = serde_json::json!({"CORSRules": [{"AllowedOrigins": [ORIGIN], "AllowedMethods": cors::ALLOWED_METHODS, "AllowedHeaders": allowed_headers, "ExposeHeaders": cors::EXPOSE_HEADERS, "MaxAgeSeconds": cors::MAX_AGE_SECONDS}]});
        self.aws(&[
            "s3api",
            "put-bucket-cors",
            "--bucket",
            &self.bucket,
            "--cors-configuration",
            &rule.to_string(),
        ])
        .unwrap();
    }

    fn preflight(&self, headers: &str) -> String {
        self.raw(&format!(
            "OPTIONS /{}/k HTTP/1.1\r\nHost: {{host}}\r\nOrigin: {ORIGIN}\r\nAccess-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: {headers}\r\nConnection: close\r\n\r\n",
            self.bucket
        ))
    }
}

/// What docs/self-hosted-s3.md says Garage does differently from AWS (and `updraft dev`),
/// each checked on both, so that the page changes when Garage does.
#[test]
#[ignore = "needs garage and the AWS CLI: cargo xtask test"]
fn r19_what_garage_does_differently_and_what_doctor_says() {
    let (dd, gd) = (TempDir::new("diff-dev"), TempDir::new("diff-garage"));
    let dev = dev_target(&dd.0);
    let garage = garage_target(&gd.0);
    let asked = "authorization,x-amz-date";

    // AllowedHeaders: matched case-insensitively by AWS and the dev store, case-sensitively
    // by Garage.
    for t in [&dev, &garage] {
        t.put_cors(&["Authorization", "X-Amz-Date"]);
    }
    assert!(
        dev.preflight(asked).starts_with("http/1.1 200"),
        "{}",
        dev.preflight(asked)
    );
    assert!(
        !garage.preflight(asked).starts_with("http/1.1 200"),
        "{}",
        garage.preflight(asked)
    );

    // `*`: AWS answers with the headers asked for; Garage echoes `*`, which a browser never
    // takes to cover Authorization. doctor says so, and says what to do.
    for t in [&dev, &garage] {
        t.put_cors(&["*"]);
    }
    let pre = dev.preflight(asked);
    assert!(
        pre.contains("access-control-allow-headers: authorization, x-amz-date")
            || pre.contains("access-control-allow-headers: authorization,x-amz-date"),
        "{pre}"
    );
    let pre = garage.preflight(asked);
    assert!(
        pre.starts_with("http/1.1 200") && pre.contains("access-control-allow-headers: *"),
        "{pre}"
    );
    let work = TempDir::new("diff-work");
    let config = work.0.join("config.json");
    for (t, passes) in [(&dev, true), (&garage, false)] {
        let c = serde_json::json!({"bucket": t.bucket, "region": t.region, "endpoint": t.endpoint, "pathStyle": true});
        std::fs::write(&config, c.to_string()).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_updraft"))
            .args([
                "doctor",
                "--config",
                &config.display().to_string(),
                "--app-origin",
                ORIGIN,
            ])
            .output()
            .unwrap();
        let all = text(&out);
        let preflights: Vec<&str> = all
            .lines()
            .filter(|l| l.contains("CORS preflight for"))
            .collect();
        assert_eq!(preflights.len(), 2, "{all}");
        if passes {
            assert!(
                preflights.iter().all(|l| !l.contains("FAIL")),
                "{}: {all}",
                t.name
            );
        } else {
            assert!(all.contains("answers `Access-Control-Allow-Headers: *`, and browsers never take `*` to cover Authorization"), "{all}");
            assert!(
                all.contains(
                    "list the headers in the rule's AllowedHeaders instead of `*`, lower case"
                ),
                "{all}"
            );
        }
    }

    // Access-Control-Max-Age: AWS and the dev store send the rule's; Garage none, so a
    // browser preflights again every 5 s (Chromium's default) instead of every 50 minutes.
    for t in [&dev, &garage] {
        t.put_cors(cors::ALLOWED_HEADERS);
    }
    assert!(
        dev.preflight(asked)
            .contains("access-control-max-age: 3000"),
        "{}",
        dev.preflight(asked)
    );
    assert!(
        !garage.preflight(asked).contains("access-control-max-age"),
        "{}",
        garage.preflight(asked)
    );

    // A checksum that does not match the body: AWS (and the dev store) answer BadDigest,
    // Garage InvalidDigest. The engine treats both as this request's fault, not worth a
    // retry with the same bytes.
    let wrong = [("x-amz-checksum-crc32c", "AAAAAA==")];
    let (status, body) = dev.signed_put("diff/bad.txt", &wrong, b"hello");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>BadDigest</Code>"), "{body}");
    let (status, body) = garage.signed_put("diff/bad.txt", &wrong, b"hello");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>InvalidDigest</Code>"), "{body}");
    for t in [&dev, &garage] {
        assert!(
            t.aws(&[
                "s3api",
                "head-object",
                "--bucket",
                &t.bucket,
                "--key",
                "diff/bad.txt"
            ])
            .is_err(),
            "{}: nothing stored",
            t.name
        );
    }

    // A POST form's checksum field: AWS and the dev store check it; Garage only when the
    // form also names the algorithm, so the package's forms (the checksum alone, as AWS's
    // POST Object takes it) are not checked end to end there.
    let wrong = [("x-amz-checksum-crc32c", "AAAAAA==")];
    let (status, body) = dev.post_form("diff/form.txt", &wrong, b"hello");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("BadDigest"), "{body}");
    let (status, body) = garage.post_form("diff/form.txt", &wrong, b"hello");
    assert!(
        (200..300).contains(&status),
        "Garage stored it unchecked: {body}"
    );
    let named = [
        ("x-amz-checksum-algorithm", "CRC32C"),
        ("x-amz-checksum-crc32c", "AAAAAA=="),
    ];
    let (status, body) = garage.post_form("diff/form-named.txt", &named, b"hello");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("InvalidDigest"), "{body}");
}
