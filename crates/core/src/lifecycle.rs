//! [`Lifecycle`]: the one source of truth for whether a pool accepts work, and for how many
//! accepted tasks have not ended.
//!
//! # The two words
//!
//! Accepting a task and ending one happen on different threads (a submitter, a worker), once
//! per task each. So that they do not pass one cache line back and forth, each side writes a
//! word of its own, each on its own cache line:
//!
//! | word | written by | bits 0 (`CLOSED`), 1 (`KILLED`) | bits 2.. |
//! |---|---|---|---|
//! | `accepted` | submitters (`accept`), the closing call | the pool accepts no more tasks; queued tasks are cancelled rather than run | tasks accepted so far (refused ones back out) |
//! | `ended` | whoever ends a task (a worker), the closing call | copies, set by the closing call after `accepted`'s | before the close: tasks ended; after it: tasks ended minus tasks accepted (≤ 0, wrapping), so 0 means drained |
//!
//! `CLOSED` is set by `shutdown`, `shutdown_now`, the last handle dropped or the runtime gone;
//! `KILLED` by `shutdown_now` and the runtime gone.
//!
//! # Invariants
//!
//! 1. A task is accepted exactly when its increment of `accepted` comes before `CLOSED` in that
//!    word's modification order: [`accept`](Lifecycle::accept) sees `CLOSED` unset. Otherwise
//!    it takes its increment back and the task is refused — never cancelled. This is what
//!    makes a graceful `shutdown` racing submitters linearizable. So the count the first
//!    closing call reads from `accepted` (its `fetch_or`) is the number of tasks that will
//!    ever end in this pool, `N`.
//! 2. Every accepted task ends exactly once ([`end`](Lifecycle::end), one increment of
//!    `ended`), after its work and captures are dropped (the job's `Drop` calls it last). So
//!    the count of ends never exceeds the count accepted.
//! 3. The first closing call subtracts `N` from `ended` and sets the flags there, in one
//!    read-modify-write. Before it, `ended` has no `CLOSED` and is never "drained"; after it,
//!    the count part is `ended - N`, which reaches 0 exactly with the last end. Both are
//!    read-modify-writes of `ended`, so exactly one of them sees the count reach 0 with
//!    `CLOSED` set, and reports the drain (`close`, `kill` or `end` returning `true`); waiters
//!    are woken once the last capture is gone. A refused `accept` touches only `accepted`
//!    and reports nothing.
//!    Only that first call sets `CLOSED` in `ended`; a later `kill` adds `KILLED` alone.
//! 4. `KILLED` is set in `accepted` first, then in `ended`: the submitter's check after its
//!    push (`is_killed`, the store→load race written up in `PoolCore::accept`) reads
//!    `accepted`; workers read the copy in `ended`, their own cache line, as a hint that may
//!    lag (`may_leave`, `is_killed_hint`).
//!
//! The loom models in `loom_models.rs` race accepts, ends, `close` and `kill`.

use crate::sync::{AtomicUsize, Ordering};

const CLOSED: usize = 1;
const KILLED: usize = 2;
const FLAGS: usize = CLOSED | KILLED;
const ONE_TASK: usize = 4;

/// What [`Lifecycle::accept`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Accept {
    Accepted,
    /// The pool is closed.
    Refused,
}

/// A word alone on its cache line(s).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded(AtomicUsize);

/// A pool's acceptance state and its count of unfinished accepted tasks.
#[derive(Debug, Default)]
pub(crate) struct Lifecycle {
    accepted: Padded,
    ended: Padded,
}

impl Lifecycle {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Counts one more accepted task, unless the pool is closed.
    pub(crate) fn accept(&self) -> Accept {
        // Relaxed: the decision rests only on this word's modification order (invariant 1);
        // the task's job reaches workers through the queue, which orders it on its own.
        let before = self.accepted.0.fetch_add(ONE_TASK, Ordering::Relaxed);
        if before & CLOSED != 0 {
            // Refused: take the increment back. The closing call read `N` before it, so the
            // brief increment counts nowhere (invariant 3). Relaxed: only this word's own
            // count, read by nobody after the close.
            self.accepted.0.fetch_sub(ONE_TASK, Ordering::Relaxed);
            return Accept::Refused;
        }
        Accept::Accepted
    }

