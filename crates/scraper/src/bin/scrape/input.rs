//! `--input`: URL lines from a file or standard input, read lazily.

use crate::cli::Usage;
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use std::io;
use std::path::Path;
use tokio::io::AsyncBufReadExt;

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
    let lines = tokio::io::BufReader::new(reader).split(b'\n');
    Ok(stream::unfold(Some((lines, true)), move |state| {
        let name = name.clone();
        async move {
            let (mut lines, mut first) = state?;
            loop {
                match lines.next_segment().await {
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
