//! One URL, fetched politely: the shared client, per-host slots, the whole-request timeout, a
//! streamed and capped body, and retries with exponential backoff, jitter and `Retry-After`.

use crate::hosts::{HostPermit, Hosts};
use crate::row::{ErrorKind, Row};
use crate::{Config, ScrapeError};
use bytes::Bytes;
use futures::future::BoxFuture;
use reqwest::header::{CONTENT_TYPE, LOCATION, RETRY_AFTER};
use reqwest::{Client, Response, StatusCode};
use std::error::Error as _;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;
use url::Url;

/// Builds the one HTTP client a run shares: rustls, gzip and brotli, HTTP/2 where the server
/// offers it, keep-alive and the user agent. It follows no redirects: [`fetch_url`] does, hop by
/// hop, so that each target passes robots.txt and the per-host limits.
///
/// ```
/// let client = futurepool_scraper::http::build_client(&futurepool_scraper::Config::default());
/// assert!(client.is_ok());
/// ```
pub fn build_client(config: &Config) -> Result<Client, ScrapeError> {
    // A process-wide default; a second call (or a provider installed by the embedding program) is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .user_agent(config.user_agent.clone())
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.timeout)
        .pool_max_idle_per_host(config.per_host.max(1))
        .pool_idle_timeout(Duration::from_secs(30))
        .tcp_nodelay(true)
        .gzip(true)
        .brotli(true)
        .build()
        .map_err(|e| ScrapeError::Client(e.to_string()))
}

/// The longest URL text accepted, in bytes; `--input` reads no more of a line than this.
pub const MAX_URL_BYTES: usize = 64 * 1024;

