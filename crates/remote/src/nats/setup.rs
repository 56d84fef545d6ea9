//! Making the workers' consumer when several pools are built at the same moment: one of them
//! makes it, the others wait for it.
//!
//! nats-server 2.9.10 once left a consumer silent (it counted deliveries but sent none) after
//! two clients created it at about the same moment (NOTES, "How the remote pool works"), so
//! a missing consumer is created by one builder only. The builders race for a claim: a
//! message on the result stream under a fixed message id, stored once within the stream's
//! duplicate window (the server says `duplicate` to every later one). The builder whose claim
//! was stored creates the consumer; the others wait until it exists. A claimant that dies
//! before creating it costs the others [`CLAIM_PATIENCE`], after which they create it
//! themselves.

use std::time::Duration;

use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::consumer::{self, pull};
use async_nats::jetstream::context::{ConsumerInfoError, ConsumerInfoErrorKind};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{Context, stream};
use futurepool_core::BuildError;
use tokio::time::Instant;

use crate::nats::names::Names;
use crate::nats::streams::worker_consumer;

/// How long a builder that lost the claim waits for the winner's consumer.
const CLAIM_PATIENCE: Duration = Duration::from_secs(10);

/// The token of the claim's subject among the result subjects: no pool id (16 hex digits)
/// is ever this.
const CLAIM_TOKEN: &str = "setup-workers-consumer";

/// Makes the workers' consumer with `ack_wait` when missing (one builder of those racing
/// does); lowers an existing one's to `ack_wait` when that is shorter (see [`settle`]).
pub(crate) async fn workers_consumer(
    js: &Context,
    task_stream: &stream::Stream,
    result_stream: &stream::Stream,
    names: &Names,
    ack_wait: Duration,
) -> Result<(), BuildError> {
    let fail = |e: String| BuildError::new(format!("cannot set up the workers' consumer: {e}"));
    let config = worker_consumer(names, ack_wait);
    let create = || async {
        task_stream
            .create_consumer(config.clone())
            .await
            .map(drop)
            .map_err(|e| fail(e.to_string()))
    };
    match task_stream.consumer_info(names.worker_consumer()).await {
        // It exists: never a second creation.
        Ok(info) => return settle(task_stream, names, info.config.ack_wait, ack_wait).await,
        Err(e) if missing(&e) => {}
        // The server cannot say (no permission to look, say): create it, as before claims.
        Err(e) => {
            tracing::debug!(error = %e, "cannot look at the workers' consumer");
            return create().await;
        }
    }
    let subject = names.result_subject(CLAIM_TOKEN);
    let msg_id = format!("{}-claim", names.worker_consumer());
    let claim = js
        .send_publish(
            subject.clone(),
            PublishMessage::build()
                .message_id(&msg_id)
                .payload(bytes::Bytes::new()),
        )
        .await
        .map_err(|e| fail(e.to_string()))?
        .await;
    let won = match claim {
        Ok(ack) if !ack.duplicate => Some(ack.sequence),
        Ok(_) => None,
        // The claim could not be stored (the stream was just made or checked, so this is
        // rare): create it, as before claims.
        Err(e) => {
            tracing::debug!(error = %e, "cannot claim the workers' consumer's creation");
            Some(0)
        }
    };
    match won {
        Some(seq) => {
            let created = create().await;
            if seq > 0 {
                // The id is remembered for the duplicate window whether or not the message
                // stays: it only holds a place in the results stream.
                let _ = result_stream.delete_message(seq).await;
            }
            created
        }
        None => {
            let deadline = Instant::now() + CLAIM_PATIENCE;
            let mut delay = Duration::from_millis(20);
            while Instant::now() < deadline {
                match task_stream.consumer_info(names.worker_consumer()).await {
                    Ok(info) => {
                        return settle(task_stream, names, info.config.ack_wait, ack_wait).await;
                    }
                    Err(e) if missing(&e) => {}
                    Err(e) => {
                        tracing::debug!(error = %e, "cannot look at the workers' consumer");
                        return create().await;
                    }
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_millis(500));
            }
            tracing::warn!(
                "the builder that claimed the workers' consumer did not make it within {CLAIM_PATIENCE:?}; making it"
            );
            create().await
        }
    }
}

