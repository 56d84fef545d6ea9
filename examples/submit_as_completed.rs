//! Seed: five tasks submitted to a ThreadPoolExecutor and to a
//! ProcessPoolExecutor, then waited for with `as_completed`; ported to
//! `BlockingPool` and `CpuPool`.
//!
//! ```text
//! cargo run --example submit_as_completed
//! ```
//! As in Python, the `Started`/`Completed` lines of different tasks may
//! interleave in any order; `All tasks completed` always comes last.

use futurepool::prelude::*;
use futures::StreamExt;

fn task(n: u32) {
    println!("Started task {n}");
    // Perform some time-consuming operation here
    println!("Completed task {n}");
}

/// The seed's block, once for any executor (`Executor` is Python's `Executor` base class).
async fn submit_five<E: Executor>(executor: E) {
    let tasks: Vec<Task<()>> = (0..5).map(|i| executor.submit(move || task(i))).collect();
    let mut done = as_completed(tasks);
    while let Some(result) = done.next().await {
        // Wait for each task to complete
        result.expect("the task does not panic");
    }
    executor.shutdown().await;
    println!("All tasks completed");
}

#[tokio::main]
async fn main() {
    submit_five(BlockingPool::new()).await; // ThreadPoolExecutor
    submit_five(CpuPool::new()).await; // ProcessPoolExecutor
}
