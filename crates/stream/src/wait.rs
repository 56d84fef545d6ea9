//! [`wait`]: split tasks into finished and unfinished once a condition holds.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futurepool_core::{Task, TaskError};
use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::time::{Instant, Sleep};

/// When [`wait`] returns: Python's `FIRST_COMPLETED`, `FIRST_EXCEPTION` and `ALL_COMPLETED`.
///
/// # Examples
///
/// ```
/// use futurepool_stream::ReturnWhen;
/// assert_eq!(ReturnWhen::default(), ReturnWhen::AllCompleted);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any task has finished (or been cancelled).
    FirstCompleted,
    /// As soon as any task has finished with an error; if none does, when all have finished.
    ///
    /// An error is a [`TaskError`] (panic, cancellation, shutdown, …) unless another test is
    /// given with [`wait_with`] or [`Wait::error_if`]. Unlike Python's `FIRST_EXCEPTION`, a
    /// cancelled task counts; `wait_with(tasks, FirstError, |r| matches!(r, Err(e) if
    /// !e.is_cancelled()))` gives Python's rule.
    FirstError,
    /// When every task has finished.
    #[default]
    AllCompleted,
}

/// The outcome of [`wait`]: the tasks that have finished and those that have not.
///
/// Both lists keep the order the tasks were given in. Awaiting a task in `done` returns at once;
/// the tasks in `pending` are untouched and can be awaited, cancelled or waited on again.
///
/// # Examples
///
/// ```
/// use futurepool_core::{Task, TaskError};
/// use futurepool_stream::{wait, ReturnWhen, Waited};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let Waited { done, pending } =
///     wait([Task::ready(Ok::<_, TaskError>(1))], ReturnWhen::AllCompleted).await;
/// assert_eq!((done.len(), pending.len()), (1, 0));
/// # }
/// ```
#[derive(Debug)]
pub struct Waited<T> {
    /// Tasks that have finished: their outcome is ready.
    pub done: Vec<Task<T>>,
    /// Tasks that have not finished yet, as they were.
    pub pending: Vec<Task<T>>,
}

/// The default error test of [`wait`]: the task resolved to a [`TaskError`].
type IsTaskError<T> = fn(&Result<T, TaskError>) -> bool;

/// Waits until `when` holds for `tasks`, then returns them split into `done` and `pending`.
///
/// Python's `concurrent.futures.wait`. The tasks are only watched, never awaited, so each
/// outcome stays in its task. With no tasks it returns at once. For a time limit use
/// [`wait_timeout`] (or [`Wait::timeout`]); to count a task whose own output is an `Err` as an
/// error for [`ReturnWhen::FirstError`], use [`wait_with`].
///
/// # Examples
///
/// ```
/// use futurepool_core::BlockingPool;
/// use futurepool_stream::{wait, ReturnWhen};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = BlockingPool::new();
/// let (tx, rx) = std::sync::mpsc::channel::<()>();
/// let quick = pool.submit(|| 1);
/// let slow = pool.submit(move || rx.recv().map(|()| 2).unwrap_or(0));
/// let waited = wait([quick, slow], ReturnWhen::FirstCompleted).await;
/// assert_eq!(waited.done.len(), 1);
/// assert_eq!(waited.pending.len(), 1);
/// tx.send(()).unwrap();
/// for task in waited.pending {
///     assert_eq!(task.await.unwrap(), 2);
/// }
/// # }
/// ```
pub fn wait<T, I>(tasks: I, when: ReturnWhen) -> Wait<T>
where
    I: IntoIterator<Item = Task<T>>,
{
    let watching: FuturesUnordered<Finished<T>> = tasks
        .into_iter()
        .enumerate()
        .map(|(index, task)| Finished {
            index,
            task: Some(task),
        })
        .collect();
    Wait {
        when,
        watching,
        done: Vec::new(),
        is_error: |result: &Result<T, TaskError>| result.is_err(),
        error_seen: false,
        deadline: None,
        sleep: None,
        complete: false,
    }
}

