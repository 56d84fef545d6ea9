//! The two runs, `fetch` and `crawl`, as streams of rows in completion order.

use crate::exec::{Completion, Cpu, Exec, completion};
use crate::hosts::{Hosts, Robots, host_key};
use crate::html::Extract;
use crate::http::{self, Fetched};
use crate::page::PageBody;
use crate::row::{ErrorKind, Row};
use crate::{Config, ScrapeError};
use futurepool::map_tasks_unordered;
use futures::FutureExt;
use futures::future;
use futures::stream::{self, BoxStream, Stream, StreamExt};
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet, VecDeque};
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
enum CrawlOutcome {
    Blocked,
    Page(Box<CrawledPage>),
}

/// A fetched crawl page: its row, depth, links and where it ended up after redirects.
struct CrawledPage {
    row: Row,
    depth: u32,
    links: Vec<Url>,
    final_url: Option<Url>,
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
                let (mut row, _, _) = self.fetch_page(None, &parsed, false).await;
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
        let mut state = CrawlRun {
            scraper: self.clone(),
            exec: Exec::new(self.inner.config.concurrency)?,
            running: completion(),
            ready: VecDeque::new(),
            frontier: VecDeque::new(),
            seen: HashSet::new(),
            scope: HashSet::new(),
            scheduled: 0,
            per_host_running: HashMap::new(),
        };
        for seed in seeds {
            match http::parse_url(&seed) {
                Ok(mut url) => {
                    url.set_fragment(None);
                    state.scope.insert(url.host_str().unwrap_or("").to_owned());
                    if state.seen.insert(url.as_str().to_owned()) {
                        state.frontier.push_back((url, 0));
                    }
                }
                Err((kind, detail)) => {
                    let mut row = rejected(&seed, kind, detail);
                    row.depth = Some(0);
                    row.links = Some(0);
                    state.ready.push_back(row);
                }
            }
        }
        Ok(stream::unfold(
            state,
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
        } = http::fetch_url(&inner.client, &inner.config, &inner.hosts, url, |head| {
            PageBody::open(head, extract, offload, cpu)
        })
        .await;
        let mut links = Vec::new();
        if let Some(page) = body.and_then(PageBody::into_page) {
            row.title = page.title;
            links = page.links;
        }
        if want_links {
            row.links = Some(links.len() as u64);
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
        let fetched = http::fetch_url(&inner.client, &config, &inner.hosts, &robots_url, |_| {
            Some(Vec::new())
        })
        .await;
        match (fetched.row.status, fetched.body) {
            // A robots.txt over 512 KiB is parsed as far as it was read (RFC 9309 allows this).
            (Some(200..=299), Some(body))
                if matches!(fetched.row.error_kind, None | Some(ErrorKind::TooLarge)) =>
            {
                Robots::parse(&inner.agent_token, &body, inner.config.max_crawl_delay)
            }
            _ => Robots::allow_all(),
        }
    }

    /// The row of one input line of a fetch: rejected at once if it is not a URL we fetch, else
    /// fetched, title included; a panic becomes an error row.
    async fn fetch_row(self, cpu: Cpu, text: String) -> Row {
        let url = match http::parse_url(&text) {
            Ok(url) => url,
            Err((kind, detail)) => return rejected(&text, kind, detail),
        };
        let out = AssertUnwindSafe(self.fetch_page(Some(&cpu), &url, false))
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

    async fn crawl_page(self, cpu: Cpu, url: Url, depth: u32) -> CrawlOutcome {
        if !self.inner.config.ignore_robots {
            let host = self.inner.hosts.get(&url);
            let robots = host.robots(|| self.load_robots(&url)).await;
            if !robots.allowed(url.as_str()) {
                self.inner.robots_blocked.fetch_add(1, Ordering::Relaxed);
                return CrawlOutcome::Blocked;
            }
        }
        let (mut row, links, final_url) = self.fetch_page(Some(&cpu), &url, true).await;
        row.depth = Some(depth);
        CrawlOutcome::Page(Box::new(CrawledPage {
            row,
            depth,
            links,
            final_url,
        }))
    }
}

fn rejected(url: &str, kind: ErrorKind, detail: String) -> Row {
    let mut row = Row::new(url);
    row.set_error(kind, detail);
    row
}

fn panicked_row(url: &str, payload: Box<dyn std::any::Any + Send>) -> Row {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned());
    rejected(url, ErrorKind::Other, format!("internal error: {msg}"))
}

struct CrawlRun {
    scraper: Scraper,
    exec: Exec,
    running: Completion<(String, CrawlOutcome)>,
    ready: VecDeque<Row>,
    frontier: VecDeque<(Url, u32)>,
    seen: HashSet<String>,
    scope: HashSet<String>,
    scheduled: u64,
    /// Submitted, unfinished pages per host key: a host never holds more than `per_host` pool
    /// slots, so a slow or Crawl-delayed host cannot starve the others.
    per_host_running: HashMap<String, usize>,
}

impl CrawlRun {
    fn fill(&mut self) {
        const MAX_SCAN: usize = 4096;
        let config = &self.scraper.inner.config;
        let lookahead = config.concurrency.saturating_mul(2).max(2);
        let mut waiting = Vec::new();
        while self.running.len() < lookahead
            && self.scheduled < config.max_pages
            && waiting.len() < MAX_SCAN
        {
            let Some((url, depth)) = self.frontier.pop_front() else {
                break;
            };
            let key = host_key(&url);
            let busy = self.per_host_running.entry(key.clone()).or_default();
            if *busy >= config.per_host {
                waiting.push((url, depth));
                continue;
            }
            *busy += 1;
            self.scheduled += 1;
            let scraper = self.scraper.clone();
            let cpu = self.exec.cpu();
            let fut = async move {
                let text = url.to_string();
                let out = AssertUnwindSafe(scraper.crawl_page(cpu, url, depth))
                    .catch_unwind()
                    .await;
                let outcome = out.unwrap_or_else(|payload| {
                    let mut row = panicked_row(&text, payload);
                    row.depth = Some(depth);
                    row.links = Some(0);
                    CrawlOutcome::Page(Box::new(CrawledPage {
                        row,
                        depth,
                        links: Vec::new(),
                        final_url: None,
                    }))
                });
                (key, outcome)
            };
            self.running.push(self.exec.submit(fut));
        }
        // Pages of busy hosts keep their place at the front of the queue.
        for item in waiting.into_iter().rev() {
            self.frontier.push_front(item);
        }
    }

