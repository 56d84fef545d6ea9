//! Map streams over a pool from another crate that can run several items in one task (the
//! process pool sends a chunk as one message): [`map_chunked`], [`map_chunked_unordered`]
//! and their task source [`ChunkedFn`].

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Context;
use std::time::Duration;

use futurepool_core::{Priority, Task};
use futures_util::Stream;

use super::DEFAULT_MAX_BUFFER;
use super::chunk::{Chunk, Chunking, StopFlag};
use super::engine::Engine;
use super::input::MapInput;
use super::order::Queue;
use super::source::{BatchingSource, Defaults, PrioritySource, Submit, SubmitChunk, TaskSource};
use super::{Map, MapStream, MapUnordered};

/// A task source made of two functions: one submits an item as its own task, the other a
/// chunk of items as one task (answering each item on its own in a [`Chunk`]). Its streams
/// batch adaptively by default and take [`chunk_size`](MapStream::chunk_size).
///
/// # Examples
///
/// ```
/// use std::collections::VecDeque;
/// use futurepool_core::{AsyncPool, Task};
/// use futurepool_stream::{Chunk, ChunkedFn, map_chunked};
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = AsyncPool::new();
/// let (one, many) = (pool.clone(), pool.clone());
/// let source = ChunkedFn::new(
///     move |n: u64| one.submit(async move { n * n }),
///     move |items: Vec<u64>, _stop: &futurepool_stream::StopFlag| {
///         many.submit(async move {
///             let ran = items.len();
///             let results: VecDeque<_> = items.into_iter().map(|n| Ok(n * n)).collect();
///             Chunk { results, ran, elapsed: std::time::Duration::ZERO }
///         })
///     },
/// )
/// .parallelism(2);
/// let squares: Vec<u64> = map_chunked(source, 0..5).chunk_size(2).map(Result::unwrap).collect().await;
/// assert_eq!(squares, [0, 1, 4, 9, 16]);
/// # }
/// ```
pub struct ChunkedFn<F, G> {
    submit: F,
    submit_chunk: G,
    parallelism: usize,
    buffer: usize,
    chunk_target: Option<Duration>,
    on_priority: Option<Arc<dyn Fn(Priority) + Send + Sync>>,
}

impl<F, G> ChunkedFn<F, G> {
    /// A source that submits one item with `submit` and a chunk with `submit_chunk`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::Task;
    /// use futurepool_stream::{Chunk, ChunkedFn, StopFlag};
    ///
    /// let source = ChunkedFn::new(
    ///     |n: u8| Task::ready(Ok(n)),
    ///     |items: Vec<u8>, _: &StopFlag| Task::ready(Ok(Chunk {
    ///         ran: items.len(),
    ///         results: items.into_iter().map(Ok).collect(),
    ///         elapsed: Default::default(),
    ///     })),
    /// );
    /// # let _ = source;
    /// ```
    pub fn new(submit: F, submit_chunk: G) -> Self {
        Self {
            submit,
            submit_chunk,
            parallelism: 1,
            buffer: DEFAULT_MAX_BUFFER,
            chunk_target: None,
            on_priority: None,
        }
    }

