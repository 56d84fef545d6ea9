//! [`BlockingPool`]: blocking closures on Tokio's blocking threads, at most `max_workers` at
//! once. Python's `ThreadPoolExecutor`.

mod builder;

pub use builder::BlockingPoolBuilder;

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

use crate::error::TrySubmitError;
use crate::pool::{Builder, Owner, PoolCore, Runner, WorkerSlot};
use crate::priority::Priority;
use crate::stats::PoolStats;
use crate::task::{Body, Job, Task};

/// A pool for blocking closures (file and network I/O, blocking client libraries, FFI):
/// Python's `ThreadPoolExecutor`, on Tokio's `spawn_blocking` threads.
///
/// At most `max_workers` closures of the pool run at once. The rest wait in a queue that holds
/// no thread: each worker is one `spawn_blocking` call that runs queued closures one after
/// another until the queue is empty, so a busy pool pays one spawn per worker, not per task.
/// The async runtime's own worker threads are never used.
///
/// `BlockingPool` is a cheap handle: clone it freely. Dropping the last handle lets submitted
/// tasks finish. If the runtime shuts down, the pool shuts down with it: unfinished tasks
/// resolve as cancelled and later submits at once.
///
/// # Examples
///
/// ```
/// use futurepool_core::BlockingPool;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = BlockingPool::builder().max_workers(8).name("files").build().unwrap();
/// let dir = std::env::temp_dir();
/// let task = pool.submit(move || std::fs::read_dir(dir).map(|entries| entries.count()));
/// let count = task.await.unwrap().unwrap();
/// println!("{count} entries");
/// # }
/// ```
#[derive(Clone)]
pub struct BlockingPool {
    owner: Arc<Owner<Blocking>>,
}

/// Starts workers with `spawn_blocking`.
pub(crate) struct Blocking {
    handle: Handle,
}

impl Runner for Blocking {
    fn start_worker(&self, slot: WorkerSlot<Self>, first: Option<Job>) {
        // After the runtime shut down, Tokio drops the closure unrun: the slot's `Drop` then
        // shuts the pool down and the job's cancels its task.
        drop(self.handle.spawn_blocking(move || work(slot, first)));
    }
}

/// A worker: runs `first`, then queued jobs, until the queue stays empty.
fn work(mut slot: WorkerSlot<Blocking>, mut first: Option<Job>) {
    loop {
        let job = match first.take() {
            Some(job) => job,
            None => {
                slot.look_for_work();
                match slot.next_or_leave() {
                    Some(job) => job,
                    None => return,
                }
            }
        };
        slot.core().run_sync(job);
    }
}

impl BlockingPool {
    /// A pool with the default settings of [`BlockingPoolBuilder`].
    ///
    /// # Panics
    ///
    /// Panics when called outside a Tokio runtime; use [`BlockingPool::builder`] to get an
    /// error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::new();
    /// assert_eq!(pool.max_workers(), futurepool_core::BlockingPoolBuilder::default_max_workers());
    /// # }
    /// ```
    pub fn new() -> Self {
        match Self::builder().build() {
            Ok(pool) => pool,
            Err(e) => panic!("BlockingPool::new: {e}"),
        }
    }

    /// A builder to configure a pool.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::builder().max_workers(2).build().unwrap();
    /// assert_eq!(pool.max_workers(), 2);
    /// # }
    /// ```
    pub fn builder() -> BlockingPoolBuilder {
        Builder::new()
    }

    fn core(&self) -> &Arc<PoolCore<Blocking>> {
        &self.owner.0
    }

    /// The most closures this pool runs at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::builder().max_workers(3).build().unwrap();
    /// assert_eq!(pool.max_workers(), 3);
    /// # }
    /// ```
    pub fn max_workers(&self) -> usize {
        self.core().queue.max_workers()
    }

    /// Submits a closure to run on the pool and returns its [`Task`].
    ///
    /// Never blocks and never panics. After [`shutdown`](Self::shutdown) the task resolves at
    /// once to an error with [`TaskError::is_shutdown`](crate::TaskError::is_shutdown); if the
    /// pool has a bounded queue and it is full, to one with
    /// [`TaskError::is_rejected`](crate::TaskError::is_rejected) (use
    /// [`submit_wait`](Self::submit_wait) or [`try_submit`](Self::try_submit) to respect the
    /// bound instead). A panic in `f` resolves the task to an error with
    /// [`TaskError::is_panic`](crate::TaskError::is_panic); the pool carries on.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::new();
    /// let task = pool.submit(|| (1..=10u64).product::<u64>());
    /// assert_eq!(task.await.unwrap(), 3_628_800);
    /// # }
    /// ```
    pub fn submit<F, T>(&self, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core().submit(Priority::NORMAL, Body::closure(f), None)
    }

