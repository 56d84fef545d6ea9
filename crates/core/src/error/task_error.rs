//! [`TaskError`]: why a task resolved without a value, and its [`TaskErrorKind`].

use std::any::Any;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use crate::task::TaskId;

/// The reason a [`Task`](crate::Task) resolved without a value.
///
/// This is futurepool's counterpart of Python's `CancelledError`, `BrokenExecutor` and
/// `TimeoutError`, plus the exception a task raised (here: its panic). Ask which one it is with
/// the `is_*` predicates or [`kind`](TaskError::kind). It is one pointer wide, so a
/// `Result<T, TaskError>` costs little more than a `T`.
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
pub struct TaskError {
    inner: Box<Details>,
}

struct Details {
    kind: TaskErrorKind,
    id: Option<TaskId>,
    /// The panic's text, or the message of a timeout, crash or invalid task.
    message: Option<String>,
    /// The value the task panicked with, kept for [`TaskError::into_panic`]; behind a mutex
    /// only so that the error is `Sync` (it is never locked while shared).
    payload: Option<Mutex<Box<dyn Any + Send>>>,
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
    /// The process running the task died (a signal, `abort`, `exit`) before it delivered a value.
    Crashed,
    /// The task's worker could not run it: an unknown function, or an argument or result that
    /// failed to (de)serialize.
    Invalid,
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
        Self::new(TaskErrorKind::Cancelled, None)
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
        Self::new(TaskErrorKind::Shutdown, None)
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
        Self::new(TaskErrorKind::Rejected, None)
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
        Self::new(TaskErrorKind::Timeout, Some(message.into()))
    }

    /// An error saying the process that ran the task died; `message` names how (for pools
    /// that run tasks in other processes).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = futurepool_core::TaskError::crashed("worker killed by signal 6 (SIGABRT)");
    /// assert!(err.is_crashed());
    /// assert_eq!(err.to_string(), "task crashed: worker killed by signal 6 (SIGABRT)");
    /// ```
    pub fn crashed(message: impl Into<String>) -> Self {
        Self::new(TaskErrorKind::Crashed, Some(message.into()))
    }

    /// An error saying the task's worker could not run it; `message` says why (for pools that
    /// send tasks to registered functions elsewhere).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = futurepool_core::TaskError::invalid("no function \"square\" in the worker");
    /// assert!(err.is_invalid());
    /// assert_eq!(err.to_string(), "task could not run: no function \"square\" in the worker");
    /// ```
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(TaskErrorKind::Invalid, Some(message.into()))
    }

    /// An error for a panic known only by its text, such as one caught in another process.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = futurepool_core::TaskError::panicked("index out of bounds");
    /// assert!(err.is_panic());
    /// assert_eq!(err.panic_message(), Some("index out of bounds"));
    /// ```
    pub fn panicked(message: impl Into<String>) -> Self {
        Self::new(TaskErrorKind::Panic, Some(message.into()))
    }

    /// An error for a panic, from the payload `std::panic::catch_unwind` returned.
    ///
    /// The panic's text is read when the payload is a `&str` or a `String` (what `panic!`
    /// produces); other payloads read as `"Box<dyn Any>"`, as in the standard library. The
    /// payload itself is kept for [`into_panic`](Self::into_panic).
    ///
    /// # Examples
    ///
    /// ```
    /// let payload = std::panic::catch_unwind(|| panic!("bad input {}", 7)).unwrap_err();
    /// let err = futurepool_core::TaskError::from_panic(payload);
    /// assert_eq!(err.panic_message(), Some("bad input 7"));
    /// ```
    pub fn from_panic(payload: Box<dyn Any + Send>) -> Self {
        let text = if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else if let Some(s) = payload.downcast_ref::<&'static str>() {
            (*s).to_owned()
        } else {
            "Box<dyn Any>".to_owned()
        };
        let mut err = Self::new(TaskErrorKind::Panic, Some(text));
        err.inner.payload = Some(Mutex::new(payload));
        err
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
        self.inner.id = Some(id);
        self
    }

    fn new(kind: TaskErrorKind, message: Option<String>) -> Self {
        Self {
            inner: Box::new(Details {
                kind,
                id: None,
                message,
                payload: None,
            }),
        }
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
        self.inner.kind
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
        self.kind() == TaskErrorKind::Panic
    }

    /// Whether the task was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(futurepool_core::TaskError::cancelled().is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.kind() == TaskErrorKind::Cancelled
    }

    /// Whether the task was refused because its pool was shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(futurepool_core::TaskError::shutdown().is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.kind() == TaskErrorKind::Shutdown
    }

    /// Whether a deadline passed first.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(futurepool_core::TaskError::timeout("late").is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        self.kind() == TaskErrorKind::Timeout
    }

    /// Whether the task was refused because the pool's bounded queue was full.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(futurepool_core::TaskError::rejected().is_rejected());
    /// ```
    pub fn is_rejected(&self) -> bool {
        self.kind() == TaskErrorKind::Rejected
    }

    /// Whether the process running the task died before delivering a value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(futurepool_core::TaskError::crashed("exit code 3").is_crashed());
    /// ```
    pub fn is_crashed(&self) -> bool {
        self.kind() == TaskErrorKind::Crashed
    }

    /// Whether the task's worker could not run it (unknown function, bad argument or result).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(futurepool_core::TaskError::invalid("no such function").is_invalid());
    /// ```
    pub fn is_invalid(&self) -> bool {
        self.kind() == TaskErrorKind::Invalid
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
        match self.kind() {
            TaskErrorKind::Panic => self.inner.message.as_deref(),
            _ => None,
        }
    }

    /// The value the task panicked with, to re-raise it with [`std::panic::resume_unwind`].
    ///
    /// A panic known only by its text (from another process, or a clone of the error) gives
    /// that text as a `String`.
    ///
    /// # Panics
    ///
    /// Panics if the error is not a panic; see [`try_into_panic`](Self::try_into_panic).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(1).build().unwrap();
    /// let err = pool.submit(|| -> u8 { std::panic::panic_any(42_u32) }).blocking_wait().unwrap_err();
    /// assert_eq!(*err.into_panic().downcast::<u32>().unwrap(), 42);
    /// ```
    pub fn into_panic(self) -> Box<dyn Any + Send> {
        match self.try_into_panic() {
            Ok(payload) => payload,
            Err(err) => {
                panic!("`TaskError::into_panic` called on an error that is not a panic: {err}")
            }
        }
    }

    /// The value the task panicked with, or the error itself when it is not a panic.
    ///
    /// # Errors
    ///
    /// Gives `self` back when [`is_panic`](Self::is_panic) is `false`.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = futurepool_core::TaskError::cancelled();
    /// assert!(err.try_into_panic().unwrap_err().is_cancelled());
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send>, TaskError> {
        if !self.is_panic() {
            return Err(self);
        }
        let Details {
            payload, message, ..
        } = *self.inner;
        Ok(match payload {
            Some(payload) => payload.into_inner().unwrap_or_else(PoisonError::into_inner),
            None => Box::new(message.unwrap_or_default()),
        })
    }

    /// The id of the task this error belongs to, when known.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(futurepool_core::TaskError::cancelled().task_id(), None);
    /// ```
    pub fn task_id(&self) -> Option<TaskId> {
        self.inner.id
    }
}

