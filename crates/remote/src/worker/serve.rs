//! The worker's loop: pull at most as many tasks as there are free slots, run each with
//! progress acks, answer it (to its pool directly, else to the result stream), then ack it.

use std::sync::Arc;
use std::time::Duration;

use async_nats::Client;
use async_nats::jetstream::consumer::{self, PullConsumer};
use async_nats::jetstream::{AckKind, Context};
use futurepool_process::ProcessPool;
use futurepool_worker::Registry;
use tokio::sync::{Semaphore, watch};

use super::answer::DirectAnswers;
use super::pull::{Patience, Pull, PullInbox};
use super::task::handle;
use crate::nats::names::Names;
use crate::nats::setup;

/// What every task of one worker needs.
pub(crate) struct Serving {
    /// The `ack_wait` of the namespace's shared consumer, in milliseconds, as last read (or
    /// the lower one a pool announced it is about to set): it may be shorter than a task's own
    /// pool asked for. Running tasks watch it, and progress-ack at once when it drops.
    pub(crate) consumer_ack_wait_ms: watch::Sender<u64>,
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
    /// Whether answers go to their pools directly for now.
    pub(crate) direct: DirectAnswers,
    /// Places for answers on their way (as many as slots): a task whose call returned takes
    /// one, then gives its slot back.
    pub(crate) answering: Arc<Semaphore>,
}

/// Pulls and starts tasks forever, never more than `slots` at once. After a pull goes
/// unanswered it probes (short pulls) until one is answered: a cluster's new consumer leader
/// is found within half a second of its election, not a whole pull later.
pub(crate) async fn pull_loop(
    consumer: PullConsumer,
    slots: Arc<Semaphore>,
    serving: Arc<Serving>,
) {
    let mut patience = Patience::Wait;
    let mut inbox = loop {
        match PullInbox::new(&serving.client).await {
            Ok(inbox) => break inbox,
            Err(e) => {
                tracing::debug!(error = %e, "cannot subscribe for tasks yet; retrying");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };
    loop {
        let Ok(first) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let mut permits = vec![first];
        while let Ok(permit) = Arc::clone(&slots).try_acquire_owned() {
            permits.push(permit);
        }
        let asked = permits.len();
        let mut pull = match Pull::ask(&mut inbox, &serving.js, &consumer, asked, patience).await {
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
        patience = match (pull.answered(), patience) {
            (true, Patience::Probe) => {
                tracing::info!("the NATS server answers pull requests for tasks again");
                Patience::Wait
            }
            (true, Patience::Wait) => Patience::Wait,
            (false, Patience::Wait) => {
                // A healthy server ends every pull with tasks or a status; silence means it
                // holds this worker's requests without serving them, or that the consumer
                // has no leader (a cluster electing one): probe until something answers.
                tracing::warn!(
                    asked,
                    "the NATS server did not answer a pull request for tasks; probing"
                );
                Patience::Probe
            }
            (false, Patience::Probe) => Patience::Probe,
        };
    }
}

impl Serving {
    pub(crate) fn consumer_ack_wait(&self) -> Duration {
        Duration::from_millis(*self.consumer_ack_wait_ms.borrow())
    }

    /// Records the shared consumer's `ack_wait` (never under 100 ms, the pools' minimum) from
    /// its settings: the lower of its `ack_wait` and the one a pool announced in it.
    pub(crate) fn set_consumer_ack_wait(&self, config: &consumer::Config) {
        let ack_wait = setup::announced_ack_wait(config)
            .map_or(config.ack_wait, |announced| announced.min(config.ack_wait));
        let ms = u64::try_from(ack_wait.as_millis())
            .unwrap_or(u64::MAX)
            .max(100);
        // Wakes the running tasks only when it changes.
        self.consumer_ack_wait_ms.send_if_modified(|now| {
            let changed = *now != ms;
            *now = ms;
            changed
        });
    }
}

/// Reads the shared consumer's `ack_wait` every [`setup::SETTINGS_REFRESH`], forever: a pool built
/// while this worker runs tasks may have shortened it.
pub(crate) async fn follow_ack_wait(consumer: PullConsumer, serving: Arc<Serving>) {
    loop {
        tokio::time::sleep(setup::SETTINGS_REFRESH).await;
        if let Ok(info) = consumer.get_info().await {
            serving.set_consumer_ack_wait(&info.config);
        }
    }
}
