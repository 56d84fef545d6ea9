//! The queue behind [`BlockingPool`](crate::BlockingPool) and [`AsyncPool`](crate::AsyncPool):
//! at most `max_workers` workers, each a loop that takes queued jobs one after another, so a
//! queued job holds no thread and a busy pool pays no spawn per job.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// What [`WorkQueue::push`] decided for a job.
pub(crate) enum Push<J> {
    /// Fewer than `max_workers` workers run: start a new one with this job.
    StartWorker(J),
    /// Every worker is busy; the job waits in the queue.
    Queued,
    /// The queue is closed; the job comes back.
    Closed(J),
}

#[derive(Debug)]
struct State<J> {
    jobs: VecDeque<J>,
    workers: usize,
    closed: bool,
}

/// A FIFO of jobs with a count of running workers.
#[derive(Debug)]
pub(crate) struct WorkQueue<J> {
    state: Mutex<State<J>>,
    max_workers: usize,
}

impl<J> WorkQueue<J> {
    pub(crate) fn new(max_workers: usize) -> Self {
        Self {
            state: Mutex::new(State {
                jobs: VecDeque::new(),
                workers: 0,
                closed: false,
            }),
            max_workers,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<J>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn max_workers(&self) -> usize {
        self.max_workers
    }

    /// Adds a job; the caller must start a worker for it on [`Push::StartWorker`].
    pub(crate) fn push(&self, job: J) -> Push<J> {
        let mut state = self.lock();
        if state.closed {
            return Push::Closed(job);
        }
        if state.workers < self.max_workers {
            state.workers += 1;
            Push::StartWorker(job)
        } else {
            state.jobs.push_back(job);
            Push::Queued
        }
    }

    /// The next job for a worker that finished one; `None` means the worker must exit (it is
    /// no longer counted).
    pub(crate) fn next(&self) -> Option<J> {
        let mut state = self.lock();
        let job = state.jobs.pop_front();
        if job.is_none() {
            state.workers -= 1;
        }
        job
    }

    /// Refuses further jobs; queued ones stay and still run.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
    }

    /// Removes every queued job (to be dropped, which cancels them).
    pub(crate) fn take_queued(&self) -> VecDeque<J> {
        std::mem::take(&mut self.lock().jobs)
    }
}
