//! What every pool shares: its name, counters, shutdown state, bounded-queue room, and the
//! code that turns a closure or future into a queued job with its [`Task`].

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures_util::FutureExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::error::TaskError;
use crate::stats::{Counters, Move, PoolStats};
use crate::task::{Guard, Inner, Task};

/// A queued closure: runs the task, or, when dropped unrun, cancels it.
pub(crate) struct Job {
    run: JobFn,
    /// The task's state, which takes the spent closure once it has run.
    keeper: Arc<dyn KeepSpent>,
}

/// The closure a [`Job`] calls (once: it is `FnMut` only so that its box outlives the call).
pub(crate) type JobFn = Box<dyn FnMut() + Send + 'static>;

impl Job {
    /// Runs the task, then hands the spent closure to the task's state (see [`Spent`]).
    pub(crate) fn run(mut self) {
        (self.run)();
        self.keeper.keep_spent(Spent::Closure(self.run));
    }
}

/// A queued future: runs the task when awaited, or, when dropped unrun, cancels it.
pub(crate) struct AsyncJob {
    pub(crate) run: JobFuture,
    /// The task's state, which takes the spent future once it has run.
    keeper: Arc<dyn KeepSpent>,
}

/// The future an [`AsyncJob`] awaits.
pub(crate) type JobFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

impl AsyncJob {
    /// Hands the spent future to the task's state (see [`Spent`]).
    pub(crate) fn retire(self) {
        self.keeper.keep_spent(Spent::Future(self.run));
    }
}

/// A job's box after it ran, holding nothing any more (its captures were dropped as it
/// finished, so keeping it makes no reference cycle).
///
/// It is freed with the task's state, usually by the thread that awaited the task, instead of
/// by the worker: a worker freeing, one by one, boxes that another thread allocated makes the
/// system allocator take a contended lock, which cost as much as the rest of a tiny task.
#[allow(dead_code, reason = "held only to be dropped with the task")]
pub(crate) enum Spent {
    Closure(JobFn),
    Future(JobFuture),
}

/// Where a [`Spent`] job waits to be freed.
pub(crate) trait KeepSpent: Send + Sync {
    fn keep_spent(&self, spent: Spent);
}

/// Why a pool refused a submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    Full,
    Shutdown,
}

impl Refusal {
    fn error(self) -> TaskError {
        match self {
            Self::Full => TaskError::rejected(),
            Self::Shutdown => TaskError::shutdown(),
        }
    }
}

/// State common to all pools.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) name: Arc<str>,
    pub(crate) counters: Arc<Counters>,
    /// Triggered by `shutdown_now`: parent of every cooperative task's token.
    pub(crate) kill: CancellationToken,
    /// Set by `shutdown_now` before `kill` is triggered; cheaper to read than the token.
    killed: AtomicBool,
    closed: AtomicBool,
    /// Places for unfinished tasks, when the pool has a bounded queue.
    room: Option<Arc<Semaphore>>,
}

impl Shared {
    /// `queue_capacity` bounds the tasks waiting for one of `max_workers` workers.
    pub(crate) fn new(name: Arc<str>, max_workers: usize, queue_capacity: Option<usize>) -> Self {
        Self {
            name,
            counters: Arc::default(),
            kill: CancellationToken::new(),
            killed: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            // Unfinished tasks are at most `max_workers` running plus `queue_capacity` waiting.
            room: queue_capacity.map(|n| {
                let places = max_workers.saturating_add(n).min(Semaphore::MAX_PERMITS);
                Arc::new(Semaphore::new(places))
            }),
        }
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn stats(&self) -> PoolStats {
        self.counters.snapshot()
    }

    /// Marks the pool as shut down now and triggers every cooperative token.
    pub(crate) fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kill.cancel();
    }

    /// Whether [`kill`](Self::kill) was called.
    pub(crate) fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// Stops accepting work. Returns `false` if it was already stopped.
    pub(crate) fn close(&self) -> bool {
        let first = !self.closed.swap(true, Ordering::AcqRel);
        if let Some(room) = &self.room {
            room.close();
        }
        self.counters.close();
        first
    }

    /// Waits until every accepted job has finished or been dropped.
    pub(crate) async fn drained(&self) {
        self.counters.drained().await;
    }

    /// Takes a place in the bounded queue without waiting.
    pub(crate) fn try_reserve(&self) -> Result<Option<OwnedSemaphorePermit>, Refusal> {
        if self.is_shutdown() {
            return Err(Refusal::Shutdown);
        }
        match &self.room {
            None => Ok(None),
            Some(room) => match Arc::clone(room).try_acquire_owned() {
                Ok(permit) => Ok(Some(permit)),
                Err(TryAcquireError::NoPermits) => Err(Refusal::Full),
                Err(TryAcquireError::Closed) => Err(Refusal::Shutdown),
            },
        }
    }

