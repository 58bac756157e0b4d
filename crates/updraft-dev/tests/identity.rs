//! Issue 5: the dev issuer, STS AssumeRoleWithWebIdentity, session tokens and the role's
//! policy, over HTTP against a stack on ephemeral ports. STS answers are read with
//! `updraft-core`'s `sts` module, which proves they parse as AWS's do.
// Test-only helpers: a failure here is a test failure, so unwrap is what we want.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use base64::Engine as _;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use updraft_core::http::{Body, Method, Response};
use updraft_core::s3::{Origin, Scheme};
use updraft_core::sts::{AssumeRoleWithWebIdentity, StsError};
use updraft_core::{Credentials, Error};
use updraft_dev::oidc::IssuerKey;
use updraft_dev::{DevConfig, StackInfo};

const ROLE: &str = "arn:aws:iam::000000000000:role/updraft-uploader";

fn sts_origin(info: &StackInfo) -> Origin {
    Origin {
        scheme: Scheme::Http,
        host: host(&info.sts_endpoint),
    }
}

fn call(token: &str, duration: Option<u32>) -> AssumeRoleWithWebIdentity {
    AssumeRoleWithWebIdentity {
        role_arn: ROLE.to_owned(),
        role_session_name: "test-session".to_owned(),
        web_identity_token: updraft_core::credentials::Secret::new(token),
        provider_id: None,
        duration_seconds: duration,
        policy: None,
    }
}

async fn send_core(info: &StackInfo, req: updraft_core::http::Request) -> Resp {
    let url = req.url();
    let rest = url.trim_start_matches("http://");
    let target = rest[rest.find('/').unwrap()..].to_owned();
    let body = match &req.body {
        Body::Bytes(b) => b.clone(),
        _ => Vec::new(),
    };
    send(
        &host(&info.sts_endpoint),
        req.method.as_str(),
        &target,
        &req.headers,
        &body,
    )
    .await
}

fn core_response(r: &Resp) -> Response {
    Response {
        status: r.status,
        headers: r
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect(),
        body: r.body.clone(),
    }
}

/// AssumeRoleWithWebIdentity as a POST form; the error is STS's.
async fn assume(
    info: &StackInfo,
    token: &str,
    duration: Option<u32>,
) -> Result<Credentials, Box<StsError>> {
    let c = call(token, duration);
    let r = send_core(info, c.request(&sts_origin(info))).await;
    match c.parse(&core_response(&r)) {
        Ok(out) => Ok(out.credentials),
        Err(Error::Sts(e)) => Err(e),
        Err(e) => panic!("not an STS answer: {e}: {}", r.text()),
    }
}

async fn start_with(dir: &Path, f: impl FnOnce(&mut DevConfig)) -> updraft_dev::Stack {
    let mut c = config(dir);
    f(&mut c);
    updraft_dev::start(&c).await.unwrap()
}

async fn user(info: &StackInfo, dir: &Path, sub: &str) -> Credentials {
    let tok = updraft_dev::id_token(dir, sub, 600).unwrap();
    assume(info, &tok, None).await.unwrap()
}

