//! Runtime responsiveness: the worst lag of a 1 ms ticker task on the Tokio
//! runtime while 8 CPU-bound jobs of 150 ms each run, with the jobs on a
//! `CpuPool` vs the same jobs `tokio::spawn`ed onto the runtime.
//!
//! `cargo bench --bench responsiveness -- [--json] [--quick]`
//!
//! Goal: worst lag <= 5 ms with `CpuPool` (jobs spawned on the runtime stall
//! the ticker for about a whole job).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Args, Report, Value};
use futurepool::prelude::*;
use tokio::time::Instant;

const JOBS: usize = 8;
const JOB: Duration = Duration::from_millis(150);
const TICK: Duration = Duration::from_millis(1);

/// Ticks every millisecond until `stop`; returns the worst lateness of a tick
/// and the number of ticks.
async fn ticker(stop: Arc<AtomicBool>) -> (Duration, u64) {
    let mut worst = Duration::ZERO;
    let mut ticks = 0;
    let mut next = Instant::now() + TICK;
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep_until(next).await;
        let now = Instant::now();
        worst = worst.max(now - next);
        ticks += 1;
        next = now + TICK;
    }
    (worst, ticks)
}

/// Where the jobs run.
#[derive(Clone, Copy)]
enum Jobs<'a> {
    On(&'a CpuPool),
    Spawned,
    /// No jobs: the ticker alone for as long as the jobs take, to show the
    /// timer's own lateness (Tokio's timer has a 1 ms resolution).
    None,
}

fn run(rt: &tokio::runtime::Runtime, jobs: Jobs<'_>) -> (Duration, u64, Duration) {
    rt.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let ticking = tokio::spawn(ticker(Arc::clone(&stop)));
        tokio::time::sleep(Duration::from_millis(20)).await; // ticker warmed up
        let start = std::time::Instant::now();
        match jobs {
            Jobs::On(pool) => {
                let tasks: Vec<Task<u64>> = (0..JOBS)
                    .map(|_| pool.submit(|| common::spin(JOB)))
                    .collect();
                for task in tasks {
                    task.await.expect("job failed");
                }
            }
            Jobs::None => {
                tokio::time::sleep(JOB * JOBS as u32 / 2).await;
            }
            Jobs::Spawned => {
                let handles: Vec<_> = (0..JOBS)
                    .map(|_| tokio::spawn(async { common::spin(JOB) }))
                    .collect();
                for handle in handles {
                    handle.await.expect("job failed");
                }
            }
        }
        let elapsed = start.elapsed();
        stop.store(true, Ordering::Relaxed);
        let (worst, ticks) = ticking.await.expect("ticker");
        (worst, ticks, elapsed)
    })
}

fn main() {
    let args = Args::parse();
    let rt = common::runtime();
    let rounds = if args.quick { 1 } else { 5 };
    let pool = CpuPool::new();
    // the same jobs on a CpuPool one thread smaller than the machine, which
    // leaves a core to the runtime's threads
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let smaller = CpuPool::builder()
        .max_workers(cores.saturating_sub(1).max(1))
        .build()
        .expect("pool");
    let mut report = Report::new(
        "responsiveness: 1 ms ticker while 8 x 150 ms CPU jobs run (worst of the rounds)",
    );
    let (mut ours, mut theirs, mut spare, mut idle) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        ours.push(run(&rt, Jobs::On(&pool)));
        theirs.push(run(&rt, Jobs::Spawned));
        spare.push(run(&rt, Jobs::On(&smaller)));
        idle.push(run(&rt, Jobs::None));
    }
    // the worst round of each (a stall is what this bench looks for), and the
    // median round's worst lag, to show how much rounds vary
    let worst = |v: &[(Duration, u64, Duration)]| *v.iter().max_by_key(|r| r.0).expect("rounds");
    let median = |v: &[(Duration, u64, Duration)]| common::median(v.iter().map(|r| r.0).collect());
    let (a, b, c) = (worst(&ours), worst(&theirs), worst(&spare));
    let (ma, mb, mc) = (median(&ours), median(&theirs), median(&spare));
    let (d, md) = (worst(&idle), median(&idle));
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let workers = rt.metrics().num_workers();
    report.row(vec![
        (
            "jobs on",
            Value::Text(format!("CpuPool ({} threads)", pool.max_workers())),
        ),
        ("worst tick lag", Value::Millis(ms(a.0))),
        ("median round", Value::Millis(ms(ma))),
        ("ticks", Value::Num(a.1 as f64)),
        ("jobs took", Value::Millis(ms(a.2))),
        ("goal", Value::Text("<= 5 ms".into())),
        (
            "met",
            Value::Text(if ms(a.0) <= 5.0 { "yes" } else { "no" }.into()),
        ),
    ]);
    report.row(vec![
        (
            "jobs on",
            Value::Text(format!("tokio::spawn ({workers} runtime workers)")),
        ),
        ("worst tick lag", Value::Millis(ms(b.0))),
        ("median round", Value::Millis(ms(mb))),
        ("ticks", Value::Num(b.1 as f64)),
        ("jobs took", Value::Millis(ms(b.2))),
        (
            "ratio",
            Value::Ratio(b.0.as_secs_f64() / a.0.as_secs_f64().max(1e-9)),
        ),
    ]);
    report.row(vec![
        (
            "jobs on",
            Value::Text(format!(
                "CpuPool ({} thread(s): cores - 1)",
                smaller.max_workers()
            )),
        ),
        ("worst tick lag", Value::Millis(ms(c.0))),
        ("median round", Value::Millis(ms(mc))),
        ("ticks", Value::Num(c.1 as f64)),
        ("jobs took", Value::Millis(ms(c.2))),
        ("goal", Value::Text("(reference)".into())),
    ]);
    report.row(vec![
        ("jobs on", Value::Text("(no jobs: the timer alone)".into())),
        ("worst tick lag", Value::Millis(ms(d.0))),
        ("median round", Value::Millis(ms(md))),
        ("ticks", Value::Num(d.1 as f64)),
        ("jobs took", Value::Millis(ms(d.2))),
        ("goal", Value::Text("(reference)".into())),
    ]);
    report.print(&args);
}
