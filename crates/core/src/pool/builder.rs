//! [`Builder`]: one builder for every pool, validated in one place.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use tokio::runtime::Handle;

use crate::error::BuildError;

/// A hook run once on each `CpuPool` thread before any task.
pub(crate) type StartHook = Arc<dyn Fn() + Send + Sync + 'static>;

/// Configures and builds a pool of type `P`; every setting has a documented default.
///
/// Its three forms are [`BlockingPoolBuilder`](crate::BlockingPoolBuilder),
/// [`CpuPoolBuilder`](crate::CpuPoolBuilder) and [`AsyncPoolBuilder`](crate::AsyncPoolBuilder),
/// made by each pool's `builder()`. The settings every pool has are here; the others (the
/// size, a runtime handle, thread names) are on each form.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = futurepool_core::BlockingPool::builder()
///     .max_workers(16)
///     .name("db")
///     .queue_capacity(1_000)
///     .build()
///     .unwrap();
/// assert_eq!(pool.name(), "db");
/// # }
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder<P> {
    pub(crate) size: Option<usize>,
    name: Option<String>,
    queue_capacity: Option<usize>,
    pub(crate) handle: Option<Handle>,
    pub(crate) thread_name_prefix: Option<String>,
    pub(crate) stack_size: Option<usize>,
    pub(crate) on_thread_start: Option<StartHook>,
    pool: PhantomData<fn() -> P>,
}

/// A builder's settings, checked: what the pool core is made from.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) name: Arc<str>,
    pub(crate) max_workers: usize,
    pub(crate) queue_capacity: Option<usize>,
}

impl<P> Builder<P> {
    pub(crate) fn new() -> Self {
        Self {
            size: None,
            name: None,
            queue_capacity: None,
            handle: None,
            thread_name_prefix: None,
            stack_size: None,
            on_thread_start: None,
            pool: PhantomData,
        }
    }

    /// The pool's name, shown in `tracing` spans [default: `"blocking"`, `"cpu"` or
    /// `"async"`].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().name("render").build().unwrap();
    /// assert_eq!(pool.name(), "render");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Bounds how many tasks may wait for a worker [default: unbounded, as Python].
    ///
    /// With a bound, `submit_wait` waits for room, `try_submit` reports a full queue, and
    /// `submit` resolves the task to an error with
    /// [`TaskError::is_rejected`](crate::TaskError::is_rejected). Running tasks do not count.
    /// Zero means no task may wait: only `max_workers` tasks can be in the pool at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::builder().queue_capacity(64).build().unwrap();
    /// # drop(pool);
    /// # }
    /// ```
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = Some(n);
        self
    }

    /// Checks the settings shared by every pool: the size (`size_name` is how the builder
    /// calls it) must not be zero.
    pub(crate) fn config(
        &self,
        default_name: &str,
        size_name: &str,
        default_size: impl FnOnce() -> usize,
    ) -> Result<Config, BuildError> {
        let max_workers = match self.size {
            Some(0) => {
                return Err(BuildError::new(format!(
                    "{size_name} must be at least 1, got 0"
                )));
            }
            Some(n) => n,
            None => default_size(),
        };
        Ok(Config {
            name: self.name.as_deref().unwrap_or(default_name).into(),
            max_workers,
            queue_capacity: self.queue_capacity,
        })
    }

    /// The runtime handle given, or the current one; an error outside a runtime.
    pub(crate) fn runtime(&self, pool: &str) -> Result<Handle, BuildError> {
        match &self.handle {
            Some(handle) => Ok(handle.clone()),
            None => Handle::try_current().map_err(|_| {
                BuildError::new(format!(
                    "{pool} must be built inside a Tokio runtime, or given one with `.handle(..)`"
                ))
            }),
        }
    }
}

impl<P> Clone for Builder<P> {
    fn clone(&self) -> Self {
        Self {
            size: self.size,
            name: self.name.clone(),
            queue_capacity: self.queue_capacity,
            handle: self.handle.clone(),
            thread_name_prefix: self.thread_name_prefix.clone(),
            stack_size: self.stack_size,
            on_thread_start: self.on_thread_start.clone(),
            pool: PhantomData,
        }
    }
}

impl<P> Default for Builder<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P> fmt::Debug for Builder<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("size", &self.size)
            .field("name", &self.name)
            .field("queue_capacity", &self.queue_capacity)
            .field("thread_name_prefix", &self.thread_name_prefix)
            .field("stack_size", &self.stack_size)
            .field("on_thread_start", &self.on_thread_start.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_size_is_an_error_naming_the_setting() {
        let mut builder = Builder::<()>::new();
        builder.size = Some(0);
        let err = builder.config("x", "max_concurrency", || 4).unwrap_err();
        assert_eq!(err.to_string(), "max_concurrency must be at least 1, got 0");
        let config = Builder::<()>::new()
            .config("x", "max_workers", || 4)
            .unwrap();
        assert_eq!((&*config.name, config.max_workers), ("x", 4));
    }
}
