//! The task state machine: where a task is in its life, and the outcome it resolves to.
//!
//! # States and moves
//!
//! | from | to | move | who | lock |
//! |---|---|---|---|---|
//! | `QUEUED` | `RUNNING` | [`start`](Completion::start) | the one worker running the task (or a promise's owner) | no |
//! | `QUEUED` | `CANCELLED` | [`cancel`](Completion::cancel) | anyone: `Task::cancel`, `shutdown_now`, a job dropped unrun | yes |
//! | `RUNNING` | `CANCELLED` | [`cancel`](Completion::cancel) | anyone, if the task is *interruptible* (a future, a cooperative closure, a promise); with `force`, the worker giving up a job | yes |
//! | `QUEUED`, `RUNNING` | `DONE` | [`finish`](Completion::finish) | the worker (or a promise's owner) | yes |
//!
//! `DONE` and `CANCELLED` are *final*: a task is finished once it is in either.
//!
//! # One lock
//!
//! Everything of a task that changes, except its state word, is under one lock: the outcome
//! slot, the awaiter's waker, and the work (the closure or future not yet run, with the waker
//! of whoever runs a future or watches a promise). One lock, not one per part, and plain
//! `Option<Waker>`s, not `AtomicWaker`s, keep the cell small: a cell of 104 bytes or less is
//! an allocation glibc serves from its small-block bins (see `cell.rs`).
//!
//! # Invariants
//!
//! 1. The outcome slot, the awaiter's waker and the runner's waker are read and written only
//!    under the lock.
//! 2. A task enters a final state only under that lock, and only after its outcome was written
//!    there; the move is a `Release` store or read-modify-write, so whoever sees a final state
//!    with an `Acquire` load and then takes the lock finds the outcome.
//! 3. The one move made without the lock is `QUEUED → RUNNING`, by the worker running the task.
//!    `cancel` therefore writes its outcome first and then tries its move; if `start` won the
//!    race the move fails, the write is undone before the lock is released, and the
//!    decision is taken again against `RUNNING`. Nobody saw the undone write (1).
//! 4. Final states are final: of `finish` and `cancel`, exactly one takes the task to a final
//!    state; the loser's value is handed back to be dropped outside the lock.
//! 5. No lost wake-up: a waker is registered under the lock after the state (or slot) it waits
//!    on was read there, and the move it waits for takes the waker out under the same lock
//!    after making the move; so either the registering side sees the move, or the moving side
//!    finds the waker.
//! 6. A task's place in a bounded queue is given back exactly once: `take_place` is a swap.
//!
//! No user code runs under the lock: values are dropped and wakers woken (and replaced ones
//! dropped) after it is released. The loom models in `loom_models.rs` check these moves under
//! every interleaving.

use std::task::{Context, Poll, Waker};

use super::id::TaskId;
use super::work::Work;
use crate::error::TaskError;
use crate::sync::{AtomicBool, AtomicU8, Mutex, Ordering, drop_quietly, lock};

const QUEUED: u8 = 0;
const RUNNING: u8 = 1;
const DONE: u8 = 2;
const CANCELLED: u8 = 3;

/// Where a task is in its life, as [`Completion::stage`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    Queued,
    Running,
    Done,
    Cancelled,
}

/// The outcome slot.
enum Slot<T> {
    Empty,
    Ready(Result<T, TaskError>),
    Taken,
}

/// What the lock guards; the work last, as it may be unsized.
struct Locked<T, W: ?Sized> {
    slot: Slot<T>,
    /// Wakes whoever awaits the task.
    waiter: Option<Waker>,
    work: W,
}

/// A task's state and outcome, shared by the [`Task`](crate::Task) and whoever resolves it,
/// with the task's work `W` under the same lock.
pub(crate) struct Completion<T, W: ?Sized> {
    state: AtomicU8,
    /// Whether a running task can still be cancelled (a future is dropped, a cooperative
    /// closure is told through its token, a promise's owner watches for it).
    interruptible: bool,
    /// Whether the task still holds a place in its pool's bounded queue (invariant 6). Kept
    /// here, beside the state, where it costs no bytes of the cell.
    holds_place: AtomicBool,
    locked: Mutex<Locked<T, W>>,
}

/// Stores `waker` in `slot` unless it is already there; returns the waker it replaced, to be
/// dropped outside the lock.
fn register(slot: &mut Option<Waker>, waker: &Waker) -> Option<Waker> {
    match slot {
        Some(old) if old.will_wake(waker) => None,
        _ => slot.replace(waker.clone()),
    }
}

