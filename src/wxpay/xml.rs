//! Flat `<xml>` documents (docs/protocol.md §3): one level of elements under an `xml` root.
//!
//! Decoding treats every reply as hostile: DOCTYPE, custom entities, nesting, duplicates,
//! oversized or truncated bodies are refused with a typed error. quick-xml never loads a DTD or
//! resolves an entity by itself; we resolve only the five predefined ones and character refs.

use std::collections::HashSet;
use std::fmt;

use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// Largest body [`decode`] accepts; real replies are well under 4 KiB.
pub const MAX_BODY: usize = 64 * 1024;

/// Longest excerpt an error carries, in characters.
const EXCERPT_CHARS: usize = 80;

/// Ordered `(name, value)` pairs of a flat document, unknown elements included.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// An empty list.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Append a pair (no duplicate check: callers building requests own their names).
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// The value of the first element called `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Pairs in document order, in the shape `sign`/`encode` take.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a Fields {
    type Item = (&'a str, &'a str);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, String)>,
        fn(&'a (String, String)) -> (&'a str, &'a str),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Fields {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// Debug lists names only: values may hold an auth code or personal data.
impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(n, _)| n))
            .finish()
    }
}

/// Why a document was refused. Each variant carries a short, sanitised excerpt for logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("reply too large: {len} bytes, the limit is {cap} bytes")]
    TooLarge { len: usize, cap: usize },
    #[error("reply is not valid UTF-8 near byte {at}: {excerpt}")]
    InvalidUtf8 { at: usize, excerpt: String },
    #[error("reply has a DOCTYPE, which is refused: {excerpt}")]
    Doctype { excerpt: String },
    #[error(
        "reply uses entity &{name}; only the five predefined XML entities are allowed: {excerpt}"
    )]
    Entity { name: String, excerpt: String },
    #[error("reply nests element <{name}> inside a field; only one level is allowed: {excerpt}")]
    Nested { name: String, excerpt: String },
    #[error("reply repeats element <{name}>: {excerpt}")]
    Duplicate { name: String, excerpt: String },
    #[error("reply root is <{name}>, expected <xml>: {excerpt}")]
    WrongRoot { name: String, excerpt: String },
    #[error("reply ends before </xml>: {excerpt}")]
    Truncated { excerpt: String },
    #[error("reply has content after </xml>: {excerpt}")]
    TrailingGarbage { excerpt: String },
    #[error("reply is not well-formed XML ({reason}): {excerpt}")]
    Malformed { reason: String, excerpt: String },
}

impl XmlError {
    /// The sanitised excerpt of the offending input.
    pub fn excerpt(&self) -> &str {
        match self {
            Self::TooLarge { .. } => "",
            Self::InvalidUtf8 { excerpt, .. }
            | Self::Doctype { excerpt }
            | Self::Entity { excerpt, .. }
            | Self::Nested { excerpt, .. }
            | Self::Duplicate { excerpt, .. }
            | Self::WrongRoot { excerpt, .. }
            | Self::Truncated { excerpt }
            | Self::TrailingGarbage { excerpt }
            | Self::Malformed { excerpt, .. } => excerpt,
        }
    }
}

/// Encode pairs as `<xml><name>value</name>…</xml>`. Values are escaped (never CDATA), so any
/// text, `]]>` included, round-trips; CR and other control characters go out as char refs so
/// XML end-of-line normalisation cannot change a signed value. Names must be plain identifiers.
pub fn encode<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::with_capacity(512);
    out.push_str("<xml>");
    for (name, value) in fields {
        out.push('<');
        out.push_str(name);
        out.push('>');
        escape_into(&mut out, value);
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
    out.push_str("</xml>");
    out
}

fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => {
                out.push_str("&#");
                out.push_str(&u32::from(c).to_string());
                out.push(';');
            }
            c => out.push(c),
        }
    }
}

/// Decode a reply body of at most [`MAX_BODY`] bytes.
pub fn decode(body: &[u8]) -> Result<Fields, XmlError> {
    decode_with_limit(body, MAX_BODY)
}

/// Decode a flat `<xml>` document of at most `cap` bytes.
pub fn decode_with_limit(body: &[u8], cap: usize) -> Result<Fields, XmlError> {
    if body.len() > cap {
        return Err(XmlError::TooLarge {
            len: body.len(),
            cap,
        });
    }
    let text = std::str::from_utf8(body).map_err(|e| XmlError::InvalidUtf8 {
        at: e.valid_up_to(),
        excerpt: excerpt(body, e.valid_up_to()),
    })?;
    Decoder::new(text).run()
}

