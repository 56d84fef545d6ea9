//! `scrape`: a concurrent URL fetcher and polite crawler, built on [futurepool] and reqwest.
//!
//! This crate is the library behind the `scrape` command and the showcase of futurepool: the
//! Python `ThreadPoolExecutor` + `requests` page-downloader demo, rebuilt async-native. Each URL is
//! a future on a futurepool `AsyncPool` bounded by `concurrency`. `fetch` maps its URL stream
//! with `map_tasks_unordered`; `crawl`, whose input grows from its own results, collects its
//! pages with `as_completed` and `push`. Either way each page is streamed as a [`Row`] the moment
//! it finishes; per-host slots, robots.txt, retries and the body cap sit inside each future.
//!
//! ```no_run
//! use futures::StreamExt;
//! use futurepool_scraper::{crawl, Config};
//!
//! # async fn demo() -> Result<(), futurepool_scraper::ScrapeError> {
//! let config = Config { depth: 1, max_pages: 50, ..Config::default() };
//! let mut rows = crawl(config, ["https://example.com/".to_string()])?;
//! while let Some(row) = rows.next().await {
//!     println!("{}", serde_json::to_string(&row).unwrap());
//! }
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod config;
mod crawl;
pub mod demo;
mod exec;
pub mod hosts;
pub mod html;
pub mod http;
pub mod output;
mod page;
mod row;
mod run;
pub mod sitemap;
pub mod state;

pub use config::{Config, DEFAULT_USER_AGENT};
pub use row::{ErrorKind, Row};
pub use run::{RowStream, Scraper};

use std::fmt;

/// Why a run could not start.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScrapeError {
    /// A configuration value is out of range.
    Config(String),
    /// The HTTP client could not be built.
    Client(String),
    /// No Tokio runtime, or the executor could not be built.
    Runtime(String),
}

impl fmt::Display for ScrapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScrapeError::Config(m) => write!(f, "invalid configuration: {m}"),
            ScrapeError::Client(m) => write!(f, "cannot build the HTTP client: {m}"),
            ScrapeError::Runtime(m) => write!(f, "cannot start the run: {m}"),
        }
    }
}

impl std::error::Error for ScrapeError {}

/// Fetches every URL of `urls` with a new [`Scraper`]; rows arrive in completion order.
///
/// ```no_run
/// # async fn demo() -> Result<(), futurepool_scraper::ScrapeError> {
/// use futures::StreamExt;
/// let urls = vec!["https://example.com/".to_string(), "https://example.org/".to_string()];
/// let rows: Vec<_> = futurepool_scraper::fetch(Default::default(), urls)?.collect().await;
/// assert_eq!(rows.len(), 2);
/// # Ok(()) }
/// ```
pub fn fetch<I>(config: Config, urls: I) -> Result<RowStream, ScrapeError>
where
    I: IntoIterator<Item = String>,
    I::IntoIter: Send + 'static,
{
    Scraper::new(config)?.fetch(urls)
}

/// Crawls from `seeds` with a new [`Scraper`] (see [`Scraper::crawl`]).
pub fn crawl<I>(config: Config, seeds: I) -> Result<RowStream, ScrapeError>
where
    I: IntoIterator<Item = String>,
{
    Scraper::new(config)?.crawl(seeds)
}
