//! `AsyncPool::try_submit_fallible` and `submit_wait_fallible`: the bounded-queue forms of
//! `submit_fallible`, on which pools built over an `AsyncPool` take their backpressure.

use futurepool_core::{AsyncPool, Priority, TaskError, TrySubmitError};
use futurepool_test_support::Watchdog;
use tokio::sync::oneshot;

/// A pool with room for exactly `n` tasks: `n` running, none waiting.
fn room_for(n: usize) -> AsyncPool {
    AsyncPool::builder()
        .max_concurrency(n)
        .queue_capacity(0)
        .build()
        .unwrap()
}

/// A fallible future that resolves to what `rx` brings.
async fn held(rx: oneshot::Receiver<Result<u32, TaskError>>) -> Result<u32, TaskError> {
    rx.await.unwrap_or_else(|_| Err(TaskError::cancelled()))
}

#[tokio::test]
async fn try_submit_fallible_resolves_to_the_outcome_and_counts_it() {
    let _watchdog = Watchdog::new("try_submit_fallible_resolves_to_the_outcome", 30);
    let pool = AsyncPool::builder().queue_capacity(4).build().unwrap();
    let ok = pool
        .try_submit_fallible(async { Ok::<_, TaskError>(7) })
        .unwrap();
    let err = pool
        .try_submit_fallible_with_priority(Priority::HIGH, async {
            Err::<u32, _>(TaskError::crashed("worker died"))
        })
        .unwrap();
    assert_eq!(ok.await.unwrap(), 7);
    assert!(err.await.unwrap_err().is_crashed());
    let stats = pool.stats();
    assert_eq!((stats.submitted, stats.completed, stats.failed), (2, 1, 1));
}

#[tokio::test]
async fn try_submit_fallible_gives_the_future_back_when_full_or_shut_down() {
    let _watchdog = Watchdog::new("try_submit_fallible_gives_the_future_back", 30);
    let pool = room_for(1);
    let (tx, rx) = oneshot::channel();
    let first = pool.try_submit_fallible(held(rx)).unwrap();
    let refused = match pool.try_submit_fallible(async { Ok::<u32, TaskError>(2) }) {
        Err(TrySubmitError::Full(fut)) => fut,
        other => panic!("expected Full, got {other:?}"),
    };
    assert_eq!(
        refused.await.unwrap(),
        2,
        "the future comes back unpolled and intact"
    );
    assert_eq!(pool.stats().rejected, 0, "a refused try is not counted");
    tx.send(Ok(1)).unwrap();
    assert_eq!(first.await.unwrap(), 1);
    // The place came back with the task's end.
    let again = pool
        .try_submit_fallible(async { Ok::<u32, TaskError>(3) })
        .unwrap();
    assert_eq!(again.await.unwrap(), 3);
    pool.shutdown().await;
    match pool.try_submit_fallible(async { Ok::<u32, TaskError>(4) }) {
        Err(TrySubmitError::Shutdown(fut)) => assert_eq!(fut.await.unwrap(), 4),
        other => panic!("expected Shutdown, got {other:?}"),
    }
}

#[tokio::test]
async fn submit_wait_fallible_waits_for_a_place() {
    let _watchdog = Watchdog::new("submit_wait_fallible_waits_for_a_place", 30);
    let pool = room_for(1);
    let (tx, rx) = oneshot::channel();
    let first = pool.submit_wait_fallible(held(rx)).await;
    let waiting = pool.submit_wait_fallible(async { Ok::<u32, TaskError>(2) });
    tokio::pin!(waiting);
    // No room: it waits (a bounded number of polls proves it, without sleeping).
    for _ in 0..10 {
        assert!(futures::poll!(waiting.as_mut()).is_pending());
        tokio::task::yield_now().await;
    }
    tx.send(Err(TaskError::timeout("late"))).unwrap();
    assert!(first.await.unwrap_err().is_timeout());
    let second = waiting.await;
    assert_eq!(second.await.unwrap(), 2);
    let stats = pool.stats();
    assert_eq!((stats.completed, stats.failed, stats.rejected), (1, 1, 0));
}

