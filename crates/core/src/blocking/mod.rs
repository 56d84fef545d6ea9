//! [`BlockingPool`]: blocking closures on Tokio's blocking threads, at most `max_workers` at
//! once. Python's `ThreadPoolExecutor`.

mod builder;

pub use builder::BlockingPoolBuilder;

use tokio::runtime::Handle;

use crate::handle::Pool;
use crate::kind::{self, Closures};
use crate::pool::{Runner, WorkerSlot};
use crate::task::Job;

/// A pool for blocking closures (file and network I/O, blocking client libraries, FFI):
/// Python's `ThreadPoolExecutor`, on Tokio's `spawn_blocking` threads.
///
/// At most `max_workers` closures of the pool run at once. The rest wait in a queue that holds
/// no thread: each worker is one `spawn_blocking` call that runs queued closures one after
/// another until the queue is empty, so a busy pool pays one spawn per worker, not per task.
/// The async runtime's own worker threads are never used.
///
/// `BlockingPool` is an alias of [`Pool`], the handle type of every pool, which documents the
/// methods all pools share; a cheap handle: clone it freely. Dropping the last handle lets
/// submitted tasks finish. If the runtime shuts down, the pool shuts down with it: unfinished
/// tasks resolve as cancelled and later submits at once.
///
/// # Examples
///
/// ```
/// use futurepool_core::BlockingPool;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = BlockingPool::builder().max_workers(8).name("files").build().unwrap();
/// let dir = std::env::temp_dir();
/// let task = pool.submit(move || std::fs::read_dir(dir).map(|entries| entries.count()));
/// let count = task.await.unwrap().unwrap();
/// println!("{count} entries");
/// # }
/// ```
pub type BlockingPool = Pool<Closures<kind::Blocking>>;

/// Starts workers with `spawn_blocking`.
pub(crate) struct Blocking {
    handle: Handle,
}

impl Runner for Blocking {
    fn start_worker(&self, slot: WorkerSlot<Self>, first: Option<Job>) {
        // After the runtime shut down, Tokio drops the closure unrun: the slot's `Drop` then
        // shuts the pool down and the job's cancels its task.
        drop(self.handle.spawn_blocking(move || work(slot, first)));
    }
}

/// A worker: runs `first`, then queued jobs, until the queue stays empty.
fn work(mut slot: WorkerSlot<Blocking>, mut first: Option<Job>) {
    loop {
        let job = match first.take() {
            Some(job) => job,
            None => {
                slot.look_for_work();
                match slot.next_or_leave() {
                    Some(job) => job,
                    None => return,
                }
            }
        };
        slot.core().run_sync(job);
    }
}

/// What only a [`BlockingPool`] has; submitting is on `Pool<Closures<On>>`, shared with
/// [`CpuPool`](crate::CpuPool), and shutdown, stats and the name on [`Pool`].
impl BlockingPool {
    /// A pool with the default settings of [`BlockingPoolBuilder`].
    ///
    /// # Panics
    ///
    /// Panics when called outside a Tokio runtime; use [`BlockingPool::builder`] to get an
    /// error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::new();
    /// assert_eq!(pool.max_workers(), futurepool_core::BlockingPoolBuilder::default_max_workers());
    /// # }
    /// ```
    pub fn new() -> Self {
        match Self::builder().build() {
            Ok(pool) => pool,
            Err(e) => panic!("BlockingPool::new: {e}"),
        }
    }
}

/// The same as [`BlockingPool::new`], including when it panics.
impl Default for BlockingPool {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_pythons() {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        assert_eq!(
            BlockingPoolBuilder::default_max_workers(),
            (cores + 4).min(32)
        );
    }
}
