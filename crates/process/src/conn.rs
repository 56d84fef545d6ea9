//! One worker process as the pool sees it: a [`Conn`] that tasks send calls through, and the
//! Tokio task that drives the process's channel — writes calls, reads the replies in order,
//! and watches for the process's death, the running call's timeout and its cancellation.
//!
//! The worker runs one call at a time, reading the next only after answering the last. So
//! that it does not sit idle for a round trip between two tiny tasks, the pool may send more
//! calls while one runs (pipelining; once the pool uses priorities, only one, so that at most
//! one call per worker starts ahead of a higher-priority one submitted after it), but only
//! behind a call that is known to be short
//! (see [`Roster::is_short`]) and only a small one, so a long task never holds another back
//! and the socket buffers never fill both ways. A call sent behind one that crashes, times
//! out or is cancelled never started: it goes back to the pool and runs on another worker.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futurepool_worker::{Outcome, Reply, Signature, codec};
use tokio::io::AsyncWriteExt;
use tokio::runtime::Handle;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::child::Child;
use crate::exit::describe;
use crate::line::Line;
use futurepool_worker::frame::FrameReader;
use tokio::net::unix::OwnedReadHalf;

/// How many calls the pool runs at once per worker: the one the worker runs, those sent
/// behind it (see [`MAX_BEHIND`]) and the rest waiting in the pool's [`Line`], ready to be
/// sent.
pub(crate) const PIPELINE_DEPTH: usize = 4;

/// How many calls a worker may hold behind its running one once the pool has had a call at
/// a priority other than `NORMAL`. A call sent to a worker counts as started, so more would
/// let more than one call per worker start ahead of a higher-priority call submitted after
/// them.
const MAX_BEHIND: usize = 1;

/// How many calls a worker may hold behind its running one while every call of the pool has
/// been at `NORMAL` priority (none can be overtaken by a better one then): tiny calls keep
/// the worker busy even when the pool is slow to send the next.
const MAX_BEHIND_UNPRIORITIZED: usize = 3;

/// The largest call sent behind a running one.
const PIPELINE_MAX_CALL: usize = 16 * 1024;

/// A call is sent behind a running one only if the running one has run for less than this,
/// and its function usually takes less.
const SHORT: Duration = Duration::from_millis(1);

/// How a call ended, as told to the task that sent it.
pub(crate) enum Answer {
    /// The worker answered, after running the call for this long (from when it reached the
    /// front of the worker's queue, so time spent waiting behind another call is left out).
    Reply(Outcome, Duration),
    /// The worker process died while running the call; how it ended.
    Died(String),
    /// The call ran past its timeout; the worker was killed.
    TimedOut,
    /// The call never started (the worker ended first): send it again elsewhere.
    NotStarted,
}

/// A call for the driver.
pub(crate) struct Request {
    pub(crate) id: u64,
    /// The whole frame: length prefix and encoded call.
    pub(crate) call: Arc<Vec<u8>>,
    pub(crate) function: &'static str,
    pub(crate) timeout: Option<Duration>,
    pub(crate) answer: oneshot::Sender<Answer>,
}

enum Message {
    Call(Request),
    /// The task of this call no longer waits (cancelled or dropped).
    Cancel(u64),
    /// End the worker once it has no call.
    Retire,
}

/// What the pool's workers share with their drivers: the live connections, their pids, how
/// long each function takes, and a signal when a worker gets room.
#[derive(Default)]
pub(crate) struct Roster {
    pub(crate) conns: Mutex<Vec<Arc<Conn>>>,
    pub(crate) pids: Mutex<BTreeSet<u32>>,
    durations: Mutex<HashMap<&'static str, Duration>>,
    /// Notified when a worker answers, ends, or gives back a reservation.
    pub(crate) changed: Notify,
    /// Set by the first call at a priority other than `NORMAL`: from then on at most
    /// [`MAX_BEHIND`] calls wait behind a running one.
    pub(crate) prioritized: AtomicBool,
    /// The calls that have no worker yet, in the order they get one.
    pub(crate) line: Line,
}

