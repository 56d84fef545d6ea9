//! Submitting a task: checked against the registry and the server's size limit, encoded,
//! then handed to the pool's [`AsyncPool`](futurepool_core::AsyncPool) as its driver's future:
//! the core accepts or refuses it (one atomic decision against `shutdown`), counts it, holds
//! its place in the bounded queue and cancels it.

use std::future::{Future, Ready, ready};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futurepool_core::{Task, TaskError, TrySubmitError};
use futurepool_worker::{RemoteFn, codec};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::RemotePool;
use super::driver::{Count, Unpublished, drive};

/// A task ready for the core: its driver, or the error it resolves to at once.
enum Prepared<Fut, R> {
    Call(Fut, Count),
    Invalid(Ready<Result<R, TaskError>>),
}

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
        if let Some(refused) = self.refused_if_shut() {
            return refused;
        }
        match self.prepare(f, &arg) {
            Prepared::Call(driver, count) => {
                count.count();
                self.tasks.submit_fallible(driver)
            }
            Prepared::Invalid(error) => self.tasks.submit_fallible(error),
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
        if self.tasks.is_shutdown() {
            return Err(TrySubmitError::Shutdown(arg));
        }
        let submitted = match self.prepare(f, &arg) {
            Prepared::Call(driver, count) => {
                count.count();
                self.tasks.try_submit_fallible(driver).map_err(forget)
            }
            Prepared::Invalid(error) => self.tasks.try_submit_fallible(error).map_err(forget),
        };
        submitted.map_err(|refused| match refused {
            TrySubmitError::Full(()) => TrySubmitError::Full(arg),
            TrySubmitError::Shutdown(()) => TrySubmitError::Shutdown(arg),
        })
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
        if let Some(refused) = self.refused_if_shut() {
            return refused;
        }
        match self.prepare(f, &arg) {
            Prepared::Call(driver, count) => {
                drop(arg);
                // Counted for `flush` once accepted: a submit still waiting for room is not
                // submitted yet.
                let task = self.tasks.submit_wait_fallible(driver).await;
                count.count();
                task
            }
            Prepared::Invalid(error) => self.tasks.submit_wait_fallible(error).await,
        }
    }

    /// After shutdown, the task refused (and counted) by the core, without encoding a call
    /// that cannot run.
    fn refused_if_shut<R: Send + 'static>(&self) -> Option<Task<R>> {
        self.tasks.is_shutdown().then(|| {
            self.tasks
                .submit_fallible(ready(Err::<R, _>(TaskError::shutdown())))
        })
    }

    /// The driver of `f(arg)`, or the error it resolves to at once.
    fn prepare<A, R>(
        &self,
        f: RemoteFn<A, R>,
        arg: &A,
    ) -> Prepared<impl Future<Output = Result<R, TaskError>> + Send + 'static + use<A, R>, R>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        let shared = &self.shared;
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        match self.encode_call(f, id, arg) {
            Ok(payload) => {
                let (unpublished, count) = Unpublished::new(shared);
                Prepared::Call(
                    drive(Arc::clone(shared), unpublished, f, id, payload),
                    count,
                )
            }
            Err(error) => Prepared::Invalid(ready(Err(error))),
        }
    }

    /// The encoded call of `f(arg)`, after checking that `f` is in the pool's registry and
    /// that the message fits the server's `max_payload`.
    fn encode_call<A: Serialize, R>(
        &self,
        f: RemoteFn<A, R>,
        id: u64,
        arg: &A,
    ) -> Result<Vec<u8>, TaskError> {
        let call = self.shared.registry.call(f, id, arg)?;
        let payload = codec::encode(&call).map_err(|e| {
            TaskError::invalid(format!("the call of `{}` failed to encode: {e}", f.name()))
        })?;
        let limit = self.shared.max_payload;
        let size = payload.len() + self.shared.header_bytes;
        if size > limit {
            return Err(TaskError::invalid(format!(
                "the call of `{}` is too large: {size} bytes (with its headers), over the NATS server's max_payload of {limit} bytes",
                f.name()
            )));
        }
        Ok(payload)
    }
}

/// A refusal without the future it gave back (dropped: its call is given back instead).
fn forget<F>(refused: TrySubmitError<F>) -> TrySubmitError<()> {
    match refused {
        TrySubmitError::Full(_) => TrySubmitError::Full(()),
        TrySubmitError::Shutdown(_) => TrySubmitError::Shutdown(()),
    }
}
