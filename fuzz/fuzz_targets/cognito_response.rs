//! The Cognito Identity parsers on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use updraft_core::cognito::{GetCredentialsForIdentity, GetId};
use updraft_core::http::Response;

fuzz_target!(|data: &[u8]| {
    let Some((&s, body)) = data.split_first() else {
        return;
    };
    let status = if s & 1 == 0 { 200 } else { 400 };
    let headers = if s & 2 == 0 {
        Vec::new()
    } else {
        vec![(
            "x-amzn-errortype".into(),
            String::from_utf8_lossy(body).into_owned(),
        )]
    };
    let r = Response {
        status,
        headers,
        body: body.to_vec(),
    };
    let _ = GetId::default().parse(&r);
    if let Err(e) = GetCredentialsForIdentity::default().parse(&r) {
        let _ = e.to_string();
    }
});