impl Roster {
    fn record(&self, function: &'static str, took: Duration) {
        let mut durations = lock(&self.durations);
        let average = durations.entry(function).or_insert(took);
        *average = (*average * 7 + took) / 8;
    }

    /// Whether calls of `function` usually take less than [`SHORT`] (unknown: no).
    fn is_short(&self, function: &'static str) -> bool {
        lock(&self.durations)
            .get(function)
            .is_some_and(|d| *d < SHORT)
    }

    /// How many calls a worker may hold behind its running one.
    fn max_behind(&self) -> usize {
        if self.prioritized.load(Ordering::Relaxed) {
            MAX_BEHIND
        } else {
            MAX_BEHIND_UNPRIORITIZED
        }
    }

    fn remove(&self, conn: &Arc<Conn>) {
        lock(&self.conns).retain(|c| !Arc::ptr_eq(c, conn));
        lock(&self.pids).remove(&conn.pid);
    }
}

/// A worker process's handle: tasks reserve room on it, then send their call.
pub(crate) struct Conn {
    pid: u32,
    served: Arc<[Signature]>,
    messages: mpsc::UnboundedSender<Message>,
    state: Mutex<State>,
    max_calls: Option<u64>,
}

#[derive(Default)]
struct State {
    /// Calls reserved or sent and not answered.
    in_flight: usize,
    /// Calls ever reserved (for `max_tasks_per_child`).
    accepted: u64,
    /// The running call's function and since when it runs.
    front: Option<(&'static str, Instant)>,
    /// No more calls: the worker is ending.
    closed: bool,
}

impl Conn {
    /// Starts driving `child` on `handle`; the connection is registered in `roster`.
    pub(crate) fn drive(
        child: Child,
        roster: &Arc<Roster>,
        max_calls: Option<u64>,
        handle: &Handle,
    ) -> Arc<Conn> {
        let (messages, inbox) = mpsc::unbounded_channel();
        let conn = Arc::new(Conn {
            pid: child.pid(),
            served: child.served(),
            messages,
            state: Mutex::new(State::default()),
            max_calls,
        });
        lock(&roster.pids).insert(conn.pid);
        lock(&roster.conns).push(Arc::clone(&conn));
        drop(handle.spawn(run(child, inbox, Arc::clone(&conn), Arc::clone(roster))));
        conn
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    pub(crate) fn served(&self) -> &[Signature] {
        &self.served
    }

    /// Reserves room for one call of `function`: on an idle worker, or (with `pipeline`, for
    /// a small call of a short function) behind a short running call. `false` if there is none.
    ///
    /// Only calls of short functions are ever sent behind others, so whatever waits in a
    /// worker is short: a long task never holds another back.
    pub(crate) fn try_reserve(
        &self,
        pipeline: bool,
        function: &'static str,
        call_len: usize,
        roster: &Roster,
    ) -> bool {
        let mut state = lock(&self.state);
        let room = room(&state, self.max_calls, pipeline, function, call_len, roster);
        if room {
            state.in_flight += 1;
            state.accepted += 1;
        }
        room
    }

    /// Gives back a reservation that was not used.
    pub(crate) fn unreserve(&self, roster: &Roster) {
        {
            let mut state = lock(&self.state);
            state.in_flight -= 1;
            state.accepted -= 1;
        }
        roster.changed.notify_waiters();
    }

    /// Sends a reserved call; `false` if the worker already ended (its answer never comes).
    pub(crate) fn send(&self, request: Request) -> bool {
        let sent = self.messages.send(Message::Call(request)).is_ok();
        if !sent {
            // The driver is gone (its runtime shut down): take no more calls.
            lock(&self.state).closed = true;
        }
        sent
    }

    /// Tells the driver that the task of call `id` no longer waits: a running call's worker
    /// is killed; a waiting one is killed when it would start.
    pub(crate) fn cancel(&self, id: u64) {
        let _ = self.messages.send(Message::Cancel(id));
    }

    /// Ends the worker once it has no call; takes no new ones.
    pub(crate) fn retire(&self) {
        lock(&self.state).closed = true;
        let _ = self.messages.send(Message::Retire);
    }
}

/// Whether a worker in `state` has room for a call of `function` (`call_len` bytes): idle,
/// or (with `pipeline`) running a short call with room behind it.
fn room(
    state: &State,
    max_calls: Option<u64>,
    pipeline: bool,
    function: &'static str,
    call_len: usize,
    roster: &Roster,
) -> bool {
    if state.closed || max_calls.is_some_and(|max| state.accepted >= max) {
        return false;
    }
    if state.in_flight == 0 {
        return true;
    }
    pipeline
        && state.in_flight <= roster.max_behind()
        && call_len <= PIPELINE_MAX_CALL
        && roster.is_short(function)
        && state
            .front
            .is_some_and(|(f, since)| since.elapsed() < SHORT && roster.is_short(f))
}

/// A sent call waiting for its answer.
struct Pending {
    id: u64,
    function: &'static str,
    timeout: Option<Duration>,
    answer: oneshot::Sender<Answer>,
    cancelled: bool,
}

/// Why the driver stops.
enum End {
    /// The channel closed: the process died (its status is read next).
    Died,
    /// The process ended (seen by its reaper, even while something else, such as a
    /// grandchild, holds its channel open).
    Exited(std::process::ExitStatus),
    /// The running call's timeout passed.
    TimedOut,
    /// The running call's task was cancelled, or the worker broke the protocol.
    Killed,
    /// Writing a call failed; the call never started.
    WriteFailed,
    /// Retired: no calls left.
    Retired,
}

/// The state of one worker's driver.
struct Driver {
    conn: Arc<Conn>,
    roster: Arc<Roster>,
    queue: VecDeque<Pending>,
    since: Instant,
    answered: u64,
    retiring: bool,
}

impl Driver {
    /// Handles one reply frame; `Some` when the driver must stop.
    fn reply(&mut self, frame: &[u8]) -> Option<End> {
        let Some(done) = self.queue.pop_front() else {
            return Some(End::Killed);
        };
        let reply = match codec::decode::<Reply>(frame) {
            Ok(reply) if reply.id == done.id => reply,
            _ => {
                let _ = done.answer.send(Answer::Died(
                    "it sent a reply that does not match its call, and was killed".to_owned(),
                ));
                return Some(End::Killed);
            }
        };
        let now = Instant::now();
        let took = now - self.since;
        self.roster.record(done.function, took);
        let _ = done.answer.send(Answer::Reply(reply.outcome, took));
        self.answered += 1;
        self.since = now;
        {
            let mut state = lock(&self.conn.state);
            state.in_flight -= 1;
            state.front = self.queue.front().map(|p| (p.function, now));
            if self.conn.max_calls.is_some_and(|max| self.answered >= max) {
                state.closed = true;
                self.retiring = true;
            }
        }
        self.roster.changed.notify_waiters();
        if self.queue.front().is_some_and(|p| p.cancelled) {
            return Some(End::Killed);
        }
        if self.retiring && self.queue.is_empty() {
            return Some(End::Retired);
        }
        None
    }

