//! Map streams over a function that submits an item at a [`Priority`]:
//! [`map_tasks_with_priority`], [`map_tasks_unordered_with_priority`] and their source
//! [`PrioritySubmitFn`], so that a pool of another crate gets [`MapStream::priority`].

use std::fmt;

use futurepool_core::{Priority, Task};

use super::DEFAULT_MAX_BUFFER;
use super::chunk::Chunking;
use super::input::MapInput;
use super::source::{Defaults, PrioritySource, Submit, TaskSource};
use super::{Map, MapStream, MapUnordered};

/// Like [`map_tasks`](crate::map_tasks), for a `submit` that takes the priority to submit at:
/// the stream's [`priority`](MapStream::priority) (`Priority::NORMAL` unless set).
///
/// This is how a pool of another crate whose `submit_with_priority` returns a [`Task`] gives
/// its map streams `.priority(p)`.
///
/// # Examples
///
/// ```
/// use futurepool_core::{CpuPool, Priority, Task};
/// use futurepool_stream::map_tasks_with_priority;
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = CpuPool::builder().max_workers(2).build().unwrap();
/// let submit = |priority: Priority, n: u32| -> Task<u32> {
///     pool.submit_with_priority(priority, move || n * 2)
/// };
/// let out: Vec<u32> = map_tasks_with_priority(submit, 1..=3)
///     .priority(Priority::LOW)
///     .map(Result::unwrap)
///     .collect()
///     .await;
/// assert_eq!(out, [2, 4, 6]);
/// # }
/// ```
pub fn map_tasks_with_priority<In, Kind, F, T>(
    submit: F,
    items: In,
) -> Map<PrioritySubmitFn<F>, In::Stream>
where
    In: MapInput<Kind>,
    F: FnMut(Priority, In::Item) -> Task<T>,
{
    MapStream::new(PrioritySubmitFn::new(submit), items.into_stream())
}

/// Like [`map_tasks_unordered`](crate::map_tasks_unordered), for a `submit` that takes the
/// priority to submit at; see [`map_tasks_with_priority`].
///
/// # Examples
///
/// ```
/// use futurepool_core::{CpuPool, Priority, Task};
/// use futurepool_stream::map_tasks_unordered_with_priority;
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = CpuPool::builder().max_workers(2).build().unwrap();
/// let submit = |p: Priority, n: u32| -> Task<u32> { pool.submit_with_priority(p, move || n + 1) };
/// let mut out: Vec<u32> = map_tasks_unordered_with_priority(submit, 0..3)
///     .priority(Priority::HIGH)
///     .map(Result::unwrap)
///     .collect()
///     .await;
/// out.sort();
/// assert_eq!(out, [1, 2, 3]);
/// # }
/// ```
pub fn map_tasks_unordered_with_priority<In, Kind, F, T>(
    submit: F,
    items: In,
) -> MapUnordered<PrioritySubmitFn<F>, In::Stream>
where
    In: MapInput<Kind>,
    F: FnMut(Priority, In::Item) -> Task<T>,
{
    MapStream::new(PrioritySubmitFn::new(submit), items.into_stream())
}

/// A function that submits an item at a priority and returns its [`Task`]: the
/// [`TaskSource`] of [`map_tasks_with_priority`] and
/// [`map_tasks_unordered_with_priority`].
///
/// # Examples
///
/// ```
/// use futurepool_core::{CpuPool, Priority, Task};
/// use futurepool_stream::{Map, PrioritySubmitFn, map_tasks_with_priority};
///
/// let pool = CpuPool::builder().max_workers(1).build().unwrap();
/// let submit = move |p: Priority, n: u8| -> Task<u8> { pool.submit_with_priority(p, move || n) };
/// let stream: Map<PrioritySubmitFn<_>, _> = map_tasks_with_priority(submit, 0..3);
/// drop(stream);
/// ```
pub struct PrioritySubmitFn<F> {
    submit: F,
    priority: Priority,
}

impl<F> PrioritySubmitFn<F> {
    fn new(submit: F) -> Self {
        Self {
            submit,
            priority: Priority::NORMAL,
        }
    }
}

impl<F> fmt::Debug for PrioritySubmitFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrioritySubmitFn")
            .field("priority", &self.priority)
            .finish_non_exhaustive()
    }
}

impl<F> PrioritySource for PrioritySubmitFn<F> {
    fn set_priority(&mut self, priority: Priority) {
        self.priority = priority;
    }
}

impl<F, A, T> Submit<A> for PrioritySubmitFn<F>
where
    F: FnMut(Priority, A) -> Task<T>,
{
    type Output = T;

    fn defaults(&self) -> Defaults {
        Defaults {
            buffer: DEFAULT_MAX_BUFFER,
            chunking: Chunking::Single,
        }
    }

    fn submit_one(&mut self, item: A) -> Task<T> {
        (self.submit)(self.priority, item)
    }
}

impl<F, A, T> TaskSource<A> for PrioritySubmitFn<F> where F: FnMut(Priority, A) -> Task<T> {}
