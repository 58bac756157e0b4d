//! The canonical request: the one string both sides hash.

use super::PathRule;
use super::encode::uri_encode;
use crate::http::Request;

/// Builds the canonical request of `req` with `query` (decoded pairs), returning it
/// with the signed-headers list (`host;x-amz-date`).
pub(super) fn request(
    req: &Request,
    query: &[(String, String)],
    path_rule: PathRule,
    payload_hash: &str,
) -> (String, String) {
    let mut out = String::with_capacity(256);
    out.push_str(req.method.as_str());
    out.push('\n');
    match path_rule {
        PathRule::AsIs if req.path.is_empty() => out.push('/'),
        PathRule::AsIs => out.push_str(&req.path),
        PathRule::Encode { normalize } => {
            let path = if normalize {
                normalize_path(&req.path)
            } else {
                req.path.clone()
            };
            out.push_str(&uri_encode(
                if path.is_empty() { "/" } else { &path },
                false,
            ));
        }
    }
    out.push('\n');

    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (uri_encode(k, true), uri_encode(v, true)))
        .collect();
    pairs.sort();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out.push('\n');

    // Lowercase names, sorted by name; values of repeated headers joined with `,` in
    // the order given (a stable sort keeps it).
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), trim_all(v)))
        .collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let mut signed = String::new();
    let mut i = 0;
    while i < headers.len() {
        let name = &headers[i].0;
        out.push_str(name);
        out.push(':');
        let mut first = true;
        while i < headers.len() && headers[i].0 == *name {
            if !first {
                out.push(',');
            }
            out.push_str(&headers[i].1);
            first = false;
            i += 1;
        }
        out.push('\n');
        if !signed.is_empty() {
            signed.push(';');
        }
        signed.push_str(name);
    }
    out.push('\n');
    out.push_str(&signed);
    out.push('\n');
    out.push_str(payload_hash);
    (out, signed)
}

/// Trims the value and turns every run of whitespace into one space.
fn trim_all(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for word in v.split_ascii_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Removes `.` and `..` segments and repeated slashes (RFC 3986 section 5.2.4),
/// keeping a trailing slash. Never used for S3, whose keys may contain all of these.
pub fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    let mut out = String::with_capacity(path.len());
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if trailing || out.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_paths() {
        assert_eq!(normalize_path("/example1/example2/../.."), "/");
        assert_eq!(normalize_path("/./"), "/");
        assert_eq!(normalize_path("//example//"), "/example/");
        assert_eq!(normalize_path("/a/./b/../c"), "/a/c");
        assert_eq!(normalize_path(""), "/");
    }
}
