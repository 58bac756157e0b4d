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

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn bodies() -> Vec<Vec<u8>> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
        let mut v: Vec<Vec<u8>> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        v.push(b"<ListPartsResult><Part><PartNumber>0</PartNumber><ETag>x</ETag><Size>1</Size></Part></ListPartsResult>".to_vec());
        v.push(b"<InitiateMultipartUploadResult><UploadId>u</UploadId></InitiateMultipartUploadResult>".to_vec());
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Whatever S3 (or anything posing as it) answers, and whatever a stored resume
        /// record says, the engine does not panic.
        #[test]
        fn on_any_answers(
            answers in proptest::collection::vec((0u16..600, any::<u8>(), any::<bool>(), any::<u16>()), 1..60),
            sizes in proptest::collection::vec(0u64..40_000_000, 1..4),
            record_parts in proptest::collection::vec((0u32..12, any::<bool>()), 0..6),
        ) {
            let bodies = bodies();
            let mut e = Engine::new(config(), 3);
            e.set_credentials(Credentials::new("AKID", "secret").with_session_token("t"), NOW);
            for (i, size) in sizes.iter().enumerate() {
                let mut s = spec(&format!("f{i}"), *size);
                s.resume = Some(updraft_core::engine::ResumeRecord {
                    bucket: "uploads".into(),
                    key: s.key.clone(),
                    upload_id: "u".into(),
                    size: *size,
                    part_size: 8 * 1024 * 1024,
                    fingerprint: s.fingerprint.clone(),
                    checksum_algorithm: None,
                    parts: record_parts.iter().map(|(n, _)| updraft_core::engine::RecordedPart {
                        number: *n,
                        etag: "e".into(),
                        crc: None,
                    }).collect(),
                });
                let _ = e.add(s);
            }
            let mut now = NOW;
            for (status, body, with_etag, mutate) in answers {
                let mut pending = Vec::new();
                while let Some(a) = e.poll_action(now) {
                    match a {
                        Action::Send { id, .. } => pending.push(id),
                        Action::Checksum { file, part, .. } => e.handle_checksum(file, part, 7),
                        _ => {}
                    }
                }
                while e.poll_event().is_some() {}
                for id in pending {
                    let mut b = bodies[body as usize % bodies.len()].clone();
                    if !b.is_empty() && mutate % 3 == 0 {
                        let i = mutate as usize % b.len();
                        b[i] = b[i].wrapping_add(mutate as u8);
                    }
                    let headers = if with_etag { vec![("etag".into(), "\"e\"".into())] } else { vec![] };
                    let r = if status < 100 {
                        Err(Error::Network { detail: "reset".into() })
                    } else {
                        Ok(Response { status, headers, body: b })
                    };
                    e.handle_progress(id, u64::from(mutate), now);
                    e.handle_response(id, r, now);
                }
                now += 30_000;
                e.handle_timeout(now);
                if mutate % 7 == 0 {
                    let first = e.files().next();
                    if let Some(f) = first {
                        match mutate % 5 {
                            0 => e.pause(f),
                            1 => e.resume(f),
                            2 => e.cancel(f),
                            3 => e.retry(f),
                            _ => e.remove(f),
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn small_files_go_as_post_forms_only_when_asked_r7() {
    // Off by default: even an empty file is a PUT.
    let mut e = Engine::new(config(), 1);
    e.set_credentials(
        Credentials::new("AKID", "secret").with_session_token("tok"),
        NOW,
    );
    e.add(spec("empty.bin", 0)).unwrap();
    assert!(matches!(e.poll_action(NOW), Some(Action::Send { .. })));

    let mut e = Engine::new(
        EngineConfig {
            post_max_size: 1024,
            ..config()
        },
        1,
    );
    e.set_credentials(
        Credentials::new("AKID", "secret").with_session_token("tok"),
        NOW,
    );
    let small = e.add(spec("small.txt", 1024)).unwrap();
    e.add(spec("large.txt", 1025)).unwrap();
    let Some(Action::Post {
        id,
        file,
        url,
        fields,
        body,
    }) = e.poll_action(NOW)
    else {
        panic!("a POST form expected for 1024 bytes")
    };
    assert_eq!((file, body), (small, (0, 1024)));
    assert_eq!(url, "http://127.0.0.1:9000/uploads");
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[0], "key");
    for signed in [
        "Policy",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Security-Token",
        "X-Amz-Signature",
    ] {
        assert!(names.contains(&signed), "{signed} in {names:?}");
    }
    assert_eq!(names.last(), Some(&"X-Amz-Signature"));
    let Some(Action::Send { request, .. }) = e.poll_action(NOW) else {
        panic!("a PUT expected for 1025 bytes")
    };
    assert_eq!(request.method.as_str(), "PUT");
    // S3 answers a form with 204 and the ETag.
    e.handle_response(
        id,
        Ok(Response {
            status: 204,
            headers: vec![("etag".into(), "\"abc\"".into())],
            body: Vec::new(),
        }),
        NOW + 5,
    );
    let done = events(&mut e).into_iter().find_map(|ev| match ev {
        Event::Completed { file, completed } if file == small => Some(completed),
        _ => None,
    });
    assert_eq!(done.map(|c| c.etag), Some("\"abc\"".to_owned()));
}

#[test]
fn forms_are_spread_over_the_form_urls_r17() {
    // Two more URLs of the bucket: forms go up to `concurrency` at once to each of the
    // three hosts, the fewest in flight first; a PUT only to the endpoint.
    let mut e = Engine::new(
        EngineConfig {
            post_max_size: 1024,
            concurrency: 2,
            form_urls: vec![
                "http://localhost:9000/uploads".into(),
                "http://uploads.localhost:9000".into(),
            ],
            ..config()
        },
        1,
    );
    e.set_credentials(Credentials::new("AKID", "secret"), NOW);
    for i in 0..8 {
        e.add(spec(&format!("f{i}.txt"), 100)).unwrap();
    }
    let mut sent = Vec::new();
    while let Some(Action::Post { id, url, .. }) = e.poll_action(NOW) {
        sent.push((id, url));
    }
    let urls: Vec<&str> = sent.iter().map(|(_, u)| u.as_str()).collect();
    assert_eq!(
        urls,
        [
            "http://127.0.0.1:9000/uploads",
            "http://localhost:9000/uploads",
            "http://uploads.localhost:9000",
            "http://127.0.0.1:9000/uploads",
            "http://localhost:9000/uploads",
            "http://uploads.localhost:9000",
        ],
        "two at once to each host, then nothing until one is answered"
    );
    // The endpoint is full: a file of PUTs waits even though the other hosts are too.
    let put = e.add(spec("put.bin", 5000)).unwrap();
    assert_eq!(e.poll_action(NOW), None);
    let answer = Ok(Response {
        status: 204,
        headers: vec![("etag".into(), "\"abc\"".into())],
        body: Vec::new(),
    });
    // An answer from the second host frees a place there, for the next form.
    e.handle_response(sent[1].0, answer.clone(), NOW + 1);
    let Some(Action::Post { url, .. }) = e.poll_action(NOW + 1) else {
        panic!("a form to the host that answered expected")
    };
    assert_eq!(url, "http://localhost:9000/uploads");
    // An answer from the endpoint: the next in the queue, a form, takes that place (the
    // endpoint has the fewest in flight now); the PUT waits for the next.
    e.handle_response(sent[0].0, answer.clone(), NOW + 2);
    let Some(Action::Post { url, .. }) = e.poll_action(NOW + 2) else {
        panic!("a form expected")
    };
    assert_eq!(url, "http://127.0.0.1:9000/uploads");
    e.handle_response(sent[3].0, answer, NOW + 3);
    let Some(Action::Send { file, request, .. }) = e.poll_action(NOW + 3) else {
        panic!("the PUT expected once the endpoint has a place")
    };
    assert_eq!(
        (
            file,
            request.url().starts_with("http://127.0.0.1:9000/uploads/")
        ),
        (put, true)
    );
}

#[test]
fn a_stalled_request_is_abandoned_and_retried_r7() {
    let mut e = Engine::new(
        EngineConfig {
            stall_timeout_ms: 1_000,
            post_max_size: 16_000,
            ..config()
        },
        1,
    );
    e.set_credentials(Credentials::new("AKID", "secret"), NOW);
    let put = e.add(spec("put.bin", 100_000)).unwrap();
    e.add(spec("form.bin", 16_000)).unwrap();
    let Some(Action::Send { id, file, .. }) = e.poll_action(NOW) else {
        panic!("a PUT expected")
    };
    assert_eq!(file, put);
    let Some(Action::Post { id: form, .. }) = e.poll_action(NOW) else {
        panic!("a POST form expected")
    };
    // The PUT's clock restarts with each byte that moves; a form reports no progress and
    // gets 1 ms per 16 bytes of its file on top.
    assert_eq!(e.poll_timeout(), Some(NOW + 1_000));
    e.handle_progress(id, 50_000, NOW + 900);
    assert_eq!(e.poll_timeout(), Some(NOW + 1_900));
    e.handle_timeout(NOW + 1_899);
    assert_eq!(e.poll_action(NOW + 1_899), None, "nothing stalled yet");

    e.handle_timeout(NOW + 1_900);
    assert_eq!(e.poll_action(NOW + 1_900), Some(Action::Cancel { id }));
    assert_eq!(
        e.status(put),
        Some(FileStatus::Uploading),
        "retried, not failed"
    );
    // A late answer to the abandoned request changes nothing.
    e.handle_response(id, Ok(ok(&[("etag", "\"late\"")], "")), NOW + 1_950);
    assert!(
        !events(&mut e)
            .iter()
            .any(|ev| matches!(ev, Event::Completed { .. })),
        "the abandoned request's answer was ignored"
    );
    e.handle_timeout(NOW + 1_999);
    assert!(!matches!(
        e.poll_action(NOW + 1_999),
        Some(Action::Cancel { .. })
    ));
    e.handle_timeout(NOW + 2_000);
    assert_eq!(
        e.poll_action(NOW + 2_000),
        Some(Action::Cancel { id: form })
    );
    // After its backoff the PUT goes again, as a new request.
    let mut at = NOW + 2_000;
    let again = loop {
        at = e.poll_timeout().unwrap().max(at);
        e.handle_timeout(at);
        match e.poll_action(at) {
            Some(Action::Send { id, file, .. }) if file == put => break id,
            _ => assert!(at < NOW + 60_000, "the PUT was not retried"),
        }
    };
    assert_ne!(again, id);
}

#[test]
fn a_request_without_a_file_body_gets_five_stall_timeouts_r7() {
    let mut e = Engine::new(
        EngineConfig {
            stall_timeout_ms: 1_000,
            ..config()
        },
        1,
    );
    e.set_credentials(Credentials::new("AKID", "secret"), NOW);
    e.add(spec("big.bin", 20 * 1024 * 1024)).unwrap();
    let Some(Action::Send { id, body: None, .. }) = e.poll_action(NOW) else {
        panic!("CreateMultipartUpload expected")
    };
    assert_eq!(e.poll_timeout(), Some(NOW + 5_000));
    e.handle_timeout(NOW + 5_000);
    assert_eq!(e.poll_action(NOW + 5_000), Some(Action::Cancel { id }));
}

#[test]
fn a_stall_timeout_of_zero_never_abandons_and_sets_no_timer_r7() {
    let mut e = Engine::new(
        EngineConfig {
            stall_timeout_ms: 0,
            ..config()
        },
        1,
    );
    e.set_credentials(Credentials::new("AKID", "secret"), NOW);
    e.add(spec("put.bin", 100)).unwrap();
    assert!(matches!(e.poll_action(NOW), Some(Action::Send { .. })));
    assert_eq!(e.poll_timeout(), None, "no timer while the request is out");
    e.handle_timeout(NOW + 86_400_000);
    assert_eq!(e.poll_action(NOW + 86_400_000), None);
}

/// Advances time until the engine sends something; returns (id, url, body range).
fn next_send(
    e: &mut Engine,
    at: &mut u64,
) -> (updraft_core::engine::RequestId, String, Option<(u64, u64)>) {
    let limit = *at + 600_000;
    loop {
        match e.poll_action(*at) {
            Some(Action::Send {
                id, request, body, ..
            }) => return (id, request.url(), body),
            Some(_) => {}
            None => {
                *at = e
                    .poll_timeout()
                    .expect("the engine waits for nothing")
                    .max(*at);
                assert!(*at < limit, "nothing was sent within ten minutes");
                e.handle_timeout(*at);
            }
        }
    }
}

fn status(code: u16, body: &str) -> Response {
    Response {
        status: code,
        ..ok(&[], body)
    }
}

/// A ListMultipartUploads page that fails is asked for again from its own marker: before
/// the fix the marker was dropped before the page parsed, so the retry started again at
/// page one and listed the same orphans twice.
#[test]
fn r15_a_failed_listing_page_is_retried_from_its_marker() {
    let mut e = Engine::new(config(), 1);
    e.set_credentials(Credentials::new("AKID", "secret"), NOW);
    let file = e.add(spec("big.bin", 20 * 1024 * 1024)).unwrap();
    let mut at = NOW;
    // The first CreateMultipartUpload's answer is lost: an upload may exist that we never
    // heard of, so after completing, the engine lists and aborts what it left behind.
    let (id, url, _) = next_send(&mut e, &mut at);
    assert!(url.ends_with("?uploads"), "{url}");
    e.handle_response(
        id,
        Err(Error::Network {
            detail: "reset".into(),
        }),
        at,
    );
    let (id, url, _) = next_send(&mut e, &mut at);
    assert!(url.ends_with("?uploads"), "{url}");
    e.handle_response(
        id,
        Ok(ok(
            &[],
            "<InitiateMultipartUploadResult><UploadId>ours</UploadId></InitiateMultipartUploadResult>",
        )),
        at,
    );
    for n in 1..=3 {
        let (id, url, _) = next_send(&mut e, &mut at);
        assert!(url.contains(&format!("partNumber={n}")), "{url}");
        e.handle_response(id, Ok(ok(&[("etag", &format!("\"e{n}\""))], "")), at);
    }
    let (id, url, _) = next_send(&mut e, &mut at);
    assert!(
        url.contains("uploadId=ours"),
        "CompleteMultipartUpload expected: {url}"
    );
    e.handle_response(
        id,
        Ok(ok(
            &[],
            "<CompleteMultipartUploadResult><ETag>\"x-3\"</ETag></CompleteMultipartUploadResult>",
        )),
        at,
    );
    let page = |uploads: &[&str], next: Option<&str>| {
        let entries: String = uploads
            .iter()
            .map(|u| format!("<Upload><Key>alice/big.bin</Key><UploadId>{u}</UploadId></Upload>"))
            .collect();
        let (truncated, markers) = match next {
            Some(u) => (
                "true",
                format!(
                    "<NextKeyMarker>alice/big.bin</NextKeyMarker><NextUploadIdMarker>{u}</NextUploadIdMarker>"
                ),
            ),
            None => ("false", String::new()),
        };
        format!(
            "<ListMultipartUploadsResult><Bucket>uploads</Bucket><IsTruncated>{truncated}</IsTruncated>{markers}{entries}</ListMultipartUploadsResult>"
        )
    };
    let (id, url, _) = next_send(&mut e, &mut at);
    assert!(
        url.contains("uploads") && !url.contains("upload-id-marker"),
        "page one: {url}"
    );
    e.handle_response(id, Ok(ok(&[], &page(&["lost1"], Some("lost1")))), at);
    let (id, url, _) = next_send(&mut e, &mut at);
    assert!(url.contains("upload-id-marker=lost1"), "page two: {url}");
    e.handle_response(
        id,
        Ok(status(
            500,
            "<Error><Code>InternalError</Code><Message>try again</Message></Error>",
        )),
        at,
    );
    let (id, url, _) = next_send(&mut e, &mut at);
    assert!(
        url.contains("upload-id-marker=lost1"),
        "the failed page two is asked for again, not page one: {url}"
    );
    e.handle_response(id, Ok(ok(&[], &page(&["lost2"], None))), at);
    // Each orphan is aborted once, then the file completes.
    let mut aborted = Vec::new();
    while e.status(file) != Some(FileStatus::Completed) {
        let (id, url, _) = next_send(&mut e, &mut at);
        assert!(url.contains("uploadId=lost"), "an abort expected: {url}");
        aborted.push(url.rsplit('=').next().unwrap().to_owned());
        e.handle_response(
            id,
            Ok(Response {
                status: 204,
                ..ok(&[], "")
            }),
            at,
        );
    }
    aborted.sort();
    assert_eq!(aborted, ["lost1", "lost2"]);
}

/// When nothing fails, a file's and the total's `sent` never go back: before the fix each
/// stored part first took its bytes off "in flight" and reported that, then counted them
/// as confirmed, so a progress bar twitched back after every part.
#[test]
fn r15_progress_never_goes_back_while_parts_succeed() {
    let mut e = Engine::new(
        EngineConfig {
            concurrency: 2,
            ..config()
        },
        1,
    );
    e.set_credentials(Credentials::new("AKID", "secret"), NOW);
    let file = e.add(spec("big.bin", 40 * 1024 * 1024)).unwrap();
    let mut at = NOW;
    let mut last = (0, 0);
    let mut reports = 0;
    let mut check = |e: &mut Engine| {
        for ev in events(e) {
            if let Event::Progress {
                file_progress,
                total,
                ..
            } = ev
            {
                assert!(
                    file_progress.sent >= last.0 && total.sent >= last.1,
                    "progress went back: {last:?} then ({}, {})",
                    file_progress.sent,
                    total.sent
                );
                last = (file_progress.sent, total.sent);
                reports += 1;
            }
        }
    };
    let (id, url, _) = next_send(&mut e, &mut at);
    assert!(url.ends_with("?uploads"), "{url}");
    e.handle_response(
        id,
        Ok(ok(
            &[],
            "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>",
        )),
        at,
    );
    let mut n = 0;
    while e.status(file) != Some(FileStatus::Completed) {
        let (id, url, body) = next_send(&mut e, &mut at);
        if let Some((start, end)) = body {
            // Half the part's bytes move, then the answer comes.
            e.handle_progress(id, (end - start) / 2, at);
            check(&mut e);
            n += 1;
            e.handle_response(id, Ok(ok(&[("etag", &format!("\"e{n}\""))], "")), at);
        } else {
            assert!(
                url.contains("uploadId=u1"),
                "CompleteMultipartUpload expected: {url}"
            );
            e.handle_response(
                id,
                Ok(ok(&[], "<CompleteMultipartUploadResult><ETag>\"x\"</ETag></CompleteMultipartUploadResult>")),
                at,
            );
        }
        check(&mut e);
    }
    assert!(
        n >= 5 && reports >= 2 * n,
        "{n} parts, {reports} progress reports"
    );
    assert_eq!(last.0, 40 * 1024 * 1024);
}

/// A file that cannot be read any more (moved, its disk unplugged) fails with a message
/// saying so, and its multipart upload stays: no AbortMultipartUpload is sent, the resume
/// record still names the upload and its stored part, and `retry` continues it with
/// ListParts. Before the fix the drivers could only `cancel`, which aborted the upload and
/// threw the stored parts away.
#[test]
fn r15_a_read_error_fails_the_file_and_keeps_its_parts() {
    let mut e = Engine::new(
        EngineConfig {
            concurrency: 1,
            ..config()
        },
        1,
    );
    e.set_credentials(Credentials::new("AKID", "secret"), NOW);
    let file = e.add(spec("big.bin", 20 * 1024 * 1024)).unwrap();
    let mut at = NOW;
    let (id, _, _) = next_send(&mut e, &mut at);
    e.handle_response(
        id,
        Ok(ok(
            &[],
            "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>",
        )),
        at,
    );
    let (id, url, _) = next_send(&mut e, &mut at);
    assert!(url.contains("partNumber=1"), "{url}");
    e.handle_response(id, Ok(ok(&[("etag", "\"e1\"")], "")), at);
    // Part 2's bytes cannot be read.
    let (id, url, _) = next_send(&mut e, &mut at);
    assert!(url.contains("partNumber=2"), "{url}");
    events(&mut e);
    e.handle_read_error(file, "No such file or directory (os error 2)".into());
    let evs = events(&mut e);
    let text = evs
        .iter()
        .find_map(|ev| match ev {
            Event::Failed { error, .. } => Some(error.to_string()),
            _ => None,
        })
        .expect("the file fails");
    assert!(
        text.contains("big.bin") && text.contains("could not be read") && text.contains("retry"),
        "{text}"
    );
    assert_eq!(e.status(file), Some(FileStatus::Failed));
    // Its request is stopped, and nothing aborts the upload.
    let mut cancelled = Vec::new();
    while let Some(a) = e.poll_action(at) {
        match a {
            Action::Cancel { id } => cancelled.push(id),
            Action::Send { request, .. } => panic!("sent {} {}", request.method, request.url()),
            _ => {}
        }
    }
    assert_eq!(cancelled, [id]);
    let record = e.resume_record(file).expect("a record to resume from");
    assert_eq!(record.upload_id, "u1");
    assert_eq!(record.parts.len(), 1);
    // Once the file can be read again, retry continues the same upload.
    e.retry(file);
    let (_, url, _) = next_send(&mut e, &mut at);
    assert!(
        url.contains("uploadId=u1") && !url.contains("partNumber"),
        "ListParts expected: {url}"
    );
}

#[test]
fn requests_of_the_drivers_own_are_signed_with_the_engines_keys_r13() {
    use updraft_core::s3::{DeleteObject, ListObjectsV2};
    let mut e = Engine::new(config(), 1);
    let endpoint = e.config().endpoint.clone();
    let mut list = ListObjectsV2 {
        bucket: "uploads".into(),
        prefix: Some("alice/".into()),
        ..ListObjectsV2::default()
    }
    .request(&endpoint);
    assert!(e.sign_own(&mut list, None, NOW).is_none(), "no keys yet");
    e.set_credentials(
        Credentials::new("AKID", "secret").with_session_token("tok"),
        NOW,
    );
    e.sign_own(&mut list, None, NOW).unwrap().unwrap();
    let auth = list.header("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKID/20231114/us-east-1/s3/aws4_request"),
        "{auth}"
    );
    assert_eq!(list.header("x-amz-security-token"), Some("tok"));

    let mut link = DeleteObject {
        bucket: "uploads".into(),
        key: "alice/a b.txt".into(),
    }
    .request(&endpoint);
    link.method = updraft_core::http::Method::Get;
    e.sign_own(&mut link, Some(600), NOW).unwrap().unwrap();
    let url = link.url();
    assert!(
        url.contains("X-Amz-Expires=600") && url.contains("X-Amz-Signature="),
        "{url}"
    );
    assert!(url.contains("/uploads/alice/a%20b.txt?"), "{url}");
    assert!(link.header("authorization").is_none());
    let mut too_long = link.clone();
    too_long.query.clear();
    assert!(
        e.sign_own(&mut too_long, Some(8 * 86_400), NOW)
            .unwrap()
            .is_err(),
        "over seven days"
    );
}
