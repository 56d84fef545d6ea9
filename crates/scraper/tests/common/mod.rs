//! Helpers shared by the integration tests: configs, row collection and hand-written servers for
//! what wiremock cannot do (resets, trickling bodies, silence, in-flight counting).
#![allow(dead_code)]

use futurepool_scraper::{Config, Row, Scraper};
use futures::StreamExt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// A config for tests: tiny backoff, short timeout, default limits.
pub fn config() -> Config {
    Config {
        backoff_base: Duration::from_millis(1),
        backoff_max: Duration::from_millis(20),
        timeout: Duration::from_secs(5),
        ..Config::default()
    }
}

/// Fetches `urls` with `config` and collects every row.
pub async fn fetch_all(config: Config, urls: &[String]) -> Vec<Row> {
    let scraper = Scraper::new(config).expect("valid config");
    let rows = scraper.fetch(urls.to_vec()).expect("inside a runtime");
    tokio::time::timeout(Duration::from_secs(60), rows.collect::<Vec<_>>())
        .await
        .expect("fetch finished")
}

/// Fetches one URL and returns its row.
pub async fn fetch_one(config: Config, url: &str) -> Row {
    let mut rows = fetch_all(config, &[url.to_owned()]).await;
    assert_eq!(rows.len(), 1, "one row per URL: {rows:?}");
    rows.pop().unwrap()
}

/// Crawls from `seeds` and collects every row, plus the number of robots-blocked URLs.
pub async fn crawl_all(config: Config, seeds: &[String]) -> (Vec<Row>, u64) {
    let scraper = Scraper::new(config).expect("valid config");
    let rows = scraper.crawl(seeds.to_vec()).expect("inside a runtime");
    let rows = tokio::time::timeout(Duration::from_secs(60), rows.collect::<Vec<_>>())
        .await
        .expect("crawl finished");
    (rows, scraper.robots_blocked())
}

/// Reads one request head (up to the blank line) from `stream`.
pub async fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&byte[..n]),
        }
    }
    buf
}

/// What a [`RawServer`] does with each connection.
#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// Read the request, then reset the connection (RST).
    Reset,
    /// Read the request and never answer, keeping the connection open.
    Silent,
    /// Answer headers for `len` bytes of body, then send one byte per `every` without end.
    Trickle { len: usize, every: Duration },
    /// Answer a chunked HTML body that never ends, as fast as the client reads.
    Endless,
}

