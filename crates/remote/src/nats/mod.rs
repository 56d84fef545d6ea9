//! The NATS side shared by pools and workers: connecting, the namespace's names and streams,
//! the messages' format and publishing with bounded retries.

pub(crate) mod connection;
pub(crate) mod names;
pub(crate) mod publish;
pub(crate) mod setup;
pub(crate) mod streams;
pub(crate) mod wire;
