//! Sitemaps (`crawl --sitemaps`): the `<loc>` URLs of sitemap XML files and sitemap indexes,
//! plain or gzip, read with a streaming XML parser and bounded in size and number.

use flate2::read::GzDecoder;
use quick_xml::events::Event;
use std::io::{BufRead, BufReader, Read};

/// Largest sitemap read once uncompressed, as the sitemaps protocol allows (50 MB).
pub const MAX_SITEMAP_BYTES: u64 = 50 * 1000 * 1000;
/// Most sitemap files one crawl reads (an index and the sitemaps it names).
pub const MAX_SITEMAP_FILES: usize = 32;

/// What one sitemap file lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sitemap {
    /// Page URLs (`<urlset><url><loc>`), as written.
    pub urls: Vec<String>,
    /// Further sitemaps (`<sitemapindex><sitemap><loc>`), as written.
    pub sitemaps: Vec<String>,
}

/// Reads the `<loc>`s of a sitemap or sitemap index from `body`, gunzipping it first when it
/// starts with the gzip magic bytes. At most `max_locs` locations are kept and at most
/// [`MAX_SITEMAP_BYTES`] of XML are read; what is malformed ends the reading, keeping what came
/// before.
///
/// ```
/// use futurepool_scraper::sitemap::parse_sitemap;
/// let xml = br#"<?xml version="1.0"?>
/// <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
///   <url><loc>http://example.com/a?x=1&amp;y=2</loc></url>
///   <url><loc> http://example.com/b </loc><lastmod>2026-01-01</lastmod></url>
/// </urlset>"#;
/// let map = parse_sitemap(xml, 10);
/// assert_eq!(map.urls, ["http://example.com/a?x=1&y=2", "http://example.com/b"]);
/// assert!(map.sitemaps.is_empty());
/// ```
pub fn parse_sitemap(body: &[u8], max_locs: usize) -> Sitemap {
    if body.starts_with(&[0x1f, 0x8b]) {
        let xml = BufReader::new(GzDecoder::new(body).take(MAX_SITEMAP_BYTES));
        read_locs(xml, max_locs)
    } else {
        read_locs(body.take(MAX_SITEMAP_BYTES), max_locs)
    }
}

/// Where the parser is: the `<loc>` of a `<url>` or of a `<sitemap>`, or elsewhere.
#[derive(Clone, Copy, PartialEq, Eq)]
enum In {
    Other,
    Url,
    Sitemap,
}

fn read_locs<R: BufRead>(input: R, max_locs: usize) -> Sitemap {
    let mut reader = quick_xml::Reader::from_reader(input);
    let mut map = Sitemap::default();
    let mut buf = Vec::new();
    let (mut parent, mut in_loc, mut loc) = (In::Other, false, String::new());
    while map.urls.len() + map.sitemaps.len() < max_locs {
        buf.clear();
        let Ok(event) = reader.read_event_into(&mut buf) else {
            break;
        };
        match event {
            Event::Start(tag) => match tag.local_name().as_ref() {
                b"url" => parent = In::Url,
                b"sitemap" => parent = In::Sitemap,
                b"loc" if parent != In::Other => {
                    in_loc = true;
                    loc.clear();
                }
                _ => {}
            },
            Event::End(tag) => match tag.local_name().as_ref() {
                b"url" | b"sitemap" => parent = In::Other,
                b"loc" if in_loc => {
                    in_loc = false;
                    let text = loc.trim();
                    if !text.is_empty() && text.len() <= crate::http::MAX_URL_BYTES {
                        match parent {
                            In::Url => map.urls.push(text.to_owned()),
                            In::Sitemap => map.sitemaps.push(text.to_owned()),
                            In::Other => {}
                        }
                    }
                }
                _ => {}
            },
            Event::Text(text) if in_loc => {
                if let Ok(text) = text.decode() {
                    push_bounded(&mut loc, &text);
                }
            }
            Event::CData(text) if in_loc => {
                push_bounded(&mut loc, &String::from_utf8_lossy(&text));
            }
            Event::GeneralRef(entity) if in_loc => {
                if let Ok(Some(c)) = entity.resolve_char_ref() {
                    push_bounded(&mut loc, c.encode_utf8(&mut [0; 4]));
                } else if let Ok(name) = entity.decode()
                    && let Some(text) = quick_xml::escape::resolve_predefined_entity(&name)
                {
                    push_bounded(&mut loc, text);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    map
}

/// Appends to a `<loc>`'s text while it is no longer than a URL may be (a longer one is
/// dropped when the element ends).
fn push_bounded(loc: &mut String, text: &str) {
    if loc.len() <= crate::http::MAX_URL_BYTES {
        loc.push_str(text);
    }
}
