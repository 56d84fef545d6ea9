//! Row writers (jsonl, csv, table) and the run summary.

use crate::row::{ErrorKind, Row};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::Duration;

/// How rows are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header line; null is an empty field.
    Csv,
    /// Aligned columns for people; long values are shortened.
    Table,
}

/// Opens `path` for rows: created if missing, emptied unless `append`. A symlink is refused
/// (`O_NOFOLLOW`), so `--output` never truncates the file a link points to; the error then says so.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let target = dir.path().join("t");
/// std::fs::write(&target, "keep").unwrap();
/// let link = dir.path().join("l");
/// std::os::unix::fs::symlink(&target, &link).unwrap();
/// let err = futurepool_scraper::output::open_output(&link, false).unwrap_err();
/// assert!(err.to_string().contains("symlink"));
/// assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
/// ```
pub fn open_output(path: &std::path::Path, append: bool) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.create(true).custom_flags(libc::O_NOFOLLOW);
    if append {
        options.read(true).append(true);
    } else {
        options.write(true).truncate(true);
    }
    options.open(path).map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            io::Error::new(e.kind(), "it is a symlink; refusing to write through it")
        } else {
            e
        }
    })
}

/// The columns of every row, in output order.
pub const COLUMNS: [&str; 9] = [
    "url",
    "final_url",
    "status",
    "bytes",
    "elapsed_ms",
    "attempts",
    "error",
    "content_type",
    "title",
];

/// The extra columns of crawl rows.
pub const CRAWL_COLUMNS: [&str; 2] = ["depth", "links"];

/// Writes rows one at a time to any `Write`, flushing each so output streams as rows complete.
///
/// ```
/// use futurepool_scraper::{output::{Format, RowWriter}, Row};
/// let mut out = Vec::new();
/// let mut w = RowWriter::new(&mut out, Format::Csv, false);
/// let mut row = Row::new("http://a/");
/// row.status = Some(200);
/// w.write(&row).unwrap();
/// w.into_inner().unwrap();
/// let text = String::from_utf8(out).unwrap();
/// assert_eq!(text.lines().next(), Some("url,final_url,status,bytes,elapsed_ms,attempts,error,content_type,title"));
/// assert_eq!(text.lines().nth(1), Some("http://a/,,200,,0,0,,,"));
/// ```
pub struct RowWriter<W: Write> {
    out: W,
    format: Format,
    crawl: bool,
    header_done: bool,
    width: Option<usize>,
}

/// Table columns before the URL: status, bytes, ms, tries and the two spaces after them.
const TABLE_PREFIX: usize = 28;
/// The crawl table's extra columns before the URL: depth and links.
const TABLE_CRAWL_EXTRA: usize = 12;
/// Widest URL column.
const TABLE_URL_MAX: usize = 60;

impl<W: Write> RowWriter<W> {
    /// A writer of `format`; `crawl` adds the `depth` and `links` columns to csv and table output.
    pub fn new(out: W, format: Format, crawl: bool) -> RowWriter<W> {
        RowWriter {
            out,
            format,
            crawl,
            header_done: false,
            width: None,
        }
    }

    /// Fits table lines into `width` columns (a terminal's), cutting long URLs and titles with an
    /// ellipsis; `None` (the default) writes them whole.
    ///
    /// ```
    /// use futurepool_scraper::{output::{Format, RowWriter}, Row};
    /// let mut out = Vec::new();
    /// let mut w = RowWriter::new(&mut out, Format::Table, false).with_width(Some(50));
    /// w.write(&Row::new(format!("http://example.com/{}", "long/".repeat(20)))).unwrap();
    /// w.into_inner().unwrap();
    /// let text = String::from_utf8(out).unwrap();
    /// assert!(text.lines().all(|line| line.chars().count() < 50), "{text}");
    /// assert!(text.contains('…'));
    /// ```
    pub fn with_width(mut self, width: Option<usize>) -> RowWriter<W> {
        self.width = width;
        self
    }

    /// A writer whose output already has its header line (rows appended to an existing file).
    ///
    /// ```
    /// use futurepool_scraper::{output::{Format, RowWriter}, Row};
    /// let mut out = Vec::new();
    /// let mut w = RowWriter::new(&mut out, Format::Csv, false).without_header();
    /// w.write(&Row::new("http://a/")).unwrap();
    /// w.into_inner().unwrap();
    /// assert_eq!(String::from_utf8(out).unwrap(), "http://a/,,,,0,0,,,\n");
    /// ```
    pub fn without_header(mut self) -> RowWriter<W> {
        self.header_done = true;
        self
    }

    /// The widths of the URL and title columns: cut to fit `width`, or never cut.
    fn table_widths(&self) -> (usize, Option<usize>) {
        let Some(width) = self.width else {
            return (TABLE_URL_MAX, None);
        };
        let extra = if self.crawl { TABLE_CRAWL_EXTRA } else { 0 };
        // Two spaces between URL and title; the last column is left empty, so a full line never
        // wraps the cursor onto the next one.
        let room = width.saturating_sub(TABLE_PREFIX + extra + 2 + 1);
        let url = (room / 2).clamp(8, TABLE_URL_MAX);
        (url, Some(room.saturating_sub(url).max(8)))
    }

