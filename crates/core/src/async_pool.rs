//! [`AsyncPool`]: futures on the Tokio runtime, at most `max_concurrency` at once. Python's
//! asyncio tasks behind a semaphore.

use std::fmt;
use std::future::{Future, poll_fn};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use tokio::runtime::Handle;
use tokio::sync::OwnedSemaphorePermit;

use crate::blocking::{check_max_workers, runtime_handle};
use crate::error::{BuildError, TrySubmitError};
use crate::queue::{Push, WorkQueue};
use crate::shared::{AsyncJob, Refusal, Shared};
use crate::stats::PoolStats;
use crate::task::Task;

/// A pool for async work (HTTP requests, database queries): futures spawned on the Tokio
/// runtime, at most `max_concurrency` of them polled at once.
///
/// Futures beyond the limit wait in a queue without being polled. Each running slot is one
/// Tokio task that awaits queued futures one after another, so a busy pool pays no spawn per
/// future. [`Task::cancel`] drops a future even while it runs.
///
/// `AsyncPool` is a cheap handle: clone it freely. Dropping the last handle lets submitted
/// futures finish.
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
#[derive(Clone)]
pub struct AsyncPool {
    handle: Arc<PoolHandle>,
}

/// The part of a pool whose drop (with the last `AsyncPool`) lets parked workers exit.
struct PoolHandle {
    inner: Arc<Inner>,
}

impl Drop for PoolHandle {
    fn drop(&mut self) {
        self.inner.queue.close();
    }
}

struct Inner {
    shared: Shared,
    queue: WorkQueue<AsyncJob>,
    handle: Handle,
    /// Ids for workers, so that the queue can tell parked workers apart.
    next_worker: AtomicUsize,
}

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

    /// A builder to configure a pool.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::AsyncPool::builder().max_concurrency(8).build().unwrap();
    /// assert_eq!(pool.max_concurrency(), 8);
    /// # }
    /// ```
    pub fn builder() -> AsyncPoolBuilder {
        AsyncPoolBuilder::default()
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
        self.handle.inner.queue.max_workers()
    }

    /// Submits a future to run on the pool and returns its [`Task`].
    ///
    /// Never blocks and never panics. After [`shutdown`](Self::shutdown) the task resolves at
    /// once to an error with [`TaskError::is_shutdown`](crate::TaskError::is_shutdown); with a
    /// full bounded queue, to one with [`TaskError::is_rejected`](crate::TaskError::is_rejected).
    /// A panic while polling the future resolves the task to an error with
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
        match self.handle.inner.shared.try_reserve() {
            Ok(permit) => self.spawn(fut, permit),
            Err(why) => self.handle.inner.shared.refused(why),
        }
    }

    /// Submits a future only if it can be accepted now; otherwise gives it back.
    ///
    /// # Errors
    ///
    /// [`TrySubmitError::Full`] when the bounded queue has no room,
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
        match self.handle.inner.shared.try_reserve() {
            Ok(permit) => Ok(self.spawn(fut, permit)),
            Err(Refusal::Full) => Err(TrySubmitError::Full(fut)),
            Err(Refusal::Shutdown) => Err(TrySubmitError::Shutdown(fut)),
        }
    }

    /// Submits a future, first waiting for room in the pool's bounded queue.
    ///
    /// This waits for a place in the queue, not for the task. Without a bounded queue it
    /// returns at once.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before it completes, `fut` is dropped unsubmitted.
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
        match self.handle.inner.shared.reserve().await {
            Ok(permit) => self.spawn(fut, permit),
            Err(why) => self.handle.inner.shared.refused(why),
        }
    }

    fn spawn<Fut>(&self, fut: Fut, permit: Option<OwnedSemaphorePermit>) -> Task<Fut::Output>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let inner = &self.handle.inner;
        inner
            .shared
            .future_task(fut, permit, |job| match inner.queue.push(job) {
                Push::StartWorker(first) => {
                    let id = inner.next_worker.fetch_add(1, Ordering::Relaxed);
                    drop(inner.handle.spawn(work(Arc::clone(inner), id, first)));
                    Ok(())
                }
                Push::Queued => Ok(()),
                Push::Closed(job) => Err(job),
            })
    }

    fn close(&self) {
        self.handle.inner.shared.close();
        self.handle.inner.queue.close();
    }

    /// Shuts the pool down gracefully: stops accepting work at once, and the returned future
    /// completes when every queued and running future has finished.
    ///
    /// Idempotent. Work is refused from the moment of the call, even if the future is never
    /// awaited.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::AsyncPool::new();
    /// let task = pool.submit(async { 1 });
    /// pool.shutdown().await;
    /// assert!(task.is_finished());
    /// assert!(pool.submit(async { 2 }).await.unwrap_err().is_shutdown());
    /// # }
    /// ```
    pub fn shutdown(&self) -> impl Future<Output = ()> + Send + 'static {
        self.close();
        self.stopped()
    }

    /// Shuts the pool down now: stops accepting work, cancels queued futures, drops running
    /// ones at their current await point, and completes when all are gone.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::AsyncPool::new();
    /// let task = pool.submit(std::future::pending::<()>());
    /// pool.shutdown_now().await;
    /// assert!(task.await.unwrap_err().is_cancelled());
    /// # }
    /// ```
    pub fn shutdown_now(&self) -> impl Future<Output = ()> + Send + 'static {
        self.close();
        self.handle.inner.shared.kill();
        drop(self.handle.inner.queue.take_queued());
        self.stopped()
    }

    fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let inner = Arc::clone(&self.handle.inner);
        async move { inner.shared.drained().await }
    }

    /// Whether the pool was shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::AsyncPool::new();
    /// let _ = pool.shutdown();
    /// assert!(pool.is_shutdown());
    /// # }
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.handle.inner.shared.is_shutdown()
    }

    /// A snapshot of the pool's task counters.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::AsyncPool::new();
    /// pool.submit(async {}).await.unwrap();
    /// assert_eq!(pool.stats().completed, 1);
    /// # }
    /// ```
    pub fn stats(&self) -> PoolStats {
        self.handle.inner.shared.stats()
    }

    /// The pool's name, as it appears in each task's `tracing` span.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// assert_eq!(futurepool_core::AsyncPool::new().name(), "async");
    /// # }
    /// ```
    pub fn name(&self) -> &str {
        &self.handle.inner.shared.name
    }
}

