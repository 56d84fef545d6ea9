//! Seed: `executor.map(task, range(10))` on a ProcessPoolExecutor, ported to
//! `ProcessPool::map`: real worker processes, as in Python.
//!
//! ```text
//! cargo run --example process_map_squares
//! ```
//! prints `[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]`, as the Python does
//! (`python3 benches/python/seeds/map_squares.py`, its second line). The
//! `CpuPool` version is `examples/map_squares.rs`.

use futurepool::prelude::*;
use futures::TryStreamExt;

fn task(n: u64) -> u64 {
    n.pow(2)
}

/// The function, registered by name so that a worker process can run it.
const TASK: RemoteFn<u64, u64> = RemoteFn::new("task", task);

fn registry() -> Registry {
    Registry::new().with(TASK)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Python's `if __name__ == '__main__':` guard: a worker process serves here and exits.
    futurepool::worker::main_if_worker(&registry());

    tokio::runtime::Runtime::new()?.block_on(async {
        // with ProcessPoolExecutor() as executor:
        //     results = executor.map(task, range(10))
        let executor = ProcessPool::builder(registry()).build()?;
        let results: Vec<u64> = executor.map(TASK, 0..10).try_collect().await?;
        executor.shutdown().await;
        println!("{results:?}");
        Ok(())
    })
}