#[tokio::test]
async fn r5_sts_post_and_get_answer_as_aws_and_the_keys_work_under_the_users_folder() {
    let dir = TempDir::new("sts");
    let stack = start(&dir.0).await;
    let info = stack.info();
    let tok = updraft_dev::id_token(&dir.0, "alice", 600).unwrap();

    // POST form.
    let c = call(&tok, Some(900));
    let r = send_core(info, c.request(&sts_origin(info))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.text().contains(&tok), "the answer echoes the token");
    let out = c.parse(&core_response(&r)).unwrap();
    assert_eq!(
        out.subject_from_web_identity_token.as_deref(),
        Some("alice")
    );
    assert_eq!(out.audience.as_deref(), Some("updraft-dev"));
    assert_eq!(
        out.assumed_role_arn.as_deref(),
        Some("arn:aws:sts::000000000000:assumed-role/updraft-uploader/test-session")
    );
    let creds = out.credentials;
    assert!(creds.access_key_id.starts_with("ASIA"));
    assert!(creds.session_token.is_some());
    let exp = creds.expiration.unwrap().0 - now().0;
    assert!((890..=910).contains(&exp), "{exp}");

    // GET query.
    let r = send_core(info, c.get_request(&sts_origin(info))).await;
    assert_eq!(r.status, 200, "{}", r.text());

    // Put, get, list, delete under alice/.
    let mut req = request(info, Method::Put, "uploads", "alice/a.txt");
    req.body = Body::Bytes(b"hello".to_vec());
    let r = signed(info, &creds, req).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = signed(
        info,
        &creds,
        request(info, Method::Get, "uploads", "alice/a.txt"),
    )
    .await;
    assert_eq!((r.status, r.body.as_slice()), (200, b"hello".as_slice()));
    let mut req = request(info, Method::Get, "uploads", "");
    req.query = vec![
        ("list-type".into(), "2".into()),
        ("prefix".into(), "alice/".into()),
    ];
    let r = signed(info, &creds, req).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("alice/a.txt"));
    // A presigned GET carries the session token in the query.
    let mut signer = updraft_core::sigv4::Signer::new();
    let mut req = request(info, Method::Get, "uploads", "alice/a.txt");
    let p = updraft_core::sigv4::SigningParams::s3(&creds, &info.region, now());
    signer.presign(&mut req, &p, 300).unwrap();
    let url = req.url();
    let rest = url.trim_start_matches("http://");
    let target = &rest[rest.find('/').unwrap()..];
    assert!(target.contains("X-Amz-Security-Token"));
    let r = send(&host(&info.s3_endpoint), "GET", target, &[], b"").await;
    assert_eq!((r.status, r.body.as_slice()), (200, b"hello".as_slice()));
    let r = signed(
        info,
        &creds,
        request(info, Method::Delete, "uploads", "alice/a.txt"),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    stack.stop().await;
}

#[tokio::test]
async fn r5_alice_cannot_write_read_list_or_abort_under_bob() {
    let dir = TempDir::new("alice-bob");
    let stack = start(&dir.0).await;
    let info = stack.info();
    let alice = user(info, &dir.0, "alice").await;
    assert_eq!(
        put(info, "uploads", "bob/secret.txt", b"bob's", &[])
            .await
            .status,
        200
    );

    let mut req = request(info, Method::Put, "uploads", "bob/evil.txt");
    req.body = Body::Bytes(b"x".to_vec());
    let r = signed(info, &alice, req).await;
    assert_eq!((r.status, r.code().as_str()), (403, "AccessDenied"));
    let r = signed(
        info,
        &alice,
        request(info, Method::Get, "uploads", "bob/secret.txt"),
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (403, "AccessDenied"));
    let r = signed(
        info,
        &alice,
        request(info, Method::Head, "uploads", "bob/secret.txt"),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = signed(
        info,
        &alice,
        request(info, Method::Delete, "uploads", "bob/secret.txt"),
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (403, "AccessDenied"));
    for prefix in [
        Some("bob/"),
        Some(""),
        None,
        Some("alice"),
        Some("alice/../bob/"),
    ] {
        let mut req = request(info, Method::Get, "uploads", "");
        req.query = vec![("list-type".into(), "2".into())];
        if let Some(p) = prefix {
            req.query.push(("prefix".into(), p.into()));
        }
        let r = signed(info, &alice, req).await;
        // "alice/../bob/" is a prefix under alice/ as S3 sees it (keys are not paths).
        if prefix == Some("alice/../bob/") {
            assert_eq!(r.status, 200);
            assert!(!r.text().contains("bob/secret"));
        } else {
            assert_eq!(
                (r.status, r.code().as_str()),
                (403, "AccessDenied"),
                "{prefix:?}"
            );
        }
    }
    // Bob's multipart upload: alice may neither list its parts nor abort it.
    let mut req = request(info, Method::Post, "uploads", "bob/big.bin");
    req.query = vec![("uploads".into(), String::new())];
    let r = admin(info, req).await;
    let t = r.text();
    let upload_id = t
        .split("<UploadId>")
        .nth(1)
        .and_then(|r| r.split("</UploadId>").next())
        .unwrap()
        .to_owned();
    for method in [Method::Delete, Method::Get] {
        let mut req = request(info, method, "uploads", "bob/big.bin");
        req.query = vec![("uploadId".into(), upload_id.clone())];
        let r = signed(info, &alice, req).await;
        assert_eq!((r.status, r.code().as_str()), (403, "AccessDenied"));
    }
    let mut req = request(info, Method::Post, "uploads", "bob/alice-started.bin");
    req.query = vec![("uploads".into(), String::new())];
    assert_eq!(signed(info, &alice, req).await.status, 403);
    // Other buckets and bucket-level operations are out of reach too.
    let r = signed(info, &alice, request(info, Method::Put, "other", "")).await;
    assert_eq!(r.status, 403);
    let r = signed(info, &alice, request(info, Method::Get, "", "")).await;
    assert_eq!(r.status, 403);
    // Copying bob's object into alice's folder reads bob's: denied.
    let mut req = request(info, Method::Put, "uploads", "alice/copy.txt");
    req.set_header("x-amz-copy-source", "/uploads/bob/secret.txt");
    assert_eq!(signed(info, &alice, req).await.status, 403);
    // DeleteObjects is checked key by key: alice's goes, bob's is AccessDenied.
    assert_eq!(
        put(info, "uploads", "alice/mine.txt", b"m", &[])
            .await
            .status,
        200
    );
    let xml = "<Delete><Object><Key>alice/mine.txt</Key></Object><Object><Key>bob/secret.txt</Key></Object></Delete>";
    let mut req = request(info, Method::Post, "uploads", "");
    req.query = vec![("delete".into(), String::new())];
    {
        use sha2::Digest as _;
        req.set_header(
            "x-amz-checksum-sha256",
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(xml.as_bytes())),
        );
    }
    req.body = Body::Bytes(xml.as_bytes().to_vec());
    let r = signed(info, &alice, req).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let t = r.text();
    assert!(t.contains("<Deleted><Key>alice/mine.txt</Key>"), "{t}");
    assert!(
        t.contains("<Code>AccessDenied</Code>") && t.contains("<Key>bob/secret.txt</Key>"),
        "{t}"
    );
    assert_eq!(get(info, "uploads", "alice/mine.txt").await.status, 404);
    // The admin keys stay all-powerful.
    assert_eq!(get(info, "uploads", "bob/secret.txt").await.status, 200);
    stack.stop().await;
}

