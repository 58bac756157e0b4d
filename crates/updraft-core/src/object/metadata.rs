//! User metadata, sent as `x-amz-meta-*` headers.

use std::collections::BTreeMap;

use crate::Error;
use crate::base64::base64_encode;

/// S3's limit on user metadata: the UTF-8 bytes of all names and values together.
pub const MAX_METADATA_SIZE: usize = 2048;

/// Validated user metadata: names are lowercase HTTP tokens (without the
/// `x-amz-meta-` prefix), values any text.
///
/// Values of printable ASCII (without leading or trailing spaces, which HTTP would
/// drop) are sent as they are; any other value is sent as an RFC 2047 encoded word,
/// `=?UTF-8?B?<base64>?=`, as the AWS SDKs for Java and .NET do, since a header value
/// cannot carry non-ASCII text or line breaks. S3 returns such values as sent.
///
/// The 2 KB limit is checked on what goes on the wire: the bytes of every name
/// (without its `x-amz-meta-` prefix) plus its value after encoding.
///
/// ```
/// use updraft_core::object::Metadata;
/// let mut m = Metadata::new();
/// m.insert("Album", "Summer")?;
/// m.insert("caption", "Café")?;
/// assert_eq!(m.headers(), vec![
///     ("x-amz-meta-album".to_owned(), "Summer".to_owned()),
///     ("x-amz-meta-caption".to_owned(), "=?UTF-8?B?Q2Fmw6k=?=".to_owned()),
/// ]);
/// # Ok::<(), updraft_core::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(
    try_from = "BTreeMap<String, String>",
    into = "BTreeMap<String, String>"
)]
pub struct Metadata {
    /// Sorted by name, names unique. A list rather than a `BTreeMap`: a few entries
    /// under 2 KB, and the map's code for `String` keys was about 5 KB of the browser
    /// package's wasm (twiggy, wasm-release; 30 KB gzip budget).
    entries: Vec<(String, String)>,
}

impl Metadata {
    /// No metadata.
    pub fn new() -> Self {
        Metadata::default()
    }

    /// Adds or replaces the entry `name` (any case; an `x-amz-meta-` prefix is
    /// dropped).
    ///
    /// # Errors
    /// - [`Error::InvalidMetadata`] when `name` is empty or has a character that is not
    ///   an HTTP token character (letters, digits, ``!#$%&'*+-.^_`|~``).
    /// - [`Error::MetadataTooLarge`] when the metadata would exceed 2 KB; it is then
    ///   left as it was.
    pub fn insert(&mut self, name: &str, value: &str) -> Result<(), Error> {
        let mut name = name.to_ascii_lowercase();
        if let Some(rest) = name.strip_prefix("x-amz-meta-") {
            name = rest.to_owned();
        }
        if name.is_empty() {
            return Err(Error::InvalidMetadata {
                name,
                detail: "the name is empty".into(),
            });
        }
        if let Some(c) = name.chars().find(|&c| !is_token_char(c)) {
            // `Quoted`, not `char::escape_default` (whose escapes cost wasm size).
            let mut buf = [0; 4];
            return Err(Error::InvalidMetadata {
                detail: crate::cat!(
                    "names may hold only letters, digits and !#$%&'*+-.^_`|~, not {}",
                    crate::text::Quoted(c.encode_utf8(&mut buf))
                ),
                name,
            });
        }
        let at = self
            .entries
            .binary_search_by(|(k, _)| k.as_str().cmp(&name));
        let size = self.size() - at.map_or(0, |i| name.len() + encoded_len(&self.entries[i].1))
            + name.len()
            + encoded_len(value);
        if size > MAX_METADATA_SIZE {
            return Err(Error::MetadataTooLarge {
                size,
                limit: MAX_METADATA_SIZE,
            });
        }
        match at {
            Ok(i) => self.entries[i].1 = value.to_owned(),
            Err(i) => self.entries.insert(i, (name, value.to_owned())),
        }
        Ok(())
    }

    /// The value of entry `name` (lowercase, without prefix) as given.
    pub fn get(&self, name: &str) -> Option<&str> {
        let i = self
            .entries
            .binary_search_by(|(k, _)| k.as_str().cmp(name))
            .ok()?;
        Some(&self.entries[i].1)
    }

