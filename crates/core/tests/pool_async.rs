//! AsyncPool: concurrency limit, cancellation of running futures, builder errors.

mod common;

use std::sync::Arc;

use common::{DropSignal, Gauge};
use futurepool_core::{AsyncPool, AsyncPoolBuilder};
use tokio::sync::{Notify, oneshot};

#[tokio::test]
async fn submit_returns_the_output() {
    let pool = AsyncPool::new();
    let task = pool.submit(async {
        tokio::task::yield_now().await;
        "pong"
    });
    assert_eq!(task.await.unwrap(), "pong");
    assert_eq!(
        pool.max_concurrency(),
        AsyncPoolBuilder::DEFAULT_MAX_CONCURRENCY
    );
}

#[test]
fn build_outside_a_runtime_is_an_error_not_a_panic() {
    let err = AsyncPool::builder().build().unwrap_err();
    assert!(err.to_string().contains("Tokio runtime"), "{err}");
}

#[tokio::test]
async fn zero_concurrency_is_an_error() {
    let err = AsyncPool::builder().max_concurrency(0).build().unwrap_err();
    assert_eq!(err.to_string(), "max_concurrency must be at least 1, got 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_polls_more_than_max_concurrency_futures() {
    let pool = AsyncPool::builder().max_concurrency(4).build().unwrap();
    let gauge = Gauge::new();
    let release = Arc::new(Notify::new());
    let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel();
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let (gauge, release, started_tx) = (gauge.clone(), release.clone(), started_tx.clone());
            pool.submit(async move {
                gauge.enter();
                let released = release.notified();
                started_tx.send(()).unwrap();
                released.await;
                gauge.exit();
                i
            })
        })
        .collect();
    for _ in 0..4 {
        started.recv().await.unwrap();
    }
    let stats = pool.stats();
    assert_eq!((stats.running, stats.queued), (4, 36));
    assert!(started.try_recv().is_err(), "a fifth future was polled");
    // Release running futures one wave at a time until all are done.
    let mut done = 4;
    while done < 40 {
        release.notify_waiters();
        for _ in 0..4 {
            started.recv().await.unwrap();
        }
        done += 4;
    }
    release.notify_waiters();
    let values: Vec<i32> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(values, (0..40).collect::<Vec<_>>());
    assert_eq!(gauge.max(), 4);
}

/// Cancelling a running future drops it at its await point; the pool's slot is freed for the
/// next future.
#[tokio::test]
async fn cancel_drops_a_running_future() {
    let pool = AsyncPool::builder().max_concurrency(1).build().unwrap();
    let (dropped_tx, dropped) = oneshot::channel();
    let (started_tx, started) = oneshot::channel();
    let running = pool.submit(async move {
        let _signal = DropSignal::new(dropped_tx);
        started_tx.send(()).unwrap();
        std::future::pending::<u32>().await
    });
    let next = pool.submit(async { 7 });
    started.await.unwrap();
    assert!(running.cancel());
    dropped.await.expect("the running future was dropped");
    assert!(running.await.unwrap_err().is_cancelled());
    assert_eq!(next.await.unwrap(), 7);
    assert_eq!(pool.stats().cancelled, 1);
}

#[tokio::test]
async fn a_panicking_future_fails_alone() {
    let pool = AsyncPool::builder().max_concurrency(1).build().unwrap();
    let bad = pool.submit(async {
        tokio::task::yield_now().await;
        panic!("lost connection")
    });
    let good = pool.submit(async { 1 });
    let err: futurepool_core::TaskError = bad.await.unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.panic_message(), Some("lost connection"));
    assert_eq!(good.await.unwrap(), 1);
    assert_eq!(pool.stats().failed, 1);
}

/// Futures that never yield on their own must not starve other tasks of a current-thread
/// runtime when many are queued behind one slot.
#[tokio::test(flavor = "current_thread")]
async fn queued_ready_futures_let_other_tasks_run() {
    let pool = AsyncPool::builder().max_concurrency(1).build().unwrap();
    let tasks: Vec<_> = (0..10_000).map(|i| pool.submit(async move { i })).collect();
    let other = tokio::spawn(async { "ran" });
    assert_eq!(other.await.unwrap(), "ran");
    let sum: i64 = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .sum();
    assert_eq!(sum, 49_995_000);
}
