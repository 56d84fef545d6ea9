//! The pool's bounded room (`queue_capacity`): a semaphore of that many places, one held by
//! each unresolved task. The place is owned by the task's [`Admitted`](super::shared::Admitted)
//! guard, so it is given back on every path the task ends (answer, cancel, `shutdown_now`, a
//! failed publish, a driver dropped with its runtime). Closed with the pool, which wakes every
//! `submit_wait` still waiting.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

/// One task's place in the room; `None` when the pool is unbounded.
pub(crate) type Place = Option<OwnedSemaphorePermit>;

/// Why a task found no place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoRoom {
    /// Every place is held by an unresolved task.
    Full,
    /// The pool is shut down.
    Shutdown,
}

/// The places of a pool built with `queue_capacity(n)`, or no bound.
pub(crate) struct Room(Option<Arc<Semaphore>>);

impl Room {
    /// `capacity` places, or unbounded.
    pub(crate) fn new(capacity: Option<usize>) -> Self {
        Self(capacity.map(|n| Arc::new(Semaphore::new(n.min(Semaphore::MAX_PERMITS)))))
    }

    /// A place now, if one is free.
    pub(crate) fn take_now(&self) -> Result<Place, NoRoom> {
        match &self.0 {
            None => Ok(None),
            Some(places) => match Arc::clone(places).try_acquire_owned() {
                Ok(place) => Ok(Some(place)),
                Err(TryAcquireError::NoPermits) => Err(NoRoom::Full),
                Err(TryAcquireError::Closed) => Err(NoRoom::Shutdown),
            },
        }
    }

    /// A place, once one is free; [`NoRoom::Shutdown`] if the pool is shut down first.
    /// Cancel safe: dropped while waiting, it takes nothing.
    pub(crate) async fn take(&self) -> Result<Place, NoRoom> {
        match &self.0 {
            None => Ok(None),
            Some(places) => Arc::clone(places)
                .acquire_owned()
                .await
                .map(Some)
                .map_err(|_| NoRoom::Shutdown),
        }
    }

    /// Refuses every later `take`, and wakes the waiting ones with [`NoRoom::Shutdown`].
    pub(crate) fn close(&self) {
        if let Some(places) = &self.0 {
            places.close();
        }
    }
}
