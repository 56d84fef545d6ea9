//! Ordering: in which order a map stream yields its results.
//!
//! [`InputOrder`] (the `map` streams) waits for the oldest submission; [`CompletionOrder`] (the
//! `map_unordered` streams) yields whichever finishes first. Each names the [`Queue`] that holds
//! the submissions in flight and the results waiting to be yielded.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futurepool_core::TaskError;
use futures_util::stream::{FuturesUnordered, StreamExt};

use super::chunk::Chunking;
use super::unit::Unit;

/// The order in which a [`MapStream`](super::MapStream) yields results: [`InputOrder`] or
/// [`CompletionOrder`].
///
/// It cannot be implemented outside this crate.
///
/// # Examples
///
/// ```
/// use futurepool_core::CpuPool;
/// use futurepool_stream::{CompletionOrder, ExecutorMapExt, MapStream, ResultOrder};
///
/// fn order_name<Src, St, O: ResultOrder>(_: &MapStream<Src, St, O>) -> &'static str
/// where
///     St: futures_util::Stream,
///     Src: futurepool_stream::TaskSource<St::Item>,
/// {
///     std::any::type_name::<O>()
/// }
///
/// let pool = CpuPool::builder().max_workers(1).build().unwrap();
/// let stream = pool.map_unordered(|n: u8| n, 0..3);
/// assert!(order_name(&stream).ends_with("CompletionOrder"));
/// ```
pub trait ResultOrder: Order {}

/// The crate-private half of [`ResultOrder`]: the queue type of each order.
pub trait Order {
    /// Where the submissions in flight wait until the consumer takes their results.
    type Queue<T>: Queue<T>;
    /// The name of the plain map stream of this order, for `Debug`.
    const MAP_STREAM_NAME: &'static str;
}

/// Results in input order: Python's `Executor.map`. The order of [`Map`](super::Map) and
/// [`TryMap`](super::TryMap).
///
/// # Examples
///
/// ```
/// use futurepool_core::BlockingPool;
/// use futurepool_stream::{ExecutorMapExt, InputOrder, MapStream};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = BlockingPool::new();
/// let _stream: MapStream<_, _, InputOrder> = pool.map(|n: u8| n, 0..3);
/// # }
/// ```
#[derive(Debug)]
pub enum InputOrder {}

/// Results in completion order: a slow item does not hold back the ones after it. The order of
/// [`MapUnordered`](super::MapUnordered) and [`TryMapUnordered`](super::TryMapUnordered).
///
/// # Examples
///
/// ```
/// use futurepool_core::BlockingPool;
/// use futurepool_stream::{CompletionOrder, ExecutorMapExt, MapStream};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = BlockingPool::new();
/// let _stream: MapStream<_, _, CompletionOrder> = pool.map_unordered(|n: u8| n, 0..3);
/// # }
/// ```
#[derive(Debug)]
pub enum CompletionOrder {}

impl Order for InputOrder {
    type Queue<T> = InputOrderQueue<T>;
    const MAP_STREAM_NAME: &'static str = "Map";
}

impl ResultOrder for InputOrder {}

impl Order for CompletionOrder {
    type Queue<T> = CompletionOrderQueue<T>;
    const MAP_STREAM_NAME: &'static str = "MapUnordered";
}

impl ResultOrder for CompletionOrder {}

/// Where submissions in flight wait until the consumer takes their results.
///
/// Dropping a queue cancels the units in it, so that dropping a stream cancels the items that
/// have not started.
pub trait Queue<T>: Default {
    /// Adds a submission, after every one pushed before.
    fn push(&mut self, unit: Unit<T>);

    /// The next result to yield; `Ready(None)` when nothing is in flight. A finished chunk's
    /// timing is fed to `chunking`.
    fn poll_item(
        &mut self,
        cx: &mut Context<'_>,
        chunking: &mut Chunking,
    ) -> Poll<Option<Result<T, TaskError>>>;

    /// Cancels every unit in flight and drops all results held.
    fn cancel_all(&mut self);

    /// How many submissions it holds: running, or finished with results not all taken.
    fn units(&self) -> usize;
}

/// The queue of [`InputOrder`]: only the oldest submission is awaited.
pub struct InputOrderQueue<T> {
    slots: VecDeque<Slot<T>>,
}

enum Slot<T> {
    Running(Unit<T>),
    Ready(VecDeque<Result<T, TaskError>>),
}

impl<T> Default for InputOrderQueue<T> {
    fn default() -> Self {
        Self {
            slots: VecDeque::new(),
        }
    }
}

impl<T> Queue<T> for InputOrderQueue<T> {
    fn push(&mut self, unit: Unit<T>) {
        self.slots.push_back(Slot::Running(unit));
    }

    fn poll_item(
        &mut self,
        cx: &mut Context<'_>,
        chunking: &mut Chunking,
    ) -> Poll<Option<Result<T, TaskError>>> {
        loop {
            let Some(front) = self.slots.front_mut() else {
                return Poll::Ready(None);
            };
            match front {
                Slot::Ready(results) => {
                    let next = results.pop_front();
                    if results.is_empty() {
                        self.slots.pop_front();
                    }
                    if let Some(result) = next {
                        return Poll::Ready(Some(result));
                    }
                }
                Slot::Running(unit) => {
                    let done = ready!(Pin::new(unit).poll(cx));
                    if let Some((ran, elapsed)) = done.timing {
                        chunking.record(ran, elapsed);
                    }
                    *front = Slot::Ready(done.results);
                }
            }
        }
    }

    fn cancel_all(&mut self) {
        for slot in self.slots.drain(..) {
            if let Slot::Running(unit) = slot {
                unit.cancel();
            }
        }
    }

    fn units(&self) -> usize {
        self.slots.len()
    }
}

impl<T> Drop for InputOrderQueue<T> {
    fn drop(&mut self) {
        self.cancel_all();
    }
}

/// The queue of [`CompletionOrder`]: every submission is awaited at once.
pub struct CompletionOrderQueue<T> {
    running: FuturesUnordered<Unit<T>>,
    /// The rest of the last finished chunk's results.
    ready: VecDeque<Result<T, TaskError>>,
}

impl<T> Default for CompletionOrderQueue<T> {
    fn default() -> Self {
        Self {
            running: FuturesUnordered::new(),
            ready: VecDeque::new(),
        }
    }
}

impl<T> Queue<T> for CompletionOrderQueue<T> {
    fn push(&mut self, unit: Unit<T>) {
        self.running.push(unit);
    }

    fn poll_item(
        &mut self,
        cx: &mut Context<'_>,
        chunking: &mut Chunking,
    ) -> Poll<Option<Result<T, TaskError>>> {
        loop {
            if let Some(result) = self.ready.pop_front() {
                return Poll::Ready(Some(result));
            }
            match ready!(self.running.poll_next_unpin(cx)) {
                Some(done) => {
                    if let Some((ran, elapsed)) = done.timing {
                        chunking.record(ran, elapsed);
                    }
                    self.ready = done.results;
                }
                None => return Poll::Ready(None),
            }
        }
    }

    fn cancel_all(&mut self) {
        for unit in self.running.iter() {
            unit.cancel();
        }
        self.running.clear();
        self.ready.clear();
    }

    fn units(&self) -> usize {
        self.running.len() + usize::from(!self.ready.is_empty())
    }
}

impl<T> Drop for CompletionOrderQueue<T> {
    fn drop(&mut self) {
        for unit in self.running.iter() {
            unit.cancel();
        }
    }
}
