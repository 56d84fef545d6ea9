//! Map streams over any function that submits an item and returns its [`Task`]:
//! [`map_tasks`] and its siblings, with the task source [`SubmitFn`].

use std::fmt;

use futurepool_core::{Task, TaskError};

use super::DEFAULT_MAX_BUFFER;
use super::chunk::Chunking;
use super::input::MapInput;
use super::source::{Defaults, Submit, TaskSource};
use super::{Map, MapStream, MapUnordered, TryMap, TryMapStream, TryMapUnordered};

/// Submits every item with `submit` and yields the tasks' outcomes in input order: `map` for
/// any pool whose `submit` returns a [`Task`].
///
/// This gives a pool of another crate (a process pool, a remote pool) the lazy, bounded map
/// streams of the built-in pools: `submit` is called by the stream when it reads an item, at
/// most [`buffer`](MapStream::buffer) items ahead of the consumer (64 by default; set it to
/// about twice the pool's workers). An error of one task is yielded at its place and later
/// items still run; dropping the stream cancels the tasks that have not started. Each item is
/// its own task (there is no chunking).
///
/// # Examples
///
/// ```
/// use futurepool_core::{CpuPool, Task};
/// use futurepool_stream::map_tasks;
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = CpuPool::builder().max_workers(2).build().unwrap();
/// // Any `FnMut(A) -> Task<T>` will do: here, a pool's `submit` with a label per item.
/// let submit = |word: &'static str| -> Task<String> { pool.submit(move || word.to_uppercase()) };
/// let out: Vec<String> = map_tasks(submit, ["a", "b"]).buffer(4).map(Result::unwrap).collect().await;
/// assert_eq!(out, ["A", "B"]);
/// # }
/// ```
pub fn map_tasks<In, Kind, F, T>(submit: F, items: In) -> Map<SubmitFn<F>, In::Stream>
where
    In: MapInput<Kind>,
    F: FnMut(In::Item) -> Task<T>,
{
    MapStream::new(SubmitFn { submit }, items.into_stream())
}

/// Like [`map_tasks`], but yields the outcomes as the tasks finish.
///
/// # Examples
///
/// ```
/// use futurepool_core::BlockingPool;
/// use futurepool_stream::map_tasks_unordered;
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = BlockingPool::new();
/// let lines = futures_util::stream::iter(["x", "yy", "zzz"]); // a stream works as input too
/// let mut lens: Vec<usize> = map_tasks_unordered(|line: &str| pool.submit(move || line.len()), lines)
///     .map(Result::unwrap)
///     .collect()
///     .await;
/// lens.sort();
/// assert_eq!(lens, [1, 2, 3]);
/// # }
/// ```
pub fn map_tasks_unordered<In, Kind, F, T>(
    submit: F,
    items: In,
) -> MapUnordered<SubmitFn<F>, In::Stream>
where
    In: MapInput<Kind>,
    F: FnMut(In::Item) -> Task<T>,
{
    MapStream::new(SubmitFn { submit }, items.into_stream())
}

/// Like [`map_tasks`] for tasks returning `Result`: yields `Ok` values in input order and stops
/// at the first error, cancelling the tasks still pending.
///
/// # Examples
///
/// ```
/// use futurepool_core::{BlockingPool, TaskError};
/// use futurepool_stream::try_map_tasks;
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = BlockingPool::new();
/// let check = |n: u32| pool.submit(move || if n < 2 { Ok(n) } else { Err(TaskError::cancelled()) });
/// let out: Vec<Result<u32, TaskError>> = try_map_tasks(check, 0..).collect().await;
/// assert_eq!(out.len(), 3); // 0, 1, then the first error ends the endless input
/// # }
/// ```
pub fn try_map_tasks<In, Kind, F, T, E>(submit: F, items: In) -> TryMap<SubmitFn<F>, In::Stream>
where
    In: MapInput<Kind>,
    F: FnMut(In::Item) -> Task<Result<T, E>>,
    E: From<TaskError>,
{
    TryMapStream::new(map_tasks(submit, items))
}

/// Like [`map_tasks_unordered`] for tasks returning `Result`: yields `Ok` values as they finish
/// and stops at the first error to finish, cancelling the tasks still pending.
///
/// # Examples
///
/// ```
/// use futurepool_core::{BlockingPool, TaskError};
/// use futurepool_stream::try_map_tasks_unordered;
/// use futures_util::TryStreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = BlockingPool::new();
/// let submit = |n: u32| pool.submit(move || Ok::<_, TaskError>(n * 2));
/// let mut all: Vec<u32> = try_map_tasks_unordered(submit, 0..3).try_collect().await.unwrap();
/// all.sort();
/// assert_eq!(all, [0, 2, 4]);
/// # }
/// ```
pub fn try_map_tasks_unordered<In, Kind, F, T, E>(
    submit: F,
    items: In,
) -> TryMapUnordered<SubmitFn<F>, In::Stream>
where
    In: MapInput<Kind>,
    F: FnMut(In::Item) -> Task<Result<T, E>>,
    E: From<TaskError>,
{
    TryMapStream::new(map_tasks_unordered(submit, items))
}

/// A function that submits one item and returns its [`Task`]: the [`TaskSource`] of the streams
/// built by [`map_tasks`] and its siblings.
///
/// # Examples
///
/// ```
/// use futurepool_core::{BlockingPool, Task};
/// use futurepool_stream::{Map, SubmitFn, map_tasks};
/// use futures_util::stream::Iter;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // A pool of another crate can name its `map` stream with `impl FnMut`:
/// fn doubled(pool: BlockingPool, n: u64)
///     -> Map<SubmitFn<impl FnMut(u64) -> Task<u64>>, Iter<std::ops::Range<u64>>>
/// {
///     map_tasks(move |x| pool.submit(move || x * 2), 0..n)
/// }
/// let _stream = doubled(BlockingPool::new(), 3);
/// # }
/// ```
pub struct SubmitFn<F> {
    submit: F,
}

impl<F> fmt::Debug for SubmitFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubmitFn").finish_non_exhaustive()
    }
}

impl<F, A, T> Submit<A> for SubmitFn<F>
where
    F: FnMut(A) -> Task<T>,
{
    type Output = T;

    fn defaults(&self) -> Defaults {
        Defaults {
            buffer: DEFAULT_MAX_BUFFER,
            chunking: Chunking::Single,
        }
    }

    fn submit_one(&mut self, item: A) -> Task<T> {
        (self.submit)(item)
    }
}

impl<F, A, T> TaskSource<A> for SubmitFn<F> where F: FnMut(A) -> Task<T> {}
