//! The pool's worker processes: idle ones waiting for a task, starting new ones (with backoff,
//! and giving up after several failed starts in a row), retiring them, and never more than
//! `max_workers` alive at once.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futurepool_core::TaskError;
use tempfile::TempDir;
use tokio::runtime::Handle;
use tokio::sync::Semaphore;

use crate::child::{Child, Program};

/// Failed starts in a row after which the pool is broken.
pub(crate) const MAX_FAILED_STARTS: u32 = 5;

/// The first wait after a failed start; it doubles with each further failure.
const START_BACKOFF: Duration = Duration::from_millis(20);

/// Settings fixed at build time.
pub(crate) struct Settings {
    pub(crate) program: Program,
    pub(crate) max_workers: usize,
    pub(crate) max_tasks_per_child: Option<u64>,
    pub(crate) task_timeout: Option<Duration>,
}

/// The worker processes of one pool.
pub(crate) struct Workers {
    pub(crate) settings: Settings,
    handle: Handle,
    /// The private directory (mode 0700) holding each starting worker's socket.
    dir: TempDir,
    idle: Mutex<Vec<Child>>,
    /// One place per process that may be alive; a process gives its place back when reaped.
    places: Arc<Semaphore>,
    starts: Mutex<Starts>,
    next_socket: AtomicU64,
    next_call: AtomicU64,
    /// Set once the pool has shut down: workers coming back are retired, not kept.
    closed: AtomicBool,
    pids: Arc<Mutex<BTreeSet<u32>>>,
}

#[derive(Default)]
struct Starts {
    failed_in_row: u32,
    broken: Option<String>,
}

impl Workers {
    pub(crate) fn new(settings: Settings, handle: Handle) -> std::io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("futurepool-process-")
            .tempdir()?;
        Ok(Self {
            places: Arc::new(Semaphore::new(settings.max_workers)),
            settings,
            handle,
            dir,
            idle: Mutex::new(Vec::new()),
            starts: Mutex::new(Starts::default()),
            next_socket: AtomicU64::new(0),
            next_call: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            pids: Arc::default(),
        })
    }

    /// Spawns `fut` on the pool's runtime.
    pub(crate) fn spawn<F>(&self, fut: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(fut)
    }

    /// A fresh id for a call.
    pub(crate) fn next_call_id(&self) -> u64 {
        self.next_call.fetch_add(1, Ordering::Relaxed)
    }

    /// The process ids of the live workers.
    pub(crate) fn pids(&self) -> Vec<u32> {
        lock(&self.pids).iter().copied().collect()
    }

    /// An idle worker, or a newly started one.
    ///
    /// # Errors
    ///
    /// A crash error saying the pool is broken, once [`MAX_FAILED_STARTS`] starts in a row
    /// failed; a shutdown error after the pool closed.
    pub(crate) async fn checkout(self: &Arc<Self>) -> Result<Lease, TaskError> {
        if let Some(child) = lock(&self.idle).pop() {
            return Ok(Lease::new(self, child));
        }
        loop {
            let failed_in_row = {
                let starts = lock(&self.starts);
                if let Some(why) = &starts.broken {
                    return Err(TaskError::crashed(format!(
                        "the process pool is broken: {why}"
                    )));
                }
                starts.failed_in_row
            };
            let Ok(place) = self.places.clone().acquire_owned().await else {
                return Err(TaskError::shutdown());
            };
            // A worker may have come back while this task waited for a place.
            if let Some(child) = lock(&self.idle).pop() {
                return Ok(Lease::new(self, child));
            }
            if failed_in_row > 0 {
                tokio::time::sleep(START_BACKOFF * 2u32.pow(failed_in_row.min(6) - 1)).await;
            }
            let n = self.next_socket.fetch_add(1, Ordering::Relaxed);
            let socket: PathBuf = self.dir.path().join(format!("worker-{n}.sock"));
            match Child::start(&self.settings.program, &socket, place).await {
                Ok(child) => {
                    lock(&self.starts).failed_in_row = 0;
                    lock(&self.pids).insert(child.pid());
                    return Ok(Lease::new(self, child));
                }
                Err(why) => {
                    tracing::warn!(%why, "a worker process failed to start");
                    let mut starts = lock(&self.starts);
                    starts.failed_in_row += 1;
                    if starts.failed_in_row >= MAX_FAILED_STARTS && starts.broken.is_none() {
                        starts.broken = Some(format!(
                            "{MAX_FAILED_STARTS} worker processes in a row failed to start; the last: {why}"
                        ));
                    }
                }
            }
        }
    }

    /// Takes a worker back after a call that it answered.
    fn give_back(&self, child: Child) {
        let spent = self
            .settings
            .max_tasks_per_child
            .is_some_and(|max| child.calls >= max);
        if spent || self.closed.load(Ordering::Acquire) {
            self.retire(child);
            return;
        }
        lock(&self.idle).push(child);
        // `close` may have drained the idle list between the check and the push.
        if self.closed.load(Ordering::Acquire) {
            self.retire_idle();
        }
    }

    /// Kills a worker in the background; its place comes back once it is reaped.
    fn retire(&self, child: Child) {
        let pids = Arc::clone(&self.pids);
        // Without a runtime the future is dropped, and dropping the child kills it
        // (`kill_on_drop`).
        drop(self.handle.spawn(async move {
            let pid = child.pid();
            child.kill().await;
            lock(&pids).remove(&pid);
        }));
    }

    fn retire_idle(&self) {
        let idle: Vec<Child> = std::mem::take(&mut *lock(&self.idle));
        for child in idle {
            self.retire(child);
        }
    }

    /// Retires every worker and waits until all of them are reaped. Called once the pool's
    /// tasks have ended.
    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.retire_idle();
        let all = u32::try_from(self.settings.max_workers).unwrap_or(u32::MAX);
        if let Ok(places) = self.places.acquire_many(all).await {
            places.forget();
        }
        self.places.close();
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        // Dropping the idle children kills them (`kill_on_drop`); Tokio reaps them.
        lock(&self.idle).clear();
    }
}

/// A worker checked out for one task. Dropped without [`Lease::give_back`] (the task was
/// cancelled, timed out or its worker died), the worker is killed.
pub(crate) struct Lease {
    workers: Arc<Workers>,
    child: Option<Child>,
}

impl Lease {
    fn new(workers: &Arc<Workers>, child: Child) -> Self {
        Self {
            workers: Arc::clone(workers),
            child: Some(child),
        }
    }

    pub(crate) fn child(&mut self) -> &mut Child {
        self.child
            .as_mut()
            .expect("a lease holds its child until it ends")
    }

    /// Returns the worker to the pool (or retires it past `max_tasks_per_child`).
    pub(crate) fn give_back(mut self) {
        if let Some(child) = self.child.take() {
            self.workers.give_back(child);
        }
    }

    /// Kills the worker and waits until it is reaped.
    pub(crate) async fn kill(mut self) {
        if let Some(child) = self.child.take() {
            let pid = child.pid();
            child.kill().await;
            lock(&self.workers.pids).remove(&pid);
        }
    }

    /// Forgets a worker that is already dead and reaped.
    pub(crate) fn dead(mut self) {
        if let Some(child) = self.child.take() {
            lock(&self.workers.pids).remove(&child.pid());
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            self.workers.retire(child);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
