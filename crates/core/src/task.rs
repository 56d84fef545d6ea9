//! The [`Task`] handle: a future for one submitted closure or future's outcome.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use futures_util::task::AtomicWaker;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use crate::error::TaskError;
use crate::shared::{KeepSpent, Spent};
use crate::stats::{Counters, Move};

/// A task's identity, unique within the process.
///
/// Ids count up from 1 in submission order across all pools. They appear in `TaskError`
/// messages and in each task's `tracing` span.
///
/// # Examples
///
/// ```
/// let pool = futurepool_core::CpuPool::builder().max_workers(1).build().unwrap();
/// let (a, b) = (pool.submit(|| ()), pool.submit(|| ()));
/// assert!(a.id() < b.id());
/// assert_eq!(a.id().to_string(), a.id().as_u64().to_string());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(u64);

impl TaskId {
    fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The id as a number.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(1).build().unwrap();
    /// assert!(pool.submit(|| ()).id().as_u64() >= 1);
    /// ```
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

const QUEUED: u8 = 0;
const RUNNING: u8 = 1;
const DONE: u8 = 2;
const CANCELLED: u8 = 3;

enum Slot<T> {
    Empty,
    Ready(Result<T, TaskError>),
    Taken,
}

struct Cell<T> {
    slot: Slot<T>,
    /// The job's spent box, freed with the task (see `Spent`).
    spent: Option<Spent>,
    /// A place in the pool's bounded queue, given back when the job ends (or the task is
    /// cancelled before it starts).
    permit: Option<OwnedSemaphorePermit>,
}

/// State shared by a [`Task`] and the job that runs it.
pub(crate) struct Inner<T> {
    id: TaskId,
    state: AtomicU8,
    /// Whether a running task can still be cancelled: an async future (dropped) or a
    /// cooperative closure (told through its token).
    interruptible: bool,
    token: Option<CancellationToken>,
    /// Whether the task holds a place in a bounded queue (`Cell::permit`).
    bounded: bool,
    cell: Mutex<Cell<T>>,
    /// Wakes whoever awaits the [`Task`].
    waker: AtomicWaker,
    /// Wakes the runner of an async task so that it drops the future on cancel.
    runner: AtomicWaker,
    counters: Option<Arc<Counters>>,
}

impl<T> Inner<T> {
    /// A queued task, counted as submitted.
    pub(crate) fn queued(
        counters: &Arc<Counters>,
        interruptible: bool,
        token: Option<CancellationToken>,
        permit: Option<OwnedSemaphorePermit>,
    ) -> Arc<Self> {
        counters.record(Move::Submitted);
        Arc::new(Self {
            id: TaskId::next(),
            state: AtomicU8::new(QUEUED),
            interruptible,
            token,
            bounded: permit.is_some(),
            cell: Mutex::new(Cell {
                slot: Slot::Empty,
                spent: None,
                permit,
            }),
            waker: AtomicWaker::new(),
            runner: AtomicWaker::new(),
            counters: Some(Arc::clone(counters)),
        })
    }

    pub(crate) fn id(&self) -> TaskId {
        self.id
    }

    pub(crate) fn token(&self) -> Option<&CancellationToken> {
        self.token.as_ref()
    }

    fn lock(&self) -> MutexGuard<'_, Cell<T>> {
        self.cell.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, change: Move) {
        if let Some(counters) = &self.counters {
            counters.record(change);
        }
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.state.load(Ordering::Acquire) == CANCELLED
    }

    /// Moves the task from queued to running; `false` if it was cancelled first.
    pub(crate) fn start(&self) -> bool {
        if self
            .state
            .compare_exchange(QUEUED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return false;
        }
        self.record(Move::Started);
        true
    }

    /// Delivers the outcome of a running task, unless it was cancelled meanwhile.
    pub(crate) fn finish(&self, result: Result<T, TaskError>) {
        let failed = result.is_err();
        let mut cell = self.lock();
        if self
            .state
            .compare_exchange(RUNNING, DONE, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            cell.slot = Slot::Ready(result);
            drop(cell);
            self.record(if failed {
                Move::Failed
            } else {
                Move::Completed
            });
            self.waker.wake();
        }
    }

    /// Takes back a queued task whose submission the pool refused after all.
    pub(crate) fn refuse(&self, error: TaskError) {
        let mut cell = self.lock();
        if self
            .state
            .compare_exchange(QUEUED, DONE, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            cell.slot = Slot::Ready(Err(error.with_task_id(self.id)));
            let permit = cell.permit.take();
            drop(cell);
            drop(permit);
            self.record(Move::Refused);
            self.waker.wake();
        }
    }

