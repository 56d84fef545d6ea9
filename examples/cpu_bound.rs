//! Seed: "CPU-Bound Task with ProcessPoolExecutor" (sum of squares), ported.
//!
//! ```text
//! cargo run --release --example cpu_bound
//! ```
//!
//! Its `Calculation for` lines are the same as the Python seed's
//! (`python3 benches/python/seeds/cpu_bound.py`): the sums pass `u64::MAX`, so
//! they are computed in `u128`, as exact as Python's integers.
//!
//! `std::hint::black_box` keeps the loop a loop, as the seed's is: left alone,
//! LLVM recognises a sum of squares and replaces it with its closed form, and
//! the five sums would take no measurable time — nothing left for the pool to
//! spread over the cores. (`cargo bench --bench python_compare` times the same
//! loop against Python.)

use std::time::Instant;

use futurepool::prelude::*;
use futures::StreamExt;

fn cpu_bound_calculation(n: u64) -> u128 {
    let mut result: u128 = 0;
    for i in 0..n {
        let i = u128::from(std::hint::black_box(i));
        result += i * i;
    }
    result
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let numbers = [10_000_000u64, 12_000_000, 11_000_000, 9_000_000, 13_000_000];
    let start_time = Instant::now();
    let workers = std::thread::available_parallelism()?.get();
    let pool = CpuPool::builder().max_workers(workers).build()?;
    let results: Vec<Result<u128, TaskError>> =
        pool.map(cpu_bound_calculation, numbers).collect().await;
    pool.shutdown().await;
    let elapsed = start_time.elapsed();
    println!(
        "CpuPool Execution Time: {:.4} seconds",
        elapsed.as_secs_f64()
    );
    for (num, result) in numbers.iter().zip(results) {
        println!("Calculation for {num}: {}", result?);
    }
    Ok(())
}
