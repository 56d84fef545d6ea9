//! `crawl --state FILE` on a state or output file that was not written by this crawl: more
//! pages, URLs or rows than `--max-pages` allows is a usage error that leaves both files as they
//! were and requests nothing, instead of a journal read whole into memory and replayed into an
//! unbounded queue.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::net::TcpListener;

/// A site whose page i links to pages 2i+1 and 2i+2 (up to 100), counting the requests.
async fn serve() -> (String, Arc<AtomicUsize>) {
    let served = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&served);
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let count = Arc::clone(&count);
        async move {
            if uri.path() == "/robots.txt" {
                return (
                    axum::http::StatusCode::NOT_FOUND,
                    axum::response::Html(String::new()),
                );
            }
            count.fetch_add(1, Ordering::SeqCst);
            let n: usize = uri.path().trim_start_matches("/p/").parse().unwrap_or(0);
            let links: String = [2 * n + 1, 2 * n + 2]
                .iter()
                .filter(|&&k| k < 100)
                .map(|k| format!("<a href=\"/p/{k}\">{k}</a>"))
                .collect();
            (
                axum::http::StatusCode::OK,
                axum::response::Html(format!("<title>{n}</title>{links}")),
            )
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), served)
}

async fn crawl(base: &str, state: &Path, output: &Path, max_pages: u64) -> std::process::Output {
    let args = [
        "crawl".to_owned(),
        format!("{base}/p/0"),
        "--depth".into(),
        "10".into(),
        "--max-pages".into(),
        max_pages.to_string(),
        "--quiet".into(),
        "--state".into(),
        state.to_str().unwrap().into(),
        "--output".into(),
        output.to_str().unwrap().into(),
    ];
    common::run(common::scrape(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    ))
    .await
}

/// Runs the crawl again on files changed by `forge`, and checks it is refused with a message
/// holding `says`, the files untouched and nothing requested.
async fn refused_after(
    max_pages: u64,
    resume_with: u64,
    says: &str,
    forge: impl FnOnce(&Path, &Path),
) {
    let (base, served) = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let (state, output) = (
        dir.path().join("crawl.state"),
        dir.path().join("rows.jsonl"),
    );
    let out = crawl(&base, &state, &output, max_pages).await;
    assert!(out.status.success(), "{out:?}");
    forge(&state, &output);
    let (kept_state, kept_output) = (
        std::fs::read(&state).unwrap(),
        std::fs::read(&output).unwrap(),
    );
    let before = served.load(Ordering::SeqCst);
    let out = crawl(&base, &state, &output, resume_with).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(err.contains(says), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(
        served.load(Ordering::SeqCst),
        before,
        "nothing is requested"
    );
    assert!(
        std::fs::read(&state).unwrap() == kept_state,
        "the state file is left as it was"
    );
    assert!(
        std::fs::read(&output).unwrap() == kept_output,
        "the output is left as it was"
    );
}

#[tokio::test]
async fn a_journal_of_more_pages_than_max_pages_is_refused() {
    refused_after(20, 10, "more than a crawl of --max-pages 10", |_, _| {}).await;
}

#[tokio::test]
async fn a_forged_page_record_cannot_queue_more_urls_than_max_pages() {
    refused_after(5, 5, "more than a crawl of --max-pages 5", |state, _| {
        let links: Vec<String> = (0..100_000)
            .map(|i| format!("http://x.invalid/{i}"))
            .collect();
        let text = std::fs::read_to_string(state).unwrap();
        let mut record: serde_json::Value =
            serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
        record["page"]["row"]["url"] = "http://x.invalid/".into();
        record["page"]["links"] = links.into();
        let mut text = std::fs::read_to_string(state).unwrap();
        text.push_str(&format!("{record}\n"));
        std::fs::write(state, text).unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_forged_flood_of_blocked_records_is_refused_at_the_first_beyond_the_budget() {
    refused_after(5, 5, "more than a crawl of --max-pages 5", |state, _| {
        let mut text = std::fs::read_to_string(state).unwrap();
        for i in 0..10_000 {
            text.push_str(&format!(
                "{{\"blocked\":{{\"url\":\"http://x.invalid/{i}\"}}}}\n"
            ));
        }
        std::fs::write(state, text).unwrap();
    })
    .await;
}

#[tokio::test]
async fn an_output_of_more_rows_than_max_pages_is_refused() {
    refused_after(
        5,
        5,
        "more rows than a crawl of --max-pages 5",
        |_, output| {
            let mut text = std::fs::read_to_string(output).unwrap();
            for i in 0..50 {
                text.push_str(&format!("{{\"url\":\"http://x.invalid/{i}\"}}\n"));
            }
            std::fs::write(output, text).unwrap();
        },
    )
    .await;
}

#[tokio::test]
async fn a_journal_line_longer_than_any_record_is_damage() {
    refused_after(5, 5, "is damaged at line 7", |state, _| {
        let mut text = std::fs::read_to_string(state).unwrap();
        assert_eq!(text.lines().count(), 6, "{text}");
        text.push_str(&format!(
            "{{\"blocked\":{{\"url\":\"{}\"}}}}\n",
            "x".repeat(300 << 20)
        ));
        std::fs::write(state, text).unwrap();
    })
    .await;
}