/// Like [`wait`], but returns the partition as it is once `timeout` has passed, instead of
/// waiting longer.
///
/// Reaching the timeout is not an error: tell it by a non-empty `pending` where the condition
/// needed more.
///
/// # Panics
///
/// The returned future panics when polled outside a Tokio runtime with its time driver enabled.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futurepool_core::{AsyncPool, Task, TaskError};
/// use futurepool_stream::{wait_timeout, ReturnWhen};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let pool = AsyncPool::new();
/// let slow = pool.submit(async { tokio::time::sleep(Duration::from_secs(60)).await });
/// let quick = Task::ready(Ok::<_, TaskError>(()));
/// let waited = wait_timeout([slow, quick], ReturnWhen::AllCompleted, Duration::from_secs(1)).await;
/// assert_eq!((waited.done.len(), waited.pending.len()), (1, 1));
/// # }
/// ```
pub fn wait_timeout<T, I>(tasks: I, when: ReturnWhen, timeout: Duration) -> Wait<T>
where
    I: IntoIterator<Item = Task<T>>,
{
    wait(tasks, when).timeout(timeout)
}

/// Like [`wait`], with `is_error` deciding which finished tasks count as errors for
/// [`ReturnWhen::FirstError`].
///
/// `is_error` sees each finished task's outcome by reference. Use it for tasks that return
/// `Result`: `|r| !matches!(r, Ok(Ok(_)))` treats both a [`TaskError`] and an `Ok(Err(_))` output
/// as an error. For the other [`ReturnWhen`] values it is not called.
///
/// # Examples
///
/// ```
/// use futurepool_core::BlockingPool;
/// use futurepool_stream::{wait_with, ReturnWhen};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = BlockingPool::new();
/// let (tx, rx) = std::sync::mpsc::channel::<()>();
/// let bad_row = pool.submit(|| "x".parse::<u32>());
/// let slow = pool.submit(move || { let _ = rx.recv(); "7".parse::<u32>() });
/// let waited = wait_with([bad_row, slow], ReturnWhen::FirstError, |r| !matches!(r, Ok(Ok(_)))).await;
/// assert_eq!(waited.done.len(), 1);
/// assert_eq!(waited.pending.len(), 1);
/// drop(tx);
/// # }
/// ```
pub fn wait_with<T, I, P>(tasks: I, when: ReturnWhen, is_error: P) -> Wait<T, P>
where
    I: IntoIterator<Item = Task<T>>,
    P: FnMut(&Result<T, TaskError>) -> bool,
{
    wait(tasks, when).error_if(is_error)
}

/// Future for [`wait`], [`wait_timeout`] and [`wait_with`]; resolves to [`Waited`].
///
/// # Cancel safety
///
/// Dropping it before it resolves drops the tasks it holds, which detaches them (their work goes
/// on). It does not hand them back, so it is not cancel safe in a `select!` loop; there, keep
/// the tasks outside and use [`Task::finished`] instead.
///
/// # Panics
///
/// Polling it again after it resolved panics.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futurepool_core::{BlockingPool, Task};
/// use futurepool_stream::{wait, ReturnWhen, Wait};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = BlockingPool::new();
/// let tasks: Vec<Task<u8>> = (0..4).map(|n| pool.submit(move || n)).collect();
/// let waiting: Wait<u8> = wait(tasks, ReturnWhen::AllCompleted).timeout(Duration::from_secs(30));
/// let waited = waiting.await;
/// assert_eq!(waited.done.len(), 4);
/// # }
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Wait<T, P = IsTaskError<T>> {
    when: ReturnWhen,
    watching: FuturesUnordered<Finished<T>>,
    done: Vec<(usize, Task<T>)>,
    is_error: P,
    error_seen: bool,
    deadline: Option<Instant>,
    /// Created on first poll, so that the future can be built outside a runtime.
    sleep: Option<Pin<Box<Sleep>>>,
    complete: bool,
}

