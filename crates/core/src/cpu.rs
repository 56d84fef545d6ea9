//! [`CpuPool`]: CPU-bound closures on dedicated OS threads that never run on, or starve, the
//! async runtime. Python's `ProcessPoolExecutor`, without processes.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use crossbeam_deque::{Injector, Steal};

use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TaskTrackerToken;

use crate::blocking::check_max_workers;
use crate::closure_pool::closure_pool_api;
use crate::error::{BuildError, TrySubmitError};
use crate::executor::Executor;
use crate::shared::{Job, Refusal, Shared};
use crate::stats::PoolStats;
use crate::task::Task;

type StartHook = Arc<dyn Fn() + Send + Sync + 'static>;

/// A pool of dedicated threads for CPU-bound closures: Python's `ProcessPoolExecutor`, with
/// threads instead of processes.
///
/// Its threads belong to the pool alone (named `"{prefix}-{index}"`), so heavy computation never
/// occupies the async runtime's workers and cannot stall other tasks; finishing a task wakes
/// whoever awaits it without blocking them. The pool needs no Tokio runtime at all: from
/// synchronous code, use [`Task::blocking_wait`].
///
/// `CpuPool` is a cheap handle: clone it freely. When the last handle is dropped, the threads
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
#[derive(Clone)]
pub struct CpuPool {
    handle: Arc<Handle>,
}

/// The part of a pool whose drop (with the last `CpuPool`) tells the threads to exit.
struct Handle {
    inner: Arc<Inner>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.inner.close();
    }
}

struct Inner {
    shared: Shared,
    jobs: Injector<Job>,
    /// Threads asleep on `work_ready`; a push takes the lock to wake one only when there are.
    sleepers: AtomicUsize,
    sleep: Mutex<()>,
    work_ready: Condvar,
    closed: AtomicBool,
    /// Threads still taking jobs; the last one to exit drops jobs that arrived too late.
    alive: AtomicUsize,
    threads: TaskTracker,
    max_workers: usize,
}

/// How many times an idle thread looks for work before it sleeps.
const SPIN_ROUNDS: u32 = 64;

impl CpuPool {
    const PREFERS_BATCHING: bool = true;

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

    /// A builder to configure a pool.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(2).build().unwrap();
    /// assert_eq!(pool.max_workers(), 2);
    /// ```
    pub fn builder() -> CpuPoolBuilder {
        CpuPoolBuilder::default()
    }

    /// The number of threads, which is the most closures this pool runs at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(3).build().unwrap();
    /// assert_eq!(pool.max_workers(), 3);
    /// ```
    pub fn max_workers(&self) -> usize {
        self.handle.inner.max_workers
    }

    fn shared(&self) -> &Shared {
        &self.handle.inner.shared
    }

    fn spawn<F, T>(
        &self,
        f: F,
        permit: Option<OwnedSemaphorePermit>,
        token: Option<CancellationToken>,
    ) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let inner = &self.handle.inner;
        inner
            .shared
            .closure_task(f, permit, token, |job| inner.push(job))
    }

    fn close(&self) {
        self.handle.inner.close();
    }

    fn drop_queued(&self) {
        drop(self.handle.inner.take_jobs());
    }

    fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let inner = Arc::clone(&self.handle.inner);
        async move {
            inner.shared.drained().await;
            inner.threads.wait().await;
        }
    }
}

