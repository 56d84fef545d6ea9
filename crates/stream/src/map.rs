//! Lazy, bounded map streams over a pool: [`ExecutorMapExt`] and [`AsyncPoolMapExt`].
//!
//! All four stream types share one engine. It reads the input iterator only when the consumer
//! polls, and never holds more than `buffer` items that were read but not yet yielded (running,
//! queued on the pool, or finished and waiting for their turn). Items may be batched into one
//! pool task ("chunks", counted inside the same bound) when the pool prefers batching or when
//! the user sets a chunk size.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futurepool_core::{AsyncPool, Executor, Task, TaskError};
use futures_util::FutureExt;
use futures_util::stream::{FusedStream, FuturesUnordered, Stream, StreamExt};
use tokio::time::{Instant, Sleep};

/// The largest default read-ahead of a map stream, in items.
///
/// By default a map stream reads at most `min(2 × max_workers, 64)` items ahead of its consumer
/// (64 for pools that prefer batching, such as `CpuPool`, to leave room for chunks). Set another
/// bound with [`Map::buffer`] and its siblings.
///
/// # Examples
///
/// ```
/// assert_eq!(futurepool_stream::DEFAULT_MAX_BUFFER, 64);
/// ```
pub const DEFAULT_MAX_BUFFER: usize = 64;

/// How long an adaptive chunk should take to run; chunks grow until they reach it.
const CHUNK_TARGET: Duration = Duration::from_micros(100);

/// The largest adaptive chunk, in items (the read-ahead bound usually limits it first).
const MAX_ADAPTIVE_CHUNK: usize = 4096;

mod sealed {
    use std::collections::VecDeque;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    use futurepool_core::{Task, TaskError};

    /// What a chunk task returns: each item's outcome, and how long running them took.
    pub struct Chunk<T> {
        pub results: VecDeque<Result<T, TaskError>>,
        pub ran: usize,
        pub elapsed: Duration,
    }

    /// How the engine hands items to a pool.
    pub trait Submit<A> {
        /// What the mapped function returns for one item.
        type Output;

        /// The pool's worker (or concurrency) limit.
        fn workers(&self) -> usize;

        /// Whether the pool prefers many tiny items batched into one task.
        fn batching(&self) -> bool;

        /// Submits one item as its own task.
        fn submit_one(&mut self, item: A) -> Task<Self::Output>;

        /// Submits several items as one task that runs them in order; each item's panic
        /// becomes that item's error, and once `stop` is set the items left are cancelled.
        fn submit_chunk(
            &mut self,
            items: Vec<A>,
            stop: &Arc<AtomicBool>,
        ) -> Task<Chunk<Self::Output>>;
    }
}

use sealed::{Chunk, Submit};

/// A function bound to the pool that runs it, as the map streams hold it.
///
/// Implemented by [`PoolFn`] (an [`Executor`] with a sync function) and [`AsyncPoolFn`] (an
/// [`AsyncPool`] with a function returning a future); it cannot be implemented outside this
/// crate. It appears in the types of [`Map`], [`MapUnordered`], [`TryMap`] and
/// [`TryMapUnordered`].
///
/// # Examples
///
/// ```
/// use futurepool_core::BlockingPool;
/// use futurepool_stream::{ExecutorMapExt, Map, PoolFn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// fn lengths(pool: &BlockingPool, words: Vec<String>)
///     -> Map<PoolFn<BlockingPool, fn(String) -> usize>, std::vec::IntoIter<String>>
/// {
///     pool.map(|w: String| w.len() as usize, words)
/// }
/// let _stream = lengths(&BlockingPool::new(), vec!["a".into()]);
/// # }
/// ```
pub trait MapFn<A>: Submit<A> {}

/// A sync function and the [`Executor`] that runs it; the function half of [`Map`] and friends
/// built by [`ExecutorMapExt`].
///
/// # Examples
///
/// ```
/// use futurepool_core::CpuPool;
/// use futurepool_stream::{ExecutorMapExt, MapUnordered, PoolFn};
///
/// let pool = CpuPool::builder().max_workers(1).build().unwrap();
/// let stream: MapUnordered<PoolFn<CpuPool, _>, _> = pool.map_unordered(|n: u8| n + 1, 0..3);
/// drop(stream);
/// ```
pub struct PoolFn<E, F> {
    pool: E,
    f: Arc<F>,
}

impl<E: Executor, F> fmt::Debug for PoolFn<E, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolFn")
            .field("pool", &self.pool.name())
            .finish_non_exhaustive()
    }
}

impl<E, F, A, T> Submit<A> for PoolFn<E, F>
where
    E: Executor,
    F: Fn(A) -> T + Send + Sync + 'static,
    A: Send + 'static,
    T: Send + 'static,
{
    type Output = T;

    fn workers(&self) -> usize {
        self.pool.max_workers()
    }

    fn batching(&self) -> bool {
        // CORE2: stop-gap until the map/ rewrite; only `CpuPool`'s tiny items are batched.
        std::any::TypeId::of::<E>() == std::any::TypeId::of::<futurepool_core::CpuPool>()
    }

    fn submit_one(&mut self, item: A) -> Task<T> {
        let f = Arc::clone(&self.f);
        self.pool.submit(move || f(item))
    }

    fn submit_chunk(&mut self, items: Vec<A>, stop: &Arc<AtomicBool>) -> Task<Chunk<T>> {
        let f = Arc::clone(&self.f);
        let stop = Arc::clone(stop);
        self.pool.submit(move || {
            let start = std::time::Instant::now();
            let mut results = VecDeque::with_capacity(items.len());
            let mut ran = 0;
            for item in items {
                if stop.load(Ordering::Relaxed) {
                    results.push_back(Err(TaskError::cancelled()));
                    continue;
                }
                ran += 1;
                let result = catch_unwind(AssertUnwindSafe(|| f(item)));
                results.push_back(result.map_err(TaskError::from_panic));
            }
            Chunk {
                results,
                ran,
                elapsed: start.elapsed(),
            }
        })
    }
}

impl<E, F, A, T> MapFn<A> for PoolFn<E, F>
where
    E: Executor,
    F: Fn(A) -> T + Send + Sync + 'static,
    A: Send + 'static,
    T: Send + 'static,
{
}