    /// Counts an accepted task as ended; `true` if this drained the pool.
    pub(crate) fn end(&self) -> bool {
        // Release: the task's effects (its captures dropped) happen before whoever sees the
        // count reach zero; Acquire: the call that sees it drained has seen every other end
        // and the closing call's update (one chain of read-modify-writes on `ended`).
        let before = self.ended.0.fetch_add(ONE_TASK, Ordering::AcqRel);
        before.wrapping_add(ONE_TASK) & !KILLED == CLOSED
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
        // AcqRel: Release so that what the closer did before is seen by whoever sees the
        // bits; Acquire (and the read-modify-write) for the exact count `N` (invariant 1).
        let before = self.accepted.0.fetch_or(bits, Ordering::AcqRel);
        let first = before & CLOSED == 0;
        let accepted = before & !FLAGS;
        // AcqRel, as in `end`: one chain of read-modify-writes with the ends; the caller that
        // finds the count at zero has seen every end.
        let ended = self
            .ended
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |e| {
                Some(if first {
                    e.wrapping_sub(accepted) | bits
                } else {
                    // A later call adds `KILLED` only: `CLOSED` in `ended` must keep meaning
                    // "`N` subtracted", or the word could read drained too early.
                    e | (bits & KILLED)
                })
            });
        let (Ok(ended) | Err(ended)) = ended;
        // Only the first closing call moves the count (invariant 3); `ended - N` is zero
        // exactly when every accepted task has ended already.
        first && ended & !FLAGS == accepted
    }

    /// Whether the pool accepts no more tasks.
    pub(crate) fn is_closed(&self) -> bool {
        // Relaxed: a hint for `is_shutdown` and the bounded queue; decisions go through
        // `accept`.
        self.accepted.0.load(Ordering::Relaxed) & CLOSED != 0
    }

    /// Whether queued tasks are to be cancelled rather than run: the submitter's check after
    /// its push (invariant 4).
    pub(crate) fn is_killed(&self) -> bool {
        // Acquire: pairs with the Release of `kill`, whose caller then drains the queue.
        self.accepted.0.load(Ordering::Acquire) & KILLED != 0
    }

    /// [`is_killed`](Self::is_killed) as a worker reads it, from the word it writes itself:
    /// may lag behind `kill` (invariant 4), which drains the queue on its own.
    pub(crate) fn is_killed_hint(&self) -> bool {
        // Relaxed: a hint; a job taken just before the kill may still run.
        self.ended.0.load(Ordering::Relaxed) & KILLED != 0
    }

    /// Whether parked workers may leave: the pool is drained (closed, every accepted task
    /// ended) or killed. Read from `ended` (invariant 4).
    pub(crate) fn may_leave(&self) -> bool {
        // Acquire: pairs with the Release of the last `end` or the closing call.
        let word = self.ended.0.load(Ordering::Acquire);
        word & KILLED != 0 || word & !KILLED == CLOSED
    }

    /// Whether the pool is closed and every accepted task has ended.
    pub(crate) fn is_drained(&self) -> bool {
        // Acquire: pairs with the Release of the last `end`: the ended tasks' effects are
        // visible to the caller (e.g. `shutdown().await` returning).
        self.ended.0.load(Ordering::Acquire) & !KILLED == CLOSED
    }

    /// How many accepted tasks have not ended.
    #[cfg(test)]
    pub(crate) fn unfinished(&self) -> usize {
        let ended = self.ended.0.load(Ordering::Acquire);
        if ended & CLOSED != 0 {
            // `ended - N`, at most zero.
            return 0usize.wrapping_sub(ended & !FLAGS) / ONE_TASK;
        }
        let accepted = self.accepted.0.load(Ordering::Acquire);
        (accepted & !FLAGS).saturating_sub(ended & !FLAGS) / ONE_TASK
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
        assert_eq!(life.accept(), Accept::Refused, "closed: refused");
        assert_eq!(life.unfinished(), 2);
        assert!(!life.end());
        assert!(!life.is_drained());
        assert!(life.end(), "the last end drains the pool");
        assert!(life.is_drained());
        assert!(!life.kill(), "already drained: nobody else reports it");
        assert!(life.is_killed() && life.is_killed_hint());
    }

    #[test]
    fn ends_before_the_close_are_counted() {
        let life = Lifecycle::new();
        assert_eq!(life.accept(), Accept::Accepted);
        assert_eq!(life.accept(), Accept::Accepted);
        assert!(!life.end());
        assert!(!life.end(), "not closed: not drained");
        assert!(!life.may_leave());
        assert!(
            life.close(),
            "both ended before the close: the close drains"
        );
        assert!(life.is_drained() && life.may_leave());
        assert_eq!(life.unfinished(), 0);
    }

    #[test]
    fn closing_an_idle_pool_drains_it_at_once() {
        let life = Lifecycle::new();
        assert!(life.close());
        assert!(!life.close());
        assert!(life.is_drained());
    }

    #[test]
    fn a_kill_after_a_close_marks_both_words() {
        let life = Lifecycle::new();
        assert_eq!(life.accept(), Accept::Accepted);
        assert!(!life.close());
        assert!(!life.is_killed() && !life.may_leave());
        assert!(!life.kill(), "a task is still unfinished");
        assert!(life.is_killed() && life.is_killed_hint() && life.may_leave());
        assert!(!life.is_drained());
        assert!(life.end(), "the last end still reports the drain");
        assert!(life.is_drained());
    }

    #[test]
    fn a_refused_accept_leaves_the_pool_drained() {
        let life = Lifecycle::new();
        assert!(life.kill());
        assert_eq!(life.accept(), Accept::Refused);
        assert!(life.is_drained() && life.is_killed());
        assert_eq!(life.unfinished(), 0);
    }
}
