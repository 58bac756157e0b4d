//! The engine fed arbitrary answers: status, headers and body bytes for every request it
//! sends, in the order it sends them; some requests never answered (the stall timeout
//! abandons them) and timeouts at arbitrary rounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use updraft_core::Credentials;
use updraft_core::engine::{Action, Engine, EngineConfig, FileSpec};
use updraft_core::http::Response;

fuzz_target!(|data: &[u8]| {
    let mut engine = Engine::new(
        EngineConfig {
            bucket: "b".into(),
            ..EngineConfig::default()
        },
        1,
    );
    engine.set_credentials(Credentials::new("AKID", "s"), 0);
    for (i, size) in [0u64, 20 << 20].into_iter().enumerate() {
        let _ = engine.add(FileSpec {
            name: format!("f{i}"),
            key: format!("k{i}"),
            size,
            fingerprint: String::new(),
            options: Default::default(),
            resume: None,
        });
    }
    // Each answer: status byte, flags (1: an ETag; 2: five minutes pass first, so
    // requests left unanswered stall; 4: the last request sent this round is answered
    // only next round, late), body length byte, body.
    let mut rest = data;
    let mut now = 0;
    let mut late = Vec::new();
    while rest.len() >= 3 {
        let (status, flag, len) = (rest[0], rest[1], rest[2] as usize);
        let body = &rest[3..(3 + len).min(rest.len())];
        rest = &rest[(3 + len).min(rest.len())..];
        let mut sent = Vec::new();
        while let Some(a) = engine.poll_action(now) {
            match a {
                Action::Send { id, .. } => sent.push(id),
                Action::Checksum { file, part, .. } => engine.handle_checksum(file, part, 1),
                _ => {}
            }
        }
        while engine.poll_event().is_some() {}
        if flag & 2 == 2 {
            now += 300_000;
            engine.handle_timeout(now);
        }
        let held = if flag & 4 == 4 { sent.pop() } else { None };
        sent.append(&mut late);
        late.extend(held);
        for id in sent {
            let headers = if flag & 1 == 1 {
                vec![("etag".to_owned(), "\"e\"".to_owned())]
            } else {
                Vec::new()
            };
            let status = [200u16, 204, 400, 403, 404, 500, 503][status as usize % 7];
            let response = Response {
                status,
                headers,
                body: body.to_vec(),
            };
            engine.handle_response(id, Ok(response), now);
        }
        now += 60_000;
    }
});
