//! The output file of a resumed crawl: its complete rows are kept, a torn last line is cut off,
//! and the rows the journal has but the output lacks are appended.

use super::budget::{Line, read_line};
use crate::output::{Format, RowWriter, open_output};
use crate::row::Row;
use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufReader, Seek, SeekFrom};
use std::path::Path;

/// The output file of a crawl, ready for new rows to be appended.
#[derive(Debug)]
pub struct OutputState {
    /// The file, positioned at its end.
    pub file: File,
    /// The URLs of the rows it holds: a row for one of them is not written again.
    pub present: HashSet<String>,
    /// Whether the file already has its header line (csv).
    pub has_header: bool,
}

/// Opens the output of a resumed crawl (creating it if missing, never through a symlink):
/// reads the URLs of its complete rows, cuts off a torn last line, and appends each row of
/// `journal_rows` whose URL it lacks. Only `jsonl` and `csv` output can be resumed.
///
/// A crawl of `max_pages` pages writes at most that many rows: a file with more is refused
/// as not this crawl's, as is a `jsonl` line longer than a row can be, so a foreign file
/// costs no more memory than the crawl's own rows.
///
/// ```
/// use futurepool_scraper::{output::Format, state::reconcile_output, Row};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("out.jsonl");
/// std::fs::write(&path, "{\"url\":\"http://a/\"}\n{\"url\":\"http://b").unwrap();
/// let journal = [Row::new("http://a/"), Row::new("http://c/")];
/// let out = reconcile_output(&path, Format::Jsonl, 100, journal.iter()).unwrap();
/// assert_eq!(out.present.len(), 2);
/// let text = std::fs::read_to_string(&path).unwrap();
/// assert_eq!(text.lines().count(), 2, "{text}");
/// assert!(text.lines().nth(1).unwrap().starts_with("{\"url\":\"http://c/\""));
/// ```
pub fn reconcile_output<'a>(
    path: &Path,
    format: Format,
    max_pages: u64,
    journal_rows: impl Iterator<Item = &'a Row>,
) -> io::Result<OutputState> {
    let mut file = open_output(path, true)?;
    let (present, kept, has_header) = match format {
        Format::Jsonl => jsonl_rows(&file, max_pages)?,
        Format::Csv => csv_rows(&file, max_pages)?,
        Format::Table => {
            return Err(io::Error::other(
                "table output cannot be resumed; use jsonl or csv",
            ));
        }
    };
    if kept < file.metadata()?.len() {
        file.set_len(kept)?;
    }
    file.seek(SeekFrom::End(0))?;
    let mut present = present;
    let mut writer = RowWriter::new(&mut file, format, true);
    if has_header {
        writer = writer.without_header();
    }
    let mut wrote_header = has_header;
    for row in journal_rows {
        if present.insert(row.url.clone()) {
            writer.write(row)?;
            wrote_header = true;
        }
    }
    writer.into_inner()?;
    Ok(OutputState {
        file,
        present,
        has_header: wrote_header || format == Format::Jsonl,
    })
}

/// Line by line: the URLs of complete rows and the length of the complete part.
fn jsonl_rows(file: &File, max_pages: u64) -> io::Result<(HashSet<String>, u64, bool)> {
    let mut reader = BufReader::new(file);
    let (mut present, mut kept, mut line) = (HashSet::new(), 0u64, Vec::new());
    loop {
        match read_line(&mut reader, &mut line, MAX_ROW_BYTES)? {
            Line::End | Line::Torn => return Ok((present, kept, false)),
            Line::TooLong => return Err(not_ours()),
            Line::Complete => {}
        }
        let n = line.len();
        let value: serde_json::Value = serde_json::from_slice(&line).map_err(|_| not_ours())?;
        let url = value
            .get("url")
            .and_then(|u| u.as_str())
            .ok_or_else(not_ours)?;
        present.insert(url.to_owned());
        check_rows(&present, max_pages)?;
        kept += n as u64;
    }
}

/// The URLs of complete csv records (the header line checked) and the length of that part.
fn csv_rows(file: &File, max_pages: u64) -> io::Result<(HashSet<String>, u64, bool)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::new(file));
    let mut columns: Vec<&str> = crate::output::COLUMNS.to_vec();
    columns.extend(crate::output::CRAWL_COLUMNS);
    let (mut present, mut kept, mut has_header) = (HashSet::new(), 0u64, false);
    let mut record = csv::ByteRecord::new();
    loop {
        let more = reader
            .read_byte_record(&mut record)
            .map_err(io::Error::other)?;
        let end = reader.position().byte();
        if !more {
            return Ok((present, kept, has_header));
        }
        // A record that does not end a line, or is short, is the torn last one.
        if record.len() != columns.len() || !ends_line(file, end)? {
            return Ok((present, kept, has_header));
        }
        if !has_header {
            let names: Vec<&[u8]> = record.iter().collect();
            let expected: Vec<&[u8]> = columns.iter().map(|c| c.as_bytes()).collect();
            if names != expected {
                return Err(not_ours());
            }
            has_header = true;
        } else {
            let url = String::from_utf8_lossy(&record[0]).into_owned();
            present.insert(url);
            check_rows(&present, max_pages)?;
        }
        kept = end;
    }
}

/// Whether the byte before `end` is a newline.
fn ends_line(file: &File, end: u64) -> io::Result<bool> {
    use std::os::unix::fs::FileExt;
    if end == 0 {
        return Ok(false);
    }
    let mut byte = [0u8];
    file.read_exact_at(&mut byte, end - 1)?;
    Ok(byte[0] == b'\n')
}

/// The longest `jsonl` row line read: a row's title is at most 1 MiB, its URLs 64 KiB each,
/// escaped (see `budget.rs`).
const MAX_ROW_BYTES: usize = 16 << 20;

/// More rows than the crawl writes: not its output.
fn check_rows(present: &HashSet<String>, max_pages: u64) -> io::Result<()> {
    if present.len() as u64 > max_pages {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "it holds more rows than a crawl of --max-pages {max_pages} writes; resume with \
                 the --max-pages it ran with, or more"
            ),
        ));
    }
    Ok(())
}

fn not_ours() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "it is not an output of this crawl (a complete line is not a row); refusing to append to it",
    )
}
