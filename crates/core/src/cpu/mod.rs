//! [`CpuPool`]: CPU-bound closures on dedicated OS threads that never run on, or starve, the
//! async runtime. Python's `ProcessPoolExecutor`, without processes.

mod builder;

pub use builder::CpuPoolBuilder;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use crate::handle::Pool;
use crate::kind::{self, Closures};
use crate::pool::{Runner, StartHook, WorkerSlot};
use crate::sync::{Mutex, lock, thread_waker};
use crate::task::Job;

/// A pool of dedicated threads for CPU-bound closures: Python's `ProcessPoolExecutor`, with
/// threads instead of processes.
///
/// Its threads belong to the pool alone (named `"{prefix}-{index}"`), so heavy computation never
/// occupies the async runtime's workers and cannot stall other tasks; finishing a task wakes
/// whoever awaits it without blocking them. The pool needs no Tokio runtime at all: from
/// synchronous code, use [`Task::blocking_wait`](crate::Task::blocking_wait).
///
/// `CpuPool` is an alias of [`Pool`], the handle type of every pool, which documents the methods
/// all pools share; a cheap handle: clone it freely. When the last handle is dropped, the threads
/// finish the queued tasks and exit.
///
/// # Examples
///
/// ```
/// use futurepool_core::CpuPool;
///
/// fn cpu_bound_calculation(n: u64) -> u64 {
///     (0..n).map(|i| i * i).sum()
/// }
///
/// let pool = CpuPool::builder().max_workers(2).thread_name_prefix("calc").build().unwrap();
/// let tasks: Vec<_> = [10_000u64, 20_000]
///     .into_iter()
///     .map(|n| pool.submit(move || cpu_bound_calculation(n)))
///     .collect();
/// let sums: Vec<u64> = tasks.into_iter().map(|t| t.blocking_wait().unwrap()).collect();
/// assert_eq!(sums, [333_283_335_000, 2_666_466_670_000]);
/// ```
pub type CpuPool = Pool<Closures<kind::Cpu>>;

/// Starts workers as named OS threads.
pub(crate) struct Cpu {
    prefix: String,
    stack_size: Option<usize>,
    /// Dropped when the pool drains, so that its captures do not outlive the threads.
    on_thread_start: Mutex<Option<StartHook>>,
    next_index: AtomicUsize,
}

impl Cpu {
    fn spawn(&self, slot: WorkerSlot<Self>, first: Option<Job>) -> std::io::Result<()> {
        // Relaxed: the index only names the thread.
        let index = self.next_index.fetch_add(1, Ordering::Relaxed);
        let mut thread = std::thread::Builder::new().name(format!("{}-{index}", self.prefix));
        if let Some(bytes) = self.stack_size {
            thread = thread.stack_size(bytes);
        }
        let hook = lock(&self.on_thread_start).clone();
        // On failure the closure, and with it the slot, is dropped: the pool shuts down.
        thread.spawn(move || work(slot, first, hook)).map(drop)
    }
}

impl Runner for Cpu {
    fn start_worker(&self, slot: WorkerSlot<Self>, first: Option<Job>) {
        let _ = self.spawn(slot, first);
    }

    fn drained(&self) {
        drop(lock(&self.on_thread_start).take());
    }
}

/// A thread's life: the start hook, then jobs, parking while there are none, until the pool
/// is drained or killed.
fn work(mut slot: WorkerSlot<Cpu>, first: Option<Job>, hook: Option<StartHook>) {
    if let Some(hook) = hook
        && catch_unwind(AssertUnwindSafe(|| hook())).is_err()
    {
        tracing::error!(
            pool = slot.core().name(),
            "on_thread_start panicked; the pool shuts down and cancels its queued tasks"
        );
        // Dropping the slot of a worker that did not leave shuts the pool down.
        drop(first);
        return;
    }
    if let Some(job) = first {
        slot.core().run_sync(job);
    }
    let waker = thread_waker(std::thread::current());
    let mut cx = Context::from_waker(&waker);
    let mut parked = false;
    loop {
        slot.look_for_work();
        match slot.poll_next(&mut parked, &mut cx) {
            Poll::Ready(Some(job)) => slot.core().run_sync(job),
            Poll::Ready(None) => return,
            // Woken (unparked) by a push, or by the pool draining; a spurious return from
            // `park` just looks again.
            Poll::Pending => std::thread::park(),
        }
    }
}

/// What only a [`CpuPool`] has; submitting is on `Pool<Closures<On>>`, shared with
/// [`BlockingPool`](crate::BlockingPool), and shutdown, stats and the name on [`Pool`].
impl CpuPool {
    /// A pool with the default settings of [`CpuPoolBuilder`].
    ///
    /// # Panics
    ///
    /// Panics if the operating system refuses to start the threads; use [`CpuPool::builder`]
    /// to get an error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::new();
    /// assert_eq!(pool.max_workers(), futurepool_core::CpuPoolBuilder::default_max_workers());
    /// ```
    pub fn new() -> Self {
        match Self::builder().build() {
            Ok(pool) => pool,
            Err(e) => panic!("CpuPool::new: {e}"),
        }
    }
}

/// The same as [`CpuPool::new`], including when it panics.
impl Default for CpuPool {
    fn default() -> Self {
        Self::new()
    }
}
