//! [`ProcessPool`]: registered functions in child processes, one task per process at a time.

use std::fmt;
use std::sync::Arc;

use futurepool_core::{AsyncPool, PoolStats, Priority, Task, TaskError};
use futurepool_worker::{Call, Outcome, Registry, RemoteFn};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::builder::ProcessPoolBuilder;
use crate::line::Ticket;
use crate::task::{framed_call, run, run_call};
use crate::workers::Workers;

/// Python's `ProcessPoolExecutor`, done right: registered functions run in child processes,
/// one task per process at a time, so a crash fails only its own task.
///
/// A task whose process dies (abort, SIGSEGV, SIGKILL, `exit`) resolves to `is_crashed()`
/// naming the signal or exit code; the process is replaced and the pool goes on. A panic in
/// the function is `is_panic()` and the process lives on. Past the
/// [`task_timeout`](ProcessPoolBuilder::task_timeout) the process is killed and the task is
/// `is_timeout()`; [`Task::cancel`] on a running task kills its process and returns `true`.
/// Children never outlive the pool, not even when the parent is killed with SIGKILL.
///
/// The worker program (by default the current executable) must call
/// `futurepool::worker::main_if_worker` first thing in `main`.
///
/// `ProcessPool` is a cheap `Clone` handle. It runs on a Tokio runtime.
///
/// # Examples
///
/// ```
/// use futurepool_process::ProcessPool;
/// use futurepool_worker::{Registry, RemoteFn, main_if_worker};
///
/// fn square(n: u64) -> u64 { n * n }
/// const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
///
/// fn registry() -> Registry { Registry::new().with(SQUARE) }
///
/// fn main() {
///     main_if_worker(&registry()); // a worker process serves here and never returns
///     let rt = tokio::runtime::Runtime::new().unwrap();
///     rt.block_on(async {
///         let pool = ProcessPool::builder(registry()).max_workers(2).build().unwrap();
///         assert_eq!(pool.submit(SQUARE, 12).await.unwrap(), 144);
///         pool.shutdown().await;
///     });
/// }
/// ```
#[derive(Clone)]
pub struct ProcessPool {
    pub(crate) tasks: AsyncPool,
    pub(crate) workers: Arc<Workers>,
    registry: Registry,
}

impl ProcessPool {
    /// A builder for a pool that runs the functions of `registry`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_process::ProcessPool::builder(Default::default()).build().unwrap();
    /// assert!(!pool.is_shutdown());
    /// # }
    /// ```
    pub fn builder(registry: Registry) -> ProcessPoolBuilder {
        // A worker process whose main forgot `main_if_worker` stops here, telling its pool.
        futurepool_worker::exit_if_stray_worker();
        ProcessPoolBuilder::new(registry)
    }

    pub(crate) fn from_parts(tasks: AsyncPool, workers: Arc<Workers>, registry: Registry) -> Self {
        Self {
            tasks,
            workers,
            registry,
        }
    }

