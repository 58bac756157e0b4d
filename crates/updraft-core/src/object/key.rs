//! Key templates: `{sub}/{uuid}/{name}` and friends, parsed once, rendered per file.
//!
//! # What a placeholder can put into a key
//! A key is only as safe as what goes into it. The rules, so that a template whose
//! literal text starts `{sub}/` always gives a key under that user's prefix:
//!
//! - `{sub}` is the signed-in user's subject, used **as is** because the IAM policy
//!   compares the raw `${sub}` with the key: any escaping would give a key the policy
//!   denies. So a `sub` that would change the key's shape is **rejected**
//!   ([`Error::InvalidKeyPart`]): empty, `.`, `..`, or containing `/` or a control
//!   character.
//! - `{uuid}` (given by the caller, e.g. from [`uuid_v4`]) follows the same rule.
//! - `{name}` is the file's name, made harmless rather than rejected (a user cannot be
//!   asked to fix a name they did not choose for a key): only the last component after
//!   any `/` or `\` is kept; control characters (U+0000–U+001F, U+007F and the C1
//!   range U+0080–U+009F) become `_`; an empty name becomes `_`. Everything else is kept
//!   byte for byte: unicode (no NFC), spaces, `+`, `%`, `#`, `?`, quotes. Those are
//!   percent-encoded on the wire, never in the key.
//! - `{path}` is the file's relative path as the driver names it (a file from a dropped
//!   or picked folder: `holiday/day 1/a.jpg`), so keys keep the folders: its `/`- or
//!   `\`-separated components are each cleaned as `{name}` is, empty ones dropped, and
//!   joined with `/`; a `.` or `..` among them is neutralised as below. For a plain
//!   file it is the same as `{name}`.
//! - `{ext}` is the text after the last `.` of that cleaned name (kept as is, without the
//!   dot), empty when there is none or the only dot leads (`.bashrc`).
//! - `{date}` is the upload's date, `YYYY-MM-DD` (UTC), from the caller's clock.
//!
//! After rendering, every `/`-separated segment that came out as `.` or `..` (say `.`
//! literal text followed by a `{name}` of `.`) becomes `_.` / `_..`: S3 keeps such
//! segments, but browsers and proxies collapse them in URLs, which would send the
//! request to another key. Literal text that is itself a `.` or `..` segment is
//! rejected when the template is parsed.
//!
//! A key longer than S3's 1024 UTF-8 bytes is an [`Error::KeyTooLong`] naming the file.

use std::fmt;
use std::str::FromStr;

use crate::text::Quoted;
use crate::{Error, Timestamp, cat};

/// S3's limit on the length of an object key, in UTF-8 bytes.
pub const MAX_KEY_LEN: usize = 1024;

/// A piece of a parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Sub,
    Uuid,
    Name,
    Path,
    Ext,
    Date,
}

/// A parsed key template such as `{sub}/{uuid}/{name}`.
///
/// ```
/// use updraft_core::object::{KeyContext, KeyTemplate};
/// use updraft_core::Timestamp;
/// let t = KeyTemplate::parse("{sub}/{date}/{uuid}.{ext}")?;
/// let ctx = KeyContext {
///     sub: "alice",
///     uuid: "0f8fad5b-d9cb-469f-a165-70867728950e",
///     file_name: "C:\\Users\\me\\Holiday Photo.JPG",
///     date: Timestamp::from_unix(1_700_000_000),
/// };
/// assert_eq!(t.render(&ctx)?, "alice/2023-11-14/0f8fad5b-d9cb-469f-a165-70867728950e.JPG");
/// # Ok::<(), updraft_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct KeyTemplate {
    source: String,
    parts: Vec<Part>,
}

/// What a template is rendered with. Every value comes from the caller: the core has
/// no clock and no randomness.
#[derive(Clone, Copy, Debug)]
pub struct KeyContext<'a> {
    /// The signed-in user's subject (`sub` claim or Cognito identity id).
    pub sub: &'a str,
    /// A fresh uuid for this upload, e.g. [`uuid_v4`] of 16 random bytes.
    pub uuid: &'a str,
    /// The file's name as the browser or the file system gave it.
    pub file_name: &'a str,
    /// When the upload started.
    pub date: Timestamp,
}

