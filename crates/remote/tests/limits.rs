//! Sizes against a real `nats-server` whose `max_payload` is 64 KiB: a call too large resolves
//! at once to `is_invalid()` naming both sizes, a result too large is the task's
//! `is_invalid()`, neither is retried, and the worker and `shutdown` go on.

mod common;

use common::{BIG_RESULT, LEN_OF, SQUARE, Server, WorkerProcess, pool_in, watchdog};

const LIMIT: usize = 64 * 1024;

fn small_server() -> Server {
    Server::start_config(&format!("max_payload: {LIMIT}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_over_max_payload_is_invalid_at_once_and_shutdown_returns() {
    watchdog(30, async {
        let server = small_server();
        let _worker = WorkerProcess::start(&server.url, "big-call", 1, false);
        let pool = pool_in(&server, "big-call").await;
        let err = pool.submit(LEN_OF, vec![7; 100_000]).await.unwrap_err();
        assert!(err.is_invalid(), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("too large") && text.contains(&LIMIT.to_string()),
            "{text}"
        );
        // The size is in the message too (the argument, its framing and headers).
        assert!(text.contains("too large: 100"), "{text}");
        // Just under the limit goes through.
        assert_eq!(pool.submit(LEN_OF, vec![7; 60_000]).await.unwrap(), 60_000);
        pool.shutdown().await;
        let stats = pool.stats();
        assert_eq!((stats.completed, stats.failed), (1, 1));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_over_max_payload_is_invalid_and_the_worker_serves_on() {
    watchdog(30, async {
        let server = small_server();
        // One slot: a worker stuck on the large answer would never run the next task.
        let _worker = WorkerProcess::start(&server.url, "big-result", 1, false);
        let pool = pool_in(&server, "big-result").await;
        let err = pool.submit(BIG_RESULT, 100_000).await.unwrap_err();
        assert!(err.is_invalid(), "{err:?}");
        assert!(!err.is_crashed(), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("result too large") && text.contains(&LIMIT.to_string()),
            "{text}"
        );
        assert_eq!(pool.submit(SQUARE, 12).await.unwrap(), 144);
        assert_eq!(pool.submit(BIG_RESULT, 1000).await.unwrap().len(), 1000);
        pool.shutdown().await;
        assert_eq!(pool.duplicates(), 0, "the large task was answered twice");
    })
    .await;
}