impl Inner {
    fn push(&self, job: Job) -> Result<(), Job> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(job);
        }
        self.jobs.push(job);
        fence(Ordering::SeqCst);
        if self.alive.load(Ordering::SeqCst) == 0 {
            // Shut down meanwhile, and every thread is gone: nobody would run it.
            drop(self.take_jobs());
        } else if self.sleepers.load(Ordering::SeqCst) > 0 {
            let _sleep = self.sleep.lock().unwrap_or_else(PoisonError::into_inner);
            self.work_ready.notify_one();
        }
        Ok(())
    }

    fn steal(&self) -> Option<Job> {
        loop {
            match self.jobs.steal() {
                Steal::Success(job) => return Some(job),
                Steal::Empty => return None,
                Steal::Retry => {}
            }
        }
    }

    /// The next job, waiting for one; `None` once the pool is closed and the queue empty.
    fn next(&self) -> Option<Job> {
        loop {
            if let Some(job) = self.steal() {
                return Some(job);
            }
            // Work often arrives in bursts: look for it a little before going to sleep, which
            // saves a wake-up system call per task.
            for round in 0..SPIN_ROUNDS {
                if !self.jobs.is_empty() || self.closed.load(Ordering::Relaxed) {
                    break;
                }
                if round < SPIN_ROUNDS / 2 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            if let Some(job) = self.steal() {
                return Some(job);
            }
            if self.closed.load(Ordering::SeqCst) {
                return None;
            }
            let sleep = self.sleep.lock().unwrap_or_else(PoisonError::into_inner);
            self.sleepers.fetch_add(1, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            let sleep = if self.jobs.is_empty() && !self.closed.load(Ordering::SeqCst) {
                self.work_ready
                    .wait(sleep)
                    .unwrap_or_else(PoisonError::into_inner)
            } else {
                sleep
            };
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
            drop(sleep);
        }
    }

    /// Removes every queued job (to be dropped, which cancels them).
    fn take_jobs(&self) -> Vec<Job> {
        std::iter::from_fn(|| self.steal()).collect()
    }

    /// Refuses new jobs and wakes every thread so that it exits once the queue is empty.
    fn close(&self) {
        self.shared.close();
        self.closed.store(true, Ordering::SeqCst);
        let _sleep = self.sleep.lock().unwrap_or_else(PoisonError::into_inner);
        self.work_ready.notify_all();
    }

    /// A worker thread's life.
    fn work(&self, on_start: Option<StartHook>, _alive: TaskTrackerToken) {
        let started = match on_start {
            Some(hook) => catch_unwind(AssertUnwindSafe(|| hook())).is_ok(),
            None => true,
        };
        if started {
            while let Some(job) = self.next() {
                job.run();
            }
        } else {
            tracing::error!(
                pool = &*self.shared.name,
                "on_thread_start panicked; the pool shuts down and cancels its queued tasks"
            );
            self.close();
            drop(self.take_jobs());
        }
        fence(Ordering::SeqCst);
        if self.alive.fetch_sub(1, Ordering::SeqCst) == 1 {
            drop(self.take_jobs());
        }
    }
}

closure_pool_api!(CpuPool, "CpuPool::new()");

/// The same as [`CpuPool::new`], including when it panics.
impl Default for CpuPool {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for CpuPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CpuPool")
            .field("name", &self.name())
            .field("max_workers", &self.max_workers())
            .field("stats", &self.stats())
            .finish()
    }
}

/// Configures and builds a [`CpuPool`]; every setting has a documented default.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
/// use std::sync::Arc;
///
/// let started = Arc::new(AtomicUsize::new(0));
/// let counter = Arc::clone(&started);
/// let pool = futurepool_core::CpuPool::builder()
///     .max_workers(2)
///     .thread_name_prefix("render")
///     .on_thread_start(move || { counter.fetch_add(1, Ordering::SeqCst); })
///     .build()
///     .unwrap();
/// let name = pool.submit(|| std::thread::current().name().unwrap().to_owned());
/// assert!(name.blocking_wait().unwrap().starts_with("render-"));
/// ```
#[derive(Clone, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct CpuPoolBuilder {
    max_workers: Option<usize>,
    thread_name_prefix: Option<String>,
    name: Option<String>,
    queue_capacity: Option<usize>,
    stack_size: Option<usize>,
    on_thread_start: Option<StartHook>,
}

impl CpuPoolBuilder {
    /// The default `max_workers`: `std::thread::available_parallelism()` (1 if unknown).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(futurepool_core::CpuPoolBuilder::default_max_workers() >= 1);
    /// ```
    pub fn default_max_workers() -> usize {
        std::thread::available_parallelism().map_or(1, usize::from)
    }

