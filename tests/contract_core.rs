//! The contract's "Pools", "Submitting", "Task" and "Shutdown" snippets, written exactly as
//! users write them: through `use futurepool::prelude::*;` and the facade's top level.

use std::future::Future;
use std::time::Duration;

use futurepool::prelude::*;

fn heavy(n: u64) -> u64 {
    (0..n).sum()
}

async fn fetch() -> usize {
    tokio::task::yield_now().await;
    7
}

fn is_task_future<T: Future<Output = Result<u64, TaskError>> + Unpin + Send>(_: &T) {}

fn is_pool<T: Clone + Send + Sync + 'static>(_: &T) {}

#[tokio::test]
async fn pools_and_submitting_snippets() -> Result<(), Box<dyn std::error::Error>> {
    let io = BlockingPool::builder().max_workers(8).build()?;
    let cpu = CpuPool::builder()
        .max_workers(2)
        .thread_name_prefix("cpu")
        .build()?;
    let net = AsyncPool::builder().max_concurrency(64).build()?;
    is_pool(&io);
    is_pool(&cpu);
    is_pool(&net);
    let (_io, _cpu, _net) = (BlockingPool::new(), CpuPool::new(), AsyncPool::new());

    let t: Task<u64> = cpu.submit(|| heavy(42));
    is_task_future(&t);
    let v: Result<u64, TaskError> = t.await;
    assert_eq!(v?, 861);
    let t: Task<usize> = net.submit(async move { fetch().await });
    assert_eq!(t.await?, 7);
    assert_eq!(io.submit(|| 1).await?, 1);

    // The facade's top level names the same items.
    let top: futurepool::Task<()> = futurepool::CpuPool::new().submit(|| ());
    top.await?;
    let _: Result<futurepool::BlockingPool, futurepool::BuildError> =
        futurepool::BlockingPool::builder().max_workers(0).build();
    Ok(())
}

#[tokio::test]
async fn zero_workers_and_no_runtime_are_build_errors() {
    assert!(CpuPool::builder().max_workers(0).build().is_err());
    assert!(BlockingPool::builder().max_workers(0).build().is_err());
    assert!(AsyncPool::builder().max_concurrency(0).build().is_err());
    let outside = std::thread::spawn(|| {
        (
            BlockingPool::builder().build().is_err(),
            AsyncPool::builder().build().is_err(),
            CpuPool::builder().build().is_ok(),
        )
    });
    assert_eq!(outside.join().unwrap(), (true, true, true));
}

#[tokio::test(start_paused = true)]
async fn task_snippets() {
    let cpu = CpuPool::builder().max_workers(1).build().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<u64>();
    let mut task = cpu.submit(move || rx.recv().unwrap());
    assert!(
        tokio::time::timeout(Duration::from_millis(10), &mut task)
            .await
            .is_err()
    );
    assert!(!task.is_finished());
    let queued = cpu.submit(|| 0u64);
    assert!(queued.cancel());
    assert!(queued.is_finished());
    assert!(queued.await.unwrap_err().is_cancelled());
    tx.send(5).unwrap();
    assert_eq!(task.await.unwrap(), 5);

    let stats = cpu.stats();
    assert_eq!(
        (
            stats.queued,
            stats.running,
            stats.completed,
            stats.failed,
            stats.cancelled
        ),
        (0, 0, 1, 0, 1)
    );
    cpu.shutdown().await;
    assert!(cpu.is_shutdown());
    assert!(cpu.submit(|| 1).await.unwrap_err().is_shutdown());
    cpu.shutdown_now().await;
}

#[test]
fn blocking_wait_outside_the_runtime() {
    let cpu = CpuPool::builder().max_workers(1).build().unwrap();
    let task = cpu.submit(|| heavy(10));
    let id: TaskId = task.id();
    assert!(id.as_u64() > 0);
    assert_eq!(task.blocking_wait().unwrap(), 45);
}
