//! The one pool core that every pool configures: [`PoolCore`] holds a pool's name, its
//! [`Lifecycle`], stats, bounded-queue room and [`WorkQueue`], and implements submitting,
//! shutting down and the stats path once; a [`Runner`] says only how a worker starts (a
//! `spawn_blocking` call, an OS thread, a Tokio task).
//!
//! Every count and permit is owned by a guard whose `Drop` gives it back on every path: a
//! task's place in the lifecycle count and its queue permit by its [`Job`] (the permit is
//! forgotten when the task is accepted and given back by the task's cell, exactly once, through
//! `PoolLink::give_back_place`: a flag in the cell, not a permit, keeps the cell small), a
//! worker's place in the worker count by its [`WorkerSlot`].

mod builder;
mod worker;

use std::future::Future;
use std::sync::{Arc, Weak};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio_util::sync::CancellationToken;

pub use builder::Builder;
pub(crate) use builder::{Config, StartHook};
pub(crate) use worker::WorkerSlot;

use crate::error::{TaskError, TrySubmitError};
use crate::lifecycle::{Accept, Lifecycle};
use crate::priority::Priority;
use crate::queue::{Push, WorkQueue};
use crate::stats::{Counters, Event, PoolStats};
use crate::sync::{Ordering, fence};
use crate::task::{Body, Job, NewTask, PoolLink, Run, Task, TaskCell};

/// How a pool's workers start.
pub(crate) trait Runner: Send + Sync + Sized + 'static {
    /// Starts a worker that runs `first`, then queued jobs, as long as `slot` says. If the
    /// worker can never run, dropping `slot` (and `first`) is the right thing to do.
    fn start_worker(&self, slot: WorkerSlot<Self>, first: Option<Job>);

    /// The pool is drained (closed, every task ended): no worker will be started again, so
    /// anything kept for starting them (and what it captures) can go.
    fn drained(&self) {}
}

/// Why a pool refused a submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    Full,
    Shutdown,
}

/// The state and behaviour shared by all pools.
pub(crate) struct PoolCore<R: Runner> {
    name: Arc<str>,
    lifecycle: Lifecycle,
    counters: Counters,
    pub(crate) queue: WorkQueue,
    /// Places for unfinished tasks, when the pool has a bounded queue: `max_workers` running
    /// plus `queue_capacity` waiting. Closed (to wake `submit_wait`) when the pool closes.
    room: Option<Arc<Semaphore>>,
    /// Triggered by `shutdown_now`: the parent of every cooperative task's token.
    kill_token: CancellationToken,
    /// Notified when the pool drains and when its last worker leaves.
    stopped: Notify,
    next_worker_id: std::sync::atomic::AtomicUsize,
    me: Weak<Self>,
    pub(crate) runner: R,
}

