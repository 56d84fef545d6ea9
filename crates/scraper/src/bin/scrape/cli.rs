//! Command line of `scrape`: parsing, input, output, progress, summary and exit codes.

use clap::{Args, Parser, Subcommand};
use futurepool_scraper::demo::{DemoServer, DemoSite};
use futurepool_scraper::output::{Format, RowWriter, Summary, human_bytes};
use futurepool_scraper::{Config, DEFAULT_USER_AGENT, Row, RowStream, Scraper};
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;

/// Exit status of a run that completed, whatever its rows hold.
const EXIT_OK: i32 = 0;
/// Exit status of a run that failed for another reason (e.g. the output cannot be written).
const EXIT_FAILED: i32 = 1;
/// Exit status of a usage error.
const EXIT_USAGE: i32 = 2;
/// Exit status after Ctrl-C (128 + SIGINT).
const EXIT_INTERRUPTED: i32 = 130;

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
struct Opts {
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
    /// Sent as User-Agent on every request [default: futurepool-scraper/VERSION (+URL)].
    #[arg(long, value_name = "S")]
    user_agent: Option<String>,
    /// Row format [default: table when stdout is a terminal, jsonl otherwise].
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<Format>,
    /// Write rows to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// No progress bar and no summary (both go to stderr, and only when it is a terminal).
    #[arg(long)]
    quiet: bool,
    /// First retry delay in milliseconds (doubles per retry).
    #[arg(long, value_name = "MS", hide = true)]
    backoff_ms: Option<u64>,
    /// Scan HTML bodies whose Content-Length exceeds N bytes on the CPU pool instead of while
    /// they stream (benchmarks compare the two).
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
            user_agent: self
                .user_agent
                .clone()
                .unwrap_or_else(|| DEFAULT_USER_AGENT.to_owned()),
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
struct Usage(String);

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
            eprintln!("{}", one_line(&err.to_string()));
            return EXIT_USAGE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("scrape: cannot start the runtime: {e}");
            return EXIT_FAILED;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(Usage(msg)) => {
            eprintln!("scrape: {msg}");
            EXIT_USAGE
        }
    }
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
            let session = Session::new(&opts, false, false)?;
            Ok(session.drive(rows, &scraper).await)
        }
        Command::Crawl {
            seeds,
            depth,
            max_pages,
            ignore_robots,
            opts,
        } => {
            let config = Config {
                depth,
                max_pages,
                ignore_robots,
                ..opts.config()
            };
            let scraper = new_scraper(config)?;
            let rows = scraper.crawl(seeds).map_err(|e| Usage(e.to_string()))?;
            let session = Session::new(&opts, true, false)?;
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
                eprintln!(
                    "scrape demo: serving a {pages}-page site at {} and crawling it (robots.txt disallows /private/; \
                     some pages are slow, missing, failing or redirected)",
                    server.url("/")
                );
            }
            let rows = scraper
                .crawl([server.url("/")])
                .map_err(|e| Usage(e.to_string()))?;
            let session = Session::new(&opts, true, true)?;
            let code = session.drive(rows, &scraper).await;
            if !opts.quiet {
                eprintln!(
                    "  server:    {} requests served; /private/ requested {} times; each 500 page tried {} times",
                    server.requests(),
                    server.private_hits(),
                    retries + 1
                );
            }
            Ok(code)
        }
    }
}

fn new_scraper(config: Config) -> Result<Scraper, Usage> {
    Scraper::new(config).map_err(|e| Usage(e.to_string()))
}

