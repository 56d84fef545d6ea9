//! `RemotePool` and `Worker`: futurepool's tasks across machines, over NATS JetStream.
//!
//! A [`RemotePool`] publishes each task (a registered function and its argument, as in the
//! process pool) to a work-queue stream of its namespace; [`Worker`]s anywhere pull them, run
//! them and publish the answers, which the pool reads from its own durable consumer and turns
//! into the same [`Task`](futurepool_core::Task)s the local pools give, usable with
//! `as_completed`, `wait` and map streams. The server keeps the tasks: a worker killed
//! mid-task loses nothing (its task goes to another worker after `ack_wait`), a restarted
//! server keeps what it stored, and tasks submitted while no worker is up wait.
//!
//! Delivery is at least once; each `Task` resolves exactly once (the first answer wins, a
//! later one from a second run is dropped). Make tasks idempotent.
//!
//! # Examples
//!
//! ```no_run
//! use futurepool_remote::{RemotePool, Worker};
//! use futurepool_worker::{Registry, RemoteFn};
//!
//! fn square(n: u64) -> u64 { n * n }
//! const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let registry = Registry::new().with(SQUARE);
//!     let url = "nats://127.0.0.1:4222";
//!     // Usually on other machines; here a worker in the same process.
//!     tokio::spawn(Worker::builder(registry.clone()).url(url).run());
//!     let pool = RemotePool::builder(registry).url(url).build().await?;
//!     assert_eq!(pool.submit(SQUARE, 12).await?, 144);
//!     pool.shutdown().await;
//!     Ok(())
//! }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod nats;
mod pool;
mod worker;

/// The NATS client this crate is built on, for [`connect_options`](RemotePoolBuilder::connect_options)
/// (credentials, TLS): the same version as the crate's.
pub use async_nats;
pub use pool::{RemoteChunks, RemotePool, RemotePoolBuilder, RemoteSubmit, RemoteSubmitChunk};
pub use worker::{Worker, WorkerBuilder};
