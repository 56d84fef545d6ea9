//! RemotePool on loopback: 20,000 tiny tasks over 1, 2 and 3 worker processes (submit +
//! `as_completed`), the same with 2 workers on a three-node JetStream cluster with
//! `replicas(3)` (R3) beside one server (R1), one submit round trip, and the seed's CPU
//! workload over 3 workers vs one `CpuPool`, and a chunked `map` of 1M tiny items over 2
//! workers beside CPython's `ProcessPoolExecutor.map(chunksize=100)` with 2 processes
//! (`benches/python/process_bench.py`, run by this program). With `--dask JSON` (what `benches/python/dask_bench.py` printed, as
//! `benches/remote.sh` runs it) it prints dask's numbers beside them and the ratios.
//!
//! ```text
//! benches/remote.sh                       # both sides
//! cargo bench -p futurepool-remote --bench remote -- --tasks 20000
//! cargo bench -p futurepool-remote --bench remote -- --submit-only   # 2 workers, R1 only
//! cargo bench -p futurepool-remote --bench remote -- --map-only --map-items 1000000
//! cargo bench -p futurepool-remote --bench remote -- --map-chunk 100   # one chunk size only
//! ```
//!
//! `--submit-only` runs just the unchunked submit + `as_completed` with 2 workers and the
//! submit → result latency (p50, p99): the quick run to compare builds or to profile.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::cluster::Cluster;
use common::{CPU_BOUND, SQUARE, Server, WorkerProcess, registry};
use futurepool_core::CpuPool;
use futurepool_remote::RemotePool;
use futurepool_stream::as_completed;
use futures_util::StreamExt;

/// How many times each unchunked throughput is measured (after one warm-up).
const RUNS: usize = 3;

const SEED: [u64; 5] = [10_000_000, 12_000_000, 11_000_000, 9_000_000, 13_000_000];

fn cpu_bound_calculation(n: u64) -> u128 {
    let mut result: u128 = 0;
    for i in 0..n {
        let i = u128::from(std::hint::black_box(i));
        result += i * i;
    }
    result
}

