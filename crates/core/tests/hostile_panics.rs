//! Panics in user code that runs outside the task's own closure or future — a detached
//! result's `Drop`, a cancelled future's `Drop`, a cancelled closure's captures — cost at most
//! that task: never a worker, a permit or a later task.

mod common;

use std::sync::mpsc;

use common::held_cpu_pool;
use futurepool_core::{AsyncPool, BlockingPool, CpuPool, PoolStats, Task};
use futurepool_test_support::{Gate, Watchdog};

/// Reports on a channel, then panics, when dropped.
struct PanicOnDrop(mpsc::Sender<()>);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(());
        panic!("PanicOnDrop dropped");
    }
}

/// Three times on a one-worker pool: submits a task whose result panics when dropped and
/// detaches it while it runs (so the worker drops the result); then checks that a later task
/// still runs and the stats settle.
fn detached_panicking_results(
    submit: impl Fn(Gate, mpsc::Sender<()>) -> Task<PanicOnDrop>,
    later: impl FnOnce() -> Task<u32>,
    stats: impl Fn() -> PoolStats,
) {
    for _ in 0..3 {
        let gate = Gate::new();
        let (dropped_tx, dropped) = mpsc::channel();
        drop(submit(gate.clone(), dropped_tx));
        gate.open();
        dropped.recv().unwrap();
    }
    assert_eq!(later().blocking_wait().unwrap(), 7);
    let stats = stats();
    assert_eq!((stats.queued, stats.running, stats.completed), (0, 0, 4));
}

#[test]
fn a_detached_result_that_panics_in_drop_costs_no_cpu_worker() {
    let _watchdog = Watchdog::new("cpu detached result", 30);
    let pool = CpuPool::builder().max_workers(1).build().unwrap();
    detached_panicking_results(
        |gate, tx| {
            pool.submit(move || {
                gate.wait();
                PanicOnDrop(tx)
            })
        },
        || pool.submit(|| 7),
        || pool.stats(),
    );
}

#[test]
fn a_detached_result_that_panics_in_drop_costs_no_blocking_worker() {
    let _watchdog = Watchdog::new("blocking detached result", 30);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pool = BlockingPool::builder()
        .max_workers(1)
        .handle(runtime.handle().clone())
        .build()
        .unwrap();
    detached_panicking_results(
        |gate, tx| {
            pool.submit(move || {
                gate.wait();
                PanicOnDrop(tx)
            })
        },
        || pool.submit(|| 7),
        || pool.stats(),
    );
}

#[test]
fn a_detached_result_that_panics_in_drop_costs_no_async_worker() {
    let _watchdog = Watchdog::new("async detached result", 30);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pool = AsyncPool::builder()
        .max_concurrency(1)
        .handle(runtime.handle().clone())
        .build()
        .unwrap();
    detached_panicking_results(
        |gate, tx| {
            let (open_tx, open) = tokio::sync::oneshot::channel::<()>();
            std::thread::spawn(move || {
                gate.wait();
                let _ = open_tx.send(());
            });
            pool.submit(async move {
                let _ = open.await;
                PanicOnDrop(tx)
            })
        },
        || pool.submit(async { 7 }),
        || pool.stats(),
    );
}

#[test]
fn a_cancelled_future_that_panics_in_drop_costs_no_async_worker() {
    let _watchdog = Watchdog::new("async cancelled future", 30);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pool = AsyncPool::builder()
        .max_concurrency(1)
        .handle(runtime.handle().clone())
        .build()
        .unwrap();
    for _ in 0..3 {
        let (started_tx, started) = mpsc::channel();
        let (dropped_tx, dropped) = mpsc::channel();
        let task = pool.submit(async move {
            let _bomb = PanicOnDrop(dropped_tx);
            started_tx.send(()).unwrap();
            std::future::pending::<()>().await;
        });
        started.recv().unwrap();
        assert!(task.cancel());
        dropped.recv().unwrap();
        assert!(task.blocking_wait().unwrap_err().is_cancelled());
    }
    assert_eq!(pool.submit(async { 7 }).blocking_wait().unwrap(), 7);
    let stats = pool.stats();
    assert_eq!((stats.queued, stats.running, stats.cancelled), (0, 0, 3));
}

#[test]
fn cancelling_a_queued_closure_whose_captures_panic_in_drop_costs_nothing_else() {
    let _watchdog = Watchdog::new("cancelled closure captures", 30);
    let (pool, gate, held) = held_cpu_pool(None);
    let (dropped_tx, dropped) = mpsc::channel();
    let bomb = PanicOnDrop(dropped_tx.clone());
    let queued = pool.submit(move || drop(bomb));
    let by_shutdown = {
        let bomb = PanicOnDrop(dropped_tx);
        pool.submit(move || drop(bomb))
    };
    assert!(queued.cancel(), "cancel neither panics nor fails");
    dropped.recv().unwrap();
    let shutdown = pool.shutdown_now();
    dropped.recv().unwrap();
    gate.open();
    futures::executor::block_on(shutdown);
    held.blocking_wait().unwrap();
    assert!(queued.blocking_wait().unwrap_err().is_cancelled());
    assert!(by_shutdown.blocking_wait().unwrap_err().is_cancelled());
}
