//! Port of CPython's `test_concurrent_futures/test_wait.py`, plus the timeout variant, the
//! custom error test and the guarantees on `done` and `pending`.

mod common;

use std::time::Duration;

use common::{Gate, cancelled, failed, successful};
use futurepool_core::{CpuPool, Task, TaskError};
use futurepool_stream::{ReturnWhen, Waited, wait, wait_timeout, wait_with};
use futures::FutureExt;
use tokio::sync::mpsc;

fn cpu(workers: usize) -> CpuPool {
    CpuPool::builder().max_workers(workers).build().unwrap()
}

/// A task blocked on `gate`, returning `value` once it opens.
fn blocked(pool: &CpuPool, gate: &Gate, value: i32) -> Task<i32> {
    let gate = gate.clone();
    pool.submit(move || {
        gate.wait();
        value
    })
}

fn ids(tasks: &[Task<i32>]) -> Vec<u64> {
    tasks.iter().map(|t| t.id().as_u64()).collect()
}

/// Every task in `done` resolves at once when awaited.
fn assert_all_ready(done: Vec<Task<i32>>) -> Vec<Result<i32, TaskError>> {
    done.into_iter()
        .map(|t| t.now_or_never().expect("a done task resolves at once"))
        .collect()
}

#[tokio::test]
async fn test_first_completed() {
    let pool = cpu(2);
    let gate = Gate::new();
    let future1 = pool.submit(|| 21 * 2);
    let future2 = blocked(&pool, &gate, 0);
    let (id1, id2) = (future1.id().as_u64(), future2.id().as_u64());
    let Waited { done, pending } = wait([future1, future2], ReturnWhen::FirstCompleted).await;
    assert_eq!(ids(&done), [id1]);
    assert_eq!(ids(&pending), [id2]);
    assert_eq!(assert_all_ready(done), [Ok(42)]);
    gate.open();
    assert_eq!(pending.into_iter().next().unwrap().await, Ok(0));
}

#[tokio::test]
async fn test_first_completed_some_already_completed() {
    let pool = cpu(1);
    let gate = Gate::new();
    let future1 = blocked(&pool, &gate, 1);
    let (c, s) = (cancelled(), successful());
    let expected_done = [c.id().as_u64(), s.id().as_u64()];
    let id1 = future1.id().as_u64();
    let Waited { done, pending } = wait([c, s, future1], ReturnWhen::FirstCompleted).await;
    assert_eq!(ids(&done), expected_done);
    assert_eq!(ids(&pending), [id1]);
    gate.open();
}

#[tokio::test]
async fn test_first_exception() {
    let pool = cpu(3);
    let (gate2, gate3) = (Gate::new(), Gate::new());
    let mut future1 = pool.submit(|| 2 * 21);
    let future2 = {
        let gate2 = gate2.clone();
        pool.submit(move || -> i32 {
            gate2.wait();
            panic!("wait_and_raise")
        })
    };
    let future3 = blocked(&pool, &gate3, 3);
    let want_done = [future1.id().as_u64(), future2.id().as_u64()];
    let want_pending = [future3.id().as_u64()];
    future1.finished().await;

    let mut waiting = wait([future1, future2, future3], ReturnWhen::FirstError);
    // future1 is done, but a success is not what FirstError waits for.
    assert!(futures::poll!(&mut waiting).is_pending());
    gate2.open();
    let Waited { done, pending } = waiting.await;
    assert_eq!(ids(&done), want_done);
    assert_eq!(ids(&pending), want_pending);
    let results = assert_all_ready(done);
    assert_eq!(results[0], Ok(42));
    assert_eq!(
        results[1].as_ref().unwrap_err().panic_message(),
        Some("wait_and_raise")
    );
    gate3.open();
}

