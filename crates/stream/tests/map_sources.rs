//! Map streams over a `Stream` input and over any task source (`map_tasks`): laziness, the
//! read-ahead bound, chunks of a stream that is not ready, cancellation and the input's drop.

mod common;

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use common::{Gate, blocking, check_read_ahead, counted, cpu, watchdog};
use futurepool_core::{AsyncPool, Task, TaskError};
use futurepool_stream::{
    AsyncPoolMapExt, DEFAULT_MAX_BUFFER, ExecutorMapExt, map_tasks, map_tasks_unordered,
    try_map_tasks,
};
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;

/// A stream of what is sent on the returned sender, counting how many items were read.
fn channel_input(
    read: &Arc<AtomicUsize>,
) -> (
    mpsc::UnboundedSender<u64>,
    impl Stream<Item = u64> + Send + Unpin + 'static,
) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let read = Arc::clone(read);
    let input = futures::stream::poll_fn(move |cx| {
        let next = rx.poll_recv(cx);
        if let Poll::Ready(Some(_)) = next {
            read.fetch_add(1, Ordering::SeqCst);
        }
        next
    });
    (tx, input)
}

/// A channel input holding `0..n` already, its sender still open (the stream never ends).
fn filled_input(
    read: &Arc<AtomicUsize>,
    n: u64,
) -> (
    mpsc::UnboundedSender<u64>,
    impl Stream<Item = u64> + Send + Unpin + 'static,
) {
    read.store(0, Ordering::SeqCst);
    let (tx, input) = channel_input(read);
    for i in 0..n {
        tx.send(i).unwrap();
    }
    (tx, input)
}

#[tokio::test]
async fn a_stream_input_is_read_within_the_bound() {
    watchdog(async {
        let read = Arc::new(AtomicUsize::new(0));
        let pool = cpu(2);
        let (_tx, input) = filled_input(&read, 3000);
        let stream = pool.map(|n: u64| n, input);
        assert_eq!(
            read.load(Ordering::SeqCst),
            0,
            "building the stream reads nothing"
        );
        check_read_ahead(stream, &read, DEFAULT_MAX_BUFFER, 2000).await;

        for buffer in [1, 3, 10] {
            let (_tx, input) = filled_input(&read, 600);
            let s = pool.map(|n: u64| n, input).buffer(buffer).chunk_size(4);
            check_read_ahead(s, &read, buffer, 500).await;
            let (_tx, input) = filled_input(&read, 600);
            let s = pool.map_unordered(|n: u64| n, input).buffer(buffer);
            check_read_ahead(s, &read, buffer, 500).await;
        }

        let (_tx, input) = filled_input(&read, 400);
        check_read_ahead(blocking(3).map(|n: u64| n, input), &read, 6, 300).await;

        let net = AsyncPool::builder().max_concurrency(100).build().unwrap();
        let (_tx, input) = filled_input(&read, 400);
        let s = net.map_unordered(|n: u64| async move { n }, input);
        check_read_ahead(s, &read, DEFAULT_MAX_BUFFER, 300).await;
    })
    .await;
}

#[tokio::test]
async fn a_stream_input_that_is_not_ready_sends_a_shorter_chunk() {
    watchdog(async {
        let read = Arc::new(AtomicUsize::new(0));
        let (tx, input) = channel_input(&read);
        let pool = cpu(2);
        let mut stream = pool.map(|n: u64| n * 10, input).buffer(16).chunk_size(8);
        for n in 0..3 {
            tx.send(n).unwrap();
        }
        // Three items of a chunk of eight: they run now, not when five more arrive.
        for want in [0, 10, 20] {
            assert_eq!(stream.next().await.unwrap().unwrap(), want);
        }
        assert!(
            futures::poll!(stream.next()).is_pending(),
            "waits for input"
        );
        tx.send(3).unwrap();
        tx.send(4).unwrap();
        drop(tx);
        let rest: Vec<u64> = stream.by_ref().map(Result::unwrap).collect().await;
        assert_eq!(rest, [30, 40]);
        assert!(futures::stream::FusedStream::is_terminated(&stream));
        assert_eq!(pool.stats().submitted, 2, "one chunk per burst of input");
    })
    .await;
}

#[tokio::test]
async fn a_pinned_stream_input_works() {
    watchdog(async {
        // `unfold` over an async block is not `Unpin`: the map stream is pinned instead.
        let input = futures::stream::unfold(0u32, |n| async move { (n < 5).then_some((n, n + 1)) });
        let net = AsyncPool::new();
        let mut stream = pin!(net.map(|n: u32| async move { n + 1 }, input));
        let mut out = Vec::new();
        while let Some(r) = stream.next().await {
            out.push(r.unwrap());
        }
        assert_eq!(out, [1, 2, 3, 4, 5]);
    })
    .await;
}

