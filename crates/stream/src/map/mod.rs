//! Lazy, bounded map streams: `map`, `map_unordered`, `try_map` and `try_map_unordered` over
//! the pools ([`ExecutorMapExt`], [`AsyncPoolMapExt`]) and over any function returning a `Task`
//! ([`map_tasks`] and its siblings).
//!
//! One engine serves every stream; the files follow its concepts:
//!
//! | file | concept |
//! |---|---|
//! | `input.rs` | the items: an `Iterator` or a `Stream` ([`MapInput`]) |
//! | `source.rs` | where items run ([`TaskSource`]) and the defaults each source picks |
//! | `pool.rs`, `async_pool.rs`, `tasks.rs`, `prioritized.rs` | the sources and their constructors |
//! | `chunk.rs` | several items in one task, fixed or adaptive |
//! | `chunked.rs` | the source of a pool from another crate that batches ([`ChunkedFn`]) |
//! | `unit.rs` | one submission in flight: an item's task or a chunk's |
//! | `order.rs` | input order or completion order ([`ResultOrder`]) |
//! | `engine.rs` | the read-ahead bound, deadline and stop |
//! | `stream.rs`, `try_stream.rs` | the public streams [`MapStream`] and [`TryMapStream`] |

mod async_pool;
mod chunk;
mod chunked;
mod engine;
mod input;
mod order;
mod pool;
mod prioritized;
mod source;
mod stream;
mod tasks;
mod try_stream;
mod unit;

pub use async_pool::{AsyncPoolFn, AsyncPoolMapExt};
pub use chunk::{Chunk, StopFlag};
pub use chunked::{ChunkedFn, map_chunked, map_chunked_unordered};
pub use input::{IterInput, MapInput, StreamInput};
pub use order::{CompletionOrder, InputOrder, ResultOrder};
pub use pool::{ExecutorMapExt, PoolFn};
pub use prioritized::{
    PrioritySubmitFn, map_tasks_unordered_with_priority, map_tasks_with_priority,
};
pub use source::{BatchingSource, PrioritySource, TaskSource};
pub use stream::{Map, MapStream, MapUnordered};
pub use tasks::{SubmitFn, map_tasks, map_tasks_unordered, try_map_tasks, try_map_tasks_unordered};
pub use try_stream::{TryMap, TryMapStream, TryMapUnordered};

/// The largest default read-ahead of a map stream, in items.
///
/// By default a map stream reads at most `min(2 × max_workers, 64)` items ahead of its consumer
/// (64 on `CpuPool`, to leave room for chunks, and for [`map_tasks`]). Set another bound with
/// [`MapStream::buffer`].
///
/// # Examples
///
/// ```
/// assert_eq!(futurepool_stream::DEFAULT_MAX_BUFFER, 64);
/// ```
pub const DEFAULT_MAX_BUFFER: usize = 64;