/// Where the decoder is in the document.
enum Depth {
    BeforeRoot,
    InRoot,
    /// Inside a field element: its name and the value collected so far.
    InField(String, String),
    AfterRoot,
}

struct Decoder<'a> {
    text: &'a str,
    reader: Reader<&'a [u8]>,
    fields: Vec<(String, String)>,
    seen: HashSet<String>,
}

impl<'a> Decoder<'a> {
    fn new(text: &'a str) -> Self {
        let mut reader = Reader::from_str(text);
        let cfg = reader.config_mut();
        cfg.check_end_names = true;
        cfg.allow_unmatched_ends = false;
        cfg.expand_empty_elements = false;
        cfg.trim_text(false);
        Self {
            text,
            reader,
            fields: Vec::new(),
            seen: HashSet::new(),
        }
    }

    fn here(&self) -> String {
        let pos = usize::try_from(self.reader.buffer_position()).unwrap_or(self.text.len());
        excerpt(self.text.as_bytes(), pos)
    }

    fn run(mut self) -> Result<Fields, XmlError> {
        let mut depth = Depth::BeforeRoot;
        loop {
            let event = match self.reader.read_event() {
                Ok(ev) => ev,
                Err(e) => {
                    let pos = usize::try_from(self.reader.error_position()).unwrap_or(0);
                    let excerpt = excerpt(self.text.as_bytes(), pos);
                    return Err(match depth {
                        _ if is_doctype_error(&e) => XmlError::Doctype { excerpt },
                        Depth::AfterRoot => XmlError::TrailingGarbage { excerpt },
                        _ if is_eof_error(&e) => XmlError::Truncated { excerpt },
                        _ => XmlError::Malformed {
                            reason: short_reason(&e),
                            excerpt,
                        },
                    });
                }
            };
            depth = match (depth, event) {
                (_, Event::DocType(_)) => {
                    return Err(XmlError::Doctype {
                        excerpt: self.here(),
                    });
                }
                (d, Event::Comment(_)) => d,
                (Depth::BeforeRoot, Event::Decl(_)) => Depth::BeforeRoot,
                (Depth::BeforeRoot, Event::Text(t)) if is_blank(&t) => Depth::BeforeRoot,
                (Depth::BeforeRoot, Event::Start(s)) => {
                    self.root(s.name().as_ref())?;
                    Depth::InRoot
                }
                (Depth::BeforeRoot, Event::Empty(s)) => {
                    self.root(s.name().as_ref())?;
                    Depth::AfterRoot
                }
                (Depth::InRoot, Event::Text(t)) if is_blank(&t) => Depth::InRoot,
                (Depth::InRoot, Event::Start(s)) => {
                    Depth::InField(self.field_name(s.name().as_ref())?, String::new())
                }
                (Depth::InRoot, Event::Empty(s)) => {
                    let name = self.field_name(s.name().as_ref())?;
                    self.fields.push((name, String::new()));
                    Depth::InRoot
                }
                (Depth::InRoot, Event::End(_)) => Depth::AfterRoot,
                (Depth::InField(n, mut v), Event::Text(t)) => {
                    v.push_str(&t.xml10_content());
                    Depth::InField(n, v)
                }
                (Depth::InField(n, mut v), Event::CData(c)) => {
                    v.push_str(&c.xml10_content());
                    Depth::InField(n, v)
                }
                (Depth::InField(n, mut v), Event::GeneralRef(r)) => {
                    v.push(self.resolve(&r)?);
                    Depth::InField(n, v)
                }
                (Depth::InField(n, v), Event::End(_)) => {
                    // XML 1.0 has no U+0000, raw or referenced (`encode` would write `&#0;`).
                    if v.contains('\0') {
                        return Err(self.malformed("NUL character in a value"));
                    }
                    self.fields.push((n, v));
                    Depth::InRoot
                }
                (Depth::InField(_, _), Event::Start(s) | Event::Empty(s)) => {
                    return Err(XmlError::Nested {
                        name: safe_name(s.name().as_ref()),
                        excerpt: self.here(),
                    });
                }
                (Depth::AfterRoot, Event::Text(t)) if is_blank(&t) => Depth::AfterRoot,
                (Depth::AfterRoot, Event::Eof) => return Ok(Fields(self.fields)),
                (_, Event::Eof) => {
                    return Err(XmlError::Truncated {
                        excerpt: excerpt(self.text.as_bytes(), self.text.len()),
                    });
                }
                (Depth::AfterRoot, _) => {
                    return Err(XmlError::TrailingGarbage {
                        excerpt: self.here(),
                    });
                }
                (_, Event::GeneralRef(r)) => {
                    // A reference outside a field: refuse custom entities by name, else it is
                    // stray text.
                    self.resolve(&r)?;
                    return Err(self.malformed("text outside a field element"));
                }
                (_, Event::Text(_) | Event::CData(_)) => {
                    return Err(self.malformed("text outside a field element"));
                }
                (_, Event::PI(_) | Event::Decl(_)) => {
                    return Err(self.malformed("processing instruction"));
                }
                (_, Event::End(_)) => return Err(self.malformed("unexpected end tag")),
            };
        }
    }

