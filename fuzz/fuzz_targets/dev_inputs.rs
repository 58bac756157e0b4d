//! What `updraft dev` reads from outside on its own (issue 18): request paths, the fields
//! of a POST form, the form's policy document, PutBucketCors bodies and the CORS
//! evaluation of requests against them. The input is split at 0xFF bytes into path, form
//! body, boundary, policy, CORS XML, origin, method and requested headers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use updraft_dev::fuzzing;

fuzz_target!(|data: &[u8]| {
    let mut pieces = data.split(|b| *b == 0xFF);
    let mut next = || pieces.next().unwrap_or_default();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let path = text(next());
    let form = next();
    let boundary = text(next());
    let policy = text(next());
    let xml = next();
    let (origin, method, requested) = (text(next()), text(next()), text(next()));

    let (bucket, key) = fuzzing::path(&path);
    assert!(!bucket.contains('/') || path.contains("%2F") || path.contains("%2f"));
    let _ = key;
    for (name, value) in fuzzing::form_fields(form, &boundary) {
        assert_ne!(name, "file", "the file part is not a field: {value:?}");
    }
    let _ = fuzzing::post_policy(&policy);
    let headers = fuzzing::cors(xml, &origin, &method, &requested);
    if let Some(allowed) = headers.get("access-control-allow-origin") {
        // A rule echoes the origin it admitted, or `*`.
        assert!(allowed == "*" || allowed.as_bytes() == origin.as_bytes());
    }
});
