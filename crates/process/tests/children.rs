//! No orphans: the workers end when the pool is dropped or shut down, and when the parent
//! process is killed with SIGKILL.

mod common;

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::functions::*;
use common::{WORKER, pool, until_ended, watchdog};

/// Starts `n` workers (`n` tasks at once that each wait long enough for all to start).
async fn started(pool: &futurepool_process::ProcessPool, n: usize) -> Vec<u32> {
    let tasks: Vec<_> = (0..n).map(|_| pool.submit(SLEEP_MS, 300)).collect();
    for task in tasks {
        task.await.unwrap();
    }
    let pids = pool.worker_pids();
    assert!(!pids.is_empty());
    pids
}

#[tokio::test]
async fn no_worker_is_left_after_the_pool_is_dropped() {
    watchdog(async {
        let pool = pool(2);
        let pids = started(&pool, 2).await;
        drop(pool);
        until_ended(&pids).await;
    })
    .await;
}

#[tokio::test]
async fn no_worker_is_left_after_shutdown_now_even_mid_task() {
    watchdog(async {
        let pool = pool(2);
        let mut pids = started(&pool, 2).await;
        let running = pool.submit(SLEEP_MS, 600_000);
        while pool.stats().running == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        pids.extend(pool.worker_pids());
        pool.shutdown_now().await;
        assert!(running.await.unwrap_err().is_cancelled());
        for pid in pids {
            assert!(
                common::has_ended(pid),
                "worker {pid} still alive after shutdown_now"
            );
        }
        assert!(pool.worker_pids().is_empty());
    })
    .await;
}

#[tokio::test]
async fn no_worker_is_left_after_a_graceful_shutdown() {
    watchdog(async {
        let pool = pool(2);
        let pids = started(&pool, 2).await;
        let last = pool.submit(SLEEP_MS, 50);
        pool.shutdown().await;
        assert!(
            last.await.is_ok(),
            "a graceful shutdown lets the task finish"
        );
        for pid in pids {
            assert!(
                common::has_ended(pid),
                "worker {pid} still alive after shutdown"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn workers_exit_when_their_parent_is_killed_with_sigkill() {
    watchdog(async {
        let mut parent = Command::new(WORKER)
            .args(["hold", "2"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = parent.stdout.take().unwrap();
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufReader::new(stdout)
                .read_line(&mut line)
                .unwrap();
            line
        })
        .await
        .unwrap();
        let children: Vec<u32> = line
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect();
        assert_eq!(children.len(), 2, "{line}");
        assert!(children.iter().all(|&pid| !common::has_ended(pid)));

        parent.kill().unwrap(); // SIGKILL
        parent.wait().unwrap();
        until_ended(&children).await;
    })
    .await;
}
