//! ProcessPool side by side with CPython's `ProcessPoolExecutor` and with `CpuPool`, in one run:
//!
//! ```text
//! cargo bench -p futurepool-process --bench process [-- --quick] [-- --no-python]
//! ```
//!
//! - 20,000 tiny tasks (`submit` + `as_completed`, and `map`) on `ProcessPool`, on `CpuPool`
//!   (the price of isolation per task) and on CPython's `ProcessPoolExecutor`
//!   (`benches/python/process_bench.py`, run by this program), all with 2 workers;
//! - the seed's `cpu_bound_calculation` over its five numbers on `ProcessPool`, with the same
//!   results as Python's;
//! - the time from a crash to the replacement worker serving again.
//!
//! This program is also the worker program: `main` calls `main_if_worker` first.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use futurepool_core::{CpuPool, Task};
use futurepool_process::{ProcessPool, Registry, RemoteFn, main_if_worker};
use futurepool_stream::{ExecutorMapExt, as_completed};
use futures::StreamExt;

fn tiny(n: u64) -> u64 {
    n * n
}

/// The seed's `cpu_bound_calculation`, in `u128` (the sums pass `u64::MAX`; Python's integers
/// never overflow). `black_box` keeps the loop a loop instead of its closed form.
fn cpu_bound_calculation(n: u64) -> u128 {
    let mut result: u128 = 0;
    for i in 0..n {
        let i = u128::from(std::hint::black_box(i));
        result += i * i;
    }
    result
}

fn exit3(_: ()) -> u64 {
    std::process::exit(3)
}

const TINY: RemoteFn<u64, u64> = RemoteFn::new("tiny", tiny);
const CPU_BOUND: RemoteFn<u64, u128> =
    RemoteFn::new("cpu_bound_calculation", cpu_bound_calculation);
const EXIT3: RemoteFn<(), u64> = RemoteFn::new("exit3", exit3);

const NUMBERS: [u64; 5] = [10_000_000, 12_000_000, 11_000_000, 9_000_000, 13_000_000];
const WORKERS: usize = 2;

fn registry() -> Registry {
    Registry::new().with(TINY).with(CPU_BOUND).with(EXIT3)
}

struct Options {
    tasks: u64,
    python: bool,
    seed: bool,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Without `--bench` (as under `cargo test --benches`) it is a quick smoke run.
    let quick = args.iter().any(|a| a == "--quick") || !args.iter().any(|a| a == "--bench");
    Options {
        tasks: if quick { 2_000 } else { 20_000 },
        python: !quick && !args.iter().any(|a| a == "--no-python"),
        seed: !quick,
    }
}

