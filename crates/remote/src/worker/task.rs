//! One task message, from its headers to its ack: validated, run with progress acks
//! and a deadline, answered within bounds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::Client;
use async_nats::jetstream::{AckKind, Message};
use bytes::Bytes;
use futurepool_worker::{Call, Outcome, codec};
use tokio::sync::OwnedSemaphorePermit;

use super::answer;
use super::meta::{Meta, meta};
use super::serve::Serving;
use crate::nats::wire::{Answer, AnswerKind};

/// How long a task runs before its worker tells the pool it started (for `stats().running`):
/// a task that ends sooner sends no notice, which keeps tiny tasks at one message each way.
const NOTICE_AFTER: Duration = Duration::from_millis(1);

/// Deliveries past `max_attempts` after which a task whose answer could never be published
/// is terminated instead of tried again.
const ANSWER_ATTEMPTS: i64 = 3;

/// Runs one task message to its end; `slot` is given back once the call has returned and the
/// answer has a place among those on their way (or when it returns, if sooner).
pub(crate) async fn handle(serving: Arc<Serving>, message: Message, slot: OwnedSemaphorePermit) {
    let meta = match meta(&serving.names, &message) {
        Ok(meta) => meta,
        Err(why) => return terminate(&message, &why).await,
    };
    if meta.delivered > meta.max_attempts + ANSWER_ATTEMPTS {
        return terminate(
            &message,
            "its answer could not be published, delivery after delivery",
        )
        .await;
    }
    let (id, result) = match codec::decode::<Call>(&message.payload) {
        Err(e) => match meta.id {
            Some(id) => (
                id,
                AnswerKind::Ran(Outcome::Invalid(format!(
                    "the task's call does not decode on the worker: {e}"
                ))),
            ),
            None => return terminate(&message, &format!("a call that does not decode: {e}")).await,
        },
        Ok(call) => {
            let id = meta.id.unwrap_or(call.id);
            if meta.delivered > meta.max_attempts {
                let result = AnswerKind::Crashed(format!(
                    "`{}` was delivered {} times without a result: the worker running it died each time (max_attempts = {})",
                    call.function.name,
                    meta.delivered - 1,
                    meta.max_attempts
                ));
                (id, result)
            } else {
                match run_with_acks(&serving, &message, call, id, &meta).await {
                    Some(result) => (id, result),
                    None => {
                        // Crashed with attempts left: deliver it again at once.
                        let _ = message.ack_with(AckKind::Nak(None)).await;
                        return;
                    }
                }
            }
        }
    };
    let Some(answer) = encode_answer(&serving, id, result) else {
        return terminate(&message, "its answer does not encode").await;
    };
    // The answer's place first, then the slot back: the next task runs while this answer is
    // on its way, and the unacked messages stay at most twice the slots.
    let Ok(_answering) = Arc::clone(&serving.answering).acquire_owned().await else {
        return;
    };
    drop(slot);
    answer::send(&serving, &message, &meta, answer).await;
}

/// Removes a message that cannot be answered from the stream for good, with one log line.
async fn terminate(message: &Message, why: &str) {
    tracing::warn!(
        reason = why,
        "a task message that cannot be answered: terminated"
    );
    let _ = message.ack_with(AckKind::Term).await;
}

/// The encoded answer; a result too large for the server becomes the task's `is_invalid()`
/// error ("result too large") instead.
fn encode_answer(serving: &Serving, id: u64, result: AnswerKind) -> Option<Bytes> {
    let whole = Answer { id, result };
    let answer = codec::encode(&whole)
        .inspect_err(|e| tracing::error!(error = %e, "an answer failed to encode"))
        .ok()?;
    // Room for the headers the client adds (none today), to be safe.
    let limit = serving.max_payload.saturating_sub(256);
    if answer.len() <= limit {
        return Some(answer.into());
    }
    let result = match whole.result {
        AnswerKind::Batch {
            outcome: Outcome::Batch(outcomes),
            micros,
        } => AnswerKind::Batch {
            outcome: Outcome::Batch(fitting(outcomes, limit, serving.max_payload)),
            micros,
        },
        _ => AnswerKind::Ran(Outcome::Invalid(format!(
            "result too large: {} bytes, over the NATS server's max_payload of {} bytes",
            answer.len(),
            serving.max_payload
        ))),
    };
    codec::encode(&Answer { id, result }).ok().map(Bytes::from)
}

/// The first of a chunk's `outcomes` that fit in an answer of `limit` bytes together (at least
/// one: a result too large on its own is replaced by its `is_invalid()` error). The pool sends
/// the chunk's other items again.
fn fitting(outcomes: Vec<Outcome>, limit: usize, max_payload: usize) -> Vec<Outcome> {
    // Room for the answer around the outcomes (id, variant names, framing).
    let mut size: usize = 64;
    let mut fit = Vec::new();
    for outcome in outcomes {
        let mut len = codec::encode(&outcome).map_or(usize::MAX, |bytes| bytes.len());
        let outcome = if size.saturating_add(len) > limit && fit.is_empty() {
            let alone = Outcome::Invalid(format!(
                "result too large: {len} bytes, over the NATS server's max_payload of {max_payload} bytes"
            ));
            len = 256;
            alone
        } else {
            outcome
        };
        if size.saturating_add(len) > limit {
            break;
        }
        size += len;
        fit.push(outcome);
    }
    fit
}

