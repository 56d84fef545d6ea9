//! futurepool in an async service (axum): CPU work on a `CpuPool`, blocking work on a
//! `BlockingPool`, bulk work at `Priority::LOW`, a bounded queue that sheds load with HTTP 503
//! and `Retry-After`, and a graceful shutdown on Ctrl-C.
//!
//! | route | what it does |
//! |---|---|
//! | `/health` | async, trivial |
//! | `/cpu?n=` | `n` rounds of a hash on the `CpuPool` (about 1 ns each) |
//! | `/io?ms=` | a blocking sleep of `ms` on the `BlockingPool` |
//! | `/batch?n=&items=&inflight=` | `items` × `/cpu` work as a map stream at `Priority::LOW`, `inflight` at a time |
//!
//! ```text
//! cargo run --release --example service                     # a self-test, then exits
//! cargo run --release --example service -- --serve          # serve on 127.0.0.1:3000
//!     [--addr 127.0.0.1:3000] [--mode futurepool] [--queue 64] [--pool-nice 19]
//! cargo run --release --example service -- probe URL SECS   # latency of each status
//! ```
//!
//! `--mode` picks how the handlers run their work, so that `benches/service.sh` compares the
//! same service written five ways: `futurepool` (the default), `futurepool-fifo` (the same
//! with every priority `NORMAL`), `inline` (in the handler, on the runtime's threads),
//! `spawn-blocking` (`tokio::task::spawn_blocking`) and `rayon` (`rayon::spawn` + a oneshot).
//! Only the futurepool modes bound their queue and shed load. The threads of the dedicated
//! pools (the `CpuPool`, and rayon's in `rayon` mode) run at nice 19 (`--pool-nice`), so a
//! request never waits behind them for a core; `spawn_blocking`'s threads are the runtime's
//! own blocking threads and keep its priority.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futurepool::prelude::*;
use futures::StreamExt;

/// CPU work: `n` rounds of a 64-bit hash, which the compiler cannot shorten.
fn crunch(n: u64) -> u64 {
    let mut x = std::hint::black_box(n);
    for _ in 0..n {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        x ^= x >> 33;
    }
    x
}

/// Blocking work: a sleep, standing for a blocking client library.
fn blocking_io(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

/// How the handlers run their work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Futurepool,
    FuturepoolFifo,
    Inline,
    SpawnBlocking,
    Rayon,
}

impl Mode {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "futurepool" => Mode::Futurepool,
            "futurepool-fifo" => Mode::FuturepoolFifo,
            "inline" => Mode::Inline,
            "spawn-blocking" => Mode::SpawnBlocking,
            "rayon" => Mode::Rayon,
            _ => return None,
        })
    }

    /// The priority of bulk work: `LOW`, unless priorities are turned off.
    fn batch_priority(self) -> Priority {
        match self {
            Mode::FuturepoolFifo => Priority::NORMAL,
            _ => Priority::LOW,
        }
    }
}

/// The service's shared state: cheap handles, cloned into each request.
#[derive(Clone)]
struct App {
    mode: Mode,
    cpu: CpuPool,
    io: BlockingPool,
}

/// Which pool a piece of work belongs on.
#[derive(Clone, Copy)]
enum Kind {
    Cpu,
    Io,
}

/// Why a request got no result.
enum Refused {
    /// No room for the work now: 503 with `Retry-After` (load shedding).
    Shed,
    /// A parameter out of bounds: 400.
    BadRequest(String),
    /// The work failed (a panic in it, say): 500.
    Failed(String),
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Shed => (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "1")],
                "busy, retry later\n",
            )
                .into_response(),
            Refused::BadRequest(why) => (StatusCode::BAD_REQUEST, why).into_response(),
            Refused::Failed(why) => (StatusCode::INTERNAL_SERVER_ERROR, why).into_response(),
        }
    }
}

fn failed(e: impl std::fmt::Display) -> Refused {
    Refused::Failed(format!("{e}\n"))
}

impl App {
    /// Runs `f` the way the mode says; a full queue or a closing pool sheds the request.
    async fn run<F>(&self, kind: Kind, f: F) -> Result<u64, Refused>
    where
        F: FnOnce() -> u64 + Send + 'static,
    {
        match self.mode {
            Mode::Inline => Ok(f()),
            Mode::SpawnBlocking => tokio::task::spawn_blocking(f).await.map_err(failed),
            Mode::Rayon => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                rayon::spawn(move || {
                    let _ = tx.send(f());
                });
                rx.await.map_err(failed)
            }
            Mode::Futurepool | Mode::FuturepoolFifo => {
                let submitted = match kind {
                    Kind::Cpu => self.cpu.try_submit(f),
                    Kind::Io => self.io.try_submit(f),
                };
                match submitted {
                    Ok(task) => task.await.map_err(failed),
                    // Full, or shutting down: either way, not now.
                    Err(_) => Err(Refused::Shed),
                }
            }
        }
    }
}

type Params = Query<HashMap<String, String>>;

/// The parameter `name`, at most `max`: input from outside is bounded and validated.
fn param(p: &HashMap<String, String>, name: &str, default: u64, max: u64) -> Result<u64, Refused> {
    match p.get(name) {
        None => Ok(default),
        Some(v) => match v.parse::<u64>() {
            Ok(v) if v <= max => Ok(v),
            _ => Err(Refused::BadRequest(format!(
                "{name} must be a whole number up to {max}\n"
            ))),
        },
    }
}

async fn health() -> &'static str {
    "ok\n"
}

async fn cpu(State(app): State<App>, Query(p): Params) -> Result<String, Refused> {
    let n = param(&p, "n", 1_000_000, 1_000_000_000)?;
    let hash = app.run(Kind::Cpu, move || crunch(n)).await?;
    Ok(format!("{hash}\n"))
}

