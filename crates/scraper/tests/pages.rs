//! Page content: character sets, non-UTF-8 bytes, compression and huge pages.

mod common;

use common::{config, crawl_all, fetch_one};
use futurepool_scraper::{Config, ErrorKind};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn serve(server: &MockServer, at: &str, body: Vec<u8>, content_type: &str) -> String {
    Mock::given(path(at))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, content_type))
        .mount(server)
        .await;
    format!("{}{at}", server.uri())
}

#[tokio::test]
async fn latin1_page_declared_in_the_header_is_decoded() {
    let server = MockServer::start().await;
    let url = serve(
        &server,
        "/l1",
        b"<title>Caf\xe9 cr\xe8me</title>".to_vec(),
        "text/html; charset=ISO-8859-1",
    )
    .await;
    let row = fetch_one(config(), &url).await;
    assert_eq!(row.title.as_deref(), Some("Café crème"));
    assert_eq!(row.bytes, Some(25));
}

#[tokio::test]
async fn charset_declared_in_a_meta_tag_is_decoded() {
    let server = MockServer::start().await;
    let body =
        b"<html><head><meta charset=\"windows-1252\"><title>\x93quoted\x94</title></head></html>"
            .to_vec();
    let url = serve(&server, "/meta", body, "text/html").await;
    let row = fetch_one(config(), &url).await;
    assert_eq!(row.title.as_deref(), Some("\u{201c}quoted\u{201d}"));
}

#[tokio::test]
async fn invalid_utf8_does_not_fail_the_row() {
    let server = MockServer::start().await;
    let body = b"<title>bad \xff\xfe bytes</title><a href='/x\xff'>x</a>".to_vec();
    let url = serve(&server, "/bad", body, "text/html; charset=utf-8").await;
    let row = fetch_one(config(), &url).await;
    assert_eq!(row.status, Some(200));
    assert_eq!(row.error, None);
    assert_eq!(row.title.as_deref(), Some("bad \u{fffd}\u{fffd} bytes"));
}

#[tokio::test]
async fn binary_body_without_content_type_is_not_parsed() {
    let server = MockServer::start().await;
    Mock::given(path("/bin"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes((0..=255u8).cycle().take(4096).collect::<Vec<u8>>()),
        )
        .mount(&server)
        .await;
    let row = fetch_one(config(), &format!("{}/bin", server.uri())).await;
    assert_eq!(
        (row.status, row.bytes, row.title.clone()),
        (Some(200), Some(4096), None)
    );
}

#[tokio::test]
async fn gzip_bodies_are_decoded() {
    let server = MockServer::start().await;
    // "<title>zipped</title>" gzip-compressed.
    let gz: Vec<u8> = vec![
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xb3, 0x29, 0xc9, 0x2c, 0xc9,
        0x49, 0xb5, 0xab, 0xca, 0x2c, 0x28, 0x48, 0x4d, 0xb1, 0xd1, 0x87, 0xf0, 0x00, 0x4f, 0x7a,
        0x58, 0x16, 0x15, 0x00, 0x00, 0x00,
    ];
    Mock::given(path("/gz"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .set_body_raw(gz, "text/html"),
        )
        .mount(&server)
        .await;
    let row = fetch_one(config(), &format!("{}/gz", server.uri())).await;
    assert_eq!(row.title.as_deref(), Some("zipped"));
    assert_eq!(row.bytes, Some(21), "bytes counts the decoded body");
    let req = &server.received_requests().await.unwrap()[0];
    let accept = req
        .headers
        .get("accept-encoding")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(accept.contains("gzip") && accept.contains("br"), "{accept}");
}

fn huge_page(links: usize, filler_kb: usize) -> Vec<u8> {
    let mut body =
        String::from("<!DOCTYPE html><html><head><title>Huge page</title></head><body>\n");
    for i in 0..links {
        body.push_str(&format!(
            "<p>Paragraph {i}: <a href=\"/l/{i}\">link {i}</a></p>\n"
        ));
    }
    let filler = "<div>lorem ipsum dolor sit amet</div>\n".repeat(filler_kb * 1024 / 38);
    body.push_str(&filler);
    body.push_str("</body></html>\n");
    body.into_bytes()
}

#[tokio::test]
async fn huge_page_is_parsed_whole() {
    let server = MockServer::start().await;
    let body = huge_page(5000, 4096);
    let len = body.len() as u64;
    assert!(len > 4_000_000);
    let url = serve(&server, "/", body, "text/html").await;
    let cfg = Config {
        depth: 0,
        ignore_robots: true,
        ..config()
    };
    let (rows, _) = crawl_all(cfg, &[url]).await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.bytes, Some(len));
    assert_eq!(row.title.as_deref(), Some("Huge page"));
    assert_eq!(row.links, Some(5000));
    assert_eq!(row.error, None);
}

#[tokio::test]
async fn huge_page_over_the_cap_keeps_what_was_read() {
    let server = MockServer::start().await;
    let url = serve(&server, "/", huge_page(100, 2048), "text/html").await;
    let cfg = Config {
        depth: 0,
        ignore_robots: true,
        max_bytes: 100_000,
        ..config()
    };
    let (rows, _) = crawl_all(cfg, &[url]).await;
    let row = &rows[0];
    assert_eq!(row.error_kind, Some(ErrorKind::TooLarge));
    assert_eq!((row.status, row.bytes), (Some(200), Some(100_000)));
    assert_eq!(
        row.title.as_deref(),
        Some("Huge page"),
        "the part read is still parsed"
    );
    assert_eq!(row.links, Some(100));
}

#[tokio::test]
async fn pages_scanned_on_the_cpu_pool_or_the_runtime_give_the_same_rows() {
    let server = MockServer::start().await;
    // 300 KB: over the default offload size; a second page under it.
    let url = serve(&server, "/", huge_page(400, 300), "text/html").await;
    let small = serve(&server, "/small", huge_page(20, 1), "text/html").await;
    let scan_with = |offload_parse_bytes| {
        let (url, small) = (url.clone(), small.clone());
        async move {
            let cfg = Config {
                depth: 0,
                ignore_robots: true,
                offload_parse_bytes,
                ..config()
            };
            let (mut rows, _) = crawl_all(cfg, &[url, small]).await;
            rows.sort_by(|a, b| a.url.cmp(&b.url));
            rows.into_iter()
                .map(|row| (row.url, row.title, row.links, row.bytes))
                .collect::<Vec<_>>()
        }
    };
    let on_pool = scan_with(0).await;
    assert_eq!(on_pool.len(), 2);
    assert_eq!(on_pool[0].2, Some(400));
    assert_eq!(on_pool[1].2, Some(20));
    assert_eq!(
        scan_with(Config::default().offload_parse_bytes).await,
        on_pool
    );
    assert_eq!(scan_with(usize::MAX).await, on_pool);
}