/// A function returning a future and the [`AsyncPool`] that runs those futures; the function
/// half of [`Map`] and friends built by [`AsyncPoolMapExt`].
///
/// # Examples
///
/// ```
/// use futurepool_core::AsyncPool;
/// use futurepool_stream::{AsyncPoolFn, AsyncPoolMapExt, Map};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = AsyncPool::new();
/// let stream: Map<AsyncPoolFn<_>, _> = pool.map(|n: u8| async move { n + 1 }, 0..3);
/// drop(stream);
/// # }
/// ```
pub struct AsyncPoolFn<F> {
    pool: AsyncPool,
    f: F,
}

impl<F> fmt::Debug for AsyncPoolFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncPoolFn")
            .field("pool", &self.pool.name())
            .finish_non_exhaustive()
    }
}

impl<F, A, Fut, T> Submit<A> for AsyncPoolFn<F>
where
    F: FnMut(A) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    type Output = T;

    fn workers(&self) -> usize {
        self.pool.max_concurrency()
    }

    fn batching(&self) -> bool {
        false
    }

    fn submit_one(&mut self, item: A) -> Task<T> {
        self.pool.submit((self.f)(item))
    }

    fn submit_chunk(&mut self, items: Vec<A>, stop: &Arc<AtomicBool>) -> Task<Chunk<T>> {
        let futures: Vec<Fut> = items.into_iter().map(&mut self.f).collect();
        let stop = Arc::clone(stop);
        self.pool.submit(async move {
            let start = std::time::Instant::now();
            let mut results = VecDeque::with_capacity(futures.len());
            let mut ran = 0;
            for future in futures {
                if stop.load(Ordering::Relaxed) {
                    results.push_back(Err(TaskError::cancelled()));
                    continue;
                }
                ran += 1;
                let result = AssertUnwindSafe(future).catch_unwind().await;
                results.push_back(result.map_err(TaskError::from_panic));
            }
            Chunk {
                results,
                ran,
                elapsed: start.elapsed(),
            }
        })
    }
}

impl<F, A, Fut, T> MapFn<A> for AsyncPoolFn<F>
where
    F: FnMut(A) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
}

/// Map streams for every [`Executor`] (`BlockingPool`, `CpuPool`): Python's `Executor.map`,
/// lazy and bounded.
///
/// Each item becomes `Ok(f(item))`, or an `Err(TaskError)` at the item's own place if `f`
/// panicked or the task was cancelled or refused; later items still run. The input iterator
/// may be infinite: it is read only when the stream is polled, at most `buffer` items ahead of
/// the consumer (by default `min(2 × max_workers, 64)`, or 64 for pools that prefer batching;
/// see [`Map::buffer`]). Dropping the stream cancels the items that have not started.
///
/// On a pool that [prefers batching](Executor::prefers_batching) (`CpuPool`), items are sent
/// in chunks, so that tiny items do not each pay a task round-trip: chunks start at one item
/// and grow while they run in well under 100 µs, so slow items stay unbatched. A chunk counts
/// inside the read-ahead bound with all its items, and is at most `buffer / max_workers` items
/// long, so that every worker has a chunk (with the default bound of 64 and two workers: 32
/// items a chunk). On machines with many cores, a larger [`Map::buffer`] allows larger chunks
/// for tiny items. Set a fixed size with [`Map::chunk_size`]. A panic in one item of a chunk
/// is that item's error only.
///
/// Once an item fails because the pool [is shut down](TaskError::is_shutdown), the stream reads
/// no more input: it yields the errors of the items already read and ends.
///
/// Note that a pool built with a small `queue_capacity` refuses submissions beyond it: such
/// items come out as errors with [`TaskError::is_rejected`]; keep `buffer` within the queue's
/// room.
///
/// # Examples
///
/// ```
/// use futurepool_core::{BlockingPool, CpuPool};
/// use futurepool_stream::ExecutorMapExt;
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let cpu = CpuPool::builder().max_workers(2).build().unwrap();
/// let squares: Vec<u64> = cpu.map(|n: u64| n * n, 0..10).map(Result::unwrap).collect().await;
/// assert_eq!(squares, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
///
/// let io = BlockingPool::new();
/// let mut sizes: Vec<usize> = io
///     .map_unordered(|name: &str| name.len(), ["Cargo.toml", "README"])
///     .map(Result::unwrap)
///     .collect()
///     .await;
/// sizes.sort();
/// assert_eq!(sizes, [6, 10]);
/// # }
/// ```
pub trait ExecutorMapExt: Executor {
    /// Runs `f` on every item on this pool and yields the outcomes in input order.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::BlockingPool;
    /// use futurepool_stream::ExecutorMapExt;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = BlockingPool::new();
    /// let out: Vec<_> = pool
    ///     .map(|n: u32| if n == 1 { panic!("one") } else { n * 10 }, 0..3)
    ///     .collect()
    ///     .await;
    /// assert_eq!(out[0], Ok(0));
    /// assert!(out[1].as_ref().unwrap_err().is_panic()); // the error stays at its place
    /// assert_eq!(out[2], Ok(20));
    /// # }
    /// ```
    fn map<I, F, T>(&self, f: F, items: I) -> Map<PoolFn<Self, F>, I::IntoIter>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        Map::new(pool_fn(self, f), items.into_iter())
    }

    /// Runs `f` on every item on this pool and yields the outcomes as they finish.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::CpuPool;
    /// use futurepool_stream::ExecutorMapExt;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = CpuPool::builder().max_workers(2).build().unwrap();
    /// let mut out: Vec<u32> = pool.map_unordered(|n: u32| n + 1, 0..4).map(Result::unwrap).collect().await;
    /// out.sort();
    /// assert_eq!(out, [1, 2, 3, 4]);
    /// # }
    /// ```
    fn map_unordered<I, F, T>(&self, f: F, items: I) -> MapUnordered<PoolFn<Self, F>, I::IntoIter>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        MapUnordered::new(pool_fn(self, f), items.into_iter())
    }

    /// Like [`map`](Self::map) for a fallible `f`: yields `Ok` values in input order and stops at
    /// the first error, cancelling the items still pending.
    ///
    /// The first error in input order, whether `f`'s own `Err` or a [`TaskError`] converted with
    /// `From`, is yielded after all items before it, and then the stream ends: items after it
    /// that have not started are cancelled and the input is read no further.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::CpuPool;
    /// use futurepool_stream::ExecutorMapExt;
    /// use futures_util::StreamExt;
    ///
    /// type Error = Box<dyn std::error::Error + Send + Sync>;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = CpuPool::builder().max_workers(2).build().unwrap();
    /// let parse = |s: &str| s.parse::<u32>().map_err(Error::from);
    /// let out: Vec<Result<u32, Error>> = pool.try_map(parse, ["1", "2", "x", "4"]).collect().await;
    /// assert_eq!(out.len(), 3);
    /// assert_eq!(*out[1].as_ref().unwrap(), 2);
    /// assert!(out[2].is_err());
    /// # }
    /// ```
    fn try_map<I, F, T, E>(&self, f: F, items: I) -> TryMap<PoolFn<Self, F>, I::IntoIter>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> Result<T, E> + Send + Sync + 'static,
        T: Send + 'static,
        E: From<TaskError> + Send + 'static,
    {
        TryMap {
            inner: self.map(f, items),
        }
    }

    /// Like [`map_unordered`](Self::map_unordered) for a fallible `f`: yields `Ok` values as they
    /// finish and stops at the first error to finish, cancelling the items still pending.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::BlockingPool;
    /// use futurepool_stream::ExecutorMapExt;
    /// use futures_util::TryStreamExt;
    ///
    /// type Error = Box<dyn std::error::Error + Send + Sync>;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = BlockingPool::new();
    /// let check = |n: u32| if n < 10 { Ok(n) } else { Err(Error::from("too big")) };
    /// let all: Result<Vec<u32>, Error> = pool.try_map_unordered(check, [1, 2, 30]).try_collect().await;
    /// assert_eq!(all.unwrap_err().to_string(), "too big");
    /// # }
    /// ```
    fn try_map_unordered<I, F, T, E>(
        &self,
        f: F,
        items: I,
    ) -> TryMapUnordered<PoolFn<Self, F>, I::IntoIter>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> Result<T, E> + Send + Sync + 'static,
        T: Send + 'static,
        E: From<TaskError> + Send + 'static,
    {
        TryMapUnordered {
            inner: self.map_unordered(f, items),
        }
    }
}

