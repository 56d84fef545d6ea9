//! Per-task overhead: N trivial tasks, all submitted, then collected with
//! `as_completed`; each pool against what one would write by hand, measured
//! in the same run, interleaved.
//!
//! `cargo bench --bench overhead -- [--json] [--quick] [FILTER]`
//!
//! ratio = baseline time / futurepool time (above 1: futurepool is faster).
//! Goals: BlockingPool >= 1.0x raw `spawn_blocking`; CpuPool >= 0.9x
//! `rayon::spawn` + oneshot; AsyncPool >= 0.9x `tokio::spawn` + `Semaphore`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Args, Report, Value};
use futurepool::prelude::*;
use futures::StreamExt;
use tokio::sync::{Semaphore, oneshot};

async fn drain<F>(futures: Vec<F>) -> u64
where
    F: std::future::IntoFuture,
    F::Output: IntoU64,
{
    let mut done = as_completed(futures);
    let mut sum = 0;
    while let Some(out) = done.next().await {
        sum += out.into_u64();
    }
    sum
}

/// The outputs of the different handles, reduced to the task's value.
trait IntoU64 {
    fn into_u64(self) -> u64;
}
impl<E: std::fmt::Debug> IntoU64 for Result<u64, E> {
    fn into_u64(self) -> u64 {
        self.expect("task failed")
    }
}

const CONCURRENCY: usize = 64;

/// Makes each side pay for its own allocator garbage, inside its own timing.
///
/// glibc keeps small freed chunks (up to 128 bytes with their header) in "fast bins" and merges
/// them only when a large block is next requested. The sides run one after the other, so
/// without this the merge of one side's 200,000+ small freed chunks was billed to the other
/// side's first large allocation (its vector of handles): in a profile of the CpuPool row,
/// `malloc_consolidate` under the futurepool side's `Vec` took ~48 ns a task, most of it
/// the rayon side's jobs, oneshots and queue nodes. A 64 KiB block is a "large" request that is
/// still served from the heap (not `mmap`), so it merges whatever this side left. Other
/// allocators just serve and free one block.
fn settle_allocator() {
    drop(std::hint::black_box(Vec::<u8>::with_capacity(64 << 10)));
}

fn main() {
    let args = Args::parse();
    let rt = common::runtime();
    let n: u64 = if args.quick { 20_000 } else { 200_000 };
    let rounds = if args.quick { 3 } else { 11 };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut report = Report::new("overhead: submit N tasks, collect with as_completed");

    // (name, futurepool side, baseline side, goal)
    type Side = Box<dyn Fn(u64) -> std::pin::Pin<Box<dyn std::future::Future<Output = u64>>>>;
    let blocking = rt.block_on(async { BlockingPool::new() });
    let cpu = CpuPool::new();
    let net = rt.block_on(async {
        AsyncPool::builder()
            .max_concurrency(CONCURRENCY)
            .build()
            .expect("async pool")
    });
    let semaphore = Arc::new(Semaphore::new(CONCURRENCY));
    let cases: Vec<(String, &str, Side, Side, f64)> = vec![
        (
            format!("BlockingPool ({} workers)", blocking.max_workers()),
            "tokio spawn_blocking",
            Box::new(move |n| {
                let pool = blocking.clone();
                Box::pin(
                    async move { drain((0..n).map(|i| pool.submit(move || i)).collect()).await },
                )
            }),
            Box::new(|n| {
                Box::pin(async move {
                    drain(
                        (0..n)
                            .map(|i| tokio::task::spawn_blocking(move || i))
                            .collect(),
                    )
                    .await
                })
            }),
            1.0,
        ),
        (
            format!("CpuPool ({} workers)", cpu.max_workers()),
            "rayon::spawn + oneshot",
            Box::new(move |n| {
                let pool = cpu.clone();
                Box::pin(
                    async move { drain((0..n).map(|i| pool.submit(move || i)).collect()).await },
                )
            }),
            Box::new(|n| {
                Box::pin(async move {
                    let receivers: Vec<oneshot::Receiver<u64>> = (0..n)
                        .map(|i| {
                            let (tx, rx) = oneshot::channel();
                            rayon::spawn(move || {
                                let _ = tx.send(i);
                            });
                            rx
                        })
                        .collect();
                    drain(receivers).await
                })
            }),
            0.9,
        ),
        (
            format!("AsyncPool (max_concurrency {CONCURRENCY})"),
            "tokio::spawn + Semaphore",
            Box::new(move |n| {
                let pool = net.clone();
                Box::pin(async move {
                    drain((0..n).map(|i| pool.submit(async move { i })).collect()).await
                })
            }),
            Box::new(move |n| {
                let semaphore = Arc::clone(&semaphore);
                Box::pin(async move {
                    drain(
                        (0..n)
                            .map(|i| {
                                let semaphore = Arc::clone(&semaphore);
                                tokio::spawn(async move {
                                    let _permit = semaphore.acquire_owned().await;
                                    i
                                })
                            })
                            .collect(),
                    )
                    .await
                })
            }),
            0.9,
        ),
    ];
    let _ = workers;
    let expected = n * (n - 1) / 2;
    for (name, baseline, ours, theirs, goal) in &cases {
        if !args.wants(name) {
            continue;
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            for (side, samples) in [(ours, &mut a), (theirs, &mut b)] {
                let start = Instant::now();
                let sum = rt.block_on(side(n));
                settle_allocator();
                samples.push(start.elapsed());
                assert_eq!(sum, expected);
            }
        }
        let (a, b) = (common::median(a), common::median(b));
        let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
        let ratio = b.as_secs_f64() / a.as_secs_f64();
        report.row(vec![
            ("futurepool", Value::Text(name.clone())),
            ("µs/task", Value::Micros(per(a))),
            ("baseline", Value::Text((*baseline).to_owned())),
            ("baseline µs/task", Value::Micros(per(b))),
            ("ratio", Value::Ratio(ratio)),
            ("goal", Value::Text(format!(">= {goal:.1}x"))),
            (
                "met",
                Value::Text(if ratio >= *goal { "yes" } else { "no" }.to_owned()),
            ),
        ]);
    }
    report.print(&args);
}
