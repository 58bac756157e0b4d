//! The one small XML walker every S3 and STS parser shares: a body becomes a tree of
//! [`Element`]s (local names, namespaces dropped, entities resolved), which parsers
//! then read by name, skipping whatever they do not know.

//!
//! The walker is the core's own rather than `quick-xml`'s reader: that came to about
//! 17 KB (with `memchr`) of the browser package's wasm (twiggy, wasm-release), against a
//! 30 KB gzip budget for the whole package, and S3, STS and Cognito answers are small,
//! regular documents. The `s3_xml` and `sts_response` fuzz targets cover it.

use std::borrow::Cow;

use crate::Error;
use crate::cat;
use crate::text::Quoted;

/// Deeper documents are refused: no S3 or STS answer nests more than a few levels.
const MAX_DEPTH: usize = 32;

/// An element: its local name, its own text and its child elements.
#[derive(Debug, Default)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`, in document order.
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// The text of the first child named `name`, owned.
    pub(crate) fn string(&self, name: &str) -> Option<String> {
        self.text(name).map(str::to_owned)
    }

    /// Whether child `name` says `true`.
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.text(name).is_some_and(|t| t.trim() == "true")
    }

    /// Child `name` read as a number, `None` when absent.
    ///
    /// # Errors
    /// [`Error::InvalidResponse`] naming `what` when the child is present but not a number.
    pub(crate) fn num<T: std::str::FromStr>(
        &self,
        name: &str,
        what: &'static str,
    ) -> Result<Option<T>, Error> {
        self.text(name)
            .map(|t| {
                t.trim().parse().map_err(|_| Error::InvalidResponse {
                    what,
                    detail: cat!("<{}> is {}, not a number", name, Quoted(t)),
                })
            })
            .transpose()
    }

    /// Child `name`, which must be present.
    ///
    /// # Errors
    /// [`Error::InvalidResponse`] naming `what` when it is missing.
    pub(crate) fn required(&self, name: &str, what: &'static str) -> Result<String, Error> {
        self.string(name).ok_or_else(|| Error::InvalidResponse {
            what,
            detail: cat!("<{}> is missing", name),
        })
    }
}

/// Reads `body` as one XML document and returns its root element.
///
/// Leading whitespace is allowed (S3 sends spaces to keep a slow
/// CompleteMultipartUpload connection open). Only the five predefined entities and
/// character references are resolved; a DTD's own entities are refused. Declarations,
/// processing instructions, comments and a DOCTYPE are skipped, CDATA is text, line
/// ends are normalised to `\n`, attributes are not read, and end tags must match.
///
/// # Errors
/// [`Error::InvalidResponse`] naming `what` when `body` is not well-formed UTF-8 XML.
pub(crate) fn parse(body: &[u8], what: &'static str) -> Result<Element, Error> {
    let bad = |detail: String| Error::InvalidResponse { what, detail };
    let text = std::str::from_utf8(body).map_err(|e| bad(not_utf8(&e)))?;
    walk(text.trim_start()).map_err(bad)
}

/// What an answer that is not UTF-8 gets: where it stops being so (not `Utf8Error`'s own
/// `Display`, which costs wasm size for a message no one needs more of).
pub(crate) fn not_utf8(e: &std::str::Utf8Error) -> String {
    cat!("not UTF-8 from byte {}", e.valid_up_to())
}

/// `rest` after the first `end`, or an error naming what was not closed.
fn after<'a>(rest: &'a str, end: &str, what: &str) -> Result<(&'a str, &'a str), String> {
    match crate::text::find(rest, end) {
        Some(i) => Ok((&rest[..i], &rest[i + end.len()..])),
        None => Err(cat!(
            "{} not closed: `{}` not found before end of input",
            what,
            end
        )),
    }
}

/// The index of the `>` that ends a tag or declaration in `s`, skipping quoted values
/// and (for a DOCTYPE) a bracketed internal subset.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    let mut brackets = 0usize;
    for (i, c) in s.bytes().enumerate() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(c),
            (None, b'[') => brackets += 1,
            (None, b']') => brackets = brackets.saturating_sub(1),
            (None, b'>') if brackets == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

