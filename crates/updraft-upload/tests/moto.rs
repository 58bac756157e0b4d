//! The native driver against moto (PyPI `moto[server]`), an S3 implementation nobody here
//! wrote: single and multipart uploads succeed and read back byte for byte, so our
//! requests are valid S3, not just valid updraft. moto checks no signatures; the
//! signature tests run against `updraft dev`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use updraft_core::checksum::ChecksumAlgorithm;
use updraft_core::engine::EngineConfig;
use updraft_core::http::{Method, Request};
use updraft_core::plan::PlanConfig;
use updraft_core::s3::{Addressing, Endpoint, PutOptions};
use updraft_core::sigv4::{Signer, SigningParams};
use updraft_core::{Credentials, Timestamp};
use updraft_upload::config::CredentialSource;
use updraft_upload::driver::{Job, Summary, run};
use updraft_upload::files::plan;
use updraft_upload::output::{Mode, Output};
use updraft_upload::resume::ResumeStore;

const MIB: usize = 1 << 20;

struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_server() -> PathBuf {
    if let Some(p) = std::env::var_os("UPDRAFT_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").expect("HOME");
    let p = Path::new(&home).join(".cache/updraft/venv/bin/moto_server");
    assert!(
        p.exists(),
        "moto is not installed at {}: `cargo xtask test` installs it (pip install \
         'moto[server]' into ~/.cache/updraft/venv)",
        p.display()
    );
    p
}

