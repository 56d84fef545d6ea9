//! The pool against its own inputs and its children: panicking serde types, oversized
//! messages, a crash hidden behind a grandchild, failed starts, a program that forgot
//! `main_if_worker`, and limits per child.

mod common;

use std::time::Duration;

use common::functions::*;
use common::{WORKER, builder, pool, watchdog};

#[tokio::test]
async fn a_panicking_serialize_or_deserialize_is_that_tasks_panic_and_the_worker_lives_on() {
    watchdog(async {
        let pool = pool(1);
        let pid = pool.submit(PID, ()).await.unwrap();
        // 7: the worker's Deserialize of the argument panics.
        // 6: the result, 13, panics in the worker's Serialize.
        // 3: the result, 7, panics in the parent's Deserialize.
        // 13: the argument panics in the parent's Serialize.
        for (arg, side) in [(7, "worker"), (6, "worker"), (3, "parent"), (13, "parent")] {
            let err = pool.submit(TOUCHY, Touchy(arg)).await.unwrap_err();
            assert!(err.is_panic(), "{arg} ({side}): {err}");
            assert!(err.to_string().contains("Touchy refuses"), "{err}");
        }
        assert_eq!(pool.submit(TOUCHY, Touchy(1)).await.unwrap(), Touchy(3));
        assert_eq!(
            pool.submit(PID, ()).await.unwrap(),
            pid,
            "the worker lived on"
        );
    })
    .await;
}

#[tokio::test]
async fn a_call_over_max_message_size_fails_at_once_and_no_worker_is_harmed() {
    watchdog(async {
        let pool = builder(1).max_message_size(64 * 1024).build().unwrap();
        let pid = pool.submit(PID, ()).await.unwrap();
        let err = pool.submit(ENV_VAR, "x".repeat(100_000)).await.unwrap_err();
        assert!(err.is_invalid(), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("max_message_size of 65536 bytes"), "{msg}");
        assert!(msg.contains("100"), "names the size: {msg}");
        assert_eq!(pool.submit(PID, ()).await.unwrap(), pid);
    })
    .await;
}

#[tokio::test]
async fn a_result_over_max_message_size_is_invalid_and_the_worker_serves_on() {
    watchdog(async {
        let pool = builder(1).max_message_size(64 * 1024).build().unwrap();
        let pid = pool.submit(PID, ()).await.unwrap();
        let err = pool.submit(TEXT_OF, 100_000).await.unwrap_err();
        assert!(err.is_invalid(), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("result too large"), "{msg}");
        assert!(msg.contains("65536 bytes"), "{msg}");
        assert_eq!(pool.submit(TEXT_OF, 10).await.unwrap().len(), 10);
        assert_eq!(pool.submit(PID, ()).await.unwrap(), pid, "not killed");
    })
    .await;
}

#[tokio::test]
async fn a_crash_is_seen_even_while_a_grandchild_holds_the_channel_open() {
    // A shorter bound than the common watchdog: the grandchild sleeps 300 s.
    let tmp = tempfile::tempdir().unwrap();
    let pid_file = tmp.path().join("grandchild");
    let pool = builder(1).args(["--keep-socket"]).build().unwrap();
    let crashed = tokio::time::timeout(
        Duration::from_secs(20),
        pool.submit(GRANDCHILD_THEN_ABORT, pid_file.to_str().unwrap().to_owned()),
    )
    .await;
    if let Ok(grandchild) = std::fs::read_to_string(&pid_file) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", grandchild.trim()])
            .status();
    }
    let err = crashed
        .expect("watchdog: the crash was hidden by the grandchild")
        .unwrap_err();
    assert!(err.is_crashed(), "{err}");
    assert!(err.to_string().contains("SIGABRT"), "{err}");
    watchdog(async {
        assert_eq!(pool.submit(SQUARE, 3).await.unwrap(), 9, "the pool healed");
    })
    .await;
}

#[tokio::test]
async fn a_death_during_a_large_write_is_seen_while_a_grandchild_holds_the_channel_open() {
    let pool = builder(1).args(["--keep-socket"]).build().unwrap();
    let grandchild = watchdog(pool.submit(GRANDCHILD, ())).await.unwrap();
    let worker = pool.worker_pids()[0];
    let signal = |sig: &str, pid: u32| {
        let sent = std::process::Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    };
    // The worker stops reading, so a large call fills the socket and its write waits; then
    // the worker dies, and only the grandchild holds the socket.
    signal("-STOP", worker);
    let large = pool.submit(ENV_VAR, "X".repeat(8 << 20));
    tokio::time::sleep(Duration::from_millis(50)).await;
    signal("-KILL", worker);
    let result = tokio::time::timeout(Duration::from_secs(20), large).await;
    signal("-KILL", grandchild);
    let value = result.expect("watchdog: the write waited for a dead worker");
    assert_eq!(
        value.unwrap(),
        None,
        "the call never started, so it ran on a new worker"
    );
}

