//! Bounded queues: a full queue is reported (try_submit), waited on (submit_wait) or rejected
//! (submit), and nothing is lost.

mod common;

use common::{Gate, held_cpu_pool};
use futurepool_core::{AsyncPool, BlockingPool, TrySubmitError};
use futures::FutureExt;
use tokio::sync::oneshot;

#[test]
fn try_submit_reports_full_and_gives_the_closure_back() {
    let (pool, gate, held) = held_cpu_pool(Some(2));
    let queued: Vec<_> = (0..2)
        .map(|i| pool.try_submit(move || i).unwrap())
        .collect();
    let refused = match pool.try_submit(|| 40 + 2) {
        Err(TrySubmitError::Full(f)) => f,
        other => panic!("expected Full, got {other:?}"),
    };
    assert_eq!(refused(), 42, "the closure comes back intact");
    assert_eq!(pool.stats().queued, 2);
    gate.open();
    held.blocking_wait().unwrap();
    let values: Vec<i32> = queued
        .into_iter()
        .map(|t| t.blocking_wait().unwrap())
        .collect();
    assert_eq!(values, [0, 1]);
    // Room again.
    assert_eq!(pool.try_submit(|| 5).unwrap().blocking_wait().unwrap(), 5);
}

#[test]
fn submit_on_a_full_queue_resolves_to_rejected() {
    let (pool, gate, held) = held_cpu_pool(Some(1));
    let queued = pool.submit(|| 1);
    let rejected = pool.submit(|| 2);
    let err = rejected.blocking_wait().unwrap_err();
    assert!(err.is_rejected());
    assert!(err.to_string().ends_with("rejected: queue is full"));
    assert_eq!(pool.stats().rejected, 1);
    gate.open();
    held.blocking_wait().unwrap();
    assert_eq!(queued.blocking_wait().unwrap(), 1);
}

#[tokio::test]
async fn submit_wait_waits_for_room() {
    let (pool, gate, held) = held_cpu_pool(Some(1));
    let first = pool.submit_wait(|| 1).await;
    let mut second = Box::pin(pool.submit_wait(|| 2));
    assert!((&mut second).now_or_never().is_none(), "no room yet");
    gate.open();
    held.await.unwrap();
    let second = second.await;
    assert_eq!(first.await.unwrap(), 1);
    assert_eq!(second.await.unwrap(), 2);
}

#[test]
fn cancelling_a_queued_task_frees_its_place() {
    let (pool, gate, held) = held_cpu_pool(Some(1));
    let queued = pool.submit(|| 1);
    assert!(pool.try_submit(|| 2).unwrap_err().is_full());
    assert!(queued.cancel());
    let next = pool.try_submit(|| 3).expect("cancel gave the place back");
    gate.open();
    held.blocking_wait().unwrap();
    assert_eq!(next.blocking_wait().unwrap(), 3);
}

#[tokio::test]
async fn submit_wait_is_released_by_shutdown() {
    let (pool, gate, held) = held_cpu_pool(Some(0));
    let waiting = tokio::spawn({
        let pool = pool.clone();
        async move { pool.submit_wait(|| 1).await.await }
    });
    tokio::task::yield_now().await;
    let stopping = pool.shutdown();
    assert!(waiting.await.unwrap().unwrap_err().is_shutdown());
    gate.open();
    held.await.unwrap();
    stopping.await;
}

#[tokio::test]
async fn blocking_and_async_pools_bound_their_queues_too() {
    let io = BlockingPool::builder()
        .max_workers(1)
        .queue_capacity(0)
        .build()
        .unwrap();
    let gate = Gate::new();
    let (started_tx, started) = oneshot::channel();
    let held = {
        let gate = gate.clone();
        io.submit(move || {
            started_tx.send(()).unwrap();
            gate.wait();
        })
    };
    started.await.unwrap();
    assert!(io.try_submit(|| ()).unwrap_err().is_full());
    gate.open();
    held.await.unwrap();

    let net = AsyncPool::builder()
        .max_concurrency(1)
        .queue_capacity(1)
        .build()
        .unwrap();
    let (release_tx, release) = oneshot::channel::<()>();
    let (running_tx, running) = oneshot::channel();
    let first = net.submit(async move {
        running_tx.send(()).unwrap();
        release.await.unwrap();
    });
    running.await.unwrap();
    let second = net.try_submit(async {}).unwrap();
    assert!(net.try_submit(async {}).unwrap_err().is_full());
    release_tx.send(()).unwrap();
    first.await.unwrap();
    second.await.unwrap();
}
