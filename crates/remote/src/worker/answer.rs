//! A task's answer, from the worker to its pool: handed to the pool directly when it confirms
//! it, else published until the result stream stores it; only then is the task message acked.
//!
//! The direct way is a request on plain NATS to the pool's answer subject, which the pool
//! confirms with an empty reply: nothing is stored, and the server routes four small messages
//! instead of storing, delivering, acking and deleting the answer in a stream (per tiny task
//! that was the largest share of the server's work). An answer the pool does not confirm (no
//! pool listening: it is disconnected or gone; or no reply within [`DIRECT_LIMIT`]) goes to
//! the result stream as before, where the pool reads it once it is back. A pool may so receive
//! an answer twice (confirmed late, and stored); the second is dropped as a duplicate. After an
//! unconfirmed request the worker sends no direct answer for [`DIRECT_PAUSE`], so that a
//! server that refuses the subject (permissions from before direct answers) costs one
//! [`DIRECT_LIMIT`] per pause, not one per task.
//!
//! The ack is a plain one, not confirmed by the server. An ack that is lost (the consumer's
//! leader died, or the connection broke) leaves the task to run again after `ack_wait`; its
//! second answer is dropped by the pool as a duplicate (counted in `duplicates()`), so no task
//! resolves twice. Confirmed acks ("double acks") held the worker's slot while the server
//! confirmed, up to five tries of 5 s each when a consumer had no leader, and cost a reply
//! per task: plain acks ran 1.14× the tiny tasks a second in alternated runs.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_nats::jetstream::Message;
use async_nats::jetstream::message::PublishMessage;
use async_nats::{Request, RequestErrorKind};
use bytes::Bytes;

use super::meta::Meta;
use super::serve::Serving;
use crate::nats::publish::publish;

/// How long the pool's confirmation of a direct answer is awaited before the answer goes to
/// the result stream.
const DIRECT_LIMIT: Duration = Duration::from_secs(2);

/// How long a worker sends no direct answers after one went unconfirmed past [`DIRECT_LIMIT`].
const DIRECT_PAUSE: Duration = Duration::from_secs(30);

/// Whether direct answers are being tried: paused for [`DIRECT_PAUSE`] after one timed out.
#[derive(Debug, Default)]
pub(crate) struct DirectAnswers {
    paused_until: Mutex<Option<Instant>>,
}

impl DirectAnswers {
    fn paused(&self) -> bool {
        let until = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        until.is_some_and(|until| Instant::now() < until)
    }

    fn pause(&self) {
        let mut until = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        *until = Some(Instant::now() + DIRECT_PAUSE);
    }
}

/// Hands `answer` to its pool directly, or else publishes it to the task's result subject
/// until the result stream stores it (for at most `ack_wait`: past it the server hands the
/// task to another worker anyway), then acks `message`. A task whose answer reached neither is
/// not acked: it is delivered again after `ack_wait`.
pub(crate) async fn send(serving: &Serving, message: &Message, meta: &Meta, answer: Bytes) {
    if !direct(serving, &meta.answer_to, answer.clone()).await {
        let make = || PublishMessage::build().payload(answer.clone());
        let reply_to = meta.reply_to.as_str();
        if let Err(e) = publish(&serving.js, reply_to, meta.ack_wait, make).await {
            // Not acked: delivered again after ack_wait, and terminated after a few such rounds.
            tracing::warn!(error = %e, subject = reply_to, "could not publish an answer");
            return;
        }
    }
    // Only now is the task done: were this worker to die before the ack, the task would run
    // again and its second answer would be dropped by the pool.
    if let Err(e) = message.ack().await {
        tracing::debug!(error = %e, "could not ack an answered task");
    }
}

/// Sends `answer` to the pool's answer subject `answer_to` as a request: whether the pool
/// confirmed it.
async fn direct(serving: &Serving, answer_to: &str, answer: Bytes) -> bool {
    if serving.direct.paused() {
        return false;
    }
    let request = Request::new().payload(answer).timeout(Some(DIRECT_LIMIT));
    match serving
        .client
        .send_request(answer_to.to_owned(), request)
        .await
    {
        Ok(_) => true,
        // No pool listens (disconnected, or gone): the stream keeps the answer for it.
        Err(e) if e.kind() == RequestErrorKind::NoResponders => false,
        Err(e) => {
            tracing::debug!(error = %e, "a direct answer was not confirmed; using the result stream for a while");
            serving.direct.pause();
            false
        }
    }
}
