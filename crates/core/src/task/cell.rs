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
//!
//! # Why the cell is kept small (allocator)
//!
//! A cell is allocated on the submitting thread and freed, usually there too, once per task.
//! glibc serves requests of up to 120 bytes (a 128-byte chunk) from its per-thread cache and
//! its fast bins, which never merge a freed chunk with its neighbours; a bigger chunk is merged
//! on every free that misses the small per-thread cache, which is every free of a burst of
//! tasks. With its `Arc` header (16 bytes), a cell of up to 104 bytes is a small block: so the
//! rarely used parts are behind one optional box (`Extras`), the queue place is a flag beside
//! the state (the pool gives the permit back), the runner's waker lives only in the work types
//! that use it, and one lock guards the outcome, the awaiter's waker and the work
//! (`state.rs`). A plain closure's cell with a small capture and output is 96 bytes; the test
//! `cell_of_a_small_closure_is_a_small_block` pins it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio_util::sync::CancellationToken;

use super::id::TaskId;
use super::state::{Completion, Stage};
use super::work::{Body, ClosureWork, FutureWork, PromiseWork, Work};
use crate::error::TaskError;
use crate::stats::Event;
use crate::sync::drop_quietly;

/// What a cell tells the pool it belongs to.
pub(crate) trait PoolLink: Send + Sync {
    /// Counts a task event in the pool's stats.
    fn record(&self, event: Event);
    /// A queued task was cancelled: its entry in the queue is now dead weight.
    fn cancelled_in_queue(&self);
    /// A task gives back the place it took in the pool's bounded queue.
    fn give_back_place(&self);
    /// An accepted task ended: its job ran or was dropped, with every capture.
    fn task_ended(&self);
}

/// The parts few tasks have, boxed so that the others do not carry them.
struct Extras {
    /// The token of a cooperative closure (`submit_cancellable`).
    token: Option<CancellationToken>,
    /// The task's span, kept only when a subscriber wants it.
    span: Option<tracing::Span>,
}

/// One task: id, pool, extras, and its state and outcome with its work (last, as it may be
/// unsized).
pub(crate) struct TaskCell<T, W: ?Sized = dyn Work> {
    id: TaskId,
    pool: Option<Arc<dyn PoolLink>>,
    /// `None` unless the task has a token or a span.
    extras: Option<Box<Extras>>,
    pub(crate) completion: Completion<T, W>,
}

/// What a pool needs to build a cell.
pub(crate) struct NewTask<'a, T, W> {
    pub(crate) body: Body<T, W>,
    pub(crate) token: Option<CancellationToken>,
    /// Whether the task took a place in the pool's bounded queue, which it gives back through
    /// [`PoolLink::give_back_place`].
    pub(crate) holds_place: bool,
    /// Borrowed: only the span reads it (no reference count bumped per task).
    pub(crate) pool_name: &'a str,
}

