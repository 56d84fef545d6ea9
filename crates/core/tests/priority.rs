//! Priorities: queued tasks start in priority order, first in first out within a level, on
//! every pool; cancelling a queued task of any level; the order survives the queue's
//! compaction of cancelled entries.

mod common;

use std::sync::{Arc, Mutex};

use common::{DropSignal, Gate, held_cpu_pool};
use futurepool_core::{AsyncPool, BlockingPool, Priority, Task, TrySubmitError};
use futurepool_test_support::Watchdog;

/// Where tasks write their label when they start.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u32>>>);

impl Log {
    fn push(&self, label: u32) {
        self.0.lock().unwrap().push(label);
    }

    fn take(&self) -> Vec<u32> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// The tasks every pool test queues behind its one busy worker, as (label, priority), and the
/// order they must start in.
fn mix() -> (Vec<(u32, Priority)>, Vec<u32>) {
    let submitted = vec![
        (1, Priority::LOW),
        (2, Priority::NORMAL),
        (3, Priority::HIGH),
        (4, Priority::LOW),
        (5, Priority::new(200)),
        (6, Priority::NORMAL),
        (7, Priority::HIGH),
        (8, Priority::new(0)),
        (9, Priority::new(129)),
        (10, Priority::NORMAL),
    ];
    (submitted, vec![5, 3, 7, 9, 2, 6, 10, 1, 4, 8])
}

#[test]
fn cpu_pool_starts_queued_tasks_in_priority_order() {
    let _watchdog = Watchdog::new("cpu priority order", 30);
    let (pool, gate, held) = held_cpu_pool(None);
    let log = Log::default();
    let (submitted, expected) = mix();
    let tasks: Vec<Task<()>> = submitted
        .into_iter()
        .map(|(label, priority)| {
            let log = log.clone();
            pool.submit_with_priority(priority, move || log.push(label))
        })
        .collect();
    gate.open();
    held.blocking_wait().unwrap();
    for task in tasks {
        task.blocking_wait().unwrap();
    }
    assert_eq!(log.take(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_pool_starts_queued_tasks_in_priority_order() {
    let _watchdog = Watchdog::new("blocking priority order", 30);
    let pool = BlockingPool::builder().max_workers(1).build().unwrap();
    let gate = Gate::new();
    let (started_tx, started) = tokio::sync::oneshot::channel();
    let held = {
        let gate = gate.clone();
        pool.submit(move || {
            started_tx.send(()).unwrap();
            gate.wait();
        })
    };
    started.await.unwrap();
    let log = Log::default();
    let (submitted, expected) = mix();
    let tasks: Vec<Task<()>> = submitted
        .into_iter()
        .map(|(label, priority)| {
            let log = log.clone();
            pool.submit_with_priority(priority, move || log.push(label))
        })
        .collect();
    gate.open();
    held.await.unwrap();
    futures::future::try_join_all(tasks).await.unwrap();
    assert_eq!(log.take(), expected);
}

#[tokio::test(flavor = "current_thread")]
async fn async_pool_starts_queued_futures_in_priority_order() {
    let _watchdog = Watchdog::new("async priority order", 30);
    let pool = AsyncPool::builder().max_concurrency(1).build().unwrap();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let held = pool.submit(async move { released.await.unwrap() });
    let log = Log::default();
    let (submitted, expected) = mix();
    let tasks: Vec<Task<()>> = submitted
        .into_iter()
        .map(|(label, priority)| {
            let log = log.clone();
            pool.submit_with_priority(priority, async move { log.push(label) })
        })
        .collect();
    // The held future got the one slot when submitted: every later future is queued.
    release.send(()).unwrap();
    held.await.unwrap();
    futures::future::try_join_all(tasks).await.unwrap();
    assert_eq!(log.take(), expected);
}

#[test]
fn equal_priorities_start_first_in_first_out() {
    let _watchdog = Watchdog::new("fifo within a level", 30);
    let (pool, gate, held) = held_cpu_pool(None);
    let log = Log::default();
    // Two levels, interleaved: each keeps its own submission order.
    let tasks: Vec<Task<()>> = (0..200)
        .map(|label| {
            let log = log.clone();
            let priority = if label % 2 == 0 {
                Priority::LOW
            } else {
                Priority::HIGH
            };
            pool.submit_with_priority(priority, move || log.push(label))
        })
        .collect();
    gate.open();
    held.blocking_wait().unwrap();
    for task in tasks {
        task.blocking_wait().unwrap();
    }
    let odd = (0..200).filter(|n| n % 2 == 1);
    let even = (0..200).filter(|n| n % 2 == 0);
    assert_eq!(log.take(), odd.chain(even).collect::<Vec<_>>());
}

#[test]
fn cancelling_a_queued_high_priority_task_drops_it_and_keeps_the_order() {
    let _watchdog = Watchdog::new("cancel queued high", 30);
    let (pool, gate, held) = held_cpu_pool(None);
    let log = Log::default();
    let submit = |label: u32, priority| {
        let log = log.clone();
        pool.submit_with_priority(priority, move || log.push(label))
    };
    let normal = submit(1, Priority::NORMAL);
    let (dropped_tx, dropped) = tokio::sync::oneshot::channel();
    let capture = DropSignal::new(dropped_tx);
    let cancelled = pool.submit_with_priority(Priority::HIGH, move || {
        drop(capture);
        unreachable!("a cancelled task never runs")
    });
    let high = submit(2, Priority::HIGH);

    assert!(cancelled.cancel());
    assert!(
        dropped.blocking_recv().is_ok(),
        "cancel drops the closure's captures before returning"
    );
    gate.open();
    held.blocking_wait().unwrap();
    high.blocking_wait().unwrap();
    normal.blocking_wait().unwrap();
    assert!(cancelled.blocking_wait().unwrap_err().is_cancelled());
    assert_eq!(log.take(), [2, 1]);
    assert_eq!(pool.stats().cancelled, 1);
}

/// Cancelling many queued tasks makes the queue take every entry out and put the live ones
/// back (compaction): each goes back to its own level, in its order.
#[test]
fn compaction_of_cancelled_entries_keeps_priority_order() {
    let _watchdog = Watchdog::new("compaction keeps priorities", 30);
    let (pool, gate, held) = held_cpu_pool(None);
    let log = Log::default();
    let submit = |label: u32, priority| {
        let log = log.clone();
        pool.submit_with_priority(priority, move || log.push(label))
    };
    let low = submit(1, Priority::LOW);
    let normal = submit(2, Priority::NORMAL);
    let doomed: Vec<Task<()>> = (0..200)
        .map(|n| submit(100 + n, Priority::new((n % 256) as u8)))
        .collect();
    let high = submit(3, Priority::HIGH);
    let high_later = submit(4, Priority::HIGH);
    for task in &doomed {
        assert!(task.cancel());
    }
    gate.open();
    held.blocking_wait().unwrap();
    for task in [low, normal, high, high_later] {
        task.blocking_wait().unwrap();
    }
    assert_eq!(log.take(), [3, 4, 2, 1]);
    assert_eq!(pool.stats().cancelled, 200);
}

#[test]
fn try_submit_with_priority_gives_the_closure_back_when_full() {
    let _watchdog = Watchdog::new("try_submit_with_priority full", 30);
    let (pool, gate, held) = held_cpu_pool(Some(1));
    let queued = pool
        .try_submit_with_priority(Priority::LOW, || 1)
        .unwrap_or_else(|_| panic!("one place is free"));
    let refused = pool.try_submit_with_priority(Priority::HIGH, || 2);
    let Err(TrySubmitError::Full(f)) = refused else {
        panic!("the queue is full, whatever the priority");
    };
    assert_eq!(f(), 2);
    gate.open();
    held.blocking_wait().unwrap();
    assert_eq!(queued.blocking_wait().unwrap(), 1);
}

#[test]
fn a_pool_that_never_uses_priorities_keeps_submission_order() {
    let _watchdog = Watchdog::new("normal only fifo", 30);
    let (pool, gate, held) = held_cpu_pool(None);
    let log = Log::default();
    let tasks: Vec<Task<()>> = (0..100)
        .map(|label| {
            let log = log.clone();
            pool.submit(move || log.push(label))
        })
        .collect();
    gate.open();
    held.blocking_wait().unwrap();
    for task in tasks {
        task.blocking_wait().unwrap();
    }
    assert_eq!(log.take(), (0..100).collect::<Vec<_>>());
}

/// `submit_wait_with_priority` waits for a place, then queues at its priority.
#[tokio::test(flavor = "current_thread")]
async fn submit_wait_with_priority_queues_at_its_priority() {
    let _watchdog = Watchdog::new("submit_wait_with_priority", 30);
    let (pool, gate, held) = held_cpu_pool(Some(4));
    let log = Log::default();
    let submit = |label: u32, priority| {
        let log = log.clone();
        pool.submit_wait_with_priority(priority, move || log.push(label))
    };
    let low = submit(1, Priority::LOW).await;
    let high = submit(2, Priority::HIGH).await;
    gate.open();
    held.await.unwrap();
    high.await.unwrap();
    low.await.unwrap();
    assert_eq!(log.take(), [2, 1]);
}
