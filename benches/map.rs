//! Ordered `map` of 1M tiny items on `CpuPool`, against rayon oneshots
//! through `futures::stream::buffered` (what one would write by hand in async
//! code) and against `rayon::par_iter` (no per-item round trip at all: the
//! physical limit for this shape, not an async stream).
//!
//! `cargo bench --bench map -- [--json] [--quick]`
//!
//! ratio = baseline time / futurepool time. Goal: >= 1.0x the buffered
//! baseline (futurepool chunks tiny items; the baseline pays one rayon job and
//! one oneshot per item).

mod common;

use std::time::Instant;

use common::{Args, Report, Value};
use futurepool::prelude::*;
use futures::StreamExt;
use rayon::prelude::*;
use tokio::sync::oneshot;

const BUFFER: usize = 64;

fn tiny(x: u64) -> u64 {
    x.wrapping_mul(x) ^ (x >> 3)
}

fn main() {
    let args = Args::parse();
    let rt = common::runtime();
    let n: u64 = if args.quick { 100_000 } else { 1_000_000 };
    let rounds = if args.quick { 1 } else { 5 };
    let expected: u64 = (0..n).map(tiny).fold(0, u64::wrapping_add);
    let cpu = CpuPool::new();

    let futurepool = || {
        rt.block_on(async {
            // the stream is ordered: check the order as well as the sum
            let mut next = 0u64;
            cpu.map(tiny, 0..n)
                .fold(0u64, |acc, r| {
                    let v = r.expect("task failed");
                    assert_eq!(v, tiny(next));
                    next += 1;
                    async move { acc.wrapping_add(v) }
                })
                .await
        })
    };
    let buffered = || {
        rt.block_on(async {
            futures::stream::iter(0..n)
                .map(|x| {
                    let (tx, rx) = oneshot::channel();
                    rayon::spawn(move || {
                        let _ = tx.send(tiny(x));
                    });
                    rx
                })
                .buffered(BUFFER)
                .fold(
                    0u64,
                    |acc, r| async move { acc.wrapping_add(r.expect("sent")) },
                )
                .await
        })
    };
    let par_iter = || {
        let v: Vec<u64> = (0..n).into_par_iter().map(tiny).collect();
        v.into_iter().fold(0, u64::wrapping_add)
    };

    let mut samples = [Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..rounds {
        let runs: [&dyn Fn() -> u64; 3] = [&futurepool, &buffered, &par_iter];
        for (i, run) in runs.iter().enumerate() {
            let start = Instant::now();
            assert_eq!(run(), expected);
            samples[i].push(start.elapsed());
        }
    }
    let [a, b, c] = samples.map(common::median);
    let mut report = Report::new("map: ordered map of tiny items");
    let rate = |d: std::time::Duration| n as f64 / d.as_secs_f64() / 1e6;
    report.row(vec![
        (
            "shape",
            Value::Text(format!("CpuPool::map ({} workers)", cpu.max_workers())),
        ),
        ("items", Value::Num(n as f64)),
        ("time", Value::Secs(a)),
        ("M items/s", Value::Num((rate(a) * 100.0).round() / 100.0)),
        ("ratio", Value::Text("1.00x".into())),
    ]);
    let goal_ok = b.as_secs_f64() / a.as_secs_f64() >= 1.0;
    report.row(vec![
        (
            "shape",
            Value::Text(format!("rayon::spawn + oneshot, buffered({BUFFER})")),
        ),
        ("items", Value::Num(n as f64)),
        ("time", Value::Secs(b)),
        ("M items/s", Value::Num((rate(b) * 100.0).round() / 100.0)),
        ("ratio", Value::Ratio(b.as_secs_f64() / a.as_secs_f64())),
        ("goal", Value::Text(">= 1.0x".into())),
        (
            "met",
            Value::Text(if goal_ok { "yes" } else { "no" }.into()),
        ),
    ]);
    report.row(vec![
        (
            "shape",
            Value::Text("rayon par_iter().map().collect()".into()),
        ),
        ("items", Value::Num(n as f64)),
        ("time", Value::Secs(c)),
        ("M items/s", Value::Num((rate(c) * 100.0).round() / 100.0)),
        ("ratio", Value::Ratio(c.as_secs_f64() / a.as_secs_f64())),
        ("goal", Value::Text("(reference)".into())),
    ]);
    report.print(&args);
}
