//! `--state FILE`: the journal of a crawl, so that a crawl that was stopped, even by `kill -9`,
//! resumes where it was instead of starting over.
//!
//! # The file
//!
//! Text, one line a record, only ever appended to:
//!
//! ```text
//! scrape-crawl-state 1 {"seeds":["http://example.com/"],"depth":2,"ignore_robots":false,"sitemaps":false,"format":"jsonl"}
//! {"page":{"row":{"url":"http://example.com/",...,"depth":0,"links":3},"links":["http://example.com/a",...]}}
//! {"blocked":{"url":"http://example.com/private/"}}
//! {"sitemaps":{"urls":["http://example.com/from-the-sitemap"]}}
//! ```
//!
//! The first line names the file as a scrape state file, its version, and the crawl it belongs
//! to (seeds, depth, robots and sitemap settings, output format): the same command must be run
//! again to resume (`--max-pages` may be raised). Then one record per event, as JSON:
//!
//! - `page`: a page's row was produced; `links` are the URLs the crawl queued from it. Written
//!   *before* the row goes to the output, so a row in the output always has its record.
//! - `blocked`: robots.txt disallowed a queued URL (no row).
//! - `sitemaps`: the URLs queued from the seeds' sitemaps (`--sitemaps`), written once.
//!
//! A record is one `write` of a whole line; a crash can leave only the last line torn (no
//! newline), which is ignored and cut off when the crawl resumes. A complete line that is not
//! a record means the file is damaged: a usage error, and the file is left as it is.
//!
//! # Durability
//!
//! Records go to the operating system at once, so a killed process loses none. The file is
//! `fdatasync`ed every [`SYNC_EVERY`] records and when the crawl ends or is interrupted; after
//! a power loss the last records may be gone, and their pages are fetched again (their rows
//! are not written twice: see below).
//!
//! # The output
//!
//! On resume the output file is the truth for what was written: its complete rows are kept, a
//! torn last line is cut off, rows the journal has but the output lacks (the process died
//! between the two writes) are appended from the journal, and a row whose URL the output has
//! already is never written again. A state without records (a new crawl) starts the output empty.

mod budget;
mod output;

use budget::{JournalBudget, Line, Over, read_line};
pub use output::{OutputState, reconcile_output};

use crate::row::Row;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The first word of a scrape state file.
pub const MAGIC: &str = "scrape-crawl-state";
/// The version of the journal format this build reads and writes.
pub const VERSION: u32 = 1;
/// Records appended between two `fdatasync` calls.
pub const SYNC_EVERY: u32 = 64;
/// The longest first line read: more is not a state file.
const MAX_HEADER_BYTES: usize = 64 * 1024;

/// What a state file belongs to: resuming with other values is refused.
///
/// ```
/// use futurepool_scraper::state::CrawlParams;
/// let p = CrawlParams { seeds: vec!["http://example.com/".into()], depth: 2, ignore_robots: false, sitemaps: false, format: "jsonl".into() };
/// assert!(serde_json::to_string(&p).unwrap().starts_with(r#"{"seeds":["#));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlParams {
    /// The seeds, as given.
    pub seeds: Vec<String>,
    /// `--depth`.
    pub depth: u32,
    /// `--ignore-robots`.
    pub ignore_robots: bool,
    /// `--sitemaps`.
    pub sitemaps: bool,
    /// The output format (`jsonl` or `csv`).
    pub format: String,
}

/// One event of a crawl, as journaled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// A page's row was produced; `links` were queued from it.
    Page {
        /// The row, as written to the output.
        row: Row,
        /// URLs queued from this page.
        links: Vec<String>,
    },
    /// robots.txt disallowed `url`, which had been queued.
    Blocked {
        /// The URL.
        url: String,
    },
    /// URLs queued from the seeds' sitemaps.
    Sitemaps {
        /// The URLs.
        urls: Vec<String>,
    },
}

/// Why a state file cannot be used; each is a usage error of `scrape`.
#[derive(Debug)]
#[non_exhaustive]
pub enum StateError {
    /// The file exists and is not a scrape state file: it is left untouched.
    NotAState(PathBuf),
    /// A state file of another version of the format.
    Version(PathBuf, String),
    /// A state file of another crawl (other seeds, depth or settings).
    OtherCrawl(PathBuf, String),
    /// A complete line that is not a record (or is longer than any record can be).
    Damaged(PathBuf, usize),
    /// More pages or URLs than a crawl of this `--max-pages` can have journaled.
    OverBudget(PathBuf, u64),
    /// The file cannot be opened, read or written.
    Io(PathBuf, io::Error),
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::NotAState(p) => write!(
                f,
                "{} is not a scrape state file; refusing to touch it",
                p.display()
            ),
            StateError::Version(p, v) => write!(
                f,
                "{} is a scrape state file of version {v}; this scrape reads version {VERSION}",
                p.display()
            ),
            StateError::OtherCrawl(p, what) => write!(
                f,
                "{} is the state of another crawl ({what} differ); run the same command to resume it",
                p.display()
            ),
            StateError::Damaged(p, line) => {
                write!(f, "{} is damaged at line {line}", p.display())
            }
            StateError::OverBudget(p, max) => write!(
                f,
                "{} holds more than a crawl of --max-pages {max} writes; resume it with the \
                 --max-pages it ran with, or more",
                p.display()
            ),
            StateError::Io(p, e) => write!(f, "cannot use state file {}: {e}", p.display()),
        }
    }
}

impl std::error::Error for StateError {}

