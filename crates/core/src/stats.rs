//! Counters a pool keeps about its tasks, and the snapshot [`PoolStats`] that reports them.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// A snapshot of a pool's task counters, returned by `stats()`.
///
/// Counts are read one after another without a lock, so a snapshot taken while tasks move may be
/// off by the tasks that moved during the read; each counter on its own is exact.
///
/// # Examples
///
/// ```
/// use futurepool_core::CpuPool;
///
/// let pool = CpuPool::builder().max_workers(1).build().unwrap();
/// pool.submit(|| 1).blocking_wait().unwrap();
/// let _ = pool.submit(|| -> u8 { panic!("x") }).blocking_wait();
/// let stats = pool.stats();
/// assert_eq!((stats.submitted, stats.completed, stats.failed), (2, 1, 1));
/// assert_eq!((stats.queued, stats.running), (0, 0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Tasks accepted by the pool since it was built.
    pub submitted: u64,
    /// Tasks waiting for a worker.
    pub queued: usize,
    /// Tasks whose closure or future has started and whose outcome is not yet known.
    pub running: usize,
    /// Tasks that delivered a value.
    pub completed: u64,
    /// Tasks that panicked.
    pub failed: u64,
    /// Tasks cancelled before delivering a value.
    pub cancelled: u64,
    /// Submissions refused because the pool was shut down or its queue was full.
    pub rejected: u64,
}

/// The live counters behind [`PoolStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    submitted: AtomicU64,
    queued: AtomicUsize,
    running: AtomicUsize,
    completed: AtomicU64,
    failed: AtomicU64,
    cancelled: AtomicU64,
    rejected: AtomicU64,
}

/// A move of a task between states, as the counters see it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Move {
    Submitted,
    Started,
    Completed,
    Failed,
    CancelledQueued,
    CancelledRunning,
    Rejected,
    /// A submission counted as accepted that the pool refused after all (it shut down
    /// in between).
    Refused,
}

impl Counters {
    pub(crate) fn record(&self, change: Move) {
        match change {
            Move::Submitted => {
                self.submitted.fetch_add(1, Relaxed);
                self.queued.fetch_add(1, Relaxed);
            }
            Move::Started => {
                self.queued.fetch_sub(1, Relaxed);
                self.running.fetch_add(1, Relaxed);
            }
            Move::Completed => {
                self.running.fetch_sub(1, Relaxed);
                self.completed.fetch_add(1, Relaxed);
            }
            Move::Failed => {
                self.running.fetch_sub(1, Relaxed);
                self.failed.fetch_add(1, Relaxed);
            }
            Move::CancelledQueued => {
                self.queued.fetch_sub(1, Relaxed);
                self.cancelled.fetch_add(1, Relaxed);
            }
            Move::CancelledRunning => {
                self.running.fetch_sub(1, Relaxed);
                self.cancelled.fetch_add(1, Relaxed);
            }
            Move::Rejected => {
                self.rejected.fetch_add(1, Relaxed);
            }
            Move::Refused => {
                self.submitted.fetch_sub(1, Relaxed);
                self.queued.fetch_sub(1, Relaxed);
                self.rejected.fetch_add(1, Relaxed);
            }
        }
    }

    pub(crate) fn snapshot(&self) -> PoolStats {
        PoolStats {
            submitted: self.submitted.load(Relaxed),
            queued: self.queued.load(Relaxed),
            running: self.running.load(Relaxed),
            completed: self.completed.load(Relaxed),
            failed: self.failed.load(Relaxed),
            cancelled: self.cancelled.load(Relaxed),
            rejected: self.rejected.load(Relaxed),
        }
    }
}
