//! What a journal may hold: the records a crawl of `--max-pages` pages can have written, read a
//! bounded line at a time, so a forged or foreign state file never costs more memory than the
//! crawl itself may use.
//!
//! A crawl schedules at most `max_pages` pages (each is one `page` record), and queues a URL
//! only while `scheduled + queued < max_pages` (`CrawlRun::room`), so the URLs it has queued,
//! from pages' links and sitemaps, number at most `max_pages` plus the seeds, plus one for each
//! queued URL that robots.txt then blocked (a `blocked` record gives its place back, as the
//! crawl does). Blocked URLs are held to `max_pages` plus the seeds: a URL is blocked when it
//! is fetched only while its host's robots.txt is not known yet, and queuing stops for a host
//! once it is. `--max-pages` may be raised on resume, never lowered below what the journal
//! holds.

use super::Record;
use crate::http::MAX_URL_BYTES;
use std::io::{self, BufRead, Read};

/// The bytes of a record line beyond its queued URLs: a row's other fields (a title of up to
/// 1 MiB, escaped; its own and final URL; headers; punctuation). A row's URL may also be a
/// seed as given, so the longest seed is added to this.
const RECORD_OVERHEAD: usize = 8 << 20;
/// The longest record line read whatever `--max-pages` is: past it, a line is damaged.
const MAX_RECORD_BYTES: usize = 256 << 20;
/// Bytes a URL of [`MAX_URL_BYTES`] may take in JSON (`\u00XX` for each byte) with its quotes
/// and comma.
const URL_JSON_BYTES: usize = MAX_URL_BYTES * 6 + 3;

/// How one line read ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Line {
    /// End of file, nothing read.
    End,
    /// A whole line, its `\n` included.
    Complete,
    /// The file ended inside a line: a record torn by a crash.
    Torn,
    /// The line is longer than the limit (what was read of it is dropped).
    TooLong,
}

/// Reads the next line into `line` (cleared first), holding at most `max` bytes of it.
pub(super) fn read_line(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    max: usize,
) -> io::Result<Line> {
    line.clear();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let n = reader.by_ref().take(limit).read_until(b'\n', line)?;
    Ok(if n == 0 {
        Line::End
    } else if line.last() == Some(&b'\n') {
        Line::Complete
    } else if line.len() > max {
        line.clear();
        Line::TooLong
    } else {
        Line::Torn
    })
}

/// Why a record does not fit.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Over {
    /// A URL longer than any the crawl keeps: the file is damaged.
    Url,
    /// More pages or URLs than the crawl can have journaled.
    Budget,
}

/// What is left of a journal's allowance as its records are read.
#[derive(Debug)]
pub(super) struct JournalBudget {
    overhead: usize,
    pages: u64,
    queued: u64,
    blocked: u64,
}

impl JournalBudget {
    /// The allowance of a crawl of `max_pages` pages from `seeds`.
    pub(super) fn new(max_pages: u64, seeds: &[String]) -> Self {
        let urls = max_pages.saturating_add(seeds.len() as u64);
        let longest_seed = seeds.iter().map(String::len).max().unwrap_or(0);
        JournalBudget {
            overhead: RECORD_OVERHEAD.saturating_add(longest_seed.saturating_mul(6)),
            pages: max_pages,
            queued: urls,
            blocked: urls,
        }
    }

    /// The longest line a record within what is left can take.
    pub(super) fn max_line_bytes(&self) -> usize {
        let urls = usize::try_from(self.queued.max(1)).unwrap_or(usize::MAX);
        urls.saturating_mul(URL_JSON_BYTES)
            .saturating_add(self.overhead)
            .min(MAX_RECORD_BYTES)
    }

