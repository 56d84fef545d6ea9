//! `ProcessPool::map` and `map_unordered`: lazy, bounded streams that send their items in
//! chunks, one message per chunk, each item answered on its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use futurepool_core::{Priority, Task, TaskError};
use futurepool_stream::{
    Chunk, ChunkedFn, Map, MapInput, MapUnordered, StopFlag, map_chunked, map_chunked_unordered,
};
use futurepool_worker::{RemoteFn, Signature};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::conn::PIPELINE_DEPTH;
use crate::line::Ticket;
use crate::pool::ProcessPool;
use crate::task::{exchange, framed_call};

/// The default read-ahead bound of a map stream, per worker process.
const BUFFER_PER_WORKER: usize = 512;

/// The largest default read-ahead bound of a map stream.
const MAX_BUFFER: usize = 4096;

/// How long an adaptive chunk should run in its worker.
const CHUNK_TARGET: Duration = Duration::from_micros(500);

impl ProcessPool {
    /// Runs `f` on every item of `items` (an iterator or a stream) in the worker processes;
    /// yields the results in input order (Python's `executor.map`).
    ///
    /// Items travel in chunks, one message per chunk (Python's `chunksize`): by default the
    /// size adapts, starting at one item and growing while chunks take well under half a
    /// millisecond in their worker, so tiny items cost a fraction of a message each and slow ones go alone;
    /// [`chunk_size(n)`](futurepool_stream::MapStream::chunk_size) fixes it (1: one message
    /// per item). Each item still resolves on its own: a panic, or an argument or result that
    /// fails to (de)serialize, is that item's error. A chunk whose worker dies (a crash, a
    /// kill, [`task_timeout`](crate::ProcessPoolBuilder::task_timeout), which for a chunk of
    /// n items is n times the limit) fails every item of that chunk, and only those, with
    /// that error; they are not run again. Set `chunk_size(1)` to confine a crash to its item.
    ///
    /// Lazy and bounded as the other pools' map streams: items are read only as the stream is
    /// polled, at most `min(512 × max_workers, 4096)` ahead of the consumer, chunks included
    /// (set another bound with [`buffer`](futurepool_stream::MapStream::buffer)). An item's
    /// error is yielded at its place and later items go on. Dropping the stream cancels the
    /// items not finished (killing the workers running them).
    ///
    /// [`priority(p)`](futurepool_stream::MapStream::priority) submits every item (or chunk)
    /// at `p`, as [`submit_with_priority`](Self::submit_with_priority) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use futurepool_process::ProcessPool;
    /// use futurepool_worker::{Registry, RemoteFn, main_if_worker};
    ///
    /// fn task(n: u64) -> u64 { n.pow(2) }
    /// const TASK: RemoteFn<u64, u64> = RemoteFn::new("task", task);
    ///
    /// fn main() {
    ///     main_if_worker(&Registry::new().with(TASK));
    ///     tokio::runtime::Runtime::new().unwrap().block_on(async {
    ///         let pool = ProcessPool::builder(Registry::new().with(TASK)).max_workers(2).build().unwrap();
    ///         let results: Vec<u64> = pool.map(TASK, 0..10).map(Result::unwrap).collect().await;
    ///         assert_eq!(results, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    ///         let sum: u64 = pool.map(TASK, 0..1000).chunk_size(100).map(Result::unwrap)
    ///             .fold(0, |a, b| async move { a + b }).await;
    ///         assert_eq!(sum, (0..1000u64).map(task).sum());
    ///         let low: Vec<u64> = pool.map(TASK, 0..3).priority(futurepool_core::Priority::LOW)
    ///             .map(Result::unwrap).collect().await;
    ///         assert_eq!(low, [0, 1, 4]);
    ///     });
    /// }
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn map<A, R, In, Kind>(
        &self,
        f: RemoteFn<A, R>,
        items: In,
    ) -> Map<
        ChunkedFn<
            impl FnMut(A) -> Task<R> + Send + 'static,
            impl FnMut(Vec<A>, &StopFlag) -> Task<Chunk<R>> + Send + 'static,
        >,
        In::Stream,
    >
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
        In: MapInput<Kind, Item = A>,
    {
        map_chunked(self.chunked(f), items)
    }