fn pool_fn<E: Executor, F>(pool: &E, f: F) -> PoolFn<E, F> {
    PoolFn {
        pool: pool.clone(),
        f: Arc::new(f),
    }
}

impl<X: Executor> ExecutorMapExt for X {}

/// Map streams for [`AsyncPool`]: like [`ExecutorMapExt`], but `f` returns a future, which runs
/// on the pool.
///
/// `f` itself is called by the stream, when it reads an item; the future it returns is
/// submitted to the pool. Read-ahead is bounded the same way (by default
/// `min(2 × max_concurrency, 64)` items). Items are not batched unless
/// [`chunk_size`](Map::chunk_size) is set, in which case a chunk's futures run one after the
/// other inside one pool task. As with the [`ExecutorMapExt`] streams, a shut-down pool ends
/// the stream after the items already read.
///
/// # Panics
///
/// A panic in `f` itself (not in the future it returns) happens inside the stream's
/// `poll_next` and propagates to the consumer, as does a panic of the input iterator.
///
/// # Examples
///
/// ```
/// use futurepool_core::AsyncPool;
/// use futurepool_stream::AsyncPoolMapExt;
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let net = AsyncPool::builder().max_concurrency(8).build().unwrap();
/// let pages: Vec<String> = net
///     .map(|id: u32| async move { format!("page {id}") }, 1..=3)
///     .map(Result::unwrap)
///     .collect()
///     .await;
/// assert_eq!(pages, ["page 1", "page 2", "page 3"]);
/// # }
/// ```
pub trait AsyncPoolMapExt {
    /// Runs the future `f(item)` for every item on this pool and yields the outputs in input
    /// order.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::AsyncPool;
    /// use futurepool_stream::AsyncPoolMapExt;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = AsyncPool::new();
    /// let first = pool.map(|n: u64| async move { n * 2 }, 1..).next().await; // infinite input
    /// assert_eq!(first, Some(Ok(2)));
    /// # }
    /// ```
    fn map<I, F, Fut>(&self, f: F, items: I) -> Map<AsyncPoolFn<F>, I::IntoIter>
    where
        I: IntoIterator,
        F: FnMut(I::Item) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static;

    /// Runs the future `f(item)` for every item on this pool and yields the outputs as they
    /// finish.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::AsyncPool;
    /// use futurepool_stream::AsyncPoolMapExt;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = AsyncPool::new();
    /// let n = pool.map_unordered(|n: u8| async move { n }, 0..5).count().await;
    /// assert_eq!(n, 5);
    /// # }
    /// ```
    fn map_unordered<I, F, Fut>(&self, f: F, items: I) -> MapUnordered<AsyncPoolFn<F>, I::IntoIter>
    where
        I: IntoIterator,
        F: FnMut(I::Item) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static;

    /// Like [`map`](Self::map) for futures returning `Result`: yields `Ok` values in input order
    /// and stops at the first error, cancelling the items still pending.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{AsyncPool, TaskError};
    /// use futurepool_stream::AsyncPoolMapExt;
    /// use futures_util::TryStreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = AsyncPool::new();
    /// let fetch = |n: u32| async move { Ok::<_, TaskError>(n) };
    /// let all: Vec<u32> = pool.try_map(fetch, 0..3).try_collect().await.unwrap();
    /// assert_eq!(all, [0, 1, 2]);
    /// # }
    /// ```
    fn try_map<I, F, Fut, T, E>(&self, f: F, items: I) -> TryMap<AsyncPoolFn<F>, I::IntoIter>
    where
        I: IntoIterator,
        F: FnMut(I::Item) -> Fut,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<TaskError> + Send + 'static;