impl<T, P> Wait<T, P> {
    /// Returns at `deadline` with the partition as it is then, if the condition has not held
    /// before.
    ///
    /// # Panics
    ///
    /// The future panics when polled outside a Tokio runtime with its time driver enabled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futurepool_core::AsyncPool;
    /// use futurepool_stream::{wait, ReturnWhen};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let pool = AsyncPool::new();
    /// let slow = pool.submit(std::future::pending::<()>());
    /// let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    /// let waited = wait([slow], ReturnWhen::FirstCompleted).deadline(deadline).await;
    /// assert_eq!(waited.pending.len(), 1);
    /// # }
    /// ```
    pub fn deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self.sleep = None;
        self
    }

    /// Returns once `timeout` has passed from now with the partition as it is then, if the
    /// condition has not held before; see [`wait_timeout`].
    ///
    /// # Panics
    ///
    /// The future panics when polled outside a Tokio runtime with its time driver enabled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futurepool_core::AsyncPool;
    /// use futurepool_stream::{wait, ReturnWhen};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let pool = AsyncPool::new();
    /// let slow = pool.submit(std::future::pending::<()>());
    /// let waited = wait([slow], ReturnWhen::AllCompleted).timeout(Duration::from_secs(5)).await;
    /// assert_eq!(waited.pending.len(), 1);
    /// # }
    /// ```
    pub fn timeout(self, timeout: Duration) -> Self {
        self.deadline(Instant::now() + timeout)
    }

    /// Uses `is_error` to decide which finished tasks are errors for [`ReturnWhen::FirstError`];
    /// see [`wait_with`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{Task, TaskError};
    /// use futurepool_stream::{wait, ReturnWhen};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let failed_row = Task::ready(Ok::<Result<u8, String>, TaskError>(Err("bad".into())));
    /// let waited = wait([failed_row], ReturnWhen::FirstError)
    ///     .error_if(|r| !matches!(r, Ok(Ok(_))))
    ///     .await;
    /// assert_eq!(waited.done.len(), 1);
    /// # }
    /// ```
    pub fn error_if<Q>(self, is_error: Q) -> Wait<T, Q>
    where
        Q: FnMut(&Result<T, TaskError>) -> bool,
    {
        Wait {
            when: self.when,
            watching: self.watching,
            done: self.done,
            is_error,
            error_seen: self.error_seen,
            deadline: self.deadline,
            sleep: self.sleep,
            complete: self.complete,
        }
    }
}

impl<T, P> Wait<T, P>
where
    P: FnMut(&Result<T, TaskError>) -> bool,
{
    /// Whether the condition holds for the tasks moved to `done` so far.
    fn satisfied(&self) -> bool {
        match self.when {
            _ if self.watching.is_empty() => true,
            ReturnWhen::FirstCompleted => !self.done.is_empty(),
            ReturnWhen::FirstError => self.error_seen,
            ReturnWhen::AllCompleted => false,
        }
    }

    /// Builds the result: every task that is finished by now goes to `done`, in input order.
    fn finish(&mut self) -> Waited<T> {
        self.complete = true;
        let mut done = std::mem::take(&mut self.done);
        let mut pending = Vec::new();
        for Finished { index, task } in std::mem::take(&mut self.watching) {
            let task = task.expect("a watched task is present until it finishes");
            if task.is_finished() {
                done.push((index, task));
            } else {
                pending.push((index, task));
            }
        }
        done.sort_unstable_by_key(|(index, _)| *index);
        pending.sort_unstable_by_key(|(index, _)| *index);
        Waited {
            done: done.into_iter().map(|(_, task)| task).collect(),
            pending: pending.into_iter().map(|(_, task)| task).collect(),
        }
    }
}

impl<T, P> fmt::Debug for Wait<T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("when", &self.when)
            .field("done", &self.done.len())
            .field("pending", &self.watching.len())
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl<T, P> Future for Wait<T, P>
where
    P: FnMut(&Result<T, TaskError>) -> bool + Unpin,
{
    type Output = Waited<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Waited<T>> {
        let this = &mut *self;
        assert!(!this.complete, "`Wait` polled after it resolved");
        while let Poll::Ready(Some((index, task))) = this.watching.poll_next_unpin(cx) {
            if this.when == ReturnWhen::FirstError && !this.error_seen {
                let is_error = &mut this.is_error;
                this.error_seen = task.peek(|result| is_error(result)).unwrap_or(false);
            }
            this.done.push((index, task));
        }
        if this.satisfied() {
            return Poll::Ready(this.finish());
        }
        if let Some(deadline) = this.deadline {
            let sleep = this
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
            if sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(this.finish());
            }
        }
        Poll::Pending
    }
}

/// Resolves, with its task, once the task is finished; the outcome stays in the task.
struct Finished<T> {
    index: usize,
    task: Option<Task<T>>,
}

impl<T> Future for Finished<T> {
    type Output = (usize, Task<T>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let task = self
            .task
            .as_mut()
            .expect("`Finished` polled after it resolved");
        match task.poll_finished(cx) {
            Poll::Ready(()) => {
                let task = self.task.take().expect("checked above");
                Poll::Ready((self.index, task))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
