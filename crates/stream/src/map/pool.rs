//! Map streams for the closure pools: [`ExecutorMapExt`] and its task source [`PoolFn`].

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Context;

use futurepool_core::{BlockingPool, CpuPool, Executor, Priority, Task, TaskError};
use futures_util::Stream;

use super::chunk::{Chunk, StopFlag, run_chunk};
use super::engine::Engine;
use super::input::MapInput;
use super::order::Queue;
use super::source::{BatchingSource, Defaults, PrioritySource, Submit, SubmitChunk, TaskSource};
use super::{Map, MapStream, MapUnordered, TryMap, TryMapStream, TryMapUnordered};

/// Map streams for the closure pools (`BlockingPool`, `CpuPool`): Python's `Executor.map`,
/// lazy and bounded.
///
/// Each item becomes `Ok(f(item))`, or an `Err(TaskError)` at the item's own place if `f`
/// panicked or the task was cancelled or refused; later items still run. The input, an
/// iterator or a stream ([`MapInput`]), may be endless: it is read only when the stream is
/// polled, at most `buffer` items ahead of the consumer (by default `min(2 × max_workers, 64)`,
/// or 64 on `CpuPool`; see [`MapStream::buffer`]). Dropping the stream cancels the items that
/// have not started.
///
/// On `CpuPool` ([`ADAPTIVE_CHUNKING`](Self::ADAPTIVE_CHUNKING)), items are sent in chunks, so
/// that tiny items do not each pay a task round-trip: chunks start at one item and grow while
/// they run in well under 100 µs, so slow items stay unbatched. A chunk counts inside the
/// read-ahead bound with all its items, and is at most `buffer / max_workers` items long, so
/// that every worker has a chunk (with the default bound of 64 and two workers: 32 items a
/// chunk). On machines with many cores, a larger [`buffer`](MapStream::buffer) allows larger
/// chunks for tiny items. Set a fixed size with [`chunk_size`](MapStream::chunk_size).
///
/// Note that a pool built with a small `queue_capacity` refuses submissions beyond it: such
/// items come out as errors with [`TaskError::is_rejected`]; keep `buffer` within the queue's
/// room.
///
/// The trait is implemented by each pool rather than for every [`Executor`], so that each pool
/// states its default chunking ([`ADAPTIVE_CHUNKING`](Self::ADAPTIVE_CHUNKING)); another
/// `Executor` type opts in with `impl ExecutorMapExt for MyPool {}`. For any other function
/// returning a [`Task`], see [`map_tasks`](crate::map_tasks).
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
/// let squares: Vec<u64> = cpu.map(|n| n * n, 0..10u64).map(Result::unwrap).collect().await;
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
    /// Whether map streams over this pool batch tiny items into adaptive chunks by default:
    /// `true` for `CpuPool` (its items are usually short computations), `false` otherwise
    /// (items that wait on I/O must not queue behind each other).
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{BlockingPool, CpuPool};
    /// use futurepool_stream::ExecutorMapExt;
    ///
    /// assert!(CpuPool::ADAPTIVE_CHUNKING);
    /// assert!(!BlockingPool::ADAPTIVE_CHUNKING);
    /// ```
    const ADAPTIVE_CHUNKING: bool = false;

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
    fn map<In, Kind, F, T>(&self, f: F, items: In) -> Map<PoolFn<Self, F>, In::Stream>
    where
        In: MapInput<Kind>,
        In::Item: Send + 'static,
        F: Fn(In::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        MapStream::new(PoolFn::new(self, f), items.into_stream())
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
    fn map_unordered<In, Kind, F, T>(
        &self,
        f: F,
        items: In,
    ) -> MapUnordered<PoolFn<Self, F>, In::Stream>
    where
        In: MapInput<Kind>,
        In::Item: Send + 'static,
        F: Fn(In::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        MapStream::new(PoolFn::new(self, f), items.into_stream())
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
    fn try_map<In, Kind, F, T, E>(&self, f: F, items: In) -> TryMap<PoolFn<Self, F>, In::Stream>
    where
        In: MapInput<Kind>,
        In::Item: Send + 'static,
        F: Fn(In::Item) -> Result<T, E> + Send + Sync + 'static,
        T: Send + 'static,
        E: From<TaskError> + Send + 'static,
    {
        TryMapStream::new(self.map(f, items))
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
    fn try_map_unordered<In, Kind, F, T, E>(
        &self,
        f: F,
        items: In,
    ) -> TryMapUnordered<PoolFn<Self, F>, In::Stream>
    where
        In: MapInput<Kind>,
        In::Item: Send + 'static,
        F: Fn(In::Item) -> Result<T, E> + Send + Sync + 'static,
        T: Send + 'static,
        E: From<TaskError> + Send + 'static,
    {
        TryMapStream::new(self.map_unordered(f, items))
    }
}

impl ExecutorMapExt for CpuPool {
    const ADAPTIVE_CHUNKING: bool = true;
}

impl ExecutorMapExt for BlockingPool {}

/// A sync function and the pool that runs it: the [`TaskSource`] of the streams built by
/// [`ExecutorMapExt`].
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
    priority: Priority,
}

impl<E: Executor, F> PrioritySource for PoolFn<E, F> {
    fn set_priority(&mut self, priority: Priority) {
        self.priority = priority;
    }
}

impl<E: Executor, F> PoolFn<E, F> {
    fn new(pool: &E, f: F) -> Self {
        PoolFn {
            pool: pool.clone(),
            f: Arc::new(f),
            priority: Priority::NORMAL,
        }
    }
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
    E: ExecutorMapExt,
    F: Fn(A) -> T + Send + Sync + 'static,
    A: Send + 'static,
    T: Send + 'static,
{
    type Output = T;

    fn defaults(&self) -> Defaults {
        let workers = self.pool.max_workers();
        if E::ADAPTIVE_CHUNKING {
            Defaults::adaptive_chunks(workers)
        } else {
            Defaults::one_per_task(workers)
        }
    }

    fn submit_one(&mut self, item: A) -> Task<T> {
        let f = Arc::clone(&self.f);
        self.pool
            .submit_with_priority(self.priority, move || f(item))
    }

    fn fill<St, Q>(engine: &mut Engine<Self, Q>, input: Pin<&mut Option<St>>, cx: &mut Context<'_>)
    where
        St: Stream<Item = A>,
        Q: Queue<T>,
    {
        engine.fill_in_chunks(input, cx);
    }
}

impl<E, F, A, T> SubmitChunk<A> for PoolFn<E, F>
where
    E: ExecutorMapExt,
    F: Fn(A) -> T + Send + Sync + 'static,
    A: Send + 'static,
    T: Send + 'static,
{
    fn submit_chunk(&mut self, items: Vec<A>, stop: &StopFlag) -> Task<Chunk<T>> {
        let f = Arc::clone(&self.f);
        let stop = stop.clone();
        self.pool
            .submit_with_priority(self.priority, move || run_chunk(items, &stop, &*f))
    }
}

impl<E, F, A, T> TaskSource<A> for PoolFn<E, F>
where
    E: ExecutorMapExt,
    F: Fn(A) -> T + Send + Sync + 'static,
    A: Send + 'static,
    T: Send + 'static,
{
}

impl<E, F, A, T> BatchingSource<A> for PoolFn<E, F>
where
    E: ExecutorMapExt,
    F: Fn(A) -> T + Send + Sync + 'static,
    A: Send + 'static,
    T: Send + 'static,
{
}
