//! Results, order and the per-task errors that leave the worker alive: submit, map,
//! map_unordered, as_completed and wait; panics, max_tasks_per_child, unknown functions and
//! serde failures; stdout; broken starts and build errors.

mod common;

use common::functions::*;
use common::{WORKER, builder, pool, watchdog};
use futurepool_process::ProcessPool;
use futurepool_stream::{ReturnWhen, as_completed, wait};
use futurepool_worker::{Registry, RemoteFn};
use futures::{FutureExt, StreamExt};

#[tokio::test]
async fn submitted_tasks_resolve_to_their_results_through_as_completed() {
    watchdog(async {
        let pool = pool(2);
        let tasks: Vec<_> = (0..20u64)
            .map(|n| pool.submit(SQUARE, n).map(move |r| (n, r)))
            .collect();
        let mut seen = 0;
        let mut done = as_completed(tasks);
        while let Some((n, result)) = done.next().await {
            assert_eq!(result.unwrap(), n * n);
            seen += 1;
        }
        assert_eq!(seen, 20);
        let stats = pool.stats();
        assert_eq!(
            (stats.submitted, stats.completed, stats.failed),
            (20, 20, 0)
        );
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn map_yields_in_input_order_and_map_unordered_yields_every_result() {
    watchdog(async {
        let pool = pool(2);
        let ordered: Vec<u64> = pool
            .map(SQUARE, 0..50u64)
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(ordered, (0..50u64).map(|n| n * n).collect::<Vec<_>>());
        let mut unordered: Vec<u64> = pool
            .map_unordered(SQUARE, 0..50u64)
            .map(Result::unwrap)
            .collect()
            .await;
        unordered.sort_unstable();
        assert_eq!(unordered, ordered);
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn an_error_in_map_is_yielded_at_its_place_and_later_items_go_on() {
    watchdog(async {
        let pool = pool(2);
        let items = [Even(2), Even(3), Even(8)];
        let out: Vec<_> = pool.map(HALF, items).collect().await;
        assert_eq!(out[0].as_ref().unwrap(), &1);
        assert!(out[1].as_ref().unwrap_err().is_invalid());
        assert_eq!(out[2].as_ref().unwrap(), &4);
    })
    .await;
}

#[tokio::test]
async fn tasks_work_with_wait() {
    watchdog(async {
        let pool = pool(2);
        let slow = pool.submit(SLEEP_MS, 60_000);
        let fast = pool.submit(SQUARE, 3);
        let waited = wait(vec![fast, pool.submit(SQUARE, 4)], ReturnWhen::AllCompleted).await;
        assert_eq!(waited.done.len(), 2);
        let quick = pool.submit(PID, ());
        let first = wait(vec![slow, quick], ReturnWhen::FirstCompleted).await;
        assert_eq!((first.done.len(), first.pending.len()), (1, 1));
        assert!(
            pool.worker_pids()
                .contains(&first.done.into_iter().next().unwrap().await.unwrap())
        );
        assert!(first.pending[0].cancel(), "the sleeping task was running");
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_panic_fails_its_task_with_the_message_and_the_worker_lives_on() {
    watchdog(async {
        let pool = pool(1);
        let before = pool.submit(PID, ()).await.unwrap();
        let err = pool
            .submit(FAIL, "bad input 7".to_owned())
            .await
            .unwrap_err();
        assert!(err.is_panic(), "{err}");
        assert_eq!(err.panic_message(), Some("bad input 7"));
        assert_eq!(
            pool.submit(PID, ()).await.unwrap(),
            before,
            "same worker process"
        );
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn max_tasks_per_child_two_recycles_every_second_task() {
    watchdog(async {
        let pool = builder(1).max_tasks_per_child(2).build().unwrap();
        let mut pids = Vec::new();
        for _ in 0..6 {
            pids.push(pool.submit(PID, ()).await.unwrap());
        }
        assert_eq!(pids[0], pids[1]);
        assert_eq!(pids[2], pids[3]);
        assert_eq!(pids[4], pids[5]);
        assert!(
            pids[0] != pids[2] && pids[2] != pids[4] && pids[0] != pids[4],
            "{pids:?}"
        );
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_function_missing_from_the_workers_registry_fails_only_its_tasks() {
    watchdog(async {
        let pool = pool(1);
        let err = pool.submit(MISSING, 1).await.unwrap_err();
        assert!(err.is_invalid(), "{err}");
        assert!(
            err.to_string()
                .contains("`missing` is not registered in the worker"),
            "{err}"
        );
        assert_eq!(pool.submit(SQUARE, 9).await.unwrap(), 81);
        let err = pool.submit(MISSING, 2).await.unwrap_err();
        assert!(err.is_invalid(), "{err}");
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_function_the_worker_knows_with_other_types_fails_naming_both() {
    watchdog(async {
        let pool = pool(1);
        let err = pool.submit(RETYPED_HERE, "x".to_owned()).await.unwrap_err();
        assert!(err.is_invalid(), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("`retyped` has other types in the worker"),
            "{msg}"
        );
        assert!(msg.contains("retyped(u64) -> u64"), "{msg}");
        assert_eq!(pool.submit(SQUARE, 2).await.unwrap(), 4);
    })
    .await;
}

#[tokio::test]
async fn a_function_not_in_the_pools_registry_fails_at_once() {
    watchdog(async {
        fn cube(n: u64) -> u64 {
            n * n * n
        }
        let pool = pool(1);
        let err = pool
            .submit(RemoteFn::new("cube", cube), 2)
            .await
            .unwrap_err();
        assert!(err.is_invalid(), "{err}");
        assert!(
            err.to_string()
                .contains("`cube` is not in the pool's registry"),
            "{err}"
        );
        assert!(pool.worker_pids().is_empty(), "no worker was needed");
    })
    .await;
}

#[tokio::test]
async fn an_argument_that_fails_to_deserialize_fails_only_its_task() {
    watchdog(async {
        let pool = pool(1);
        let err = pool.submit(HALF, Even(3)).await.unwrap_err();
        assert!(err.is_invalid(), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("argument of `half` failed to deserialize"),
            "{msg}"
        );
        assert!(msg.contains("3 is odd"), "{msg}");
        assert_eq!(pool.submit(HALF, Even(4)).await.unwrap(), 2);
    })
    .await;
}

#[test]
fn what_a_task_prints_reaches_the_parents_stderr_not_its_stdout_nor_the_channel() {
    let marker = "printed-by-the-task-0451";
    let parent = std::process::Command::new(WORKER)
        .args(["print", marker])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (finished, watched) = std::sync::mpsc::channel::<()>();
    let pid = parent.id().to_string();
    std::thread::spawn(move || {
        if watched.recv_timeout(common::WATCHDOG).is_err() {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid])
                .status();
        }
    });
    let out = parent.wait_with_output().unwrap();
    let _ = finished.send(());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}\n{stderr}", out.status);
    assert!(stdout.starts_with("result "), "{stdout}");
    assert!(!stdout.contains(marker), "{stdout}");
    assert!(stderr.contains(marker), "{stderr}");
}

#[tokio::test]
async fn a_program_that_never_serves_breaks_the_pool_clearly_instead_of_looping() {
    watchdog(async {
        let pool = ProcessPool::builder(parent_registry())
            .program("/bin/true")
            .max_workers(1)
            .build()
            .unwrap();
        let err = pool.submit(SQUARE, 1).await.unwrap_err();
        assert!(err.is_crashed(), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("process pool is broken"), "{msg}");
        assert!(msg.contains("exit code 0"), "{msg}");
        assert!(msg.contains("main_if_worker"), "{msg}");
        // Later submits fail at once the same way.
        assert!(pool.submit(SQUARE, 2).await.unwrap_err().is_crashed());

        let missing = ProcessPool::builder(parent_registry())
            .program("/nonexistent/worker")
            .build()
            .unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("worker program /nonexistent/worker: "),
            "{missing}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_submit_after_shutdown_resolves_as_shut_down() {
    watchdog(async {
        let pool = pool(1);
        assert_eq!(pool.submit(SQUARE, 5).await.unwrap(), 25);
        pool.shutdown().await;
        assert!(pool.is_shutdown());
        assert!(pool.submit(SQUARE, 5).await.unwrap_err().is_shutdown());
    })
    .await;
}

#[tokio::test]
async fn zero_workers_is_a_build_error() {
    let err = builder(0).build().unwrap_err();
    assert_eq!(err.to_string(), "max_workers must be at least 1, got 0");
}

#[test]
fn building_outside_a_runtime_is_an_error() {
    let err = ProcessPool::builder(Registry::new()).build().unwrap_err();
    assert!(
        err.to_string()
            .starts_with("ProcessPool must be built inside a Tokio runtime"),
        "{err}"
    );
}

#[tokio::test]
async fn zero_tasks_per_child_is_a_build_error() {
    let err = builder(1).max_tasks_per_child(0).build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "max_tasks_per_child must be at least 1, got 0"
    );
}

#[test]
fn a_worker_whose_pool_is_gone_exits_instead_of_running_main() {
    let out = std::process::Command::new(WORKER)
        .arg("--futurepool-worker=/nonexistent/pool.sock")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot connect to its pool"), "{stderr}");
    assert!(!stderr.contains("usage"), "main ran: {stderr}");
}
