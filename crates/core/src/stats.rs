//! Counters a pool keeps about its tasks, and the snapshot [`PoolStats`] that reports them.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::sync::Notify;

/// A snapshot of a pool's task counters, returned by `stats()`.
///
/// Counts are read one after another without a lock, so a snapshot taken while tasks move may be
/// off by the tasks that moved during the read; each total on its own is exact.
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

/// A counter alone on its cache line(s), so that threads bumping different counters do not
/// slow each other down.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded(AtomicU64);

impl Padded {
    fn bump(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The live counters behind [`PoolStats`], and the signal that the pool has drained.
///
/// Every counter only grows, and each event bumps one of them, so the thread submitting and
/// the threads running tasks never write to the same cache line; `queued` and `running` are
/// derived in [`snapshot`](Self::snapshot).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    submitted: Padded,
    started: Padded,
    completed: Padded,
    failed: Padded,
    cancelled_queued: Padded,
    cancelled_running: Padded,
    rejected: Padded,
    /// Submissions counted in `submitted` that the pool refused after all.
    refused: Padded,
    /// Jobs that ended (ran, or were dropped unrun); the pool is drained when this reaches
    /// `submitted`.
    ended: Padded,
    closed: AtomicBool,
    drained: Notify,
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
            Move::Submitted => self.submitted.bump(),
            Move::Started => self.started.bump(),
            Move::Completed => self.completed.bump(),
            Move::Failed => self.failed.bump(),
            Move::CancelledQueued => self.cancelled_queued.bump(),
            Move::CancelledRunning => self.cancelled_running.bump(),
            Move::Rejected => self.rejected.bump(),
            Move::Refused => self.refused.bump(),
        }
    }

    /// Notes that a job ended; wakes `drained` waiters once the pool is closed.
    pub(crate) fn job_ended(&self) {
        self.ended.0.fetch_add(1, Ordering::SeqCst);
        if self.closed.load(Ordering::SeqCst) {
            self.drained.notify_waiters();
        }
    }

    /// Marks the pool closed, so that ending jobs signal `drained`.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.drained.notify_waiters();
    }

    /// Waits until every accepted job has ended. Call after [`close`](Self::close).
    pub(crate) async fn drained(&self) {
        loop {
            let notified = self.drained.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let submitted = self.submitted.0.load(Ordering::SeqCst);
            if self.ended.0.load(Ordering::SeqCst) >= submitted {
                return;
            }
            notified.await;
        }
    }

    pub(crate) fn snapshot(&self) -> PoolStats {
        // Later stages first, so that a task moving during the read is not counted twice.
        let completed = self.completed.get();
        let failed = self.failed.get();
        let cancelled_running = self.cancelled_running.get();
        let started = self.started.get();
        let cancelled_queued = self.cancelled_queued.get();
        let refused = self.refused.get();
        let submitted = self.submitted.get().saturating_sub(refused);
        let queued = submitted.saturating_sub(started + cancelled_queued);
        let running = started.saturating_sub(completed + failed + cancelled_running);
        PoolStats {
            submitted,
            queued: usize::try_from(queued).unwrap_or(usize::MAX),
            running: usize::try_from(running).unwrap_or(usize::MAX),
            completed,
            failed,
            cancelled: cancelled_queued + cancelled_running,
            rejected: self.rejected.get() + refused,
        }
    }
}
