//! What a worker sends back for one task: the function's [`Outcome`], or why the task was given
//! up (it kept crashing its worker). Encoded with the worker crate's codec.

use futurepool_worker::Outcome;
use serde::{Deserialize, Serialize};

/// A worker's answer for one task, published to the task's result subject.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Answer {
    /// The task's id within its pool (the [`Call`](futurepool_worker::Call) id).
    pub(crate) id: u64,
    /// What became of it.
    pub(crate) result: AnswerKind,
}

/// What became of a task.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum AnswerKind {
    /// The function ran: its value, panic, or why it could not run.
    Ran(Outcome),
    /// The task was delivered `max_attempts` times without a result; the text says what was
    /// seen.
    Crashed(String),
    /// The task ran past its pool's `task_timeout`; the text says how long.
    TimedOut(String),
    /// A chunk of a map ran: `outcome` is the function's [`Outcome::Batch`] (one outcome per
    /// item), `micros` how long the worker took to run it (what adaptive chunking learns from).
    /// Only a batch call is answered so, so a pool that never sends one never sees it.
    Batch { outcome: Outcome, micros: u64 },
}
