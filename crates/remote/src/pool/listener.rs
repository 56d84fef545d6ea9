//! The pool's listeners. Results: reads the pool's durable consumer on the result stream and
//! hands each answer to its task; the consumer is durable and its stream is on disk, so answers
//! published while the pool was disconnected are read after it reconnects. Direct answers:
//! the answers workers send the pool on plain NATS, each confirmed with an empty reply (what
//! the pool does not confirm, the worker stores in the result stream instead). Started
//! notices: marks the tasks workers say they have started, for `stats().running`.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::pull::MessagesErrorKind;
use async_nats::jetstream::consumer::{PullConsumer, pull};
use async_nats::jetstream::stream;
use async_nats::{Client, Subscriber};
use futurepool_worker::codec;
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use super::shared::Waiting;
use crate::nats::wire::Answer;

/// The pool's durable consumer of its results: made at build, and made again whenever it is
/// found missing (deleted by an operator, or by the server after a long disconnect).
pub(crate) struct ResultListener {
    stream: stream::Stream,
    config: pull::Config,
    name: String,
}

/// How long one look at the result consumer may take before it is asked again (100 ms later):
/// while a cluster elects the consumer's new leader nothing answers, so this is how soon after
/// the election the listener reads again. An answer takes milliseconds on a healthy server.
const CHECK_LIMIT: Duration = Duration::from_millis(500);

/// How the reading of one message stream ended.
enum Ended {
    Stopped,
    /// The consumer may be gone (deleted, no responders, no heartbeats, a failed pull after a
    /// reconnect): check it and read anew.
    Check,
}

impl ResultListener {
    pub(crate) fn new(stream: stream::Stream, config: pull::Config) -> Self {
        let name = config.durable_name.clone().unwrap_or_default();
        Self {
            stream,
            config,
            name,
        }
    }

    /// The consumer, made (again) when missing.
    pub(crate) async fn ensure_consumer(&self) -> Result<PullConsumer, String> {
        self.stream
            .get_or_create_consumer(&self.name, self.config.clone())
            .await
            .map_err(|e| e.to_string())
    }

    /// [`ensure_consumer`](Self::ensure_consumer), given up after [`CHECK_LIMIT`]: while a
    /// cluster elects the consumer's new leader, a request may go unanswered, and waiting out
    /// the client's 5 s request timeout would leave the answers unread that much longer after
    /// the election.
    async fn check_consumer(&self) -> Result<PullConsumer, String> {
        tokio::time::timeout(CHECK_LIMIT, self.ensure_consumer())
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {CHECK_LIMIT:?}")))
    }

    /// Reads answers until `stop` fires, then removes the consumer (best effort).
    pub(crate) async fn listen(
        self,
        mut consumer: PullConsumer,
        waiting: Arc<Waiting>,
        stop: CancellationToken,
    ) {
        loop {
            if let Ended::Stopped = read(&consumer, &waiting, &stop).await {
                break;
            }
            // Check the consumer, make it again if missing, and read anew.
            loop {
                match self.check_consumer().await {
                    Ok(found) => {
                        consumer = found;
                        break;
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "cannot reach the result consumer yet; retrying");
                        tokio::select! {
                            () = stop.cancelled() => return self.remove().await,
                            () = tokio::time::sleep(Duration::from_millis(100)) => {}
                        }
                    }
                }
            }
        }
        self.remove().await;
    }

    async fn remove(&self) {
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            self.stream.delete_consumer(&self.name),
        )
        .await;
    }
}

