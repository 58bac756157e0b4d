//! Bucket CORS evaluated as S3 does it.
//!
//! S3 picks the **first** rule whose `AllowedOrigin`, `AllowedMethod` and (for a
//! preflight) every `Access-Control-Request-Headers` entry match; origins and headers may
//! hold one `*` wildcard, header names match case-insensitively. A preflight that matches
//! gets `200 OK` with the `Access-Control-Allow-*` headers; one that matches no rule (or a
//! bucket without CORS) gets `403`. Actual requests carrying `Origin` get the CORS headers
//! of the matching rule on every answer, errors included; otherwise none.
//! See <https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html>.

use http::{HeaderMap, HeaderValue, Method};

use crate::store::CorsRule;

/// `pattern` with at most one `*` against `value`.
fn wildcard_match(pattern: &str, value: &str, case_insensitive: bool) -> bool {
    let (p, v) = if case_insensitive {
        (pattern.to_ascii_lowercase(), value.to_ascii_lowercase())
    } else {
        (pattern.to_owned(), value.to_owned())
    };
    match p.split_once('*') {
        None => p == v,
        Some((pre, post)) => {
            v.len() >= pre.len() + post.len() && v.starts_with(pre) && v.ends_with(post)
        }
    }
}

fn origin_matches(rule: &CorsRule, origin: &str) -> bool {
    rule.allowed_origins
        .iter()
        .any(|o| wildcard_match(o, origin, false))
}

fn method_matches(rule: &CorsRule, method: &str) -> bool {
    rule.allowed_methods.iter().any(|m| m == method)
}

fn headers_match(rule: &CorsRule, requested: &[String]) -> bool {
    requested.iter().all(|h| {
        rule.allowed_headers
            .iter()
            .any(|a| wildcard_match(a, h, true))
    })
}

/// The first rule admitting a preflight for `origin`, `method` and `headers`.
pub fn preflight<'a>(
    rules: &'a [CorsRule],
    origin: &str,
    method: &str,
    headers: &[String],
) -> Option<&'a CorsRule> {
    rules.iter().find(|r| {
        origin_matches(r, origin) && method_matches(r, method) && headers_match(r, headers)
    })
}

/// The first rule admitting an actual request.
pub fn actual<'a>(rules: &'a [CorsRule], origin: &str, method: &Method) -> Option<&'a CorsRule> {
    // HEAD is admitted by a rule naming HEAD; S3 does not treat GET as covering it.
    rules
        .iter()
        .find(|r| origin_matches(r, origin) && method_matches(r, method.as_str()))
}

/// Splits `Access-Control-Request-Headers` into lower-case names.
pub fn requested_headers(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("access-control-request-headers")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect()
}

fn put(h: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

/// Adds the headers S3 sends for a matching rule. `preflight` carries the requested
/// headers, echoed back as `Access-Control-Allow-Headers`.
pub fn apply(h: &mut HeaderMap, rule: &CorsRule, origin: &str, preflight: Option<&[String]>) {
    let any = rule.allowed_origins.iter().any(|o| o == "*");
    if any {
        put(h, "access-control-allow-origin", "*");
    } else {
        put(h, "access-control-allow-origin", origin);
        put(h, "access-control-allow-credentials", "true");
    }
    put(
        h,
        "access-control-allow-methods",
        &rule.allowed_methods.join(", "),
    );
    if let Some(req) = preflight
        && !req.is_empty()
    {
        put(h, "access-control-allow-headers", &req.join(", "));
    }
    if !rule.expose_headers.is_empty() {
        put(
            h,
            "access-control-expose-headers",
            &rule.expose_headers.join(", "),
        );
    }
    if let Some(age) = rule.max_age_seconds {
        put(h, "access-control-max-age", &age.to_string());
    }
    h.append(
        "vary",
        HeaderValue::from_static(
            "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> CorsRule {
        CorsRule {
            allowed_origins: vec![
                "http://*.example.com".into(),
                "http://localhost:4180".into(),
            ],
            allowed_methods: vec!["GET".into(), "PUT".into()],
            allowed_headers: vec!["x-amz-*".into(), "Content-Type".into()],
            ..Default::default()
        }
    }

    #[test]
    fn origin_method_and_headers_must_all_match() {
        let rules = [rule()];
        let hs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(
            preflight(
                &rules,
                "http://a.example.com",
                "PUT",
                &hs(&["x-amz-date", "content-type"])
            )
            .is_some()
        );
        assert!(preflight(&rules, "http://localhost:4180", "GET", &[]).is_some());
        assert!(preflight(&rules, "http://localhost:4181", "GET", &[]).is_none());
        assert!(preflight(&rules, "http://a.example.com", "DELETE", &[]).is_none());
        assert!(
            preflight(
                &rules,
                "http://a.example.com",
                "PUT",
                &hs(&["authorization"])
            )
            .is_none()
        );
        assert!(preflight(&rules, "https://a.example.com", "PUT", &[]).is_none());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", "anything", false));
        assert!(wildcard_match("X-Amz-*", "x-amz-date", true));
        assert!(!wildcard_match("http://*.a.com", "http://.b.com", false));
        assert!(!wildcard_match("ab*ba", "aba", false));
    }
}
