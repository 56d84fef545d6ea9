//! futurepool: Python's `concurrent.futures`, rebuilt async-native for Rust on Tokio.
//!
//! - [`BlockingPool`] runs blocking closures on Tokio's blocking threads (`ThreadPoolExecutor`).
//! - [`CpuPool`] runs CPU-bound closures on dedicated threads that never starve the async
//!   runtime (`ProcessPoolExecutor`).
//! - [`AsyncPool`] runs futures on the runtime with a concurrency limit.
//!
//! The three are aliases of one generic type, [`Pool`], whose [`kind`] says what it runs; what
//! every pool has (shutdown, stats, its name) is documented there once.
//!
//! Every `submit` returns one handle type, [`Task<T>`]: await it, cancel it, ask if it is done.
//! The completion side (`as_completed`, `wait`, ordered and unordered `map` streams) lives in
//! the same prelude.
//!
//! # Examples
//!
//! ```
//! use futurepool::prelude::*;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let cpu = CpuPool::builder().max_workers(2).build().unwrap();
//! let tasks: Vec<Task<u64>> = (1..=5u64).map(|n| cpu.submit(move || n * n)).collect();
//! let mut total = 0;
//! for task in tasks {
//!     total += task.await.unwrap();
//! }
//! assert_eq!(total, 55);
//! # }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub use futurepool_core::*;
#[cfg(feature = "process")]
pub use futurepool_process::{ProcessPool, ProcessPoolBuilder};
/// The NATS client the remote pool is built on, re-exported so that `connect_options` gets a
/// `ConnectOptions` of the matching version (feature `remote`).
///
/// ```no_run
/// use futurepool::async_nats::ConnectOptions;
///
/// let options = ConnectOptions::with_user_and_password("pool".into(), "secret".into());
/// # drop(options);
/// ```
#[cfg(feature = "remote")]
pub use futurepool_remote::async_nats;
#[cfg(feature = "remote")]
pub use futurepool_remote::{RemotePool, RemotePoolBuilder, Worker, WorkerBuilder};
pub use futurepool_stream::{
    AsCompleted, AsCompletedTimeout, AsyncPoolMapExt, ExecutorMapExt, ReturnWhen, Wait, Waited,
    as_completed, as_completed_timeout, map_tasks, map_tasks_unordered, try_map_tasks,
    try_map_tasks_unordered, wait, wait_timeout, wait_with,
};
#[cfg(any(feature = "process", feature = "remote"))]
pub use futurepool_worker::{Registry, RemoteFn};

/// The map streams' types, for code that names them: the streams ([`MapStream`](map::MapStream)
/// and its aliases), their inputs ([`MapInput`](map::MapInput)), orders and task sources.
///
/// What users write — `pool.map(f, items)`, `.buffer(n)`, `.priority(p)`, [`map_tasks`] — is in
/// the crate root and the prelude; this module holds the plumbing those calls return and
/// accept.
///
/// # Examples
///
/// ```
/// use futurepool::map::{Map, MapInput, PoolFn};
/// use futurepool::prelude::*;
///
/// /// Squares of `items` on `cpu`, as a type a caller can keep in a struct field.
/// fn squares<K, In>(cpu: &CpuPool, items: In) -> Map<PoolFn<CpuPool, fn(u64) -> u64>, In::Stream>
/// where
///     In: MapInput<K, Item = u64>,
/// {
///     let square: fn(u64) -> u64 = |n| n * n;
///     cpu.map(square, items)
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let cpu = CpuPool::builder().max_workers(2).build().unwrap();
/// let mut stream = squares(&cpu, 1..4u64);
/// assert_eq!(stream.next().await.unwrap().unwrap(), 1);
/// # }
/// ```
pub mod map {
    pub use futurepool_stream::{
        AsyncPoolFn, AsyncPoolMapExt, BatchingSource, CompletionOrder, DEFAULT_MAX_BUFFER,
        ExecutorMapExt, InputOrder, IterInput, Map, MapInput, MapStream, MapUnordered, PoolFn,
        PrioritySource, PrioritySubmitFn, ResultOrder, StreamInput, SubmitFn, TaskSource, TryMap,
        TryMapStream, TryMapUnordered, map_tasks, map_tasks_unordered,
        map_tasks_unordered_with_priority, map_tasks_with_priority, try_map_tasks,
        try_map_tasks_unordered,
    };
}

