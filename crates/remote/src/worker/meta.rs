//! What a task message's headers say, checked: anything a client with access to the
//! namespace's subjects could forge is validated before the worker acts on it.

use std::time::Duration;

use async_nats::jetstream::Message;

use crate::nats::names::{
    ACK_WAIT_MS, MAX_ATTEMPTS, Names, REPLY_TO, STARTED_TO, TASK_ID, TIMEOUT_MS,
};

/// The most deliveries a task message may ask for: a forged count cannot make a task run
/// (and hold a slot) more often than this.
pub(crate) const MAX_ATTEMPTS_BOUND: i64 = 100;

/// The longest progress-ack period a message may ask for; a longer `ack_wait` is acked more
/// often than it needs, which is harmless.
const ACK_WAIT_BOUND: Duration = Duration::from_secs(60 * 60);

/// The numbers a task message carries in its headers, validated.
pub(crate) struct Meta {
    /// One of the namespace's result subjects (never anything else).
    pub(crate) reply_to: String,
    /// The subject of the same pool that takes answers directly (plain NATS): the answer
    /// goes there first, and to `reply_to` only when the pool does not confirm it.
    pub(crate) answer_to: String,
    /// The task's id in its pool (absent in messages of older pools: the call's own id).
    pub(crate) id: Option<u64>,
    /// Where to say the task started: the started subject of the pool `reply_to` names, or
    /// nothing.
    pub(crate) started_to: Option<String>,
    pub(crate) max_attempts: i64,
    pub(crate) ack_wait: Duration,
    pub(crate) timeout: Option<Duration>,
    pub(crate) delivered: i64,
}

/// The validated headers of `message`, or why it cannot be answered.
pub(crate) fn meta(names: &Names, message: &Message) -> Result<Meta, String> {
    let headers = message
        .headers
        .as_ref()
        .ok_or("a task message without headers")?;
    let text = |name: &str| headers.get(name).map(|v| v.as_str());
    let reply_to = text(REPLY_TO).ok_or("no reply subject")?;
    let pool = names.result_subject_pool(reply_to).ok_or_else(|| {
        format!("the reply subject {reply_to:?} is not a result subject of the namespace")
    })?;
    let id = match text(TASK_ID) {
        None => None,
        Some(v) => Some(
            v.parse::<u64>()
                .map_err(|_| format!("task id {v:?} is not a number"))?,
        ),
    };
    let max_attempts = match text(MAX_ATTEMPTS) {
        None => 3,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_ATTEMPTS_BOUND).contains(n))
            .ok_or_else(|| format!("max attempts {v:?} is not in 1..={MAX_ATTEMPTS_BOUND}"))?,
    };
    let ack_wait = match text(ACK_WAIT_MS) {
        None => Duration::from_secs(30),
        Some(v) => v
            .parse::<u64>()
            .map(|ms| Duration::from_millis(ms).clamp(Duration::from_millis(100), ACK_WAIT_BOUND))
            .map_err(|_| format!("ack wait {v:?} is not a number of milliseconds"))?,
    };
    let timeout = match text(TIMEOUT_MS) {
        None => None,
        Some(v) => Some(
            v.parse::<u64>()
                .ok()
                .filter(|ms| *ms > 0)
                .map(Duration::from_millis)
                .ok_or_else(|| format!("task timeout {v:?} is not a number of milliseconds"))?,
        ),
    };
    // Only the started subject of the pool the answer goes to; anything else is ignored.
    let started_to = text(STARTED_TO).and_then(|v| {
        let expected = names.started_subject(pool);
        if v == expected {
            Some(expected)
        } else {
            tracing::debug!(subject = v, "ignored a started subject of another pool");
            None
        }
    });
    let delivered = message
        .info()
        .map_err(|e| format!("no delivery count: {e}"))?
        .delivered;
    Ok(Meta {
        reply_to: reply_to.to_owned(),
        answer_to: names.answer_subject(pool),
        id,
        started_to,
        max_attempts,
        ack_wait,
        timeout,
        delivered,
    })
}
