//! The demo site: a real HTTP server on 127.0.0.1 serving a generated site to crawl offline.
//!
//! The site has `pages` linked pages with titles, a robots.txt that disallows `/private/`, slow
//! pages, 404s, 500s, a redirect and an off-site link; `/latency/{n}` answers after a fixed latency
//! and is what the throughput measurement fetches.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::oneshot;

/// The shape of the generated site.
#[derive(Clone, Debug)]
pub struct DemoSite {
    /// Number of ordinary pages, `/page/1` to `/page/{pages}`.
    pub pages: u32,
    /// How long a `/slow/{n}` page takes to answer.
    pub slow: Duration,
    /// How long a `/latency/{n}` page takes to answer.
    pub latency: Duration,
}

impl Default for DemoSite {
    fn default() -> Self {
        DemoSite {
            pages: 60,
            slow: Duration::from_millis(300),
            latency: Duration::from_millis(20),
        }
    }
}

struct SiteState {
    site: DemoSite,
    requests: AtomicU64,
    private_hits: AtomicU64,
    broken_hits: AtomicU64,
}

/// A running demo server; it stops when dropped.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use futurepool_scraper::demo::{DemoServer, DemoSite};
/// let server = DemoServer::start(DemoSite::default()).await?;
/// println!("crawl {}", server.url("/"));
/// # Ok(()) }
/// ```
pub struct DemoServer {
    addr: SocketAddr,
    state: Arc<SiteState>,
    stop: Option<oneshot::Sender<()>>,
}

impl DemoServer {
    /// Binds 127.0.0.1 on a free port and starts serving `site` on the current Tokio runtime.
    pub async fn start(site: DemoSite) -> std::io::Result<DemoServer> {
        let state = Arc::new(SiteState {
            site,
            requests: AtomicU64::new(0),
            private_hits: AtomicU64::new(0),
            broken_hits: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/", get(index))
            .route("/robots.txt", get(robots))
            .route("/page/{n}", get(page))
            .route("/slow/{n}", get(slow))
            .route("/latency/{n}", get(latency))
            .route("/missing/{n}", get(missing))
            .route("/broken/{n}", get(broken))
            .route("/private/{n}", get(private))
            .route("/old-home", get(|| async { Redirect::permanent("/") }))
            .fallback(|| async { (StatusCode::NOT_FOUND, Html("<title>Not found</title>")) })
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&state),
                count,
            ))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        // Small responses must not wait for Nagle's algorithm.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(DemoServer {
            addr,
            state,
            stop: Some(stop),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The absolute URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Requests served so far.
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// Requests for `/private/…` (disallowed by robots.txt) served so far.
    pub fn private_hits(&self) -> u64 {
        self.state.private_hits.load(Ordering::Relaxed)
    }

    /// Requests for `/broken/…` (which answer 500) served so far.
    pub fn broken_hits(&self) -> u64 {
        self.state.broken_hits.load(Ordering::Relaxed)
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn count(
    State(state): State<Arc<SiteState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    state.requests.fetch_add(1, Ordering::Relaxed);
    next.run(req).await
}

fn doc(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body><h1>{title}</h1>\n{body}</body></html>\n"
    ))
}

async fn index(State(state): State<Arc<SiteState>>) -> Html<String> {
    let mut body = String::from("<p>A generated site for <code>scrape demo</code>.</p>\n<ul>\n");
    for n in 1..=state.site.pages.min(8) {
        let _ = writeln!(body, "<li><a href=\"/page/{n}\">Page {n}</a></li>");
    }
    body.push_str(
        "<li><a href=\"/old-home\">Old home (redirect)</a></li>\n\
         <li><a href=\"/private/1\">Private (robots.txt)</a></li>\n\
         <li><a href=\"/slow/1\">A slow page</a></li>\n\
         <li><a href=\"http://example.invalid/\">Off-site (not followed)</a></li>\n</ul>\n",
    );
    doc("futurepool demo site", &body)
}

async fn robots() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain")],
        "User-agent: *\nDisallow: /private/\n",
    )
}

