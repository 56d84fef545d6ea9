//! A randomized stress run of all three pools: bursts and idle gaps, submitters on threads
//! and on runtime tasks, cancels, detached tasks, panics, cooperative closures, bounded
//! queues, and graceful or immediate shutdowns racing the submitters. Every task must resolve,
//! with the right outcome, and the pool's stats must add up.
//!
//! It runs for `FUTUREPOOL_STRESS_SECS` seconds (default 20); the seed is printed and can be
//! replayed with `FUTUREPOOL_STRESS_SEED`.

use std::time::{Duration, Instant};

use futurepool_core::{AsyncPool, BlockingPool, Builder, CpuPool, PoolStats, Task};
use futurepool_test_support::Watchdog;

/// A small xorshift generator: reproducible from its seed, no dependency.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// What a submitted task does.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Value,
    Panic,
    Cooperative,
}

/// One pool of any kind, behind one interface.
#[derive(Clone)]
enum Pool {
    Blocking(BlockingPool),
    Cpu(CpuPool),
    Async(AsyncPool),
}

impl Pool {
    fn submit(&self, kind: Kind, n: u64) -> Task<u64> {
        match (self, kind) {
            (Pool::Blocking(p), Kind::Value) => p.submit(move || n),
            (Pool::Blocking(p), Kind::Panic) => p.submit(move || -> u64 { panic!("boom {n}") }),
            (Pool::Blocking(p), Kind::Cooperative) => p.submit_cancellable(move |_| n),
            (Pool::Cpu(p), Kind::Value) => p.submit(move || n),
            (Pool::Cpu(p), Kind::Panic) => p.submit(move || -> u64 { panic!("boom {n}") }),
            (Pool::Cpu(p), Kind::Cooperative) => p.submit_cancellable(move |_| n),
            (Pool::Async(p), Kind::Value | Kind::Cooperative) => p.submit(async move {
                tokio::task::yield_now().await;
                n
            }),
            (Pool::Async(p), Kind::Panic) => p.submit(async move {
                tokio::task::yield_now().await;
                panic!("boom {n}")
            }),
        }
    }

    fn shutdown(&self, now: bool) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
        match (self, now) {
            (Pool::Blocking(p), false) => Box::pin(p.shutdown()),
            (Pool::Blocking(p), true) => Box::pin(p.shutdown_now()),
            (Pool::Cpu(p), false) => Box::pin(p.shutdown()),
            (Pool::Cpu(p), true) => Box::pin(p.shutdown_now()),
            (Pool::Async(p), false) => Box::pin(p.shutdown()),
            (Pool::Async(p), true) => Box::pin(p.shutdown_now()),
        }
    }

    fn stats(&self) -> PoolStats {
        match self {
            Pool::Blocking(p) => p.stats(),
            Pool::Cpu(p) => p.stats(),
            Pool::Async(p) => p.stats(),
        }
    }
}

/// The same builder, with a bounded queue if `capacity` says so (any pool's builder).
fn bounded<P>(builder: Builder<P>, capacity: Option<usize>) -> Builder<P> {
    match capacity {
        Some(n) => builder.queue_capacity(n),
        None => builder,
    }
}

fn build(rng: &mut Rng, handle: &tokio::runtime::Handle) -> Pool {
    let size = 1 + rng.below(4) as usize;
    let capacity = rng.chance(30).then(|| rng.below(64) as usize);
    match rng.below(3) {
        0 => {
            let builder = BlockingPool::builder().max_workers(size);
            Pool::Blocking(
                bounded(builder, capacity)
                    .handle(handle.clone())
                    .build()
                    .unwrap(),
            )
        }
        1 => {
            let builder = CpuPool::builder().max_workers(size);
            Pool::Cpu(bounded(builder, capacity).build().unwrap())
        }
        _ => {
            let builder = AsyncPool::builder().max_concurrency(size);
            Pool::Async(
                bounded(builder, capacity)
                    .handle(handle.clone())
                    .build()
                    .unwrap(),
            )
        }
    }
}

