//! Backpressure: a pool with a bounded queue, `try_submit` (never waits,
//! says "full"), `submit_wait` (waits for room) and the bounded read-ahead of
//! `map` over an endless input. Python's executors queue without limit.
//!
//! ```text
//! cargo run --example backpressure
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futurepool::prelude::*;
use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 2 workers, and at most 4 tasks waiting in the queue.
    let pool = BlockingPool::builder()
        .max_workers(2)
        .queue_capacity(4)
        .build()?;
    let slow = || std::thread::sleep(Duration::from_millis(50));

    // try_submit: accepted while there is room, then Full (with the closure back).
    let mut accepted = Vec::new();
    let mut refused = 0;
    for _ in 0..10 {
        match pool.try_submit(slow) {
            Ok(task) => accepted.push(task),
            Err(e) if e.is_full() => refused += 1,
            Err(_) => unreachable!("the pool is not shut down"),
        }
    }
    println!(
        "try_submit: {} accepted, {refused} refused (queue full)",
        accepted.len()
    );

    // plain submit on a full queue does not wait either: its task is rejected.
    let rejected = pool.submit(slow).await.unwrap_err();
    println!(
        "submit on a full queue -> {rejected} (is_rejected: {})",
        rejected.is_rejected()
    );

    // submit_wait: waits for room in the queue (not for the task itself).
    let start = tokio::time::Instant::now();
    for _ in 0..10 {
        accepted.push(pool.submit_wait(slow).await);
    }
    println!(
        "submit_wait: 10 more accepted in {:?} (the producer was slowed to the pool's pace)",
        start.elapsed()
    );
    for task in accepted {
        task.await?;
    }
    println!("stats: {:?}", pool.stats());

    // map reads its input only a bounded number of items ahead of the
    // consumer, so an endless input is fine and memory stays flat.
    let cpu = CpuPool::new();
    let read = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&read);
    let endless = (0u64..).inspect(move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    let mut squares = Box::pin(cpu.map(|n| n * n, endless));
    let mut first = Vec::new();
    while let Some(square) = squares.next().await {
        first.push(square?);
        if first.len() == 10 {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    println!(
        "map over 0.. : took {:?}; the input was read {} items so far (a bounded read-ahead)",
        first,
        read.load(Ordering::Relaxed)
    );
    drop(squares); // dropping the stream cancels the items not started
    pool.shutdown().await;
    cpu.shutdown().await;
    Ok(())
}
