//! [`Promise`]: the resolving side of a [`Task`], for pools in other crates.

use std::fmt;
use std::future::{Future, poll_fn};
use std::sync::Arc;
use std::task::{Context, Poll};

use super::cell::TaskCell;
use super::handle::Task;
use super::id::TaskId;
use crate::error::TaskError;

/// The resolving side of a [`Task`]: how a pool outside this crate (a process pool, a remote
/// pool) hands its users the same `Task<T>` the built-in pools do, which works with
/// `as_completed`, `wait` and the map streams.
///
/// The promise's owner [`start`](Self::start)s the task when its work begins, resolves it
/// once with [`complete`](Self::complete), [`fail`](Self::fail) or
/// [`resolve`](Self::resolve), and watches for [`Task::cancel`], which is allowed until the task
/// is resolved: [`is_cancelled`](Self::is_cancelled), [`cancelled`](Self::cancelled). A promise
/// dropped unresolved resolves its task as cancelled, so no task waits forever.
///
/// # Examples
///
/// ```
/// use futurepool_core::{Promise, TaskError};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (promise, task) = Promise::new();
/// std::thread::spawn(move || {
///     if promise.start() {
///         promise.complete(6 * 7);
///     }
/// });
/// assert_eq!(task.await.unwrap(), 42);
///
/// let (promise, task) = Promise::<u8>::new();
/// promise.fail(TaskError::crashed("worker killed by signal 9 (SIGKILL)"));
/// assert!(task.await.unwrap_err().is_crashed());
/// # }
/// ```
pub struct Promise<T> {
    cell: Arc<TaskCell<T>>,
}

impl<T: Send + 'static> Promise<T> {
    /// A queued task and the promise that resolves it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, task) = futurepool_core::Promise::<u32>::new();
    /// assert_eq!(promise.id(), task.id());
    /// assert!(!task.is_finished());
    /// ```
    pub fn new() -> (Self, Task<T>) {
        let cell: Arc<TaskCell<T>> = TaskCell::promised();
        (
            Self {
                cell: Arc::clone(&cell),
            },
            Task::new(cell),
        )
    }
}

impl<T> Promise<T> {
    /// The task's id.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, task) = futurepool_core::Promise::<()>::new();
    /// assert_eq!(promise.id(), task.id());
    /// ```
    pub fn id(&self) -> TaskId {
        self.cell.id()
    }

    /// Marks the task as running; `false` if it was cancelled first (then do not run it).
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, task) = futurepool_core::Promise::<()>::new();
    /// task.cancel();
    /// assert!(!promise.start());
    /// ```
    pub fn start(&self) -> bool {
        self.cell.start()
    }

    /// Resolves the task with `value`; `false` if it was cancelled first (the value is
    /// dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, task) = futurepool_core::Promise::new();
    /// assert!(promise.complete("done"));
    /// assert_eq!(task.blocking_wait().unwrap(), "done");
    /// ```
    pub fn complete(self, value: T) -> bool {
        self.resolve(Ok(value))
    }

    /// Resolves the task with `error`; `false` if it was cancelled first.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, task) = futurepool_core::Promise::<u8>::new();
    /// promise.fail(futurepool_core::TaskError::invalid("unknown function \"cube\""));
    /// assert!(task.blocking_wait().unwrap_err().is_invalid());
    /// ```
    pub fn fail(self, error: TaskError) -> bool {
        self.resolve(Err(error))
    }

    /// Resolves the task with `result`; `false` if it was cancelled first.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, task) = futurepool_core::Promise::<u8>::new();
    /// assert!(promise.resolve(Ok(1)));
    /// assert_eq!(task.blocking_wait().unwrap(), 1);
    /// ```
    pub fn resolve(self, result: Result<T, TaskError>) -> bool {
        self.cell.finish(result)
    }

    /// Resolves the task with `result` and calls `on_resolved` before the task's waiter is
    /// woken, so that what it records (a pool's counters) is seen by whoever awaited the task;
    /// `false`, without calling it, if the task was cancelled first.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// let completed = AtomicU64::new(0);
    /// let (promise, task) = futurepool_core::Promise::new();
    /// assert!(promise.resolve_then(Ok(7), || {
    ///     completed.fetch_add(1, Ordering::Relaxed);
    /// }));
    /// assert_eq!(task.blocking_wait().unwrap(), 7);
    /// assert_eq!(completed.load(Ordering::Relaxed), 1, "counted before the task resolved");
    ///
    /// let (promise, task) = futurepool_core::Promise::<u8>::new();
    /// task.cancel();
    /// assert!(!promise.resolve_then(Ok(1), || unreachable!("the task was cancelled")));
    /// ```
    pub fn resolve_then(self, result: Result<T, TaskError>, on_resolved: impl FnOnce()) -> bool {
        self.cell.finish_then(result, on_resolved)
    }

    /// Whether the task was cancelled (by [`Task::cancel`] or because it was resolved).
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, task) = futurepool_core::Promise::<()>::new();
    /// assert!(!promise.is_cancelled());
    /// assert!(task.cancel());
    /// assert!(promise.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.cell.completion.is_cancelled()
    }

    /// `Ready` once the task is cancelled; otherwise registers `cx` to be woken when it is.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    ///
    /// let (promise, task) = futurepool_core::Promise::<()>::new();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(promise.poll_cancelled(&mut cx).is_pending());
    /// task.cancel();
    /// assert!(promise.poll_cancelled(&mut cx).is_ready());
    /// ```
    pub fn poll_cancelled(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.cell.completion.poll_cancelled(cx)
    }

    /// Completes when the task is cancelled: race it against the work to stop the work.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future changes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (promise, task) = futurepool_core::Promise::<u32>::new();
    /// let worker = tokio::spawn(async move {
    ///     promise.start();
    ///     tokio::select! {
    ///         _ = promise.cancelled() => "stopped",
    ///         _ = std::future::pending::<()>() => unreachable!(),
    ///     }
    /// });
    /// assert!(task.cancel());
    /// assert_eq!(worker.await.unwrap(), "stopped");
    /// # }
    /// ```
    pub fn cancelled(&self) -> impl Future<Output = ()> + Send + '_
    where
        T: Send,
    {
        poll_fn(|cx| self.poll_cancelled(cx))
    }
}

/// Resolves the task as cancelled if it is not resolved yet.
impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        if !self.cell.completion.is_finished() {
            self.cell.cancel(true);
        }
    }
}

impl<T> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Promise")
            .field("id", &self.id())
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}
