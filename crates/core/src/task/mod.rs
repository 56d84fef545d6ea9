//! Tasks: the [`Task`] handle users hold, the [`Promise`] that lets other crates make one, the
//! state machine behind both (`state`), and the cell a pool runs (`cell`).

mod cell;
mod handle;
mod id;
mod promise;
pub(crate) mod state;

pub(crate) use cell::{Body, Job, NewTask, PoolLink, TaskCell};
pub use handle::Task;
pub use id::TaskId;
pub use promise::Promise;
