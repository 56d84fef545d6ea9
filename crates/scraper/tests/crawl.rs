//! Crawl: depth, page budget, dedupe (fragments and spellings), scope, redirects and row fields.

mod common;

use common::{config, crawl_all, html_page, page_requests};
use futurepool_scraper::{Config, ErrorKind};
use std::collections::HashSet;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn crawl_config(depth: u32, max_pages: u64) -> Config {
    Config {
        depth,
        max_pages,
        ignore_robots: true,
        ..config()
    }
}

#[tokio::test]
async fn depth_limits_how_far_links_are_followed() {
    let server = MockServer::start().await;
    html_page(&server, "/", "root", &["/d1"]).await;
    html_page(&server, "/d1", "one", &["/d2"]).await;
    html_page(&server, "/d2", "two", &["/d3"]).await;
    html_page(&server, "/d3", "three", &["/d4"]).await;
    let (rows, _) = crawl_all(crawl_config(2, 1000), &[format!("{}/", server.uri())]).await;
    let mut got: Vec<(String, u32)> = rows
        .iter()
        .map(|r| (r.title.clone().unwrap(), r.depth.unwrap()))
        .collect();
    got.sort_by_key(|(_, d)| *d);
    assert_eq!(
        got,
        [
            ("root".to_owned(), 0),
            ("one".to_owned(), 1),
            ("two".to_owned(), 2)
        ]
    );
    assert!(
        !page_requests(&server).await.contains(&"/d3".to_owned()),
        "depth 3 is never fetched"
    );
}

#[tokio::test]
async fn depth_zero_fetches_only_the_seeds() {
    let server = MockServer::start().await;
    html_page(&server, "/", "root", &["/a", "/b"]).await;
    let (rows, _) = crawl_all(crawl_config(0, 1000), &[format!("{}/", server.uri())]).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].links,
        Some(2),
        "links are counted even when not followed"
    );
    assert_eq!(page_requests(&server).await, ["/"]);
}

#[tokio::test]
async fn max_pages_caps_the_rows_and_the_requests() {
    let server = MockServer::start().await;
    let hrefs: Vec<String> = (0..30).map(|i| format!("/p/{i}")).collect();
    let refs: Vec<&str> = hrefs.iter().map(String::as_str).collect();
    html_page(&server, "/", "hub", &refs).await;
    for href in &hrefs {
        html_page(&server, href, href, &["/"]).await;
    }
    let (rows, _) = crawl_all(crawl_config(5, 7), &[format!("{}/", server.uri())]).await;
    assert_eq!(rows.len(), 7);
    assert_eq!(
        page_requests(&server).await.len(),
        7,
        "nothing beyond the budget is requested"
    );
}

#[tokio::test]
async fn every_url_is_fetched_once_whatever_its_spelling_or_fragment() {
    let server = MockServer::start().await;
    let base = server.uri();
    let abs_a = format!("{base}/a");
    let upper_host = format!("{}/b", base.replace("http://", "HTTP://"));
    html_page(
        &server,
        "/",
        "root",
        &[
            "/a",
            "/a#top",
            "./a",
            &abs_a,
            "/b",
            "b#x",
            &upper_host,
            "/c/../a",
            "/",
        ],
    )
    .await;
    html_page(&server, "/a", "a", &["/", "/b", "/a#again"]).await;
    html_page(&server, "/b", "b", &["/a", "/"]).await;
    let (rows, _) = crawl_all(
        crawl_config(4, 1000),
        &[format!("{base}/"), format!("{base}/#seed")],
    )
    .await;
    let urls: Vec<&str> = rows.iter().map(|r| r.url.as_str()).collect();
    let distinct: HashSet<&str> = urls.iter().copied().collect();
    assert_eq!(urls.len(), 3, "{urls:?}");
    assert_eq!(distinct.len(), 3);
    let mut requests = page_requests(&server).await;
    requests.sort();
    assert_eq!(requests, ["/", "/a", "/b"]);
    let root = rows.iter().find(|r| r.url == format!("{base}/")).unwrap();
    assert_eq!(root.links, Some(3), "distinct links: /, /a, /b");
}

#[tokio::test]
async fn crawl_stays_on_the_seeds_hosts() {
    let server = MockServer::start().await;
    let port = server.address().port();
    let other_host = format!("http://localhost:{port}/elsewhere");
    html_page(
        &server,
        "/",
        "root",
        &[
            &other_host,
            "http://example.invalid/",
            "mailto:a@b.c",
            "/in",
        ],
    )
    .await;
    html_page(&server, "/in", "in", &[]).await;
    html_page(&server, "/elsewhere", "elsewhere", &[]).await;
    let (rows, _) = crawl_all(crawl_config(3, 1000), &[format!("{}/", server.uri())]).await;
    let mut titles: Vec<String> = rows.iter().filter_map(|r| r.title.clone()).collect();
    titles.sort();
    assert_eq!(titles, ["in", "root"]);
    assert_eq!(
        rows.iter().find(|r| r.depth == Some(0)).unwrap().links,
        Some(3),
        "mailto is not a link"
    );
}

#[tokio::test]
async fn redirect_target_is_not_fetched_again() {
    let server = MockServer::start().await;
    html_page(&server, "/", "root", &["/old"]).await;
    Mock::given(path("/old"))
        .respond_with(ResponseTemplate::new(301).insert_header("location", "/new"))
        .mount(&server)
        .await;
    html_page(&server, "/new", "new", &["/new", "/old", "/"]).await;
    let (rows, _) = crawl_all(crawl_config(5, 1000), &[format!("{}/", server.uri())]).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    let old = rows.iter().find(|r| r.url.ends_with("/old")).unwrap();
    assert_eq!(old.final_url, Some(format!("{}/new", server.uri())));
    assert_eq!(old.title.as_deref(), Some("new"));
    let requests = page_requests(&server).await;
    assert_eq!(requests.iter().filter(|p| *p == "/new").count(), 1);
}

