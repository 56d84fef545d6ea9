//! [`Task`]: the handle to one submitted closure or future's outcome.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::cell::TaskCell;
use super::id::TaskId;
use super::state::Stage;
use crate::error::TaskError;
use crate::sync::thread_waker;

/// A handle to the outcome of one submitted closure or future: futurepool's `Future`.
///
/// Await it for `Ok(value)` or a [`TaskError`] saying why there is no value (panic,
/// cancelled, shut down). It is `Unpin`, so `&mut task` can be awaited under
/// `tokio::time::timeout` and awaited again later. Dropping a `Task` detaches it: the work
/// still runs to completion and its value is dropped.
///
/// # Examples
///
/// ```
/// use futurepool_core::BlockingPool;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = BlockingPool::new();
/// let task = pool.submit(|| 6 * 7);
/// assert_eq!(task.await.unwrap(), 42);
/// # }
/// ```
///
/// # Panics
///
/// Polling a `Task` again after it returned `Poll::Ready` panics, as for most futures.
#[must_use = "a Task does nothing on its own; dropping it detaches the work"]
pub struct Task<T> {
    cell: Arc<TaskCell<T>>,
}

impl<T> Task<T> {
    pub(crate) fn new(cell: Arc<TaskCell<T>>) -> Self {
        Self { cell }
    }

    /// A task that is already finished with `result`; handy for adapters and tests.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{Task, TaskError};
    ///
    /// let task = Task::ready(Ok::<_, TaskError>(5));
    /// assert!(task.is_finished());
    /// assert_eq!(task.blocking_wait().unwrap(), 5);
    /// ```
    pub fn ready(result: Result<T, TaskError>) -> Self {
        Self::new(TaskCell::resolved(result))
    }

    /// This task's id.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(1).build().unwrap();
    /// let task = pool.submit(|| ());
    /// println!("submitted task {}", task.id());
    /// ```
    pub fn id(&self) -> TaskId {
        self.cell.id()
    }

    /// Whether the task has an outcome: a value, an error, or cancellation.
    ///
    /// Once `true` it stays `true`, and awaiting the task returns at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(1).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let task = pool.submit(move || rx.recv().unwrap());
    /// assert!(!task.is_finished());
    /// tx.send(()).unwrap();
    /// task.blocking_wait().unwrap();
    /// ```
    pub fn is_finished(&self) -> bool {
        self.cell.completion.is_finished()
    }

    /// Whether the task finished with an error ([`TaskError`]) that has not been taken yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{Task, TaskError};
    /// assert!(Task::<u8>::ready(Err(TaskError::cancelled())).is_failed());
    /// assert!(!Task::ready(Ok::<_, TaskError>(1)).is_failed());
    /// ```
    pub fn is_failed(&self) -> bool {
        self.peek(Result::is_err).unwrap_or(false)
    }

    /// Looks at the outcome without taking it: `None` while the task runs (or once the outcome
    /// was taken by awaiting).
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{Task, TaskError};
    /// let task = Task::ready(Ok::<_, TaskError>(Err::<u8, &str>("bad row")));
    /// // a task whose own output is an `Err` can be told apart without awaiting it:
    /// assert_eq!(task.peek(|r| matches!(r, Ok(Err(_)))), Some(true));
    /// ```
    pub fn peek<R>(&self, f: impl FnOnce(&Result<T, TaskError>) -> R) -> Option<R> {
        self.cell.completion.peek(f)
    }

    /// Cancels the task; `true` if this call means it will never deliver a value.
    ///
    /// That is so when the task had not started yet (its closure or future, with everything
    /// it captured, is dropped before `cancel` returns, and its queue place is given back),
    /// when it is a running `AsyncPool` future (dropped at its current await point), a running
    /// closure submitted with `submit_cancellable` (its token is triggered and whatever it
    /// returns is discarded), or a task of a pool in another crate that can stop running work
    /// (see [`Promise`](crate::Promise)). It is `false` when the task has already finished or
    /// been cancelled, or is a running plain closure, which cannot be stopped. A cancelled task
    /// resolves to an error with [`TaskError::is_cancelled`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::CpuPool;
    ///
    /// let pool = CpuPool::builder().max_workers(1).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let (started_tx, started) = std::sync::mpsc::channel();
    /// let busy = pool.submit(move || { started_tx.send(()).unwrap(); rx.recv().unwrap() });
    /// started.recv().unwrap();
    /// let waiting = pool.submit(|| 1);
    /// assert!(waiting.cancel());          // not started: cancelled
    /// assert!(!busy.cancel());            // a running closure cannot be stopped
    /// tx.send(()).unwrap();
    /// assert!(waiting.blocking_wait().unwrap_err().is_cancelled());
    /// busy.blocking_wait().unwrap();
    /// ```
    pub fn cancel(&self) -> bool {
        self.cell.cancel(false)
    }