    fn malformed(&self, reason: &str) -> XmlError {
        XmlError::Malformed {
            reason: reason.into(),
            excerpt: self.here(),
        }
    }

    fn root(&self, name: &str) -> Result<(), XmlError> {
        if name == "xml" {
            Ok(())
        } else {
            Err(XmlError::WrongRoot {
                name: safe_name(name),
                excerpt: self.here(),
            })
        }
    }

    fn field_name(&mut self, name: &str) -> Result<String, XmlError> {
        // WeChat's element names are plain identifiers; anything else (`<a//>` reads as `a/`)
        // could not be written back by `encode` and is no reply of theirs.
        let plain = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !plain {
            return Err(self.malformed("element name is not a plain identifier"));
        }
        if !self.seen.insert(name.to_string()) {
            return Err(XmlError::Duplicate {
                name: safe_name(name),
                excerpt: self.here(),
            });
        }
        Ok(name.to_string())
    }

    fn resolve(&self, r: &quick_xml::events::BytesRef<'_>) -> Result<char, XmlError> {
        let name: &str = r;
        let predefined = match name {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "apos" => Some('\''),
            "quot" => Some('"'),
            _ => None,
        };
        if let Some(c) = predefined {
            return Ok(c);
        }
        match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(c),
            Ok(None) => Err(XmlError::Entity {
                name: safe_name(name),
                excerpt: self.here(),
            }),
            Err(_) => Err(self.malformed("bad character reference")),
        }
    }
}

