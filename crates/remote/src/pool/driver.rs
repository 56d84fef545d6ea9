//! What one submitted task does in the pool: publish its message until the server stores it,
//! then wait for its answer, its cancellation or `shutdown_now`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use futurepool_core::{Promise, TaskError};
use futurepool_worker::RemoteFn;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use super::shared::{Admitted, Shared};
use crate::nats::names::TASK_ID;
use crate::nats::publish::{publish as publish_bounded, retryable};
use crate::nats::wire::{AnswerKind, task_error};

/// How long a task's publish is retried (while the server restarts, say) before the task
/// fails: well inside the server's duplicate window, so a retry is never stored twice.
const PUBLISH_PATIENCE: Duration = Duration::from_secs(60);

/// How the wait for a task ended.
enum End {
    Answer(AnswerKind),
    /// The server did not store the task's message.
    Unpublished(TaskError),
    /// Cancelled by its `Task` or by `shutdown_now`; the stream sequence, if stored.
    Cancelled(Option<u64>),
}

/// Drives task `id` (message `payload`) to its end and resolves `promise`.
pub(crate) async fn drive<A, R>(
    shared: Arc<Shared>,
    admitted: Admitted,
    f: RemoteFn<A, R>,
    id: u64,
    payload: Vec<u8>,
    rx: oneshot::Receiver<AnswerKind>,
    promise: Promise<R>,
) where
    R: DeserializeOwned + Send + 'static,
{
    let end = tokio::select! {
        biased;
        () = promise.cancelled() => End::Cancelled(None),
        () = shared.abort.cancelled() => End::Cancelled(None),
        published = publish(&shared, id, payload) => {
            shared.task_published();
            match published {
                Err(error) => End::Unpublished(error),
                Ok(seq) => tokio::select! {
                biased;
                answer = rx => match answer {
                    Ok(answer) => End::Answer(answer),
                    Err(_) => End::Cancelled(Some(seq)),
                },
                () = promise.cancelled() => End::Cancelled(Some(seq)),
                () = shared.abort.cancelled() => End::Cancelled(Some(seq)),
                },
            }
        }
    };
    let counters = &shared.counters;
    match end {
        End::Answer(answer) => {
            let result = match answer {
                AnswerKind::Ran(outcome) => f.result(outcome).map_err(task_error),
                AnswerKind::Crashed(message) => Err(TaskError::crashed(message)),
                AnswerKind::TimedOut(message) => Err(TaskError::timeout(message)),
            };
            // Counted before the task's waiter wakes: stats read after `task.await` include it.
            let outcome = if result.is_ok() {
                &counters.completed
            } else {
                &counters.failed
            };
            let counted = || {
                outcome.fetch_add(1, Ordering::Relaxed);
            };
            if !promise.resolve_then(result, counted) {
                counters.cancelled.fetch_add(1, Ordering::Relaxed);
            }
        }
        End::Unpublished(error) => {
            shared.waiting.remove(id);
            let counted = || {
                counters.failed.fetch_add(1, Ordering::Relaxed);
            };
            if !promise.resolve_then(Err(error), counted) {
                counters.cancelled.fetch_add(1, Ordering::Relaxed);
            }
        }
        End::Cancelled(seq) => {
            shared.waiting.remove(id);
            if seq.is_none() {
                shared.task_published();
            }
            promise.fail(TaskError::cancelled());
            if let Some(seq) = seq {
                // Workers skip it: the message leaves the stream (before the task counts as
                // ended, so `shutdown` returns after it). A worker already running it
                // publishes a result nobody waits for (counted as a duplicate).
                if let Err(e) = shared.task_stream.delete_message(seq).await {
                    tracing::debug!(seq, error = %e, "could not delete a cancelled task's message");
                }
            }
            counters.cancelled.fetch_add(1, Ordering::Relaxed);
        }
    }
    // The task has ended: `shutdown` may return.
    drop(admitted);
}

/// Publishes the task's message until the server stores it; returns its stream sequence, or
/// the task's error when the server refused it or stayed away past [`PUBLISH_PATIENCE`]. A
/// retry carries the same message id, so the server stores the task once.
async fn publish(shared: &Shared, id: u64, payload: Vec<u8>) -> Result<u64, TaskError> {
    let msg_id = format!("{}-{id}", shared.pool_id);
    let id_text = id.to_string();
    let payload = Bytes::from(payload);
    let make = || {
        let mut headers = shared.headers.clone();
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
                    "the NATS server did not store the task within {PUBLISH_PATIENCE:?}: {error}"
                ))
            } else {
                TaskError::invalid(format!("the NATS server refused the task: {error}"))
            }
        })
}
