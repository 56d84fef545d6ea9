//! Never more than `max_workers` worker processes alive at once, through crashes, timeouts
//! and cancels. Alone in its test binary, so every child of this process is the pool's.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::functions::*;
use common::{builder, live_children, watchdog};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_more_than_max_workers_children() {
    watchdog(async {
        let pool = builder(2)
            .task_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let most = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (most, stop) = (Arc::clone(&most), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    most.fetch_max(live_children().len(), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        };
        let mut tasks = Vec::new();
        for round in 0..4u64 {
            tasks.push(pool.submit(EXIT3, ()));
            tasks.push(pool.submit(ABORT, ()));
            tasks.push(pool.submit(SPIN, ()));
            let cancelled = pool.submit(SLEEP_MS, 60_000);
            for n in 0..5 {
                tasks.push(pool.submit(SLEEP_MS, round * 5 + n));
            }
            cancelled.cancel();
        }
        let mut failed = 0;
        for task in tasks {
            failed += usize::from(task.await.is_err());
        }
        assert_eq!(failed, 12, "the exits, aborts and spins");
        stop.store(true, Ordering::Relaxed);
        sampler.join().unwrap();
        let most = most.load(Ordering::Relaxed);
        assert!(most >= 1, "the sampler saw the workers");
        assert!(most <= 2, "{most} workers alive at once, max_workers is 2");
        pool.shutdown().await;
    })
    .await;
}