#[tokio::test]
async fn test_first_exception_some_already_complete() {
    let pool = cpu(2);
    let gate = Gate::new();
    let future1 = pool.submit(|| -> i32 { panic!("division by zero") });
    let future2 = blocked(&pool, &gate, 2);
    let s = successful();
    let want_done = [s.id().as_u64(), future1.id().as_u64()];
    let want_pending = [future2.id().as_u64()];
    let Waited { done, pending } = wait([s, future1, future2], ReturnWhen::FirstError).await;
    assert_eq!(ids(&done), want_done);
    assert_eq!(ids(&pending), want_pending);
    gate.open();
}

#[tokio::test]
async fn first_error_counts_a_cancellation_unless_told_otherwise() {
    // A cancelled task resolved to a TaskError, so plain FirstError returns on it at once.
    let pool = cpu(2);
    let gate = Gate::new();
    let c = cancelled();
    let id_c = c.id().as_u64();
    let waited = wait([c, blocked(&pool, &gate, 1)], ReturnWhen::FirstError).await;
    assert_eq!(ids(&waited.done), [id_c]);

    // Python's FIRST_EXCEPTION ignores cancellations: wait_with expresses that, and then
    // CPython's test_first_exception_some_already_complete holds exactly.
    let future1 = pool.submit(|| -> i32 { panic!("division by zero") });
    let future2 = waited.pending.into_iter().next().unwrap();
    let (s, c) = (successful(), cancelled());
    let want_done = [s.id().as_u64(), c.id().as_u64(), future1.id().as_u64()];
    let want_pending = [future2.id().as_u64()];
    let Waited { done, pending } = wait_with(
        [s, c, future1, future2],
        ReturnWhen::FirstError,
        |r: &Result<i32, TaskError>| matches!(r, Err(e) if !e.is_cancelled()),
    )
    .await;
    assert_eq!(ids(&done), want_done);
    assert_eq!(ids(&pending), want_pending);
    gate.open();
}

#[tokio::test]
async fn test_first_exception_one_already_failed() {
    let pool = cpu(1);
    let gate = Gate::new();
    let exception = failed();
    let future1 = blocked(&pool, &gate, 1);
    let (ide, id1) = (exception.id().as_u64(), future1.id().as_u64());
    let Waited { done, pending } = wait([exception, future1], ReturnWhen::FirstError).await;
    assert_eq!(ids(&done), [ide]);
    assert_eq!(ids(&pending), [id1]);
    assert!(assert_all_ready(done)[0].as_ref().unwrap_err().is_panic());
    gate.open();
}

#[tokio::test]
async fn first_error_without_errors_waits_for_all() {
    let pool = cpu(2);
    let gate = Gate::new();
    let tasks = vec![successful(), pool.submit(|| 5), blocked(&pool, &gate, 6)];
    let mut waiting = wait(tasks, ReturnWhen::FirstError);
    assert!(futures::poll!(&mut waiting).is_pending());
    gate.open();
    let Waited { done, pending } = waiting.await;
    assert!(pending.is_empty());
    assert_eq!(assert_all_ready(done), [Ok(42), Ok(5), Ok(6)]);
}

#[tokio::test]
async fn test_all_completed() {
    let pool = cpu(2);
    let gate = Gate::new();
    let tasks = vec![
        successful(),
        cancelled(),
        failed(),
        pool.submit(|| 21 * 2),
        blocked(&pool, &gate, 7),
    ];
    let mut waiting = wait(tasks, ReturnWhen::AllCompleted);
    assert!(futures::poll!(&mut waiting).is_pending());
    gate.open();
    let Waited { done, pending } = waiting.await;
    assert!(pending.is_empty());
    let results = assert_all_ready(done);
    assert_eq!(results.len(), 5);
    assert_eq!(results[0], Ok(42));
    assert!(results[1].as_ref().unwrap_err().is_cancelled());
    assert!(results[2].as_ref().unwrap_err().is_panic());
    assert_eq!(results[3], Ok(42));
    assert_eq!(results[4], Ok(7));
}

