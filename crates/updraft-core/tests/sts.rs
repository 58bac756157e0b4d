//! AssumeRoleWithWebIdentity against the documented answers in `tests/data`.
#![allow(clippy::unwrap_used)]

mod common;

use common::response;
use updraft_core::http::{Body, Method};
use updraft_core::sts::{self, AssumeRoleWithWebIdentity, StsErrorKind};
use updraft_core::{Error, Secret, Timestamp};

const TOKEN: &str = "eyJhbGciOi.secret-token+/=";

fn op() -> AssumeRoleWithWebIdentity {
    AssumeRoleWithWebIdentity {
        role_arn: "arn:aws:iam::123456789012:role/FederatedWebIdentityRole".into(),
        role_session_name: "app1".into(),
        web_identity_token: Secret::new(TOKEN),
        provider_id: Some("www.amazon.com".into()),
        duration_seconds: Some(3600),
        policy: Some("{\"Version\":\"2012-10-17\"}".into()),
    }
}

#[test]
fn builds_form_and_query_requests() {
    let origin = sts::aws("us-east-1");
    let req = op().request(&origin);
    assert_eq!(
        (req.method, req.host.as_str(), req.path.as_str()),
        (Method::Post, "sts.us-east-1.amazonaws.com", "/")
    );
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded; charset=utf-8")
    );
    assert_eq!(req.header("authorization"), None);
    let Body::Bytes(body) = &req.body else {
        panic!()
    };
    let body = String::from_utf8(body.clone()).unwrap();
    assert!(body.starts_with("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FFederatedWebIdentityRole&RoleSessionName=app1&WebIdentityToken=eyJhbGciOi.secret-token%2B%2F%3D&ProviderId=www.amazon.com&DurationSeconds=3600&Policy=%7B"), "{body}");
    assert!(!format!("{:?}", op()).contains("secret-token"));
    assert!(
        !format!("{req:?}").contains("secret-token"),
        "the body prints as its length"
    );

    let get = op().get_request(&origin);
    assert_eq!(get.method, Method::Get);
    assert!(
        get.url()
            .contains("&WebIdentityToken=eyJhbGciOi.secret-token%2B%2F%3D&")
    );
}

#[test]
fn parses_the_documented_answer() {
    let out = op()
        .parse(&response(200, "sts-assume-role-with-web-identity.xml"))
        .unwrap();
    let c = &out.credentials;
    assert_eq!(c.access_key_id, "ASgeIAIOSFODNN7EXAMPLE");
    assert_eq!(
        c.secret_access_key.expose(),
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
    );
    assert_eq!(
        c.session_token.as_ref().unwrap().expose(),
        "AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE"
    );
    assert_eq!(
        c.expiration,
        Some(Timestamp::parse_rfc3339("2014-10-24T23:00:23Z", "t").unwrap())
    );
    assert_eq!(
        out.subject_from_web_identity_token.as_deref(),
        Some("amzn1.account.AF6RHO7KZU5XRVQJGXK6HB56KR2A")
    );
    assert_eq!(
        out.assumed_role_arn.as_deref(),
        Some("arn:aws:sts::123456789012:assumed-role/FederatedWebIdentityRole/app1")
    );
    assert_eq!(
        out.assumed_role_id.as_deref(),
        Some("AROACLKWSDQRAOEXAMPLE:app1")
    );
    assert_eq!(out.provider.as_deref(), Some("www.amazon.com"));
    assert_eq!(
        out.audience.as_deref(),
        Some("client.5498841531868486423.1548@apps.example.com")
    );
    assert!(!format!("{out:?}").contains("wJalrXUtnFEMI"));
}

#[test]
fn parses_errors() {
    for (status, file, kind, code) in [
        (
            400,
            "sts-error-invalid-identity-token.xml",
            StsErrorKind::InvalidIdentityToken,
            "InvalidIdentityToken",
        ),
        (
            400,
            "sts-error-expired-token-nons.xml",
            StsErrorKind::ExpiredToken,
            "ExpiredTokenException",
        ),
    ] {
        let Err(Error::Sts(e)) = op().parse(&response(status, file)) else {
            panic!("{file}")
        };
        assert_eq!(
            (e.kind, e.code.as_str(), e.fault.as_deref()),
            (kind, code, Some("Sender"))
        );
        assert!(e.request_id.is_some());
        let msg = Error::Sts(e).to_string();
        assert!(
            msg.contains("FederatedWebIdentityRole") && !msg.contains("secret-token"),
            "{msg}"
        );
    }
    let Err(Error::Sts(e)) = op().parse(&updraft_core::http::Response {
        status: 503,
        ..Default::default()
    }) else {
        panic!()
    };
    assert!(e.kind.is_retryable());
}
