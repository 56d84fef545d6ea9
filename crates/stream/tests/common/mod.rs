//! Helpers shared by the stream tests: gates that hold closures until released, and the
//! already-finished tasks of CPython's tests.
#![allow(dead_code)]

use std::sync::{Arc, Condvar, Mutex, PoisonError};

use futurepool_core::{Task, TaskError};

/// A gate that closures on pool threads block on until the test opens it.
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn open(&self) {
        let (open, cond) = &*self.0;
        *open.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cond.notify_all();
    }

    pub fn wait(&self) {
        let (open, cond) = &*self.0;
        let mut guard = open.lock().unwrap_or_else(PoisonError::into_inner);
        while !*guard {
            guard = cond.wait(guard).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// CPython's SUCCESSFUL_FUTURE: finished with 42.
pub fn successful() -> Task<i32> {
    Task::ready(Ok(42))
}

/// CPython's CANCELLED_AND_NOTIFIED_FUTURE.
pub fn cancelled() -> Task<i32> {
    Task::ready(Err(TaskError::cancelled()))
}

/// CPython's EXCEPTION_FUTURE: finished with an error (here a panic).
pub fn failed() -> Task<i32> {
    Task::ready(Err(TaskError::from_panic(Box::new("OSError"))))
}