    /// Like [`map_unordered`](Self::map_unordered) for futures returning `Result`: yields `Ok`
    /// values as they finish and stops at the first error, cancelling the items still pending.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{AsyncPool, TaskError};
    /// use futurepool_stream::AsyncPoolMapExt;
    /// use futures_util::TryStreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = AsyncPool::new();
    /// let fetch = |n: u32| async move { if n == 2 { Err(TaskError::cancelled()) } else { Ok(n) } };
    /// let out: Result<Vec<u32>, TaskError> = pool.try_map_unordered(fetch, 0..3).try_collect().await;
    /// assert!(out.unwrap_err().is_cancelled());
    /// # }
    /// ```
    fn try_map_unordered<I, F, Fut, T, E>(
        &self,
        f: F,
        items: I,
    ) -> TryMapUnordered<AsyncPoolFn<F>, I::IntoIter>
    where
        I: IntoIterator,
        F: FnMut(I::Item) -> Fut,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<TaskError> + Send + 'static;
}

impl AsyncPoolMapExt for AsyncPool {
    fn map<I, F, Fut>(&self, f: F, items: I) -> Map<AsyncPoolFn<F>, I::IntoIter>
    where
        I: IntoIterator,
        F: FnMut(I::Item) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let pool = AsyncPoolFn {
            pool: self.clone(),
            f,
        };
        Map::new(pool, items.into_iter())
    }

    fn map_unordered<I, F, Fut>(&self, f: F, items: I) -> MapUnordered<AsyncPoolFn<F>, I::IntoIter>
    where
        I: IntoIterator,
        F: FnMut(I::Item) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let pool = AsyncPoolFn {
            pool: self.clone(),
            f,
        };
        MapUnordered::new(pool, items.into_iter())
    }

    fn try_map<I, F, Fut, T, E>(&self, f: F, items: I) -> TryMap<AsyncPoolFn<F>, I::IntoIter>
    where
        I: IntoIterator,
        F: FnMut(I::Item) -> Fut,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<TaskError> + Send + 'static,
    {
        TryMap {
            inner: AsyncPoolMapExt::map(self, f, items),
        }
    }

    fn try_map_unordered<I, F, Fut, T, E>(
        &self,
        f: F,
        items: I,
    ) -> TryMapUnordered<AsyncPoolFn<F>, I::IntoIter>
    where
        I: IntoIterator,
        F: FnMut(I::Item) -> Fut,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<TaskError> + Send + 'static,
    {
        TryMapUnordered {
            inner: AsyncPoolMapExt::map_unordered(self, f, items),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The engine

/// One submission in flight: a single item's task, or a chunk's.
enum Unit<T> {
    One(Task<T>),
    Chunk { task: Task<Chunk<T>>, len: usize },
}

/// The outcome of a [`Unit`]: its items' results in input order, and a chunk's timing.
struct UnitDone<T> {
    results: VecDeque<Result<T, TaskError>>,
    timing: Option<(usize, Duration)>,
}

impl<T> Unit<T> {
    fn cancel(&self) {
        match self {
            Unit::One(task) => task.cancel(),
            Unit::Chunk { task, .. } => task.cancel(),
        };
    }
}

impl<T> Future for Unit<T> {
    type Output = UnitDone<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<UnitDone<T>> {
        match self.get_mut() {
            Unit::One(task) => Pin::new(task).poll(cx).map(|result| UnitDone {
                results: VecDeque::from([result]),
                timing: None,
            }),
            Unit::Chunk { task, len } => {
                let id = task.id();
                let done = match ready!(Pin::new(task).poll(cx)) {
                    Ok(chunk) => UnitDone {
                        results: chunk
                            .results
                            .into_iter()
                            .map(|r| r.map_err(|e| with_id(e, id)))
                            .collect(),
                        timing: Some((chunk.ran, chunk.elapsed)),
                    },
                    // The whole chunk failed (cancelled, refused, shut down): so did each item.
                    Err(e) => UnitDone {
                        results: (0..*len).map(|_| Err(e.clone())).collect(),
                        timing: None,
                    },
                };
                Poll::Ready(done)
            }
        }
    }
}

fn with_id(e: TaskError, id: futurepool_core::TaskId) -> TaskError {
    if e.task_id().is_none() {
        e.with_task_id(id)
    } else {
        e
    }
}

/// How many items go into one submission.
#[derive(Clone, Copy, Debug)]
enum Chunking {
    /// One task per item.
    Single,
    /// Chunks of this many items (at most the buffer).
    Fixed(usize),
    /// Chunks of the current adaptive size (at most `buffer / workers`).
    Adaptive(usize),
}

impl Chunking {
    fn len(self, buffer: usize, workers: usize) -> usize {
        match self {
            Chunking::Single => 1,
            Chunking::Fixed(n) => n.min(buffer),
            Chunking::Adaptive(n) => n.min(buffer / workers.max(1)).max(1),
        }
    }

    /// Learns from a finished chunk: grow towards [`CHUNK_TARGET`] per chunk, at most doubling
    /// each time; fall back to one item when items are slow.
    fn record(&mut self, ran: usize, elapsed: Duration) {
        if let Chunking::Adaptive(size) = self {
            if ran == 0 {
                return;
            }
            let per_item = (elapsed.as_nanos() / ran as u128).max(1);
            let ideal = CHUNK_TARGET.as_nanos() / per_item;
            let ideal = usize::try_from(ideal).unwrap_or(usize::MAX);
            *size = ideal.clamp(1, (*size * 2).min(MAX_ADAPTIVE_CHUNK));
        }
    }
}

/// Where finished and unfinished submissions wait until the consumer takes their results.
trait Queue<T>: Default {
    fn push(&mut self, unit: Unit<T>);
    /// The next result to yield; `Ready(None)` when nothing is in flight.
    fn poll_item(
        &mut self,
        cx: &mut Context<'_>,
        chunking: &mut Chunking,
    ) -> Poll<Option<Result<T, TaskError>>>;
    /// Cancels every unit in flight and drops all results held.
    fn cancel_all(&mut self);
}

/// Results in input order: only the oldest submission is awaited.
struct Ordered<T> {
    slots: VecDeque<Slot<T>>,
}

enum Slot<T> {
    Running(Unit<T>),
    Ready(VecDeque<Result<T, TaskError>>),
}

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Self {
            slots: VecDeque::new(),
        }
    }
}

impl<T> Queue<T> for Ordered<T> {
    fn push(&mut self, unit: Unit<T>) {
        self.slots.push_back(Slot::Running(unit));
    }