async fn io(State(app): State<App>, Query(p): Params) -> Result<String, Refused> {
    let ms = param(&p, "ms", 10, 10_000)?;
    let slept = app.run(Kind::Io, move || blocking_io(ms)).await?;
    Ok(format!("slept {slept} ms\n"))
}

/// Bulk work: `items` pieces, `inflight` at a time (default 2); on futurepool, a map stream at
/// `LOW`.
async fn batch(State(app): State<App>, Query(p): Params) -> Result<String, Refused> {
    let n = param(&p, "n", 1_000_000, 1_000_000_000)?;
    let items = param(&p, "items", 8, 1_000)? as usize;
    let inflight = param(&p, "inflight", 2, 64)?.max(1) as usize;
    let work = std::iter::repeat_n(n, items);
    let outs: Vec<Result<u64, Refused>> = match app.mode {
        Mode::Futurepool | Mode::FuturepoolFifo => {
            app.cpu
                .map(crunch, work)
                .priority(app.mode.batch_priority())
                .buffer(inflight)
                .map(|r| {
                    r.map_err(|e| {
                        if e.is_rejected() {
                            Refused::Shed
                        } else {
                            failed(e)
                        }
                    })
                })
                .collect()
                .await
        }
        _ => {
            futures::stream::iter(work)
                .map(|n| app.run(Kind::Cpu, move || crunch(n)))
                .buffered(inflight)
                .collect()
                .await
        }
    };
    let mut sum = 0u64;
    for out in outs {
        sum = sum.wrapping_add(out?);
    }
    Ok(format!("{sum}\n"))
}

fn router(app: App) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/cpu", get(cpu))
        .route("/io", get(io))
        .route("/batch", get(batch))
        .with_state(app)
}

/// Ctrl-C, or SIGTERM (what `kill` and service managers send).
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Builds the pools: `queue` tasks may wait for the CPU threads, and as many for the blocking
/// ones; beyond that, requests are shed. The CPU threads run at `nice` (see [`lower_priority`]).
fn pools(queue: usize, nice: i32) -> Result<(CpuPool, BlockingPool), BuildError> {
    let cpu = CpuPool::builder()
        .thread_name_prefix("cpu")
        .queue_capacity(queue)
        .on_thread_start(move || lower_priority(nice))
        .build()?;
    let io = BlockingPool::builder()
        .max_workers(32)
        .queue_capacity(queue)
        .build()?;
    Ok((cpu, io))
}

/// The nice value of CPU pool threads unless `--pool-nice` says otherwise.
const POOL_NICE: i32 = 19;

/// Lowers the calling thread's scheduling priority to `nice` (0 leaves it as it is).
///
/// CPU-bound pool threads at nice 19 give up the core at once to a runtime thread that a
/// request wakes, so `/health` stays fast while they saturate every core; at equal priority a
/// request waits for the scheduler's next turn (milliseconds). On Linux `setpriority` on
/// `PRIO_PROCESS` 0 changes the calling thread only; elsewhere it would change the whole
/// process, so this does nothing there.
fn lower_priority(nice: i32) {
    #[cfg(target_os = "linux")]
    if nice != 0
        && let Err(e) = rustix::process::setpriority_process(None, nice)
    {
        eprintln!("cannot set a pool thread's nice value to {nice}: {e}");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Serves on `listener` until `stop` completes: then stops accepting, finishes the requests in
/// flight, and shuts the pools down (each waits for its queued and running tasks).
async fn serve(
    listener: tokio::net::TcpListener,
    mode: Mode,
    queue: usize,
    nice: i32,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let (cpu, io) = pools(queue, nice)?;
    let app = App {
        mode,
        cpu: cpu.clone(),
        io: io.clone(),
    };
    axum::serve(listener, router(app))
        .with_graceful_shutdown(stop)
        .await?;
    cpu.shutdown().await;
    io.shutdown().await;
    Ok(())
}

// The probe and the self-test, in files of their own (`examples/service/`, which has no
// `main.rs`, so it is no example of its own).
#[path = "service/probe.rs"]
mod probe;
#[path = "service/self_test.rs"]
mod self_test;

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("probe") {
        let url = args.get(1).ok_or("probe URL SECS")?.clone();
        let secs: f64 = args.get(2).map_or(Ok(5.0), |s| s.parse())?;
        return probe::run(url, Duration::from_secs_f64(secs)).await;
    }
    if args.iter().any(|a| a == "--serve") {
        let addr = arg(&args, "--addr").unwrap_or("127.0.0.1:3000").parse()?;
        let mode = arg(&args, "--mode").unwrap_or("futurepool");
        let mode = Mode::parse(mode).ok_or_else(|| format!("unknown --mode {mode}"))?;
        let queue = arg(&args, "--queue").map_or(Ok(64), str::parse)?;
        let nice = arg(&args, "--pool-nice").map_or(Ok(POOL_NICE), str::parse)?;
        if mode == Mode::Rayon {
            // rayon's pool is a dedicated one too: the same nice value, for a fair comparison.
            rayon::ThreadPoolBuilder::new()
                .start_handler(move |_| lower_priority(nice))
                .build_global()?;
        }
        let listener = tokio::net::TcpListener::bind::<SocketAddr>(addr).await?;
        let local = listener.local_addr()?;
        println!(
            "serving on http://{local} (mode {mode:?}, queue {queue}, pool threads at nice {nice}); Ctrl-C stops"
        );
        serve(listener, mode, queue, nice, shutdown_signal()).await?;
        println!("stopped: the requests in flight finished, then the pools shut down");
        return Ok(());
    }
    let started = Instant::now();
    self_test::run().await?;
    println!(
        "self-test passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
