//! [`TaskCell`]: everything one submitted task is — its state and outcome, the closure or
//! future that computes it (`work.rs`), its place in a bounded queue, its span — and [`Job`],
//! the queue entry through which a worker runs it.
//!
//! The closure or future lives in the cell, not in the queue, so that `cancel` can drop it
//! (and its captures) at once, while the queue entry is still waiting for a worker.
//!
//! A cell is built as `TaskCell<T, W>` with its work type `W` (a closure is stored in place),
//! then seen by its [`Task`](crate::Task) as `TaskCell<T, dyn Work>` and by its [`Job`] as a
//! `dyn Runnable`: one allocation per task, whatever it runs.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use super::id::TaskId;
use super::state::{Completion, Stage};
use super::work::{Body, ClosureWork, FutureWork, NoWork, Work};
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

/// The parts of a cell that change while it runs; the work last, as it may be unsized.
struct WorkSlot<W: ?Sized> {
    /// A place in the pool's bounded queue, given back when the job ends, or at once when the
    /// task is cancelled while queued.
    permit: Option<OwnedSemaphorePermit>,
    body: W,
}

/// One task: state and outcome, work, span, and the pool it belongs to.
pub(crate) struct TaskCell<T, W: ?Sized = dyn Work> {
    pub(crate) completion: Completion<T>,
    id: TaskId,
    /// The token of a cooperative closure (`submit_cancellable`).
    token: Option<CancellationToken>,
    /// The task's span, kept only when a subscriber wants it: a disabled `Span` is 40 bytes
    /// of a cell that is allocated and freed once per task.
    span: Option<Box<tracing::Span>>,
    pool: Option<Arc<dyn PoolLink>>,
    /// Whether the task holds a place in a bounded queue (`WorkSlot::permit`).
    bounded: bool,
    work: Mutex<WorkSlot<W>>,
}

/// What a pool needs to build a cell.
pub(crate) struct NewTask<'a, T, W> {
    pub(crate) body: Body<T, W>,
    pub(crate) token: Option<CancellationToken>,
    pub(crate) permit: Option<OwnedSemaphorePermit>,
    /// Borrowed: only the span reads it (no reference count bumped per task).
    pub(crate) pool_name: &'a str,
}