impl<R: Runner> PoolCore<R> {
    pub(crate) fn new(config: &Config, runner: R) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            name: config.name.clone(),
            lifecycle: Lifecycle::new(),
            counters: Counters::default(),
            queue: WorkQueue::new(config.max_workers),
            room: config.queue_capacity.map(|n| {
                let places = config
                    .max_workers
                    .saturating_add(n)
                    .min(Semaphore::MAX_PERMITS);
                Arc::new(Semaphore::new(places))
            }),
            kill_token: CancellationToken::new(),
            stopped: Notify::new(),
            next_worker_id: std::sync::atomic::AtomicUsize::new(0),
            me: me.clone(),
            runner,
        })
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn stats(&self) -> PoolStats {
        self.counters.snapshot()
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.lifecycle.is_closed()
    }

    /// Whether the pool was killed, as a worker checks it before running a job: a hint read
    /// from the lifecycle's worker side (it may lag; `kill` drains the queue on its own).
    pub(crate) fn is_killed(&self) -> bool {
        self.lifecycle.is_killed_hint()
    }

    /// Whether parked workers should leave: nothing more will come.
    pub(crate) fn workers_may_leave(&self) -> bool {
        self.lifecycle.may_leave()
    }

    pub(crate) fn next_worker_id(&self) -> usize {
        // Relaxed: ids need only be unique.
        self.next_worker_id.fetch_add(1, Ordering::Relaxed)
    }

    /// A token for a cooperative closure, triggered by `shutdown_now` too.
    pub(crate) fn child_token(&self) -> CancellationToken {
        self.kill_token.child_token()
    }

    /// The token `shutdown_now` triggers.
    pub(crate) fn kill_token(&self) -> &CancellationToken {
        &self.kill_token
    }

    /// Takes a place in the bounded queue without waiting.
    fn reserve_now(&self) -> Result<Option<OwnedSemaphorePermit>, Refusal> {
        match &self.room {
            // `accept` refuses a closed pool; no extra read of the lifecycle here.
            None => Ok(None),
            Some(_) if self.lifecycle.is_closed() => Err(Refusal::Shutdown),
            Some(room) => match Arc::clone(room).try_acquire_owned() {
                Ok(permit) => Ok(Some(permit)),
                Err(TryAcquireError::NoPermits) => Err(Refusal::Full),
                Err(TryAcquireError::Closed) => Err(Refusal::Shutdown),
            },
        }
    }

    /// Takes a place in the bounded queue, waiting for one to free up.
    async fn reserve(&self) -> Result<Option<OwnedSemaphorePermit>, Refusal> {
        if self.lifecycle.is_closed() {
            return Err(Refusal::Shutdown);
        }
        match &self.room {
            None => Ok(None),
            Some(room) => Arc::clone(room)
                .acquire_owned()
                .await
                .map(Some)
                .map_err(|_| Refusal::Shutdown),
        }
    }

    /// A task refused at submission, resolved at once.
    fn refused<T>(&self, why: Refusal) -> Task<T> {
        self.counters.record(Event::Rejected);
        Task::ready(Err(match why {
            Refusal::Full => TaskError::rejected(),
            Refusal::Shutdown => TaskError::shutdown(),
        }))
    }

    /// Submits now: a full bounded queue resolves the task to `is_rejected`.
    pub(crate) fn submit<T: Send + 'static, W: Run<T>>(
        self: &Arc<Self>,
        priority: Priority,
        body: Body<T, W>,
        token: Option<CancellationToken>,
    ) -> Task<T> {
        match self.reserve_now() {
            Ok(permit) => self.accept(priority, body, token, permit),
            Err(why) => self.refused(why),
        }
    }

    /// Submits now, or gives `unsubmitted` back.
    pub(crate) fn try_submit<T: Send + 'static, F, W: Run<T>>(
        self: &Arc<Self>,
        priority: Priority,
        unsubmitted: F,
        body: impl FnOnce(F) -> Body<T, W>,
    ) -> Result<Task<T>, TrySubmitError<F>> {
        if self.lifecycle.is_closed() {
            return Err(TrySubmitError::Shutdown(unsubmitted));
        }
        match self.reserve_now() {
            Ok(permit) => Ok(self.accept(priority, body(unsubmitted), None, permit)),
            Err(Refusal::Full) => Err(TrySubmitError::Full(unsubmitted)),
            Err(Refusal::Shutdown) => Err(TrySubmitError::Shutdown(unsubmitted)),
        }
    }

    /// Submits once there is room in the bounded queue.
    pub(crate) async fn submit_wait<T: Send + 'static, W: Run<T>>(
        self: &Arc<Self>,
        priority: Priority,
        body: Body<T, W>,
    ) -> Task<T> {
        match self.reserve().await {
            Ok(permit) => self.accept(priority, body, None, permit),
            Err(why) => self.refused(why),
        }
    }

    /// Accepts a task, unless the pool is closed (invariant 1 of `Lifecycle`), and queues it.
    fn accept<T: Send + 'static, W: Run<T>>(
        self: &Arc<Self>,
        priority: Priority,
        body: Body<T, W>,
        token: Option<CancellationToken>,
        permit: Option<OwnedSemaphorePermit>,
    ) -> Task<T> {
        if self.lifecycle.accept() == Accept::Refused {
            drop(permit);
            return self.refused(Refusal::Shutdown);
        }
        self.counters.record(Event::Submitted);
        let new = NewTask {
            body,
            token,
            // The cell gives the place back (`give_back_place`).
            holds_place: permit.map(OwnedSemaphorePermit::forget).is_some(),
            pool_name: &self.name,
        };
        let cell = TaskCell::queued(new, Arc::clone(self) as Arc<dyn PoolLink>);
        // One cell, seen by the task as `TaskCell<T, dyn Work>` and by the job as runnable.
        let task = Task::new(Arc::clone(&cell) as Arc<TaskCell<T>>);
        self.enqueue(priority, Job::new(cell));
        // `shutdown_now` may have drained the queue between the accept and the push; the
        // queue's push fence and the one in `shutdown_now` make one of the two see the job.
        // (`is_killed` reads the `accepted` word, which `kill` sets before its fence.)
        if self.lifecycle.is_killed() {
            self.drop_queued();
        }
        task
    }

    /// Queues a job, starting a worker for it if the queue says so.
    fn enqueue(self: &Arc<Self>, priority: Priority, job: Job) {
        if let Push::StartWorker(first) = self.queue.push(priority, job) {
            self.start_worker(first);
        }
    }

    /// Starts a worker already counted by the queue.
    pub(crate) fn start_worker(self: &Arc<Self>, first: Option<Job>) {
        let slot = WorkerSlot::new(Arc::clone(self));
        self.runner.start_worker(slot, first);
    }

    /// Runs a job of a closure pool on the current thread, unless the pool was killed.
    pub(crate) fn run_sync(&self, mut job: Job) {
        if !self.lifecycle.is_killed_hint() {
            let waker = std::task::Waker::noop();
            let _ = job.poll_run(&mut std::task::Context::from_waker(waker));
        }
        drop(job);
    }

    fn drop_queued(&self) {
        for job in self.queue.take_all() {
            drop(job);
        }
    }

    fn on_drained(&self) {
        self.runner.drained();
        self.queue.wake_all();
        self.stopped.notify_waiters();
    }

    /// Called by a worker that left: wakes `stopped` waiters when it was the last.
    pub(crate) fn worker_left(&self) {
        if self.lifecycle.is_closed() && self.queue.workers() == 0 {
            self.stopped.notify_waiters();
        }
    }

    /// Stops accepting; queued and running tasks go on (`shutdown`, last handle dropped).
    pub(crate) fn close(&self) {
        let drained = self.lifecycle.close();
        if let Some(room) = &self.room {
            room.close();
        }
        if drained {
            self.on_drained();
        }
    }

    /// Stops accepting and cancels what has not started (`shutdown_now`, runtime gone).
    pub(crate) fn kill(&self) {
        let drained = self.lifecycle.kill();
        // SeqCst: pairs with the fence of a racing submitter's push (see `accept`).
        fence(Ordering::SeqCst);
        self.kill_token.cancel();
        if let Some(room) = &self.room {
            room.close();
        }
        self.drop_queued();
        self.queue.wake_all();
        if drained {
            self.on_drained();
        }
    }

    /// Completes once every accepted task has ended and every worker has left.
    pub(crate) fn stopped(self: &Arc<Self>) -> impl Future<Output = ()> + Send + 'static {
        let core = Arc::clone(self);
        async move {
            loop {
                let notified = core.stopped.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if core.lifecycle.is_drained() && core.queue.workers() == 0 {
                    return;
                }
                notified.await;
            }
        }
    }
}

impl<R: Runner> PoolLink for PoolCore<R> {
    fn record(&self, event: Event) {
        self.counters.record(event);
    }

    fn cancelled_in_queue(&self) {
        if !self.queue.note_dead() {
            return;
        }
        let Some(me) = self.me.upgrade() else {
            return;
        };
        for (priority, job) in self.queue.take_live() {
            me.enqueue(priority, job);
        }
        if self.lifecycle.is_killed() {
            self.drop_queued();
        }
    }

    fn give_back_place(&self) {
        // The place a task took with a permit it forgot (see `accept`).
        if let Some(room) = &self.room {
            room.add_permits(1);
        }
    }

    fn task_ended(&self) {
        if self.lifecycle.end() {
            self.on_drained();
        }
    }
}

/// The users' share of a pool: every clone of a pool holds it, and when the last is dropped
/// the pool closes, so its workers leave once the submitted tasks are done.
pub(crate) struct Owner<R: Runner>(pub(crate) Arc<PoolCore<R>>);

impl<R: Runner> Drop for Owner<R> {
    fn drop(&mut self) {
        self.0.close();
    }
}
