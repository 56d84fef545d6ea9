//! The bounded-queue forms of [`AsyncPool::submit_fallible`]: `try_submit_fallible` and
//! `submit_wait_fallible`, with their priority variants. A pool built on an `AsyncPool` (a
//! remote pool, say) gets its lifecycle, counts and backpressure from the core through them.

use std::future::Future;

use super::AsyncPool;
use crate::error::{TaskError, TrySubmitError};
use crate::priority::Priority;
use crate::task::{Body, Task};

impl AsyncPool {
    /// Submits a future whose output is already a task outcome (as
    /// [`submit_fallible`](Self::submit_fallible)) only if it can be accepted now; otherwise
    /// gives it back.
    ///
    /// # Errors
    ///
    /// [`TrySubmitError::Full`] when the bounded queue has no room,
    /// [`TrySubmitError::Shutdown`] after shutdown; both hold the future.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{AsyncPool, TaskError, TrySubmitError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = AsyncPool::builder().max_concurrency(1).queue_capacity(0).build().unwrap();
    /// let held = pool.try_submit_fallible(std::future::pending::<Result<u8, TaskError>>()).unwrap();
    /// match pool.try_submit_fallible(async { Ok::<u8, TaskError>(1) }) {
    ///     Err(TrySubmitError::Full(fut)) => assert_eq!(fut.await.unwrap(), 1), // given back
    ///     other => panic!("expected Full, got {other:?}"),
    /// }
    /// held.cancel();
    /// # }
    /// ```
    pub fn try_submit_fallible<Fut, T>(&self, fut: Fut) -> Result<Task<T>, TrySubmitError<Fut>>
    where
        Fut: Future<Output = Result<T, TaskError>> + Send + 'static,
        T: Send + 'static,
    {
        self.try_submit_fallible_with_priority(Priority::NORMAL, fut)
    }

    /// [`try_submit_fallible`](Self::try_submit_fallible) at `priority`: among queued futures
    /// a higher priority starts first.
    ///
    /// # Errors
    ///
    /// [`TrySubmitError::Full`] when the bounded queue has no room,
    /// [`TrySubmitError::Shutdown`] after shutdown; both hold the future.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{AsyncPool, Priority, TaskError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = AsyncPool::builder().queue_capacity(4).build().unwrap();
    /// let task = pool
    ///     .try_submit_fallible_with_priority(Priority::HIGH, async { Err::<u8, _>(TaskError::invalid("bad")) })
    ///     .unwrap();
    /// assert!(task.await.unwrap_err().is_invalid());
    /// # }
    /// ```
    pub fn try_submit_fallible_with_priority<Fut, T>(
        &self,
        priority: Priority,
        fut: Fut,
    ) -> Result<Task<T>, TrySubmitError<Fut>>
    where
        Fut: Future<Output = Result<T, TaskError>> + Send + 'static,
        T: Send + 'static,
    {
        self.core().try_submit(priority, fut, Body::fallible_future)
    }

    /// Submits a future whose output is already a task outcome (as
    /// [`submit_fallible`](Self::submit_fallible)), first waiting for room in the pool's
    /// bounded queue. Without a bound it returns at once; a shutdown, before or while it
    /// waits, resolves the task to `is_shutdown()`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before it completes, `fut` is dropped unsubmitted.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{AsyncPool, TaskError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = AsyncPool::builder().max_concurrency(2).queue_capacity(2).build().unwrap();
    /// let mut tasks = Vec::new();
    /// for i in 0..10u32 {
    ///     // At most four tasks in the pool at once.
    ///     tasks.push(pool.submit_wait_fallible(async move { Ok::<_, TaskError>(i) }).await);
    /// }
    /// assert_eq!(futures::future::try_join_all(tasks).await.unwrap().len(), 10);
    /// # }
    /// ```
    pub async fn submit_wait_fallible<Fut, T>(&self, fut: Fut) -> Task<T>
    where
        Fut: Future<Output = Result<T, TaskError>> + Send + 'static,
        T: Send + 'static,
    {
        self.submit_wait_fallible_with_priority(Priority::NORMAL, fut)
            .await
    }

    /// [`submit_wait_fallible`](Self::submit_wait_fallible) at `priority`: among queued
    /// futures a higher priority starts first.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before it completes, `fut` is dropped unsubmitted.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::{AsyncPool, Priority, TaskError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = AsyncPool::builder().max_concurrency(1).queue_capacity(1).build().unwrap();
    /// let task = pool
    ///     .submit_wait_fallible_with_priority(Priority::LOW, async { Ok::<_, TaskError>(3) })
    ///     .await;
    /// assert_eq!(task.await.unwrap(), 3);
    /// # }
    /// ```
    pub async fn submit_wait_fallible_with_priority<Fut, T>(
        &self,
        priority: Priority,
        fut: Fut,
    ) -> Task<T>
    where
        Fut: Future<Output = Result<T, TaskError>> + Send + 'static,
        T: Send + 'static,
    {
        self.core()
            .submit_wait(priority, Body::fallible_future(fut))
            .await
    }
}
