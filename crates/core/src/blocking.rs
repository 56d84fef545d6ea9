//! [`BlockingPool`]: blocking closures on Tokio's blocking threads, at most `max_workers` at
//! once. Python's `ThreadPoolExecutor`.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use crate::closure_pool::closure_pool_api;
use crate::error::{BuildError, TrySubmitError};
use crate::executor::Executor;
use crate::queue::{Push, WorkQueue};
use crate::shared::{Job, Refusal, Shared};
use crate::stats::PoolStats;
use crate::task::Task;

/// A pool for blocking closures (file and network I/O, blocking client libraries, FFI):
/// Python's `ThreadPoolExecutor`, on Tokio's `spawn_blocking` threads.
///
/// At most `max_workers` closures of the pool run at once. The rest wait in a queue that holds
/// no thread: each worker is one `spawn_blocking` call that runs queued closures one after
/// another until the queue is empty, so a busy pool pays one spawn per worker, not per task.
/// The async runtime's own worker threads are never used.
///
/// `BlockingPool` is a cheap handle: clone it freely. Dropping the last handle lets submitted
/// tasks finish.
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
    inner: Arc<Inner>,
}

struct Inner {
    shared: Shared,
    queue: WorkQueue<Job>,
    handle: Handle,
}

/// How many times a worker looks for more work before it gives its thread back.
const SPIN_ROUNDS: u32 = 64;

impl BlockingPool {
    const PREFERS_BATCHING: bool = false;

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
        BlockingPoolBuilder::default()
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
        self.inner.queue.max_workers()
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    fn spawn<F, T>(
        &self,
        f: F,
        permit: Option<OwnedSemaphorePermit>,
        token: Option<CancellationToken>,
    ) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.inner
            .shared
            .closure_task(f, permit, token, |job| match self.inner.queue.push(job) {
                Push::StartWorker(first) => {
                    let inner = Arc::clone(&self.inner);
                    drop(self.inner.handle.spawn_blocking(move || inner.work(first)));
                    Ok(())
                }
                Push::Queued => Ok(()),
                Push::Closed(job) => Err(job),
            })
    }

    fn close(&self) {
        self.inner.shared.close();
        self.inner.queue.close();
    }

    fn drop_queued(&self) {
        drop(self.inner.queue.take_queued());
    }

    fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        async move { inner.shared.drained().await }
    }
}

impl Inner {
    /// A worker: runs `first`, then queued jobs, until the queue stays empty.
    fn work(&self, mut first: Option<Job>) {
        loop {
            let job = match first.take() {
                Some(job) => job,
                None => match self.next_job() {
                    Some(job) => job,
                    None => return,
                },
            };
            job.run();
        }
    }

    /// The next queued job, looking a little before giving up; `None`: the worker must exit.
    fn next_job(&self) -> Option<Job> {
        if !self.queue.has_jobs() {
            // Work often arrives in bursts: look for more a little before giving the thread
            // back, which saves a `spawn_blocking` (and a thread wake-up) per task.
            for round in 0..SPIN_ROUNDS {
                if self.queue.has_jobs() {
                    break;
                }
                if round < SPIN_ROUNDS / 2 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
        self.queue.next()
    }
}

closure_pool_api!(BlockingPool, "BlockingPool::new()");

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

/// Configures and builds a [`BlockingPool`]; every setting has a documented default.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = futurepool_core::BlockingPool::builder()
///     .max_workers(16)
///     .name("db")
///     .queue_capacity(1_000)
///     .build()
///     .unwrap();
/// assert_eq!(pool.name(), "db");
/// # }
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct BlockingPoolBuilder {
    max_workers: Option<usize>,
    name: Option<String>,
    queue_capacity: Option<usize>,
    handle: Option<Handle>,
}

impl BlockingPoolBuilder {
    /// The default `max_workers`: `min(32, cores + 4)`, as Python's `ThreadPoolExecutor`.
    ///
    /// # Examples
    ///
    /// ```
    /// let n = futurepool_core::BlockingPoolBuilder::default_max_workers();
    /// assert!((5..=32).contains(&n));
    /// ```
    pub fn default_max_workers() -> usize {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        (cores + 4).min(32)
    }

    /// The most closures that run at once [default: [`default_max_workers`](Self::default_max_workers)].
    ///
    /// Zero is refused by [`build`](Self::build).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::builder().max_workers(1).build().unwrap();
    /// assert_eq!(pool.max_workers(), 1);
    /// # }
    /// ```
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n);
        self
    }

