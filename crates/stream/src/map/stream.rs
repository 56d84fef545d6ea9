//! The public map stream: [`MapStream`], with the aliases [`Map`] (input order) and
//! [`MapUnordered`] (completion order).

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futurepool_core::{Priority, TaskError};
use futures_util::Stream;
use futures_util::stream::FusedStream;
use pin_project_lite::pin_project;
use tokio::time::Instant;

use super::engine::Engine;
use super::order::{CompletionOrder, InputOrder, Order, ResultOrder};
use super::source::{BatchingSource, PrioritySource, TaskSource};

pin_project! {
    /// Each item's outcome, `Ok(value)` or the item's own `Err(TaskError)`, in the order `O`:
    /// the stream of `map` ([`Map`]) and `map_unordered` ([`MapUnordered`]).
    ///
    /// `Src` is where items run (a [`TaskSource`]); `St` is the input as a stream. The input is
    /// read only while the stream is polled, at most [`buffer`](Self::buffer) items ahead of
    /// the consumer. An error for one item is yielded at that item's place (input order) or when
    /// it happens (completion order); later items still run. Yielded results are moved out; the
    /// stream keeps no reference to them. Dropping the stream cancels the items that have not
    /// started.
    ///
    /// Once an item fails because its pool [is shut down](TaskError::is_shutdown), the stream
    /// reads no more input: it yields the errors of the items already read and ends.
    ///
    /// The stream is `Unpin` when its input is.
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
    #[must_use = "streams do nothing unless polled"]
    pub struct MapStream<Src, St, O>
    where
        St: Stream,
        Src: TaskSource<St::Item>,
        O: ResultOrder,
    {
        // `None` once the input ended or the stream stopped.
        #[pin]
        input: Option<St>,
        engine: Engine<Src, <O as Order>::Queue<Src::Output>>,
    }
}

/// The stream of `map`: each item's outcome in input order (Python's `Executor.map`).
///
/// Results that finish early wait for the ones before them, inside the read-ahead bound. See
/// [`MapStream`] for its methods.
///
/// # Examples
///
/// ```
/// use futurepool_core::CpuPool;
/// use futurepool_stream::{ExecutorMapExt, Map, PoolFn};
/// use futures_util::StreamExt;
/// use futures_util::stream::Iter;
///
/// fn squares(pool: &CpuPool, n: u64) -> Map<PoolFn<CpuPool, fn(u64) -> u64>, Iter<std::ops::Range<u64>>> {
///     pool.map(|x| x * x, 0..n)
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = CpuPool::builder().max_workers(2).build().unwrap();
/// let out: Vec<u64> = squares(&pool, 4).map(Result::unwrap).collect().await;
/// assert_eq!(out, [0, 1, 4, 9]);
/// # }
/// ```
pub type Map<Src, St> = MapStream<Src, St, InputOrder>;

/// The stream of `map_unordered`: each item's outcome in completion order.
///
/// A slow item does not hold back the results after it, so the read-ahead bound is filled with
/// running work rather than with finished results waiting their turn. See [`MapStream`] for its
/// methods.
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
pub type MapUnordered<Src, St> = MapStream<Src, St, CompletionOrder>;

impl<Src, St, O> MapStream<Src, St, O>
where
    St: Stream,
    Src: TaskSource<St::Item>,
    O: ResultOrder,
{
    /// A stream that reads `input` and sends its items to `source`.
    pub(crate) fn new(source: Src, input: St) -> Self {
        Self {
            input: Some(input),
            engine: Engine::new(source),
        }
    }

    /// Sets how many items the stream reads ahead of its consumer (Python's `buffersize`).
    ///
    /// At any time, at most `n` items have been read from the input and not yet yielded,
    /// chunks included. The default is `min(2 × workers, 64)`, 64 on a pool that batches tiny
    /// items (`CpuPool`), and 64 for [`map_tasks`](crate::map_tasks). A larger buffer keeps
    /// more work queued (and allows larger chunks); a smaller one bounds memory and wasted work
    /// more tightly.
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
    /// let mut stream = pool.map(|n: u64| n, input).buffer(3);
    /// stream.next().await.unwrap().unwrap();
    /// assert!(READ.load(Ordering::SeqCst) <= 3); // one yielded, at most 3 read
    /// # }
    /// ```
    pub fn buffer(mut self, n: usize) -> Self {
        self.engine.set_buffer(n);
        self
    }

    /// Gives up at `deadline` (Python's `map(..., timeout=)`): past it, the stream yields one
    /// timeout error in place of the first result that is not ready, then ends.
    ///
    /// Results that are ready are still yielded after the deadline. Once it passes, no more
    /// input is read, and when the timeout error is yielded every item still in flight is
    /// cancelled (those already running finish on their own and are dropped). The error has
    /// [`TaskError::is_timeout`].
    ///
    /// # Panics
    ///
    /// The stream panics when polled outside a Tokio runtime with its time driver enabled.
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
    /// let out: Vec<_> = pool.map(nap, [0, 0, 60]).deadline(deadline).collect().await;
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
    /// The stream panics when polled outside a Tokio runtime with its time driver enabled.
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
    /// let mut stream = pool
    ///     .map_unordered(|()| std::future::pending::<()>(), [()])
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
    /// Dropping the stream does the same; this is for keeping the stream (e.g. inside a
    /// struct) while stopping its work. The input itself is dropped at the next poll, or with
    /// the stream.
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
    /// let mut stream = pool.map(|n: u32| n, 0..);
    /// assert!(stream.next().await.is_some());
    /// stream.cancel();
    /// assert!(stream.next().await.is_none());
    /// # }
    /// ```
    pub fn cancel(&mut self) {
        self.engine.stop();
    }

    /// [`cancel`](Self::cancel) through a pinned reference, dropping the input at once.
    pub(crate) fn cancel_pinned(self: Pin<&mut Self>) {
        let this = self.project();
        this.engine.stop();
        let mut input = this.input;
        input.set(None);
    }
}

