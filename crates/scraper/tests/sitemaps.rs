//! `crawl --sitemaps`: seeds from robots.txt `Sitemap:` lines (else /sitemap.xml), sitemap
//! indexes, plain and gzip files, within `--max-pages`; resumed with `--state`, nothing is
//! read again.

mod common;

use common::{config, crawl_all, html_page, page_requests};
use futurepool_scraper::Config;
use futurepool_scraper::sitemap::parse_sitemap;
use std::io::Write;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn urlset(urls: &[String]) -> String {
    let body: String = urls
        .iter()
        .map(|u| format!("  <url><loc>{u}</loc><changefreq>daily</changefreq></url>\n"))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n{body}</urlset>\n"
    )
}

fn gzip(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap()
}

async fn serve(server: &MockServer, at: &str, body: Vec<u8>, content_type: &str) {
    Mock::given(path(at))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, content_type))
        .mount(server)
        .await;
}

/// A site whose pages /a../d are linked from nowhere but its sitemaps: an index naming a plain
/// sitemap and a gzip one (served as a file, no Content-Encoding).
async fn site() -> MockServer {
    let server = MockServer::start().await;
    let uri = server.uri();
    let robots = format!("User-agent: *\nDisallow: /private/\nSitemap: {uri}/sitemap_index.xml\n");
    serve(&server, "/robots.txt", robots.into_bytes(), "text/plain").await;
    let index = format!(
        "<?xml version=\"1.0\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n\
         <sitemap><loc>{uri}/sm1.xml</loc></sitemap>\n<sitemap><loc>{uri}/sm2.xml.gz</loc></sitemap>\n\
         </sitemapindex>\n"
    );
    serve(
        &server,
        "/sitemap_index.xml",
        index.into_bytes(),
        "application/xml",
    )
    .await;
    let plain = urlset(&[
        format!("{uri}/a"),
        format!("{uri}/b"),
        format!("{uri}/private/p"),
        "http://elsewhere.invalid/x".to_owned(),
    ]);
    serve(&server, "/sm1.xml", plain.into_bytes(), "application/xml").await;
    let zipped = gzip(&urlset(&[format!("{uri}/c"), format!("{uri}/d")]));
    serve(&server, "/sm2.xml.gz", zipped, "application/x-gzip").await;
    html_page(&server, "/", "root", &[]).await;
    for p in ["/a", "/b", "/c", "/d", "/private/p"] {
        html_page(&server, p, p, &[]).await;
    }
    server
}

#[tokio::test]
async fn sitemaps_from_robots_txt_an_index_plain_and_gzip_seed_the_crawl() {
    let server = site().await;
    let cfg = Config {
        depth: 0,
        sitemaps: true,
        ..config()
    };
    let (rows, _) = crawl_all(cfg, &[format!("{}/", server.uri())]).await;
    let mut titles: Vec<String> = rows.iter().filter_map(|r| r.title.clone()).collect();
    titles.sort();
    assert_eq!(titles, ["/a", "/b", "/c", "/d", "root"], "{rows:?}");
    assert!(rows.iter().all(|r| r.depth == Some(0)));
    let requests = page_requests(&server).await;
    assert!(
        !requests.iter().any(|p| p.starts_with("/private/")),
        "{requests:?}"
    );
}

#[tokio::test]
async fn without_sitemaps_no_sitemap_is_read() {
    let server = site().await;
    let cfg = Config {
        depth: 0,
        ..config()
    };
    let (rows, _) = crawl_all(cfg, &[format!("{}/", server.uri())]).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(page_requests(&server).await, ["/"]);
}

#[tokio::test]
async fn sitemap_xml_is_read_without_sitemap_lines_and_stays_within_max_pages() {
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(path("/robots.txt"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let urls: Vec<String> = (0..50).map(|n| format!("{uri}/p/{n}")).collect();
    // Gzip as a Content-Encoding this time: the client undoes it.
    Mock::given(path("/sitemap.xml"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .set_body_raw(gzip(&urlset(&urls)), "application/xml"),
        )
        .mount(&server)
        .await;
    html_page(&server, "/", "root", &[]).await;
    for n in 0..50 {
        html_page(&server, &format!("/p/{n}"), "p", &[]).await;
    }
    let cfg = Config {
        depth: 0,
        max_pages: 4,
        sitemaps: true,
        ..config()
    };
    let (rows, _) = crawl_all(cfg, &[format!("{uri}/")]).await;
    assert_eq!(rows.len(), 4, "{rows:?}");
    let pages = page_requests(&server).await;
    let fetched = pages.iter().filter(|p| p.starts_with("/p/")).count();
    assert!(fetched <= 3, "{pages:?}");
}

#[test]
fn a_sitemap_keeps_at_most_max_locs_and_reads_gzip_by_its_magic() {
    let urls: Vec<String> = (0..10_000).map(|n| format!("http://h/{n}")).collect();
    let zipped = gzip(&urlset(&urls));
    let map = parse_sitemap(&zipped, 100);
    assert_eq!(map.urls.len(), 100);
    assert_eq!(map.urls[99], "http://h/99");
    let broken = parse_sitemap(
        b"<urlset><url><loc>http://h/1</loc></url><url><loc>http://h/",
        10,
    );
    assert_eq!(
        broken.urls,
        ["http://h/1"],
        "what came before the damage is kept"
    );
}

#[tokio::test]
async fn a_finished_crawl_with_sitemaps_run_again_requests_nothing() {
    let server = site().await;
    let dir = tempfile::tempdir().unwrap();
    let (state, output) = (dir.path().join("s"), dir.path().join("o.jsonl"));
    let seed = format!("{}/", server.uri());
    let args = [
        "crawl",
        &seed,
        "--depth",
        "0",
        "--sitemaps",
        "--quiet",
        "--state",
        state.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ];
    let out = common::run(common::scrape(&args)).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        common::json_lines(&std::fs::read(&output).unwrap()).len(),
        5
    );
    let before = server.received_requests().await.unwrap().len();
    let out = common::run(common::scrape(&args)).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), before);
    assert_eq!(
        common::json_lines(&std::fs::read(&output).unwrap()).len(),
        5
    );
}
