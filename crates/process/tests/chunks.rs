//! Map streams send their items in chunks, one message per chunk, and still answer each item
//! on its own.

mod common;

use futures_util::StreamExt;

use common::functions::*;
use common::{pool, watchdog};

#[tokio::test]
async fn a_fixed_chunk_runs_in_one_worker_and_results_keep_input_order() {
    watchdog(async {
        let pool = pool(2);
        let squares: Vec<u64> = pool
            .map(SQUARE, 0..5000u64)
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(squares, (0..5000u64).map(|n| n * n).collect::<Vec<_>>());

        // `sleep_ms(0)` returns its worker's pid: a chunk of 50 is one message to one worker.
        let pids: Vec<u32> = pool
            .map(SLEEP_MS, std::iter::repeat_n(0, 500))
            .chunk_size(50)
            .map(Result::unwrap)
            .collect()
            .await;
        for chunk in pids.chunks(50) {
            assert!(chunk.iter().all(|pid| *pid == chunk[0]), "{chunk:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_panic_in_one_item_of_a_chunk_is_that_items_error_only() {
    watchdog(async {
        let pool = pool(1);
        let results: Vec<_> = pool.map(PICKY, 0..100).chunk_size(50).collect().await;
        for (n, result) in (0..100u64).zip(&results) {
            match result {
                Ok(v) => assert_eq!(*v, n + 1),
                Err(e) => {
                    assert_eq!(n, 13, "{e}");
                    assert!(e.is_panic(), "{e}");
                    assert!(e.to_string().contains("picky refuses 13"), "{e}");
                }
            }
        }
        assert!(results[13].is_err());

        // Panicking serde, on either side, in the middle of a chunk.
        let touchy: Vec<_> = pool
            .map(TOUCHY, [1, 7, 2, 6, 3, 13, 4].map(Touchy))
            .chunk_size(7)
            .collect()
            .await;
        let ok: Vec<Option<u32>> = touchy
            .iter()
            .map(|r| r.as_ref().ok().map(|t| t.0))
            .collect();
        assert_eq!(ok, [Some(3), None, Some(5), None, None, None, Some(9)]);
        assert!(
            touchy
                .iter()
                .filter_map(|r| r.as_ref().err())
                .all(|e| e.is_panic()),
            "{touchy:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_crash_fails_the_items_of_its_chunk_only_and_the_pool_goes_on() {
    watchdog(async {
        let pool = pool(1);
        let results: Vec<_> = pool.map(PICKY, 600..700).chunk_size(25).collect().await;
        for (n, result) in (600..700u64).zip(&results) {
            if (650..675).contains(&n) {
                let err = result.as_ref().unwrap_err();
                assert!(err.is_crashed(), "{n}: {err}");
                assert!(err.to_string().contains("SIGABRT"), "{err}");
            } else {
                assert_eq!(*result.as_ref().unwrap(), n + 1);
            }
        }
        let mut unordered: Vec<u64> = pool
            .map_unordered(PICKY, 0..10)
            .map(Result::unwrap)
            .collect()
            .await;
        unordered.sort_unstable();
        assert_eq!(unordered, (1..=10).collect::<Vec<_>>());
    })
    .await;
}

#[tokio::test]
async fn a_map_reads_its_input_lazily() {
    watchdog(async {
        let pool = pool(2);
        let first: Vec<u64> = pool
            .map(SQUARE, 0u64..)
            .take(10)
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(first, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    })
    .await;
}

#[tokio::test]
async fn a_chunk_over_max_message_size_goes_item_by_item_and_only_an_oversized_item_fails() {
    watchdog(async {
        let pool = common::builder(1)
            .max_message_size(64 * 1024)
            .build()
            .unwrap();
        // Ten names of 20 kB: 200 kB together, over the limit; one of 100 kB, over it alone.
        let names: Vec<String> = (0..10)
            .map(|i| {
                let len = if i == 4 { 100_000 } else { 20_000 };
                format!("FUTUREPOOL_NO_SUCH_VARIABLE_{i}_{}", "X".repeat(len))
            })
            .collect();
        let results: Vec<_> = pool.map(ENV_VAR, names).chunk_size(10).collect().await;
        for (i, result) in results.iter().enumerate() {
            if i == 4 {
                let err = result.as_ref().unwrap_err();
                assert!(err.is_invalid(), "{err}");
                assert!(err.to_string().contains("max_message_size"), "{err}");
            } else {
                assert_eq!(result.as_ref().unwrap(), &None, "item {i}");
            }
        }
    })
    .await;
}
