//! [`WorkerSlot`]: a worker's place in its pool's worker count, given back on every path.

use std::sync::Arc;
use std::task::{Context, Poll};

use super::{PoolCore, Runner};
use crate::task::Job;

/// How many times an idle thread worker looks for work before it parks or leaves.
const SPIN_ROUNDS: u32 = 64;

/// A worker's place in its pool: counted when the worker is started, uncounted when it is
/// dropped, however the worker ends.
///
/// A worker that leaves the normal way ([`next_or_leave`](Self::next_or_leave) or
/// [`poll_next`](Self::poll_next) returning nothing) is done. A slot dropped any other way
/// means the worker never ran or was dropped mid-run: Tokio refused a `spawn_blocking` or
/// `spawn`, or dropped a worker task, because the runtime is shutting down (or a panic escaped
/// the worker, which futurepool's own code never lets user code do). The pool can then no
/// longer run anything it accepts, so the slot shuts it down now: every unfinished task
/// resolves as cancelled and later submits resolve at once.
pub(crate) struct WorkerSlot<R: Runner> {
    core: Arc<PoolCore<R>>,
    id: usize,
    left: bool,
}

impl<R: Runner> WorkerSlot<R> {
    /// The slot of a worker the queue has just counted.
    pub(crate) fn new(core: Arc<PoolCore<R>>) -> Self {
        let id = core.next_worker_id();
        Self {
            core,
            id,
            left: false,
        }
    }

    pub(crate) fn core(&self) -> &Arc<PoolCore<R>> {
        &self.core
    }

    /// Looks for work a little before a thread worker parks or gives its thread back: work
    /// often arrives in bursts, and finding it here saves a wake-up system call (a `CpuPool`
    /// thread's unpark) or a `spawn_blocking` (a `BlockingPool` worker's) per task. Returns
    /// early when jobs are queued or the pool tells workers to leave.
    pub(crate) fn look_for_work(&self) {
        for round in 0..SPIN_ROUNDS {
            if self.core.queue.has_jobs() || self.core.workers_may_leave() {
                return;
            }
            if round < SPIN_ROUNDS / 2 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }

    /// The next job for an on-demand worker; `None` once it has left (the queue stayed empty).
    pub(crate) fn next_or_leave(&mut self) -> Option<Job> {
        let job = self.core.queue.next_or_leave();
        if job.is_none() {
            self.left = true;
            self.core.worker_left();
        }
        job
    }

    /// The next job for a parking worker, parking it while there is none; `Ready(None)` once
    /// it has left (its pool is drained or killed).
    pub(crate) fn poll_next(
        &mut self,
        parked: &mut bool,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Job>> {
        let core = &self.core;
        let next = core
            .queue
            .poll_next(self.id, parked, cx, || core.workers_may_leave());
        if let Poll::Ready(None) = next {
            core.queue.leave();
            self.left = true;
            core.worker_left();
        }
        next
    }
}

impl<R: Runner> Drop for WorkerSlot<R> {
    fn drop(&mut self) {
        if self.left {
            return;
        }
        self.core.queue.remove_parked(self.id);
        self.core.queue.leave();
        if std::thread::panicking() {
            tracing::error!(
                pool = self.core.name(),
                "a pool worker panicked; the pool shuts down"
            );
        }
        self.core.kill();
        self.core.worker_left();
    }
}
