//! The streaming page scanner: `<title>`, `<base href>` and `<a href>` taken from an HTML body
//! chunk by chunk as it arrives, by the [`tokenizer`](super::tokenizer), with no document tree.

use super::Page;
use super::tokenizer::{Found, Tokenizer};
use encoding_rs::{Decoder, Encoding};
use std::borrow::Cow;
use std::collections::HashSet;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use url::Url;

/// Bytes looked at for a byte-order mark or a `<meta charset>` before the encoding is chosen.
const SNIFF_BYTES: usize = 1024;

/// Bytes looked at when the `Content-Type` names the charset: only a byte-order mark can
/// override it.
const BOM_BYTES: usize = 3;

/// What a [`PageScanner`] looks for.
///
/// ```
/// use futurepool_scraper::html::{Extract, PageScanner};
/// let base = url::Url::parse("http://example.com/").unwrap();
/// let mut scanner = PageScanner::new(None, &base, Extract::Title);
/// scanner.feed(b"<title>t</title><a href='/x'>x</a>");
/// assert!(scanner.finish().links.is_empty(), "links are not looked for");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extract {
    /// Only the `<title>`: scanning stops as soon as it is complete (`fetch`).
    Title,
    /// The `<title>`, the `<base href>` and every `<a href>` (`crawl`).
    TitleAndLinks,
}

enum State {
    /// Collecting the first bytes to choose the encoding.
    Sniffing(Vec<u8>),
    /// Tokenizing bytes of `encoding` (ASCII-compatible); `decoder` transcodes to UTF-8 first
    /// when the page's encoding is not (UTF-16 by its byte-order mark, ISO-2022-JP).
    Scanning {
        tokenizer: Box<Tokenizer>,
        encoding: &'static Encoding,
        decoder: Option<(Decoder, String)>,
    },
}

/// Scans an HTML body as it streams, without building a tree; [`finish`](PageScanner::finish)
/// gives the [`Page`].
///
/// The encoding is chosen like [`decode`](super::decode) does: a byte-order mark, then the
/// `Content-Type` charset, then a `<meta charset>` in the first 1024 bytes, then UTF-8.
///
/// ```
/// use futurepool_scraper::html::{Extract, PageScanner};
/// let base = url::Url::parse("http://example.com/docs/").unwrap();
/// let mut scanner = PageScanner::new(Some("text/html"), &base, Extract::TitleAndLinks);
/// for chunk in [&b"<title>Caf&eacute; "[..], b"menu</title><a hr", b"ef='a.html?x=1&amp;y=2#s'>a</a>"] {
///     scanner.feed(chunk);
/// }
/// let page = scanner.finish();
/// assert_eq!(page.title.as_deref(), Some("Café menu"));
/// assert_eq!(page.links[0].as_str(), "http://example.com/docs/a.html?x=1&y=2");
/// ```
pub struct PageScanner {
    state: State,
    extract: Extract,
    /// No more input is wanted: the title is complete and only the title is wanted.
    done: bool,
    content_charset: Option<&'static Encoding>,
    base: Url,
}

impl PageScanner {
    /// A scanner for a body served with `content_type`, whose relative links resolve against
    /// `base` (the page's URL after redirects) unless the page has a `<base href>`.
    pub fn new(content_type: Option<&str>, base: &Url, extract: Extract) -> PageScanner {
        let content_charset = content_type
            .and_then(super::charset_param)
            .and_then(|label| Encoding::for_label(label.as_bytes()));
        PageScanner {
            state: State::Sniffing(Vec::new()),
            extract,
            done: false,
            content_charset,
            base: base.clone(),
        }
    }

