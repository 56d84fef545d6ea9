//! Model checks, with loom, of the three lock-free protocols of the core: the task state
//! machine (`task::state`: moves, publication, wake-ups of the awaiter and of the runner, the
//! queue place given back once), the lifecycle words (`lifecycle`) and the work queue's
//! park/wake and worker-leave races (`queue`), through its NORMAL lane and through the lanes of
//! the other priorities. Every interleaving of each small scenario is explored.
//!
//! Run with `RUSTFLAGS="--cfg futurepool_loom" cargo test -p futurepool-core --lib --release
//! loom_models` (`.ci/run` does).

use std::future::poll_fn;
use std::task::Context;

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

use crate::error::TaskError;
use crate::lifecycle::{Accept, Lifecycle};
use crate::priority::Priority;
use crate::queue::{Push, WorkQueue};
use crate::stats::Event;
use crate::task::state::{Completion, Stage};
use crate::task::{Body, Job, NewTask, PoolLink, PromiseWork, TaskCell, TaskId};

fn id() -> TaskId {
    TaskId::next()
}

/// A queued task with no place in a bounded queue, `interruptible` or not.
fn promise_task(interruptible: bool) -> Arc<Completion<u32, PromiseWork>> {
    Arc::new(Completion::queued(
        interruptible,
        false,
        PromiseWork::default(),
    ))
}

/// A plain closure's task: `cancel` wins only before `start`; exactly one outcome, and it is
/// the winner's.
#[test]
fn cancel_races_a_worker_that_starts_and_finishes() {
    loom::model(|| {
        let task = promise_task(false);
        let worker = {
            let task = task.clone();
            thread::spawn(move || task.start() && task.finish(Ok(7), || {}).is_ok())
        };
        let cancelled = task.cancel(id(), false, |from| assert_eq!(from, Stage::Queued));
        let finished = worker.join().unwrap();
        assert!(
            cancelled.is_some() != finished,
            "exactly one resolves the task"
        );
        assert!(task.is_finished());
        let outcome = task.peek(|r| r.as_ref().map(|v| *v).map_err(TaskError::is_cancelled));
        if finished {
            assert_eq!(outcome, Some(Ok(7)));
        } else {
            assert_eq!(outcome, Some(Err(true)));
        }
    });
}

/// An interruptible task (a future, a promise): `cancel` may win while it runs; the loser's
/// value comes back to be dropped.
#[test]
fn cancel_races_finish_of_a_running_interruptible_task() {
    loom::model(|| {
        let task = promise_task(true);
        assert!(task.start());
        let worker = {
            let task = task.clone();
            thread::spawn(move || task.finish(Ok(7), || {}))
        };
        let cancelled = task.cancel(id(), false, |_| {}).is_some();
        let finished = worker.join().unwrap();
        assert!(cancelled != finished.is_ok());
        if cancelled {
            assert_eq!(finished.unwrap_err().ok(), Some(7), "the value comes back");
            assert!(task.is_cancelled());
        }
    });
}

