//! What one task does: find room on a worker, send the call, wait for the answer, and turn it
//! into the task's result. A call that never started (its worker ended first) is sent again.

use std::sync::Arc;

use futurepool_core::TaskError;
use futurepool_worker::{Failure, RemoteFn};
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use crate::conn::{Answer, Conn, Request};
use crate::workers::Workers;

/// Runs one encoded call (id `id`) of `f` on a worker.
pub(crate) async fn run<A, R>(
    workers: Arc<Workers>,
    f: RemoteFn<A, R>,
    id: u64,
    call: Arc<[u8]>,
) -> Result<R, TaskError>
where
    R: DeserializeOwned,
{
    loop {
        let conn = workers.checkout(f.name(), call.len()).await?;
        if let Err(failure) = f.check_served(conn.served()) {
            conn.unreserve(&workers.roster);
            return Err(task_error(failure));
        }
        let (answer, answered) = oneshot::channel();
        let sent = conn.send(Request {
            id,
            call: Arc::clone(&call),
            function: f.name(),
            timeout: workers.settings.task_timeout,
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
            Ok(Answer::Reply(outcome)) => return f.result(outcome).map_err(task_error),
            Ok(Answer::Died(how)) => {
                return Err(TaskError::crashed(format!(
                    "worker process {pid} running `{}` died: {how}",
                    f.name()
                )));
            }
            Ok(Answer::TimedOut) => {
                let limit = workers.settings.task_timeout.unwrap_or_default();
                return Err(TaskError::timeout(format!(
                    "`{}` ran past the task timeout of {limit:?}; its worker process {pid} was killed",
                    f.name()
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

/// The task error for a failure the worker reported.
pub(crate) fn task_error(failure: Failure) -> TaskError {
    TaskError::from(failure)
}
