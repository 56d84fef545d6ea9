//! [`RemotePool`]: submit registered functions to workers anywhere, through NATS JetStream.

mod builder;
mod chunk;
mod driver;
mod listener;
mod maps;
mod shared;
mod submit;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use futurepool_core::{AsyncPool, PoolStats};
use futurepool_worker::Registry;

pub use builder::RemotePoolBuilder;
pub use maps::{RemoteChunks, RemoteSubmit, RemoteSubmitChunk};
use shared::Shared;

/// A pool whose tasks run on [`Worker`](crate::Worker)s anywhere, through a NATS JetStream
/// server: Python's dask `Client.get_executor()`, with the same [`Task`](futurepool_core::Task), `as_completed`, `wait`
/// and map streams as the local pools. A cheap `Clone` handle.
///
/// Every submitted task runs at least once and its `Task` resolves exactly once: a worker that
/// dies mid-task loses nothing (the server hands the task to another worker after `ack_wait`),
/// the first answer wins and later ones (a second run) are dropped and counted
/// ([`duplicates`](Self::duplicates)). Tasks may therefore run twice: make them idempotent.
///
/// # Examples
///
/// ```no_run
/// use futurepool_remote::RemotePool;
/// use futurepool_worker::{Registry, RemoteFn};
///
/// fn square(n: u64) -> u64 { n * n }
/// const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
///
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = RemotePool::builder(Registry::new().with(SQUARE))
///     .url("nats://127.0.0.1:4222")
///     .build()
///     .await?;
/// assert_eq!(pool.submit(SQUARE, 7).await?, 49); // once a worker of namespace "futurepool" runs
/// pool.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RemotePool {
    /// Runs each task's driver: the tasks' lifecycle, counts, bounded room and cancellation.
    tasks: AsyncPool,
    shared: Arc<Shared>,
}

impl RemotePool {
    /// A builder for a pool over `registry` (the functions tasks may name).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = futurepool_remote::RemotePool::builder(futurepool_worker::Registry::new());
    /// # drop(builder);
    /// ```
    pub fn builder(registry: Registry) -> RemotePoolBuilder {
        RemotePoolBuilder::new(registry)
    }

    pub(crate) fn from_parts(tasks: AsyncPool, shared: Arc<Shared>) -> Self {
        Self { tasks, shared }
    }

    /// Stops accepting tasks and returns once every submitted task has resolved (each waits
    /// for its worker's answer). Takes effect when called; idempotent.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(pool: futurepool_remote::RemotePool) {
    /// pool.shutdown().await;
    /// assert!(pool.is_shutdown());
    /// # }
    /// ```
    pub fn shutdown(&self) -> impl Future<Output = ()> + Send + 'static {
        let tasks = self.tasks.shutdown();
        self.then_stop(tasks)
    }

    /// Stops accepting tasks and cancels every unresolved one (their messages leave the
    /// stream; an answer that still comes is dropped). Returns once all have resolved.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(pool: futurepool_remote::RemotePool) {
    /// pool.shutdown_now().await;
    /// assert_eq!(pool.stats().queued, 0);
    /// # }
    /// ```
    pub fn shutdown_now(&self) -> impl Future<Output = ()> + Send + 'static {
        let tasks = self.tasks.shutdown_now();
        self.then_stop(tasks)
    }

    /// Once `tasks` (the core's shutdown) is done and the messages of the tasks that ended
    /// unanswered have left the stream, stops the listener.
    fn then_stop(
        &self,
        tasks: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = ()> + Send + 'static {
        let shared = Arc::clone(&self.shared);
        async move {
            tasks.await;
            shared.until_zero(&shared.counters.deleting).await;
            shared.stop_listener.cancel();
        }
    }

    /// Whether `shutdown` or `shutdown_now` was called.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(pool: futurepool_remote::RemotePool) {
    /// assert!(!pool.is_shutdown());
    /// drop(pool.shutdown());
    /// assert!(pool.is_shutdown());
    /// # }
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.tasks.is_shutdown()
    }

    /// A snapshot of the task counters. `running` counts the unresolved tasks a worker has said
    /// it started, `queued` the other unresolved ones. A worker says so once a task has run for
    /// a millisecond (tiny tasks send no notice, and count as queued until they resolve), best
    /// effort; a task whose worker died stays running until it is delivered again and answered.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(pool: futurepool_remote::RemotePool) {
    /// let stats = pool.stats();
    /// assert!(stats.completed <= stats.submitted);
    /// # }
    /// ```
    pub fn stats(&self) -> PoolStats {
        self.shared.stats(|| self.tasks.stats())
    }

    /// Answers that arrived for tasks already resolved or cancelled (a task run again after
    /// a redelivery, or a late answer), dropped.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(pool: futurepool_remote::RemotePool) {
    /// println!("{} duplicate answers dropped", pool.duplicates());
    /// # }
    /// ```
    pub fn duplicates(&self) -> u64 {
        self.shared.waiting.duplicates.load(Ordering::Relaxed)
    }

    /// Returns once the server has stored every task submitted so far (or the task ended
    /// first): from then on they survive this process.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use futurepool_worker::RemoteFn;
    /// # fn square(n: u64) -> u64 { n * n }
    /// # const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
    /// # async fn f(pool: futurepool_remote::RemotePool) {
    /// let task = pool.submit(SQUARE, 3);
    /// pool.flush().await; // stored on the server, whatever happens to this process now
    /// # drop(task);
    /// # }
    /// ```
    pub async fn flush(&self) {
        self.shared
            .until_zero(&self.shared.counters.unpublished)
            .await;
    }

    /// The pool's namespace.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(pool: futurepool_remote::RemotePool) {
    /// assert_eq!(pool.namespace(), "futurepool");
    /// # }
    /// ```
    pub fn namespace(&self) -> &str {
        &self.shared.names.namespace
    }
}

impl std::fmt::Debug for RemotePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemotePool")
            .field("namespace", &self.shared.names.namespace)
            .field("pool_id", &self.shared.pool_id)
            .field("stats", &self.stats())
            .finish()
    }
}
