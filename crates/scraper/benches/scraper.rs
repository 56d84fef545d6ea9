//! Scraper throughput: `scrape fetch` (the futurepool-scraper library) over
//! 1,000 pages that each take 20 ms to answer, at concurrency 50 (per host
//! 50), from a local server this bench starts on 127.0.0.1.
//!
//! `cargo bench -p futurepool-scraper --bench scraper -- [--json] [--quick]`
//!
//! The latency floor is 1,000 / 50 x 20 ms = 0.4 s. Goal: at most about
//! 1.1 x the floor. A hand-written reqwest loop (`buffer_unordered(50)` over
//! one shared client) is measured in the same run as a second baseline.

#[path = "../../../benches/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Args, Report, Value};
use futurepool_scraper::{Config, Scraper};
use futures::StreamExt;

const PAGES: usize = 1000;
const CONCURRENCY: usize = 50;
const LATENCY: Duration = Duration::from_millis(20);

fn main() {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let base = common::latency_server_thread(LATENCY, 2048);
    let rt = common::runtime();
    let rounds = if args.quick { 1 } else { 5 };
    let urls: Vec<String> = (0..PAGES).map(|i| format!("{base}/page/{i}")).collect();
    let floor = LATENCY.as_secs_f64() * (PAGES / CONCURRENCY) as f64;

    let config = Config {
        concurrency: CONCURRENCY,
        per_host: CONCURRENCY,
        ..Config::default()
    };
    let scraper = rt
        .block_on(async { Scraper::new(config) })
        .expect("scraper");
    let client = reqwest::Client::new();

    let scrape = || {
        rt.block_on(async {
            let rows = scraper.fetch(urls.clone()).expect("start the run");
            rows.filter(|row| std::future::ready(row.status == Some(200)))
                .count()
                .await
        })
    };
    let by_hand = || {
        rt.block_on(async {
            futures::stream::iter(urls.clone())
                .map(|url| {
                    let client = client.clone();
                    async move {
                        let response = client.get(url).send().await.ok()?;
                        let status = response.status().as_u16();
                        response.bytes().await.ok()?;
                        Some(status)
                    }
                })
                .buffer_unordered(CONCURRENCY)
                .filter(|s| std::future::ready(*s == Some(200)))
                .count()
                .await
        })
    };
    // warm up connections and the server once
    assert_eq!(scrape(), PAGES);
    assert_eq!(by_hand(), PAGES);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let start = Instant::now();
        assert_eq!(scrape(), PAGES, "every page must answer 200");
        a.push(start.elapsed());
        let start = Instant::now();
        assert_eq!(by_hand(), PAGES);
        b.push(start.elapsed());
    }
    let (a, b) = (common::median(a), common::median(b));
    let mut report = Report::new("scraper: 1,000 pages x 20 ms, concurrency 50");
    report.row(vec![
        ("run", Value::Text("futurepool-scraper fetch".into())),
        ("time", Value::Secs(a)),
        (
            "pages/s",
            Value::Num((PAGES as f64 / a.as_secs_f64()).round()),
        ),
        ("x floor (0.4 s)", Value::Ratio(a.as_secs_f64() / floor)),
        ("goal", Value::Text("<= 1.1x floor".into())),
        (
            "met",
            Value::Text(
                if a.as_secs_f64() <= 1.1 * floor {
                    "yes"
                } else {
                    "no"
                }
                .into(),
            ),
        ),
    ]);
    report.row(vec![
        (
            "run",
            Value::Text("reqwest + buffer_unordered(50), by hand".into()),
        ),
        ("time", Value::Secs(b)),
        (
            "pages/s",
            Value::Num((PAGES as f64 / b.as_secs_f64()).round()),
        ),
        ("x floor (0.4 s)", Value::Ratio(b.as_secs_f64() / floor)),
        (
            "goal",
            Value::Text(format!(
                "scraper / by hand = {:.2}x",
                a.as_secs_f64() / b.as_secs_f64()
            )),
        ),
    ]);
    report.print(&args);
}