    /// Polls for completion without taking the outcome: `Ready(())` once
    /// [`is_finished`](Self::is_finished) would say `true`.
    ///
    /// Adapters such as `wait` use it to partition tasks while leaving each outcome in place.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::new();
    /// let mut task = pool.submit(|| 3);
    /// std::future::poll_fn(|cx| task.poll_finished(cx)).await;
    /// assert!(task.is_finished());
    /// assert_eq!(task.await.unwrap(), 3);
    /// # }
    /// ```
    pub fn poll_finished(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.cell.completion.poll_finished(cx)
    }

    /// Waits until the task is finished without taking its outcome.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the returned future leaves the task as it was.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::new();
    /// let mut task = pool.submit(|| "done");
    /// task.finished().await;
    /// assert_eq!(task.peek(|r| r.is_ok()), Some(true));
    /// # }
    /// ```
    pub fn finished(&mut self) -> impl Future<Output = ()> + '_ {
        poll_fn(move |cx| self.poll_finished(cx))
    }

    /// Blocks the current thread until the task finishes and returns its outcome.
    ///
    /// Meant for synchronous code outside the async runtime (a `main` without Tokio, a
    /// `CpuPool` used from plain threads, a closure on a `BlockingPool` or in
    /// `spawn_blocking`).
    ///
    /// # Panics
    ///
    /// Panics at once, with a message saying to `.await` the task instead, when called on a
    /// thread that drives a Tokio runtime (inside `block_on` or an async task): blocking there
    /// could keep the task itself from ever running. This is the rule of Tokio's own
    /// `blocking_recv`. The panic points at the call of `blocking_wait`.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::new();
    /// assert_eq!(pool.submit(|| 2 + 2).blocking_wait().unwrap(), 4);
    /// ```
    #[track_caller]
    pub fn blocking_wait(mut self) -> Result<T, TaskError> {
        refuse_on_runtime_thread();
        let waker = thread_waker(std::thread::current());
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(result) = Pin::new(&mut self).poll(&mut cx) {
                return result;
            }
            std::thread::park();
        }
    }
}

/// Panics, at the caller of `blocking_wait`, if the current thread drives a Tokio runtime.
#[track_caller]
fn refuse_on_runtime_thread() {
    if tokio::runtime::Handle::try_current().is_ok() && probe::blocking_is_refused() {
        panic!(
            "`Task::blocking_wait` called on a thread that drives a Tokio runtime, where blocking \
             could keep the task from ever running: `.await` the task instead"
        );
    }
}

/// Whether Tokio refuses blocking on this thread, asked without a second panic message.
///
/// Tokio has no public test for "this thread drives a runtime" (a `spawn_blocking` thread is
/// inside a runtime's context too, and may block), so this asks Tokio's own blocking call,
/// which panics exactly there. The panic is caught, and its message kept off the output by a
/// panic hook that stays silent only while this thread probes and passes every other panic
/// to the hook it found. The hook is installed the first time a probe runs (never while the
/// thread is already panicking, when the standard library forbids it); a hook the program
/// sets later replaces it, and then Tokio's message shows again, before futurepool's.
mod probe {
    use std::cell::Cell;
    use std::panic::{catch_unwind, set_hook, take_hook};
    use std::sync::Once;

    thread_local! {
        static PROBING: Cell<bool> = const { Cell::new(false) };
    }

    static QUIET_HOOK: Once = Once::new();

    pub(super) fn blocking_is_refused() -> bool {
        if !std::thread::panicking() {
            QUIET_HOOK.call_once(|| {
                let found = take_hook();
                set_hook(Box::new(move |info| {
                    if !PROBING.with(Cell::get) {
                        found(info);
                    }
                }));
            });
        }
        PROBING.with(|probing| probing.set(true));
        let refused = catch_unwind(|| drop(tokio::sync::Mutex::new(()).blocking_lock())).is_err();
        PROBING.with(|probing| probing.set(false));
        refused
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, TaskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.cell.completion.poll_outcome(cx)
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.cell.completion.stage() {
            Stage::Queued => "queued",
            Stage::Running => "running",
            Stage::Done => "finished",
            Stage::Cancelled => "cancelled",
        };
        f.debug_struct("Task")
            .field("id", &self.id())
            .field("state", &state)
            .finish()
    }
}
