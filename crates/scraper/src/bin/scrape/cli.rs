//! Command line of `scrape`: parsing, input, output, progress, summary and exit codes.

use crate::input::open_input;
use crate::session::Session;
use clap::{Args, Parser, Subcommand};
use futurepool_scraper::demo::{DemoServer, DemoSite};
use futurepool_scraper::output::Format;
use futurepool_scraper::state::CrawlParams;
use futurepool_scraper::{Config, DEFAULT_USER_AGENT, Scraper};
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Exit status of a run that completed, whatever its rows hold.
pub(crate) const EXIT_OK: i32 = 0;
/// Exit status of a run that failed for another reason (e.g. the output cannot be written).
pub(crate) const EXIT_FAILED: i32 = 1;
/// Exit status of a usage error.
pub(crate) const EXIT_USAGE: i32 = 2;
/// Exit status after Ctrl-C (128 + SIGINT).
pub(crate) const EXIT_INTERRUPTED: i32 = 130;

#[derive(Parser, Debug)]
#[command(
    name = "scrape",
    version,
    about = "Fetch URLs or crawl sites concurrently and politely; one row per page, streamed as pages complete.",
    long_about = None,
    after_help = "Rows have: url, final_url, status, bytes, elapsed_ms, attempts, error, content_type, title \
                  (crawl adds depth and links). Exit status: 0 when the run completed, whatever the rows hold; \
                  2 for a usage error; 130 after Ctrl-C."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Fetch each URL once (given as arguments and/or read from --input); one row per URL.
    Fetch {
        /// URLs to fetch (http or https).
        #[arg(value_name = "URL")]
        urls: Vec<String>,
        /// Read URLs from FILE, one per line, or from standard input with `-`; blank lines and
        /// lines starting with # are skipped.
        #[arg(long, value_name = "FILE|-")]
        input: Option<PathBuf>,
        #[command(flatten)]
        opts: Opts,
    },
    /// Crawl from the seeds, following links on the seeds' hosts and obeying robots.txt.
    #[command(
        about = "Crawl from the seeds: follow <a href> links on the seeds' hosts, obeying robots.txt"
    )]
    Crawl {
        /// Start URLs; only their hosts are crawled.
        #[arg(value_name = "SEED", required = true)]
        seeds: Vec<String>,
        /// Follow links this many hops from the seeds (seed = 0).
        #[arg(
            long,
            value_name = "N",
            allow_negative_numbers = true,
            default_value_t = 2
        )]
        depth: u32,
        /// Stop after this many rows.
        #[arg(long, value_name = "N", allow_negative_numbers = true, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
        max_pages: u64,
        /// Do not fetch or obey robots.txt (Disallow and Crawl-delay).
        #[arg(long)]
        ignore_robots: bool,
        /// Also start from the URLs of the seeds' sitemaps (robots.txt `Sitemap:` lines, else
        /// /sitemap.xml; sitemap indexes and gzip are read), within --max-pages.
        #[arg(long)]
        sitemaps: bool,
        /// Keep a journal of the crawl in FILE (needs --output, jsonl or csv); running the same
        /// command again resumes the crawl and appends the new rows to the output.
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
        #[command(flatten)]
        opts: Opts,
    },
    /// Serve a generated site on 127.0.0.1 and crawl it (works offline); prints a summary.
    Demo {
        /// Number of pages of the generated site.
        #[arg(long, value_name = "N", allow_negative_numbers = true, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        pages: u32,
        #[command(flatten)]
        opts: Opts,
    },
}

#[derive(Args, Debug)]
pub(crate) struct Opts {
    /// Requests in flight overall.
    #[arg(long, value_name = "N", allow_negative_numbers = true, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    concurrency: u32,
    /// Requests in flight to one host (host name and port).
    #[arg(long, value_name = "N", allow_negative_numbers = true, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    per_host: u32,
    /// Limit on one whole request: connect, headers and body (decimals allowed).
    #[arg(long, value_name = "SECS", allow_negative_numbers = true, default_value = "30", value_parser = parse_secs)]
    timeout: Duration,
    /// Further attempts after a connect error, timeout, 429 or 5xx, with exponential backoff and
    /// jitter, honouring Retry-After.
    #[arg(long, value_name = "N", allow_negative_numbers = true, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=100))]
    retries: u32,
    /// A larger body is not read past N bytes and its row gets an error.
    #[arg(long, value_name = "N", allow_negative_numbers = true, default_value_t = 10_485_760, value_parser = clap::value_parser!(u64).range(1..))]
    max_bytes: u64,
    /// Sent as User-Agent on every request; its first word is the robots.txt agent token.
    #[arg(long, value_name = "S", default_value = DEFAULT_USER_AGENT)]
    user_agent: String,
    /// Row format [default: table when stdout is a terminal, jsonl otherwise].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub(crate) format: Option<Format>,
    /// Write rows to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// No progress bar and no summary (both go to stderr, and only when it is a terminal).
    #[arg(long)]
    pub(crate) quiet: bool,
    /// First retry delay in milliseconds (doubles per retry).
    #[arg(long, value_name = "MS", hide = true)]
    backoff_ms: Option<u64>,
    /// Scan HTML bodies larger than N bytes on the CPU pool, smaller ones on the runtime
    /// (benchmarks compare the two).
    #[arg(long, value_name = "N", hide = true)]
    offload_parse_bytes: Option<usize>,
}

