//! [`Pool`]: the one handle type of every pool, with what every pool has written once here;
//! the closure pools' shared methods are in `closures`, each kind's own in its module
//! (`blocking`, `cpu`, `async_pool`).

mod closures;

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::kind::Kind;
use crate::pool::{Builder, Owner, PoolCore};
use crate::stats::PoolStats;

/// A pool of kind `K`: the one handle type behind [`BlockingPool`](crate::BlockingPool),
/// [`CpuPool`](crate::CpuPool) and [`AsyncPool`](crate::AsyncPool), which are its aliases.
///
/// Write the aliases; `Pool<K>` is for code generic over pools (see [`Kind`]). What every pool
/// has (its builder, shutdown, stats and name) is documented here once; submitting is
/// documented on `Pool<Closures<On>>` for the two closure pools and on [`AsyncPool`] for
/// futures.
///
/// A pool is a cheap handle: clone it freely; the clones share one pool. Dropping the last
/// handle stops the pool accepting work and lets the submitted tasks finish.
///
/// [`AsyncPool`]: crate::AsyncPool
///
/// # Examples
///
/// ```
/// use futurepool_core::{AsyncPool, BlockingPool, CpuPool};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let io = BlockingPool::new();
/// let cpu = CpuPool::builder().max_workers(2).build().unwrap();
/// let net = AsyncPool::new();
/// let text = io.submit(|| "4 5 6".to_owned()).await.unwrap();
/// let sum = cpu.submit(move || text.split(' ').map(|n| n.parse::<u32>().unwrap()).sum::<u32>());
/// let reply = net.submit(async move { sum.await.unwrap() * 2 });
/// assert_eq!(reply.await.unwrap(), 30);
/// io.shutdown().await;
/// cpu.shutdown().await;
/// net.shutdown().await;
/// # }
/// ```
pub struct Pool<K: Kind> {
    pub(crate) owner: Arc<Owner<K::Runner>>,
}

impl<K: Kind> Pool<K> {
    /// A builder to configure a pool of this kind: a [`BlockingPoolBuilder`],
    /// [`CpuPoolBuilder`] or [`AsyncPoolBuilder`].
    ///
    /// [`BlockingPoolBuilder`]: crate::BlockingPoolBuilder
    /// [`CpuPoolBuilder`]: crate::CpuPoolBuilder
    /// [`AsyncPoolBuilder`]: crate::AsyncPoolBuilder
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(2).build().unwrap();
    /// assert_eq!(pool.max_workers(), 2);
    /// ```
    pub fn builder() -> Builder<Self> {
        Builder::new()
    }

    /// The pool core this handle shares.
    pub(crate) fn core(&self) -> &Arc<PoolCore<K::Runner>> {
        &self.owner.0
    }

