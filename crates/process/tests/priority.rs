//! Priorities: among waiting calls a higher priority starts first, equal priorities in
//! submission order; a map stream's `priority` applies to all its items.
//!
//! Each test holds the pool's one worker with a gated call, queues calls behind it, opens the
//! gate, and reads the order in which the calls started from a log the worker appends to.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use futurepool_core::{Priority, Task};
use futurepool_process::ProcessPool;
use futures_util::StreamExt;

use common::functions::{MARK, Mark};
use common::{pool, watchdog};

/// A log of started calls and a gate, in a fresh directory.
struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("started")
    }

    fn gate(&self) -> PathBuf {
        self.dir.path().join("gate")
    }

    fn mark(&self, tag: &str) -> Mark {
        Mark {
            log: text(&self.log()),
            tag: tag.to_owned(),
            gate: None,
        }
    }

    /// Occupies the worker with a call that waits for the gate; returns once it runs.
    async fn hold(&self, pool: &ProcessPool) -> Task<u32> {
        let held = pool.submit(
            MARK,
            Mark {
                gate: Some(text(&self.gate())),
                ..self.mark("gate")
            },
        );
        while self.started() != ["gate"] {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        held
    }

    fn open(&self) {
        std::fs::write(self.gate(), b"").expect("the gate");
    }

    /// The tags of the calls that started, in order.
    fn started(&self) -> Vec<String> {
        std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

fn text(path: &Path) -> String {
    path.to_str().expect("a UTF-8 path").to_owned()
}

/// Waits until the pool has taken `n` tasks.
async fn submitted(pool: &ProcessPool, n: u64) {
    while pool.stats().submitted < n {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn waiting_calls_start_by_priority_then_in_submission_order() {
    watchdog(async {
        let pool = pool(1);
        let scene = Scene::new();
        let held = scene.hold(&pool).await;
        // More calls than the pool runs at once (4 per worker): some wait in its queue.
        let calls = [
            (Priority::LOW, "low 1"),
            (Priority::NORMAL, "normal 1"),
            (Priority::LOW, "low 2"),
            (Priority::HIGH, "high 1"),
            (Priority::NORMAL, "normal 2"),
            (Priority::new(255), "top"),
            (Priority::HIGH, "high 2"),
            (Priority::LOW, "low 3"),
        ];
        let tasks: Vec<Task<u32>> = calls
            .iter()
            .map(|(p, tag)| pool.submit_with_priority(*p, MARK, scene.mark(tag)))
            .collect();
        scene.open();
        held.await.unwrap();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(
            scene.started(),
            [
                "gate", "top", "high 1", "high 2", "normal 1", "normal 2", "low 1", "low 2",
                "low 3"
            ]
        );
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_map_at_high_priority_overtakes_waiting_normal_calls() {
    watchdog(async {
        let pool = pool(1);
        let scene = Scene::new();
        let held = scene.hold(&pool).await;
        let normal: Vec<Task<u32>> = ["normal 1", "normal 2"]
            .iter()
            .map(|tag| pool.submit(MARK, scene.mark(tag)))
            .collect();
        let items: Vec<Mark> = (1..=3).map(|i| scene.mark(&format!("map {i}"))).collect();
        let map = pool.map(MARK, items).chunk_size(1).priority(Priority::HIGH);
        let mapped = tokio::spawn(map.collect::<Vec<_>>());
        submitted(&pool, 6).await;

        let unordered: Vec<Mark> = (1..=4).map(|i| scene.mark(&format!("batch {i}"))).collect();
        let batch = pool
            .map_unordered(MARK, unordered)
            .chunk_size(2)
            .priority(Priority::LOW);
        let batched = tokio::spawn(batch.collect::<Vec<_>>());
        let late = pool.submit(MARK, scene.mark("normal 3"));
        submitted(&pool, 9).await;

        scene.open();
        held.await.unwrap();
        for result in mapped.await.unwrap() {
            result.unwrap();
        }
        for result in batched.await.unwrap() {
            result.unwrap();
        }
        for task in normal.into_iter().chain([late]) {
            task.await.unwrap();
        }
        assert_eq!(
            scene.started(),
            [
                "gate", "map 1", "map 2", "map 3", "normal 1", "normal 2", "normal 3", "batch 1",
                "batch 2", "batch 3", "batch 4"
            ]
        );
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_cancelled_waiting_high_call_lets_the_others_go_in_order() {
    watchdog(async {
        let pool = pool(1);
        let scene = Scene::new();
        let held = scene.hold(&pool).await;
        let first: Vec<Task<u32>> = ["normal 1", "normal 2", "normal 3"]
            .iter()
            .map(|tag| pool.submit(MARK, scene.mark(tag)))
            .collect();
        // In the pool's queue (it runs 4 calls at once), ahead of the normal ones.
        let high = pool.submit_with_priority(Priority::HIGH, MARK, scene.mark("high"));
        let last = pool.submit(MARK, scene.mark("normal 4"));
        assert!(high.cancel());
        scene.open();
        held.await.unwrap();
        for task in first.into_iter().chain([last]) {
            task.await.unwrap();
        }
        assert!(high.await.unwrap_err().is_cancelled());
        assert_eq!(
            scene.started(),
            ["gate", "normal 1", "normal 2", "normal 3", "normal 4"]
        );
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn many_tiny_calls_at_mixed_priorities_all_finish() {
    watchdog(async {
        let pool = pool(2);
        let levels = [Priority::LOW, Priority::NORMAL, Priority::HIGH];
        // A LOW map and mixed calls at once, well past what the pool runs at once: the line
        // never stalls, whatever its calls' priorities.
        let map = pool
            .map(common::functions::SQUARE, 0..2000u64)
            .priority(Priority::LOW);
        let mapped = tokio::spawn(map.map(Result::unwrap).collect::<Vec<u64>>());
        let tasks: Vec<Task<u64>> = (0..3000u64)
            .map(|n| {
                pool.submit_with_priority(levels[(n % 3) as usize], common::functions::SQUARE, n)
            })
            .collect();
        for (n, task) in (0..3000u64).zip(tasks) {
            assert_eq!(task.await.unwrap(), n * n);
        }
        let squares = mapped.await.unwrap();
        assert_eq!(squares, (0..2000u64).map(|n| n * n).collect::<Vec<_>>());
        pool.shutdown().await;
    })
    .await;
}
