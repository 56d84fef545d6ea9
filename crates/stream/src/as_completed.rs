//! [`as_completed`]: outputs of many futures in the order they finish.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futurepool_core::TaskError;
use futures_util::stream::{FusedStream, FuturesUnordered, Stream, StreamExt};
use tokio::time::{Instant, Sleep};

/// Yields the outputs of `futures` in the order they finish: Python's `as_completed`.
///
/// Any [`IntoFuture`] is accepted, so a key can ride along with each task's result
/// (`task.map(move |r| (url, r))` with `futures_util::FutureExt`). Every output is yielded
/// exactly once; futures that have already finished come out first. More futures can be added
/// with [`push`](AsCompleted::push) while the stream is being consumed. For a deadline, see
/// [`timeout`](AsCompleted::timeout) and [`deadline`](AsCompleted::deadline).
///
/// The futures are polled by the stream itself, so plain futures only make progress while it is
/// polled; futurepool [`Task`](futurepool_core::Task)s run on their pools regardless.
///
/// # Examples
///
/// ```
/// use futurepool_core::BlockingPool;
/// use futurepool_stream::as_completed;
/// use futures_util::{FutureExt, StreamExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = BlockingPool::new();
/// let tasks = ["a", "bb", "ccc"].map(|word| pool.submit(move || word.len()).map(move |r| (word, r)));
/// let mut done = as_completed(tasks);
/// let mut seen = Vec::new();
/// while let Some((word, len)) = done.next().await {
///     seen.push((word, len.unwrap()));
/// }
/// seen.sort();
/// assert_eq!(seen, [("a", 1), ("bb", 2), ("ccc", 3)]);
/// # }
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    let inner: FuturesUnordered<_> = futures.into_iter().map(IntoFuture::into_future).collect();
    AsCompleted {
        total: inner.len(),
        inner,
    }
}

/// Like [`as_completed`], but gives up once `timeout` has passed: Python's
/// `as_completed(fs, timeout)`.
///
/// Shorthand for `as_completed(futures).timeout(timeout)`; see [`AsCompletedTimeout`] for what
/// happens at the deadline.
///
/// # Panics
///
/// The returned stream panics when polled outside a Tokio runtime with its time driver enabled.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futurepool_stream::as_completed_timeout;
/// use futures_util::{FutureExt, StreamExt};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let futures = vec![
///     futures_util::future::ready(1).boxed(),
///     futures_util::future::pending().boxed(),
/// ];
/// let out: Vec<_> = as_completed_timeout(futures, Duration::from_secs(1)).collect().await;
/// assert_eq!(out[0], Ok(1));
/// assert_eq!(out[1].as_ref().unwrap_err().to_string(), "1 (of 2) futures unfinished");
/// assert_eq!(out.len(), 2);
/// # }
/// ```
pub fn as_completed_timeout<I>(
    futures: I,
    timeout: Duration,
) -> AsCompletedTimeout<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    as_completed(futures).timeout(timeout)
}

/// Stream for [`as_completed`]: yields each future's output as it finishes.
///
/// It is `Unpin`, ends (`None`) whenever no future is left, and starts yielding again if more
/// are [`push`](Self::push)ed after that.
///
/// # Cancel safety
///
/// `next()` on this stream is cancel safe: an output is only taken out of its future when it is
/// returned.
///
/// # Examples
///
/// ```
/// use futurepool_core::{CpuPool, Task};
/// use futurepool_stream::{as_completed, AsCompleted};
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = CpuPool::builder().max_workers(2).build().unwrap();
/// let mut done: AsCompleted<Task<u32>> = as_completed((1..=3).map(|n| pool.submit(move || n)));
/// let mut total = 0;
/// while let Some(n) = done.next().await {
///     total += n.unwrap();
/// }
/// assert_eq!(total, 6);
/// # }
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F> {
    inner: FuturesUnordered<F>,
    /// How many futures were ever given to the stream, for the timeout message.
    total: usize,
}