#[tokio::test]
async fn r5_expired_temporary_keys_get_expired_token_and_altered_tokens_are_refused() {
    let dir = TempDir::new("expiry");
    let stack = start_with(&dir.0, |c| c.min_session_seconds = 1).await;
    let info = stack.info();
    let tok = updraft_dev::id_token(&dir.0, "alice", 600).unwrap();
    let short = assume(info, &tok, Some(1)).await.unwrap();
    let good = assume(info, &tok, None).await.unwrap();

    // One byte altered, anywhere in the token: refused.
    let t = good.session_token.as_ref().unwrap().expose().to_owned();
    for i in [0, t.len() / 3, t.len() / 2, t.len() - 1] {
        let mut b = t.clone().into_bytes();
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        let mut altered = good.clone();
        altered.session_token = Some(updraft_core::credentials::Secret::new(
            String::from_utf8(b).unwrap(),
        ));
        let r = signed(
            info,
            &altered,
            request(info, Method::Get, "uploads", "alice/x"),
        )
        .await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "InvalidToken"),
            "byte {i}"
        );
        assert!(!r.text().contains(&t[..20]));
    }
    // Another key's token: refused.
    let mut swapped = short.clone();
    swapped.session_token = good.session_token.clone();
    let r = signed(
        info,
        &swapped,
        request(info, Method::Get, "uploads", "alice/x"),
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (400, "InvalidToken"));
    // No token at all.
    let mut none = good.clone();
    none.session_token = None;
    let r = signed(
        info,
        &none,
        request(info, Method::Get, "uploads", "alice/x"),
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (403, "InvalidAccessKeyId"));

    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let mut req = request(info, Method::Put, "uploads", "alice/late.txt");
    req.body = Body::Bytes(b"late".to_vec());
    let r = signed(info, &short, req).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "ExpiredToken"),
        "{}",
        r.text()
    );
    // The default minimum is AWS's 900 s.
    let dir2 = TempDir::new("expiry-default");
    let stack2 = start(&dir2.0).await;
    let tok2 = updraft_dev::id_token(&dir2.0, "alice", 600).unwrap();
    let e = assume(stack2.info(), &tok2, Some(899)).await.unwrap_err();
    assert_eq!(e.code, "ValidationError");
    let e = assume(stack2.info(), &tok2, Some(43201)).await.unwrap_err();
    assert_eq!(e.code, "ValidationError");
    assert!(assume(stack2.info(), &tok2, Some(43200)).await.is_ok());
    stack2.stop().await;
    stack.stop().await;
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn now_s() -> i64 {
    now().0
}

