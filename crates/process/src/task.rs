//! What one task does: check out a worker, send the call, wait for the reply, the worker's
//! death or the timeout, and turn the outcome into the task's result.

use std::sync::Arc;

use futurepool_core::TaskError;
use futurepool_worker::{Call, Failure, Outcome, RemoteFn, codec};
use serde::de::DeserializeOwned;

use crate::child::NoReply;
use crate::workers::Workers;

/// Runs one encoded call of `f` (already checked to encode) on a worker.
pub(crate) async fn run<A, R>(
    workers: Arc<Workers>,
    f: RemoteFn<A, R>,
    call: Vec<u8>,
) -> Result<R, TaskError>
where
    R: DeserializeOwned,
{
    let mut lease = workers.checkout().await?;
    let child = lease.child();
    if let Err(failure) = f.signature().check_served(child.served()) {
        lease.give_back();
        return Err(task_error(failure));
    }
    let pid = child.pid();
    match child.call(&call, workers.settings.task_timeout).await {
        Ok(reply) => {
            lease.give_back();
            f.result(reply.outcome).map_err(task_error)
        }
        Err(NoReply::Died(how)) => {
            lease.dead();
            tracing::warn!(pid, function = f.name(), %how, "a worker process died running a task");
            Err(TaskError::crashed(format!(
                "the worker process {pid} running `{}` died: {how}",
                f.name()
            )))
        }
        Err(NoReply::TimedOut) => {
            lease.kill().await;
            let limit = workers.settings.task_timeout.unwrap_or_default();
            Err(TaskError::timeout(format!(
                "`{}` ran past the task timeout of {limit:?}; its worker process {pid} was killed",
                f.name()
            )))
        }
    }
}

/// Runs an already-made `call` (any registered function, by its signature) on a worker and
/// gives back the worker's outcome undecoded: what a remote worker with `isolate(true)` runs.
pub(crate) async fn run_call(workers: Arc<Workers>, mut call: Call) -> Result<Outcome, TaskError> {
    call.id = workers.next_call_id();
    let name = call.function.name.clone();
    let bytes = codec::encode(&call)
        .map_err(|e| TaskError::invalid(format!("the call of `{name}` failed to encode: {e}")))?;
    let mut lease = workers.checkout().await?;
    let child = lease.child();
    if let Err(failure) = call.function.check_served(child.served()) {
        lease.give_back();
        return Err(task_error(failure));
    }
    let pid = child.pid();
    match child.call(&bytes, workers.settings.task_timeout).await {
        Ok(reply) => {
            lease.give_back();
            Ok(reply.outcome)
        }
        Err(NoReply::Died(how)) => {
            lease.dead();
            tracing::warn!(pid, function = %name, %how, "a worker process died running a task");
            Err(TaskError::crashed(format!(
                "the worker process {pid} running `{name}` died: {how}"
            )))
        }
        Err(NoReply::TimedOut) => {
            lease.kill().await;
            let limit = workers.settings.task_timeout.unwrap_or_default();
            Err(TaskError::timeout(format!(
                "`{name}` ran past the task timeout of {limit:?}; its worker process {pid} was killed"
            )))
        }
    }
}

/// The task error for a failure the worker reported.
pub(crate) fn task_error(failure: Failure) -> TaskError {
    match failure {
        Failure::Panicked(msg) => TaskError::panicked(msg),
        Failure::Invalid(msg) => TaskError::invalid(msg),
        // `Failure` is non-exhaustive: anything new the worker cannot run is invalid.
        other => TaskError::invalid(other.to_string()),
    }
}
