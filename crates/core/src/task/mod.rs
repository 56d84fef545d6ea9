//! Tasks: the [`Task`] handle users hold, the [`Promise`] that lets other crates make one, the
//! state machine behind both (`state`), and the cell a pool runs (`cell`) with its work
//! (`work`).

mod cell;
mod handle;
mod id;
mod promise;
pub(crate) mod state;
mod work;

pub(crate) use cell::{Job, NewTask, PoolLink, Run, TaskCell};
pub use handle::Task;
pub use id::TaskId;
pub use promise::Promise;
pub(crate) use work::Body;
#[cfg(all(test, futurepool_loom))]
pub(crate) use work::PromiseWork;