/// A hand-written TCP server on 127.0.0.1 that misbehaves on purpose; counts connections.
pub struct RawServer {
    pub addr: SocketAddr,
    pub connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl RawServer {
    pub async fn start(behaviour: Behaviour) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&connections);
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                match behaviour {
                    Behaviour::Reset => {
                        tokio::spawn(async move {
                            read_head(&mut stream).await;
                            let _ = stream.set_zero_linger();
                            drop(stream);
                        });
                    }
                    Behaviour::Silent => {
                        let (done, wait) = tokio::sync::oneshot::channel::<()>();
                        held.push(done);
                        tokio::spawn(async move {
                            read_head(&mut stream).await;
                            let _ = wait.await;
                        });
                    }
                    Behaviour::Endless => {
                        tokio::spawn(async move {
                            read_head(&mut stream).await;
                            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ntransfer-encoding: chunked\r\n\r\n";
                            if stream.write_all(head.as_bytes()).await.is_err() {
                                return;
                            }
                            let mut chunk = b"400\r\n".to_vec();
                            chunk.extend_from_slice(&[b'x'; 0x400]);
                            chunk.extend_from_slice(b"\r\n");
                            while stream.write_all(&chunk).await.is_ok() {}
                        });
                    }
                    Behaviour::Trickle { len, every } => {
                        tokio::spawn(async move {
                            read_head(&mut stream).await;
                            let head = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {len}\r\n\r\n"
                            );
                            if stream.write_all(head.as_bytes()).await.is_err() {
                                return;
                            }
                            for _ in 0..len {
                                tokio::time::sleep(every).await;
                                if stream.write_all(b"x").await.is_err() {
                                    return;
                                }
                            }
                        });
                    }
                }
            }
        });
        RawServer {
            addr,
            connections,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Counts requests in flight. Each request is held until `hold` requests are in flight at once
/// (or `safety` elapses), so a test can see the limit reached as well as never exceeded.
pub struct InFlight {
    current: AtomicUsize,
    pub peak: AtomicUsize,
    pub served: AtomicUsize,
    hold: usize,
    released: AtomicBool,
    gate: Notify,
    pub paths: Mutex<Vec<String>>,
}

impl InFlight {
    pub fn new(hold: usize) -> Arc<InFlight> {
        Arc::new(InFlight {
            current: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            served: AtomicUsize::new(0),
            hold,
            released: AtomicBool::new(false),
            gate: Notify::new(),
            paths: Mutex::new(Vec::new()),
        })
    }

    async fn enter(&self, path: String) {
        self.paths.lock().unwrap().push(path);
        let now = self.current.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        if now >= self.hold {
            self.released.store(true, Ordering::SeqCst);
            self.gate.notify_waiters();
        }
        let safety = Duration::from_secs(5);
        let _ = tokio::time::timeout(safety, async {
            loop {
                let notified = self.gate.notified();
                if self.released.load(Ordering::SeqCst) {
                    return;
                }
                notified.await;
            }
        })
        .await;
    }

    fn leave(&self) {
        self.current.fetch_sub(1, Ordering::SeqCst);
        self.served.fetch_add(1, Ordering::SeqCst);
    }
}

struct Leave(Arc<InFlight>);

impl Drop for Leave {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// An axum server on 127.0.0.1 whose every path answers a small HTML page, counted by `counter`.
pub async fn counting_server(counter: Arc<InFlight>) -> SocketAddr {
    use axum::extract::{Request, State};
    use axum::response::Html;
    let app = axum::Router::new()
        .fallback(|State(c): State<Arc<InFlight>>, req: Request| async move {
            let _guard = Leave(Arc::clone(&c));
            c.enter(req.uri().path().to_owned()).await;
            Html(format!("<title>{}</title>", req.uri().path()))
        })
        .with_state(counter);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// Mounts an HTML page at `at` on a wiremock server, linking to `links` (hrefs as written).
pub async fn html_page(server: &wiremock::MockServer, at: &str, title: &str, links: &[&str]) {
    use wiremock::matchers::path;
    use wiremock::{Mock, ResponseTemplate};
    let anchors: String = links
        .iter()
        .map(|href| format!("<a href=\"{href}\">{href}</a>\n"))
        .collect();
    let body = format!(
        "<!DOCTYPE html><html><head><title>{title}</title></head><body>{anchors}</body></html>"
    );
    Mock::given(path(at))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/html; charset=utf-8"))
        .mount(server)
        .await;
}

/// Mounts `robots.txt` with `body`, expected to be requested `times` times.
pub async fn robots_txt(server: &wiremock::MockServer, body: &str, times: u64) {
    use wiremock::matchers::path;
    use wiremock::{Mock, ResponseTemplate};
    Mock::given(path("/robots.txt"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body.to_owned(), "text/plain"))
        .expect(times)
        .mount(server)
        .await;
}

/// Paths the server received, in order, without robots.txt.
pub async fn page_requests(server: &wiremock::MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .filter(|p| p != "/robots.txt")
        .collect()
}

/// The `scrape` binary with `args`, ready to run.
pub fn scrape(args: &[&str]) -> assert_cmd::Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("scrape");
    cmd.args(args);
    cmd
}

/// Like [`scrape`] for `fetch`/`crawl`/`demo`, with a 1 ms retry backoff so retries are quick.
pub fn scrape_fast(args: &[&str]) -> assert_cmd::Command {
    let mut cmd = scrape(args);
    cmd.args(["--backoff-ms", "1"]);
    cmd
}

/// Runs `cmd` off the async threads (so servers in this test keep serving) and returns its output.
pub async fn run(mut cmd: assert_cmd::Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.timeout(Duration::from_secs(60)).output().unwrap())
        .await
        .unwrap()
}

/// Parses jsonl output into JSON objects.
pub fn json_lines(stdout: &[u8]) -> Vec<serde_json::Map<String, serde_json::Value>> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| match serde_json::from_str::<serde_json::Value>(l) {
            Ok(serde_json::Value::Object(map)) => map,
            other => panic!("not a JSON object line: {l:?} ({other:?})"),
        })
        .collect()
}
