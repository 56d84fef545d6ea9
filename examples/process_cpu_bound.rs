//! Seed: "CPU-Bound Task with ProcessPoolExecutor" (sum of squares), ported to
//! `ProcessPool`: each number is summed in a worker process.
//!
//! ```text
//! cargo run --release --example process_cpu_bound
//! ```
//!
//! Its `Calculation for` lines are the same as the Python seed's
//! (`python3 benches/python/seeds/cpu_bound.py`): the sums pass `u64::MAX`, so
//! they are computed in `u128`, as exact as Python's integers. The `CpuPool`
//! version is `examples/cpu_bound.rs` (where the release build's closed form of
//! the loop is explained).

use std::time::Instant;

use futurepool::prelude::*;

fn cpu_bound_calculation(n: u64) -> u128 {
    let mut result: u128 = 0;
    for i in 0..n {
        let i = u128::from(i);
        result += i * i;
    }
    result
}

const CPU_BOUND_CALCULATION: RemoteFn<u64, u128> =
    RemoteFn::new("cpu_bound_calculation", cpu_bound_calculation);

fn registry() -> Registry {
    Registry::new().with(CPU_BOUND_CALCULATION)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // if __name__ == '__main__':
    futurepool::worker::main_if_worker(&registry());

    tokio::runtime::Runtime::new()?.block_on(async {
        let numbers = [10_000_000u64, 12_000_000, 11_000_000, 9_000_000, 13_000_000];
        let start_time = Instant::now();
        // max_workers=multiprocessing.cpu_count()
        let workers = std::thread::available_parallelism()?.get();
        let executor = ProcessPool::builder(registry())
            .max_workers(workers)
            .build()?;
        let results: Vec<Result<u128, TaskError>> =
            executor.map(CPU_BOUND_CALCULATION, numbers).collect().await;
        executor.shutdown().await;
        let elapsed = start_time.elapsed();
        println!(
            "ProcessPool Execution Time: {:.4} seconds",
            elapsed.as_secs_f64()
        );
        for (num, result) in numbers.iter().zip(results) {
            println!("Calculation for {num}: {}", result?);
        }
        Ok(())
    })
}
