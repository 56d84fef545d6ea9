//! A map stream's `.priority(p)`: its items (and chunks) queue at that level, so work
//! submitted to the same pool at a higher level starts before them.

use std::sync::{Arc, Mutex};

use futurepool_core::{AsyncPool, CpuPool, Priority};
use futurepool_stream::{AsyncPoolMapExt, ExecutorMapExt};
use futurepool_test_support::{Gate, Watchdog};
use futures::{FutureExt, StreamExt, TryStreamExt};

type Log = Arc<Mutex<Vec<u32>>>;

fn push(log: &Log, label: u32) {
    log.lock().unwrap().push(label);
}

#[tokio::test(flavor = "current_thread")]
async fn a_low_priority_map_lets_normal_work_go_first_on_a_cpu_pool() {
    let _watchdog = Watchdog::new("map priority cpu", 30);
    let pool = CpuPool::builder().max_workers(1).build().unwrap();
    let gate = Gate::new();
    let (started_tx, started) = std::sync::mpsc::channel();
    let held = {
        let gate = gate.clone();
        pool.submit(move || {
            started_tx.send(()).unwrap();
            gate.wait();
        })
    };
    started.recv().unwrap();

    let log = Log::default();
    let mut bulk = {
        let log = log.clone();
        pool.map(move |n: u32| push(&log, n), 0..8)
            .priority(Priority::LOW)
            .buffer(8)
            .chunk_size(2)
    };
    // One poll submits the first items (all chunks the buffer allows) behind the held worker.
    assert!(bulk.next().now_or_never().is_none());
    let interactive = {
        let log = log.clone();
        pool.submit(move || push(&log, 100))
    };
    gate.open();
    held.await.unwrap();
    interactive.await.unwrap();
    let rest: Vec<()> = bulk.try_collect().await.unwrap();
    assert_eq!(rest.len(), 8, "the first poll yielded nothing");
    let log = log.lock().unwrap().clone();
    assert_eq!(log[0], 100, "the interactive task started first: {log:?}");
    assert_eq!(&log[1..], [0, 1, 2, 3, 4, 5, 6, 7]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_high_priority_map_goes_before_queued_normal_work_on_an_async_pool() {
    let _watchdog = Watchdog::new("map priority async", 30);
    let pool = AsyncPool::builder().max_concurrency(1).build().unwrap();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let held = pool.submit(async move { released.await.unwrap() });
    let log = Log::default();
    let background = {
        let log = log.clone();
        pool.submit(async move { push(&log, 100) })
    };
    let mut urgent = {
        let log = log.clone();
        pool.map(
            move |n: u32| {
                let log = log.clone();
                async move { push(&log, n) }
            },
            0..4,
        )
        .priority(Priority::HIGH)
        .buffer(4)
    };
    assert!(urgent.next().now_or_never().is_none());
    release.send(()).unwrap();
    held.await.unwrap();
    let out: Vec<()> = urgent.try_collect().await.unwrap();
    assert_eq!(out.len(), 4);
    background.await.unwrap();
    assert_eq!(*log.lock().unwrap(), [0, 1, 2, 3, 100]);
}

/// `map_tasks_with_priority`: the stream's priority reaches the caller's `submit`, as a pool of
/// another crate (a process pool) needs.
#[tokio::test(flavor = "current_thread")]
async fn map_tasks_with_priority_passes_the_streams_priority_to_submit() {
    let _watchdog = Watchdog::new("map_tasks priority", 30);
    let pool = CpuPool::builder().max_workers(1).build().unwrap();
    let gate = Gate::new();
    let (started_tx, started) = std::sync::mpsc::channel();
    let held = {
        let gate = gate.clone();
        pool.submit(move || {
            started_tx.send(()).unwrap();
            gate.wait();
        })
    };
    started.recv().unwrap();
    let log = Log::default();
    let mut bulk = {
        let (pool, log) = (pool.clone(), log.clone());
        let submit = move |priority: Priority, n: u32| {
            let log = log.clone();
            pool.submit_with_priority(priority, move || push(&log, n))
        };
        futurepool_stream::map_tasks_with_priority(submit, 0..4)
            .priority(Priority::LOW)
            .buffer(4)
    };
    assert!(bulk.next().now_or_never().is_none());
    let interactive = {
        let log = log.clone();
        pool.submit(move || push(&log, 100))
    };
    gate.open();
    held.await.unwrap();
    interactive.await.unwrap();
    let out: Vec<()> = bulk.try_collect().await.unwrap();
    assert_eq!(out.len(), 4);
    assert_eq!(*log.lock().unwrap(), [100, 0, 1, 2, 3]);
}
