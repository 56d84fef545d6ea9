//! `map` and `map_unordered` over a [`ProcessPool`](crate::ProcessPool): lazy, bounded streams.

use std::pin::Pin;
use std::task::{Context, Poll};

use futurepool_core::{Task, TaskError};

/// The read-ahead bound of a map stream: twice the workers, at most 64.
pub(crate) fn default_buffer(max_workers: usize) -> usize {
    max_workers.saturating_mul(8).clamp(1, 64)
}

/// A task that is cancelled if dropped before it finishes (the stream was dropped).
pub(crate) struct CancelOnDrop<T>(pub(crate) Task<T>);

impl<T> Future for CancelOnDrop<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for CancelOnDrop<T> {
    fn drop(&mut self) {
        if !self.0.is_finished() {
            self.0.cancel();
        }
    }
}
