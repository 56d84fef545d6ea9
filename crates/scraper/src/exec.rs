//! Where the scraper's futures run: a futurepool [`AsyncPool`] bounded by `concurrency`, results
//! collected with [`as_completed`], and a [`CpuPool`] for parsing large pages off the runtime.

use crate::ScrapeError;
use futurepool::prelude::*;
use futurepool::{AsCompleted, as_completed};
use futures::stream::{self, BoxStream, Stream, StreamExt};
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

/// Submits `submit(item)` for each item of `source`, with at most `lookahead` tasks submitted and
/// unfinished at once, and yields their outputs in completion order.
///
/// This is futurepool's `map_unordered` over a `Stream` input with a task-returning source, which
/// the library is gaining; until then it is written here with `as_completed` and `push`.
pub(crate) fn map_unordered<A, T, F>(
    source: BoxStream<'static, A>,
    lookahead: usize,
    submit: F,
) -> impl Stream<Item = Result<T, TaskError>> + Send + 'static
where
    A: Send + 'static,
    T: Send + 'static,
    F: FnMut(A) -> Pending<T> + Send + 'static,
{
    struct Run<A, T, F> {
        source: Option<BoxStream<'static, A>>,
        running: Completion<T>,
        submit: F,
    }
    let run = Run {
        source: Some(source),
        running: completion(),
        submit,
    };
    stream::unfold(run, move |mut run| async move {
        loop {
            let room = run.source.is_some() && run.running.len() < lookahead;
            if run.running.is_empty() && !room {
                return None;
            }
            tokio::select! {
                biased;
                done = run.running.next(), if !run.running.is_empty() => {
                    if let Some(out) = done {
                        return Some((out, run));
                    }
                }
                item = async { run.source.as_mut()?.next().await }, if room => match item {
                    Some(item) => {
                        let task = (run.submit)(item);
                        run.running.push(task);
                    }
                    None => run.source = None,
                },
            }
        }
    })
}
