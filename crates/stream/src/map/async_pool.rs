//! Map streams for `AsyncPool`: [`AsyncPoolMapExt`] and its task source [`AsyncPoolFn`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::Context;

use futurepool_core::{AsyncPool, Priority, Task, TaskError};
use futures_util::Stream;

use super::chunk::{Chunk, StopFlag, run_async_chunk};
use super::engine::Engine;
use super::input::MapInput;
use super::order::Queue;
use super::source::{BatchingSource, Defaults, PrioritySource, Submit, SubmitChunk, TaskSource};
use super::{Map, MapStream, MapUnordered, TryMap, TryMapStream, TryMapUnordered};

/// Map streams for `AsyncPool`: like [`ExecutorMapExt`](super::ExecutorMapExt), but `f`
/// returns a future, which runs on the pool.
///
/// `f` itself is called by the stream, when it reads an item; the future it returns is
/// submitted to the pool. Read-ahead is bounded the same way (by default
/// `min(2 × max_concurrency, 64)` items). Items are not batched unless
/// [`chunk_size`](MapStream::chunk_size) is set, in which case a chunk's futures run one after
/// the other inside one pool task. A shut-down pool ends the stream after the items already
/// read.
///
/// # Panics
///
/// A panic in `f` itself (not in the future it returns) happens inside the stream's
/// `poll_next` and propagates to the consumer, as does a panic of the input.
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
    fn map<In, Kind, F, Fut>(&self, f: F, items: In) -> Map<AsyncPoolFn<F>, In::Stream>
    where
        In: MapInput<Kind>,
        F: FnMut(In::Item) -> Fut,
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
    fn map_unordered<In, Kind, F, Fut>(
        &self,
        f: F,
        items: In,
    ) -> MapUnordered<AsyncPoolFn<F>, In::Stream>
    where
        In: MapInput<Kind>,
        F: FnMut(In::Item) -> Fut,
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
    fn try_map<In, Kind, F, Fut, T, E>(
        &self,
        f: F,
        items: In,
    ) -> TryMap<AsyncPoolFn<F>, In::Stream>
    where
        In: MapInput<Kind>,
        F: FnMut(In::Item) -> Fut,
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
    fn try_map_unordered<In, Kind, F, Fut, T, E>(
        &self,
        f: F,
        items: In,
    ) -> TryMapUnordered<AsyncPoolFn<F>, In::Stream>
    where
        In: MapInput<Kind>,
        F: FnMut(In::Item) -> Fut,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<TaskError> + Send + 'static;
}

impl AsyncPoolMapExt for AsyncPool {
    fn map<In, Kind, F, Fut>(&self, f: F, items: In) -> Map<AsyncPoolFn<F>, In::Stream>
    where
        In: MapInput<Kind>,
        F: FnMut(In::Item) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        MapStream::new(AsyncPoolFn::new(self, f), items.into_stream())
    }

    fn map_unordered<In, Kind, F, Fut>(
        &self,
        f: F,
        items: In,
    ) -> MapUnordered<AsyncPoolFn<F>, In::Stream>
    where
        In: MapInput<Kind>,
        F: FnMut(In::Item) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        MapStream::new(AsyncPoolFn::new(self, f), items.into_stream())
    }

    fn try_map<In, Kind, F, Fut, T, E>(&self, f: F, items: In) -> TryMap<AsyncPoolFn<F>, In::Stream>
    where
        In: MapInput<Kind>,
        F: FnMut(In::Item) -> Fut,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<TaskError> + Send + 'static,
    {
        TryMapStream::new(AsyncPoolMapExt::map(self, f, items))
    }

    fn try_map_unordered<In, Kind, F, Fut, T, E>(
        &self,
        f: F,
        items: In,
    ) -> TryMapUnordered<AsyncPoolFn<F>, In::Stream>
    where
        In: MapInput<Kind>,
        F: FnMut(In::Item) -> Fut,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<TaskError> + Send + 'static,
    {
        TryMapStream::new(AsyncPoolMapExt::map_unordered(self, f, items))
    }
}

/// A function returning a future and the `AsyncPool` that runs those futures: the
/// [`TaskSource`] of the streams built by [`AsyncPoolMapExt`].
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
    priority: Priority,
}

impl<F> PrioritySource for AsyncPoolFn<F> {
    fn set_priority(&mut self, priority: Priority) {
        self.priority = priority;
    }
}

impl<F> AsyncPoolFn<F> {
    fn new(pool: &AsyncPool, f: F) -> Self {
        AsyncPoolFn {
            pool: pool.clone(),
            f,
            priority: Priority::NORMAL,
        }
    }
}

impl<F> fmt::Debug for AsyncPoolFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncPoolFn")
            .field("pool", &self.pool.name())
            .finish_non_exhaustive()
    }
}

impl<F, A, Fut> Submit<A> for AsyncPoolFn<F>
where
    F: FnMut(A) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    type Output = Fut::Output;

    fn defaults(&self) -> Defaults {
        Defaults::one_per_task(self.pool.max_concurrency())
    }

    fn submit_one(&mut self, item: A) -> Task<Fut::Output> {
        self.pool
            .submit_with_priority(self.priority, (self.f)(item))
    }

    fn fill<St, Q>(engine: &mut Engine<Self, Q>, input: Pin<&mut Option<St>>, cx: &mut Context<'_>)
    where
        St: Stream<Item = A>,
        Q: Queue<Fut::Output>,
    {
        engine.fill_in_chunks(input, cx);
    }
}

impl<F, A, Fut> SubmitChunk<A> for AsyncPoolFn<F>
where
    F: FnMut(A) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    fn submit_chunk(&mut self, items: Vec<A>, stop: &StopFlag) -> Task<Chunk<Fut::Output>> {
        let futures: Vec<Fut> = items.into_iter().map(&mut self.f).collect();
        self.pool
            .submit_with_priority(self.priority, run_async_chunk(futures, stop.clone()))
    }
}

impl<F, A, Fut> TaskSource<A> for AsyncPoolFn<F>
where
    F: FnMut(A) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
}

impl<F, A, Fut> BatchingSource<A> for AsyncPoolFn<F>
where
    F: FnMut(A) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
}
