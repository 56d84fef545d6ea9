//! Settings shared by [`fetch`](crate::fetch) and [`crawl`](crate::crawl).

use std::time::Duration;

/// The user agent sent when none is configured.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "futurepool-scraper/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/futurepool/futurepool)"
);

/// Every knob of a fetch or crawl run, with the defaults of the `scrape` command.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use futurepool_scraper::Config;
///
/// let config = Config {
///     concurrency: 50,
///     per_host: 50,
///     timeout: Duration::from_secs(5),
///     ..Config::default()
/// };
/// assert_eq!(config.retries, 2);
/// assert_eq!(config.max_bytes, 10 * 1024 * 1024);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Requests in flight overall (`--concurrency`, default 32).
    pub concurrency: usize,
    /// Requests in flight to one host, where a host is a host name and port (`--per-host`, default 8).
    pub per_host: usize,
    /// Limit on one whole attempt: connect, headers and body (`--timeout`, default 30 s).
    pub timeout: Duration,
    /// Further attempts after a connect error, timeout, 429 or 5xx (`--retries`, default 2).
    pub retries: u32,
    /// Largest body read; a larger one is cut there and its row gets an error (`--max-bytes`, default 10 MiB).
    pub max_bytes: u64,
    /// Sent as `User-Agent` on every request (`--user-agent`).
    pub user_agent: String,
    /// First retry delay; each further retry doubles it, and jitter picks a delay in `[d/2, d]`.
    pub backoff_base: Duration,
    /// Upper bound on one backoff delay.
    pub backoff_max: Duration,
    /// Longest `Retry-After` honoured; a server asking for more gets no retry.
    pub max_retry_after: Duration,
    /// Largest `Crawl-delay` honoured; a robots.txt asking for more is capped to it.
    pub max_crawl_delay: Duration,
    /// Redirects followed before the row gets a "too many redirects" error.
    pub max_redirects: usize,
    /// Crawl: follow links this many hops from the seeds (`--depth`, default 2).
    pub depth: u32,
    /// Crawl: stop after this many rows (`--max-pages`, default 1000).
    pub max_pages: u64,
    /// Crawl: do not fetch or obey robots.txt (`--ignore-robots`).
    pub ignore_robots: bool,
    /// Crawl: also start from the URLs of the seeds' sitemaps (`--sitemaps`): those named by
    /// `Sitemap:` lines of robots.txt, else `/sitemap.xml`.
    pub sitemaps: bool,
    /// HTML bodies larger than this (by `Content-Length`; a body without one counts as large) are
    /// scanned on the run's `CpuPool`, each chunk a task as it arrives; smaller ones on the
    /// runtime, where a hand-off would cost more than the scan (a typical 100 KB page takes
    /// about 0.25 ms, chunk by chunk). Default 256 KiB; `usize::MAX` keeps all scanning on the
    /// runtime.
    pub offload_parse_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            concurrency: 32,
            per_host: 8,
            timeout: Duration::from_secs(30),
            retries: 2,
            max_bytes: 10 * 1024 * 1024,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            max_crawl_delay: Duration::from_secs(30),
            max_redirects: 10,
            depth: 2,
            max_pages: 1000,
            ignore_robots: false,
            sitemaps: false,
            offload_parse_bytes: 256 * 1024,
        }
    }
}

impl Config {
    /// Checks the values that have to be positive, naming the first bad one.
    ///
    /// ```
    /// let bad = futurepool_scraper::Config { concurrency: 0, ..Default::default() };
    /// assert!(bad.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), crate::ScrapeError> {
        let bad = |what: &str| {
            Err(crate::ScrapeError::Config(format!(
                "{what} must be at least 1"
            )))
        };
        if self.concurrency == 0 {
            return bad("concurrency");
        }
        if self.per_host == 0 {
            return bad("per-host");
        }
        if self.timeout.is_zero() {
            return Err(crate::ScrapeError::Config(
                "timeout must be positive".into(),
            ));
        }
        Ok(())
    }
}
