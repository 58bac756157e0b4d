//! Where a bucket lives: scheme, host, region and addressing style.

use serde::{Deserialize, Serialize};

use crate::http::{Method, Request};
use crate::sigv4::uri_encode;
use crate::{Error, cat};

/// `https` or `http`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    #[default]
    Https,
    Http,
}

impl Scheme {
    /// `https` or `http`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }
}

/// A scheme and `host[:port]`: where STS or Cognito answers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Origin {
    pub scheme: Scheme,
    /// Host and, when not the scheme's default, `:port`.
    pub host: String,
}

impl Origin {
    /// Reads `https://host[:port]` or `http://host[:port]`; a trailing `/` is allowed.
    ///
    /// # Errors
    /// [`Error::InvalidEndpoint`] for another scheme, a path, a query, user info or an
    /// empty host.
    pub fn parse(url: &str) -> Result<Self, Error> {
        let bad = |detail: &str| Error::InvalidEndpoint {
            endpoint: url.to_owned(),
            detail: detail.to_owned(),
        };
        let lower = url.to_ascii_lowercase();
        let (scheme, rest) = if let Some(r) = lower.strip_prefix("https://") {
            (Scheme::Https, r)
        } else if let Some(r) = lower.strip_prefix("http://") {
            (Scheme::Http, r)
        } else {
            return Err(bad("it must start with https:// or http://"));
        };
        let host = rest.strip_suffix('/').unwrap_or(rest);
        if host.is_empty() {
            return Err(bad("the host is empty"));
        }
        if host.contains(['/', '?', '#', '@', ' ']) {
            return Err(bad("only a scheme, a host and a port are allowed"));
        }
        Ok(Origin {
            scheme,
            host: host.to_owned(),
        })
    }

    pub(crate) fn request(&self, method: Method, path: impl Into<String>) -> Request {
        Request::new(method, self.scheme.as_str(), self.host.clone(), path)
    }
}

/// How a request names its bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Addressing {
    /// Path-style for IP-address hosts, `localhost`, and bucket names that are not
    /// valid DNS labels or hold dots under https; virtual-hosted otherwise.
    #[default]
    Auto,
    /// `https://host/bucket/key`.
    Path,
    /// `https://bucket.host/key`.
    VirtualHosted,
}

/// An S3 endpoint: plain data, serialisable, with the AWS default in [`Endpoint::aws`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    #[serde(flatten)]
    pub origin: Origin,
    /// The region requests are signed for, e.g. `us-east-1`.
    pub region: String,
    /// Default [`Addressing::Auto`].
    #[serde(default)]
    pub addressing: Addressing,
}

impl Endpoint {
    /// AWS S3 in `region`: `https://s3.{region}.amazonaws.com`.
    pub fn aws(region: &str) -> Self {
        Endpoint {
            origin: Origin {
                scheme: Scheme::Https,
                host: cat!("s3.{}.amazonaws.com", region),
            },
            region: region.to_owned(),
            addressing: Addressing::Auto,
        }
    }

    /// An S3-compatible endpoint at `url` (`http://127.0.0.1:9000`).
    ///
    /// # Errors
    /// [`Error::InvalidEndpoint`] as [`Origin::parse`] gives it.
    pub fn custom(url: &str, region: &str, addressing: Addressing) -> Result<Self, Error> {
        Ok(Endpoint {
            origin: Origin::parse(url)?,
            region: region.to_owned(),
            addressing,
        })
    }

    /// The addressing style used for `bucket`: never [`Addressing::Auto`].
    pub fn addressing_for(&self, bucket: &str) -> Addressing {
        match self.addressing {
            Addressing::Auto if self.path_only() || !dns_safe(bucket, self.origin.scheme) => {
                Addressing::Path
            }
            Addressing::Auto => Addressing::VirtualHosted,
            forced => forced,
        }
    }

    /// Whether the host cannot take a bucket label in front (an IP address, `localhost`).
    fn path_only(&self) -> bool {
        let host = &self.origin.host;
        let name = match host.rsplit_once(':') {
            Some((h, port)) if !h.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => host.as_str(),
        };
        name.starts_with('[')
            || is_ipv4(name)
            || name == "localhost"
            || name.ends_with(".localhost")
    }

