//! The completion side of futurepool: [`as_completed`], [`wait`] and lazy, bounded map streams.
//!
//! This crate is re-exported by the `futurepool` facade and its prelude. It works on
//! [`Task`](futurepool_core::Task)s from any futurepool pool (and, for [`as_completed`], on any
//! future at all):
//!
//! - [`as_completed`] yields outputs in completion order, accepts more futures while it runs,
//!   and has a deadline variant ([`AsCompleted::timeout`]).
//! - [`wait`] partitions tasks into `done` and `pending` once a [`ReturnWhen`] condition holds,
//!   with a timeout variant ([`wait_timeout`]) and a custom error test ([`wait_with`]).
//! - [`ExecutorMapExt`] (for `BlockingPool` and `CpuPool`) and [`AsyncPoolMapExt`] (for
//!   `AsyncPool`) add `map`, `map_unordered`, `try_map` and `try_map_unordered`: streams that
//!   read their input (an iterator or a stream) lazily, a bounded number of items ahead of the
//!   consumer, and that batch tiny items for the `CpuPool`. [`map_tasks`] and its siblings do
//!   the same over any function returning a [`Task`](futurepool_core::Task), such as the
//!   `submit` of a pool from another crate.
//!
//! # Examples
//!
//! ```
//! use futurepool_core::CpuPool;
//! use futurepool_stream::ExecutorMapExt;
//! use futures_util::StreamExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let cpu = CpuPool::builder().max_workers(2).build().unwrap();
//! let squares: Vec<u64> = cpu.map(|n: u64| n * n, 0..10).map(Result::unwrap).collect().await;
//! assert_eq!(squares, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
//! # }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod as_completed;
mod map;
mod wait;

pub use as_completed::{AsCompleted, AsCompletedTimeout, as_completed, as_completed_timeout};
pub use map::{
    AsyncPoolFn, AsyncPoolMapExt, BatchingSource, Chunk, ChunkedFn, CompletionOrder,
    DEFAULT_MAX_BUFFER, ExecutorMapExt, InputOrder, IterInput, Map, MapInput, MapStream,
    MapUnordered, PoolFn, PrioritySource, PrioritySubmitFn, ResultOrder, StopFlag, StreamInput,
    SubmitFn, TaskSource, TryMap, TryMapStream, TryMapUnordered, map_chunked,
    map_chunked_unordered, map_tasks, map_tasks_unordered, map_tasks_unordered_with_priority,
    map_tasks_with_priority, try_map_tasks, try_map_tasks_unordered,
};
pub use wait::{ReturnWhen, Wait, Waited, wait, wait_timeout, wait_with};