    /// Gives its streams [`priority`](MapStream::priority): `hook` is called with the
    /// priority a stream is given, and the source's closures submit at it from then on (they
    /// share it with `hook`, for example through an atomic). Without a hook, `priority` on
    /// its streams has no effect.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU8, Ordering};
    /// use futurepool_core::{AsyncPool, Priority, Task};
    /// use futurepool_stream::{Chunk, ChunkedFn, StopFlag, map_chunked};
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = AsyncPool::builder().max_concurrency(2).build().unwrap();
    /// let level = Arc::new(AtomicU8::new(Priority::NORMAL.level()));
    /// let (one, many, set) = (pool.clone(), pool.clone(), Arc::clone(&level));
    /// let (at_one, at_many) = (Arc::clone(&level), Arc::clone(&level));
    /// let source = ChunkedFn::new(
    ///     move |n: u64| {
    ///         let priority = Priority::new(at_one.load(Ordering::Relaxed));
    ///         one.submit_with_priority(priority, async move { n * n })
    ///     },
    ///     move |items: Vec<u64>, _: &StopFlag| {
    ///         let priority = Priority::new(at_many.load(Ordering::Relaxed));
    ///         many.submit_with_priority(priority, async move {
    ///             let ran = items.len();
    ///             let results = items.into_iter().map(|n| Ok(n * n)).collect();
    ///             Chunk { results, ran, elapsed: std::time::Duration::ZERO }
    ///         })
    ///     },
    /// )
    /// .on_priority(move |p| set.store(p.level(), Ordering::Relaxed));
    /// let squares: Vec<u64> = map_chunked(source, 0..4)
    ///     .priority(Priority::LOW)
    ///     .map(Result::unwrap)
    ///     .collect()
    ///     .await;
    /// assert_eq!(squares, [0, 1, 4, 9]);
    /// assert_eq!(level.load(Ordering::Relaxed), Priority::LOW.level());
    /// # }
    /// ```
    #[must_use]
    pub fn on_priority(mut self, hook: impl Fn(Priority) + Send + Sync + 'static) -> Self {
        self.on_priority = Some(Arc::new(hook));
        self
    }

    /// How long an adaptive chunk should take to run (as the [`Chunk`]s report it): chunks
    /// start at one item and grow, at most doubling, until they take about this long.
    /// Default: 100 µs, as on `CpuPool`; a pool whose messages cost more wants longer chunks.
    ///
    /// # Examples
    ///
    /// ```
    /// # use futurepool_core::Task;
    /// # use futurepool_stream::{Chunk, ChunkedFn, StopFlag};
    /// let source = ChunkedFn::new(
    ///     |n: u8| Task::ready(Ok(n)),
    ///     |_: Vec<u8>, _: &StopFlag| Task::<Chunk<u8>>::ready(Err(futurepool_core::TaskError::cancelled())),
    /// )
    /// .chunk_target(std::time::Duration::from_millis(1));
    /// # let _ = source;
    /// ```
    #[must_use]
    pub fn chunk_target(mut self, target: Duration) -> Self {
        self.chunk_target = Some(target);
        self
    }

    /// How many chunks may run at once (the pool's workers, times the chunks each may hold):
    /// adaptive chunks are at most the read-ahead bound shared among them, and until their
    /// size stops growing at most twice this many chunks are in flight. Default: 1.
    ///
    /// # Examples
    ///
    /// ```
    /// # use futurepool_core::Task;
    /// # use futurepool_stream::{Chunk, ChunkedFn, StopFlag};
    /// let source = ChunkedFn::new(
    ///     |n: u8| Task::ready(Ok(n)),
    ///     |_: Vec<u8>, _: &StopFlag| Task::<Chunk<u8>>::ready(Err(futurepool_core::TaskError::cancelled())),
    /// )
    /// .parallelism(8);
    /// # let _ = source;
    /// ```
    #[must_use]
    pub fn parallelism(mut self, n: usize) -> Self {
        self.parallelism = n.max(1);
        self
    }

    /// The default read-ahead bound of its streams, in items; default
    /// [`DEFAULT_MAX_BUFFER`]. A stream's own [`buffer`](MapStream::buffer) overrides it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use futurepool_core::Task;
    /// # use futurepool_stream::{Chunk, ChunkedFn, StopFlag};
    /// let source = ChunkedFn::new(
    ///     |n: u8| Task::ready(Ok(n)),
    ///     |_: Vec<u8>, _: &StopFlag| Task::<Chunk<u8>>::ready(Err(futurepool_core::TaskError::cancelled())),
    /// )
    /// .buffer(1024);
    /// # let _ = source;
    /// ```
    #[must_use]
    pub fn buffer(mut self, n: usize) -> Self {
        self.buffer = n.max(1);
        self
    }
}

impl<F, G> PrioritySource for ChunkedFn<F, G> {
    fn set_priority(&mut self, priority: Priority) {
        if let Some(hook) = &self.on_priority {
            hook(priority);
        }
    }
}

