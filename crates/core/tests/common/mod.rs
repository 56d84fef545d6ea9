//! Helpers shared by the core integration tests: a gate closures can block on, and a gauge
//! recording the most closures seen running at once.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use futurepool_core::{CpuPool, Task};

/// A gate blocked closures wait on until the test opens it.
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn wait(&self) {
        let (open, cv) = &*self.0;
        let mut guard = open.lock().unwrap();
        while !*guard {
            guard = cv.wait(guard).unwrap();
        }
    }

    pub fn open(&self) {
        let (open, cv) = &*self.0;
        *open.lock().unwrap() = true;
        cv.notify_all();
    }
}

/// Counts closures running now and remembers the highest count.
#[derive(Clone, Default)]
pub struct Gauge(Arc<(AtomicUsize, AtomicUsize)>);

impl Gauge {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn enter(&self) {
        let now = self.0.0.fetch_add(1, Ordering::SeqCst) + 1;
        self.0.1.fetch_max(now, Ordering::SeqCst);
    }

    pub fn exit(&self) {
        self.0.0.fetch_sub(1, Ordering::SeqCst);
    }

    pub fn max(&self) -> usize {
        self.0.1.load(Ordering::SeqCst)
    }
}

/// Sends on a channel when dropped: proves a future or closure was dropped.
pub struct DropSignal(pub Option<tokio::sync::oneshot::Sender<()>>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

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
