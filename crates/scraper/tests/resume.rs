//! `crawl --state FILE`: a real `scrape` process killed with SIGKILL mid-crawl, then run again,
//! leaves one row per page and repeats at most `--concurrency` requests; a finished crawl run
//! again requests nothing; a file that is not a state file is refused and left as it was.

mod common;

use axum::extract::{Request, State};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};

/// Pages of the site: page i links to 2i+1 and 2i+2 (a binary tree, depth 7).
const PAGES: usize = 150;
const CONCURRENCY: usize = 4;

struct Site {
    requests: Mutex<HashMap<String, usize>>,
    served: AtomicUsize,
    /// Requests after the first `hold_after` wait for a permit.
    hold_after: usize,
    held: Notify,
    gate: Semaphore,
}

impl Site {
    fn counts(&self) -> HashMap<String, usize> {
        self.requests.lock().unwrap().clone()
    }
}

async fn serve(hold_after: usize) -> (String, Arc<Site>) {
    let site = Arc::new(Site {
        requests: Mutex::new(HashMap::new()),
        served: AtomicUsize::new(0),
        hold_after,
        held: Notify::new(),
        gate: Semaphore::new(0),
    });
    let app = axum::Router::new()
        .fallback(|State(site): State<Arc<Site>>, req: Request| async move {
            let path = req.uri().path().to_owned();
            if path == "/robots.txt" {
                return (
                    axum::http::StatusCode::NOT_FOUND,
                    axum::response::Html(String::new()),
                );
            }
            *site
                .requests
                .lock()
                .unwrap()
                .entry(path.clone())
                .or_default() += 1;
            if site.served.fetch_add(1, Ordering::SeqCst) >= site.hold_after {
                site.held.notify_one();
                let _ = site.gate.acquire().await.map(|p| p.forget());
            }
            let n: usize = path.trim_start_matches("/p/").parse().unwrap_or(0);
            let links: String = [2 * n + 1, 2 * n + 2]
                .iter()
                .filter(|&&k| k < PAGES)
                .map(|k| format!("<a href=\"/p/{k}\">{k}</a>"))
                .collect();
            let body = format!("<!doctype html><title>page {n}</title>{links}");
            (axum::http::StatusCode::OK, axum::response::Html(body))
        })
        .with_state(Arc::clone(&site));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), site)
}

