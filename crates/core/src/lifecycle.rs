//! [`Lifecycle`]: the one source of truth for whether a pool accepts work, and for how many
//! accepted tasks have not ended.
//!
//! # The word
//!
//! One `usize` holds it all, as in tokio-util's `TaskTracker`, so that "accept a task" and
//! "close the pool" are single atomic operations on the same word and are therefore ordered
//! against each other:
//!
//! | bits | meaning |
//! |---|---|
//! | 0 (`CLOSED`) | the pool accepts no more tasks (`shutdown`, `shutdown_now`, last handle dropped, runtime gone) |
//! | 1 (`KILLED`) | queued tasks are cancelled rather than run (`shutdown_now`, runtime gone) |
//! | 2.. | the count of accepted tasks that have not ended |
//!
//! # Invariants
//!
//! 1. A task is accepted exactly when its increment of the count comes before `CLOSED` in the
//!    word's modification order: [`accept`](Lifecycle::accept) sees `CLOSED` unset. Otherwise
//!    it takes its increment back and the task is refused — never cancelled. This is what
//!    makes a graceful `shutdown` racing submitters linearizable.
//! 2. Every accepted task ends exactly once ([`end`](Lifecycle::end)), after its work and
//!    captures are dropped (the job's `Drop` calls it last).
//! 3. The pool is *drained* when `CLOSED` is set and the count is zero; from then on only a
//!    refused `accept` moves the count, up and back down. Each call that makes the word
//!    drained reports it (`close`, `kill` or `end` returning `true`), so waiters are woken once
//!    the last capture is gone. A refused `accept` may report a drain a second time, since its
//!    own increment briefly undrained the word: reports only wake, and waking is idempotent.

use crate::sync::{AtomicUsize, Ordering};

const CLOSED: usize = 1;
const KILLED: usize = 2;
const ONE_TASK: usize = 4;

/// What [`Lifecycle::accept`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Accept {
    Accepted,
    /// The pool is closed. `drained`: this call made the word drained, and must report it.
    Refused {
        drained: bool,
    },
}

/// A pool's acceptance state and its count of unfinished accepted tasks.
#[derive(Debug, Default)]
pub(crate) struct Lifecycle {
    word: AtomicUsize,
}

impl Lifecycle {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Counts one more accepted task, unless the pool is closed.
    pub(crate) fn accept(&self) -> Accept {
        // Relaxed: the decision rests only on this word's modification order (invariant 1);
        // the task's job reaches workers through the queue, which orders it on its own.
        let before = self.word.fetch_add(ONE_TASK, Ordering::Relaxed);
        if before & CLOSED != 0 {
            // Refused: take the increment back, reporting a drain like any end (invariant 3):
            // the last accepted task may have ended while this increment was in the count,
            // and then nobody but this call sees the word drained.
            return Accept::Refused {
                drained: self.end(),
            };
        }
        Accept::Accepted
    }

    /// Counts an accepted task as ended; `true` if this drained the pool.
    pub(crate) fn end(&self) -> bool {
        // Release: the task's effects (its captures dropped) happen before whoever sees the
        // count fall; Acquire: the call that sees the word drained has seen every other end.
        let before = self.word.fetch_sub(ONE_TASK, Ordering::AcqRel);
        (before & !KILLED) == (CLOSED | ONE_TASK)
    }

    /// Stops accepting; `true` if this drained the pool (nothing was left to end).
    pub(crate) fn close(&self) -> bool {
        self.set(CLOSED)
    }

    /// Stops accepting and marks queued tasks as to be cancelled; `true` if this drained the
    /// pool.
    pub(crate) fn kill(&self) -> bool {
        self.set(CLOSED | KILLED)
    }

    fn set(&self, bits: usize) -> bool {
        // AcqRel: Acquire so that a close that finds the count at zero has seen every end;
        // Release so that what the closer did before is seen by whoever sees the bits.
        let before = self.word.fetch_or(bits, Ordering::AcqRel);
        before & CLOSED == 0 && before < ONE_TASK
    }

    /// Whether the pool accepts no more tasks.
    pub(crate) fn is_closed(&self) -> bool {
        // Relaxed: a hint for `is_shutdown`; decisions go through `accept`.
        self.word.load(Ordering::Relaxed) & CLOSED != 0
    }

    /// Whether queued tasks are to be cancelled rather than run.
    pub(crate) fn is_killed(&self) -> bool {
        // Acquire: pairs with the Release of `kill`, whose caller then drains the queue.
        self.word.load(Ordering::Acquire) & KILLED != 0
    }

    /// Whether the pool is closed and every accepted task has ended.
    pub(crate) fn is_drained(&self) -> bool {
        // Acquire: pairs with the Release of the last `end`: the ended tasks' effects are
        // visible to the caller (e.g. `shutdown().await` returning).
        let word = self.word.load(Ordering::Acquire);
        word & CLOSED != 0 && word < ONE_TASK
    }

    /// How many accepted tasks have not ended.
    #[cfg(test)]
    pub(crate) fn unfinished(&self) -> usize {
        self.word.load(Ordering::Acquire) / ONE_TASK
    }
}

#[cfg(all(test, not(futurepool_loom)))]
mod tests {
    use super::*;

    #[test]
    fn accepts_until_closed_and_drains_once() {
        let life = Lifecycle::new();
        assert_eq!(life.accept(), Accept::Accepted);
        assert_eq!(life.accept(), Accept::Accepted);
        assert_eq!(life.unfinished(), 2);
        assert!(!life.close(), "two tasks are still unfinished");
        assert_eq!(
            life.accept(),
            Accept::Refused { drained: false },
            "closed: refused"
        );
        assert_eq!(life.unfinished(), 2);
        assert!(!life.end());
        assert!(!life.is_drained());
        assert!(life.end(), "the last end drains the pool");
        assert!(life.is_drained());
        assert!(!life.kill(), "already drained: nobody else reports it");
        assert!(life.is_killed());
    }

    #[test]
    fn closing_an_idle_pool_drains_it_at_once() {
        let life = Lifecycle::new();
        assert!(life.close());
        assert!(!life.close());
        assert!(life.is_drained());
    }

    #[test]
    fn a_refused_accept_leaves_the_pool_drained() {
        let life = Lifecycle::new();
        assert!(life.kill());
        assert!(matches!(life.accept(), Accept::Refused { .. }));
        assert!(life.is_drained() && life.is_killed());
        assert_eq!(life.unfinished(), 0);
    }
}