fn walk(doc: &str) -> Result<Element, String> {
    // Open elements, with their names as written (for the end-tag check).
    let mut open: Vec<(Element, &str)> = Vec::new();
    let mut rest = doc;
    loop {
        let lt = rest.find('<').unwrap_or(rest.len());
        if lt > 0 {
            let text = unescape(&rest[..lt])?;
            push_text(&mut open, &text);
            rest = &rest[lt..];
        }
        if rest.is_empty() {
            return Err("the document ends before its root element closes".into());
        }
        let done = if let Some(r) = rest.strip_prefix("<!--") {
            rest = after(r, "-->", "comment")?.1;
            None
        } else if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let (cdata, r) = after(r, "]]>", "CDATA")?;
            rest = r;
            push_text(&mut open, &normalize_newlines(cdata))
        } else if let Some(r) = rest.strip_prefix("<?") {
            rest = after(r, "?>", "processing instruction")?.1;
            None
        } else if let Some(r) = rest.strip_prefix("<!") {
            let end = tag_end(r).ok_or("declaration not closed")?;
            rest = &r[end + 1..];
            None
        } else if let Some(r) = rest.strip_prefix("</") {
            let (name, r) = after(r, ">", "end tag")?;
            rest = r;
            let (closed, open_name) = open.pop().ok_or("unmatched end tag")?;
            if name.trim_end() != open_name {
                return Err(cat!(
                    "expected `</{}>`, but `</{}>` was found",
                    open_name,
                    name.trim_end()
                ));
            }
            attach(&mut open, closed)
        } else {
            let r = &rest[1..];
            let end = tag_end(r).ok_or("start tag not closed")?;
            let (tag, empty) = match r[..end].strip_suffix('/') {
                Some(t) => (t, true),
                None => (&r[..end], false),
            };
            rest = &r[end + 1..];
            let name = tag
                .split(|c: char| c.is_ascii_whitespace())
                .next()
                .unwrap_or("");
            if name.is_empty() || name.contains(['<', '/', '=', '"', '\'']) {
                return Err(cat!("invalid tag name {}", Quoted(name)));
            }
            let e = element(name.rsplit(':').next().unwrap_or(name));
            if empty {
                attach(&mut open, e)
            } else if open.len() >= MAX_DEPTH {
                return Err(cat!("nested deeper than {} elements", MAX_DEPTH));
            } else {
                open.push((e, name));
                None
            }
        };
        if let Some(root) = done {
            return Ok(root);
        }
    }
}

/// `\r\n` and a lone `\r` as `\n` (XML 1.0 §2.11).
fn normalize_newlines(s: &str) -> Cow<'_, str> {
    if s.as_bytes().contains(&b'\r') {
        // A loop, not `replace("\r\n", …)`, whose `&str` pattern brings the two-way
        // searcher into the wasm (issue 16).
        let mut out = String::with_capacity(s.len());
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\r' {
                chars.next_if_eq(&'\n');
                out.push('\n');
            } else {
                out.push(c);
            }
        }
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    }
}

/// Text with its line ends normalised and its entity and character references resolved.
fn unescape(raw: &str) -> Result<String, String> {
    let raw = normalize_newlines(raw);
    let mut out = String::with_capacity(raw.len());
    let mut rest = &*raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let (name, r) = after(&rest[amp + 1..], ";", "entity reference")?;
        rest = r;
        let c = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "apos" => '\'',
            "quot" => '"',
            _ => {
                let n = match name.strip_prefix("#x") {
                    Some(hex) => u32::from_str_radix(hex, 16),
                    None => name.strip_prefix('#').unwrap_or("?").parse(),
                };
                n.ok()
                    .filter(|_| !name.contains(['+', '-']))
                    .and_then(char::from_u32)
                    .filter(|c| *c != '\0')
                    .ok_or_else(|| cat!("unknown entity &{};", name))?
            }
        };
        out.push(c);
    }
    out.push_str(rest);
    Ok(out)
}

fn element(name: &str) -> Element {
    Element {
        name: name.to_owned(),
        ..Element::default()
    }
}

/// Adds `e` to the open element, or returns it when it is the root.
fn attach(open: &mut [(Element, &str)], e: Element) -> Option<Element> {
    match open.last_mut() {
        Some((parent, _)) => {
            parent.children.push(e);
            None
        }
        None => Some(e),
    }
}

fn push_text(open: &mut [(Element, &str)], s: &str) -> Option<Element> {
    if let Some((e, _)) = open.last_mut() {
        e.text.push_str(s);
    }
    None
}

/// Escapes `s` for element content (and attribute values): `<`, `>`, `&`, `'`, `"`.
pub(crate) fn escape(s: &str) -> Cow<'_, str> {
    if !s.contains(['<', '>', '&', '\'', '"']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn walks_what_s3_sends() {
        let doc = "  \n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE x [<!ELEMENT x ANY>]>\
            <!-- hi --><s3:Result xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\" a='>'>\
            <Key>a &lt;&amp;&gt; b&#233;&#xE9;&quot;&apos;</Key><Empty/><Empty a=\"1\" />\
            <Part><N>1</N><![CDATA[<raw>&amp;]]></Part><T>x\r\ny\rz</T></s3:Result>trailing";
        let root = parse(doc.as_bytes(), "t").unwrap();
        assert_eq!(root.name, "Result");
        assert_eq!(root.text("Key"), Some("a <&> béé\"'"));
        assert_eq!(root.all("Empty").count(), 2);
        let part = root.child("Part").unwrap();
        assert_eq!(part.text("N"), Some("1"));
        assert_eq!(part.text, "<raw>&amp;");
        assert_eq!(root.text("T"), Some("x\ny\nz"));
    }

    #[test]
    fn refuses_what_is_not_xml() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "<a>&nbsp;</a>",
            "<a>&#0;</a>",
            "<a>&#-1;</a>",
            "<a>&amp</a>",
            "<a><!-- </a>",
            "<a",
            "</a>",
            "<>x</>",
        ] {
            assert!(parse(bad.as_bytes(), "t").is_err(), "{bad:?}");
        }
        assert!(parse(&[0xff], "t").is_err());
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(parse(deep.as_bytes(), "t").is_err());
    }

    #[test]
    fn escapes() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&apos;x&apos;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
