//! The worker's loop: pull at most as many tasks as there are free slots, run each with
//! progress acks, publish its answer, then double-ack it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::Client;
use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::{AckKind, Context, Message};
use futurepool_process::ProcessPool;
use futurepool_worker::{Call, Outcome, Registry, codec};
use futures_util::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::names::{ACK_WAIT_MS, MAX_ATTEMPTS, REPLY_TO, STARTED_TO};
use crate::wire::{Answer, AnswerKind};

/// What every task of one worker needs.
pub(crate) struct Serving {
    /// The `ack_wait` of the namespace's shared consumer, in milliseconds, as last read: the
    /// pool built last set it, and it may be shorter than a task's own pool asked for.
    pub(crate) consumer_ack_wait_ms: AtomicU64,
    /// For the started notices (plain NATS).
    pub(crate) client: Client,
    pub(crate) js: Context,
    pub(crate) registry: Registry,
    /// The child processes of `isolate(true)`.
    pub(crate) isolated: Option<ProcessPool>,
}

/// How long one pull request waits for tasks before it is renewed.
const PULL_EXPIRES: Duration = Duration::from_secs(2);

/// How often the worker reads the shared consumer's `ack_wait` again.
const CONSUMER_REFRESH: Duration = Duration::from_secs(2);

/// How long a task runs before its worker tells the pool it started (for `stats().running`):
/// a task that ends sooner sends no notice, which keeps tiny tasks at one message each way.
const NOTICE_AFTER: Duration = Duration::from_millis(1);

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
        let batch = consumer
            .batch()
            .max_messages(permits.len())
            .expires(PULL_EXPIRES)
            .messages()
            .await;
        let mut batch = match batch {
            Ok(batch) => batch,
            Err(e) => {
                tracing::debug!(error = %e, "cannot pull tasks yet; retrying");
                tokio::time::sleep(Duration::from_millis(250)).await;
                continue;
            }
        };
        while let Some(message) = batch.next().await {
            match message {
                Ok(message) => {
                    let Some(permit) = permits.pop() else {
                        // The server sent more than asked: let another worker have it.
                        let _ = message.ack_with(AckKind::Nak(None)).await;
                        continue;
                    };
                    tokio::spawn(handle(Arc::clone(&serving), message, permit));
                }
                Err(e) => {
                    tracing::debug!(error = %e, "pull request ended");
                    break;
                }
            }
        }
    }
}

