//! `--input`: URL lines from a file or standard input, read lazily; no line is held past
//! `MAX_URL_BYTES` + 1 bytes (a longer one becomes a row with an "invalid url: longer than"
//! error, and reading goes on at the next line).

use crate::cli::Usage;
use futurepool_scraper::http::MAX_URL_BYTES;
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use std::io;
use std::path::Path;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};

type Reader = BufReader<Box<dyn tokio::io::AsyncRead + Send + Unpin>>;

/// Opens `--input` (a file, or stdin for `-`) and returns its URL lines as a lazy stream.
pub(crate) async fn open_input(path: &Path) -> Result<BoxStream<'static, String>, Usage> {
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
    let lines: Reader = BufReader::new(reader);
    Ok(stream::unfold(Some((lines, true)), move |state| {
        let name = name.clone();
        async move {
            let (mut lines, mut first) = state?;
            loop {
                match next_line(&mut lines).await {
                    // Too long: passed on uncut by trimming, so it stays too long to be a URL.
                    Ok(Some(raw)) if raw.len() > MAX_URL_BYTES => {
                        let text = String::from_utf8_lossy(&raw).into_owned();
                        return Some((text, Some((lines, false))));
                    }
                    Ok(Some(raw)) => {
                        let text = String::from_utf8_lossy(&raw);
                        // A UTF-8 byte-order mark (as some editors write) is not part of the URL.
                        let text = match std::mem::take(&mut first) {
                            true => text.strip_prefix('\u{feff}').unwrap_or(&text),
                            false => &text,
                        };
                        let line = text.trim();
                        if line.is_empty() || line.starts_with('#') {
                            continue;
                        }
                        return Some((line.to_owned(), Some((lines, false))));
                    }
                    Ok(None) => return None,
                    Err(e) => {
                        crate::cli::say(format_args!("scrape: stopped reading {name}: {e}"));
                        return None;
                    }
                }
            }
        }
    })
    .boxed())
}

/// The next line without its `\n`, holding at most `MAX_URL_BYTES + 1` bytes of it: the rest
/// of a longer line is read past, and what is kept is too long to be accepted as a URL.
async fn next_line<R: AsyncBufRead + Unpin>(reader: &mut R) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let mut any = false;
    loop {
        let chunk = reader.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(any.then_some(line));
        }
        any = true;
        let end = memchr::memchr(b'\n', chunk);
        let part = &chunk[..end.unwrap_or(chunk.len())];
        let room = (MAX_URL_BYTES + 1).saturating_sub(line.len());
        line.extend_from_slice(&part[..part.len().min(room)]);
        let used = end.map_or(chunk.len(), |at| at + 1);
        reader.consume(used);
        if end.is_some() {
            return Ok(Some(line));
        }
    }
}