    /// Takes a place in the bounded queue, waiting for one to free up.
    pub(crate) async fn reserve(&self) -> Result<Option<OwnedSemaphorePermit>, Refusal> {
        if self.is_shutdown() {
            return Err(Refusal::Shutdown);
        }
        match &self.room {
            None => Ok(None),
            Some(room) => Arc::clone(room)
                .acquire_owned()
                .await
                .map(Some)
                .map_err(|_| Refusal::Shutdown),
        }
    }

    /// A task that failed to be submitted.
    pub(crate) fn refused<T>(&self, why: Refusal) -> Task<T> {
        self.counters.record(Move::Rejected);
        Task::ready(Err(why.error()))
    }

    /// Wraps `f` into a [`Job`] and hands it to `dispatch`; the returned [`Task`] resolves to
    /// its outcome.
    pub(crate) fn closure_task<F, T>(
        &self,
        f: F,
        permit: Option<OwnedSemaphorePermit>,
        token: Option<CancellationToken>,
        dispatch: impl FnOnce(Job) -> Result<(), Job>,
    ) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let cooperative = token.is_some();
        let inner = Inner::queued(&self.counters, cooperative, token, permit);
        let keeper: Arc<dyn KeepSpent> = inner.clone();
        // Everything the call uses is taken out of the closure, so that the spent box holds
        // nothing (no task reference, no open span).
        let mut unrun = Some((Guard(Arc::clone(&inner)), self.span(&inner), f));
        let run: JobFn = Box::new(move || {
            let Some((guard, span, f)) = unrun.take() else {
                return;
            };
            let inner = &guard.0;
            if !inner.start() {
                return;
            }
            let _entered = span.enter();
            match catch_unwind(AssertUnwindSafe(f)) {
                // A cooperative task told to stop delivers no value: its result may be partial.
                Ok(_) if inner.token().is_some_and(CancellationToken::is_cancelled) => {
                    inner.cancel(true);
                }
                Ok(value) => inner.finish(Ok(value)),
                Err(panic) => {
                    inner.finish(Err(TaskError::from_panic(panic).with_task_id(inner.id())))
                }
            }
        });
        let job = Job { run, keeper };
        self.dispatch(inner, job, dispatch)
    }

    /// Wraps `fut` into an [`AsyncJob`] and hands it to `dispatch`.
    pub(crate) fn future_task<Fut>(
        &self,
        fut: Fut,
        permit: Option<OwnedSemaphorePermit>,
        dispatch: impl FnOnce(AsyncJob) -> Result<(), AsyncJob>,
    ) -> Task<Fut::Output>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let inner = Inner::queued(&self.counters, true, None, permit);
        let guard = Guard(Arc::clone(&inner));
        let span = self.span(&inner);
        let keeper: Arc<dyn KeepSpent> = inner.clone();
        let run: JobFuture = Box::pin(async move {
            let guard = guard;
            let inner = &guard.0;
            if !inner.start() {
                return;
            }
            let outcome = Interruptible {
                inner,
                fut: AssertUnwindSafe(fut).catch_unwind(),
            }
            .instrument(span)
            .await;
            match outcome {
                Some(Ok(value)) => inner.finish(Ok(value)),
                Some(Err(panic)) => {
                    inner.finish(Err(TaskError::from_panic(panic).with_task_id(inner.id())));
                }
                // Cancelled: the task already resolved, and the future is dropped here.
                None => {}
            }
        });
        let job = AsyncJob { run, keeper };
        self.dispatch(inner, job, dispatch)
    }

    /// The `tracing` span a task runs in (made here, on the submitting thread, so that the
    /// job carries no reference to the pool; free when no subscriber listens).
    fn span<T>(&self, inner: &Inner<T>) -> tracing::Span {
        tracing::debug_span!("task", pool = &*self.name, task_id = inner.id().as_u64())
    }

    fn dispatch<T, J>(
        &self,
        inner: Arc<Inner<T>>,
        job: J,
        dispatch: impl FnOnce(J) -> Result<(), J>,
    ) -> Task<T> {
        if let Err(job) = dispatch(job) {
            // The pool shut down between the check and the push.
            inner.refuse(TaskError::shutdown());
            drop(job);
        }
        Task::new(inner)
    }
}

pin_project_lite::pin_project! {
    /// Polls a task's future until it finishes or the task is cancelled (`None`).
    struct Interruptible<'a, T, F> {
        inner: &'a Inner<T>,
        #[pin]
        fut: F,
    }
}

impl<T, F: Future> Future for Interruptible<'_, T, F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        this.inner.register_runner(cx.waker());
        if this.inner.is_cancelled() {
            return Poll::Ready(None);
        }
        this.fut.poll(cx).map(Some)
    }
}
