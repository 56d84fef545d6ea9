//! Seed: five tasks submitted to a ProcessPoolExecutor, then waited for with
//! `as_completed`; ported to `ProcessPool` (real worker processes).
//!
//! ```text
//! cargo run --example process_submit_as_completed
//! ```
//! The `Started`/`Completed` lines are printed by the worker processes, whose
//! stdout is the parent's stderr (the pool keeps the parent's stdout for the
//! program); as in Python, lines of different tasks may interleave in any
//! order, and `All tasks completed` (on stdout) always comes last. The
//! `CpuPool` version is `examples/submit_as_completed.rs`.

use futurepool::prelude::*;

fn task(n: u32) {
    println!("Started task {n}");
    // Perform some CPU-intensive operation here
    println!("Completed task {n}");
}

const TASK: RemoteFn<u32, ()> = RemoteFn::new("task", task);

fn registry() -> Registry {
    Registry::new().with(TASK)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    futurepool::worker::main_if_worker(&registry());

    tokio::runtime::Runtime::new()?.block_on(async {
        // with concurrent.futures.ProcessPoolExecutor() as executor:
        //     tasks = [executor.submit(task, i) for i in range(5)]
        let executor = ProcessPool::builder(registry()).build()?;
        let tasks: Vec<Task<()>> = (0..5).map(|i| executor.submit(TASK, i)).collect();

        //     for future in concurrent.futures.as_completed(tasks):
        let mut done = as_completed(tasks);
        while let Some(result) = done.next().await {
            // Wait for each task to complete
            result?;
        }
        executor.shutdown().await;
        println!("All tasks completed");
        Ok(())
    })
}
