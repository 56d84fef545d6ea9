//! [`TaskId`]: a task's identity.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// A task's identity, unique within the process.
///
/// Ids count up from 1 in submission order across all pools. They appear in `TaskError`
/// messages and in each task's `tracing` span.
///
/// # Examples
///
/// ```
/// let pool = futurepool_core::CpuPool::builder().max_workers(1).build().unwrap();
/// let (a, b) = (pool.submit(|| ()), pool.submit(|| ()));
/// assert!(a.id() < b.id());
/// assert_eq!(a.id().to_string(), a.id().as_u64().to_string());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(u64);

impl TaskId {
    pub(crate) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        // Relaxed: only uniqueness matters, which the read-modify-write alone guarantees.
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The id as a number.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(1).build().unwrap();
    /// assert!(pool.submit(|| ()).id().as_u64() >= 1);
    /// ```
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
