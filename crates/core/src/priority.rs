//! [`Priority`]: which queued task of a pool starts first.

use std::fmt;

/// The priority of a task among the queued tasks of its pool: a higher level starts first,
/// equal levels start in submission order.
///
/// [`submit`](crate::CpuPool::submit) uses [`Priority::NORMAL`];
/// `submit_with_priority` takes another. Priorities order only the queue: a running task is
/// never interrupted, and a task submitted while a worker is free starts at once whatever its
/// level. There is no aging: a steady stream of higher-priority work keeps lower levels
/// waiting (bound it with the pool's `queue_capacity`).
///
/// The named levels leave room on both sides for finer ones made with
/// [`Priority::new`]: `LOW` is 64, `NORMAL` 128, `HIGH` 192.
///
/// # Examples
///
/// ```
/// use futurepool_core::Priority;
///
/// assert!(Priority::HIGH > Priority::NORMAL);
/// assert!(Priority::NORMAL > Priority::LOW);
/// assert_eq!(Priority::default(), Priority::NORMAL);
/// let urgent = Priority::new(255);
/// assert!(urgent > Priority::HIGH);
/// assert_eq!(urgent.level(), 255);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(u8);

impl Priority {
    /// Before normal work: interactive requests.
    pub const HIGH: Priority = Priority(192);
    /// What `submit` uses.
    pub const NORMAL: Priority = Priority(128);
    /// After normal work: batch jobs, prefetching, cleanup.
    pub const LOW: Priority = Priority(64);

    /// A priority of the given level; a higher level starts first.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::Priority;
    ///
    /// let between = Priority::new(160);
    /// assert!(Priority::NORMAL < between && between < Priority::HIGH);
    /// ```
    pub const fn new(level: u8) -> Self {
        Priority(level)
    }

    /// The level of this priority.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(futurepool_core::Priority::NORMAL.level(), 128);
    /// ```
    pub const fn level(self) -> u8 {
        self.0
    }
}

/// [`Priority::NORMAL`].
impl Default for Priority {
    fn default() -> Self {
        Priority::NORMAL
    }
}

impl fmt::Debug for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Priority::HIGH => f.write_str("Priority::HIGH"),
            Priority::NORMAL => f.write_str("Priority::NORMAL"),
            Priority::LOW => f.write_str("Priority::LOW"),
            Priority(level) => write!(f, "Priority::new({level})"),
        }
    }
}
