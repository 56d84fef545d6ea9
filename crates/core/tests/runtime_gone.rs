//! When the Tokio runtime under a `BlockingPool` or `AsyncPool` shuts down, every unfinished
//! task resolves (as cancelled, unless a worker thread still finishes it) and later submits
//! resolve at once, whether or not pool handles are still alive.

use std::sync::mpsc;

use futurepool_core::{AsyncPool, BlockingPool, Task};
use futurepool_test_support::{Gate, Watchdog};

/// A task submitted after its pool's runtime went: resolved without running.
fn assert_refused<T: std::fmt::Debug>(task: Task<T>) {
    let err = task.blocking_wait().unwrap_err();
    assert!(err.is_shutdown() || err.is_cancelled(), "{err}");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn async_pool_tasks_queued_and_running_resolve_when_the_runtime_shuts_down() {
    let _watchdog = Watchdog::new("async runtime gone", 30);
    let runtime = runtime();
    let pool = AsyncPool::builder()
        .max_concurrency(2)
        .handle(runtime.handle().clone())
        .build()
        .unwrap();
    let (started_tx, started) = mpsc::channel();
    let running: Vec<Task<()>> = (0..2)
        .map(|_| {
            let started_tx = started_tx.clone();
            pool.submit(async move {
                started_tx.send(()).unwrap();
                std::future::pending::<()>().await;
            })
        })
        .collect();
    started.recv().unwrap();
    started.recv().unwrap();
    let queued: Vec<Task<u32>> = (0..10).map(|i| pool.submit(async move { i })).collect();
    runtime.shutdown_background();
    for task in running {
        assert!(task.blocking_wait().unwrap_err().is_cancelled());
    }
    for task in queued {
        assert!(task.blocking_wait().unwrap_err().is_cancelled());
    }
    // The pool handle is still alive: later submits resolve at once.
    for _ in 0..5 {
        assert_refused(pool.submit(async { 1 }));
    }
    assert!(pool.is_shutdown());
    let stats = pool.stats();
    assert_eq!((stats.queued, stats.running), (0, 0));
}

#[test]
fn async_pool_submits_after_an_idle_runtime_shut_down_resolve_at_once() {
    let _watchdog = Watchdog::new("async idle runtime gone", 30);
    let runtime = runtime();
    let pool = AsyncPool::builder()
        .max_concurrency(2)
        .handle(runtime.handle().clone())
        .build()
        .unwrap();
    // Parked workers exist when the runtime goes.
    for i in 0..4 {
        assert_eq!(pool.submit(async move { i }).blocking_wait().unwrap(), i);
    }
    drop(runtime);
    for _ in 0..10 {
        assert_refused(pool.submit(async { 1 }));
    }
}

#[test]
fn blocking_pool_submits_after_the_runtime_shut_down_resolve_at_once() {
    let _watchdog = Watchdog::new("blocking runtime gone", 30);
    let runtime = runtime();
    let pool = BlockingPool::builder()
        .max_workers(2)
        .handle(runtime.handle().clone())
        .build()
        .unwrap();
    assert_eq!(pool.submit(|| 1).blocking_wait().unwrap(), 1);
    drop(runtime);
    // More submits than workers: none may wait for a worker that can never start.
    for _ in 0..6 {
        assert_refused(pool.submit(|| 1));
    }
    let stats = pool.stats();
    assert_eq!((stats.queued, stats.running), (0, 0));
}

#[test]
fn blocking_pool_tasks_queued_and_running_resolve_when_the_runtime_shuts_down() {
    let _watchdog = Watchdog::new("blocking runtime gone while busy", 30);
    let runtime = runtime();
    let pool = BlockingPool::builder()
        .max_workers(1)
        .handle(runtime.handle().clone())
        .build()
        .unwrap();
    let gate = Gate::new();
    let (started_tx, started) = mpsc::channel();
    let running = {
        let gate = gate.clone();
        pool.submit(move || {
            started_tx.send(()).unwrap();
            gate.wait();
            "ran"
        })
    };
    started.recv().unwrap();
    let queued: Vec<Task<u32>> = (0..5).map(|i| pool.submit(move || i)).collect();
    runtime.shutdown_background();
    gate.open();
    // The running closure's thread is a real thread: it finishes; queued tasks either run on
    // it or resolve cancelled, but none hangs.
    assert_eq!(running.blocking_wait().unwrap(), "ran");
    for (i, task) in (0..).zip(queued) {
        match task.blocking_wait() {
            Ok(value) => assert_eq!(value, i),
            Err(err) => assert!(err.is_cancelled(), "{err}"),
        }
    }
    for _ in 0..4 {
        match pool.submit(|| 2).blocking_wait() {
            Ok(value) => assert_eq!(value, 2),
            Err(err) => assert!(err.is_shutdown() || err.is_cancelled(), "{err}"),
        }
    }
}
