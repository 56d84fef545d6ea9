//! The submission and shutdown methods shared by the two pools of synchronous closures,
//! [`BlockingPool`](crate::BlockingPool) and [`CpuPool`](crate::CpuPool).
//!
//! Each pool provides four private hooks (`shared`, `spawn`, `close`, `stopped`) and this macro
//! writes the public methods on top of them, so both pools behave the same way to the letter.

/// Writes the public closure-pool API for `$pool`; `$new` is an expression building one, used in
/// the doc examples.
macro_rules! closure_pool_api {
    ($pool:ident, $new:literal) => {
        impl $pool {
            /// Submits a closure to run on the pool and returns its [`Task`].
            ///
            /// Never blocks and never panics. After [`shutdown`](Self::shutdown) the task
            /// resolves at once to an error with [`TaskError::is_shutdown`](crate::TaskError::is_shutdown); if the pool has a
            /// bounded queue and it is full, to one with [`TaskError::is_rejected`](crate::TaskError::is_rejected) (use
            /// [`submit_wait`](Self::submit_wait) or [`try_submit`](Self::try_submit) to respect
            /// the bound instead). A panic in `f` resolves the task to an error with
            /// [`TaskError::is_panic`](crate::TaskError::is_panic); the pool carries on.
            ///
            /// # Examples
            ///
            /// ```
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            #[doc = concat!("let pool = futurepool_core::", $new, ";")]
            /// let task = pool.submit(|| (1..=10u64).product::<u64>());
            /// assert_eq!(task.await.unwrap(), 3_628_800);
            /// # }
            /// ```
            pub fn submit<F, T>(&self, f: F) -> Task<T>
            where
                F: FnOnce() -> T + Send + 'static,
                T: Send + 'static,
            {
                match self.shared().try_reserve() {
                    Ok(permit) => self.spawn(f, permit, None),
                    Err(why) => self.shared().refused(why),
                }
            }

            /// Submits a closure that can be told to stop: it receives a
            /// [`CancellationToken`] that [`Task::cancel`] and
            /// [`shutdown_now`](Self::shutdown_now) trigger.
            ///
            /// Poll `token.is_cancelled()` in long loops and return early. Once the token is
            /// triggered, the task resolves to an error with [`TaskError::is_cancelled`](crate::TaskError::is_cancelled) and the
            /// closure's return value is discarded, so a partial result never passes for a
            /// whole one.
            ///
            /// # Examples
            ///
            /// ```
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            #[doc = concat!("let pool = futurepool_core::", $new, ";")]
            /// let (started_tx, started) = tokio::sync::oneshot::channel();
            /// let task = pool.submit_cancellable(move |token| {
            ///     started_tx.send(()).unwrap();
            ///     let mut spins = 0u64;
            ///     while !token.is_cancelled() {
            ///         spins += 1;
            ///         std::hint::spin_loop();
            ///     }
            ///     spins
            /// });
            /// started.await.unwrap();
            /// assert!(task.cancel());
            /// assert!(task.await.unwrap_err().is_cancelled());
            /// # }
            /// ```
            pub fn submit_cancellable<F, T>(&self, f: F) -> Task<T>
            where
                F: FnOnce(CancellationToken) -> T + Send + 'static,
                T: Send + 'static,
            {
                match self.shared().try_reserve() {
                    Ok(permit) => {
                        let token = self.shared().kill.child_token();
                        let given = token.clone();
                        self.spawn(move || f(given), permit, Some(token))
                    }
                    Err(why) => self.shared().refused(why),
                }
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
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            #[doc = concat!("let pool = futurepool_core::", $new, ";")]
            /// match pool.try_submit(|| 1) {
            ///     Ok(task) => assert_eq!(task.await.unwrap(), 1),
            ///     Err(refused) => println!("not now: {refused}"),
            /// }
            /// # }
            /// ```
            pub fn try_submit<F, T>(&self, f: F) -> Result<Task<T>, TrySubmitError<F>>
            where
                F: FnOnce() -> T + Send + 'static,
                T: Send + 'static,
            {
                match self.shared().try_reserve() {
                    Ok(permit) => Ok(self.spawn(f, permit, None)),
                    Err(Refusal::Full) => Err(TrySubmitError::Full(f)),
                    Err(Refusal::Shutdown) => Err(TrySubmitError::Shutdown(f)),
                }
            }

            /// Submits a closure, first waiting for room in the pool's bounded queue.
            ///
            /// This waits for a place in the queue, not for the task: await the returned
            /// [`Task`] for that. Without a bounded queue it returns at once. If the pool shuts
            /// down while waiting, the task resolves to an error with
            /// [`TaskError::is_shutdown`](crate::TaskError::is_shutdown).
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: if the future is dropped before it completes, `f` is dropped
            /// unsubmitted and no place in the queue is lost.
            ///
            /// # Examples
            ///
            /// ```
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            #[doc = concat!("let pool = futurepool_core::", $new, ";")]
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
                match self.shared().reserve().await {
                    Ok(permit) => self.spawn(f, permit, None),
                    Err(why) => self.shared().refused(why),
                }
            }

            /// Shuts the pool down gracefully: stops accepting work at once, and the returned
            /// future completes when every queued and running task has finished.
            ///
            /// Calling it again (or after [`shutdown_now`](Self::shutdown_now)) is harmless.
            /// Work is refused from the moment of the call, even if the future is never awaited.
            ///
            /// # Examples
            ///
            /// ```
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            #[doc = concat!("let pool = futurepool_core::", $new, ";")]
            /// let task = pool.submit(|| "queued before shutdown");
            /// pool.shutdown().await;
            /// assert!(task.is_finished());
            /// assert!(pool.submit(|| ()).await.unwrap_err().is_shutdown());
            /// # }
            /// ```
            pub fn shutdown(&self) -> impl Future<Output = ()> + Send + 'static {
                self.close();
                self.stopped()
            }

            /// Shuts the pool down now: stops accepting work, cancels every task that has not
            /// started, triggers the tokens of running cooperative closures, and completes when
            /// the running closures have returned.
            ///
            /// # Examples
            ///
            /// ```
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            #[doc = concat!("let pool = futurepool_core::", $new, ";")]
            /// let task = pool.submit_cancellable(|token| {
            ///     while !token.is_cancelled() {
            ///         std::thread::yield_now();
            ///     }
            /// });
            /// pool.shutdown_now().await;
            /// assert!(task.await.unwrap_err().is_cancelled());
            /// # }
            /// ```
            pub fn shutdown_now(&self) -> impl Future<Output = ()> + Send + 'static {
                self.close();
                self.shared().kill();
                self.drop_queued();
                self.stopped()
            }

            /// Whether [`shutdown`](Self::shutdown) or [`shutdown_now`](Self::shutdown_now) was
            /// called.
            ///
            /// # Examples
            ///
            /// ```
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            #[doc = concat!("let pool = futurepool_core::", $new, ";")]
            /// assert!(!pool.is_shutdown());
            /// pool.shutdown().await;
            /// assert!(pool.is_shutdown());
            /// # }
            /// ```
            pub fn is_shutdown(&self) -> bool {
                self.shared().is_shutdown()
            }

            /// A snapshot of the pool's task counters.
            ///
            /// # Examples
            ///
            /// ```
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            #[doc = concat!("let pool = futurepool_core::", $new, ";")]
            /// pool.submit(|| ()).await.unwrap();
            /// assert_eq!(pool.stats().completed, 1);
            /// # }
            /// ```
            pub fn stats(&self) -> PoolStats {
                self.shared().stats()
            }

            /// The pool's name, as it appears in each task's `tracing` span.
            ///
            /// # Examples
            ///
            /// ```
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            #[doc = concat!("let pool = futurepool_core::", $new, ";")]
            /// assert!(!pool.name().is_empty());
            /// # }
            /// ```
            pub fn name(&self) -> &str {
                &self.shared().name
            }
        }

        impl Executor for $pool {
            fn submit<F, T>(&self, f: F) -> Task<T>
            where
                F: FnOnce() -> T + Send + 'static,
                T: Send + 'static,
            {
                $pool::submit(self, f)
            }

            fn max_workers(&self) -> usize {
                $pool::max_workers(self)
            }

            fn is_shutdown(&self) -> bool {
                $pool::is_shutdown(self)
            }

            fn stats(&self) -> PoolStats {
                $pool::stats(self)
            }

            fn name(&self) -> &str {
                $pool::name(self)
            }

            fn prefers_batching(&self) -> bool {
                Self::PREFERS_BATCHING
            }

            fn shutdown(&self) -> impl Future<Output = ()> + Send + 'static {
                $pool::shutdown(self)
            }

            fn shutdown_now(&self) -> impl Future<Output = ()> + Send + 'static {
                $pool::shutdown_now(self)
            }
        }
    };
}

pub(crate) use closure_pool_api;
