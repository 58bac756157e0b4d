//! The AssumeRoleWithWebIdentity parser on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use updraft_core::Secret;
use updraft_core::http::Response;
use updraft_core::sts::AssumeRoleWithWebIdentity;

fuzz_target!(|data: &[u8]| {
    let Some((&s, body)) = data.split_first() else {
        return;
    };
    let status = if s & 1 == 0 { 200 } else { 400 };
    let op = AssumeRoleWithWebIdentity {
        role_arn: "arn:aws:iam::1:role/r".into(),
        role_session_name: "s".into(),
        web_identity_token: Secret::new("t"),
        provider_id: None,
        duration_seconds: None,
        policy: None,
    };
    let r = Response {
        status,
        headers: Vec::new(),
        body: body.to_vec(),
    };
    if let Err(e) = op.parse(&r) {
        let _ = e.to_string();
    }
});