/// Parses a URL the way the scraper accepts it: absolute, `http` or `https`, with a host, at
/// most [`MAX_URL_BYTES`] long.
///
/// ```
/// use futurepool_scraper::{http::parse_url, ErrorKind};
/// assert!(parse_url("https://example.com/").is_ok());
/// assert_eq!(parse_url("ftp://example.com/").unwrap_err().0, ErrorKind::UnsupportedScheme);
/// assert_eq!(parse_url("example.com").unwrap_err().0, ErrorKind::InvalidUrl);
/// let long = format!("https://example.com/{}", "x".repeat(70_000));
/// assert_eq!(parse_url(&long).unwrap_err().1, "longer than 65536 bytes");
/// ```
pub fn parse_url(text: &str) -> Result<Url, (ErrorKind, String)> {
    if text.len() > MAX_URL_BYTES {
        return Err((
            ErrorKind::InvalidUrl,
            format!("longer than {MAX_URL_BYTES} bytes"),
        ));
    }
    let url = Url::parse(text.trim()).map_err(|e| (ErrorKind::InvalidUrl, e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err((ErrorKind::UnsupportedScheme, url.scheme().to_owned()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err((ErrorKind::InvalidUrl, "no host".to_owned()));
    }
    Ok(url)
}

/// Where a response body goes while it is read, chunk by chunk; a `Vec<u8>` keeps it whole.
///
/// The next chunk is read once `write` has finished with this one, so a sink that works on
/// another thread (as the page scanner can, on a `CpuPool`) paces the read.
///
/// ```
/// # futures::executor::block_on(async {
/// use futurepool_scraper::http::BodySink;
/// let mut body = Vec::new();
/// body.write(bytes::Bytes::from_static(b"User-agent: *\n")).await;
/// body.write(bytes::Bytes::from_static(b"Disallow: /private/\n")).await;
/// assert_eq!(body.len(), 34);
/// # });
/// ```
pub trait BodySink: Send {
    /// Takes the next chunk of the body.
    fn write(&mut self, chunk: Bytes) -> impl Future<Output = ()> + Send;
}

impl BodySink for Vec<u8> {
    async fn write(&mut self, chunk: Bytes) {
        self.extend_from_slice(&chunk);
    }
}

/// What is known of a response when its body starts: what [`fetch_url`]'s `open_body` decides on.
///
/// ```
/// use futurepool_scraper::http::BodyHead;
/// let url = url::Url::parse("http://example.com/robots.txt").unwrap();
/// let head = BodyHead { content_type: Some("text/plain"), content_length: Some(42), final_url: &url };
/// // keep a robots.txt whole, skip anything large
/// let keep = head.content_length.is_some_and(|n| n < 512 * 1024);
/// assert!(keep);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct BodyHead<'a> {
    /// The `Content-Type` header, if any.
    pub content_type: Option<&'a str>,
    /// The `Content-Length` header, if any (before decompression).
    pub content_length: Option<u64>,
    /// The URL after redirects.
    pub final_url: &'a Url,
}

/// The outcome of fetching one URL: its row (without title and links) and the body's sink.
#[derive(Debug)]
pub struct Fetched<B> {
    /// The row, with everything but `title`, `depth` and `links` filled in.
    pub row: Row,
    /// The URL after redirects, if a response came.
    pub final_url: Option<Url>,
    /// The sink the body (at most `max_bytes`) was written to, when `open_body` gave one.
    pub body: Option<B>,
}

enum Attempt {
    Response { resp: Response },
    Failed(ErrorKind, String),
}

/// Decides whether a redirect to a URL is followed: a crawl asks robots.txt of the target's
/// host; a refused redirect leaves its 3xx response as the row's.
pub type Follow = dyn Fn(&Url) -> BoxFuture<'static, bool> + Send + Sync;

/// A [`Follow`] that follows every redirect (up to the cap).
///
/// ```
/// let follow = futurepool_scraper::http::follow_all();
/// let url = url::Url::parse("http://example.com/").unwrap();
/// assert!(futures::executor::block_on(follow(&url)));
/// ```
pub fn follow_all() -> &'static Follow {
    &|_| Box::pin(std::future::ready(true))
}

/// Fetches `url` with retries; redirects are followed by hand (at most `config.max_redirects`),
/// each target only when `follow` allows it and with a slot of its own host. For each final
/// response, `open_body` gives the sink its body streams into, or `None` to count the body's
/// bytes without keeping them.
pub async fn fetch_url<B: BodySink>(
    client: &Client,
    config: &Config,
    hosts: &Hosts,
    url: &Url,
    follow: &Follow,
    open_body: impl Fn(BodyHead<'_>) -> Option<B>,
) -> Fetched<B> {
    let mut row = Row::new(url.as_str());
    let host = hosts.get(url);
    let mut started: Option<Instant> = None;
    let max_attempts = config.retries.saturating_add(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        row.attempts = attempt;
        let permit = host.acquire().await;
        let start = *started.get_or_insert_with(Instant::now);
        let deadline = Instant::now() + config.timeout;
        let sent = send_following(client, config, hosts, url, permit, follow);
        let (outcome, permit) = match tokio::time::timeout_at(deadline, sent).await {
            Err(_) => (
                Attempt::Failed(ErrorKind::Timeout, timeout_detail(config.timeout)),
                None,
            ),
            Ok(Err((kind, detail))) => (Attempt::Failed(kind, detail), None),
            Ok(Ok((resp, permit))) => (Attempt::Response { resp }, Some(permit)),
        };
        let retries_left = attempt < max_attempts;
        match outcome {
            Attempt::Failed(kind, detail) => {
                drop(permit);
                if retries_left && kind.is_retryable() {
                    let wait = backoff(config, attempt);
                    tracing::debug!(%url, attempt, %kind, ?wait, "retrying after an error");
                    tokio::time::sleep(wait).await;
                    continue;
                }
                row.set_error(kind, detail);
                row.elapsed_ms = millis(start.elapsed());
                return Fetched {
                    row,
                    final_url: None,
                    body: None,
                };
            }
            Attempt::Response { resp } => {
                let status = resp.status();
                if retries_left && is_retryable_status(status) {
                    let retry_after = retry_after(&resp);
                    let wait = match retry_after {
                        Some(ra) if ra > config.max_retry_after => None,
                        Some(ra) => Some(ra.max(backoff(config, attempt))),
                        None => Some(backoff(config, attempt)),
                    };
                    if let Some(wait) = wait {
                        tracing::debug!(%url, attempt, status = status.as_u16(), ?wait, "retrying");
                        drop(resp);
                        drop(permit);
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                }
                let final_url = resp.url().clone();
                row.final_url = Some(final_url.to_string());
                row.status = Some(status.as_u16());
                row.content_type = resp
                    .headers()
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let sink = open_body(BodyHead {
                    content_type: row.content_type.as_deref(),
                    content_length: resp.content_length(),
                    final_url: &final_url,
                });
                let read =
                    tokio::time::timeout_at(deadline, read_body(resp, config.max_bytes, sink))
                        .await;
                drop(permit);
                let failure = match read {
                    Err(_) => Some((ErrorKind::Timeout, timeout_detail(config.timeout), None)),
                    Ok(Err(e)) => {
                        let (kind, detail) = classify(&e);
                        Some((kind, detail, None))
                    }
                    Ok(Ok(body)) => {
                        row.bytes = Some(body.len);
                        if body.truncated {
                            Some((
                                ErrorKind::TooLarge,
                                format!("more than {} bytes, stopped reading", config.max_bytes),
                                body.kept,
                            ))
                        } else {
                            row.elapsed_ms = millis(start.elapsed());
                            return Fetched {
                                row,
                                final_url: Some(final_url),
                                body: body.kept,
                            };
                        }
                    }
                };
                let (kind, detail, kept) = failure.expect("every other branch returned");
                if kind != ErrorKind::TooLarge {
                    if retries_left && kind.is_retryable() {
                        row = Row::new(url.as_str());
                        tokio::time::sleep(backoff(config, attempt)).await;
                        continue;
                    }
                    // The response did not arrive whole: such a row has no status.
                    row.status = None;
                    row.bytes = None;
                }
                row.set_error(kind, detail);
                row.attempts = attempt;
                row.elapsed_ms = millis(start.elapsed());
                return Fetched {
                    row,
                    final_url: Some(final_url),
                    body: kept,
                };
            }
        }
    }
}

/// Sends a GET for `url` and follows its redirects by hand: each hop holds a slot of its own
/// host (the previous slot is given back first) and goes only where `follow` allows; a refused
/// or unusable `Location` leaves the 3xx response as the answer.
async fn send_following(
    client: &Client,
    config: &Config,
    hosts: &Hosts,
    url: &Url,
    mut permit: HostPermit,
    follow: &Follow,
) -> Result<(Response, HostPermit), (ErrorKind, String)> {
    let mut current = url.clone();
    let mut hops = 0;
    loop {
        let resp = client
            .get(current.clone())
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let Some(next) = redirect_target(&resp) else {
            return Ok((resp, permit));
        };
        if hops >= config.max_redirects {
            return Err((
                ErrorKind::TooManyRedirects,
                format!("more than {} redirects", config.max_redirects),
            ));
        }
        if !follow(&next).await {
            return Ok((resp, permit));
        }
        hops += 1;
        drop(resp);
        drop(permit);
        permit = hosts.get(&next).acquire().await;
        current = next;
    }
}

/// Where a redirect response points: a 301, 302, 303, 307 or 308 with a `Location` that
/// resolves to an `http(s)` URL with a host.
fn redirect_target(resp: &Response) -> Option<Url> {
    if !matches!(resp.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = resp.headers().get(LOCATION)?.to_str().ok()?;
    let next = resp.url().join(location.trim()).ok()?;
    let ok = matches!(next.scheme(), "http" | "https") && next.host_str().is_some();
    ok.then_some(next)
}

struct Body<B> {
    len: u64,
    truncated: bool,
    kept: Option<B>,
}

async fn read_body<B: BodySink>(
    mut resp: Response,
    max_bytes: u64,
    mut kept: Option<B>,
) -> Result<Body<B>, reqwest::Error> {
    let mut len = 0u64;
    while let Some(chunk) = resp.chunk().await? {
        let room = max_bytes - len;
        let take = (chunk.len() as u64).min(room) as usize;
        len += take as u64;
        if let Some(sink) = kept.as_mut() {
            sink.write(chunk.slice(..take)).await;
        }
        if take < chunk.len() {
            return Ok(Body {
                len,
                truncated: true,
                kept,
            });
        }
    }
    Ok(Body {
        len,
        truncated: false,
        kept,
    })
}

fn is_retryable_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

fn retry_after(resp: &Response) -> Option<Duration> {
    let value = resp.headers().get(RETRY_AFTER)?.to_str().ok()?.trim();
    parse_retry_after(value, SystemTime::now())
}

/// Parses a `Retry-After` value: delay seconds or an HTTP date (a past date means no wait).
///
/// ```
/// use futurepool_scraper::http::parse_retry_after;
/// use std::time::{Duration, SystemTime};
/// assert_eq!(parse_retry_after("3", SystemTime::now()), Some(Duration::from_secs(3)));
/// assert_eq!(parse_retry_after("soon", SystemTime::now()), None);
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The delay before retry number `attempt` (1-based): `base × 2^(attempt-1)`, capped, with jitter
/// picking a value in its upper half.
///
/// ```
/// use futurepool_scraper::{http::backoff, Config};
/// use std::time::Duration;
/// let c = Config { backoff_base: Duration::from_millis(100), ..Config::default() };
/// let d = backoff(&c, 3);
/// assert!(d >= Duration::from_millis(200) && d <= Duration::from_millis(400));
/// ```
pub fn backoff(config: &Config, attempt: u32) -> Duration {
    let exp = config
        .backoff_base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
        .min(config.backoff_max);
    let half = exp / 2;
    half + exp.saturating_sub(half).mul_f64(fastrand::f64())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn timeout_detail(limit: Duration) -> String {
    format!("no complete response within {}", humantime(limit))
}

fn humantime(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// Sorts a reqwest error into an [`ErrorKind`] and a short detail from the innermost cause.
pub fn classify(err: &reqwest::Error) -> (ErrorKind, String) {
    let mut causes: Vec<String> = Vec::new();
    let mut io_kind = None;
    let mut source = err.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            io_kind.get_or_insert(io.kind());
        }
        causes.push(cause.to_string());
        source = cause.source();
    }
    let innermost = causes.last().cloned().unwrap_or_else(|| err.to_string());
    let all = causes.join(": ").to_ascii_lowercase();
    let kind = if err.is_redirect() {
        return (ErrorKind::TooManyRedirects, innermost);
    } else if err.is_timeout() || io_kind == Some(std::io::ErrorKind::TimedOut) {
        ErrorKind::Timeout
    } else if all.contains("dns error") || all.contains("failed to lookup address") {
        ErrorKind::Dns
    } else if io_kind == Some(std::io::ErrorKind::ConnectionRefused) {
        ErrorKind::Refused
    } else if matches!(
        io_kind,
        Some(
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::UnexpectedEof
        )
    ) || all.contains("connection closed before message completed")
        || all.contains("connection reset")
    {
        ErrorKind::Reset
    } else if err.is_connect() {
        ErrorKind::Connect
    } else {
        ErrorKind::Other
    };
    (kind, innermost)
}
