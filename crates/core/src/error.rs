//! Errors: why a task gave no value ([`TaskError`]), why a pool could not be built
//! ([`BuildError`]) and why a non-waiting submit was refused ([`TrySubmitError`]).

use std::any::Any;
use std::fmt;

use crate::task::TaskId;

/// The reason a [`Task`](crate::Task) resolved without a value.
///
/// This is futurepool's counterpart of Python's `CancelledError`, `BrokenExecutor` and
/// `TimeoutError`, plus the exception a task raised (here: its panic). Ask which one it is with
/// the `is_*` predicates or [`kind`](TaskError::kind).
///
/// # Examples
///
/// ```
/// use futurepool_core::CpuPool;
///
/// let pool = CpuPool::builder().max_workers(1).build().unwrap();
/// let err = pool.submit(|| -> u32 { panic!("boom") }).blocking_wait().unwrap_err();
/// assert!(err.is_panic());
/// assert_eq!(err.panic_message(), Some("boom"));
/// assert!(err.to_string().ends_with("panicked: boom"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TaskError {
    id: Option<TaskId>,
    repr: Repr,
}

#[derive(Clone, PartialEq, Eq)]
enum Repr {
    Panic(String),
    Cancelled,
    Shutdown,
    Rejected,
    Timeout(String),
}

/// Which of the ways a task can fail a [`TaskError`] stands for.
///
/// # Examples
///
/// ```
/// use futurepool_core::{TaskError, TaskErrorKind};
///
/// assert_eq!(TaskError::cancelled().kind(), TaskErrorKind::Cancelled);
/// assert_eq!(TaskError::timeout("too slow").kind(), TaskErrorKind::Timeout);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskErrorKind {
    /// The task's closure or future panicked.
    Panic,
    /// The task was cancelled before it could deliver a value.
    Cancelled,
    /// The task was submitted after its pool was shut down.
    Shutdown,
    /// The pool's bounded queue was full when the task was submitted with `submit`.
    Rejected,
    /// A deadline passed before the task (or a group of tasks) finished.
    Timeout,
}

impl TaskError {
    /// An error saying the task was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = futurepool_core::TaskError::cancelled();
    /// assert!(err.is_cancelled());
    /// ```
    pub fn cancelled() -> Self {
        Self::new(Repr::Cancelled)
    }

    /// An error saying the task was submitted to a pool that is shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = futurepool_core::TaskError::shutdown();
    /// assert!(err.is_shutdown());
    /// ```
    pub fn shutdown() -> Self {
        Self::new(Repr::Shutdown)
    }

    /// An error saying the pool's bounded queue was full.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = futurepool_core::TaskError::rejected();
    /// assert!(err.is_rejected());
    /// ```
    pub fn rejected() -> Self {
        Self::new(Repr::Rejected)
    }

    /// An error saying a deadline passed; `message` is what `Display` prints.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = futurepool_core::TaskError::timeout("2 (of 4) futures unfinished");
    /// assert!(err.is_timeout());
    /// assert_eq!(err.to_string(), "2 (of 4) futures unfinished");
    /// ```
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(Repr::Timeout(message.into()))
    }

    /// An error for a panic, from the payload `std::panic::catch_unwind` returned.
    ///
    /// The panic's text is kept when the payload is a `&str` or a `String` (what `panic!`
    /// produces); other payloads read as `"Box<dyn Any>"`, as in the standard library.
    ///
    /// # Examples
    ///
    /// ```
    /// let payload = std::panic::catch_unwind(|| panic!("bad input {}", 7)).unwrap_err();
    /// let err = futurepool_core::TaskError::from_panic(payload);
    /// assert_eq!(err.panic_message(), Some("bad input 7"));
    /// ```
    pub fn from_panic(payload: Box<dyn Any + Send>) -> Self {
        let text = match payload.downcast::<String>() {
            Ok(s) => *s,
            Err(payload) => match payload.downcast::<&'static str>() {
                Ok(s) => (*s).to_owned(),
                Err(_) => "Box<dyn Any>".to_owned(),
            },
        };
        Self::new(Repr::Panic(text))
    }

    /// The same error, naming the task it belongs to.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{TaskError, TaskId};
    ///
    /// let pool = futurepool_core::CpuPool::builder().max_workers(1).build().unwrap();
    /// let task = pool.submit(|| 1);
    /// let err = TaskError::cancelled().with_task_id(task.id());
    /// assert_eq!(err.task_id(), Some(task.id()));
    /// ```
    pub fn with_task_id(mut self, id: TaskId) -> Self {
        self.id = Some(id);
        self
    }

    fn new(repr: Repr) -> Self {
        Self { id: None, repr }
    }

    /// Which kind of failure this is.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{TaskError, TaskErrorKind};
    /// assert_eq!(TaskError::shutdown().kind(), TaskErrorKind::Shutdown);
    /// ```
    pub fn kind(&self) -> TaskErrorKind {
        match self.repr {
            Repr::Panic(_) => TaskErrorKind::Panic,
            Repr::Cancelled => TaskErrorKind::Cancelled,
            Repr::Shutdown => TaskErrorKind::Shutdown,
            Repr::Rejected => TaskErrorKind::Rejected,
            Repr::Timeout(_) => TaskErrorKind::Timeout,
        }
    }

    /// Whether the task panicked; [`panic_message`](Self::panic_message) gives the text.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = futurepool_core::TaskError::from_panic(Box::new("boom"));
    /// assert!(err.is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// Whether the task was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(futurepool_core::TaskError::cancelled().is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// Whether the task was refused because its pool was shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(futurepool_core::TaskError::shutdown().is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        matches!(self.repr, Repr::Shutdown)
    }

    /// Whether a deadline passed first.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(futurepool_core::TaskError::timeout("late").is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self.repr, Repr::Timeout(_))
    }

    /// Whether the task was refused because the pool's bounded queue was full.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(futurepool_core::TaskError::rejected().is_rejected());
    /// ```
    pub fn is_rejected(&self) -> bool {
        matches!(self.repr, Repr::Rejected)
    }

    /// The text the task panicked with, if it panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = futurepool_core::TaskError::from_panic(Box::new(String::from("boom")));
    /// assert_eq!(err.panic_message(), Some("boom"));
    /// assert_eq!(futurepool_core::TaskError::cancelled().panic_message(), None);
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(text) => Some(text),
            _ => None,
        }
    }

    /// The id of the task this error belongs to, when known.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(futurepool_core::TaskError::cancelled().task_id(), None);
    /// ```
    pub fn task_id(&self) -> Option<TaskId> {
        self.id
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subject = |f: &mut fmt::Formatter<'_>| match self.id {
            Some(id) => write!(f, "task {id}"),
            None => f.write_str("task"),
        };
        match &self.repr {
            Repr::Panic(text) => {
                subject(f)?;
                write!(f, " panicked: {text}")
            }
            Repr::Cancelled => {
                subject(f)?;
                f.write_str(" was cancelled")
            }
            Repr::Shutdown => {
                subject(f)?;
                f.write_str(" rejected: pool is shut down")
            }
            Repr::Rejected => {
                subject(f)?;
                f.write_str(" rejected: queue is full")
            }
            Repr::Timeout(message) => f.write_str(message),
        }
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskError")
            .field("kind", &self.kind())
            .field("task_id", &self.id)
            .field("message", &self.to_string())
            .finish()
    }
}

impl std::error::Error for TaskError {}

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
    pub(crate) fn new(message: impl Into<String>) -> Self {
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
