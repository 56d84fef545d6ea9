//! Shutdown: CPython's test_run_after_shutdown, test_cancel_futures, test_shutdown_no_wait,
//! plus shutdown_now on each pool and idempotence.

mod common;

use common::{DropSignal, Gate, held_cpu_pool};
use futurepool_core::{AsyncPool, BlockingPool, CpuPool};
use tokio::sync::oneshot;

#[tokio::test]
async fn submit_after_shutdown_is_an_error_on_every_pool() {
    let io = BlockingPool::new();
    let cpu = CpuPool::builder().max_workers(1).build().unwrap();
    let net = AsyncPool::new();
    io.shutdown().await;
    cpu.shutdown().await;
    net.shutdown().await;
    let errors = [
        io.submit(|| ()).await.unwrap_err(),
        io.submit_cancellable(|_| ()).await.unwrap_err(),
        io.submit_wait(|| ()).await.await.unwrap_err(),
        cpu.submit(|| ()).await.unwrap_err(),
        net.submit(async {}).await.unwrap_err(),
        net.submit_wait(async {}).await.await.unwrap_err(),
    ];
    for err in errors {
        assert!(err.is_shutdown(), "{err}");
        assert!(
            err.to_string().ends_with("rejected: pool is shut down"),
            "{err}"
        );
    }
    assert!(io.try_submit(|| ()).is_err());
    assert!(net.try_submit(async {}).is_err());
    assert_eq!(io.stats().rejected, 3);
    assert!(io.is_shutdown() && cpu.is_shutdown() && net.is_shutdown());
}

#[tokio::test]
async fn shutdown_lets_queued_and_running_tasks_finish() {
    let pool = BlockingPool::builder().max_workers(1).build().unwrap();
    let gate = Gate::new();
    let (started_tx, started) = oneshot::channel();
    let running = {
        let gate = gate.clone();
        pool.submit(move || {
            started_tx.send(()).unwrap();
            gate.wait();
            "running"
        })
    };
    started.await.unwrap();
    let queued: Vec<_> = (0..5).map(|i| pool.submit(move || i)).collect();
    let shutdown = tokio::spawn(pool.shutdown());
    assert!(
        pool.is_shutdown(),
        "refuses work from the moment of the call"
    );
    assert!(pool.submit(|| 0).await.unwrap_err().is_shutdown());
    gate.open();
    shutdown.await.unwrap();
    assert!(running.is_finished() && queued.iter().all(|t| t.is_finished()));
    assert_eq!(running.await.unwrap(), "running");
    for (i, task) in queued.into_iter().enumerate() {
        assert_eq!(task.await.unwrap(), i);
    }
    let stats = pool.stats();
    assert_eq!((stats.completed, stats.queued, stats.running), (6, 0, 0));
}

/// CPython's test_cancel_futures: shutdown_now cancels what has not started and waits for
/// what runs.
#[test]
fn shutdown_now_cancels_queued_closures_and_waits_for_running_ones() {
    let (pool, gate, running) = held_cpu_pool(None);
    let queued: Vec<_> = (0..10).map(|i| pool.submit(move || i)).collect();
    let stop = std::thread::spawn({
        let pool = pool.clone();
        move || futures::executor::block_on(pool.shutdown_now())
    });
    // The queued tasks are cancelled at once, while the running one still runs.
    for task in queued {
        assert!(task.blocking_wait().unwrap_err().is_cancelled());
    }
    assert!(!running.is_finished());
    gate.open();
    stop.join().unwrap();
    running
        .blocking_wait()
        .expect("the running closure finished");
    assert_eq!(pool.stats().cancelled, 10);
}

#[tokio::test]
async fn shutdown_now_drops_running_futures() {
    let pool = AsyncPool::builder().max_concurrency(2).build().unwrap();
    let (dropped_tx, dropped) = oneshot::channel();
    let (started_tx, started) = oneshot::channel();
    let running = pool.submit(async move {
        let _signal = DropSignal::new(dropped_tx);
        started_tx.send(()).unwrap();
        std::future::pending::<()>().await
    });
    started.await.unwrap();
    let queued: Vec<_> = (0..2)
        .map(|_| pool.submit(std::future::pending::<()>()))
        .collect();
    pool.shutdown_now().await;
    dropped.await.unwrap();
    assert!(running.await.unwrap_err().is_cancelled());
    for task in queued {
        assert!(task.await.unwrap_err().is_cancelled());
    }
}

#[tokio::test]
async fn shutdown_now_triggers_cooperative_tokens() {
    let pool = BlockingPool::builder().max_workers(1).build().unwrap();
    let (started_tx, started) = oneshot::channel();
    let task = pool.submit_cancellable(move |token| {
        started_tx.send(()).unwrap();
        while !token.is_cancelled() {
            std::thread::yield_now();
        }
    });
    started.await.unwrap();
    pool.shutdown_now().await;
    assert!(task.await.unwrap_err().is_cancelled());
}

#[tokio::test]
async fn shutdown_is_idempotent() {
    let pool = BlockingPool::new();
    pool.submit(|| ()).await.unwrap();
    pool.shutdown().await;
    pool.shutdown().await;
    pool.shutdown_now().await;
    assert!(pool.is_shutdown());
}

/// CPython's test_shutdown_no_wait: starting shutdown without waiting still lets tasks finish.
#[test]
fn shutdown_without_waiting_lets_tasks_finish() {
    let pool = CpuPool::builder().max_workers(2).build().unwrap();
    let tasks: Vec<_> = (0..20u64).map(|n| pool.submit(move || n * 2)).collect();
    drop(pool.shutdown());
    drop(pool);
    let sum: u64 = tasks.into_iter().map(|t| t.blocking_wait().unwrap()).sum();
    assert_eq!(sum, 380);
}

#[tokio::test]
async fn dropping_the_last_handle_lets_tasks_finish() {
    let io = BlockingPool::builder().max_workers(1).build().unwrap();
    let net = AsyncPool::builder().max_concurrency(1).build().unwrap();
    let blocking: Vec<_> = (0..5).map(|i| io.submit(move || i)).collect();
    let futures: Vec<_> = (0..5).map(|i| net.submit(async move { i })).collect();
    drop((io, net));
    for (i, (a, b)) in blocking.into_iter().zip(futures).enumerate() {
        assert_eq!(a.await.unwrap(), i);
        assert_eq!(b.await.unwrap(), i);
    }
}

/// A task whose job is dropped unrun (the runtime went away) resolves as cancelled instead of
/// hanging its awaiter.
#[test]
fn tasks_resolve_when_their_runtime_shuts_down() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let pool = AsyncPool::builder()
        .handle(rt.handle().clone())
        .max_concurrency(1)
        .build()
        .unwrap();
    let task = pool.submit(std::future::pending::<()>());
    drop(rt);
    assert!(task.blocking_wait().unwrap_err().is_cancelled());
}
