//! SigV4 against the AWS signing test suite (`../shared/testdata/sigv4`) and the S3
//! documentation's examples (`tests/data/s3-sigv4`), loaded by name from their files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;
use serde_json::Value;
use updraft_core::http::{Body, Method, Request};
use updraft_core::sigv4::{
    PathRule, Payload, PostPolicy, Signer, SigningParams, TokenPlacement, uri_encode,
};
use updraft_core::{Credentials, Timestamp};

fn suite_dir() -> PathBuf {
    // CI lays the repository out as `<dir>/main` beside `<dir>/shared`.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/sigv4")
}

fn s3_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/s3-sigv4")
}

fn read(dir: &Path, name: &str) -> Option<String> {
    let text = fs::read_to_string(dir.join(name)).ok()?;
    Some(text.replace("\r\n", "\n"))
}

fn cases(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(root)
        .unwrap_or_else(|e| panic!("cannot read test data {}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("request.txt").exists())
        .collect();
    dirs.sort();
    dirs
}

struct Case {
    name: String,
    context: Value,
    credentials: Credentials,
    time: Timestamp,
    request: Request,
}

/// Parses a case's `request.txt` (raw HTTP/1.1 with continuation lines) and context.
fn load(dir: &Path) -> Case {
    let context: Value = serde_json::from_str(&read(dir, "context.json").unwrap()).unwrap();
    let raw = read(dir, "request.txt").unwrap();
    let (head, body) = raw.split_once("\n\n").unwrap_or((raw.as_str(), ""));
    let mut lines = head.lines();
    let request_line = lines.next().unwrap();
    let (method, rest) = request_line.split_once(' ').unwrap();
    let target = rest.rsplit_once(" HTTP/").unwrap().0;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            let last = headers.last_mut().unwrap();
            last.1.push(' ');
            last.1.push_str(line.trim());
        } else {
            let (n, v) = line.split_once(':').unwrap();
            headers.push((n.to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let decode = |s: &str| percent_decode_str(s).decode_utf8().unwrap().into_owned();
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    let host = headers.iter().find(|(n, _)| n == "host").unwrap().1.clone();
    let method = match method {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        m => panic!("method {m}"),
    };
    let s3 = context["service"] == "s3";
    let mut request = Request::new(
        method,
        "https",
        host,
        // S3 cases hold the key as it is; the builders encode it once, as here.
        if s3 {
            uri_encode(path, false)
        } else {
            path.to_owned()
        },
    );
    request.query = query;
    request.headers = headers;
    request.body = if body.is_empty() {
        Body::Empty
    } else {
        Body::Bytes(body.as_bytes().to_vec())
    };
    let c = &context["credentials"];
    let mut credentials = Credentials::new(
        c["access_key_id"].as_str().unwrap(),
        c["secret_access_key"].as_str().unwrap(),
    );
    if let Some(t) = c["token"].as_str() {
        credentials = credentials.with_session_token(t);
    }
    let time = Timestamp::parse_rfc3339(context["timestamp"].as_str().unwrap(), "t").unwrap();
    Case {
        name: dir.file_name().unwrap().to_string_lossy().into_owned(),
        context,
        credentials,
        time,
        request,
    }
}

fn params<'a>(case: &'a Case, presign: bool) -> SigningParams<'a> {
    let ctx = &case.context;
    let region = ctx["region"].as_str().unwrap();
    if ctx["service"] == "s3" {
        let p = SigningParams::s3(&case.credentials, region, case.time);
        return if presign {
            p
        } else {
            p.with_payload(Payload::HashBody)
        };
    }
    let mut p = SigningParams::service(
        &case.credentials,
        region,
        ctx["service"].as_str().unwrap(),
        case.time,
    );
    p.path_rule = PathRule::Encode {
        normalize: ctx["normalize"].as_bool().unwrap(),
    };
    p.content_sha256_header = ctx["sign_body"].as_bool().unwrap();
    if ctx["omit_session_token"].as_bool() == Some(true) {
        p.token_placement = TokenPlacement::AfterSigning;
    }
    p
}

/// Checks every expected file the case has; returns how many were compared.
fn check(dir: &Path, variant: &str) -> usize {
    let case = load(dir);
    let mut req = case.request.clone();
    let mut signer = Signer::new();
    let p = params(&case, variant == "query");
    let sig = if variant == "header" {
        signer.sign(&mut req, &p).unwrap()
    } else {
        let secs = case.context["expiration_in_seconds"].as_u64().unwrap() as u32;
        signer.presign(&mut req, &p, secs).unwrap()
    };
    let mut compared = 0;
    let mut expect = |file: &str, got: &str| {
        if let Some(want) = read(dir, &format!("{variant}-{file}")) {
            assert_eq!(
                got,
                want.trim_end_matches('\n'),
                "{} {variant}-{file}",
                case.name
            );
            compared += 1;
        }
    };
    expect("canonical-request.txt", &sig.canonical_request);
    expect("string-to-sign.txt", &sig.string_to_sign);
    expect("signature.txt", &sig.signature);
    if let Some(signed) = read(dir, &format!("{variant}-signed-request.txt")) {
        if variant == "header" {
            let want = signed
                .lines()
                .find_map(|l| l.strip_prefix("Authorization:"))
                .unwrap();
            assert_eq!(req.header("authorization").unwrap(), want, "{}", case.name);
            let token = signed
                .lines()
                .find_map(|l| l.strip_prefix("X-Amz-Security-Token:"));
            assert_eq!(req.header("x-amz-security-token"), token, "{}", case.name);
        } else {
            // The presigned URL carries the same parameters (in any order; the suite
            // writes some raw, so compare them decoded).
            let line = signed.lines().next().unwrap();
            let target = line
                .split_once(' ')
                .unwrap()
                .1
                .rsplit_once(" HTTP/")
                .unwrap()
                .0;
            let decoded = |q: &str| -> Vec<String> {
                q.split('&')
                    .map(|p| percent_decode_str(p).decode_utf8().unwrap().into_owned())
                    .collect()
            };
            let mut want = decoded(target.split_once('?').unwrap().1);
            let url = req.url();
            let mut got = decoded(url.split_once('?').unwrap().1);
            want.sort();
            got.sort();
            assert_eq!(got, want, "{}", case.name);
        }
        compared += 1;
    }
    compared
}

#[test]
fn aws_signing_suite() {
    let dirs = cases(&suite_dir());
    assert!(dirs.len() >= 30, "the suite has {} cases", dirs.len());
    for dir in &dirs {
        assert_eq!(check(dir, "header"), 4, "{}", dir.display());
        assert_eq!(check(dir, "query"), 4, "{}", dir.display());
    }
}

#[test]
fn s3_documentation_examples() {
    let mut compared = 0;
    for dir in cases(&s3_dir()) {
        compared += check(&dir, "header") + check(&dir, "query");
    }
    // four header examples and one presigned URL, three files each
    assert_eq!(compared, 15);
}

#[test]
fn s3_post_policy_example() {
    let dir = s3_dir().join("post-policy");
    let case_ctx: Value = serde_json::from_str(&read(&dir, "context.json").unwrap()).unwrap();
    let c = &case_ctx["credentials"];
    let creds = Credentials::new(
        c["access_key_id"].as_str().unwrap(),
        c["secret_access_key"].as_str().unwrap(),
    );
    let time = Timestamp::parse_rfc3339(case_ctx["timestamp"].as_str().unwrap(), "t").unwrap();
    let p = SigningParams::s3(&creds, "us-east-1", time);
    let policy = read(&dir, "policy.b64").unwrap();
    let want = read(&dir, "signature.txt").unwrap();
    assert_eq!(Signer::new().sign_string(&p, policy.trim()), want.trim());
}

#[test]
fn post_policy_form_carries_signed_fields() {
    let creds = Credentials::new("AKID", "secret").with_session_token("TOKEN");
    let time = Timestamp::from_unix(1_700_000_000);
    let p = SigningParams::s3(&creds, "eu-west-1", time);
    let mut signer = Signer::new();
    let form = PostPolicy::new(time.add_secs(600))
        .equals("bucket", "uploads")
        .starts_with("key", "alice/")
        .content_length_range(0, 1024)
        .sign(&mut signer, &p);
    let field = |n: &str| {
        form.fields
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
    };
    let json = String::from_utf8(base64_decode(&field("Policy").unwrap())).unwrap();
    let doc: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["expiration"], "2023-11-14T22:23:20.000Z");
    let conditions = doc["conditions"].as_array().unwrap();
    assert!(conditions.contains(&serde_json::json!(["starts-with", "$key", "alice/"])));
    assert!(conditions.contains(&serde_json::json!(["content-length-range", 0, 1024])));
    assert!(conditions.contains(&serde_json::json!({"x-amz-security-token": "TOKEN"})));
    assert_eq!(field("X-Amz-Security-Token").as_deref(), Some("TOKEN"));
    assert_eq!(
        field("X-Amz-Credential").as_deref(),
        Some("AKID/20231114/eu-west-1/s3/aws4_request")
    );
    assert_eq!(
        field("X-Amz-Signature").unwrap(),
        signer.sign_string(&p, &field("Policy").unwrap())
    );
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

#[test]
fn signing_key_is_cached_per_day_region_and_service() {
    let creds = Credentials::new("AKID", "secret");
    let mut signer = Signer::new();
    let t = Timestamp::from_unix(1_700_000_000);
    for i in 0..100 {
        let mut req = Request::new(Method::Put, "https", "b.s3.amazonaws.com", format!("/k{i}"));
        signer
            .sign(
                &mut req,
                &SigningParams::s3(&creds, "us-east-1", t.add_secs(i)),
            )
            .unwrap();
    }
    assert_eq!(signer.cached_keys(), 1);
    let mut req = Request::new(Method::Put, "https", "b.s3.amazonaws.com", "/k");
    signer
        .sign(
            &mut req,
            &SigningParams::s3(&creds, "us-east-1", t.add_secs(86_400)),
        )
        .unwrap();
    assert_eq!(signer.cached_keys(), 2);
    // A different secret under the same key id never reuses the cached key.
    let other = Credentials::new("AKID", "other");
    let mut a = Request::new(Method::Get, "https", "h", "/");
    let mut b = a.clone();
    let sa = signer
        .sign(&mut a, &SigningParams::s3(&creds, "us-east-1", t))
        .unwrap();
    let sb = signer
        .sign(&mut b, &SigningParams::s3(&other, "us-east-1", t))
        .unwrap();
    assert_ne!(sa.signature, sb.signature);
}

#[test]
fn presign_rejects_bad_expiry_and_external_bodies_need_a_hash() {
    let creds = Credentials::new("AKID", "secret");
    let t = Timestamp::from_unix(0);
    let mut req = Request::new(Method::Get, "https", "h", "/k");
    let p = SigningParams::s3(&creds, "us-east-1", t);
    let err = Signer::new().presign(&mut req, &p, 604_801).unwrap_err();
    assert!(err.to_string().contains("7 days"), "{err}");
    let mut put = Request::new(Method::Put, "https", "h", "/k");
    put.body = Body::External { len: 10 };
    let err = Signer::new()
        .sign(&mut put, &p.clone().with_payload(Payload::HashBody))
        .unwrap_err();
    assert!(err.to_string().contains("Payload::Sha256"), "{err}");
}
