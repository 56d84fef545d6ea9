//! Hostile sites: robots.txt that fails, redirects into disallowed paths, titles that carry
//! escape sequences, endless input lines and an `--output` that is a symlink.

mod common;

use common::{config, crawl_all, html_page, page_requests, robots_txt, run, scrape, scrape_fast};
use futurepool_scraper::Config;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn deep() -> Config {
    Config {
        depth: 3,
        retries: 0,
        ..config()
    }
}

#[tokio::test]
async fn robots_txt_answering_5xx_disallows_the_whole_host() {
    let server = MockServer::start().await;
    html_page(&server, "/", "root", &["/a"]).await;
    html_page(&server, "/a", "a", &[]).await;
    Mock::given(path("/robots.txt"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let (rows, blocked) = crawl_all(deep(), &[format!("{}/", server.uri())]).await;
    assert!(rows.is_empty(), "{rows:?}");
    assert_eq!(blocked, 1);
    assert!(page_requests(&server).await.is_empty());
}

#[tokio::test]
async fn unfetchable_robots_txt_disallows_the_whole_host() {
    // Every connection is reset: robots.txt cannot be fetched, so the seed is never requested.
    let server = common::RawServer::start(common::Behaviour::Reset).await;
    let (rows, blocked) = crawl_all(deep(), &[server.url("/")]).await;
    assert!(rows.is_empty(), "{rows:?}");
    assert_eq!(blocked, 1);
    assert_eq!(
        server.connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "only robots.txt was asked for"
    );
}

#[tokio::test]
async fn robots_txt_answering_4xx_allows_all() {
    let server = MockServer::start().await;
    html_page(&server, "/", "root", &["/a"]).await;
    html_page(&server, "/a", "a", &[]).await;
    Mock::given(path("/robots.txt"))
        .respond_with(ResponseTemplate::new(403))
        .mount(&server)
        .await;
    let (rows, _) = crawl_all(deep(), &[format!("{}/", server.uri())]).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
}

#[tokio::test]
async fn a_redirect_into_a_disallowed_path_is_not_followed() {
    let server = MockServer::start().await;
    robots_txt(&server, "User-agent: *\nDisallow: /private/\n", 1).await;
    html_page(&server, "/", "root", &["/go"]).await;
    Mock::given(path("/go"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/private/x"))
        .mount(&server)
        .await;
    html_page(&server, "/private/x", "secret", &[]).await;
    let (rows, blocked) = crawl_all(deep(), &[format!("{}/", server.uri())]).await;
    assert_eq!(
        page_requests(&server).await,
        ["/", "/go"],
        "the target was not requested"
    );
    let go = rows.iter().find(|r| r.url.ends_with("/go")).unwrap();
    assert_eq!(go.status, Some(302), "{go:?}");
    assert_eq!(go.final_url, Some(format!("{}/go", server.uri())));
    assert_eq!(go.title, None);
    assert_eq!(blocked, 1);
}

#[tokio::test]
async fn a_redirect_to_another_host_obeys_that_hosts_robots_txt() {
    let other = MockServer::start().await;
    robots_txt(&other, "User-agent: *\nDisallow: /\n", 1).await;
    html_page(&other, "/page", "other", &[]).await;
    let server = MockServer::start().await;
    robots_txt(&server, "User-agent: *\nAllow: /\n", 1).await;
    html_page(&server, "/", "root", &["/away"]).await;
    Mock::given(path("/away"))
        .respond_with(
            ResponseTemplate::new(301).insert_header("location", format!("{}/page", other.uri())),
        )
        .mount(&server)
        .await;
    let (rows, _) = crawl_all(deep(), &[format!("{}/", server.uri())]).await;
    assert!(page_requests(&other).await.is_empty());
    let away = rows.iter().find(|r| r.url.ends_with("/away")).unwrap();
    assert_eq!(away.status, Some(301));
}

#[tokio::test]
async fn a_fetch_still_follows_redirects_and_a_crawl_follows_allowed_ones() {
    let server = MockServer::start().await;
    robots_txt(&server, "User-agent: *\nDisallow: /private/\n", 1).await;
    html_page(&server, "/", "root", &["/go"]).await;
    Mock::given(path("/go"))
        .respond_with(ResponseTemplate::new(307).insert_header("location", "/public"))
        .mount(&server)
        .await;
    html_page(&server, "/public", "public", &[]).await;
    let (rows, _) = crawl_all(deep(), &[format!("{}/", server.uri())]).await;
    let go = rows.iter().find(|r| r.url.ends_with("/go")).unwrap();
    assert_eq!(
        (go.status, go.title.as_deref(), go.attempts),
        (Some(200), Some("public"), 1)
    );
    assert_eq!(go.final_url, Some(format!("{}/public", server.uri())));
}

#[tokio::test]
async fn titles_in_table_output_carry_no_escape_sequences_or_bidi_overrides() {
    let server = MockServer::start().await;
    let title =
        "a&#27;[31mred&#27;]0;owned&#7;b \u{202e}evil\u{202c} \u{2066}iso\u{2069} &#x9b;2J c";
    html_page(&server, "/", title, &[]).await;
    let url = format!("{}/", server.uri());
    let out = run(scrape_fast(&["fetch", &url, "--format", "table"])).await;
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)
        })
        .collect();
    assert!(bad.is_empty(), "{bad:?} reached the output: {text:?}");
    assert!(text.contains("red"), "the text stays: {text}");
}

#[tokio::test]
async fn an_endless_input_line_is_a_row_with_an_error_and_reading_goes_on() {
    let server = MockServer::start().await;
    html_page(&server, "/", "root", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("urls.txt");
    let mut text = format!("{}/", server.uri());
    text.push_str(&"x".repeat(4 << 20));
    text.push('\n');
    text.push_str(&format!("{}/\n", server.uri()));
    std::fs::write(&input, text).unwrap();
    let out = run(scrape_fast(&["fetch", "--input", input.to_str().unwrap()])).await;
    assert!(out.status.success(), "{out:?}");
    let rows = common::json_lines(&out.stdout);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let long = rows.iter().find(|r| r["status"].is_null()).unwrap();
    assert!(
        long["url"].as_str().unwrap().len() < 1024,
        "the row does not repeat the line"
    );
    assert!(
        long["error"].as_str().unwrap().contains("longer than"),
        "{long:?}"
    );
    assert!(rows.iter().any(|r| r["status"] == 200));
}

#[tokio::test]
async fn output_that_is_a_symlink_is_refused_and_its_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("precious.txt");
    std::fs::write(&target, "keep me\n").unwrap();
    let link = dir.path().join("out.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = run(scrape(&[
        "fetch",
        "http://127.0.0.1:9/",
        "--output",
        link.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("symlink"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me\n");
}
