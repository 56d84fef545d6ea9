//! The state one [`RemotePool`](crate::RemotePool) shares with its task drivers and its result
//! listener: the connection, the waiting tasks by id, the counters.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{Context, stream};
use futurepool_core::PoolStats;
use futurepool_worker::Registry;
use tokio::sync::{Notify, oneshot};
use tokio_util::sync::CancellationToken;

use crate::nats::names::{ACK_WAIT_MS, MAX_ATTEMPTS, Names, REPLY_TO, STARTED_TO, TIMEOUT_MS};
use crate::nats::wire::AnswerKind;

/// The tasks waiting for an answer, by id, and what the listener saw that no task waited for.
#[derive(Default)]
pub(crate) struct Waiting {
    tasks: Mutex<Tasks>,
    /// Answers for tasks already resolved (a second run after a redelivery) or cancelled.
    pub(crate) duplicates: AtomicU64,
}

/// The waiting tasks; `running` counts the entries marked started.
#[derive(Default)]
struct Tasks {
    by_id: HashMap<u64, Entry>,
    running: usize,
}

struct Entry {
    answer: oneshot::Sender<AnswerKind>,
    /// A worker said it started the task.
    started: bool,
}

impl Waiting {
    pub(crate) fn insert(&self, id: u64, tx: oneshot::Sender<AnswerKind>) {
        let entry = Entry {
            answer: tx,
            started: false,
        };
        self.lock().by_id.insert(id, entry);
    }

    pub(crate) fn remove(&self, id: u64) -> Option<oneshot::Sender<AnswerKind>> {
        let mut tasks = self.lock();
        let entry = tasks.by_id.remove(&id)?;
        tasks.running -= usize::from(entry.started);
        Some(entry.answer)
    }

    /// A worker started task `id` (again, after a redelivery, changes nothing); a notice for a
    /// task no longer waiting is ignored.
    pub(crate) fn started(&self, id: u64) {
        let mut tasks = self.lock();
        if let Some(entry) = tasks.by_id.get_mut(&id)
            && !entry.started
        {
            entry.started = true;
            tasks.running += 1;
        }
    }

    /// The waiting tasks a worker has started.
    pub(crate) fn running(&self) -> usize {
        self.lock().running
    }

    /// Hands `answer` to the task `id`; an answer nobody waits for is counted and dropped.
    pub(crate) fn deliver(&self, id: u64, answer: AnswerKind) {
        let delivered = match self.remove(id) {
            Some(tx) => tx.send(answer).is_ok(),
            None => false,
        };
        if !delivered {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tasks> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the pool counts itself; the tasks' own counts are the core's.
#[derive(Default)]
pub(crate) struct Counters {
    /// Tasks accepted whose message the server has not yet stored (or that ended first).
    pub(crate) unpublished: AtomicUsize,
    /// Deletes of the messages of tasks that ended unanswered, not yet done.
    pub(crate) deleting: AtomicUsize,
}

pub(crate) struct Shared {
    /// The runtime the pool was built on: task drivers run there, whichever thread submits.
    pub(crate) runtime: tokio::runtime::Handle,
    pub(crate) js: Context,
    pub(crate) names: Names,
    pub(crate) task_stream: stream::Stream,
    pub(crate) pool_id: String,
    pub(crate) registry: Registry,
    /// Reply-to, max attempts, ack wait and timeout: the same on every task message of this
    /// pool.
    pub(crate) headers: HeaderMap,
    /// The server's limit on a message (headers and payload), read at connect.
    pub(crate) max_payload: usize,
    /// An upper bound of the headers' size in a task message (counted in `max_payload`).
    pub(crate) header_bytes: usize,
    pub(crate) next_id: AtomicU64,
    pub(crate) waiting: Arc<Waiting>,
    pub(crate) counters: Counters,
    /// Fired once the pool is gone or drained: the listener stops and removes its consumer.
    pub(crate) stop_listener: CancellationToken,
    /// Woken when `unpublished` or `deleting` drops to zero.
    pub(crate) changed: Notify,
}

impl Shared {
    pub(crate) fn task_headers(
        names: &Names,
        pool_id: &str,
        max_attempts: u32,
        ack_wait: Duration,
        task_timeout: Option<Duration>,
    ) -> (HeaderMap, usize) {
        let mut headers = HeaderMap::new();
        let mut bytes = "NATS/1.0\r\n\r\n".len();
        let mut insert = |name: &'static str, value: String| {
            bytes += name.len() + value.len() + ": \r\n".len();
            headers.insert(name, value.as_str());
        };
        insert(REPLY_TO, names.result_subject(pool_id));
        insert(MAX_ATTEMPTS, max_attempts.to_string());
        insert(ACK_WAIT_MS, ack_wait.as_millis().to_string());
        insert(STARTED_TO, names.started_subject(pool_id));
        if let Some(timeout) = task_timeout {
            insert(TIMEOUT_MS, timeout.as_millis().max(1).to_string());
        }
        // Per message: `Nats-Msg-Id: <pool id>-<id>` and `Futurepool-Task-Id: <id>`.
        bytes += 2 * (32 + 2 * 20 + 4);
        (headers, bytes)
    }

    /// Counts a task's message as stored (or its task as ended before it was).
    pub(crate) fn task_published(&self) {
        if self.counters.unpublished.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.changed.notify_waiters();
        }
    }

    /// Waits until `counter` reads zero.
    pub(crate) async fn until_zero(&self, counter: &AtomicUsize) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if counter.load(Ordering::Acquire) == 0 {
                return;
            }
            changed.await;
        }
    }

    /// Deletes message `seq` of the task stream in the background; `until_zero(deleting)`
    /// waits for it.
    pub(crate) fn delete_message(shared: &Arc<Self>, seq: u64) {
        shared.counters.deleting.fetch_add(1, Ordering::AcqRel);
        let done = Deleting(Arc::clone(shared));
        // Dropped unpolled when the runtime is gone: `Deleting` still uncounts it.
        drop(shared.runtime.spawn(async move {
            if let Err(e) = done.0.task_stream.delete_message(seq).await {
                tracing::debug!(seq, error = %e, "could not delete a cancelled task's message");
            }
            drop(done);
        }));
    }

    /// The pool's stats: the core's counts of its tasks (`core`), with `running` the
    /// unresolved tasks a worker said it started and `queued` the others.
    pub(crate) fn stats(&self, core: impl FnOnce() -> PoolStats) -> PoolStats {
        // `running` first, capped by the unresolved count read after it: a task resolving
        // between the two reads is not counted twice.
        let running = self.waiting.running();
        let mut stats = core();
        let unresolved = stats.running + stats.queued;
        stats.running = running.min(unresolved);
        stats.queued = unresolved - stats.running;
        stats
    }
}

/// One background delete of a message, uncounted from `deleting` when dropped.
struct Deleting(Arc<Shared>);

impl Drop for Deleting {
    fn drop(&mut self) {
        if self.0.counters.deleting.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.changed.notify_waiters();
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Every task has ended (each driver holds the state): the listener can go.
        self.stop_listener.cancel();
    }
}
