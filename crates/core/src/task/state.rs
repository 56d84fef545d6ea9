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
//! # Invariants
//!
//! 1. The outcome slot is read and written only under `slot`'s lock.
//! 2. A task enters a final state only under that lock, and only after its outcome was written
//!    there; the move is a `Release` store or read-modify-write, so whoever sees a final state
//!    with an `Acquire` load and then takes the lock finds the outcome.
//! 3. The one move made without the lock is `QUEUED → RUNNING`, by the worker running the task.
//!    `cancel` therefore writes its outcome first and then tries its move; if `start` won the
//!    race the move fails, the write is undone before the lock is released, and the
//!    decision is taken again against `RUNNING`. Nobody saw the undone write (1).
//! 4. Final states are final: of `finish` and `cancel`, exactly one takes the task to a final
//!    state; the loser's value is handed back to be dropped outside the lock.
//!
//! No user code runs under the lock: values are dropped and wakers woken after it is released.
//! The loom models in `loom_models.rs` check these moves under every interleaving.

use std::task::{Context, Poll, Waker};

use super::id::TaskId;
use crate::error::TaskError;
use crate::sync::{AtomicU8, AtomicWaker, Mutex, Ordering, lock};

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

/// A task's state and outcome, shared by the [`Task`](crate::Task) and whoever resolves it.
pub(crate) struct Completion<T> {
    state: AtomicU8,
    /// Whether a running task can still be cancelled (a future is dropped, a cooperative
    /// closure is told through its token, a promise's owner watches for it).
    interruptible: bool,
    slot: Mutex<Slot<T>>,
    /// Wakes whoever awaits the task.
    waiter: AtomicWaker,
    /// Wakes whoever runs the task, so that it notices a cancel.
    runner: AtomicWaker,
}

impl<T> Completion<T> {
    /// A queued task.
    pub(crate) fn queued(interruptible: bool) -> Self {
        Self {
            state: AtomicU8::new(QUEUED),
            interruptible,
            slot: Mutex::new(Slot::Empty),
            waiter: AtomicWaker::new(),
            runner: AtomicWaker::new(),
        }
    }

    /// A task that is already finished with `result`.
    pub(crate) fn resolved(result: Result<T, TaskError>) -> Self {
        let state = match &result {
            Err(e) if e.is_cancelled() => CANCELLED,
            _ => DONE,
        };
        Self {
            state: AtomicU8::new(state),
            interruptible: false,
            slot: Mutex::new(Slot::Ready(result)),
            waiter: AtomicWaker::new(),
            runner: AtomicWaker::new(),
        }
    }

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

    /// Resolves the task with `result` (`QUEUED` or `RUNNING` → `DONE`), calling `then` before
    /// waking the waiter (so that what it records is seen by whoever the wake-up lets run). If
    /// the task was cancelled first, the result comes back, to be dropped by the caller outside
    /// any lock.
    pub(crate) fn finish(
        &self,
        result: Result<T, TaskError>,
        then: impl FnOnce(),
    ) -> Result<(), Result<T, TaskError>> {
        let mut slot = lock(&self.slot);
        // Under the lock only `start` may move the state, and only from QUEUED to RUNNING,
        // both of which `finish` accepts; so the state read here stays valid until the store.
        if matches!(self.state.load(Ordering::Acquire), DONE | CANCELLED) {
            return Err(result);
        }
        *slot = Slot::Ready(result);
        // Release: publishes the outcome just written (invariant 2).
        self.state.store(DONE, Ordering::Release);
        drop(slot);
        then();
        self.waiter.wake();
        Ok(())
    }

    /// Cancels the task if it may be: when queued, or when running and interruptible (or
    /// `force`d), calling `then` with the stage it was cancelled from before waking anyone.
    /// Returns that stage.
    pub(crate) fn cancel(
        &self,
        id: TaskId,
        force: bool,
        then: impl FnOnce(Stage),
    ) -> Option<Stage> {
        let mut slot = lock(&self.slot);
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
            *slot = Slot::Ready(Err(TaskError::cancelled().with_task_id(id)));
            // Release: publishes the outcome; Acquire on failure: re-read below.
            match self.state.compare_exchange(
                state,
                CANCELLED,
                Ordering::Release,
                Ordering::Acquire,
            ) {
                Ok(_) => break state,
                Err(_) => *slot = Slot::Empty,
            }
        };
        drop(slot);
        let from = if from == QUEUED {
            Stage::Queued
        } else {
            Stage::Running
        };
        then(from);
        self.runner.wake();
        self.waiter.wake();
        Some(from)
    }

    /// Takes the outcome if it is there; otherwise registers `cx` to be woken when it is.
    ///
    /// # Panics
    ///
    /// Panics if the outcome was already taken.
    pub(crate) fn poll_outcome(&self, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>> {
        let mut slot = lock(&self.slot);
        match std::mem::replace(&mut *slot, Slot::Taken) {
            Slot::Ready(result) => Poll::Ready(result),
            Slot::Empty => {
                *slot = Slot::Empty;
                // Registered under the lock: a resolver writes and wakes only after it.
                self.waiter.register(cx.waker());
                Poll::Pending
            }
            Slot::Taken => panic!("`Task` polled after it returned `Poll::Ready`"),
        }
    }

    /// `Ready` once the task is finished, without taking the outcome.
    pub(crate) fn poll_finished(&self, cx: &mut Context<'_>) -> Poll<()> {
        let slot = lock(&self.slot);
        if matches!(*slot, Slot::Empty) {
            self.waiter.register(cx.waker());
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }

    /// Applies `f` to the outcome, if it is there and not taken.
    pub(crate) fn peek<R>(&self, f: impl FnOnce(&Result<T, TaskError>) -> R) -> Option<R> {
        match &*lock(&self.slot) {
            Slot::Ready(result) => Some(f(result)),
            _ => None,
        }
    }

    /// Registers whoever runs the task to be woken by `cancel`.
    pub(crate) fn register_runner(&self, waker: &Waker) {
        self.runner.register(waker);
    }

    /// `Ready` once the task is cancelled; registers `cx` to be woken by `cancel` otherwise.
    pub(crate) fn poll_cancelled(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.runner.register(cx.waker());
        // Checked after registering: a cancel in between has woken `cx` or is seen here.
        if self.is_cancelled() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
