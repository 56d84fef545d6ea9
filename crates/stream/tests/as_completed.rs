//! Port of CPython's `test_concurrent_futures/test_as_completed.py`, plus `push`, keys and
//! the handling of unfinished futures at a deadline.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{Gate, cancelled, failed, successful};
use futurepool_core::{AsyncPool, CpuPool, Task};
use futurepool_stream::{AsCompleted, AsCompletedTimeout, as_completed, as_completed_timeout};
use futures::{FutureExt, StreamExt};
use tokio::sync::mpsc;

fn cpu(workers: usize) -> CpuPool {
    CpuPool::builder().max_workers(workers).build().unwrap()
}

/// A task that is running (blocked on `gate`) once this returns.
async fn running(pool: &CpuPool, gate: &Gate) -> Task<i32> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let gate = gate.clone();
    let task = pool.submit(move || {
        tx.send(()).unwrap();
        gate.wait();
        7
    });
    rx.recv().await.unwrap();
    task
}

#[tokio::test]
async fn test_no_timeout() {
    let pool = cpu(2);
    let futures = vec![
        ("cancelled", cancelled()),
        ("exception", failed()),
        ("successful", successful()),
        ("future1", pool.submit(|| 2 * 21)),
        ("future2", pool.submit(|| 7 * 6)),
    ];
    let mut seen = HashSet::new();
    let mut stream = as_completed(futures.into_iter().map(|(k, t)| t.map(move |r| (k, r))));
    while let Some((key, result)) = stream.next().await {
        assert!(seen.insert(key), "{key} yielded twice");
        match key {
            "cancelled" => assert!(result.unwrap_err().is_cancelled()),
            "exception" => assert!(result.unwrap_err().is_panic()),
            _ => assert_eq!(result.unwrap(), 42),
        }
    }
    assert_eq!(seen.len(), 5);
    assert!(stream.is_empty());
}

#[tokio::test(start_paused = true)]
async fn test_future_times_out() {
    // For a zero and a short timeout: the finished futures come out, the blocked one does not.
    for timeout in [Duration::ZERO, Duration::from_millis(100)] {
        let pool = cpu(1);
        let gate = Gate::new();
        let blocked = running(&pool, &gate).await;
        let futures = vec![
            ("cancelled", cancelled()),
            ("exception", failed()),
            ("successful", successful()),
            ("blocked", blocked),
        ];
        let stream = as_completed_timeout(
            futures.into_iter().map(|(k, t)| t.map(move |r| (k, r))),
            timeout,
        );
        let out: Vec<_> = stream.collect().await;
        assert_eq!(out.len(), 4, "three results then the timeout: {out:?}");
        let completed: HashSet<_> = out[..3].iter().map(|r| r.as_ref().unwrap().0).collect();
        assert_eq!(
            completed,
            HashSet::from(["cancelled", "exception", "successful"])
        );
        let err = out[3].as_ref().unwrap_err();
        assert!(err.is_timeout());
        assert_eq!(err.to_string(), "1 (of 4) futures unfinished");
        gate.open();
    }
}

#[tokio::test(start_paused = true)]
async fn test_zero_timeout_yields_already_finished_first() {
    let pool = cpu(1);
    let gate = Gate::new();
    let blocked = running(&pool, &gate).await;
    let mut stream =
        as_completed([cancelled(), failed(), successful(), blocked]).timeout(Duration::ZERO);
    let mut finished = 0;
    loop {
        let item = stream.next().await.unwrap();
        match item {
            Ok(_) => finished += 1,
            Err(e) => {
                assert!(e.is_timeout());
                break;
            }
        }
    }
    assert_eq!(finished, 3);
    assert!(
        stream.next().await.is_none(),
        "the stream ends after its timeout"
    );
    assert!(stream.is_timed_out());
    gate.open();
}

#[tokio::test(start_paused = true)]
async fn test_correct_timeout_exception_msg() {
    let pool = cpu(1);
    let gate = Gate::new();
    let running_task = running(&pool, &gate).await;
    let pending_task = pool.submit(|| 8); // queued behind the running one
    let out: Vec<_> = as_completed([cancelled(), pending_task, running_task, successful()])
        .timeout(Duration::ZERO)
        .collect()
        .await;
    let err = out.last().unwrap().as_ref().unwrap_err();
    assert_eq!(err.to_string(), "2 (of 4) futures unfinished");
    assert!(err.is_timeout());
    assert_eq!(out.len(), 3);
    gate.open();
}

