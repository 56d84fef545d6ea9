//! Pools and the [`Task`] handle of futurepool: Python's `concurrent.futures`, async-native for
//! Tokio.
//!
//! Three pools map work onto the right place:
//!
//! | pool | runs | on | Python |
//! |---|---|---|---|
//! | [`BlockingPool`] | blocking closures (I/O) | Tokio's `spawn_blocking` threads, at most `max_workers` at once | `ThreadPoolExecutor` |
//! | [`CpuPool`] | CPU-bound closures | its own threads, never the async runtime's | `ProcessPoolExecutor` |
//! | [`AsyncPool`] | futures | the Tokio runtime, at most `max_concurrency` at once | asyncio tasks + a semaphore |
//!
//! Each `submit` returns a [`Task<T>`]: await it for `Result<T, TaskError>`, [`cancel`](Task::cancel)
//! it, or ask [`is_finished`](Task::is_finished). A panic becomes an error for that task only;
//! submitting after shutdown is an error, never a hang or a panic.
//!
//! Pools in other crates (a process pool, a remote pool) hand out the same `Task` through a
//! [`Promise`], or build on an [`AsyncPool`] with [`AsyncPool::submit_fallible`].
//!
//! # How it is built
//!
//! The three pools are one handle type, [`Pool<K>`](Pool), whose [`kind`] `K` says what it
//! runs and where; `BlockingPool`, `CpuPool` and `AsyncPool` are its aliases, as the builders
//! are aliases of one [`Builder<P>`](Builder). Behind every handle is one `PoolCore` (the `pool`
//! module) configured with how its workers start.
//! Whether a pool accepts work and how many accepted tasks have not ended live in one atomic
//! word (`lifecycle`); a task's life is a small state machine (`task::state`), and the
//! queue's park/wake protocol is written up beside its code (`queue`). The three are
//! model-checked with loom (`loom_models.rs`, run by `.ci/run`).
//!
//! Most users depend on the `futurepool` crate, which re-exports this one together with
//! `as_completed`, `wait` and the map streams.
//!
//! # Examples
//!
//! ```
//! use futurepool_core::{AsyncPool, BlockingPool, CpuPool};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let io = BlockingPool::builder().max_workers(8).build().unwrap();
//! let cpu = CpuPool::builder().max_workers(2).thread_name_prefix("cpu").build().unwrap();
//! let net = AsyncPool::builder().max_concurrency(64).build().unwrap();
//!
//! let text = io.submit(|| String::from("1 2 3 4")).await.unwrap();
//! let sum = cpu.submit(move || text.split(' ').map(|n| n.parse::<u32>().unwrap()).sum::<u32>());
//! let reply = net.submit(async move { format!("sum = {}", sum.await.unwrap()) });
//! assert_eq!(reply.await.unwrap(), "sum = 10");
//! # }
//! ```
//!
//! # Tracing
//!
//! Every task runs inside a `DEBUG` span named `task` with the fields `pool` (the pool's name)
//! and `task_id`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod async_pool;
mod blocking;
mod cpu;
mod error;
mod executor;
mod handle;
pub mod kind;
mod lifecycle;
#[cfg(all(test, futurepool_loom))]
mod loom_models;
mod pool;
mod priority;
mod queue;
mod stats;
mod sync;
mod task;

pub use async_pool::{AsyncPool, AsyncPoolBuilder};
pub use blocking::{BlockingPool, BlockingPoolBuilder};
pub use cpu::{CpuPool, CpuPoolBuilder};
pub use error::{BuildError, TaskError, TaskErrorKind, TrySubmitError};
pub use executor::Executor;
pub use handle::Pool;
pub use pool::Builder;
pub use priority::Priority;
pub use stats::PoolStats;
pub use task::{Promise, Task, TaskId};
pub use tokio_util::sync::CancellationToken;
