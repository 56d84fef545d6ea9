//! The map tests of CPython's `test_concurrent_futures/executor.py` (test_map,
//! test_map_exception, test_map_timeout, the buffersize tests, test_free_reference), plus
//! read-ahead bounds, cancellation on drop, chunking and the `try_` variants.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use common::{Gate, blocking, check_read_ahead, counted, cpu, plain};
use futurepool_core::AsyncPool;
use futurepool_stream::{AsyncPoolMapExt, DEFAULT_MAX_BUFFER, ExecutorMapExt};
use futures::StreamExt;
use tokio::sync::mpsc;

async fn check_test_map<E: ExecutorMapExt>(pool: E) {
    let want: Vec<u64> = (0..10u64).map(|n| n.pow(2)).collect();
    let got: Vec<u64> = pool
        .map(|n: u64| n.pow(2), 0..10)
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(got, want);
    let got: Vec<u64> = pool
        .map(|n: u64| n.pow(2), 0..100)
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(got, (0..100u64).map(|n| n.pow(2)).collect::<Vec<_>>());
    let mut got: Vec<u64> = pool
        .map_unordered(|n: u64| n.pow(2), 0..10)
        .map(Result::unwrap)
        .collect()
        .await;
    got.sort();
    assert_eq!(got, want);
}

#[tokio::test]
async fn test_map() {
    check_test_map(blocking(4)).await;
    check_test_map(cpu(2)).await;

    let pool = AsyncPool::builder().max_concurrency(4).build().unwrap();
    let got: Vec<u64> = AsyncPoolMapExt::map(&pool, |n: u64| async move { n.pow(2) }, 0..10)
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(got, (0..10u64).map(|n| n.pow(2)).collect::<Vec<_>>());
}

#[tokio::test]
async fn test_map_exception() {
    // divmod over [1, 1, 1, 1] and [2, 3, 0, 5]: the third raises, the fourth still comes.
    let divmod = |(a, b): (u32, u32)| (a / b, a % b);
    let input = [1, 1, 1, 1].into_iter().zip([2, 3, 0, 5]);
    for out in [
        blocking(2)
            .map(divmod, input.clone())
            .collect::<Vec<_>>()
            .await,
        cpu(2).map(divmod, input.clone()).collect::<Vec<_>>().await,
        cpu(2)
            .map(divmod, input.clone())
            .chunk_size(4)
            .collect::<Vec<_>>()
            .await,
    ] {
        assert_eq!(out.len(), 4);
        assert_eq!(out[0], Ok((0, 1)));
        assert_eq!(out[1], Ok((0, 1)));
        let err = out[2].as_ref().unwrap_err();
        assert!(err.is_panic());
        assert!(err.panic_message().unwrap().contains("divide by zero"));
        assert_eq!(
            out[3],
            Ok((0, 1)),
            "later items still run and keep their place"
        );
    }
}

#[tokio::test]
async fn error_keeps_its_position_in_every_ordering() {
    let f = |n: u32| if n % 10 == 3 { panic!("bad {n}") } else { n };
    let pool = cpu(2);
    let out: Vec<_> = pool.map(f, 0..100).map(plain).collect().await;
    let want: Vec<_> = (0..100)
        .map(|n| {
            if n % 10 == 3 {
                Err(format!("bad {n}"))
            } else {
                Ok(n)
            }
        })
        .collect();
    assert_eq!(out, want);
    let mut out: Vec<_> = pool.map_unordered(f, 0..100).map(plain).collect().await;
    out.sort();
    let mut want = want;
    want.sort();
    assert_eq!(out, want);
}

