//! [`CpuPool`]: CPU-bound closures on dedicated OS threads that never run on, or starve, the
//! async runtime. Python's `ProcessPoolExecutor`, without processes.

mod builder;

pub use builder::CpuPoolBuilder;

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use tokio_util::sync::CancellationToken;

use crate::error::TrySubmitError;
use crate::pool::{Builder, Owner, PoolCore, Runner, StartHook, WorkerSlot};
use crate::priority::Priority;
use crate::stats::PoolStats;
use crate::sync::{Mutex, lock, thread_waker};
use crate::task::{Body, Job, Task};

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
    owner: Arc<Owner<Cpu>>,
}

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

    /// A builder to configure a pool.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(2).build().unwrap();
    /// assert_eq!(pool.max_workers(), 2);
    /// ```
    pub fn builder() -> CpuPoolBuilder {
        Builder::new()
    }

    fn core(&self) -> &Arc<PoolCore<Cpu>> {
        &self.owner.0
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
        self.core().queue.max_workers()
    }

    /// Submits a closure to run on one of the pool's threads and returns its [`Task`].
    ///
    /// Never blocks and never panics. After [`shutdown`](Self::shutdown) the task resolves at
    /// once to an error with [`TaskError::is_shutdown`](crate::TaskError::is_shutdown); with a
    /// full bounded queue, to one with [`TaskError::is_rejected`](crate::TaskError::is_rejected).
    /// A panic in `f` resolves the task to an error with
    /// [`TaskError::is_panic`](crate::TaskError::is_panic); the pool carries on.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::new();
    /// let task = pool.submit(|| (1..=10u64).product::<u64>());
    /// assert_eq!(task.blocking_wait().unwrap(), 3_628_800);
    /// ```
    pub fn submit<F, T>(&self, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core().submit(Priority::NORMAL, Body::closure(f), None)
    }

    /// Submits a closure that can be told to stop: it receives a [`CancellationToken`] that
    /// [`Task::cancel`] and [`shutdown_now`](Self::shutdown_now) trigger.
    ///
    /// Poll `token.is_cancelled()` in long loops and return early; the task then resolves to
    /// an error with [`TaskError::is_cancelled`](crate::TaskError::is_cancelled) and the
    /// closure's return value is discarded.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(1).build().unwrap();
    /// let (started_tx, started) = std::sync::mpsc::channel();
    /// let task = pool.submit_cancellable(move |token| {
    ///     started_tx.send(()).unwrap();
    ///     while !token.is_cancelled() {
    ///         std::hint::spin_loop();
    ///     }
    /// });
    /// started.recv().unwrap();
    /// assert!(task.cancel());
    /// assert!(task.blocking_wait().unwrap_err().is_cancelled());
    /// ```
    pub fn submit_cancellable<F, T>(&self, f: F) -> Task<T>
    where
        F: FnOnce(CancellationToken) -> T + Send + 'static,
        T: Send + 'static,
    {
        let token = self.core().child_token();
        let given = token.clone();
        self.core().submit(
            Priority::NORMAL,
            Body::closure(move || f(given)),
            Some(token),
        )
    }

    /// Submits a closure only if it can be accepted now; otherwise gives it back.
    ///
    /// # Errors
    ///
    /// [`TrySubmitError::Full`] when the pool's bounded queue has no room,
    /// [`TrySubmitError::Shutdown`] after shutdown; both hold the closure.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().queue_capacity(8).build().unwrap();
    /// match pool.try_submit(|| 1) {
    ///     Ok(task) => assert_eq!(task.blocking_wait().unwrap(), 1),
    ///     Err(refused) => println!("not now: {refused}"),
    /// }
    /// ```
    pub fn try_submit<F, T>(&self, f: F) -> Result<Task<T>, TrySubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core().try_submit(Priority::NORMAL, f, Body::closure)
    }

    /// Submits a closure like [`submit`](Self::submit), at `priority`: among the pool's queued
    /// tasks, a higher priority starts first, and equal priorities in submission order.
    ///
    /// A running task is never interrupted, and with a worker free the task starts at once.
    /// See [`Priority`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{CpuPool, Priority};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = CpuPool::builder().max_workers(1).build().unwrap();
    /// let report = pool.submit_with_priority(Priority::LOW, || "nightly report");
    /// let click = pool.submit_with_priority(Priority::HIGH, || "button clicked");
    /// assert_eq!(click.await.unwrap(), "button clicked");
    /// assert_eq!(report.await.unwrap(), "nightly report");
    /// # }
    /// ```
    pub fn submit_with_priority<F, T>(&self, priority: Priority, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core().submit(priority, Body::closure(f), None)
    }

    /// Submits a closure at `priority` only if it can be accepted now; otherwise gives it
    /// back: [`try_submit`](Self::try_submit) with a [`Priority`].
    ///
    /// # Errors
    ///
    /// [`TrySubmitError::Full`] when the pool's bounded queue has no room,
    /// [`TrySubmitError::Shutdown`] after shutdown; both hold the closure.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{CpuPool, Priority};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = CpuPool::builder().max_workers(1).queue_capacity(16).build().unwrap();
    /// match pool.try_submit_with_priority(Priority::LOW, || 2 + 2) {
    ///     Ok(task) => assert_eq!(task.await.unwrap(), 4),
    ///     Err(refused) => println!("busy, try later: {refused}"),
    /// }
    /// # }
    /// ```
    pub fn try_submit_with_priority<F, T>(
        &self,
        priority: Priority,
        f: F,
    ) -> Result<Task<T>, TrySubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core().try_submit(priority, f, Body::closure)
    }

    /// Submits a closure, first waiting for room in the pool's bounded queue.
    ///
    /// This waits for a place in the queue, not for the task. Without a bounded queue it
    /// returns at once.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, `f` is dropped unsubmitted
    /// and no place in the queue is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::CpuPool::builder().max_workers(2).queue_capacity(4).build().unwrap();
    /// let mut tasks = Vec::new();
    /// for i in 0..100u32 {
    ///     tasks.push(pool.submit_wait(move || i * 2).await);
    /// }
    /// let total: u32 = futures::future::try_join_all(tasks).await.unwrap().into_iter().sum();
    /// assert_eq!(total, 9900);
    /// # }
    /// ```
    pub async fn submit_wait<F, T>(&self, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core()
            .submit_wait(Priority::NORMAL, Body::closure(f))
            .await
    }

    /// Submits a closure at `priority`, first waiting for room in the pool's bounded queue:
    /// [`submit_wait`](Self::submit_wait) with a [`Priority`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, `f` is dropped unsubmitted.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{CpuPool, Priority};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = CpuPool::builder().max_workers(1).queue_capacity(2).build().unwrap();
    /// let task = pool.submit_wait_with_priority(Priority::HIGH, || 3).await;
    /// assert_eq!(task.await.unwrap(), 3);
    /// # }
    /// ```
    pub async fn submit_wait_with_priority<F, T>(&self, priority: Priority, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core().submit_wait(priority, Body::closure(f)).await
    }

    /// Shuts the pool down gracefully: stops accepting work at once, and the returned future
    /// completes when every queued and running task has finished and been dropped and the
    /// threads have exited.
    ///
    /// Every task accepted before the call runs, however the call races submitters. The
    /// future needs no runtime: `futures::executor::block_on` works.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(2).build().unwrap();
    /// let task = pool.submit(|| "queued before shutdown");
    /// futures::executor::block_on(pool.shutdown());
    /// assert!(task.is_finished());
    /// assert!(pool.submit(|| ()).blocking_wait().unwrap_err().is_shutdown());
    /// ```
    pub fn shutdown(&self) -> impl Future<Output = ()> + Send + 'static {
        self.core().close();
        self.core().stopped()
    }

    /// Shuts the pool down now: stops accepting work, cancels every task that has not
    /// started, triggers the tokens of running cooperative closures, and completes when the
    /// running closures have returned and the threads have exited.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(1).build().unwrap();
    /// let task = pool.submit_cancellable(|token| {
    ///     while !token.is_cancelled() {
    ///         std::thread::yield_now();
    ///     }
    /// });
    /// futures::executor::block_on(pool.shutdown_now());
    /// assert!(task.blocking_wait().unwrap_err().is_cancelled());
    /// ```
    pub fn shutdown_now(&self) -> impl Future<Output = ()> + Send + 'static {
        self.core().kill();
        self.core().stopped()
    }

    /// Whether the pool was shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(1).build().unwrap();
    /// assert!(!pool.is_shutdown());
    /// drop(pool.shutdown());
    /// assert!(pool.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.core().is_shutdown()
    }

    /// A snapshot of the pool's task counters.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(1).build().unwrap();
    /// pool.submit(|| ()).blocking_wait().unwrap();
    /// assert_eq!(pool.stats().completed, 1);
    /// ```
    pub fn stats(&self) -> PoolStats {
        self.core().stats()
    }

    /// The pool's name, as it appears in each task's `tracing` span.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().name("images").build().unwrap();
    /// assert_eq!(pool.name(), "images");
    /// ```
    pub fn name(&self) -> &str {
        self.core().name()
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(dead_code)]
    fn is_send_sync_clone<T: Send + Sync + Clone + 'static>() {}

    #[test]
    fn handles_are_send_sync() {
        is_send_sync_clone::<CpuPool>();
    }
}