#[tokio::test]
async fn r5_forged_tokens_are_rejected_with_aws_codes() {
    let dir = TempDir::new("forged");
    let stack = start(&dir.0).await;
    let info = stack.info();
    let iss = info.issuer.clone();
    let pem = std::fs::read(dir.0.join("oidc-key.pem")).unwrap();
    let real = EncodingKey::from_rsa_pem(&pem).unwrap();
    let kid = IssuerKey::load_or_create(&dir.0).unwrap().kid().to_owned();
    let sign = |claims: serde_json::Value, kid: &str, key: &EncodingKey| {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&h, &claims, key).unwrap()
    };
    let now = now_s();
    let claims = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut c = serde_json::json!({
            "iss": iss, "sub": "mallory", "aud": "updraft-dev",
            "iat": now, "exp": now + 600,
        });
        f(&mut c);
        c
    };
    let good = sign(claims(&|_| {}), &kid, &real);
    assert!(assume(info, &good, None).await.is_ok(), "the control token");
    // Within the 60 s leeway: still fine.
    let lee = sign(claims(&|c| c["exp"] = (now - 30).into()), &kid, &real);
    assert!(assume(info, &lee, None).await.is_ok(), "leeway");

    let mut rng = rand::rngs::OsRng;
    let other = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
    let other_pem = {
        use rsa::pkcs8::EncodePrivateKey as _;
        other.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap()
    };
    let other = EncodingKey::from_rsa_pem(other_pem.as_bytes()).unwrap();
    let public_pem = {
        use rsa::pkcs8::{DecodePrivateKey as _, EncodePublicKey as _};
        let k = rsa::RsaPrivateKey::from_pkcs8_pem(std::str::from_utf8(&pem).unwrap()).unwrap();
        k.to_public_key()
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap()
    };
    let payload = b64(serde_json::to_string(&claims(&|_| {})).unwrap().as_bytes());
    let none = format!(
        "{}.{payload}.",
        b64(format!("{{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"{kid}\"}}").as_bytes())
    );
    let hs = {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(kid.clone());
        jsonwebtoken::encode(
            &h,
            &claims(&|_| {}),
            &EncodingKey::from_secret(public_pem.as_bytes()),
        )
        .unwrap()
    };
    let tampered = {
        let parts: Vec<&str> = good.split('.').collect();
        let evil = b64(
            serde_json::to_string(&claims(&|c| c["sub"] = "alice".into()))
                .unwrap()
                .as_bytes(),
        );
        format!("{}.{evil}.{}", parts[0], parts[2])
    };
    let huge = format!("{good}{}", "A".repeat(1 << 20));
    let cases: Vec<(&str, String, &str)> = vec![
        ("alg none", none, "InvalidIdentityToken"),
        (
            "HS256 keyed with the public key",
            hs,
            "InvalidIdentityToken",
        ),
        (
            "unknown kid",
            sign(claims(&|_| {}), "nope", &real),
            "InvalidIdentityToken",
        ),
        (
            "wrong iss",
            sign(
                claims(&|c| c["iss"] = "http://127.0.0.1:9".into()),
                &kid,
                &real,
            ),
            "InvalidIdentityToken",
        ),
        (
            "wrong aud",
            sign(claims(&|c| c["aud"] = "someone-else".into()), &kid, &real),
            "InvalidIdentityToken",
        ),
        (
            "expired",
            sign(claims(&|c| c["exp"] = (now - 3600).into()), &kid, &real),
            "ExpiredTokenException",
        ),
        (
            "nbf in the future",
            sign(claims(&|c| c["nbf"] = (now + 3600).into()), &kid, &real),
            "InvalidIdentityToken",
        ),
        (
            "iat in the future",
            sign(claims(&|c| c["iat"] = (now + 3600).into()), &kid, &real),
            "InvalidIdentityToken",
        ),
        ("tampered payload", tampered, "InvalidIdentityToken"),
        (
            "truncated",
            good[..good.len() - 12].to_owned(),
            "InvalidIdentityToken",
        ),
        (
            "a key the issuer never published",
            sign(claims(&|_| {}), &kid, &other),
            "InvalidIdentityToken",
        ),
        (
            "missing sub",
            sign(
                claims(&|c| {
                    c.as_object_mut().unwrap().remove("sub");
                }),
                &kid,
                &real,
            ),
            "InvalidIdentityToken",
        ),
        (
            "missing exp",
            sign(
                claims(&|c| {
                    c.as_object_mut().unwrap().remove("exp");
                }),
                &kid,
                &real,
            ),
            "InvalidIdentityToken",
        ),
        (
            "not a JWT",
            "abc.def.ghi".to_owned(),
            "InvalidIdentityToken",
        ),
        ("a 1 MB token", huge, "ValidationError"),
    ];
    assert!(cases.len() >= 12);
    for (what, token, code) in &cases {
        let c = call(token, None);
        let r = send_core(info, c.request(&sts_origin(info))).await;
        let e = match c.parse(&core_response(&r)) {
            Err(Error::Sts(e)) => e,
            other => panic!("{what}: {other:?}"),
        };
        assert_eq!(e.code, *code, "{what}: {}", e.message);
        assert_eq!(
            e.status,
            if *code == "AccessDenied" { 403 } else { 400 },
            "{what}"
        );
        let tail = &token[token.len().saturating_sub(16)..];
        assert!(
            tail.len() < 8 || !r.text().contains(tail),
            "{what}: the answer holds the token"
        );
    }
    // A role that does not exist.
    let mut c = call(&good, None);
    c.role_arn = "arn:aws:iam::000000000000:role/admin".into();
    let r = send_core(info, c.request(&sts_origin(info))).await;
    let Err(Error::Sts(e)) = c.parse(&core_response(&r)) else {
        panic!("{}", r.text())
    };
    assert_eq!((e.status, e.code.as_str()), (403, "AccessDenied"));
    stack.stop().await;
}