/// The number after `"key":` in a flat JSON object.
fn json_number(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = json[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

async fn pool(url: &str, namespace: &str) -> RemotePool {
    RemotePool::builder(registry())
        .url(url)
        .namespace(namespace)
        .build()
        .await
        .expect("a pool")
}

/// Tasks per second of `n` tiny tasks, submitted at once and collected with `as_completed`.
async fn throughput(pool: &RemotePool, n: u64) -> f64 {
    let start = Instant::now();
    let mut done = as_completed((0..n).map(|i| pool.submit(SQUARE, i)));
    let mut total = 0u64;
    while let Some(r) = done.next().await {
        total = total.wrapping_add(r.expect("a square"));
    }
    let elapsed = start.elapsed();
    assert_eq!(total, (0..n).map(|i| i * i).fold(0u64, u64::wrapping_add));
    n as f64 / elapsed.as_secs_f64()
}

/// One task at a time, submit → result, `rounds` times: the p50 and p99 latency.
async fn latency(pool: &RemotePool, rounds: u64) -> (Duration, Duration) {
    let mut times = Vec::new();
    for i in 0..rounds {
        let t = Instant::now();
        assert_eq!(pool.submit(SQUARE, i).await.expect("a square"), i * i);
        times.push(t.elapsed());
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// `--submit-only`: 2 workers on one server, `tasks` tiny tasks, then the latency.
async fn submit_only(tasks: u64) {
    let server = Server::start();
    let _workers: Vec<_> = (0..2)
        .map(|_| WorkerProcess::start(&server.url, "bench2", 64, false))
        .collect();
    let pool = pool(&server.url, "bench2").await;
    throughput(&pool, 500).await; // warm up
    let rate = throughput(&pool, tasks).await;
    let (p50, p99) = latency(&pool, 1000).await;
    pool.shutdown().await;
    println!(
        "2 workers, {tasks} tiny tasks (submit + as_completed): {rate:.0} tasks/s; one task submit → result (1000 in a row): p50 {:.0} µs, p99 {:.0} µs",
        micros(p50),
        micros(p99)
    );
}

/// A map stream of squares over a range.
type SquareMap = futurepool_stream::Map<
    futurepool_remote::RemoteChunks<u64, u64>,
    futures_util::stream::Iter<std::ops::Range<u64>>,
>;

/// Items per second of a `map` of `n` tiny items; `settings` sets the stream's chunking and
/// read-ahead.
async fn map_rate(pool: &RemotePool, n: u64, settings: impl FnOnce(SquareMap) -> SquareMap) -> f64 {
    let start = Instant::now();
    let total = settings(pool.map(SQUARE, 0..n))
        .fold(0u64, |sum, r| async move {
            sum.wrapping_add(r.expect("a square"))
        })
        .await;
    let elapsed = start.elapsed();
    assert_eq!(total, (0..n).map(|i| i * i).fold(0u64, u64::wrapping_add));
    n as f64 / elapsed.as_secs_f64()
}

/// The chunked maps: 1M tiny items over 2 workers, automatic chunks with a read-ahead of
/// 32,768 items, fixed chunks of 100 as Python's, and the default settings (64 items ahead)
/// on a tenth of the items; beside `ProcessPoolExecutor.map(chunksize=100)`.
async fn maps(server: &Server, items: u64) {
    let _workers: Vec<_> = (0..2)
        .map(|_| WorkerProcess::start(&server.url, "benchmap", 4, false))
        .collect();
    let pool = pool(&server.url, "benchmap").await;
    map_rate(&pool, 10_000, |m| m.buffer(32_768)).await; // warm up
    let mut automatic = Vec::new();
    let mut hundred = Vec::new();
    for _ in 0..3 {
        automatic.push(map_rate(&pool, items, |m| m.buffer(32_768)).await);
        hundred.push(map_rate(&pool, items, |m| m.chunk_size(100).buffer(32_768)).await);
    }
    let default = map_rate(&pool, items / 10, |m| m).await;
    pool.shutdown().await;
    let python = python_map(items);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "
map of {items} tiny items (square), 2 workers × 4 slots, 3 runs (min / median / max), load average {}",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    println!("| setting | items/s |");
    println!("|---|---|");
    println!(
        "| automatic chunks, `.buffer(32768)` | {} |",
        spread(&automatic)
    );
    println!(
        "| `.chunk_size(100).buffer(32768)` | {} |",
        spread(&hundred)
    );
    println!(
        "| default settings (64 items ahead), {} items | {default:.0} |",
        items / 10
    );
    match python {
        Some(rates) => println!(
            "| CPython `ProcessPoolExecutor(2).map(chunksize=100)` | {} |\nautomatic / CPython (medians): {:.2}×",
            spread(&rates),
            median(&automatic) / median(&rates)
        ),
        None => println!("| CPython `ProcessPoolExecutor(2).map(chunksize=100)` | – |"),
    }
}

/// `--map-chunk N`: only the map with `.chunk_size(N).buffer(32768)`, 5 runs: the quick run
/// to compare builds or to profile.
async fn map_chunk_only(server: &Server, items: u64, size: usize) {
    let _workers: Vec<_> = (0..2)
        .map(|_| WorkerProcess::start(&server.url, "benchmap", 4, false))
        .collect();
    let pool = pool(&server.url, "benchmap").await;
    map_rate(&pool, 10_000, |m| m.chunk_size(size).buffer(32_768)).await; // warm up
    let mut rates = Vec::new();
    for _ in 0..5 {
        rates.push(map_rate(&pool, items, |m| m.chunk_size(size).buffer(32_768)).await);
    }
    pool.shutdown().await;
    println!(
        "map of {items} tiny items, `.chunk_size({size}).buffer(32768)`, 2 workers × 4 slots, 5 runs (min / median / max): {} items/s",
        spread(&rates)
    );
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn spread(values: &[f64]) -> String {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    format!(
        "{:.0} / {:.0} / {:.0}",
        v[0],
        v[v.len() / 2],
        v[v.len() - 1]
    )
}

/// CPython's `ProcessPoolExecutor.map(chunksize=100)` over `items` tiny items with 2
/// processes, 3 runs (items/s), from `benches/python/process_bench.py`.
fn python_map(items: u64) -> Option<Vec<f64>> {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../benches/python/process_bench.py");
    let out = Command::new("python3")
        .arg(script)
        .args(["--tasks", "100", "--runs", "1", "--map-items"])
        .arg(items.to_string())
        .args(["--map-runs", "3", "--chunksize", "100", "--workers", "2"])
        .output()
        .map_err(|e| eprintln!("python3 is not available ({e}): no Python row"))
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "the Python side failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find_map(|l| l.strip_prefix("map "))?;
    Some(
        line.split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect(),
    )
}

fn main() {
    let mut tasks = 20_000u64;
    let mut map_items = 1_000_000u64;
    let mut map_only = false;
    let mut dask = String::new();
    let mut only_submit = false;
    let mut map_chunk = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--tasks" => tasks = args.next().and_then(|n| n.parse().ok()).expect("--tasks N"),
            "--map-items" => {
                map_items = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--map-items N")
            }
            "--map-only" => map_only = true,
            "--dask" => dask = args.next().unwrap_or_default(),
            "--submit-only" => only_submit = true,
            "--map-chunk" => {
                map_chunk = Some(
                    args.next()
                        .and_then(|n| n.parse().ok())
                        .expect("--map-chunk N"),
                )
            }
            _ => {} // cargo bench passes --bench
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    if only_submit {
        runtime.block_on(submit_only(tasks));
        return;
    }
    if let Some(size) = map_chunk {
        runtime.block_on(map_chunk_only(&Server::start(), map_items, size));
        return;
    }
    if map_only {
        runtime.block_on(maps(&Server::start(), map_items));
        return;
    }
    runtime.block_on(async {
        let server = Server::start();
        let mut rates = Vec::new();
        let mut round_trip = (Duration::ZERO, Duration::ZERO);
        for workers in 1..=3 {
            let namespace = format!("bench{workers}");
            let _workers: Vec<_> = (0..workers)
                .map(|_| WorkerProcess::start(&server.url, &namespace, 64, false))
                .collect();
            let pool = pool(&server.url, &namespace).await;
            throughput(&pool, 500).await; // warm up
            let mut runs = Vec::new();
            for _ in 0..RUNS {
                runs.push(throughput(&pool, tasks).await);
            }
            rates.push(runs);
            if workers == 1 {
                round_trip = latency(&pool, 1000).await;
            }
            pool.shutdown().await;
        }

        // The same tiny tasks with 2 workers, on a three-node cluster keeping every stream on
        // all three nodes: a message is acked once two of the three have stored it.
        let cluster_rate = {
            let cluster = Cluster::start(3).await;
            let _workers: Vec<_> = (0..2)
                .map(|_| WorkerProcess::start(&cluster.url, "benchr3", 64, false))
                .collect();
            let pool = RemotePool::builder(registry())
                .url(&cluster.url)
                .namespace("benchr3")
                .replicas(3)
                .build()
                .await
                .expect("a pool on the cluster");
            throughput(&pool, 500).await; // warm up
            let mut runs = Vec::new();
            for _ in 0..RUNS {
                runs.push(throughput(&pool, tasks).await);
            }
            pool.shutdown().await;
            runs
        };

        let _workers: Vec<_> = (0..3)
            .map(|_| WorkerProcess::start(&server.url, "seed", 1, false))
            .collect();
        let pool = pool(&server.url, "seed").await;
        pool.submit(CPU_BOUND, 10).await.expect("warm up");
        let start = Instant::now();
        let remote: Vec<u128> = pool
            .map(CPU_BOUND, SEED)
            .map(|r| r.expect("a sum"))
            .collect()
            .await;
        let remote_seed = start.elapsed();
        pool.shutdown().await;
        let cpu = CpuPool::new();
        let start = Instant::now();
        let local: Vec<u128> = futures_util::future::join_all(
            SEED.map(|n| cpu.submit(move || cpu_bound_calculation(n))),
        )
        .await
        .into_iter()
        .map(|r| r.expect("a sum"))
        .collect();
        let cpu_seed = start.elapsed();
        assert_eq!(remote, local);

        println!("RemotePool on loopback, {tasks} tiny tasks (submit + as_completed), 64 tasks in flight per worker, {RUNS} runs (min / median / max; the ratio of medians)");
        println!("| workers | RemotePool tasks/s | dask LocalCluster tasks/s | ratio |");
        println!("|---|---|---|---|");
        for (i, runs) in rates.iter().enumerate() {
            let workers = i + 1;
            let rate = median(runs);
            let runs = spread(runs);
            match json_number(&dask, &format!("tasks_per_s_{workers}")) {
                Some(d) => println!("| {workers} | {runs} | {d:.0} | {:.1}× |", rate / d),
                None => println!("| {workers} | {runs} | – | – |"),
            }
        }
        println!(
            "\n2 workers, three-node cluster, replicas(3): {} tasks/s; one server (R1): {} tasks/s (R3/R1 {:.2}×, medians)",
            spread(&cluster_rate),
            spread(&rates[1]),
            median(&cluster_rate) / median(&rates[1])
        );
        let (p50, p99) = round_trip;
        match json_number(&dask, "round_trip_s") {
            Some(d) => println!(
                "\none task, submit → result (1000 in a row, 1 worker): RemotePool p50 {:.0} µs, p99 {:.0} µs; dask median of 200 {:.0} µs ({:.1}× the p50)",
                micros(p50),
                micros(p99),
                d * 1e6,
                d / p50.as_secs_f64()
            ),
            None => println!(
                "\none task, submit → result (1000 in a row, 1 worker): RemotePool p50 {:.0} µs, p99 {:.0} µs",
                micros(p50),
                micros(p99)
            ),
        }
        println!(
            "seed cpu_bound_calculation, five numbers: RemotePool over 3 workers {:.3} s, CpuPool ({} threads) {:.3} s ({:.2}×)",
            remote_seed.as_secs_f64(),
            std::thread::available_parallelism().map_or(1, usize::from),
            cpu_seed.as_secs_f64(),
            cpu_seed.as_secs_f64() / remote_seed.as_secs_f64()
        );
        maps(&server, map_items).await;
    });
}
