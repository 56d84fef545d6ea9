//! A task whose process dies (abort, SIGSEGV, exit), hangs past the timeout, or is cancelled
//! while running fails alone, with the right message, while 20 others succeed; the pool goes
//! on with a new worker.

mod common;

use std::time::Duration;

use common::functions::*;
use common::{builder, has_ended, pool, until_ended, watchdog};
use futurepool_core::{Task, TaskError};
use futurepool_process::ProcessPool;
use futurepool_worker::RemoteFn;

/// Submits 20 squares around one `bad` task; returns the bad task's error after checking the
/// 20 and one more task after it.
async fn one_bad_among_twenty(pool: &ProcessPool, bad: RemoteFn<(), u32>) -> TaskError {
    let mut good: Vec<Task<u64>> = (0..10u64).map(|n| pool.submit(SQUARE, n)).collect();
    let bad = pool.submit(bad, ());
    good.extend((10..20u64).map(|n| pool.submit(SQUARE, n)));
    let err = bad.await.unwrap_err();
    for (n, task) in (0..20u64).zip(good) {
        assert_eq!(task.await.unwrap(), n * n);
    }
    assert_eq!(
        pool.submit(SQUARE, 7).await.unwrap(),
        49,
        "the pool goes on"
    );
    err
}

#[tokio::test]
async fn an_abort_fails_only_its_task_naming_sigabrt() {
    watchdog(async {
        let pool = pool(2);
        let err = one_bad_among_twenty(&pool, ABORT).await;
        assert!(err.is_crashed(), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("signal 6 (SIGABRT"), "{msg}");
        assert!(msg.contains("`abort`"), "{msg}");
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_segfault_fails_only_its_task_naming_sigsegv() {
    watchdog(async {
        let pool = pool(2);
        let err = one_bad_among_twenty(&pool, SEGV).await;
        assert!(err.is_crashed(), "{err}");
        assert!(err.to_string().contains("signal 11 (SIGSEGV"), "{err}");
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn an_exit_fails_only_its_task_naming_the_exit_code() {
    watchdog(async {
        let pool = pool(2);
        let err = one_bad_among_twenty(&pool, EXIT3).await;
        assert!(err.is_crashed(), "{err}");
        assert!(err.to_string().contains("exit code 3"), "{err}");
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn an_endless_task_times_out_and_its_worker_is_killed() {
    watchdog(async {
        let pool = builder(2)
            .task_timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let before = pool.worker_pids();
        let err = one_bad_among_twenty(&pool, SPIN).await;
        assert!(err.is_timeout(), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("`spin` ran past the task timeout of 300ms"),
            "{msg}"
        );
        let killed: u32 = msg
            .split("worker process ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|pid| pid.parse().ok())
            .expect("the message names the killed process");
        assert!(!before.contains(&killed));
        assert!(
            has_ended(killed),
            "the spinning worker was killed and reaped"
        );
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn cancelling_a_running_task_kills_its_worker_and_a_new_one_serves() {
    watchdog(async {
        let pool = pool(1);
        let first = pool.submit(PID, ()).await.unwrap();
        let running = pool.submit(SLEEP_MS, 600_000);
        // The task is running once the pool's one worker is busy with it.
        while pool.stats().running == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        assert!(running.cancel(), "a running process task can be cancelled");
        assert!(running.await.unwrap_err().is_cancelled());
        until_ended(&[first]).await;
        let second = pool.submit(PID, ()).await.unwrap();
        assert_ne!(first, second, "a new worker process");
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn tasks_cancelled_in_a_burst_each_resolve_once_and_the_pool_goes_on() {
    watchdog(async {
        let pool = pool(2);
        // Warm up, so that calls are sent behind running ones.
        for n in 0..20u64 {
            assert_eq!(pool.submit(SQUARE, n).await.unwrap(), n * n);
        }
        let tasks: Vec<(u64, Task<u64>)> =
            (0..300u64).map(|n| (n, pool.submit(SQUARE, n))).collect();
        let mut cancelled = 0;
        for (n, task) in &tasks {
            if n % 3 == 0 && task.cancel() {
                cancelled += 1;
            }
        }
        let mut values = 0;
        for (n, task) in tasks {
            match task.await {
                Ok(v) => {
                    assert_eq!(v, n * n);
                    values += 1;
                }
                Err(e) => assert!(e.is_cancelled() && n % 3 == 0, "task {n}: {e}"),
            }
        }
        assert_eq!(values + cancelled, 300);
        assert_eq!(
            pool.submit(SQUARE, 12).await.unwrap(),
            144,
            "the pool goes on"
        );
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_long_task_does_not_hold_back_short_ones() {
    watchdog(async {
        let pool = pool(2);
        for n in 0..20u64 {
            pool.submit(SQUARE, n).await.unwrap();
        }
        // Each long task is submitted while short ones are running, so it could be sent behind
        // one of them, and short ones behind it; the short ones must all finish meanwhile.
        for _ in 0..5 {
            let mut short: Vec<Task<u64>> = (0..100u64).map(|n| pool.submit(SQUARE, n)).collect();
            let long = pool.submit(SLEEP_MS, 600_000);
            short.extend((100..300u64).map(|n| pool.submit(SQUARE, n)));
            for (n, task) in (0..300u64).zip(short) {
                assert_eq!(task.await.unwrap(), n * n);
            }
            assert!(
                !long.is_finished(),
                "the short tasks ran beside the long one"
            );
            assert!(long.cancel());
            assert!(long.await.unwrap_err().is_cancelled());
        }
        pool.shutdown().await;
    })
    .await;
}
