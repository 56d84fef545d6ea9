//! The two runs, `fetch` and `crawl`, as streams of rows in completion order.

use crate::crawl::CrawlRun;
use crate::exec::{Cpu, Exec};
use crate::hosts::{Hosts, Robots};
use crate::html::Extract;
use crate::http::{self, Fetched};
use crate::page::PageBody;
use crate::row::{ErrorKind, Row};
use crate::state::CrawlState;
use crate::{Config, ScrapeError};
use futurepool::map_tasks_unordered;
use futures::FutureExt;
use futures::future::{self, BoxFuture};
use futures::stream::{self, BoxStream, Stream, StreamExt};
use std::collections::HashSet;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use url::Url;

/// Rows of a run, yielded as the requests complete.
pub type RowStream = BoxStream<'static, Row>;

/// A configured scraper: one HTTP client and one per-host table, shared by its runs.
///
/// Cloning is cheap and shares everything.
///
/// ```no_run
/// use futures::StreamExt;
/// use futurepool_scraper::{Config, Scraper};
///
/// # async fn demo() -> Result<(), futurepool_scraper::ScrapeError> {
/// let scraper = Scraper::new(Config::default())?;
/// let mut rows = scraper.fetch(["https://example.com/".to_string()])?;
/// while let Some(row) = rows.next().await {
///     println!("{} {:?} {:?}", row.url, row.status, row.title);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Scraper {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    client: reqwest::Client,
    hosts: Hosts,
    agent_token: String,
    robots_blocked: AtomicU64,
}

/// What one crawl task produced.
pub(crate) enum CrawlOutcome {
    /// robots.txt disallows the URL: no row.
    Blocked(String),
    /// The page was fetched (or failed): its row.
    Page(Box<CrawledPage>),
    /// The page URLs of a seed host's sitemaps.
    Sitemap(Vec<Url>),
}

/// A fetched crawl page: its row, depth, links and where it ended up after redirects.
pub(crate) struct CrawledPage {
    pub(crate) row: Row,
    pub(crate) depth: u32,
    pub(crate) links: Vec<Url>,
    pub(crate) final_url: Option<Url>,
}

impl Scraper {
    /// Checks `config` and builds the shared client.
    pub fn new(config: Config) -> Result<Scraper, ScrapeError> {
        config.validate()?;
        let client = http::build_client(&config)?;
        let agent_token = config
            .user_agent
            .split(|c: char| c == '/' || c.is_whitespace())
            .find(|s| !s.is_empty())
            .unwrap_or("*")
            .to_owned();
        Ok(Scraper {
            inner: Arc::new(Inner {
                hosts: Hosts::new(config.per_host),
                config,
                client,
                agent_token,
                robots_blocked: AtomicU64::new(0),
            }),
        })
    }

    /// The configuration this scraper was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// URLs a crawl skipped because robots.txt disallowed them, over all runs of this scraper.
    pub fn robots_blocked(&self) -> u64 {
        self.inner.robots_blocked.load(Ordering::Relaxed)
    }

    /// Fetches one URL (with retries) and returns its row, title included.
    pub async fn fetch_one(&self, url: &str) -> Row {
        match http::parse_url(url) {
            Ok(parsed) => {
                let (mut row, _, _) = self
                    .fetch_page(None, &parsed, false, http::follow_all())
                    .await;
                row.url = url.to_owned();
                row
            }
            Err((kind, detail)) => rejected(url, kind, detail),
        }
    }

    /// Fetches every URL of `urls`, at most `concurrency` at once overall and `per_host` per host,
    /// yielding one row per distinct URL text as each completes.
    ///
    /// The input is read lazily, a bounded number of URLs ahead, so it may be very long. Must be
    /// called inside a Tokio runtime.
    pub fn fetch<I>(&self, urls: I) -> Result<RowStream, ScrapeError>
    where
        I: IntoIterator<Item = String>,
        I::IntoIter: Send + 'static,
    {
        self.fetch_stream(stream::iter(urls))
    }

