//! Submitting a task: checked against the registry and the server's size limit, encoded,
//! then handed to its driver.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use futurepool_core::{Promise, Task, TaskError};
use futurepool_worker::{Failure, RemoteFn, codec};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use super::RemotePool;
use super::driver::drive;
use crate::nats::wire::task_error;

impl RemotePool {
    /// Submits `f(arg)`: publishes the task to the namespace's stream and returns its [`Task`]
    /// at once. Never blocks, and works from any thread (the publishing runs on the runtime
    /// the pool was built on): when the server is briefly away, publishing is retried with the
    /// same message id (so the server stores the task once).
    ///
    /// A function missing from the pool's registry, an argument that does not encode, or a
    /// call larger than the server's `max_payload` (the message says both sizes) resolves at
    /// once to `is_invalid()`; after shutdown, to `is_shutdown()`. Publishing is retried only
    /// while it can succeed (a timeout, a server restarting), for at most a minute: a server
    /// that stays away fails the task with `is_timeout()`, one that refuses the message (for
    /// example, no permission) with `is_invalid()`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use futurepool_remote::RemotePool;
    /// # use futurepool_worker::{Registry, RemoteFn};
    /// fn add((a, b): (i64, i64)) -> i64 { a + b }
    /// const ADD: RemoteFn<(i64, i64), i64> = RemoteFn::new("add", add);
    /// # async fn f(pool: RemotePool) {
    /// let task = pool.submit(ADD, (40, 2));
    /// assert_eq!(task.await.unwrap(), 42);
    /// # }
    /// ```
    pub fn submit<A, R>(&self, f: RemoteFn<A, R>, arg: A) -> Task<R>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        let shared = &self.shared;
        let counters = &shared.counters;
        let Some(admitted) = shared.admit() else {
            counters.rejected.fetch_add(1, Ordering::Relaxed);
            return Task::ready(Err(TaskError::shutdown()));
        };
        counters.submitted.fetch_add(1, Ordering::Relaxed);
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let payload = match self.encode_call(f, id, &arg) {
            Ok(payload) => payload,
            Err(failure) => {
                counters.failed.fetch_add(1, Ordering::Relaxed);
                drop(admitted);
                return Task::ready(Err(task_error(failure)));
            }
        };
        let (promise, task) = Promise::new();
        let (tx, rx) = oneshot::channel();
        shared.waiting.insert(id, tx);
        counters.unpublished.fetch_add(1, Ordering::AcqRel);
        shared.runtime.spawn(drive(
            Arc::clone(shared),
            admitted,
            f,
            id,
            payload,
            rx,
            promise,
        ));
        task
    }

    /// The encoded call of `f(arg)`, after checking that `f` is in the pool's registry.
    fn encode_call<A: Serialize, R>(
        &self,
        f: RemoteFn<A, R>,
        id: u64,
        arg: &A,
    ) -> Result<Vec<u8>, Failure> {
        let wanted = f.signature();
        match self.shared.registry.signature(f.name()) {
            Some(known) if known.matches(&wanted) => {}
            Some(known) => {
                return Err(Failure::Invalid(format!(
                    "function `{}` has other types in the pool's registry: it holds {known}, the task wants {wanted}",
                    f.name()
                )));
            }
            None => {
                return Err(Failure::Invalid(format!(
                    "function `{}` is not in the pool's registry (add it with `Registry::with`)",
                    f.name()
                )));
            }
        }
        let call = f.call(id, arg)?;
        let payload = codec::encode(&call).map_err(|e| {
            Failure::Invalid(format!("the call of `{}` failed to encode: {e}", f.name()))
        })?;
        let limit = self.shared.max_payload;
        let size = payload.len() + self.shared.header_bytes;
        if size > limit {
            return Err(Failure::Invalid(format!(
                "the call of `{}` is too large: {size} bytes (with its headers), over the NATS server's max_payload of {limit} bytes",
                f.name()
            )));
        }
        Ok(payload)
    }
}