/// Whoever sees the task finished finds its outcome (invariant 2), and an awaiter parked
/// before the outcome is written is woken.
#[test]
fn finished_is_published_after_the_outcome_and_wakes_the_awaiter() {
    loom::model(|| {
        let task = promise_task(false);
        let reader = {
            let task = task.clone();
            thread::spawn(move || {
                if task.is_finished() {
                    // Written, and perhaps already taken by the awaiter, never still empty.
                    let mut cx = Context::from_waker(std::task::Waker::noop());
                    assert!(
                        task.poll_finished(&mut cx).is_ready(),
                        "finished before written"
                    );
                }
            })
        };
        let awaiter = {
            let task = task.clone();
            thread::spawn(move || {
                loom::future::block_on(poll_fn(|cx: &mut Context<'_>| task.poll_outcome(cx)))
            })
        };
        assert!(task.start());
        assert!(task.finish(Ok(3), || {}).is_ok());
        reader.join().unwrap();
        assert_eq!(awaiter.join().unwrap().ok(), Some(3));
    });
}

/// A promise's owner watching for a cancel (its waker kept under the task's lock, invariant 5)
/// is woken by a racing `cancel`, and so is the task's awaiter.
#[test]
fn cancel_wakes_the_runner_watching_for_it_and_the_awaiter() {
    loom::model(|| {
        let task = promise_task(true);
        assert!(task.start());
        let owner = {
            let task = task.clone();
            thread::spawn(move || {
                loom::future::block_on(poll_fn(|cx: &mut Context<'_>| task.poll_cancelled(cx)));
            })
        };
        let awaiter = {
            let task = task.clone();
            thread::spawn(move || {
                loom::future::block_on(poll_fn(|cx: &mut Context<'_>| task.poll_outcome(cx)))
            })
        };
        assert_eq!(task.cancel(id(), false, |_| {}), Some(Stage::Running));
        owner.join().unwrap();
        assert!(awaiter.join().unwrap().unwrap_err().is_cancelled());
    });
}

/// A pool that counts what its tasks give back.
#[derive(Default)]
struct CountingPool {
    places: AtomicUsize,
    ended: AtomicUsize,
}

impl PoolLink for CountingPool {
    fn record(&self, _: Event) {}
    fn cancelled_in_queue(&self) {}
    fn give_back_place(&self) {
        self.places.fetch_add(1, Ordering::Relaxed);
    }
    fn task_ended(&self) {
        self.ended.fetch_add(1, Ordering::Relaxed);
    }
}

/// A bounded task cancelled while its worker runs it and ends its job: the place is given
/// back exactly once (invariant 6), the task is counted as ended once, and it has exactly one
/// outcome.
#[test]
fn cancel_races_a_worker_and_the_place_is_given_back_once() {
    loom::model(|| {
        let pool = std::sync::Arc::new(CountingPool::default());
        let new = NewTask {
            body: Body::closure(|| 7u8),
            token: None,
            holds_place: true,
            pool_name: "model",
        };
        let cell = TaskCell::queued(new, pool.clone());
        let task: std::sync::Arc<TaskCell<u8>> = cell.clone();
        let worker = thread::spawn(move || {
            let mut job = Job::new(cell);
            let _ = job.poll_run(&mut Context::from_waker(std::task::Waker::noop()));
        });
        let cancelled = task.cancel(false);
        worker.join().unwrap();
        assert_eq!(pool.places.load(Ordering::Relaxed), 1, "exactly once");
        assert_eq!(pool.ended.load(Ordering::Relaxed), 1);
        let outcome = task
            .completion
            .peek(|r| r.as_ref().map(|v| *v).map_err(TaskError::is_cancelled));
        assert_eq!(outcome, Some(if cancelled { Err(true) } else { Ok(7) }));
    });
}

/// Submitters' accepts and a graceful close are ordered: an accepted task is never lost to the
/// close, and exactly one call reports the drain — the close or the last end, whichever of
/// their read-modify-writes of `ended` comes last. A refused accept touches only `accepted`.
#[test]
fn accepts_race_close_and_the_drain_is_reported_once() {
    loom::model(|| {
        let life = Arc::new(Lifecycle::new());
        let submitters: Vec<_> = (0..2)
            .map(|_| {
                let life = life.clone();
                thread::spawn(move || match life.accept() {
                    // The accepted task runs and ends.
                    Accept::Accepted => life.end(),
                    Accept::Refused => false,
                })
            })
            .collect();
        let mut reports = usize::from(life.close());
        for submitter in submitters {
            reports += usize::from(submitter.join().unwrap());
        }
        assert!(life.is_drained() && life.may_leave());
        assert_eq!(life.unfinished(), 0);
        assert_eq!(
            reports, 1,
            "the drain is reported exactly once (none: shutdown would wait forever)"
        );
    });
}

/// A `close` and a `kill` race the end of an accepted task: the pool never reads drained while
/// the task is unfinished (a later `kill` must not mark `ended` closed before the first
/// closing call subtracted the count), exactly one call reports the drain, and both words end
/// up killed.
#[test]
fn close_and_kill_race_an_ending_task() {
    loom::model(|| {
        let life = Arc::new(Lifecycle::new());
        assert_eq!(life.accept(), Accept::Accepted);
        let ender = {
            let life = life.clone();
            thread::spawn(move || {
                assert!(!life.is_drained(), "drained while a task is unfinished");
                life.end()
            })
        };
        let killer = {
            let life = life.clone();
            thread::spawn(move || life.kill())
        };
        let mut reports = usize::from(life.close());
        reports += usize::from(killer.join().unwrap());
        reports += usize::from(ender.join().unwrap());
        assert_eq!(reports, 1, "the drain is reported exactly once");
        assert!(life.is_drained());
        assert!(life.is_killed() && life.is_killed_hint() && life.may_leave());
    });
}

/// A job for the queue models (a promise's task: nothing to run).
fn job() -> Job {
    Job::new(TaskCell::<u8, _>::promised())
}

/// Race 2 of `queue`: a job pushed (at `priority`) while the only worker parks is never
/// stranded.
fn push_races_park(priority: Priority) {
    loom::model(move || {
        let queue = Arc::new(WorkQueue::new(1));
        assert!(queue.add_worker());
        let worker = {
            let queue = queue.clone();
            thread::spawn(move || {
                let mut parked = false;
                let job = loom::future::block_on(poll_fn(|cx| {
                    queue.poll_next(0, &mut parked, cx, || false)
                }));
                assert!(job.is_some());
            })
        };
        match queue.push(priority, job()) {
            Push::Queued => {}
            Push::StartWorker(_) => panic!("the one worker is counted"),
        }
        worker.join().unwrap();
    });
}

/// Race 2 through the NORMAL lane (crossbeam's `Injector`).
#[test]
fn push_races_park_without_a_lost_wakeup() {
    push_races_park(Priority::NORMAL);
}

/// Race 2 through the lanes of the other levels (a lock and a count).
#[test]
fn push_at_another_priority_races_park_without_a_lost_wakeup() {
    push_races_park(Priority::HIGH);
}

/// Race 1 of `queue`: a job pushed (at `priority`) while the only on-demand worker leaves is
/// taken by that worker, or its pusher is told to start one.
fn push_races_leave(priority: Priority) {
    loom::model(move || {
        let queue = Arc::new(WorkQueue::new(1));
        assert!(queue.add_worker());
        let worker = {
            let queue = queue.clone();
            thread::spawn(move || queue.next_or_leave().is_some())
        };
        let started = match queue.push(priority, job()) {
            Push::Queued => false,
            Push::StartWorker(first) => {
                // The new worker takes `first`, or the queued job.
                first.is_some() || queue.pop().is_some()
            }
        };
        let taken = worker.join().unwrap();
        assert!(taken || started, "the job is stranded");
    });
}

/// Race 1 through the NORMAL lane.
#[test]
fn push_races_a_leaving_worker_without_stranding_the_job() {
    push_races_leave(Priority::NORMAL);
}

/// Race 1 through the lanes of the other levels.
#[test]
fn push_at_another_priority_races_a_leaving_worker_without_stranding_the_job() {
    push_races_leave(Priority::LOW);
}
