//! One crawl: the frontier, breadth first, within the page budget and per-host slots.
//!
//! The crawl never keeps more URLs than it could still fetch: a link is queued only while the
//! queue is shorter than `max_pages` minus the pages already scheduled, so a page with a million
//! links costs no more than one with a few. Links whose host's robots.txt is already known to
//! disallow them are skipped when found, so they take no place in the queue.

use crate::ScrapeError;
use crate::exec::{Completion, Exec, completion};
use crate::hosts::host_key;
use crate::http;
use crate::row::Row;
use crate::run::{CrawlOutcome, CrawledPage, Scraper, panicked_row, rejected};
use crate::state::{CrawlState, Record};
use futures::FutureExt;
use futures::stream::StreamExt;
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;
use std::panic::AssertUnwindSafe;
use url::Url;

pub(crate) struct CrawlRun {
    scraper: Scraper,
    exec: Exec,
    running: Completion<(String, CrawlOutcome)>,
    ready: VecDeque<Row>,
    frontier: VecDeque<(Url, u32)>,
    /// URLs queued or fetched (and where redirects ended): at most the page budget, plus the
    /// seeds and one final URL a page.
    seen: HashSet<String>,
    scope: HashSet<String>,
    /// Rows written, pages running and rows ready: what counts against `max_pages`.
    scheduled: u64,
    /// Submitted, unfinished pages per host key: a host never holds more than `per_host` pool
    /// slots, so a slow or Crawl-delayed host cannot starve the others.
    per_host_running: HashMap<String, usize>,
    /// Queued (not yet scheduled) pages per host key.
    queued: HashMap<String, usize>,
    /// Hashes of links skipped by robots.txt when found (at most `max_pages`), so each is
    /// counted once.
    blocked: HashSet<u64>,
    hasher: RandomState,
    /// Tasks submitted ahead of the rows asked for.
    lookahead: usize,
    /// `--state`: each row is journaled before it is handed on.
    journal: Option<CrawlState>,
    /// The seeds' sitemaps were read (or `--sitemaps` is off).
    sitemaps_done: bool,
    /// Sitemap tasks running, and the URLs queued from those done so far.
    sitemaps_running: usize,
    sitemap_queued: Vec<String>,
}

impl CrawlRun {
    /// A crawl from `seeds`; with a `journal`, it resumes from the journal's records and
    /// journals as it goes.
    pub(crate) fn new<I>(
        scraper: Scraper,
        seeds: I,
        mut journal: Option<CrawlState>,
    ) -> Result<CrawlRun, ScrapeError>
    where
        I: IntoIterator<Item = String>,
    {
        let config = scraper.config();
        let records = journal.as_mut().map(CrawlState::take_records);
        // With a journal, no more pages are in flight than `concurrency`: a crash then repeats
        // at most that many requests (the pages fetched but not yet journaled).
        let lookahead = match journal {
            Some(_) => config.concurrency,
            None => config.concurrency.saturating_mul(2).max(2),
        };
        let done: HashSet<String> = records
            .iter()
            .flatten()
            .filter_map(|r| match r {
                Record::Page { row, .. } => Some(row.url.clone()),
                Record::Blocked { url } => Some(url.clone()),
                Record::Sitemaps { .. } => None,
            })
            .collect();
        let mut run = CrawlRun {
            exec: Exec::new(config.concurrency)?,
            lookahead,
            journal,
            sitemaps_done: !config.sitemaps,
            sitemaps_running: 0,
            sitemap_queued: Vec::new(),
            scraper,
            running: completion(),
            ready: VecDeque::new(),
            frontier: VecDeque::new(),
            seen: HashSet::new(),
            scope: HashSet::new(),
            scheduled: 0,
            per_host_running: HashMap::new(),
            queued: HashMap::new(),
            blocked: HashSet::new(),
            hasher: RandomState::new(),
        };
        let mut seed_urls = Vec::new();
        for seed in seeds {
            match http::parse_url(&seed) {
                Ok(mut url) => {
                    url.set_fragment(None);
                    seed_urls.push(url.clone());
                    run.scope.insert(url.host_str().unwrap_or("").to_owned());
                    if run.seen.insert(url.as_str().to_owned()) {
                        run.enqueue(url, 0);
                    }
                }
                Err(_) if done.contains(&seed) => {}
                Err((kind, detail)) => {
                    let mut row = rejected(&seed, kind, detail);
                    row.depth = Some(0);
                    row.links = Some(0);
                    run.ready.push_back(row);
                }
            }
        }
        if let Some(records) = records {
            run.replay(records, &done);
        }
        if !run.sitemaps_done {
            run.start_sitemaps(seed_urls);
        }
        Ok(run)
    }

    /// One task per seed host reads its sitemaps; their URLs are queued as seeds (depth 0).
    fn start_sitemaps(&mut self, seeds: Vec<Url>) {
        let mut hosts = HashSet::new();
        for seed in seeds {
            if !hosts.insert(host_key(&seed)) {
                continue;
            }
            let scraper = self.scraper.clone();
            let fut = async move {
                let urls = AssertUnwindSafe(scraper.sitemap_urls(seed))
                    .catch_unwind()
                    .await
                    .unwrap_or_default();
                (String::new(), CrawlOutcome::Sitemap(urls))
            };
            self.running.push(self.exec.submit(fut));
            self.sitemaps_running += 1;
        }
        if self.sitemaps_running == 0 {
            self.sitemaps_done = true;
        }
    }

