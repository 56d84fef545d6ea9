//! A submission in flight: one item's task, or a chunk's.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futurepool_core::{Task, TaskError, TaskId};

use super::chunk::Chunk;

/// One submission in flight: a single item's task, or a chunk's.
pub enum Unit<T> {
    /// One item, one task.
    One(Task<T>),
    /// `len` items run by one task.
    Chunk { task: Task<Chunk<T>>, len: usize },
}

/// The outcome of a [`Unit`]: its items' results in input order, and a chunk's timing.
pub struct UnitDone<T> {
    /// One result per item, in input order.
    pub results: VecDeque<Result<T, TaskError>>,
    /// For a chunk that ran: how many items ran, and how long they took.
    pub timing: Option<(usize, Duration)>,
}

impl<T> Unit<T> {
    /// Cancels the unit's task (a running closure finishes on its own).
    pub fn cancel(&self) {
        match self {
            Unit::One(task) => task.cancel(),
            Unit::Chunk { task, .. } => task.cancel(),
        };
    }
}

impl<T> Future for Unit<T> {
    type Output = UnitDone<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<UnitDone<T>> {
        match self.get_mut() {
            Unit::One(task) => Pin::new(task).poll(cx).map(|result| UnitDone {
                results: VecDeque::from([result]),
                timing: None,
            }),
            Unit::Chunk { task, len } => {
                let id = task.id();
                let done = match ready!(Pin::new(task).poll(cx)) {
                    Ok(chunk) => UnitDone {
                        results: chunk
                            .results
                            .into_iter()
                            .map(|r| r.map_err(|e| with_task_id(e, id)))
                            .collect(),
                        timing: Some((chunk.ran, chunk.elapsed)),
                    },
                    // The whole chunk failed (cancelled, refused, shut down): so did each item.
                    Err(e) => UnitDone {
                        results: (0..*len).map(|_| Err(e.clone())).collect(),
                        timing: None,
                    },
                };
                Poll::Ready(done)
            }
        }
    }
}

/// Gives an item's error the id of the chunk task it ran in, unless it has one.
fn with_task_id(e: TaskError, id: TaskId) -> TaskError {
    if e.task_id().is_none() {
        e.with_task_id(id)
    } else {
        e
    }
}