#[tokio::test(start_paused = true)]
async fn test_map_timeout_async_pool() {
    // map(time.sleep, [0, 0, 6], timeout=5): two results, then the timeout.
    let pool = AsyncPool::new();
    let nap = |s: u64| async move { tokio::time::sleep(Duration::from_secs(s)).await };
    let start = tokio::time::Instant::now();
    let out: Vec<_> = AsyncPoolMapExt::map(&pool, nap, [0, 0, 6])
        .timeout(Duration::from_secs(5))
        .collect()
        .await;
    assert_eq!(out.len(), 3);
    assert_eq!(out[0], Ok(()));
    assert_eq!(out[1], Ok(()));
    assert!(out[2].as_ref().unwrap_err().is_timeout());
    assert_eq!(start.elapsed(), Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn test_map_timeout_cancels_the_rest() {
    // One future at a time: 0 and 1 finish, 2 never does, 3.. wait in the pool's queue.
    let pool = AsyncPool::builder().max_concurrency(1).build().unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let f = {
        let ran = Arc::clone(&ran);
        move |n: u32| {
            let ran = Arc::clone(&ran);
            async move {
                ran.fetch_add(1, Ordering::SeqCst);
                if n == 2 {
                    std::future::pending::<()>().await;
                }
                n
            }
        }
    };
    let out: Vec<_> = AsyncPoolMapExt::map(&pool, f, 0..6)
        .buffer(6)
        .timeout(Duration::from_secs(5))
        .collect()
        .await;
    assert_eq!(out.len(), 3);
    assert_eq!(out[..2], [Ok(0), Ok(1)]);
    let err = out[2].as_ref().unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(
        err.to_string(),
        "map timed out with 4 read items unfinished"
    );
    pool.shutdown().await;
    assert_eq!(
        ran.load(Ordering::SeqCst),
        3,
        "items 3.. were cancelled before they started"
    );
    assert_eq!(
        pool.stats().cancelled,
        4,
        "the running future was dropped, the queued ones cancelled"
    );
}

#[tokio::test]
async fn cpu_map_timeout_cancels_queued_items() {
    // Real time: item 0 cannot finish before the gate opens, whatever the machine's load.
    let pool = cpu(1);
    let gate = Gate::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let f = {
        let (gate, ran) = (gate.clone(), Arc::clone(&ran));
        move |n: u32| {
            ran.fetch_add(1, Ordering::SeqCst);
            gate.wait();
            n
        }
    };
    let mut stream = pool
        .map(f, 0..3)
        .chunk_size(1)
        .timeout(Duration::from_millis(20));
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(err.is_timeout());
    assert!(stream.next().await.is_none());
    gate.open();
    pool.shutdown().await;
    assert!(ran.load(Ordering::SeqCst) <= 1);
    assert!(pool.stats().cancelled >= 2);
}

#[tokio::test(start_paused = true)]
async fn map_deadline_still_yields_results_that_are_ready() {
    let pool = AsyncPool::new();
    let deadline = tokio::time::Instant::now(); // already passed
    let mut stream =
        AsyncPoolMapExt::map(&pool, |n: u32| async move { n }, 0..3).deadline(deadline);
    // Nothing was read before the deadline, so the stream times out at once.
    assert!(stream.next().await.unwrap().unwrap_err().is_timeout());
    assert!(stream.next().await.is_none());
}

#[test]
#[should_panic(expected = "at least one item")]
fn test_map_buffersize_value_validation() {
    let pool = cpu(1);
    let _ = pool.map(|n: u8| n, 0..1).buffer(0);
}

#[test]
#[should_panic(expected = "at least one item")]
fn chunk_size_zero_panics() {
    let pool = cpu(1);
    let _ = pool.map(|n: u8| n, 0..1).chunk_size(0);
}

#[tokio::test]
async fn test_map_buffersize_on_infinite_iterable() {
    let pool = blocking(2);
    let mut res = pool.map(|n: u64| n.to_string(), 0..).buffer(2);
    assert_eq!(res.next().await.unwrap().unwrap(), "0");
    assert_eq!(res.next().await.unwrap().unwrap(), "1");
    assert_eq!(res.next().await.unwrap().unwrap(), "2");
}

#[tokio::test]
async fn test_map_buffersize_on_multiple_infinite_iterables() {
    let pool = cpu(2);
    let mut res = pool
        .map(|(a, b): (u64, u64)| a + b, (0..).zip(0..))
        .buffer(2);
    assert_eq!(res.next().await.unwrap().unwrap(), 0);
    assert_eq!(res.next().await.unwrap().unwrap(), 2);
    assert_eq!(res.next().await.unwrap().unwrap(), 4);
}

#[tokio::test]
async fn test_map_buffersize_on_empty_iterable() {
    let pool = blocking(2);
    let mut res = pool.map(|n: u64| n, std::iter::empty()).buffer(2);
    assert!(res.next().await.is_none());
    assert!(futures::stream::FusedStream::is_terminated(&res));
    let mut res = cpu(1).map_unordered(|n: u64| n, Vec::new());
    assert!(res.next().await.is_none());
}

#[tokio::test]
async fn test_map_buffersize_when_buffer_is_full() {
    let pool = cpu(2);
    let read = Arc::new(AtomicUsize::new(0));
    let gate = Gate::new();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let f = {
        let gate = gate.clone();
        move |n: u64| {
            if n == 0 {
                gate.wait();
            }
            done_tx.send(n).unwrap();
            n
        }
    };
    let mut res = pool.map(f, counted(&read)).buffer(2);
    assert!(futures::poll!(res.next()).is_pending());
    assert_eq!(read.load(Ordering::SeqCst), 2);
    // Item 1 finishes while item 0 holds the head: polling again reads nothing more.
    assert_eq!(done_rx.recv().await, Some(1));
    assert!(futures::poll!(res.next()).is_pending());
    assert_eq!(
        read.load(Ordering::SeqCst),
        2,
        "a full buffer reads no more input"
    );
    gate.open();
    assert_eq!(done_rx.recv().await, Some(0));
    pool.shutdown().await; // every submitted item has finished: still only 2 read
    assert_eq!(read.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn read_ahead_stays_within_the_bound() {
    let read = Arc::new(AtomicUsize::new(0));
    // Defaults: never more than 64 ahead, even for a pool with many workers.
    let many = blocking(500);
    check_read_ahead(
        many.map(|n: u64| n, counted(&read)),
        &read,
        DEFAULT_MAX_BUFFER,
        300,
    )
    .await;
    read.store(0, Ordering::SeqCst);
    let few = blocking(3);
    check_read_ahead(few.map_unordered(|n: u64| n, counted(&read)), &read, 6, 300).await;
    read.store(0, Ordering::SeqCst);
    let cpu = cpu(2);
    check_read_ahead(
        cpu.map(|n: u64| n, counted(&read)),
        &read,
        DEFAULT_MAX_BUFFER,
        5000,
    )
    .await;
    read.store(0, Ordering::SeqCst);
    check_read_ahead(
        cpu.map_unordered(|n: u64| n, counted(&read)),
        &read,
        64,
        5000,
    )
    .await;
    // Set bounds, with chunks counted inside them.
    for buffer in [1, 3, 10] {
        read.store(0, Ordering::SeqCst);
        let s = cpu
            .map(|n: u64| n, counted(&read))
            .buffer(buffer)
            .chunk_size(4);
        check_read_ahead(s, &read, buffer, 500).await;
        read.store(0, Ordering::SeqCst);
        let s = cpu.map_unordered(|n: u64| n, counted(&read)).buffer(buffer);
        check_read_ahead(s, &read, buffer, 500).await;
    }
    read.store(0, Ordering::SeqCst);
    let net = AsyncPool::builder().max_concurrency(100).build().unwrap();
    let s = AsyncPoolMapExt::map(&net, |n: u64| async move { n }, counted(&read));
    check_read_ahead(s, &read, DEFAULT_MAX_BUFFER, 300).await;
}

#[tokio::test]
async fn input_is_read_only_when_polled() {
    let read = Arc::new(AtomicUsize::new(0));
    let pool = cpu(2);
    let stream = pool.map(|n: u64| n, counted(&read));
    assert_eq!(
        read.load(Ordering::SeqCst),
        0,
        "building the stream reads nothing"
    );
    drop(stream);
    assert_eq!(read.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn infinite_input() {
    let pool = cpu(2);
    let firsts: Vec<u64> = pool
        .map(|n: u64| n * 3, 0..)
        .take(1000)
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(firsts, (0..1000).map(|n| n * 3).collect::<Vec<_>>());
    let net = AsyncPool::new();
    let n = AsyncPoolMapExt::map_unordered(&net, |n: u64| async move { n }, 0..)
        .take(500)
        .count()
        .await;
    assert_eq!(n, 500);
}

#[derive(Debug)]
struct Dummy(u64);

#[tokio::test]
async fn test_free_reference() {
    for chunk in [1, 5] {
        let pool = cpu(2);
        let mut stream = pool
            .map(|n: u64| Arc::new(Dummy(n)), 0..50)
            .chunk_size(chunk);
        let mut n = 0;
        while let Some(obj) = stream.next().await {
            let obj = obj.unwrap();
            assert_eq!(obj.0, n);
            let weak: Weak<Dummy> = Arc::downgrade(&obj);
            drop(obj);
            assert!(
                weak.upgrade().is_none(),
                "the stream kept a reference to item {n}"
            );
            n += 1;
        }
        assert_eq!(n, 50);
    }
    let pool = blocking(2);
    let mut stream = pool.map_unordered(|n: u64| Arc::new(Dummy(n)), 0..20);
    while let Some(obj) = stream.next().await {
        let weak = Arc::downgrade(&obj.unwrap());
        assert!(weak.upgrade().is_none());
    }
}

/// One worker busy with item 0 (blocked on `gate`), the next `queued` items waiting.
async fn drop_cancels_unstarted<E: ExecutorMapExt>(pool: E, chunk: usize, ordered: bool) {
    let gate = Gate::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let f = {
        let (gate, ran) = (gate.clone(), Arc::clone(&ran));
        move |n: u64| {
            ran.fetch_add(1, Ordering::SeqCst);
            if n == 0 {
                started_tx.send(()).unwrap();
                gate.wait();
            }
            n
        }
    };
    if ordered {
        let mut stream = pool.map(f, 0..).buffer(8).chunk_size(chunk);
        assert!(futures::poll!(stream.next()).is_pending());
        started.recv().await.unwrap();
        drop(stream);
    } else {
        let mut stream = pool.map_unordered(f, 0..).buffer(8).chunk_size(chunk);
        assert!(futures::poll!(stream.next()).is_pending());
        started.recv().await.unwrap();
        drop(stream);
    }
    gate.open();
    pool.shutdown().await;
    assert_eq!(ran.load(Ordering::SeqCst), 1, "only the running item ran");
    let queued_tasks = 8 / chunk - 1;
    assert_eq!(pool.stats().cancelled, queued_tasks as u64);
}

#[tokio::test]
async fn dropping_the_stream_cancels_items_not_started() {
    drop_cancels_unstarted(blocking(1), 1, true).await;
    drop_cancels_unstarted(blocking(1), 1, false).await;
    drop_cancels_unstarted(cpu(1), 1, true).await;
    // In a chunk, the items after the running one are skipped too.
    drop_cancels_unstarted(cpu(1), 2, true).await;
    drop_cancels_unstarted(cpu(1), 4, false).await;
}

#[tokio::test]
async fn dropping_an_async_map_cancels_its_futures() {
    let pool = AsyncPool::builder().max_concurrency(2).build().unwrap();
    let started = Arc::new(AtomicUsize::new(0));
    let f = {
        let started = Arc::clone(&started);
        move |_: u64| {
            let started = Arc::clone(&started);
            async move {
                started.fetch_add(1, Ordering::SeqCst);
                std::future::pending::<()>().await;
            }
        }
    };
    let mut stream = AsyncPoolMapExt::map(&pool, f, 0..).buffer(6);
    assert!(futures::poll!(stream.next()).is_pending());
    drop(stream);
    pool.shutdown().await; // returns: nothing left running
    assert!(started.load(Ordering::SeqCst) <= 2);
    assert_eq!(pool.stats().cancelled, 6);
}