    /// Runs `f(arg)` in a worker process; never blocks, never panics.
    ///
    /// The task resolves to the function's result, or to an error: `is_crashed()` if its
    /// process died, `is_panic()` if the function panicked, `is_timeout()` past the task
    /// timeout, `is_invalid()` if the function is not in the pool's registry or the worker's,
    /// or its argument or result failed to (de)serialize; `is_shutdown()` after shutdown.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_process::ProcessPool;
    /// use futurepool_worker::{Registry, RemoteFn, main_if_worker};
    ///
    /// fn add((a, b): (i64, i64)) -> i64 { a + b }
    /// const ADD: RemoteFn<(i64, i64), i64> = RemoteFn::new("add", add);
    ///
    /// fn main() {
    ///     main_if_worker(&Registry::new().with(ADD));
    ///     tokio::runtime::Runtime::new().unwrap().block_on(async {
    ///         let pool = ProcessPool::builder(Registry::new().with(ADD)).max_workers(1).build().unwrap();
    ///         assert_eq!(pool.submit(ADD, (40, 2)).await.unwrap(), 42);
    ///     });
    /// }
    /// ```
    pub fn submit<A, R>(&self, f: RemoteFn<A, R>, arg: A) -> Task<R>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        self.submit_with_priority(Priority::NORMAL, f, arg)
    }

    /// Runs `f(arg)` in a worker process, as [`submit`](Self::submit) does, at `priority`:
    /// among the pool's waiting calls a higher priority starts first, equal priorities in
    /// submission order.
    ///
    /// A running call is never interrupted. A call already sent to a busy worker, behind its
    /// running call (the pool sends small calls behind a short running one, so that the
    /// worker does not idle between them), counts as started: at most one such call per worker
    /// starts ahead of a higher-priority call submitted after it (from the pool's first call at
    /// a priority other than `NORMAL` on, one call at most is sent behind a running one).
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::Priority;
    /// use futurepool_process::ProcessPool;
    /// use futurepool_worker::{Registry, RemoteFn, main_if_worker};
    ///
    /// fn add((a, b): (i64, i64)) -> i64 { a + b }
    /// const ADD: RemoteFn<(i64, i64), i64> = RemoteFn::new("add", add);
    ///
    /// fn main() {
    ///     main_if_worker(&Registry::new().with(ADD));
    ///     tokio::runtime::Runtime::new().unwrap().block_on(async {
    ///         let pool = ProcessPool::builder(Registry::new().with(ADD)).max_workers(1).build().unwrap();
    ///         let batch = pool.submit_with_priority(Priority::LOW, ADD, (1, 1));
    ///         let urgent = pool.submit_with_priority(Priority::HIGH, ADD, (40, 2));
    ///         assert_eq!(urgent.await.unwrap(), 42);
    ///         assert_eq!(batch.await.unwrap(), 2);
    ///     });
    /// }
    /// ```
    pub fn submit_with_priority<A, R>(
        &self,
        priority: Priority,
        f: RemoteFn<A, R>,
        arg: A,
    ) -> Task<R>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        let id = self.workers.next_call_id();
        match self.encode_call(f, id, &arg) {
            Ok(call) => {
                let ticket = Ticket::new(&self.workers.roster, priority);
                let run = run(Arc::clone(&self.workers), f, id, Arc::new(call), ticket);
                self.tasks.submit_fallible_with_priority(priority, run)
            }
            Err(err) => self
                .tasks
                .submit_fallible(async move { Err::<R, TaskError>(err) }),
        }
    }

    /// Submits an already-made [`Call`] (any function, named by its signature) and resolves to
    /// the worker's undecoded [`Outcome`]: for code that relays calls it does not know the
    /// types of, such as a remote worker running each task in a child process. A crash,
    /// timeout or cancel is the task's error, as with [`submit`](Self::submit).
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_process::ProcessPool;
    /// use futurepool_worker::{Registry, RemoteFn, main_if_worker};
    ///
    /// fn add((a, b): (i64, i64)) -> i64 { a + b }
    /// const ADD: RemoteFn<(i64, i64), i64> = RemoteFn::new("add", add);
    ///
    /// fn main() {
    ///     main_if_worker(&Registry::new().with(ADD));
    ///     tokio::runtime::Runtime::new().unwrap().block_on(async {
    ///         let pool = ProcessPool::builder(Registry::new().with(ADD)).max_workers(1).build().unwrap();
    ///         let outcome = pool.submit_call(ADD.call(0, &(40, 2)).unwrap()).await.unwrap();
    ///         assert_eq!(ADD.result(outcome), Ok(42));
    ///     });
    /// }
    /// ```
    pub fn submit_call(&self, call: Call) -> Task<Outcome> {
        let known = self
            .registry
            .names()
            .find(|name| *name == call.function.name)
            .filter(|name| {
                self.registry
                    .signature(name)
                    .is_some_and(|s| s.matches(&call.function))
            });
        match known {
            Some(name) => {
                let ticket = Ticket::new(&self.workers.roster, Priority::NORMAL);
                self.tasks
                    .submit_fallible(run_call(Arc::clone(&self.workers), name, call, ticket))
            }
            None => {
                let err = TaskError::invalid(format!(
                    "function {} is not in the pool's registry with these types",
                    call.function
                ));
                self.tasks
                    .submit_fallible(async move { Err::<Outcome, TaskError>(err) })
            }
        }
    }

    /// The call of `f(arg)` as a whole frame, after checking that `f` is in the pool's
    /// registry and that the call is within `max_message_size`.
    fn encode_call<A: Serialize, R>(
        &self,
        f: RemoteFn<A, R>,
        id: u64,
        arg: &A,
    ) -> Result<Vec<u8>, TaskError> {
        let call = self.registry.call(f, id, arg)?;
        framed_call(&self.workers, f.name(), &call)
    }

    /// Stops accepting tasks, lets queued and running ones finish, then ends every worker
    /// process; the returned future resolves when all are reaped. Takes effect when called.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_process::ProcessPool::builder(Default::default()).build().unwrap();
    /// pool.shutdown().await;
    /// assert!(pool.is_shutdown());
    /// # }
    /// ```
    pub fn shutdown(&self) -> impl Future<Output = ()> + Send + 'static {
        let tasks = self.tasks.shutdown();
        self.close_after(tasks)
    }

    /// Stops accepting tasks, cancels the queued ones, kills the processes running tasks
    /// (those tasks resolve as cancelled), and ends every worker; the returned future
    /// resolves when all are reaped.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_process::ProcessPool::builder(Default::default()).build().unwrap();
    /// pool.shutdown_now().await;
    /// assert!(pool.is_shutdown());
    /// # }
    /// ```
    pub fn shutdown_now(&self) -> impl Future<Output = ()> + Send + 'static {
        let tasks = self.tasks.shutdown_now();
        self.close_after(tasks)
    }

    fn close_after(
        &self,
        tasks: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = ()> + Send + 'static {
        let workers = Arc::clone(&self.workers);
        // The workers end even if the caller drops the returned future.
        let closing = self.workers.spawn(async move {
            tasks.await;
            workers.close().await;
        });
        async move {
            let _ = closing.await;
        }
    }

    /// Whether [`shutdown`](Self::shutdown) or [`shutdown_now`](Self::shutdown_now) was
    /// called.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_process::ProcessPool::builder(Default::default()).build().unwrap();
    /// assert!(!pool.is_shutdown());
    /// # }
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.tasks.is_shutdown()
    }

    /// A snapshot of the pool's task counts.
    ///
    /// `running` counts the tasks past the queue: running in a worker, sent to one behind a
    /// short running call, or waiting for a worker (up to four tasks per worker in all).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_process::ProcessPool::builder(Default::default()).build().unwrap();
    /// assert_eq!(pool.stats().submitted, 0);
    /// # }
    /// ```
    pub fn stats(&self) -> PoolStats {
        self.tasks.stats()
    }

    /// The most worker processes (and so tasks) at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_process::ProcessPool::builder(Default::default()).max_workers(3).build().unwrap();
    /// assert_eq!(pool.max_workers(), 3);
    /// # }
    /// ```
    pub fn max_workers(&self) -> usize {
        self.workers.settings.max_workers
    }

    /// The pool's name, as in its tracing spans.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_process::ProcessPool::builder(Default::default()).build().unwrap();
    /// assert_eq!(pool.name(), "process");
    /// # }
    /// ```
    pub fn name(&self) -> &str {
        self.tasks.name()
    }

    /// The process ids of the pool's live worker processes, in increasing order.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_process::ProcessPool::builder(Default::default()).build().unwrap();
    /// assert!(pool.worker_pids().is_empty()); // workers start with the first tasks
    /// # }
    /// ```
    pub fn worker_pids(&self) -> Vec<u32> {
        self.workers.pids()
    }

    /// How many worker processes failed to start since the pool was built: a program that
    /// exited before connecting, or a start the system refused for now (such as `EAGAIN`
    /// under process limits; the pool tries again with a growing wait, up to a second).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_process::ProcessPool::builder(Default::default()).build().unwrap();
    /// assert_eq!(pool.failed_starts(), 0);
    /// # }
    /// ```
    pub fn failed_starts(&self) -> u64 {
        self.workers.failed_starts()
    }

    /// The registry the pool was built with.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_process::ProcessPool::builder(Default::default()).build().unwrap();
    /// assert!(pool.registry().is_empty());
    /// # }
    /// ```
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

impl fmt::Debug for ProcessPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessPool")
            .field("name", &self.name())
            .field("max_workers", &self.max_workers())
            .field("workers", &self.worker_pids())
            .field("stats", &self.stats())
            .finish()
    }
}
