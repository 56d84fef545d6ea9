//! `probe URL SECS`: sends requests one after another for `SECS` and prints the latency of
//! each status, for `benches/service.sh` (wrk reports one distribution for all statuses).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub async fn run(url: String, secs: Duration) -> Result<(), super::Error> {
    // reqwest is built with rustls and no default crypto provider: pick ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut by_status: BTreeMap<u16, Vec<Duration>> = BTreeMap::new();
    let end = Instant::now() + secs;
    // At least one request: `probe URL 0` checks that the service answers.
    loop {
        let started = Instant::now();
        let response = client.get(&url).send().await?;
        let status = response.status().as_u16();
        response.bytes().await?;
        by_status.entry(status).or_default().push(started.elapsed());
        if Instant::now() >= end {
            break;
        }
    }
    for (status, mut times) in by_status {
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "status={status} count={} p50_ms={:.3} p99_ms={:.3} max_ms={:.3}",
            times.len(),
            ms(at(0.5)),
            ms(at(0.99)),
            ms(at(1.0))
        );
    }
    Ok(())
}
