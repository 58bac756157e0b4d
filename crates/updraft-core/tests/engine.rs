//! Engine behaviours the simulator does not single out (issue 3).
#![allow(clippy::unwrap_used)]

use updraft_core::engine::{Action, Engine, EngineConfig, Event, FileSpec, FileStatus, Validation};
use updraft_core::http::Response;
use updraft_core::s3::{Addressing, Endpoint};
use updraft_core::{Credentials, Error};

const NOW: u64 = 1_700_000_000_000;

fn config() -> EngineConfig {
    EngineConfig {
        bucket: "uploads".into(),
        endpoint: Endpoint::custom("http://127.0.0.1:9000", "us-east-1", Addressing::Auto).unwrap(),
        checksum: None,
        ..EngineConfig::default()
    }
}

fn spec(name: &str, size: u64) -> FileSpec {
    FileSpec {
        name: name.into(),
        key: format!("alice/{name}"),
        size,
        fingerprint: format!("{name}:{size}"),
        options: Default::default(),
        resume: None,
    }
}

fn ok(headers: &[(&str, &str)], body: &str) -> Response {
    Response {
        status: 200,
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

fn events(e: &mut Engine) -> Vec<Event> {
    std::iter::from_fn(|| e.poll_event()).collect()
}

#[test]
fn a_hidden_etag_names_the_cors_fix_r3() {
    let mut e = Engine::new(config(), 1);
    e.set_credentials(Credentials::new("AKID", "secret"), NOW);
    let file = e.add(spec("big.bin", 20 * 1024 * 1024)).unwrap();
    let Some(Action::Send { id, .. }) = e.poll_action(NOW) else {
        panic!("CreateMultipartUpload expected")
    };
    e.handle_response(
        id,
        Ok(ok(
            &[],
            "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>",
        )),
        NOW,
    );
    let Some(Action::Send {
        id, request, body, ..
    }) = e.poll_action(NOW)
    else {
        panic!("UploadPart expected")
    };
    assert!(request.url().contains("partNumber=1"));
    assert_eq!(body, Some((0, 8 * 1024 * 1024)));
    // S3 stored the part, but CORS hides the ETag from the page.
    e.handle_response(id, Ok(ok(&[], "")), NOW);
    let failed = events(&mut e)
        .into_iter()
        .find_map(|ev| match ev {
            Event::Failed { error, .. } => Some(error),
            _ => None,
        })
        .unwrap();
    let text = failed.to_string();
    assert!(text.contains("<ExposeHeader>ETag</ExposeHeader>"), "{text}");
    assert!(
        text.contains("alice/big.bin") && text.contains("uploads"),
        "{text}"
    );
    assert!(matches!(failed.error, Error::EtagNotExposed { .. }));
    assert_eq!(e.status(file), Some(FileStatus::Failed));
}

#[test]
fn validation_refuses_before_any_request() {
    let mut config = config();
    config.validation = Validation {
        max_size: Some(10),
        ..Validation::default()
    };
    let mut e = Engine::new(config, 1);
    let err = e.add(spec("big.bin", 11)).unwrap_err();
    assert!(err.to_string().contains("\"big.bin\""), "{err}");
    assert!(e.poll_action(NOW).is_none());
    assert!(events(&mut e).is_empty());
}

#[test]
fn requests_wait_for_credentials_instead_of_failing() {
    let mut e = Engine::new(config(), 1);
    e.add(spec("a.txt", 3)).unwrap();
    assert_eq!(e.poll_action(NOW), Some(Action::RefreshCredentials));
    assert_eq!(e.poll_action(NOW), None, "nothing is sent unsigned");
    e.set_credentials(Credentials::new("AKID", "secret"), NOW);
    assert!(matches!(e.poll_action(NOW), Some(Action::Send { .. })));
}

#[test]
fn one_request_limit_is_shared_by_files_and_parts() {
    let mut config = config();
    config.concurrency = 4;
    let mut e = Engine::new(config, 1);
    e.set_credentials(Credentials::new("AKID", "secret"), NOW);
    for i in 0..30_000 {
        e.add(spec(&format!("f{i}.txt"), 100)).unwrap();
    }
    let mut sent = 0;
    while let Some(a) = e.poll_action(NOW) {
        assert!(matches!(a, Action::Send { .. }));
        sent += 1;
    }
    assert_eq!(sent, 4);
}