    /// Like [`fetch`](Scraper::fetch), with the URLs coming from a stream (e.g. lines of stdin).
    pub fn fetch_stream<S>(&self, urls: S) -> Result<RowStream, ScrapeError>
    where
        S: Stream<Item = String> + Send + 'static,
    {
        let exec = Exec::new(self.inner.config.concurrency)?;
        let lookahead = self.inner.config.concurrency.saturating_mul(2).max(2);
        let (mut seen, hasher) = (HashSet::new(), RandomState::new());
        // Each distinct URL text once: one 64-bit hash per URL is all that grows with the input.
        let distinct = urls.filter(move |text| future::ready(seen.insert(hasher.hash_one(text))));
        let (scraper, cpu) = (self.clone(), exec.cpu());
        // futurepool's map stream over a stream input: lazy, at most `lookahead` URLs ahead;
        // dropping it drops `exec`, which cancels what is still running.
        let rows = map_tasks_unordered(
            move |text| exec.submit(scraper.clone().fetch_row(cpu.clone(), text)),
            distinct,
        )
        .buffer(lookahead);
        // Only cancellation (the stream being dropped) fails a task: panics became rows.
        Ok(rows.filter_map(|done| future::ready(done.ok())).boxed())
    }

    /// Crawls from `seeds`: follows `<a href>` links on the seeds' hosts breadth-first up to
    /// `depth`, fetches each URL once, obeys robots.txt unless `ignore_robots`, and stops after
    /// `max_pages` rows. Must be called inside a Tokio runtime.
    pub fn crawl<I>(&self, seeds: I) -> Result<RowStream, ScrapeError>
    where
        I: IntoIterator<Item = String>,
    {
        self.crawl_run(seeds, None)
    }

    /// Like [`crawl`](Scraper::crawl), resuming from and journaling to `state` (`--state`):
    /// pages whose rows the journal has are not fetched again, and each new row is journaled
    /// before it is yielded. See [`crate::state`] for the file and what it guarantees.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// use futurepool_scraper::{Config, Scraper, state::{CrawlParams, CrawlState}};
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let seeds = vec!["https://example.com/".to_string()];
    /// let params = CrawlParams { seeds: seeds.clone(), depth: 2, ignore_robots: false, sitemaps: false, format: "jsonl".into() };
    /// let config = Config::default();
    /// let state = CrawlState::open("crawl.state".as_ref(), &params, config.max_pages)?;
    /// let mut rows = Scraper::new(config)?.crawl_with_state(seeds, state)?;
    /// while let Some(row) = rows.next().await {
    ///     println!("{}", serde_json::to_string(&row)?);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn crawl_with_state<I>(&self, seeds: I, state: CrawlState) -> Result<RowStream, ScrapeError>
    where
        I: IntoIterator<Item = String>,
    {
        self.crawl_run(seeds, Some(state))
    }

    fn crawl_run<I>(&self, seeds: I, state: Option<CrawlState>) -> Result<RowStream, ScrapeError>
    where
        I: IntoIterator<Item = String>,
    {
        let run = CrawlRun::new(self.clone(), seeds, state)?;
        Ok(stream::unfold(
            run,
            |mut s| async move { s.next_row().await.map(|r| (r, s)) },
        )
        .boxed())
    }