    /// Like [`map`](Self::map), but yields the results as they complete.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use futurepool_process::ProcessPool;
    /// use futurepool_worker::{Registry, RemoteFn, main_if_worker};
    ///
    /// fn double(n: u32) -> u32 { 2 * n }
    /// const DOUBLE: RemoteFn<u32, u32> = RemoteFn::new("double", double);
    ///
    /// fn main() {
    ///     main_if_worker(&Registry::new().with(DOUBLE));
    ///     tokio::runtime::Runtime::new().unwrap().block_on(async {
    ///         let pool = ProcessPool::builder(Registry::new().with(DOUBLE)).max_workers(2).build().unwrap();
    ///         let mut out: Vec<u32> = pool.map_unordered(DOUBLE, 1..=4)
    ///             .priority(futurepool_core::Priority::HIGH)
    ///             .map(Result::unwrap).collect().await;
    ///         out.sort();
    ///         assert_eq!(out, [2, 4, 6, 8]);
    ///     });
    /// }
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn map_unordered<A, R, In, Kind>(
        &self,
        f: RemoteFn<A, R>,
        items: In,
    ) -> MapUnordered<
        ChunkedFn<
            impl FnMut(A) -> Task<R> + Send + 'static,
            impl FnMut(Vec<A>, &StopFlag) -> Task<Chunk<R>> + Send + 'static,
        >,
        In::Stream,
    >
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
        In: MapInput<Kind, Item = A>,
    {
        map_chunked_unordered(self.chunked(f), items)
    }

    /// The task source of `f`'s map streams.
    #[allow(clippy::type_complexity)]
    fn chunked<A, R>(
        &self,
        f: RemoteFn<A, R>,
    ) -> ChunkedFn<
        impl FnMut(A) -> Task<R> + Send + 'static,
        impl FnMut(Vec<A>, &StopFlag) -> Task<Chunk<R>> + Send + 'static,
    >
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        let one = self.clone();
        let many = self.clone();
        let workers = self.max_workers();
        // The stream's `priority(p)`, shared with both closures.
        let level = Arc::new(AtomicU8::new(Priority::NORMAL.level()));
        let (one_level, many_level, set) = (Arc::clone(&level), Arc::clone(&level), level);
        let at = |level: &AtomicU8| Priority::new(level.load(Ordering::Relaxed));
        ChunkedFn::new(
            move |arg| one.submit_with_priority(at(&one_level), f, arg),
            move |args: Vec<A>, _: &StopFlag| many.submit_chunk(at(&many_level), f, args),
        )
        .on_priority(move |p| set.store(p.level(), Ordering::Relaxed))
        // Room for every call each worker may hold, so that chunks queue behind running ones.
        .parallelism(workers.saturating_mul(PIPELINE_DEPTH))
        // A message costs tens of µs: chunks of about a millisecond make it a few percent,
        // and keep growing when a loaded machine slows a chunk down.
        .chunk_target(CHUNK_TARGET)
        .buffer(
            workers
                .saturating_mul(BUFFER_PER_WORKER)
                .clamp(futurepool_stream::DEFAULT_MAX_BUFFER, MAX_BUFFER),
        )
    }

    /// Runs `f` on each of `args` in one message to one worker.
    fn submit_chunk<A, R>(
        &self,
        priority: Priority,
        f: RemoteFn<A, R>,
        args: Vec<A>,
    ) -> Task<Chunk<R>>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        let len = args.len();
        if let Err(failure) = self.registry().check(f) {
            let err = TaskError::from(failure);
            return self
                .tasks
                .submit_fallible(async move { Ok(failed(&err, len)) });
        }
        // Encoded here (a panicking `Serialize` is that item's error); those that fail stay
        // out of the message.
        let mut early: Vec<Option<TaskError>> = Vec::with_capacity(len);
        let mut encoded = Vec::with_capacity(len);
        for arg in &args {
            match f.encode_arg(arg) {
                Ok(bytes) => {
                    encoded.push(bytes);
                    early.push(None);
                }
                Err(failure) => early.push(Some(TaskError::from(failure))),
            }
        }
        drop(args);
        let messages = self.messages(f, encoded);
        let workers = Arc::clone(&self.workers);
        let mut ticket = Ticket::new(&workers.roster, priority);
        self.tasks
            .submit_fallible_with_priority(priority, async move {
                // How long the worker ran the chunk: what adaptive chunking learns from (the time
                // spent waiting for a worker, or behind another chunk, is not the items' cost).
                let mut elapsed = Duration::ZERO;
                let mut answered = Vec::with_capacity(len);
                for message in messages {
                    match message {
                        Message::Framed { id, frame, items } => {
                            let check = |served: &[Signature]| f.check_served(served);
                            let timeout = workers.settings.task_timeout.map(|t| {
                                t.saturating_mul(u32::try_from(items).unwrap_or(u32::MAX))
                            });
                            match exchange(
                                &workers,
                                &mut ticket,
                                f.name(),
                                &check,
                                id,
                                frame,
                                timeout,
                            )
                            .await
                            {
                                Ok((outcome, took)) => {
                                    elapsed += took;
                                    let results = f.results(outcome, items).into_iter();
                                    answered.extend(results.map(|r| r.map_err(TaskError::from)));
                                }
                                Err(err) => answered.extend((0..items).map(|_| Err(err.clone()))),
                            }
                        }
                        Message::Failed(err) => answered.push(Err(err)),
                    }
                }
                Ok(Chunk::in_order(early, answered, len, elapsed))
            })
    }
}

