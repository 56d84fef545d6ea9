//! Publishing to a stream with a bounded patience: only errors that can end by themselves (a
//! timeout, a server restarting) are retried, and never past the patience.

use std::future::Future;
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
    retry_within(subject, patience, || async {
        let ack = js.send_publish(subject.to_owned(), make()).await?;
        Ok(ack.await?.sequence)
    })
    .await
}

/// Runs `attempt` (a publish to `subject`) until it succeeds, fails with an error [`retryable`] does not allow, or
/// `patience` is spent, with a growing pause between tries. A try still waiting when the
/// patience runs out ends as a timeout: the client waits up to 5 s for a stream's ack, which
/// let one try outlast a shorter patience (a worker's `ack_wait`, holding its answer's place).
async fn retry_within<F, Fut>(
    subject: &str,
    patience: Duration,
    mut attempt: F,
) -> Result<u64, PublishError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64, PublishError>>,
{
    let deadline = Instant::now() + patience;
    let mut delay = Duration::from_millis(50);
    loop {
        let error = match tokio::time::timeout_at(deadline, attempt()).await {
            Ok(Ok(sequence)) => return Ok(sequence),
            Ok(Err(e)) => e,
            Err(_) => PublishError::new(PublishErrorKind::TimedOut),
        };
        if !retryable(error.kind()) || Instant::now() + delay >= deadline {
            return Err(error);
        }
        tracing::debug!(subject, %error, "publishing failed; retrying");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_PAUSE);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_try_waiting_for_its_ack_ends_with_the_patience() {
        let start = Instant::now();
        let patience = Duration::from_millis(300);
        // An ack that never comes (the client would wait 5 s for it).
        let published = tokio::time::timeout(
            Duration::from_secs(5),
            retry_within("s", patience, std::future::pending),
        )
        .await
        .expect("a try outlasted the patience");
        assert_eq!(published.unwrap_err().kind(), PublishErrorKind::TimedOut);
        assert_eq!(start.elapsed(), patience);
    }

    #[tokio::test(start_paused = true)]
    async fn retryable_errors_are_tried_again_within_the_patience_and_others_are_not() {
        let tries = AtomicU32::new(0);
        let retried = retry_within("s", Duration::from_secs(1), || {
            let n = tries.fetch_add(1, Ordering::Relaxed);
            async move {
                match n {
                    0 | 1 => Err(PublishError::new(PublishErrorKind::BrokenPipe)),
                    _ => Ok(7),
                }
            }
        });
        let published = tokio::time::timeout(Duration::from_secs(5), retried)
            .await
            .expect("the retries ended");
        assert_eq!((published.unwrap(), tries.load(Ordering::Relaxed)), (7, 3));

        let tries = AtomicU32::new(0);
        let refused = retry_within("s", Duration::from_secs(1), || {
            tries.fetch_add(1, Ordering::Relaxed);
            async { Err(PublishError::new(PublishErrorKind::WrongLastSequence)) }
        })
        .await;
        assert_eq!(
            refused.unwrap_err().kind(),
            PublishErrorKind::WrongLastSequence
        );
        assert_eq!(tries.load(Ordering::Relaxed), 1);
    }
}
