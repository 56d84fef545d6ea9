//! Reliability under faults: 10,000 URLs on a loopback server that fails one request in ten, in
//! every way the contract lists, and `scrape fetch` still writes exactly one right row per URL
//! and exits 0, within a time bound.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const URLS: usize = 10_000;
/// Largest body read (`--max-bytes`); the `big` pages are twice as large.
const MAX_BYTES: usize = 64 * 1024;
/// Whole-request limit (`--timeout`): the silent and trickling pages outlast it.
const TIMEOUT: &str = "3";
/// Longest the whole run may take before the test fails.
const TIME_BOUND: Duration = Duration::from_secs(120);

/// The ways a request goes wrong (one in ten), named by the path prefix the server obeys.
const FAULTS: [&str; 8] = [
    "reset",   // headers and half the body, then a reset
    "silent",  // never answers
    "trickle", // headers, then a byte every 100 ms past the timeout
    "503",     // a server error without Retry-After
    "503-ra",  // a server error with Retry-After: 1
    "loop",    // redirects to itself
    "big",     // a body larger than --max-bytes
    "refused", // a port nothing listens on
];

/// The path of URL number `i`: every tenth is a fault, the kinds taking turns.
fn path_of(i: usize) -> String {
    if i.is_multiple_of(10) {
        format!("/{}/{i}", FAULTS[(i / 10) % FAULTS.len()])
    } else {
        format!("/ok/{i}")
    }
}

async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            return head.split_whitespace().nth(1).map(str::to_owned);
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Answers requests on one keep-alive connection until a fault ends it.
async fn serve(mut stream: TcpStream) {
    let mut buf = Vec::new();
    while let Some(path) = read_head(&mut stream, &mut buf).await {
        let kind = path.split('/').nth(1).unwrap_or("").to_owned();
        let html = |title: &str, filler: usize| {
            format!(
                "<!doctype html><title>{title}</title><p>{}</p>",
                "x".repeat(filler)
            )
        };
        let respond = |status: &str, extra: &str, body: &str| {
            format!(
                "HTTP/1.1 {status}\r\ncontent-type: text/html\r\ncontent-length: {}\r\n{extra}\r\n{body}",
                body.len()
            )
        };
        let ok = match kind.as_str() {
            "ok" => {
                let body = html(&format!("page {path}"), 2000);
                stream
                    .write_all(respond("200 OK", "", &body).as_bytes())
                    .await
                    .is_ok()
            }
            "503" => stream
                .write_all(respond("503 Service Unavailable", "", "").as_bytes())
                .await
                .is_ok(),
            "503-ra" => {
                let answer = respond("503 Service Unavailable", "retry-after: 1\r\n", "");
                stream.write_all(answer.as_bytes()).await.is_ok()
            }
            "loop" => {
                let answer = respond("302 Found", &format!("location: {path}\r\n"), "");
                stream.write_all(answer.as_bytes()).await.is_ok()
            }
            "big" => {
                let body = html("big", 2 * MAX_BYTES);
                stream
                    .write_all(respond("200 OK", "", &body).as_bytes())
                    .await
                    .is_ok()
            }
            "reset" => {
                let body = html("reset", 8000);
                let answer = respond("200 OK", "", &body);
                let _ = stream
                    .write_all(&answer.as_bytes()[..answer.len() / 2])
                    .await;
                let _ = stream.flush().await;
                let _ = stream.set_zero_linger();
                return;
            }
            "trickle" => {
                let head =
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 100000\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                while stream.write_all(b"x").await.is_ok() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                return;
            }
            // "silent": keep the connection, answer nothing, until the client gives up.
            _ => {
                let mut sink = [0u8; 1024];
                while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
                return;
            }
        };
        if !ok {
            return;
        }
    }
}

async fn start_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });
    addr
}

/// A loopback port with nothing listening on it.
fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The row a URL of `kind` must get: (status, error prefix, attempts).
///
/// A redirect loop is eleven requests in one attempt: on this loaded loopback they may outlast
/// the timeout once (a retryable error), so it may take a second attempt to end in its error.
fn expected(
    kind: &str,
) -> (
    Option<u64>,
    Option<&'static str>,
    std::ops::RangeInclusive<u64>,
) {
    match kind {
        "ok" => (Some(200), None, 1..=1),
        "reset" => (None, Some("connection reset"), 2..=2),
        "silent" | "trickle" => (None, Some("timeout"), 2..=2),
        "503" | "503-ra" => (Some(503), None, 2..=2),
        "loop" => (None, Some("too many redirects"), 1..=2),
        "big" => (Some(200), Some("body too large"), 1..=1),
        "refused" => (None, Some("connection refused"), 2..=2),
        other => panic!("unknown kind {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_urls_with_every_kind_of_fault_give_one_right_row_each() {
    let addr = start_server().await;
    let refused = refused_port();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("urls.txt");
    let urls: Vec<String> = (0..URLS)
        .map(|i| match path_of(i) {
            p if p.starts_with("/refused/") => format!("http://127.0.0.1:{refused}{p}"),
            p => format!("http://{addr}{p}"),
        })
        .collect();
    std::fs::write(&input, urls.join("\n")).unwrap();

    let bin = assert_cmd::cargo::cargo_bin!("scrape");
    let mut child = Command::new(bin)
        .args([
            "fetch",
            "--input",
            input.to_str().unwrap(),
            "--format",
            "jsonl",
        ])
        .args([
            "--concurrency",
            "200",
            "--per-host",
            "200",
            "--retries",
            "1",
        ])
        .args(["--timeout", TIMEOUT, "--max-bytes", &MAX_BYTES.to_string()])
        .args(["--backoff-ms", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, status) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map(Result::unwrap)
                .collect::<Vec<_>>()
        });
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return (reader.join().unwrap(), status);
            }
            if started.elapsed() > TIME_BOUND {
                let _ = child.kill();
                panic!("the run did not finish within {TIME_BOUND:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    })
    .await
    .unwrap();
    assert_eq!(status.code(), Some(0), "exit status");

    let mut rows: HashMap<String, serde_json::Value> = HashMap::new();
    for line in &lines {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let url = row["url"].as_str().unwrap().to_owned();
        assert!(
            rows.insert(url.clone(), row).is_none(),
            "two rows for {url}"
        );
    }
    assert_eq!(rows.len(), URLS, "one row per URL");
    let mut per_kind: HashMap<String, usize> = HashMap::new();
    for (i, url) in urls.iter().enumerate() {
        let row = &rows[url];
        let kind = path_of(i).split('/').nth(1).unwrap().to_owned();
        let (status, error, attempts) = expected(&kind);
        assert_eq!(row["status"].as_u64(), status, "{kind}: {row}");
        match error {
            None => assert!(row["error"].is_null(), "{kind}: {row}"),
            Some(prefix) => {
                let text = row["error"].as_str().unwrap_or_default();
                assert!(text.starts_with(prefix), "{kind}: want {prefix}: {row}");
            }
        }
        let tries = row["attempts"].as_u64().unwrap();
        assert!(
            attempts.contains(&tries),
            "{kind}: {attempts:?} attempts: {row}"
        );
        if kind == "503-ra" {
            // Retry-After: 1 was honoured (a lower bound: waiting can only take longer)
            assert!(row["elapsed_ms"].as_u64().unwrap() >= 1000, "{row}");
        }
        if kind == "ok" {
            assert_eq!(row["title"], format!("page /ok/{i}"), "{row}");
        }
        *per_kind.entry(kind).or_default() += 1;
    }
    for kind in FAULTS {
        assert!(per_kind[kind] >= 100, "{kind}: {per_kind:?}");
    }
}