impl<T: Send + 'static, W: Run<T>> TaskCell<T, W> {
    /// A queued task of `pool`.
    pub(crate) fn queued(new: NewTask<'_, T, W>, pool: Arc<dyn PoolLink>) -> Arc<Self> {
        let interruptible = new.token.is_some() || W::INTERRUPTIBLE;
        let bounded = new.permit.is_some();
        let id = TaskId::next();
        Arc::new(Self {
            completion: Completion::queued(interruptible),
            id,
            token: new.token,
            // Made here, on the submitting thread: free when no subscriber listens.
            span: Some(tracing::debug_span!(
                "task",
                pool = new.pool_name,
                task_id = id.as_u64()
            ))
            .filter(|span| !span.is_disabled())
            .map(Box::new),
            pool: Some(pool),
            bounded,
            work: Mutex::new(WorkSlot {
                permit: new.permit,
                body: new.body.work,
            }),
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
        TaskCell::outside_any_pool(id, Completion::resolved(result))
    }
}

impl<T> TaskCell<T, NoWork> {
    /// A queued task with nothing to run, resolved from outside: a promise's.
    pub(crate) fn promised() -> Arc<Self> {
        Self::outside_any_pool(TaskId::next(), Completion::queued(true))
    }

    fn outside_any_pool(id: TaskId, completion: Completion<T>) -> Arc<Self> {
        Arc::new(Self {
            completion,
            id,
            token: None,
            span: None,
            pool: None,
            bounded: false,
            work: Mutex::new(WorkSlot {
                permit: None,
                body: NoWork,
            }),
        })
    }
}

impl<T, W: ?Sized + Work> TaskCell<T, W> {
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
                        (work.body.take_boxed(), work.permit.take())
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
}

/// How a worker runs one kind of work; what `W` a cell can be queued with.
pub(crate) trait Run<T>: Work + Sized {
    /// Whether a running task of this kind can be cancelled (a future is dropped at its
    /// current await point).
    const INTERRUPTIBLE: bool;

    /// Takes what is left, leaving the empty value behind.
    fn take(&mut self) -> Self;

    /// Runs the started task `cell` a step: a closure to its end, a future until pending.
    fn run(cell: &TaskCell<T, Self>, cx: &mut Context<'_>) -> Poll<()>;
}

impl<T, F> Run<T> for ClosureWork<F>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    const INTERRUPTIBLE: bool = false;

    fn take(&mut self) -> Self {
        Self(self.0.take())
    }

    fn run(cell: &TaskCell<T, Self>, _: &mut Context<'_>) -> Poll<()> {
        // Taken out under the work lock, which nobody else takes now (a running task's work
        // is touched only by `cancel` from QUEUED and by the holder of its job, this worker),
        // and run without it.
        let Some(f) = lock(&cell.work).body.0.take() else {
            return Poll::Ready(());
        };
        match catch_unwind(AssertUnwindSafe(f)) {
            // A cooperative closure told to stop delivers no value: it may be partial.
            Ok(value)
                if cell
                    .token
                    .as_ref()
                    .is_some_and(CancellationToken::is_cancelled) =>
            {
                cell.cancel(true);
                drop_quietly(value);
            }
            Ok(value) => {
                cell.finish(Ok(value));
            }
            Err(panic) => {
                cell.finish(Err(TaskError::from_panic(panic)));
            }
        }
        Poll::Ready(())
    }
}

impl<T: Send + 'static> Run<T> for FutureWork<T> {
    const INTERRUPTIBLE: bool = true;

    fn take(&mut self) -> Self {
        Self(self.0.take())
    }

    fn run(cell: &TaskCell<T, Self>, cx: &mut Context<'_>) -> Poll<()> {
        let put_back = |fut| lock(&cell.work).body.0 = Some(fut);
        let Some(mut fut) = lock(&cell.work).body.0.take() else {
            return Poll::Ready(());
        };
        cell.completion.register_runner(cx.waker());
        if cell.completion.is_cancelled() {
            drop_quietly(fut);
            return Poll::Ready(());
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll_body(cx)));
        if let Ok(Poll::Pending) = outcome {
            put_back(fut);
            return Poll::Pending;
        }
        // Finished: drop the future now (its captures go before the task ends), keep the box
        // (see `work.rs`).
        let cleared = catch_unwind(AssertUnwindSafe(|| fut.as_mut().clear()));
        put_back(fut);
        let result = match (outcome, cleared) {
            (Ok(Poll::Ready(result)), Ok(())) => result,
            (Err(panic), _) | (_, Err(panic)) => Err(TaskError::from_panic(panic)),
            (Ok(Poll::Pending), _) => unreachable!("handled above"),
        };
        cell.finish(result);
        Poll::Ready(())
    }
}

impl<T> Run<T> for NoWork {
    const INTERRUPTIBLE: bool = true;

    fn take(&mut self) -> Self {
        Self
    }

    fn run(_: &TaskCell<T, Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

/// What a worker can do with a queued cell, whatever its output type.
trait Runnable: Send + Sync {
    /// Runs the task's closure or polls its future, under its span; `Ready` once the task
    /// is finished (or was cancelled).
    fn poll_run(&self, cx: &mut Context<'_>) -> Poll<()>;
    fn is_finished(&self) -> bool;
    /// Ends the task's stay in its pool: cancels it (even if running) and drops its work if
    /// it did not finish, gives back its queue place, and last counts it as ended.
    fn end(&self);
}

impl<T: Send + 'static, W: Run<T>> Runnable for TaskCell<T, W> {
    fn poll_run(&self, cx: &mut Context<'_>) -> Poll<()> {
        match self.completion.stage() {
            Stage::Queued => {
                if !self.start() {
                    return Poll::Ready(());
                }
            }
            Stage::Running => {}
            Stage::Done | Stage::Cancelled => {
                // Cancelled while running: drop what is left of the work, outside the lock.
                let rest = lock(&self.work).body.take();
                drop_quietly(rest);
                return Poll::Ready(());
            }
        }
        let _entered = self.span.as_deref().map(tracing::Span::enter);
        W::run(self, cx)
    }

    fn is_finished(&self) -> bool {
        self.completion.is_finished()
    }

    fn end(&self) {
        let ran = self.completion.is_finished();
        if !ran {
            self.cancel(true);
        }
        // A task that finished has no work left (or keeps a future's spent box, see
        // `work.rs`) and, in an unbounded pool, nothing else to give back: no lock on the hot
        // path.
        if !ran || self.bounded {
            let (body, permit) = {
                let mut work = lock(&self.work);
                let body = (!ran).then(|| work.body.take());
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
    pub(crate) fn new<T: Send + 'static, W: Run<T>>(cell: Arc<TaskCell<T, W>>) -> Self {
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
