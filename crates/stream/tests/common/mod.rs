//! Helpers shared by the stream tests: gates that hold closures until released, the
//! already-finished tasks of CPython's tests, pools, counted inputs and a watchdog.
#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futurepool_core::{BlockingPool, CpuPool, Task, TaskError};
use futures::StreamExt;

pub use futurepool_test_support::Gate;

/// CPython's SUCCESSFUL_FUTURE: finished with 42.
pub fn successful() -> Task<i32> {
    Task::ready(Ok(42))
}

/// CPython's CANCELLED_AND_NOTIFIED_FUTURE.
pub fn cancelled() -> Task<i32> {
    Task::ready(Err(TaskError::cancelled()))
}

/// CPython's EXCEPTION_FUTURE: finished with an error (here a panic).
pub fn failed() -> Task<i32> {
    Task::ready(Err(TaskError::from_panic(Box::new("OSError"))))
}

/// A `CpuPool` of `workers` threads.
pub fn cpu(workers: usize) -> CpuPool {
    CpuPool::builder().max_workers(workers).build().unwrap()
}

/// A `BlockingPool` of at most `workers` threads.
pub fn blocking(workers: usize) -> BlockingPool {
    BlockingPool::builder()
        .max_workers(workers)
        .build()
        .unwrap()
}

/// An iterator over `0..` counting how many items were read.
pub fn counted(read: &Arc<AtomicUsize>) -> impl Iterator<Item = u64> + Send + 'static {
    let read = Arc::clone(read);
    (0u64..).inspect(move |_| {
        read.fetch_add(1, Ordering::SeqCst);
    })
}

/// Comparable form of a result: the value, or the panic message.
pub fn plain<T>(r: Result<T, TaskError>) -> Result<T, String> {
    r.map_err(|e| e.panic_message().unwrap_or("not a panic").to_owned())
}

/// Consumes `take` items and checks, after each, that the stream read at most `bound` items
/// more than it yielded.
///
/// The item just yielded counts as not yet consumed: while the stream read, the consumer had
/// not received it, so at that moment at most `bound` read items were unconsumed.
pub async fn check_read_ahead<S>(mut stream: S, read: &AtomicUsize, bound: usize, take: usize)
where
    S: futures::Stream + Unpin,
{
    for yielded in 1..=take {
        assert!(stream.next().await.is_some());
        let ahead = read.load(Ordering::SeqCst) - (yielded - 1);
        assert!(ahead <= bound, "read {ahead} items ahead, bound {bound}");
    }
}

/// Runs `test`, failing instead of hanging if it takes longer than 20 s.
pub async fn watchdog<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), test)
        .await
        .expect("the test hung: the watchdog fired")
}
