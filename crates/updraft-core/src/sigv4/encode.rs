//! SigV4's URI encoding: every byte but the unreserved `A-Z a-z 0-9 - _ . ~` is
//! percent-encoded with uppercase hex; `/` is kept when encoding a path.
//!
//! Written out rather than taken from the `percent-encoding` crate: the crate's
//! 768-byte table and its `Display` path cost the wasm 893 B gzip
//! (`cargo xtask web`, issue 16). The tests hold it to the crate, byte for byte.

/// Percent-encodes `s` as SigV4 and S3 require. With `encode_slash` false, `/` stays
/// as it is (object keys in paths).
pub fn uri_encode(s: &str, encode_slash: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (b == b'/' && !encode_slash) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    use proptest::prelude::*;

    /// The reference: everything but the unreserved characters of RFC 3986.
    const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    const UNRESERVED_AND_SLASH: &AsciiSet = &UNRESERVED.remove(b'/');

    #[test]
    fn encodes_like_s3() {
        assert_eq!(
            uri_encode("a b+c%d#e?f/g~h", true),
            "a%20b%2Bc%25d%23e%3Ff%2Fg~h"
        );
        assert_eq!(
            uri_encode("photos/2024/ü.jpg", false),
            "photos/2024/%C3%BC.jpg"
        );
    }

    proptest! {
        /// Byte for byte what the `percent-encoding` crate makes of any string.
        #[test]
        fn r16_encodes_as_the_percent_encoding_crate(s in any::<String>()) {
            prop_assert_eq!(uri_encode(&s, true), utf8_percent_encode(&s, UNRESERVED).to_string());
            prop_assert_eq!(
                uri_encode(&s, false),
                utf8_percent_encode(&s, UNRESERVED_AND_SLASH).to_string()
            );
        }
    }
}
