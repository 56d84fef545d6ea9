//! Graceful shutdown racing submitters never cancels an accepted task; `shutdown().await`
//! returns only after every capture is dropped; cancelled queued tasks drop their closures at
//! once and cost no memory.

use std::sync::{Arc, Barrier, Mutex, mpsc};

use futurepool_core::{AsyncPool, BlockingPool, CpuPool, Task};
use futurepool_test_support::{DropFlag, Gate, Watchdog};

const SUBMITTERS: usize = 4;
const PER_SUBMITTER: usize = 8;

/// What became of the tasks of one race.
#[derive(Debug, Default)]
struct Outcomes {
    ran: usize,
    refused: usize,
    cancelled: usize,
}

/// `rounds` times: builds a pool, lets 4 threads submit while the main thread calls
/// `shutdown()`, waits for the shutdown, and sorts every task's outcome.
fn race<P: Send + Sync + 'static>(
    rounds: usize,
    build: impl Fn() -> P,
    submit: impl Fn(&P, usize) -> Task<usize> + Send + Sync + 'static,
    shutdown: impl Fn(&P),
) -> Outcomes {
    let submit = Arc::new(submit);
    let pool_slot: Arc<Mutex<Option<Arc<P>>>> = Arc::default();
    let start = Arc::new(Barrier::new(SUBMITTERS + 1));
    let (results_tx, results) = mpsc::channel::<Vec<Task<usize>>>();
    let threads: Vec<_> = (0..SUBMITTERS)
        .map(|_| {
            let (submit, pool_slot, start) = (submit.clone(), pool_slot.clone(), start.clone());
            let results_tx = results_tx.clone();
            std::thread::spawn(move || {
                for _ in 0..rounds {
                    start.wait();
                    let pool = pool_slot.lock().unwrap().clone().unwrap();
                    let tasks = (0..PER_SUBMITTER).map(|i| submit(&pool, i)).collect();
                    results_tx.send(tasks).unwrap();
                }
            })
        })
        .collect();
    let mut outcomes = Outcomes::default();
    for _ in 0..rounds {
        let pool = Arc::new(build());
        *pool_slot.lock().unwrap() = Some(pool.clone());
        start.wait();
        shutdown(&pool);
        for _ in 0..SUBMITTERS {
            for task in results.recv().unwrap() {
                match task.blocking_wait() {
                    Ok(_) => outcomes.ran += 1,
                    Err(err) if err.is_shutdown() => outcomes.refused += 1,
                    Err(err) if err.is_cancelled() => outcomes.cancelled += 1,
                    Err(err) => panic!("unexpected outcome: {err}"),
                }
            }
        }
    }
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(
        outcomes.ran + outcomes.refused + outcomes.cancelled,
        rounds * SUBMITTERS * PER_SUBMITTER,
        "every task resolves exactly once"
    );
    outcomes
}

const ROUNDS: usize = 5_000;

#[test]
fn graceful_shutdown_racing_submitters_never_cancels_an_accepted_cpu_task() {
    let _watchdog = Watchdog::new("cpu shutdown race", 120);
    let outcomes = race(
        ROUNDS,
        || CpuPool::builder().max_workers(2).build().unwrap(),
        |pool, i| pool.submit(move || i),
        |pool| futures::executor::block_on(pool.shutdown()),
    );
    assert_eq!(outcomes.cancelled, 0, "{outcomes:?}");
}

#[test]
fn graceful_shutdown_racing_submitters_never_cancels_an_accepted_async_task() {
    let _watchdog = Watchdog::new("async shutdown race", 120);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let handle = runtime.handle().clone();
    let outcomes = race(
        ROUNDS,
        move || {
            AsyncPool::builder()
                .max_concurrency(2)
                .handle(handle.clone())
                .build()
                .unwrap()
        },
        |pool, i| pool.submit(async move { i }),
        |pool| futures::executor::block_on(pool.shutdown()),
    );
    assert_eq!(outcomes.cancelled, 0, "{outcomes:?}");
}