/// Splits a `Location` URL's query.
fn query_of(loc: &str) -> Vec<(String, String)> {
    loc.split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            (
                k.to_owned(),
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned(),
            )
        })
        .collect()
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test]
async fn r5_sign_in_with_pkce_and_its_refusals() {
    use sha2::Digest as _;
    let dir = TempDir::new("oidc");
    let stack = start(&dir.0).await;
    let info = stack.info();
    let ih = host(&info.issuer);
    let redirect = format!("{}/callback", info.app_url);
    let verifier = "a".repeat(20) + &"b".repeat(30);
    let challenge = b64(&sha2::Sha256::digest(verifier.as_bytes()));

    // Discovery and JWKS, with CORS for the app origin.
    let origin = [("origin".to_owned(), info.app_url.clone())];
    let r = send(
        &ih,
        "GET",
        "/.well-known/openid-configuration",
        &origin,
        b"",
    )
    .await;
    assert_eq!(r.status, 200);
    let d: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(d["issuer"], info.issuer.as_str());
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some(info.app_url.as_str())
    );
    let r = send(&ih, "GET", "/jwks.json", &origin, b"").await;
    assert!(r.text().contains("\"RS256\"") && !r.text().contains("\"d\""));

    let authorize = |redirect: &str, challenge: Option<&str>| {
        let mut q = format!(
            "/authorize?response_type=code&client_id=updraft-dev&redirect_uri={}&state=s1&nonce=n1&scope=openid",
            enc(redirect)
        );
        if let Some(c) = challenge {
            q.push_str(&format!("&code_challenge={c}&code_challenge_method=S256"));
        }
        q
    };
    // The page: the name field first, a plain form.
    let r = send(
        &ih,
        "GET",
        &authorize(&redirect, Some(&challenge)),
        &[],
        b"",
    )
    .await;
    assert_eq!(r.status, 200);
    let page = r.text();
    assert!(page.find("name=\"name\"").unwrap() < page.find("type=\"hidden\"").unwrap());
    assert!(!page.contains("<script"));
    // A redirect URI not registered: an error page, no redirect.
    for bad in [
        "http://evil.example/callback".to_owned(),
        format!("{redirect}/"),
        format!("{redirect}?x=1"),
    ] {
        let r = send(&ih, "GET", &authorize(&bad, Some(&challenge)), &[], b"").await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.header("location").is_none());
    }
    // No PKCE: refused (an error sent back to the registered redirect).
    let r = send(&ih, "GET", &authorize(&redirect, None), &[], b"").await;
    assert_eq!(r.status, 303);
    assert!(
        r.header("location")
            .unwrap()
            .contains("error=invalid_request")
    );

    let sign_in = |name: &'static str| {
        let ih = ih.clone();
        let redirect = redirect.clone();
        let challenge = challenge.clone();
        async move {
            let form = format!(
                "name={name}&response_type=code&client_id=updraft-dev&redirect_uri={}&state=s1&nonce=n1&code_challenge={challenge}&code_challenge_method=S256",
                enc(&redirect)
            );
            let h = [(
                "content-type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            )];
            let r = send(&ih, "POST", "/authorize", &h, form.as_bytes()).await;
            assert_eq!(r.status, 303, "{}", r.text());
            let loc = r.header("location").unwrap().to_owned();
            assert!(loc.starts_with(&redirect));
            let q = query_of(&loc);
            assert!(q.iter().any(|(k, v)| k == "state" && v == "s1"));
            q.into_iter().find(|(k, _)| k == "code").unwrap().1
        }
    };
    let token = |code: String, verifier: Option<String>, redirect: String| {
        let ih = ih.clone();
        let app = info.app_url.clone();
        async move {
            let mut form = format!(
                "grant_type=authorization_code&client_id=updraft-dev&code={code}&redirect_uri={}",
                enc(&redirect)
            );
            if let Some(v) = verifier {
                form.push_str(&format!("&code_verifier={v}"));
            }
            let h = [
                (
                    "content-type".to_owned(),
                    "application/x-www-form-urlencoded".to_owned(),
                ),
                ("origin".to_owned(), app),
            ];
            send(&ih, "POST", "/token", &h, form.as_bytes()).await
        }
    };
    // Wrong verifier, missing verifier, wrong redirect: refused (and the code is spent).
    let wrong = "c".repeat(50);
    for (verifier, redir) in [
        (Some(wrong.clone()), redirect.clone()),
        (None, redirect.clone()),
        (Some(verifier.clone()), format!("{}/", info.app_url)),
    ] {
        let code = sign_in("alice").await;
        let r = token(code, verifier, redir).await;
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.text().contains("invalid_grant") || r.text().contains("invalid_request"));
    }
    // The right verifier: an ID token, once.
    let code = sign_in("alice").await;
    let r = token(code.clone(), Some(verifier.clone()), redirect.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some(info.app_url.as_str())
    );
    let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let id = j["id_token"].as_str().unwrap().to_owned();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(id.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], "updraft-dev");
    assert_eq!(claims["iss"], info.issuer.as_str());
    assert_eq!(claims["nonce"], "n1");
    assert!(claims["email"].is_string() && claims["exp"].is_number() && claims["iat"].is_number());
    let r = token(code, Some(verifier.clone()), redirect.clone()).await;
    assert_eq!(r.status, 400, "a reused code");
    // And the ID token buys temporary keys.
    assert!(assume(info, &id, None).await.is_ok());
    stack.stop().await;
}