impl KeyTemplate {
    /// The default template, `{sub}/{uuid}/{name}`: per-user, collision-free, and the
    /// file's own name last so a download keeps it.
    pub const DEFAULT: &'static str = "{sub}/{uuid}/{name}";

    /// Parses `template`.
    ///
    /// # Errors
    /// [`Error::KeyTemplate`] naming the template when it is empty, has an unknown
    /// placeholder or an unbalanced `{`/`}`, or literal text forming a `.` or `..`
    /// segment.
    pub fn parse(template: &str) -> Result<Self, Error> {
        let err = |detail: String| Error::KeyTemplate {
            template: template.to_owned(),
            detail,
        };
        if template.is_empty() {
            return Err(err("it is empty".into()));
        }
        let mut parts = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            match rest.find(['{', '}']) {
                None => {
                    parts.push(Part::Literal(rest.to_owned()));
                    rest = "";
                }
                Some(i) if rest[i..].starts_with('}') => {
                    return Err(err(cat!(
                        "the `}` at byte {} closes nothing",
                        template.len() - rest.len() + i
                    )));
                }
                Some(i) => {
                    if i > 0 {
                        parts.push(Part::Literal(rest[..i].to_owned()));
                    }
                    let after = &rest[i + 1..];
                    let close = after
                        .find(['{', '}'])
                        .filter(|&j| after[j..].starts_with('}'));
                    let Some(j) = close else {
                        return Err(err(cat!(
                            "the `{` at byte {} is not closed",
                            template.len() - rest.len() + i
                        )));
                    };
                    parts.push(match &after[..j] {
                        "sub" => Part::Sub,
                        "uuid" => Part::Uuid,
                        "name" => Part::Name,
                        "path" => Part::Path,
                        "ext" => Part::Ext,
                        "date" => Part::Date,
                        other => return Err(err(cat!("{{}} is not a placeholder", other))),
                    });
                    rest = &after[j + 1..];
                }
            }
        }
        // Literal text alone must not make a `.`/`..` segment: a segment is literal-only
        // when it lies inside one literal part, between two `/` or the template's ends.
        for (idx, part) in parts.iter().enumerate() {
            let Part::Literal(text) = part else { continue };
            let segments: Vec<&str> = text.split('/').collect();
            for (k, seg) in segments.iter().enumerate() {
                let bounded_left = k > 0 || idx == 0;
                let bounded_right = k + 1 < segments.len() || idx + 1 == parts.len();
                if bounded_left && bounded_right && (*seg == "." || *seg == "..") {
                    return Err(err(cat!(
                        "the path segment {} would move the key to another folder",
                        Quoted(seg)
                    )));
                }
            }
        }
        Ok(KeyTemplate {
            source: template.to_owned(),
            parts,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The folder every key of user `sub` lies in: the template rendered up to its first
    /// part that differs per file (`{uuid}`, `{name}`, `{path}`, `{ext}`, `{date}`), cut back to
    /// its last `/`. `{sub}/{uuid}/{name}` gives `alice/`; `guest/{sub}/{name}` gives
    /// `guest/alice/`; `{date}/{sub}/{name}` gives the empty prefix (the whole bucket).
    ///
    /// # Errors
    /// [`Error::InvalidKeyPart`] for a `sub` that [`render`](Self::render) refuses.
    pub fn user_prefix(&self, sub: &str) -> Result<String, Error> {
        let mut prefix = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => prefix.push_str(text),
                Part::Sub => prefix.push_str(checked_part("sub", sub)?),
                _ => break,
            }
        }
        prefix.truncate(prefix.rfind('/').map_or(0, |i| i + 1));
        Ok(prefix)
    }

