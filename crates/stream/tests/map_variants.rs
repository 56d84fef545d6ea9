//! Map stream variants: chunked and adaptive-chunked maps on `CpuPool`, the `try_` maps that
//! stop at the first error, the `AsyncPool` maps, a map over a pool shut down under it, and
//! the streams' size hints and auto traits.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Gate, blocking, counted, cpu, plain, watchdog};
use futurepool_core::Task;
use futurepool_core::{AsyncPool, TaskError};
use futurepool_stream::{
    AsyncPoolMapExt, Chunk, ChunkedFn, ExecutorMapExt, StopFlag, map_chunked, map_chunked_unordered,
};
use futures::{Stream, StreamExt, TryStreamExt};
use tokio::sync::mpsc;

#[tokio::test]
async fn chunked_map_equals_unchunked_map() {
    let pool = cpu(2);
    let f = |n: u64| {
        if n % 1000 == 999 {
            panic!("item {n}");
        }
        n.wrapping_mul(2_654_435_761) % 1_000_003
    };
    let input = 0..20_000u64;
    let single: Vec<_> = pool
        .map(f, input.clone())
        .chunk_size(1)
        .map(plain)
        .collect()
        .await;
    let adaptive: Vec<_> = pool.map(f, input.clone()).map(plain).collect().await;
    let fixed: Vec<_> = pool
        .map(f, input.clone())
        .buffer(300)
        .chunk_size(37)
        .map(plain)
        .collect()
        .await;
    let blocking_out: Vec<_> = blocking(2).map(f, input.clone()).map(plain).collect().await;
    let want: Vec<_> = input
        .map(|n| {
            if n % 1000 == 999 {
                Err(format!("item {n}"))
            } else {
                Ok(f(n))
            }
        })
        .collect();
    assert_eq!(single, want);
    assert_eq!(adaptive, want);
    assert_eq!(fixed, want);
    assert_eq!(blocking_out, want);
    let mut unordered: Vec<_> = pool
        .map_unordered(f, 0..20_000u64)
        .map(plain)
        .collect()
        .await;
    unordered.sort();
    let mut sorted = want;
    sorted.sort();
    assert_eq!(unordered, sorted);
}

#[tokio::test]
async fn cpu_pool_batches_tiny_items() {
    let pool = cpu(2);
    let n = 200_000u64;
    let sum: u64 = pool
        .map(|n: u64| n & 7, 0..n)
        .map(Result::unwrap)
        .fold(0, |a, b| async move { a + b })
        .await;
    assert_eq!(sum, (0..n).map(|n| n & 7).sum());
    let submitted = pool.stats().submitted;
    assert!(
        submitted * 4 <= n,
        "{submitted} tasks for {n} tiny items: they should have been batched"
    );
    // A pool that does not prefer batching gets one task per item.
    let io = blocking(2);
    let count = io.map(|n: u64| n, 0..500).count().await;
    assert_eq!(count, 500);
    assert_eq!(io.stats().submitted, 500);
}

#[tokio::test]
async fn adaptive_chunks_grow_for_tiny_items_and_shrink_for_slow_ones() {
    let pool = cpu(2);
    // 3000 tiny items, then 200 that each take a millisecond of (simulated) work.
    let f = |n: u64| {
        if n >= 3000 {
            std::thread::sleep(Duration::from_millis(1));
        }
        n
    };
    let mut stream = pool.map(f, 0..3200);
    for want in 0..3000 {
        assert_eq!(stream.next().await.unwrap().unwrap(), want);
    }
    let fast_tasks = pool.stats().submitted;
    assert!(
        fast_tasks * 4 <= 3000,
        "{fast_tasks} tasks for 3000 tiny items"
    );
    for want in 3000..3200 {
        assert_eq!(stream.next().await.unwrap().unwrap(), want);
    }
    let slow_tasks = pool.stats().submitted - fast_tasks;
    // Batched at the fast phase's size (32 a chunk here) they would be about 7 tasks; once a
    // slow chunk is seen, items go one per task again.
    assert!(slow_tasks >= 100, "{slow_tasks} tasks for 200 slow items");
}

