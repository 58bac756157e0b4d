//! `updraft doctor` against `updraft dev` (issue 14): it passes on the stack as it starts;
//! broken one fault at a time, each run names that fault and its fix, and nothing else.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{Dev, TempDir, start};
use updraft_core::http::Method;

/// `updraft doctor --config <app>/config.json [--token-file F] [extra]`: exit code, stdout.
fn doctor(app: &str, token: Option<&Path>, extra: &[&str]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_updraft"));
    cmd.args(["doctor", "--config", &format!("{app}/config.json")]);
    if let Some(t) = token {
        cmd.arg("--token-file").arg(t);
    }
    let out = cmd.args(extra).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// The names of the checks that failed.
fn failed(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.strip_prefix("FAIL  "))
        .map(|l| l.split(':').next().unwrap_or(l))
        .collect()
}

/// Sets the bucket's CORS rule (admin keys).
fn put_cors(dev: &Dev, origin: &str, headers: &[&str], expose: &[&str]) {
    let mut xml = String::from("<CORSConfiguration><CORSRule>");
    xml.push_str(&format!("<AllowedOrigin>{origin}</AllowedOrigin>"));
    for m in ["PUT", "POST", "GET", "HEAD", "DELETE"] {
        xml.push_str(&format!("<AllowedMethod>{m}</AllowedMethod>"));
    }
    for h in headers {
        xml.push_str(&format!("<AllowedHeader>{h}</AllowedHeader>"));
    }
    for h in expose {
        xml.push_str(&format!("<ExposeHeader>{h}</ExposeHeader>"));
    }
    xml.push_str("</CORSRule></CORSConfiguration>");
    let (status, body) = dev.call(Method::Put, "", &[("cors", "")], xml.into_bytes());
    assert_eq!(status, 200, "{body}");
}

#[test]
fn r14_doctor_passes_on_the_stack_then_names_each_fault_and_its_fix() {
    let dir = TempDir::new("doctor");
    let work = TempDir::new("doctor-work");
    let dev = start(&dir.0, false);
    let stack: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.0.join("stack.json")).unwrap()).unwrap();
    let app = stack["app_url"].as_str().unwrap();
    let token = |aud: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_updraft"));
        cmd.args(["dev", "token", "--sub", "alice", "--data-dir"])
            .arg(&dir.0);
        if let Some(a) = aud {
            cmd.args(["--aud", a]);
        }
        let out = cmd.output().unwrap();
        let path = work.0.join(format!("token-{}", aud.unwrap_or("app")));
        std::fs::write(&path, out.stdout).unwrap();
        path
    };
    let good = token(None);

    // The stack as it starts: everything passes, the test upload included.
    let (code, text) = doctor(app, Some(&good), &[]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("ok    ")).count(),
        6,
        "{text}"
    );
    assert!(
        text.contains("PUT, DELETE, CreateMultipartUpload, AbortMultipartUpload of alice/"),
        "{text}"
    );

    let all = ["*"];
    let expose = updraft_core::s3::cors::EXPOSE_HEADERS;
    let no_token: Vec<&str> = updraft_core::s3::cors::ALLOWED_HEADERS
        .iter()
        .copied()
        .filter(|h| *h != "x-amz-security-token")
        .collect();
    let no_etag: Vec<&str> = expose.iter().copied().filter(|h| *h != "ETag").collect();
    let put = "CORS preflight for PUT (PutObject, UploadPart)";
    let post = "CORS preflight for POST (CreateMultipartUpload, CompleteMultipartUpload)";
    let exposed = "headers the page reads (Access-Control-Expose-Headers)";
    struct Case<'a> {
        fault: &'a str,
        cors: (&'a str, &'a [&'a str], &'a [&'a str]),
        token: &'a Path,
        extra: &'a [&'a str],
        fails: &'a [&'a str],
        says: &'a [&'a str],
    }
    let other = token(Some("another-app"));
    let cases = [
        Case {
            fault: "CORS without ETag",
            cors: (app, &all, &no_etag),
            token: &good,
            extra: &[],
            fails: &[exposed],
            says: &[
                "does not expose ETag (without it the page cannot complete a multipart upload)",
                "add \"ETag\" to the rule's ExposeHeaders",
                "aws s3api put-bucket-cors --bucket uploads",
            ],
        },
        Case {
            fault: "CORS without x-amz-security-token",
            cors: (app, &no_token, expose),
            token: &good,
            extra: &[],
            fails: &[put, post],
            says: &[
                "does not allow the request header x-amz-security-token that the package sends with PUT",
                "add \"x-amz-security-token\" to the rule's AllowedHeaders",
            ],
        },
        Case {
            fault: "CORS without the app origin",
            cors: ("https://elsewhere.example", &all, expose),
            token: &good,
            extra: &[],
            fails: &[put, post, exposed],
            says: &[
                &format!("no CORS rule of the bucket admits the origin {app}"),
                &format!("\"AllowedOrigins\":[\"{app}\"]"),
            ],
        },
        Case {
            fault: "a token for another app",
            cors: (app, &all, expose),
            token: &other,
            extra: &[],
            fails: &["STS AssumeRoleWithWebIdentity"],
            says: &[
                "Incorrect token audience",
                "the token is for the app (client id) `another-app`",
                ":aud` equal `another-app`",
                "skip  test upload and abort under the user's folder: STS gave no keys",
            ],
        },
        Case {
            fault: "a clock 20 minutes ahead",
            cors: (app, &all, expose),
            token: &good,
            extra: &["--clock-offset", "1200"],
            fails: &["clock"],
            says: &[
                "this machine's clock is 20 min ahead of S3's",
                "set the clock by NTP",
            ],
        },
    ];
    for c in cases {
        put_cors(&dev, c.cors.0, c.cors.1, c.cors.2);
        let (code, text) = doctor(app, Some(c.token), c.extra);
        assert_eq!(code, 1, "{}: {text}", c.fault);
        assert_eq!(
            failed(&text),
            c.fails,
            "{}: only its own checks fail:\n{text}",
            c.fault
        );
        for s in c.says {
            assert!(text.contains(s), "{}: `{s}` not in:\n{text}", c.fault);
        }
    }
    // Fixed as the fix says: all pass again.
    put_cors(&dev, app, updraft_core::s3::cors::ALLOWED_HEADERS, expose);
    let (code, text) = doctor(app, Some(&good), &[]);
    assert_eq!(code, 0, "{text}");
}
