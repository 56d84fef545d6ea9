//! The futurepool side of `benches/compare.sh`: the seed documents' workloads,
//! the same inputs as `benches/python/seeds_bench.py`, timed in this process.
//!
//! `cargo bench --bench python_compare -- [--json] [--quick] [--url BASE]`
//!
//! Without `--url`, the download rows use a local server started here with
//! the same 20 ms latency and page size as `benches/python/server.py`.

mod common;

use std::time::{Duration, Instant};

use common::{Args, Report, Value};
use futurepool::prelude::*;
use futures::StreamExt;

const NUMBERS: [u64; 5] = [10_000_000, 12_000_000, 11_000_000, 9_000_000, 13_000_000];

/// The seeds' `task(n)`: `n * n`.
fn task(n: u64) -> u64 {
    n * n
}

/// The seed's `cpu_bound_calculation`, in `u128`: the sums pass `u64::MAX`
/// (Python's integers never overflow; these must equal Python's exactly).
///
/// `black_box` keeps the loop a loop: without it, LLVM replaces it with the
/// closed form of the sum of squares and the workload takes no time at all
/// (see `examples/cpu_bound.rs`), which would compare nothing with Python's
/// 55 million iterations.
fn cpu_bound_calculation(n: u64) -> u128 {
    let mut result: u128 = 0;
    for i in 0..n {
        let i = u128::from(std::hint::black_box(i));
        result += i * i;
    }
    result
}

async fn thread_submit_as_completed(n: u64) -> u128 {
    let pool = BlockingPool::new();
    let tasks: Vec<Task<u64>> = (0..n).map(|i| pool.submit(move || task(i))).collect();
    let mut done = as_completed(tasks);
    let mut total = 0u128;
    while let Some(out) = done.next().await {
        total += u128::from(out.expect("task failed"));
    }
    pool.shutdown().await;
    total
}

/// `executor.map(task, range(n))`, summed, on any closure pool.
async fn map_sum<E: ExecutorMapExt>(pool: E, n: u64) -> u128 {
    let total = pool
        .map(task, 0..n)
        .fold(0u128, |acc, r| async move {
            acc + u128::from(r.expect("task failed"))
        })
        .await;
    pool.shutdown().await;
    total
}

async fn thread_map(n: u64) -> u128 {
    map_sum(BlockingPool::new(), n).await
}

async fn process_map(n: u64) -> u128 {
    map_sum(CpuPool::new(), n).await
}

async fn cpu_bound(_n: u64) -> u128 {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pool = CpuPool::builder()
        .max_workers(workers)
        .build()
        .expect("build the CPU pool");
    let results: Vec<u128> = pool
        .map(cpu_bound_calculation, NUMBERS)
        .map(|r| r.expect("task failed"))
        .collect()
        .await;
    pool.shutdown().await;
    results.into_iter().sum()
}

async fn download(base: String, n: u64, workers: usize, client: reqwest::Client) -> u128 {
    let pool = AsyncPool::builder()
        .max_concurrency(workers)
        .build()
        .expect("build the async pool");
    let tasks: Vec<Task<Result<u16, reqwest::Error>>> = (0..n)
        .map(|i| {
            let client = client.clone();
            let url = format!("{base}/page/{i}");
            pool.submit(async move {
                let response = client.get(&url).send().await?;
                let status = response.status().as_u16();
                response.bytes().await?;
                Ok(status)
            })
        })
        .collect();
    let mut done = as_completed(tasks);
    let mut ok = 0u128;
    while let Some(out) = done.next().await {
        match out {
            Ok(Ok(200)) => ok += 1,
            Ok(Ok(status)) => eprintln!("status {status}"),
            Ok(Err(e)) => eprintln!("{e}"),
            Err(e) => eprintln!("{e}"),
        }
    }
    pool.shutdown().await;
    ok
}

fn main() {
    let args = Args::parse();
    let rt = common::runtime();
    let base = match &args.url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => common::latency_server_thread(Duration::from_millis(20), 2048),
    };
    // reqwest is built with rustls and no default crypto provider: pick ring
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let repeat = if args.quick { 1 } else { 3 };
    let scale = if args.quick { 10 } else { 1 };
    let nproc = std::thread::available_parallelism().map_or(1, |n| n.get());
    let default_workers = (nproc + 4).min(32);

    let mut report = Report::new("python_compare (futurepool side)");
    type Run = Box<dyn Fn(u64) -> std::pin::Pin<Box<dyn std::future::Future<Output = u128>>>>;
    let dl = |workers: usize| -> Run {
        let base = base.clone();
        let client = client.clone();
        Box::new(move |n| Box::pin(download(base.clone(), n, workers, client.clone())))
    };
    let workloads: Vec<(String, &str, u64, Run)> = vec![
        (
            "thread_submit_as_completed".into(),
            "BlockingPool::new(): submit + as_completed",
            100_000 / scale,
            Box::new(|n| Box::pin(thread_submit_as_completed(n))),
        ),
        (
            "thread_map".into(),
            "BlockingPool::new().map",
            100_000 / scale,
            Box::new(|n| Box::pin(thread_map(n))),
        ),
        (
            "process_map".into(),
            "CpuPool::new().map",
            20_000 / scale,
            Box::new(|n| Box::pin(process_map(n))),
        ),
        (
            "cpu_bound_calculation".into(),
            "CpuPool (max_workers = cores).map, u128, loop kept (black_box)",
            NUMBERS.len() as u64,
            Box::new(|n| Box::pin(cpu_bound(n))),
        ),
        (
            format!("download_{default_workers}_workers"),
            "AsyncPool (same concurrency), reqwest, as_completed",
            300 / scale,
            dl(default_workers),
        ),
        (
            "download_50_workers".into(),
            "AsyncPool (max_concurrency 50), reqwest, as_completed",
            1000 / scale,
            dl(50),
        ),
    ];
    for (name, how, n, run) in &workloads {
        if !args.wants(name) {
            continue;
        }
        let mut times = Vec::new();
        let mut check = 0u128;
        for _ in 0..repeat {
            let start = Instant::now();
            check = rt.block_on(run(*n));
            times.push(start.elapsed());
        }
        report.row(vec![
            ("workload", Value::Text(name.clone())),
            ("seconds", Value::Secs(common::median(times))),
            ("items", Value::Num(*n as f64)),
            // a JSON number with all its digits, like Python's int
            ("check", Value::Text(check.to_string())),
            ("futurepool", Value::Text((*how).to_owned())),
        ]);
    }
    report.print(&args);
}
