//! `task_timeout` against a real `nats-server`: past it the worker answers `is_timeout()`,
//! kills the child running the task when isolated, and goes on serving.

mod common;

use std::time::Duration;

use common::{
    PID_THEN_SLEEP, SLOW_SQUARE, SQUARE, Server, WorkerProcess, marker, registry, watchdog,
};
use futurepool_remote::RemotePool;

async fn pool_with_timeout(server: &Server, namespace: &str) -> RemotePool {
    RemotePool::builder(registry())
        .url(&server.url)
        .namespace(namespace)
        .task_timeout(Duration::from_millis(500))
        .build()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_past_its_timeout_is_timeout_and_the_worker_serves_on() {
    watchdog(30, async {
        let server = Server::start();
        // One slot: the next task runs only if the timed-out one gave its slot back.
        let _worker = WorkerProcess::start(&server.url, "timeout", 1, false);
        let pool = pool_with_timeout(&server, "timeout").await;
        let err = pool.submit(SLOW_SQUARE, (3, 20_000)).await.unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(err.to_string().contains("task_timeout"), "{err}");
        assert_eq!(pool.submit(SQUARE, 6).await.unwrap(), 36);
        // A task within the limit is untouched.
        assert_eq!(pool.submit(SLOW_SQUARE, (2, 50)).await.unwrap().0, 4);
        pool.shutdown().await;
        assert_eq!(pool.duplicates(), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_isolated_task_past_its_timeout_has_its_child_killed() {
    watchdog(30, async {
        let server = Server::start();
        let _worker = WorkerProcess::start(&server.url, "timeout-iso", 1, true);
        let pool = pool_with_timeout(&server, "timeout-iso").await;
        let path = marker("timeout-child");
        let err = pool
            .submit(PID_THEN_SLEEP, path.display().to_string())
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        let pid: u32 = std::fs::read_to_string(&path)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The child that ran it is gone (killed and reaped), not left sleeping.
        let proc = std::path::PathBuf::from(format!("/proc/{pid}"));
        while proc.exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(pool.submit(SQUARE, 5).await.unwrap(), 25);
        pool.shutdown().await;
        let _ = std::fs::remove_file(&path);
    })
    .await;
}
