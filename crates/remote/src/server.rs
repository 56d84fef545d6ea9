//! Connecting to the NATS server and setting up a namespace's streams and consumers.

use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, pull};
use async_nats::jetstream::stream::{self, RetentionPolicy, StorageType};
use async_nats::jetstream::{self, Context};
use async_nats::{Client, ConnectOptions};
use futurepool_core::BuildError;

use crate::names::Names;

/// How long `build` and `run` wait for the server before giving up.
const CONNECT_LIMIT: Duration = Duration::from_secs(5);

/// How long the server remembers a task's message id, so a publish retried within it is not a
/// second task.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// How long an unread result is kept (its pool is gone) before the server drops it.
const RESULT_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// Connects to `url` and checks that the server has JetStream; the error says which failed.
pub(crate) async fn connect(url: &str, client_name: &str) -> Result<(Client, Context), BuildError> {
    let options = ConnectOptions::new()
        .name(client_name)
        .connection_timeout(Duration::from_secs(3))
        // Keep reconnecting forever once connected: a server restart is survived.
        .max_reconnects(None);
    let client = match tokio::time::timeout(CONNECT_LIMIT, options.connect(url)).await {
        Err(_) => {
            return Err(BuildError::new(format!(
                "cannot reach the NATS server at {url}: no answer within {CONNECT_LIMIT:?}"
            )));
        }
        Ok(Err(e)) => {
            return Err(BuildError::new(format!(
                "cannot connect to the NATS server at {url}: {e} (is `nats-server -js` running there?)"
            )));
        }
        Ok(Ok(client)) => client,
    };
    // `$JS.API.INFO` answers only where JetStream is enabled (no responders elsewhere); read
    // raw, so that servers older or newer than the client's account types both work.
    let no_js = |why: String| {
        BuildError::new(format!(
            "the NATS server at {url} has no JetStream ({why}): start it with `nats-server -js`"
        ))
    };
    match tokio::time::timeout(CONNECT_LIMIT, client.request("$JS.API.INFO", "".into())).await {
        Err(_) => return Err(no_js(format!("no answer within {CONNECT_LIMIT:?}"))),
        Ok(Err(e)) => return Err(no_js(e.to_string())),
        Ok(Ok(reply)) => {
            let text = String::from_utf8_lossy(&reply.payload);
            if text.contains("\"error\"") {
                return Err(no_js(text.into_owned()));
            }
        }
    }
    let js = jetstream::new(client.clone());
    Ok((client, js))
}

/// The namespace's task stream (work-queue retention: a task is removed once acked).
pub(crate) async fn task_stream(js: &Context, names: &Names) -> Result<stream::Stream, BuildError> {
    js.get_or_create_stream(stream::Config {
        name: names.task_stream(),
        subjects: vec![names.task_subject()],
        retention: RetentionPolicy::WorkQueue,
        storage: StorageType::File,
        duplicate_window: DUPLICATE_WINDOW,
        ..Default::default()
    })
    .await
    .map_err(|e| {
        BuildError::new(format!(
            "cannot create the stream {}: {e}",
            names.task_stream()
        ))
    })
}

/// The namespace's result stream (work-queue retention, one subject per pool).
pub(crate) async fn result_stream(
    js: &Context,
    names: &Names,
) -> Result<stream::Stream, BuildError> {
    js.get_or_create_stream(stream::Config {
        name: names.result_stream(),
        subjects: vec![names.result_subjects()],
        retention: RetentionPolicy::WorkQueue,
        storage: StorageType::File,
        max_age: RESULT_MAX_AGE,
        ..Default::default()
    })
    .await
    .map_err(|e| {
        BuildError::new(format!(
            "cannot create the stream {}: {e}",
            names.result_stream()
        ))
    })
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

/// The configuration of a pool's durable consumer of its own results; the server removes it
/// after an hour without the pool.
pub(crate) fn result_consumer(names: &Names, pool_id: &str) -> pull::Config {
    pull::Config {
        durable_name: Some(format!("pool-{pool_id}")),
        ack_policy: AckPolicy::Explicit,
        ack_wait: Duration::from_secs(30),
        max_ack_pending: 100_000,
        filter_subject: names.result_subject(pool_id),
        inactive_threshold: Duration::from_secs(60 * 60),
        ..Default::default()
    }
}
