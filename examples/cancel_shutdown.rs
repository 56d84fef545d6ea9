//! Cancelling tasks, cooperative cancellation of running closures, panics,
//! and the two ways to shut a pool down.
//!
//! ```text
//! cargo run --example cancel_shutdown
//! ```
//!
//! Python's `Future.cancel()` only stops a call that has not started; the
//! same holds here for closures, plus two things Python cannot do: a closure
//! submitted with `submit_cancellable` receives a `CancellationToken` that
//! `cancel()` and `shutdown_now()` trigger, and an `AsyncPool` future is
//! dropped at its next `.await` when cancelled, even while it runs.

use std::sync::mpsc;
use std::time::Duration;

use futurepool::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The panics in this example are on purpose, and each shows up as its
    // task's error below: keep the default hook from printing them too.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&"boom") {
            default_hook(info);
        }
    }));
    // One worker, so the second task queues behind the first.
    let pool = CpuPool::builder().max_workers(1).name("demo").build()?;
    let (release, gate) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel::<()>();
    let running = pool.submit(move || {
        started_tx.send(()).unwrap();
        gate.recv().unwrap(); // holds the only worker until released
        "first"
    });
    let queued = pool.submit(|| "second");
    started.recv()?; // the first task is running now

    // A task that has not started can be cancelled; a running closure cannot.
    println!("cancel queued task  -> {}", queued.cancel());
    println!("cancel running task -> {}", running.cancel());
    release.send(())?;
    println!("running task result -> {:?}", running.await);
    let err = queued.await.unwrap_err();
    println!(
        "queued task result  -> {err} (is_cancelled: {})",
        err.is_cancelled()
    );

    // Cooperative cancellation: the closure watches its token.
    let cooperative = pool.submit_cancellable(|token| {
        let mut rounds = 0u64;
        while !token.is_cancelled() {
            std::thread::sleep(Duration::from_millis(1));
            rounds += 1;
        }
        rounds
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    println!("cancel cooperative  -> {}", cooperative.cancel());
    match cooperative.await {
        Ok(rounds) => println!("cooperative task stopped itself after {rounds} rounds"),
        Err(e) => println!("cooperative task -> {e}"),
    }

    // A panic fails its own task only; the pool carries on.
    let boom = pool.submit(|| -> u32 { panic!("boom") });
    let err = boom.await.unwrap_err();
    println!(
        "panicking task      -> {err} (is_panic: {}, message: {:?})",
        err.is_panic(),
        err.panic_message()
    );
    println!("next task           -> {:?}", pool.submit(|| 6 * 7).await);

    // An AsyncPool future is dropped at its next await point when cancelled.
    let net = AsyncPool::new();
    let slow = net.submit(async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        "never"
    });
    tokio::task::yield_now().await;
    println!("cancel running async -> {}", slow.cancel());
    println!("async task result    -> {}", slow.await.unwrap_err());

    // shutdown(): stop accepting, let queued and running tasks finish.
    let (release, gate) = mpsc::channel::<()>();
    let first = pool.submit(move || gate.recv().map(|_| "finished"));
    let second = pool.submit(|| "finished too");
    // Shutting down starts when shutdown() is called; awaiting waits for the end.
    let shutdown = tokio::spawn(pool.shutdown());
    let late = pool.submit(|| "too late");
    release.send(())?;
    shutdown.await?;
    println!(
        "after shutdown(): {:?}, {:?}, late submit -> {}",
        first.await??,
        second.await?,
        late.await.unwrap_err()
    );
    println!(
        "is_shutdown: {}, stats: {:?}",
        pool.is_shutdown(),
        pool.stats()
    );

    // shutdown_now(): cancel everything that has not started.
    let pool = CpuPool::builder().max_workers(1).build()?;
    let (release, gate) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel::<()>();
    let running = pool.submit(move || {
        started_tx.send(()).unwrap();
        gate.recv().unwrap();
        "ran to the end"
    });
    let waiting: Vec<Task<u32>> = (0..3).map(|i| pool.submit(move || i)).collect();
    started.recv()?;
    let stop = tokio::spawn(pool.shutdown_now());
    release.send(())?;
    stop.await?;
    println!("after shutdown_now(): running -> {:?}", running.await);
    for task in waiting {
        println!("  queued -> {}", task.await.unwrap_err());
    }
    Ok(())
}