    /// Submits a closure that can be told to stop: it receives a [`CancellationToken`] that
    /// [`Task::cancel`] and [`shutdown_now`](Self::shutdown_now) trigger.
    ///
    /// Poll `token.is_cancelled()` in long loops and return early. Once the token is
    /// triggered, the task resolves to an error with
    /// [`TaskError::is_cancelled`](crate::TaskError::is_cancelled) and the closure's return
    /// value is discarded, so a partial result never passes for a whole one.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::new();
    /// let (started_tx, started) = tokio::sync::oneshot::channel();
    /// let task = pool.submit_cancellable(move |token| {
    ///     started_tx.send(()).unwrap();
    ///     let mut spins = 0u64;
    ///     while !token.is_cancelled() {
    ///         spins += 1;
    ///         std::hint::spin_loop();
    ///     }
    ///     spins
    /// });
    /// started.await.unwrap();
    /// assert!(task.cancel());
    /// assert!(task.await.unwrap_err().is_cancelled());
    /// # }
    /// ```
    pub fn submit_cancellable<F, T>(&self, f: F) -> Task<T>
    where
        F: FnOnce(CancellationToken) -> T + Send + 'static,
        T: Send + 'static,
    {
        let token = self.core().child_token();
        let given = token.clone();
        self.core().submit(
            Priority::NORMAL,
            Body::closure(move || f(given)),
            Some(token),
        )
    }