impl<F: Future> AsCompleted<F> {
    /// Adds one more future; its output will be yielded like the others'.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::CpuPool;
    /// use futurepool_stream::as_completed;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = CpuPool::builder().max_workers(2).build().unwrap();
    /// let mut done = as_completed([pool.submit(|| 3u32)]);
    /// let mut sum = 0;
    /// while let Some(n) = done.next().await {
    ///     let n = n.unwrap();
    ///     sum += n;
    ///     if n > 1 {
    ///         done.push(pool.submit(move || n - 1)); // a crawler would push newly found links
    ///     }
    /// }
    /// assert_eq!(sum, 3 + 2 + 1);
    /// # }
    /// ```
    pub fn push(&mut self, future: impl IntoFuture<IntoFuture = F>) {
        self.inner.push(future.into_future());
        self.total += 1;
    }

    /// The number of futures whose output has not been yielded yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let done = futurepool_stream::as_completed([1, 2].map(std::future::ready));
    /// assert_eq!(done.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether every future's output has been yielded (or none was given).
    ///
    /// # Examples
    ///
    /// ```
    /// let done = futurepool_stream::as_completed(Vec::<std::future::Ready<()>>::new());
    /// assert!(done.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Gives up at `deadline`: the stream then yields one timeout error and ends.
    ///
    /// See [`AsCompletedTimeout`] for the details.
    ///
    /// # Panics
    ///
    /// The returned stream panics when polled outside a Tokio runtime with its time driver
    /// enabled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futurepool_stream::as_completed;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let deadline = tokio::time::Instant::now() + Duration::from_millis(50);
    /// let mut done = as_completed([std::future::pending::<u8>()]).deadline(deadline);
    /// assert!(done.next().await.unwrap().unwrap_err().is_timeout());
    /// assert!(done.next().await.is_none());
    /// assert_eq!(done.into_remaining().len(), 1); // still there, never cancelled
    /// # }
    /// ```
    pub fn deadline(self, deadline: Instant) -> AsCompletedTimeout<F> {
        AsCompletedTimeout {
            inner: self,
            deadline,
            sleep: None,
            timed_out: false,
        }
    }

    /// Gives up once `timeout` has passed from now; see [`deadline`](Self::deadline).
    ///
    /// # Panics
    ///
    /// The returned stream panics when polled outside a Tokio runtime with its time driver
    /// enabled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futurepool_stream::as_completed;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let mut done = as_completed([std::future::pending::<u8>()]).timeout(Duration::from_secs(2));
    /// let err = done.next().await.unwrap().unwrap_err();
    /// assert_eq!(err.to_string(), "1 (of 1) futures unfinished");
    /// # }
    /// ```
    pub fn timeout(self, timeout: Duration) -> AsCompletedTimeout<F> {
        self.deadline(Instant::now() + timeout)
    }

    /// Takes back the futures whose output has not been yielded yet, in no particular order.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{Task, TaskError};
    ///
    /// let done = futurepool_stream::as_completed([Task::ready(Ok::<_, TaskError>(1))]);
    /// let tasks: Vec<Task<i32>> = done.into_remaining();
    /// assert_eq!(tasks.len(), 1);
    /// ```
    pub fn into_remaining(self) -> Vec<F>
    where
        F: Unpin,
    {
        self.inner.into_iter().collect()
    }
}

impl<F> fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.inner.len())
            .field("total", &self.total)
            .finish()
    }
}

impl<F: Future> Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.inner.len(), Some(self.inner.len()))
    }
}

impl<F: Future> FusedStream for AsCompleted<F> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

/// Stream for [`AsCompleted::timeout`], [`AsCompleted::deadline`] and [`as_completed_timeout`].
///
/// It yields `Ok(output)` for each future that finishes in time. Outputs that are ready are
/// always yielded before the deadline is looked at, so futures that had already finished come
/// out even with a deadline in the past. When the deadline has passed and no output is ready,
/// it yields one `Err` with [`TaskError::is_timeout`] whose message reads like Python's,
/// `"2 (of 4) futures unfinished"` (unfinished, of all ever given), and then ends for good.
///
/// The unfinished futures are **neither cancelled nor dropped** at the deadline, as in Python
/// where they go on running: they stay in the stream, and
/// [`into_remaining`](Self::into_remaining) hands them back (e.g. to cancel them, await them
/// longer, or pass them to [`wait`](crate::wait)). Dropping the stream drops them; for
/// futurepool [`Task`](futurepool_core::Task)s that detaches them, so their work still runs.
///
/// # Cancel safety
///
/// `next()` on this stream is cancel safe.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futurepool_core::{AsyncPool, TaskError};
/// use futurepool_stream::as_completed;
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let pool = AsyncPool::new();
/// let naps = [1, 2, 30].map(|s| {
///     pool.submit(async move { tokio::time::sleep(Duration::from_secs(s)).await; s })
/// });
/// let mut done = as_completed(naps).timeout(Duration::from_secs(10));
/// let mut finished = Vec::new();
/// while let Some(item) = done.next().await {
///     match item {
///         Ok(task_result) => finished.push(task_result.unwrap()),
///         Err(e) => assert_eq!(e.to_string(), "1 (of 3) futures unfinished"),
///     }
/// }
/// assert_eq!(finished, [1, 2]);
/// # }
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct AsCompletedTimeout<F> {
    inner: AsCompleted<F>,
    deadline: Instant,
    /// Created on first need, so that the stream can be built outside a runtime.
    sleep: Option<Pin<Box<Sleep>>>,
    timed_out: bool,
}