impl<T: Send + 'static, W: Run<T>> TaskCell<T, W> {
    /// A queued task of `pool`.
    pub(crate) fn queued(new: NewTask<'_, T, W>, pool: Arc<dyn PoolLink>) -> Arc<Self> {
        let interruptible = new.token.is_some() || W::INTERRUPTIBLE;
        let id = TaskId::next();
        // Made here, on the submitting thread: free when no subscriber listens.
        let span = tracing::debug_span!("task", pool = new.pool_name, task_id = id.as_u64());
        let span = (!span.is_disabled()).then_some(span);
        let extras = (new.token.is_some() || span.is_some()).then(|| {
            Box::new(Extras {
                token: new.token,
                span,
            })
        });
        Arc::new(Self {
            id,
            pool: Some(pool),
            extras,
            completion: Completion::queued(interruptible, new.holds_place, new.body.work),
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
        TaskCell::outside_any_pool(id, Completion::resolved(result, PromiseWork::default()))
    }
}

impl<T> TaskCell<T, PromiseWork> {
    /// A queued task with nothing to run, resolved from outside: a promise's.
    pub(crate) fn promised() -> Arc<Self> {
        Self::outside_any_pool(
            TaskId::next(),
            Completion::queued(true, false, PromiseWork::default()),
        )
    }

    fn outside_any_pool(id: TaskId, completion: Completion<T, PromiseWork>) -> Arc<Self> {
        Arc::new(Self {
            id,
            pool: None,
            extras: None,
            completion,
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

    fn token(&self) -> Option<&CancellationToken> {
        self.extras
            .as_ref()
            .and_then(|extras| extras.token.as_ref())
    }

    fn span(&self) -> Option<&tracing::Span> {
        self.extras.as_ref().and_then(|extras| extras.span.as_ref())
    }

    /// Gives back the task's place in its pool's bounded queue, if it still holds one.
    fn give_back_place(&self) {
        if self.completion.take_place()
            && let Some(pool) = &self.pool
        {
            pool.give_back_place();
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
                if let Some(token) = self.token() {
                    token.cancel();
                }
                if from == Stage::Queued {
                    self.give_back_place();
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
        // Taken out under the cell's lock and run without it. Nobody else takes the work of a
        // running task (`cancel` takes it only from QUEUED; the holder of its job is this
        // worker).
        let Some(f) = cell.completion.with_work(|work| work.0.take()) else {
            return Poll::Ready(());
        };
        match catch_unwind(AssertUnwindSafe(f)) {
            // A cooperative closure told to stop delivers no value: it may be partial.
            Ok(value) if cell.token().is_some_and(CancellationToken::is_cancelled) => {
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
        Self {
            fut: self.fut.take(),
            runner: self.runner.take(),
        }
    }

    fn run(cell: &TaskCell<T, Self>, cx: &mut Context<'_>) -> Poll<()> {
        let put_back = |fut| cell.completion.with_work(|work| work.fut = Some(fut));
        // The waker is registered, and the future taken, under the lock `cancel` moves the
        // state under: a cancel came first (what is left is dropped here) or will wake this
        // worker.
        let mut fut = match cell
            .completion
            .take_to_run(cx.waker(), |work| work.fut.take())
        {
            Ok(Some(fut)) => fut,
            Ok(None) => return Poll::Ready(()),
            Err(rest) => {
                // Cancelled while running: drop what is left, outside the lock.
                drop_quietly(rest);
                return Poll::Ready(());
            }
        };
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

impl<T> Run<T> for PromiseWork {
    const INTERRUPTIBLE: bool = true;

    fn take(&mut self) -> Self {
        Self(self.0.take())
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
                let rest = self.completion.with_work(W::take);
                drop_quietly(rest);
                return Poll::Ready(());
            }
        }
        let _entered = self.span().map(tracing::Span::enter);
        W::run(self, cx)
    }

    fn is_finished(&self) -> bool {
        self.completion.is_finished()
    }

    fn end(&self) {
        // A task that finished has no work left (or keeps a future's spent box, see
        // `work.rs`): no lock on the hot path.
        if !self.completion.is_finished() {
            self.cancel(true);
            let rest = self.completion.with_work(W::take);
            drop_quietly(rest);
        }
        // A swap, not a lock (invariant 6 of `state.rs`); nothing at all when unbounded.
        self.give_back_place();
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

/// The cell's size, pinned (as reqwest pins its error's): a field added to every cell must be
/// a decision, not an accident. On 64-bit Linux (glibc's small-block limit, and the size of
/// the standard library's futex mutex, are what the numbers are about).
#[cfg(all(
    test,
    not(futurepool_loom),
    target_os = "linux",
    target_pointer_width = "64"
))]
mod size_tests {
    use super::*;

    /// What glibc serves from its small-block bins: a request of up to 120 bytes (a chunk of
    /// 128 with its 8-byte header), which `Arc` makes with its two counts before the cell.
    const SMALL_BLOCK: usize = 120;
    const ARC_HEADER: usize = 2 * size_of::<usize>();

    fn closure_cell<T, F: FnOnce() -> T>(_: &F) -> usize {
        size_of::<TaskCell<T, ClosureWork<F>>>()
    }

    #[test]
    fn cell_of_a_small_closure_is_a_small_block() {
        let i = 7_u64;
        // `overhead.rs`'s task: a closure capturing a `u64` and returning it.
        let f = move || i;
        assert_eq!(closure_cell(&f), 96);
        assert!(ARC_HEADER + closure_cell(&f) <= SMALL_BLOCK);
        // One more word of captures still fits (a closure has no spare bit: its `Option`
        // costs a word).
        let (a, b) = (1_u64, 2_u64);
        let g = move || a + b;
        assert_eq!(closure_cell(&g), 104);
        assert!(ARC_HEADER + closure_cell(&g) <= SMALL_BLOCK);
    }

    #[test]
    fn cell_of_a_future_and_of_a_promise() {
        // The future's own box is apart; the cell adds the waker of the worker polling it.
        assert_eq!(size_of::<TaskCell<u64, FutureWork<u64>>>(), 112);
        assert_eq!(size_of::<TaskCell<u64, PromiseWork>>(), 96);
    }
}
