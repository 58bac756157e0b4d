//! A stored resume record (from `localStorage` or a cache file: anything may be there)
//! read and handed to the engine.
#![no_main]

use libfuzzer_sys::fuzz_target;
use updraft_core::engine::{Engine, EngineConfig, FileSpec, ResumeRecord};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(record) = ResumeRecord::from_json(text) else {
        return;
    };
    let mut engine = Engine::new(
        EngineConfig {
            bucket: record.bucket.clone(),
            ..EngineConfig::default()
        },
        1,
    );
    let spec = FileSpec {
        name: "f".into(),
        key: record.key.clone(),
        size: record.size,
        fingerprint: record.fingerprint.clone(),
        options: Default::default(),
        resume: Some(record),
    };
    if engine.add(spec).is_ok() {
        while engine.poll_action(0).is_some() {}
    }
});