    /// The number of threads [default: [`default_max_workers`](Self::default_max_workers)].
    ///
    /// Zero is refused by [`build`](Self::build).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(1).build().unwrap();
    /// assert_eq!(pool.max_workers(), 1);
    /// ```
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n);
        self
    }

    /// The prefix of thread names, which are `"{prefix}-{index}"` with index from 0
    /// [default: `"futurepool-cpu"`].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder()
    ///     .max_workers(1)
    ///     .thread_name_prefix("cpu")
    ///     .build()
    ///     .unwrap();
    /// let name = pool.submit(|| std::thread::current().name().map(str::to_owned));
    /// assert_eq!(name.blocking_wait().unwrap().as_deref(), Some("cpu-0"));
    /// ```
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.thread_name_prefix = Some(prefix.into());
        self
    }

    /// The pool's name, shown in `tracing` spans [default: the thread name prefix].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().name("images").build().unwrap();
    /// assert_eq!(pool.name(), "images");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Bounds how many tasks may wait for a thread [default: unbounded, as Python].
    ///
    /// See [`BlockingPoolBuilder::queue_capacity`](crate::BlockingPoolBuilder::queue_capacity)
    /// for what a bound changes.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().queue_capacity(128).build().unwrap();
    /// # drop(pool);
    /// ```
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = Some(n);
        self
    }

    /// Each thread's stack size in bytes [default: the standard library's, 2 MiB unless
    /// `RUST_MIN_STACK` says otherwise].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().stack_size(8 << 20).build().unwrap();
    /// # drop(pool);
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Runs `f` once on each thread as it starts, before it takes any task: Python's
    /// `initializer` [default: none].
    ///
    /// # Panics
    ///
    /// If `f` panics, the pool shuts down: queued tasks resolve as cancelled and later submits
    /// as shut down (Python's `BrokenThreadPool`). The panic does not reach the caller.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    ///
    /// thread_local!(static SCRATCH: Cell<usize> = const { Cell::new(0) });
    ///
    /// let pool = futurepool_core::CpuPool::builder()
    ///     .max_workers(1)
    ///     .on_thread_start(|| SCRATCH.with(|s| s.set(42)))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(pool.submit(|| SCRATCH.with(Cell::get)).blocking_wait().unwrap(), 42);
    /// ```
    pub fn on_thread_start<F>(mut self, f: F) -> Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.on_thread_start = Some(Arc::new(f));
        self
    }

    /// Starts the threads and returns the pool.
    ///
    /// # Errors
    ///
    /// A [`BuildError`] when `max_workers` is zero or the operating system refuses a thread
    /// (the threads already started then exit).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = futurepool_core::CpuPool::builder().max_workers(0).build().unwrap_err();
    /// assert!(err.to_string().contains("max_workers"));
    /// ```
    pub fn build(self) -> Result<CpuPool, BuildError> {
        let max_workers = check_max_workers(self.max_workers, Self::default_max_workers)?;
        let prefix = self
            .thread_name_prefix
            .unwrap_or_else(|| "futurepool-cpu".to_owned());
        let name: Arc<str> = self.name.as_deref().unwrap_or(&prefix).into();
        let inner = Arc::new(Inner {
            shared: Shared::new(name, max_workers, self.queue_capacity),
            jobs: Injector::new(),
            sleepers: AtomicUsize::new(0),
            sleep: Mutex::new(()),
            work_ready: Condvar::new(),
            closed: AtomicBool::new(false),
            alive: AtomicUsize::new(0),
            threads: TaskTracker::new(),
            max_workers,
        });
        for index in 0..max_workers {
            let mut thread = std::thread::Builder::new().name(format!("{prefix}-{index}"));
            if let Some(bytes) = self.stack_size {
                thread = thread.stack_size(bytes);
            }
            let worker = Arc::clone(&inner);
            let on_start = self.on_thread_start.clone();
            let alive = inner.threads.token();
            inner.alive.fetch_add(1, Ordering::SeqCst);
            if let Err(e) = thread.spawn(move || worker.work(on_start, alive)) {
                inner.alive.fetch_sub(1, Ordering::SeqCst);
                inner.close();
                inner.threads.close();
                return Err(BuildError::new(format!(
                    "could not start CPU pool thread {prefix}-{index}: {e}"
                )));
            }
        }
        inner.threads.close();
        Ok(CpuPool {
            handle: Arc::new(Handle { inner }),
        })
    }
}

impl fmt::Debug for CpuPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CpuPoolBuilder")
            .field("max_workers", &self.max_workers)
            .field("thread_name_prefix", &self.thread_name_prefix)
            .field("name", &self.name)
            .field("queue_capacity", &self.queue_capacity)
            .field("stack_size", &self.stack_size)
            .field("on_thread_start", &self.on_thread_start.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_send_sync() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<CpuPool>();
    }
}