    /// Takes `record` out of what is left.
    pub(super) fn take(&mut self, record: &Record) -> Result<(), Over> {
        let too_long = |u: &String| u.len() > MAX_URL_BYTES;
        let (pages, queued, blocked, long) = match record {
            Record::Page { links, .. } => (1, links.len(), 0, links.iter().any(too_long)),
            Record::Blocked { url } => (0, 0, 1, too_long(url)),
            Record::Sitemaps { urls } => (0, urls.len(), 0, urls.iter().any(too_long)),
        };
        if long {
            return Err(Over::Url);
        }
        let spend = |left: &mut u64, n: u64| match left.checked_sub(n) {
            Some(rest) => {
                *left = rest;
                Ok(())
            }
            None => Err(Over::Budget),
        };
        spend(&mut self.pages, pages)?;
        spend(&mut self.queued, queued as u64)?;
        spend(&mut self.blocked, blocked)?;
        // A blocked URL was queued and never fetched: the crawl gives its place back.
        self.queued = self.queued.saturating_add(blocked);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::Row;

    fn seed() -> Vec<String> {
        vec!["http://a/".into()]
    }

    fn page(url: &str, links: usize) -> Record {
        Record::Page {
            row: Row::new(url),
            links: (0..links).map(|i| format!("http://a/{i}")).collect(),
        }
    }

    #[test]
    fn a_journal_holds_max_pages_pages_and_max_pages_plus_seeds_urls() {
        let mut budget = JournalBudget::new(3, &seed());
        assert_eq!(budget.take(&page("http://a/", 4)), Ok(()));
        assert_eq!(budget.take(&page("http://a/0", 0)), Ok(()));
        assert_eq!(budget.take(&page("http://a/1", 0)), Ok(()));
        assert_eq!(budget.take(&page("http://a/2", 0)), Err(Over::Budget));
        let mut budget = JournalBudget::new(3, &seed());
        assert_eq!(budget.take(&page("http://a/", 5)), Err(Over::Budget));
        let sitemap = Record::Sitemaps {
            urls: vec!["http://a/x".into(); 5],
        };
        assert_eq!(
            JournalBudget::new(3, &seed()).take(&sitemap),
            Err(Over::Budget)
        );
    }

    #[test]
    fn blocked_urls_give_their_place_back_and_are_bounded_themselves() {
        let mut budget = JournalBudget::new(1, &seed());
        let blocked = Record::Blocked {
            url: "http://a/x".into(),
        };
        // Two places (1 page + 1 seed): both queued, both blocked, two queued again.
        assert_eq!(budget.take(&page("http://a/", 2)), Ok(()));
        assert_eq!(budget.take(&blocked), Ok(()));
        assert_eq!(budget.take(&blocked), Ok(()));
        let sitemap = Record::Sitemaps {
            urls: vec!["http://a/y".into(); 2],
        };
        assert_eq!(budget.take(&sitemap), Ok(()));
        assert_eq!(budget.take(&blocked), Err(Over::Budget));
    }

    #[test]
    fn a_url_longer_than_the_crawl_keeps_is_damage() {
        let long = format!("http://a/{}", "x".repeat(MAX_URL_BYTES));
        let blocked = Record::Blocked { url: long };
        assert_eq!(
            JournalBudget::new(9, &seed()).take(&blocked),
            Err(Over::Url)
        );
    }

    #[test]
    fn a_line_is_read_up_to_its_limit_and_no_further() {
        let text = b"abc\nlonger line\ntorn";
        let mut reader = io::BufReader::new(&text[..]);
        let mut line = Vec::new();
        assert_eq!(
            read_line(&mut reader, &mut line, 4).unwrap(),
            Line::Complete
        );
        assert_eq!(line, b"abc\n");
        assert_eq!(read_line(&mut reader, &mut line, 4).unwrap(), Line::TooLong);
        assert!(line.is_empty());
        let mut reader = io::BufReader::new(&b"torn"[..]);
        assert_eq!(read_line(&mut reader, &mut line, 8).unwrap(), Line::Torn);
        assert_eq!(read_line(&mut reader, &mut line, 8).unwrap(), Line::End);
    }

    #[test]
    fn the_line_limit_follows_the_urls_left_within_a_fixed_ceiling() {
        let small = JournalBudget::new(2, &seed()).max_line_bytes();
        assert_eq!(
            small,
            3 * URL_JSON_BYTES + RECORD_OVERHEAD + 6 * "http://a/".len()
        );
        assert_eq!(
            JournalBudget::new(u64::MAX, &seed()).max_line_bytes(),
            MAX_RECORD_BYTES
        );
    }
}
