//! The streaming page scanner on its own: chunk boundaries, encodings, entities, early stop.

use futurepool_scraper::html::{Extract, PageScanner};
use url::Url;

fn base() -> Url {
    Url::parse("http://example.com/docs/page.html").unwrap()
}

#[test]
fn title_only_scanning_stops_once_the_title_is_complete() {
    let mut scanner = PageScanner::new(Some("text/html"), &base(), Extract::Title);
    let mut page =
        b"<!doctype html><html><head><meta charset=utf-8><title>Hello</title></head><body>"
            .to_vec();
    page.resize(4096, b'x');
    scanner.feed(&page);
    assert!(
        scanner.is_done(),
        "the title is complete: no more input is wanted"
    );
    assert_eq!(scanner.finish().title.as_deref(), Some("Hello"));
}

fn scan_in_chunks(
    body: &[u8],
    content_type: Option<&str>,
    chunk: usize,
) -> futurepool_scraper::html::Page {
    let mut scanner = PageScanner::new(content_type, &base(), Extract::TitleAndLinks);
    for piece in body.chunks(chunk) {
        scanner.feed(piece);
    }
    scanner.finish()
}

#[test]
fn any_chunking_gives_the_same_page() {
    let body = b"<html><head><title>A &amp; B\n  &#8212; docs</title><base href='/root/'></head>\
        <body><a href=\"x.html?a=1&amp;b=2#frag\">x</a><a href='https://other.org/'>o</a>\
        <a href='x.html?a=1&amp;b=2'>again</a><a href='mailto:me@example.com'>m</a></body></html>";
    let whole = scan_in_chunks(body, Some("text/html"), body.len());
    assert_eq!(whole.title.as_deref(), Some("A & B \u{2014} docs"));
    let links: Vec<&str> = whole.links.iter().map(|u| u.as_str()).collect();
    assert_eq!(
        links,
        [
            "http://example.com/root/x.html?a=1&b=2",
            "https://other.org/"
        ]
    );
    for size in [1, 2, 3, 7, 64] {
        assert_eq!(
            scan_in_chunks(body, Some("text/html"), size),
            whole,
            "chunks of {size}"
        );
    }
}

#[test]
fn a_base_after_the_first_links_still_applies_to_them() {
    let page = scan_in_chunks(
        b"<a href='a'>a</a><base href='http://example.com/b/'>",
        None,
        5,
    );
    assert_eq!(page.links[0].as_str(), "http://example.com/b/a");
}

#[test]
fn links_inside_scripts_comments_and_the_title_are_not_links() {
    let body = b"<title>see <a href='/t'>x</a></title><script>var s = \"<a href='/s'>\";</script>\
        <!-- <a href='/c'> --><a href='/real'>r</a>";
    let page = scan_in_chunks(body, Some("text/html"), 4);
    let links: Vec<&str> = page.links.iter().map(|u| u.as_str()).collect();
    assert_eq!(links, ["http://example.com/real"]);
    assert_eq!(page.title.as_deref(), Some("see <a href='/t'>x</a>"));
}

#[test]
fn encodings_from_the_header_a_meta_tag_or_a_byte_order_mark() {
    let latin1 = b"<title>caf\xe9</title>";
    let by_header = scan_in_chunks(latin1, Some("text/html; charset=ISO-8859-1"), 3);
    assert_eq!(by_header.title.as_deref(), Some("café"));
    let mut meta = b"<meta charset=\"windows-1252\"><title>na\xefve</title>".to_vec();
    meta.extend(std::iter::repeat_n(b' ', 2000));
    assert_eq!(
        scan_in_chunks(&meta, None, 100).title.as_deref(),
        Some("naïve")
    );
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in "<title>\u{65e5}\u{672c}</title><a href='/j'>j</a>".encode_utf16() {
        utf16.extend(unit.to_le_bytes());
    }
    let page = scan_in_chunks(&utf16, Some("text/html"), 5);
    assert_eq!(page.title.as_deref(), Some("\u{65e5}\u{672c}"));
    assert_eq!(page.links[0].as_str(), "http://example.com/j");
    let bom_utf8 = b"\xEF\xBB\xBF<title>\xC3\xA9t\xC3\xA9</title>";
    assert_eq!(
        scan_in_chunks(bom_utf8, Some("text/html; charset=iso-8859-1"), 2)
            .title
            .as_deref(),
        Some("été")
    );
    let invalid = scan_in_chunks(b"<title>caf\xe9</title>", Some("text/html"), 4);
    assert_eq!(invalid.title.as_deref(), Some("caf\u{fffd}"));
}

#[test]
fn only_the_first_title_counts() {
    let page = scan_in_chunks(b"<title>one</title><svg><title>two</title></svg>", None, 3);
    assert_eq!(page.title.as_deref(), Some("one"));
}

#[test]
fn a_self_closing_svg_is_empty_so_a_style_after_it_is_html() {
    // The standard pops `<svg/>` at once; lol_html enters SVG content there.
    let page = scan_in_chunks(
        b"<svg/><style><a href='/in-style'></style><a href='/after'>a</a>",
        None,
        3,
    );
    let links: Vec<&str> = page.links.iter().map(|u| u.as_str()).collect();
    assert_eq!(links, ["http://example.com/after"]);
}

#[test]
fn an_href_over_a_mebibyte_is_dropped_and_scanning_goes_on() {
    let mut body = b"<title>big</title><a href='/".to_vec();
    body.resize(body.len() + (1 << 20) + 1, b'x');
    body.extend_from_slice(b"'>huge</a><a href='/next'>n</a>");
    let page = scan_in_chunks(&body, Some("text/html"), 16 * 1024);
    let links: Vec<&str> = page.links.iter().map(|u| u.as_str()).collect();
    assert_eq!(links, ["http://example.com/next"]);
    assert_eq!(page.title.as_deref(), Some("big"));
}
