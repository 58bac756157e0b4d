//! Plain descriptions of HTTP requests and responses, as the drivers send and receive them.

use std::fmt;

/// An HTTP method S3, STS and Cognito use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Head,
    Put,
    Post,
    Delete,
}

impl Method {
    /// The method as it appears on the wire (`GET`, `PUT`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What travels in a request body.
#[derive(Clone, PartialEq, Eq)]
pub enum Body {
    /// No body.
    Empty,
    /// A body the core built (XML, a form, JSON).
    Bytes(Vec<u8>),
    /// `len` bytes the driver supplies itself, e.g. a byte range of a file.
    External { len: u64 },
}

impl Body {
    /// The number of bytes the body holds.
    pub fn len(&self) -> u64 {
        match self {
            Body::Empty => 0,
            Body::Bytes(b) => b.len() as u64,
            Body::External { len } => *len,
        }
    }

    /// Whether the body holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Empty => f.write_str("Empty"),
            Body::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Body::External { len } => write!(f, "External({len} bytes)"),
        }
    }
}

/// Headers and query parameters whose values are secrets (or, for signatures, grant
/// access): `Debug` and [`Request::redacted_url`] print them as `***`.
const SECRET_NAMES: &[&str] = &[
    "authorization",
    "x-amz-security-token",
    "x-amz-server-side-encryption-customer-key",
    "x-amz-signature",
];

fn is_secret(name: &str) -> bool {
    SECRET_NAMES.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// A request for a driver to send.
///
/// `path` is exactly what goes on the request line (already percent-encoded);
/// `query` holds decoded name/value pairs, encoded when the URL is rendered;
/// header names are lowercase. `Debug` hides secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    /// `https` or `http`.
    pub scheme: &'static str,
    /// Host and, when not the scheme's default, `:port`.
    pub host: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Request {
    /// A request with no query, headers or body.
    pub fn new(
        method: Method,
        scheme: &'static str,
        host: impl Into<String>,
        path: impl Into<String>,
    ) -> Self {
        Request {
            method,
            scheme,
            host: host.into(),
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    /// The value of the first header named `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sets header `name` (lowercase), replacing any earlier value.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.retain(|(n, _)| n != name);
        self.headers.push((name.to_owned(), value.into()));
    }

    /// The full URL, query encoded with [`crate::sigv4::uri_encode`] in the order given.
    /// A presigned URL carries its signature and session token: never log it; log
    /// [`Request::redacted_url`].
    pub fn url(&self) -> String {
        self.render_url(false)
    }

    /// The URL with signatures and session tokens replaced by `***`, for logs.
    pub fn redacted_url(&self) -> String {
        self.render_url(true)
    }

    fn render_url(&self, redact: bool) -> String {
        let mut url = crate::cat!("{}://{}{}", self.scheme, self.host, self.path);
        for (i, (k, v)) in self.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&crate::sigv4::uri_encode(k, true));
            if !v.is_empty() {
                url.push('=');
                if redact && is_secret(k) {
                    url.push_str("***");
                } else {
                    url.push_str(&crate::sigv4::uri_encode(v, true));
                }
            }
        }
        url
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), if is_secret(n) { "***" } else { v.as_str() }))
            .collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.redacted_url())
            .field("headers", &headers)
            .field("body", &self.body)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Credentials;
    use crate::sigv4::{Signer, SigningParams};

    #[test]
    fn debug_and_redacted_url_hide_secrets() {
        let creds = Credentials::new("AKID", "the-secret").with_session_token("the-token");
        let p = SigningParams::s3(&creds, "us-east-1", crate::Timestamp::from_unix(0));
        let mut header = Request::new(Method::Put, "https", "b.s3.amazonaws.com", "/k");
        header.set_header("x-amz-server-side-encryption-customer-key", "sse-c-key");
        Signer::new().sign(&mut header, &p).unwrap();
        let mut presigned = Request::new(Method::Get, "https", "b.s3.amazonaws.com", "/k");
        let sig = Signer::new().presign(&mut presigned, &p, 60).unwrap();
        for shown in [
            format!("{header:?}"),
            format!("{presigned:?}"),
            presigned.redacted_url(),
        ] {
            for secret in [
                "the-secret",
                "the-token",
                "sse-c-key",
                sig.signature.as_str(),
            ] {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
        }
        assert!(presigned.url().contains(&sig.signature));
    }
}

/// A response a driver received, handed back to a parser.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Response {
    pub status: u16,
    /// Header names lowercase. Only headers the browser's CORS rules expose are present.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The value of the first header named `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