#[tokio::test]
async fn try_map_stops_at_the_first_error_and_cancels_the_rest() {
    let pool = cpu(1);
    let read = Arc::new(AtomicUsize::new(0));
    let ran = Arc::new(AtomicUsize::new(0));
    let gate = Gate::new();
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let f = {
        let (gate, ran) = (gate.clone(), Arc::clone(&ran));
        move |n: u64| {
            ran.fetch_add(1, Ordering::SeqCst);
            match n {
                1 => Err(TaskError::timeout(format!("row {n} is bad"))),
                2 => {
                    started_tx.send(()).unwrap();
                    gate.wait();
                    Ok(n)
                }
                _ => Ok(n),
            }
        }
    };
    let mut stream = pool.try_map(f, counted(&read)).buffer(4).chunk_size(1);
    assert_eq!(stream.next().await.unwrap().unwrap(), 0);
    // The single worker has run item 1 and now holds item 2; items 3 (and 4) wait in the queue.
    started.recv().await.unwrap();
    assert_eq!(
        stream.next().await.unwrap().unwrap_err().to_string(),
        "row 1 is bad"
    );
    assert!(
        stream.next().await.is_none(),
        "the stream ends at its first error"
    );
    gate.open();
    pool.shutdown().await;
    // Four read at first, one more when item 0 was yielded; none after the error.
    assert_eq!(
        read.load(Ordering::SeqCst),
        5,
        "no input read after the error"
    );
    assert_eq!(
        ran.load(Ordering::SeqCst),
        3,
        "items 3 and 4 were cancelled before they started"
    );
    assert_eq!(pool.stats().cancelled, 2);
}

#[tokio::test]
async fn try_map_converts_task_errors() {
    type Error = Box<dyn std::error::Error + Send + Sync>;
    let pool = blocking(2);
    let f = |n: u32| -> Result<u32, Error> {
        if n == 3 {
            panic!("row 3 crashed");
        }
        Ok(n)
    };
    let out: Vec<Result<u32, Error>> = pool.try_map(f, 0..10).collect().await;
    assert_eq!(out.len(), 4);
    assert!(out[..3].iter().all(Result::is_ok));
    assert!(
        out[3]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("row 3 crashed")
    );

    let all: Result<Vec<u32>, Error> = pool
        .try_map_unordered(|n: u32| Ok::<_, Error>(n), 0..10)
        .try_collect()
        .await;
    let mut all = all.unwrap();
    all.sort();
    assert_eq!(all, (0..10).collect::<Vec<_>>());
}

#[tokio::test]
async fn try_map_unordered_stops_at_the_first_error_to_finish() {
    let pool = cpu(2);
    let gate = Gate::new();
    let f = {
        let gate = gate.clone();
        move |n: u64| {
            if n == 0 {
                gate.wait();
            }
            if n == 1 {
                Err(TaskError::cancelled())
            } else {
                Ok(n)
            }
        }
    };
    let mut stream = pool.try_map_unordered(f, 0..).buffer(2).chunk_size(1);
    assert!(stream.next().await.unwrap().unwrap_err().is_cancelled());
    assert!(stream.next().await.is_none());
    gate.open();
}

#[tokio::test]
async fn async_try_map_variants() {
    let pool = AsyncPool::new();
    let f = |n: u32| async move {
        if n == 5 {
            Err(TaskError::cancelled())
        } else {
            Ok(n)
        }
    };
    let out: Vec<_> = pool.try_map(f, 0..).collect().await;
    assert_eq!(out.len(), 6);
    assert!(out[5].as_ref().unwrap_err().is_cancelled());
    let out: Result<Vec<u32>, TaskError> = pool.try_map_unordered(f, 0..5).try_collect().await;
    assert_eq!(out.unwrap().len(), 5);
}

#[tokio::test(start_paused = true)]
async fn async_map_orders() {
    let pool = AsyncPool::new();
    let nap = |s: u64| async move {
        tokio::time::sleep(Duration::from_secs(s)).await;
        s
    };
    let ordered: Vec<u64> = pool.map(nap, [3, 1, 2]).map(Result::unwrap).collect().await;
    assert_eq!(ordered, [3, 1, 2]);
    let unordered: Vec<u64> = pool
        .map_unordered(nap, [3, 1, 2])
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(unordered, [1, 2, 3]);
    // With chunks, the futures of a chunk run one after the other.
    let chunked: Vec<u64> = pool
        .map(nap, [3, 1, 2, 1])
        .chunk_size(2)
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(chunked, [3, 1, 2, 1]);
}

#[tokio::test]
async fn async_map_panics_are_errors_in_place() {
    let pool = AsyncPool::new();
    let f = |n: u32| async move {
        if n == 1 {
            panic!("async boom");
        }
        n
    };
    for chunk in [1, 3] {
        let out: Vec<_> = pool
            .map(f, 0..3)
            .chunk_size(chunk)
            .map(plain)
            .collect()
            .await;
        assert_eq!(out, [Ok(0), Err("async boom".to_owned()), Ok(2)]);
    }
}

