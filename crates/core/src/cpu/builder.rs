//! [`CpuPoolBuilder`]: the settings of a pool of dedicated threads.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use super::{Cpu, CpuPool};
use crate::error::BuildError;
use crate::pool::{Builder, Owner, PoolCore, WorkerSlot};
use crate::sync::Mutex;

/// Configures and builds a [`CpuPool`]: [`Builder`] with the settings of a pool of dedicated
/// threads.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
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
pub type CpuPoolBuilder = Builder<CpuPool>;

impl Builder<CpuPool> {
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
        self.size = Some(n);
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

    /// Starts the threads and returns the pool. The pool's name defaults to the thread name
    /// prefix.
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
        let prefix = self
            .thread_name_prefix
            .clone()
            .unwrap_or_else(|| "futurepool-cpu".to_owned());
        let config = self.config(&prefix, "max_workers", Self::default_max_workers)?;
        let core = PoolCore::new(
            &config,
            Cpu {
                prefix,
                stack_size: self.stack_size,
                on_thread_start: Mutex::new(self.on_thread_start),
                next_index: AtomicUsize::new(0),
            },
        );
        for _ in 0..config.max_workers {
            if !core.queue.add_worker() {
                break;
            }
            let slot = WorkerSlot::new(Arc::clone(&core));
            if let Err(e) = core.runner.spawn(slot, None) {
                return Err(BuildError::new(format!(
                    "could not start a CpuPool thread: {e}"
                )));
            }
        }
        Ok(CpuPool {
            owner: Arc::new(Owner(core)),
        })
    }
}