impl<F: Future> AsCompletedTimeout<F> {
    /// Adds one more future, as [`AsCompleted::push`] does.
    ///
    /// A future pushed after the deadline has fired is kept but never polled; take it back with
    /// [`into_remaining`](Self::into_remaining).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futurepool_stream::as_completed;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let mut done = as_completed([std::future::ready(1)]).timeout(Duration::from_secs(1));
    /// assert_eq!(done.next().await, Some(Ok(1)));
    /// done.push(std::future::ready(2));
    /// assert_eq!(done.next().await, Some(Ok(2)));
    /// # }
    /// ```
    pub fn push(&mut self, future: impl IntoFuture<IntoFuture = F>) {
        self.inner.push(future);
    }

    /// The number of futures whose output has not been yielded yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let done = futurepool_stream::as_completed([async { 1 }]).timeout(Duration::from_secs(1));
    /// assert_eq!(done.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether every future's output has been yielded (or none was given).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let done = futurepool_stream::as_completed([async { 1 }]).timeout(Duration::from_secs(1));
    /// assert!(!done.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Whether the deadline fired (the timeout error was yielded).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let mut done = futurepool_stream::as_completed([std::future::pending::<()>()])
    ///     .timeout(Duration::from_millis(10));
    /// assert!(!done.is_timed_out());
    /// done.next().await;
    /// assert!(done.is_timed_out());
    /// # }
    /// ```
    pub fn is_timed_out(&self) -> bool {
        self.timed_out
    }

    /// Takes back the futures whose output has not been yielded, in no particular order.
    ///
    /// After a timeout these are the unfinished ones, untouched: cancel them, keep awaiting them,
    /// or drop them.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futurepool_core::AsyncPool;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let pool = AsyncPool::new();
    /// let slow = pool.submit(async { tokio::time::sleep(Duration::from_secs(60)).await });
    /// let mut done = futurepool_stream::as_completed([slow]).timeout(Duration::from_secs(1));
    /// assert!(done.next().await.unwrap().unwrap_err().is_timeout());
    /// for task in done.into_remaining() {
    ///     assert!(task.cancel());
    /// }
    /// # }
    /// ```
    pub fn into_remaining(self) -> Vec<F>
    where
        F: Unpin,
    {
        self.inner.into_remaining()
    }
}

impl<F> fmt::Debug for AsCompletedTimeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompletedTimeout")
            .field("remaining", &self.inner.inner.len())
            .field("total", &self.inner.total)
            .field("deadline", &self.deadline)
            .field("timed_out", &self.timed_out)
            .finish()
    }
}

impl<F: Future> Stream for AsCompletedTimeout<F> {
    type Item = Result<F::Output, TaskError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.timed_out {
            return Poll::Ready(None);
        }
        match this.inner.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(output)) => return Poll::Ready(Some(Ok(output))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        let deadline = this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        this.timed_out = true;
        let message = format!(
            "{} (of {}) futures unfinished",
            this.inner.len(),
            this.inner.total
        );
        Poll::Ready(Some(Err(TaskError::timeout(message))))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.timed_out {
            (0, Some(0))
        } else {
            // Each future yields once, or the timeout error stands for all that are left.
            let len = self.inner.len();
            (len.min(1), Some(len + 1))
        }
    }
}

impl<F: Future> FusedStream for AsCompletedTimeout<F> {
    fn is_terminated(&self) -> bool {
        self.timed_out || self.inner.is_terminated()
    }
}
