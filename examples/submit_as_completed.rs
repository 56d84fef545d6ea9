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

#[tokio::main]
async fn main() {
    let executor = BlockingPool::new();
    let tasks: Vec<Task<()>> = (0..5).map(|i| executor.submit(move || task(i))).collect();
    let mut done = as_completed(tasks);
    while let Some(result) = done.next().await {
        // Wait for each task to complete
        result.expect("the task does not panic");
    }
    executor.shutdown().await;
    println!("All tasks completed");

    let executor = CpuPool::new();
    let tasks: Vec<Task<()>> = (0..5).map(|i| executor.submit(move || task(i))).collect();
    let mut done = as_completed(tasks);
    while let Some(result) = done.next().await {
        result.expect("the task does not panic");
    }
    executor.shutdown().await;
    println!("All tasks completed");
}
