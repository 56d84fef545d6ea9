//! Task states (CPython's Future tests): cancel while pending, running, finished; results
//! with a timeout; cooperative cancellation; detach on drop.

mod common;

use std::time::Duration;

use common::held_cpu_pool;
use futurepool_core::{BlockingPool, CpuPool, Task, TaskError};
use tokio::sync::oneshot;

#[test]
fn cancel_a_pending_task() {
    let (pool, gate, held) = held_cpu_pool(None);
    let pending = pool.submit(|| "never");
    assert!(!pending.is_finished());
    assert!(pending.cancel());
    assert!(pending.is_finished());
    assert!(!pending.cancel(), "a second cancel reports false");
    gate.open();
    held.blocking_wait().unwrap();
    let err = pending.blocking_wait().unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(pool.stats().cancelled, 1);
}

#[test]
fn a_running_closure_cannot_be_cancelled() {
    let (pool, gate, held) = held_cpu_pool(None);
    assert!(!held.cancel());
    assert!(!held.is_finished());
    gate.open();
    held.blocking_wait().unwrap();
    assert_eq!(pool.stats().cancelled, 0);
}

#[test]
fn a_finished_task_cannot_be_cancelled() {
    let pool = CpuPool::builder().max_workers(1).build().unwrap();
    let mut task = pool.submit(|| 5);
    futures::executor::block_on(task.finished());
    assert!(task.is_finished());
    assert!(!task.cancel());
    assert_eq!(task.blocking_wait().unwrap(), 5);
}

/// CPython's test_result_with_timeout: a timeout leaves the task usable. (A `CpuPool`, since
/// Tokio's paused clock does not advance while its own blocking threads are busy.)
#[tokio::test(start_paused = true)]
async fn await_with_timeout_then_again() {
    let pool = CpuPool::builder().max_workers(1).build().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<u8>();
    let mut task = pool.submit(move || rx.recv().unwrap());
    let timed_out = tokio::time::timeout(Duration::from_millis(50), &mut task).await;
    assert!(timed_out.is_err());
    assert!(!task.is_finished());
    tx.send(9).unwrap();
    assert_eq!(task.await.unwrap(), 9);
}

#[tokio::test]
async fn cooperative_cancel_stops_a_running_closure() {
    let pool = BlockingPool::builder().max_workers(1).build().unwrap();
    let (started_tx, started) = oneshot::channel();
    let (stopped_tx, stopped) = oneshot::channel();
    let task = pool.submit_cancellable(move |token| {
        started_tx.send(()).unwrap();
        let mut rounds = 0u64;
        while !token.is_cancelled() {
            rounds += 1;
            std::thread::yield_now();
        }
        stopped_tx.send(()).unwrap();
        rounds
    });
    started.await.unwrap();
    assert!(
        task.cancel(),
        "a cooperative closure can be cancelled while running"
    );
    assert!(task.is_finished());
    stopped
        .await
        .expect("the closure saw its token and returned");
    assert!(task.await.unwrap_err().is_cancelled());
    // The pool keeps working.
    assert_eq!(pool.submit(|| 1).await.unwrap(), 1);
}

#[test]
fn a_cooperative_closure_not_cancelled_delivers_its_value() {
    let pool = CpuPool::builder().max_workers(1).build().unwrap();
    let task = pool.submit_cancellable(|token| !token.is_cancelled());
    assert!(task.blocking_wait().unwrap());
}

#[test]
fn dropping_a_task_detaches_it() {
    let pool = CpuPool::builder().max_workers(1).build().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    drop(pool.submit(move || tx.send("still ran").unwrap()));
    assert_eq!(rx.recv().unwrap(), "still ran");
}

#[test]
fn ids_are_unique_and_named_in_errors() {
    let (pool, gate, held) = held_cpu_pool(None);
    let a = pool.submit(|| ());
    let b = pool.submit(|| ());
    assert_ne!(a.id(), b.id());
    let id = a.id();
    a.cancel();
    let err = a.blocking_wait().unwrap_err();
    assert_eq!(err.task_id(), Some(id));
    assert_eq!(err.to_string(), format!("task {id} was cancelled"));
    gate.open();
    held.blocking_wait().unwrap();
    b.blocking_wait().unwrap();
}

#[test]
fn peek_and_is_failed_leave_the_outcome_in_place() {
    let pool = CpuPool::builder().max_workers(1).build().unwrap();
    let mut task = pool.submit(|| -> Result<u8, String> { Err("bad row".into()) });
    futures::executor::block_on(task.finished());
    assert!(
        !task.is_failed(),
        "the closure returned; only its own value is an Err"
    );
    assert_eq!(task.peek(|r| matches!(r, Ok(Err(_)))), Some(true));
    assert_eq!(task.blocking_wait().unwrap(), Err("bad row".to_owned()));

    let failed: Task<u8> = Task::ready(Err(TaskError::cancelled()));
    assert!(failed.is_failed());
}

#[test]
#[should_panic(expected = "polled after it returned")]
fn polling_after_completion_panics() {
    let mut task = Task::ready(Ok::<_, TaskError>(1));
    futures::executor::block_on(&mut task).unwrap();
    let _ = futures::executor::block_on(&mut task);
}
