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

    // Loops, not `map(…).collect()`, whose adapters are code of their own (wasm size).
    let mut pairs = Vec::new();
    for (k, v) in query {
        pairs.push((uri_encode(k, true), uri_encode(v, true)));
    }
    sort_small(&mut pairs, |a, b| a < b);
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
    let mut headers = Vec::new();
    for (n, v) in &req.headers {
        headers.push((n.to_ascii_lowercase(), trim_all(v)));
    }
    sort_small(&mut headers, |a, b| a.0 < b.0);
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

/// A stable insertion sort by `less`. A request has a dozen headers and query
/// parameters at most, where this is as quick as the library's sorts and about 8 KB
/// less wasm (twiggy, wasm-release: the stable sort was that much of a package with a
/// 30 KB gzip budget). Quadratic, so only for such short lists.
pub(crate) fn sort_small<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && less(&v[j], &v[j - 1]) {
            v.swap(j, j - 1);
            j -= 1;
        }
    }
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

    /// `sort_small` sorts as the library's stable sort does, ties in their order.
    #[test]
    fn sort_small_is_a_stable_sort() {
        let mut rng = fastrand::Rng::with_seed(7);
        for len in 0..40 {
            let v: Vec<(u8, usize)> = (0..len).map(|i| (rng.u8(0..5), i)).collect();
            let mut ours = v.clone();
            sort_small(&mut ours, |a, b| a.0 < b.0);
            let mut theirs = v;
            theirs.sort_by_key(|p| p.0);
            assert_eq!(ours, theirs);
        }
    }
}
