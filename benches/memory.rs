//! Memory: the peak RSS growth of a `map` over 5M inputs (goal: flat, under
//! 10 MB), against submitting every input first and then awaiting the tasks
//! in order (what `Executor.map` does in Python before 3.14's `buffersize`);
//! and the bytes one queued task costs.
//!
//! `cargo bench --bench memory -- [--json] [--quick]`
//!
//! Linux only (reads /proc/self/status). Each measurement runs in a fresh
//! child process (this program, started again with `--phase NAME`), so that
//! memory freed by one measurement and kept by the allocator cannot hide the
//! growth of the next.

mod common;

use std::time::{Duration, Instant};

use common::{Args, Report, Value, rss};
use futurepool::prelude::*;
use futures::StreamExt;

fn double(x: u64) -> u64 {
    x.wrapping_mul(2)
}

/// Runs one measurement in this process and prints `bytes seconds`.
fn phase(name: &str, quick: bool) {
    let rt = common::runtime();
    let n: u64 = if quick { 500_000 } else { 5_000_000 };
    let expected = (0..n).map(double).fold(0u64, u64::wrapping_add);
    let cpu = CpuPool::new();
    // warm up the pool and the runtime so their one-time allocations are not counted
    rt.block_on(async {
        let s = cpu
            .map(double, 0..10_000u64)
            .fold(0u64, |a, r| async move { a.wrapping_add(r.expect("ok")) })
            .await;
        assert!(s > 0);
    });
    let (growth, time) = match name {
        "map" => {
            common::reset_peak_rss();
            let (now, _) = rss();
            let start = Instant::now();
            let sum = rt.block_on(async {
                cpu.map(double, 0..n)
                    .fold(0u64, |acc, r| async move {
                        acc.wrapping_add(r.expect("task failed"))
                    })
                    .await
            });
            let time = start.elapsed();
            assert_eq!(sum, expected);
            (rss().1.saturating_sub(now), time)
        }
        "eager" => {
            common::reset_peak_rss();
            let (now, _) = rss();
            let start = Instant::now();
            let sum = rt.block_on(async {
                let tasks: Vec<Task<u64>> = (0..n).map(|x| cpu.submit(move || double(x))).collect();
                let mut acc = 0u64;
                for task in tasks {
                    acc = acc.wrapping_add(task.await.expect("task failed"));
                }
                acc
            });
            let time = start.elapsed();
            assert_eq!(sum, expected);
            (rss().1.saturating_sub(now), time)
        }
        "queued" => {
            // one worker held busy, many tasks queued behind it
            let queued: u64 = if quick { 100_000 } else { 1_000_000 };
            let one = CpuPool::builder().max_workers(1).build().expect("pool");
            let (release, gate) = std::sync::mpsc::channel::<()>();
            let blocker = one.submit(move || gate.recv().ok());
            let mut tasks: Vec<Task<u64>> = Vec::with_capacity(queued as usize);
            let (before, _) = rss();
            let start = Instant::now();
            tasks.extend((0..queued).map(|x| one.submit(move || double(x))));
            let time = start.elapsed();
            let (after, _) = rss();
            assert!(one.stats().queued > 0, "the tasks must be queued");
            release.send(()).expect("release");
            rt.block_on(async {
                blocker.await.expect("blocker");
                for task in tasks {
                    task.await.expect("task failed");
                }
            });
            (after.saturating_sub(before) / queued, time)
        }
        other => panic!("unknown phase {other}"),
    };
    println!("{growth} {}", time.as_secs_f64());
}

/// Runs `--phase name` in a child process and reads its `bytes seconds`.
fn child(name: &str, quick: bool) -> (f64, Duration) {
    let exe = std::env::current_exe().expect("current exe");
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["--phase", name]);
    if quick {
        cmd.arg("--quick");
    }
    let out = cmd.output().expect("run the phase");
    assert!(
        out.status.success(),
        "phase {name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut parts = text.split_whitespace();
    let bytes: f64 = parts.next().and_then(|s| s.parse().ok()).expect("bytes");
    let secs: f64 = parts.next().and_then(|s| s.parse().ok()).expect("seconds");
    (bytes, Duration::from_secs_f64(secs))
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if let Some(i) = argv.iter().position(|a| a == "--phase") {
        let quick = argv.iter().any(|a| a == "--quick");
        phase(&argv[i + 1], quick);
        return;
    }
    let args = Args::parse();
    let n: u64 = if args.quick { 500_000 } else { 5_000_000 };
    let queued: u64 = if args.quick { 100_000 } else { 1_000_000 };
    let (map_growth, map_time) = child("map", args.quick);
    let (eager_growth, eager_time) = child("eager", args.quick);
    let (per_task, queue_time) = child("queued", args.quick);

    let mut report = Report::new("memory: peak RSS growth");
    report.row(vec![
        (
            "shape",
            Value::Text(format!("CpuPool::map over {n} inputs")),
        ),
        ("peak RSS growth", Value::Bytes(map_growth)),
        ("time", Value::Secs(map_time)),
        ("goal", Value::Text("< 10 MB".into())),
        (
            "met",
            Value::Text(if map_growth < 10e6 { "yes" } else { "no" }.into()),
        ),
    ]);
    report.row(vec![
        (
            "shape",
            Value::Text(format!("submit all {n}, then await in order")),
        ),
        ("peak RSS growth", Value::Bytes(eager_growth)),
        ("time", Value::Secs(eager_time)),
        ("ratio", Value::Ratio(eager_growth / map_growth.max(4096.0))),
    ]);
    report.row(vec![
        (
            "shape",
            Value::Text(format!("{queued} tasks queued on a busy CpuPool")),
        ),
        ("bytes per queued task", Value::Bytes(per_task)),
        (
            "of which the Task handle",
            Value::Bytes(std::mem::size_of::<Task<u64>>() as f64),
        ),
        ("time", Value::Secs(queue_time)),
        ("goal", Value::Text("(report)".into())),
    ]);
    report.print(&args);
}
