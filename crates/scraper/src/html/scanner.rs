//! The streaming page scanner: `<title>`, `<base href>` and `<a href>` taken from an HTML body
//! chunk by chunk as it arrives, with lol_html's tokenizer and no document tree.

use super::Page;
use encoding_rs::{Decoder, Encoding};
use lol_html::html_content::{EndTag, TextChunk};
use lol_html::send::{Element, ElementContentHandlers, HtmlRewriter, Settings};
use lol_html::{AsciiCompatibleEncoding, HandlerResult, MemorySettings, Selector};
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use url::Url;

/// Bytes looked at for a byte-order mark or a `<meta charset>` before the encoding is chosen.
const SNIFF_BYTES: usize = 1024;

/// Input handed to the tokenizer at once: a title-only scan checks for the end of the title this
/// often, so a large chunk (a whole page can arrive in one) is not scanned past it.
const SLICE_BYTES: usize = 4096;

/// Memory the tokenizer may buffer for one construct split across chunks (a huge tag); past it,
/// scanning stops and what was found so far is kept.
const MAX_TOKENIZER_MEMORY: usize = 1 << 20;

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

/// What the handlers found so far; shared with them, as lol_html owns its handlers.
#[derive(Default)]
struct Found {
    /// Raw text of the first `<title>`, entities not yet decoded.
    title: Option<String>,
    title_closed: bool,
    /// The first `<base href>`, as written.
    base: Option<String>,
    /// `<a href>` values as written, in document order.
    hrefs: Vec<String>,
}

type Shared = Arc<Mutex<Found>>;

fn lock(found: &Shared) -> std::sync::MutexGuard<'_, Found> {
    found.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The tokenizer; its output (the unchanged page) is not wanted.
type Tokenizer = HtmlRewriter<'static, fn(&[u8])>;

enum State {
    /// Collecting the first bytes to choose the encoding.
    Sniffing(Vec<u8>),
    /// Tokenizing; `decoder` transcodes to UTF-8 first when the encoding is not ASCII-compatible
    /// (UTF-16 by its byte-order mark, ISO-2022-JP).
    Scanning {
        rewriter: Box<Tokenizer>,
        decoder: Option<(Decoder, String)>,
    },
    /// Everything wanted was found, or the tokenizer gave up: the rest of the body is ignored.
    Done,
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
    found: Shared,
    extract: Extract,
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
            found: Shared::default(),
            extract,
            content_charset,
            base: base.clone(),
        }
    }

    /// Scans the next chunk of the body.
    pub fn feed(&mut self, chunk: &[u8]) {
        match &mut self.state {
            State::Done => {}
            // The usual case: the first chunk is long enough to choose the encoding; no copy.
            State::Sniffing(head) if head.is_empty() && chunk.len() >= SNIFF_BYTES => {
                self.start(chunk);
            }
            State::Sniffing(head) => {
                head.extend_from_slice(chunk);
                if head.len() >= SNIFF_BYTES {
                    let head = std::mem::take(head);
                    self.start(&head);
                }
            }
            State::Scanning { rewriter, decoder } => {
                let mut ok = true;
                let text;
                let input = match decoder {
                    None => chunk,
                    Some((decoder, buf)) => {
                        buf.clear();
                        transcode(decoder, buf, chunk, false);
                        text = std::mem::take(buf);
                        text.as_bytes()
                    }
                };
                let title_only = self.extract == Extract::Title;
                let title_done = || title_only && lock(&self.found).title_closed;
                // Only a title-only scan has a reason to stop inside a chunk.
                let slice_bytes = if title_only { SLICE_BYTES } else { usize::MAX };
                for slice in input.chunks(slice_bytes) {
                    ok = rewriter.write(slice).is_ok();
                    if !ok || title_done() {
                        break;
                    }
                }
                if !ok || title_done() {
                    self.state = State::Done;
                }
            }
        }
    }

    /// True once the scanner wants no more input: the title is complete and only the title is
    /// wanted, or the page could not be scanned further.
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
        matches!(self.state, State::Done) || self.title_done()
    }

    fn title_done(&self) -> bool {
        self.extract == Extract::Title && lock(&self.found).title_closed
    }

    /// Ends the body and returns what was found: the title (entities decoded, whitespace
    /// collapsed) and the distinct absolute `http(s)` links, fragment dropped, in document order.
    pub fn finish(mut self) -> Page {
        if let State::Sniffing(head) = &mut self.state {
            let head = std::mem::take(head);
            self.start(&head);
        }
        if let State::Scanning { rewriter, decoder } =
            std::mem::replace(&mut self.state, State::Done)
        {
            let mut rewriter = *rewriter;
            let mut ok = true;
            if let Some((mut decoder, mut text)) = decoder {
                transcode(&mut decoder, &mut text, b"", true);
                ok = rewriter.write(text.as_bytes()).is_ok();
            }
            if ok {
                let _ = rewriter.end();
            }
        }
        let found = std::mem::take(&mut *lock(&self.found));
        page_of(found, &self.base)
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
        let (ascii, decoder) = match AsciiCompatibleEncoding::new(encoding) {
            Some(ascii) => (ascii, None),
            None => (
                AsciiCompatibleEncoding::utf_8(),
                Some((encoding.new_decoder_without_bom_handling(), String::new())),
            ),
        };
        let rewriter = Box::new(HtmlRewriter::new(
            self.settings(ascii),
            (|_: &[u8]| {}) as fn(&[u8]),
        ));
        self.state = State::Scanning { rewriter, decoder };
        self.feed(&head[bom..]);
    }

    fn settings(&self, encoding: AsciiCompatibleEncoding) -> Settings<'static, 'static> {
        static TITLE: OnceLock<Selector> = OnceLock::new();
        static BASE: OnceLock<Selector> = OnceLock::new();
        static LINK: OnceLock<Selector> = OnceLock::new();
        let (on_title, on_title_text) = (Arc::clone(&self.found), Arc::clone(&self.found));
        let title = ElementContentHandlers::default()
            .element(move |el: &mut Element<'_, '_>| open_title(&on_title, el))
            .text(move |chunk: &mut TextChunk<'_>| -> HandlerResult {
                let mut found = lock(&on_title_text);
                if !found.title_closed
                    && let Some(title) = found.title.as_mut()
                {
                    title.push_str(chunk.as_str());
                }
                Ok(())
            });
        let mut settings = Settings::new_send()
            .with_encoding(encoding)
            // Read-only use: no rewriting can go wrong, so ambiguities need not stop the scan.
            .with_strict(false)
            .with_memory_settings(
                MemorySettings::new().with_max_allowed_memory_usage(MAX_TOKENIZER_MEMORY),
            )
            .append_element_content_handler((selector(&TITLE, "title"), title));
        if self.extract == Extract::TitleAndLinks {
            let (on_base, on_link) = (Arc::clone(&self.found), Arc::clone(&self.found));
            let base = ElementContentHandlers::default().element(
                move |el: &mut Element<'_, '_>| -> HandlerResult {
                    let mut found = lock(&on_base);
                    if found.base.is_none() {
                        found.base = el.get_attribute("href");
                    }
                    Ok(())
                },
            );
            let link = ElementContentHandlers::default().element(
                move |el: &mut Element<'_, '_>| -> HandlerResult {
                    if let Some(href) = el.get_attribute("href") {
                        lock(&on_link).hrefs.push(href);
                    }
                    Ok(())
                },
            );
            settings = settings
                .append_element_content_handler((selector(&BASE, "base[href]"), base))
                .append_element_content_handler((selector(&LINK, "a[href]"), link));
        }
        settings
    }
}

