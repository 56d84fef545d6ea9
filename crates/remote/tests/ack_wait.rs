//! `ack_wait` is each pool's bound on how long a dead worker's task waits: the namespace's
//! workers share one consumer, whose `ack_wait` only goes down (to the shortest any pool
//! asked for), and a pool lowering it announces so first, so a task already running is never
//! delivered a second time by another pool's setting.

mod common;

use std::time::Duration;

use common::{
    SQUARE, Server, WAIT_FOR_FILE, WorkerProcess, consumer_info, marker, pool_with_ack_wait,
    watchdog,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shorter_ack_wait_built_while_a_task_runs_never_redelivers_it() {
    watchdog(60, async {
        let server = Server::start();
        // Progress acks every 2 s for this pool's tasks.
        let patient = pool_with_ack_wait(&server, "aw-mid", Duration::from_secs(6)).await;
        let _worker = WorkerProcess::start(&server.url, "aw-mid", 2, false);
        let gate = marker("aw-mid-gate");
        let task = patient.submit(WAIT_FOR_FILE, gate.to_string_lossy().into_owned());
        // Running: its worker said so.
        while patient.stats().running == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Built while the task runs: a consumer ack_wait of 1.5 s set at once would redeliver
        // it before the worker's next progress ack, up to 2 s away.
        let hasty_ack_wait = Duration::from_millis(1500);
        let hasty = pool_with_ack_wait(&server, "aw-mid", hasty_ack_wait).await;
        assert_eq!(
            consumer_info(&server.url, "aw-mid").await.config.ack_wait,
            hasty_ack_wait
        );
        // Twice the new ack_wait with the task still running.
        tokio::time::sleep(2 * hasty_ack_wait).await;
        let info = consumer_info(&server.url, "aw-mid").await;
        assert_eq!(
            info.delivered.consumer_sequence, 1,
            "the running task was delivered again: {info:?}"
        );
        std::fs::write(&gate, b"").unwrap();
        assert_eq!(task.await.unwrap(), 1);
        // The hasty pool's tasks run too, and a longer ack_wait built later changes nothing.
        assert_eq!(hasty.submit(SQUARE, 4).await.unwrap(), 16);
        let later = pool_with_ack_wait(&server, "aw-mid", Duration::from_secs(30)).await;
        assert_eq!(
            consumer_info(&server.url, "aw-mid").await.config.ack_wait,
            hasty_ack_wait
        );
        assert_eq!(later.submit(SQUARE, 5).await.unwrap(), 25);
        let info = consumer_info(&server.url, "aw-mid").await;
        assert_eq!(info.delivered.consumer_sequence, 3, "{info:?}");
        assert_eq!(patient.duplicates(), 0);
        let _ = std::fs::remove_file(&gate);
        for pool in [patient, hasty, later] {
            pool.shutdown().await;
        }
    })
    .await;
}
