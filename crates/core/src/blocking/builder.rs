//! [`BlockingPoolBuilder`]: the settings of a pool on Tokio's blocking threads.

use std::sync::Arc;

use tokio::runtime::Handle;

use super::{Blocking, BlockingPool};
use crate::error::BuildError;
use crate::pool::{Builder, Owner, PoolCore};

/// Configures and builds a [`BlockingPool`]: [`Builder`] with the settings of a pool on
/// Tokio's blocking threads.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = futurepool_core::BlockingPool::builder().max_workers(4).build().unwrap();
/// assert_eq!(pool.max_workers(), 4);
/// # }
/// ```
pub type BlockingPoolBuilder = Builder<BlockingPool>;

impl Builder<BlockingPool> {
    /// The default `max_workers`: `min(32, cores + 4)`, as Python's `ThreadPoolExecutor`.
    ///
    /// # Examples
    ///
    /// ```
    /// let n = futurepool_core::BlockingPoolBuilder::default_max_workers();
    /// assert!((5..=32).contains(&n));
    /// ```
    pub fn default_max_workers() -> usize {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        (cores + 4).min(32)
    }

    /// The most closures that run at once [default:
    /// [`default_max_workers`](Self::default_max_workers)]. Zero is refused by
    /// [`build`](Self::build).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::builder().max_workers(1).build().unwrap();
    /// assert_eq!(pool.max_workers(), 1);
    /// # }
    /// ```
    pub fn max_workers(mut self, n: usize) -> Self {
        self.size = Some(n);
        self
    }

    /// The runtime whose blocking threads run the pool's closures [default: the runtime
    /// current when [`build`](Self::build) is called].
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// // built outside any runtime, thanks to the explicit handle:
    /// let pool = futurepool_core::BlockingPool::builder()
    ///     .handle(runtime.handle().clone())
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(pool.submit(|| 5).blocking_wait().unwrap(), 5);
    /// ```
    pub fn handle(mut self, handle: Handle) -> Self {
        self.handle = Some(handle);
        self
    }

    /// Builds the pool.
    ///
    /// # Errors
    ///
    /// A [`BuildError`] when `max_workers` is zero, or when no runtime handle was given and
    /// the call is not inside a Tokio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// // outside a runtime, without a handle:
    /// let err = futurepool_core::BlockingPool::builder().build().unwrap_err();
    /// assert!(err.to_string().contains("Tokio runtime"));
    /// ```
    pub fn build(self) -> Result<BlockingPool, BuildError> {
        let config = self.config("blocking", "max_workers", Self::default_max_workers)?;
        let handle = self.runtime("BlockingPool")?;
        Ok(BlockingPool {
            owner: Arc::new(Owner(PoolCore::new(&config, Blocking { handle }))),
        })
    }
}
