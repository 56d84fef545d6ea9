//! [`AsyncPool`]: futures on the Tokio runtime, at most `max_concurrency` at once. Python's
//! asyncio tasks behind a semaphore.

mod builder;
mod fallible;

pub use builder::AsyncPoolBuilder;

use std::future::{Future, poll_fn};
use std::sync::Arc;
use std::task::Poll;

use tokio::runtime::Handle;

use crate::error::{TaskError, TrySubmitError};
use crate::handle::Pool;
use crate::kind::Futures;
use crate::pool::{Runner, WorkerSlot};
use crate::priority::Priority;
use crate::task::{Body, Job, Task};

/// A pool for async work (HTTP requests, database queries): futures spawned on the Tokio
/// runtime, at most `max_concurrency` of them polled at once.
///
/// Futures beyond the limit wait in a queue without being polled. Each running slot is one
/// Tokio task that awaits queued futures one after another, so a busy pool pays no spawn per
/// future. [`Task::cancel`] drops a future even while it runs.
///
/// `AsyncPool` is an alias of [`Pool`], the handle type of every pool, which documents the
/// methods all pools share; a cheap handle: clone it freely. Dropping the last handle lets
/// submitted futures finish.
///
/// # Examples
///
/// ```
/// use futurepool_core::AsyncPool;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = AsyncPool::builder().max_concurrency(64).name("net").build().unwrap();
/// let task = pool.submit(async {
///     tokio::task::yield_now().await; // e.g. an HTTP request
///     200u16
/// });
/// assert_eq!(task.await.unwrap(), 200);
/// # }
/// ```
pub type AsyncPool = Pool<Futures>;

/// Starts workers as Tokio tasks.
pub(crate) struct Async {
    handle: Handle,
}

impl Runner for Async {
    fn start_worker(&self, slot: WorkerSlot<Self>, first: Option<Job>) {
        // After the runtime shut down, Tokio drops the future unpolled: the slot's `Drop`
        // then shuts the pool down and the job's cancels its task. The same happens to every
        // worker when the runtime shuts down later.
        drop(self.handle.spawn(work(slot, first)));
    }
}

/// A worker: awaits `first`, then queued futures one after another, parking while the queue
/// is empty, until the pool is drained, or shut down now.
async fn work(mut slot: WorkerSlot<Async>, mut first: Option<Job>) {
    let core = Arc::clone(slot.core());
    // Polled once, this registers the worker to be woken by `shutdown_now`; from then on a
    // flag check per poll suffices, cheaper than polling the token's future again.
    let killed = core.kill_token().clone().cancelled_owned();
    tokio::pin!(killed);
    poll_fn(|cx| {
        let _ = killed.as_mut().poll(cx);
        Poll::Ready(())
    })
    .await;
    let mut parked = false;
    loop {
        let mut job = match first.take() {
            Some(job) => job,
            None => match poll_fn(|cx| slot.poll_next(&mut parked, cx)).await {
                Some(job) => job,
                None => return,
            },
        };
        poll_fn(|cx| {
            if core.is_killed() {
                Poll::Ready(())
            } else {
                job.poll_run(cx)
            }
        })
        .await;
        // Dropping the job ends the task: a future dropped mid-run is cancelled.
        drop(job);
        // Let other runtime tasks in between queued futures that never yield on their own.
        tokio::task::consume_budget().await;
    }
}

/// What only an [`AsyncPool`] has: submitting futures. Shutdown, stats and the name are on
/// [`Pool`], shared with the closure pools.
impl AsyncPool {
    /// A pool with the default settings of [`AsyncPoolBuilder`].
    ///
    /// # Panics
    ///
    /// Panics when called outside a Tokio runtime; use [`AsyncPool::builder`] to get an error
    /// instead.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::AsyncPool::new();
    /// assert_eq!(pool.max_concurrency(), futurepool_core::AsyncPoolBuilder::DEFAULT_MAX_CONCURRENCY);
    /// # }
    /// ```
    pub fn new() -> Self {
        match Self::builder().build() {
            Ok(pool) => pool,
            Err(e) => panic!("AsyncPool::new: {e}"),
        }
    }