#[tokio::test]
async fn a_start_that_fails_for_a_while_is_retried_and_does_not_break_the_pool() {
    watchdog(async {
        // A worker program open for writing cannot be run (ETXTBSY): every start fails
        // until the writer closes it, as while a program is being replaced.
        let tmp = tempfile::tempdir().unwrap();
        let program = tmp.path().join("worker");
        std::fs::copy(WORKER, &program).unwrap();
        let writer = std::fs::OpenOptions::new()
            .write(true)
            .open(&program)
            .unwrap();
        let pool = builder(1).program(&program).build().unwrap();
        let mut task = pool.submit(PID, ());
        // More failed starts than ever broke the pool before.
        while pool.failed_starts() < 6 {
            tokio::select! {
                result = &mut task => panic!("the task ended while no worker could start: {result:?}"),
                () = tokio::time::sleep(Duration::from_millis(10)) => {}
            }
        }
        drop(writer);
        assert!(task.await.is_ok(), "the pool recovered");
    })
    .await;
}

#[tokio::test]
async fn a_program_that_can_never_start_breaks_the_pool_at_its_first_start() {
    watchdog(async {
        // A directory exists (the build accepts it) but cannot be run.
        let tmp = tempfile::tempdir().unwrap();
        let pool = builder(1).program(tmp.path()).build().unwrap();
        let err = pool.submit(PID, ()).await.unwrap_err();
        assert!(err.is_crashed(), "{err}");
        assert!(err.to_string().contains("process pool is broken"), "{err}");
        assert_eq!(pool.failed_starts(), 1, "not tried again");
    })
    .await;
}

#[tokio::test]
async fn max_workers_beyond_the_limit_is_a_build_error_not_a_panic() {
    let err = builder(usize::MAX).build().unwrap_err();
    assert!(
        err.to_string().contains("max_workers must be at most"),
        "{err}"
    );
    assert!(builder(futurepool_process::MAX_WORKERS).build().is_ok());
}

#[tokio::test]
async fn a_child_whose_main_forgot_main_if_worker_stops_at_the_pool_and_says_so() {
    watchdog(async {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("main-ran");
        let pool = builder(1)
            .args(["--stray", log.to_str().unwrap()])
            .build()
            .unwrap();
        let err = pool.submit(PID, ()).await.unwrap_err();
        assert!(err.is_crashed(), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("process pool is broken"), "{msg}");
        assert!(
            msg.contains("futurepool::worker::main_if_worker(&registry)"),
            "{msg}"
        );
        let ran = std::fs::read_to_string(&log).unwrap();
        assert_eq!(
            ran.lines().count(),
            1,
            "main's side effects ran again: {ran}"
        );
        assert_eq!(pool.failed_starts(), 1);
    })
    .await;
}

#[tokio::test]
async fn env_clear_and_env_set_the_workers_environment() {
    watchdog(async {
        let pool = builder(1)
            .env_clear()
            .env("FUTUREPOOL_TEST_VALUE", "42")
            .build()
            .unwrap();
        let value = pool.submit(ENV_VAR, "FUTUREPOOL_TEST_VALUE".to_owned());
        assert_eq!(value.await.unwrap().as_deref(), Some("42"));
        assert_eq!(pool.submit(ENV_VAR, "PATH".to_owned()).await.unwrap(), None);

        let inherited = builder(1)
            .env("FUTUREPOOL_TEST_VALUE", "7")
            .build()
            .unwrap();
        assert!(
            inherited
                .submit(ENV_VAR, "PATH".to_owned())
                .await
                .unwrap()
                .is_some()
        );
    })
    .await;
}

#[tokio::test]
async fn a_task_past_max_memory_per_child_crashes_naming_the_limit_and_the_pool_heals() {
    watchdog(async {
        let limit = 256 << 20;
        let pool = builder(1).max_memory_per_child(limit).build().unwrap();
        assert_eq!(pool.submit(ALLOC, 16 << 20).await.unwrap(), 16 << 20);
        let err = pool.submit(ALLOC, 1 << 30).await.unwrap_err();
        assert!(err.is_crashed(), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("max_memory_per_child"), "{msg}");
        assert!(msg.contains(&limit.to_string()), "{msg}");
        assert_eq!(
            pool.submit(ALLOC, 1 << 20).await.unwrap(),
            1 << 20,
            "healed"
        );
    })
    .await;
}
