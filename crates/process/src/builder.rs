//! [`ProcessPoolBuilder`]: the settings of a [`ProcessPool`].

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futurepool_core::{AsyncPool, BuildError};
use futurepool_worker::Registry;
use futurepool_worker::frame::MAX_FRAME_LEN;
use tokio::runtime::Handle;

use crate::child::Program;
use crate::conn::PIPELINE_DEPTH;
use crate::pool::ProcessPool;
use crate::workers::{Settings, Workers};

/// Settings for a [`ProcessPool`]; made by [`ProcessPool::builder`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futurepool_process::ProcessPool;
/// use futurepool_worker::Registry;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = ProcessPool::builder(Registry::new())
///     .max_workers(2)
///     .max_tasks_per_child(1000)
///     .task_timeout(Duration::from_secs(30))
///     .build()
///     .unwrap();
/// assert_eq!(pool.max_workers(), 2);
/// # }
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ProcessPoolBuilder {
    registry: Registry,
    max_workers: Option<usize>,
    max_tasks_per_child: Option<u64>,
    task_timeout: Option<Duration>,
    program: Option<PathBuf>,
    args: Vec<String>,
    name: Option<String>,
    queue_capacity: Option<usize>,
    handle: Option<Handle>,
    max_message_size: usize,
    env_clear: bool,
    envs: Vec<(OsString, OsString)>,
    max_memory_per_child: Option<u64>,
}

/// The most worker processes a pool may have; a larger `max_workers` is a build error.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use futurepool_process::{MAX_WORKERS, ProcessPool};
/// let err = ProcessPool::builder(Default::default()).max_workers(usize::MAX).build().unwrap_err();
/// assert!(err.to_string().contains(&MAX_WORKERS.to_string()));
/// # }
/// ```
pub const MAX_WORKERS: usize = 1 << 16;

impl ProcessPoolBuilder {
    pub(crate) fn new(registry: Registry) -> Self {
        Self {
            registry,
            max_workers: None,
            max_tasks_per_child: None,
            task_timeout: None,
            program: None,
            args: Vec::new(),
            name: None,
            queue_capacity: None,
            handle: None,
            max_message_size: MAX_FRAME_LEN,
            env_clear: false,
            envs: Vec::new(),
            max_memory_per_child: None,
        }
    }