    /// The pool's name, shown in `tracing` spans [default: `"blocking"`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::builder().name("io").build().unwrap();
    /// assert_eq!(pool.name(), "io");
    /// # }
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Bounds how many tasks may wait for a worker [default: unbounded, as Python].
    ///
    /// With a bound, [`BlockingPool::submit_wait`] waits for room, [`BlockingPool::try_submit`]
    /// reports a full queue, and [`BlockingPool::submit`] resolves the task to an error with
    /// [`TaskError::is_rejected`](crate::TaskError::is_rejected). Running tasks do not count. Zero means no task may wait:
    /// only `max_workers` tasks can be in the pool at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::builder().queue_capacity(64).build().unwrap();
    /// # drop(pool);
    /// # }
    /// ```
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = Some(n);
        self
    }

    /// The runtime whose blocking threads run the pool's closures [default: the runtime
    /// current when [`build`](Self::build) is called].
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// // built outside any runtime, thanks to the explicit handle:
    /// let pool = futurepool_core::BlockingPool::builder()
    ///     .handle(runtime.handle().clone())
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(pool.submit(|| 5).blocking_wait().unwrap(), 5);
    /// ```
    pub fn handle(mut self, handle: Handle) -> Self {
        self.handle = Some(handle);
        self
    }

    /// Builds the pool.
    ///
    /// # Errors
    ///
    /// A [`BuildError`] when `max_workers` is zero, or when no runtime handle was given and
    /// the call is not inside a Tokio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// // outside a runtime, without a handle:
    /// let err = futurepool_core::BlockingPool::builder().build().unwrap_err();
    /// assert!(err.to_string().contains("Tokio runtime"));
    /// ```
    pub fn build(self) -> Result<BlockingPool, BuildError> {
        let max_workers = check_max_workers(self.max_workers, Self::default_max_workers)?;
        let handle = runtime_handle(self.handle, "BlockingPool")?;
        let name: Arc<str> = self.name.as_deref().unwrap_or("blocking").into();
        Ok(BlockingPool {
            inner: Arc::new(Inner {
                shared: Shared::new(name, max_workers, self.queue_capacity),
                queue: WorkQueue::new(max_workers),
                handle,
            }),
        })
    }
}

/// The chosen `max_workers`, or the default; zero is an error.
pub(crate) fn check_max_workers(
    chosen: Option<usize>,
    default: impl FnOnce() -> usize,
) -> Result<usize, BuildError> {
    match chosen {
        Some(0) => Err(BuildError::new("max_workers must be at least 1, got 0")),
        Some(n) => Ok(n),
        None => Ok(default()),
    }
}

/// The given runtime handle, or the current one; an error outside a runtime.
pub(crate) fn runtime_handle(given: Option<Handle>, pool: &str) -> Result<Handle, BuildError> {
    match given {
        Some(handle) => Ok(handle),
        None => Handle::try_current().map_err(|_| {
            BuildError::new(format!(
                "{pool} must be built inside a Tokio runtime, or given one with `.handle(..)`"
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_workers_is_an_error() {
        assert_eq!(
            check_max_workers(Some(0), || 4).unwrap_err().to_string(),
            "max_workers must be at least 1, got 0"
        );
        assert_eq!(check_max_workers(None, || 4), Ok(4));
    }

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
