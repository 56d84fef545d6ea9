//! The worker's loop: pull at most as many tasks as there are free slots, run each with
//! progress acks, publish its answer, then double-ack it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::Client;
use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::{AckKind, Context};
use futurepool_process::ProcessPool;
use futurepool_worker::Registry;
use tokio::sync::Semaphore;

use super::pull::Pull;
use super::task::handle;
use crate::nats::names::Names;

/// What every task of one worker needs.
pub(crate) struct Serving {
    /// The `ack_wait` of the namespace's shared consumer, in milliseconds, as last read: the
    /// pool built last set it, and it may be shorter than a task's own pool asked for.
    pub(crate) consumer_ack_wait_ms: AtomicU64,
    /// For the started notices (plain NATS).
    pub(crate) client: Client,
    pub(crate) js: Context,
    /// The namespace served: the only subjects this worker publishes to.
    pub(crate) names: Names,
    /// The server's limit on a message, read at connect: a larger answer is not sent.
    pub(crate) max_payload: usize,
    pub(crate) registry: Registry,
    /// The child processes of `isolate(true)`.
    pub(crate) isolated: Option<ProcessPool>,
}

/// How often the worker reads the shared consumer's `ack_wait` again.
const CONSUMER_REFRESH: Duration = Duration::from_secs(2);

/// Pulls and starts tasks forever, never more than `slots` at once.
pub(crate) async fn pull_loop(
    consumer: PullConsumer,
    slots: Arc<Semaphore>,
    serving: Arc<Serving>,
) {
    loop {
        let Ok(first) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let mut permits = vec![first];
        while let Ok(permit) = Arc::clone(&slots).try_acquire_owned() {
            permits.push(permit);
        }
        let asked = permits.len();
        let mut pull = match Pull::ask(&serving.client, &serving.js, &consumer, asked).await {
            Ok(pull) => pull,
            Err(e) => {
                tracing::debug!(error = %e, "cannot pull tasks yet; retrying");
                tokio::time::sleep(Duration::from_millis(250)).await;
                continue;
            }
        };
        while let Some(message) = pull.next().await {
            let Some(permit) = permits.pop() else {
                // The server sent more than asked: let another worker have it.
                let _ = message.ack_with(AckKind::Nak(None)).await;
                continue;
            };
            tokio::spawn(handle(Arc::clone(&serving), message, permit));
        }
        if !pull.answered() {
            // A healthy server ends every pull with tasks or a status; silence means it holds
            // this worker's requests without serving them.
            tracing::warn!(
                asked,
                "the NATS server did not answer a pull request for tasks"
            );
        }
    }
}

impl Serving {
    pub(crate) fn consumer_ack_wait(&self) -> Duration {
        // Relaxed: a lone setting; nothing else is published with it, and a read a moment old
        // is as good as the next.
        Duration::from_millis(self.consumer_ack_wait_ms.load(Ordering::Relaxed))
    }

    /// Records the shared consumer's `ack_wait` (never under 100 ms, the pools' minimum).
    pub(crate) fn set_consumer_ack_wait(&self, ack_wait: Duration) {
        let ms = u64::try_from(ack_wait.as_millis())
            .unwrap_or(u64::MAX)
            .max(100);
        // Relaxed: see `consumer_ack_wait`.
        self.consumer_ack_wait_ms.store(ms, Ordering::Relaxed);
    }
}

/// Reads the shared consumer's `ack_wait` every [`CONSUMER_REFRESH`], forever: a pool built
/// while this worker runs tasks may have shortened it.
pub(crate) async fn follow_ack_wait(consumer: PullConsumer, serving: Arc<Serving>) {
    loop {
        tokio::time::sleep(CONSUMER_REFRESH).await;
        if let Ok(info) = consumer.get_info().await {
            serving.set_consumer_ack_wait(info.config.ack_wait);
        }
    }
}