    /// Scans the next chunk of the body.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.done {
            return;
        }
        let until_title = self.extract == Extract::Title;
        let sniff_bytes = if self.content_charset.is_some() {
            BOM_BYTES
        } else {
            SNIFF_BYTES
        };
        match &mut self.state {
            // The usual case: the first chunk is long enough to choose the encoding; no copy.
            State::Sniffing(head) if head.is_empty() && chunk.len() >= sniff_bytes => {
                self.start(chunk);
            }
            State::Sniffing(head) => {
                head.extend_from_slice(chunk);
                if head.len() >= sniff_bytes {
                    let head = std::mem::take(head);
                    self.start(&head);
                }
            }
            State::Scanning {
                tokenizer,
                decoder: None,
                ..
            } => self.done = tokenizer.feed(chunk, until_title),
            State::Scanning {
                tokenizer,
                decoder: Some((decoder, text)),
                ..
            } => {
                text.clear();
                transcode(decoder, text, chunk, false);
                self.done = tokenizer.feed(text.as_bytes(), until_title);
            }
        }
    }

    /// True once the scanner wants no more input: the title is complete and only the title is
    /// wanted.
    ///
    /// ```
    /// use futurepool_scraper::html::{Extract, PageScanner};
    /// let base = url::Url::parse("http://example.com/").unwrap();
    /// let mut scanner = PageScanner::new(Some("text/html"), &base, Extract::Title);
    /// scanner.feed(&[b' '; 1024]);
    /// assert!(!scanner.is_done());
    /// scanner.feed(b"<title>Done</title>");
    /// assert!(scanner.is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Ends the body and returns what was found: the title (entities decoded, whitespace
    /// collapsed) and the distinct absolute `http(s)` links, fragment dropped, in document order.
    pub fn finish(self) -> Page {
        self.finish_limited(usize::MAX).0
    }

    /// Like [`finish`](PageScanner::finish), keeping at most `max_links` links; also returns how
    /// many distinct links the page has (past `max_links`, links are told apart by their href
    /// text). A page with a million links then costs a crawl that can fetch only a few more
    /// pages no more than one with a few links: counting needs 8 bytes a link while the page is
    /// scanned, and no URL past the limit is kept.
    ///
    /// ```
    /// use futurepool_scraper::html::{Extract, PageScanner};
    /// let base = url::Url::parse("http://example.com/").unwrap();
    /// let mut scanner = PageScanner::new(Some("text/html"), &base, Extract::TitleAndLinks);
    /// scanner.feed(b"<a href=/1>1</a><a href=/2>2</a><a href=/1>1</a><a href=/3>3</a>");
    /// let (page, found) = scanner.finish_limited(2);
    /// assert_eq!(page.links.len(), 2);
    /// assert_eq!(found, 3);
    /// ```
    pub fn finish_limited(mut self, max_links: usize) -> (Page, usize) {
        if let State::Sniffing(head) = &mut self.state {
            let head = std::mem::take(head);
            self.start(&head);
        }
        let State::Scanning {
            mut tokenizer,
            encoding,
            decoder,
        } = std::mem::replace(&mut self.state, State::Sniffing(Vec::new()))
        else {
            unreachable!("started above");
        };
        if let Some((mut decoder, mut text)) = decoder
            && !self.done
        {
            text.clear();
            transcode(&mut decoder, &mut text, b"", true);
            tokenizer.feed(text.as_bytes(), self.extract == Extract::Title);
        }
        page_of(&tokenizer.into_found(), encoding, &self.base, max_links)
    }

    /// Chooses the encoding from `head` (the first bytes), sets up the tokenizer and scans `head`.
    fn start(&mut self, head: &[u8]) {
        let (encoding, bom) = match Encoding::for_bom(head) {
            Some((encoding, bom)) => (encoding, bom),
            None => (
                self.content_charset
                    .or_else(|| super::meta_charset(&head[..head.len().min(SNIFF_BYTES)]))
                    .unwrap_or(encoding_rs::UTF_8),
                0,
            ),
        };
        let (encoding, decoder) = if encoding.is_ascii_compatible() {
            (encoding, None)
        } else {
            let decoder = encoding.new_decoder_without_bom_handling();
            (encoding_rs::UTF_8, Some((decoder, String::new())))
        };
        self.state = State::Scanning {
            tokenizer: Box::new(Tokenizer::new(self.extract == Extract::TitleAndLinks)),
            encoding,
            decoder,
        };
        self.feed(&head[bom..]);
    }
}

fn transcode(decoder: &mut Decoder, out: &mut String, input: &[u8], last: bool) {
    let needed = decoder
        .max_utf8_buffer_length(input.len())
        .unwrap_or(input.len() * 3 + 16);
    out.reserve(needed);
    let _ = decoder.decode_to_string(input, out, last);
}

/// Text from raw bytes of the page's encoding (bad sequences become U+FFFD).
fn text_of<'a>(bytes: &'a [u8], encoding: &'static Encoding) -> Cow<'a, str> {
    if encoding == encoding_rs::UTF_8 {
        String::from_utf8_lossy(bytes)
    } else {
        encoding.decode_without_bom_handling(bytes).0
    }
}

/// Decodes the title and hrefs, collapses whitespace, resolves and de-duplicates the links.
fn page_of(
    found: &Found,
    encoding: &'static Encoding,
    page_url: &Url,
    max_links: usize,
) -> (Page, usize) {
    let title = found.title.as_ref().and_then(|raw| {
        let text = htmlize::unescape(text_of(raw, encoding));
        let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
        (!collapsed.is_empty()).then_some(collapsed)
    });
    let base = found
        .base
        .as_ref()
        .and_then(|href| {
            let href = htmlize::unescape_attribute(text_of(href, encoding));
            page_url.join(href.trim()).ok()
        })
        .unwrap_or_else(|| page_url.clone());
    // Pages link to themselves and to the same pages many times over (a contents sidebar,
    // in-page anchors): resolve each distinct href, fragment dropped, once.
    // Both sets hold 64-bit hashes, not the strings: 8 bytes a link, whatever its length.
    let hasher = RandomState::new();
    let mut hrefs_seen = HashSet::new();
    let mut seen = HashSet::new();
    let mut links = Vec::new();
    // Past `max_links`, links are only counted: their href hashes go to a plain vector, 8 bytes
    // each, sorted and de-duplicated at the end (a set would cost two to four times that).
    let mut past_limit: Vec<u64> = Vec::new();
    for raw in found.hrefs() {
        let raw_hash = hasher.hash_one(without_fragment(raw));
        let full = links.len() >= max_links;
        if full {
            if hrefs_seen.contains(&raw_hash) {
                continue;
            }
        } else if !hrefs_seen.insert(raw_hash) {
            continue;
        }
        let href = htmlize::unescape_attribute(text_of(raw, encoding));
        let href = href.split('#').next().unwrap_or_default();
        let Ok(link) = base.join(href.trim()) else {
            continue;
        };
        if !matches!(link.scheme(), "http" | "https") || link.host_str().is_none() {
            continue;
        }
        let link_hash = hasher.hash_one(link.as_str());
        if !full {
            if seen.insert(link_hash) {
                links.push(link);
            }
        } else if !seen.contains(&link_hash) {
            if past_limit.capacity() == 0 {
                past_limit.reserve_exact(found.href_count());
            }
            past_limit.push(raw_hash);
        }
    }
    past_limit.sort_unstable();
    past_limit.dedup();
    (Page { title, links }, seen.len() + past_limit.len())
}

/// `href` bytes up to its fragment: the first `#` that does not start a character reference
/// (`&#64;` is an `@`).
fn without_fragment(href: &[u8]) -> &[u8] {
    let fragment = memchr::memchr_iter(b'#', href).find(|&at| at == 0 || href[at - 1] != b'&');
    &href[..fragment.unwrap_or(href.len())]
}
