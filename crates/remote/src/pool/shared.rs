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

use super::room::{Place, Room};
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

    /// Drops every waiting sender: their tasks resolve as cancelled.
    pub(crate) fn clear(&self) {
        let all = std::mem::take(&mut *self.lock());
        drop(all);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tasks> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Monotonic task counters.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) submitted: AtomicU64,
    pub(crate) completed: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    pub(crate) rejected: AtomicU64,
    /// Tasks accepted whose message the server has not yet stored (or that ended first).
    pub(crate) unpublished: AtomicUsize,
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
    /// The lifecycle word: bit 0 is set once the pool is shut down, the rest counts the tasks
    /// admitted and not yet ended (two per task). One word, so that a submit racing
    /// `shutdown` is either counted before the close (and awaited) or refused after it.
    pub(crate) lifecycle: AtomicUsize,
    /// The `queue_capacity` bound: a place per unresolved task, held by its [`Admitted`].
    pub(crate) room: Room,
    /// Fired by `shutdown_now`: drivers stop waiting and cancel their tasks.
    pub(crate) abort: CancellationToken,
    /// Fired once the pool is gone or drained: the listener stops and removes its consumer.
    pub(crate) stop_listener: CancellationToken,
    /// Woken when the admitted tasks of a closed pool, or `unpublished`, drop to zero.
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

    /// Admits one task holding `place` in the room: its count and its place are released
    /// when the guard drops. `None` once the pool is shut down (the count taken for the check
    /// and the place are given back at once).
    pub(crate) fn admit(self: &Arc<Self>, place: Place) -> Option<Admitted> {
        let admitted = Admitted {
            shared: Arc::clone(self),
            _place: place,
        };
        if self.lifecycle.fetch_add(ONE, Ordering::AcqRel) & CLOSED == 0 {
            Some(admitted)
        } else {
            None
        }
    }

    /// Refuses further tasks; `drained` then waits for the admitted ones. Closing the room
    /// after the word, a `submit_wait` woken by it, or one that took a place just before,
    /// is refused by `admit`.
    pub(crate) fn close(&self) {
        self.lifecycle.fetch_or(CLOSED, Ordering::AcqRel);
        self.room.close();
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lifecycle.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Tasks admitted and not yet ended.
    pub(crate) fn outstanding(&self) -> usize {
        self.lifecycle.load(Ordering::Acquire) / ONE
    }

    /// Waits until the pool is closed and every admitted task has ended.
    pub(crate) async fn drained(&self) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.lifecycle.load(Ordering::Acquire) == CLOSED {
                return;
            }
            changed.await;
        }
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

    pub(crate) fn stats(&self) -> PoolStats {
        let c = &self.counters;
        let mut stats = PoolStats::default();
        stats.submitted = c.submitted.load(Ordering::Relaxed);
        // `running` first, capped by `outstanding`: a task resolving between the two reads is
        // not counted twice.
        let running = self.waiting.running();
        let outstanding = self.outstanding();
        stats.running = running.min(outstanding);
        stats.queued = outstanding - stats.running;
        stats.completed = c.completed.load(Ordering::Relaxed);
        stats.failed = c.failed.load(Ordering::Relaxed);
        stats.cancelled = c.cancelled.load(Ordering::Relaxed);
        stats.rejected = c.rejected.load(Ordering::Relaxed);
        stats
    }
}

/// The lifecycle word's closed bit.
const CLOSED: usize = 1;
/// One admitted task in the lifecycle word.
const ONE: usize = 2;

/// One admitted task's count and its place in the room, released (waking `shutdown` if it
/// was the last, and a waiting `submit_wait`) when dropped, on whatever path the task ends.
pub(crate) struct Admitted {
    shared: Arc<Shared>,
    /// Given back after the count (a field drops after `Drop::drop`).
    _place: Place,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if self.shared.lifecycle.fetch_sub(ONE, Ordering::AcqRel) == CLOSED | ONE {
            self.shared.changed.notify_waiters();
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Every task has ended (each driver holds the state): the listener can go.
        self.stop_listener.cancel();
    }
}
