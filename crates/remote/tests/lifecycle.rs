//! The pool's lifecycle is the core's: a `shutdown` racing submits on other threads is
//! linearizable (each submit is accepted before the close, and then awaited by it, or refused),
//! and every count is given back on whatever path a task ends.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use common::{SQUARE, Server, WorkerProcess, pool_in, watchdog};
use futurepool_core::{Task, TrySubmitError};

const SUBMITTERS: u64 = 3;
const PER_SUBMITTER: u64 = 24;
const ROUNDS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_racing_submits_is_linearizable() {
    watchdog(120, async {
        let server = Server::start();
        let _worker = WorkerProcess::start(&server.url, "lc-race", 8, false);
        let runtime = tokio::runtime::Handle::current();
        for round in 0..ROUNDS {
            let pool = pool_in(&server, "lc-race").await;
            let start = Arc::new(Barrier::new(SUBMITTERS as usize + 1));
            let shut = Arc::new(AtomicBool::new(false));
            let submitters: Vec<_> = (0..SUBMITTERS)
                .map(|s| {
                    let (pool, start, shut) = (pool.clone(), start.clone(), shut.clone());
                    let runtime = runtime.clone();
                    std::thread::spawn(move || {
                        start.wait();
                        let mut tasks: Vec<(u64, Task<u64>)> = Vec::new();
                        for i in 0..PER_SUBMITTER {
                            let n = s * 1_000 + i;
                            let task = match i % 3 {
                                0 => pool.submit(SQUARE, n),
                                1 => match pool.try_submit(SQUARE, n) {
                                    Ok(task) => task,
                                    Err(refused) => {
                                        assert!(
                                            matches!(refused, TrySubmitError::Shutdown(_)),
                                            "{refused:?}"
                                        );
                                        continue;
                                    }
                                },
                                _ => runtime.block_on(pool.submit_wait(SQUARE, n)),
                            };
                            // Once `shutdown().await` has returned, every task has ended:
                            // it was awaited, or refused at once.
                            if shut.load(Ordering::SeqCst) {
                                assert!(
                                    task.is_finished(),
                                    "round {round}: task {n} outlived shutdown"
                                );
                            }
                            tasks.push((n, task));
                        }
                        tasks
                    })
                })
                .collect();
            start.wait();
            // Let some submits in first, on some rounds.
            for _ in 0..round {
                tokio::task::yield_now().await;
            }
            pool.shutdown().await;
            shut.store(true, Ordering::SeqCst);
            let stats = pool.stats();
            assert_eq!(
                (stats.running, stats.queued),
                (0, 0),
                "round {round}: {stats:?}"
            );
            let (mut ran, mut refused) = (0, 0);
            for submitter in submitters {
                let tasks = tokio::task::spawn_blocking(move || submitter.join().unwrap())
                    .await
                    .unwrap();
                for (n, task) in tasks {
                    match task.await {
                        Ok(square) => {
                            assert_eq!(square, n * n);
                            ran += 1;
                        }
                        Err(e) => {
                            assert!(e.is_shutdown(), "round {round}: {e:?}");
                            refused += 1;
                        }
                    }
                }
            }
            let stats = pool.stats();
            assert_eq!(stats.completed, ran, "round {round}: {stats:?}");
            assert_eq!(stats.submitted, ran, "round {round}: {stats:?}");
            assert!(refused <= stats.rejected, "round {round}: {stats:?}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_come_back_on_every_path() {
    watchdog(60, async {
        let server = Server::start();
        let pool = futurepool_remote::RemotePool::builder(common::registry())
            .url(&server.url)
            .namespace("lc-counts")
            .queue_capacity(3)
            .build()
            .await
            .unwrap();
        // Cancelled before or after its message is stored, and dropped by `shutdown_now`: each
        // gives its place back.
        let early = pool.submit(SQUARE, 1);
        assert!(early.cancel());
        let stored = pool.submit(SQUARE, 2);
        pool.flush().await;
        assert!(stored.cancel());
        let held = [pool.submit(SQUARE, 3), pool.submit(SQUARE, 4)];
        let third = pool.submit_wait(SQUARE, 5).await;
        assert!(pool.try_submit(SQUARE, 6).unwrap_err().is_full());
        let stats = pool.stats();
        assert_eq!((stats.queued, stats.cancelled), (3, 2), "{stats:?}");
        // Stored, so that their deletes are what this checks (a task cancelled while its
        // publish is in flight leaves a message nobody answers for).
        pool.flush().await;
        pool.shutdown_now().await;
        for task in held.into_iter().chain([third]) {
            assert!(task.await.unwrap_err().is_cancelled());
        }
        let stats = pool.stats();
        assert_eq!(
            (stats.queued, stats.running, stats.cancelled),
            (0, 0, 5),
            "{stats:?}"
        );
        // Every cancelled task's message left the stream before `shutdown_now` returned
        // (the one cancelled before it was stored may never have been).
        let js = async_nats::jetstream::new(async_nats::connect(&server.url).await.unwrap());
        let mut stream = js.get_stream("lc-counts_tasks").await.unwrap();
        let state = stream.info().await.unwrap().state.clone();
        assert!(state.messages <= 1, "{state:?}");
    })
    .await;
}
