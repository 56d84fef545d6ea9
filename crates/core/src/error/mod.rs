//! Errors: why a task gave no value ([`TaskError`]), why a pool could not be built
//! ([`BuildError`]) and why a non-waiting submit was refused ([`TrySubmitError`]).

mod build_error;
mod task_error;
mod try_submit;

pub use build_error::BuildError;
pub use task_error::{TaskError, TaskErrorKind};
pub use try_submit::TrySubmitError;
