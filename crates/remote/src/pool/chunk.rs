//! A map's chunk on its way: its messages published, their answers awaited, each item's result
//! put back in input order. A chunk message is an ordinary task message (a batch call), so a
//! worker that dies mid-chunk loses nothing: the server delivers it again after `ack_wait`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use bytes::Bytes;
use futurepool_core::TaskError;
use futurepool_stream::Chunk;
use futurepool_worker::{Call, Outcome, RemoteFn, codec};
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use super::driver::{Unpublished, publish};
use super::shared::Shared;
use crate::nats::wire::AnswerKind;

/// The encoded batch call of `f` on `args`, with id `id`.
pub(super) fn encode_batch<A, R>(
    f: RemoteFn<A, R>,
    id: u64,
    args: Vec<Vec<u8>>,
) -> Result<Vec<u8>, TaskError> {
    codec::encode(&f.batch(id, args))
        .map_err(|e| TaskError::invalid(format!("a chunk of `{}` failed to encode: {e}", f.name())))
}

/// One message of a chunk, ready to publish.
pub(super) struct Part {
    pub(super) id: u64,
    pub(super) payload: Result<Vec<u8>, TaskError>,
    pub(super) items: usize,
    /// Its place in `flush`'s count, released once the message is stored or given up.
    pub(super) unpublished: Unpublished,
}

/// Drives a chunk to its end: publishes its messages, waits for their answers, and puts
/// every item's result back in input order (`early` holds the items that failed before).
pub(super) async fn drive_chunk<A, R>(
    shared: Arc<Shared>,
    f: RemoteFn<A, R>,
    parts: Vec<Part>,
    early: Vec<Option<TaskError>>,
    headers: HeaderMap,
) -> Result<Chunk<R>, TaskError>
where
    R: DeserializeOwned + Send + 'static,
{
    let start = Instant::now();
    let answered = futures_util::future::join_all(
        parts
            .into_iter()
            .map(|part| drive_part(&shared, f, part, &headers)),
    )
    .await;
    let mut ran = 0;
    let mut worked = Duration::ZERO;
    let mut timed = true;
    let mut results = Vec::new();
    for (part, took) in answered {
        match took {
            Some(took) => {
                ran += part.len();
                worked = worked.saturating_add(took);
            }
            None => timed = false,
        }
        results.extend(part);
    }
    if !timed && ran == 0 {
        // No worker said how long it took (an older worker): the round trip, for all of them.
        ran = results.len();
        worked = start.elapsed();
    }
    Ok(Chunk::in_order(early, results, ran, worked))
}

/// Publishes one message of a chunk and waits for its answer: its items' results, and how
/// long the worker took when it said so. When the results do not all fit one answer, the
/// worker answers the first ones and the others are sent again in a message of their own.
async fn drive_part<A, R>(
    shared: &Arc<Shared>,
    f: RemoteFn<A, R>,
    part: Part,
    headers: &HeaderMap,
) -> (Vec<Result<R, TaskError>>, Option<Duration>)
where
    R: DeserializeOwned + Send + 'static,
{
    let Part {
        mut id,
        payload,
        mut items,
        unpublished,
    } = part;
    let mut results: Vec<Result<R, TaskError>> = Vec::with_capacity(items);
    let mut took = Some(Duration::ZERO);
    let mut unpublished = Some(unpublished);
    let mut payload = match payload {
        Ok(payload) => Bytes::from(payload),
        Err(err) => return (every(err, items), None),
    };
    loop {
        let answer = exchange(shared, headers, id, payload.clone(), unpublished.take()).await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(err) => {
                results.extend(every(err, items));
                return (results, None);
            }
        };
        let (outcome, micros) = match answer {
            AnswerKind::Batch { outcome, micros } => (outcome, Some(micros)),
            // A worker that does not time its chunks.
            AnswerKind::Ran(outcome) => (outcome, None),
            AnswerKind::Crashed(message) => {
                results.extend(every(TaskError::crashed(message), items));
                return (results, None);
            }
            AnswerKind::TimedOut(message) => {
                results.extend(every(TaskError::timeout(message), items));
                return (results, None);
            }
        };
        took = add_reported(took, micros);
        match outcome {
            // The first results, as many as fit one answer: the rest go again.
            Outcome::Batch(outcomes) if !outcomes.is_empty() && outcomes.len() < items => {
                let answered = outcomes.len();
                for outcome in outcomes {
                    results.push(f.result(outcome).map_err(TaskError::from));
                }
                let rest = match rest_of(&payload, answered) {
                    Ok(rest) => rest,
                    Err(err) => {
                        results.extend(every(err, items - answered));
                        return (results, None);
                    }
                };
                items -= answered;
                id = shared.next_id.fetch_add(1, Ordering::Relaxed);
                payload = match encode_batch(f, id, rest) {
                    Ok(payload) => Bytes::from(payload),
                    Err(err) => {
                        results.extend(every(err, items));
                        return (results, None);
                    }
                };
            }
            outcome => {
                let decoded = f.results(outcome, items).into_iter();
                results.extend(decoded.map(|r| r.map_err(TaskError::from)));
                return (results, took);
            }
        }
    }
}

/// The time a chunk took so far plus what its worker reports for one more answer; `None`
/// once an answer came without a time. The worker's word, so saturating: a forged time cannot
/// overflow (a huge one only makes the next chunks small).
fn add_reported(took: Option<Duration>, micros: Option<u64>) -> Option<Duration> {
    took.zip(micros)
        .map(|(t, m)| t.saturating_add(Duration::from_micros(m)))
}

/// `items` copies of `err`, as results.
fn every<R>(err: TaskError, items: usize) -> Vec<Result<R, TaskError>> {
    (0..items).map(|_| Err(err.clone())).collect()
}

/// The arguments of the batch call in `payload` after its first `answered`.
fn rest_of(payload: &[u8], answered: usize) -> Result<Vec<Vec<u8>>, TaskError> {
    let call = codec::decode::<Call>(payload)
        .map_err(|e| TaskError::invalid(format!("a chunk's own call does not decode: {e}")))?;
    Ok(call
        .batch
        .into_iter()
        .skip(answered)
        .map(|arg| arg.into_vec())
        .collect())
}

/// Publishes message `id` (`payload`) and waits for its answer; `unpublished` (the chunk's
/// place in `flush`'s count) is released once the message is stored or given up.
async fn exchange(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    id: u64,
    payload: Bytes,
    unpublished: Option<Unpublished>,
) -> Result<AnswerKind, TaskError> {
    let (tx, rx) = oneshot::channel();
    shared.waiting.insert(id, tx);
    // Whatever way this ends, the entry leaves the waiting tasks, and a stored message that
    // was not answered is deleted, so workers skip it.
    let mut sent = super::driver::Pending::new(shared, id);
    let published = publish(shared, headers, id, payload, "chunk").await;
    drop(unpublished);
    sent.seq = Some(published?);
    let answer = rx.await.map_err(|_| TaskError::cancelled())?;
    sent.answered = true;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_reported_time_adds_up_saturating_and_an_untimed_answer_ends_the_sum() {
        let ms = Some(Duration::from_millis(1));
        assert_eq!(
            add_reported(ms, Some(500)),
            Some(Duration::from_micros(1500))
        );
        assert_eq!(add_reported(ms, None), None);
        assert_eq!(add_reported(None, Some(500)), None);
        // A forged answer's time: `+` panicked here ("overflow when adding durations").
        let huge = Some(Duration::MAX - Duration::from_micros(1));
        assert_eq!(add_reported(huge, Some(u64::MAX)), Some(Duration::MAX));
    }
}
