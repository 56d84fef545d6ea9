//! [`TrySubmitError`]: why a non-waiting submit was refused.

use std::fmt;

/// Why `try_submit` refused a task; the closure or future comes back unharmed.
///
/// # Examples
///
/// ```
/// use futurepool_core::{CpuPool, TrySubmitError};
///
/// let pool = CpuPool::builder().max_workers(1).build().unwrap();
/// futures::executor::block_on(pool.shutdown());
/// match pool.try_submit(|| 1) {
///     Err(TrySubmitError::Shutdown(f)) => assert_eq!(f(), 1),
///     _ => unreachable!(),
/// }
/// ```
pub enum TrySubmitError<F> {
    /// The pool's bounded queue has no room now.
    Full(F),
    /// The pool is shut down.
    Shutdown(F),
}

impl<F> TrySubmitError<F> {
    /// The closure or future that was not submitted.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = futurepool_core::TrySubmitError::Full(7);
    /// assert_eq!(err.into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> F {
        match self {
            Self::Full(f) | Self::Shutdown(f) => f,
        }
    }

    /// Whether the queue was full (rather than the pool shut down).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(futurepool_core::TrySubmitError::Full(()).is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full(_))
    }
}

impl<F> fmt::Debug for TrySubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::Shutdown(_) => f.write_str("Shutdown(..)"),
        }
    }
}

impl<F> fmt::Display for TrySubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("pool queue is full"),
            Self::Shutdown(_) => f.write_str("pool is shut down"),
        }
    }
}

impl<F> std::error::Error for TrySubmitError<F> {}
