//! [`TaskCell`]: everything one submitted task is — its state and outcome, the closure or
//! future that computes it, its place in a bounded queue, its span — and [`Job`], the queue
//! entry through which a worker runs it.
//!
//! The closure or future lives in the cell, not in the queue, so that `cancel` can drop it
//! (and its captures) at once, while the queue entry is still waiting for a worker.
//!
//! # The job box is freed with the task (allocator workaround)
//!
//! After a closure or future has run, its box stays in the cell, empty, and is freed with the
//! cell, usually by the thread that awaited the task. A worker freeing, one by one, boxes
//! that the submitting thread allocated made glibc's allocator take its arena lock on every
//! free: measured on `AsyncPool` (200k tiny tasks), freeing on the worker ran at 0.5× of
//! `tokio::spawn`, keeping the box in the cell at 1.1–1.8× (`cargo bench --bench overhead`).

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use super::id::TaskId;
use super::state::{Completion, Stage};
use crate::error::TaskError;
use crate::stats::Event;
use crate::sync::{Mutex, drop_quietly, lock};

/// What a cell tells the pool it belongs to.
pub(crate) trait PoolLink: Send + Sync {
    /// Counts a task event in the pool's stats.
    fn record(&self, event: Event);
    /// A queued task was cancelled: its entry in the queue is now dead weight.
    fn cancelled_in_queue(&self);
    /// An accepted task ended: its job ran or was dropped, with every capture.
    fn task_ended(&self);
}

/// A closure that runs once and leaves its box behind (see the module docs).
type ClosureBody<T> = Box<dyn FnMut() -> Option<T> + Send>;

/// A future polled to completion in place, then cleared, leaving its box behind.
pub(crate) trait FutureBody<T>: Send {
    fn poll_body(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>>;
    /// Drops the future, keeping the box.
    fn clear(self: Pin<&mut Self>);
}

pin_project_lite::pin_project! {
    struct FutureIn<F: Future, T> {
        #[pin]
        fut: Option<F>,
        outcome: fn(F::Output) -> Result<T, TaskError>,
    }
}

impl<F, T> FutureBody<T> for FutureIn<F, T>
where
    F: Future + Send,
{
    fn poll_body(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>> {
        let this = self.project();
        match this.fut.as_pin_mut() {
            Some(fut) => fut.poll(cx).map(*this.outcome),
            None => Poll::Ready(Err(TaskError::cancelled())),
        }
    }

    fn clear(self: Pin<&mut Self>) {
        self.project().fut.set(None);
    }
}

/// The work of a task: what runs, then what is left of it.
pub(crate) enum Body<T> {
    Closure(ClosureBody<T>),
    Future(Pin<Box<dyn FutureBody<T>>>),
    /// Taken by the worker running it.
    Running,
    /// Nothing to run: dropped by `cancel`, or the task was never more than a promise.
    None,
}

impl<T: Send + 'static> Body<T> {
    pub(crate) fn closure(f: impl FnOnce() -> T + Send + 'static) -> Self {
        let mut f = Some(f);
        Self::Closure(Box::new(move || f.take().map(|f| f())))
    }

    pub(crate) fn future<F>(fut: F) -> Self
    where
        F: Future<Output = T> + Send + 'static,
    {
        Self::Future(Box::pin(FutureIn {
            fut: Some(fut),
            outcome: Ok,
        }))
    }

    pub(crate) fn fallible_future<F>(fut: F) -> Self
    where
        F: Future<Output = Result<T, TaskError>> + Send + 'static,
    {
        Self::Future(Box::pin(FutureIn {
            fut: Some(fut),
            outcome: std::convert::identity,
        }))
    }
}

/// The parts of a cell that change while it runs.
struct Work<T> {
    body: Body<T>,
    /// A place in the pool's bounded queue, given back when the job ends, or at once when the
    /// task is cancelled while queued.
    permit: Option<OwnedSemaphorePermit>,
}

/// One task: state and outcome, work, span, and the pool it belongs to.
pub(crate) struct TaskCell<T> {
    pub(crate) completion: Completion<T>,
    id: TaskId,
    work: Mutex<Work<T>>,
    /// The token of a cooperative closure (`submit_cancellable`).
    token: Option<CancellationToken>,
    span: tracing::Span,
    pool: Option<Arc<dyn PoolLink>>,
    /// Whether the task holds a place in a bounded queue (`Work::permit`).
    bounded: bool,
}

/// What a pool needs to build a cell.
pub(crate) struct NewTask<T> {
    pub(crate) body: Body<T>,
    pub(crate) token: Option<CancellationToken>,
    pub(crate) permit: Option<OwnedSemaphorePermit>,
    pub(crate) pool_name: Arc<str>,
}

impl<T: Send + 'static> TaskCell<T> {
    /// A queued task of `pool`.
    pub(crate) fn queued(new: NewTask<T>, pool: Arc<dyn PoolLink>) -> Arc<Self> {
        let interruptible = new.token.is_some() || matches!(new.body, Body::Future(_));
        let bounded = new.permit.is_some();
        let id = TaskId::next();
        Arc::new(Self {
            completion: Completion::queued(interruptible),
            id,
            work: Mutex::new(Work {
                body: new.body,
                permit: new.permit,
            }),
            token: new.token,
            // Made here, on the submitting thread: free when no subscriber listens.
            span: tracing::debug_span!("task", pool = &*new.pool_name, task_id = id.as_u64()),
            pool: Some(pool),
            bounded,
        })
    }
}