    /// Entries as given, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The size S3 counts against its 2 KB limit.
    pub fn size(&self) -> usize {
        self.entries
            .iter()
            .map(|(k, v)| k.len() + encoded_len(v))
            .sum()
    }

    /// The `x-amz-meta-*` request headers, by name.
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (k, v) in &self.entries {
            out.push((crate::cat!("x-amz-meta-{}", k), encode_value(v)));
        }
        out
    }
}

impl TryFrom<BTreeMap<String, String>> for Metadata {
    type Error = Error;
    fn try_from(map: BTreeMap<String, String>) -> Result<Self, Error> {
        let mut m = Metadata::new();
        for (k, v) in &map {
            m.insert(k, v)?;
        }
        Ok(m)
    }
}

impl Metadata {
    /// The entries (names lowercase, sorted), taken.
    pub fn into_entries(self) -> Vec<(String, String)> {
        self.entries
    }
}

impl From<Metadata> for BTreeMap<String, String> {
    fn from(m: Metadata) -> Self {
        m.entries.into_iter().collect()
    }
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || (c.is_ascii() && b"!#$%&'*+-.^_`|~".contains(&(c as u8)))
}

fn needs_encoding(v: &str) -> bool {
    v.bytes().any(|b| !(0x20..=0x7e).contains(&b)) || v.starts_with(' ') || v.ends_with(' ')
}

/// A value as it goes into its header.
fn encode_value(v: &str) -> String {
    if needs_encoding(v) {
        crate::cat!("=?UTF-8?B?{}?=", base64_encode(v.as_bytes()))
    } else {
        v.to_owned()
    }
}

fn encoded_len(v: &str) -> usize {
    if needs_encoding(v) {
        "=?UTF-8?B??=".len() + v.len().div_ceil(3) * 4
    } else {
        v.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn names_are_normalised_and_checked() {
        let mut m = Metadata::new();
        m.insert("X-Amz-Meta-Owner", "me").unwrap();
        assert_eq!(m.get("owner"), Some("me"));
        for bad in ["", "x-amz-meta-", "two words", "colon:", "ü", "a\nb", "a/b"] {
            let e = m.insert(bad, "v").unwrap_err();
            assert!(matches!(e, Error::InvalidMetadata { .. }), "{bad:?}");
            assert!(e.to_string().contains("cannot be sent"));
        }
    }

    #[test]
    fn values_are_encoded_when_not_plain_ascii() {
        assert_eq!(encode_value("plain text, 100% ok"), "plain text, 100% ok");
        assert_eq!(encode_value("line\nbreak"), "=?UTF-8?B?bGluZQpicmVhaw==?=");
        assert_eq!(encode_value(" padded"), "=?UTF-8?B?IHBhZGRlZA==?=");
        assert_eq!(encode_value("日本"), "=?UTF-8?B?5pel5pys?=");
        assert_eq!(encode_value(""), "");
    }

    #[test]
    fn size_limit_names_size_and_limit() {
        let mut m = Metadata::new();
        m.insert("a", &"x".repeat(2047)).unwrap();
        assert_eq!(m.size(), 2048);
        let e = m.insert("b", "y").unwrap_err();
        assert_eq!(
            e,
            Error::MetadataTooLarge {
                size: 2050,
                limit: 2048
            }
        );
        assert!(e.to_string().contains("2050 bytes"));
        assert!(e.to_string().contains("2048 bytes"));
        // Replacing an entry counts the new value only.
        m.insert("a", "short").unwrap();
        assert_eq!(m.size(), 6);
    }

    #[test]
    fn serde_validates() {
        let m: Metadata = serde_json::from_str(r#"{"Owner":"me"}"#).unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"owner":"me"}"#);
        assert!(serde_json::from_str::<Metadata>(r#"{"bad name":"me"}"#).is_err());
    }

    proptest! {
        #[test]
        fn encoded_len_is_exact_and_headers_are_ascii(v in any::<String>()) {
            let e = encode_value(&v);
            prop_assert_eq!(e.len(), encoded_len(&v));
            prop_assert!(e.bytes().all(|b| (0x20..=0x7e).contains(&b)));
        }
    }
}
