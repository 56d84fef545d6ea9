//! Publishing to a stream with a bounded patience: only errors that can end by themselves (a
//! timeout, a server restarting) are retried, and never past the patience.

use std::time::Duration;

use async_nats::jetstream::Context;
use async_nats::jetstream::context::{PublishError, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use tokio::time::Instant;

/// The longest pause between two tries. Short: while a cluster elects a stream's new leader
/// the server answers "no responders" at once, and a message retried within half a second of
/// the election is stored within half a second of it (a 2 s pause added up to 2 s to the stall
/// a `kill -9` of the leader causes).
const MAX_PAUSE: Duration = Duration::from_millis(500);

/// Whether a publish that failed with `kind` may succeed if sent again later: the ack timed
/// out, the connection broke, or nothing answered (no responders while the server or its
/// JetStream restarts). A message too large, or anything the server refused, never will.
pub(crate) fn retryable(kind: PublishErrorKind) -> bool {
    matches!(
        kind,
        PublishErrorKind::TimedOut
            | PublishErrorKind::BrokenPipe
            | PublishErrorKind::StreamNotFound
            | PublishErrorKind::MaxAckPending
    )
}

/// Publishes the message `make` builds to `subject` until the server stores it, retrying what
/// [`retryable`] allows for at most `patience` (with a growing pause). Returns the stream
/// sequence, or the last error.
pub(crate) async fn publish(
    js: &Context,
    subject: &str,
    patience: Duration,
    make: impl Fn() -> PublishMessage,
) -> Result<u64, PublishError> {
    let deadline = Instant::now() + patience;
    let mut delay = Duration::from_millis(50);
    loop {
        let error = match js.send_publish(subject.to_owned(), make()).await {
            Ok(ack) => match ack.await {
                Ok(ack) => return Ok(ack.sequence),
                Err(e) => e,
            },
            Err(e) => e,
        };
        if !retryable(error.kind()) || Instant::now() + delay >= deadline {
            return Err(error);
        }
        tracing::debug!(subject, %error, "publishing failed; retrying");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_PAUSE);
    }
}
