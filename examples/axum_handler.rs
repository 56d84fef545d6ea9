//! futurepool inside an axum web server: CPU-heavy requests run on a
//! `CpuPool`, so the runtime's threads stay free and cheap requests
//! (`/health`) keep answering at once. For comparison, `/inline/primes/{n}`
//! does the same work inline in the handler, which holds a runtime thread
//! for the whole computation; the self-test measures both.
//!
//! ```text
//! cargo run --release --example axum_handler            # a self-test, then exits
//! cargo run --release --example axum_handler -- --serve  # keep serving on 127.0.0.1:3000
//! ```

use std::time::{Duration, Instant};

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
};
use futurepool::prelude::*;

/// Deliberately slow: counts the primes below `n`.
fn count_primes(n: u64) -> u64 {
    (2..n)
        .filter(|&k| (2..).take_while(|d| d * d <= k).all(|d| k % d != 0))
        .count() as u64
}

async fn primes(
    State(cpu): State<CpuPool>,
    Path(n): Path<u64>,
) -> Result<String, (StatusCode, String)> {
    // The handler awaits the task; the computation runs on a CpuPool thread.
    match cpu.submit(move || count_primes(n)).await {
        Ok(count) => Ok(format!("{count} primes below {n}\n")),
        Err(e) => Err((StatusCode::SERVICE_UNAVAILABLE, e.to_string())),
    }
}

/// The same work done inline, for comparison: it holds a runtime thread for
/// the whole computation, and requests scheduled on that thread wait.
async fn primes_inline(Path(n): Path<u64>) -> String {
    let count = count_primes(n);
    format!("{count} primes below {n}\n")
}

async fn health() -> &'static str {
    "ok\n"
}

fn app(cpu: CpuPool) -> Router {
    Router::new()
        .route("/primes/{n}", get(primes))
        .route("/inline/primes/{n}", get(primes_inline))
        .route("/health", get(health))
        .with_state(cpu)
}

/// Sends 4 requests to `/{path}/1500000` and polls `/health` until they are
/// answered; returns how long they took, how many health checks ran and the
/// slowest health check.
async fn self_test(
    client: &reqwest::Client,
    base: &str,
    path: &str,
) -> Result<(Duration, u32, Duration), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let heavy: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            let url = format!("{base}/{path}/1500000");
            tokio::spawn(async move { client.get(url).send().await?.text().await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut worst = Duration::ZERO;
    let mut checks = 0;
    while heavy.iter().any(|h| !h.is_finished()) {
        let t = Instant::now();
        let body = client
            .get(format!("{base}/health"))
            .send()
            .await?
            .text()
            .await?;
        assert_eq!(body, "ok\n");
        worst = worst.max(t.elapsed());
        checks += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for h in heavy {
        assert_eq!(h.await??, "114155 primes below 1500000\n");
    }
    Ok((start.elapsed(), checks, worst))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cpu = CpuPool::builder().thread_name_prefix("primes").build()?;
    let serve = std::env::args().any(|a| a == "--serve");
    let addr = if serve {
        "127.0.0.1:3000"
    } else {
        "127.0.0.1:0"
    };
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(axum::serve(listener, app(cpu.clone())).into_future());
    if serve {
        println!("serving on {base}: try {base}/primes/2000000 and {base}/health");
        server.await??;
        return Ok(());
    }

    // Self-test: four slow requests at once, and meanwhile /health every 10 ms;
    // once with the work on the CpuPool, once with the work inline. The client
    // runs on its own thread and runtime, like a separate program would.
    let client_thread = std::thread::spawn(move || -> Result<Vec<String>, String> {
        // reqwest is built here with rustls and no default crypto provider: pick ring
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let client = reqwest::Client::new();
            let mut lines = Vec::new();
            for (label, path) in [
                ("on a CpuPool", "primes"),
                ("inline in the handler", "inline/primes"),
            ] {
                let (took, checks, worst) = self_test(&client, &base, path)
                    .await
                    .map_err(|e| e.to_string())?;
                lines.push(format!(
                    "work {label}: 4 heavy requests took {:.2} s; meanwhile {checks} /health requests, the slowest answered in {:.1} ms",
                    took.as_secs_f64(),
                    worst.as_secs_f64() * 1000.0
                ));
            }
            Ok(lines)
        })
    });
    let lines = tokio::task::spawn_blocking(move || client_thread.join())
        .await?
        .map_err(|_| "the client thread panicked")??;
    for line in lines {
        println!("{line}");
    }
    server.abort();
    cpu.shutdown().await;
    Ok(())
}
