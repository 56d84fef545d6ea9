//! [`BuildError`]: why a pool could not be built.

use std::fmt;

/// The reason a pool builder refused to build a pool.
///
/// # Examples
///
/// ```
/// let err = futurepool_core::CpuPool::builder().max_workers(0).build().unwrap_err();
/// assert_eq!(err.to_string(), "max_workers must be at least 1, got 0");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError {
    message: String,
}

impl BuildError {
    /// An error with `message`, for pools in other crates that build on this one.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = futurepool_core::BuildError::new("max_tasks_per_child must be at least 1");
    /// assert_eq!(err.to_string(), "max_tasks_per_child must be at least 1");
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BuildError {}
