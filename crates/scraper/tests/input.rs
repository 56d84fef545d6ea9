//! URL input: arguments, files, stdin, comments and blank lines, duplicates, empty input.

mod common;

use common::{config, fetch_all, json_lines, run, scrape_fast};
use std::io::Write;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn server_with(paths: &[&str]) -> MockServer {
    let server = MockServer::start().await;
    for p in paths {
        Mock::given(path(*p))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
    }
    server
}

fn urls_of(rows: &[serde_json::Map<String, serde_json::Value>]) -> Vec<String> {
    let mut urls: Vec<String> = rows
        .iter()
        .map(|r| r["url"].as_str().unwrap().to_owned())
        .collect();
    urls.sort();
    urls
}

#[tokio::test]
async fn duplicate_urls_are_fetched_once() {
    let server = server_with(&["/a", "/b"]).await;
    let a = format!("{}/a", server.uri());
    let b = format!("{}/b", server.uri());
    let rows = fetch_all(
        config(),
        &[a.clone(), b.clone(), a.clone(), a.clone(), b.clone()],
    )
    .await;
    assert_eq!(rows.len(), 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn empty_input_gives_no_rows() {
    let rows = fetch_all(config(), &[]).await;
    assert!(rows.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_input_skips_comments_and_blank_lines_and_dedupes() {
    let server = server_with(&["/1", "/2", "/3"]).await;
    let base = server.uri();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(
        file,
        "# URLs to check\n\n{base}/1\n   {base}/2   \r\n\t\n# {base}/commented-out\n{base}/1\n{base}/3"
    )
    .unwrap();
    let out = run(scrape_fast(&[
        "fetch",
        "--input",
        file.path().to_str().unwrap(),
        &format!("{base}/2"),
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0));
    let rows = json_lines(&out.stdout);
    assert_eq!(
        urls_of(&rows),
        [
            format!("{base}/1"),
            format!("{base}/2"),
            format!("{base}/3")
        ]
    );
    let mut requested: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    requested.sort();
    assert_eq!(requested, ["/1", "/2", "/3"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_input_with_a_dash() {
    let server = server_with(&["/x", "/y"]).await;
    let base = server.uri();
    let mut cmd = scrape_fast(&["fetch", "--input", "-"]);
    cmd.write_stdin(format!("{base}/x\n\n{base}/y\n{base}/x\nnot a url\n"));
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0));
    let rows = json_lines(&out.stdout);
    assert_eq!(
        urls_of(&rows),
        [
            format!("{base}/x"),
            format!("{base}/y"),
            "not a url".to_owned()
        ]
    );
    let bad = rows.iter().find(|r| r["url"] == "not a url").unwrap();
    assert!(bad["error"].as_str().unwrap().starts_with("invalid url"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_stdin_and_empty_file_complete_with_no_rows() {
    let mut cmd = scrape_fast(&["fetch", "--input", "-"]);
    cmd.write_stdin("");
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());

    let file = tempfile::NamedTempFile::new().unwrap();
    let out = run(scrape_fast(&[
        "fetch",
        "--input",
        file.path().to_str().unwrap(),
        "--format",
        "csv",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "url,final_url,status,bytes,elapsed_ms,attempts,error,content_type,title\n",
        "csv of no rows is its header"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_utf8_input_lines_do_not_stop_the_run() {
    let server = server_with(&["/ok"]).await;
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"http://\xff\xfe.example/\n").unwrap();
    writeln!(file, "{}/ok", server.uri()).unwrap();
    let out = run(scrape_fast(&[
        "fetch",
        "--input",
        file.path().to_str().unwrap(),
        "--retries",
        "0",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0));
    let rows = json_lines(&out.stdout);
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().any(|r| r["status"] == 200));
}

#[tokio::test]
async fn long_input_is_read_lazily() {
    // An endless iterator of URLs: taking the first rows must not try to read it all.
    let server = server_with(&[]).await;
    Mock::given(wiremock::matchers::method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let base = server.uri();
    let scraper = futurepool_scraper::Scraper::new(config()).unwrap();
    let endless = (0u64..).map(move |i| format!("{base}/{i}"));
    let rows = futures::StreamExt::take(scraper.fetch(endless).unwrap(), 50);
    let rows: Vec<_> = futures::StreamExt::collect(rows).await;
    assert_eq!(rows.len(), 50);
    assert!(server.received_requests().await.unwrap().len() < 200);
}