    /// The worker process ended (with `status`): the replies it wrote before are answered
    /// first.
    fn exited(
        &mut self,
        reader: &mut FrameReader<OwnedReadHalf>,
        status: std::io::Result<std::process::ExitStatus>,
    ) -> End {
        while let Ok(Some(frame)) = reader.try_next() {
            if let Some(end) = self.reply(&frame) {
                return end;
            }
        }
        match status {
            Ok(status) => End::Exited(status),
            Err(_) => End::Died,
        }
    }

    /// Queues a call that was written to the worker.
    fn sent(&mut self, request: Request) {
        if self.queue.is_empty() {
            self.since = Instant::now();
            lock(&self.conn.state).front = Some((request.function, self.since));
        }
        self.queue.push_back(Pending {
            id: request.id,
            function: request.function,
            timeout: request.timeout,
            answer: request.answer,
            cancelled: false,
        });
    }
}

/// The driver: one Tokio task per worker process.
async fn run(
    mut child: Child,
    mut inbox: mpsc::UnboundedReceiver<Message>,
    conn: Arc<Conn>,
    roster: Arc<Roster>,
) {
    let mut driver = Driver {
        conn: Arc::clone(&conn),
        roster: Arc::clone(&roster),
        queue: VecDeque::new(),
        since: Instant::now(),
        answered: 0,
        retiring: false,
    };
    let mut unsent = None;
    let end = loop {
        let deadline = driver
            .queue
            .front()
            .and_then(|p| p.timeout)
            .map(|t| driver.since + t);
        tokio::select! {
            frame = child.reader.next() => {
                let Ok(Some(frame)) = frame else { break End::Died };
                if let Some(end) = driver.reply(&frame) {
                    break end;
                }
            }
            status = child.process.wait() => break driver.exited(&mut child.reader, status),
            message = inbox.recv() => match message {
                Some(Message::Call(request)) => {
                    // A large call may wait for room in the socket: the process's end is
                    // watched meanwhile, as a grandchild may hold the socket open.
                    let written = tokio::select! {
                        written = child.writer.write_all(&request.call) => written,
                        status = child.process.wait() => {
                            unsent = Some(request);
                            break driver.exited(&mut child.reader, status);
                        }
                    };
                    if let Err(e) = written {
                        // The worker is gone or its channel broken (perhaps mid-frame):
                        // this call never started.
                        tracing::warn!(pid = child.pid(), error = %e, "writing a call to a worker process failed");
                        unsent = Some(request);
                        break End::WriteFailed;
                    }
                    driver.sent(request);
                }
                Some(Message::Cancel(id)) => {
                    if driver.queue.front().is_some_and(|p| p.id == id) {
                        break End::Killed;
                    }
                    if let Some(p) = driver.queue.iter_mut().find(|p| p.id == id) {
                        p.cancelled = true;
                    }
                }
                Some(Message::Retire) | None => {
                    driver.retiring = true;
                    if driver.queue.is_empty() {
                        break End::Retired;
                    }
                }
            },
            () = sleep_until(deadline), if deadline.is_some() => break End::TimedOut,
        }
    };
    lock(&conn.state).closed = true;
    inbox.close();
    let pid = child.pid();
    let mut queue = driver.queue;
    let front = queue.pop_front();
    let answer = match end {
        End::Died => {
            let how = child.how_it_ended().await;
            drop(child); // gives its place back
            tracing::warn!(pid, %how, "a worker process died");
            Answer::Died(how)
        }
        End::Exited(status) => {
            let how = describe(status);
            // Whatever still holds its channel (a grandchild) does not keep its place.
            drop(child);
            tracing::warn!(pid, %how, "a worker process died");
            Answer::Died(how)
        }
        End::TimedOut => {
            tracing::warn!(
                pid,
                "a task ran past its timeout; killing its worker process"
            );
            child.kill().await;
            Answer::TimedOut
        }
        End::WriteFailed => {
            child.kill().await;
            Answer::Died("its channel failed and it was killed".to_owned())
        }
        End::Killed | End::Retired => {
            child.kill().await;
            Answer::Died("it was killed".to_owned())
        }
    };
    if let Some(front) = front {
        let _ = front.answer.send(answer);
    }
    if let Some(request) = unsent {
        let _ = request.answer.send(Answer::NotStarted);
    }
    for waiting in queue {
        let _ = waiting.answer.send(Answer::NotStarted);
    }
    while let Ok(message) = inbox.try_recv() {
        if let Message::Call(request) = message {
            let _ = request.answer.send(Answer::NotStarted);
        }
    }
    roster.remove(&conn);
    roster.changed.notify_waiters();
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
#[path = "conn_tests.rs"]
mod tests;
