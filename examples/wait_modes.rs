//! `wait` with each `ReturnWhen`, and with a timeout, like Python's
//! `concurrent.futures.wait(fs, timeout, return_when)`.
//!
//! ```text
//! cargo run --example wait_modes
//! ```

use std::time::Duration;

use futurepool::prelude::*;

async fn fail_after(delay: Duration) -> &'static str {
    tokio::time::sleep(delay).await;
    panic!("failed on purpose")
}

/// Three tasks on an async pool: one fast, one failing, one slow.
fn three_tasks(pool: &AsyncPool) -> Vec<Task<&'static str>> {
    vec![
        pool.submit(async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            "fast"
        }),
        pool.submit(fail_after(Duration::from_millis(50))),
        pool.submit(async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            "slow"
        }),
    ]
}

async fn show(label: &str, waited: Waited<&'static str>) {
    let Waited { done, pending } = waited;
    print!("{label:<15} done: [");
    for (i, task) in done.into_iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        match task.await {
            Ok(v) => print!("{sep}{v}"),
            Err(e) => print!("{sep}error ({e})"),
        }
    }
    println!("], pending: {}", pending.len());
    // pending tasks are untouched: still running, usable or cancellable
    for task in pending {
        task.cancel();
    }
}

#[tokio::main]
async fn main() {
    // The panics in this example are on purpose, and each shows up as its
    // task's error below: keep the default hook from printing them too.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&"failed on purpose") {
            default_hook(info);
        }
    }));
    let pool = AsyncPool::new();
    show(
        "FirstCompleted",
        wait(three_tasks(&pool), ReturnWhen::FirstCompleted).await,
    )
    .await;
    show(
        "FirstError",
        wait(three_tasks(&pool), ReturnWhen::FirstError).await,
    )
    .await;
    show(
        "AllCompleted",
        wait(three_tasks(&pool), ReturnWhen::AllCompleted).await,
    )
    .await;
    show(
        "timeout 100 ms",
        wait_timeout(
            three_tasks(&pool),
            ReturnWhen::AllCompleted,
            Duration::from_millis(100),
        )
        .await,
    )
    .await;
    pool.shutdown().await;
}