    /// The most futures this pool polls at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::AsyncPool::builder().max_concurrency(4).build().unwrap();
    /// assert_eq!(pool.max_concurrency(), 4);
    /// # }
    /// ```
    pub fn max_concurrency(&self) -> usize {
        self.core().queue.max_workers()
    }

    /// Submits a future to run on the pool and returns its [`Task`].
    ///
    /// Never blocks and never panics. After [`shutdown`](Self::shutdown) the task resolves at
    /// once to an error with [`TaskError::is_shutdown`](crate::TaskError::is_shutdown); if the
    /// pool has a bounded queue and it is full, to one with
    /// [`TaskError::is_rejected`](crate::TaskError::is_rejected) (use
    /// [`submit_wait`](Self::submit_wait) or [`try_submit`](Self::try_submit) to respect the
    /// bound instead). A panic while polling the future resolves the task to an error with
    /// [`TaskError::is_panic`](crate::TaskError::is_panic); the pool carries on.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::AsyncPool::new();
    /// let task = pool.submit(async { "fetched" });
    /// assert_eq!(task.await.unwrap(), "fetched");
    /// # }
    /// ```
    pub fn submit<Fut>(&self, fut: Fut) -> Task<Fut::Output>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.core()
            .submit(Priority::NORMAL, Body::future(fut), None)
    }

    /// Submits a future whose output is already a task outcome: `Ok(value)` resolves the
    /// task to `value`, `Err(error)` to that [`TaskError`].
    ///
    /// This is how a pool built on an `AsyncPool` (a process pool whose worker crashed, a
    /// remote pool whose task timed out) reports its own failures through the same `Task`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::TaskError;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::AsyncPool::new();
    /// let task = pool.submit_fallible(async { Err::<u32, _>(TaskError::crashed("exit code 3")) });
    /// assert!(task.await.unwrap_err().is_crashed());
    /// let task = pool.submit_fallible(async { Ok::<_, TaskError>(5) });
    /// assert_eq!(task.await.unwrap(), 5);
    /// # }
    /// ```
    pub fn submit_fallible<Fut, T>(&self, fut: Fut) -> Task<T>
    where
        Fut: Future<Output = Result<T, TaskError>> + Send + 'static,
        T: Send + 'static,
    {
        self.core()
            .submit(Priority::NORMAL, Body::fallible_future(fut), None)
    }

    /// Submits a future only if it can be accepted now; otherwise gives it back.
    ///
    /// # Errors
    ///
    /// [`TrySubmitError::Full`] when the pool's bounded queue has no room,
    /// [`TrySubmitError::Shutdown`] after shutdown; both hold the future.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::AsyncPool::builder().queue_capacity(10).build().unwrap();
    /// let task = pool.try_submit(async { 1 }).unwrap();
    /// assert_eq!(task.await.unwrap(), 1);
    /// # }
    /// ```
    pub fn try_submit<Fut>(&self, fut: Fut) -> Result<Task<Fut::Output>, TrySubmitError<Fut>>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.core().try_submit(Priority::NORMAL, fut, Body::future)
    }

    /// Submits a future like [`submit`](Self::submit), at `priority`: among the pool's queued
    /// futures, a higher priority starts first, and equal priorities in submission order.
    ///
    /// A running future is never interrupted, and with a slot free it starts at once. See
    /// [`Priority`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{AsyncPool, Priority};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = AsyncPool::builder().max_concurrency(1).build().unwrap();
    /// let prefetch = pool.submit_with_priority(Priority::LOW, async { "prefetched" });
    /// let page = pool.submit_with_priority(Priority::HIGH, async { "page" });
    /// assert_eq!(page.await.unwrap(), "page");
    /// assert_eq!(prefetch.await.unwrap(), "prefetched");
    /// # }
    /// ```
    pub fn submit_with_priority<Fut>(&self, priority: Priority, fut: Fut) -> Task<Fut::Output>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.core().submit(priority, Body::future(fut), None)
    }

    /// Submits a future whose output is already a task outcome, at `priority`:
    /// [`submit_fallible`](Self::submit_fallible) with a [`Priority`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{AsyncPool, Priority, TaskError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = AsyncPool::new();
    /// let task = pool.submit_fallible_with_priority(Priority::HIGH, async { Ok::<_, TaskError>(5) });
    /// assert_eq!(task.await.unwrap(), 5);
    /// # }
    /// ```
    pub fn submit_fallible_with_priority<Fut, T>(&self, priority: Priority, fut: Fut) -> Task<T>
    where
        Fut: Future<Output = Result<T, TaskError>> + Send + 'static,
        T: Send + 'static,
    {
        self.core()
            .submit(priority, Body::fallible_future(fut), None)
    }

    /// Submits a future at `priority` only if it can be accepted now; otherwise gives it back:
    /// [`try_submit`](Self::try_submit) with a [`Priority`].
    ///
    /// # Errors
    ///
    /// [`TrySubmitError::Full`] when the pool's bounded queue has no room,
    /// [`TrySubmitError::Shutdown`] after shutdown; both hold the future.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{AsyncPool, Priority};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = AsyncPool::builder().queue_capacity(10).build().unwrap();
    /// let task = pool.try_submit_with_priority(Priority::LOW, async { 1 }).unwrap();
    /// assert_eq!(task.await.unwrap(), 1);
    /// # }
    /// ```
    pub fn try_submit_with_priority<Fut>(
        &self,
        priority: Priority,
        fut: Fut,
    ) -> Result<Task<Fut::Output>, TrySubmitError<Fut>>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.core().try_submit(priority, fut, Body::future)
    }

    /// Submits a future, first waiting for room in the pool's bounded queue.
    ///
    /// This waits for a place in the queue, not for the task: await the returned [`Task`]
    /// for that. Without a bounded queue it returns at once. If the pool shuts down while
    /// waiting, the task resolves to an error with
    /// [`TaskError::is_shutdown`](crate::TaskError::is_shutdown).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, `fut` is dropped unsubmitted
    /// and no place in the queue is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::AsyncPool::builder()
    ///     .max_concurrency(2)
    ///     .queue_capacity(4)
    ///     .build()
    ///     .unwrap();
    /// let mut tasks = Vec::new();
    /// for i in 0..20u32 {
    ///     tasks.push(pool.submit_wait(async move { i }).await);
    /// }
    /// assert_eq!(futures::future::try_join_all(tasks).await.unwrap().len(), 20);
    /// # }
    /// ```
    pub async fn submit_wait<Fut>(&self, fut: Fut) -> Task<Fut::Output>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.core()
            .submit_wait(Priority::NORMAL, Body::future(fut))
            .await
    }

    /// Submits a future at `priority`, first waiting for room in the pool's bounded queue:
    /// [`submit_wait`](Self::submit_wait) with a [`Priority`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, `fut` is dropped unsubmitted
    /// and no place in the queue is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{AsyncPool, Priority};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = AsyncPool::builder().max_concurrency(1).queue_capacity(2).build().unwrap();
    /// let task = pool.submit_wait_with_priority(Priority::LOW, async { 3 }).await;
    /// assert_eq!(task.await.unwrap(), 3);
    /// # }
    /// ```
    pub async fn submit_wait_with_priority<Fut>(
        &self,
        priority: Priority,
        fut: Fut,
    ) -> Task<Fut::Output>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.core().submit_wait(priority, Body::future(fut)).await
    }
}

/// The same as [`AsyncPool::new`], including when it panics.
impl Default for AsyncPool {
    fn default() -> Self {
        Self::new()
    }
}