#[tokio::test]
async fn a_stream_that_stops_drops_its_input() {
    watchdog(async {
        let read = Arc::new(AtomicUsize::new(0));
        // A shut-down pool: the stream ends after the items read and lets go of the input.
        let pool = cpu(1);
        pool.shutdown().await;
        let (tx, input) = filled_input(&read, 100);
        let mut stream = pool.map(|n: u64| n, input).buffer(5);
        let mut errors = 0;
        while let Some(r) = stream.next().await {
            assert!(r.unwrap_err().is_shutdown());
            errors += 1;
        }
        assert!((1..=5).contains(&errors));
        assert!(tx.is_closed(), "the ended stream dropped its input");

        // `cancel` does the same, at the next poll.
        let (tx, input) = filled_input(&read, 100);
        let mut stream = cpu(1).map_unordered(|n: u64| n, input);
        assert!(stream.next().await.is_some());
        stream.cancel();
        assert!(!tx.is_closed());
        assert!(stream.next().await.is_none());
        assert!(tx.is_closed());
    })
    .await;
}

#[tokio::test]
async fn map_tasks_maps_over_any_task_source() {
    watchdog(async {
        // A source of another kind: tasks already finished, one of them failed.
        let submitted = Arc::new(AtomicUsize::new(0));
        let submit = {
            let submitted = Arc::clone(&submitted);
            move |n: u64| -> Task<u64> {
                submitted.fetch_add(1, Ordering::SeqCst);
                if n == 2 {
                    Task::ready(Err(TaskError::cancelled()))
                } else {
                    Task::ready(Ok(n * 2))
                }
            }
        };
        let out: Vec<_> = map_tasks(submit.clone(), 0..5).collect().await;
        assert_eq!(out[..2], [Ok(0), Ok(2)]);
        assert!(
            out[2].as_ref().unwrap_err().is_cancelled(),
            "the error keeps its place"
        );
        assert_eq!(out[3..], [Ok(6), Ok(8)], "later items still run");

        // Lazy and bounded like the pools' own streams, from an iterator or a stream.
        let read = Arc::new(AtomicUsize::new(0));
        let s = map_tasks(submit.clone(), counted(&read));
        check_read_ahead(s, &read, DEFAULT_MAX_BUFFER, 300).await;
        read.store(0, Ordering::SeqCst);
        let s = map_tasks_unordered(submit.clone(), counted(&read)).buffer(3);
        check_read_ahead(s, &read, 3, 300).await;
        let (_tx, input) = filled_input(&read, 400);
        let s = map_tasks(submit, input).buffer(7);
        check_read_ahead(s, &read, 7, 300).await;

        // Over a real pool's tasks, in completion order.
        let pool = blocking(4);
        let mut out: Vec<u64> = map_tasks_unordered(|n: u64| pool.submit(move || n + 1), 0..50)
            .map(Result::unwrap)
            .collect()
            .await;
        out.sort();
        assert_eq!(out, (1..=50).collect::<Vec<_>>());
    })
    .await;
}

#[tokio::test]
async fn dropping_a_map_tasks_stream_cancels_tasks_not_started() {
    watchdog(async {
        let pool = blocking(1);
        let gate = Gate::new();
        let ran = Arc::new(AtomicUsize::new(0));
        let (started_tx, mut started) = mpsc::unbounded_channel();
        let submit = |n: u64| {
            let (gate, ran, started_tx) = (gate.clone(), Arc::clone(&ran), started_tx.clone());
            pool.submit(move || {
                ran.fetch_add(1, Ordering::SeqCst);
                if n == 0 {
                    started_tx.send(()).unwrap();
                    gate.wait();
                }
                n
            })
        };
        let mut stream = map_tasks(submit, 0..).buffer(4);
        assert!(futures::poll!(stream.next()).is_pending());
        started.recv().await.unwrap();
        drop(stream);
        gate.open();
        pool.shutdown().await;
        assert_eq!(ran.load(Ordering::SeqCst), 1, "only the running item ran");
        assert_eq!(pool.stats().cancelled, 3);
    })
    .await;
}

#[tokio::test]
async fn try_map_tasks_stops_at_the_first_error() {
    watchdog(async {
        let read = Arc::new(AtomicUsize::new(0));
        let submit = |n: u64| -> Task<Result<u64, TaskError>> {
            if n == 2 {
                Task::ready(Ok(Err(TaskError::timeout("row 2 failed"))))
            } else {
                Task::ready(Ok(Ok(n)))
            }
        };
        let out: Vec<_> = try_map_tasks(submit, counted(&read))
            .buffer(4)
            .collect()
            .await;
        assert_eq!(out.len(), 3, "the endless input stops at the error");
        assert_eq!(out[..2], [Ok(0), Ok(1)]);
        assert_eq!(out[2].as_ref().unwrap_err().to_string(), "row 2 failed");
        assert!(read.load(Ordering::SeqCst) <= 3 + 4);
    })
    .await;
}

#[test]
fn streams_over_a_stream_input_are_send() {
    fn check<T: Send>(_: &T) {}
    let read = Arc::new(AtomicUsize::new(0));
    let pool = cpu(1);
    let (_tx, input) = channel_input(&read);
    check(&pool.map(|n: u64| n, input));
    let (_tx, input) = channel_input(&read);
    check(&map_tasks(|n: u64| Task::ready(Ok(n)), input));
}