    /// Cancels the task. With `force`, a running closure is given up on too (its job is being
    /// dropped without finishing, e.g. because the runtime shuts down).
    pub(crate) fn cancel(&self, force: bool) -> bool {
        let mut cell = self.lock();
        let from = loop {
            let state = self.state.load(Ordering::Acquire);
            let allowed = match state {
                QUEUED => true,
                RUNNING => force || self.interruptible,
                _ => false,
            };
            if !allowed {
                return false;
            }
            if self
                .state
                .compare_exchange(state, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                break state;
            }
        };
        cell.slot = Slot::Ready(Err(TaskError::cancelled().with_task_id(self.id)));
        // A running job keeps its place until it actually ends (see `Guard`).
        let permit = if from == QUEUED {
            cell.permit.take()
        } else {
            None
        };
        drop(cell);
        drop(permit);
        self.record(if from == QUEUED {
            Move::CancelledQueued
        } else {
            Move::CancelledRunning
        });
        if let Some(token) = &self.token {
            token.cancel();
        }
        self.runner.wake();
        self.waker.wake();
        true
    }

    /// Registers the runner of an async task to be woken on cancel.
    pub(crate) fn register_runner(&self, waker: &Waker) {
        self.runner.register(waker);
    }
}

impl<T: Send> KeepSpent for Inner<T> {
    fn keep_spent(&self, spent: Spent) {
        self.lock().spent = Some(spent);
    }
}

/// Ends a job: gives back its place in the bounded queue, counts the job as ended (which
/// `shutdown` waits for), and cancels the task if the job is
/// dropped before delivering an outcome, so that no [`Task`] is left waiting forever (for
/// example when the runtime shuts down with the job still queued).
pub(crate) struct Guard<T>(pub(crate) Arc<Inner<T>>);

impl<T> Drop for Guard<T> {
    fn drop(&mut self) {
        if self.0.state.load(Ordering::Acquire) < DONE {
            self.0.cancel(true);
        }
        if self.0.bounded {
            let permit = self.0.lock().permit.take();
            drop(permit);
        }
        if let Some(counters) = &self.0.counters {
            counters.job_ended();
        }
    }
}

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
    inner: Arc<Inner<T>>,
}

impl<T> Task<T> {
    pub(crate) fn new(inner: Arc<Inner<T>>) -> Self {
        Self { inner }
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
        let id = TaskId::next();
        let (state, result) = match result {
            Err(e) if e.is_cancelled() => (CANCELLED, Err(e)),
            Err(e) if e.task_id().is_none() => (DONE, Err(e.with_task_id(id))),
            other => (DONE, other),
        };
        Self::new(Arc::new(Inner {
            id,
            state: AtomicU8::new(state),
            interruptible: false,
            token: None,
            bounded: false,
            cell: Mutex::new(Cell {
                slot: Slot::Ready(result),
                spent: None,
                permit: None,
            }),
            waker: AtomicWaker::new(),
            runner: AtomicWaker::new(),
            counters: None,
        }))
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
        self.inner.id
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
        self.inner.state.load(Ordering::Acquire) >= DONE
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
        match &self.inner.lock().slot {
            Slot::Ready(result) => Some(f(result)),
            _ => None,
        }
    }

    /// Cancels the task; `true` if this call means it will never deliver a value.
    ///
    /// That is so when the task had not started yet, when it is a running `AsyncPool` future
    /// (dropped at once, at its current await point), or a running closure submitted with
    /// `submit_cancellable` (its token is triggered and whatever it returns is discarded).
    /// It is `false` when the task has already finished or been cancelled, or is a running
    /// plain closure, which cannot be stopped. A cancelled task resolves to an error with
    /// [`TaskError::is_cancelled`].
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
        self.inner.cancel(false)
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
        let cell = self.inner.lock();
        if matches!(cell.slot, Slot::Empty) {
            self.inner.waker.register(cx.waker());
            Poll::Pending
        } else {
            Poll::Ready(())
        }
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
    /// `CpuPool` used from plain threads). Calling it on a runtime worker thread blocks that
    /// worker; await the task there instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::new();
    /// assert_eq!(pool.submit(|| 2 + 2).blocking_wait().unwrap(), 4);
    /// ```
    pub fn blocking_wait(mut self) -> Result<T, TaskError> {
        struct Unpark(Thread);
        impl Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
            fn wake_by_ref(self: &Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(result) = Pin::new(&mut self).poll(&mut cx) {
                return result;
            }
            std::thread::park();
        }
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, TaskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut cell = self.inner.lock();
        match std::mem::replace(&mut cell.slot, Slot::Taken) {
            Slot::Ready(result) => Poll::Ready(result),
            Slot::Empty => {
                cell.slot = Slot::Empty;
                self.inner.waker.register(cx.waker());
                Poll::Pending
            }
            Slot::Taken => panic!("`Task` polled after it returned `Poll::Ready`"),
        }
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.inner.state.load(Ordering::Acquire) {
            QUEUED => "queued",
            RUNNING => "running",
            DONE => "finished",
            _ => "cancelled",
        };
        f.debug_struct("Task")
            .field("id", &self.inner.id)
            .field("state", &state)
            .finish()
    }
}
