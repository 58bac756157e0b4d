//! SigV4's URI encoding: every byte but the unreserved `A-Z a-z 0-9 - _ . ~` is
//! percent-encoded with uppercase hex; `/` is kept when encoding a path.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but the unreserved characters of RFC 3986.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The same, keeping `/` (for paths).
const UNRESERVED_AND_SLASH: &AsciiSet = &UNRESERVED.remove(b'/');

/// Percent-encodes `s` as SigV4 and S3 require. With `encode_slash` false, `/` stays
/// as it is (object keys in paths).
pub fn uri_encode(s: &str, encode_slash: bool) -> String {
    let set = if encode_slash {
        UNRESERVED
    } else {
        UNRESERVED_AND_SLASH
    };
    utf8_percent_encode(s, set).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
