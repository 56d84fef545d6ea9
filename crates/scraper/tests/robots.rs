//! robots.txt: fetched once per host, Disallow obeyed, Crawl-delay spacing, --ignore-robots.

mod common;

use common::{config, crawl_all, html_page, page_requests, robots_txt};
use futurepool_scraper::Config;
use std::time::{Duration, Instant};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn site_with_private_pages() -> MockServer {
    let server = MockServer::start().await;
    html_page(
        &server,
        "/",
        "root",
        &["/public", "/private/a", "/private/b"],
    )
    .await;
    html_page(&server, "/public", "public", &["/private/c"]).await;
    for p in ["/private/a", "/private/b", "/private/c"] {
        html_page(&server, p, p, &[]).await;
    }
    server
}

#[tokio::test]
async fn disallowed_paths_are_never_requested() {
    let server = site_with_private_pages().await;
    robots_txt(&server, "User-agent: *\nDisallow: /private/\n", 1).await;
    let (rows, blocked) = crawl_all(
        Config {
            depth: 3,
            ..config()
        },
        &[format!("{}/", server.uri())],
    )
    .await;
    let mut titles: Vec<String> = rows.iter().filter_map(|r| r.title.clone()).collect();
    titles.sort();
    assert_eq!(titles, ["public", "root"]);
    assert_eq!(blocked, 3);
    assert!(
        page_requests(&server)
            .await
            .iter()
            .all(|p| !p.starts_with("/private/"))
    );
    // `expect(1)` on robots.txt is checked when the server drops.
}

#[tokio::test]
async fn ignore_robots_fetches_everything_and_never_asks_for_robots_txt() {
    let server = site_with_private_pages().await;
    robots_txt(&server, "User-agent: *\nDisallow: /\n", 0).await;
    let cfg = Config {
        depth: 3,
        ignore_robots: true,
        ..config()
    };
    let (rows, blocked) = crawl_all(cfg, &[format!("{}/", server.uri())]).await;
    assert_eq!(rows.len(), 5);
    assert_eq!(blocked, 0);
}

#[tokio::test]
async fn rules_for_our_agent_apply() {
    let server = site_with_private_pages().await;
    robots_txt(
        &server,
        "User-agent: otherbot\nDisallow: /\n\nUser-agent: mybot\nDisallow: /public\n",
        1,
    )
    .await;
    let cfg = Config {
        depth: 3,
        user_agent: "mybot/2.0 (+http://example.com)".into(),
        ..config()
    };
    let (rows, blocked) = crawl_all(cfg, &[format!("{}/", server.uri())]).await;
    let mut titles: Vec<String> = rows.iter().filter_map(|r| r.title.clone()).collect();
    titles.sort();
    assert_eq!(titles, ["/private/a", "/private/b", "root"]);
    assert_eq!(blocked, 1);
    let agents: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            r.headers
                .get("user-agent")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        agents
            .iter()
            .all(|a| a == "mybot/2.0 (+http://example.com)"),
        "{agents:?}"
    );
}

#[tokio::test]
async fn a_disallowed_seed_gives_no_row() {
    let server = site_with_private_pages().await;
    robots_txt(&server, "User-agent: *\nDisallow: /\n", 1).await;
    let (rows, blocked) = crawl_all(config(), &[format!("{}/", server.uri())]).await;
    assert!(rows.is_empty());
    assert_eq!(blocked, 1);
    assert!(page_requests(&server).await.is_empty());
}

#[tokio::test]
async fn missing_robots_txt_allows_everything() {
    let server = site_with_private_pages().await;
    Mock::given(path("/robots.txt"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let (rows, _) = crawl_all(
        Config {
            depth: 3,
            ..config()
        },
        &[format!("{}/", server.uri())],
    )
    .await;
    assert_eq!(rows.len(), 5);
}

#[tokio::test]
async fn robots_txt_is_fetched_once_per_host_under_concurrency() {
    let server = MockServer::start().await;
    let hrefs: Vec<String> = (0..40).map(|i| format!("/p/{i}")).collect();
    let refs: Vec<&str> = hrefs.iter().map(String::as_str).collect();
    html_page(&server, "/", "hub", &refs).await;
    for href in &hrefs {
        html_page(&server, href, href, &refs).await;
    }
    robots_txt(&server, "User-agent: *\nAllow: /\n", 1).await;
    let other = MockServer::start().await;
    html_page(&other, "/", "other", &[]).await;
    robots_txt(&other, "User-agent: *\nAllow: /\n", 1).await;
    let cfg = Config {
        depth: 2,
        concurrency: 16,
        per_host: 16,
        ..config()
    };
    let (rows, _) = crawl_all(
        cfg,
        &[format!("{}/", server.uri()), format!("{}/", other.uri())],
    )
    .await;
    assert_eq!(rows.len(), 42);
}

#[tokio::test]
async fn crawl_delay_spaces_requests_to_a_host() {
    let server = MockServer::start().await;
    html_page(&server, "/", "root", &["/a", "/b", "/c"]).await;
    for p in ["/a", "/b", "/c"] {
        html_page(&server, p, p, &[]).await;
    }
    robots_txt(&server, "User-agent: *\nCrawl-delay: 0.2\n", 1).await;
    let started = Instant::now();
    let cfg = Config {
        per_host: 8,
        ..config()
    };
    let (rows, _) = crawl_all(cfg, &[format!("{}/", server.uri())]).await;
    assert_eq!(rows.len(), 4);
    // Four page requests with 0.2 s between starts cannot finish sooner than 0.6 s.
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "took {:?}",
        started.elapsed()
    );
}
