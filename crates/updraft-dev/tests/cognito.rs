//! Issue 5: Cognito Identity `GetId` + `GetCredentialsForIdentity` for guests and
//! signed-in users, read with `updraft-core`'s `cognito` module.
// Test-only helpers: a failure here is a test failure, so unwrap is what we want.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use updraft_core::cognito::{GetCredentialsForIdentity, GetId};
use updraft_core::credentials::Secret;
use updraft_core::http::{Body, Method, Response};
use updraft_core::s3::{Origin, Scheme};
use updraft_core::{Credentials, Error};
use updraft_dev::StackInfo;

fn origin(info: &StackInfo) -> Origin {
    Origin {
        scheme: Scheme::Http,
        host: host(&info.cognito_endpoint),
    }
}

async fn call(info: &StackInfo, req: updraft_core::http::Request) -> Response {
    let body = match &req.body {
        Body::Bytes(b) => b.clone(),
        _ => Vec::new(),
    };
    let r = send(
        &host(&info.cognito_endpoint),
        "POST",
        "/",
        &req.headers,
        &body,
    )
    .await;
    Response {
        status: r.status,
        headers: r
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect(),
        body: r.body,
    }
}

async fn get_id(
    info: &StackInfo,
    pool: &str,
    logins: Vec<(String, Secret)>,
) -> Result<String, Error> {
    let g = GetId {
        identity_pool_id: pool.to_owned(),
        logins,
        account_id: None,
    };
    let r = call(info, g.request(&origin(info))).await;
    g.parse(&r)
}

async fn creds(
    info: &StackInfo,
    id: &str,
    logins: Vec<(String, Secret)>,
) -> Result<Credentials, Error> {
    let g = GetCredentialsForIdentity {
        identity_id: id.to_owned(),
        logins,
        custom_role_arn: None,
    };
    let r = call(info, g.request(&origin(info))).await;
    g.parse(&r)
}

fn code(e: Error) -> String {
    match e {
        Error::Cognito(e) => e.code,
        other => panic!("not a Cognito error: {other}"),
    }
}

async fn put_as(info: &StackInfo, c: &Credentials, key: &str) -> Resp {
    let mut req = request(info, Method::Put, "uploads", key);
    req.body = Body::Bytes(b"file".to_vec());
    signed(info, c, req).await
}

#[tokio::test]
async fn r5_a_guest_uploads_only_into_its_own_folder() {
    let dir = TempDir::new("guest");
    let stack = start(&dir.0).await;
    let info = stack.info();
    let pool = info.identity_pool_id.clone();
    let id = get_id(info, &pool, vec![]).await.unwrap();
    assert!(id.starts_with("us-east-1:") && id.len() == 46, "{id}");
    assert_ne!(
        get_id(info, &pool, vec![]).await.unwrap(),
        id,
        "a new guest each time"
    );
    let c = creds(info, &id, vec![]).await.unwrap();
    assert!(c.access_key_id.starts_with("ASIA") && c.session_token.is_some());
    let left = c.expiration.unwrap().0 - now().0;
    assert!((3500..=3700).contains(&left), "{left}");

    assert_eq!(
        put_as(info, &c, &format!("guest/{id}/photo.jpg"))
            .await
            .status,
        200
    );
    let other = get_id(info, &pool, vec![]).await.unwrap();
    for key in [
        format!("guest/{other}/photo.jpg"),
        "guest/photo.jpg".to_owned(),
        format!("{id}/photo.jpg"),
        "alice/photo.jpg".to_owned(),
    ] {
        let r = put_as(info, &c, &key).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (403, "AccessDenied"),
            "{key}"
        );
    }
    // Guests upload; they do not read or list.
    let r = signed(
        info,
        &c,
        request(
            info,
            Method::Get,
            "uploads",
            &format!("guest/{id}/photo.jpg"),
        ),
    )
    .await;
    assert_eq!(r.status, 403);

    // An identity id this stack did not hand out, and a pool it does not serve.
    let forged = format!("{}0", &id[..id.len() - 1]);
    let forged = if forged == id {
        format!("{}1", &id[..id.len() - 1])
    } else {
        forged
    };
    assert_eq!(
        code(creds(info, &forged, vec![]).await.unwrap_err()),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(
            get_id(
                info,
                "us-east-1:11111111-2222-3333-4444-555555555555",
                vec![]
            )
            .await
            .unwrap_err()
        ),
        "ResourceNotFoundException"
    );
    stack.stop().await;
}

#[tokio::test]
async fn r5_a_signed_in_identity_gets_the_uploader_role() {
    let dir = TempDir::new("cog-auth");
    let stack = start(&dir.0).await;
    let info = stack.info();
    let pool = info.identity_pool_id.clone();
    let provider = host(&info.issuer);
    let tok = updraft_dev::id_token(&dir.0, "alice", 600).unwrap();
    let login = |t: &str| vec![(provider.clone(), Secret::new(t))];
    let id = get_id(info, &pool, login(&tok)).await.unwrap();
    assert_eq!(
        get_id(info, &pool, login(&tok)).await.unwrap(),
        id,
        "the same at every sign-in"
    );
    let c = creds(info, &id, login(&tok)).await.unwrap();
    assert_eq!(put_as(info, &c, "alice/a.txt").await.status, 200);
    assert_eq!(put_as(info, &c, "bob/a.txt").await.status, 403);

    // Without the login, or with another user's, or with a forged token: refused.
    assert_eq!(
        code(creds(info, &id, vec![]).await.unwrap_err()),
        "ResourceNotFoundException"
    );
    let bob = updraft_dev::id_token(&dir.0, "bob", 600).unwrap();
    assert_eq!(
        code(creds(info, &id, login(&bob)).await.unwrap_err()),
        "NotAuthorizedException"
    );
    let forged = format!("{}A", &tok[..tok.len() - 2]);
    assert_eq!(
        code(get_id(info, &pool, login(&forged)).await.unwrap_err()),
        "NotAuthorizedException"
    );
    let wrong_provider = vec![("accounts.google.com".to_owned(), Secret::new(tok.clone()))];
    assert_eq!(
        code(get_id(info, &pool, wrong_provider).await.unwrap_err()),
        "NotAuthorizedException"
    );
    stack.stop().await;
}
