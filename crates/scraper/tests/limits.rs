//! The global and per-host limits: the servers count requests in flight and never see more than
//! allowed, and do see the limit reached (each request is held until it is).

mod common;

use common::{InFlight, config, counting_server, fetch_all};
use futurepool_scraper::Config;
use std::sync::atomic::Ordering;

#[tokio::test]
async fn per_host_limit_is_never_exceeded() {
    let (a, b) = (InFlight::new(3), InFlight::new(3));
    let (addr_a, addr_b) = (
        counting_server(a.clone()).await,
        counting_server(b.clone()).await,
    );
    let mut urls = Vec::new();
    for i in 0..30 {
        urls.push(format!("http://{addr_a}/a/{i}"));
        urls.push(format!("http://{addr_b}/b/{i}"));
    }
    let rows = fetch_all(
        Config {
            concurrency: 32,
            per_host: 3,
            ..config()
        },
        &urls,
    )
    .await;
    assert_eq!(rows.len(), 60);
    assert!(rows.iter().all(|r| r.status == Some(200)), "{rows:?}");
    for host in [&a, &b] {
        assert_eq!(host.served.load(Ordering::SeqCst), 30);
        assert_eq!(
            host.peak.load(Ordering::SeqCst),
            3,
            "per-host limit reached and never exceeded"
        );
    }
}

#[tokio::test]
async fn global_limit_is_never_exceeded_across_hosts() {
    // Four hosts (ports) share one counter; the per-host limit is looser than the global one.
    let shared = InFlight::new(5);
    let mut urls = Vec::new();
    for h in 0..4 {
        let addr = counting_server(shared.clone()).await;
        for i in 0..12 {
            urls.push(format!("http://{addr}/{h}/{i}"));
        }
    }
    let rows = fetch_all(
        Config {
            concurrency: 5,
            per_host: 8,
            ..config()
        },
        &urls,
    )
    .await;
    assert_eq!(rows.len(), 48);
    assert!(rows.iter().all(|r| r.status == Some(200)));
    assert_eq!(shared.served.load(Ordering::SeqCst), 48);
    assert_eq!(
        shared.peak.load(Ordering::SeqCst),
        5,
        "global limit reached and never exceeded"
    );
}

#[tokio::test]
async fn per_host_limit_of_one_serialises_a_host() {
    let one = InFlight::new(1);
    let addr = counting_server(one.clone()).await;
    let urls: Vec<String> = (0..10).map(|i| format!("http://{addr}/{i}")).collect();
    let rows = fetch_all(
        Config {
            concurrency: 10,
            per_host: 1,
            ..config()
        },
        &urls,
    )
    .await;
    assert_eq!(rows.len(), 10);
    assert_eq!(one.peak.load(Ordering::SeqCst), 1);
}

#[test]
fn zero_limits_are_rejected() {
    assert!(
        futurepool_scraper::Scraper::new(Config {
            concurrency: 0,
            ..config()
        })
        .is_err()
    );
    assert!(
        futurepool_scraper::Scraper::new(Config {
            per_host: 0,
            ..config()
        })
        .is_err()
    );
}
