//! Entry points for the fuzz target `dev_inputs` (`fuzz/fuzz_targets/dev_inputs.rs`): what
//! the dev store does itself with input from outside — a request's path, the fields of a
//! POST form before its file, the form's policy document, a PutBucketCors body and the
//! CORS evaluation of a request against its rules. Not an API: hidden from the docs and
//! free to change.

use http::{HeaderMap, HeaderValue, Method};
use s3s::xml::Deserialize as _;

/// Bucket and key of a request path, as the front reads them.
pub fn path(path: &str) -> (String, String) {
    crate::front::bucket_and_key(path)
}

/// The fields of a POST form body before its `file` part.
pub fn form_fields(body: &[u8], boundary: &str) -> Vec<(String, String)> {
    crate::front::form_fields(body, boundary)
}

/// Whether a form's `policy` field is a policy document s3s accepts.
pub fn post_policy(encoded: &str) -> bool {
    s3s::post_policy::PostPolicy::from_base64(encoded).is_ok()
}

/// A PutBucketCors body read and checked as the store does, then a preflight and an
/// actual request (`origin`, `method`, `Access-Control-Request-Headers`) evaluated against
/// its rules: the CORS headers they would get (none when the body is refused or no rule
/// matches).
pub fn cors(xml: &[u8], origin: &str, method: &str, requested: &str) -> HeaderMap {
    let mut out = HeaderMap::new();
    let mut d = s3s::xml::Deserializer::new(xml);
    let Ok(config) = s3s::dto::CORSConfiguration::deserialize(&mut d) else {
        return out;
    };
    let Ok(rules) = crate::s3::cors_rules(config) else {
        return out;
    };
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(requested) {
        headers.insert(http::header::ACCESS_CONTROL_REQUEST_HEADERS, v);
    }
    let requested = crate::cors::requested_headers(&headers);
    if let Some(rule) = crate::cors::preflight(&rules, origin, method, &requested) {
        crate::cors::apply(&mut out, rule, origin, Some(&requested));
    }
    if let Ok(m) = Method::from_bytes(method.as_bytes())
        && let Some(rule) = crate::cors::actual(&rules, origin, &m)
    {
        crate::cors::apply(&mut out, rule, origin, None);
    }
    out
}
