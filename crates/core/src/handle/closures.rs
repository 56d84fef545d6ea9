//! What the two closure pools, [`BlockingPool`](crate::BlockingPool) and
//! [`CpuPool`](crate::CpuPool), share: submitting closures, written once.

use tokio_util::sync::CancellationToken;

use super::Pool;
use crate::error::TrySubmitError;
use crate::kind::{Closures, Threads};
use crate::priority::Priority;
use crate::task::{Body, Task};

/// Submitting closures, the same for a [`BlockingPool`](crate::BlockingPool) (`On` =
/// [`Blocking`](crate::kind::Blocking)) and a [`CpuPool`](crate::CpuPool) (`On` =
/// [`Cpu`](crate::kind::Cpu)).
impl<On: Threads> Pool<Closures<On>> {
    /// The most closures this pool runs at once: for a [`CpuPool`](crate::CpuPool), its
    /// number of threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(3).build().unwrap();
    /// assert_eq!(pool.max_workers(), 3);
    /// ```
    pub fn max_workers(&self) -> usize {
        self.core().queue.max_workers()
    }

    /// Submits a closure to run on the pool and returns its [`Task`].
    ///
    /// Never blocks and never panics. After [`shutdown`](Self::shutdown) the task resolves at
    /// once to an error with [`TaskError::is_shutdown`](crate::TaskError::is_shutdown); if the
    /// pool has a bounded queue and it is full, to one with
    /// [`TaskError::is_rejected`](crate::TaskError::is_rejected) (use
    /// [`submit_wait`](Self::submit_wait) or [`try_submit`](Self::try_submit) to respect the
    /// bound instead). A panic in `f` resolves the task to an error with
    /// [`TaskError::is_panic`](crate::TaskError::is_panic); the pool carries on.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::new();
    /// let task = pool.submit(|| (1..=10u64).product::<u64>());
    /// assert_eq!(task.blocking_wait().unwrap(), 3_628_800);
    /// ```
    ///
    /// In async code, await the task:
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::new();
    /// let dir = std::env::temp_dir();
    /// let entries = pool.submit(move || std::fs::read_dir(dir).map(|entries| entries.count()));
    /// println!("{} entries", entries.await.unwrap().unwrap());
    /// # }
    /// ```
    pub fn submit<F, T>(&self, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core().submit(Priority::NORMAL, Body::closure(f), None)
    }

    /// Submits a closure that can be told to stop: it receives a [`CancellationToken`] that
    /// [`Task::cancel`] and [`shutdown_now`](Self::shutdown_now) trigger.
    ///
    /// Poll `token.is_cancelled()` in long loops and return early. Once the token is
    /// triggered, the task resolves to an error with
    /// [`TaskError::is_cancelled`](crate::TaskError::is_cancelled) and the closure's return
    /// value is discarded, so a partial result never passes for a whole one.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(1).build().unwrap();
    /// let (started_tx, started) = std::sync::mpsc::channel();
    /// let task = pool.submit_cancellable(move |token| {
    ///     started_tx.send(()).unwrap();
    ///     let mut spins = 0u64;
    ///     while !token.is_cancelled() {
    ///         spins += 1;
    ///         std::hint::spin_loop();
    ///     }
    ///     spins
    /// });
    /// started.recv().unwrap();
    /// assert!(task.cancel());
    /// assert!(task.blocking_wait().unwrap_err().is_cancelled());
    /// ```
    pub fn submit_cancellable<F, T>(&self, f: F) -> Task<T>
    where
        F: FnOnce(CancellationToken) -> T + Send + 'static,
        T: Send + 'static,
    {
        let token = self.core().child_token();
        let given = token.clone();
        self.core().submit(
            Priority::NORMAL,
            Body::closure(move || f(given)),
            Some(token),
        )
    }