    fn finished(&mut self, key: &str) {
        if let Some(busy) = self.per_host_running.get_mut(key) {
            *busy = busy.saturating_sub(1);
        }
    }

    async fn next_row(&mut self) -> Option<Row> {
        let max_pages = self.scraper.inner.config.max_pages;
        let max_depth = self.scraper.inner.config.depth;
        loop {
            if self.scheduled < max_pages
                && let Some(row) = self.ready.pop_front()
            {
                self.scheduled += 1;
                return Some(row);
            }
            self.ready.clear();
            self.fill();
            match self.running.next().await? {
                // Only cancellation (the run is being dropped) fails a task; panics became rows.
                Err(_) => {}
                Ok((key, CrawlOutcome::Blocked)) => {
                    self.finished(&key);
                    self.scheduled -= 1;
                }
                Ok((key, CrawlOutcome::Page(page))) => {
                    self.finished(&key);
                    let CrawledPage {
                        row,
                        depth,
                        links,
                        final_url,
                    } = *page;
                    if let Some(final_url) = final_url {
                        let mut key = final_url;
                        key.set_fragment(None);
                        self.seen.insert(key.into());
                    }
                    if depth < max_depth {
                        for link in links {
                            let in_scope = link.host_str().is_some_and(|h| self.scope.contains(h));
                            if in_scope && self.seen.insert(link.as_str().to_owned()) {
                                self.frontier.push_back((link, depth + 1));
                            }
                        }
                    }
                    return Some(row);
                }
            }
        }
    }
}