/// Reads one message stream of `consumer`, handing each answer to its task.
async fn read(consumer: &PullConsumer, waiting: &Waiting, stop: &CancellationToken) -> Ended {
    let messages = tokio::select! {
        () = stop.cancelled() => return Ended::Stopped,
        messages = consumer
            .stream()
            .max_messages_per_batch(1000)
            .heartbeat(Duration::from_secs(1))
            .expires(Duration::from_secs(5))
            .messages() => messages,
    };
    let mut messages = match messages {
        Ok(messages) => messages,
        Err(e) => {
            tracing::debug!(error = %e, "cannot read results yet");
            return Ended::Check;
        }
    };
    loop {
        let next = tokio::select! {
            () = stop.cancelled() => return Ended::Stopped,
            next = messages.next() => next,
        };
        match next {
            Some(Ok(message)) => {
                hand_over(waiting, &message.payload, "a result message");
                if let Err(e) = message.ack().await {
                    tracing::debug!(error = %e, "could not ack a result");
                }
            }
            // Two heartbeat periods of silence: the consumer may be gone, or its leader
            // (a cluster's server that died, taking the open pull request with it). Checking
            // costs one request; waiting for a second miss cost two seconds more of a stall.
            Some(Err(e)) if e.kind() == MessagesErrorKind::MissingHeartbeat => {
                tracing::debug!("a missed heartbeat on the result consumer; checking it");
                return Ended::Check;
            }
            Some(Err(e)) => {
                tracing::debug!(error = %e, "result stream error; checking the consumer");
                return Ended::Check;
            }
            None => return Ended::Check,
        }
    }
}

/// What the reply subject of a direct answer must start with to be confirmed: NATS clients'
/// inboxes (`_INBOX.…` by default, and prefixes such as `_INBOX_worker`).
const INBOX_PREFIX: &str = "_INBOX";

/// Hands each answer sent on the pool's answer subject to its task and confirms it to its
/// worker with an empty reply on its inbox, until `stop` fires. An answer that does not decode
/// is confirmed too (the result stream would get the same bytes) and dropped with a log line.
pub(crate) async fn listen_answers(
    mut answers: Subscriber,
    client: Client,
    waiting: Arc<Waiting>,
    stop: CancellationToken,
) {
    while let Some(message) = next_until(&mut answers, &stop).await {
        hand_over(&waiting, &message.payload, "a direct answer");
        let Some(reply) = message.reply else { continue };
        // The reply subject is the sender's word: an empty message on a subject of the
        // server's API (`$JS.API.STREAM.DELETE.…`) is a request that acts, made with the
        // pool's rights. Only an inbox is answered; a worker whose inbox prefix does not start
        // with `_INBOX` gets no confirmation and stores its answers in the result stream.
        if !reply.as_str().starts_with(INBOX_PREFIX) {
            tracing::warn!(reply = %reply, "a direct answer asked for its confirmation outside any inbox: not confirmed");
            continue;
        }
        if let Err(e) = client.publish(reply, bytes::Bytes::new()).await {
            tracing::debug!(error = %e, "could not confirm a direct answer");
        }
    }
    // Unsubscribed first: a worker whose answer finds no pool listening stores it instead.
    let _ = answers.unsubscribe().await;
}

/// Marks each task a worker says it started (the payload is the task id, in decimal) until
/// `stop` fires.
pub(crate) async fn listen_started(
    mut notices: Subscriber,
    waiting: Arc<Waiting>,
    stop: CancellationToken,
) {
    while let Some(notice) = next_until(&mut notices, &stop).await {
        match std::str::from_utf8(&notice.payload).map(str::parse::<u64>) {
            Ok(Ok(id)) => waiting.started(id),
            _ => tracing::debug!("dropped a started notice that is not a task id"),
        }
    }
    let _ = notices.unsubscribe().await;
}

/// Hands the answer encoded in `payload` (`what` names where it came from) to its task; one
/// that does not decode is dropped with a log line.
fn hand_over(waiting: &Waiting, payload: &[u8], what: &str) {
    match codec::decode::<Answer>(payload) {
        Ok(answer) => waiting.deliver(answer.id, answer.result),
        Err(e) => tracing::warn!(error = %e, "dropped {what} that does not decode"),
    }
}

/// The next message of `subscriber`; `None` once `stop` fires or the subscription ends.
async fn next_until(
    subscriber: &mut Subscriber,
    stop: &CancellationToken,
) -> Option<async_nats::Message> {
    tokio::select! {
        () = stop.cancelled() => None,
        message = subscriber.next() => message,
    }
}
