//! The queue behind [`BlockingPool`](crate::BlockingPool) and [`AsyncPool`](crate::AsyncPool):
//! at most `max_workers` workers, each a loop that takes queued jobs one after another, so a
//! queued job holds no thread and a busy pool pays no spawn per job.
//!
//! Jobs sit in a lock-free queue. Async workers that find it empty park (a stored [`Waker`])
//! until a job comes, so a steady trickle of work reuses them instead of spawning a task per
//! job; blocking workers look for work a little, then give their thread back. The lock on the
//! parked list is taken only to park or to wake a parked worker.
//!
//! Two races are closed with sequentially consistent fences on both sides: a job pushed just as
//! the last worker leaves (the pusher sees no worker and starts one, or the leaving worker sees
//! the job), and a job pushed just as a worker parks (the pusher sees the parked worker and
//! wakes it, or the parking worker sees the job).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crossbeam_deque::{Injector, Steal};

/// What [`WorkQueue::push`] decided for a job.
pub(crate) enum Push<J> {
    /// Fewer than `max_workers` workers exist: start a new one, with this job first if any
    /// (`None`: the job was queued, but every worker had just left).
    StartWorker(Option<J>),
    /// The job waits in the queue for a busy worker, or was handed to a parked one.
    Queued,
    /// The queue is closed; the job comes back.
    Closed(J),
}

/// A FIFO of jobs with a count of workers.
pub(crate) struct WorkQueue<J> {
    jobs: Injector<J>,
    /// Workers alive, busy or parked.
    workers: AtomicUsize,
    /// Parked async workers, by worker id.
    parked: Mutex<Vec<(usize, Waker)>>,
    /// `parked.len()`, readable without the lock.
    parked_count: AtomicUsize,
    closed: AtomicBool,
    max_workers: usize,
}

impl<J> WorkQueue<J> {
    pub(crate) fn new(max_workers: usize) -> Self {
        Self {
            jobs: Injector::new(),
            workers: AtomicUsize::new(0),
            parked: Mutex::new(Vec::new()),
            parked_count: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            max_workers,
        }
    }

    pub(crate) fn max_workers(&self) -> usize {
        self.max_workers
    }

    fn lock_parked(&self) -> MutexGuard<'_, Vec<(usize, Waker)>> {
        self.parked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one more worker if there is room for it.
    fn add_worker(&self) -> bool {
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

    /// Adds a job; the caller must start a worker on [`Push::StartWorker`].
    pub(crate) fn push(&self, job: J) -> Push<J> {
        if self.closed.load(Ordering::SeqCst) {
            return Push::Closed(job);
        }
        if self.parked_count.load(Ordering::SeqCst) == 0 && self.add_worker() {
            return Push::StartWorker(Some(job));
        }
        self.jobs.push(job);
        fence(Ordering::SeqCst);
        if self.parked_count.load(Ordering::SeqCst) > 0 {
            self.wake_one();
        } else if self.workers.load(Ordering::SeqCst) == 0 {
            if self.closed.load(Ordering::SeqCst) {
                // Closed meanwhile and every worker is gone: nobody would run it.
                drop(self.take_queued());
            } else if self.add_worker() {
                return Push::StartWorker(None);
            }
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

    fn steal(&self) -> Option<J> {
        loop {
            match self.jobs.steal() {
                Steal::Success(job) => return Some(job),
                Steal::Empty => return None,
                Steal::Retry => {}
            }
        }
    }

    /// Whether jobs are queued (may be stale by the time it returns).
    pub(crate) fn has_jobs(&self) -> bool {
        !self.jobs.is_empty()
    }

    /// Uncounts a worker that found no job; `false` if it must stay because a job came in.
    fn retire(&self) -> bool {
        self.workers.fetch_sub(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if self.jobs.is_empty() {
            return true;
        }
        if self.closed.load(Ordering::SeqCst) && self.workers.load(Ordering::SeqCst) == 0 {
            // Jobs pushed as the pool closed: drop (cancel) them rather than strand them.
            drop(self.take_queued());
            return true;
        }
        !self.add_worker()
    }

    /// The next job for a blocking worker that finished one; `None` means the worker must
    /// exit (it is no longer counted).
    pub(crate) fn next(&self) -> Option<J> {
        loop {
            if let Some(job) = self.steal() {
                return Some(job);
            }
            if self.retire() {
                return None;
            }
        }
    }

    /// The next job for async worker `id`, parking it while the queue is empty; `Ready(None)`
    /// once the queue is closed and empty (the worker is then no longer counted).
    ///
    /// `parked` is the worker's own note that it parked: set here when it parks, and used on
    /// the next call to remove its entry if no push took it.
    pub(crate) fn poll_next(
        &self,
        id: usize,
        parked: &mut bool,
        cx: &mut Context<'_>,
    ) -> Poll<Option<J>> {
        if std::mem::take(parked) {
            let mut list = self.lock_parked();
            if let Some(at) = list.iter().position(|(worker, _)| *worker == id) {
                list.swap_remove(at);
                self.parked_count.fetch_sub(1, Ordering::SeqCst);
            }
        }
        loop {
            if let Some(job) = self.steal() {
                return Poll::Ready(Some(job));
            }
            if self.closed.load(Ordering::SeqCst) {
                if self.retire() {
                    return Poll::Ready(None);
                }
                continue;
            }
            let mut list = self.lock_parked();
            list.push((id, cx.waker().clone()));
            self.parked_count.fetch_add(1, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            if self.jobs.is_empty() && !self.closed.load(Ordering::SeqCst) {
                *parked = true;
                return Poll::Pending;
            }
            // A job (or the close) came in while parking: take it instead.
            list.pop();
            self.parked_count.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Refuses further jobs; queued ones stay and still run, parked workers exit.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let parked = {
            let mut list = self.lock_parked();
            self.parked_count.store(0, Ordering::SeqCst);
            std::mem::take(&mut *list)
        };
        for (_, waker) in parked {
            waker.wake();
        }
    }

    /// Removes every queued job (to be dropped, which cancels them).
    pub(crate) fn take_queued(&self) -> Vec<J> {
        std::iter::from_fn(|| self.steal()).collect()
    }
}

impl<J> std::fmt::Debug for WorkQueue<J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkQueue")
            .field("workers", &self.workers.load(Ordering::Relaxed))
            .field("max_workers", &self.max_workers)
            .field("parked", &self.parked_count.load(Ordering::Relaxed))
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}
