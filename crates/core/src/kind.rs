//! The kinds of [`Pool`](crate::Pool): what a pool runs, and where.
//!
//! A pool's kind is a type parameter only: nothing of these types is ever made. Users write the
//! aliases, [`BlockingPool`](crate::BlockingPool), [`CpuPool`](crate::CpuPool) and
//! [`AsyncPool`](crate::AsyncPool); the kinds are there for code generic over pools, and for
//! the documentation, which says once what every pool does.
//!
//! | alias | kind | runs |
//! |---|---|---|
//! | [`BlockingPool`](crate::BlockingPool) | [`Closures`]`<`[`Blocking`]`>` | closures on Tokio's `spawn_blocking` threads |
//! | [`CpuPool`](crate::CpuPool) | [`Closures`]`<`[`Cpu`]`>` | closures on the pool's own threads |
//! | [`AsyncPool`](crate::AsyncPool) | [`Futures`] | futures on the Tokio runtime |
//!
//! # Examples
//!
//! ```
//! use futurepool_core::{CpuPool, Pool, kind::Kind};
//!
//! /// A line for a status page, from any pool.
//! fn status<K: Kind>(pool: &Pool<K>) -> String {
//!     let stats = pool.stats();
//!     format!("{}: {} done, {} failed", pool.name(), stats.completed, stats.failed)
//! }
//!
//! let pool = CpuPool::builder().name("render").max_workers(1).build().unwrap();
//! pool.submit(|| ()).blocking_wait().unwrap();
//! assert_eq!(status(&pool), "render: 1 done, 0 failed");
//! ```

use std::convert::Infallible;
use std::marker::PhantomData;

use crate::pool::Runner;

/// What each kind's pool is made of; outside this crate nobody can name or implement it, so the
/// kinds are exactly the three below.
pub(crate) trait Sealed: 'static {
    /// How the pool's workers start.
    type Runner: Runner;
    /// The name users write for the pool, shown by `Debug`.
    const POOL: &'static str;
    /// What the pool's builder calls its size, shown by `Debug`.
    const SIZE: &'static str;
}

/// The kind of a [`Pool`](crate::Pool): [`Closures<Blocking>`], [`Closures<Cpu>`] or
/// [`Futures`]. Sealed: only those three implement it.
///
/// Bound a function by it to accept any pool and use what every pool has (its name, stats
/// and shutdown).
///
/// # Examples
///
/// ```
/// use futurepool_core::{Pool, kind::Kind};
///
/// /// Shuts every pool of a service down, whatever its kind.
/// async fn stop_all<K: Kind>(pools: &[Pool<K>]) {
///     for pool in pools {
///         pool.shutdown().await;
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pools = [futurepool_core::AsyncPool::new(), futurepool_core::AsyncPool::new()];
/// stop_all(&pools).await;
/// assert!(pools.iter().all(|pool| pool.is_shutdown()));
/// # }
/// ```
#[allow(private_bounds)] // `Sealed` is the seal: the kinds are this crate's alone.
pub trait Kind: Sealed {}

/// Where a pool of [`Closures`] runs them: [`Blocking`] or [`Cpu`]. Sealed: only those two
/// implement it.
///
/// Bound a function by it to accept a [`BlockingPool`](crate::BlockingPool) or a
/// [`CpuPool`](crate::CpuPool) with their inherent methods; the
/// [`Executor`](crate::Executor) trait does the same for pools of other crates too.
///
/// # Examples
///
/// ```
/// use futurepool_core::{Pool, Task, kind::{Closures, Threads}};
///
/// fn lengths<On: Threads>(pool: &Pool<Closures<On>>, words: &[&'static str]) -> Vec<Task<usize>> {
///     words.iter().map(|&word| pool.submit(move || word.len())).collect()
/// }
///
/// let pool = futurepool_core::CpuPool::builder().max_workers(1).build().unwrap();
/// let tasks = lengths(&pool, &["a", "bc"]);
/// let lengths: Vec<usize> = tasks.into_iter().map(|t| t.blocking_wait().unwrap()).collect();
/// assert_eq!(lengths, [1, 2]);
/// ```
#[allow(private_bounds)] // `Sealed` is the seal, as for `Kind`.
pub trait Threads: Sealed {}

/// Runs closures on Tokio's `spawn_blocking` threads: the threads of a
/// [`BlockingPool`](crate::BlockingPool), `Pool<Closures<Blocking>>`.
///
/// # Examples
///
/// ```
/// use futurepool_core::{BlockingPool, Pool, kind::{Blocking, Closures}};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool: Pool<Closures<Blocking>> = BlockingPool::new();
/// assert_eq!(pool.name(), "blocking");
/// # }
/// ```
#[derive(Debug)]
pub enum Blocking {}

/// Runs closures on the pool's own threads: the threads of a [`CpuPool`](crate::CpuPool),
/// `Pool<Closures<Cpu>>`.
///
/// # Examples
///
/// ```
/// use futurepool_core::{CpuPool, Pool, kind::{Closures, Cpu}};
///
/// let pool: Pool<Closures<Cpu>> = CpuPool::builder().max_workers(1).build().unwrap();
/// assert_eq!(pool.max_workers(), 1);
/// ```
#[derive(Debug)]
pub enum Cpu {}

/// A pool of synchronous closures, run on the threads `On`: the kind of
/// [`BlockingPool`](crate::BlockingPool) and [`CpuPool`](crate::CpuPool), whose shared methods
/// (`submit` and its forms, `max_workers`) are written once on `Pool<Closures<On>>`.
///
/// # Examples
///
/// ```
/// use futurepool_core::{CpuPool, Pool, kind::{Closures, Cpu}};
///
/// let pool: Pool<Closures<Cpu>> = CpuPool::new();
/// assert_eq!(pool.submit(|| 6 * 7).blocking_wait().unwrap(), 42);
/// ```
#[derive(Debug)]
pub struct Closures<On>(Infallible, PhantomData<fn() -> On>);

/// A pool of futures on the Tokio runtime: the kind of [`AsyncPool`](crate::AsyncPool),
/// `Pool<Futures>`.
///
/// # Examples
///
/// ```
/// use futurepool_core::{AsyncPool, Pool, kind::Futures};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool: Pool<Futures> = AsyncPool::new();
/// assert_eq!(pool.submit(async { 6 * 7 }).await.unwrap(), 42);
/// # }
/// ```
#[derive(Debug)]
pub enum Futures {}

impl<On: Threads> Sealed for Closures<On> {
    type Runner = On::Runner;
    const POOL: &'static str = On::POOL;
    const SIZE: &'static str = "max_workers";
}

impl<On: Threads> Kind for Closures<On> {}

impl Sealed for Blocking {
    type Runner = crate::blocking::Blocking;
    const POOL: &'static str = "BlockingPool";
    const SIZE: &'static str = "max_workers";
}

impl Threads for Blocking {}

impl Sealed for Cpu {
    type Runner = crate::cpu::Cpu;
    const POOL: &'static str = "CpuPool";
    const SIZE: &'static str = "max_workers";
}

impl Threads for Cpu {}

impl Sealed for Futures {
    type Runner = crate::async_pool::Async;
    const POOL: &'static str = "AsyncPool";
    const SIZE: &'static str = "max_concurrency";
}

impl Kind for Futures {}