    /// Rebuilds the crawl's state from its journal: pages done, URLs seen, the queue in the
    /// order the first run built it, less what is done.
    fn replay(&mut self, records: Vec<Record>, done: &HashSet<String>) {
        for record in records {
            match record {
                Record::Page { row, links } => {
                    self.scheduled += 1;
                    self.seen.insert(row.url.clone());
                    if let Some(mut final_url) = row.final_url.and_then(|u| Url::parse(&u).ok()) {
                        final_url.set_fragment(None);
                        self.seen.insert(final_url.into());
                    }
                    let depth = row.depth.unwrap_or(0) + 1;
                    self.queue_replayed(links, depth);
                }
                Record::Blocked { .. } => {}
                Record::Sitemaps { urls } => {
                    self.sitemaps_done = true;
                    self.queue_replayed(urls, 0);
                }
            }
        }
        self.frontier
            .retain(|(url, _)| !done.contains(url.as_str()));
        self.queued.clear();
        for (url, _) in &self.frontier {
            *self.queued.entry(host_key(url)).or_default() += 1;
        }
    }

    /// Appends `url` to the queue.
    fn enqueue(&mut self, url: Url, depth: u32) {
        *self.queued.entry(host_key(&url)).or_default() += 1;
        self.frontier.push_back((url, depth));
    }

    /// Whether some host with queued pages has a free slot: without one, `fill` has nothing to
    /// look for (scanning the queue for one cost a 100k-page crawl of one host 17x its time).
    fn any_host_free(&self, per_host: usize) -> bool {
        self.queued.iter().any(|(key, &n)| {
            n > 0 && self.per_host_running.get(key).copied().unwrap_or(0) < per_host
        })
    }

    fn queue_replayed(&mut self, urls: Vec<String>, depth: u32) {
        for url in urls {
            if let Ok(url) = Url::parse(&url)
                && self.seen.insert(url.as_str().to_owned())
            {
                self.enqueue(url, depth);
            }
        }
    }

    /// Journals `record` (with `--state`); a journal that cannot be written stops journaling,
    /// not the crawl.
    fn journal(&mut self, record: impl FnOnce() -> Record) {
        if let Some(journal) = self.journal.as_mut()
            && let Err(e) = journal.append(&record())
        {
            tracing::error!(error = %e, "cannot write the crawl's state file; the crawl goes on without it");
            self.journal = None;
        }
    }

    /// Pages the crawl may still schedule beyond those queued.
    fn room(&self) -> u64 {
        let max_pages = self.scraper.config().max_pages;
        max_pages.saturating_sub(self.scheduled + self.frontier.len() as u64)
    }

    /// Queues `link` at `depth` if it is in scope, new, within the budget and not known to be
    /// disallowed; returns whether it was queued.
    fn admit(&mut self, link: Url, depth: u32) -> bool {
        let in_scope = link.host_str().is_some_and(|h| self.scope.contains(h));
        if !in_scope || self.room() == 0 || self.seen.contains(link.as_str()) {
            return false;
        }
        if self.scraper.robots_known(&link) == Some(false) {
            let max = usize::try_from(self.scraper.config().max_pages).unwrap_or(usize::MAX);
            if self.blocked.len() < max && self.blocked.insert(self.hasher.hash_one(link.as_str()))
            {
                self.scraper.count_blocked();
            }
            return false;
        }
        self.seen.insert(link.as_str().to_owned());
        self.enqueue(link, depth);
        true
    }

    fn fill(&mut self) {
        const MAX_SCAN: usize = 4096;
        let config = self.scraper.config().clone();
        let mut waiting = Vec::new();
        while self.running.len() < self.lookahead
            && self.scheduled < config.max_pages
            && waiting.len() < MAX_SCAN
        {
            if !self.any_host_free(config.per_host) {
                break;
            }
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
            if let Some(n) = self.queued.get_mut(&key) {
                *n = n.saturating_sub(1);
            }
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

    pub(crate) async fn next_row(&mut self) -> Option<Row> {
        let max_pages = self.scraper.config().max_pages;
        let max_depth = self.scraper.config().depth;
        loop {
            if self.scheduled < max_pages
                && let Some(row) = self.ready.pop_front()
            {
                self.scheduled += 1;
                self.journal(|| Record::Page {
                    row: row.clone(),
                    links: Vec::new(),
                });
                return Some(row);
            }
            self.ready.clear();
            self.fill();
            match self.running.next().await? {
                // Only cancellation (the run is being dropped) fails a task; panics became rows.
                Err(_) => {}
                Ok((_, CrawlOutcome::Sitemap(urls))) => {
                    for url in urls {
                        let text = self.journal.is_some().then(|| url.to_string());
                        if self.admit(url, 0) {
                            self.sitemap_queued.extend(text);
                        }
                    }
                    self.sitemaps_running -= 1;
                    if self.sitemaps_running == 0 {
                        // Journaled once all are read: a crash before reads them again.
                        let urls = std::mem::take(&mut self.sitemap_queued);
                        self.sitemaps_done = true;
                        self.journal(|| Record::Sitemaps { urls });
                    }
                }
                Ok((key, CrawlOutcome::Blocked(url))) => {
                    self.finished(&key);
                    self.scheduled -= 1;
                    self.journal(|| Record::Blocked { url });
                }
                Ok((key, CrawlOutcome::Page(page))) => {
                    self.finished(&key);
                    let CrawledPage {
                        row,
                        depth,
                        links,
                        final_url,
                    } = *page;
                    if let Some(mut final_url) = final_url {
                        final_url.set_fragment(None);
                        self.seen.insert(final_url.into());
                    }
                    let mut queued = Vec::new();
                    if depth < max_depth {
                        for link in links {
                            let text = self.journal.is_some().then(|| link.to_string());
                            if self.admit(link, depth + 1) {
                                queued.extend(text);
                            }
                        }
                    }
                    self.journal(|| Record::Page {
                        row: row.clone(),
                        links: queued,
                    });
                    return Some(row);
                }
            }
        }
    }
}
