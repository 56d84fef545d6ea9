//! [`AsyncPoolBuilder`]: the settings of an [`AsyncPool`].

use std::sync::Arc;

use tokio::runtime::Handle;

use super::{Async, AsyncPool};
use crate::error::BuildError;
use crate::pool::{Builder, Owner, PoolCore};

/// Configures and builds an [`AsyncPool`]: [`Builder`] with the settings of a pool of
/// futures on the Tokio runtime.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = futurepool_core::AsyncPool::builder()
///     .max_concurrency(32)
///     .name("crawler")
///     .build()
///     .unwrap();
/// assert_eq!(pool.name(), "crawler");
/// # }
/// ```
pub type AsyncPoolBuilder = Builder<AsyncPool>;

impl Builder<AsyncPool> {
    /// The default `max_concurrency`.
    pub const DEFAULT_MAX_CONCURRENCY: usize = 64;

    /// The most futures polled at once [default: [`DEFAULT_MAX_CONCURRENCY`](Self::DEFAULT_MAX_CONCURRENCY)].
    ///
    /// Zero is refused by [`build`](Self::build).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::AsyncPool::builder().max_concurrency(1).build().unwrap();
    /// assert_eq!(pool.max_concurrency(), 1);
    /// # }
    /// ```
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.size = Some(n);
        self
    }

    /// The runtime the futures are spawned on [default: the runtime current when
    /// [`build`](Self::build) is called].
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// let pool = futurepool_core::AsyncPool::builder()
    ///     .handle(runtime.handle().clone())
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(pool.submit(async { 9 }).blocking_wait().unwrap(), 9);
    /// ```
    pub fn handle(mut self, handle: Handle) -> Self {
        self.handle = Some(handle);
        self
    }

    /// Builds the pool.
    ///
    /// # Errors
    ///
    /// A [`BuildError`] when `max_concurrency` is zero, or when no runtime handle was given and
    /// the call is not inside a Tokio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = futurepool_core::AsyncPool::builder().build().unwrap_err();
    /// assert!(err.to_string().contains("Tokio runtime"));
    /// ```
    pub fn build(self) -> Result<AsyncPool, BuildError> {
        let config = self.config("async", "max_concurrency", || Self::DEFAULT_MAX_CONCURRENCY)?;
        let handle = self.runtime("AsyncPool")?;
        Ok(AsyncPool {
            owner: Arc::new(Owner(PoolCore::new(&config, Async { handle }))),
        })
    }
}