fn crawl_args(base: &str, state: &Path, output: &Path) -> Vec<String> {
    [
        "crawl",
        &format!("{base}/p/0"),
        "--depth",
        "10",
        "--concurrency",
        &CONCURRENCY.to_string(),
        "--per-host",
        &CONCURRENCY.to_string(),
        "--quiet",
        "--state",
        state.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn all_pages(base: &str) -> BTreeSet<String> {
    (0..PAGES).map(|n| format!("{base}/p/{n}")).collect()
}

fn output_urls(output: &Path) -> Vec<String> {
    let text = std::fs::read(output).unwrap();
    common::json_lines(&text)
        .iter()
        .map(|row| row["url"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_killed_with_sigkill_resumes_with_one_row_per_page() {
    let (base, site) = serve(60).await;
    let dir = tempfile::tempdir().unwrap();
    let (state, output) = (
        dir.path().join("crawl.state"),
        dir.path().join("rows.jsonl"),
    );
    let args = crawl_args(&base, &state, &output);
    // Rows of some earlier run: a new crawl replaces them, as without --state.
    std::fs::write(&output, format!("{{\"url\":\"{base}/stale\"}}\n")).unwrap();

    // First run: killed once the server holds requests, mid-crawl.
    let bin = assert_cmd::cargo::cargo_bin!("scrape");
    let mut child = std::process::Command::new(bin).args(&args).spawn().unwrap();
    tokio::time::timeout(Duration::from_secs(60), site.held.notified())
        .await
        .expect("the crawl reached the held requests");
    child.kill().unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(!status.success());
    site.gate.add_permits(100_000);
    let before = output_urls(&output).len();
    assert!(before < PAGES, "killed mid-crawl: {before} rows");

    // A crash can tear the last record of either file: both are tolerated.
    let mut torn = std::fs::OpenOptions::new()
        .append(true)
        .open(&state)
        .unwrap();
    std::io::Write::write_all(&mut torn, b"{\"page\":{\"row\":{\"url\":\"http").unwrap();
    let mut torn = std::fs::OpenOptions::new()
        .append(true)
        .open(&output)
        .unwrap();
    std::io::Write::write_all(
        &mut torn,
        format!("{{\"url\":\"{base}/p/0\",\"fin").as_bytes(),
    )
    .unwrap();

    // Second run: completes the crawl.
    let out = common::run(common::scrape(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    ))
    .await;
    assert!(out.status.success(), "{out:?}");
    let urls = output_urls(&output);
    let distinct: BTreeSet<String> = urls.iter().cloned().collect();
    assert_eq!(urls.len(), distinct.len(), "one row per page: {urls:?}");
    assert_eq!(
        distinct,
        all_pages(&base),
        "the URLs of an uninterrupted crawl"
    );
    let counts = site.counts();
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.len() <= CONCURRENCY && counts.values().all(|n| *n <= 2),
        "requested twice: {twice:?}"
    );
    assert_eq!(counts.len(), PAGES);
    eprintln!(
        "killed after {before} rows; requested twice: {}",
        twice.len()
    );

    // Third run: the crawl is finished; nothing is requested, nothing written.
    let served = site.served.load(Ordering::SeqCst);
    let rows = std::fs::read(&output).unwrap();
    let out = common::run(common::scrape(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    ))
    .await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(site.served.load(Ordering::SeqCst), served, "no request");
    assert_eq!(std::fs::read(&output).unwrap(), rows);
}

#[tokio::test]
async fn a_file_that_is_not_a_state_file_is_refused_and_left_as_it_was() {
    let (base, site) = serve(usize::MAX).await;
    let dir = tempfile::tempdir().unwrap();
    let (state, output) = (dir.path().join("notes.txt"), dir.path().join("rows.jsonl"));
    let precious = b"my notes\nnot a journal\n\x00\xff";
    std::fs::write(&state, precious).unwrap();
    let args = crawl_args(&base, &state, &output);
    let out = common::run(common::scrape(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    ))
    .await;
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a scrape state file"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(std::fs::read(&state).unwrap(), precious);
    assert_eq!(site.served.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_state_of_another_crawl_and_a_state_without_output_are_usage_errors() {
    let (base, _site) = serve(usize::MAX).await;
    let dir = tempfile::tempdir().unwrap();
    let (state, output) = (
        dir.path().join("crawl.state"),
        dir.path().join("rows.jsonl"),
    );
    let mut args = crawl_args(&base, &state, &output);
    let out = common::run(common::scrape(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    ))
    .await;
    assert!(out.status.success(), "{out:?}");
    let kept = std::fs::read(&state).unwrap();
    args[3] = "3".into(); // --depth
    let out = common::run(common::scrape(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    ))
    .await;
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("another crawl"));
    assert_eq!(std::fs::read(&state).unwrap(), kept);
    let out = common::run(common::scrape(&[
        "crawl",
        &format!("{base}/"),
        "--state",
        state.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--output"));
}

#[tokio::test]
async fn a_csv_output_is_restored_from_the_journal_and_its_torn_line_cut() {
    let (base, site) = serve(usize::MAX).await;
    let dir = tempfile::tempdir().unwrap();
    let (state, output) = (dir.path().join("crawl.state"), dir.path().join("rows.csv"));
    let mut args = crawl_args(&base, &state, &output);
    args.extend(["--format".to_owned(), "csv".to_owned()]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = common::run(common::scrape(&argv)).await;
    assert!(out.status.success(), "{out:?}");
    // As if the process died between journaling the last two rows and writing them, in the
    // middle of writing the first of them.
    let text = std::fs::read_to_string(&output).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), PAGES + 1);
    let mut cut = lines[..lines.len() - 2].join("\n");
    cut.push('\n');
    cut.push_str(&lines[lines.len() - 2][..20]);
    std::fs::write(&output, cut).unwrap();
    let served = site.served.load(Ordering::SeqCst);
    let out = common::run(common::scrape(&argv)).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(site.served.load(Ordering::SeqCst), served, "no request");
    let text = std::fs::read_to_string(&output).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(&reader.headers().unwrap()[0], "url");
    let urls: Vec<String> = reader.records().map(|r| r.unwrap()[0].to_owned()).collect();
    let distinct: BTreeSet<String> = urls.iter().cloned().collect();
    assert_eq!(urls.len(), PAGES, "{text}");
    assert_eq!(distinct, all_pages(&base));
}