    /// Submits a closure only if it can be accepted now; otherwise gives it back.
    ///
    /// # Errors
    ///
    /// [`TrySubmitError::Full`] when the pool's bounded queue has no room,
    /// [`TrySubmitError::Shutdown`] after shutdown; both hold the closure.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::new();
    /// match pool.try_submit(|| 1) {
    ///     Ok(task) => assert_eq!(task.await.unwrap(), 1),
    ///     Err(refused) => println!("not now: {refused}"),
    /// }
    /// # }
    /// ```
    pub fn try_submit<F, T>(&self, f: F) -> Result<Task<T>, TrySubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core().try_submit(Priority::NORMAL, f, Body::closure)
    }

    /// Submits a closure like [`submit`](Self::submit), at `priority`: among the pool's queued
    /// tasks, a higher priority starts first, and equal priorities in submission order.
    ///
    /// A running task is never interrupted, and with a worker free the task starts at once.
    /// See [`Priority`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{BlockingPool, Priority};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = BlockingPool::builder().max_workers(1).build().unwrap();
    /// let report = pool.submit_with_priority(Priority::LOW, || "nightly report");
    /// let click = pool.submit_with_priority(Priority::HIGH, || "button clicked");
    /// assert_eq!(click.await.unwrap(), "button clicked");
    /// assert_eq!(report.await.unwrap(), "nightly report");
    /// # }
    /// ```
    pub fn submit_with_priority<F, T>(&self, priority: Priority, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core().submit(priority, Body::closure(f), None)
    }

    /// Submits a closure at `priority` only if it can be accepted now; otherwise gives it
    /// back: [`try_submit`](Self::try_submit) with a [`Priority`].
    ///
    /// # Errors
    ///
    /// [`TrySubmitError::Full`] when the pool's bounded queue has no room,
    /// [`TrySubmitError::Shutdown`] after shutdown; both hold the closure.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{BlockingPool, Priority};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = BlockingPool::builder().max_workers(1).queue_capacity(16).build().unwrap();
    /// match pool.try_submit_with_priority(Priority::LOW, || 2 + 2) {
    ///     Ok(task) => assert_eq!(task.await.unwrap(), 4),
    ///     Err(refused) => println!("busy, try later: {refused}"),
    /// }
    /// # }
    /// ```
    pub fn try_submit_with_priority<F, T>(
        &self,
        priority: Priority,
        f: F,
    ) -> Result<Task<T>, TrySubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core().try_submit(priority, f, Body::closure)
    }

    /// Submits a closure, first waiting for room in the pool's bounded queue.
    ///
    /// This waits for a place in the queue, not for the task: await the returned [`Task`]
    /// for that. Without a bounded queue it returns at once. If the pool shuts down while
    /// waiting, the task resolves to an error with
    /// [`TaskError::is_shutdown`](crate::TaskError::is_shutdown).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, `f` is dropped unsubmitted
    /// and no place in the queue is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::builder().queue_capacity(4).build().unwrap();
    /// let mut tasks = Vec::new();
    /// for i in 0..100u32 {
    ///     tasks.push(pool.submit_wait(move || i * 2).await);
    /// }
    /// let total: u32 = futures::future::try_join_all(tasks).await.unwrap().into_iter().sum();
    /// assert_eq!(total, 9900);
    /// # }
    /// ```
    pub async fn submit_wait<F, T>(&self, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core()
            .submit_wait(Priority::NORMAL, Body::closure(f))
            .await
    }

    /// Submits a closure at `priority`, first waiting for room in the pool's bounded queue:
    /// [`submit_wait`](Self::submit_wait) with a [`Priority`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, `f` is dropped unsubmitted.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{BlockingPool, Priority};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = BlockingPool::builder().max_workers(1).queue_capacity(2).build().unwrap();
    /// let task = pool.submit_wait_with_priority(Priority::HIGH, || 3).await;
    /// assert_eq!(task.await.unwrap(), 3);
    /// # }
    /// ```
    pub async fn submit_wait_with_priority<F, T>(&self, priority: Priority, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core().submit_wait(priority, Body::closure(f)).await
    }

    /// Shuts the pool down gracefully: stops accepting work at once, and the returned future
    /// completes when every queued and running task has finished and been dropped.
    ///
    /// Every task accepted before the call runs, however the call races submitters. Calling it
    /// again (or after [`shutdown_now`](Self::shutdown_now)) is harmless. Work is refused from
    /// the moment of the call, even if the future is never awaited.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::new();
    /// let task = pool.submit(|| "queued before shutdown");
    /// pool.shutdown().await;
    /// assert!(task.is_finished());
    /// assert!(pool.submit(|| ()).await.unwrap_err().is_shutdown());
    /// # }
    /// ```
    pub fn shutdown(&self) -> impl Future<Output = ()> + Send + 'static {
        self.core().close();
        self.core().stopped()
    }

    /// Shuts the pool down now: stops accepting work, cancels every task that has not
    /// started, triggers the tokens of running cooperative closures, and completes when the
    /// running closures have returned and every task has been dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::new();
    /// let task = pool.submit_cancellable(|token| {
    ///     while !token.is_cancelled() {
    ///         std::thread::yield_now();
    ///     }
    /// });
    /// pool.shutdown_now().await;
    /// assert!(task.await.unwrap_err().is_cancelled());
    /// # }
    /// ```
    pub fn shutdown_now(&self) -> impl Future<Output = ()> + Send + 'static {
        self.core().kill();
        self.core().stopped()
    }

    /// Whether the pool was shut down (by a call, or because its runtime shut down).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::new();
    /// assert!(!pool.is_shutdown());
    /// pool.shutdown().await;
    /// assert!(pool.is_shutdown());
    /// # }
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.core().is_shutdown()
    }

    /// A snapshot of the pool's task counters.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::new();
    /// pool.submit(|| ()).await.unwrap();
    /// assert_eq!(pool.stats().completed, 1);
    /// # }
    /// ```
    pub fn stats(&self) -> PoolStats {
        self.core().stats()
    }

    /// The pool's name, as it appears in each task's `tracing` span.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// assert_eq!(futurepool_core::BlockingPool::new().name(), "blocking");
    /// # }
    /// ```
    pub fn name(&self) -> &str {
        self.core().name()
    }
}

/// The same as [`BlockingPool::new`], including when it panics.
impl Default for BlockingPool {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingPool")
            .field("name", &self.name())
            .field("max_workers", &self.max_workers())
            .field("stats", &self.stats())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_pythons() {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        assert_eq!(
            BlockingPoolBuilder::default_max_workers(),
            (cores + 4).min(32)
        );
    }

    #[allow(dead_code)]
    fn is_send_sync_clone<T: Send + Sync + Clone + 'static>() {}

    #[test]
    fn handles_are_send_sync() {
        is_send_sync_clone::<BlockingPool>();
    }
}