impl<F, G> fmt::Debug for ChunkedFn<F, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkedFn")
            .field("parallelism", &self.parallelism)
            .field("buffer", &self.buffer)
            .finish_non_exhaustive()
    }
}

/// A map stream over `source` yielding results in input order; see [`ChunkedFn`].
///
/// # Examples
///
/// See [`ChunkedFn`].
pub fn map_chunked<In, Kind, F, G, T>(
    source: ChunkedFn<F, G>,
    items: In,
) -> Map<ChunkedFn<F, G>, In::Stream>
where
    In: MapInput<Kind>,
    F: FnMut(In::Item) -> Task<T>,
    G: FnMut(Vec<In::Item>, &StopFlag) -> Task<Chunk<T>>,
{
    MapStream::new(source, items.into_stream())
}

/// A map stream over `source` yielding results as they complete; see [`ChunkedFn`].
///
/// # Examples
///
/// ```
/// use futurepool_core::Task;
/// use futurepool_stream::{Chunk, ChunkedFn, StopFlag, map_chunked_unordered};
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let source = ChunkedFn::new(
///     |n: u8| Task::ready(Ok(n)),
///     |items: Vec<u8>, _: &StopFlag| Task::ready(Ok(Chunk {
///         ran: items.len(),
///         results: items.into_iter().map(Ok).collect(),
///         elapsed: Default::default(),
///     })),
/// );
/// let mut all: Vec<u8> = map_chunked_unordered(source, 0..4).chunk_size(3).map(Result::unwrap).collect().await;
/// all.sort();
/// assert_eq!(all, [0, 1, 2, 3]);
/// # }
/// ```
pub fn map_chunked_unordered<In, Kind, F, G, T>(
    source: ChunkedFn<F, G>,
    items: In,
) -> MapUnordered<ChunkedFn<F, G>, In::Stream>
where
    In: MapInput<Kind>,
    F: FnMut(In::Item) -> Task<T>,
    G: FnMut(Vec<In::Item>, &StopFlag) -> Task<Chunk<T>>,
{
    MapStream::new(source, items.into_stream())
}

impl<F, G, A, T> Submit<A> for ChunkedFn<F, G>
where
    F: FnMut(A) -> Task<T>,
    G: FnMut(Vec<A>, &StopFlag) -> Task<Chunk<T>>,
{
    type Output = T;

    fn defaults(&self) -> Defaults {
        Defaults {
            buffer: self.buffer,
            chunking: match self.chunk_target {
                Some(target) => Chunking::adaptive_towards(self.parallelism, target),
                None => Chunking::adaptive(self.parallelism),
            },
        }
    }

    fn submit_one(&mut self, item: A) -> Task<T> {
        (self.submit)(item)
    }

    fn fill<St, Q>(engine: &mut Engine<Self, Q>, input: Pin<&mut Option<St>>, cx: &mut Context<'_>)
    where
        St: Stream<Item = A>,
        Q: Queue<T>,
    {
        engine.fill_in_chunks(input, cx);
    }
}

impl<F, G, A, T> SubmitChunk<A> for ChunkedFn<F, G>
where
    F: FnMut(A) -> Task<T>,
    G: FnMut(Vec<A>, &StopFlag) -> Task<Chunk<T>>,
{
    fn submit_chunk(&mut self, items: Vec<A>, stop: &StopFlag) -> Task<Chunk<T>> {
        (self.submit_chunk)(items, stop)
    }
}

impl<F, G, A, T> TaskSource<A> for ChunkedFn<F, G>
where
    F: FnMut(A) -> Task<T>,
    G: FnMut(Vec<A>, &StopFlag) -> Task<Chunk<T>>,
{
}

impl<F, G, A, T> BatchingSource<A> for ChunkedFn<F, G>
where
    F: FnMut(A) -> Task<T>,
    G: FnMut(Vec<A>, &StopFlag) -> Task<Chunk<T>>,
{
}