#[tokio::test]
async fn bad_seeds_give_rows_and_the_crawl_goes_on() {
    let server = MockServer::start().await;
    html_page(&server, "/", "root", &["/gone"]).await;
    Mock::given(path("/gone"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let seeds = [
        "ftp://x/".to_owned(),
        "nope".to_owned(),
        format!("{}/", server.uri()),
    ];
    let (rows, _) = crawl_all(crawl_config(2, 1000), &seeds).await;
    assert_eq!(rows.len(), 4);
    let kinds: Vec<Option<ErrorKind>> = rows.iter().map(|r| r.error_kind).collect();
    assert!(kinds.contains(&Some(ErrorKind::UnsupportedScheme)));
    assert!(kinds.contains(&Some(ErrorKind::InvalidUrl)));
    let gone = rows.iter().find(|r| r.url.ends_with("/gone")).unwrap();
    assert_eq!(
        (gone.status, gone.depth, gone.error.as_deref()),
        (Some(404), Some(1), None)
    );
    assert!(rows.iter().all(|r| r.depth.is_some() && r.links.is_some()));
}

#[tokio::test]
async fn non_html_pages_have_no_links_and_are_not_parsed() {
    let server = MockServer::start().await;
    html_page(&server, "/", "root", &["/data.json"]).await;
    Mock::given(path("/data.json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw("{\"a\": \"<a href='/x'>\"}", "application/json"),
        )
        .mount(&server)
        .await;
    let (rows, _) = crawl_all(crawl_config(3, 1000), &[format!("{}/", server.uri())]).await;
    assert_eq!(rows.len(), 2);
    let json = rows.iter().find(|r| r.url.ends_with(".json")).unwrap();
    assert_eq!((json.links, json.title.as_deref()), (Some(0), None));
}

/// A host whose pages hang must not take every pool slot: the other host's pages go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_host_does_not_starve_the_others() {
    use axum::extract::{Request, State};
    use axum::response::Html;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use tokio::sync::Notify;

    struct Gates {
        a_root_served: Notify,
        a_root_done: AtomicBool,
        b_served: AtomicUsize,
        release_a: Notify,
        a_released: AtomicBool,
    }
    async fn wait_for(flag: &AtomicBool, notify: &Notify) -> bool {
        tokio::time::timeout(std::time::Duration::from_secs(10), async {
            loop {
                let notified = notify.notified();
                if flag.load(Ordering::SeqCst) {
                    return;
                }
                notified.await;
            }
        })
        .await
        .is_ok()
    }
    let links = |prefix: &str| -> String {
        (0..20)
            .map(|i| format!("<a href=\"/{prefix}/{i}\">{i}</a>"))
            .collect()
    };
    let gates = Arc::new(Gates {
        a_root_served: Notify::new(),
        a_root_done: AtomicBool::new(false),
        b_served: AtomicUsize::new(0),
        release_a: Notify::new(),
        a_released: AtomicBool::new(false),
    });
    let a_links = links("a");
    let host_a = axum::Router::new()
        .fallback(move |State(g): State<Arc<Gates>>, req: Request| {
            let a_links = a_links.clone();
            async move {
                if req.uri().path() == "/" {
                    return (
                        axum::http::StatusCode::OK,
                        Html(format!("<title>A</title>{a_links}")),
                    );
                }
                // A's pages are being fetched, so they are queued ahead of B's.
                g.a_root_done.store(true, Ordering::SeqCst);
                g.a_root_served.notify_waiters();
                // Held until host B is done; 410 marks a page that had to give up waiting.
                if wait_for(&g.a_released, &g.release_a).await {
                    (
                        axum::http::StatusCode::OK,
                        Html("<title>a page</title>".to_owned()),
                    )
                } else {
                    (
                        axum::http::StatusCode::GONE,
                        Html("<title>starved</title>".to_owned()),
                    )
                }
            }
        })
        .with_state(Arc::clone(&gates));
    let b_links = links("b");
    let host_b = axum::Router::new()
        .fallback(move |State(g): State<Arc<Gates>>, req: Request| {
            let b_links = b_links.clone();
            async move {
                let body = if req.uri().path() == "/" {
                    // Answer once A's pages are being fetched, so B's links queue up behind them.
                    wait_for(&g.a_root_done, &g.a_root_served).await;
                    format!("<title>B</title>{b_links}")
                } else {
                    "<title>b page</title>".to_owned()
                };
                if g.b_served.fetch_add(1, Ordering::SeqCst) + 1 == 21 {
                    g.a_released.store(true, Ordering::SeqCst);
                    g.release_a.notify_waiters();
                }
                Html(body)
            }
        })
        .with_state(Arc::clone(&gates));
    let mut seeds = Vec::new();
    for app in [host_a, host_b] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        seeds.push(format!("http://{}/", listener.local_addr().unwrap()));
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    let cfg = Config {
        concurrency: 4,
        per_host: 2,
        retries: 0,
        ..crawl_config(1, 1000)
    };
    let (rows, _) = crawl_all(cfg, &seeds).await;
    assert_eq!(rows.len(), 42);
    let stuck: Vec<_> = rows.iter().filter(|r| r.status != Some(200)).collect();
    assert!(stuck.is_empty(), "host B waited behind host A: {stuck:?}");
}
