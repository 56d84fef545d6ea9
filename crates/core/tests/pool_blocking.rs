//! BlockingPool: CPython's test_submit, test_map-free saturation, idle thread reuse, builder
//! errors, and the promise that queued tasks hold no blocking thread.

mod common;

use std::thread;
use std::time::Duration;

use common::{Gate, Gauge};
use futurepool_core::{BlockingPool, BlockingPoolBuilder};
use tokio::sync::mpsc;

#[tokio::test]
async fn submit_returns_the_value() {
    let pool = BlockingPool::new();
    let task = pool.submit(|| 2u64.pow(5));
    assert_eq!(task.await.unwrap(), 32);
    let with_args = {
        let (a, b) = (8, 3);
        pool.submit(move || a * b)
    };
    assert_eq!(with_args.await.unwrap(), 24);
}

#[test]
fn build_outside_a_runtime_is_an_error_not_a_panic() {
    let err = BlockingPool::builder().build().unwrap_err();
    assert!(err.to_string().contains("Tokio runtime"), "{err}");
}

#[tokio::test]
async fn zero_workers_is_an_error() {
    let err = BlockingPool::builder().max_workers(0).build().unwrap_err();
    assert_eq!(err.to_string(), "max_workers must be at least 1, got 0");
}

#[tokio::test]
async fn default_max_workers_is_min_32_cores_plus_4() {
    let cores = thread::available_parallelism().map_or(1, usize::from);
    assert_eq!(BlockingPool::new().max_workers(), (cores + 4).min(32));
    assert_eq!(
        BlockingPoolBuilder::default_max_workers(),
        (cores + 4).min(32)
    );
}

#[test]
fn an_explicit_handle_builds_outside_the_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let pool = BlockingPool::builder()
        .handle(rt.handle().clone())
        .max_workers(2)
        .build()
        .unwrap();
    assert_eq!(pool.submit(|| "ran").blocking_wait().unwrap(), "ran");
}

/// CPython's test_saturation: with many blocked tasks, exactly `max_workers` run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saturation_never_exceeds_max_workers() {
    let pool = BlockingPool::builder().max_workers(3).build().unwrap();
    let (gate, gauge) = (Gate::new(), Gauge::new());
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let (gate, gauge, started_tx) = (gate.clone(), gauge.clone(), started_tx.clone());
            pool.submit(move || {
                gauge.enter();
                started_tx.send(thread::current().id()).unwrap();
                gate.wait();
                gauge.exit();
                i
            })
        })
        .collect();
    let mut threads = Vec::new();
    for _ in 0..3 {
        threads.push(started.recv().await.unwrap());
    }
    let stats = pool.stats();
    assert_eq!((stats.running, stats.queued), (3, 27));
    assert!(started.try_recv().is_err(), "a fourth task started");
    gate.open();
    let results = futures::future::join_all(tasks).await;
    assert_eq!(
        results.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        (0..30).collect::<Vec<_>>()
    );
    assert_eq!(gauge.max(), 3);
    while let Ok(id) = started.try_recv() {
        threads.push(id);
    }
    threads.sort_by_key(|id| format!("{id:?}"));
    threads.dedup();
    assert!(threads.len() <= 3, "{} threads ran tasks", threads.len());
}

/// CPython's test_idle_thread_reuse: one worker serves tasks one after another on one thread.
#[tokio::test]
async fn a_worker_reuses_its_thread_for_queued_tasks() {
    let pool = BlockingPool::builder().max_workers(1).build().unwrap();
    let gate = Gate::new();
    let first = {
        let gate = gate.clone();
        pool.submit(move || {
            gate.wait();
            thread::current().id()
        })
    };
    let rest: Vec<_> = (0..5)
        .map(|_| pool.submit(|| thread::current().id()))
        .collect();
    gate.open();
    let first = first.await.unwrap();
    for task in rest {
        assert_eq!(task.await.unwrap(), first);
    }
}

/// Queued tasks wait without a thread: with the runtime's blocking threads capped, a pool with
/// a long queue leaves room for other `spawn_blocking` work.
#[test]
fn queued_tasks_hold_no_blocking_thread() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .max_blocking_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let pool = BlockingPool::builder().max_workers(1).build().unwrap();
        let gate = Gate::new();
        let (started_tx, started) = tokio::sync::oneshot::channel();
        let blocker = {
            let gate = gate.clone();
            pool.submit(move || {
                started_tx.send(()).unwrap();
                gate.wait();
            })
        };
        started.await.unwrap();
        let queued: Vec<_> = (0..100).map(|i| pool.submit(move || i)).collect();
        assert_eq!(pool.stats().queued, 100);
        // The second blocking thread is still free for others.
        let other = tokio::task::spawn_blocking(|| "free").await.unwrap();
        assert_eq!(other, "free");
        gate.open();
        blocker.await.unwrap();
        let sum: i32 = futures::future::join_all(queued)
            .await
            .into_iter()
            .map(Result::unwrap)
            .sum();
        assert_eq!(sum, 4950);
    });
}

/// Blocking work does not run on the runtime's worker threads: a current-thread runtime keeps
/// serving other tasks while a closure blocks.
#[tokio::test(flavor = "current_thread")]
async fn blocking_closures_do_not_block_the_runtime() {
    let pool = BlockingPool::builder().max_workers(1).build().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<u32>();
    let task = pool.submit(move || rx.recv_timeout(Duration::from_secs(30)).unwrap() + 1);
    // If the closure ran on this thread, this task could never run and the closure would
    // time out.
    tokio::spawn(async move { tx.send(41).unwrap() })
        .await
        .unwrap();
    assert_eq!(task.await.unwrap(), 42);
}
