//! A push tokenizer that keeps only what the scraper takes from a page: the first `<title>`'s
//! text, the first `<base href>` and every `<a href>`, as raw bytes.
//!
//! It follows the WHATWG tokenizer (HTML Standard §13.2.5) in everything that decides what is a
//! tag: tag and attribute syntax with quoted values (a `>` inside quotes does not end a tag),
//! comments (`-->`, `--!>`, `<!-->`), bogus comments and doctypes, CDATA sections in SVG and
//! MathML, and the elements whose content is text (`<script>`, `<style>`, `<title>`,
//! `<textarea>`, `<xmp>`, `<iframe>`, `<noembed>`, `<noframes>`, `<noscript>`, `<plaintext>`).
//! Which of those apply depends on the tree builder; like lol_html's simulator, a stack of
//! namespaces (`<svg>`, `<math>` and their HTML integration points) stands in for it.
//!
//! Every state is resumable at any byte, so a body is fed in whatever chunks it arrives in.
//! Text, comments and attribute values are skipped with `memchr`; only tag syntax is walked byte
//! by byte.
//!
//! Left out, as they change no link or title on real pages: character references (decoded
//! later, on the few strings kept), NUL replacement, and the script-data escape states. In a
//! legacy `<script><!-- document.write("<script>…</script>") --></script>` the inner `</script>`
//! ends the script here, not in a browser. Where lol_html departs from the standard, this
//! follows the standard: `<svg/>` is an empty element, not the start of SVG content.
//!
//! Input is bytes of an ASCII-compatible encoding: every byte the syntax looks at is ASCII, and
//! in those encodings no multi-byte character contains one.
//!
//! `tests/scanner_oracle.rs` checks it against lol_html on generated pages cut into random chunks.

mod tag;

use super::namespaces::{Namespace, Namespaces};
use memchr::memchr;
use tag::Tag;

/// Longest title or attribute value kept; longer ones are cut (a title) or dropped (a link).
const MAX_KEPT_BYTES: usize = 1 << 20;

/// Tag names are compared after lowercasing; longer ones match nothing the scanner cares about.
const MAX_NAME: usize = 16;

/// What the tokenizer found so far, raw: entities undecoded, in the page's encoding.
#[derive(Debug, Default)]
pub(super) struct Found {
    /// Text of the first `<title>` in the HTML namespace.
    pub title: Option<Vec<u8>>,
    /// Whether that title's end tag was seen.
    pub title_closed: bool,
    /// The first `<base href>`'s value.
    pub base: Option<Vec<u8>>,
    /// Every `<a href>` value, back to back; `href_ends` says where each ends.
    hrefs: Vec<u8>,
    href_ends: Vec<usize>,
}

impl Found {
    /// How many `<a href>` values there are.
    pub fn href_count(&self) -> usize {
        self.href_ends.len()
    }

    /// The `<a href>` values, in document order.
    pub fn hrefs(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.href_ends.iter().copied());
        starts
            .zip(self.href_ends.iter().copied())
            .map(|(start, end)| &self.hrefs[start..end])
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quote {
    Double,
    Single,
    None,
}

/// Tokenizer states; the names are the standard's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Data,
    TagOpen,
    EndTagOpen,
    TagName,
    BeforeAttrName,
    AttrName,
    AfterAttrName,
    BeforeAttrValue,
    AttrValue(Quote),
    AfterAttrValueQuoted,
    SelfClosingStartTag,
    /// After `<!`.
    MarkupDeclarationOpen,
    /// After `<!-`.
    CommentOpenDash,
    /// After `<![` and that many more bytes of `CDATA[`, in foreign content.
    CdataOpen(u8),
    Comment(CommentEnd),
    BogusComment,
    /// In a CDATA section; the count of `]` just seen (at most 2).
    Cdata(u8),
    /// The content of a text element, up to `</name`; `matched` bytes of it seen.
    Text {
        name: &'static [u8],
        matched: u8,
    },
    /// After `<plaintext>`: the rest of the body is text.
    Plaintext,
}

/// How close a comment is to its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CommentEnd {
    /// Only dashes since `<!--`: `>` ends it (`<!-->`, `<!--->`).
    at_start: bool,
    /// Dashes just seen, at most 2.
    dashes: u8,
    /// `--!` just seen.
    bang: bool,
}

