//! The synchronization primitives of the task state machine, the lifecycle word and the work
//! queue: the standard library's, or loom's when the crate is model-checked
//! (`RUSTFLAGS="--cfg futurepool_loom"`, see `tests/loom.rs` and `.ci/run`).

#[cfg(not(futurepool_loom))]
pub(crate) use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering, fence};
#[cfg(not(futurepool_loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

#[cfg(futurepool_loom)]
pub(crate) use loom::sync::atomic::{AtomicU8, AtomicUsize, Ordering, fence};
#[cfg(futurepool_loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

#[cfg(not(futurepool_loom))]
pub(crate) use futures_util::task::AtomicWaker;
#[cfg(futurepool_loom)]
pub(crate) use loom::future::AtomicWaker;

/// Locks `mutex`, ignoring poisoning: no code that runs under these locks can panic halfway
/// through a change (user code never runs under them).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Drops `value`, containing a panic from its `Drop`: user values (a result, a future, a
/// closure's captures) are dropped on pool workers, where a panic must cost nothing but the
/// value.
pub(crate) fn drop_quietly<V>(value: V) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(value)));
}
