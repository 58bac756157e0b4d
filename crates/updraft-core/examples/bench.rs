//! `cargo xtask bench core`: the engine's own cost, natively, with S3 answering at once
//! (no bytes move): per part of a large file, per small file, and per `poll_action`
//! with 30,000 files queued. Figures, not assertions.

use std::time::Instant;

use updraft_core::Credentials;
use updraft_core::engine::{Action, Engine, EngineConfig, FileSpec};
use updraft_core::http::{Method, Response};
use updraft_core::s3::{Addressing, Endpoint};

const NOW: u64 = 1_700_000_000_000;

fn engine(checksum: bool) -> Engine {
    let config = EngineConfig {
        bucket: "uploads".into(),
        endpoint: Endpoint::custom("http://127.0.0.1:9000", "us-east-1", Addressing::Auto)
            .expect("a valid endpoint"),
        checksum: if checksum {
            EngineConfig::default().checksum
        } else {
            None
        },
        ..EngineConfig::default()
    };
    let mut e = Engine::new(config, 7);
    e.set_credentials(
        Credentials::new("AKIDEXAMPLE", "secret").with_session_token("token"),
        NOW,
    );
    e
}

fn spec(i: usize, size: u64) -> FileSpec {
    FileSpec {
        name: format!("file-{i}.bin"),
        key: format!("alice/file-{i}.bin"),
        size,
        fingerprint: format!("{i}:{size}"),
        options: Default::default(),
        resume: None,
    }
}

/// Answers every request at once, as S3 would; returns how many requests were sent.
fn drive(e: &mut Engine) -> u64 {
    let mut sent = 0;
    loop {
        let mut pending = Vec::new();
        while let Some(a) = e.poll_action(NOW) {
            match a {
                Action::Send { id, request, .. } => pending.push((id, request)),
                Action::Checksum { file, part, .. } => e.handle_checksum(file, part, 0x1234),
                _ => {}
            }
        }
        while e.poll_event().is_some() {}
        if pending.is_empty() {
            return sent;
        }
        for (id, req) in pending {
            sent += 1;
            let q = |n: &str| req.query.iter().any(|(k, _)| k == n);
            let body = match req.method {
                Method::Post if q("uploads") => {
                    "<InitiateMultipartUploadResult><UploadId>u</UploadId></InitiateMultipartUploadResult>"
                }
                Method::Post => {
                    "<CompleteMultipartUploadResult><ETag>\"e-1\"</ETag></CompleteMultipartUploadResult>"
                }
                _ => "",
            };
            let response = Response {
                status: 200,
                headers: vec![("etag".into(), "\"etag\"".into())],
                body: body.as_bytes().to_vec(),
            };
            e.handle_response(id, Ok(response), NOW);
        }
    }
}

fn main() {
    // Per part: one 80 GiB file in 8 MiB parts (10,000 parts).
    for checksum in [false, true] {
        let mut e = engine(checksum);
        e.add(spec(0, 10_000 * 8 * 1024 * 1024)).expect("fits");
        let t = Instant::now();
        let sent = drive(&mut e);
        let per = t.elapsed().as_nanos() as f64 / sent as f64 / 1000.0;
        println!(
            "engine overhead per part (checksum {}): {per:.1} µs over {sent} requests",
            if checksum { "on" } else { "off" }
        );
    }
    // Per small file: 10,000 files of 1 KiB, one PUT each.
    let mut e = engine(true);
    for i in 0..10_000 {
        e.add(spec(i, 1024)).expect("fits");
    }
    let t = Instant::now();
    let sent = drive(&mut e);
    println!(
        "engine overhead per small file: {:.1} µs over {sent} files",
        t.elapsed().as_nanos() as f64 / sent as f64 / 1000.0
    );
    // Poll cost with 30,000 files queued and every slot busy.
    let mut e = engine(false);
    for i in 0..30_000 {
        e.add(spec(i, 1024)).expect("fits");
    }
    while e.poll_action(NOW).is_some() {}
    while e.poll_event().is_some() {}
    let rounds = 100_000;
    let t = Instant::now();
    for _ in 0..rounds {
        assert!(e.poll_action(NOW).is_none());
    }
    println!(
        "poll_action with 30,000 files queued: {:.0} ns",
        t.elapsed().as_nanos() as f64 / rounds as f64
    );
}
