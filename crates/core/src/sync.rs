//! The synchronization primitives of the task state machine, the lifecycle words and the work
//! queue: the standard library's, or loom's when the crate is model-checked
//! (`RUSTFLAGS="--cfg futurepool_loom"`; the models are in `loom_models.rs`, run by `.ci/run`).

#[cfg(not(futurepool_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering, fence};
#[cfg(not(futurepool_loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

#[cfg(futurepool_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering, fence};
#[cfg(futurepool_loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

/// Locks `mutex`, ignoring poisoning: no code that runs under these locks can panic halfway
/// through a change (user code never runs under them).
pub(crate) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
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

/// A waker that unparks `thread`: how a thread waits on a future or in the work queue
/// (`Task::blocking_wait`, `CpuPool` threads).
pub(crate) fn thread_waker(thread: std::thread::Thread) -> std::task::Waker {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    std::task::Waker::from(std::sync::Arc::new(Unpark(thread)))
}
