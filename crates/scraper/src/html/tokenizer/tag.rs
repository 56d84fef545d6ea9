//! The tag being read, and the attribute states of the tokenizer.

use super::{MAX_KEPT_BYTES, MAX_NAME, Quote, State, Tokenizer, is_space};
use memchr::memchr;

/// The tag being read.
#[derive(Default)]
pub(super) struct Tag {
    pub(super) end: bool,
    name: [u8; MAX_NAME],
    /// Length of the name, `MAX_NAME + 1` when longer.
    name_len: usize,
    pub(super) self_closing: bool,
    /// A start `<a>` or `<base>` whose `href` is wanted.
    pub(super) wants_href: bool,
    /// The `href` attribute was seen (the first one counts).
    pub(super) has_href: bool,
    /// The attribute being read is that `href`.
    in_href: bool,
    /// The attribute name read so far, if it may still be `href`.
    attr_name: [u8; 4],
    attr_len: usize,
    pub(super) value: Vec<u8>,
    pub(super) value_too_long: bool,
}

impl Tag {
    /// Starts reading a new tag, keeping the value buffer's allocation.
    pub(super) fn reset(&mut self, end: bool) {
        let mut value = std::mem::take(&mut self.value);
        value.clear();
        *self = Tag {
            end,
            value,
            ..Tag::default()
        };
    }

    pub(super) fn name(&self) -> &[u8] {
        if self.name_len > MAX_NAME {
            b""
        } else {
            &self.name[..self.name_len]
        }
    }

    pub(super) fn push_name(&mut self, byte: u8) {
        if self.name_len < MAX_NAME {
            self.name[self.name_len] = byte.to_ascii_lowercase();
        }
        self.name_len = (self.name_len + 1).min(MAX_NAME + 1);
    }

    pub(super) fn start_attr(&mut self) {
        self.in_href = false;
        self.attr_len = 0;
    }

    pub(super) fn push_attr_name(&mut self, byte: u8) {
        if self.attr_len < 4 {
            self.attr_name[self.attr_len] = byte.to_ascii_lowercase();
        }
        self.attr_len = (self.attr_len + 1).min(5);
    }

    /// The attribute's name is complete: start keeping its value if it is the wanted `href`.
    pub(super) fn end_attr_name(&mut self) {
        if self.wants_href && !self.has_href && self.attr_len == 4 && &self.attr_name == b"href" {
            self.has_href = true;
            self.in_href = true;
        }
    }

    /// Keeps `bytes` of the wanted `href`; a value past [`MAX_KEPT_BYTES`] is dropped whole.
    pub(super) fn push_value(&mut self, bytes: &[u8]) {
        if !self.in_href || self.value_too_long {
            return;
        }
        if self.value.len() + bytes.len() > MAX_KEPT_BYTES {
            self.value_too_long = true;
            self.value = Vec::new();
            return;
        }
        self.value.extend_from_slice(bytes);
    }
}

impl Tokenizer {
    /// Attributes, up to the `>` that ends the tag or the end of `input`; one loop with the
    /// state in a local, as this is where most of a page's bytes that are not text are.
    pub(super) fn in_tag(&mut self, input: &[u8], mut at: usize) -> usize {
        let mut state = self.state;
        while at < input.len() {
            let byte = input[at];
            match state {
                State::BeforeAttrName => match byte {
                    b if is_space(b) => at += 1,
                    b'/' | b'>' => state = State::AfterAttrName,
                    b'=' => {
                        self.tag.start_attr();
                        self.tag.push_attr_name(b'=');
                        state = State::AttrName;
                        at += 1;
                    }
                    _ => {
                        self.tag.start_attr();
                        state = State::AttrName;
                    }
                },
                State::AttrName => match byte {
                    b if is_space(b) || b == b'/' || b == b'>' => {
                        self.tag.end_attr_name();
                        state = State::AfterAttrName;
                    }
                    b'=' => {
                        self.tag.end_attr_name();
                        state = State::BeforeAttrValue;
                        at += 1;
                    }
                    b => {
                        self.tag.push_attr_name(b);
                        at += 1;
                    }
                },
                State::AfterAttrName => match byte {
                    b if is_space(b) => at += 1,
                    b'/' => {
                        state = State::SelfClosingStartTag;
                        at += 1;
                    }
                    b'=' => {
                        state = State::BeforeAttrValue;
                        at += 1;
                    }
                    b'>' => {
                        self.emit_tag();
                        return at + 1;
                    }
                    _ => {
                        self.tag.start_attr();
                        state = State::AttrName;
                    }
                },
                State::BeforeAttrValue => match byte {
                    b if is_space(b) => at += 1,
                    b'"' => {
                        state = State::AttrValue(Quote::Double);
                        at += 1;
                    }
                    b'\'' => {
                        state = State::AttrValue(Quote::Single);
                        at += 1;
                    }
                    b'>' => {
                        self.emit_tag();
                        return at + 1;
                    }
                    _ => state = State::AttrValue(Quote::None),
                },
                State::AttrValue(Quote::None) => match byte {
                    b if is_space(b) => {
                        state = State::BeforeAttrName;
                        at += 1;
                    }
                    b'>' => {
                        self.emit_tag();
                        return at + 1;
                    }
                    _ => {
                        self.tag.push_value(&input[at..=at]);
                        at += 1;
                    }
                },
                State::AttrValue(quote) => {
                    let close = if quote == Quote::Double { b'"' } else { b'\'' };
                    let rest = &input[at..];
                    let Some(len) = memchr(close, rest) else {
                        self.tag.push_value(rest);
                        at = input.len();
                        break;
                    };
                    self.tag.push_value(&rest[..len]);
                    state = State::AfterAttrValueQuoted;
                    at += len + 1;
                }
                State::AfterAttrValueQuoted => match byte {
                    b if is_space(b) => {
                        state = State::BeforeAttrName;
                        at += 1;
                    }
                    b'/' => {
                        state = State::SelfClosingStartTag;
                        at += 1;
                    }
                    b'>' => {
                        self.emit_tag();
                        return at + 1;
                    }
                    _ => state = State::BeforeAttrName,
                },
                State::SelfClosingStartTag => {
                    if byte == b'>' {
                        self.tag.self_closing = true;
                        self.emit_tag();
                        return at + 1;
                    }
                    state = State::BeforeAttrName;
                }
                _ => unreachable!("in_tag runs only in attribute states"),
            }
        }
        self.state = state;
        at
    }
}
