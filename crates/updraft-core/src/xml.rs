//! The one small XML walker every S3 and STS parser shares: a body becomes a tree of
//! [`Element`]s (local names, namespaces dropped, entities resolved), which parsers
//! then read by name, skipping whatever they do not know.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;

use crate::Error;

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
                    detail: format!("<{name}> is {t:?}, not a number"),
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
            detail: format!("<{name}> is missing"),
        })
    }
}

/// Reads `body` as one XML document and returns its root element.
///
/// Leading whitespace is allowed (S3 sends spaces to keep a slow
/// CompleteMultipartUpload connection open). Only the five predefined entities and
/// character references are resolved; a DTD's own entities are refused.
///
/// # Errors
/// [`Error::InvalidResponse`] naming `what` when `body` is not well-formed UTF-8 XML.
pub(crate) fn parse(body: &[u8], what: &'static str) -> Result<Element, Error> {
    let bad = |detail: String| Error::InvalidResponse { what, detail };
    let text = std::str::from_utf8(body).map_err(|e| bad(format!("not UTF-8: {e}")))?;
    let mut reader = Reader::from_str(text.trim_start());
    let mut open: Vec<Element> = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| bad(e.to_string()))?;
        let done = match event {
            Event::Start(e) => {
                if open.len() >= MAX_DEPTH {
                    return Err(bad(format!("nested deeper than {MAX_DEPTH} elements")));
                }
                open.push(element(e.local_name().as_ref()));
                None
            }
            Event::Empty(e) => attach(&mut open, element(e.local_name().as_ref())),
            Event::End(_) => {
                // quick-xml checks that end names match, so `open` is not empty here.
                let closed = open.pop().ok_or_else(|| bad("unmatched end tag".into()))?;
                attach(&mut open, closed)
            }
            Event::Text(t) => push_text(&mut open, &t.xml10_content()),
            Event::CData(t) => push_text(&mut open, &t),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(|e| bad(e.to_string()))? {
                    Some(c) => Cow::Owned(c.to_string()),
                    None => Cow::Borrowed(
                        resolve_predefined_entity(&r)
                            .ok_or_else(|| bad(format!("unknown entity &{};", &*r)))?,
                    ),
                };
                push_text(&mut open, &resolved)
            }
            Event::Eof => {
                return Err(bad(
                    "the document ends before its root element closes".into()
                ));
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => None,
        };
        if let Some(root) = done {
            return Ok(root);
        }
    }
}

fn element(name: &str) -> Element {
    Element {
        name: name.to_owned(),
        ..Element::default()
    }
}

/// Adds `e` to the open element, or returns it when it is the root.
fn attach(open: &mut [Element], e: Element) -> Option<Element> {
    match open.last_mut() {
        Some(parent) => {
            parent.children.push(e);
            None
        }
        None => Some(e),
    }
}

fn push_text(open: &mut [Element], s: &str) -> Option<Element> {
    if let Some(e) = open.last_mut() {
        e.text.push_str(s);
    }
    None
}

/// Escapes `s` for element content.
pub(crate) fn escape(s: &str) -> Cow<'_, str> {
    quick_xml::escape::escape(s)
}
