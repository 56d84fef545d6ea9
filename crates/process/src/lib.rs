//! [`ProcessPool`]: Python's `ProcessPoolExecutor` for futurepool, with real processes and
//! none of its brokenness.
//!
//! Work for another process is a registered function (a [`RemoteFn`]: a name and a plain
//! `fn(A) -> R` over serde types) in a [`Registry`]. The pool starts worker processes of a
//! program (by default the current executable, whose `main` calls [`main_if_worker`] first),
//! talks to each over a private Unix socket with length-delimited MessagePack frames, and runs
//! one task per process at a time:
//!
//! - a process that dies (abort, SIGSEGV, SIGKILL, `exit`) fails only its task, with
//!   `is_crashed()` and a message naming the signal or exit code; a new process replaces it;
//! - a panic is `is_panic()` with its message, and the process lives on;
//! - past [`task_timeout`](ProcessPoolBuilder::task_timeout) the process is killed and the
//!   task is `is_timeout()`; `cancel()` on a running task kills its process;
//! - a function the worker lacks, or an argument or result that fails to (de)serialize, is
//!   `is_invalid()` for that task alone, and so is a call or result over
//!   [`max_message_size`](ProcessPoolBuilder::max_message_size); a panic inside a
//!   `Serialize` or `Deserialize` is `is_panic()`;
//! - `map` and `map_unordered` send their items in chunks, one message per chunk, each item
//!   answered on its own;
//! - it is crash isolation, not a sandbox: workers run as the same user, with the parent's
//!   environment unless [`env_clear`](ProcessPoolBuilder::env_clear), their memory capped by
//!   [`max_memory_per_child`](ProcessPoolBuilder::max_memory_per_child) if set; their sockets
//!   are private (a 0700 directory, and a connection from any process but the child is
//!   refused) and they run in their own process group, so a Ctrl-C reaches the parent only;
//! - children never outlive the pool: dropped, shut down, or with the parent killed by
//!   SIGKILL (each worker watches its socket and exits when it closes); the pool watches
//!   each worker's process, so a grandchild holding the socket open hides no crash;
//! - what a task prints goes to the parent's stderr, never into the channel.
//!
//! Most users reach it through the `futurepool` crate with its `process` feature.
//!
//! # Examples
//!
//! ```
//! use futurepool_process::ProcessPool;
//! use futurepool_worker::{Registry, RemoteFn, main_if_worker};
//!
//! fn square(n: u64) -> u64 { n * n }
//! pub const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
//!
//! fn registry() -> Registry { Registry::new().with(SQUARE) }
//!
//! fn main() {
//!     main_if_worker(&registry()); // in a worker process: serves, then exits
//!     tokio::runtime::Runtime::new().unwrap().block_on(async {
//!         use futures_util::StreamExt;
//!         let pool = ProcessPool::builder(registry()).max_workers(2).build().unwrap();
//!         let squares: Vec<u64> = pool.map(SQUARE, 0..10).map(Result::unwrap).collect().await;
//!         assert_eq!(squares, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
//!     });
//! }
//! ```
//!
//! # Tracing
//!
//! Tasks run in the `task` span of the pool (field `pool`, default `"process"`); starting,
//! dying and killed workers are logged as events with their `pid`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod builder;
mod child;
mod conn;
mod exit;
mod line;
mod maps;
mod pool;
mod task;
mod workers;

pub use builder::{MAX_WORKERS, ProcessPoolBuilder};
pub use futurepool_worker::{Registry, RemoteFn, main_if_worker};
pub use pool::ProcessPool;
