//! `updraft dev` as a process (issue 4): `kill -9` mid-upload leaves no partial object,
//! a restart keeps what was committed, Ctrl-C stops cleanly, `--verbose` logs requests
//! without secrets; and `updraft upload` (the native driver) into it.
#![cfg(unix)]
// Test-only helpers: a failure here is a test failure, so unwrap is what we want.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Dev, TempDir, start};
use updraft_core::http::Method;

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

#[test]
fn r4_kill_9_mid_put_and_mid_multipart_leaves_no_partial_object() {
    let dir = TempDir::new("kill9");
    let mut dev = start(&dir.0, false);
    assert_eq!(
        dev.call(Method::Put, "done", &[], b"committed".to_vec()).0,
        200
    );
    let (status, text) = dev.call(Method::Post, "mp", &[("uploads", "")], Vec::new());
    assert_eq!(status, 200, "{text}");
    let upload_id = text
        .split("<UploadId>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let part1 = vec![1u8; 5 * 1024 * 1024];
    let q1 = [("partNumber", "1"), ("uploadId", upload_id.as_str())];
    assert_eq!(dev.call(Method::Put, "mp", &q1, part1).0, 200);

    let _put = dev.half_sent("partial", &[], 8 * 1024 * 1024, 3 * 1024 * 1024);
    let q2 = [("partNumber", "2"), ("uploadId", upload_id.as_str())];
    let _part = dev.half_sent("mp", &q2, 8 * 1024 * 1024, 2 * 1024 * 1024);
    std::thread::sleep(Duration::from_millis(300));
    dev.child.kill().unwrap(); // SIGKILL
    dev.child.wait().unwrap();
    drop(dev);

    let dev = start(&dir.0, false);
    let (status, text) = dev.call(Method::Get, "done", &[], Vec::new());
    assert!(status == 200 && text.ends_with("committed"), "{text}");
    assert_eq!(dev.call(Method::Head, "partial", &[], Vec::new()).0, 404);
    assert_eq!(dev.call(Method::Head, "mp", &[], Vec::new()).0, 404);
    // The upload survives with its complete part only.
    let (status, text) = dev.call(
        Method::Get,
        "mp",
        &[("uploadId", upload_id.as_str())],
        Vec::new(),
    );
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("<PartNumber>1</PartNumber>") && !text.contains("<PartNumber>2</PartNumber>"),
        "{text}"
    );
    // Nothing half-written is kept: the object, part 1, and an empty tmp/.
    assert_eq!(files_in(&dir.0.join("objects")), 2);
    assert_eq!(files_in(&dir.0.join("tmp")), 0);
}