/// The worker side of the process and remote pools (features `process`, `remote`): what a worker program calls, and
/// the registered functions it serves.
///
/// # Examples
///
/// ```
/// use futurepool::worker::{Registry, RemoteFn};
///
/// fn square(n: u64) -> u64 { n * n }
/// pub const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
///
/// fn main() {
///     futurepool::worker::main_if_worker(&Registry::new().with(SQUARE)); // a worker serves here
///     // the program goes on only in the parent
/// }
/// ```
#[cfg(any(feature = "process", feature = "remote"))]
pub mod worker {
    pub use futurepool_worker::{Registry, RemoteFn, main_if_worker};
}

/// Everything a user of futurepool needs, for `use futurepool::prelude::*;`.
///
/// # Examples
///
/// ```
/// use futurepool::prelude::*;
///
/// let pool = CpuPool::builder().max_workers(1).build().unwrap();
/// assert_eq!(pool.submit(|| 1 + 1).blocking_wait().unwrap(), 2);
/// ```
pub mod prelude {
    pub use futurepool_core::{
        AsyncPool, AsyncPoolBuilder, BlockingPool, BlockingPoolBuilder, BuildError,
        CancellationToken, CpuPool, CpuPoolBuilder, Executor, PoolStats, Priority, Promise, Task,
        TaskError, TaskErrorKind, TaskId, TrySubmitError,
    };
    #[cfg(feature = "process")]
    pub use futurepool_process::{ProcessPool, ProcessPoolBuilder};
    #[cfg(feature = "remote")]
    pub use futurepool_remote::{RemotePool, RemotePoolBuilder, Worker, WorkerBuilder};
    pub use futurepool_stream::{
        AsyncPoolMapExt, ExecutorMapExt, ReturnWhen, Waited, as_completed, as_completed_timeout,
        map_tasks, map_tasks_unordered, try_map_tasks, try_map_tasks_unordered, wait, wait_timeout,
        wait_with,
    };
    #[cfg(any(feature = "process", feature = "remote"))]
    pub use futurepool_worker::{Registry, RemoteFn};
    pub use futures_util::{FutureExt as _, StreamExt as _};
}

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}

/// The book's chapters (`docs/src`): their Rust code blocks are compiled and run as doc tests.
#[cfg(doctest)]
mod book {
    #[doc = include_str!("../docs/src/introduction.md")]
    mod introduction {}
    #[doc = include_str!("../docs/src/getting-started.md")]
    mod getting_started {}
    #[doc = include_str!("../docs/src/choosing-a-pool.md")]
    mod choosing_a_pool {}
    #[doc = include_str!("../docs/src/coming-from-python.md")]
    mod coming_from_python {}
    #[doc = include_str!("../docs/src/cancellation.md")]
    mod cancellation {}
    #[doc = include_str!("../docs/src/completion.md")]
    mod completion {}
    #[doc = include_str!("../docs/src/service.md")]
    mod service {}
    #[doc = include_str!("../docs/src/scrape.md")]
    mod scrape {}
    #[doc = include_str!("../docs/src/performance.md")]
    mod performance {}
    #[cfg(feature = "process")]
    #[doc = include_str!("../docs/src/process-isolation.md")]
    mod process_isolation {}
    #[cfg(feature = "remote")]
    #[doc = include_str!("../docs/src/scaling-out.md")]
    mod scaling_out {}
    #[cfg(feature = "process")]
    #[doc = include_str!("../docs/src/own-types.md")]
    mod own_types {}
}
