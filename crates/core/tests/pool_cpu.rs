//! CpuPool: thread names, initializer, saturation, independence from the async runtime, and
//! threads that exit when the pool goes away.

mod common;

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use common::{Gate, Gauge};
use futurepool_core::{CpuPool, CpuPoolBuilder};

#[test]
fn needs_no_runtime() {
    let pool = CpuPool::builder().max_workers(2).build().unwrap();
    let tasks: Vec<_> = (0..10u64).map(|n| pool.submit(move || n * n)).collect();
    let squares: Vec<u64> = tasks
        .into_iter()
        .map(|t| t.blocking_wait().unwrap())
        .collect();
    assert_eq!(squares, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
}

#[test]
fn zero_workers_is_an_error() {
    let err = CpuPool::builder().max_workers(0).build().unwrap_err();
    assert_eq!(err.to_string(), "max_workers must be at least 1, got 0");
}

#[test]
fn default_max_workers_is_available_parallelism() {
    let cores = thread::available_parallelism().map_or(1, usize::from);
    assert_eq!(CpuPool::new().max_workers(), cores);
    assert_eq!(CpuPoolBuilder::default_max_workers(), cores);
}

/// CPython's test_thread_names_assigned.
#[test]
fn threads_are_named_prefix_index() {
    let pool = CpuPool::builder()
        .max_workers(3)
        .thread_name_prefix("cpu")
        .build()
        .unwrap();
    let gate = Gate::new();
    let (tx, rx) = mpsc::channel();
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let (gate, tx) = (gate.clone(), tx.clone());
            pool.submit(move || {
                tx.send(thread::current().name().unwrap().to_owned())
                    .unwrap();
                gate.wait();
            })
        })
        .collect();
    let mut names: Vec<String> = (0..3).map(|_| rx.recv().unwrap()).collect();
    gate.open();
    tasks.into_iter().for_each(|t| t.blocking_wait().unwrap());
    names.sort();
    assert_eq!(names, ["cpu-0", "cpu-1", "cpu-2"]);
}

/// CPython's test_initializer: the hook runs once per thread, before any task.
#[test]
fn on_thread_start_runs_once_per_thread_before_tasks() {
    thread_local!(static READY: RefCell<bool> = const { RefCell::new(false) });
    let starts = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&starts);
    let pool = CpuPool::builder()
        .max_workers(2)
        .on_thread_start(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            READY.with(|r| *r.borrow_mut() = true);
        })
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| pool.submit(|| READY.with(|r| *r.borrow())))
        .collect();
    assert!(tasks.into_iter().all(|t| t.blocking_wait().unwrap()));
    futures::executor::block_on(pool.shutdown());
    assert_eq!(starts.load(Ordering::SeqCst), 2);
}

/// CPython's test_initializer failure: a broken pool refuses work instead of hanging.
#[test]
fn a_panicking_initializer_breaks_the_pool() {
    let pool = CpuPool::builder()
        .max_workers(1)
        .on_thread_start(|| panic!("no config"))
        .build()
        .unwrap();
    let first = pool.submit(|| 1);
    let err = first.blocking_wait().unwrap_err();
    // Either the job was queued before the hook failed (cancelled) or the pool was already
    // shut down when it was submitted.
    assert!(err.is_cancelled() || err.is_shutdown(), "{err}");
    futures::executor::block_on(pool.shutdown());
    assert!(pool.is_shutdown());
    assert!(pool.submit(|| 2).blocking_wait().unwrap_err().is_shutdown());
}

#[test]
fn saturation_never_exceeds_max_workers() {
    let pool = CpuPool::builder().max_workers(2).build().unwrap();
    let (gate, gauge) = (Gate::new(), Gauge::new());
    let (tx, rx) = mpsc::channel();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (gate, gauge, tx) = (gate.clone(), gauge.clone(), tx.clone());
            pool.submit(move || {
                gauge.enter();
                tx.send(()).unwrap();
                gate.wait();
                gauge.exit();
                i
            })
        })
        .collect();
    rx.recv().unwrap();
    rx.recv().unwrap();
    let stats = pool.stats();
    assert_eq!((stats.running, stats.queued), (2, 18));
    assert!(rx.try_recv().is_err());
    gate.open();
    let values: Vec<i32> = tasks
        .into_iter()
        .map(|t| t.blocking_wait().unwrap())
        .collect();
    assert_eq!(values, (0..20).collect::<Vec<_>>());
    assert_eq!(gauge.max(), 2);
}

/// CPU work never runs on the runtime: on a current-thread runtime, a closure that waits for
/// the runtime to make progress completes.
#[tokio::test(flavor = "current_thread")]
async fn cpu_work_never_runs_on_the_runtime() {
    let pool = CpuPool::builder().max_workers(1).build().unwrap();
    let (tx, rx) = mpsc::channel::<u64>();
    let task = pool.submit(move || {
        let n = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        (0..n).sum::<u64>()
    });
    let ticks = tokio::spawn(async move {
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        tx.send(1_000).unwrap();
    });
    ticks.await.unwrap();
    assert_eq!(task.await.unwrap(), 499_500);
    assert!(
        !pool
            .submit(|| thread::current().name().map(str::to_owned))
            .await
            .unwrap()
            .unwrap()
            .starts_with("tokio")
    );
}

/// A pool of `workers` threads, and a receiver that reports `Disconnected` once every one of
/// them has exited: each thread keeps a sender in a thread-local, dropped as the thread ends.
fn pool_with_exit_signal(workers: usize) -> (CpuPool, mpsc::Receiver<()>) {
    let (alive_tx, alive_rx) = mpsc::channel::<()>();
    let alive_tx = Arc::new(Mutex::new(alive_tx));
    thread_local!(static ALIVE: RefCell<Option<mpsc::Sender<()>>> = const { RefCell::new(None) });
    let pool = CpuPool::builder()
        .max_workers(workers)
        .on_thread_start(move || {
            let tx = alive_tx.lock().unwrap().clone();
            ALIVE.with(|a| *a.borrow_mut() = Some(tx));
        })
        .build()
        .unwrap();
    (pool, alive_rx)
}

/// Dropping the last handle lets queued tasks finish, and every thread exits.
#[test]
fn dropping_the_pool_finishes_tasks_and_leaks_no_thread() {
    let (pool, alive_rx) = pool_with_exit_signal(3);
    let gate = Gate::new();
    let tasks: Vec<_> = (0..9)
        .map(|i| {
            let gate = gate.clone();
            pool.submit(move || {
                gate.wait();
                i
            })
        })
        .collect();
    drop(pool);
    gate.open();
    let sum: i32 = tasks.into_iter().map(|t| t.blocking_wait().unwrap()).sum();
    assert_eq!(sum, 36);
    // Disconnected only once all three threads have exited.
    assert_eq!(
        alive_rx.recv_timeout(Duration::from_secs(30)),
        Err(mpsc::RecvTimeoutError::Disconnected)
    );
}

#[test]
fn shutdown_lets_every_thread_exit() {
    let (pool, alive_rx) = pool_with_exit_signal(2);
    pool.submit(|| ()).blocking_wait().unwrap();
    futures::executor::block_on(pool.shutdown());
    // The pool handle is still alive; shutdown alone must end the threads.
    assert_eq!(
        alive_rx.recv_timeout(Duration::from_secs(30)),
        Err(mpsc::RecvTimeoutError::Disconnected)
    );
    assert!(pool.is_shutdown());
}