fn start_moto() -> Moto {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(moto_server())
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    // Ready when it answers HTTP, not when it accepts a connection: a freshly started
    // moto (a cold venv) has reset the first request after accepting the probe.
    let answers = || {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let mut head = [0u8; 5];
        s.write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .is_ok()
            && s.read_exact(&mut head).is_ok()
            && &head == b"HTTP/"
    };
    for _ in 0..200 {
        if answers() {
            return Moto {
                child,
                url: format!("http://127.0.0.1:{port}"),
            };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("moto_server did not start on port {port}");
}

fn creds() -> Credentials {
    Credentials::new("testing", "testing")
}

fn endpoint(url: &str) -> Endpoint {
    Endpoint::custom(url, "us-east-1", Addressing::Auto).unwrap()
}

/// A signed request of our own, for what the driver does not do (create, download).
async fn call(url: &str, method: Method, bucket: &str, key: Option<&str>) -> (u16, Vec<u8>) {
    let e = endpoint(url);
    let (host, path) = e.locate(bucket, key);
    let mut req = Request::new(method, "http", host, path);
    let c = creds();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    Signer::new()
        .sign(
            &mut req,
            &SigningParams::s3(&c, "us-east-1", Timestamp::from_unix(now)),
        )
        .unwrap();
    let client = reqwest::Client::new();
    let m = reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap();
    let mut rb = client.request(m, req.url());
    for (n, v) in &req.headers {
        if n != "host" {
            rb = rb.header(n.as_str(), v.as_str());
        }
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.bytes().await.unwrap().to_vec())
}

fn write(path: &Path, len: usize, seed: u64) -> Vec<u8> {
    let mut rng = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let data: Vec<u8> = (0..len)
        .map(|_| {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (rng >> 56) as u8
        })
        .collect();
    std::fs::write(path, &data).unwrap();
    data
}

fn job(
    url: &str,
    bucket: &str,
    paths: &[PathBuf],
    prefix: &str,
    checksum: Option<ChecksumAlgorithm>,
    resume: Option<ResumeStore>,
    concurrency: usize,
) -> Job {
    Job {
        engine: EngineConfig {
            bucket: bucket.into(),
            endpoint: endpoint(url),
            concurrency,
            checksum,
            plan: PlanConfig {
                part_size: 5 * MIB as u64,
                multipart_threshold: 5 * MIB as u64,
            },
            ..EngineConfig::default()
        },
        files: plan(paths, prefix, None).unwrap(),
        credentials: CredentialSource::Static(creds()),
        options: PutOptions::default(),
        resume,
        record_interval_ms: 0,
        abort_on_cancel: false,
    }
}

async fn upload(job: Job) -> Summary {
    let mut out = Output::new(Mode::Quiet);
    run(job, &mut out, std::future::pending()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_and_multipart_uploads_read_back_byte_for_byte() {
    let moto = start_moto();
    assert_eq!(call(&moto.url, Method::Put, "peer", None).await.0, 200);
    let dir = tempfile::tempdir().unwrap();
    let sizes = [0, 1, 5 * MIB - 1, 5 * MIB + 1, 12 * MIB + 3];
    let mut expected = Vec::new();
    let mut paths = Vec::new();
    for (i, size) in sizes.iter().enumerate() {
        let p = dir.path().join(format!("f{i} odd +%#.bin"));
        expected.push((format!("in/f{i} odd +%#.bin"), write(&p, *size, i as u64)));
        paths.push(p);
    }
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    for i in 0..20 {
        let rel = if i % 2 == 0 {
            format!("sub/s{i}")
        } else {
            format!("t{i}")
        };
        expected.push((
            format!("in/tree/{rel}"),
            write(&tree.join(&rel), 100 + i, 99 + i as u64),
        ));
    }
    paths.push(tree);
    for checksum in [
        Some(ChecksumAlgorithm::Crc64Nvme),
        Some(ChecksumAlgorithm::Crc32c),
        None,
    ] {
        let summary = upload(job(&moto.url, "peer", &paths, "in/", checksum, None, 4)).await;
        assert!(
            summary.failed.is_empty(),
            "{checksum:?}: {:?}",
            summary.failed
        );
        assert_eq!(summary.completed, expected.len());
        for (key, data) in &expected {
            let (status, body) = call(&moto.url, Method::Get, "peer", Some(key)).await;
            assert_eq!(status, 200, "{key}");
            assert!(
                body == *data,
                "{key}: {} bytes back, {} sent",
                body.len(),
                data.len()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_upload_resumes_without_resending_finished_parts() {
    let moto = start_moto();
    assert_eq!(call(&moto.url, Method::Put, "resume", None).await.0, 200);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.bin");
    let data = write(&file, 100 * MIB, 7);
    let store_dir = dir.path().join("records");
    let store = ResumeStore::new(store_dir.clone());
    let paths = vec![file];

    // Interrupt once the stored record holds three parts.
    let interrupt = async move {
        loop {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let parts = std::fs::read_dir(&store_dir)
                .ok()
                .and_then(|mut d| d.next())
                .and_then(|e| e.ok())
                .and_then(|e| std::fs::read_to_string(e.path()).ok())
                .and_then(|t| updraft_core::engine::ResumeRecord::from_json(&t).ok())
                .map_or(0, |r| r.parts.len());
            if parts >= 3 {
                return;
            }
        }
    };
    let mut out = Output::new(Mode::Quiet);
    let first = run(
        job(
            &moto.url,
            "resume",
            &paths,
            "",
            Some(ChecksumAlgorithm::Crc64Nvme),
            Some(store.clone()),
            1,
        ),
        &mut out,
        interrupt,
    )
    .await;
    assert!(first.interrupted);
    assert_eq!(first.completed, 0);
    assert_eq!(store.len(), 1, "the record is kept for the next run");

    let second = upload(job(
        &moto.url,
        "resume",
        &paths,
        "",
        Some(ChecksumAlgorithm::Crc64Nvme),
        Some(store.clone()),
        1,
    ))
    .await;
    assert!(second.failed.is_empty(), "{:?}", second.failed);
    assert_eq!(second.completed, 1);
    // 20 parts of 5 MiB: what the first run finished is not sent again (one part may have
    // been in flight when it stopped).
    assert!(first.parts_sent >= 3);
    assert!(first.parts_sent < 20, "interrupted too late to tell");
    assert!(
        first.parts_sent + second.parts_sent <= 20 + 1,
        "first {} + second {} parts",
        first.parts_sent,
        second.parts_sent
    );
    assert!(store.is_empty(), "the record is gone once complete");
    let (status, body) = call(&moto.url, Method::Get, "resume", Some("big.bin")).await;
    assert_eq!(status, 200);
    assert!(body == data);
}
