//! Counters a pool keeps about its tasks, and the snapshot [`PoolStats`] that reports them.

use std::sync::atomic::{AtomicU64, Ordering};

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
    /// Tasks that resolved to an error of their own (a panic, a crash, a timeout).
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
        // Relaxed: each counter is exact on its own; a snapshot makes no promise across them.
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The live counters behind [`PoolStats`].
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
}

/// Something that happened to a task, as the counters see it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Event {
    Submitted,
    Started,
    Completed,
    Failed,
    CancelledQueued,
    CancelledRunning,
    Rejected,
}

impl Counters {
    pub(crate) fn record(&self, event: Event) {
        match event {
            Event::Submitted => self.submitted.bump(),
            Event::Started => self.started.bump(),
            Event::Completed => self.completed.bump(),
            Event::Failed => self.failed.bump(),
            Event::CancelledQueued => self.cancelled_queued.bump(),
            Event::CancelledRunning => self.cancelled_running.bump(),
            Event::Rejected => self.rejected.bump(),
        }
    }

    pub(crate) fn snapshot(&self) -> PoolStats {
        // Later stages first, so that a task moving during the read is not counted twice.
        let completed = self.completed.get();
        let failed = self.failed.get();
        let cancelled_running = self.cancelled_running.get();
        let started = self.started.get();
        let cancelled_queued = self.cancelled_queued.get();
        let submitted = self.submitted.get();
        let queued = submitted.saturating_sub(started + cancelled_queued);
        let running = started.saturating_sub(completed + failed + cancelled_running);
        PoolStats {
            submitted,
            queued: usize::try_from(queued).unwrap_or(usize::MAX),
            running: usize::try_from(running).unwrap_or(usize::MAX),
            completed,
            failed,
            cancelled: cancelled_queued + cancelled_running,
            rejected: self.rejected.get(),
        }
    }
}