    /// How many worker processes may run at once (and so how many tasks); default: the
    /// available parallelism. Zero, or more than [`MAX_WORKERS`], is a build error.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use futurepool_process::ProcessPool;
    /// let err = ProcessPool::builder(Default::default()).max_workers(0).build().unwrap_err();
    /// assert!(err.to_string().contains("max_workers"));
    /// # }
    /// ```
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n);
        self
    }

    /// After answering this many tasks a worker process is replaced by a fresh one (Python's
    /// `max_tasks_per_child`); default: never. Zero is refused by [`build`](Self::build).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use futurepool_process::ProcessPool;
    /// let pool = ProcessPool::builder(Default::default()).max_tasks_per_child(100).build();
    /// assert!(pool.is_ok());
    /// # }
    /// ```
    pub fn max_tasks_per_child(mut self, n: u64) -> Self {
        self.max_tasks_per_child = Some(n);
        self
    }

    /// How long one task may run in its worker; past it the worker is killed and the task
    /// resolves to `is_timeout()`. Default: no limit. Time spent waiting for a worker does
    /// not count.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use futurepool_process::ProcessPool;
    /// let pool = ProcessPool::builder(Default::default()).task_timeout(Duration::from_secs(5)).build();
    /// assert!(pool.is_ok());
    /// # }
    /// ```
    pub fn task_timeout(mut self, limit: Duration) -> Self {
        self.task_timeout = Some(limit);
        self
    }

    /// The worker program; default: the current executable. Its `main` must call
    /// `main_if_worker` with a registry holding the functions the pool submits. A program that
    /// does not exist is a build error.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use futurepool_process::ProcessPool;
    /// let me = std::env::current_exe().unwrap();
    /// let pool = ProcessPool::builder(Default::default()).program(me).build();
    /// assert!(pool.is_ok()); // workers start when tasks need them
    /// let missing = ProcessPool::builder(Default::default()).program("/no/such/worker").build();
    /// assert!(missing.unwrap_err().to_string().starts_with("worker program /no/such/worker"));
    /// # }
    /// ```
    pub fn program(mut self, path: impl Into<PathBuf>) -> Self {
        self.program = Some(path.into());
        self
    }

    /// The largest message between the pool and a worker, in bytes: an encoded call (the
    /// argument, with the function's name and types) or an encoded reply. Default and most:
    /// 1 GiB ([`MAX_FRAME_LEN`]).
    ///
    /// A call over it is never sent: its task resolves at once to `is_invalid()` with the size
    /// and the limit. A result over it resolves its task the same way ("result too large"),
    /// and the worker serves the next task. Neither is a crash or retried. Zero or more than
    /// 1 GiB is a build error.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_process::ProcessPool;
    /// use futurepool_worker::{Registry, RemoteFn, main_if_worker};
    ///
    /// fn len(s: String) -> usize { s.len() }
    /// const LEN: RemoteFn<String, usize> = RemoteFn::new("len", len);
    ///
    /// fn main() {
    ///     main_if_worker(&Registry::new().with(LEN));
    ///     tokio::runtime::Runtime::new().unwrap().block_on(async {
    ///         let pool = ProcessPool::builder(Registry::new().with(LEN))
    ///             .max_message_size(1024)
    ///             .build()
    ///             .unwrap();
    ///         let err = pool.submit(LEN, "x".repeat(4096)).await.unwrap_err();
    ///         assert!(err.is_invalid());
    ///         assert!(err.to_string().contains("max_message_size of 1024 bytes"));
    ///     });
    /// }
    /// ```
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Starts worker processes with an empty environment (then the variables given with
    /// [`env`](Self::env)) instead of a copy of the parent's; default: the parent's.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use futurepool_process::ProcessPool;
    /// let pool = ProcessPool::builder(Default::default()).env_clear().env("LANG", "C").build();
    /// assert!(pool.is_ok());
    /// # }
    /// ```
    pub fn env_clear(mut self) -> Self {
        self.env_clear = true;
        self.envs.clear();
        self
    }

    /// Sets an environment variable of every worker process (after
    /// [`env_clear`](Self::env_clear), if called).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use futurepool_process::ProcessPool;
    /// let pool = ProcessPool::builder(Default::default()).env("RUST_BACKTRACE", "1").build();
    /// assert!(pool.is_ok());
    /// # }
    /// ```
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// Limits the memory of each worker process to `bytes` of address space: the worker sets
    /// its own `RLIMIT_AS` before it serves. An allocation past it fails and the process
    /// aborts, so its task fails with `is_crashed()`, naming this limit, and a new process
    /// replaces it. Default: no limit. Allow room for the program itself (its code, libraries
    /// and thread stacks take address space before any task runs): tens of MiB at least.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use futurepool_process::ProcessPool;
    /// let pool = ProcessPool::builder(Default::default()).max_memory_per_child(2 << 30).build();
    /// assert!(pool.is_ok());
    /// # }
    /// ```
    pub fn max_memory_per_child(mut self, bytes: u64) -> Self {
        self.max_memory_per_child = Some(bytes);
        self
    }

    /// Command-line arguments for each worker process; default: none.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use futurepool_process::ProcessPool;
    /// let pool = ProcessPool::builder(Default::default()).args(["--quiet"]).build();
    /// assert!(pool.is_ok());
    /// # }
    /// ```
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// The pool's name in its tracing spans; default `"process"`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use futurepool_process::ProcessPool;
    /// let pool = ProcessPool::builder(Default::default()).name("render").build().unwrap();
    /// assert_eq!(pool.name(), "render");
    /// # }
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Bounds how many tasks may wait for a worker, as for the other pools; default:
    /// unbounded.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use futurepool_process::ProcessPool;
    /// let pool = ProcessPool::builder(Default::default()).queue_capacity(100).build();
    /// assert!(pool.is_ok());
    /// # }
    /// ```
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = Some(n);
        self
    }

    /// The Tokio runtime the pool runs on; default: the current one.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_process::ProcessPool;
    ///
    /// let rt = tokio::runtime::Runtime::new().unwrap();
    /// let pool = ProcessPool::builder(Default::default()).handle(rt.handle().clone()).build();
    /// assert!(pool.is_ok());
    /// ```
    pub fn handle(mut self, handle: Handle) -> Self {
        self.handle = Some(handle);
        self
    }

    /// Builds the pool. Worker processes start when tasks need them.
    ///
    /// # Errors
    ///
    /// A [`BuildError`] when `max_workers` or `max_tasks_per_child` is zero, outside a Tokio
    /// runtime (and no `handle`), or when the `program` given does not exist. Other problems
    /// with the worker program (it cannot be started, it never connects, it does not call
    /// `main_if_worker` first) show when workers start: the tasks fail with `is_crashed()`
    /// saying the pool is broken.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_process::ProcessPool;
    ///
    /// let err = ProcessPool::builder(Default::default()).build().unwrap_err();
    /// assert!(err.to_string().contains("Tokio runtime"));
    /// ```
    pub fn build(self) -> Result<ProcessPool, BuildError> {
        let max_workers = self.max_workers.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        });
        if max_workers == 0 {
            return Err(BuildError::new("max_workers must be at least 1, got 0"));
        }
        if max_workers > MAX_WORKERS {
            return Err(BuildError::new(format!(
                "max_workers must be at most {MAX_WORKERS} (each worker is a process), got {max_workers}"
            )));
        }
        if self.max_message_size == 0 || self.max_message_size > MAX_FRAME_LEN {
            return Err(BuildError::new(format!(
                "max_message_size must be between 1 and {MAX_FRAME_LEN} bytes, got {}",
                self.max_message_size
            )));
        }
        if self.max_tasks_per_child == Some(0) {
            return Err(BuildError::new(
                "max_tasks_per_child must be at least 1, got 0",
            ));
        }
        if self.handle.is_none() && Handle::try_current().is_err() {
            return Err(BuildError::new(
                "ProcessPool must be built inside a Tokio runtime, or given one with `.handle(..)`",
            ));
        }
        if let Some(path) = &self.program
            && let Err(e) = std::fs::metadata(path)
        {
            return Err(BuildError::new(format!(
                "worker program {}: {e}",
                path.display()
            )));
        }
        let name = self.name.unwrap_or_else(|| "process".to_owned());
        // Room for a call running in each worker and the calls sent behind it (`conn.rs`).
        let mut tasks = AsyncPool::builder()
            .max_concurrency(max_workers.saturating_mul(PIPELINE_DEPTH))
            .name(name);
        if let Some(handle) = &self.handle {
            tasks = tasks.handle(handle.clone());
        }
        if let Some(n) = self.queue_capacity {
            tasks = tasks.queue_capacity(n);
        }
        // Fails outside a Tokio runtime when no handle was given.
        let tasks = tasks.build()?;
        // Inside a runtime: `AsyncPool::build` just checked it.
        let handle = self.handle.unwrap_or_else(Handle::current);
        let settings = Settings {
            program: Program {
                path: self.program,
                args: self.args,
                env_clear: self.env_clear,
                envs: self.envs,
                max_memory: self.max_memory_per_child,
                max_message: self.max_message_size,
            },
            max_workers,
            max_tasks_per_child: self.max_tasks_per_child,
            task_timeout: self.task_timeout,
        };
        Ok(ProcessPool::from_parts(
            tasks,
            Arc::new(Workers::new(settings, handle)),
            self.registry,
        ))
    }
}