    /// The object key for one file.
    ///
    /// # Errors
    /// - [`Error::InvalidKeyPart`] when the template uses `{sub}` or `{uuid}` and that
    ///   value is empty, `.`, `..`, or holds `/` or a control character.
    /// - [`Error::KeyTooLong`] naming the file when the key exceeds 1024 UTF-8 bytes.
    pub fn render(&self, ctx: &KeyContext<'_>) -> Result<String, Error> {
        let name = clean_file_name(ctx.file_name);
        let mut key = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => key.push_str(text),
                Part::Sub => key.push_str(checked_part("sub", ctx.sub)?),
                Part::Uuid => key.push_str(checked_part("uuid", ctx.uuid)?),
                Part::Name => key.push_str(&name),
                Part::Path => key.push_str(&clean_path(ctx.file_name)),
                Part::Ext => key.push_str(extension(&name)),
                Part::Date => {
                    let iso = ctx.date.iso8601_millis();
                    key.push_str(iso.split('T').next().unwrap_or(&iso));
                }
            }
        }
        let key = neutralize_dot_segments(key);
        check_len(ctx.file_name, &key)?;
        Ok(key)
    }
}

/// [`Error::KeyTooLong`] naming `file_name` when `key` exceeds [`MAX_KEY_LEN`] bytes.
pub(crate) fn check_len(file_name: &str, key: &str) -> Result<(), Error> {
    if key.len() > MAX_KEY_LEN {
        return Err(Error::KeyTooLong {
            file_name: truncate(file_name, 80).to_owned(),
            key_prefix: truncate(key, 40).to_owned(),
            len: key.len(),
        });
    }
    Ok(())
}

impl Default for KeyTemplate {
    fn default() -> Self {
        KeyTemplate {
            source: Self::DEFAULT.to_owned(),
            parts: vec![
                Part::Sub,
                Part::Literal("/".into()),
                Part::Uuid,
                Part::Literal("/".into()),
                Part::Name,
            ],
        }
    }
}

impl fmt::Debug for KeyTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyTemplate({:?})", self.source)
    }
}

impl fmt::Display for KeyTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for KeyTemplate {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        KeyTemplate::parse(s)
    }
}

impl serde::Serialize for KeyTemplate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> serde::Deserialize<'de> for KeyTemplate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        KeyTemplate::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A version-4 uuid (RFC 9562) made of 16 random bytes the caller supplies, in the
/// usual lowercase hyphenated form.
pub fn uuid_v4(random: [u8; 16]) -> String {
    let mut b = random;
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC variant
    let hex = crate::sigv4::hex(&b);
    let mut s = String::with_capacity(36);
    for (i, range) in [0..8, 8..12, 12..16, 16..20, 20..32]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            s.push('-');
        }
        s.push_str(&hex[range]);
    }
    s
}

/// The file name as it goes into a key (see the module docs).
pub fn clean_file_name(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let cleaned: String = base
        .chars()
        .map(|c| if c.is_control() { '_' } else { c })
        .collect();
    if cleaned.is_empty() {
        "_".to_owned()
    } else {
        cleaned
    }
}

/// A relative path as it goes into a key (`{path}`, see the module docs).
fn clean_path(path: &str) -> String {
    let mut out = String::new();
    for part in path.split(['/', '\\']).filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(&clean_file_name(part));
    }
    if out.is_empty() { "_".to_owned() } else { out }
}

/// The extension of a cleaned name, without its dot.
fn extension(name: &str) -> &str {
    match name.rfind('.') {
        Some(0) | None => "",
        Some(i) => &name[i + 1..],
    }
}

fn checked_part<'a>(what: &'static str, value: &'a str) -> Result<&'a str, Error> {
    let detail = if value.is_empty() {
        "it is empty"
    } else if value == "." || value == ".." {
        "it is a relative path segment"
    } else if value.as_bytes().contains(&b'/') {
        "it contains `/`, which would add a folder level"
    } else if value.chars().any(char::is_control) {
        "it contains a control character"
    } else {
        return Ok(value);
    };
    Err(Error::InvalidKeyPart {
        what,
        value: truncate(value, 80).to_owned(),
        detail,
    })
}

