//! Character-set decoding, and `<title>` and `<a href>` extraction with a streaming HTML
//! tokenizer ([`PageScanner`]).

mod namespaces;
mod scanner;
mod tokenizer;

pub use scanner::{Extract, PageScanner};

use encoding_rs::Encoding;
use std::borrow::Cow;
use url::Url;

/// What the scraper takes from one HTML page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    /// The `<title>` text with whitespace collapsed, if present and not blank.
    pub title: Option<String>,
    /// Distinct absolute `http`/`https` links of the page's `<a href>` elements, fragment dropped, in
    /// document order.
    pub links: Vec<Url>,
}

/// Whether a response with this `Content-Type` (or, without one, this body) is HTML.
///
/// ```
/// use futurepool_scraper::html::is_html;
/// assert!(is_html(Some("text/html; charset=utf-8"), b""));
/// assert!(!is_html(Some("application/json"), b"<html>"));
/// assert!(is_html(None, b"  <!DOCTYPE html><p>hi"));
/// ```
pub fn is_html(content_type: Option<&str>, body: &[u8]) -> bool {
    match content_type {
        Some(ct) => {
            let essence = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            essence == "text/html" || essence == "application/xhtml+xml"
        }
        None => {
            let start = body
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(body.len());
            let head: Vec<u8> = body[start..]
                .iter()
                .take(14)
                .map(u8::to_ascii_lowercase)
                .collect();
            head.starts_with(b"<!doctype html") || head.starts_with(b"<html")
        }
    }
}

/// Decodes an HTML body to text: BOM, then the `Content-Type` charset, then a `<meta charset>` in
/// the first 1024 bytes, then UTF-8; bad sequences become U+FFFD, never an error.
///
/// ```
/// use futurepool_scraper::html::decode;
/// let latin1 = b"<title>caf\xe9</title>";
/// assert_eq!(decode(latin1, Some("text/html; charset=iso-8859-1")), "<title>café</title>");
/// assert_eq!(decode(b"caf\xe9", None), "caf\u{fffd}");
/// ```
pub fn decode<'a>(body: &'a [u8], content_type: Option<&str>) -> Cow<'a, str> {
    let encoding = content_type
        .and_then(charset_param)
        .and_then(|label| Encoding::for_label(label.as_bytes()))
        .or_else(|| meta_charset(&body[..body.len().min(1024)]))
        .unwrap_or(encoding_rs::UTF_8);
    let (text, _, _) = encoding.decode(body);
    text
}

pub(crate) fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_owned())
    })
}

pub(crate) fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let at = lower.windows(8).position(|w| w == b"charset=")? + 8;
    let rest = &lower[at..];
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let end = rest
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || b"-_:.".contains(b)))
        .unwrap_or(rest.len());
    Encoding::for_label(&rest[..end])
}

/// Scans an HTML document (UTF-8 text) for its title and links, resolved against `base` (or the
/// page's own `<base href>`).
///
/// ```
/// use futurepool_scraper::html::parse_page;
/// let base = url::Url::parse("http://example.com/a/b.html").unwrap();
/// let page = parse_page(
///     "<title> Hello\n  world </title><a href='c.html#top'>c</a><a href='/c'>x</a>\
///      <a href='mailto:x@y'>m</a><a href='a/../c.html'>dup</a>",
///     &base,
/// );
/// assert_eq!(page.title.as_deref(), Some("Hello world"));
/// let links: Vec<&str> = page.links.iter().map(|u| u.as_str()).collect();
/// assert_eq!(links, ["http://example.com/a/c.html", "http://example.com/c"]);
/// ```
pub fn parse_page(text: &str, base: &Url) -> Page {
    parse_body(text.as_bytes(), Some("text/html; charset=utf-8"), base)
}

/// Scans a whole body with a [`PageScanner`]: title and links, the encoding chosen as
/// [`decode`] does.
///
/// ```
/// use futurepool_scraper::html::parse_body;
/// let base = url::Url::parse("http://example.com/").unwrap();
/// let page = parse_body(b"<title>caf\xe9</title>", Some("text/html; charset=iso-8859-1"), &base);
/// assert_eq!(page.title.as_deref(), Some("café"));
/// ```
pub fn parse_body(body: &[u8], content_type: Option<&str>, base: &Url) -> Page {
    let mut scanner = PageScanner::new(content_type, base, Extract::TitleAndLinks);
    scanner.feed(body);
    scanner.finish()
}