/// An open state file: the records of the run(s) so far, and the journal new ones go to.
///
/// ```
/// use futurepool_scraper::state::{CrawlParams, CrawlState, Record};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("crawl.state");
/// let params = CrawlParams { seeds: vec!["http://example.com/".into()], depth: 1, ignore_robots: false, sitemaps: false, format: "jsonl".into() };
/// let mut state = CrawlState::open(&path, &params, 100).unwrap();
/// assert!(state.records().is_empty());
/// state.append(&Record::Blocked { url: "http://example.com/x".into() }).unwrap();
/// drop(state);
/// let state = CrawlState::open(&path, &params, 100).unwrap();
/// assert_eq!(state.records().len(), 1);
/// ```
#[derive(Debug)]
pub struct CrawlState {
    file: File,
    records: Vec<Record>,
    unsynced: u32,
}

impl CrawlState {
    /// Opens (or creates) the state file at `path` for the crawl `params`. A symlink is refused;
    /// an existing file that is not a state file, or belongs to another crawl, is left as it is.
    ///
    /// The file is read a record at a time and held to what a crawl of `max_pages` pages can
    /// have written: at most `max_pages` pages, at most `max_pages` + seeds URLs queued (a
    /// crawl never queues more, less the places blocked URLs gave back) and as many blocked,
    /// each URL at most
    /// [`MAX_URL_BYTES`](crate::http::MAX_URL_BYTES) long. Beyond that is
    /// [`StateError::OverBudget`] (a URL too long, or a line longer than such a record can
    /// be, is [`StateError::Damaged`]), so a forged or foreign journal costs no more memory
    /// than the crawl itself may use.
    pub fn open(
        path: &Path,
        params: &CrawlParams,
        max_pages: u64,
    ) -> Result<CrawlState, StateError> {
        let io_err = |e| StateError::Io(path.to_owned(), e);
        let mut file = crate::output::open_output(path, true).map_err(io_err)?;
        let mut reader = BufReader::new(&mut file);
        let mut line = Vec::new();
        let first = read_line(&mut reader, &mut line, MAX_HEADER_BYTES).map_err(io_err)?;
        if first == Line::End {
            drop(reader);
            let header = format!(
                "{MAGIC} {VERSION} {}\n",
                serde_json::to_string(params).expect("params serialise")
            );
            file.write_all(header.as_bytes()).map_err(io_err)?;
            file.sync_data().map_err(io_err)?;
            return Ok(CrawlState {
                file,
                records: Vec::new(),
                unsynced: 0,
            });
        }
        let not_state = || StateError::NotAState(path.to_owned());
        if first != Line::Complete {
            return Err(not_state());
        }
        let first = std::str::from_utf8(&line[..line.len() - 1]).map_err(|_| not_state())?;
        let mut words = first.splitn(3, ' ');
        if words.next() != Some(MAGIC) {
            return Err(not_state());
        }
        let version = words.next().unwrap_or("");
        if version != VERSION.to_string() {
            return Err(StateError::Version(path.to_owned(), version.to_owned()));
        }
        let theirs: CrawlParams =
            serde_json::from_str(words.next().unwrap_or("")).map_err(|_| not_state())?;
        check_same(path, &theirs, params)?;
        let mut complete = line.len() as u64;
        let mut budget = JournalBudget::new(max_pages, &params.seeds);
        let mut records = Vec::new();
        for n in 2.. {
            let damaged = || StateError::Damaged(path.to_owned(), n);
            match read_line(&mut reader, &mut line, budget.max_line_bytes()).map_err(io_err)? {
                Line::End | Line::Torn => break,
                Line::TooLong => return Err(damaged()),
                Line::Complete => {}
            }
            complete += line.len() as u64;
            if line.len() == 1 {
                continue;
            }
            let record: Record = serde_json::from_slice(&line).map_err(|_| damaged())?;
            budget.take(&record).map_err(|over| match over {
                Over::Url => damaged(),
                Over::Budget => StateError::OverBudget(path.to_owned(), max_pages),
            })?;
            records.push(record);
        }
        drop(reader);
        if complete < file.metadata().map_err(io_err)?.len() {
            // A torn last record: cut off, so the next one starts on a line of its own.
            file.set_len(complete).map_err(io_err)?;
        }
        file.seek(SeekFrom::End(0)).map_err(io_err)?;
        Ok(CrawlState {
            file,
            records,
            unsynced: 0,
        })
    }

    /// The records read when the file was opened, oldest first.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Takes the records read when the file was opened (the crawl replays them).
    pub(crate) fn take_records(&mut self) -> Vec<Record> {
        std::mem::take(&mut self.records)
    }

    /// The rows the journal holds, oldest first.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.records.iter().filter_map(|r| match r {
            Record::Page { row, .. } => Some(row),
            _ => None,
        })
    }

    /// Appends one record (one write of one line); syncs every [`SYNC_EVERY`] records.
    pub fn append(&mut self, record: &Record) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.unsynced += 1;
        if self.unsynced >= SYNC_EVERY {
            self.unsynced = 0;
            self.file.sync_data()?;
        }
        Ok(())
    }
}

impl Drop for CrawlState {
    fn drop(&mut self) {
        if self.unsynced > 0 {
            let _ = self.file.sync_data();
        }
    }
}

fn check_same(path: &Path, theirs: &CrawlParams, ours: &CrawlParams) -> Result<(), StateError> {
    let mut differ = Vec::new();
    if theirs.seeds != ours.seeds {
        differ.push("seeds");
    }
    if theirs.depth != ours.depth {
        differ.push("depth");
    }
    if theirs.ignore_robots != ours.ignore_robots {
        differ.push("--ignore-robots");
    }
    if theirs.sitemaps != ours.sitemaps {
        differ.push("--sitemaps");
    }
    if theirs.format != ours.format {
        differ.push("format");
    }
    if differ.is_empty() {
        Ok(())
    } else {
        Err(StateError::OtherCrawl(path.to_owned(), differ.join(", ")))
    }
}
