//! [`RemotePool`]: submit registered functions to workers anywhere, through NATS JetStream.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use futurepool_core::{PoolStats, Promise, Task, TaskError};
use futurepool_stream::{Map, MapInput, MapUnordered, SubmitFn, map_tasks, map_tasks_unordered};
use futurepool_worker::{Failure, Registry, RemoteFn, codec};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use crate::builder::RemotePoolBuilder;
use crate::driver::drive;
use crate::shared::Shared;
use crate::wire::task_error;

/// The submit function inside a [`RemotePool`] map stream.
pub type RemoteSubmit<A, R> = Box<dyn FnMut(A) -> Task<R> + Send>;

/// The read-ahead bound of a map stream unless set with `.buffer(n)`.
const MAP_BUFFER: usize = 64;

/// A pool whose tasks run on [`Worker`](crate::Worker)s anywhere, through a NATS JetStream
/// server: Python's dask `Client.get_executor()`, with the same [`Task`], `as_completed`, `wait`
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

    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Submits `f(arg)`: publishes the task to the namespace's stream and returns its [`Task`]
    /// at once. Never blocks, and works from any thread (the publishing runs on the runtime
    /// the pool was built on): when the server is briefly away, publishing is retried with the
    /// same message id (so the server stores the task once).
    ///
    /// A function missing from the pool's registry, or an argument that does not encode,
    /// resolves at once to `is_invalid()`; after shutdown, to `is_shutdown()`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use futurepool_remote::RemotePool;
    /// # use futurepool_worker::{Registry, RemoteFn};
    /// fn add((a, b): (i64, i64)) -> i64 { a + b }
    /// const ADD: RemoteFn<(i64, i64), i64> = RemoteFn::new("add", add);
    /// # async fn f(pool: RemotePool) {
    /// let task = pool.submit(ADD, (40, 2));
    /// assert_eq!(task.await.unwrap(), 42);
    /// # }
    /// ```
    pub fn submit<A, R>(&self, f: RemoteFn<A, R>, arg: A) -> Task<R>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        let shared = &self.shared;
        let counters = &shared.counters;
        if shared.shut.load(Ordering::Acquire) {
            counters.rejected.fetch_add(1, Ordering::Relaxed);
            return Task::ready(Err(TaskError::shutdown()));
        }
        counters.submitted.fetch_add(1, Ordering::Relaxed);
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let payload = match self.encode_call(f, id, &arg) {
            Ok(payload) => payload,
            Err(failure) => {
                counters.failed.fetch_add(1, Ordering::Relaxed);
                return Task::ready(Err(task_error(failure)));
            }
        };
        let (promise, task) = Promise::new();
        let (tx, rx) = oneshot::channel();
        shared.waiting.insert(id, tx);
        counters.outstanding.fetch_add(1, Ordering::AcqRel);
        counters.unpublished.fetch_add(1, Ordering::AcqRel);
        shared
            .runtime
            .spawn(drive(Arc::clone(shared), f, id, payload, rx, promise));
        task
    }

    /// The encoded call of `f(arg)`, after checking that `f` is in the pool's registry.
    fn encode_call<A: Serialize, R>(
        &self,
        f: RemoteFn<A, R>,
        id: u64,
        arg: &A,
    ) -> Result<Vec<u8>, Failure> {
        let wanted = f.signature();
        match self.shared.registry.signature(f.name()) {
            Some(known) if known.matches(&wanted) => {}
            Some(known) => {
                return Err(Failure::Invalid(format!(
                    "function `{}` has other types in the pool's registry: it holds {known}, the task wants {wanted}",
                    f.name()
                )));
            }
            None => {
                return Err(Failure::Invalid(format!(
                    "function `{}` is not in the pool's registry (add it with `Registry::with`)",
                    f.name()
                )));
            }
        }
        let call = f.call(id, arg)?;
        codec::encode(&call).map_err(|e| {
            Failure::Invalid(format!("the call of `{}` failed to encode: {e}", f.name()))
        })
    }

    /// Runs `f` on every item of `items` (an iterator or a stream) on the workers; yields the
    /// results in input order. Lazy and bounded: at most 64 items are submitted ahead of the
    /// consumer (`.buffer(n)` sets it); dropping the stream cancels the tasks not finished.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use futurepool_remote::RemotePool;
    /// # use futurepool_worker::RemoteFn;
    /// use futures_util::StreamExt;
    /// fn square(n: u64) -> u64 { n * n }
    /// const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
    /// # async fn f(pool: RemotePool) {
    /// let squares: Vec<u64> = pool.map(SQUARE, 0..10u64).map(Result::unwrap).collect().await;
    /// assert_eq!(squares[9], 81);
    /// # }
    /// ```
    pub fn map<A, R, In, Kind>(
        &self,
        f: RemoteFn<A, R>,
        items: In,
    ) -> Map<SubmitFn<RemoteSubmit<A, R>>, In::Stream>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
        In: MapInput<Kind, Item = A>,
    {
        map_tasks(self.submitter(f), items).buffer(MAP_BUFFER)
    }

    /// Like [`map`](Self::map), but yields the results as they complete.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use futurepool_remote::RemotePool;
    /// # use futurepool_worker::RemoteFn;
    /// use futures_util::StreamExt;
    /// fn double(n: u32) -> u32 { 2 * n }
    /// const DOUBLE: RemoteFn<u32, u32> = RemoteFn::new("double", double);
    /// # async fn f(pool: RemotePool) {
    /// let mut out: Vec<u32> = pool.map_unordered(DOUBLE, 1..=4).map(Result::unwrap).collect().await;
    /// out.sort();
    /// assert_eq!(out, [2, 4, 6, 8]);
    /// # }
    /// ```
    pub fn map_unordered<A, R, In, Kind>(
        &self,
        f: RemoteFn<A, R>,
        items: In,
    ) -> MapUnordered<SubmitFn<RemoteSubmit<A, R>>, In::Stream>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
        In: MapInput<Kind, Item = A>,
    {
        map_tasks_unordered(self.submitter(f), items).buffer(MAP_BUFFER)
    }

    fn submitter<A, R>(&self, f: RemoteFn<A, R>) -> RemoteSubmit<A, R>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        let pool = self.clone();
        Box::new(move |arg| pool.submit(f, arg))
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
        self.shared.shut.store(true, Ordering::Release);
        let shared = Arc::clone(&self.shared);
        async move {
            shared.until_zero(&shared.counters.outstanding).await;
            shared.stop_listener.cancel();
        }
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
        self.shared.shut.store(true, Ordering::Release);
        self.shared.abort.cancel();
        self.shared.waiting.clear();
        let shared = Arc::clone(&self.shared);
        async move {
            shared.until_zero(&shared.counters.outstanding).await;
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
        self.shared.shut.load(Ordering::Acquire)
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
        self.shared.stats()
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