/// Runs the call with progress acks, the started notice and the task's deadline; `None` when
/// an isolated run crashed and attempts are left.
async fn run_with_acks(
    serving: &Serving,
    message: &Message,
    call: Call,
    id: u64,
    meta: &Meta,
) -> Option<AnswerKind> {
    let name = call.function.name.clone();
    let run = run(serving, call, meta);
    tokio::pin!(run);
    // Three progress acks per ack_wait: the task's pool's, or the consumer's if shorter
    // (read again at each ack). A pool about to shorten it announces so first, and waits
    // until every worker has seen it: then the task is acked at once and on the new period.
    let period = || meta.ack_wait.min(serving.consumer_ack_wait()) / 3;
    let mut lowered = serving.consumer_ack_wait_ms.subscribe();
    let progress = tokio::time::sleep(period());
    tokio::pin!(progress);
    let notice = tokio::time::sleep(NOTICE_AFTER);
    tokio::pin!(notice);
    let deadline = async {
        match meta.timeout {
            Some(timeout) => tokio::time::sleep(timeout).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    // Taken when the notice goes: at most one per delivery.
    let mut started_to = meta.started_to.as_deref();
    loop {
        tokio::select! {
            ran = &mut run => return ran,
            () = &mut deadline => {
                // Dropping `run` cancels an isolated task (its child is killed); a task on a
                // blocking thread runs on unobserved, its slot given back.
                let timeout = meta.timeout.unwrap_or_default();
                return Some(AnswerKind::TimedOut(format!(
                    "`{name}` ran longer than its task_timeout of {timeout:?}"
                )));
            }
            () = &mut progress => {
                let _ = message.ack_with(AckKind::Progress).await;
                progress.as_mut().reset(tokio::time::Instant::now() + period());
            }
            Ok(()) = lowered.changed() => {
                let _ = message.ack_with(AckKind::Progress).await;
                progress.as_mut().reset(tokio::time::Instant::now() + period());
            }
            () = &mut notice, if started_to.is_some() => {
                if let Some(subject) = started_to.take() {
                    say_started(&serving.client, subject, id).await;
                }
            }
        }
    }
}

/// Runs the call; `None` when an isolated run crashed and attempts are left.
async fn run(serving: &Serving, call: Call, meta: &Meta) -> Option<AnswerKind> {
    match &serving.isolated {
        None => {
            let registry = serving.registry.clone();
            let name = call.function.name.clone();
            let batch = !call.batch.is_empty();
            let ran = tokio::task::spawn_blocking(move || {
                let start = Instant::now();
                let outcome = registry.execute(&call);
                (outcome, start.elapsed())
            })
            .await;
            Some(match ran {
                Ok((outcome, took)) => ran_answer(outcome, took, batch),
                Err(e) => {
                    AnswerKind::Ran(Outcome::Panicked(format!("`{name}` could not finish: {e}")))
                }
            })
        }
        Some(pool) => {
            let batch = !call.batch.is_empty();
            let start = Instant::now();
            // Cancelled (its child killed) when this future is dropped at the deadline.
            let mut task = CancelOnDrop(pool.submit_call(call));
            match (&mut task.0).await {
                Ok(outcome) => Some(ran_answer(outcome, start.elapsed(), batch)),
                Err(e) if e.is_timeout() => Some(AnswerKind::TimedOut(e.to_string())),
                Err(e) if meta.delivered >= meta.max_attempts => {
                    Some(AnswerKind::Crashed(format!(
                        "{e} (attempt {} of {}: given up)",
                        meta.delivered, meta.max_attempts
                    )))
                }
                Err(e) => {
                    tracing::warn!(error = %e, attempt = meta.delivered, "an isolated task failed; it will be tried again");
                    None
                }
            }
        }
    }
}

/// The answer of a call that ran in `took`: a chunk's (a batch call) says how long it took.
fn ran_answer(outcome: Outcome, took: Duration, batch: bool) -> AnswerKind {
    if batch {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        AnswerKind::Batch { outcome, micros }
    } else {
        AnswerKind::Ran(outcome)
    }
}

/// A process pool task cancelled when dropped unfinished (which kills its child).
struct CancelOnDrop(futurepool_core::Task<Outcome>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if !self.0.is_finished() {
            self.0.cancel();
        }
    }
}

/// Tells the pool, on plain NATS, that task `id` started. Best effort: a lost notice only leaves
/// the task counted as queued.
async fn say_started(client: &Client, subject: &str, id: u64) {
    let notice = Bytes::from(id.to_string());
    if let Err(e) = client.publish(subject.to_owned(), notice).await {
        tracing::debug!(error = %e, "could not say a task started");
    }
}
