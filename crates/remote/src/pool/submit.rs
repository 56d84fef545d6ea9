//! Submitting a task: checked against the registry and the server's size limit, encoded,
//! then handed to its driver.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use futurepool_core::{Promise, Task, TaskError, TrySubmitError};
use futurepool_worker::{Failure, RemoteFn, codec};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use super::RemotePool;
use super::driver::drive;
use super::room::{NoRoom, Place};
use crate::nats::wire::task_error;

impl RemotePool {
    /// Submits `f(arg)`: publishes the task to the namespace's stream and returns its [`Task`]
    /// at once. Never blocks, and works from any thread (the publishing runs on the runtime
    /// the pool was built on): when the server is briefly away, publishing is retried with the
    /// same message id (so the server stores the task once).
    ///
    /// A function missing from the pool's registry, an argument that does not encode, or a
    /// call larger than the server's `max_payload` (the message says both sizes) resolves at
    /// once to `is_invalid()`; after shutdown, to `is_shutdown()`; with a
    /// [`queue_capacity`](crate::RemotePoolBuilder::queue_capacity) that many tasks
    /// unresolved, to `is_rejected()` (see [`submit_wait`](Self::submit_wait) and
    /// [`try_submit`](Self::try_submit)). Publishing is retried only
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
        if shared.is_closed() {
            return self.refused(NoRoom::Shutdown);
        }
        match shared.room.take_now() {
            Ok(place) => self
                .submit_in(f, arg, place)
                .unwrap_or_else(|_| self.refused(NoRoom::Shutdown)),
            Err(why) => self.refused(why),
        }
    }

    /// Submits `f(arg)` only if the pool can take it now; otherwise gives `arg` back. Without
    /// a [`queue_capacity`](crate::RemotePoolBuilder::queue_capacity) the pool is never
    /// full. An accepted task is as with [`submit`](Self::submit) (an invalid call resolves
    /// to `is_invalid()`). A refusal is not counted in `stats().rejected`.
    ///
    /// # Errors
    ///
    /// [`TrySubmitError::Full`] when `queue_capacity` tasks are unresolved,
    /// [`TrySubmitError::Shutdown`] after shutdown; both hold `arg`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use futurepool_remote::RemotePool;
    /// # use futurepool_worker::{Registry, RemoteFn};
    /// use futurepool_core::TrySubmitError;
    /// fn shout(s: String) -> String { s.to_uppercase() }
    /// const SHOUT: RemoteFn<String, String> = RemoteFn::new("shout", shout);
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = RemotePool::builder(Registry::new().with(SHOUT)).queue_capacity(100).build().await?;
    /// match pool.try_submit(SHOUT, "hello".to_owned()) {
    ///     Ok(task) => assert_eq!(task.await?, "HELLO"),
    ///     Err(TrySubmitError::Full(arg)) => println!("busy, {arg:?} kept for later"),
    ///     Err(TrySubmitError::Shutdown(arg)) => println!("closed, {arg:?} not sent"),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn try_submit<A, R>(&self, f: RemoteFn<A, R>, arg: A) -> Result<Task<R>, TrySubmitError<A>>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        if self.shared.is_closed() {
            return Err(TrySubmitError::Shutdown(arg));
        }
        match self.shared.room.take_now() {
            Ok(place) => self
                .submit_in(f, arg, place)
                .map_err(TrySubmitError::Shutdown),
            Err(NoRoom::Full) => Err(TrySubmitError::Full(arg)),
            Err(NoRoom::Shutdown) => Err(TrySubmitError::Shutdown(arg)),
        }
    }

    /// Submits `f(arg)` once the pool has room: waits while
    /// [`queue_capacity`](crate::RemotePoolBuilder::queue_capacity) tasks are unresolved (a
    /// place frees as a task is answered, fails or is cancelled), then is
    /// [`submit`](Self::submit). Without a bound it never waits. A shutdown, before or while
    /// it waits, resolves the task at once to `is_shutdown()`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropped while waiting, it submits nothing (and drops `arg`).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use futurepool_remote::RemotePool;
    /// # use futurepool_worker::{Registry, RemoteFn};
    /// fn square(n: u64) -> u64 { n * n }
    /// const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = RemotePool::builder(Registry::new().with(SQUARE)).queue_capacity(8).build().await?;
    /// let mut tasks = Vec::new();
    /// for n in 0..1_000u64 {
    ///     // Never more than 8 tasks in the stream or on the workers at once.
    ///     tasks.push(pool.submit_wait(SQUARE, n).await);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn submit_wait<A, R>(&self, f: RemoteFn<A, R>, arg: A) -> Task<R>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        if self.shared.is_closed() {
            return self.refused(NoRoom::Shutdown);
        }
        match self.shared.room.take().await {
            Ok(place) => self
                .submit_in(f, arg, place)
                .unwrap_or_else(|_| self.refused(NoRoom::Shutdown)),
            Err(why) => self.refused(why),
        }
    }

    /// A task refused at submission (counted), resolved at once.
    fn refused<R>(&self, why: NoRoom) -> Task<R> {
        self.shared
            .counters
            .rejected
            .fetch_add(1, Ordering::Relaxed);
        Task::ready(Err(match why {
            NoRoom::Full => TaskError::rejected(),
            NoRoom::Shutdown => TaskError::shutdown(),
        }))
    }

    /// Submits `f(arg)` holding `place` in the room; gives `arg` back (and the place) if the
    /// pool is shut down.
    fn submit_in<A, R>(&self, f: RemoteFn<A, R>, arg: A, place: Place) -> Result<Task<R>, A>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        let shared = &self.shared;
        let counters = &shared.counters;
        let Some(admitted) = shared.admit(place) else {
            return Err(arg);
        };
        counters.submitted.fetch_add(1, Ordering::Relaxed);
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let payload = match self.encode_call(f, id, &arg) {
            Ok(payload) => payload,
            Err(failure) => {
                counters.failed.fetch_add(1, Ordering::Relaxed);
                drop(admitted);
                return Ok(Task::ready(Err(task_error(failure))));
            }
        };
        drop(arg);
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
        Ok(task)
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
