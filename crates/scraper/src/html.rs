//! Character-set decoding, `<title>` and `<a href>` extraction with a real HTML parser.

use encoding_rs::Encoding;
use scraper::{Html, Selector};
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::OnceLock;
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

fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_owned())
    })
}

fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
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

fn selector(cell: &'static OnceLock<Selector>, css: &str) -> &'static Selector {
    cell.get_or_init(|| Selector::parse(css).expect("static selector parses"))
}

/// Parses an HTML document and extracts its title and links, resolved against `base` (or the
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
    static TITLE: OnceLock<Selector> = OnceLock::new();
    static BASE: OnceLock<Selector> = OnceLock::new();
    static LINKS: OnceLock<Selector> = OnceLock::new();
    let doc = Html::parse_document(text);
    let title = doc.select(selector(&TITLE, "title")).next().and_then(|t| {
        let text = t.text().collect::<String>();
        let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
        (!collapsed.is_empty()).then_some(collapsed)
    });
    let base = doc
        .select(selector(&BASE, "base[href]"))
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| base.join(href.trim()).ok())
        .unwrap_or_else(|| base.clone());
    let mut seen = HashSet::new();
    let mut links = Vec::new();
    for a in doc.select(selector(&LINKS, "a[href]")) {
        let Some(href) = a.value().attr("href") else {
            continue;
        };
        let Ok(mut link) = base.join(href.trim()) else {
            continue;
        };
        if !matches!(link.scheme(), "http" | "https") || link.host_str().is_none() {
            continue;
        }
        link.set_fragment(None);
        if seen.insert(link.as_str().to_owned()) {
            links.push(link);
        }
    }
    Page { title, links }
}

/// Decodes `body` (see [`decode`]) and parses it with [`parse_page`].
pub fn parse_body(body: &[u8], content_type: Option<&str>, base: &Url) -> Page {
    parse_page(&decode(body, content_type), base)
}