#[test]
fn graceful_shutdown_racing_submitters_never_cancels_an_accepted_blocking_task() {
    let _watchdog = Watchdog::new("blocking shutdown race", 120);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let handle = runtime.handle().clone();
    let outcomes = race(
        ROUNDS / 5,
        move || {
            BlockingPool::builder()
                .max_workers(2)
                .handle(handle.clone())
                .build()
                .unwrap()
        },
        |pool, i| pool.submit(move || i),
        |pool| futures::executor::block_on(pool.shutdown()),
    );
    assert_eq!(outcomes.cancelled, 0, "{outcomes:?}");
}

/// Sets its flag only after a pause, so that a shutdown that does not wait for the drop
/// returns first.
struct SlowDrop {
    /// Set after the pause: fields drop after `Drop::drop` returns.
    _flag: DropFlag,
}

impl Drop for SlowDrop {
    fn drop(&mut self) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn shutdown_returns_after_a_cancelled_running_future_is_dropped() {
    let _watchdog = Watchdog::new("shutdown waits for drops", 30);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        for _ in 0..5 {
            let pool = AsyncPool::builder().max_concurrency(1).build().unwrap();
            let flag = DropFlag::new();
            let capture = SlowDrop {
                _flag: flag.clone(),
            };
            let (started_tx, started) = tokio::sync::oneshot::channel();
            let task = pool.submit(async move {
                let _capture = capture;
                started_tx.send(()).unwrap();
                std::future::pending::<()>().await;
            });
            started.await.unwrap();
            assert!(task.cancel());
            pool.shutdown().await;
            assert!(
                flag.is_dropped(),
                "shutdown returned before the future was dropped"
            );
        }
    });
}

#[test]
fn shutdown_now_returns_after_every_capture_is_dropped() {
    let _watchdog = Watchdog::new("shutdown_now waits for drops", 30);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let pool = AsyncPool::builder().max_concurrency(1).build().unwrap();
        let flags: Vec<DropFlag> = (0..4).map(|_| DropFlag::new()).collect();
        let (started_tx, started) = tokio::sync::oneshot::channel();
        let running = {
            let capture = SlowDrop {
                _flag: flags[0].clone(),
            };
            pool.submit(async move {
                let _capture = capture;
                started_tx.send(()).unwrap();
                std::future::pending::<()>().await;
            })
        };
        started.await.unwrap();
        let queued: Vec<_> = flags[1..]
            .iter()
            .map(|flag| {
                let capture = SlowDrop {
                    _flag: flag.clone(),
                };
                pool.submit(async move { drop(capture) })
            })
            .collect();
        pool.shutdown_now().await;
        assert!(flags.iter().all(DropFlag::is_dropped));
        assert!(running.await.unwrap_err().is_cancelled());
        for task in queued {
            assert!(task.await.unwrap_err().is_cancelled());
        }
    });
}

#[test]
fn cancel_drops_a_queued_closure_before_it_returns() {
    let _watchdog = Watchdog::new("cancel drops captures", 30);
    let pool = CpuPool::builder().max_workers(1).build().unwrap();
    let gate = Gate::new();
    let held = {
        let gate = gate.clone();
        pool.submit(move || gate.wait())
    };
    let flag = DropFlag::new();
    let capture = flag.clone();
    let queued = pool.submit(move || drop(capture));
    assert!(queued.cancel());
    assert!(
        flag.is_dropped(),
        "captures dropped by the time cancel returns"
    );
    gate.open();
    held.blocking_wait().unwrap();
}

/// Resident memory of this process, in bytes (Linux).
fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
fn submit_wait_and_cancel_in_a_loop_keeps_memory_flat() {
    let _watchdog = Watchdog::new("submit_wait + cancel memory", 60);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let pool = CpuPool::builder()
            .max_workers(1)
            .queue_capacity(4)
            .build()
            .unwrap();
        let gate = Gate::new();
        let held = {
            let gate = gate.clone();
            pool.submit(move || gate.wait())
        };
        let round = async |n: usize| {
            for _ in 0..n {
                let payload = vec![0u8; 256];
                let task = pool.submit_wait(move || payload.len()).await;
                assert!(task.cancel());
            }
        };
        round(20_000).await; // warm up the allocator
        let before = rss_bytes();
        round(200_000).await;
        let grown = rss_bytes().saturating_sub(before);
        // A leak of the job shell alone would be ~100 bytes a round: 20 MB here.
        assert!(grown < 8 << 20, "memory grew by {grown} bytes");
        gate.open();
        held.await.unwrap();
    });
}