#[tokio::test]
async fn submit_wait_fallible_ends_as_shutdown_when_the_pool_closes() {
    let _watchdog = Watchdog::new("submit_wait_fallible_ends_as_shutdown", 30);
    let pool = room_for(1);
    let (tx, rx) = oneshot::channel();
    let first = pool.submit_wait_fallible(held(rx)).await;
    let pool2 = pool.clone();
    let waiter = tokio::spawn(async move {
        pool2
            .submit_wait_fallible_with_priority(Priority::LOW, async { Ok::<u32, TaskError>(2) })
            .await
            .await
    });
    // Let the waiter start waiting (whether it did or not, it must be refused), then close:
    // the held task still runs.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    let shutdown = pool.shutdown();
    assert!(waiter.await.unwrap().unwrap_err().is_shutdown());
    tx.send(Ok(1)).unwrap();
    assert_eq!(first.await.unwrap(), 1);
    shutdown.await;
    assert!(
        pool.submit_wait_fallible(async { Ok::<u32, TaskError>(3) })
            .await
            .await
            .unwrap_err()
            .is_shutdown()
    );
}

#[tokio::test]
async fn submit_wait_fallible_dropped_while_waiting_submits_nothing() {
    let _watchdog = Watchdog::new("submit_wait_fallible_dropped_while_waiting", 30);
    let pool = room_for(1);
    let (tx, rx) = oneshot::channel();
    let first = pool.submit_wait_fallible(held(rx)).await;
    let (ran_tx, ran_rx) = oneshot::channel::<()>();
    let waiting = pool.submit_wait_fallible(async move {
        let _ = ran_tx.send(());
        Ok::<u32, TaskError>(2)
    });
    let mut waiting = Box::pin(waiting);
    assert!(futures::poll!(waiting.as_mut()).is_pending());
    drop(waiting);
    tx.send(Ok(1)).unwrap();
    assert_eq!(first.await.unwrap(), 1);
    pool.shutdown().await;
    assert!(ran_rx.await.is_err(), "the dropped future never ran");
    assert_eq!(pool.stats().submitted, 1);
}

/// Shutdown racing submitters on other threads: each task is either refused or accepted, and
/// every accepted one has ended when `shutdown().await` returns.
#[test]
fn shutdown_racing_fallible_submits_is_linearizable() {
    let _watchdog = Watchdog::new("shutdown_racing_fallible_submits", 60);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    for _ in 0..200 {
        let pool = runtime.block_on(async {
            AsyncPool::builder()
                .max_concurrency(2)
                .queue_capacity(4)
                .build()
                .unwrap()
        });
        let start = std::sync::Arc::new(std::sync::Barrier::new(3));
        let submitters: Vec<_> = (0..2)
            .map(|n| {
                let (pool, start) = (pool.clone(), start.clone());
                let handle = runtime.handle().clone();
                std::thread::spawn(move || {
                    start.wait();
                    (0..8u32)
                        .map(|i| {
                            let fut = async move { Ok::<_, TaskError>(i) };
                            if n == 0 {
                                pool.try_submit_fallible(fut).ok()
                            } else {
                                Some(handle.block_on(pool.submit_wait_fallible(fut)))
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        start.wait();
        let shutdown = pool.shutdown();
        runtime.block_on(shutdown);
        let stats = pool.stats();
        assert_eq!(stats.running + stats.queued, 0, "shutdown returned early");
        for submitter in submitters {
            for task in submitter.join().unwrap().into_iter().flatten() {
                match runtime.block_on(task) {
                    Ok(_) => {}
                    Err(e) => assert!(e.is_shutdown(), "unexpected outcome: {e}"),
                }
            }
        }
    }
}