    fn poll_item(
        &mut self,
        cx: &mut Context<'_>,
        chunking: &mut Chunking,
    ) -> Poll<Option<Result<T, TaskError>>> {
        loop {
            let Some(front) = self.slots.front_mut() else {
                return Poll::Ready(None);
            };
            match front {
                Slot::Ready(results) => {
                    let next = results.pop_front();
                    if results.is_empty() {
                        self.slots.pop_front();
                    }
                    if let Some(result) = next {
                        return Poll::Ready(Some(result));
                    }
                }
                Slot::Running(unit) => {
                    let done = ready!(Pin::new(unit).poll(cx));
                    if let Some((ran, elapsed)) = done.timing {
                        chunking.record(ran, elapsed);
                    }
                    *front = Slot::Ready(done.results);
                }
            }
        }
    }

    fn cancel_all(&mut self) {
        for slot in self.slots.drain(..) {
            if let Slot::Running(unit) = slot {
                unit.cancel();
            }
        }
    }
}

/// Results in completion order.
struct Unordered<T> {
    running: FuturesUnordered<Unit<T>>,
    ready: VecDeque<Result<T, TaskError>>,
}

impl<T> Default for Unordered<T> {
    fn default() -> Self {
        Self {
            running: FuturesUnordered::new(),
            ready: VecDeque::new(),
        }
    }
}

impl<T> Queue<T> for Unordered<T> {
    fn push(&mut self, unit: Unit<T>) {
        self.running.push(unit);
    }

    fn poll_item(
        &mut self,
        cx: &mut Context<'_>,
        chunking: &mut Chunking,
    ) -> Poll<Option<Result<T, TaskError>>> {
        loop {
            if let Some(result) = self.ready.pop_front() {
                return Poll::Ready(Some(result));
            }
            match ready!(self.running.poll_next_unpin(cx)) {
                Some(done) => {
                    if let Some((ran, elapsed)) = done.timing {
                        chunking.record(ran, elapsed);
                    }
                    self.ready = done.results;
                }
                None => return Poll::Ready(None),
            }
        }
    }

    fn cancel_all(&mut self) {
        for unit in self.running.iter() {
            unit.cancel();
        }
        self.running.clear();
        self.ready.clear();
    }
}

/// The shared machinery of the map streams.
struct Engine<S, I, Q> {
    submit: S,
    /// `None` once the input ended, or the stream finished early.
    input: Option<I>,
    buffer: usize,
    chunking: Chunking,
    /// Items read from the input and not yet yielded.
    outstanding: usize,
    /// Tells running chunks to skip their remaining items.
    stop: Arc<AtomicBool>,
    deadline: Option<Instant>,
    sleep: Option<Pin<Box<Sleep>>>,
    queue: Q,
    /// Whether the stream has ended (input done and drained, timed out, or stopped).
    finished: bool,
}