/// A running slot: awaits `job`, then queued jobs, parking while the queue is empty, until the
/// pool is closed (or its last handle dropped) and the queue empty, or shut down now.
async fn work(inner: Arc<Inner>, id: usize, mut first: Option<AsyncJob>) {
    // Polled once, this registers the worker to be woken by `shutdown_now`; from then on a
    // flag check per poll suffices, cheaper than polling the token's future again.
    let killed = inner.shared.kill.clone().cancelled_owned();
    tokio::pin!(killed);
    let mut alive = poll_fn(|cx| Poll::Ready(killed.as_mut().poll(cx).is_pending())).await;
    let mut parked = false;
    while alive {
        let mut job = match first.take() {
            Some(job) => job,
            None => match poll_fn(|cx| inner.queue.poll_next(id, &mut parked, cx)).await {
                Some(job) => job,
                None => return,
            },
        };
        alive = poll_fn(|cx| {
            if inner.shared.is_killed() {
                Poll::Ready(false)
            } else {
                job.run.as_mut().poll(cx).map(|()| true)
            }
        })
        .await;
        if alive {
            job.retire();
            // Let other runtime tasks in between queued futures that never yield on their own.
            tokio::task::consume_budget().await;
        }
    }
    // Shut down now: the queue is closed, so this drops what is left and retires the worker.
    drop(first);
    while let Some(queued) = poll_fn(|cx| inner.queue.poll_next(id, &mut parked, cx)).await {
        drop(queued);
    }
}

/// The same as [`AsyncPool::new`], including when it panics.
impl Default for AsyncPool {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for AsyncPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncPool")
            .field("name", &self.name())
            .field("max_concurrency", &self.max_concurrency())
            .field("stats", &self.stats())
            .finish()
    }
}

/// Configures and builds an [`AsyncPool`]; every setting has a documented default.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = futurepool_core::AsyncPool::builder()
///     .max_concurrency(32)
///     .name("crawler")
///     .build()
///     .unwrap();
/// assert_eq!(pool.name(), "crawler");
/// # }
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct AsyncPoolBuilder {
    max_concurrency: Option<usize>,
    name: Option<String>,
    queue_capacity: Option<usize>,
    handle: Option<Handle>,
}

impl AsyncPoolBuilder {
    /// The default `max_concurrency`.
    pub const DEFAULT_MAX_CONCURRENCY: usize = 64;

    /// The most futures polled at once [default: [`DEFAULT_MAX_CONCURRENCY`](Self::DEFAULT_MAX_CONCURRENCY)].
    ///
    /// Zero is refused by [`build`](Self::build).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::AsyncPool::builder().max_concurrency(1).build().unwrap();
    /// assert_eq!(pool.max_concurrency(), 1);
    /// # }
    /// ```
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = Some(n);
        self
    }

    /// The pool's name, shown in `tracing` spans [default: `"async"`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::AsyncPool::builder().name("net").build().unwrap();
    /// assert_eq!(pool.name(), "net");
    /// # }
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Bounds how many futures may wait for a slot [default: unbounded].
    ///
    /// See [`BlockingPoolBuilder::queue_capacity`](crate::BlockingPoolBuilder::queue_capacity)
    /// for what a bound changes.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::AsyncPool::builder().queue_capacity(100).build().unwrap();
    /// # drop(pool);
    /// # }
    /// ```
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = Some(n);
        self
    }

    /// The runtime the futures are spawned on [default: the runtime current when
    /// [`build`](Self::build) is called].
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// let pool = futurepool_core::AsyncPool::builder()
    ///     .handle(runtime.handle().clone())
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(pool.submit(async { 9 }).blocking_wait().unwrap(), 9);
    /// ```
    pub fn handle(mut self, handle: Handle) -> Self {
        self.handle = Some(handle);
        self
    }

    /// Builds the pool.
    ///
    /// # Errors
    ///
    /// A [`BuildError`] when `max_concurrency` is zero, or when no runtime handle was given and
    /// the call is not inside a Tokio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = futurepool_core::AsyncPool::builder().build().unwrap_err();
    /// assert!(err.to_string().contains("Tokio runtime"));
    /// ```
    pub fn build(self) -> Result<AsyncPool, BuildError> {
        let max = check_max_workers(self.max_concurrency, || Self::DEFAULT_MAX_CONCURRENCY)
            .map_err(|_| BuildError::new("max_concurrency must be at least 1, got 0"))?;
        let handle = runtime_handle(self.handle, "AsyncPool")?;
        let name: Arc<str> = self.name.as_deref().unwrap_or("async").into();
        Ok(AsyncPool {
            handle: Arc::new(PoolHandle {
                inner: Arc::new(Inner {
                    shared: Shared::new(name, max, self.queue_capacity),
                    queue: WorkQueue::new(max),
                    handle,
                    next_worker: AtomicUsize::new(0),
                }),
            }),
        })
    }
}