/// The push tokenizer; see the module docs.
pub(super) struct Tokenizer {
    state: State,
    tag: Tag,
    namespaces: Namespaces,
    want_links: bool,
    /// Appending text to the first title.
    in_title: bool,
    found: Found,
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

impl Tokenizer {
    /// A tokenizer that keeps the `<a href>` values too when `want_links`.
    pub fn new(want_links: bool) -> Tokenizer {
        Tokenizer {
            state: State::Data,
            tag: Tag::default(),
            namespaces: Namespaces::default(),
            want_links,
            in_title: false,
            found: Found::default(),
        }
    }

    /// Ends the input and gives what was found (a tag cut off by the end is dropped).
    pub fn into_found(self) -> Found {
        self.found
    }

    /// Tokenizes the next bytes of the page; stops early, leaving the rest unread, once the title
    /// is complete if `until_title`. Returns whether it stopped early.
    pub fn feed(&mut self, input: &[u8], until_title: bool) -> bool {
        let mut at = 0;
        while at < input.len() {
            if until_title && self.found.title_closed {
                return true;
            }
            at = self.step(input, at);
        }
        until_title && self.found.title_closed
    }

    /// Runs the current state on `input[at..]` (not empty); returns where the next step starts.
    /// A step consumes at least one byte or changes state without consuming (the standard's
    /// "reconsume"), never both nothing and the same state.
    fn step(&mut self, input: &[u8], at: usize) -> usize {
        let rest = &input[at..];
        let byte = rest[0];
        match self.state {
            State::Data => match memchr(b'<', rest) {
                Some(lt) => {
                    self.state = State::TagOpen;
                    at + lt + 1
                }
                None => input.len(),
            },
            State::Plaintext => input.len(),
            State::TagOpen => {
                match byte {
                    b'!' => self.state = State::MarkupDeclarationOpen,
                    b'/' => self.state = State::EndTagOpen,
                    b'?' => {
                        self.state = State::BogusComment;
                        return at;
                    }
                    b if b.is_ascii_alphabetic() => {
                        self.begin_tag(false);
                        return at;
                    }
                    _ => {
                        self.state = State::Data;
                        return at;
                    }
                }
                at + 1
            }
            State::EndTagOpen => {
                match byte {
                    b'>' => self.state = State::Data,
                    b if b.is_ascii_alphabetic() => {
                        self.begin_tag(true);
                        return at;
                    }
                    _ => {
                        self.state = State::BogusComment;
                        return at;
                    }
                }
                at + 1
            }
            State::TagName => {
                let len = rest
                    .iter()
                    .position(|&b| is_space(b) || b == b'/' || b == b'>')
                    .unwrap_or(rest.len());
                for &b in &rest[..len] {
                    self.tag.push_name(b);
                }
                if len < rest.len() {
                    let name = self.tag.name();
                    self.tag.wants_href =
                        !self.tag.end && (name == b"base" || (self.want_links && name == b"a"));
                    self.state = State::BeforeAttrName;
                }
                at + len
            }
            State::BeforeAttrName
            | State::AttrName
            | State::AfterAttrName
            | State::BeforeAttrValue
            | State::AttrValue(_)
            | State::AfterAttrValueQuoted
            | State::SelfClosingStartTag => self.in_tag(input, at),
            State::MarkupDeclarationOpen => {
                match byte {
                    b'-' => self.state = State::CommentOpenDash,
                    b'[' if self.namespaces.current() != Namespace::Html => {
                        self.state = State::CdataOpen(0)
                    }
                    _ => {
                        self.state = State::BogusComment;
                        return at;
                    }
                }
                at + 1
            }
            State::CommentOpenDash => {
                if byte == b'-' {
                    self.state = State::Comment(CommentEnd {
                        at_start: true,
                        dashes: 0,
                        bang: false,
                    });
                    return at + 1;
                }
                self.state = State::BogusComment;
                at
            }
            State::CdataOpen(matched) => {
                const REST: &[u8] = b"CDATA[";
                if byte != REST[usize::from(matched)] {
                    self.state = State::BogusComment;
                    return at;
                }
                self.state = if usize::from(matched) + 1 == REST.len() {
                    State::Cdata(0)
                } else {
                    State::CdataOpen(matched + 1)
                };
                at + 1
            }
            State::BogusComment => match memchr(b'>', rest) {
                Some(gt) => {
                    self.state = State::Data;
                    at + gt + 1
                }
                None => input.len(),
            },
            State::Comment(end) => self.comment(input, at, end),
            State::Cdata(brackets) => {
                self.state = match byte {
                    b']' => State::Cdata((brackets + 1).min(2)),
                    b'>' if brackets == 2 => State::Data,
                    _ => State::Cdata(0),
                };
                at + 1
            }
            State::Text { name, matched } => self.text(input, at, name, matched),
        }
    }

