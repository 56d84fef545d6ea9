//! `queue_capacity`, `try_submit` and `submit_wait` against a real `nats-server`. No worker
//! runs until a test starts one, so accepted tasks wait in the stream and hold their places.

mod common;

use std::pin::pin;

use common::{SQUARE, Server, WorkerProcess, registry, watchdog};
use futurepool_core::TrySubmitError;
use futurepool_remote::RemotePool;
use futurepool_worker::RemoteFn;
use futures::FutureExt;

/// Not in the pool's registry: a submit of it resolves at once to `is_invalid()`.
const UNKNOWN: RemoteFn<u64, u64> = RemoteFn::new("not_registered", unknown);
fn unknown(_: u64) -> u64 {
    unreachable!()
}

async fn bounded_pool(server: &Server, namespace: &str, capacity: usize) -> RemotePool {
    RemotePool::builder(registry())
        .url(&server.url)
        .namespace(namespace)
        .queue_capacity(capacity)
        .build()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pool_rejects_submit_and_gives_try_submit_its_argument_back() {
    watchdog(30, async {
        let server = Server::start();
        let pool = bounded_pool(&server, "bp-full", 2).await;
        let first = pool.submit(SQUARE, 1);
        let second = pool.try_submit(SQUARE, 2).expect("room for a second task");
        pool.flush().await;
        assert!(!first.is_finished() && !second.is_finished());

        let err = pool.submit(SQUARE, 3).await.unwrap_err();
        assert!(err.is_rejected(), "{err:?}");
        match pool.try_submit(SQUARE, 4) {
            Err(TrySubmitError::Full(arg)) => assert_eq!(arg, 4),
            other => panic!("expected Full(4), got {other:?}"),
        }
        let stats = pool.stats();
        assert_eq!(stats.rejected, 1, "{stats:?}");
        assert_eq!(stats.submitted, 2, "{stats:?}");
        assert_eq!(stats.queued, 2, "{stats:?}");

        // A cancelled task gives its place back; so does a call that fails at once.
        assert!(first.cancel());
        assert!(first.await.unwrap_err().is_cancelled());
        let err = pool.submit_wait(UNKNOWN, 6).await.await.unwrap_err();
        assert!(err.is_invalid(), "{err:?}");
        let third = pool.submit_wait(SQUARE, 5).await;
        assert!(pool.try_submit(SQUARE, 7).unwrap_err().is_full());

        // A worker answers the two waiting tasks; the pool has room again.
        let _worker = WorkerProcess::start(&server.url, "bp-full", 2, false);
        assert_eq!(second.await.unwrap(), 4);
        assert_eq!(third.await.unwrap(), 25);
        let fourth = pool.submit_wait(SQUARE, 8).await;
        assert_eq!(fourth.await.unwrap(), 64);
        pool.shutdown().await;
        match pool.try_submit(SQUARE, 9) {
            Err(TrySubmitError::Shutdown(arg)) => assert_eq!(arg, 9),
            other => panic!("expected Shutdown(9), got {other:?}"),
        }
        let stats = pool.stats();
        assert_eq!((stats.queued, stats.running), (0, 0), "{stats:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_wait_waits_until_a_task_resolves() {
    watchdog(30, async {
        let server = Server::start();
        let pool = bounded_pool(&server, "bp-wait", 2).await;
        let tasks = [pool.submit(SQUARE, 2), pool.submit(SQUARE, 3)];
        let mut waiting = pin!(pool.submit_wait(SQUARE, 4));
        // No place can free up while no worker runs: the wait is pending.
        assert!(waiting.as_mut().now_or_never().is_none());
        assert!(waiting.as_mut().now_or_never().is_none());

        let _worker = WorkerProcess::start(&server.url, "bp-wait", 1, false);
        let fourth = waiting.await;
        let [a, b] = tasks;
        assert_eq!(a.await.unwrap(), 4);
        assert_eq!(b.await.unwrap(), 9);
        assert_eq!(fourth.await.unwrap(), 16);
        pool.shutdown().await;
        assert_eq!(pool.stats().rejected, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_resolves_the_waiting_submit_waits() {
    watchdog(30, async {
        let server = Server::start();
        for (round, now) in [(0, false), (1, true), (2, false), (3, true)] {
            let namespace = format!("bp-shut-{round}");
            let pool = bounded_pool(&server, &namespace, 2).await;
            let held = [pool.submit(SQUARE, 1), pool.submit(SQUARE, 2)];
            // Waiters on other threads, some already parked, some racing the shutdown.
            let (parked_tx, mut parked_rx) = tokio::sync::mpsc::unbounded_channel();
            let mut waiters = Vec::new();
            for n in 0..8u64 {
                let pool = pool.clone();
                let parked = parked_tx.clone();
                waiters.push(tokio::spawn(async move {
                    let mut wait = pin!(pool.submit_wait(SQUARE, n));
                    if n < 4 {
                        assert!(wait.as_mut().now_or_never().is_none());
                        parked.send(()).unwrap();
                    }
                    wait.await.await
                }));
            }
            for _ in 0..4 {
                parked_rx.recv().await.unwrap();
            }
            let stopped = if now {
                pool.shutdown_now()
            } else {
                // Graceful: the held tasks still wait for a worker that never comes.
                drop(pool.shutdown());
                pool.shutdown_now()
            };
            for waiter in waiters {
                let err = waiter.await.unwrap().unwrap_err();
                assert!(err.is_shutdown(), "round {round}: {err:?}");
            }
            stopped.await;
            for task in held {
                assert!(task.await.unwrap_err().is_cancelled());
            }
            assert_eq!(pool.stats().rejected, 8);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_without_cancel_still_resolves_a_waiting_submit_wait() {
    watchdog(30, async {
        let server = Server::start();
        let pool = bounded_pool(&server, "bp-graceful", 1).await;
        let held = pool.submit(SQUARE, 3);
        let mut waiting = pin!(pool.submit_wait(SQUARE, 4));
        assert!(waiting.as_mut().now_or_never().is_none());
        // Only `shutdown` (graceful): the held task keeps its place, yet the waiter resolves.
        let drained = pool.shutdown();
        let err = waiting.await.await.unwrap_err();
        assert!(err.is_shutdown(), "{err:?}");
        let _worker = WorkerProcess::start(&server.url, "bp-graceful", 1, false);
        assert_eq!(held.await.unwrap(), 9);
        drained.await;
    })
    .await;
}