impl<Src, St, O> MapStream<Src, St, O>
where
    St: Stream,
    Src: BatchingSource<St::Item>,
    O: ResultOrder,
{
    /// Sends items to the pool in chunks of `n` (Python's `chunksize`); 1 turns batching off.
    ///
    /// By default `CpuPool` gets adaptive chunks (they start at one item and grow while they
    /// run in well under 100 µs, so slow items stay unbatched; until they stop growing, at
    /// most two chunks per worker are in flight) and other pools one task per item. A chunk counts inside the [`buffer`](Self::buffer) with all its items and never
    /// exceeds it. Items of a chunk run one after the other on one worker; a panic in one is
    /// that item's error only. Only streams whose source can batch ([`BatchingSource`]: the
    /// pools' own `map`) have this method.
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
    /// let stream = pool.map(|n: u64| n % 7, 0..1000).buffer(256).chunk_size(64);
    /// let sum: u64 = stream.map(Result::unwrap).fold(0, |a, b| async move { a + b }).await;
    /// assert_eq!(sum, (0..1000u64).map(|n| n % 7).sum());
    /// # }
    /// ```
    pub fn chunk_size(mut self, n: usize) -> Self {
        self.engine.set_chunk_size(n);
        self
    }
}

impl<Src, St, O> MapStream<Src, St, O>
where
    St: Stream,
    Src: TaskSource<St::Item> + PrioritySource,
    O: ResultOrder,
{
    /// Submits every item (or chunk) at `priority` instead of `Priority::NORMAL`: a bulk map
    /// at [`Priority::LOW`] lets interactive work submitted to the same pool start first. Only
    /// the pools' own map streams ([`PrioritySource`]) have this method.
    ///
    /// Set it before polling: items already submitted keep their priority.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{CpuPool, Priority};
    /// use futurepool_stream::ExecutorMapExt;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = CpuPool::builder().max_workers(2).build().unwrap();
    /// let squares: Vec<u64> = pool
    ///     .map(|n: u64| n * n, 0..5)
    ///     .priority(Priority::LOW)
    ///     .map(Result::unwrap)
    ///     .collect()
    ///     .await;
    /// assert_eq!(squares, [0, 1, 4, 9, 16]);
    /// # }
    /// ```
    pub fn priority(mut self, priority: Priority) -> Self {
        self.engine.source_mut().set_priority(priority);
        self
    }
}

impl<Src, St, O> Stream for MapStream<Src, St, O>
where
    St: Stream,
    Src: TaskSource<St::Item>,
    O: ResultOrder,
{
    type Item = Result<Src::Output, TaskError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        this.engine.poll_next(this.input, cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.engine.size_hint(self.input.as_ref())
    }
}

impl<Src, St, O> FusedStream for MapStream<Src, St, O>
where
    St: Stream,
    Src: TaskSource<St::Item>,
    O: ResultOrder,
{
    fn is_terminated(&self) -> bool {
        self.engine.is_finished()
    }
}

impl<Src, St, O> fmt::Debug for MapStream<Src, St, O>
where
    St: Stream,
    Src: TaskSource<St::Item>,
    O: ResultOrder,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(O::MAP_STREAM_NAME)
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}
