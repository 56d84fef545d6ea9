//! The pool's listeners. Results: reads the pool's durable consumer on the result stream and
//! hands each answer to its task; the consumer is durable and its stream is on disk, so answers
//! published while the pool was disconnected are read after it reconnects. Started notices:
//! marks the tasks workers say they have started, for `stats().running`.

use std::sync::Arc;
use std::time::Duration;

use async_nats::Subscriber;
use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::stream;
use futurepool_worker::codec;
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::shared::Waiting;
use crate::wire::Answer;

/// Reads answers until `stop` fires, then removes the consumer (best effort).
pub(crate) async fn listen(
    consumer: PullConsumer,
    result_stream: stream::Stream,
    consumer_name: String,
    waiting: Arc<Waiting>,
    stop: CancellationToken,
) {
    loop {
        let messages = tokio::select! {
            () = stop.cancelled() => break,
            messages = consumer.stream().max_messages_per_batch(1000).heartbeat(Duration::from_secs(1)).expires(Duration::from_secs(5)).messages() => messages,
        };
        let mut messages = match messages {
            Ok(messages) => messages,
            Err(e) => {
                tracing::debug!(error = %e, "cannot read results yet; retrying");
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_millis(200)) => continue,
                }
            }
        };
        loop {
            let next = tokio::select! {
                () = stop.cancelled() => None,
                next = messages.next() => Some(next),
            };
            match next {
                None => {
                    let _ = tokio::time::timeout(
                        Duration::from_secs(2),
                        result_stream.delete_consumer(&consumer_name),
                    )
                    .await;
                    return;
                }
                Some(Some(Ok(message))) => {
                    match codec::decode::<Answer>(&message.payload) {
                        Ok(answer) => waiting.deliver(answer.id, answer.result),
                        Err(e) => {
                            tracing::warn!(error = %e, "dropped a result message that does not decode")
                        }
                    }
                    if let Err(e) = message.ack().await {
                        tracing::debug!(error = %e, "could not ack a result");
                    }
                }
                Some(Some(Err(e))) => {
                    // Missed heartbeats while the server restarts, and the like: the stream
                    // goes on, or ends and is made anew.
                    tracing::debug!(error = %e, "result stream error");
                }
                Some(None) => break,
            }
        }
    }
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        result_stream.delete_consumer(&consumer_name),
    )
    .await;
}

/// Marks each task a worker says it started (the payload is the task id, in decimal) until
/// `stop` fires.
pub(crate) async fn listen_started(
    mut notices: Subscriber,
    waiting: Arc<Waiting>,
    stop: CancellationToken,
) {
    loop {
        let notice = tokio::select! {
            () = stop.cancelled() => break,
            notice = notices.next() => notice,
        };
        let Some(notice) = notice else { break };
        match std::str::from_utf8(&notice.payload).map(str::parse::<u64>) {
            Ok(Ok(id)) => waiting.started(id),
            _ => tracing::debug!("dropped a started notice that is not a task id"),
        }
    }
    let _ = notices.unsubscribe().await;
}
