//! The [`Executor`] trait: what code generic over "a pool that runs closures" may rely on.

use std::future::Future;

use crate::handle::Pool;
use crate::kind::{Closures, Threads};
use crate::priority::Priority;
use crate::stats::PoolStats;
use crate::task::Task;

/// A pool that runs synchronous closures: Python's `Executor`, implemented by
/// [`BlockingPool`](crate::BlockingPool) and [`CpuPool`](crate::CpuPool).
///
/// Write code against it to let callers choose where work runs; the map streams of
/// `futurepool-stream` accept any executor. Other crates may implement it for their own
/// pools: it asks for nothing a pool of closures does not naturally have, and a task from
/// anywhere can be made with [`Promise`](crate::Promise).
///
/// # Examples
///
/// ```
/// use futurepool_core::{CpuPool, Executor, Task};
///
/// fn checksums<E: Executor>(pool: &E, blocks: Vec<Vec<u8>>) -> Vec<Task<u32>> {
///     blocks
///         .into_iter()
///         .map(|block| pool.submit(move || block.iter().map(|&b| u32::from(b)).sum()))
///         .collect()
/// }
///
/// let pool = CpuPool::builder().max_workers(2).build().unwrap();
/// let tasks = checksums(&pool, vec![vec![1, 2], vec![3]]);
/// let sums: Vec<u32> = tasks.into_iter().map(|t| t.blocking_wait().unwrap()).collect();
/// assert_eq!(sums, [3, 3]);
/// ```
pub trait Executor: Clone + Send + Sync + 'static {
    /// Submits a closure; see the pools' own `submit` for the full contract.
    fn submit<F, T>(&self, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;

    /// Submits a closure at `priority`; see the pools' own `submit_with_priority`.
    ///
    /// The provided method ignores `priority` and calls [`submit`](Self::submit): a pool
    /// without priorities runs every task as `NORMAL`. The pools of this crate honour it.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{CpuPool, Executor, Priority};
    ///
    /// fn in_background<E: Executor>(pool: &E) -> futurepool_core::Task<u8> {
    ///     pool.submit_with_priority(Priority::LOW, || 7)
    /// }
    ///
    /// let pool = CpuPool::builder().max_workers(1).build().unwrap();
    /// assert_eq!(in_background(&pool).blocking_wait().unwrap(), 7);
    /// ```
    fn submit_with_priority<F, T>(&self, priority: Priority, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let _ = priority;
        self.submit(f)
    }

    /// The most closures the pool runs at once.
    fn max_workers(&self) -> usize;

    /// Whether the pool was shut down.
    fn is_shutdown(&self) -> bool;

    /// A snapshot of the pool's task counters.
    fn stats(&self) -> PoolStats;

    /// The pool's name.
    fn name(&self) -> &str;

    /// Stops accepting work; completes when queued and running tasks have finished.
    fn shutdown(&self) -> impl Future<Output = ()> + Send + 'static;

    /// Stops accepting work and cancels queued tasks; completes when running ones returned.
    fn shutdown_now(&self) -> impl Future<Output = ()> + Send + 'static;
}

/// Both closure pools, [`BlockingPool`](crate::BlockingPool) and [`CpuPool`](crate::CpuPool),
/// through their inherent methods.
impl<On: Threads> Executor for Pool<Closures<On>> {
    fn submit<F, T>(&self, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        Self::submit(self, f)
    }

    fn submit_with_priority<F, T>(&self, priority: Priority, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        Self::submit_with_priority(self, priority, f)
    }

    fn max_workers(&self) -> usize {
        Self::max_workers(self)
    }

    fn is_shutdown(&self) -> bool {
        Self::is_shutdown(self)
    }

    fn stats(&self) -> PoolStats {
        Self::stats(self)
    }

    fn name(&self) -> &str {
        Self::name(self)
    }

    fn shutdown(&self) -> impl Future<Output = ()> + Send + 'static {
        Self::shutdown(self)
    }

    fn shutdown_now(&self) -> impl Future<Output = ()> + Send + 'static {
        Self::shutdown_now(self)
    }
}
