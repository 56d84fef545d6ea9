//! The lanes of a [`WorkQueue`](super::WorkQueue) for every priority but `NORMAL`: one FIFO
//! list per level, under one lock, made when a level is first used and removed when it
//! empties. A pool that never uses another priority never takes the lock: its whole cost is
//! one load of [`Lanes::count`] where a worker takes a job or checks for one.

use std::collections::{BTreeMap, VecDeque};

use super::job_list::JobList;
use crate::priority::Priority;
use crate::sync::{AtomicUsize, Mutex, Ordering, lock};
use crate::task::Job;

/// The jobs queued at levels other than `NORMAL`.
///
/// Kept on a cache line of its own: the count is read on every take, and the queue's other
/// counters are written often.
#[repr(align(128))]
pub(super) struct Lanes {
    /// The jobs in `lanes`; written only under its lock. One side of both races of the queue
    /// (module docs), like the NORMAL lane's indices: written with `SeqCst` read-modify-writes
    /// and read with `SeqCst` where a race needs it.
    count: AtomicUsize,
    lanes: Mutex<BTreeMap<u8, VecDeque<Job>>>,
}

const NORMAL: u8 = Priority::NORMAL.level();

impl Lanes {
    pub(super) fn new() -> Self {
        Self {
            count: AtomicUsize::new(0),
            lanes: Mutex::new(BTreeMap::new()),
        }
    }

    /// Queues `job` at `level` (not `NORMAL`, whose lane is the [`JobList`]).
    pub(super) fn push(&self, level: u8, job: Job) {
        debug_assert_ne!(level, NORMAL);
        let mut lanes = lock(&self.lanes);
        lanes.entry(level).or_default().push_back(job);
        // SeqCst: the store of both races (the pusher's job), as the Injector's tail.
        self.count.fetch_add(1, Ordering::SeqCst);
    }

    /// Whether no job waits in the lanes: the `SeqCst` load of the races.
    pub(super) fn is_empty(&self) -> bool {
        self.count.load(Ordering::SeqCst) == 0
    }

    pub(super) fn len(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Takes the next job in priority order: the oldest of the highest lane above `NORMAL`,
    /// else the oldest of `normal`, else the oldest of the highest lane below `NORMAL`.
    pub(super) fn pop(&self, normal: &JobList) -> Option<(u8, Job)> {
        // Relaxed: a stale zero only means a job pushed just now is taken after an older
        // NORMAL one, or seen by the `SeqCst` check a worker makes before it parks or leaves.
        if self.count.load(Ordering::Relaxed) == 0 {
            return normal.pop().map(|job| (NORMAL, job));
        }
        let mut lanes = lock(&self.lanes);
        if let Some(level) = lanes.range(NORMAL + 1..).next_back().map(|(l, _)| *l) {
            return self.pop_lane(&mut lanes, level);
        }
        if let Some(job) = normal.pop() {
            return Some((NORMAL, job));
        }
        let level = *lanes.range(..NORMAL).next_back()?.0;
        self.pop_lane(&mut lanes, level)
    }

    fn pop_lane(&self, lanes: &mut BTreeMap<u8, VecDeque<Job>>, level: u8) -> Option<(u8, Job)> {
        let lane = lanes.get_mut(&level)?;
        let job = lane.pop_front()?;
        if lane.is_empty() {
            lanes.remove(&level);
        }
        // SeqCst: every write of the count is, so it is one total order with the races' loads.
        self.count.fetch_sub(1, Ordering::SeqCst);
        Some((level, job))
    }
}
