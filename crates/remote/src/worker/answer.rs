//! A task's answer, from the worker to its pool: published until the result stream stores it,
//! and only then the task message acked, with the server's confirmation of the ack.
//!
//! Both exchanges go through the connection's one shared reply subscription (the client's
//! request multiplexer): the answer's publish as a JetStream publish, the ack as a request on
//! the message's `$JS.ACK` subject. The client's `double_ack` subscribed to a fresh inbox and
//! unsubscribed again for every task: two more protocol operations, and a subscription made
//! and removed on the server, per task.

use std::time::Duration;

use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{AckKind, Message};
use async_nats::{Client, Request, RequestErrorKind};
use bytes::Bytes;

use super::serve::Serving;
use crate::nats::publish::publish;

/// How many times the ack of an answered task is sent before giving up (the task then runs
/// again after `ack_wait`, and its second answer is dropped by the pool as a duplicate).
const ACK_TRIES: u32 = 5;

/// The pause between two tries of the ack.
const ACK_PAUSE: Duration = Duration::from_millis(200);

/// How long the server's confirmation of one ack is awaited.
const ACK_CONFIRM_LIMIT: Duration = Duration::from_secs(5);

/// Publishes `answer` to `reply_to` until the result stream stores it (for at most `ack_wait`:
/// past it the server hands the task to another worker anyway), then acks `message`. A task
/// whose answer could not be stored is not acked: it is delivered again after `ack_wait`.
pub(crate) async fn send(
    serving: &Serving,
    message: &Message,
    reply_to: &str,
    ack_wait: Duration,
    answer: Bytes,
) {
    let make = || PublishMessage::build().payload(answer.clone());
    if let Err(e) = publish(&serving.js, reply_to, ack_wait, make).await {
        // Not acked: delivered again after ack_wait, and terminated after a few such rounds.
        tracing::warn!(error = %e, subject = reply_to, "could not publish an answer");
        return;
    }
    // Only now is the task done: were this worker to die before the ack, the task would run
    // again and its second answer would be dropped by the pool.
    for _ in 0..ACK_TRIES {
        if ack(&serving.client, message).await {
            return;
        }
        tokio::time::sleep(ACK_PAUSE).await;
    }
}

/// Acks `message` and waits for the server to confirm it (what the client's `double_ack`
/// does, on the shared reply subscription): whether it is over, confirmed or beyond help (the
/// consumer is gone: nothing answers on its ack subject).
async fn ack(client: &Client, message: &Message) -> bool {
    let Some(subject) = message.reply.clone() else {
        return true;
    };
    let request = Request::new()
        .payload(Bytes::from(AckKind::Ack))
        .timeout(Some(ACK_CONFIRM_LIMIT));
    match client.send_request(subject, request).await {
        Ok(_) => true,
        Err(e) if e.kind() == RequestErrorKind::NoResponders => {
            tracing::debug!("no consumer to ack an answered task to");
            true
        }
        Err(e) => {
            tracing::debug!(error = %e, "the ack of an answered task was not confirmed");
            false
        }
    }
}