/// An existing consumer's `ack_wait` (`have`) only goes down, to the shortest any pool of the
/// namespace asked for, so that every task is delivered again within its own pool's
/// `ack_wait` once its worker died. Lowering it under a running task would redeliver that
/// task before its worker's next progress ack, so it is announced first (in the consumer's
/// description, which workers read every [`SETTINGS_REFRESH`]; a worker that sees a lower
/// value progress-acks its running tasks at once and from then on at the new period), and
/// set only [`LOWER_NOTICE`] later. A longer or equal `ack_wait` leaves the consumer alone
/// (no update while workers' pull requests wait on it).
async fn settle(
    task_stream: &stream::Stream,
    names: &Names,
    have: Duration,
    ack_wait: Duration,
) -> Result<(), BuildError> {
    if have <= ack_wait {
        return Ok(());
    }
    let fail = |e: String| BuildError::new(format!("cannot set up the workers' consumer: {e}"));
    let update = |config: pull::Config| async {
        task_stream
            .create_consumer(config)
            .await
            .map(drop)
            .map_err(|e| fail(e.to_string()))
    };
    // The lowest announcement stays: a pool lowering it further may be waiting.
    let lower = |description: Option<String>| {
        let mut lowered = worker_consumer(names, ack_wait);
        lowered.description = description;
        update(lowered)
    };
    let current = || async {
        task_stream
            .consumer_info(names.worker_consumer())
            .await
            .map(|info| info.config.clone())
            .map_err(|e| fail(e.to_string()))
    };
    // Set once an announcement of at most `ack_wait` has stood for `LOWER_NOTICE` (another
    // pool lowering it at the same moment may have replaced ours with a higher one: then ours
    // is made again and waited for again).
    let mut announced_since: Option<Instant> = None;
    for _ in 0..LOWER_ROUNDS {
        let now = current().await?;
        if now.ack_wait <= ack_wait {
            // Another pool lowered it as far or further meanwhile.
            return Ok(());
        }
        match announced_ack_wait(&now) {
            Some(announced) if announced <= ack_wait => {
                if announced_since.is_some_and(|since| since.elapsed() >= LOWER_NOTICE) {
                    return lower(now.description).await;
                }
                announced_since.get_or_insert_with(Instant::now);
            }
            _ => {
                let mut announce = worker_consumer(names, now.ack_wait);
                announce.description = Some(announcement(ack_wait));
                update(announce).await?;
                announced_since = Some(Instant::now());
            }
        }
        tokio::time::sleep(LOWER_NOTICE).await;
    }
    tracing::warn!("the announcement of a shorter ack_wait kept changing; setting it now");
    lower(Some(announcement(ack_wait))).await
}

/// Rounds of announcing before a pool sets its shorter `ack_wait` regardless.
const LOWER_ROUNDS: usize = 4;

/// How often a worker reads the workers' consumer's settings.
pub(crate) const SETTINGS_REFRESH: Duration = Duration::from_secs(2);

/// How long a pool waits between announcing a shorter `ack_wait` and setting it: every worker
/// has read the announcement twice by then.
const LOWER_NOTICE: Duration = Duration::from_secs(5);

/// What the consumer's description says while a pool lowers its `ack_wait`.
fn announcement(ack_wait: Duration) -> String {
    format!(
        "futurepool: ack_wait going down to {} ms",
        ack_wait.as_millis()
    )
}

/// The `ack_wait` a pool announced in the consumer's description, if any.
pub(crate) fn announced_ack_wait(config: &consumer::Config) -> Option<Duration> {
    let text = config.description.as_deref()?;
    let ms = text
        .strip_prefix("futurepool: ack_wait going down to ")?
        .strip_suffix(" ms")?
        .parse()
        .ok()?;
    Some(Duration::from_millis(ms))
}

/// Whether the server said the consumer does not exist.
fn missing(error: &ConsumerInfoError) -> bool {
    match error.kind() {
        ConsumerInfoErrorKind::NotFound => true,
        ConsumerInfoErrorKind::JetStream(e) => e.error_code() == ErrorCode::CONSUMER_NOT_FOUND,
        _ => false,
    }
}
