//! Measures fetch throughput against the embedded demo server: 1,000 pages that each take 20 ms
//! to answer, fetched at concurrency 50 and 50 per host. Latency alone allows 0.4 s.
//!
//! Run with `cargo run --release -p futurepool-scraper --example throughput [PAGES] [LATENCY_MS] [RUNS]`.

use futurepool_scraper::demo::{DemoServer, DemoSite};
use futurepool_scraper::{Config, Scraper};
use futures::StreamExt;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<u64>().expect("numbers"));
    let pages = args.next().unwrap_or(1000);
    let latency = Duration::from_millis(args.next().unwrap_or(20));
    let runs = args.next().unwrap_or(5);
    let concurrency = 50;

    let server = DemoServer::start(DemoSite {
        latency,
        ..DemoSite::default()
    })
    .await
    .expect("demo server starts");
    let config = Config {
        concurrency,
        per_host: concurrency,
        ..Config::default()
    };
    let scraper = Scraper::new(config).expect("valid config");
    let floor = latency.as_secs_f64() * (pages as f64 / concurrency as f64).ceil();
    println!(
        "{pages} pages x {} ms latency at concurrency {concurrency}: latency alone allows {floor:.3} s",
        latency.as_millis()
    );

    // One page at a time shows what a single request really costs here (latency + loopback + wakeups).
    let probe = 20;
    let started = Instant::now();
    for i in 0..probe {
        let row = scraper
            .fetch_one(&server.url(&format!("/latency/probe-{i}")))
            .await;
        assert_eq!(row.status, Some(200));
    }
    println!(
        "one request alone: {:.2} ms",
        started.elapsed().as_secs_f64() * 1000.0 / f64::from(probe)
    );

    let mut times = Vec::new();
    for run in 1..=runs {
        let urls: Vec<String> = (0..pages)
            .map(|i| server.url(&format!("/latency/{i}")))
            .collect();
        let started = Instant::now();
        let mut rows = scraper.fetch(urls).expect("inside a runtime");
        let (mut ok, mut total) = (0u64, 0u64);
        while let Some(row) = rows.next().await {
            total += 1;
            ok += u64::from(row.status == Some(200));
        }
        let secs = started.elapsed().as_secs_f64();
        assert_eq!((ok, total), (pages, pages), "every page fetched");
        println!(
            "run {run}: {secs:.3} s  ({:.0} pages/s, {:.2} x the latency floor)",
            pages as f64 / secs,
            secs / floor
        );
        times.push(secs);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "best {:.3} s ({:.2} x), median {:.3} s ({:.2} x)",
        times[0],
        times[0] / floor,
        times[times.len() / 2],
        times[times.len() / 2] / floor
    );
}
