//! The pool's worker processes: finding room for a call on a running worker, starting new
//! ones (with backoff; broken only when the program can never start), retiring them, and
//! never more than `max_workers` alive at once.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futurepool_core::TaskError;
use tempfile::TempDir;
use tokio::runtime::Handle;
use tokio::sync::Semaphore;

use crate::child::{Child, Program, StartError};
use crate::conn::{Conn, PIPELINE_DEPTH, Roster, lock};
use crate::line::{Ticket, Turn};

/// Starts in a row whose program ran but never became a worker (it exited or never
/// connected) after which the pool is broken. Starts the system refused for now (`EAGAIN`,
/// `ETXTBSY`, ...) do not count: they are retried for as long as tasks wait.
pub(crate) const MAX_FAILED_STARTS: u32 = 5;

/// The first wait after a failed start; it doubles with each further failure.
const START_BACKOFF: Duration = Duration::from_millis(20);

/// The longest wait between two starts.
const MAX_START_BACKOFF: Duration = Duration::from_secs(1);

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
    /// The private directory (mode 0700, see [`private_dir`]) holding each starting worker's socket, made when
    /// the first worker starts.
    dir: Mutex<Option<TempDir>>,
    pub(crate) roster: Arc<Roster>,
    /// One place per process that may be alive; a process gives its place back when reaped.
    places: Arc<Semaphore>,
    starts: Mutex<Starts>,
    next_socket: AtomicU64,
    next_call: AtomicU64,
    /// Set once the pool has shut down.
    closed: AtomicBool,
}

#[derive(Default)]
struct Starts {
    /// Failed starts in a row, of any kind (for the backoff).
    failed_in_row: u32,
    /// Starts in a row whose program exited or never connected.
    exited_in_row: u32,
    /// Every failed start.
    failed_total: u64,
    broken: Option<String>,
}

impl Workers {
    pub(crate) fn new(settings: Settings, handle: Handle) -> Self {
        let roster = Arc::<Roster>::default();
        roster
            .line
            .set_places(settings.max_workers.saturating_mul(PIPELINE_DEPTH));
        Self {
            places: Arc::new(Semaphore::new(settings.max_workers)),
            settings,
            handle,
            dir: Mutex::new(None),
            roster,
            starts: Mutex::new(Starts::default()),
            next_socket: AtomicU64::new(0),
            next_call: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        }
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
        lock(&self.roster.pids).iter().copied().collect()
    }

    /// A worker with room reserved for one call of `function` (`call_len` bytes), once the
    /// call's `ticket` is first in line: an idle one, else a new one if fewer than
    /// `max_workers` are alive, else one running a short call (for a short function), else
    /// the first that gets room.
    ///
    /// # Errors
    ///
    /// A crash error saying the pool is broken, once [`MAX_FAILED_STARTS`] starts in a row
    /// failed; a shutdown error once the pool has closed.
    pub(crate) async fn checkout(
        &self,
        ticket: &mut Ticket,
        function: &'static str,
        call_len: usize,
    ) -> Result<Arc<Conn>, TaskError> {
        ticket.wait();
        loop {
            let changed = self.roster.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.closed.load(Ordering::Acquire) {
                return Err(TaskError::shutdown());
            }
            let turn = ticket.turn();
            if turn == Turn::Wait {
                // Only the first call in line watches the workers; this one waits its turn.
                ticket.bell().notified().await;
                continue;
            }
            if turn == Turn::Go {
                if let Some(conn) = self.reserve(false, function, call_len) {
                    ticket.leave();
                    return Ok(conn);
                }
                if let Ok(place) = self.places.clone().try_acquire_owned() {
                    ticket.leave();
                    if let Some(conn) = self.start(place).await?
                        && conn.try_reserve(false, function, call_len, &self.roster)
                    {
                        return Ok(conn);
                    }
                    ticket.wait();
                    continue;
                }
                if let Some(conn) = self.reserve(true, function, call_len) {
                    ticket.leave();
                    return Ok(conn);
                }
            }
            tokio::select! {
                () = changed => {}
                () = ticket.bell().notified() => {}
            }
        }
    }

    fn reserve(
        &self,
        pipeline: bool,
        function: &'static str,
        call_len: usize,
    ) -> Option<Arc<Conn>> {
        let conns = lock(&self.roster.conns);
        conns
            .iter()
            .find(|c| c.try_reserve(pipeline, function, call_len, &self.roster))
            .cloned()
    }

