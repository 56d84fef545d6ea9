//! Where the scraper's futures run: a futurepool [`AsyncPool`] bounded by `concurrency`, results
//! collected with [`as_completed`], and a [`CpuPool`] for parsing large pages off the runtime.

use crate::ScrapeError;
use futurepool::prelude::*;
use futurepool::{AsCompleted, as_completed};
use std::future::Future;

/// A submitted unit of work: a futurepool task.
pub(crate) type Pending<T> = Task<T>;

/// Submitted work, yielded in completion order; `push`, `len` and `next` are what the runs use.
pub(crate) type Completion<T> = AsCompleted<Pending<T>>;

/// An empty completion set, to `push` tasks into as they are submitted.
pub(crate) fn completion<T>() -> Completion<T> {
    as_completed(Vec::<Pending<T>>::new())
}

/// The executor of one run: at most `concurrency` futures run at once; dropping it cancels them.
pub(crate) struct Exec {
    pool: AsyncPool,
    cpu: Cpu,
}

impl Exec {
    /// An executor with `concurrency` slots; needs a Tokio runtime.
    pub(crate) fn new(concurrency: usize) -> Result<Exec, ScrapeError> {
        let pool = AsyncPool::builder()
            .max_concurrency(concurrency)
            .name("scrape")
            .build()
            .map_err(|e| ScrapeError::Runtime(e.to_string()))?;
        let workers = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(4);
        let cpu = CpuPool::builder()
            .max_workers(workers)
            .thread_name_prefix("scrape-parse")
            .name("scrape-parse")
            .build()
            .map_err(|e| ScrapeError::Runtime(e.to_string()))?;
        Ok(Exec {
            pool,
            cpu: Cpu { pool: cpu },
        })
    }

    /// Runs `fut` when a slot of the pool is free; the task resolves to its output.
    pub(crate) fn submit<T, F>(&self, fut: F) -> Pending<T>
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        self.pool.submit(fut)
    }

    /// A handle for CPU-heavy work of this run's tasks.
    pub(crate) fn cpu(&self) -> Cpu {
        self.cpu.clone()
    }
}

impl Drop for Exec {
    fn drop(&mut self) {
        // Takes effect at the call: queued futures are cancelled, running ones dropped.
        drop(self.pool.shutdown_now());
    }
}

/// Runs CPU-heavy closures (parsing a large page) on a futurepool [`CpuPool`].
#[derive(Clone)]
pub(crate) struct Cpu {
    pool: CpuPool,
}

impl Cpu {
    /// Runs `f` on a CPU thread and waits for its result.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T, TaskError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.pool.submit(f).await
    }
}
