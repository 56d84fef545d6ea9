//! Registered functions for futurepool's process and remote pools.
//!
//! Closures cannot cross a process boundary, so work for another process is a **registered
//! function**: a [`RemoteFn`] (a name and a plain `fn(A) -> R` over serde types), collected in
//! a [`Registry`]. This crate holds what both sides of a pool share:
//!
//! - [`RemoteFn`] and [`Registry`]: what can run, by name, with its [`Signature`];
//! - the messages ([`Hello`], [`Call`], [`Reply`], [`Outcome`]) and their [`codec`]
//!   (MessagePack with named fields) and [`frame`]s (length-delimited, for a byte stream);
//! - the worker side: [`main_if_worker`] for a worker process, [`serve`] for any connection,
//!   and [`Registry::execute`] for one call (what a remote worker runs per message).
//!
//! Most users reach it through the `futurepool` crate (`futurepool::worker::main_if_worker`).
//!
//! # Examples
//!
//! ```
//! use futurepool_worker::{Registry, RemoteFn};
//!
//! fn square(n: u64) -> u64 { n * n }
//! pub const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
//!
//! fn registry() -> Registry {
//!     Registry::new().with(SQUARE)
//! }
//!
//! fn main() {
//!     futurepool_worker::main_if_worker(&registry()); // in a worker process: serves, then exits
//!     // what a pool does with a call, here in one process:
//!     let outcome = registry().execute(&SQUARE.call(1, &7).unwrap());
//!     assert_eq!(SQUARE.result(outcome), Ok(49));
//! }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod codec;
pub mod frame;
mod message;
mod registry;
mod remote_fn;
mod serve;

pub use message::{Call, Failure, Hello, Outcome, PROTOCOL_VERSION, Reply, Signature};
pub use registry::Registry;
pub use remote_fn::RemoteFn;
pub use serve::{
    MAX_MEMORY_ARG, MAX_MESSAGE_ARG, WORKER_ARG, exit_if_stray_worker, main_if_worker, serve,
    worker_socket,
};