fn parse_secs(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(secs.is_finite() && secs > 0.0 && secs <= 86_400.0) {
        return Err(format!(
            "`{text}` must be more than 0 and at most 86400 seconds"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl Opts {
    fn config(&self) -> Config {
        let mut config = Config {
            concurrency: self.concurrency as usize,
            per_host: self.per_host as usize,
            timeout: self.timeout,
            retries: self.retries,
            max_bytes: self.max_bytes,
            user_agent: self.user_agent.clone(),
            ..Config::default()
        };
        if let Some(ms) = self.backoff_ms {
            config.backoff_base = Duration::from_millis(ms);
        }
        if let Some(bytes) = self.offload_parse_bytes {
            config.offload_parse_bytes = bytes;
        }
        config
    }
}

/// A usage error: printed as one line, exit status 2.
pub(crate) struct Usage(pub(crate) String);

/// Writes one line to standard error; a closed or broken stderr is ignored, never a panic.
pub(crate) fn say(line: std::fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(line).and_then(|()| err.write_all(b"\n"));
}

/// Parses the command line and runs it; returns the exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            use clap::error::ErrorKind as K;
            if matches!(
                err.kind(),
                K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = err.print();
                return if err.kind() == K::DisplayHelpOnMissingArgumentOrSubcommand {
                    EXIT_USAGE
                } else {
                    EXIT_OK
                };
            }
            say(format_args!("{}", one_line(&err.to_string())));
            return EXIT_USAGE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            say(format_args!("scrape: cannot start the runtime: {e}"));
            return EXIT_FAILED;
        }
    };
    let code = match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(Usage(msg)) => {
            say(format_args!("scrape: {msg}"));
            EXIT_USAGE
        }
    };
    // Do not wait for blocking work still under way: a read of a standard input that stays open
    // would hold the exit until EOF (after Ctrl-C, too).
    runtime.shutdown_background();
    code
}

/// Squeezes clap's multi-line error into one line.
fn one_line(text: &str) -> String {
    let parts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty() && !l.starts_with("tip:"))
        .collect();
    let line = parts.join(" ");
    let line = line.strip_prefix("error: ").unwrap_or(&line);
    format!("scrape: {line} (see `scrape --help`)")
}

async fn run(cli: Cli) -> Result<i32, Usage> {
    match cli.command {
        Command::Fetch { urls, input, opts } => {
            if urls.is_empty() && input.is_none() {
                return Err(Usage("fetch needs URLs or --input FILE|-".into()));
            }
            if let (Some(input), Some(output)) = (&input, &opts.output) {
                refuse_same_file(input, output)?;
            }
            let lines = match &input {
                Some(path) => Some(open_input(path).await?),
                None => None,
            };
            let scraper = new_scraper(opts.config())?;
            let given = stream::iter(urls);
            let all: BoxStream<'static, String> = match lines {
                Some(lines) => given.chain(lines).boxed(),
                None => given.boxed(),
            };
            let rows = scraper
                .fetch_stream(all)
                .map_err(|e| Usage(e.to_string()))?;
            let session = Session::new(&opts, false, false, None)?;
            Ok(session.drive(rows, &scraper).await)
        }
        Command::Crawl {
            seeds,
            depth,
            max_pages,
            ignore_robots,
            sitemaps,
            state,
            opts,
        } => {
            let config = Config {
                depth,
                max_pages,
                ignore_robots,
                sitemaps,
                ..opts.config()
            };
            let scraper = new_scraper(config)?;
            let (rows, session) = match state {
                None => (
                    scraper.crawl(seeds).map_err(|e| Usage(e.to_string()))?,
                    Session::new(&opts, true, false, None)?,
                ),
                Some(path) => {
                    let params = CrawlParams {
                        seeds: seeds.clone(),
                        depth,
                        ignore_robots,
                        sitemaps,
                        format: String::new(),
                    };
                    let (state, output) = crate::resume::open(&path, params, max_pages, &opts)?;
                    let rows = scraper
                        .crawl_with_state(seeds, state)
                        .map_err(|e| Usage(e.to_string()))?;
                    (rows, Session::new(&opts, true, false, Some(output))?)
                }
            };
            Ok(session.drive(rows, &scraper).await)
        }
        Command::Demo { pages, opts } => {
            let server = DemoServer::start(DemoSite {
                pages,
                ..DemoSite::default()
            })
            .await
            .map_err(|e| Usage(format!("cannot start the demo server: {e}")))?;
            let mut config = Config {
                depth: 100,
                max_pages: u64::from(pages) * 2 + 50,
                ..opts.config()
            };
            if opts.backoff_ms.is_none() {
                config.backoff_base = Duration::from_millis(50);
            }
            let retries = config.retries;
            let scraper = new_scraper(config)?;
            if !opts.quiet {
                say(format_args!(
                    "scrape demo: serving a {pages}-page site at {} and crawling it (robots.txt disallows /private/; \
                     some pages are slow, missing, failing or redirected)",
                    server.url("/")
                ));
            }
            let rows = scraper
                .crawl([server.url("/")])
                .map_err(|e| Usage(e.to_string()))?;
            let session = Session::new(&opts, true, true, None)?;
            let code = session.drive(rows, &scraper).await;
            if !opts.quiet {
                say(format_args!(
                    "  server:    {} requests served; /private/ requested {} times; each 500 page tried {} times",
                    server.requests(),
                    server.private_hits(),
                    retries + 1
                ));
            }
            Ok(code)
        }
    }
}

/// Refuses `--output` onto the `--input` file (which creating the output would erase), however
/// the two paths are spelled: they are compared as files.
fn refuse_same_file(input: &Path, output: &Path) -> Result<(), Usage> {
    if input.as_os_str() != "-" && same_file::is_same_file(input, output).unwrap_or(false) {
        return Err(Usage(format!(
            "--output {} is the same file as --input {}: it would erase the URL list",
            output.display(),
            input.display()
        )));
    }
    Ok(())
}

fn new_scraper(config: Config) -> Result<Scraper, Usage> {
    Scraper::new(config).map_err(|e| Usage(e.to_string()))
}
