//! ProcessPool side by side with CPython's `ProcessPoolExecutor` and with `CpuPool`, in one run:
//!
//! ```text
//! cargo bench -p futurepool-process --bench process [-- --quick] [-- --no-python]
//! ```
//!
//! - 20,000 tiny tasks (`submit` + `as_completed`), five runs each, on `ProcessPool`, on
//!   `CpuPool` (the price of isolation per task) and on CPython's `ProcessPoolExecutor`
//!   (`benches/python/process_bench.py`, run by this program), all with warm pools of 2
//!   workers; the spread of the five runs and of their ratios is printed;
//! - a map of 1,000,000 tiny items, three runs each: `ProcessPool::map` (chunked, automatic
//!   size) against CPython's `executor.map(chunksize=100)`, and `CpuPool::map`;
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
    runs: usize,
    map_items: u64,
    map_runs: usize,
    python: bool,
    seed: bool,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Without `--bench` (as under `cargo test --benches`) it is a quick smoke run.
    let quick = args.iter().any(|a| a == "--quick") || !args.iter().any(|a| a == "--bench");
    Options {
        tasks: if quick { 2_000 } else { 20_000 },
        runs: if quick { 1 } else { 5 },
        map_items: if quick { 20_000 } else { 1_000_000 },
        map_runs: if quick { 1 } else { 3 },
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
        "--runs",
        &opts.runs.to_string(),
        "--map-items",
        &opts.map_items.to_string(),
        "--map-runs",
        &opts.map_runs.to_string(),
        "--chunksize",
        "100",
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

/// Min, median and max of `values`.
fn spread(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2], v[v.len() - 1])
}

fn show(values: &[f64]) -> String {
    let (min, median, max) = spread(values);
    if values.len() == 1 {
        format!("{median:.0}")
    } else {
        format!("{median:.0} ({min:.0}–{max:.0})")
    }
}

/// The ratios of `ours` to `theirs`, pairing each run of ours with each of theirs: min,
/// median and max.
fn ratio(ours: &[f64], theirs: &[f64]) -> String {
    let ratios: Vec<f64> = ours
        .iter()
        .flat_map(|o| theirs.iter().map(move |t| o / t))
        .collect();
    let (min, median, max) = spread(&ratios);
    format!("{median:.1}× ({min:.1}–{max:.1}×)")
}

fn main() {
    main_if_worker(&registry());
    let opts = options();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let n = opts.tasks;
        let m = opts.map_items;
        let pool = ProcessPool::builder(registry())
            .max_workers(WORKERS)
            .build()
            .expect("a pool");
        // Start the workers before timing.
        let _ = process_map(&pool, 64).await;
        let mut p_submit = Vec::new();
        for _ in 0..opts.runs {
            p_submit.push(process_submit(&pool, n).await);
        }
        let mut p_map = Vec::new();
        for _ in 0..opts.map_runs {
            p_map.push(process_map(&pool, m).await);
        }

        let cpu = CpuPool::builder().max_workers(WORKERS).build().expect("a pool");
        let _ = cpu_map(&cpu, 64).await;
        let mut c_submit = Vec::new();
        for _ in 0..opts.runs {
            c_submit.push(cpu_submit(&cpu, n).await);
        }
        let mut c_map = Vec::new();
        for _ in 0..opts.map_runs {
            c_map.push(cpu_map(&cpu, m).await);
        }

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
        let py = |key: &str| -> Option<Vec<f64>> {
            let line = &python.as_ref()?.iter().find(|(k, _)| k == key)?.1;
            line.split_whitespace().map(|v| v.parse().ok()).collect()
        };

        println!(
            "ProcessPool bench: {WORKERS} warm workers; {n} tiny tasks × {} runs; map of {m} tiny items × {} runs (CPython: chunksize=100)\n",
            opts.runs, opts.map_runs
        );
        println!("median (min–max) of the runs; a ratio pairs every run of one side with every run of the other\n");
        println!("| workload | ProcessPool /s | CpuPool /s | CPython /s | vs CPython | isolation price per item |");
        println!("|---|---:|---:|---:|---:|---:|");
        for (name, p, c, key) in [
            ("submit + as_completed", &p_submit, &c_submit, "submit_as_completed"),
            ("map (chunked)", &p_map, &c_map, "map"),
        ] {
            let (python_rate, vs) = match py(key) {
                Some(rates) if !rates.is_empty() => (show(&rates), ratio(p, &rates)),
                _ => ("-".to_owned(), "-".to_owned()),
            };
            let (_, pm, _) = spread(p);
            let (_, cm, _) = spread(c);
            let price = Duration::from_secs_f64((1.0 / pm - 1.0 / cm).max(0.0));
            println!(
                "| {name} | {} | {} | {python_rate} | {vs} | {:.2} µs ({:.1}× slower) |",
                show(p),
                show(c),
                price.as_secs_f64() * 1e6,
                cm / pm
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
            if let Some(secs) = py("seed_seconds").and_then(|v| v.first().copied()) {
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