/// Opens `--input` (a file, or stdin for `-`) and returns its URL lines as a lazy stream.
async fn open_input(path: &PathBuf) -> Result<BoxStream<'static, String>, Usage> {
    let reader: Box<dyn tokio::io::AsyncRead + Send + Unpin> = if path.as_os_str() == "-" {
        Box::new(tokio::io::stdin())
    } else {
        let unreadable =
            |e: io::Error| Usage(format!("cannot read input file {}: {e}", path.display()));
        let meta = tokio::fs::metadata(path).await.map_err(unreadable)?;
        if meta.is_dir() {
            return Err(Usage(format!(
                "cannot read input file {}: it is a directory",
                path.display()
            )));
        }
        Box::new(tokio::fs::File::open(path).await.map_err(unreadable)?)
    };
    let name = path.display().to_string();
    let lines = tokio::io::BufReader::new(reader).split(b'\n');
    Ok(stream::unfold(Some(lines), move |state| {
        let name = name.clone();
        async move {
            let mut lines = state?;
            loop {
                match lines.next_segment().await {
                    Ok(Some(raw)) => {
                        let text = String::from_utf8_lossy(&raw);
                        let line = text.trim();
                        if line.is_empty() || line.starts_with('#') {
                            continue;
                        }
                        return Some((line.to_owned(), Some(lines)));
                    }
                    Ok(None) => return None,
                    Err(e) => {
                        eprintln!("scrape: stopped reading {name}: {e}");
                        return None;
                    }
                }
            }
        }
    })
    .boxed())
}

/// Where rows go and what is shown on stderr during one run.
struct Session {
    writer: RowWriter<Box<dyn Write + Send>>,
    progress: Option<ProgressBar>,
    show_summary: bool,
}

impl Session {
    fn new(opts: &Opts, crawl: bool, always_summarise: bool) -> Result<Session, Usage> {
        let stdout_tty = io::stdout().is_terminal();
        let stderr_tty = io::stderr().is_terminal();
        let out: Box<dyn Write + Send> = match &opts.output {
            Some(path) => Box::new(io::BufWriter::new(std::fs::File::create(path).map_err(
                |e| Usage(format!("cannot write output file {}: {e}", path.display())),
            )?)),
            None => Box::new(io::BufWriter::new(io::stdout())),
        };
        let format = opts
            .format
            .unwrap_or(if stdout_tty && opts.output.is_none() {
                Format::Table
            } else {
                Format::Jsonl
            });
        let progress = (stderr_tty && !opts.quiet).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {elapsed_precise} {pos} pages ({rate}) {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_spinner())
                .with_key(
                    "rate",
                    |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.0}/s", state.per_sec());
                    },
                ),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Ok(Session {
            writer: RowWriter::new(out, format, crawl),
            progress,
            show_summary: !opts.quiet && (stderr_tty || always_summarise),
        })
    }

    /// Writes rows as they complete until the run ends or Ctrl-C; returns the exit status.
    async fn drive(mut self, mut rows: RowStream, scraper: &Scraper) -> i32 {
        let started = Instant::now();
        let mut summary = Summary::default();
        let mut code = EXIT_OK;
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        if let Err(e) = self.writer.header() {
            return write_failed(&e);
        }
        loop {
            let row: Row = tokio::select! {
                biased;
                _ = &mut ctrl_c => {
                    code = EXIT_INTERRUPTED;
                    break;
                }
                next = rows.next() => match next {
                    Some(row) => row,
                    None => break,
                },
            };
            summary.record(&row);
            let written = match &self.progress {
                Some(bar) => {
                    bar.inc(1);
                    bar.set_message(format!(
                        "{} errors, {}",
                        summary.error_count(),
                        human_bytes(summary.bytes)
                    ));
                    bar.suspend(|| self.writer.write(&row))
                }
                None => self.writer.write(&row),
            };
            if let Err(e) = written {
                code = write_failed(&e);
                break;
            }
        }
        drop(rows); // cancels whatever is still in flight
        if let Some(bar) = self.progress.take() {
            bar.finish_and_clear();
        }
        if let Err(e) = self.writer.into_inner() {
            code = code.max(write_failed(&e));
        }
        if self.show_summary {
            let mut text = summary.render(started.elapsed(), scraper.robots_blocked());
            if code == EXIT_INTERRUPTED {
                text.insert_str(0, "interrupted: rows finished so far were written\n");
            }
            eprint!("{text}");
        }
        code
    }
}

fn write_failed(e: &io::Error) -> i32 {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return EXIT_OK;
    }
    eprintln!("scrape: cannot write rows: {e}");
    EXIT_FAILED
}