#[tokio::test]
async fn r5_sts_and_stack_json() {
    let dir = TempDir::new("stackjson");
    let stack = start(&dir.0).await;
    let info = stack.info();
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(stack.stack_file()).unwrap()).unwrap();
    assert_eq!(j["sts_endpoint"], info.s3_endpoint.as_str());
    assert_eq!(j["issuer"], info.issuer.as_str());
    assert_eq!(j["client_id"], "updraft-dev");
    assert_eq!(j["role_arn"], ROLE);
    // STS answers the browser's preflight and its calls with CORS for the app origin.
    let h = [
        ("origin".to_owned(), info.app_url.clone()),
        (
            "access-control-request-method".to_owned(),
            "POST".to_owned(),
        ),
        (
            "access-control-request-headers".to_owned(),
            "content-type,amz-sdk-invocation-id".to_owned(),
        ),
    ];
    let r = send(&host(&info.sts_endpoint), "OPTIONS", "/", &h, b"").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some(info.app_url.as_str())
    );
    let r = send(&host(&info.sts_endpoint), "OPTIONS", "/", &h[1..], b"").await;
    assert_eq!(r.status, 403);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for f in ["oidc-key.pem", "sts-key"] {
            let m = std::fs::metadata(dir.0.join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(m & 0o777, 0o600, "{f}");
        }
    }
    stack.stop().await;
}