    /// Starts a worker in `place`; `Ok(None)` if this start failed (and the pool is not yet
    /// broken).
    async fn start(
        &self,
        place: tokio::sync::OwnedSemaphorePermit,
    ) -> Result<Option<Arc<Conn>>, TaskError> {
        let failed_in_row = {
            let starts = lock(&self.starts);
            if let Some(why) = &starts.broken {
                return Err(TaskError::crashed(format!(
                    "the process pool is broken: {why}"
                )));
            }
            starts.failed_in_row
        };
        if failed_in_row > 0 {
            let backoff = START_BACKOFF * 2u32.pow(failed_in_row.min(10) - 1);
            tokio::time::sleep(backoff.min(MAX_START_BACKOFF)).await;
        }
        let started = match self.socket_path() {
            Ok(socket) => Child::start(&self.settings.program, &socket, place).await,
            Err(e) => Err(StartError::Failed(format!(
                "cannot create a directory for the workers' sockets: {e}"
            ))),
        };
        match started {
            Ok(child) => {
                let mut starts = lock(&self.starts);
                starts.failed_in_row = 0;
                starts.exited_in_row = 0;
                drop(starts);
                let conn = Conn::drive(
                    child,
                    &self.roster,
                    self.settings.max_tasks_per_child,
                    &self.handle,
                );
                if self.closed.load(Ordering::Acquire) {
                    conn.retire();
                }
                Ok(Some(conn))
            }
            Err(StartError::Broken(why)) => {
                let mut starts = lock(&self.starts);
                starts.failed_total += 1;
                starts.broken.get_or_insert_with(|| why.clone());
                drop(starts);
                tracing::error!(%why, "the process pool is broken");
                self.roster.changed.notify_waiters();
                Err(TaskError::crashed(format!(
                    "the process pool is broken: {why}"
                )))
            }
            Err(StartError::Transient(why)) => {
                tracing::warn!(%why, "a worker process could not be started; trying again");
                let mut starts = lock(&self.starts);
                starts.failed_in_row += 1;
                starts.failed_total += 1;
                drop(starts);
                self.roster.changed.notify_waiters();
                Ok(None)
            }
            Err(StartError::Failed(why)) => {
                tracing::warn!(%why, "a worker process failed to start");
                let mut starts = lock(&self.starts);
                starts.failed_in_row += 1;
                starts.exited_in_row += 1;
                starts.failed_total += 1;
                if starts.exited_in_row >= MAX_FAILED_STARTS && starts.broken.is_none() {
                    starts.broken = Some(format!(
                        "{MAX_FAILED_STARTS} worker processes in a row failed to start; the last: {why}"
                    ));
                }
                drop(starts);
                self.roster.changed.notify_waiters();
                Ok(None)
            }
        }
    }

    /// How many worker starts have failed since the pool was built.
    pub(crate) fn failed_starts(&self) -> u64 {
        lock(&self.starts).failed_total
    }

    /// A fresh socket path in the pool's private directory.
    fn socket_path(&self) -> std::io::Result<PathBuf> {
        let mut dir = lock(&self.dir);
        let dir = match &mut *dir {
            Some(dir) => dir,
            empty => empty.insert(private_dir()?),
        };
        let n = self.next_socket.fetch_add(1, Ordering::Relaxed);
        Ok(dir.path().join(format!("worker-{n}.sock")))
    }

    /// Retires every worker and waits until all of them are reaped. Called once the pool's
    /// tasks have ended.
    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.retire_all();
        let all = u32::try_from(self.settings.max_workers).unwrap_or(u32::MAX);
        if let Ok(places) = self.places.acquire_many(all).await {
            places.forget();
        }
        self.places.close();
        self.roster.changed.notify_waiters();
    }

    fn retire_all(&self) {
        for conn in lock(&self.roster.conns).iter() {
            conn.retire();
        }
    }
}

/// A new directory only this user can enter (mode 0700 whatever the umask): made with that
/// mode, so no other user can enter it even for a moment, then set to it explicitly, in case
/// the umask took more.
fn private_dir() -> std::io::Result<TempDir> {
    let private = || std::fs::Permissions::from_mode(0o700);
    let dir = tempfile::Builder::new()
        .prefix("futurepool-process-")
        .permissions(private())
        .tempdir()?;
    std::fs::set_permissions(dir.path(), private())?;
    Ok(dir)
}

impl Drop for Workers {
    fn drop(&mut self) {
        // No task is left: end every worker (a worker whose driver is gone with its runtime
        // is killed when its child handle drops, `kill_on_drop`).
        self.retire_all();
    }
}