impl<S, I, Q> Engine<S, I, Q>
where
    I: Iterator,
    S: Submit<I::Item>,
    Q: Queue<S::Output>,
{
    fn new(submit: S, input: I) -> Self {
        let (buffer, chunking) = if submit.batching() {
            (DEFAULT_MAX_BUFFER, Chunking::Adaptive(1))
        } else {
            let buffer = submit
                .workers()
                .saturating_mul(2)
                .clamp(1, DEFAULT_MAX_BUFFER);
            (buffer, Chunking::Single)
        };
        Self {
            submit,
            input: Some(input),
            buffer,
            chunking,
            outstanding: 0,
            stop: Arc::new(AtomicBool::new(false)),
            deadline: None,
            sleep: None,
            queue: Q::default(),
            finished: false,
        }
    }

    fn set_buffer(&mut self, n: usize) {
        assert!(n > 0, "a map stream's buffer must hold at least one item");
        self.buffer = n;
    }

    fn set_chunk_size(&mut self, n: usize) {
        assert!(n > 0, "a map stream's chunk size must be at least one item");
        self.chunking = if n == 1 {
            Chunking::Single
        } else {
            Chunking::Fixed(n)
        };
    }

    fn set_deadline(&mut self, deadline: Instant) {
        self.deadline = Some(deadline);
        self.sleep = None;
    }

    /// Reads and submits input while the read-ahead bound leaves room for a whole chunk.
    fn fill(&mut self) {
        while let Some(input) = self.input.as_mut() {
            let want = self.chunking.len(self.buffer, self.submit.workers());
            if self.outstanding + want > self.buffer {
                break;
            }
            if let Chunking::Single = self.chunking {
                match input.next() {
                    Some(item) => {
                        let task = self.submit.submit_one(item);
                        self.queue.push(Unit::One(task));
                        self.outstanding += 1;
                    }
                    None => self.input = None,
                }
            } else {
                let items: Vec<I::Item> = input.by_ref().take(want).collect();
                if items.len() < want {
                    self.input = None;
                }
                if items.is_empty() {
                    break;
                }
                let len = items.len();
                let task = self.submit.submit_chunk(items, &self.stop);
                self.queue.push(Unit::Chunk { task, len });
                self.outstanding += len;
            }
        }
    }

    /// Ends the stream early: reads no more input and cancels everything in flight.
    fn stop(&mut self) {
        self.finished = true;
        self.input = None;
        self.stop.store(true, Ordering::Relaxed);
        self.queue.cancel_all();
        self.outstanding = 0;
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<S::Output, TaskError>>> {
        if self.finished {
            return Poll::Ready(None);
        }
        let expired = self.deadline.is_some_and(|d| Instant::now() >= d);
        if !expired {
            self.fill();
        }
        match self.queue.poll_item(cx, &mut self.chunking) {
            Poll::Ready(Some(result)) => {
                self.outstanding -= 1;
                if matches!(&result, Err(e) if e.is_shutdown()) {
                    // The pool takes no more work: read no more input, so that an endless input
                    // does not become an endless run of errors.
                    self.input = None;
                }
                return Poll::Ready(Some(result));
            }
            Poll::Ready(None) if self.input.is_none() => {
                self.finished = true;
                return Poll::Ready(None);
            }
            // Pending, or (only past the deadline) nothing in flight but input left.
            _ => {}
        }
        if let Some(deadline) = self.deadline {
            let sleep = self
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
            if expired || sleep.as_mut().poll(cx).is_ready() {
                let unfinished = self.outstanding;
                self.stop();
                let message = format!("map timed out with {unfinished} read items unfinished");
                return Poll::Ready(Some(Err(TaskError::timeout(message))));
            }
        }
        Poll::Pending
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.finished {
            return (0, Some(0));
        }
        let (low, high) = self
            .input
            .as_ref()
            .map_or((0, Some(0)), Iterator::size_hint);
        let high = if self.deadline.is_some() {
            high.and_then(|h| h.checked_add(self.outstanding + 1))
        } else {
            high.and_then(|h| h.checked_add(self.outstanding))
        };
        let low = if self.deadline.is_some() {
            self.outstanding.min(1)
        } else {
            low.saturating_add(self.outstanding)
        };
        (low, high)
    }
}

impl<S, I, Q> Drop for Engine<S, I, Q> {
    fn drop(&mut self) {
        // Runs before the fields drop: the queued tasks are cancelled here, not just detached.
        self.stop.store(true, Ordering::Relaxed);
    }
}

// The queues cancel their units when dropped, so that dropping the stream cancels the items
// that have not started.
impl<T> Drop for Ordered<T> {
    fn drop(&mut self) {
        self.cancel_all();
    }
}

impl<T> Drop for Unordered<T> {
    fn drop(&mut self) {
        for unit in self.running.iter() {
            unit.cancel();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The public stream types

macro_rules! map_stream {
    (
        $(#[$meta:meta])*
        $name:ident, $queue:ident, $ctor:literal
    ) => {
        $(#[$meta])*
        #[must_use = "streams do nothing unless polled"]
        pub struct $name<S, I>
        where
            I: Iterator,
            S: MapFn<I::Item>,
        {
            engine: Engine<S, I, $queue<S::Output>>,
        }

        impl<S, I> $name<S, I>
        where
            I: Iterator,
            S: MapFn<I::Item>,
        {
            fn new(submit: S, input: I) -> Self {
                Self {
                    engine: Engine::new(submit, input),
                }
            }

            /// Sets how many items the stream reads ahead of its consumer (Python's `buffersize`).
            ///
            /// At any time, at most `n` items have been read from the input and not yet yielded,
            /// chunks included. The default is `min(2 × workers, 64)`, or 64 on a pool that
            /// prefers batching. A larger buffer keeps more work queued (and allows larger
            /// chunks); a smaller one bounds memory and wasted work more tightly.
            ///
            /// # Panics
            ///
            /// Panics if `n` is 0.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::sync::atomic::{AtomicUsize, Ordering};
            /// use futurepool_core::BlockingPool;
            /// use futurepool_stream::ExecutorMapExt;
            /// use futures_util::StreamExt;
            ///
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            /// static READ: AtomicUsize = AtomicUsize::new(0);
            /// let input = (0..).inspect(|_| { READ.fetch_add(1, Ordering::SeqCst); });
            /// let pool = BlockingPool::new();
            #[doc = concat!("let mut stream = pool.", $ctor, "(|n: u64| n, input).buffer(3);")]
            /// stream.next().await.unwrap().unwrap();
            /// assert!(READ.load(Ordering::SeqCst) <= 3); // one yielded, at most 3 read
            /// # }
            /// ```
            pub fn buffer(mut self, n: usize) -> Self {
                self.engine.set_buffer(n);
                self
            }

            /// Sends items to the pool in chunks of `n` (Python's `chunksize`); 1 turns
            /// batching off.
            ///
            /// By default a pool that prefers batching (`CpuPool`) gets adaptive chunks and other
            /// pools get one task per item. A chunk never exceeds the [`buffer`](Self::buffer).
            /// Items of a chunk run one after the other on one worker; a panic in one is that
            /// item's error only.
            ///
            /// # Panics
            ///
            /// Panics if `n` is 0.
            ///
            /// # Examples
            ///
            /// ```
            /// use futurepool_core::CpuPool;
            /// use futurepool_stream::ExecutorMapExt;
            /// use futures_util::StreamExt;
            ///
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            /// let pool = CpuPool::builder().max_workers(2).build().unwrap();
            #[doc = concat!("let stream = pool.", $ctor, "(|n: u64| n % 7, 0..1000).buffer(256).chunk_size(64);")]
            /// let sum: u64 = stream.map(Result::unwrap).fold(0, |a, b| async move { a + b }).await;
            /// assert_eq!(sum, (0..1000u64).map(|n| n % 7).sum());
            /// # }
            /// ```
            pub fn chunk_size(mut self, n: usize) -> Self {
                self.engine.set_chunk_size(n);
                self
            }

            /// Gives up at `deadline` (Python's `map(..., timeout=)`): past it, the stream yields
            /// one timeout error in place of the first result that is not ready, then ends.
            ///
            /// Results that are ready are still yielded after the deadline. Once it passes, no
            /// more input is read, and when the timeout error is yielded every item still in
            /// flight is cancelled (those already running finish on their own and are
            /// dropped). The error has [`TaskError::is_timeout`].
            ///
            /// # Panics
            ///
            /// The stream panics when polled outside a Tokio runtime with its time driver
            /// enabled.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            /// use futurepool_core::AsyncPool;
            /// use futurepool_stream::AsyncPoolMapExt;
            /// use futures_util::StreamExt;
            ///
            /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
            /// # async fn main() {
            /// let pool = AsyncPool::new();
            /// let nap = |s: u64| async move { tokio::time::sleep(Duration::from_secs(s)).await; s };
            /// let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            #[doc = concat!("let out: Vec<_> = pool.", $ctor, "(nap, [0, 0, 60]).deadline(deadline).collect().await;")]
            /// assert_eq!(out.len(), 3);
            /// assert!(out[2].as_ref().unwrap_err().is_timeout());
            /// # }
            /// ```
            pub fn deadline(mut self, deadline: Instant) -> Self {
                self.engine.set_deadline(deadline);
                self
            }

            /// Gives up once `timeout` has passed from now; see [`deadline`](Self::deadline).
            ///
            /// # Panics
            ///
            /// The stream panics when polled outside a Tokio runtime with its time driver
            /// enabled.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            /// use futurepool_core::AsyncPool;
            /// use futurepool_stream::AsyncPoolMapExt;
            /// use futures_util::StreamExt;
            ///
            /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
            /// # async fn main() {
            /// let pool = AsyncPool::new();
            #[doc = concat!("let mut stream = pool.", $ctor, "(|()| std::future::pending::<()>(), [()])")]
            ///     .timeout(Duration::from_secs(1));
            /// assert!(stream.next().await.unwrap().unwrap_err().is_timeout());
            /// assert!(stream.next().await.is_none());
            /// # }
            /// ```
            pub fn timeout(self, timeout: Duration) -> Self {
                self.deadline(Instant::now() + timeout)
            }

            /// Ends the stream now: reads no more input and cancels every item in flight.
            ///
            /// Dropping the stream does the same; this is for keeping the stream (e.g. inside
            /// a struct) while stopping its work.
            ///
            /// # Examples
            ///
            /// ```
            /// use futurepool_core::BlockingPool;
            /// use futurepool_stream::ExecutorMapExt;
            /// use futures_util::StreamExt;
            ///
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            /// let pool = BlockingPool::new();
            #[doc = concat!("let mut stream = pool.", $ctor, "(|n: u32| n, 0..);")]
            /// assert!(stream.next().await.is_some());
            /// stream.cancel();
            /// assert!(stream.next().await.is_none());
            /// # }
            /// ```
            pub fn cancel(&mut self) {
                self.engine.stop();
            }
        }

        impl<S, I> Unpin for $name<S, I>
        where
            I: Iterator,
            S: MapFn<I::Item>,
        {
        }

        impl<S, I> Stream for $name<S, I>
        where
            I: Iterator,
            S: MapFn<I::Item>,
        {
            type Item = Result<S::Output, TaskError>;

            fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                self.get_mut().engine.poll_next(cx)
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                self.engine.size_hint()
            }
        }

        impl<S, I> FusedStream for $name<S, I>
        where
            I: Iterator,
            S: MapFn<I::Item>,
        {
            fn is_terminated(&self) -> bool {
                self.engine.finished
            }
        }

        impl<S, I> fmt::Debug for $name<S, I>
        where
            I: Iterator,
            S: MapFn<I::Item>,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("buffer", &self.engine.buffer)
                    .field("chunking", &self.engine.chunking)
                    .field("outstanding", &self.engine.outstanding)
                    .field("deadline", &self.engine.deadline)
                    .field("finished", &self.engine.finished)
                    .finish_non_exhaustive()
            }
        }
    };
}

map_stream! {
    /// Stream for [`ExecutorMapExt::map`] and [`AsyncPoolMapExt::map`]: each item's outcome, in
    /// input order.
    ///
    /// Results that finish early wait for the ones before them, inside the read-ahead bound.
    /// Yielded results are moved out; the stream keeps no reference to them.
    ///
    /// # Cancel safety
    ///
    /// `next()` is cancel safe: a result is only taken out of the stream when it is returned.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::BlockingPool;
    /// use futurepool_stream::ExecutorMapExt;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = BlockingPool::new();
    /// let mut lines = pool.map(|n: u32| format!("line {n}"), 1..=2);
    /// assert_eq!(lines.next().await.unwrap().unwrap(), "line 1");
    /// assert_eq!(lines.next().await.unwrap().unwrap(), "line 2");
    /// assert!(lines.next().await.is_none());
    /// # }
    /// ```
    Map, Ordered, "map"
}

map_stream! {
    /// Stream for [`ExecutorMapExt::map_unordered`] and [`AsyncPoolMapExt::map_unordered`]: each
    /// item's outcome, in completion order.
    ///
    /// A slow item does not hold back the results after it, so the read-ahead bound is filled
    /// with running work rather than with finished results waiting their turn.
    ///
    /// # Cancel safety
    ///
    /// `next()` is cancel safe: a result is only taken out of the stream when it is returned.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::CpuPool;
    /// use futurepool_stream::ExecutorMapExt;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = CpuPool::builder().max_workers(2).build().unwrap();
    /// let total: u64 = pool
    ///     .map_unordered(|n: u64| n * 2, 0..100)
    ///     .map(Result::unwrap)
    ///     .fold(0, |a, b| async move { a + b })
    ///     .await;
    /// assert_eq!(total, 9900);
    /// # }
    /// ```
    MapUnordered, Unordered, "map_unordered"
}

macro_rules! try_map_stream {
    (
        $(#[$meta:meta])*
        $name:ident, $inner:ident, $ctor:literal
    ) => {
        $(#[$meta])*
        #[must_use = "streams do nothing unless polled"]
        pub struct $name<S, I>
        where
            I: Iterator,
            S: MapFn<I::Item>,
        {
            inner: $inner<S, I>,
        }

        impl<S, I> $name<S, I>
        where
            I: Iterator,
            S: MapFn<I::Item>,
        {
            /// Sets how many items the stream reads ahead of its consumer; see
            #[doc = concat!("[`", stringify!($inner), "::buffer`].")]
            ///
            /// # Panics
            ///
            /// Panics if `n` is 0.
            ///
            /// # Examples
            ///
            /// ```
            /// use futurepool_core::{BlockingPool, TaskError};
            /// use futurepool_stream::ExecutorMapExt;
            /// use futures_util::StreamExt;
            ///
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            /// let pool = BlockingPool::new();
            #[doc = concat!("let mut s = pool.", $ctor, "(|n: u32| Ok::<_, TaskError>(n), 0..).buffer(2);")]
            /// assert!(s.next().await.unwrap().unwrap() < 2);
            /// # }
            /// ```
            pub fn buffer(mut self, n: usize) -> Self {
                self.inner = self.inner.buffer(n);
                self
            }

            /// Sends items to the pool in chunks of `n`; see
            #[doc = concat!("[`", stringify!($inner), "::chunk_size`].")]
            ///
            /// # Panics
            ///
            /// Panics if `n` is 0.
            ///
            /// # Examples
            ///
            /// ```
            /// use futurepool_core::{CpuPool, TaskError};
            /// use futurepool_stream::ExecutorMapExt;
            /// use futures_util::TryStreamExt;
            ///
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            /// let pool = CpuPool::builder().max_workers(2).build().unwrap();
            #[doc = concat!("let s = pool.", $ctor, "(|n: u32| Ok::<_, TaskError>(n), 0..100).chunk_size(10);")]
            /// let v: Vec<u32> = s.try_collect().await.unwrap();
            /// assert_eq!(v.len(), 100);
            /// # }
            /// ```
            pub fn chunk_size(mut self, n: usize) -> Self {
                self.inner = self.inner.chunk_size(n);
                self
            }

            /// Gives up at `deadline`: the timeout error, converted with `From`, is the stream's
            /// first error and ends it; see
            #[doc = concat!("[`", stringify!($inner), "::deadline`].")]
            ///
            /// # Panics
            ///
            /// The stream panics when polled outside a Tokio runtime with its time driver
            /// enabled.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            /// use futurepool_core::{AsyncPool, TaskError};
            /// use futurepool_stream::AsyncPoolMapExt;
            /// use futures_util::TryStreamExt;
            ///
            /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
            /// # async fn main() {
            /// let pool = AsyncPool::new();
            /// let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
            #[doc = concat!("let s = pool.", $ctor, "(|()| std::future::pending::<Result<(), TaskError>>(), [()])")]
            ///     .deadline(deadline);
            /// let out: Result<Vec<()>, TaskError> = s.try_collect().await;
            /// assert!(out.unwrap_err().is_timeout());
            /// # }
            /// ```
            pub fn deadline(mut self, deadline: Instant) -> Self {
                self.inner = self.inner.deadline(deadline);
                self
            }

            /// Gives up once `timeout` has passed from now; see [`deadline`](Self::deadline).
            ///
            /// # Panics
            ///
            /// The stream panics when polled outside a Tokio runtime with its time driver
            /// enabled.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            /// use futurepool_core::{AsyncPool, TaskError};
            /// use futurepool_stream::AsyncPoolMapExt;
            /// use futures_util::TryStreamExt;
            ///
            /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
            /// # async fn main() {
            /// let pool = AsyncPool::new();
            #[doc = concat!("let s = pool.", $ctor, "(|()| std::future::pending::<Result<(), TaskError>>(), [()])")]
            ///     .timeout(Duration::from_secs(1));
            /// let out: Result<Vec<()>, TaskError> = s.try_collect().await;
            /// assert!(out.unwrap_err().is_timeout());
            /// # }
            /// ```
            pub fn timeout(mut self, timeout: Duration) -> Self {
                self.inner = self.inner.timeout(timeout);
                self
            }

            /// Ends the stream now: reads no more input and cancels every item in flight.
            ///
            /// # Examples
            ///
            /// ```
            /// use futurepool_core::{BlockingPool, TaskError};
            /// use futurepool_stream::ExecutorMapExt;
            /// use futures_util::StreamExt;
            ///
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            /// let pool = BlockingPool::new();
            #[doc = concat!("let mut s = pool.", $ctor, "(|n: u32| Ok::<_, TaskError>(n), 0..);")]
            /// s.cancel();
            /// assert!(s.next().await.is_none());
            /// # }
            /// ```
            pub fn cancel(&mut self) {
                self.inner.cancel();
            }
        }

        impl<S, I> Unpin for $name<S, I>
        where
            I: Iterator,
            S: MapFn<I::Item>,
        {
        }

        impl<S, I, T, E> Stream for $name<S, I>
        where
            I: Iterator,
            S: MapFn<I::Item, Output = Result<T, E>>,
            E: From<TaskError>,
        {
            type Item = Result<T, E>;

            fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                let this = self.get_mut();
                let error = match ready!(this.inner.poll_next_unpin(cx)) {
                    None => return Poll::Ready(None),
                    Some(Ok(Ok(value))) => return Poll::Ready(Some(Ok(value))),
                    Some(Ok(Err(error))) => error,
                    Some(Err(error)) => E::from(error),
                };
                // The first error ends the stream and cancels the rest.
                this.inner.cancel();
                Poll::Ready(Some(Err(error)))
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                (0, self.inner.size_hint().1)
            }
        }

        impl<S, I, T, E> FusedStream for $name<S, I>
        where
            I: Iterator,
            S: MapFn<I::Item, Output = Result<T, E>>,
            E: From<TaskError>,
        {
            fn is_terminated(&self) -> bool {
                self.inner.is_terminated()
            }
        }

        impl<S, I> fmt::Debug for $name<S, I>
        where
            I: Iterator,
            S: MapFn<I::Item>,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).field("inner", &self.inner).finish()
            }
        }
    };
}

try_map_stream! {
    /// Stream for [`ExecutorMapExt::try_map`] and [`AsyncPoolMapExt::try_map`]: `Ok` values in
    /// input order, up to and including the first error.
    ///
    /// After the first error (in input order) it ends: the items still in flight are cancelled
    /// and no more input is read.
    ///
    /// # Cancel safety
    ///
    /// `next()` is cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{BlockingPool, TaskError};
    /// use futurepool_stream::ExecutorMapExt;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = BlockingPool::new();
    /// let f = |n: u32| if n == 2 { Err(TaskError::timeout("row 2 failed")) } else { Ok(n) };
    /// let out: Vec<_> = pool.try_map(f, 0..).collect().await; // stops even on infinite input
    /// assert_eq!(out.len(), 3);
    /// assert_eq!(out[2].as_ref().unwrap_err().to_string(), "row 2 failed");
    /// # }
    /// ```
    TryMap, Map, "try_map"
}

try_map_stream! {
    /// Stream for [`ExecutorMapExt::try_map_unordered`] and
    /// [`AsyncPoolMapExt::try_map_unordered`]: `Ok` values in completion order, up to and
    /// including the first error to finish.
    ///
    /// After the first error it ends: the items still in flight are cancelled and no more
    /// input is read.
    ///
    /// # Cancel safety
    ///
    /// `next()` is cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{CpuPool, TaskError};
    /// use futurepool_stream::ExecutorMapExt;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = CpuPool::builder().max_workers(2).build().unwrap();
    /// let mut s = pool.try_map_unordered(|n: u32| Ok::<_, TaskError>(n), 0..4);
    /// let mut n = 0;
    /// while let Some(v) = s.next().await {
    ///     v.unwrap();
    ///     n += 1;
    /// }
    /// assert_eq!(n, 4);
    /// # }
    /// ```
    TryMapUnordered, MapUnordered, "try_map_unordered"
}