    /// Writes the header line if it is due (csv and table only); also done by the first `write`.
    pub fn header(&mut self) -> io::Result<()> {
        if self.header_done {
            return Ok(());
        }
        self.header_done = true;
        match self.format {
            Format::Jsonl => Ok(()),
            Format::Csv => {
                let mut cols: Vec<&str> = COLUMNS.to_vec();
                if self.crawl {
                    cols.extend(CRAWL_COLUMNS);
                }
                self.write_csv(&cols)
            }
            Format::Table => {
                let (url_width, last_width) = self.table_widths();
                let last = shorten("TITLE / ERROR", last_width.unwrap_or(usize::MAX));
                let line = table_line(
                    self.crawl,
                    url_width,
                    [
                        "STATUS", "BYTES", "MS", "TRY", "DEPTH", "LINKS", "URL", &last,
                    ],
                );
                writeln!(self.out, "{line}")?;
                self.out.flush()
            }
        }
    }

    /// Writes one row and flushes.
    pub fn write(&mut self, row: &Row) -> io::Result<()> {
        self.header()?;
        match self.format {
            Format::Jsonl => {
                serde_json::to_writer(&mut self.out, row).map_err(io::Error::other)?;
                self.out.write_all(b"\n")?;
            }
            Format::Csv => {
                let opt = |v: Option<String>| v.unwrap_or_default();
                let mut fields = vec![
                    row.url.clone(),
                    opt(row.final_url.clone()),
                    opt(row.status.map(|s| s.to_string())),
                    opt(row.bytes.map(|s| s.to_string())),
                    row.elapsed_ms.to_string(),
                    row.attempts.to_string(),
                    opt(row.error.clone()),
                    opt(row.content_type.clone()),
                    opt(row.title.clone()),
                ];
                if self.crawl {
                    fields.push(opt(row.depth.map(|d| d.to_string())));
                    fields.push(opt(row.links.map(|d| d.to_string())));
                }
                let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
                return self.write_csv(&refs);
            }
            Format::Table => {
                let dash = || "-".to_owned();
                let last = match (&row.error, &row.title) {
                    (Some(e), _) => format!("! {e}"),
                    (None, Some(t)) => t.clone(),
                    (None, None) => String::new(),
                };
                let (url_width, last_width) = self.table_widths();
                let url = match last_width {
                    Some(_) => shorten_middle(&row.url, url_width),
                    None => shorten(&row.url, usize::MAX),
                };
                let line = table_line(
                    self.crawl,
                    url_width,
                    [
                        &row.status.map_or_else(dash, |s| s.to_string()),
                        &row.bytes.map_or_else(dash, human_bytes),
                        &row.elapsed_ms.to_string(),
                        &row.attempts.to_string(),
                        &row.depth.map_or_else(dash, |d| d.to_string()),
                        &row.links.map_or_else(dash, |d| d.to_string()),
                        &url,
                        &shorten(&last, last_width.unwrap_or(usize::MAX)),
                    ],
                );
                writeln!(self.out, "{}", line.trim_end())?;
            }
        }
        self.out.flush()
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    fn write_csv(&mut self, fields: &[&str]) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(fields).map_err(io::Error::other)?;
        let bytes = w
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?;
        self.out.write_all(&bytes)?;
        self.out.flush()
    }
}

fn table_line(crawl: bool, url_width: usize, cells: [&str; 8]) -> String {
    let [status, bytes, ms, tries, depth, links, url, last] = cells;
    let url = console::pad_str(url, url_width, console::Alignment::Left, None);
    if crawl {
        format!("{status:>6} {bytes:>8} {ms:>6} {tries:>3} {depth:>5} {links:>5}  {url}  {last}")
    } else {
        format!("{status:>6} {bytes:>8} {ms:>6} {tries:>3}  {url}  {last}")
    }
}

/// Text as it may reach a terminal: control characters (escape sequences start with one) become
/// spaces and bidirectional formatting characters (embeddings, overrides, isolates and marks,
/// which reorder what follows them) become U+FFFD.
///
/// ```
/// use futurepool_scraper::output::terminal_safe;
/// assert_eq!(terminal_safe("a\u{1b}[31mb\u{202e}c"), "a [31mb\u{fffd}c");
/// ```
pub fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            c if c.is_control() => ' ',
            '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{061c}' => '\u{fffd}',
            c => c,
        })
        .collect()
}

/// Made terminal-safe; text wider than `max` columns is cut at its end with an ellipsis.
fn shorten(text: &str, max: usize) -> String {
    console::truncate_str(&terminal_safe(text), max, "…").into_owned()
}