#[tokio::test(start_paused = true)]
async fn test_timeout() {
    let pool = cpu(1);
    let gate = Gate::new();
    let future = blocked(&pool, &gate, 9);
    let id = future.id().as_u64();
    let start = tokio::time::Instant::now();
    let Waited { done, pending } = wait_timeout(
        [cancelled(), failed(), successful(), future],
        ReturnWhen::AllCompleted,
        Duration::from_millis(50),
    )
    .await;
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert_eq!(done.len(), 3);
    assert_eq!(ids(&pending), [id]);
    // The pending task is untouched: it can still be awaited for its value.
    gate.open();
    assert_eq!(pending.into_iter().next().unwrap().await, Ok(9));
}

#[tokio::test(start_paused = true)]
async fn timeout_does_not_delay_a_condition_that_holds() {
    let start = tokio::time::Instant::now();
    let waited = wait([successful()], ReturnWhen::AllCompleted)
        .timeout(Duration::from_secs(60))
        .await;
    assert_eq!(waited.done.len(), 1);
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test]
async fn wait_with_counts_an_err_output_as_an_error() {
    let pool = cpu(2);
    let gate = Gate::new();
    let bad_row = pool.submit(|| Err::<u32, String>("bad row".into()));
    let slow = {
        let gate = gate.clone();
        pool.submit(move || {
            gate.wait();
            Ok::<u32, String>(1)
        })
    };
    // Plain FirstError does not see an `Ok(Err(_))` output as an error...
    let mut plain = wait(
        [pool.submit(|| Err::<u32, String>("x".into()))],
        ReturnWhen::FirstError,
    );
    let plain_done = (&mut plain).await;
    assert_eq!(plain_done.done.len(), 1);
    // ... wait_with does, and returns without waiting for the slow task.
    let Waited { done, pending } = wait_with(
        [bad_row, slow],
        ReturnWhen::FirstError,
        |r: &Result<Result<u32, String>, TaskError>| !matches!(r, Ok(Ok(_))),
    )
    .await;
    assert_eq!(done.len(), 1);
    assert_eq!(pending.len(), 1);
    assert_eq!(
        done.into_iter().next().unwrap().await,
        Ok(Err("bad row".into()))
    );
    gate.open();
}

#[tokio::test]
async fn empty_input_returns_at_once() {
    for when in [
        ReturnWhen::FirstCompleted,
        ReturnWhen::FirstError,
        ReturnWhen::AllCompleted,
    ] {
        let waited = wait(Vec::<Task<i32>>::new(), when).now_or_never().unwrap();
        assert!(waited.done.is_empty() && waited.pending.is_empty());
    }
}

#[tokio::test]
async fn many_tasks_keep_their_input_order() {
    let pool = cpu(2);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let tasks: Vec<Task<i32>> = (0..200)
        .map(|i| {
            let tx = tx.clone();
            pool.submit(move || {
                tx.send(()).unwrap();
                i
            })
        })
        .collect();
    let want: Vec<u64> = ids(&tasks);
    let Waited { done, pending } = wait(tasks, ReturnWhen::AllCompleted).await;
    assert!(pending.is_empty());
    assert_eq!(ids(&done), want);
    assert_eq!(assert_all_ready(done), (0..200).map(Ok).collect::<Vec<_>>());
    for _ in 0..200 {
        rx.recv().await.unwrap();
    }
}

#[test]
fn wait_is_send_and_unpin() {
    fn check<T: Send + Unpin>(_: &T) {}
    let waiting = wait(vec![successful()], ReturnWhen::FirstCompleted);
    check(&waiting);
}

#[test]
#[should_panic(expected = "polled after it resolved")]
fn polling_after_completion_panics() {
    let mut waiting = wait(vec![successful()], ReturnWhen::FirstCompleted);
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(std::pin::Pin::new(&mut waiting).poll(&mut cx).is_ready());
    let _ = std::pin::Pin::new(&mut waiting).poll(&mut cx);
}
