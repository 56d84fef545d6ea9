//! The worker side: [`Worker`] and its builder, the loop pulling a namespace's tasks, and the
//! handling of each task message.

mod answer;
mod builder;
mod meta;
mod pull;
mod serve;
mod task;

pub use builder::{Worker, WorkerBuilder};