impl Serving {
    fn consumer_ack_wait(&self) -> Duration {
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

/// The numbers a task message carries in its headers.
struct Meta {
    reply_to: String,
    /// Where to say the task started; absent in messages of pools that do not listen.
    started_to: Option<String>,
    max_attempts: i64,
    ack_wait: Duration,
    delivered: i64,
}

fn meta(message: &Message) -> Option<Meta> {
    let headers = message.headers.as_ref()?;
    let number = |name: &str| headers.get(name)?.as_str().parse::<i64>().ok();
    Some(Meta {
        reply_to: headers.get(REPLY_TO)?.as_str().to_owned(),
        started_to: headers.get(STARTED_TO).map(|v| v.as_str().to_owned()),
        max_attempts: number(MAX_ATTEMPTS).unwrap_or(3),
        ack_wait: Duration::from_millis(number(ACK_WAIT_MS).unwrap_or(30_000).max(100) as u64),
        delivered: message.info().ok()?.delivered,
    })
}

/// Runs one task message to its end; `_slot` is given back when it returns.
async fn handle(serving: Arc<Serving>, message: Message, _slot: OwnedSemaphorePermit) {
    let Some(meta) = meta(&message) else {
        tracing::warn!("a task message without futurepool headers: dropped");
        let _ = message.ack_with(AckKind::Term).await;
        return;
    };
    let call: Call = match codec::decode(&message.payload) {
        Ok(call) => call,
        Err(e) => {
            tracing::warn!(error = %e, "a task message that does not decode: dropped");
            let _ = message.ack_with(AckKind::Term).await;
            return;
        }
    };
    let id = call.id;
    let result = if meta.delivered > meta.max_attempts {
        AnswerKind::Crashed(format!(
            "`{}` was delivered {} times without a result: the worker running it died each time (max_attempts = {})",
            call.function.name,
            meta.delivered - 1,
            meta.max_attempts
        ))
    } else {
        let run = run(&serving, call, &meta);
        tokio::pin!(run);
        // Three progress acks per ack_wait: the task's pool's, or the consumer's if shorter
        // (read again at each ack, as a pool built meanwhile may have shortened it).
        let period = || meta.ack_wait.min(serving.consumer_ack_wait()) / 3;
        let progress = tokio::time::sleep(period());
        tokio::pin!(progress);
        let notice = tokio::time::sleep(NOTICE_AFTER);
        tokio::pin!(notice);
        // Taken when the notice goes: at most one per delivery.
        let mut started_to = meta.started_to.as_deref();
        let ran = loop {
            tokio::select! {
                ran = &mut run => break ran,
                () = &mut progress => {
                    let _ = message.ack_with(AckKind::Progress).await;
                    progress.as_mut().reset(tokio::time::Instant::now() + period());
                }
                () = &mut notice, if started_to.is_some() => {
                    if let Some(subject) = started_to.take() {
                        say_started(&serving.client, subject, id).await;
                    }
                }
            }
        };
        match ran {
            Some(result) => result,
            None => {
                // Crashed with attempts left: deliver it again at once.
                let _ = message.ack_with(AckKind::Nak(None)).await;
                return;
            }
        }
    };
    let answer = match codec::encode(&Answer { id, result }) {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "an answer failed to encode");
            return;
        }
    };
    publish_answer(&serving.js, meta.reply_to, answer).await;
    // Only now is the task done: were this worker to die before the ack, the task would run
    // again and its second answer would be dropped by the pool.
    for _ in 0..5 {
        if message.double_ack().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs the call; `None` when an isolated run crashed and attempts are left.
async fn run(serving: &Serving, call: Call, meta: &Meta) -> Option<AnswerKind> {
    match &serving.isolated {
        None => {
            let registry = serving.registry.clone();
            let name = call.function.name.clone();
            let outcome = tokio::task::spawn_blocking(move || registry.execute(&call))
                .await
                .unwrap_or_else(|e| Outcome::Panicked(format!("`{name}` could not finish: {e}")));
            Some(AnswerKind::Ran(outcome))
        }
        Some(pool) => match pool.submit_call(call).await {
            Ok(outcome) => Some(AnswerKind::Ran(outcome)),
            Err(e) if meta.delivered >= meta.max_attempts => Some(AnswerKind::Crashed(format!(
                "{e} (attempt {} of {}: given up)",
                meta.delivered, meta.max_attempts
            ))),
            Err(e) => {
                tracing::warn!(error = %e, attempt = meta.delivered, "an isolated task failed; it will be tried again");
                None
            }
        },
    }
}

/// Tells the pool, on plain NATS, that task `id` started. Best effort: a lost notice only leaves
/// the task counted as queued.
async fn say_started(client: &Client, subject: &str, id: u64) {
    let notice = bytes::Bytes::from(id.to_string());
    if let Err(e) = client.publish(subject.to_owned(), notice).await {
        tracing::debug!(error = %e, "could not say a task started");
    }
}

/// Publishes an answer until the server stores it.
async fn publish_answer(js: &Context, subject: String, answer: Vec<u8>) {
    let payload = bytes::Bytes::from(answer);
    let mut delay = Duration::from_millis(50);
    loop {
        let error = match js.publish(subject.clone(), payload.clone()).await {
            Ok(ack) => match ack.await {
                Ok(_) => return,
                Err(e) => e.to_string(),
            },
            Err(e) => e.to_string(),
        };
        tracing::debug!(%error, "publishing an answer failed; retrying");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}
