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
