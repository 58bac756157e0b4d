//! Issue 18: `updraft dev --faults`: each fault as a client meets it, with the CORS
//! headers S3 sends on its error answers, and what a fault did or did not store.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use updraft_core::http::{Body, Method};
use updraft_core::sigv4::{Signer, SigningParams};
use updraft_dev::faults::Fault;

async fn with_faults(dir: &std::path::Path, spec: &str) -> updraft_dev::Stack {
    let mut c = config(dir);
    c.faults = Some(spec.to_owned());
    c.faults_seed = Some(1);
    updraft_dev::start(&c).await.unwrap()
}

/// A signed PUT from the app's page (with `Origin`), sent raw: what came back before the
/// connection closed (empty when nothing did), or `None` when nothing came for `wait`.
async fn raw_put(
    info: &updraft_dev::StackInfo,
    key: &str,
    body: &[u8],
    extra: &[(&str, &str)],
    wait: Duration,
) -> Option<Vec<u8>> {
    let mut req = request(info, Method::Put, "uploads", key);
    for (n, v) in extra {
        req.set_header(n, *v);
    }
    req.body = Body::Bytes(body.to_vec());
    let c = creds(info);
    Signer::new()
        .sign(&mut req, &SigningParams::s3(&c, &info.region, now()))
        .unwrap();
    let h = host(&info.s3_endpoint);
    let mut s = TcpStream::connect(&h).await.unwrap();
    let mut head = format!(
        "PUT /uploads/{key} HTTP/1.1\r\nhost: {h}\r\norigin: {}\r\n",
        info.app_url
    );
    for (n, v) in &req.headers {
        if !n.eq_ignore_ascii_case("host") {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let exchange = async {
        s.write_all(head.as_bytes()).await.ok()?;
        // A fault may close the connection while the body is still going.
        let _ = s.write_all(body).await;
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw).await;
        Some(raw)
    };
    tokio::time::timeout(wait, exchange).await.ok().flatten()
}

#[tokio::test(flavor = "multi_thread")]
async fn r18_error_faults_answer_as_s3_does_with_cors_headers_and_store_nothing() {
    let dir = TempDir::new("faults-errors");
    for (spec, fault, status, code) in [
        ("500=1", Fault::InternalError, 500, "InternalError"),
        (
            "503=1",
            Fault::ServiceUnavailable,
            503,
            "ServiceUnavailable",
        ),
        ("slowdown=1", Fault::SlowDown, 503, "SlowDown"),
    ] {
        let stack = with_faults(&dir.0, spec).await;
        let info = stack.info();
        let raw = raw_put(info, "e", &[7u8; 300_000], &[], Duration::from_secs(20))
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        assert!(
            text.starts_with(&format!("HTTP/1.1 {status} ")),
            "{spec}: {text}"
        );
        assert!(
            text.contains(&format!("<Code>{code}</Code>")),
            "{spec}: {text}"
        );
        assert!(text.contains("<RequestId>"), "{spec}: {text}");
        let lower = text.to_ascii_lowercase();
        assert!(
            lower.contains(&format!("access-control-allow-origin: {}", info.app_url)),
            "{spec}: the page must see the status, not an opaque error: {text}"
        );
        assert!(
            lower.contains("access-control-expose-headers: etag"),
            "{text}"
        );
        // Preflights meet no fault (a page could not read their answer anyway).
        let pre = send(
            &host(&info.s3_endpoint),
            "OPTIONS",
            "/uploads/e",
            &[
                ("origin".to_owned(), info.app_url.clone()),
                ("access-control-request-method".to_owned(), "PUT".to_owned()),
            ],
            b"",
        )
        .await;
        assert_eq!(pre.status, 200, "{spec}");
        let faults = stack.faults().unwrap();
        assert_eq!(faults.count(fault), 1, "{spec}: {}", faults.summary());
        assert_eq!(
            faults.summary(),
            format!("faults injected: {}=1", fault.name())
        );
        stack.stop().await;
    }
    let stack = start(&dir.0).await;
    assert_eq!(get(stack.info(), "uploads", "e").await.status, 404);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn r18_expired_token_only_where_a_session_token_is_sent() {
    let dir = TempDir::new("faults-expired");
    let stack = with_faults(&dir.0, "expired-token=1").await;
    let info = stack.info();
    // The admin keys carry no token: nothing to expire, the PUT is stored.
    assert_eq!(
        put(info, "uploads", "plain", b"kept", &[]).await.status,
        200
    );
    let raw = raw_put(
        info,
        "tok",
        b"refused",
        &[("x-amz-security-token", "a-session-token")],
        Duration::from_secs(20),
    )
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    assert!(text.starts_with("HTTP/1.1 400 "), "{text}");
    assert!(text.contains("<Code>ExpiredToken</Code>"), "{text}");
    assert!(!text.contains("a-session-token"), "{text}");
    assert_eq!(stack.faults().unwrap().count(Fault::ExpiredToken), 1);
    stack.stop().await;
    let stack = start(&dir.0).await;
    assert_eq!(get(stack.info(), "uploads", "plain").await.body, b"kept");
    assert_eq!(get(stack.info(), "uploads", "tok").await.status, 404);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn r18_reset_stall_and_lost_answers_close_without_answering() {
    let dir = TempDir::new("faults-drop");
    let big = vec![3u8; 4 << 20];

    // reset: the connection closes part-way through the body; nothing is stored.
    let stack = with_faults(&dir.0, "reset=1").await;
    let raw = raw_put(stack.info(), "r", &big, &[], Duration::from_secs(20)).await;
    assert_eq!(raw.as_deref(), Some(&b""[..]), "a reset answers nothing");
    assert_eq!(stack.faults().unwrap().count(Fault::Reset), 1);
    stack.stop().await;

    // stall: no answer at all, the connection held open (and with it this store, so
    // on a directory of its own).
    let held = TempDir::new("faults-stall");
    let stack = with_faults(&held.0, "stall=1").await;
    let raw = raw_put(stack.info(), "s", b"held", &[], Duration::from_secs(2)).await;
    assert_eq!(
        raw, None,
        "a stall answers nothing and keeps the connection"
    );
    assert_eq!(stack.faults().unwrap().count(Fault::Stall), 1);
    drop(stack);

    // lose-answer: carried out, then the connection closes without the answer.
    let stack = with_faults(&dir.0, "lose-answer=1").await;
    let raw = raw_put(stack.info(), "l", &big, &[], Duration::from_secs(20)).await;
    assert_eq!(raw.as_deref(), Some(&b""[..]), "the answer is lost");
    assert_eq!(stack.faults().unwrap().count(Fault::LoseAnswer), 1);
    stack.stop().await;

    let stack = start(&dir.0).await;
    let info = stack.info();
    assert_eq!(get(info, "uploads", "r").await.status, 404);
    assert_eq!(
        get(info, "uploads", "l").await.body,
        big,
        "a lost answer's PUT is stored"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn r18_a_bad_fault_spec_stops_the_start_naming_the_flag() {
    let dir = TempDir::new("faults-bad");
    let mut c = config(&dir.0);
    c.faults = Some("503=0.1,timeout=0.2".to_owned());
    let err = updraft_dev::start(&c).await.unwrap_err().to_string();
    assert!(err.contains("--faults `503=0.1,timeout=0.2`"), "{err}");
    assert!(err.contains("`timeout` is not a fault; the faults are 500, 503, slowdown, reset, stall, expired-token, lose-answer"), "{err}");
    let mut c = config(&dir.0);
    c.faults_seed = Some(3);
    let err = updraft_dev::start(&c).await.unwrap_err().to_string();
    assert!(
        err.contains("--faults-seed is given without --faults"),
        "{err}"
    );
}