fn per_second(n: u64, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

async fn process_submit(pool: &ProcessPool, n: u64) -> f64 {
    let start = Instant::now();
    let tasks: Vec<Task<u64>> = (0..n).map(|i| pool.submit(TINY, i)).collect();
    let mut total = 0u128;
    let mut done = as_completed(tasks);
    while let Some(r) = done.next().await {
        total += u128::from(r.expect("a result"));
    }
    let elapsed = start.elapsed();
    assert_eq!(total, (0..n).map(|i| u128::from(i * i)).sum::<u128>());
    per_second(n, elapsed)
}

async fn process_map(pool: &ProcessPool, n: u64) -> f64 {
    let start = Instant::now();
    let total: u128 = pool
        .map(TINY, 0..n)
        .map(|r| u128::from(r.expect("a result")))
        .fold(0, |a, b| async move { a + b })
        .await;
    let elapsed = start.elapsed();
    assert_eq!(total, (0..n).map(|i| u128::from(i * i)).sum::<u128>());
    per_second(n, elapsed)
}

async fn cpu_submit(pool: &CpuPool, n: u64) -> f64 {
    let start = Instant::now();
    let tasks: Vec<Task<u64>> = (0..n).map(|i| pool.submit(move || tiny(i))).collect();
    let mut done = as_completed(tasks);
    let mut total = 0u128;
    while let Some(r) = done.next().await {
        total += u128::from(r.expect("a result"));
    }
    let elapsed = start.elapsed();
    assert_eq!(total, (0..n).map(|i| u128::from(i * i)).sum::<u128>());
    per_second(n, elapsed)
}

async fn cpu_map(pool: &CpuPool, n: u64) -> f64 {
    let start = Instant::now();
    let total: u128 = pool
        .map(tiny, 0..n)
        .map(|r| u128::from(r.expect("a result")))
        .fold(0, |a, b| async move { a + b })
        .await;
    let elapsed = start.elapsed();
    assert_eq!(total, (0..n).map(|i| u128::from(i * i)).sum::<u128>());
    per_second(n, elapsed)
}

/// Crash to serving: with one worker, the time from a task's crash being reported to the next
/// task's result (which needs the replacement worker); median and worst of `reps`.
async fn crash_to_serving(reps: usize) -> (Duration, Duration, Duration) {
    let pool = ProcessPool::builder(registry())
        .max_workers(1)
        .build()
        .expect("a pool");
    pool.submit(TINY, 1).await.expect("warm");
    let mut warm = Vec::new();
    let mut gaps = Vec::new();
    for _ in 0..reps {
        let start = Instant::now();
        pool.submit(TINY, 2).await.expect("a warm round trip");
        warm.push(start.elapsed());
        let err = pool.submit(EXIT3, ()).await.expect_err("a crash");
        assert!(err.is_crashed());
        let crashed = Instant::now();
        pool.submit(TINY, 3)
            .await
            .expect("served by the replacement");
        gaps.push(crashed.elapsed());
    }
    pool.shutdown().await;
    gaps.sort();
    warm.sort();
    (gaps[reps / 2], gaps[reps - 1], warm[reps / 2])
}

fn python_side(opts: &Options) -> Option<Vec<(String, String)>> {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../benches/python/process_bench.py");
    let mut command = Command::new("python3");
    command.arg(script).args([
        "--tasks",
        &opts.tasks.to_string(),
        "--workers",
        &WORKERS.to_string(),
    ]);
    if opts.seed {
        command.arg("--seed");
    }
    let out = match command.output() {
        Ok(out) if out.status.success() => out,
        Ok(out) => {
            eprintln!(
                "the Python side failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        Err(e) => {
            eprintln!("python3 is not available ({e}): no Python column");
            return None;
        }
    };
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    )
}

fn main() {
    main_if_worker(&registry());
    let opts = options();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let n = opts.tasks;
        let pool = ProcessPool::builder(registry())
            .max_workers(WORKERS)
            .build()
            .expect("a pool");
        // Start the workers before timing.
        let _ = process_map(&pool, 64).await;
        let p_submit = process_submit(&pool, n).await;
        let p_map = process_map(&pool, n).await;

        let cpu = CpuPool::builder().max_workers(WORKERS).build().expect("a pool");
        let _ = cpu_map(&cpu, 64).await;
        let c_submit = cpu_submit(&cpu, n).await;
        let c_map = cpu_map(&cpu, n).await;

        let (median, worst, warm) = crash_to_serving(if opts.seed { 21 } else { 5 }).await;

        let seed = if opts.seed {
            let start = Instant::now();
            let results: Vec<u128> = pool
                .map(CPU_BOUND, NUMBERS)
                .map(|r| r.expect("a result"))
                .collect()
                .await;
            Some((start.elapsed(), results))
        } else {
            None
        };
        pool.shutdown().await;

        let python = if opts.python { python_side(&opts) } else { None };
        let py = |key: &str| -> Option<f64> {
            python.as_ref()?.iter().find(|(k, _)| k == key)?.1.parse().ok()
        };

        println!("ProcessPool bench: {n} tiny tasks, {WORKERS} workers\n");
        println!("| workload | ProcessPool tasks/s | CpuPool tasks/s | CPython tasks/s | vs CPython | isolation price per task |");
        println!("|---|---:|---:|---:|---:|---:|");
        for (name, p, c, key) in [
            ("submit + as_completed", p_submit, c_submit, "submit_as_completed"),
            ("map", p_map, c_map, "map"),
        ] {
            let (python_rate, ratio) = match py(key) {
                Some(rate) => (format!("{rate:.0}"), format!("{:.1}×", p / rate)),
                None => ("-".to_owned(), "-".to_owned()),
            };
            let price = Duration::from_secs_f64(1.0 / p - 1.0 / c);
            println!(
                "| {name} | {p:.0} | {c:.0} | {python_rate} | {ratio} | {:.1} µs ({:.1}× slower) |",
                price.as_secs_f64() * 1e6,
                c / p
            );
        }
        println!(
            "\ncrash to serving again (1 worker, exit(3) then the next task): median {:.2} ms, worst {:.2} ms (a warm round trip: {:.3} ms)",
            median.as_secs_f64() * 1e3,
            worst.as_secs_f64() * 1e3,
            warm.as_secs_f64() * 1e3
        );
        if let Some((elapsed, results)) = seed {
            print!("\nseed cpu_bound_calculation, five numbers: ProcessPool {:.3} s", elapsed.as_secs_f64());
            if let Some(secs) = py("seed_seconds") {
                print!(", CPython {secs:.3} s ({:.1}×)", secs / elapsed.as_secs_f64());
            }
            println!();
            for (num, result) in NUMBERS.iter().zip(&results) {
                let same = match python.as_ref() {
                    Some(p) => {
                        let key = format!("seed_result_{num}");
                        match p.iter().find(|(k, _)| *k == key) {
                            Some((_, v)) if *v == result.to_string() => " (same as Python)",
                            Some(_) => " (DIFFERS from Python)",
                            None => "",
                        }
                    }
                    None => "",
                };
                println!("Calculation for {num}: {result}{same}");
            }
        }
    });
}