    /// Fetches one page and, for HTML, scans its title (and links when `want_links`).
    async fn fetch_page(
        &self,
        cpu: Option<&Cpu>,
        url: &Url,
        want_links: bool,
        follow: &http::Follow,
    ) -> (Row, Vec<Url>, Option<Url>) {
        let inner = &self.inner;
        let extract = if want_links {
            Extract::TitleAndLinks
        } else {
            Extract::Title
        };
        let offload = u64::try_from(inner.config.offload_parse_bytes).unwrap_or(u64::MAX);
        let Fetched {
            mut row,
            final_url,
            body,
        } = http::fetch_url(
            &inner.client,
            &inner.config,
            &inner.hosts,
            url,
            follow,
            |head| PageBody::open(head, extract, offload, cpu),
        )
        .await;
        // No page yields more URLs than the crawl could fetch: a page with a million links keeps
        // `max_pages` of them, and counts the others.
        let max_links = usize::try_from(inner.config.max_pages).unwrap_or(usize::MAX);
        let mut links = Vec::new();
        let mut found = 0;
        if let Some((page, count)) = body.and_then(|b| b.into_page(max_links)) {
            row.title = page.title;
            links = page.links;
            found = count;
        }
        if want_links {
            row.links = Some(found as u64);
        }
        (row, links, final_url)
    }

    async fn load_robots(&self, url: &Url) -> Robots {
        let inner = &self.inner;
        let Ok(robots_url) = url.join("/robots.txt") else {
            return Robots::allow_all();
        };
        let config = Config {
            max_bytes: 512 * 1024,
            ..inner.config.clone()
        };
        let fetched = http::fetch_url(
            &inner.client,
            &config,
            &inner.hosts,
            &robots_url,
            http::follow_all(),
            |_| Some(Vec::new()),
        )
        .await;
        // RFC 9309, 2.3.1: a 4xx (or a redirect that leads nowhere) means there are no rules; a
        // 5xx, or no complete answer at all, means the host is off limits for now.
        match (fetched.row.status, fetched.body) {
            // A robots.txt over 512 KiB is parsed as far as it was read (RFC 9309 allows this).
            (Some(200..=299), Some(body))
                if matches!(fetched.row.error_kind, None | Some(ErrorKind::TooLarge)) =>
            {
                Robots::parse(&inner.agent_token, &body, inner.config.max_crawl_delay)
            }
            (Some(300..=499), _) if fetched.row.error_kind.is_none() => Robots::allow_all(),
            _ => Robots::disallow_all(),
        }
    }

    /// The robots rules of `url`'s host, loaded on first use (all allowed under `ignore_robots`).
    pub(crate) async fn robots_for(&self, url: &Url) -> Option<Arc<Robots>> {
        if self.inner.config.ignore_robots {
            return None;
        }
        let host = self.inner.hosts.get(url);
        Some(host.robots(|| self.load_robots(url)).await)
    }

    /// Whether robots.txt lets the crawl fetch `url` (loading it if needed); a refusal is counted.
    async fn robots_allow(&self, url: &Url) -> bool {
        let allowed = self
            .robots_for(url)
            .await
            .is_none_or(|robots| robots.allowed(url.as_str()));
        if !allowed {
            self.inner.robots_blocked.fetch_add(1, Ordering::Relaxed);
        }
        allowed
    }

    /// Whether `url` is known to be disallowed now, by rules already loaded: `None` when its
    /// host's robots.txt has not been read yet. Never fetches.
    pub(crate) fn robots_known(&self, url: &Url) -> Option<bool> {
        if self.inner.config.ignore_robots {
            return Some(true);
        }
        let robots = self.inner.hosts.get(url).robots_loaded()?;
        Some(robots.allowed(url.as_str()))
    }

