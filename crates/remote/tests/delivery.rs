//! Delivery against a real `nats-server` and real worker processes: a worker killed mid-task,
//! a restarted server, tasks submitted before any worker, a cancelled task.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{
    BOOM, LEN_OF, SLOW_SQUARE, SQUARE, Server, WAIT_FOR_FILE, WorkerProcess, consumer_info, marker,
    pool_id, pool_in, pool_with_ack_wait, runs, watchdog, watchdog_on,
};
use futurepool_stream::as_completed;
use futures::{FutureExt, StreamExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_task_loses_nothing() {
    watchdog(60, async {
        let server = Server::start();
        let pool = pool_with_ack_wait(&server, "kill", Duration::from_secs(1)).await;
        let gate = marker("kill-gate");
        let gate_arg = gate.to_string_lossy().into_owned();
        // The victim alone first: it takes both gated tasks and holds them (running).
        let mut victim = WorkerProcess::start(&server.url, "kill", 2, false);
        let held: Vec<_> = (0..2)
            .map(|_| pool.submit(WAIT_FOR_FILE, gate_arg.clone()))
            .collect();
        while pool.stats().running < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        victim.kill();
        std::fs::write(&gate, b"open").unwrap();
        // The survivor gets them after ack_wait, and the rest of the work as well.
        let survivor = WorkerProcess::start(&server.url, "kill", 2, false);
        let n = 24u64;
        let mut done = as_completed((0..n).map(|i| {
            let task = pool.submit(SLOW_SQUARE, (i, 20 * (i % 4)));
            async move { (i, task.await) }
        }));
        let mut seen = HashSet::new();
        while let Some((i, result)) = done.next().await {
            let (square, pid) = result.unwrap_or_else(|e| panic!("task {i}: {e}"));
            assert_eq!((square, pid), (i * i, survivor.pid()), "task {i}");
            assert!(seen.insert(i), "task {i} resolved twice");
        }
        for task in held {
            assert_eq!(task.await.unwrap(), 1);
        }
        let info = consumer_info(&server.url, "kill").await;
        // One delivery per task, plus the redeliveries of the two the victim held.
        assert!(
            info.delivered.consumer_sequence >= n + 2 + 2,
            "the victim's tasks were not redelivered: {info:?}"
        );
        pool.shutdown().await;
        let stats = pool.stats();
        assert_eq!((stats.completed, stats.failed, stats.queued), (n + 2, 0, 0));
        let _ = std::fs::remove_file(&gate);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_stored_before_a_server_restart_are_not_lost() {
    watchdog(60, async {
        let mut server = Server::start();
        let pool = pool_in(&server, "restart").await;
        let tasks: Vec<_> = (0..10u64).map(|i| pool.submit(SQUARE, i)).collect();
        pool.flush().await;
        server.restart();
        let _worker = WorkerProcess::start(&server.url, "restart", 2, false);
        for (i, task) in (0u64..).zip(tasks) {
            assert_eq!(task.await.unwrap(), i * i);
        }
        // Submitting after the restart works too.
        assert_eq!(pool.submit(SQUARE, 12).await.unwrap(), 144);
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_submitted_with_no_worker_up_wait_for_one() {
    watchdog(60, async {
        let server = Server::start();
        let pool = pool_in(&server, "waiting").await;
        let tasks: Vec<_> = (0..5u64).map(|i| pool.submit(SQUARE, i + 1)).collect();
        pool.flush().await;
        assert!(tasks.iter().all(|t| !t.is_finished()));
        assert_eq!(consumer_info(&server.url, "waiting").await.num_pending, 5);
        let _worker = WorkerProcess::start(&server.url, "waiting", 1, false);
        let out: Vec<u64> = futures::future::join_all(tasks)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(out, [1, 4, 9, 16, 25]);
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_queued_task_never_runs() {
    watchdog(60, async {
        let server = Server::start();
        let pool = pool_in(&server, "cancel").await;
        let path = marker("cancelled");
        let task = pool.submit(BOOM, path.display().to_string());
        pool.flush().await;
        assert!(task.cancel());
        assert!(task.await.unwrap_err().is_cancelled());
        // `shutdown` returns once the cancelled task's message has left the stream.
        pool.shutdown().await;
        assert_eq!(pool.stats().cancelled, 1);
        assert_eq!(consumer_info(&server.url, "cancel").await.num_pending, 0);
        let _worker = WorkerProcess::start(&server.url, "cancel", 1, false);
        let pool = pool_in(&server, "cancel").await;
        assert_eq!(pool.submit(SQUARE, 5).await.unwrap(), 25);
        assert_eq!(runs(&path), 0, "the cancelled task ran");
        pool.shutdown().await;
        assert!(pool.submit(SQUARE, 1).await.unwrap_err().is_shutdown());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_keeps_input_order() {
    let server = Server::start();
    let _workers = [
        WorkerProcess::start(&server.url, "map", 4, false),
        WorkerProcess::start(&server.url, "map", 4, false),
    ];
    let pool = pool_in(&server, "map").await;
    let seen = pool.clone();
    watchdog_on(60, &server.url, move || format!("{seen:?}"), async {
        let out: Vec<u64> = pool
            .map(SQUARE, 0..200u64)
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(out, (0..200u64).map(|i| i * i).collect::<Vec<_>>());
        let mut unordered: Vec<u64> = pool
            .map_unordered(SQUARE, 0..50u64)
            .map(Result::unwrap)
            .collect()
            .await;
        unordered.sort_unstable();
        assert_eq!(unordered, (0..50u64).map(|i| i * i).collect::<Vec<_>>());
        // From a thread outside the runtime, with `blocking_wait`.
        let handle = pool.clone();
        let from_thread = tokio::task::spawn_blocking(move || {
            std::thread::spawn(move || handle.submit(SQUARE, 7).blocking_wait())
                .join()
                .unwrap()
        })
        .await
        .unwrap();
        assert_eq!(from_thread.unwrap(), 49);
        pool.shutdown().await;
        // A map's chunk is one task (one message): every task submitted completed.
        let stats = pool.stats();
        assert_eq!((stats.completed, stats.failed), (stats.submitted, 0));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_now_cancels_the_waiting_tasks_and_removes_their_messages() {
    watchdog(60, async {
        let server = Server::start();
        let pool = pool_in(&server, "now").await;
        let tasks: Vec<_> = (0..4u64).map(|i| pool.submit(SQUARE, i)).collect();
        pool.flush().await;
        assert_eq!(consumer_info(&server.url, "now").await.num_pending, 4);
        pool.shutdown_now().await;
        assert!(pool.is_shutdown());
        for task in tasks {
            assert!(task.await.unwrap_err().is_cancelled());
        }
        let stats = pool.stats();
        assert_eq!((stats.cancelled, stats.queued), (4, 0));
        assert_eq!(consumer_info(&server.url, "now").await.num_pending, 0);
        assert!(pool.submit(SQUARE, 1).await.unwrap_err().is_shutdown());
        assert_eq!(pool.stats().rejected, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_the_tasks_a_worker_started_as_running() {
    watchdog(60, async {
        let server = Server::start();
        let pool = pool_in(&server, "running").await;
        let gate = marker("running-gate");
        let gate_arg = gate.to_string_lossy().into_owned();
        let _worker = WorkerProcess::start(&server.url, "running", 1, false);
        // One slot: the first task runs (held by the gate), the second waits in the stream.
        let first = pool.submit(WAIT_FOR_FILE, gate_arg.clone());
        let second = pool.submit(WAIT_FOR_FILE, gate_arg);
        loop {
            let stats = pool.stats();
            if stats.running == 1 {
                assert_eq!(stats.queued, 1, "{stats:?}");
                break;
            }
            assert_eq!(stats.running + stats.queued, 2, "{stats:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        std::fs::write(&gate, b"open").unwrap();
        assert_eq!((first.await.unwrap(), second.await.unwrap()), (1, 1));
        // Counted before the tasks resolved.
        assert_eq!(pool.stats().completed, 2);
        pool.shutdown().await;
        let stats = pool.stats();
        assert_eq!((stats.running, stats.queued, stats.completed), (0, 0, 2));
        let _ = std::fs::remove_file(&gate);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shorter_ack_wait_set_by_another_pool_does_not_redeliver_running_tasks() {
    watchdog(60, async {
        let server = Server::start();
        // The namespace's workers share one consumer; the pool built last sets its ack_wait.
        let patient = pool_in(&server, "mixed").await;
        // 1.5 s, not less: progress acks come every third of it, so a pause of up to a second
        // under load is fine (with 500 ms a pause over 333 ms redelivered the task now and then
        // in loaded runs), while a worker ignoring it is still redelivered at 1.5 s.
        let hasty_ack_wait = Duration::from_millis(1500);
        let _hasty = pool_with_ack_wait(&server, "mixed", hasty_ack_wait).await;
        let _worker = WorkerProcess::start(&server.url, "mixed", 2, false);
        // Runs three times the consumer's ack_wait, far under the patient pool's 30 s: the
        // worker's progress acks must follow the shorter of the two.
        let (square, _) = patient.submit(SLOW_SQUARE, (3, 4500)).await.unwrap();
        assert_eq!(square, 9);
        let info = consumer_info(&server.url, "mixed").await;
        assert_eq!(info.config.ack_wait, hasty_ack_wait);
        assert_eq!(
            info.delivered.consumer_sequence, 1,
            "the running task was delivered again: {info:?}"
        );
        patient.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_result_consumer_is_made_again_and_tasks_still_resolve() {
    watchdog(40, async {
        let server = Server::start();
        let pool = pool_in(&server, "gone").await;
        let tasks: Vec<_> = (0..5u64).map(|i| pool.submit(SQUARE, i)).collect();
        pool.flush().await;
        // An operator (or the server, after a long disconnect) removes the pool's consumer.
        let js = async_nats::jetstream::new(async_nats::connect(&server.url).await.unwrap());
        let stream = js.get_stream("gone_results").await.unwrap();
        let name = format!("pool-{}", pool_id(&pool));
        stream.delete_consumer(&name).await.unwrap();
        let _worker = WorkerProcess::start(&server.url, "gone", 2, false);
        for (i, task) in (0u64..).zip(tasks) {
            assert_eq!(task.await.unwrap(), i * i);
        }
        // The answers came directly; the consumer, which the answers that cannot come directly
        // need, is made again at the listener's next check (a missed heartbeat).
        // `security.rs` has answers go through it after it was made again.
        while stream.consumer_info(&name).await.is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_reach_a_connected_pool_directly_and_nothing_is_stored() {
    watchdog(40, async {
        let server = Server::start();
        let pool = pool_in(&server, "direct").await;
        let _worker = WorkerProcess::start(&server.url, "direct", 4, false);
        assert_eq!(pool.submit(SQUARE, 2).await.unwrap(), 4);
        let js = async_nats::jetstream::new(async_nats::connect(&server.url).await.unwrap());
        let mut stream = js.get_stream("direct_results").await.unwrap();
        let stored = stream.info().await.unwrap().state.last_sequence;
        let tasks: Vec<_> = (0..50u64).map(|i| pool.submit(SQUARE, i)).collect();
        for (i, task) in (0u64..).zip(tasks) {
            assert_eq!(task.await.unwrap(), i * i);
        }
        let info = stream.info().await.unwrap();
        assert_eq!(
            info.state.last_sequence, stored,
            "answers were stored in the result stream: {:?}",
            info.state
        );
        assert_eq!(pool.duplicates(), 0);
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_racing_submits_waits_for_every_accepted_task() {
    watchdog(60, async {
        let server = Server::start();
        let _worker = WorkerProcess::start(&server.url, "race", 4, false);
        for _ in 0..3 {
            let pool = pool_in(&server, "race").await;
            let (started, submitting) = std::sync::mpsc::channel();
            let handle = pool.clone();
            // Each submit encodes 50 kB first: a wide window between the shutdown check and
            // the count, where a pool with a separate flag and counter lost tasks.
            let submitter = std::thread::spawn(move || {
                (0..100u64)
                    .map(|i| {
                        if i == 1 {
                            started.send(()).unwrap();
                        }
                        handle.submit(LEN_OF, vec![0; 50_000 + i as usize])
                    })
                    .collect::<Vec<_>>()
            });
            submitting.recv().unwrap();
            pool.shutdown().await;
            let tasks = submitter.join().unwrap();
            // Each task was either accepted before the close (and resolved before `shutdown`
            // returned) or refused at once: none is left unresolved.
            let mut accepted = 0;
            for (i, task) in (0u64..).zip(tasks) {
                assert!(
                    task.is_finished(),
                    "task {i} unresolved after shutdown returned"
                );
                match task.await {
                    Ok(len) => {
                        assert_eq!(len, 50_000 + i);
                        accepted += 1;
                    }
                    Err(e) => assert!(e.is_shutdown(), "task {i}: {e}"),
                }
            }
            assert_eq!(pool.stats().completed, accepted);
        }
    })
    .await;
}

/// A worker started before any pool only looks for its namespace: it makes neither the stream
/// nor the consumer (a worker's create racing the pool's left, now and then, a consumer that
/// sent nothing it delivered, and the tasks hung), and serves once a pool made them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_started_first_makes_nothing_and_serves_the_pool_built_later() {
    watchdog(60, async {
        let server = Server::start();
        // Every JetStream API request, as the server receives it.
        let client = async_nats::connect(&server.url).await.unwrap();
        let mut api = client.subscribe("$JS.API.>").await.unwrap();
        client.flush().await.unwrap();
        let _worker = WorkerProcess::start(&server.url, "first", 2, false);
        let mut looks = 0;
        while looks < 3 {
            let request = api.next().await.expect("the API requests");
            let subject = request.subject.as_str();
            assert!(
                !subject.contains(".CREATE.") && !subject.contains(".UPDATE."),
                "the worker made or changed a stream or consumer: {subject}"
            );
            if subject == "$JS.API.STREAM.INFO.first_tasks" {
                looks += 1;
            }
        }
        drop(api);
        let pool = pool_in(&server, "first").await;
        assert_eq!(pool.submit(SQUARE, 9).await.unwrap(), 81);
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_whose_answer_is_on_its_way_gives_its_slot_to_the_next() {
    watchdog(40, async {
        let server = Server::start();
        let pool = pool_in(&server, "handover").await;
        let client = async_nats::connect(&server.url).await.unwrap();
        let js = async_nats::jetstream::new(client.clone());
        // A pool that takes its answer and never confirms it: the worker waits 2 s for the
        // confirmation, then stores the answer in the result stream.
        let mut silent = client.subscribe("handover.answers.silent").await.unwrap();
        let mut stored = client.subscribe("handover.results.silent").await.unwrap();
        client.flush().await.unwrap();
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Futurepool-Reply-To", "handover.results.silent");
        headers.insert("Futurepool-Task-Id", "1");
        let call = futurepool_worker::codec::encode(&SQUARE.call(1, &5).unwrap()).unwrap();
        js.publish_with_headers("handover.tasks", headers, call.into())
            .await
            .unwrap()
            .await
            .unwrap();
        // One slot: the silent pool's task has run once its answer arrives.
        let _worker = WorkerProcess::start(&server.url, "handover", 1, false);
        let _held = silent.next().await.expect("the direct answer");
        // Its answer is on its way (unconfirmed, for up to 2 s): the slot starts the next
        // task meanwhile. Before, the slot was held until the answer was stored.
        let gate = marker("handover-gate");
        let next = pool.submit(WAIT_FOR_FILE, gate.to_string_lossy().into_owned());
        while pool.stats().running == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(
            stored.next().now_or_never().is_none(),
            "the next task started only after the unconfirmed answer was stored"
        );
        std::fs::write(&gate, b"open").unwrap();
        assert_eq!(next.await.unwrap(), 1);
        // And the unconfirmed answer still reaches the stream.
        let answer = tokio::time::timeout(Duration::from_secs(10), stored.next())
            .await
            .expect("the unconfirmed answer, stored")
            .unwrap();
        assert!(!answer.payload.is_empty());
        pool.shutdown().await;
    })
    .await;
}
