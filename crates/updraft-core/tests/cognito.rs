//! Cognito Identity against the documented answers in `tests/data`.
#![allow(clippy::unwrap_used)]

mod common;

use common::response;
use updraft_core::cognito::{self, CognitoErrorKind, GetCredentialsForIdentity, GetId};
use updraft_core::http::{Body, Response};
use updraft_core::{Error, Secret, Timestamp};

fn logins() -> cognito::Logins {
    vec![("accounts.google.com".into(), Secret::new("google-id-token"))]
}

#[test]
fn get_id() {
    let op = GetId {
        identity_pool_id: "us-east-1:pool".into(),
        logins: logins(),
        account_id: None,
    };
    let req = op.request(&cognito::aws("us-east-1"));
    assert_eq!(req.host, "cognito-identity.us-east-1.amazonaws.com");
    assert_eq!(
        req.header("x-amz-target"),
        Some("AWSCognitoIdentityService.GetId")
    );
    assert_eq!(
        req.header("content-type"),
        Some("application/x-amz-json-1.1")
    );
    let Body::Bytes(body) = &req.body else {
        panic!()
    };
    let json: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"IdentityPoolId": "us-east-1:pool", "Logins": {"accounts.google.com": "google-id-token"}})
    );
    assert!(!format!("{op:?}").contains("google-id-token"));
    assert_eq!(
        op.parse(&response(200, "cognito-get-id.json")).unwrap(),
        "us-east-1:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
    );
}

#[test]
fn get_credentials_for_identity() {
    let op = GetCredentialsForIdentity {
        identity_id: "us-east-1:id".into(),
        logins: Vec::new(),
        custom_role_arn: None,
    };
    let req = op.request(&cognito::aws("us-east-1"));
    assert_eq!(
        req.header("x-amz-target"),
        Some("AWSCognitoIdentityService.GetCredentialsForIdentity")
    );
    let c = op
        .parse(&response(200, "cognito-get-credentials-for-identity.json"))
        .unwrap();
    assert_eq!(c.access_key_id, "ASIAIOSFODNN7EXAMPLE");
    assert_eq!(
        c.secret_access_key.expose(),
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    );
    assert_eq!(c.expiration, Some(Timestamp::from_unix(1_700_003_600)));
}

#[test]
fn errors() {
    let op = GetCredentialsForIdentity::default();
    let Err(Error::Cognito(e)) = op.parse(&response(400, "cognito-error-not-authorized.json"))
    else {
        panic!()
    };
    assert_eq!(
        (e.kind, e.code.as_str()),
        (CognitoErrorKind::NotAuthorized, "NotAuthorizedException")
    );
    assert!(e.message.starts_with("Invalid login token"));
    let Err(Error::Cognito(e)) = op.parse(&response(400, "cognito-error-prefixed.json")) else {
        panic!()
    };
    assert_eq!(
        (e.kind, e.code.as_str()),
        (
            CognitoErrorKind::ResourceNotFound,
            "ResourceNotFoundException"
        )
    );
    let header_only = Response { status: 429, headers: vec![("x-amzn-ErrorType".into(), "TooManyRequestsException:http://internal.amazon.com/coral/com.amazonaws.cognito.identity/".into())], body: vec![] };
    let Err(Error::Cognito(e)) = op.parse(&header_only) else {
        panic!()
    };
    assert_eq!(
        (e.kind, e.code.as_str()),
        (CognitoErrorKind::Unavailable, "TooManyRequestsException")
    );
    assert!(
        Error::Cognito(e)
            .to_string()
            .contains("GetCredentialsForIdentity")
    );
}
