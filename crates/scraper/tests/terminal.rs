//! `scrape` on a terminal: run under `script` (a pseudo-terminal of 80 columns), with what it drew
//! read back as a screen.

mod common;

use common::html_page;
use std::time::Duration;
use wiremock::MockServer;

const COLS: u16 = 80;
const ROWS: u16 = 50;

/// Runs `scrape ARGS` on an 80-column pseudo-terminal and returns the screen it leaves.
async fn on_a_terminal(args: &[String]) -> vt100::Parser {
    let bin = assert_cmd::cargo::cargo_bin!("scrape");
    let mut line = format!("stty cols {COLS} rows {ROWS}; exec '{}'", bin.display());
    for arg in args {
        line.push_str(&format!(" '{arg}'"));
    }
    let mut cmd = assert_cmd::Command::new("script");
    cmd.args(["--quiet", "--return", "--command", &line, "/dev/null"]);
    let out = common::run(cmd).await;
    assert!(out.status.success(), "{out:?}");
    let size = |n: u16| std::num::NonZeroU16::new(n).unwrap();
    let mut screen = vt100::Parser::new(size(ROWS), size(COLS), 0);
    screen.process(&out.stdout);
    screen
}

/// A server with pages whose URLs and titles are longer than 80 columns.
async fn long_pages(server: &MockServer, count: usize) -> Vec<String> {
    let mut urls = Vec::new();
    for i in 0..count {
        let path = format!("/a-rather-long-path/with/several/levels/of/directories/page-{i}.html");
        let title = format!("Page {i}: a title long enough to need more than the rest of the line");
        html_page(server, &path, &title, &[]).await;
        urls.push(format!("{}{path}", server.uri()));
    }
    urls
}

fn lines(screen: &vt100::Parser) -> Vec<String> {
    let rows: Vec<String> = screen.screen().rows(0, COLS).collect();
    rows.into_iter().filter(|l| !l.trim().is_empty()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_table_header_is_the_first_line_with_no_stale_progress_bar_above() {
    // The progress bar's first frame raced the header: it lost about one run in six here, so
    // the run is repeated.
    let server = MockServer::start().await;
    let urls = long_pages(&server, 1).await;
    let args = vec!["fetch".to_owned(), urls[0].clone()];
    for run in 0..25 {
        let screen = tokio::time::timeout(Duration::from_secs(60), on_a_terminal(&args))
            .await
            .expect("scrape finished");
        let lines = lines(&screen);
        assert!(
            lines[0].trim_start().starts_with("STATUS"),
            "run {run}, first line: {:?}\nscreen:\n{}",
            lines[0],
            lines.join("\n")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_rows_fit_an_80_column_terminal() {
    let server = MockServer::start().await;
    let mut args = vec!["fetch".to_owned(), "--quiet".to_owned()];
    let urls = long_pages(&server, 4).await;
    args.extend(urls.iter().cloned());
    let screen = tokio::time::timeout(Duration::from_secs(60), on_a_terminal(&args))
        .await
        .expect("scrape finished");
    let text = lines(&screen);
    for row in 0..ROWS {
        assert!(
            !screen.screen().row_wrapped(row),
            "row {row} wrapped:\n{}",
            text.join("\n")
        );
    }
    assert_eq!(
        text.len(),
        1 + urls.len(),
        "a header and one line per URL:\n{}",
        text.join("\n")
    );
    for line in &text[1..] {
        assert!(
            line.contains('…'),
            "long values are cut with an ellipsis: {line:?}"
        );
        assert!(line.contains("Page "), "the title still shows: {line:?}");
    }
}
