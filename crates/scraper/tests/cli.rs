//! End-to-end runs of the `scrape` binary: help, usage errors, exit codes, demo, Ctrl-C.

mod common;

use common::{Behaviour, RawServer, html_page, json_lines, run, scrape, scrape_fast};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use wiremock::MockServer;

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn help_explains_every_option_with_its_default() {
    let out = scrape(&["fetch", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for (option, default) in [
        ("--concurrency <N>", Some("[default: 32]")),
        ("--per-host <N>", Some("[default: 8]")),
        ("--timeout <SECS>", Some("[default: 30]")),
        ("--retries <N>", Some("[default: 2]")),
        ("--max-bytes <N>", Some("[default: 10485760]")),
        (
            "--user-agent <S>",
            Some(concat!(
                "[default: \"futurepool-scraper/",
                env!("CARGO_PKG_VERSION")
            )),
        ),
        (
            "--format <FORMAT>",
            Some("[default: table when stdout is a terminal, jsonl otherwise]"),
        ),
        ("--output <FILE>", None),
        ("--quiet", None),
        ("--input <FILE|->", None),
    ] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
        if let Some(default) = default {
            assert!(help.contains(default), "{default} missing from:\n{help}");
        }
    }
    assert!(
        !help.contains("--backoff-ms"),
        "the test-only option stays hidden"
    );
    let crawl = String::from_utf8(scrape(&["crawl", "--help"]).output().unwrap().stdout).unwrap();
    for text in [
        "--depth <N>",
        "[default: 2]",
        "--max-pages <N>",
        "[default: 1000]",
        "--ignore-robots",
    ] {
        assert!(crawl.contains(text), "{text} missing from:\n{crawl}");
    }
    let top = String::from_utf8(scrape(&["--help"]).output().unwrap().stdout).unwrap();
    for text in ["fetch", "crawl", "demo"] {
        assert!(top.contains(text));
    }
}

#[test]
fn bad_option_values_are_one_line_usage_errors() {
    let cases: &[&[&str]] = &[
        &["fetch", "--concurrency", "many", "http://127.0.0.1:1/"],
        &["fetch", "--concurrency", "0", "http://127.0.0.1:1/"],
        &["fetch", "--per-host", "-3", "http://127.0.0.1:1/"],
        &["fetch", "--timeout", "0", "http://127.0.0.1:1/"],
        &["fetch", "--timeout", "soon", "http://127.0.0.1:1/"],
        &["fetch", "--retries", "x", "http://127.0.0.1:1/"],
        &["fetch", "--max-bytes", "0", "http://127.0.0.1:1/"],
        &["fetch", "--format", "xml", "http://127.0.0.1:1/"],
        &["fetch", "--no-such-option", "http://127.0.0.1:1/"],
        &["crawl", "--depth", "-1", "http://127.0.0.1:1/"],
        &["crawl", "--max-pages", "0", "http://127.0.0.1:1/"],
        &["crawl"],
        &["fetch"],
        &["unknown-command"],
    ];
    for args in cases {
        let out = scrape(args).output().unwrap();
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(
            err.lines().count(),
            1,
            "{args:?}: one line expected, got:\n{err}"
        );
        assert!(err.starts_with("scrape: "), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn unreadable_input_file_is_a_usage_error() {
    let out = scrape(&["fetch", "--input", "/no/such/file.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert_eq!(err.lines().count(), 1);
    assert!(err.contains("/no/such/file.txt"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let out = scrape(&["fetch", "--input", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("directory"));
}

#[test]
fn a_run_with_only_failing_urls_still_exits_zero() {
    let out = scrape_fast(&[
        "fetch",
        "--retries",
        "0",
        "ftp://x/",
        "http://no-such-host.invalid/",
        "::",
    ])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let rows = json_lines(&out.stdout);
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r["status"].is_null() && r["error"].is_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_runs_end_to_end() {
    let server = MockServer::start().await;
    common::robots_txt(&server, "User-agent: *\nDisallow: /secret\n", 1).await;
    html_page(&server, "/", "root", &["/a", "/secret"]).await;
    html_page(&server, "/a", "a", &["/"]).await;
    let out = run(scrape_fast(&[
        "crawl",
        &format!("{}/", server.uri()),
        "--depth",
        "3",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let rows = json_lines(&out.stdout);
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r["depth"].is_u64() && r["links"].is_u64())
    );
    assert!(
        out.stderr.is_empty(),
        "no progress or summary when stderr is not a terminal"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serves_and_crawls_its_site_and_summarises() {
    let out = run(scrape(&["demo", "--pages", "25"])).await;
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let rows = json_lines(&out.stdout);
    // 25 pages, the home page and the slow/missing/broken pages they link to.
    assert!(rows.len() > 25, "{} rows", rows.len());
    let titles: Vec<&str> = rows.iter().filter_map(|r| r["title"].as_str()).collect();
    for n in 1..=25 {
        let title = format!("Demo page {n}");
        assert!(titles.contains(&title.as_str()), "{title} not crawled");
    }
    assert!(rows.iter().any(|r| r["status"] == 404));
    assert!(
        rows.iter()
            .any(|r| r["status"] == 500 && r["attempts"] == 3)
    );
    assert!(
        rows.iter()
            .any(|r| r["url"].as_str().unwrap().ends_with("/old-home")
                && r["final_url"].as_str().unwrap().ends_with('/'))
    );
    assert!(
        rows.iter()
            .all(|r| !r["url"].as_str().unwrap().contains("/private/"))
    );
    // The summary is printed even though stderr is not a terminal.
    assert!(err.contains(" pages in "), "{err}");
    assert!(err.contains("pages/s"), "{err}");
    assert!(err.contains("disallowed by robots.txt"), "{err}");
    assert!(err.contains("/private/ requested 0 times"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_quiet_prints_no_summary() {
    let out = run(scrape(&[
        "demo", "--pages", "5", "--quiet", "--format", "csv",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "{}", stderr_of(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("url,final_url,status,"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_cleanly_and_keeps_finished_rows() {
    let fast = MockServer::start().await;
    html_page(&fast, "/done", "done", &[]).await;
    let silent = RawServer::start(Behaviour::Silent).await;
    let bin = assert_cmd::cargo::cargo_bin!("scrape");
    let mut child = std::process::Command::new(bin)
        .args([
            "fetch",
            &silent.url("/never"),
            &format!("{}/done", fast.uri()),
            "--timeout",
            "600",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (first, rest, status) = tokio::task::spawn_blocking(move || {
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        // The finished row is out and the other request is in flight: interrupt now.
        let killed = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
        (first, rest, child.wait().unwrap())
    })
    .await
    .unwrap();
    assert!(first.contains("\"title\":\"done\""), "{first}");
    assert_eq!(rest, "", "the unfinished request gives no row");
    assert_eq!(status.code(), Some(130));
}