#[tokio::test]
async fn r5_several_trusted_issuers_and_an_unreachable_one() {
    // Stack B is only an issuer here; stack A trusts its own issuer and B's.
    let dir_b = TempDir::new("issuer-b");
    let b = start(&dir_b.0).await;
    let dir_a = TempDir::new("issuer-a");
    let a = start_with(&dir_a.0, |c| {
        c.trusted_issuers = vec![b.info().issuer.clone(), "http://127.0.0.1:9".to_owned()];
    })
    .await;
    let info = a.info();
    let from_b = updraft_dev::id_token(&dir_b.0, "carol", 600).unwrap();
    let c = assume(info, &from_b, None).await.unwrap();
    let mut req = request(info, Method::Put, "uploads", "carol/x");
    req.body = Body::Bytes(b"c".to_vec());
    assert_eq!(signed(info, &c, req).await.status, 200);
    let from_a = updraft_dev::id_token(&dir_a.0, "dave", 600).unwrap();
    assert!(assume(info, &from_a, None).await.is_ok());
    // A token claiming B's issuer but signed with A's key: B's JWKS lacks that kid.
    let pem = std::fs::read(dir_a.0.join("oidc-key.pem")).unwrap();
    let kid = IssuerKey::load_or_create(&dir_a.0)
        .unwrap()
        .kid()
        .to_owned();
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some(kid);
    let now = now_s();
    let t = jsonwebtoken::encode(
        &h,
        &serde_json::json!({"iss": b.info().issuer, "sub": "carol", "aud": "updraft-dev", "iat": now, "exp": now + 600}),
        &EncodingKey::from_rsa_pem(&pem).unwrap(),
    )
    .unwrap();
    assert_eq!(
        assume(info, &t, None).await.unwrap_err().code,
        "InvalidIdentityToken"
    );
    // A trusted issuer that cannot be reached: IDPCommunicationError.
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("k".into());
    let t = jsonwebtoken::encode(
        &h,
        &serde_json::json!({"iss": "http://127.0.0.1:9", "sub": "eve", "aud": "updraft-dev", "iat": now, "exp": now + 600}),
        &EncodingKey::from_rsa_pem(&pem).unwrap(),
    )
    .unwrap();
    assert_eq!(
        assume(info, &t, None).await.unwrap_err().code,
        "IDPCommunicationError"
    );
    a.stop().await;
    b.stop().await;
}

fn multipart_form(fields: &[(String, String)], file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----updraftboundary5";
    let mut b = Vec::new();
    for (n, v) in fields {
        b.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    b.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
    b.extend(file);
    b.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), b)
}

#[tokio::test]
async fn r5_post_form_uploads_check_the_session_token_field_and_the_policy() {
    use updraft_core::sigv4::{PostPolicy, Signer, SigningParams};
    let dir = TempDir::new("post-sts");
    let stack = start(&dir.0).await;
    let info = stack.info();
    let h = host(&info.s3_endpoint);
    let alice = user(info, &dir.0, "alice").await;
    let post = |c: &Credentials, key: &str, token: Option<String>, file: &[u8]| {
        let mut signer = Signer::new();
        let p = SigningParams::s3(c, &info.region, now());
        let policy = PostPolicy::new(updraft_core::Timestamp(now().0 + 300))
            .equals("bucket", "uploads")
            .starts_with("key", "")
            .content_length_range(0, 1 << 20);
        let form = policy.sign(&mut signer, &p);
        let mut fields = vec![("key".to_owned(), key.to_owned())];
        fields.extend(form.fields);
        fields.retain(|(k, _)| !k.eq_ignore_ascii_case("x-amz-security-token"));
        if let Some(t) = token.or_else(|| c.session_token.as_ref().map(|t| t.expose().to_owned())) {
            fields.push(("x-amz-security-token".to_owned(), t));
        }
        multipart_form(&fields, file)
    };
    let send_form = |(ct, body): (String, Vec<u8>)| {
        let h = h.clone();
        async move {
            send(
                &h,
                "POST",
                "/uploads",
                &[("content-type".into(), ct)],
                &body,
            )
            .await
        }
    };
    let big = vec![7u8; 300 * 1024];
    let r = send_form(post(&alice, "alice/form.bin", None, &big)).await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(get(info, "uploads", "alice/form.bin").await.body, big);
    let r = send_form(post(&alice, "bob/form.bin", None, b"x")).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (403, "AccessDenied"),
        "{}",
        r.text()
    );
    let t = alice.session_token.as_ref().unwrap().expose().to_owned();
    let mut b = t.clone().into_bytes();
    b[10] = if b[10] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(b).unwrap();
    let r = send_form(post(&alice, "alice/form2.bin", Some(altered), b"x")).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "InvalidToken"),
        "{}",
        r.text()
    );
    // A policy naming another token than the field carries: refused by the policy,
    // and the answer does not quote the session token.
    let mut other = alice.clone();
    other.session_token = Some(updraft_core::credentials::Secret::new("not-the-token"));
    let (ct, body) = post(&other, "alice/form3.bin", Some(t.clone()), b"x");
    let r = send_form((ct, body)).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (403, "AccessDenied"),
        "{}",
        r.text()
    );
    assert!(!r.text().contains(&t[..40]), "{}", r.text());
    // The admin keys' POST uploads work as before.
    let r = send_form(post(&creds(info), "bob/admin.bin", None, b"x")).await;
    assert_ne!(r.status, 403, "{}", r.text());
    stack.stop().await;
}

