//! [`WorkQueue`]: the jobs of a pool waiting for a worker, and the count and parking places of
//! its workers. One queue serves all three pools:
//!
//! - `BlockingPool` workers are started on demand (up to `max_workers`) and leave when they
//!   find the queue empty (after looking a little), giving their thread back to Tokio.
//! - `CpuPool` threads and `AsyncPool` workers park when the queue is empty — a stored
//!   [`Waker`] (for a thread, one that unparks it) — and leave only when their pool is drained
//!   or killed.
//!
//! # Priorities
//!
//! Jobs wait in lanes, one per [`Priority`](crate::Priority) level. The `NORMAL` lane, all that
//! a pool which never uses priorities touches, is crossbeam's lock-free `Injector`
//! (`job_list.rs`); the other levels live in [`Lanes`] (`lanes.rs`): FIFO lists under one
//! lock, made when a level is first used, with a count read without the lock. A worker takes
//! the oldest job of the highest non-empty lane: while the count is zero, straight from the
//! `Injector`, without the lock. Priority decides only among queued jobs; there is no aging.
//!
//! # Races closed here
//!
//! Both are store-then-load pairs on two locations ("the jobs", a count), which only a
//! sequentially consistent fence on each side orders; every `SeqCst` in this file belongs to
//! one of them, and the loom models in `loom_models.rs` check both. "The jobs" is every lane:
//! a push stores into one (the `Injector`'s tail, or the lanes' count), and "looks at the
//! jobs" is [`WorkQueue::is_empty`], a `SeqCst` load of each.
//!
//! 1. *Push vs leave* (on-demand workers): the pusher adds its job, then reads `workers`; a
//!    leaving worker lowers `workers`, then looks at the jobs. At least one sees the other: the
//!    pusher starts a worker, or the leaving worker stays.
//! 2. *Push vs park*: the pusher adds its job, then reads `parked_count`; a parking worker
//!    raises `parked_count` (under the parked lock), then looks at the jobs. At least one sees
//!    the other: the pusher wakes a parked worker, or the worker takes the job instead of
//!    parking.
//!
//! A third wake-up, "the pool is drained or killed, leave", needs no fence: the pool sets the
//! lifecycle's `ended` word (the side workers read), then wakes every parked worker under the
//! parked lock; a worker parks under that lock and checks the word after registering, so it
//! is either woken or sees the word.

mod job_list;
mod lanes;

use std::task::{Context, Poll, Waker};

use job_list::JobList;
use lanes::Lanes;

use crate::priority::Priority;
use crate::sync::{AtomicUsize, Mutex, MutexGuard, Ordering, fence, lock};
use crate::task::Job;

/// What [`WorkQueue::push`] decided for a job.
pub(crate) enum Push {
    /// A worker was counted for the caller to start, with this job first if any (`None`: the
    /// job was queued, but every worker had just left).
    StartWorker(Option<Job>),
    /// The job waits for a busy worker, or a parked one was woken for it.
    Queued,
}

/// How many cancelled entries may sit in a queue before it is compacted (and at least half
/// of the queue must be such dead weight).
const COMPACT_AFTER: usize = 64;

/// A pool's queued jobs and its workers.
pub(crate) struct WorkQueue {
    /// The `NORMAL` lane.
    jobs: JobList,
    /// The other lanes.
    lanes: Lanes,
    /// Workers alive, busy or parked. One side of race 1: written with `SeqCst`.
    workers: AtomicUsize,
    /// Parked workers, by worker id.
    parked: Mutex<Vec<(usize, Waker)>>,
    /// `parked.len()`, readable without the lock; written only under it. One side of race 2:
    /// every access is `SeqCst`.
    parked_count: AtomicUsize,
    /// Queued entries of tasks cancelled while they waited.
    dead: AtomicUsize,
    max_workers: usize,
}

impl WorkQueue {
    pub(crate) fn new(max_workers: usize) -> Self {
        Self {
            jobs: JobList::new(),
            lanes: Lanes::new(),
            workers: AtomicUsize::new(0),
            parked: Mutex::new(Vec::new()),
            parked_count: AtomicUsize::new(0),
            dead: AtomicUsize::new(0),
            max_workers,
        }
    }

    pub(crate) fn max_workers(&self) -> usize {
        self.max_workers
    }

    /// Workers alive now.
    pub(crate) fn workers(&self) -> usize {
        // Acquire: pairs with the Release half of `leave`, for a shutdown that waits for
        // workers to be gone.
        self.workers.load(Ordering::Acquire)
    }

