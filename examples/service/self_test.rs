//! The self-test (no arguments): every route, load shedding, `/health` while the CPU work
//! runs (on the pool and, for comparison, inline) and a graceful shutdown.

use std::time::{Duration, Instant};

use super::{Error, Mode};

/// A server of `mode` on a free port; the sender stops it, the handle ends when it has.
async fn start(
    mode: Mode,
    queue: usize,
) -> Result<
    (
        String,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<Result<(), Error>>,
    ),
    Error,
> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(super::serve(
        listener,
        mode,
        queue,
        super::POOL_NICE,
        async move {
            let _ = stopped.await;
        },
    ));
    Ok((base, stop, server))
}

async fn get(client: reqwest::Client, url: String) -> Result<(u16, String), Error> {
    let response = client.get(url).send().await?;
    let status = response.status().as_u16();
    let retry = response.headers().get("retry-after").cloned();
    let body = response.text().await?;
    if status == 503 {
        assert_eq!(retry.as_ref().and_then(|v| v.to_str().ok()), Some("1"));
    }
    Ok((status, body))
}

/// Four heavy `/cpu` requests, and `/health` every 10 ms until they are answered: the
/// slowest `/health`, and how long the heavy ones took.
async fn health_under_load(
    client: &reqwest::Client,
    base: &str,
) -> Result<(Duration, Duration), Error> {
    let started = Instant::now();
    let heavy: Vec<_> = (0..4)
        .map(|_| tokio::spawn(get(client.clone(), format!("{base}/cpu?n=100000000"))))
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut worst = Duration::ZERO;
    while heavy.iter().any(|h| !h.is_finished()) {
        let t = Instant::now();
        assert_eq!(
            get(client.clone(), format!("{base}/health")).await?,
            (200, "ok\n".into())
        );
        worst = worst.max(t.elapsed());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for h in heavy {
        assert_eq!(h.await??.0, 200);
    }
    Ok((worst, started.elapsed()))
}

/// The client's side, on its own runtime: `base` serves on futurepool (and `stop` stops
/// it), `inline_base` with the work inline.
async fn client_side(
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    inline_base: String,
) -> Result<Vec<String>, Error> {
    let client = reqwest::Client::new();
    let mut lines = Vec::new();

    assert_eq!(
        get(client.clone(), format!("{base}/health")).await?,
        (200, "ok\n".into())
    );
    assert_eq!(
        get(client.clone(), format!("{base}/cpu?n=1000")).await?.0,
        200
    );
    assert_eq!(get(client.clone(), format!("{base}/cpu?n=x")).await?.0, 400);
    assert_eq!(
        get(client.clone(), format!("{base}/io?ms=1")).await?,
        (200, "slept 1 ms\n".into())
    );
    assert_eq!(
        get(client.clone(), format!("{base}/batch?n=1000&items=5"))
            .await?
            .0,
        200
    );

    // Shedding: 40 slow requests at once against 4 queue places (+ the threads').
    let flood: Vec<_> = (0..40)
        .map(|_| tokio::spawn(get(client.clone(), format!("{base}/cpu?n=100000000"))))
        .collect();
    let mut statuses = Vec::new();
    for h in flood {
        statuses.push(h.await??.0);
    }
    let shed = statuses.iter().filter(|&&s| s == 503).count();
    assert!(shed > 0 && statuses.contains(&200), "{statuses:?}");
    lines.push(format!(
        "shedding: 40 slow requests at once, {shed} answered 503 + Retry-After"
    ));

    let (worst, took) = health_under_load(&client, &base).await?;
    lines.push(format!(
        "work on the CpuPool: 4 heavy /cpu took {:.2} s; the slowest /health meanwhile {:.1} ms",
        took.as_secs_f64(),
        worst.as_secs_f64() * 1000.0
    ));

    // Graceful shutdown: a request in flight when the stop comes is still answered.
    let in_flight = tokio::spawn(get(client.clone(), format!("{base}/io?ms=300")));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _ = stop.send(());
    assert_eq!(in_flight.await??, (200, "slept 300 ms\n".into()));
    lines.push("graceful shutdown: the request in flight was answered".into());

    let (worst, took) = health_under_load(&client, &inline_base).await?;
    lines.push(format!(
        "work inline in the handler: 4 heavy /cpu took {:.2} s; the slowest /health meanwhile {:.1} ms",
        took.as_secs_f64(),
        worst.as_secs_f64() * 1000.0
    ));
    Ok(lines)
}

pub async fn run() -> Result<(), Error> {
    // The servers run on this runtime; the client on its own thread and runtime, like a
    // separate program would.
    let (base, stop, server) = start(Mode::Futurepool, 4).await?;
    let (inline_base, inline_stop, inline_server) = start(Mode::Inline, 4).await?;
    let client = std::thread::spawn(move || -> Result<Vec<String>, String> {
        // reqwest is built with rustls and no default crypto provider: pick ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(client_side(base, stop, inline_base))
            .map_err(|e| e.to_string())
    });
    let lines = tokio::task::spawn_blocking(move || client.join())
        .await?
        .map_err(|_| "the client thread panicked")??;
    // Stopped by the client: returns once the requests in flight and the pools are done.
    server.await??;
    let _ = inline_stop.send(());
    inline_server.await??;
    for line in lines {
        println!("{line}");
    }
    Ok(())
}
