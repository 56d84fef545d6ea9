//! What one submitted task does in the pool: publish its message until the server stores it,
//! then wait for its answer. It runs as a future of the pool's [`AsyncPool`]
//! (`futurepool_core`), which owns the task's lifecycle: its count, its place in the bounded
//! queue, its cancellation (the future is dropped) and `shutdown_now` (likewise).
//!
//! [`AsyncPool`]: futurepool_core::AsyncPool

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use futurepool_core::TaskError;
use futurepool_worker::RemoteFn;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use super::shared::Shared;
use crate::nats::names::TASK_ID;
use crate::nats::publish::{publish as publish_bounded, retryable};
use crate::nats::wire::AnswerKind;

/// How long a task's publish is retried (while the server restarts, say) before the task
/// fails: well inside the server's duplicate window, so a retry is never stored twice.
const PUBLISH_PATIENCE: Duration = Duration::from_secs(60);

/// A task's place in the `unpublished` count (what `flush` waits for): counted once the core
/// accepted the task (or just before it is handed over, for a submit that cannot wait),
/// uncounted once its message is stored or the task is gone, whichever order the two come in.
pub(crate) struct Unpublished {
    shared: Arc<Shared>,
    /// 0: not counted yet; 1: counted; 2: released.
    state: Arc<AtomicU8>,
}

/// What counts a task in `unpublished`, once it is accepted.
pub(crate) struct Count {
    shared: Arc<Shared>,
    state: Arc<AtomicU8>,
}

impl Unpublished {
    /// The guard the task's driver holds, and what counts it.
    pub(crate) fn new(shared: &Arc<Shared>) -> (Self, Count) {
        let state = Arc::new(AtomicU8::new(0));
        let guard = Self {
            shared: Arc::clone(shared),
            state: Arc::clone(&state),
        };
        let count = Count {
            shared: Arc::clone(shared),
            state,
        };
        (guard, count)
    }

    fn release(&self) {
        if self.state.swap(2, Ordering::AcqRel) == 1 {
            self.shared.task_published();
        }
    }
}

impl Count {
    /// Counts the task, unless its guard was already released.
    pub(crate) fn count(self) {
        // Counted first, so that the count never goes below zero.
        self.shared
            .counters
            .unpublished
            .fetch_add(1, Ordering::AcqRel);
        if self
            .state
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            self.shared.task_published();
        }
    }
}

impl Drop for Unpublished {
    fn drop(&mut self) {
        self.release();
    }
}

/// A task between its publish and its end: whatever way the future ends (answered, failed,
/// dropped by a cancel or `shutdown_now`), its entry leaves the waiting tasks; a stored message
/// whose task did not get its answer is deleted, so workers skip it.
pub(super) struct Pending {
    shared: Arc<Shared>,
    id: u64,
    /// The message's stream sequence once stored.
    pub(super) seq: Option<u64>,
    pub(super) answered: bool,
}

impl Pending {
    /// Task (or chunk message) `id`, waiting for its answer in `shared`, not yet stored.
    pub(super) fn new(shared: &Arc<Shared>, id: u64) -> Self {
        Pending {
            shared: Arc::clone(shared),
            id,
            seq: None,
            answered: false,
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.shared.waiting.remove(self.id);
        if let (Some(seq), false) = (self.seq, self.answered) {
            // A worker already running it publishes a result nobody waits for (counted as a
            // duplicate). `shutdown` waits for the deletes (`deleting`).
            Shared::delete_message(&self.shared, seq);
        }
    }
}

/// Drives task `id` (message `payload`) to its end: the task's outcome.
pub(crate) async fn drive<A, R>(
    shared: Arc<Shared>,
    unpublished: Unpublished,
    f: RemoteFn<A, R>,
    id: u64,
    payload: Vec<u8>,
) -> Result<R, TaskError>
where
    R: DeserializeOwned + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    shared.waiting.insert(id, tx);
    let mut pending = Pending::new(&shared, id);
    let published = publish(&shared, &shared.headers, id, Bytes::from(payload), "task").await;
    unpublished.release();
    pending.seq = Some(published?);
    let answer = rx.await.map_err(|_| TaskError::cancelled())?;
    pending.answered = true;
    drop(pending);
    match answer {
        AnswerKind::Ran(outcome) => f.result(outcome).map_err(TaskError::from),
        AnswerKind::Crashed(message) => Err(TaskError::crashed(message)),
        AnswerKind::TimedOut(message) => Err(TaskError::timeout(message)),
        AnswerKind::Batch { .. } => Err(TaskError::invalid(format!(
            "`{}` was answered with a chunk's results where one result was expected",
            f.name()
        ))),
    }
}

/// Publishes message `id` (a task, or one message of a map's chunk: `what` names it in
/// errors) with `headers` until the server stores it; returns its stream sequence, or the
/// error of everything it carries when the server refused it or stayed away past
/// [`PUBLISH_PATIENCE`]. A retry carries the same message id, so the server stores it once.
pub(super) async fn publish(
    shared: &Shared,
    headers: &HeaderMap,
    id: u64,
    payload: Bytes,
    what: &str,
) -> Result<u64, TaskError> {
    let msg_id = format!("{}-{id}", shared.pool_id);
    let id_text = id.to_string();
    let make = || {
        let mut headers = headers.clone();
        headers.insert(TASK_ID, id_text.as_str());
        PublishMessage::build()
            .headers(headers)
            .message_id(&msg_id)
            .payload(payload.clone())
    };
    let subject = shared.names.task_subject();
    publish_bounded(&shared.js, &subject, PUBLISH_PATIENCE, make)
        .await
        .map_err(|error| {
            if retryable(error.kind()) {
                TaskError::timeout(format!(
                    "the NATS server did not store the {what} within {PUBLISH_PATIENCE:?}: {error}"
                ))
            } else {
                TaskError::invalid(format!("the NATS server refused the {what}: {error}"))
            }
        })
}
