//! The NORMAL lane of a [`WorkQueue`](super::WorkQueue): crossbeam's lock-free `Injector`, or
//! under the model checker a list shaped like it where the queue's races live.

#[cfg(futurepool_loom)]
use crate::sync::{AtomicUsize, Mutex, Ordering, lock};
use crate::task::Job;

/// The FIFO list of jobs: crossbeam's lock-free `Injector` (rayon's global queue), or a
/// locked list under the model checker.
#[cfg(not(futurepool_loom))]
pub(super) struct JobList(crossbeam_deque::Injector<Job>);

#[cfg(not(futurepool_loom))]
impl JobList {
    pub(super) fn new() -> Self {
        Self(crossbeam_deque::Injector::new())
    }

    pub(super) fn push(&self, job: Job) {
        self.0.push(job);
    }

    pub(super) fn pop(&self) -> Option<Job> {
        loop {
            match self.0.steal() {
                crossbeam_deque::Steal::Success(job) => return Some(job),
                crossbeam_deque::Steal::Empty => return None,
                crossbeam_deque::Steal::Retry => {}
            }
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }
}

/// The model checker's job list, shaped like crossbeam's `Injector` where the races of this
/// file live: a push publishes its job with a `Release` store of the tail index after writing
/// it, `is_empty` compares the indices with `SeqCst` loads, and a pop takes only published
/// jobs. (A lock keeps the items themselves simple; it orders nothing the races rely on.)
#[cfg(futurepool_loom)]
pub(super) struct JobList {
    items: Mutex<std::collections::VecDeque<Job>>,
    head: AtomicUsize,
    tail: AtomicUsize,
}

#[cfg(futurepool_loom)]
impl JobList {
    pub(super) fn new() -> Self {
        Self {
            items: Mutex::new(std::collections::VecDeque::new()),
            head: AtomicUsize::new(0),
            tail: AtomicUsize::new(0),
        }
    }

    pub(super) fn push(&self, job: Job) {
        lock(&self.items).push_back(job);
        self.tail.fetch_add(1, Ordering::Release);
    }

    pub(super) fn pop(&self) -> Option<Job> {
        let mut items = lock(&self.items);
        let head = self.head.load(Ordering::Relaxed);
        if head == self.tail.load(Ordering::Acquire) {
            return None;
        }
        self.head.store(head + 1, Ordering::Release);
        items.pop_front()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.head.load(Ordering::SeqCst) == self.tail.load(Ordering::SeqCst)
    }

    pub(super) fn len(&self) -> usize {
        self.tail.load(Ordering::SeqCst) - self.head.load(Ordering::SeqCst)
    }
}