impl<T> TaskCell<T> {
    /// A task that is already finished with `result` (an error is named after the task).
    pub(crate) fn resolved(result: Result<T, TaskError>) -> Arc<Self> {
        let id = TaskId::next();
        let result = result.map_err(|e| match e.task_id() {
            Some(_) => e,
            None => e.with_task_id(id),
        });
        Self::outside_any_pool(id, Completion::resolved(result))
    }

    /// A queued task with nothing to run, resolved from outside: a promise's.
    pub(crate) fn promised() -> Arc<Self> {
        Self::outside_any_pool(TaskId::next(), Completion::queued(true))
    }

    fn outside_any_pool(id: TaskId, completion: Completion<T>) -> Arc<Self> {
        Arc::new(Self {
            completion,
            id,
            work: Mutex::new(Work {
                body: Body::None,
                permit: None,
            }),
            token: None,
            span: tracing::Span::none(),
            pool: None,
            bounded: false,
        })
    }

    pub(crate) fn id(&self) -> TaskId {
        self.id
    }

    fn record(&self, event: Event) {
        if let Some(pool) = &self.pool {
            pool.record(event);
        }
    }

    /// Starts the task (`QUEUED → RUNNING`), counting it; `false` if it was cancelled.
    pub(crate) fn start(&self) -> bool {
        let started = self.completion.start();
        if started {
            self.record(Event::Started);
        }
        started
    }

    /// Resolves the task with `result`, counting it; `false` if it was cancelled first (the
    /// result is then dropped here, its panics contained).
    pub(crate) fn finish(&self, result: Result<T, TaskError>) -> bool {
        self.finish_then(result, || {})
    }

    /// [`finish`](Self::finish), calling `then` once the task is resolved and counted, before
    /// its waiter is woken (not at all if it was cancelled first).
    pub(crate) fn finish_then(&self, result: Result<T, TaskError>, then: impl FnOnce()) -> bool {
        let event = if result.is_err() {
            Event::Failed
        } else {
            Event::Completed
        };
        let result = result.map_err(|e| e.with_task_id(self.id));
        let record = || {
            self.record(event);
            then();
        };
        match self.completion.finish(result, record) {
            Ok(()) => true,
            Err(lost) => {
                drop_quietly(lost);
                false
            }
        }
    }

    /// Cancels the task (see [`Completion::cancel`]); a queued task's closure or future and
    /// its queue place are dropped before this returns, and before its awaiter is woken.
    pub(crate) fn cancel(&self, force: bool) -> bool {
        self.completion
            .cancel(self.id, force, |from| {
                if let Some(token) = &self.token {
                    token.cancel();
                }
                if from == Stage::Queued {
                    let (body, permit) = {
                        let mut work = lock(&self.work);
                        (
                            std::mem::replace(&mut work.body, Body::None),
                            work.permit.take(),
                        )
                    };
                    drop_quietly(body);
                    drop(permit);
                    self.record(Event::CancelledQueued);
                    if let Some(pool) = &self.pool {
                        pool.cancelled_in_queue();
                    }
                } else {
                    self.record(Event::CancelledRunning);
                }
            })
            .is_some()
    }

    /// Puts a body back: the rest of a future, or an empty box (see the module docs).
    fn put_back(&self, body: Body<T>) {
        lock(&self.work).body = body;
    }