/// An OpenID issuer over `https://127.0.0.1:PORT` with a certificate from a CA made
/// here: discovery and JWKS (the key of `key_dir`'s `IssuerKey`). Returns its URL and
/// the CA's PEM.
async fn https_issuer(key_dir: &Path) -> (String, String) {
    use std::sync::Arc;

    use hyper::service::service_fn;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use tokio_rustls::rustls;

    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let ca = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf.der().clone()],
        rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap(),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let jwks = IssuerKey::load_or_create(key_dir)
        .unwrap()
        .jwks()
        .to_owned();
    let discovery =
        serde_json::json!({ "issuer": url, "jwks_uri": format!("{url}/jwks.json") }).to_string();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, jwks, discovery) = (acceptor.clone(), jwks.clone(), discovery.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake: nothing to serve.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let body = match req.uri().path() {
                        "/.well-known/openid-configuration" => discovery.clone(),
                        "/jwks.json" => jwks.clone(),
                        _ => String::new(),
                    };
                    async move {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(
                            http_body_util::Full::new(bytes::Bytes::from(body)),
                        ))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (url, ca_cert.pem())
}

#[tokio::test]
async fn r5_an_https_issuer_is_trusted_through_its_ca_and_refused_without_it() {
    let keys = TempDir::new("https-issuer-key");
    let (iss, ca_pem) = https_issuer(&keys.0).await;
    let ca_file = keys.0.join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let pem = std::fs::read(keys.0.join("oidc-key.pem")).unwrap();
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some(IssuerKey::load_or_create(&keys.0).unwrap().kid().to_owned());
    let now = now_s();
    let token = jsonwebtoken::encode(
        &h,
        &serde_json::json!({"iss": iss, "sub": "erin", "aud": "updraft-dev", "iat": now, "exp": now + 600}),
        &EncodingKey::from_rsa_pem(&pem).unwrap(),
    )
    .unwrap();

    // Trusted, with its CA: the keys work under erin/.
    let dir = TempDir::new("https-trusting");
    let stack = start_with(&dir.0, |c| {
        c.trusted_issuers = vec![iss.clone()];
        c.issuer_ca = Some(ca_file.clone());
    })
    .await;
    let info = stack.info();
    let c = assume(info, &token, None).await.unwrap();
    let mut req = request(info, Method::Put, "uploads", "erin/over-tls");
    req.body = Body::Bytes(b"e".to_vec());
    assert_eq!(signed(info, &c, req).await.status, 200);
    stack.stop().await;

    // Trusted, but its CA is not: STS says it cannot reach the issuer, and what to do.
    let dir = TempDir::new("https-no-ca");
    let stack = start_with(&dir.0, |c| c.trusted_issuers = vec![iss.clone()]).await;
    let e = assume(stack.info(), &token, None).await.unwrap_err();
    assert_eq!(e.code, "IDPCommunicationError", "{e:?}");
    assert!(
        e.message.contains("certificate") && e.message.contains("issuer_ca"),
        "{}",
        e.message
    );
    stack.stop().await;

    // A CA file that holds no certificate stops the stack at start, naming the file.
    let dir = TempDir::new("https-bad-ca");
    let bad = dir.0.join("not-a-ca.pem");
    std::fs::write(&bad, "hello").unwrap();
    let mut c = common::config(&dir.0);
    c.issuer_ca = Some(bad.clone());
    let err = updraft_dev::start(&c).await.unwrap_err().to_string();
    assert!(err.contains("not-a-ca.pem"), "{err}");
}