    /// Submits a closure only if it can be accepted now; otherwise gives it back.
    ///
    /// # Errors
    ///
    /// [`TrySubmitError::Full`] when the pool's bounded queue has no room,
    /// [`TrySubmitError::Shutdown`] after shutdown; both hold the closure.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().queue_capacity(8).build().unwrap();
    /// match pool.try_submit(|| 1) {
    ///     Ok(task) => assert_eq!(task.blocking_wait().unwrap(), 1),
    ///     Err(refused) => println!("not now: {refused}"),
    /// }
    /// ```
    pub fn try_submit<F, T>(&self, f: F) -> Result<Task<T>, TrySubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core().try_submit(Priority::NORMAL, f, Body::closure)
    }

    /// Submits a closure like [`submit`](Self::submit), at `priority`: among the pool's queued
    /// tasks, a higher priority starts first, and equal priorities in submission order.
    ///
    /// A running task is never interrupted, and with a worker free the task starts at once.
    /// See [`Priority`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{BlockingPool, Priority};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = BlockingPool::builder().max_workers(1).build().unwrap();
    /// let report = pool.submit_with_priority(Priority::LOW, || "nightly report");
    /// let click = pool.submit_with_priority(Priority::HIGH, || "button clicked");
    /// assert_eq!(click.await.unwrap(), "button clicked");
    /// assert_eq!(report.await.unwrap(), "nightly report");
    /// # }
    /// ```
    pub fn submit_with_priority<F, T>(&self, priority: Priority, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core().submit(priority, Body::closure(f), None)
    }

    /// Submits a closure at `priority` only if it can be accepted now; otherwise gives it
    /// back: [`try_submit`](Self::try_submit) with a [`Priority`].
    ///
    /// # Errors
    ///
    /// [`TrySubmitError::Full`] when the pool's bounded queue has no room,
    /// [`TrySubmitError::Shutdown`] after shutdown; both hold the closure.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{CpuPool, Priority};
    ///
    /// let pool = CpuPool::builder().max_workers(1).queue_capacity(16).build().unwrap();
    /// match pool.try_submit_with_priority(Priority::LOW, || 2 + 2) {
    ///     Ok(task) => assert_eq!(task.blocking_wait().unwrap(), 4),
    ///     Err(refused) => println!("busy, try later: {refused}"),
    /// }
    /// ```
    pub fn try_submit_with_priority<F, T>(
        &self,
        priority: Priority,
        f: F,
    ) -> Result<Task<T>, TrySubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core().try_submit(priority, f, Body::closure)
    }

    /// Submits a closure, first waiting for room in the pool's bounded queue.
    ///
    /// This waits for a place in the queue, not for the task: await the returned [`Task`]
    /// for that. Without a bounded queue it returns at once. If the pool shuts down while
    /// waiting, the task resolves to an error with
    /// [`TaskError::is_shutdown`](crate::TaskError::is_shutdown).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, `f` is dropped unsubmitted
    /// and no place in the queue is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::builder().queue_capacity(4).build().unwrap();
    /// let mut tasks = Vec::new();
    /// for i in 0..100u32 {
    ///     tasks.push(pool.submit_wait(move || i * 2).await);
    /// }
    /// let total: u32 = futures::future::try_join_all(tasks).await.unwrap().into_iter().sum();
    /// assert_eq!(total, 9900);
    /// # }
    /// ```
    pub async fn submit_wait<F, T>(&self, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core()
            .submit_wait(Priority::NORMAL, Body::closure(f))
            .await
    }

    /// Submits a closure at `priority`, first waiting for room in the pool's bounded queue:
    /// [`submit_wait`](Self::submit_wait) with a [`Priority`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, `f` is dropped unsubmitted
    /// and no place in the queue is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{CpuPool, Priority};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = CpuPool::builder().max_workers(1).queue_capacity(2).build().unwrap();
    /// let task = pool.submit_wait_with_priority(Priority::HIGH, || 3).await;
    /// assert_eq!(task.await.unwrap(), 3);
    /// # }
    /// ```
    pub async fn submit_wait_with_priority<F, T>(&self, priority: Priority, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core().submit_wait(priority, Body::closure(f)).await
    }
}
