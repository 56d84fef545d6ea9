//! Chunked maps against a real `nats-server` and real worker processes: the same results as
//! one message per item, exactly one task message per chunk, a panic that fails its item only,
//! a worker killed mid-chunk, chunks that adapt to the items' cost, chunks and answers split
//! to fit `max_payload`, and a dropped stream that takes its chunks off the stream.

mod common;

use std::time::Duration;

use common::{
    BIG_RESULT, LEN_OF, PICKY_SQUARE, SLOW_SQUARE, SQUARE, Server, WAIT_FOR_FILE, WorkerProcess,
    consumer_info, marker, pool_in, pool_with_ack_wait, watchdog,
};
use futures::StreamExt;

/// How many task messages the namespace's stream has ever stored (its last sequence).
async fn task_messages(url: &str, namespace: &str) -> u64 {
    let js = async_nats::jetstream::new(async_nats::connect(url).await.unwrap());
    let mut stream = js.get_stream(format!("{namespace}_tasks")).await.unwrap();
    stream.info().await.unwrap().state.last_sequence
}

fn squares(n: u64) -> Vec<u64> {
    (0..n).map(|i| i * i).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_maps_give_the_unchunked_results_in_order() {
    watchdog(60, async {
        let server = Server::start();
        let _workers: Vec<_> = (0..2)
            .map(|_| WorkerProcess::start(&server.url, "same", 4, false))
            .collect();
        let pool = pool_in(&server, "same").await;
        let n = 2000u64;
        let one_by_one: Vec<u64> = pool
            .map(SQUARE, 0..n)
            .chunk_size(1)
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(one_by_one, squares(n));
        let automatic: Vec<u64> = pool.map(SQUARE, 0..n).map(Result::unwrap).collect().await;
        assert_eq!(automatic, squares(n));
        let fixed: Vec<u64> = pool
            .map(SQUARE, 0..n)
            .chunk_size(37)
            .buffer(200)
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(fixed, squares(n));
        let mut unordered: Vec<u64> = pool
            .map_unordered(SQUARE, 0..n)
            .chunk_size(50)
            .buffer(300)
            .map(Result::unwrap)
            .collect()
            .await;
        unordered.sort_unstable();
        assert_eq!(unordered, squares(n));
        pool.shutdown().await;
        assert_eq!(pool.duplicates(), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunk_size_n_sends_one_message_and_one_answer_per_chunk() {
    watchdog(60, async {
        let server = Server::start();
        let _worker = WorkerProcess::start(&server.url, "count", 4, false);
        let pool = pool_in(&server, "count").await;
        let n = 1003u64;
        let out: Vec<u64> = pool
            .map(SQUARE, 0..n)
            .chunk_size(50)
            .buffer(200)
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(out, squares(n));
        // ceil(1003 / 50) = 21 messages, each delivered once and answered once.
        assert_eq!(task_messages(&server.url, "count").await, 21);
        let info = consumer_info(&server.url, "count").await;
        assert_eq!(info.delivered.consumer_sequence, 21, "{info:?}");
        pool.shutdown().await;
        let stats = pool.stats();
        assert_eq!((stats.completed, stats.failed), (21, 0));
        assert_eq!(pool.duplicates(), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_one_item_fails_that_item_only() {
    watchdog(60, async {
        let server = Server::start();
        let _worker = WorkerProcess::start(&server.url, "picky", 2, false);
        let pool = pool_in(&server, "picky").await;
        let check = |out: Vec<Result<u64, futurepool_core::TaskError>>| {
            assert_eq!(out.len(), 100);
            for (i, result) in (0u64..).zip(out) {
                if i == 13 {
                    let err = result.unwrap_err();
                    assert!(err.is_panic(), "{err:?}");
                    assert_eq!(err.panic_message(), Some("13 is unlucky"));
                } else {
                    assert_eq!(result.unwrap(), i * i, "item {i}");
                }
            }
        };
        check(
            pool.map(PICKY_SQUARE, 0..100)
                .chunk_size(25)
                .buffer(100)
                .collect()
                .await,
        );
        assert_eq!(task_messages(&server.url, "picky").await, 4);
        check(pool.map(PICKY_SQUARE, 0..100).collect().await);
        pool.shutdown().await;
        assert_eq!(pool.duplicates(), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_chunk_runs_the_chunk_again_and_each_item_resolves_once() {
    watchdog(60, async {
        let server = Server::start();
        let pool = pool_with_ack_wait(&server, "chunk-kill", Duration::from_secs(1)).await;
        let gate = marker("chunk-kill-gate");
        let gate_arg = gate.to_string_lossy().into_owned();
        let mut victim = WorkerProcess::start(&server.url, "chunk-kill", 1, false);
        // One chunk of ten items; its first item waits for the gate on the victim.
        let map = pool
            .map(WAIT_FOR_FILE, vec![gate_arg; 10])
            .chunk_size(10)
            .buffer(10);
        let collected = tokio::spawn(map.collect::<Vec<_>>());
        while pool.stats().running < 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        victim.kill();
        std::fs::write(&gate, b"open").unwrap();
        // The survivor gets the whole chunk after ack_wait.
        let _survivor = WorkerProcess::start(&server.url, "chunk-kill", 1, false);
        let out = collected.await.unwrap();
        assert_eq!(out.len(), 10);
        for result in out {
            assert_eq!(result.unwrap(), 1);
        }
        assert_eq!(task_messages(&server.url, "chunk-kill").await, 1);
        let info = consumer_info(&server.url, "chunk-kill").await;
        assert!(
            info.delivered.consumer_sequence >= 2,
            "the chunk was not delivered again: {info:?}"
        );
        pool.shutdown().await;
        let stats = pool.stats();
        assert_eq!((stats.completed, stats.failed), (1, 0));
        assert_eq!(pool.duplicates(), 0, "the victim answered after all");
        let _ = std::fs::remove_file(&gate);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_automatic_chunk_size_grows_for_tiny_items_and_falls_for_slow_ones() {
    watchdog(60, async {
        let server = Server::start();
        let _workers: Vec<_> = (0..2)
            .map(|_| WorkerProcess::start(&server.url, "adapt", 4, false))
            .collect();
        let pool = pool_in(&server, "adapt").await;
        // 2,000 items that take nothing, then 200 that take 5 ms each.
        let (tiny, slow) = (2000u64, 200u64);
        let items = (0..tiny)
            .map(|n| (n, 0))
            .chain((tiny..tiny + slow).map(|n| (n, 5)));
        let mut map = pool.map(SLOW_SQUARE, items);
        for i in 0..=tiny {
            assert_eq!(map.next().await.unwrap().unwrap().0, i * i);
        }
        // At most 64 items read ahead (the default bound) are in messages already.
        let after_tiny = task_messages(&server.url, "adapt").await;
        for i in tiny + 1..tiny + slow {
            assert_eq!(map.next().await.unwrap().unwrap().0, i * i);
        }
        assert!(map.next().await.is_none());
        let all = task_messages(&server.url, "adapt").await;
        assert!(
            after_tiny <= tiny / 4,
            "{after_tiny} messages for {tiny} tiny items: chunks did not grow"
        );
        // The slow items not yet read ahead go one per message.
        assert!(
            all - after_tiny >= slow / 2,
            "{} messages for the last {slow} slow items: chunks did not fall",
            all - after_tiny
        );
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_over_max_payload_goes_in_several_messages() {
    watchdog(60, async {
        let limit = 64 * 1024;
        let server = Server::start_config(&format!("max_payload: {limit}"));
        let _worker = WorkerProcess::start(&server.url, "chunk-big", 2, false);
        let pool = pool_in(&server, "chunk-big").await;
        // 40 items of 10 kB (400 kB together) and one too large for any message.
        let items = (0..41).map(|i| {
            if i == 5 {
                vec![7u8; 100_000]
            } else {
                vec![7; 10_000]
            }
        });
        let out: Vec<_> = pool
            .map(LEN_OF, items)
            .chunk_size(41)
            .buffer(41)
            .collect()
            .await;
        for (i, result) in out.into_iter().enumerate() {
            if i == 5 {
                let err = result.unwrap_err();
                assert!(err.is_invalid(), "{err:?}");
                assert!(err.to_string().contains("too large"), "{err}");
            } else {
                assert_eq!(result.unwrap(), 10_000, "item {i}");
            }
        }
        let messages = task_messages(&server.url, "chunk-big").await;
        assert!((7..=40).contains(&messages), "{messages} messages");
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_too_large_for_one_answer_come_in_several() {
    watchdog(60, async {
        let limit = 64 * 1024;
        let server = Server::start_config(&format!("max_payload: {limit}"));
        let _worker = WorkerProcess::start(&server.url, "chunk-answers", 2, false);
        let pool = pool_in(&server, "chunk-answers").await;
        // 20 results of 10 kB (200 kB together) and one too large for any answer.
        let sizes = (0..21u64).map(|i| if i == 7 { 100_000 } else { 10_000 });
        let out: Vec<_> = pool
            .map(BIG_RESULT, sizes)
            .chunk_size(21)
            .buffer(21)
            .collect()
            .await;
        for (i, result) in out.into_iter().enumerate() {
            if i == 7 {
                let err = result.unwrap_err();
                assert!(err.is_invalid(), "{err:?}");
                let text = err.to_string();
                assert!(
                    text.contains("result too large") && text.contains(&limit.to_string()),
                    "{text}"
                );
            } else {
                assert_eq!(result.unwrap().len(), 10_000, "item {i}");
            }
        }
        // The items whose results did not fit were sent again, in fewer messages than items.
        let messages = task_messages(&server.url, "chunk-answers").await;
        assert!((3..21).contains(&messages), "{messages} messages");
        pool.shutdown().await;
        assert_eq!(pool.duplicates(), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_chunked_map_takes_its_chunks_off_the_stream() {
    watchdog(60, async {
        let server = Server::start();
        let pool = pool_in(&server, "chunk-drop").await;
        // No worker yet: the chunks wait in the stream.
        let mut map = pool.map(SQUARE, 0..100u64).chunk_size(10).buffer(50);
        assert!(futures::poll!(map.next()).is_pending());
        pool.flush().await;
        assert_eq!(task_messages(&server.url, "chunk-drop").await, 5);
        drop(map);
        pool.shutdown().await;
        assert_eq!(pool.stats().cancelled, 5);
        assert_eq!(
            consumer_info(&server.url, "chunk-drop").await.num_pending,
            0
        );
    })
    .await;
}