    /// Shuts the pool down gracefully: stops accepting work at once, and the returned future
    /// completes when every queued and running task has finished and been dropped, and every
    /// worker has left (a [`CpuPool`](crate::CpuPool)'s threads have exited).
    ///
    /// Every task accepted before the call runs, however the call races submitters. Work is
    /// refused from the moment of the call, even if the future is never awaited. Calling it
    /// again, or after [`shutdown_now`](Self::shutdown_now), is harmless. The future needs no
    /// runtime of its own: for a `CpuPool`, `futures::executor::block_on` works.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::BlockingPool::new();
    /// let task = pool.submit(|| "queued before shutdown");
    /// pool.shutdown().await;
    /// assert!(task.is_finished());
    /// assert!(pool.submit(|| ()).await.unwrap_err().is_shutdown());
    /// # }
    /// ```
    pub fn shutdown(&self) -> impl Future<Output = ()> + Send + 'static {
        self.core().close();
        self.core().stopped()
    }

    /// Shuts the pool down now: stops accepting work, cancels every task that has not started,
    /// and completes when the running ones have ended, as [`shutdown`](Self::shutdown) does.
    ///
    /// A running closure is never interrupted, but the token of a cooperative one (from
    /// `submit_cancellable`) is triggered; a running [`AsyncPool`](crate::AsyncPool) future
    /// is dropped at its current await point. Cancelled tasks resolve to an error with
    /// [`TaskError::is_cancelled`](crate::TaskError::is_cancelled).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(1).build().unwrap();
    /// let task = pool.submit_cancellable(|token| {
    ///     while !token.is_cancelled() {
    ///         std::thread::yield_now();
    ///     }
    /// });
    /// futures::executor::block_on(pool.shutdown_now());
    /// assert!(task.blocking_wait().unwrap_err().is_cancelled());
    /// ```
    pub fn shutdown_now(&self) -> impl Future<Output = ()> + Send + 'static {
        self.core().kill();
        self.core().stopped()
    }

    /// Whether the pool was shut down: by [`shutdown`](Self::shutdown) or
    /// [`shutdown_now`](Self::shutdown_now), or because the Tokio runtime under a
    /// [`BlockingPool`](crate::BlockingPool) or [`AsyncPool`](crate::AsyncPool) shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = futurepool_core::AsyncPool::new();
    /// assert!(!pool.is_shutdown());
    /// let _stopped = pool.shutdown();
    /// assert!(pool.is_shutdown());
    /// # }
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.core().is_shutdown()
    }

    /// A snapshot of the pool's task counters.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().max_workers(1).build().unwrap();
    /// pool.submit(|| ()).blocking_wait().unwrap();
    /// assert_eq!(pool.stats().completed, 1);
    /// ```
    pub fn stats(&self) -> PoolStats {
        self.core().stats()
    }

    /// The pool's name, as it appears in each task's `tracing` span [default: `"blocking"`,
    /// the `CpuPool`'s thread name prefix, or `"async"`].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = futurepool_core::CpuPool::builder().name("images").build().unwrap();
    /// assert_eq!(pool.name(), "images");
    /// ```
    pub fn name(&self) -> &str {
        self.core().name()
    }
}

/// Another handle to the same pool.
impl<K: Kind> Clone for Pool<K> {
    fn clone(&self) -> Self {
        Self {
            owner: Arc::clone(&self.owner),
        }
    }
}

/// Shows the alias's name, the pool's name, size and stats.
impl<K: Kind> fmt::Debug for Pool<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(K::POOL)
            .field("name", &self.name())
            .field(K::SIZE, &self.core().queue.max_workers())
            .field("stats", &self.stats())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::{AsyncPool, BlockingPool, CpuPool};

    #[allow(dead_code)]
    fn is_send_sync_clone<T: Send + Sync + Clone + 'static>() {}

    /// Code generic over the kind can move and share pools too.
    #[allow(dead_code)]
    fn any_kind_is_send_sync_clone<K: crate::kind::Kind>() {
        is_send_sync_clone::<super::Pool<K>>();
    }

    #[test]
    fn handles_are_send_sync() {
        is_send_sync_clone::<BlockingPool>();
        is_send_sync_clone::<CpuPool>();
        is_send_sync_clone::<AsyncPool>();
    }

    #[tokio::test(flavor = "current_thread")]
    async fn debug_names_the_alias_and_its_size() {
        let cpu = CpuPool::builder().name("x").max_workers(1).build().unwrap();
        let text = format!("{cpu:?}");
        assert!(
            text.starts_with("CpuPool { name: \"x\", max_workers: 1,"),
            "{text}"
        );
        let net = AsyncPool::builder().max_concurrency(2).build().unwrap();
        let text = format!("{net:?}");
        assert!(
            text.starts_with("AsyncPool { name: \"async\", max_concurrency: 2,"),
            "{text}"
        );
        let io = BlockingPool::builder().max_workers(3).build().unwrap();
        let text = format!("{io:?}");
        assert!(
            text.starts_with("BlockingPool { name: \"blocking\", max_workers: 3,"),
            "{text}"
        );
    }
}