#[tokio::test]
async fn a_shut_down_pool_ends_an_endless_map() {
    let pool = cpu(1);
    pool.shutdown().await;
    let read = Arc::new(AtomicUsize::new(0));
    let out: Vec<_> = pool
        .map(|n: u64| n, counted(&read))
        .buffer(5)
        .collect()
        .await;
    assert!(!out.is_empty() && out.len() <= 5);
    assert!(out.iter().all(|r| r.as_ref().unwrap_err().is_shutdown()));
    assert_eq!(read.load(Ordering::SeqCst), out.len());

    let net = AsyncPool::new();
    net.shutdown().await;
    let out: Vec<_> = AsyncPoolMapExt::map_unordered(&net, |n: u64| async move { n }, 0..)
        .collect()
        .await;
    assert!(out.iter().all(|r| r.as_ref().unwrap_err().is_shutdown()));
}

#[tokio::test]
async fn size_hint_is_exact_for_exact_inputs() {
    let pool = cpu(2);
    let mut stream = pool.map(|n: u32| n, 0..10);
    assert_eq!(stream.size_hint(), (10, Some(10)));
    stream.next().await.unwrap().unwrap();
    assert_eq!(stream.size_hint(), (9, Some(9)));
}

#[test]
fn streams_are_send_and_unpin() {
    fn check<T: Send + Unpin>(_: &T) {}
    let pool = cpu(1);
    check(&pool.map(|n: u8| n, 0..3));
    check(&pool.map_unordered(|n: u8| n, 0..3));
    check(&pool.try_map(|n: u8| Ok::<_, TaskError>(n), 0..3));
    check(&pool.try_map_unordered(|n: u8| Ok::<_, TaskError>(n), 0..3));
}

/// Submits one item.
type SubmitOne = Box<dyn FnMut(u64) -> Task<u64> + Send>;

/// Submits a chunk.
type SubmitMany = Box<dyn FnMut(Vec<u64>, &StopFlag) -> Task<Chunk<u64>> + Send>;

/// A chunked source whose chunks wait for `release` (tiny items, timed at a nanosecond
/// each), recording every chunk's size in `sizes`.
fn held_chunks(
    pool: &AsyncPool,
    sizes: &Arc<std::sync::Mutex<Vec<usize>>>,
    release: &tokio::sync::watch::Receiver<bool>,
) -> ChunkedFn<SubmitOne, SubmitMany> {
    let (one, many) = (pool.clone(), pool.clone());
    let (sizes, release) = (Arc::clone(sizes), release.clone());
    let submit: SubmitOne = Box::new(move |n: u64| one.submit(async move { n }));
    let submit_chunk: SubmitMany = Box::new(move |items: Vec<u64>, _: &StopFlag| {
        sizes.lock().unwrap().push(items.len());
        let mut release = release.clone();
        many.submit(async move {
            release.wait_for(|open| *open).await.unwrap();
            Chunk {
                ran: items.len(),
                elapsed: Duration::from_nanos(items.len() as u64),
                results: items.into_iter().map(Ok).collect(),
            }
        })
    });
    ChunkedFn::new(submit, submit_chunk).parallelism(2)
}

#[tokio::test]
async fn an_adaptive_map_starts_slowly_instead_of_filling_its_read_ahead_with_single_items() {
    watchdog(async {
        for ordered in [true, false] {
            let pool = AsyncPool::new();
            let sizes = Arc::new(std::sync::Mutex::new(Vec::new()));
            let (open, release) = tokio::sync::watch::channel(false);
            let source = held_chunks(&pool, &sizes, &release);
            let items = 200_000u64;
            let mut stream: std::pin::Pin<Box<dyn Stream<Item = Result<u64, TaskError>> + Send>> =
                if ordered {
                    Box::pin(map_chunked(source, 0..items).buffer(32_768))
                } else {
                    Box::pin(map_chunked_unordered(source, 0..items).buffer(32_768))
                };
            // Nothing has finished: the first chunks are single items, two per worker (before,
            // the whole read-ahead went out as 32,768 one-item chunks).
            assert!(futures::poll!(stream.next()).is_pending());
            let first = sizes.lock().unwrap().clone();
            assert_eq!(
                first.len(),
                4,
                "ordered: {ordered}: chunks before any finished"
            );
            assert_eq!(first, [1, 1, 1, 1], "ordered: {ordered}");
            open.send(true).unwrap();
            let mut sum = 0u64;
            let mut count = 0u64;
            while let Some(n) = stream.next().await {
                sum += n.unwrap();
                count += 1;
            }
            assert_eq!((count, sum), (items, items * (items - 1) / 2));
            let sizes = sizes.lock().unwrap();
            // Doubling from one up to the read-ahead shared by the two workers (4,096 at most).
            assert!(
                sizes.len() < 200,
                "ordered: {ordered}: {} chunks for {items} tiny items",
                sizes.len()
            );
            assert_eq!(sizes.iter().max(), Some(&4096), "ordered: {ordered}");
        }
    })
    .await;
}