/// Made terminal-safe; a URL wider than `max` columns is cut in its middle: the start (scheme
/// and host) and the tail of the path stay, since the tail is what tells a site's pages apart.
///
/// ```
/// use futurepool_scraper::output::shorten_middle;
/// let url = "http://127.0.0.1:41234/docs/library/page-17.html";
/// let short = shorten_middle(url, 24);
/// assert_eq!(console::measure_text_width(&short), 24);
/// assert!(short.starts_with("http://") && short.ends_with("page-17.html"), "{short}");
/// ```
pub fn shorten_middle(text: &str, max: usize) -> String {
    let text = terminal_safe(text);
    if console::measure_text_width(&text) <= max || max < 8 {
        return console::truncate_str(&text, max, "…").into_owned();
    }
    let chars: Vec<char> = text.chars().collect();
    let width = |c: &char| console::measure_text_width(c.encode_utf8(&mut [0; 4]));
    let host_end = text
        .find("://")
        .map(|at| at + 3)
        .and_then(|from| text[from..].find('/').map(|to| from + to))
        .map_or(chars.len(), |byte| text[..byte].chars().count());
    let head_room = host_end.min((max - 1) / 3);
    let (mut head, mut used) = (String::new(), 0);
    for c in &chars[..head_room] {
        used += width(c);
        head.push(*c);
    }
    let mut tail = Vec::new();
    for c in chars.iter().rev() {
        if used + 1 + width(c) > max {
            break;
        }
        used += width(c);
        tail.push(*c);
    }
    head.push('…');
    head.extend(tail.iter().rev());
    head
}

/// Bytes in a short human form: `512 B`, `3.4 kB`, `12.0 MB`.
///
/// ```
/// assert_eq!(futurepool_scraper::output::human_bytes(1500), "1.5 kB");
/// ```
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Running totals of a run, rendered as the closing summary.
///
/// ```
/// use futurepool_scraper::{output::Summary, Row};
/// let mut s = Summary::default();
/// let mut ok = Row::new("http://a/");
/// ok.status = Some(200);
/// ok.bytes = Some(10);
/// s.record(&ok);
/// assert_eq!(s.rows, 1);
/// assert!(s.render(std::time::Duration::from_secs(1), 0).contains("1 pages"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Rows seen.
    pub rows: u64,
    /// Rows with an HTTP response and no error, by status class (2, 3, 4, 5).
    pub by_class: BTreeMap<u16, u64>,
    /// Rows with an error, by kind.
    pub errors: BTreeMap<ErrorKind, u64>,
    /// Body bytes read over all rows.
    pub bytes: u64,
    /// Retries made over all rows (attempts beyond the first).
    pub retries: u64,
}

impl Summary {
    /// Adds one row to the totals.
    pub fn record(&mut self, row: &Row) {
        self.rows += 1;
        self.bytes += row.bytes.unwrap_or(0);
        self.retries += u64::from(row.attempts.saturating_sub(1));
        match (row.error_kind, row.status) {
            (Some(kind), _) => *self.errors.entry(kind).or_default() += 1,
            (None, Some(status)) => *self.by_class.entry(status / 100).or_default() += 1,
            (None, None) => *self.errors.entry(ErrorKind::Other).or_default() += 1,
        }
    }

    /// Rows with an error.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The progress bar's message: errors so far and bytes read.
    ///
    /// ```
    /// use futurepool_scraper::{output::Summary, ErrorKind};
    /// let mut s = Summary::default();
    /// assert_eq!(s.progress_message(), "0 errors, 0 B");
    /// s.errors.insert(ErrorKind::Timeout, 1);
    /// assert_eq!(s.progress_message(), "1 error, 0 B");
    /// ```
    pub fn progress_message(&self) -> String {
        let errors = self.error_count();
        let noun = if errors == 1 { "error" } else { "errors" };
        format!("{errors} {noun}, {}", human_bytes(self.bytes))
    }

    /// The multi-line summary; `robots_blocked` is shown when not zero.
    pub fn render(&self, elapsed: Duration, robots_blocked: u64) -> String {
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            self.rows as f64 / secs
        } else {
            0.0
        };
        let mut out = format!(
            "{} pages in {:.2}s ({:.1} pages/s), {} read, {} retries\n",
            self.rows,
            secs,
            rate,
            human_bytes(self.bytes),
            self.retries
        );
        let classes: Vec<String> = self
            .by_class
            .iter()
            .map(|(c, n)| format!("{c}xx: {n}"))
            .collect();
        let _ = writeln!(
            out,
            "  responses: {}",
            if classes.is_empty() {
                "none".to_owned()
            } else {
                classes.join(", ")
            }
        );
        let errors: Vec<String> = self
            .errors
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect();
        let _ = writeln!(
            out,
            "  errors:    {}",
            if errors.is_empty() {
                "none".to_owned()
            } else {
                format!("{} ({})", self.error_count(), errors.join(", "))
            }
        );
        if robots_blocked > 0 {
            let _ = writeln!(
                out,
                "  skipped:   {robots_blocked} disallowed by robots.txt"
            );
        }
        out
    }
}