    /// The page URLs of the sitemaps of `seed`'s host (`--sitemaps`): those robots.txt names in
    /// `Sitemap:` lines, else `/sitemap.xml`; indexes are followed one level down. At most
    /// `max_pages` URLs and [`MAX_SITEMAP_FILES`](crate::sitemap::MAX_SITEMAP_FILES) files,
    /// each body capped like a page; sitemap files robots.txt disallows are not read.
    pub(crate) async fn sitemap_urls(self, seed: Url) -> Vec<Url> {
        use crate::sitemap::{MAX_SITEMAP_FILES, parse_sitemap};
        let inner = &self.inner;
        let budget = usize::try_from(inner.config.max_pages).unwrap_or(usize::MAX);
        let robots = self.robots_for(&seed).await;
        let named = robots
            .as_ref()
            .map(|r| r.sitemaps.clone())
            .unwrap_or_default();
        let mut queue: std::collections::VecDeque<(String, u32)> = if named.is_empty() {
            seed.join("/sitemap.xml")
                .map(|u| (u.to_string(), 0))
                .into_iter()
                .collect()
        } else {
            named.into_iter().map(|u| (u, 0)).collect()
        };
        let (mut urls, mut files) = (Vec::new(), 0);
        while let Some((text, level)) = queue.pop_front() {
            if files == MAX_SITEMAP_FILES || urls.len() >= budget {
                break;
            }
            let Ok(url) = http::parse_url(&text) else {
                continue;
            };
            if robots.as_ref().is_some_and(|r| !r.allowed(url.as_str())) {
                continue;
            }
            files += 1;
            let fetched = http::fetch_url(
                &inner.client,
                &inner.config,
                &inner.hosts,
                &url,
                http::follow_all(),
                |_| Some(Vec::new()),
            )
            .await;
            let (Some(200..=299), Some(body)) = (fetched.row.status, fetched.body) else {
                continue;
            };
            let map = parse_sitemap(&body, budget - urls.len());
            drop(body);
            urls.extend(map.urls.iter().filter_map(|u| Url::parse(u).ok()));
            if level == 0 {
                queue.extend(map.sitemaps.into_iter().map(|u| (u, level + 1)));
            }
        }
        urls
    }

    /// Counts a URL skipped because robots.txt disallows it.
    pub(crate) fn count_blocked(&self) {
        self.inner.robots_blocked.fetch_add(1, Ordering::Relaxed);
    }

    /// The row of one input line of a fetch: rejected at once if it is not a URL we fetch, else
    /// fetched, title included; a panic becomes an error row.
    async fn fetch_row(self, cpu: Cpu, text: String) -> Row {
        let url = match http::parse_url(&text) {
            Ok(url) => url,
            Err((kind, detail)) => return rejected(&text, kind, detail),
        };
        let out = AssertUnwindSafe(self.fetch_page(Some(&cpu), &url, false, http::follow_all()))
            .catch_unwind()
            .await;
        match out {
            Ok((mut row, _, _)) => {
                row.url = text;
                row
            }
            Err(payload) => panicked_row(&text, payload),
        }
    }

    pub(crate) async fn crawl_page(self, cpu: Cpu, url: Url, depth: u32) -> CrawlOutcome {
        if !self.robots_allow(&url).await {
            return CrawlOutcome::Blocked(url.into());
        }
        // Each redirect target passes its own host's robots.txt before it is requested.
        let scraper = self.clone();
        let follow = move |target: &Url| -> BoxFuture<'static, bool> {
            let (scraper, target) = (scraper.clone(), target.clone());
            Box::pin(async move { scraper.robots_allow(&target).await })
        };
        let (mut row, links, final_url) = self.fetch_page(Some(&cpu), &url, true, &follow).await;
        row.depth = Some(depth);
        CrawlOutcome::Page(Box::new(CrawledPage {
            row,
            depth,
            links,
            final_url,
        }))
    }
}

pub(crate) fn rejected(url: &str, kind: ErrorKind, detail: String) -> Row {
    // A text too long to be a URL is not repeated whole: its start and an ellipsis.
    let mut row = if url.len() > 1024 {
        let mut cut = 256;
        while !url.is_char_boundary(cut) {
            cut -= 1;
        }
        Row::new(format!("{}…", &url[..cut]))
    } else {
        Row::new(url)
    };
    row.set_error(kind, detail);
    row
}

pub(crate) fn panicked_row(url: &str, payload: Box<dyn std::any::Any + Send>) -> Row {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned());
    rejected(url, ErrorKind::Other, format!("internal error: {msg}"))
}
