//! Seed: `executor.map(task, ...)` on a ThreadPoolExecutor and on a
//! ProcessPoolExecutor, ported to `BlockingPool::map` and `CpuPool::map`.
//!
//! ```text
//! cargo run --example map_squares
//! ```
//! prints `[1, 4, 9, 16]` then `[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]`, as the
//! Python does (`python3 benches/python/seeds/map_squares.py`).

use futurepool::prelude::*;
use futures::{StreamExt, TryStreamExt};

fn task(n: u64) -> u64 {
    n * n
}

#[tokio::main]
async fn main() -> Result<(), TaskError> {
    // with ThreadPoolExecutor(max_workers=3) as executor:
    //     results = executor.map(task, [1, 2, 3, 4])
    let executor = BlockingPool::builder()
        .max_workers(3)
        .build()
        .expect("3 is a valid size");
    let results: Vec<u64> = executor.map(task, [1, 2, 3, 4]).try_collect().await?;
    executor.shutdown().await;
    println!("{results:?}");

    // with ProcessPoolExecutor() as executor:
    //     results = executor.map(task, range(10))
    let executor = CpuPool::new();
    let results: Vec<u64> = executor
        .map(|n: u64| n.pow(2), 0..10)
        .map(|r| r.expect("squaring cannot fail"))
        .collect()
        .await;
    executor.shutdown().await;
    println!("{results:?}");
    Ok(())
}