/// A task kept to check, with what it must resolve to.
struct Kept {
    task: Task<u64>,
    kind: Kind,
    n: u64,
    cancelled: bool,
}

/// Submits a burst, cancelling or detaching some tasks, and returns those it kept.
fn burst(pool: &Pool, rng: &mut Rng) -> Vec<Kept> {
    let mut kept = Vec::new();
    for _ in 0..=rng.below(2_000) {
        let kind = match rng.below(20) {
            0 => Kind::Panic,
            1 | 2 => Kind::Cooperative,
            _ => Kind::Value,
        };
        let n = rng.next() >> 1;
        let task = pool.submit(kind, n);
        if rng.chance(5) {
            continue; // detached
        }
        let cancelled = rng.chance(5) && task.cancel();
        kept.push(Kept {
            task,
            kind,
            n,
            cancelled,
        });
        if rng.chance(1) {
            std::thread::yield_now(); // an idle gap
        }
    }
    kept
}

/// Waits for every kept task and checks its outcome; `graceful` says whether the pool was
/// only ever shut down gracefully (then no task may be cancelled but by the test).
fn check(kept: Vec<Kept>, graceful: bool) {
    for Kept {
        task,
        kind,
        n,
        cancelled,
    } in kept
    {
        match task.blocking_wait() {
            Ok(value) => {
                assert!(!cancelled, "a task cancelled by the test delivered a value");
                assert!(matches!(kind, Kind::Value | Kind::Cooperative));
                assert_eq!(value, n);
            }
            Err(err) if err.is_cancelled() => {
                assert!(
                    cancelled || !graceful,
                    "an accepted task was cancelled: {err}"
                );
            }
            Err(err) if err.is_panic() => {
                assert!(matches!(kind, Kind::Panic), "{err}");
                assert_eq!(err.panic_message(), Some(format!("boom {n}").as_str()));
            }
            Err(err) => assert!(err.is_shutdown() || err.is_rejected(), "{err}"),
        }
    }
}

#[test]
fn randomized_bursts_cancels_and_shutdown_races_on_every_pool() {
    let seconds: u64 = std::env::var("FUTUREPOOL_STRESS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("FUTUREPOOL_STRESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos();
            u64::from(nanos) | 1
        });
    eprintln!("stress: {seconds} s, FUTUREPOOL_STRESS_SEED={seed}");
    // The tasks' own panics ("boom …") are expected by the thousand: keep them off stderr.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info.payload().downcast_ref::<String>().map(String::as_str);
        if !text.is_some_and(|t| t.starts_with("boom ")) {
            report(info);
        }
    }));
    let _watchdog = Watchdog::new("stress", seconds + 60);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut rng = Rng(seed);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut rounds = 0u64;
    while Instant::now() < deadline {
        rounds += 1;
        let pool = build(&mut rng, runtime.handle());
        let shutdown_now = rng.chance(30);
        // Submitters: threads, and runtime tasks handing their tasks back.
        let threads: Vec<_> = (0..1 + rng.below(3))
            .map(|i| {
                let pool = pool.clone();
                let mut rng = Rng((rng.next() ^ i) | 1);
                std::thread::spawn(move || burst(&pool, &mut rng))
            })
            .collect();
        let from_tasks: Vec<_> = (0..rng.below(3))
            .map(|_| {
                let pool = pool.clone();
                let mut rng = Rng(rng.next() | 1);
                runtime.spawn(async move { burst(&pool, &mut rng) })
            })
            .collect();
        // Shut down while they submit, or after.
        if rng.chance(50) {
            std::thread::yield_now();
        }
        let stop = pool.shutdown(shutdown_now);
        let mut kept: Vec<Kept> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        for task in from_tasks {
            kept.extend(runtime.block_on(task).unwrap());
        }
        runtime.block_on(stop);
        check(kept, !shutdown_now);
        let stats = pool.stats();
        assert_eq!((stats.queued, stats.running), (0, 0), "{stats:?}");
        assert_eq!(
            stats.submitted,
            stats.completed + stats.failed + stats.cancelled,
            "{stats:?}"
        );
    }
    eprintln!("stress: {rounds} rounds passed");
}
