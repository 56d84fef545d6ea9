//! `crawl --state FILE`: the state file and the output of a crawl that may be resuming.

use crate::cli::{Opts, Usage};
use futurepool_scraper::output::Format;
use futurepool_scraper::state::{CrawlParams, CrawlState, OutputState, reconcile_output};
use std::path::Path;

/// Opens the state file (refusing one that is not scrape's, or of another crawl) and the
/// output, which a resumed crawl appends to once the rows it lacks are restored.
pub(crate) fn open(
    path: &Path,
    mut params: CrawlParams,
    max_pages: u64,
    opts: &Opts,
) -> Result<(CrawlState, OutputState), Usage> {
    let Some(output) = &opts.output else {
        return Err(Usage(
            "--state needs --output FILE (a resumed crawl appends its rows to it)".into(),
        ));
    };
    let format = opts.format.unwrap_or(Format::Jsonl);
    params.format = match format {
        Format::Jsonl => "jsonl".into(),
        Format::Csv => "csv".into(),
        Format::Table => {
            return Err(Usage(
                "--state needs --format jsonl or csv (a table cannot be resumed)".into(),
            ));
        }
    };
    if path == output || same_file::is_same_file(path, output).unwrap_or(false) {
        return Err(Usage(format!(
            "--state {} and --output {} are the same file",
            path.display(),
            output.display()
        )));
    }
    let state = CrawlState::open(path, &params, max_pages).map_err(|e| Usage(e.to_string()))?;
    let cannot = |e| {
        Usage(format!(
            "cannot write output file {}: {e}",
            output.display()
        ))
    };
    if state.records().is_empty() {
        // A new crawl (no row is written before its record): the output starts empty, as
        // without --state.
        futurepool_scraper::output::open_output(output, false).map_err(cannot)?;
    }
    let out = reconcile_output(output, format, max_pages, state.rows()).map_err(|e| {
        Usage(format!(
            "cannot resume output file {}: {e}",
            output.display()
        ))
    })?;
    Ok((state, out))
}