    fn lock_parked(&self) -> MutexGuard<'_, Vec<(usize, Waker)>> {
        lock(&self.parked)
    }

    /// Counts one more worker if there is room for it; the caller must start it.
    pub(crate) fn add_worker(&self) -> bool {
        // SeqCst: the count is one side of race 1 (see the module docs).
        let mut workers = self.workers.load(Ordering::SeqCst);
        while workers < self.max_workers {
            match self.workers.compare_exchange_weak(
                workers,
                workers + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return true,
                Err(now) => workers = now,
            }
        }
        false
    }

    /// Uncounts a worker that leaves for good.
    pub(crate) fn leave(&self) {
        // SeqCst: race 1 (a worker leaving is the store of that pair).
        self.workers.fetch_sub(1, Ordering::SeqCst);
    }

    /// Adds a job at `priority`; the caller must start a worker on [`Push::StartWorker`].
    pub(crate) fn push(&self, priority: Priority, job: Job) -> Push {
        // SeqCst loads: race 2 (parked) and race 1 (workers).
        if self.parked_count.load(Ordering::SeqCst) == 0 && self.add_worker() {
            return Push::StartWorker(Some(job));
        }
        if priority == Priority::NORMAL {
            self.jobs.push(job);
        } else {
            self.lanes.push(priority.level(), job);
        }
        fence(Ordering::SeqCst);
        if self.parked_count.load(Ordering::SeqCst) > 0 {
            self.wake_one();
        } else if self.workers.load(Ordering::SeqCst) == 0 && self.add_worker() {
            return Push::StartWorker(None);
        }
        Push::Queued
    }

    fn wake_one(&self) {
        let mut parked = self.lock_parked();
        if let Some((_, waker)) = parked.pop() {
            self.parked_count.fetch_sub(1, Ordering::SeqCst);
            drop(parked);
            waker.wake();
        }
    }

    /// Wakes every parked worker (to take jobs put back, or to leave).
    pub(crate) fn wake_all(&self) {
        let parked = {
            let mut list = self.lock_parked();
            self.parked_count.store(0, Ordering::SeqCst);
            std::mem::take(&mut *list)
        };
        for (_, waker) in parked {
            waker.wake();
        }
    }

    /// Takes the next job: the oldest of the highest priority.
    pub(crate) fn pop(&self) -> Option<Job> {
        let (_, job) = self.lanes.pop(&self.jobs)?;
        if job.is_finished() {
            // A cancelled task's entry: no longer dead weight in the queue. Relaxed: see
            // `note_dead`.
            let _ = self
                .dead
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        }
        Some(job)
    }

    /// Whether jobs are queued (may be stale by the time it returns).
    pub(crate) fn has_jobs(&self) -> bool {
        !self.is_empty()
    }

    /// Whether every lane is empty: the load of both races (`SeqCst` loads of every lane).
    fn is_empty(&self) -> bool {
        self.jobs.is_empty() && self.lanes.is_empty()
    }

    fn len(&self) -> usize {
        self.jobs.len() + self.lanes.len()
    }

    /// The next job for an on-demand worker; `None` means it has left (it is no longer
    /// counted) because the queue stayed empty.
    pub(crate) fn next_or_leave(&self) -> Option<Job> {
        loop {
            if let Some(job) = self.pop() {
                return Some(job);
            }
            self.leave();
            fence(Ordering::SeqCst);
            // Race 1: a job pushed as this worker left is seen here, or its pusher saw the
            // lowered count and started a worker.
            if self.is_empty() || !self.add_worker() {
                return None;
            }
        }
    }

    /// The next job for parking worker `id`, parking it while the queue is empty; `Ready(None)`
    /// when `must_leave` says so and the queue is empty (the caller then leaves).
    ///
    /// `parked` is the worker's own note that it parked: set here when it parks, and used on
    /// the next call to remove its entry if no push took it.
    pub(crate) fn poll_next(
        &self,
        id: usize,
        parked: &mut bool,
        cx: &mut Context<'_>,
        must_leave: impl Fn() -> bool,
    ) -> Poll<Option<Job>> {
        if std::mem::take(parked) {
            self.remove_parked(id);
        }
        loop {
            if let Some(job) = self.pop() {
                return Poll::Ready(Some(job));
            }
            if must_leave() {
                return Poll::Ready(None);
            }
            let mut list = self.lock_parked();
            list.push((id, cx.waker().clone()));
            self.parked_count.fetch_add(1, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            // Race 2, and the leave wake-up (module docs): checked after registering.
            if self.is_empty() && !must_leave() {
                *parked = true;
                return Poll::Pending;
            }
            // A job (or the order to leave) came while parking: take it instead.
            list.pop();
            self.parked_count.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Removes worker `id`'s parking place, if a push has not taken it.
    pub(crate) fn remove_parked(&self, id: usize) {
        let mut list = self.lock_parked();
        if let Some(at) = list.iter().position(|(worker, _)| *worker == id) {
            list.swap_remove(at);
            self.parked_count.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Removes every queued job.
    pub(crate) fn take_all(&self) -> Vec<Job> {
        std::iter::from_fn(|| self.pop()).collect()
    }

    /// Notes a queued task cancelled; `true` when enough of the queue is dead weight that it
    /// should be compacted ([`take_live`](Self::take_live)).
    pub(crate) fn note_dead(&self) -> bool {
        // Relaxed: a heuristic count; compaction re-checks every entry.
        let dead = self.dead.fetch_add(1, Ordering::Relaxed) + 1;
        dead >= COMPACT_AFTER && dead * 2 >= self.len()
    }

    /// Takes every queued job, dropping those of finished (cancelled) tasks; the caller puts
    /// the live ones back, each at its priority. Jobs pushed meanwhile may so get ahead of
    /// older ones of their level.
    pub(crate) fn take_live(&self) -> Vec<(Priority, Job)> {
        let mut live = Vec::new();
        while let Some((level, job)) = self.lanes.pop(&self.jobs) {
            if job.is_finished() {
                drop(job);
            } else {
                live.push((Priority::new(level), job));
            }
        }
        // Relaxed: see `note_dead`. Cancels racing with this are forgotten: a heuristic.
        self.dead.store(0, Ordering::Relaxed);
        live
    }
}

impl std::fmt::Debug for WorkQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkQueue")
            .field("workers", &self.workers.load(Ordering::Relaxed))
            .field("max_workers", &self.max_workers)
            .field("parked", &self.parked_count.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}