    /// Runs the task's closure or polls its future, under its span; `Ready` once the task
    /// is finished (or was cancelled).
    fn poll_run(&self, cx: &mut Context<'_>) -> Poll<()> {
        match self.completion.stage() {
            Stage::Queued => {
                if !self.start() {
                    return Poll::Ready(());
                }
            }
            Stage::Running => {}
            Stage::Done | Stage::Cancelled => {
                // Cancelled while running: drop what is left of the work.
                drop_quietly(std::mem::replace(&mut lock(&self.work).body, Body::None));
                return Poll::Ready(());
            }
        }
        let _entered = self.span.enter();
        let mut work = lock(&self.work);
        if let Body::Closure(f) = &mut work.body {
            // Called under the work lock, which nobody else takes now: a running task's work
            // is touched only by `cancel` from QUEUED and by the holder of its job, this
            // worker. One lock per task instead of taking the box out and putting it back.
            let outcome = catch_unwind(AssertUnwindSafe(f));
            drop(work);
            match outcome {
                // A cooperative closure told to stop delivers no value: it may be partial.
                Ok(Some(value))
                    if self
                        .token
                        .as_ref()
                        .is_some_and(CancellationToken::is_cancelled) =>
                {
                    self.cancel(true);
                    drop_quietly(value);
                }
                Ok(Some(value)) => {
                    self.finish(Ok(value));
                }
                Ok(None) => {}
                Err(panic) => {
                    self.finish(Err(TaskError::from_panic(panic)));
                }
            }
            return Poll::Ready(());
        }
        let body = std::mem::replace(&mut work.body, Body::Running);
        drop(work);
        match body {
            Body::Closure(_) => unreachable!("ran above"),
            Body::Future(mut fut) => {
                self.completion.register_runner(cx.waker());
                if self.completion.is_cancelled() {
                    drop_quietly(fut);
                    return Poll::Ready(());
                }
                let outcome = catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll_body(cx)));
                if let Ok(Poll::Pending) = outcome {
                    self.put_back(Body::Future(fut));
                    return Poll::Pending;
                }
                // Finished: drop the future now (its captures go before the task ends), keep
                // the box.
                let cleared = catch_unwind(AssertUnwindSafe(|| fut.as_mut().clear()));
                self.put_back(Body::Future(fut));
                let result = match (outcome, cleared) {
                    (Ok(Poll::Ready(result)), Ok(())) => result,
                    (Err(panic), _) | (_, Err(panic)) => Err(TaskError::from_panic(panic)),
                    (Ok(Poll::Pending), _) => unreachable!("handled above"),
                };
                self.finish(result);
                Poll::Ready(())
            }
            body @ (Body::Running | Body::None) => {
                self.put_back(body);
                Poll::Ready(())
            }
        }
    }
}

/// What a worker can do with a queued cell, whatever its output type.
trait Runnable: Send + Sync {
    fn poll_run(&self, cx: &mut Context<'_>) -> Poll<()>;
    fn is_finished(&self) -> bool;
    /// Ends the task's stay in its pool: cancels it (even if running) and drops its work if
    /// it did not finish, gives back its queue place, and last counts it as ended.
    fn end(&self);
}

impl<T: Send + 'static> Runnable for TaskCell<T> {
    fn poll_run(&self, cx: &mut Context<'_>) -> Poll<()> {
        TaskCell::poll_run(self, cx)
    }

    fn is_finished(&self) -> bool {
        self.completion.is_finished()
    }

    fn end(&self) {
        let ran = self.completion.is_finished();
        if !ran {
            self.cancel(true);
        }
        // A task that finished keeps its spent box (see the module docs) and, in an unbounded
        // pool, has nothing else to give back: no lock on the hot path.
        if !ran || self.bounded {
            let (body, permit) = {
                let mut work = lock(&self.work);
                let body = (!ran).then(|| std::mem::replace(&mut work.body, Body::None));
                (body, work.permit.take())
            };
            drop_quietly(body);
            drop(permit);
        }
        if let Some(pool) = &self.pool {
            pool.task_ended();
        }
    }
}

/// A task's entry in a pool's queue; whoever holds it runs the task.
///
/// Dropping a job ends the task's stay in the pool, whatever path drops it (run to the end,
/// `shutdown_now`, a worker killed with its runtime): an unfinished task resolves as
/// cancelled, its work and captures are dropped (panics contained), its queue place is given
/// back, and last the pool counts the task as ended — which is what `shutdown().await` waits
/// for. (A detached task's result, which is no capture, may be dropped just after.)
pub(crate) struct Job {
    cell: Option<Arc<dyn Runnable>>,
}

impl Job {
    pub(crate) fn new<T: Send + 'static>(cell: Arc<TaskCell<T>>) -> Self {
        Self { cell: Some(cell) }
    }

    /// Runs the task a step: a closure to its end, a future until it is pending.
    pub(crate) fn poll_run(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &self.cell {
            Some(cell) => cell.poll_run(cx),
            None => Poll::Ready(()),
        }
    }

    /// Whether the task is finished (a queued job of a cancelled task is dead weight).
    pub(crate) fn is_finished(&self) -> bool {
        self.cell.as_ref().is_none_or(|cell| cell.is_finished())
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if let Some(cell) = self.cell.take() {
            cell.end();
            // The last reference may hold a detached task's result, whose `Drop` is user code.
            drop_quietly(cell);
        }
    }
}
