//! Helpers shared by the integration tests: the worker program, pools over it, a watchdog,
//! and process checks through /proc.
#![allow(dead_code)]

#[path = "../program/functions.rs"]
pub mod functions;

use std::future::Future;
use std::time::Duration;

use futurepool_process::{ProcessPool, ProcessPoolBuilder};

/// The test worker program.
pub const WORKER: &str = env!("CARGO_BIN_EXE_process-test-worker");

/// Every test's bound: past it the test fails instead of hanging.
pub const WATCHDOG: Duration = Duration::from_secs(60);

/// A builder for a pool of the test worker program with the test registry.
pub fn builder(max_workers: usize) -> ProcessPoolBuilder {
    ProcessPool::builder(functions::parent_registry())
        .program(WORKER)
        .max_workers(max_workers)
}

/// A pool of `max_workers` test workers.
pub fn pool(max_workers: usize) -> ProcessPool {
    builder(max_workers).build().expect("a pool")
}

/// Runs `fut`, failing the test if it takes longer than [`WATCHDOG`].
pub async fn watchdog<F: Future>(fut: F) -> F::Output {
    tokio::time::timeout(WATCHDOG, fut)
        .await
        .expect("watchdog: the test did not finish in time")
}

/// Whether process `pid` has ended: no longer listed, or a zombie waiting to be reaped.
pub fn has_ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state is the first field after the parenthesized command name.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

/// Waits until every process in `pids` has ended (the caller's watchdog bounds the wait).
pub async fn until_ended(pids: &[u32]) {
    while !pids.iter().all(|&pid| has_ended(pid)) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The live (not zombie) child processes of this process.
pub fn live_children() -> Vec<u32> {
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                let mut fields = stat
                    .rsplit_once(") ")
                    .map(|(_, r)| r)
                    .unwrap_or("")
                    .split(' ');
                let state = fields.next().unwrap_or("");
                let ppid = fields.next().unwrap_or("");
                ppid == me && state != "Z" && state != "X"
            })
        })
        .collect()
}