#[test]
fn r4_ctrl_c_stops_cleanly_and_verbose_logs_without_secrets() {
    let dir = TempDir::new("sigint");
    let mut dev = start(&dir.0, true);
    assert_eq!(
        dev.call(Method::Put, "logged key.txt", &[], b"x".to_vec())
            .0,
        200
    );
    let status = Command::new("kill")
        .args(["-INT", &dev.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(s) = dev.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "still running 10 s after SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
    assert!(
        !dir.0.join("stack.json").exists(),
        "stack.json describes a running stack only"
    );
    let mut log = String::new();
    dev.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(log.contains("PUT uploads/logged key.txt 200"), "{log}");
    assert!(!log.contains(dev.creds.secret_access_key.expose()), "{log}");
    assert!(!log.contains("Signature"), "{log}");
}

#[test]
fn r4_updraft_upload_into_updraft_dev() {
    let dir = TempDir::new("upload");
    let work = TempDir::new("upload-work");
    let dev = start(&dir.0, false);
    let src = work.0.join("tree");
    std::fs::create_dir_all(src.join("sub dir")).unwrap();
    let big: Vec<u8> = (0..12 * 1024 * 1024 + 5).map(|i| (i % 251) as u8).collect();
    std::fs::write(src.join("big.bin"), &big).unwrap();
    std::fs::write(src.join("sub dir").join("ünï +#%.txt"), b"small").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_updraft"))
        .arg("upload")
        .arg(&src)
        .args([
            "--bucket",
            "uploads",
            "--prefix",
            "up/",
            "--endpoint-url",
            &dev.endpoint,
        ])
        .args([
            "--region",
            "us-east-1",
            "--path-style",
            "--no-progress",
            "--part-size",
            "5MiB",
        ])
        .arg("--resume-dir")
        .arg(work.0.join("resume"))
        .env("AWS_ACCESS_KEY_ID", &dev.creds.access_key_id)
        .env(
            "AWS_SECRET_ACCESS_KEY",
            dev.creds.secret_access_key.expose(),
        )
        .env("AWS_CONFIG_FILE", work.0.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", work.0.join("credentials"))
        .env("HOME", &work.0)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_S3")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "updraft upload failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, text, body) = dev.get_raw("up/tree/big.bin");
    assert_eq!(status, 200);
    assert!(body == big, "big.bin differs");
    assert!(
        text.to_ascii_lowercase().contains("etag: \"") && text.contains("-3\""),
        "3 parts of 5 MiB: {text}"
    );
    let (status, text) = dev.call(Method::Get, "up/tree/sub dir/ünï +#%.txt", &[], Vec::new());
    assert!(status == 200 && text.ends_with("small"), "{text}");
}

fn dev_token(dir: &Path, sub: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_updraft"))
        .args(["dev", "token", "--sub", sub, "--ttl", "600", "--data-dir"])
        .arg(dir)
        .output()
        .unwrap()
}

/// POSTs an STS form to the S3 origin; returns status and the whole answer.
fn sts_post(dev: &Dev, form: &str) -> (u16, String) {
    let mut s = TcpStream::connect(dev.host()).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nhost: {}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        dev.host(),
        form.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(form.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    (text.split(' ').nth(1).unwrap().parse().unwrap(), text)
}

#[test]
fn r5_dev_token_prints_the_jwt_alone_with_or_without_the_stack_and_sts_takes_it() {
    let dir = TempDir::new("token");
    // No stack yet: the key is made, the JWT alone is printed.
    let out = dev_token(&dir.0, "alice");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let jwt = stdout.strip_suffix('\n').unwrap();
    assert!(!jwt.contains(char::is_whitespace), "{stdout:?}");
    assert_eq!(jwt.split('.').count(), 3, "{stdout:?}");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(dir.0.join("oidc-key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // With the stack running (and logging), a fresh token buys temporary keys.
    let mut dev = start(&dir.0, true);
    let out = dev_token(&dir.0, "alice");
    let jwt = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let form = format!(
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn={}&RoleSessionName=cli&WebIdentityToken={}",
        enc("arn:aws:iam::000000000000:role/updraft-uploader"),
        enc(&jwt)
    );
    let (status, text) = sts_post(&dev, &form);
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("<SubjectFromWebIdentityToken>alice<"),
        "{text}"
    );
    // A tampered one is refused, and neither token reaches the log.
    let (status, text) = sts_post(
        &dev,
        &form.replace("WebIdentityToken=", "WebIdentityToken=x"),
    );
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("<Code>InvalidIdentityToken</Code>"), "{text}");
    let _ = Command::new("kill")
        .args(["-INT", &dev.child.id().to_string()])
        .status();
    let _ = dev.child.wait();
    let mut log = String::new();
    dev.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(!log.contains(&jwt[jwt.len() - 20..]), "{log}");
}

/// Virtual-hosted style (`BUCKET.localhost:PORT`, for clients such as Fine Uploader S3 that
/// address buckets by host name only, issue 17): a PUT signed for that host and `/KEY`
/// is verified and stored where path style reads it, and a preflight of the bucket's root
/// is the bucket's CORS, not STS's.
#[test]
fn r17_virtual_hosted_requests_reach_the_bucket() {
    use updraft_core::http::{Body, Request};
    use updraft_core::sigv4::{Signer, SigningParams};
    let dir = TempDir::new("vhost");
    let dev = start(&dir.0, false);
    let port = dev.host().rsplit(':').next().unwrap().to_string();
    let host = format!("uploads.localhost:{port}");
    let mut req = Request::new(Method::Put, "http", host.clone(), "/v/hosted.txt");
    req.body = Body::Bytes(b"by host name".to_vec());
    Signer::new()
        .sign(
            &mut req,
            &SigningParams::s3(&dev.creds, "us-east-1", common::now()),
        )
        .unwrap();
    let mut head = "PUT /v/hosted.txt HTTP/1.1\r\n".to_string();
    for (n, v) in &req.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("content-length: 12\r\nconnection: close\r\n\r\nby host name");
    let mut s = TcpStream::connect(dev.host()).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    let (status, _, body) = dev.get_raw("v/hosted.txt");
    assert_eq!((status, body.as_slice()), (200, &b"by host name"[..]));

    // The root of the bucket's host: its CORS rule (the app origin is admitted).
    let stack: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.0.join("stack.json")).unwrap()).unwrap();
    let app = stack["app_url"].as_str().unwrap().to_string();
    let pre = format!(
        "OPTIONS / HTTP/1.1\r\nHost: {host}\r\nOrigin: {app}\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n"
    );
    let mut s = TcpStream::connect(dev.host()).unwrap();
    s.write_all(pre.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(
        out.to_ascii_lowercase()
            .contains(&format!("access-control-allow-origin: {app}")),
        "{out}"
    );
}
