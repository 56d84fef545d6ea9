//! What one task does: find room on a worker, send the call, wait for the answer, and turn it
//! into the task's result. A call that never started (its worker ended first) is sent again.

use std::sync::Arc;
use std::time::Duration;

use futurepool_core::TaskError;
use futurepool_worker::{Call, Failure, Outcome, RemoteFn, Signature, frame};
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use crate::conn::{Answer, Conn, Request};
use crate::line::Ticket;
use crate::workers::Workers;

/// Runs one encoded call (id `id`) of `f` on a worker.
pub(crate) async fn run<A, R>(
    workers: Arc<Workers>,
    f: RemoteFn<A, R>,
    id: u64,
    call: Arc<Vec<u8>>,
    mut ticket: Ticket,
) -> Result<R, TaskError>
where
    R: DeserializeOwned,
{
    let timeout = workers.settings.task_timeout;
    let check = |served: &[Signature]| f.check_served(served);
    let (outcome, _) = exchange(&workers, &mut ticket, f.name(), &check, id, call, timeout).await?;
    f.result(outcome).map_err(TaskError::from)
}

/// Sends the call `call` (a whole frame, id `id`) of the function `name` to a worker that
/// `check` accepts, once its `ticket` is first in line, and waits for its undecoded outcome
/// and how long the worker ran it; `timeout` bounds the run.
pub(crate) async fn exchange(
    workers: &Workers,
    ticket: &mut Ticket,
    name: &'static str,
    check: &(dyn Fn(&[Signature]) -> Result<(), Failure> + Sync),
    id: u64,
    call: Arc<Vec<u8>>,
    timeout: Option<Duration>,
) -> Result<(Outcome, Duration), TaskError> {
    loop {
        let conn = workers.checkout(ticket, name, call.len()).await?;
        if let Err(failure) = check(conn.served()) {
            conn.unreserve(&workers.roster);
            return Err(TaskError::from(failure));
        }
        let (answer, answered) = oneshot::channel();
        let sent = conn.send(Request {
            id,
            call: Arc::clone(&call),
            function: name,
            timeout,
            answer,
        });
        if !sent {
            continue;
        }
        let watch = CancelOnDrop { conn: &conn, id };
        let answer = answered.await;
        std::mem::forget(watch);
        let pid = conn.pid();
        match answer {
            Ok(Answer::Reply(outcome, took)) => return Ok((outcome, took)),
            Ok(Answer::Died(how)) => return Err(died(workers, pid, name, &how)),
            Ok(Answer::TimedOut) => {
                let limit = timeout.unwrap_or_default();
                return Err(TaskError::timeout(format!(
                    "`{name}` ran past the task timeout of {limit:?}; its worker process {pid} was killed"
                )));
            }
            Ok(Answer::NotStarted) | Err(_) => {}
        }
    }
}

/// Tells the worker's driver when the task stops waiting (cancelled, or the pool shut down
/// now) so that it kills the worker running the call.
struct CancelOnDrop<'a> {
    conn: &'a Conn,
    id: u64,
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        self.conn.cancel(self.id);
    }
}

/// Runs an already-made `call` of the registered function `name` on a worker and gives back
/// the worker's outcome undecoded: what a remote worker with `isolate(true)` runs.
pub(crate) async fn run_call(
    workers: Arc<Workers>,
    name: &'static str,
    mut call: Call,
    mut ticket: Ticket,
) -> Result<Outcome, TaskError> {
    let id = workers.next_call_id();
    call.id = id;
    let bytes = Arc::new(framed_call(&workers, name, &call)?);
    let function = call.function;
    let check = |served: &[Signature]| function.check_served(served);
    let timeout = workers.settings.task_timeout;
    let (outcome, _) = exchange(&workers, &mut ticket, name, &check, id, bytes, timeout).await?;
    Ok(outcome)
}

/// `call` of `name` as a whole frame, checked against the pool's `max_message_size`.
pub(crate) fn framed_call(
    workers: &Workers,
    name: &str,
    call: &Call,
) -> Result<Vec<u8>, TaskError> {
    let framed = frame::encode_framed(call)
        .map_err(|e| TaskError::invalid(format!("the call of `{name}` failed to encode: {e}")))?;
    let size = framed.len() - 4;
    let limit = workers.settings.program.max_message;
    if size > limit {
        return Err(TaskError::invalid(format!(
            "the call of `{name}` is {size} bytes, over the max_message_size of {limit} bytes; it was not sent"
        )));
    }
    Ok(framed)
}

/// The crash error of a task whose worker `pid` died running `name`, as `how` says. With a
/// memory limit, a death by a signal names it: an allocation past `RLIMIT_AS` aborts.
pub(crate) fn died(workers: &Workers, pid: u32, name: &str, how: &str) -> TaskError {
    let limit = match workers.settings.program.max_memory {
        Some(bytes) if how.starts_with("signal") => format!(
            "; its memory is limited to {bytes} bytes (max_memory_per_child), and a task that \
             allocates past it dies this way"
        ),
        _ => String::new(),
    };
    TaskError::crashed(format!(
        "worker process {pid} running `{name}` died: {how}{limit}"
    ))
}