/// A copy of the error; a panic's payload stays with the original (the copy's
/// [`into_panic`](TaskError::into_panic) gives the panic's text).
impl Clone for TaskError {
    fn clone(&self) -> Self {
        Self {
            inner: Box::new(Details {
                kind: self.inner.kind,
                id: self.inner.id,
                message: self.inner.message.clone(),
                payload: None,
            }),
        }
    }
}

/// Errors are equal when they are of one kind, for one task, with one message (a panic's
/// payload is not compared).
impl PartialEq for TaskError {
    fn eq(&self, other: &Self) -> bool {
        self.inner.kind == other.inner.kind
            && self.inner.id == other.inner.id
            && self.inner.message == other.inner.message
    }
}

impl Eq for TaskError {}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.inner.message.as_deref().unwrap_or_default();
        if self.kind() == TaskErrorKind::Timeout {
            return f.write_str(message);
        }
        match self.inner.id {
            Some(id) => write!(f, "task {id}")?,
            None => f.write_str("task")?,
        }
        match self.kind() {
            TaskErrorKind::Panic => write!(f, " panicked: {message}"),
            TaskErrorKind::Cancelled => f.write_str(" was cancelled"),
            TaskErrorKind::Shutdown => f.write_str(" rejected: pool is shut down"),
            TaskErrorKind::Rejected => f.write_str(" rejected: queue is full"),
            TaskErrorKind::Crashed => write!(f, " crashed: {message}"),
            TaskErrorKind::Invalid | TaskErrorKind::Timeout => {
                write!(f, " could not run: {message}")
            }
        }
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskError")
            .field("kind", &self.kind())
            .field("task_id", &self.inner.id)
            .field("message", &self.to_string())
            .finish()
    }
}

impl std::error::Error for TaskError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(dead_code)]
    fn is_error_send_sync<E: std::error::Error + Send + Sync + 'static>() {}

    #[test]
    fn task_error_is_a_send_sync_error() {
        is_error_send_sync::<TaskError>();
    }

    #[test]
    fn task_error_is_one_pointer() {
        assert_eq!(size_of::<TaskError>(), size_of::<usize>());
        assert_eq!(size_of::<Result<(), TaskError>>(), size_of::<usize>());
    }

    #[test]
    fn a_clone_keeps_the_panic_text_but_not_the_payload() {
        let err = TaskError::from_panic(Box::new(7_u8));
        let copy = err.clone();
        assert_eq!(*err.into_panic().downcast::<u8>().unwrap(), 7);
        assert_eq!(
            *copy.into_panic().downcast::<String>().unwrap(),
            "Box<dyn Any>"
        );
    }
}
