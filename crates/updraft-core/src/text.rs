//! Messages, URLs and header values built without `core::fmt` (issue 16).
//!
//! [`cat!`](crate::cat) fills the `{}` holes of a text with [`Piece`]s — text, numbers in
//! decimal, [`Quoted`] names: `cat!("part {} of {} failed", n, Quoted(key))`. It is
//! `format!` with one kind of hole and no format specs, and without what `format!`
//! brings into the browser's wasm: `core::fmt::write`, padding, integer formatting and
//! a `Display` call per argument (measured with twiggy: about 3 KB of code). The count
//! of holes is checked against the pieces when the crate compiles. The `Display` impls
//! of the error types are written with it, so the CLI's `{e}` and the page's messages
//! are the same text.

use std::fmt;

/// A part of a text [`cat!`](crate::cat) puts together.
pub trait Piece {
    /// Appends this piece to `out`.
    fn put(&self, out: &mut String);
}

impl Piece for str {
    fn put(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for String {
    fn put(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for std::borrow::Cow<'_, str> {
    fn put(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for char {
    fn put(&self, out: &mut String) {
        out.push(*self);
    }
}

impl Piece for u64 {
    fn put(&self, out: &mut String) {
        crate::json::write_u64(out, *self);
    }
}

impl Piece for usize {
    fn put(&self, out: &mut String) {
        // `usize` is at most 64 bits on every target Rust supports.
        crate::json::write_u64(out, *self as u64);
    }
}

impl Piece for u32 {
    fn put(&self, out: &mut String) {
        crate::json::write_u64(out, u64::from(*self));
    }
}

impl Piece for u16 {
    fn put(&self, out: &mut String) {
        crate::json::write_u64(out, u64::from(*self));
    }
}

impl<T: Piece + ?Sized> Piece for &T {
    fn put(&self, out: &mut String) {
        (**self).put(out);
    }
}

impl<T: Piece + ?Sized> Piece for Box<T> {
    fn put(&self, out: &mut String) {
        (**self).put(out);
    }
}

/// The number of `{}` holes in `text` (what [`cat!`](crate::cat) checks when it compiles).
#[must_use]
pub const fn holes(text: &str) -> usize {
    let b = text.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i + 1 < b.len() {
        if b[i] == b'{' && b[i + 1] == b'}' {
            n += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    n
}

/// Appends `text` to `out` with its `{}` holes filled by `pieces`, in order (one function
/// for every message, not one per argument list). A hole without a piece is left out.
pub fn write(out: &mut String, text: &str, pieces: &[&dyn Piece]) {
    // Room for the text and a short piece in each hole, as `format!` estimates: one
    // allocation, not one per piece, for most (the native CLI signs with these).
    out.reserve(text.len() + 16 * pieces.len());
    let mut pieces = pieces.iter();
    let b = text.as_bytes();
    let (mut from, mut i) = (0, 0);
    while i + 1 < b.len() {
        if b[i] == b'{' && b[i + 1] == b'}' {
            // Both ends are at ASCII bytes: char boundaries.
            out.push_str(&text[from..i]);
            if let Some(piece) = pieces.next() {
                piece.put(out);
            }
            i += 2;
            from = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[from..]);
}

/// `text` with its holes filled: what [`cat!`](crate::cat) returns.
#[must_use]
pub fn fill(text: &str, pieces: &[&dyn Piece]) -> String {
    let mut out = String::new();
    write(&mut out, text, pieces);
    out
}

/// Writes `piece` to a formatter: the `Display` of a type whose text is a [`Piece`].
///
/// # Errors
/// When the formatter's writer fails.
pub fn display(piece: &dyn Piece, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut out = String::new();
    piece.put(&mut out);
    f.write_str(&out)
}

/// `format!` without `core::fmt` (see [`text`](crate::text)): `cat!("{} of {}", a, b)`.
/// Every hole is `{}`, and their count must equal the pieces' (checked when it
/// compiles).
#[macro_export]
macro_rules! cat {
    ($text:literal $(, $piece:expr)* $(,)?) => {{
        const _: () = assert!(
            $crate::text::holes($text) == [$(stringify!($piece)),*].len(),
            "cat!: the count of {{}} holes differs from the count of pieces"
        );
        $crate::text::fill($text, &[$(&$piece as &dyn $crate::text::Piece),*])
    }};
}

/// [`cat!`](crate::cat) appending to the `String` `out`: `cat_into!(out, "{} of {}", a, b)`.
#[macro_export]
macro_rules! cat_into {
    ($out:expr, $text:literal $(, $piece:expr)* $(,)?) => {{
        const _: () = assert!(
            $crate::text::holes($text) == [$(stringify!($piece)),*].len(),
            "cat_into!: the count of {{}} holes differs from the count of pieces"
        );
        $crate::text::write($out, $text, &[$(&$piece as &dyn $crate::text::Piece),*])
    }};
}

/// Where `needle` first occurs in `hay`: `str::find` with a `&str`, without the two-way
/// searcher that pattern brings into the wasm (about 2 KB; twiggy). Byte by byte: the
/// needles here are a few bytes long. (`str::contains` with a `char` brings the searcher
/// too, for a non-ASCII `char`: the core asks `as_bytes().contains(&b'x')` instead.)
#[must_use]
pub fn find(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let mut i = 0;
    while i + n.len() <= h.len() {
        if &h[i..i + n.len()] == n {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// `s` in double quotes with `"`, `\` and control characters escaped: what `{:?}`
/// writes for ordinary text, without the Unicode tables `str`'s `Debug` pulls into the
/// wasm build (about 3 KB; twiggy, wasm-release). For the names and values messages
/// quote.
#[derive(Debug)]
pub struct Quoted<'a>(pub &'a str);

impl Piece for Quoted<'_> {
    fn put(&self, out: &mut String) {
        out.push('"');
        for c in self.0.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\0' => out.push_str("\\0"),
                // Control characters are below U+00A0: at most two hex digits, without
                // `core::fmt`'s `LowerHex` (wasm size).
                c if c.is_control() => {
                    out.push_str("\\u{");
                    let h = crate::sigv4::hex(&[c as u8]);
                    out.push_str(h.strip_prefix('0').unwrap_or(&h));
                    out.push('}');
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::Quoted;

    /// `Quoted` writes what `{:?}` writes, but for exotic Unicode (`Debug` escapes
    /// unassigned and combining characters too).
    #[test]
    fn quoted_is_debug_for_text() {
        for s in [
            "",
            "a b",
            "é/😀",
            "q\"b\\s",
            "l\nr\rt\t",
            "\u{0}\u{1}\u{1f}\u{7f}\u{85}\u{9f}",
        ] {
            assert_eq!(crate::cat!("{}", Quoted(s)), format!("{s:?}"));
        }
    }

    /// `find` is `str::find` for a `&str`.
    #[test]
    fn find_is_str_find() {
        for (hay, needle) in [
            ("", ""),
            ("abc", ""),
            ("", "a"),
            ("a-->b-->", "-->"),
            ("]]", "]]>"),
            ("x]]>", "]]>"),
            ("é://ü", "://"),
            ("Request has expired", "expired"),
        ] {
            assert_eq!(
                super::find(hay, needle),
                hay.find(needle),
                "{hay:?} {needle:?}"
            );
        }
    }

    /// Numbers in decimal, text as it is, in order.
    #[test]
    fn cat_joins_pieces() {
        let name = String::from("a.txt");
        assert_eq!(
            crate::cat!(
                "file {} is {}/{} bytes, part {}{}",
                name,
                0u64,
                u64::MAX,
                7u32,
                '.'
            ),
            format!("file {name} is 0/{} bytes, part 7.", u64::MAX)
        );
        assert_eq!(
            crate::cat!("{}{}{}", usize::MAX, ' ', u16::MAX),
            format!("{} {}", usize::MAX, u16::MAX)
        );
    }
}
