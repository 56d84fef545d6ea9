//! Per-host politeness: a concurrency limit, robots.txt rules and Crawl-delay spacing per host.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use url::Url;

/// The key of a URL's host for limits and robots.txt: scheme, host name and port.
///
/// ```
/// let u = url::Url::parse("https://Example.com/a?b").unwrap();
/// assert_eq!(futurepool_scraper::hosts::host_key(&u), "https://example.com:443");
/// ```
pub fn host_key(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// The rules of one host's robots.txt, as far as the crawler uses them.
#[derive(Debug, Default)]
pub struct Robots {
    robot: Option<texting_robots::Robot>,
    deny_all: bool,
    /// The `Crawl-delay` for our agent, if any (already capped).
    pub crawl_delay: Option<Duration>,
    /// The `Sitemap:` URLs the file names (at most [`Robots::MAX_SITEMAPS`]), as written.
    pub sitemaps: Vec<String>,
}

impl Robots {
    /// The most `Sitemap:` lines kept from one robots.txt.
    pub const MAX_SITEMAPS: usize = 50;

    /// Rules that allow everything (robots.txt answered 4xx, or `--ignore-robots`).
    pub fn allow_all() -> Robots {
        Robots::default()
    }

    /// Rules that allow nothing: robots.txt answered 5xx or could not be fetched (RFC 9309,
    /// section 2.3.1.4).
    ///
    /// ```
    /// let r = futurepool_scraper::hosts::Robots::disallow_all();
    /// assert!(!r.allowed("http://h/"));
    /// ```
    pub fn disallow_all() -> Robots {
        Robots {
            deny_all: true,
            ..Robots::default()
        }
    }

    /// Parses a robots.txt body for the user-agent product token `agent`.
    ///
    /// ```
    /// use futurepool_scraper::hosts::Robots;
    /// use std::time::Duration;
    /// let r = Robots::parse("scrape", b"User-agent: *\nDisallow: /private/\nCrawl-delay: 2\n", Duration::from_secs(30));
    /// assert!(!r.allowed("http://h/private/x"));
    /// assert!(r.allowed("http://h/public"));
    /// assert_eq!(r.crawl_delay, Some(Duration::from_secs(2)));
    /// ```
    pub fn parse(agent: &str, txt: &[u8], max_delay: Duration) -> Robots {
        match texting_robots::Robot::new(agent, txt) {
            Ok(robot) => {
                let crawl_delay = robot
                    .delay
                    .filter(|d| d.is_finite() && *d > 0.0)
                    .map(|d| Duration::from_secs_f64(f64::from(d)).min(max_delay));
                let sitemaps = robot
                    .sitemaps
                    .iter()
                    .take(Robots::MAX_SITEMAPS)
                    .cloned()
                    .collect();
                Robots {
                    robot: Some(robot),
                    deny_all: false,
                    crawl_delay,
                    sitemaps,
                }
            }
            Err(_) => Robots::allow_all(),
        }
    }

    /// Whether the rules let the crawler fetch `url`.
    pub fn allowed(&self, url: &str) -> bool {
        !self.deny_all && self.robot.as_ref().is_none_or(|r| r.allowed(url))
    }
}

/// State of one host: its semaphore, its robots.txt (fetched once) and its next free request slot.
#[derive(Debug)]
pub struct Host {
    permits: Arc<Semaphore>,
    robots: OnceCell<Arc<Robots>>,
    next_start: Mutex<Option<Instant>>,
}

/// A permit to send one request to a host; the slot is freed when it is dropped.
#[derive(Debug)]
pub struct HostPermit {
    _permit: OwnedSemaphorePermit,
}

impl Host {
    /// Waits for a free slot on this host, then for the host's Crawl-delay spacing, if any.
    pub async fn acquire(&self) -> HostPermit {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .expect("host semaphores are never closed");
        let delay = self.robots.get().and_then(|r| r.crawl_delay);
        if let Some(delay) = delay {
            let start = {
                let mut next = self.next_start.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                let start = next.map_or(now, |n| n.max(now));
                *next = Some(start + delay);
                start
            };
            tokio::time::sleep_until(start).await;
        }
        HostPermit { _permit: permit }
    }

    /// The host's robots rules, computed by `load` the first time and shared afterwards.
    pub async fn robots<F, Fut>(&self, load: F) -> Arc<Robots>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Robots>,
    {
        Arc::clone(
            self.robots
                .get_or_init(|| async { Arc::new(load().await) })
                .await,
        )
    }

    /// The host's robots rules if they are loaded already (never waits, never fetches).
    pub fn robots_loaded(&self) -> Option<Arc<Robots>> {
        self.robots.get().cloned()
    }

    /// Requests to this host in flight right now.
    pub fn in_flight(&self, per_host: usize) -> usize {
        per_host - self.permits.available_permits()
    }
}

/// The table of hosts seen in a run, each limited to `per_host` requests in flight.
///
/// ```
/// # tokio_test_block(async {
/// use futurepool_scraper::hosts::Hosts;
/// let hosts = Hosts::new(2);
/// let url = url::Url::parse("http://example.com/").unwrap();
/// let host = hosts.get(&url);
/// let _a = host.acquire().await;
/// let _b = host.acquire().await;
/// assert_eq!(host.in_flight(2), 2);
/// # });
/// # fn tokio_test_block(f: impl std::future::Future<Output = ()>) {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug)]
pub struct Hosts {
    per_host: usize,
    table: Mutex<HashMap<String, Arc<Host>>>,
}

impl Hosts {
    /// An empty table with a limit of `per_host` requests in flight per host.
    pub fn new(per_host: usize) -> Hosts {
        Hosts {
            per_host: per_host.max(1),
            table: Mutex::new(HashMap::new()),
        }
    }

    /// The state of `url`'s host, created on first use.
    pub fn get(&self, url: &Url) -> Arc<Host> {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(table.entry(host_key(url)).or_insert_with(|| {
            Arc::new(Host {
                permits: Arc::new(Semaphore::new(self.per_host)),
                robots: OnceCell::new(),
                next_start: Mutex::new(None),
            })
        }))
    }
}