    /// The host and the request path for `key` in `bucket` (`None`: the bucket itself).
    ///
    /// The key is percent-encoded byte for byte as S3 expects (all but unreserved
    /// characters and `/`) and never normalised: `a/../b`, `//` and `./` reach S3 as
    /// written.
    pub fn locate(&self, bucket: &str, key: Option<&str>) -> (String, String) {
        let key = key.map(|k| uri_encode(k, false));
        match self.addressing_for(bucket) {
            Addressing::VirtualHosted => (
                cat!("{}.{}", bucket, self.origin.host),
                cat!("/{}", key.unwrap_or_default()),
            ),
            _ => {
                let bucket = uri_encode(bucket, true);
                let path = match key {
                    Some(key) => cat!("/{}/{}", bucket, key),
                    None => cat!("/{}", bucket),
                };
                (self.origin.host.clone(), path)
            }
        }
    }

    /// An unsigned request for `key` in `bucket` (`None`: the bucket itself), e.g. the
    /// `GET` of an object that [`crate::engine::Engine::sign_own`] presigns as a link.
    pub fn request(&self, method: Method, bucket: &str, key: Option<&str>) -> Request {
        let (host, path) = self.locate(bucket, key);
        Request::new(method, self.origin.scheme.as_str(), host, path)
    }
}

/// Whether `bucket` can be a DNS label in front of the host.
fn dns_safe(bucket: &str, scheme: Scheme) -> bool {
    // A dotted name breaks the wildcard TLS certificate of `*.s3.amazonaws.com`.
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !bucket.starts_with(['-', '.'])
        && !bucket.ends_with(['-', '.'])
        && !(scheme == Scheme::Https && bucket.as_bytes().contains(&b'.'))
}

/// Whether `s` is a dotted-quad IPv4 address, as `std::net::Ipv4Addr` parses one (four
/// decimal octets, no leading zeros); its parser is about 1.2 KB of wasm.
fn is_ipv4(s: &str) -> bool {
    let octet = |p: &str| {
        !p.is_empty()
            && p.len() <= 3
            && p.bytes().all(|b| b.is_ascii_digit())
            && (p == "0" || !p.starts_with('0'))
            && p.parse::<u16>().is_ok_and(|n| n <= 255)
    };
    s.split('.').count() == 4 && s.split('.').all(octet)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn is_ipv4_agrees_with_std() {
        for s in [
            "127.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.0.0.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..3.4",
            "a.b.c.d",
            "1.2.3.4 ",
            "+1.2.3.4",
            "",
            "1.2.3.0000",
        ] {
            assert_eq!(is_ipv4(s), s.parse::<std::net::Ipv4Addr>().is_ok(), "{s:?}");
        }
    }

    #[test]
    fn chooses_addressing() {
        let aws = Endpoint::aws("eu-west-1");
        assert_eq!(
            aws.locate("photos", Some("a b/ü+%.jpg")),
            (
                "photos.s3.eu-west-1.amazonaws.com".into(),
                "/a%20b/%C3%BC%2B%25.jpg".into()
            )
        );
        assert_eq!(
            aws.locate("my.photos", Some("k")),
            ("s3.eu-west-1.amazonaws.com".into(), "/my.photos/k".into())
        );
        for url in [
            "http://127.0.0.1:9000",
            "http://localhost:9000",
            "http://[::1]:9000",
        ] {
            let local = Endpoint::custom(url, "us-east-1", Addressing::Auto).unwrap();
            assert_eq!(local.addressing_for("uploads"), Addressing::Path, "{url}");
            assert_eq!(local.locate("uploads", None).1, "/uploads");
            assert_eq!(
                local.locate("uploads", Some("a/../b//./c")).1,
                "/uploads/a/../b//./c"
            );
        }
        let forced = Endpoint {
            addressing: Addressing::Path,
            ..aws.clone()
        };
        assert_eq!(forced.locate("photos", Some("k")).1, "/photos/k");
        assert_eq!(aws.locate("photos", None).1, "/");
    }

    #[test]
    fn parses_origins() {
        let o = Origin::parse("HTTP://Minio.local:9000/").unwrap();
        assert_eq!(
            (o.scheme, o.host.as_str()),
            (Scheme::Http, "minio.local:9000")
        );
        for bad in ["ftp://x", "https://", "https://h/path", "s3.amazonaws.com"] {
            assert!(
                matches!(Origin::parse(bad), Err(Error::InvalidEndpoint { .. })),
                "{bad}"
            );
        }
    }
}
