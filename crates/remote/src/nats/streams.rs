//! A namespace's streams and consumers on the server: their settings, created when missing,
//! checked when present.

use std::time::Duration;

use async_nats::jetstream::Context;
use async_nats::jetstream::consumer::{AckPolicy, pull};
use async_nats::jetstream::stream::{self, RetentionPolicy, StorageType};
use futurepool_core::BuildError;

use crate::nats::names::Names;

/// How long the server remembers a task's message id, so a publish retried within it is not a
/// second task.
pub(crate) const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// How long an unread result is kept (its pool is gone) before the server drops it, unless the
/// pool's builder sets `max_age`.
const RESULT_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// Limits a pool's builder may set on both streams of its namespace; `None` keeps the server's
/// (or, for results, the one-day age; for replicas, one copy).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Limits {
    pub(crate) max_bytes: Option<i64>,
    pub(crate) max_age: Option<Duration>,
    /// How many servers of a cluster keep each stream (1..=5); consumers follow their stream.
    pub(crate) replicas: Option<usize>,
}

/// The most replicas a JetStream stream may have.
pub(crate) const MAX_REPLICAS: usize = 5;

/// The namespace's task stream (work-queue retention: a task is removed once acked), created
/// with `limits` when missing; an existing one must match.
pub(crate) async fn task_stream(
    js: &Context,
    names: &Names,
    limits: Limits,
) -> Result<stream::Stream, BuildError> {
    let config = stream::Config {
        name: names.task_stream(),
        subjects: vec![names.task_subject()],
        retention: RetentionPolicy::WorkQueue,
        storage: StorageType::File,
        duplicate_window: DUPLICATE_WINDOW,
        max_bytes: limits.max_bytes.unwrap_or(-1),
        max_age: limits.max_age.unwrap_or_default(),
        num_replicas: limits.replicas.unwrap_or(1),
        ..Default::default()
    };
    open(js, config, limits).await
}

/// The namespace's result stream (work-queue retention, one subject per pool), created with
/// `limits` when missing; an existing one must match.
pub(crate) async fn result_stream(
    js: &Context,
    names: &Names,
    limits: Limits,
) -> Result<stream::Stream, BuildError> {
    let config = stream::Config {
        name: names.result_stream(),
        subjects: vec![names.result_subjects()],
        retention: RetentionPolicy::WorkQueue,
        storage: StorageType::File,
        max_bytes: limits.max_bytes.unwrap_or(-1),
        max_age: limits.max_age.unwrap_or(RESULT_MAX_AGE),
        num_replicas: limits.replicas.unwrap_or(1),
        ..Default::default()
    };
    open(js, config, limits).await
}

/// The stream of `wanted`, created when missing. An existing stream is used only when its
/// subjects and retention are `wanted`'s and its limits are the ones set in `limits`:
/// otherwise the pools and workers would silently lose or keep tasks other than they say.
async fn open(
    js: &Context,
    wanted: stream::Config,
    limits: Limits,
) -> Result<stream::Stream, BuildError> {
    let name = wanted.name.clone();
    let stream = match js.get_or_create_stream(wanted.clone()).await {
        Ok(stream) => stream,
        // Made by another pool or worker between our look and our create (the server then
        // says the subjects overlap): it is there now.
        Err(e) => js
            .get_stream(&name)
            .await
            .map_err(|_| BuildError::new(format!("cannot create the stream {name}: {e}")))?,
    };
    check(stream, &wanted, limits)
}

/// The namespace's task stream as a pool made it, checked as [`task_stream`] checks it;
/// `Ok(None)` while it does not exist (or the server cannot say yet). Workers never make the
/// stream or its consumer: a worker's create racing a pool's left, once in about a hundred
/// starts on nats-server 2.9, a consumer that counted its deliveries but sent none of them
/// (nor the 408 ending a pull), so every task it handed out waited `ack_wait`, again and again.
pub(crate) async fn existing_task_stream(
    js: &Context,
    names: &Names,
) -> Result<Option<stream::Stream>, BuildError> {
    let wanted = stream::Config {
        name: names.task_stream(),
        subjects: vec![names.task_subject()],
        retention: RetentionPolicy::WorkQueue,
        ..Default::default()
    };
    match js.get_stream(&wanted.name).await {
        Ok(stream) => check(stream, &wanted, Limits::default()).map(Some),
        Err(e) => {
            tracing::debug!(error = %e, "the task stream is not there yet");
            Ok(None)
        }
    }
}

/// `stream` when its subjects and retention are `wanted`'s and its limits those in `limits`.
fn check(
    stream: stream::Stream,
    wanted: &stream::Config,
    limits: Limits,
) -> Result<stream::Stream, BuildError> {
    let name = &wanted.name;
    let have = &stream.cached_info().config;
    let mut conflicts = Vec::new();
    if have.subjects != wanted.subjects {
        conflicts.push(format!(
            "subjects {:?}, not {:?}",
            have.subjects, wanted.subjects
        ));
    }
    if have.retention != wanted.retention {
        conflicts.push(format!(
            "retention {:?}, not {:?}",
            have.retention, wanted.retention
        ));
    }
    if let Some(max_bytes) = limits.max_bytes
        && have.max_bytes != max_bytes
    {
        conflicts.push(format!("max_bytes {}, not {max_bytes}", have.max_bytes));
    }
    if let Some(max_age) = limits.max_age
        && have.max_age != max_age
    {
        conflicts.push(format!("max_age {:?}, not {max_age:?}", have.max_age));
    }
    if let Some(replicas) = limits.replicas
        && have.num_replicas != replicas
    {
        conflicts.push(format!("replicas {}, not {replicas}", have.num_replicas));
    }
    if conflicts.is_empty() {
        Ok(stream)
    } else {
        Err(BuildError::new(format!(
            "the stream {name} exists with other settings ({}): change or delete it on the server, or use another namespace",
            conflicts.join("; ")
        )))
    }
}

/// The configuration of the workers' durable consumer. Redelivery is unlimited on the server:
/// workers count deliveries against each task's own `max_attempts`.
pub(crate) fn worker_consumer(names: &Names, ack_wait: Duration) -> pull::Config {
    pull::Config {
        durable_name: Some(names.worker_consumer()),
        ack_policy: AckPolicy::Explicit,
        ack_wait,
        max_deliver: -1,
        max_ack_pending: 100_000,
        filter_subject: names.task_subject(),
        ..Default::default()
    }
}

/// How long an answer handed to the pool may stay unacked before the server hands it over
/// again. The pool acks each answer as soon as it has passed it on, so this only bounds how
/// long an answer lost on its way is missed: one delivered by a stream leader that died (or
/// over a connection that broke) before reaching the pool waits exactly this long. It was 30
/// s, and a `kill -9` of the leader of a three-replica result stream stalled a run for 14 s
/// and more; a redelivery of an answer that did arrive is acked and counted in
/// `duplicates()`.
pub(crate) const RESULT_ACK_WAIT: Duration = Duration::from_secs(2);

/// The configuration of a pool's durable consumer of its own results; the server removes it
/// after an hour without the pool (the pool makes it again if it comes back).
pub(crate) fn result_consumer(names: &Names, pool_id: &str) -> pull::Config {
    pull::Config {
        durable_name: Some(format!("pool-{pool_id}")),
        ack_policy: AckPolicy::Explicit,
        ack_wait: RESULT_ACK_WAIT,
        max_ack_pending: 100_000,
        filter_subject: names.result_subject(pool_id),
        inactive_threshold: Duration::from_secs(60 * 60),
        ..Default::default()
    }
}