fn neutralize_dot_segments(key: String) -> String {
    if !key.split('/').any(|s| s == "." || s == "..") {
        return key;
    }
    let mut out = String::with_capacity(key.len() + 2);
    for (i, s) in key.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if s == "." || s == ".." {
            out.push('_');
        }
        out.push_str(s);
    }
    out
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const UUID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

    fn ctx(name: &str) -> KeyContext<'_> {
        KeyContext {
            sub: "alice",
            uuid: UUID,
            file_name: name,
            date: Timestamp::from_unix(1_700_000_000),
        }
    }

    fn render(template: &str, name: &str) -> Result<String, Error> {
        KeyTemplate::parse(template).unwrap().render(&ctx(name))
    }

    #[test]
    fn a_users_prefix_is_the_folder_before_the_first_per_file_part_r13() {
        let prefix = |t: &str, sub: &str| KeyTemplate::parse(t).unwrap().user_prefix(sub);
        assert_eq!(prefix(KeyTemplate::DEFAULT, "alice").unwrap(), "alice/");
        assert_eq!(
            prefix("guest/{sub}/{name}", "eu-1:x").unwrap(),
            "guest/eu-1:x/"
        );
        assert_eq!(prefix("u/{sub}-{uuid}", "alice").unwrap(), "u/");
        assert_eq!(prefix("{date}/{sub}/{name}", "alice").unwrap(), "");
        assert_eq!(prefix("static/{sub}/", "alice").unwrap(), "static/alice/");
        assert!(prefix(KeyTemplate::DEFAULT, "../bob").is_err());
        assert!(prefix(KeyTemplate::DEFAULT, "").is_err());
    }

    #[test]
    fn placeholders_render() {
        assert_eq!(
            render("{sub}/{uuid}/{name}", "a.txt").unwrap(),
            format!("alice/{UUID}/a.txt")
        );
        assert_eq!(
            render("uploads/{date}/{sub}-{ext}", "x.tar.gz").unwrap(),
            "uploads/2023-11-14/alice-gz"
        );
        assert_eq!(render("{name}", "noext").unwrap(), "noext");
        // r13: a folder's file keeps its folders with `{path}`, never leaving the prefix.
        assert_eq!(
            render("{sub}/{path}", "holiday/day 1/a.jpg").unwrap(),
            "alice/holiday/day 1/a.jpg"
        );
        assert_eq!(render("{sub}/{path}", "a.jpg").unwrap(), "alice/a.jpg");
        assert_eq!(render("{sub}/{path}", "/x//y\\z").unwrap(), "alice/x/y/z");
        assert_eq!(
            render("{sub}/{path}", "../../bob/x").unwrap(),
            "alice/_../_../bob/x"
        );
        assert_eq!(render("{sub}/{path}", "a\u{1}b/c").unwrap(), "alice/a_b/c");
        assert_eq!(render("{sub}/{path}", "//").unwrap(), "alice/_");
        assert_eq!(
            render("{sub}/{path}.{ext}", "d/x.tar.gz").unwrap(),
            "alice/d/x.tar.gz.gz"
        );
        assert_eq!(render("{ext}|", "noext").unwrap(), "|");
        assert_eq!(render("{ext}|", ".bashrc").unwrap(), "|");
        assert_eq!(render("{ext}|", "a.").unwrap(), "|");
        assert_eq!(
            KeyTemplate::default(),
            KeyTemplate::parse(KeyTemplate::DEFAULT).unwrap()
        );
    }

    #[test]
    fn odd_names_are_kept_byte_for_byte() {
        for name in [
            "über straße.pdf",
            "a+b%20c#d?e.txt",
            "日本語 ファイル.png",
            " lead",
            "'\";",
        ] {
            assert_eq!(
                render("{sub}/{name}", name).unwrap(),
                format!("alice/{name}")
            );
        }
    }

    #[test]
    fn paths_and_controls_and_dots() {
        assert_eq!(
            render("{sub}/{name}", "C:\\dir\\x.jpg").unwrap(),
            "alice/x.jpg"
        );
        assert_eq!(render("{sub}/{name}", "../../bob/x").unwrap(), "alice/x");
        assert_eq!(render("{sub}/{name}", "dir/").unwrap(), "alice/_");
        assert_eq!(render("{sub}/{name}", "").unwrap(), "alice/_");
        assert_eq!(render("{sub}/{name}", "..").unwrap(), "alice/_..");
        assert_eq!(render("{sub}/{name}", ".").unwrap(), "alice/_.");
        assert_eq!(render("{sub}/.{name}", ".").unwrap(), "alice/_..");
        assert_eq!(
            render("{sub}/{name}", "a\u{0}b\nc\u{7f}\u{85}").unwrap(),
            "alice/a_b_c__"
        );
    }

    #[test]
    fn bad_sub_is_rejected() {
        let t = KeyTemplate::parse("{sub}/{name}").unwrap();
        for sub in ["", ".", "..", "a/b", "a\nb"] {
            let e = t.render(&KeyContext { sub, ..ctx("x") }).unwrap_err();
            assert!(
                matches!(e, Error::InvalidKeyPart { what: "sub", .. }),
                "{sub:?}: {e}"
            );
        }
        // Cognito identity ids contain a colon: fine.
        let k = t
            .render(&KeyContext {
                sub: "us-east-1:1234-abcd",
                ..ctx("x")
            })
            .unwrap();
        assert_eq!(k, "us-east-1:1234-abcd/x");
    }

    #[test]
    fn bad_templates_name_the_template() {
        for (t, needle) in [
            ("", "empty"),
            ("{sub}/{nam}", "{nam} is not a placeholder"),
            ("{sub/{name}", "not closed"),
            ("{sub}/name}", "closes nothing"),
            ("{sub", "not closed"),
            ("{sub}/../{name}", "\"..\""),
            ("./{name}", "\".\""),
        ] {
            let e = KeyTemplate::parse(t).unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains(&format!("{t:?}")), "{msg}");
            assert!(msg.contains(needle), "{t}: {msg}");
        }
        // A dot segment only with a placeholder next to it is fine at parse time.
        assert!(KeyTemplate::parse("{sub}/.{name}").is_ok());
        assert!(KeyTemplate::parse("a..b/{name}").is_ok());
    }

    #[test]
    fn too_long_names_are_an_error_naming_the_file() {
        let name = "x".repeat(1100);
        let e = render("{sub}/{name}", &name).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::KeyTooLong { len: 1106, .. }));
        assert!(msg.contains("82 bytes too long"), "{msg}");
        assert!(msg.contains("1024-byte"), "{msg}");
        assert!(msg.contains("rename the file"), "{msg}");
        // Exactly at the limit is fine.
        let name = "y".repeat(MAX_KEY_LEN - "alice/".len());
        assert_eq!(render("{sub}/{name}", &name).unwrap().len(), MAX_KEY_LEN);
    }

    #[test]
    fn uuid_v4_formats() {
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
        assert_eq!(uuid_v4([0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
    }

    #[test]
    fn serde_round_trip() {
        let t: KeyTemplate = serde_json::from_str("\"{sub}/{name}\"").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"{sub}/{name}\"");
        assert!(serde_json::from_str::<KeyTemplate>("\"{bad}\"").is_err());
    }

    proptest! {
        #[test]
        fn names_never_escape_the_sub_prefix(name in any::<String>(), template in prop::sample::select(vec![
            "{sub}/{name}", "{sub}/{uuid}/{name}", "{sub}/.{name}", "{sub}/{name}/{ext}",
            "{sub}/{date}/{name}.{ext}", "{sub}/..{ext}",
        ])) {
            let t = KeyTemplate::parse(template).unwrap();
            match t.render(&ctx(&name)) {
                Ok(key) => {
                    prop_assert!(key.starts_with("alice/"), "{key:?}");
                    prop_assert!(key.len() <= MAX_KEY_LEN);
                    for seg in key.split('/') {
                        prop_assert!(seg != "." && seg != "..", "{key:?}");
                    }
                    prop_assert!(!key.chars().any(char::is_control));
                }
                Err(e) => prop_assert!(matches!(e, Error::KeyTooLong { .. }), "{e}"),
            }
        }

        #[test]
        fn long_unicode_names_error_instead_of_exceeding(name in "\\PC{200,400}") {
            let key = render("{sub}/{name}", &name);
            match key {
                Ok(k) => prop_assert!(k.len() <= MAX_KEY_LEN),
                Err(Error::KeyTooLong { len, .. }) => prop_assert!(len > MAX_KEY_LEN),
                Err(e) => prop_assert!(false, "{e}"),
            }
        }

        #[test]
        fn parse_never_panics(t in any::<String>()) {
            let _ = KeyTemplate::parse(&t);
        }
    }
}
