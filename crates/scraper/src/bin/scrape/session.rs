//! One run on the terminal: rows to their writer, the progress bar and the summary on stderr.

use crate::cli::{EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, Opts, Usage, say};
use futurepool_scraper::output::{Format, RowWriter, Summary};
use futurepool_scraper::state::OutputState;
use futurepool_scraper::{Row, RowStream, Scraper};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashSet;
use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

/// Where rows go and what is shown on stderr during one run.
pub(crate) struct Session {
    writer: RowWriter<Box<dyn Write + Send>>,
    /// How writing the header went (it is written before the progress bar is drawn).
    header: io::Result<()>,
    progress: Option<ProgressBar>,
    show_summary: bool,
    /// URLs whose rows the output has already (a resumed crawl): not written again.
    present: HashSet<String>,
}

impl Session {
    /// A session writing to `--output` (or stdout), or to `resumed`, the output of a resumed
    /// crawl, where rows are appended.
    pub(crate) fn new(
        opts: &Opts,
        crawl: bool,
        always_summarise: bool,
        resumed: Option<OutputState>,
    ) -> Result<Session, Usage> {
        let stdout_tty = io::stdout().is_terminal();
        let stderr_tty = io::stderr().is_terminal();
        let (resumed, has_header, present) = match resumed {
            Some(r) => (Some(r.file), r.has_header, r.present),
            None => (None, false, HashSet::new()),
        };
        let out: Box<dyn Write + Send> = match (&opts.output, resumed) {
            (_, Some(file)) => Box::new(io::BufWriter::new(file)),
            (Some(path), None) => Box::new(io::BufWriter::new(
                futurepool_scraper::output::open_output(path, false).map_err(|e| {
                    Usage(format!("cannot write output file {}: {e}", path.display()))
                })?,
            )),
            (None, None) => Box::new(io::BufWriter::new(io::stdout())),
        };
        let format = opts
            .format
            .unwrap_or(if stdout_tty && opts.output.is_none() {
                Format::Table
            } else {
                Format::Jsonl
            });
        // A table fits the terminal it is shown on; written elsewhere, values are never cut.
        let width = (format == Format::Table && stdout_tty && opts.output.is_none())
            .then(|| {
                console::Term::stdout()
                    .size_checked()
                    .map(|(_, cols)| usize::from(cols))
            })
            .flatten();
        let mut writer = RowWriter::new(out, format, crawl).with_width(width);
        if has_header {
            writer = writer.without_header();
        }
        // The header goes out before the progress bar exists: drawn first, the bar's first frame
        // stayed on the screen above the header.
        let header = writer.header();
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
            writer,
            header,
            progress,
            show_summary: !opts.quiet && (stderr_tty || always_summarise),
            present,
        })
    }

    /// Writes rows as they complete until the run ends or Ctrl-C; returns the exit status.
    pub(crate) async fn drive(mut self, mut rows: RowStream, scraper: &Scraper) -> i32 {
        let started = Instant::now();
        let mut summary = Summary::default();
        let mut code = EXIT_OK;
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        if let Err(e) = std::mem::replace(&mut self.header, Ok(())) {
            if let Some(bar) = self.progress.take() {
                bar.finish_and_clear();
            }
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
            if self.present.contains(&row.url) {
                continue;
            }
            summary.record(&row);
            let written = match &self.progress {
                Some(bar) => {
                    bar.inc(1);
                    bar.set_message(summary.progress_message());
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
            say(format_args!("{}", text.trim_end()));
        }
        code
    }
}

fn write_failed(e: &io::Error) -> i32 {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return EXIT_OK;
    }
    say(format_args!("scrape: cannot write rows: {e}"));
    EXIT_FAILED
}