/// One message of a chunk.
enum Message {
    /// A call of `items` items, as a whole frame.
    Framed {
        id: u64,
        frame: Arc<Vec<u8>>,
        items: usize,
    },
    /// One item whose call is over `max_message_size`.
    Failed(TaskError),
}

impl ProcessPool {
    /// The messages that carry `encoded` (the arguments of a chunk): one, or, when together
    /// they are over `max_message_size`, one per item.
    fn messages<A, R>(&self, f: RemoteFn<A, R>, encoded: Vec<Vec<u8>>) -> Vec<Message> {
        let items = encoded.len();
        if items == 0 {
            return Vec::new();
        }
        let total: usize = encoded.iter().map(|arg| arg.len() + 5).sum();
        if items > 1 && total + OVERHEAD > self.workers.settings.program.max_message {
            return self.one_by_one(f, encoded);
        }
        let id = self.workers.next_call_id();
        let call = f.batch(id, encoded);
        match framed_call(&self.workers, f.name(), &call) {
            Ok(frame) => vec![Message::Framed {
                id,
                frame: Arc::new(frame),
                items,
            }],
            Err(err) if items == 1 => vec![Message::Failed(err)],
            // Over the limit together after all: one message per item.
            Err(_) => {
                let encoded = call.batch.into_iter().map(|arg| arg.into_vec()).collect();
                self.one_by_one(f, encoded)
            }
        }
    }

    /// One message per argument of `encoded`.
    fn one_by_one<A, R>(&self, f: RemoteFn<A, R>, encoded: Vec<Vec<u8>>) -> Vec<Message> {
        encoded
            .into_iter()
            .map(|arg| {
                let id = self.workers.next_call_id();
                match framed_call(&self.workers, f.name(), &f.batch(id, vec![arg])) {
                    Ok(frame) => Message::Framed {
                        id,
                        frame: Arc::new(frame),
                        items: 1,
                    },
                    Err(err) => Message::Failed(err),
                }
            })
            .collect()
    }
}

/// Room for the rest of a chunk's call (the function's signature, the ids, the framing).
const OVERHEAD: usize = 4096;

/// A chunk of `len` items that all failed with `err` before running.
fn failed<R>(err: &TaskError, len: usize) -> Chunk<R> {
    Chunk {
        results: (0..len).map(|_| Err(err.clone())).collect(),
        ran: 0,
        elapsed: Duration::ZERO,
    }
}