fn is_blank(t: &str) -> bool {
    t.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// Errors quick-xml raises when the input stops in the middle of a construct.
fn is_eof_error(e: &quick_xml::Error) -> bool {
    use quick_xml::errors::{IllFormedError as I, SyntaxError as S};
    matches!(
        e,
        quick_xml::Error::Syntax(
            S::UnclosedPI
                | S::UnclosedXmlDecl
                | S::UnclosedComment
                | S::UnclosedCData
                | S::UnclosedTag
                | S::UnclosedSingleQuotedAttributeValue
                | S::UnclosedDoubleQuotedAttributeValue
        ) | quick_xml::Error::IllFormed(I::MissingEndTag(_))
    )
}

fn is_doctype_error(e: &quick_xml::Error) -> bool {
    use quick_xml::errors::{IllFormedError as I, SyntaxError as S};
    matches!(
        e,
        quick_xml::Error::Syntax(S::UnclosedDoctype)
            | quick_xml::Error::IllFormed(I::MissingDoctypeName)
    )
}

/// A short reason from quick-xml's error, itself sanitised (it may quote input).
fn short_reason(e: &quick_xml::Error) -> String {
    crate::untrusted::shown(&e.to_string(), 200)
}

/// An element name fit for a log line.
fn safe_name(name: &str) -> String {
    crate::untrusted::shown(name, 32)
}

/// Up to [`EXCERPT_CHARS`] characters of `body` around byte `pos`, with control characters
/// replaced and any run of 16+ digits masked (it may be a payment code). The window is widened
/// to whole digit runs first, so a code cut by the window edge is still masked.
pub fn excerpt(body: &[u8], pos: usize) -> String {
    let pos = pos.min(body.len());
    let mut start = pos.saturating_sub(EXCERPT_CHARS / 2);
    let mut end = (start + EXCERPT_CHARS).min(body.len());
    while start > 0 && body[start - 1].is_ascii_digit() && body[start].is_ascii_digit() {
        start -= 1;
    }
    while end < body.len()
        && end > 0
        && body[end - 1].is_ascii_digit()
        && body[end].is_ascii_digit()
    {
        end += 1;
    }
    let window = String::from_utf8_lossy(&body[start..end]);
    crate::untrusted::shown(&window, EXCERPT_CHARS)
}

/// Remote free text (`return_msg`, `err_code_des`) made safe for logs and screens: control
/// characters replaced, long digit runs masked, at most `max` characters.
pub fn safe_text(s: &str, max: usize) -> String {
    crate::untrusted::shown(s, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Result<Fields, XmlError> {
        decode(s.as_bytes())
    }

    #[test]
    fn reads_cdata_plain_and_refs_in_order() {
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xml>\n  \
            <return_code><![CDATA[SUCCESS]]></return_code>\n  \
            <total_fee>1</total_fee>\n  <zz_unknown>x</zz_unknown>\n  \
            <body>a &amp; b &lt;c&gt; &#20013;&#x6587; &quot;&apos;</body>\n  \
            <mixed>a<![CDATA[<b>]]>c</mixed><empty></empty><empty2/><!-- note -->\n</xml>\n";
        let f = dec(doc).unwrap();
        let names: Vec<&str> = f.iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "return_code",
                "total_fee",
                "zz_unknown",
                "body",
                "mixed",
                "empty",
                "empty2"
            ]
        );
        assert_eq!(f.get("return_code"), Some("SUCCESS"));
        assert_eq!(f.get("total_fee"), Some("1"));
        assert_eq!(f.get("body"), Some("a & b <c> 中文 \"'"));
        assert_eq!(f.get("mixed"), Some("a<b>c"));
        assert_eq!(f.get("empty"), Some(""));
        assert_eq!(f.get("empty2"), Some(""));
        assert_eq!(f.get("missing"), None);
    }

    #[test]
    fn round_trips_awkward_values() {
        let values = [
            "plain",
            "",
            "]]>",
            "a]]>b<![CDATA[c",
            "& &amp; < > \" '",
            "品牌-门店 商品",
            "line1\r\nline2\rline3\n",
            "\ttab",
            "  spaces  ",
            "\u{1}ctl",
        ];
        for v in values {
            let doc = encode([("k", v), ("n", "1")]);
            let f = dec(&doc).unwrap_or_else(|e| panic!("{v:?}: {e}"));
            assert_eq!(f.get("k"), Some(v), "{doc}");
            assert_eq!(f.get("n"), Some("1"));
        }
    }

    #[test]
    fn encodes_fields_and_slices_alike() {
        let f: Fields = [("a", "1"), ("b", "<")].into_iter().collect();
        assert_eq!(encode(&f), "<xml><a>1</a><b>&lt;</b></xml>");
        assert_eq!(encode(f.iter()), encode([("a", "1"), ("b", "<")]));
        assert_eq!(dec(&encode(&f)).unwrap(), f);
    }

    #[test]
    fn empty_roots() {
        assert!(dec("<xml></xml>").unwrap().is_empty());
        assert!(dec("<xml/>").unwrap().is_empty());
    }

    #[test]
    fn refusals_are_typed() {
        type Check = fn(&XmlError) -> bool;
        let table: Vec<(&str, Check)> = vec![
            ("<!DOCTYPE xml><xml><a>1</a></xml>", |e| {
                matches!(e, XmlError::Doctype { .. })
            }),
            (
                "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><xml><a>&x;</a></xml>",
                |e| matches!(e, XmlError::Doctype { .. }),
            ),
            (
                "<xml><a>&x;</a></xml>",
                |e| matches!(e, XmlError::Entity { name, .. } if name == "x"),
            ),
            ("<xml><a>&nbsp;</a></xml>", |e| {
                matches!(e, XmlError::Entity { .. })
            }),
            // Found by fuzzing: neither could be encoded back.
            ("<xml><a//></xml>", |e| {
                matches!(e, XmlError::Malformed { .. })
            }),
            ("<xml><9a>1</9a></xml>", |e| {
                matches!(e, XmlError::Malformed { .. })
            }),
            (
                "<xml><a>x\u{0}y</a></xml>",
                |e| matches!(e, XmlError::Malformed { reason, .. } if reason.contains("NUL")),
            ),
            (
                "<xml><a><b>1</b></a></xml>",
                |e| matches!(e, XmlError::Nested { name, .. } if name == "b"),
            ),
            ("<xml><a><b/></a></xml>", |e| {
                matches!(e, XmlError::Nested { .. })
            }),
            (
                "<xml><a>1</a><a>2</a></xml>",
                |e| matches!(e, XmlError::Duplicate { name, .. } if name == "a"),
            ),
            ("<xml><a>1</a><a/></xml>", |e| {
                matches!(e, XmlError::Duplicate { .. })
            }),
            (
                "<root><a>1</a></root>",
                |e| matches!(e, XmlError::WrongRoot { name, .. } if name == "root"),
            ),
            ("<XML><a>1</a></XML>", |e| {
                matches!(e, XmlError::WrongRoot { .. })
            }),
            ("<xml><a>1</a>", |e| matches!(e, XmlError::Truncated { .. })),
            ("<xml><a>1", |e| matches!(e, XmlError::Truncated { .. })),
            ("<xml><a>1</a", |e| {
                matches!(e, XmlError::Truncated { .. } | XmlError::Malformed { .. })
            }),
            ("", |e| matches!(e, XmlError::Truncated { .. })),
            ("   ", |e| matches!(e, XmlError::Truncated { .. })),
            ("<xml><a>1</a></xml>junk", |e| {
                matches!(e, XmlError::TrailingGarbage { .. })
            }),
            ("<xml><a>1</a></xml><xml></xml>", |e| {
                matches!(e, XmlError::TrailingGarbage { .. })
            }),
            ("<xml><a>1</a></xml></xml>", |e| {
                matches!(e, XmlError::TrailingGarbage { .. })
            }),
            ("<xml>stray<a>1</a></xml>", |e| {
                matches!(e, XmlError::Malformed { .. })
            }),
            ("<xml><a>1</b></xml>", |e| {
                matches!(e, XmlError::Malformed { .. })
            }),
            ("garbage", |e| matches!(e, XmlError::Malformed { .. })),
            ("<xml><a>&#0;</a></xml>", |e| {
                matches!(e, XmlError::Malformed { .. })
            }),
            ("<xml><?pi x?><a>1</a></xml>", |e| {
                matches!(e, XmlError::Malformed { .. })
            }),
        ];
        for (doc, check) in table {
            let e = dec(doc).expect_err(doc);
            assert!(check(&e), "{doc:?} gave {e:?}");
            assert!(e.excerpt().chars().count() <= EXCERPT_CHARS);
        }
    }

    #[test]
    fn billion_laughs_is_refused_without_expansion() {
        let mut doc = String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
        for i in 1..10 {
            let prev = if i == 1 {
                "lol".to_string()
            } else {
                format!("lol{}", i - 1)
            };
            doc.push_str(&format!(
                "<!ENTITY lol{i} \"{}\">",
                format!("&{prev};").repeat(10)
            ));
        }
        doc.push_str("]><xml><a>&lol9;</a></xml>");
        assert!(matches!(dec(&doc), Err(XmlError::Doctype { .. })));
    }

    #[test]
    fn size_cap_and_parameterised_variant() {
        let big = format!("<xml><a>{}</a></xml>", "x".repeat(MAX_BODY));
        assert!(matches!(
            dec(&big),
            Err(XmlError::TooLarge { cap: MAX_BODY, .. })
        ));
        let small = "<xml><a>12345</a></xml>";
        assert!(decode_with_limit(small.as_bytes(), small.len()).is_ok());
        assert!(matches!(
            decode_with_limit(small.as_bytes(), small.len() - 1),
            Err(XmlError::TooLarge { .. })
        ));
    }

    #[test]
    fn invalid_utf8_is_refused() {
        let mut doc = b"<xml><body>".to_vec();
        doc.extend_from_slice(&[0xE4, 0xB8]); // truncated 3-byte sequence
        doc.extend_from_slice(b"</body></xml>");
        let e = decode(&doc).unwrap_err();
        assert!(matches!(e, XmlError::InvalidUtf8 { at: 11, .. }), "{e:?}");
        let gbk = b"<xml><body>\xd6\xd0\xce\xc4</body></xml>";
        assert!(matches!(decode(gbk), Err(XmlError::InvalidUtf8 { .. })));
    }

    #[test]
    fn excerpts_are_short_safe_and_mask_codes() {
        let code = "134567890123454321";
        let doc = format!(
            "<xml>\u{7}<auth_code>{code}</auth_code>{}<a>&evil;</a></xml>",
            "\n".repeat(3)
        );
        let e = dec(&doc).unwrap_err();
        let ex = e.excerpt();
        assert!(ex.chars().count() <= EXCERPT_CHARS);
        assert!(!ex.contains(code), "{ex}");
        assert!(!ex.chars().any(char::is_control), "{ex:?}");
        assert!(!e.to_string().contains(code));
        // A code cut by the window edge is still masked as a whole.
        let body = format!("{}{code}{}", "x".repeat(30), "y".repeat(100));
        for pos in 0..body.len() {
            let ex = excerpt(body.as_bytes(), pos);
            assert!(!ex.contains("4567890123"), "pos {pos}: {ex}");
        }
        assert_eq!(
            safe_text("a\u{0}b 1234567890123456 c", 64),
            "a?b 12**********3456 c"
        );
        assert_eq!(safe_text("123456789012345", 64), "123456789012345");
    }

    #[test]
    fn debug_shows_names_only() {
        let f: Fields = [("auth_code", "134567890123454321")].into_iter().collect();
        let d = format!("{f:?}");
        assert!(d.contains("auth_code") && !d.contains("1345678"), "{d}");
    }
}