    fn comment(&mut self, input: &[u8], at: usize, mut end: CommentEnd) -> usize {
        let rest = &input[at..];
        // Nothing pending: only a dash can start the end.
        if !end.at_start && end.dashes == 0 && !end.bang {
            return match memchr(b'-', rest) {
                Some(dash) => {
                    end.dashes = 1;
                    self.state = State::Comment(end);
                    at + dash + 1
                }
                None => input.len(),
            };
        }
        match rest[0] {
            b'-' if end.bang => {
                end.bang = false;
                end.dashes = 1;
            }
            b'-' => end.dashes = (end.dashes + 1).min(2),
            b'>' if end.at_start || end.dashes == 2 || end.bang => {
                self.state = State::Data;
                return at + 1;
            }
            b'!' if end.dashes == 2 => {
                end = CommentEnd {
                    at_start: false,
                    dashes: 0,
                    bang: true,
                };
            }
            _ => {
                end = CommentEnd {
                    at_start: false,
                    dashes: 0,
                    bang: false,
                };
            }
        }
        if rest[0] != b'-' {
            end.at_start = false;
        }
        self.state = State::Comment(end);
        at + 1
    }

    /// Text element content: everything up to `</name` followed by a space, `/` or `>`.
    fn text(&mut self, input: &[u8], at: usize, name: &'static [u8], matched: u8) -> usize {
        let rest = &input[at..];
        let matched = usize::from(matched);
        if matched == 0 {
            let len = memchr(b'<', rest).unwrap_or(rest.len());
            self.title_text(&rest[..len]);
            if len == rest.len() {
                return input.len();
            }
            self.title_text(b"<");
            self.state = State::Text { name, matched: 1 };
            return at + len + 1;
        }
        let byte = rest[0];
        let expected = match matched {
            1 => Some(b'/'),
            n if n - 2 < name.len() => Some(name[n - 2]),
            _ => None,
        };
        match expected {
            Some(want) if byte.to_ascii_lowercase() == want => {
                self.title_text(&rest[..1]);
                self.state = State::Text {
                    name,
                    matched: (matched + 1) as u8,
                };
                at + 1
            }
            None if is_space(byte) || byte == b'/' || byte == b'>' => {
                // `</name` ends the text: it is an end tag, not title text.
                if self.in_title {
                    let title = self.found.title.get_or_insert_default();
                    title.truncate(title.len().saturating_sub(matched));
                    self.in_title = false;
                    self.found.title_closed = true;
                }
                self.tag.reset(true);
                for &b in name {
                    self.tag.push_name(b);
                }
                self.state = State::BeforeAttrName;
                at
            }
            _ => {
                self.state = State::Text { name, matched: 0 };
                at
            }
        }
    }

    fn title_text(&mut self, bytes: &[u8]) {
        if self.in_title
            && let Some(title) = self.found.title.as_mut()
        {
            let room = MAX_KEPT_BYTES.saturating_sub(title.len());
            title.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }

    fn begin_tag(&mut self, end: bool) {
        self.tag.reset(end);
        self.state = State::TagName;
    }

    /// The tag is complete (`>`): keep its `href`, and switch to what follows it.
    fn emit_tag(&mut self) {
        self.state = State::Data;
        let tag = &self.tag;
        if tag.end {
            self.namespaces.end_tag(tag.name());
            return;
        }
        if tag.has_href && !tag.value_too_long {
            match tag.name() {
                b"a" => {
                    self.found.hrefs.extend_from_slice(&tag.value);
                    self.found.href_ends.push(self.found.hrefs.len());
                }
                _ if self.found.base.is_none() => self.found.base = Some(tag.value.clone()),
                _ => {}
            }
        }
        if self.namespaces.start_tag(tag.name(), tag.self_closing) != Namespace::Html {
            return;
        }
        let name: &'static [u8] = match tag.name() {
            b"title" => {
                if self.found.title.is_none() {
                    self.found.title = Some(Vec::new());
                    self.in_title = true;
                }
                b"title"
            }
            b"textarea" => b"textarea",
            b"script" => b"script",
            b"style" => b"style",
            b"xmp" => b"xmp",
            b"iframe" => b"iframe",
            b"noembed" => b"noembed",
            b"noframes" => b"noframes",
            b"noscript" => b"noscript",
            b"plaintext" => {
                self.state = State::Plaintext;
                return;
            }
            _ => return,
        };
        self.state = State::Text { name, matched: 0 };
    }
}