/// A selector parsed once for the process (each scanner borrows it).
fn selector(cell: &'static OnceLock<Selector>, css: &str) -> Cow<'static, Selector> {
    Cow::Borrowed(cell.get_or_init(|| css.parse().expect("a valid static selector")))
}

/// The first `<title>` starts the title; its end tag closes it (later titles are ignored).
fn open_title(found: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    if lock(found).title.is_some() {
        return Ok(());
    }
    lock(found).title = Some(String::new());
    let on_end = Arc::clone(found);
    if let Some(handlers) = el.end_tag_handlers() {
        handlers.push(Box::new(move |_: &mut EndTag<'_>| {
            lock(&on_end).title_closed = true;
            Ok(())
        }));
    }
    Ok(())
}

fn transcode(decoder: &mut Decoder, out: &mut String, input: &[u8], last: bool) {
    let needed = decoder
        .max_utf8_buffer_length(input.len())
        .unwrap_or(input.len() * 3 + 16);
    out.reserve(needed);
    let _ = decoder.decode_to_string(input, out, last);
}

/// Decodes entities, collapses whitespace, resolves and de-duplicates the links.
fn page_of(found: Found, page_url: &Url) -> Page {
    let title = found.title.and_then(|raw| {
        let text = htmlize::unescape(&raw);
        let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
        (!collapsed.is_empty()).then_some(collapsed)
    });
    let base = found
        .base
        .and_then(|href| {
            page_url
                .join(htmlize::unescape_attribute(&href).trim())
                .ok()
        })
        .unwrap_or_else(|| page_url.clone());
    // Pages link to themselves and to the same pages many times over (a contents sidebar,
    // in-page anchors): resolve each distinct href, fragment dropped, once.
    let mut hrefs_seen = HashSet::new();
    let mut seen = HashSet::new();
    let mut links = Vec::new();
    for href in &found.hrefs {
        let href = htmlize::unescape_attribute(href);
        let href = href.trim();
        let href = href.split('#').next().unwrap_or_default();
        if hrefs_seen.contains(href) {
            continue;
        }
        hrefs_seen.insert(href.to_owned());
        let Ok(link) = base.join(href) else {
            continue;
        };
        if !matches!(link.scheme(), "http" | "https") || link.host_str().is_none() {
            continue;
        }
        if seen.insert(link.as_str().to_owned()) {
            links.push(link);
        }
    }
    Page { title, links }
}
