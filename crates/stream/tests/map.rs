//! The map tests of CPython's `test_concurrent_futures/executor.py` (test_map,
//! test_map_exception, test_map_timeout, the buffersize tests, test_free_reference), plus
//! read-ahead bounds, cancellation on drop, chunking and the `try_` variants.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use common::{Gate, blocking, check_read_ahead, counted, cpu, plain};
use futurepool_core::{AsyncPool, TaskError};
use futurepool_stream::{AsyncPoolMapExt, DEFAULT_MAX_BUFFER, ExecutorMapExt};
use futures::{Stream, StreamExt, TryStreamExt};
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