impl<T, W> Completion<T, W> {
    /// A queued task with `work` to run; `holds_place` if it took a place in a bounded queue.
    pub(crate) fn queued(interruptible: bool, holds_place: bool, work: W) -> Self {
        Self {
            state: AtomicU8::new(QUEUED),
            interruptible,
            holds_place: AtomicBool::new(holds_place),
            locked: Mutex::new(Locked {
                slot: Slot::Empty,
                waiter: None,
                work,
            }),
        }
    }

    /// A task that is already finished with `result`.
    pub(crate) fn resolved(result: Result<T, TaskError>, work: W) -> Self {
        let state = match &result {
            Err(e) if e.is_cancelled() => CANCELLED,
            _ => DONE,
        };
        Self {
            state: AtomicU8::new(state),
            interruptible: false,
            holds_place: AtomicBool::new(false),
            locked: Mutex::new(Locked {
                slot: Slot::Ready(result),
                waiter: None,
                work,
            }),
        }
    }
}

impl<T, W: ?Sized + Work> Completion<T, W> {
    pub(crate) fn stage(&self) -> Stage {
        // Acquire: pairs with the Release of the move into a final state (invariant 2).
        match self.state.load(Ordering::Acquire) {
            QUEUED => Stage::Queued,
            RUNNING => Stage::Running,
            DONE => Stage::Done,
            _ => Stage::Cancelled,
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        matches!(self.stage(), Stage::Done | Stage::Cancelled)
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.stage() == Stage::Cancelled
    }

    /// `QUEUED → RUNNING`; `false` if the task was cancelled first (or already started).
    pub(crate) fn start(&self) -> bool {
        // Acquire on both outcomes: a worker that loses to `cancel` goes on to read nothing
        // but this word, and one that wins reads nothing the canceller wrote; Acquire keeps
        // the move ordered after the job was taken from the queue, which is all `start`
        // needs. No Release: nothing written before `start` is read through this word.
        self.state
            .compare_exchange(QUEUED, RUNNING, Ordering::Acquire, Ordering::Acquire)
            .is_ok()
    }

    /// `true` the first time it is called on a task that took a place in a bounded queue:
    /// the caller gives the place back (invariant 6).
    pub(crate) fn take_place(&self) -> bool {
        // Relaxed: the swap alone makes one caller the winner; the place itself is a
        // semaphore permit, which synchronizes on its own.
        self.holds_place.load(Ordering::Relaxed) && self.holds_place.swap(false, Ordering::Relaxed)
    }

    /// Applies `f` to the work under the lock (no user code: `f` only moves values, which
    /// the caller drops after).
    pub(crate) fn with_work<R>(&self, f: impl FnOnce(&mut W) -> R) -> R {
        f(&mut lock(&self.locked).work)
    }

    /// Takes the work out with `take` to run it, registering `waker` as the runner's (in the
    /// work, if its kind has a runner) unless the task was cancelled: then what was taken
    /// comes back as `Err`, to be dropped (invariant 5: a `cancel` after this finds the waker).
    pub(crate) fn take_to_run<R>(
        &self,
        waker: &Waker,
        take: impl FnOnce(&mut W) -> R,
    ) -> Result<R, R> {
        let mut locked = lock(&self.locked);
        let taken = take(&mut locked.work);
        // Read under the lock that every move into CANCELLED holds: exact.
        if self.state.load(Ordering::Acquire) == CANCELLED {
            return Err(taken);
        }
        let replaced = locked
            .work
            .runner()
            .and_then(|runner| register(runner, waker));
        drop(locked);
        drop_quietly(replaced);
        Ok(taken)
    }

    /// Resolves the task with `result` (`QUEUED` or `RUNNING` → `DONE`), calling `then` before
    /// waking the waiter (so that what it records is seen by whoever the wake-up lets run). If
    /// the task was cancelled first, the result comes back, to be dropped by the caller outside
    /// any lock.
    pub(crate) fn finish(
        &self,
        result: Result<T, TaskError>,
        then: impl FnOnce(),
    ) -> Result<(), Result<T, TaskError>> {
        let mut locked = lock(&self.locked);
        // Under the lock only `start` may move the state, and only from QUEUED to RUNNING,
        // both of which `finish` accepts; so the state read here stays valid until the store.
        if matches!(self.state.load(Ordering::Acquire), DONE | CANCELLED) {
            return Err(result);
        }
        locked.slot = Slot::Ready(result);
        // Release: publishes the outcome just written (invariant 2).
        self.state.store(DONE, Ordering::Release);
        // Taken after the move, under the lock (invariant 5).
        let waiter = locked.waiter.take();
        drop(locked);
        then();
        if let Some(waiter) = waiter {
            waiter.wake();
        }
        Ok(())
    }

    /// Cancels the task if it may be: when queued, or when running and interruptible (or
    /// `force`d). A queued task's work is taken out under the lock and dropped first (panics
    /// contained); then `then` is called with the stage the task was cancelled from, before
    /// anyone is woken. Returns that stage.
    pub(crate) fn cancel(
        &self,
        id: TaskId,
        force: bool,
        then: impl FnOnce(Stage),
    ) -> Option<Stage> {
        let mut locked = lock(&self.locked);
        let from = loop {
            let state = self.state.load(Ordering::Acquire);
            let allowed = match state {
                QUEUED => true,
                RUNNING => force || self.interruptible,
                _ => false,
            };
            if !allowed {
                return None;
            }
            // Written before the move (invariant 2), undone if `start` won (invariant 3).
            locked.slot = Slot::Ready(Err(TaskError::cancelled().with_task_id(id)));
            // Release: publishes the outcome; Acquire on failure: re-read below.
            match self.state.compare_exchange(
                state,
                CANCELLED,
                Ordering::Release,
                Ordering::Acquire,
            ) {
                Ok(_) => break state,
                Err(_) => locked.slot = Slot::Empty,
            }
        };
        // A queued task's work goes now; a running task's stays with its worker.
        let rest = (from == QUEUED).then(|| locked.work.take_boxed()).flatten();
        // Taken after the move, under the lock (invariant 5).
        let runner = locked.work.runner().and_then(Option::take);
        let waiter = locked.waiter.take();
        drop(locked);
        drop_quietly(rest);
        let from = if from == QUEUED {
            Stage::Queued
        } else {
            Stage::Running
        };
        then(from);
        if let Some(runner) = runner {
            runner.wake();
        }
        if let Some(waiter) = waiter {
            waiter.wake();
        }
        Some(from)
    }

    /// Takes the outcome if it is there; otherwise registers `cx` to be woken when it is.
    ///
    /// # Panics
    ///
    /// Panics if the outcome was already taken.
    pub(crate) fn poll_outcome(&self, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>> {
        let mut locked = lock(&self.locked);
        match std::mem::replace(&mut locked.slot, Slot::Taken) {
            Slot::Ready(result) => Poll::Ready(result),
            Slot::Empty => {
                locked.slot = Slot::Empty;
                // Registered under the lock: a resolver writes and wakes only after it.
                let replaced = register(&mut locked.waiter, cx.waker());
                drop(locked);
                drop_quietly(replaced);
                Poll::Pending
            }
            Slot::Taken => {
                drop(locked);
                panic!("`Task` polled after it returned `Poll::Ready`")
            }
        }
    }

    /// `Ready` once the task is finished, without taking the outcome.
    pub(crate) fn poll_finished(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut locked = lock(&self.locked);
        if matches!(locked.slot, Slot::Empty) {
            let replaced = register(&mut locked.waiter, cx.waker());
            drop(locked);
            drop_quietly(replaced);
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }

    /// Applies `f` to the outcome, if it is there and not taken.
    pub(crate) fn peek<R>(&self, f: impl FnOnce(&Result<T, TaskError>) -> R) -> Option<R> {
        match &lock(&self.locked).slot {
            Slot::Ready(result) => Some(f(result)),
            _ => None,
        }
    }

    /// `Ready` once the task is cancelled; registers `cx` as the runner's, to be woken by
    /// `cancel`, otherwise.
    pub(crate) fn poll_cancelled(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut locked = lock(&self.locked);
        // Read under the lock that every move into CANCELLED holds (invariant 5).
        if self.state.load(Ordering::Acquire) == CANCELLED {
            return Poll::Ready(());
        }
        let replaced = locked
            .work
            .runner()
            .and_then(|runner| register(runner, cx.waker()));
        drop(locked);
        drop_quietly(replaced);
        Poll::Pending
    }
}
