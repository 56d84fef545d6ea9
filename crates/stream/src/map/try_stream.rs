//! The fallible map stream: [`TryMapStream`], with the aliases [`TryMap`] (input order) and
//! [`TryMapUnordered`] (completion order).

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futurepool_core::{Priority, TaskError};
use futures_util::Stream;
use futures_util::stream::FusedStream;
use pin_project_lite::pin_project;
use tokio::time::Instant;

use super::order::{CompletionOrder, InputOrder, ResultOrder};
use super::source::{BatchingSource, PrioritySource, TaskSource};
use super::stream::MapStream;

pin_project! {
    /// `Ok` values in the order `O`, up to and including the first error: the stream of
    /// `try_map` ([`TryMap`]) and `try_map_unordered` ([`TryMapUnordered`]).
    ///
    /// Each item's function returns `Result<T, E>`; the stream yields `Result<T, E>`, where a
    /// [`TaskError`] of the item's task (a panic, a cancellation) is converted with
    /// `E::from`. After the first error the stream ends: the items still in flight are
    /// cancelled and no more input is read.
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
    #[must_use = "streams do nothing unless polled"]
    pub struct TryMapStream<Src, St, O>
    where
        St: Stream,
        Src: TaskSource<St::Item>,
        O: ResultOrder,
    {
        #[pin]
        inner: MapStream<Src, St, O>,
    }
}

/// The stream of `try_map`: `Ok` values in input order, up to and including the first error in
/// input order. See [`TryMapStream`] for its methods.
///
/// # Examples
///
/// ```
/// use futurepool_core::CpuPool;
/// use futurepool_stream::ExecutorMapExt;
/// use futures_util::TryStreamExt;
///
/// type Error = Box<dyn std::error::Error + Send + Sync>;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = CpuPool::builder().max_workers(2).build().unwrap();
/// let parse = |s: &str| s.parse::<u8>().map_err(Error::from);
/// let parsed: Result<Vec<u8>, Error> = pool.try_map(parse, ["1", "x", "3"]).try_collect().await;
/// assert_eq!(parsed.unwrap_err().to_string(), "invalid digit found in string");
/// # }
/// ```
pub type TryMap<Src, St> = TryMapStream<Src, St, InputOrder>;

/// The stream of `try_map_unordered`: `Ok` values in completion order, up to and including the
/// first error to finish. See [`TryMapStream`] for its methods.
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
pub type TryMapUnordered<Src, St> = TryMapStream<Src, St, CompletionOrder>;

impl<Src, St, O> TryMapStream<Src, St, O>
where
    St: Stream,
    Src: TaskSource<St::Item>,
    O: ResultOrder,
{
    /// The fallible view of `inner`.
    pub(crate) fn new(inner: MapStream<Src, St, O>) -> Self {
        Self { inner }
    }

    /// Sets how many items the stream reads ahead of its consumer; see
    /// [`MapStream::buffer`].
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
    /// let mut s = pool.try_map(|n: u32| Ok::<_, TaskError>(n), 0..).buffer(2);
    /// assert!(s.next().await.unwrap().unwrap() < 2);
    /// # }
    /// ```
    pub fn buffer(self, n: usize) -> Self {
        Self::new(self.inner.buffer(n))
    }

    /// Gives up at `deadline`: the timeout error, converted with `From`, is the stream's first
    /// error and ends it; see [`MapStream::deadline`].
    ///
    /// # Panics
    ///
    /// The stream panics when polled outside a Tokio runtime with its time driver enabled.
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
    /// let s = pool
    ///     .try_map(|()| std::future::pending::<Result<(), TaskError>>(), [()])
    ///     .deadline(deadline);
    /// let out: Result<Vec<()>, TaskError> = s.try_collect().await;
    /// assert!(out.unwrap_err().is_timeout());
    /// # }
    /// ```
    pub fn deadline(self, deadline: Instant) -> Self {
        Self::new(self.inner.deadline(deadline))
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
    /// use futurepool_core::{AsyncPool, TaskError};
    /// use futurepool_stream::AsyncPoolMapExt;
    /// use futures_util::TryStreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let pool = AsyncPool::new();
    /// let s = pool
    ///     .try_map_unordered(|()| std::future::pending::<Result<(), TaskError>>(), [()])
    ///     .timeout(Duration::from_secs(1));
    /// let out: Result<Vec<()>, TaskError> = s.try_collect().await;
    /// assert!(out.unwrap_err().is_timeout());
    /// # }
    /// ```
    pub fn timeout(self, timeout: Duration) -> Self {
        Self::new(self.inner.timeout(timeout))
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
    /// let mut s = pool.try_map(|n: u32| Ok::<_, TaskError>(n), 0..);
    /// s.cancel();
    /// assert!(s.next().await.is_none());
    /// # }
    /// ```
    pub fn cancel(&mut self) {
        self.inner.cancel();
    }
}

impl<Src, St, O> TryMapStream<Src, St, O>
where
    St: Stream,
    Src: BatchingSource<St::Item>,
    O: ResultOrder,
{
    /// Sends items to the pool in chunks of `n`; see [`MapStream::chunk_size`].
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
    /// let s = pool.try_map(|n: u32| Ok::<_, TaskError>(n), 0..100).chunk_size(10);
    /// let v: Vec<u32> = s.try_collect().await.unwrap();
    /// assert_eq!(v.len(), 100);
    /// # }
    /// ```
    pub fn chunk_size(self, n: usize) -> Self {
        Self::new(self.inner.chunk_size(n))
    }
}

impl<Src, St, O> TryMapStream<Src, St, O>
where
    St: Stream,
    Src: TaskSource<St::Item> + PrioritySource,
    O: ResultOrder,
{
    /// Submits every item at `priority`; see [`MapStream::priority`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{CpuPool, Priority, TaskError};
    /// use futurepool_stream::ExecutorMapExt;
    /// use futures_util::TryStreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = CpuPool::builder().max_workers(2).build().unwrap();
    /// let s = pool.try_map(|n: u32| Ok::<_, TaskError>(n), 0..10).priority(Priority::HIGH);
    /// let v: Vec<u32> = s.try_collect().await.unwrap();
    /// assert_eq!(v.len(), 10);
    /// # }
    /// ```
    pub fn priority(self, priority: Priority) -> Self {
        Self::new(self.inner.priority(priority))
    }
}

impl<Src, St, O, T, E> Stream for TryMapStream<Src, St, O>
where
    St: Stream,
    Src: TaskSource<St::Item, Output = Result<T, E>>,
    O: ResultOrder,
    E: From<TaskError>,
{
    type Item = Result<T, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut inner = self.project().inner;
        let error = match ready!(inner.as_mut().poll_next(cx)) {
            None => return Poll::Ready(None),
            Some(Ok(Ok(value))) => return Poll::Ready(Some(Ok(value))),
            Some(Ok(Err(error))) => error,
            Some(Err(error)) => E::from(error),
        };
        // The first error ends the stream and cancels the rest.
        inner.cancel_pinned();
        Poll::Ready(Some(Err(error)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, self.inner.size_hint().1)
    }
}

impl<Src, St, O, T, E> FusedStream for TryMapStream<Src, St, O>
where
    St: Stream,
    Src: TaskSource<St::Item, Output = Result<T, E>>,
    O: ResultOrder,
    E: From<TaskError>,
{
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<Src, St, O> fmt::Debug for TryMapStream<Src, St, O>
where
    St: Stream,
    Src: TaskSource<St::Item>,
    O: ResultOrder,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryMapStream")
            .field("inner", &self.inner)
            .finish()
    }
}
