//! Task sources: what turns a map stream's items into [`Task`]s.
//!
//! A source is a function bound to where it runs: [`PoolFn`](super::PoolFn) (an `Executor` and
//! a closure), [`AsyncPoolFn`](super::AsyncPoolFn) (an `AsyncPool` and a function returning a
//! future) or [`SubmitFn`](super::SubmitFn) (any `FnMut(A) -> Task<T>`). Each chooses the
//! stream's default read-ahead bound and chunking ([`Defaults`]); sources that can run several
//! items in one task ([`BatchingSource`]) also fill the stream in chunks.

use std::pin::Pin;
use std::task::Context;

use futurepool_core::{Priority, Task};
use futures_util::Stream;

use super::DEFAULT_MAX_BUFFER;
use super::chunk::{Chunk, Chunking, StopFlag};
use super::engine::Engine;
use super::order::Queue;

/// Where a map stream sends its items: a function bound to the pool that runs it.
///
/// Implemented by [`PoolFn`](super::PoolFn), [`AsyncPoolFn`](super::AsyncPoolFn) and
/// [`SubmitFn`](super::SubmitFn); it cannot be implemented outside this crate (wrap any
/// `FnMut(A) -> Task<T>` with [`map_tasks`](super::map_tasks) instead). It appears in the
/// types of the map streams.
///
/// # Examples
///
/// ```
/// use futurepool_core::{BlockingPool, CpuPool};
/// use futurepool_stream::{ExecutorMapExt, MapStream, ResultOrder, TaskSource};
/// use futures_util::{Stream, StreamExt};
///
/// /// Any map stream, whatever its source, input and order, with a small read-ahead.
/// fn cautious<Src, St, O>(stream: MapStream<Src, St, O>) -> MapStream<Src, St, O>
/// where
///     St: Stream,
///     Src: TaskSource<St::Item>,
///     O: ResultOrder,
/// {
///     stream.buffer(2)
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let io = BlockingPool::new();
/// let cpu = CpuPool::builder().max_workers(2).build().unwrap();
/// assert_eq!(cautious(io.map(|n: u32| n + 1, 0..)).next().await, Some(Ok(1)));
/// assert_eq!(cautious(cpu.map_unordered(|n: u32| n, [7])).next().await, Some(Ok(7)));
/// # }
/// ```
pub trait TaskSource<A>: Submit<A> {}

/// A [`TaskSource`] that can run several items in one task, so its streams take
/// [`chunk_size`](super::MapStream::chunk_size): [`PoolFn`](super::PoolFn) and
/// [`AsyncPoolFn`](super::AsyncPoolFn).
///
/// It cannot be implemented outside this crate.
///
/// # Examples
///
/// ```
/// use futurepool_core::CpuPool;
/// use futurepool_stream::{BatchingSource, PoolFn};
///
/// fn batches<A, Src: BatchingSource<A>>() {}
/// batches::<u8, PoolFn<CpuPool, fn(u8) -> u8>>();
/// ```
///
/// A stream of [`map_tasks`](super::map_tasks), whose function submits one item per task, has
/// no `chunk_size`:
///
/// ```compile_fail
/// use futurepool_core::Task;
/// use futurepool_stream::map_tasks;
///
/// let _ = map_tasks(|n: u8| Task::ready(Ok(n)), 0..3).chunk_size(2);
/// ```
pub trait BatchingSource<A>: TaskSource<A> + SubmitChunk<A> {}

/// The read-ahead bound and chunking a map stream starts with, as its source chooses them.
#[derive(Clone, Copy, Debug)]
pub struct Defaults {
    /// The read-ahead bound, in items.
    pub buffer: usize,
    /// How items are grouped into tasks.
    pub chunking: Chunking,
}

impl Defaults {
    /// One task per item, reading `min(2 × workers, 64)` items ahead.
    pub fn one_per_task(workers: usize) -> Self {
        Defaults {
            buffer: workers.saturating_mul(2).clamp(1, DEFAULT_MAX_BUFFER),
            chunking: Chunking::Single,
        }
    }

    /// Adaptive chunks shared among `workers`, reading 64 items ahead to leave room for them.
    pub fn adaptive_chunks(workers: usize) -> Self {
        Defaults {
            buffer: DEFAULT_MAX_BUFFER,
            chunking: Chunking::adaptive(workers),
        }
    }
}

/// The crate-private half of [`TaskSource`]: how items are submitted.
pub trait Submit<A>: Sized {
    /// What one item's task returns.
    type Output;

    /// The read-ahead bound and chunking a stream over this source starts with.
    fn defaults(&self) -> Defaults;

    /// Submits one item as its own task.
    fn submit_one(&mut self, item: A) -> Task<Self::Output>;

    /// Reads items from `input` and submits them while `engine`'s read-ahead bound has room.
    ///
    /// Sources submit one item per task unless they override this to fill in chunks
    /// ([`Engine::fill_in_chunks`]).
    fn fill<St, Q>(engine: &mut Engine<Self, Q>, input: Pin<&mut Option<St>>, cx: &mut Context<'_>)
    where
        St: Stream<Item = A>,
        Q: Queue<Self::Output>,
    {
        engine.fill_one_per_task(input, cx);
    }
}

/// The crate-private half of [`BatchingSource`]: how a chunk is submitted.
pub trait SubmitChunk<A>: Submit<A> {
    /// Submits `items` as one task that runs them in order; each item's panic becomes that
    /// item's error, and once `stop` is set the items left are cancelled.
    fn submit_chunk(&mut self, items: Vec<A>, stop: &StopFlag) -> Task<Chunk<Self::Output>>;
}

/// A task source that submits its tasks at a [`Priority`]: the pools' own map streams
/// ([`PoolFn`](super::PoolFn), [`AsyncPoolFn`](super::AsyncPoolFn)), which so have
/// [`MapStream::priority`](super::MapStream::priority).
///
/// # Examples
///
/// ```
/// use futurepool_core::{CpuPool, Priority};
/// use futurepool_stream::{ExecutorMapExt, PoolFn, PrioritySource};
///
/// fn at_low<S: PrioritySource>(mut source: S) -> S {
///     source.set_priority(Priority::LOW);
///     source
/// }
/// let _ = at_low::<PoolFn<CpuPool, fn(u8) -> u8>>;
/// ```
pub trait PrioritySource {
    /// Sets the priority of the tasks submitted from now on.
    fn set_priority(&mut self, priority: Priority);
}
