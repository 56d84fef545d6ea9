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

use crate::shared::Shared;
use crate::wire::{AnswerKind, task_error};

/// How the wait for a task ended.
enum End {
    Answer(AnswerKind),
    /// Cancelled by its `Task` or by `shutdown_now`; the stream sequence, if stored.
    Cancelled(Option<u64>),
}

/// Drives task `id` (message `payload`) to its end and resolves `promise`.
pub(crate) async fn drive<A, R>(
    shared: Arc<Shared>,
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
        seq = publish(&shared, id, payload) => {
            shared.task_published();
            tokio::select! {
                biased;
                answer = rx => match answer {
                    Ok(answer) => End::Answer(answer),
                    Err(_) => End::Cancelled(Some(seq)),
                },
                () = promise.cancelled() => End::Cancelled(Some(seq)),
                () = shared.abort.cancelled() => End::Cancelled(Some(seq)),
            }
        }
    };
    let counters = &shared.counters;
    match end {
        End::Answer(answer) => {
            let result = match answer {
                AnswerKind::Ran(outcome) => f.result(outcome).map_err(task_error),
                AnswerKind::Crashed(message) => Err(TaskError::crashed(message)),
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
    shared.task_ended();
}

/// Publishes the task's message until the server stores it; returns its stream sequence. A
/// retry carries the same message id, so the server stores the task once.
async fn publish(shared: &Shared, id: u64, payload: Vec<u8>) -> u64 {
    let msg_id = format!("{}-{id}", shared.pool_id);
    let subject = shared.names.task_subject();
    let payload = Bytes::from(payload);
    let mut delay = Duration::from_millis(50);
    loop {
        let message = PublishMessage::build()
            .headers(shared.headers.clone())
            .message_id(&msg_id)
            .payload(payload.clone());
        let error = match shared.js.send_publish(subject.clone(), message).await {
            Ok(ack) => match ack.await {
                Ok(ack) => return ack.sequence,
                Err(e) => e.to_string(),
            },
            Err(e) => e.to_string(),
        };
        tracing::debug!(id, %error, "publishing a task failed; retrying");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}
