//! Row formats: jsonl keys and order, csv header and quoting, table, --output FILE.

mod common;

use common::{html_page, json_lines, run, scrape_fast};
use futurepool_scraper::Row;
use futurepool_scraper::output::{Format, RowWriter};
use wiremock::MockServer;

const FETCH_KEYS: [&str; 9] = [
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

fn sample_row() -> Row {
    let mut row = Row::new("http://example.com/a,b");
    row.final_url = Some("http://example.com/a,b".into());
    row.status = Some(200);
    row.bytes = Some(42);
    row.elapsed_ms = 7;
    row.attempts = 1;
    row.content_type = Some("text/html; charset=utf-8".into());
    row.title = Some("Say \"hi\", twice\nplease".into());
    row
}

#[test]
fn jsonl_rows_have_the_contract_keys_in_order() {
    let mut out = Vec::new();
    let mut w = RowWriter::new(&mut out, Format::Jsonl, false);
    w.write(&sample_row()).unwrap();
    w.write(&Row::new("nope")).unwrap();
    w.into_inner().unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[1],
        r#"{"url":"nope","final_url":null,"status":null,"bytes":null,"elapsed_ms":0,"attempts":0,"error":null,"content_type":null,"title":null}"#
    );
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = FETCH_KEYS.to_vec();
    keys.sort_unstable();
    expected.sort_unstable();
    assert_eq!(keys, expected, "exactly the contract's keys");
    let positions: Vec<usize> = FETCH_KEYS
        .iter()
        .map(|k| lines[0].find(&format!("\"{k}\":")).unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "keys out of order in {}",
        lines[0]
    );
}

#[test]
fn crawl_rows_add_depth_and_links() {
    let mut row = sample_row();
    row.depth = Some(2);
    row.links = Some(5);
    let json = serde_json::to_string(&row).unwrap();
    assert!(
        json.ends_with(r#""title":"Say \"hi\", twice\nplease","depth":2,"links":5}"#),
        "{json}"
    );
    let mut out = Vec::new();
    RowWriter::new(&mut out, Format::Csv, true)
        .write(&row)
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with(
        "url,final_url,status,bytes,elapsed_ms,attempts,error,content_type,title,depth,links\n"
    ));
    assert!(text.ends_with(",2,5\n"));
}

#[test]
fn csv_quotes_what_needs_quoting_and_leaves_nulls_empty() {
    let mut out = Vec::new();
    let mut w = RowWriter::new(&mut out, Format::Csv, false);
    w.write(&sample_row()).unwrap();
    let mut failed = Row::new("ftp://x/");
    failed.set_error(futurepool_scraper::ErrorKind::UnsupportedScheme, "ftp");
    w.write(&failed).unwrap();
    w.into_inner().unwrap();
    let mut reader = csv::Reader::from_reader(out.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        FETCH_KEYS
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 2);
    assert_eq!(&records[0][0], "http://example.com/a,b");
    assert_eq!(&records[0][8], "Say \"hi\", twice\nplease");
    assert_eq!(&records[1][2], "", "null status is an empty field");
    assert_eq!(&records[1][6], "unsupported scheme: ftp");
}

#[test]
fn table_has_a_header_and_one_line_per_row() {
    let mut out = Vec::new();
    let mut w = RowWriter::new(&mut out, Format::Table, false);
    w.write(&sample_row()).unwrap();
    w.write(&Row::new("x")).unwrap();
    w.into_inner().unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("STATUS") && lines[0].contains("URL"));
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].contains("200") && lines[1].contains("http://example.com/a,b"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_writes_csv_and_jsonl_and_to_a_file() {
    let server = MockServer::start().await;
    html_page(&server, "/p", "Page, \"quoted\"", &[]).await;
    let url = format!("{}/p", server.uri());

    let out = run(scrape_fast(&["fetch", &url, "--format", "csv"])).await;
    assert_eq!(out.status.code(), Some(0));
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        FETCH_KEYS
    );
    let record = reader.records().next().unwrap().unwrap();
    assert_eq!(
        (&record[0], &record[2], &record[8]),
        (url.as_str(), "200", "Page, \"quoted\"")
    );

    let out = run(scrape_fast(&["fetch", &url])).await;
    let rows = json_lines(&out.stdout);
    assert_eq!(
        rows.len(),
        1,
        "jsonl is the default when stdout is not a terminal"
    );
    assert_eq!(rows[0].len(), 9);
    assert_eq!(rows[0]["title"], "Page, \"quoted\"");
    assert_eq!(rows[0]["content_type"], "text/html; charset=utf-8");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rows.jsonl");
    let out = run(scrape_fast(&[
        "fetch",
        &url,
        "--output",
        file.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let written = std::fs::read(&file).unwrap();
    assert_eq!(json_lines(&written).len(), 1);

    let out = run(scrape_fast(&[
        "crawl",
        &url,
        "--format",
        "csv",
        "--ignore-robots",
    ]))
    .await;
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(
        "url,final_url,status,bytes,elapsed_ms,attempts,error,content_type,title,depth,links\n"
    ));
}

#[test]
fn table_urls_at_80_columns_keep_the_host_start_and_the_path_tail() {
    let mut out = Vec::new();
    let mut w = RowWriter::new(&mut out, Format::Table, true).with_width(Some(80));
    for n in [7, 17] {
        let mut row = Row::new(format!(
            "http://127.0.0.1:41234/section/chapter/page-{n}.html"
        ));
        row.status = Some(200);
        row.depth = Some(1);
        row.links = Some(3);
        w.write(&row).unwrap();
    }
    w.into_inner().unwrap();
    let text = String::from_utf8(out).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert!(rows[0].contains("page-7.html"), "{text}");
    assert!(rows[1].contains("page-17.html"), "{text}");
    assert!(rows.iter().all(|l| l.contains("http:")), "{text}");
    assert!(text.lines().all(|l| l.chars().count() < 80), "{text}");
}
