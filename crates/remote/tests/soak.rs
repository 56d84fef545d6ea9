//! A bounded soak under load: the `map` scenario (two workers started before the pool, a
//! map of 200 tiny tasks) again and again, each round on a fresh server, beside threads that
//! busy-loop. A lost answer or a lost wake-up hangs a round, and the watchdog prints what the
//! pool and the server hold. `FUTUREPOOL_REMOTE_SOAK_ROUNDS` sets the rounds (default 4, a
//! few seconds; hundreds for a real soak).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{SQUARE, Server, WorkerProcess, pool_in, watchdog_on};
use futures::StreamExt;

fn rounds() -> usize {
    std::env::var("FUTUREPOOL_REMOTE_SOAK_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4)
}

/// Threads that spin until dropped: the machine under load.
struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(n: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|_| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        Self { stop, threads }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_rounds_under_load_all_resolve() {
    let _load = Load::start(2);
    for round in 0..rounds() {
        let server = Server::start();
        let _workers = [
            WorkerProcess::start(&server.url, "soak", 4, false),
            WorkerProcess::start(&server.url, "soak", 4, false),
        ];
        let pool = pool_in(&server, "soak").await;
        let seen = pool.clone();
        let state = move || format!("round {round}: {seen:?}");
        watchdog_on(60, &server.url, state, async {
            let out: Vec<u64> = pool
                .map(SQUARE, 0..200u64)
                .map(Result::unwrap)
                .collect()
                .await;
            assert_eq!(out, (0..200u64).map(|i| i * i).collect::<Vec<_>>());
            pool.shutdown().await;
        })
        .await;
    }
}