async fn page(State(state): State<Arc<SiteState>>, Path(n): Path<u32>) -> Response {
    let pages = state.site.pages.max(1);
    if n == 0 || n > pages {
        return missing(Path(n)).await.into_response();
    }
    let next = n % pages + 1;
    let jump = (n * 7 + 3) % pages + 1;
    let far = (n * 13 + 5) % pages + 1;
    let mut body = format!(
        "<p>Page {n} of {pages}.</p>\n<ul>\n<li><a href=\"/page/{next}\">next</a></li>\n\
         <li><a href=\"../page/{jump}#section\">jump</a></li>\n<li><a href=\"{far}\">far</a></li>\n\
         <li><a href=\"/\">home</a></li>\n"
    );
    if n % 5 == 0 {
        let _ = writeln!(body, "<li><a href=\"/slow/{n}\">slow</a></li>");
    }
    if n % 7 == 0 {
        let _ = writeln!(body, "<li><a href=\"/missing/{n}\">dead link</a></li>");
    }
    if n % 11 == 0 {
        let _ = writeln!(body, "<li><a href=\"/broken/{n}\">broken</a></li>");
    }
    if n % 9 == 0 {
        let _ = writeln!(body, "<li><a href=\"/private/{n}\">private</a></li>");
    }
    body.push_str("</ul>\n");
    doc(&format!("Demo page {n}"), &body).into_response()
}

async fn slow(State(state): State<Arc<SiteState>>, Path(n): Path<u32>) -> Html<String> {
    tokio::time::sleep(state.site.slow).await;
    doc(
        &format!("Slow page {n}"),
        "<p>This one took its time.</p><a href=\"/\">home</a>",
    )
}

async fn latency(State(state): State<Arc<SiteState>>, Path(n): Path<String>) -> Html<String> {
    precise_sleep(state.site.latency).await;
    doc(
        &format!("Latency page {n}"),
        "<p>Answered after a fixed delay.</p>",
    )
}

async fn missing(Path(n): Path<u32>) -> (StatusCode, Html<String>) {
    (
        StatusCode::NOT_FOUND,
        doc(&format!("Not found {n}"), "<p>No such page.</p>"),
    )
}

async fn broken(
    State(state): State<Arc<SiteState>>,
    Path(n): Path<u32>,
) -> (StatusCode, Html<String>) {
    state.broken_hits.fetch_add(1, Ordering::Relaxed);
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        doc(&format!("Server error {n}"), "<p>Always fails.</p>"),
    )
}

async fn private(State(state): State<Arc<SiteState>>, Path(n): Path<u32>) -> Html<String> {
    state.private_hits.fetch_add(1, Ordering::Relaxed);
    doc(
        &format!("Private {n}"),
        "<p>Crawlers that obey robots.txt never see this.</p>",
    )
}

/// Sleeps for `d` with sub-millisecond precision. Tokio's timer works in whole milliseconds and
/// fires up to ~1.5 ms late, which would make "20 ms" pages take 21.5 ms; the latency pages are
/// the yardstick of the throughput measurement, so they use a dedicated timer thread instead.
async fn precise_sleep(d: Duration) {
    if d.is_zero() {
        return;
    }
    let (done, wait) = oneshot::channel();
    precise_timer().schedule(std::time::Instant::now() + d, done);
    let _ = wait.await;
}

struct PreciseTimer {
    queue: std::sync::Mutex<std::collections::BinaryHeap<Due>>,
    wake: std::sync::Condvar,
}

struct Due(std::time::Instant, oneshot::Sender<()>);

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.0.cmp(&self.0) // earliest deadline on top of the max-heap
    }
}

impl PreciseTimer {
    fn schedule(&self, at: std::time::Instant, done: oneshot::Sender<()>) {
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Due(at, done));
        self.wake.notify_one();
    }

    fn run(&self) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let now = std::time::Instant::now();
            match queue.peek().map(|due| due.0) {
                None => queue = self.wake.wait(queue).unwrap_or_else(|e| e.into_inner()),
                Some(at) if at <= now => {
                    if let Some(Due(_, done)) = queue.pop() {
                        let _ = done.send(());
                    }
                }
                Some(at) => {
                    queue = self
                        .wake
                        .wait_timeout(queue, at - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
    }
}

fn precise_timer() -> &'static PreciseTimer {
    static TIMER: std::sync::OnceLock<&'static PreciseTimer> = std::sync::OnceLock::new();
    TIMER.get_or_init(|| {
        let timer: &'static PreciseTimer = Box::leak(Box::new(PreciseTimer {
            queue: std::sync::Mutex::new(std::collections::BinaryHeap::new()),
            wake: std::sync::Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("demo-timer".into())
            .spawn(move || timer.run())
            .expect("spawn the demo timer thread");
        timer
    })
}
