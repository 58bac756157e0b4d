//! The small JSON reader and writer the core's wire formats use (Cognito bodies, POST
//! policies, resume records) and the browser driver uses for its options, actions and
//! events.
//!
//! # Why not `serde_json`
//! Measured with `twiggy` on the browser package (`cargo xtask web`, wasm-release):
//! `serde_json` with the `Deserialize` impls it instantiated, the float formatting and
//! parsing it pulls in and its `BTreeMap`-backed `Value` came to about 90 KB of the
//! 420 KB of code, against a 30 KB gzip budget for the whole package. These few
//! documents need a tree of values and a writer, so the core keeps its own here (about
//! 2 KB of wasm); the serde derives stay for the CLI's TOML/JSON forms.
//!
//! Numbers are kept as their text: the callers read integers ([`Value::as_u64`]) or
//! whole seconds ([`Value::as_floor_i64`]), and nothing here formats or parses floats.

/// Documents nested deeper are refused: no document read here nests more than 3 levels.
const MAX_DEPTH: usize = 64;

/// A JSON value. Objects keep their members in document order (and may repeat a name:
/// [`Value::get`] finds the first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    /// The number's text, as read or to be written (always a valid JSON number).
    Number(String),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Number(crate::cat!("{}", n))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl Value {
    /// Member `name` of an object (`None` for a missing member and for a non-object).
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number as a `u64`, if it is a non-negative integer written without fraction
    /// or exponent that fits.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    /// The number rounded down to an integer (`1.5E9` and `1500000000.25` both give
    /// 1500000000), saturating at the edges of `i64`.
    pub fn as_floor_i64(&self) -> Option<i64> {
        let Value::Number(n) = self else { return None };
        let (mantissa, exp) = match n.find(['e', 'E']) {
            Some(i) => (&n[..i], n[i + 1..].parse::<i32>().ok()?),
            None => (n.as_str(), 0),
        };
        let (negative, mantissa) = match mantissa.strip_prefix('-') {
            Some(m) => (true, m),
            None => (false, mantissa),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        // |value| = digits · 10^scale, digits the integer made of the first 18 digits.
        // (64-bit arithmetic only: 128-bit division is 1 KB of wasm.)
        let mut digits: i64 = 0;
        let mut scale = exp.saturating_sub(frac.len() as i32);
        let mut dropped = false;
        for c in int.bytes().chain(frac.bytes()) {
            if !c.is_ascii_digit() {
                return None;
            }
            if digits < 100_000_000_000_000_000 {
                digits = digits * 10 + i64::from(c - b'0');
            } else {
                scale = scale.saturating_add(1);
                dropped |= c != b'0';
            }
        }
        while scale > 0 && digits != 0 && digits != i64::MAX {
            digits = digits.saturating_mul(10);
            scale -= 1;
        }
        while scale < 0 && digits != 0 {
            dropped |= digits % 10 != 0;
            digits /= 10;
            scale += 1;
        }
        // Rounding down: a negative value with a dropped fraction is one lower.
        Some(match (negative, dropped) {
            (false, _) => digits,
            (true, false) => -digits,
            (true, true) => -digits - 1,
        })
    }

    /// The value as compact JSON text.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    /// Appends the value as compact JSON text to `out`.
    pub fn write(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => out.push_str(n),
            Value::String(s) => write_str(out, s),
            Value::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            Value::Object(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(out, k);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// A JSON object written as text member by member: for what crosses the wasm boundary
/// many times a second (actions, events), without building a tree of [`Value`]s first,
/// whose code costs wasm size (issue 16). Member names are written as given: pass
/// plain ASCII names (the callers' are literals).
///
/// ```
/// use updraft_core::json::ObjectWriter;
/// let mut w = ObjectWriter::new();
/// w.str("type", "cancel").num("id", 7).opt_str("note", None);
/// assert_eq!(w.finish(), r#"{"type":"cancel","id":7,"note":null}"#);
/// ```
#[derive(Debug)]
pub struct ObjectWriter {
    out: String,
}

impl Default for ObjectWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl ObjectWriter {
    pub fn new() -> Self {
        ObjectWriter {
            out: String::from("{"),
        }
    }

    fn name(&mut self, name: &str) -> &mut String {
        if self.out.len() > 1 {
            self.out.push(',');
        }
        self.out.push('"');
        self.out.push_str(name);
        self.out.push_str("\":");
        &mut self.out
    }

    pub fn str(&mut self, name: &str, value: &str) -> &mut Self {
        write_str(self.name(name), value);
        self
    }

    /// `value`, or `null`.
    pub fn opt_str(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.str(name, v),
            None => self.raw(name, "null"),
        }
    }

    pub fn num(&mut self, name: &str, value: u64) -> &mut Self {
        write_u64(self.name(name), value);
        self
    }

    /// `value`, or `null`.
    pub fn opt_num(&mut self, name: &str, value: Option<u64>) -> &mut Self {
        match value {
            Some(v) => self.num(name, v),
            None => self.raw(name, "null"),
        }
    }

    pub fn bool(&mut self, name: &str, value: bool) -> &mut Self {
        self.raw(name, if value { "true" } else { "false" })
    }

    /// `json`, which must be JSON text already (a number, an array, an object).
    pub fn raw(&mut self, name: &str, json: &str) -> &mut Self {
        self.name(name).push_str(json);
        self
    }

    pub fn finish(&mut self) -> String {
        let mut out = std::mem::take(&mut self.out);
        out.push('}');
        out
    }
}

/// Appends `n` in decimal to `out` (without `core::fmt`, whose call costs wasm size).
pub fn write_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// `[[name, value], …]` of `pairs`, as JSON text, leaving out the names in `skip` (one
/// function, not one per iterator type: wasm size).
pub fn pairs(pairs: &[(String, String)], skip: &[&str]) -> String {
    let mut out = String::from("[");
    for (n, v) in pairs {
        if skip.contains(&n.as_str()) {
            continue;
        }
        out.push_str(if out.len() > 1 { ",[" } else { "[" });
        write_str(&mut out, n);
        out.push(',');
        write_str(&mut out, v);
        out.push(']');
    }
    out.push(']');
    out
}

/// `[start, end]` as JSON text.
pub fn range(start: u64, end: u64) -> String {
    let mut out = String::from("[");
    write_u64(&mut out, start);
    out.push(',');
    write_u64(&mut out, end);
    out.push(']');
    out
}

/// An object from `(name, value)` pairs.
pub fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// Appends `s` as a JSON string (quoted and escaped) to `out`.
pub fn write_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(char::from(HEX[(c as usize) >> 4]));
                out.push(char::from(HEX[(c as usize) & 15]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Reads `text` as one JSON document.
///
/// # Errors
/// What is wrong and at which byte, when `text` is not JSON.
pub fn parse(text: &str) -> Result<Value, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        at: 0,
    };
    let v = p.value(0)?;
    p.ws();
    if p.at < p.s.len() {
        return Err(p.error("trailing characters"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        let mut e = String::from(what);
        e.push_str(" at byte ");
        crate::text::Piece::put(&self.at, &mut e);
        e
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn word(&mut self, w: &str, v: Value) -> Result<Value, String> {
        if self.s[self.at..].starts_with(w.as_bytes()) {
            self.at += w.len();
            Ok(v)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        match self.peek() {
            Some(b'{') => {
                self.at += 1;
                let mut members = Vec::new();
                if !self.eat(b'}') {
                    loop {
                        if self.peek() != Some(b'"') {
                            return Err(self.error("expected a member name"));
                        }
                        let k = self.string()?;
                        if !self.eat(b':') {
                            return Err(self.error("expected `:`"));
                        }
                        members.push((k, self.value(depth + 1)?));
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return Err(self.error("expected `,` or `}`"));
                        }
                    }
                }
                Ok(Value::Object(members))
            }
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value(depth + 1)?);
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return Err(self.error("expected `,` or `]`"));
                        }
                    }
                }
                Ok(Value::Array(items))
            }
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.word("true", Value::Bool(true)),
            Some(b'f') => self.word("false", Value::Bool(false)),
            Some(b'n') => self.word("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.error("expected a value")),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while self.s.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.at;
        if self.s[self.at] == b'-' {
            self.at += 1;
        }
        let int = self.digits();
        let leading_zero = int > 1 && self.s[self.at - int] == b'0';
        let mut ok = int > 0 && !leading_zero;
        if self.s.get(self.at) == Some(&b'.') {
            self.at += 1;
            ok &= self.digits() > 0;
        }
        if let Some(b'e' | b'E') = self.s.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = self.s.get(self.at) {
                self.at += 1;
            }
            ok &= self.digits() > 0;
        }
        if !ok {
            return Err(self.error("invalid number"));
        }
        // The bytes from `start` are ASCII digits, signs, `.` and `e`.
        let text = std::str::from_utf8(&self.s[start..self.at]).unwrap_or("0");
        Ok(Value::Number(text.to_owned()))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut v = 0;
        for _ in 0..4 {
            let d = self
                .s
                .get(self.at)
                .and_then(|c| char::from(*c).to_digit(16))
                .ok_or_else(|| self.error("invalid \\u escape"))?;
            v = v * 16 + d;
            self.at += 1;
        }
        Ok(v)
    }

    /// A string; `self.at` is on its opening quote.
    fn string(&mut self) -> Result<String, String> {
        self.at += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.at) else {
                return Err(self.error("unterminated string"));
            };
            self.at += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(self.at) else {
                        return Err(self.error("unterminated string"));
                    };
                    self.at += 1;
                    let simple = match e {
                        b'"' | b'\\' | b'/' => e,
                        b'b' => 8,
                        b'f' => 12,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => 0,
                        _ => return Err(self.error("invalid escape")),
                    };
                    if e != b'u' {
                        out.push(simple);
                        continue;
                    }
                    let mut cp = self.hex4()?;
                    if (0xD800..0xDC00).contains(&cp) {
                        if !self.s[self.at..].starts_with(b"\\u") {
                            return Err(self.error("lone surrogate"));
                        }
                        self.at += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..0xE000).contains(&low) {
                            return Err(self.error("lone surrogate"));
                        }
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    }
                    let ch = char::from_u32(cp).ok_or_else(|| self.error("lone surrogate"))?;
                    let mut buf = [0; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                c if c < 0x20 => return Err(self.error("control character in string")),
                c => out.push(c),
            }
        }
        // The input is a `str` and escapes add whole UTF-8 sequences, so `out` is UTF-8.
        String::from_utf8(out).map_err(|_| self.error("invalid UTF-8"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The writer's text is what the value tree writes, escapes and numbers included.
    #[test]
    fn the_writer_writes_what_values_write() {
        for n in [0, 7, 10, 1_048_576, u64::MAX] {
            let mut s = String::new();
            write_u64(&mut s, n);
            assert_eq!(s, n.to_string());
        }
        let text = "q\"b\\s\n\u{1}é";
        let written = ObjectWriter::new()
            .str("a", text)
            .num("n", u64::MAX)
            .opt_num("none", None)
            .bool("t", true)
            .raw(
                "pairs",
                &pairs(
                    &[
                        ("k".into(), "v\"".into()),
                        ("skipped".into(), "-".into()),
                        ("x".into(), String::new()),
                    ],
                    &["skipped"],
                ),
            )
            .raw("range", &range(3, 9))
            .finish();
        let tree = object([
            ("a", text.into()),
            ("n", u64::MAX.into()),
            ("none", Value::Null),
            ("t", true.into()),
            (
                "pairs",
                Value::Array(vec![
                    Value::Array(vec!["k".into(), "v\"".into()]),
                    Value::Array(vec!["x".into(), "".into()]),
                ]),
            ),
            ("range", Value::Array(vec![3u64.into(), 9u64.into()])),
        ]);
        assert_eq!(written, tree.to_json());
        assert_eq!(parse(&written).unwrap(), tree);
        assert_eq!(ObjectWriter::new().finish(), "{}");
    }

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            r#"{"a":[1,-2.5,3e2,true,false,null],"b":{"c":"d\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}}"#,
            " [ ] ",
            "{}",
            r#""x""#,
            "0",
            "-0.0E+1",
        ] {
            let ours = parse(text).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            let back: serde_json::Value = serde_json::from_str(&ours.to_json()).unwrap();
            assert_eq!(back, theirs, "{text}");
        }
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "01",
            "1.",
            "-",
            "\"\\x\"",
            "\"\u{1}\"",
            "nul",
            "1 2",
            "\"\\ud800\"",
            "{1:2}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
            assert!(
                serde_json::from_str::<serde_json::Value>(bad).is_err(),
                "{bad:?}"
            );
        }
        assert!(parse(&"[".repeat(100)).is_err());
    }

    #[test]
    fn writes_strings_as_serde_json_does() {
        let s = "a\"b\\c\n\r\t\u{1}\u{8}\u{c}\u{1f}\u{7f}é/😀";
        let mut ours = String::new();
        write_str(&mut ours, s);
        assert_eq!(ours, serde_json::to_string(s).unwrap());
    }

    #[test]
    fn numbers() {
        let n = |s: &str| parse(s).unwrap();
        assert_eq!(n("5368709120").as_u64(), Some(5_368_709_120));
        assert_eq!(n("-1").as_u64(), None);
        assert_eq!(n("1.5").as_u64(), None);
        assert_eq!(n("1.5E9").as_floor_i64(), Some(1_500_000_000));
        assert_eq!(n("1500000000.75").as_floor_i64(), Some(1_500_000_000));
        assert_eq!(n("-1.5").as_floor_i64(), Some(-2));
        assert_eq!(n("-2").as_floor_i64(), Some(-2));
        assert_eq!(n("-0.0").as_floor_i64(), Some(0));
        assert_eq!(n("1718064000.000000").as_floor_i64(), Some(1_718_064_000));
        assert_eq!(n("1.718064E+9").as_floor_i64(), Some(1_718_064_000));
        assert_eq!(n("-1e400").as_floor_i64(), Some(-i64::MAX));
        assert_eq!(n("1e2147483647").as_floor_i64(), Some(i64::MAX));
        assert_eq!(n("1e400").as_floor_i64(), Some(i64::MAX));
        assert_eq!(n("1e-400").as_floor_i64(), Some(0));
        assert_eq!(
            n("12345678901234567890123456789012345678901234567890").as_floor_i64(),
            Some(i64::MAX)
        );
        assert_eq!(Value::from(7u64).to_json(), "7");
    }
}