#[tokio::test(start_paused = true)]
async fn unfinished_futures_are_given_back_untouched_after_the_deadline() {
    let pool = cpu(1);
    let gate = Gate::new();
    let blocked = running(&pool, &gate).await;
    let mut stream = as_completed([successful(), blocked]).timeout(Duration::from_secs(3));
    assert_eq!(stream.next().await.unwrap().unwrap().unwrap(), 42);
    let start = tokio::time::Instant::now();
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(err.is_timeout());
    assert!(start.elapsed() >= Duration::from_secs(3));
    assert_eq!(stream.len(), 1);
    let remaining = stream.into_remaining();
    assert_eq!(remaining.len(), 1);
    gate.open();
    for task in remaining {
        assert_eq!(task.await.unwrap(), 7, "the unfinished task still delivers");
    }
}

#[tokio::test(start_paused = true)]
async fn deadline_does_not_fire_when_everything_finishes() {
    let pool = AsyncPool::new();
    let tasks: Vec<_> = (1..=3u64)
        .map(|s| {
            pool.submit(async move {
                tokio::time::sleep(Duration::from_secs(s)).await;
                s
            })
        })
        .collect();
    let out: Vec<_> = as_completed(tasks)
        .timeout(Duration::from_secs(10))
        .map(|r| r.unwrap().unwrap())
        .collect()
        .await;
    assert_eq!(out, [1, 2, 3]);
}

#[tokio::test]
async fn outputs_come_in_completion_order() {
    let pool = cpu(4);
    let gates: Vec<Gate> = (0..4).map(|_| Gate::new()).collect();
    let tasks = gates.iter().enumerate().map(|(i, gate)| {
        let gate = gate.clone();
        pool.submit(move || {
            gate.wait();
            i
        })
    });
    let mut stream = as_completed(tasks);
    assert_eq!(stream.len(), 4);
    for i in [2, 0, 3, 1] {
        gates[i].open();
        assert_eq!(stream.next().await.unwrap().unwrap(), i);
    }
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn push_while_iterating() {
    let pool = cpu(2);
    // A little "crawl": each page n < 20 links to pages 2n+1 and 2n+2.
    let fetch = |pool: &CpuPool, n: u32| pool.submit(move || n).map(move |r| (n, r));
    let mut stream = as_completed([fetch(&pool, 0)]);
    let mut outstanding = 1;
    let mut seen = Vec::new();
    while let Some((n, page)) = stream.next().await {
        outstanding -= 1;
        assert_eq!(page.unwrap(), n);
        seen.push(n);
        if n < 20 {
            stream.push(fetch(&pool, 2 * n + 1));
            stream.push(fetch(&pool, 2 * n + 2));
            outstanding += 2;
        }
        assert_eq!(stream.len(), outstanding);
    }
    assert!(stream.is_empty());
    seen.sort();
    assert_eq!(
        seen,
        (0..=40).collect::<Vec<_>>(),
        "each output exactly once"
    );
}

#[tokio::test]
async fn push_after_the_stream_ran_dry_yields_again() {
    let mut stream = as_completed([async { 1 }.boxed()]);
    assert_eq!(stream.next().await, Some(1));
    assert_eq!(stream.next().await, None);
    stream.push(async { 2 }.boxed());
    assert_eq!(stream.next().await, Some(2));
}

#[tokio::test(start_paused = true)]
async fn empty_input_ends_at_once_even_with_a_deadline() {
    let mut plain = as_completed(Vec::<Task<i32>>::new());
    assert!(plain.is_empty());
    assert!(plain.next().await.is_none());
    let mut timed = as_completed(Vec::<Task<i32>>::new()).timeout(Duration::from_secs(1));
    assert!(timed.next().await.is_none());
}

#[test]
fn streams_are_unpin_and_send() {
    fn check<T: Unpin + Send>() {}
    check::<AsCompleted<Task<u8>>>();
    check::<AsCompletedTimeout<Task<u8>>>();
    // Unpin even for futures that are not.
    fn unpin<T: Unpin>(_: &T) {}
    let stream = as_completed([async { 1 }]);
    unpin(&stream);
}
