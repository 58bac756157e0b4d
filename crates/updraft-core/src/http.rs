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

/// A request for a driver to send.
///
/// `path` is exactly what goes on the request line (already percent-encoded);
/// `query` holds decoded name/value pairs, encoded when the URL is rendered;
/// header names are lowercase.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    pub fn url(&self) -> String {
        let mut url = format!("{}://{}{}", self.scheme, self.host, self.path);
        for (i, (k, v)) in self.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&crate::sigv4::uri_encode(k, true));
            if !v.is_empty() {
                url.push('=');
                url.push_str(&crate::sigv4::uri_encode(v, true));
            }
        }
        url
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
