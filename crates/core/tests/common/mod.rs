//! Helpers shared by the core integration tests: the workspace's test helpers, and a CPU
//! pool held busy.
#![allow(dead_code)]

use futurepool_core::{CpuPool, Task};

#[allow(unused_imports, reason = "each test file uses some of them")]
pub use futurepool_test_support::{DropSignal, Gate, Gauge};

/// A one-thread CPU pool (with a bounded queue of `capacity`, if given) whose thread is held by
/// a running task until the returned gate opens.
pub fn held_cpu_pool(capacity: Option<usize>) -> (CpuPool, Gate, Task<()>) {
    let mut builder = CpuPool::builder().max_workers(1);
    if let Some(capacity) = capacity {
        builder = builder.queue_capacity(capacity);
    }
    let pool = builder.build().unwrap();
    let gate = Gate::new();
    let (started_tx, started) = std::sync::mpsc::channel();
    let held = {
        let gate = gate.clone();
        pool.submit(move || {
            started_tx.send(()).unwrap();
            gate.wait();
        })
    };
    started.recv().unwrap();
    (pool, gate, held)
}
