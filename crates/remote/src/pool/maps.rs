//! `RemotePool::map` and `map_unordered`: lazy, bounded streams that send their items in
//! chunks, one JetStream message and one answer per chunk, each item resolved on its own.
//!
//! A chunk is one task of the pool's [`AsyncPool`](futurepool_core::AsyncPool) (its count,
//! its cancellation) whose future publishes one batch [`Call`](futurepool_worker::Call) (or
//! several, when the items do not fit one message under the server's `max_payload`) and waits
//! for the worker's batch answer: one outcome per item and how long the worker took,
//! which is what the adaptive chunk size learns from. The message is an ordinary task message,
//! so a worker that dies mid-chunk loses nothing: the server delivers the chunk again after
//! `ack_wait`, up to `max_attempts` deliveries.

use std::future::ready;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::HeaderMap;
use futurepool_core::{Task, TaskError};
use futurepool_stream::{
    Chunk, ChunkedFn, Map, MapInput, MapUnordered, StopFlag, map_chunked, map_chunked_unordered,
};
use futurepool_worker::{RemoteFn, codec};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::RemotePool;
use super::chunk::{Part, drive_chunk, encode_batch};
use super::driver::Unpublished;
use crate::nats::names::TIMEOUT_MS;

/// The function inside a [`RemotePool`] map stream that submits one item (a chunk size of 1).
///
/// # Examples
///
/// ```
/// use futurepool_remote::RemoteSubmit;
/// let submit: RemoteSubmit<u64, u64> = Box::new(|n| futurepool_core::Task::ready(Ok(n * n)));
/// # drop(submit);
/// ```
pub type RemoteSubmit<A, R> = Box<dyn FnMut(A) -> Task<R> + Send>;

/// The function inside a [`RemotePool`] map stream that submits a chunk of items as one
/// message.
///
/// # Examples
///
/// ```
/// use futurepool_remote::RemoteSubmitChunk;
/// use futurepool_stream::Chunk;
/// let submit: RemoteSubmitChunk<u64, u64> = Box::new(|items, _stop| {
///     let ran = items.len();
///     let results = items.into_iter().map(|n| Ok(n * n)).collect();
///     futurepool_core::Task::ready(Ok(Chunk { results, ran, elapsed: Default::default() }))
/// });
/// # drop(submit);
/// ```
pub type RemoteSubmitChunk<A, R> = Box<dyn FnMut(Vec<A>, &StopFlag) -> Task<Chunk<R>> + Send>;

/// The task source of a [`RemotePool`] map stream: what [`RemotePool::map`] returns a
/// [`Map`] of.
///
/// # Examples
///
/// ```no_run
/// use futurepool_remote::{RemoteChunks, RemotePool};
/// use futurepool_stream::Map;
/// use futurepool_worker::RemoteFn;
/// fn square(n: u64) -> u64 { n * n }
/// const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
/// # async fn f(pool: RemotePool) {
/// // A map stream kept in a struct field, say.
/// let squares: Map<RemoteChunks<u64, u64>, _> = pool.map(SQUARE, 0..10u64);
/// # drop(squares);
/// # }
/// ```
pub type RemoteChunks<A, R> = ChunkedFn<RemoteSubmit<A, R>, RemoteSubmitChunk<A, R>>;

/// The read-ahead bound of a map stream unless set with `.buffer(n)`, chunks included.
const MAP_BUFFER: usize = 64;

/// How many chunks an adaptive map stream keeps in flight at least: its chunks grow to at most
/// the read-ahead bound shared among them.
const CHUNKS_IN_FLIGHT: usize = 4;

/// How long an adaptive chunk should run in its worker: a chunk's message costs a round trip
/// through the server (about a millisecond on loopback), so chunks of a millisecond or more
/// make it a small part of the work.
const CHUNK_TARGET: Duration = Duration::from_millis(1);

/// Room in a batch message for the `batch` field's framing and a chunk's longer timeout
/// header, beyond an empty call's size.
const CALL_OVERHEAD: usize = 64;

/// What one argument adds to a batch call besides its bytes (a MessagePack `bin` header).
const ARG_OVERHEAD: usize = 5;

impl RemotePool {
    /// Runs `f` on every item of `items` (an iterator or a stream) on the workers; yields the
    /// results in input order (Python's `executor.map`).
    ///
    /// Items travel in chunks, one message (and one answer) per chunk, like Python's
    /// `chunksize`. By default the size adapts: it starts at one item and grows (at most
    /// doubling) while chunks run in well under a millisecond in their worker, so tiny items
    /// cost a fraction of a message each and slow items still go one by one;
    /// [`chunk_size(n)`](futurepool_stream::MapStream::chunk_size) fixes it (1: one message
    /// per item, as [`submit`](Self::submit)). A chunk too large for the server's
    /// `max_payload` is sent as several messages. Each item still resolves on its own: a panic,
    /// or an argument or result that fails to (de)serialize, is that item's error. A chunk is
    /// one task on the server: a worker that dies while running it (even `kill -9`) loses
    /// nothing, the chunk runs again after `ack_wait`, and after `max_attempts` deliveries
    /// every item of the chunk resolves to `is_crashed()`. A chunk of n items may run n times
    /// [`task_timeout`](crate::RemotePoolBuilder::task_timeout).
    ///
    /// Lazy and bounded: at most 64 items are read ahead of the consumer, chunks included (so
    /// a chunk holds at most 16 unless [`buffer(n)`](futurepool_stream::MapStream::buffer)
    /// raises the bound; for throughput over many tiny items, raise it to thousands). Dropping
    /// the stream cancels the chunks not finished (their messages leave the stream). With a
    /// [`queue_capacity`](crate::RemotePoolBuilder::queue_capacity) (which counts chunks) below the
    /// chunks read ahead, chunks past it come out as `is_rejected()` errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use futurepool_remote::RemotePool;
    /// # use futurepool_worker::RemoteFn;
    /// use futures_util::StreamExt;
    /// fn square(n: u64) -> u64 { n * n }
    /// const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
    /// # async fn f(pool: RemotePool) {
    /// let squares: Vec<u64> = pool.map(SQUARE, 0..10u64).map(Result::unwrap).collect().await;
    /// assert_eq!(squares[9], 81);
    /// // A million tiny items: chunks of 1,000, 8,000 items in flight.
    /// let sum = pool.map(SQUARE, 0..1_000_000u64).chunk_size(1000).buffer(8000)
    ///     .fold(0u64, |sum, n| async move { sum.wrapping_add(n.unwrap()) }).await;
    /// # let _ = sum;
    /// # }
    /// ```
    pub fn map<A, R, In, Kind>(
        &self,
        f: RemoteFn<A, R>,
        items: In,
    ) -> Map<RemoteChunks<A, R>, In::Stream>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
        In: MapInput<Kind, Item = A>,
    {
        map_chunked(self.chunks(f), items)
    }

    /// Like [`map`](Self::map), but yields the results as they complete.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use futurepool_remote::RemotePool;
    /// # use futurepool_worker::RemoteFn;
    /// use futures_util::StreamExt;
    /// fn double(n: u32) -> u32 { 2 * n }
    /// const DOUBLE: RemoteFn<u32, u32> = RemoteFn::new("double", double);
    /// # async fn f(pool: RemotePool) {
    /// let mut out: Vec<u32> = pool.map_unordered(DOUBLE, 1..=4).map(Result::unwrap).collect().await;
    /// out.sort();
    /// assert_eq!(out, [2, 4, 6, 8]);
    /// # }
    /// ```
    pub fn map_unordered<A, R, In, Kind>(
        &self,
        f: RemoteFn<A, R>,
        items: In,
    ) -> MapUnordered<RemoteChunks<A, R>, In::Stream>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
        In: MapInput<Kind, Item = A>,
    {
        map_chunked_unordered(self.chunks(f), items)
    }

    /// The task source of `f`'s map streams.
    fn chunks<A, R>(&self, f: RemoteFn<A, R>) -> RemoteChunks<A, R>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        let (one, many) = (self.clone(), self.clone());
        let submit: RemoteSubmit<A, R> = Box::new(move |arg| one.submit(f, arg));
        let submit_chunk: RemoteSubmitChunk<A, R> =
            Box::new(move |args: Vec<A>, _: &StopFlag| many.submit_chunk(f, args));
        ChunkedFn::new(submit, submit_chunk)
            .parallelism(CHUNKS_IN_FLIGHT)
            .chunk_target(CHUNK_TARGET)
            .buffer(MAP_BUFFER)
    }

    /// Submits `f` on each of `args` as one task: one message (more if they do not fit one),
    /// each item answered on its own.
    fn submit_chunk<A, R>(&self, f: RemoteFn<A, R>, args: Vec<A>) -> Task<Chunk<R>>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        if self.tasks.is_shutdown() {
            return self
                .tasks
                .submit_fallible(ready(Err(TaskError::shutdown())));
        }
        let len = args.len();
        if let Err(failure) = self.shared.registry.check(f) {
            let err = TaskError::from(failure);
            let results = (0..len).map(|_| Err(err.clone())).collect();
            return self.tasks.submit_fallible(ready(Ok(Chunk {
                results,
                ran: 0,
                elapsed: Duration::ZERO,
            })));
        }
        // Encoded here (a panicking `Serialize` is that item's error); an item that fails, or
        // that is too large for a message of its own, stays out of the messages.
        let base = self.batch_base(f);
        let mut early = Vec::with_capacity(len);
        let mut encoded = Vec::with_capacity(len);
        for arg in &args {
            match f.encode_arg(arg) {
                Ok(bytes) => match self.too_large(f, base, bytes.len()) {
                    None => {
                        encoded.push(bytes);
                        early.push(None);
                    }
                    Some(err) => early.push(Some(err)),
                },
                Err(failure) => early.push(Some(TaskError::from(failure))),
            }
        }
        drop(args);
        let (parts, counts): (Vec<Part>, Vec<_>) = self
            .batches(base, encoded)
            .into_iter()
            .map(|(payload, items)| {
                let (unpublished, count) = Unpublished::new(&self.shared);
                let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
                let payload = encode_batch(f, id, payload);
                let part = Part {
                    id,
                    payload,
                    items,
                    unpublished,
                };
                (part, count)
            })
            .unzip();
        for count in counts {
            count.count();
        }
        let headers = self.chunk_headers(len);
        let shared = Arc::clone(&self.shared);
        self.tasks
            .submit_fallible(drive_chunk(shared, f, parts, early, headers))
    }

    /// The size of a batch message of `f` without its arguments: headers, signature, id,
    /// framing, and room for a chunk's longer timeout header.
    fn batch_base<A, R>(&self, f: RemoteFn<A, R>) -> usize {
        let empty = codec::encode(&f.batch(u64::MAX, Vec::new()))
            .map_or(4 * CALL_OVERHEAD, |call| call.len());
        self.shared.header_bytes + empty + CALL_OVERHEAD
    }

    /// The error of an argument of `size` bytes too large for a message of its own (`base`:
    /// the rest of a batch message).
    fn too_large<A, R>(&self, f: RemoteFn<A, R>, base: usize, size: usize) -> Option<TaskError> {
        let limit = self.shared.max_payload;
        let size = base + size + ARG_OVERHEAD;
        (size > limit).then(|| {
            TaskError::invalid(format!(
                "the call of `{}` is too large: {size} bytes (with its headers), over the NATS server's max_payload of {limit} bytes",
                f.name()
            ))
        })
    }

    /// `encoded` (arguments that each fit a message) in groups that each fit one message
    /// (`base`: the rest of a batch message): each group's arguments and how many they are.
    fn batches(&self, base: usize, encoded: Vec<Vec<u8>>) -> Vec<(Vec<Vec<u8>>, usize)> {
        let room = self.shared.max_payload.saturating_sub(base);
        let mut groups = Vec::new();
        let mut group: Vec<Vec<u8>> = Vec::new();
        let mut size = 0;
        for arg in encoded {
            let cost = arg.len() + ARG_OVERHEAD;
            if !group.is_empty() && size + cost > room {
                let items = group.len();
                groups.push((std::mem::take(&mut group), items));
                size = 0;
            }
            size += cost;
            group.push(arg);
        }
        if !group.is_empty() {
            let items = group.len();
            groups.push((group, items));
        }
        groups
    }

    /// The headers of a chunk of `len` items: the pool's, with a task timeout `len` times the
    /// pool's (the items run one after the other).
    fn chunk_headers(&self, len: usize) -> HeaderMap {
        let mut headers = self.shared.headers.clone();
        let timeout = headers
            .get(TIMEOUT_MS)
            .and_then(|v| v.as_str().parse::<u64>().ok());
        if let Some(ms) = timeout {
            let items = u64::try_from(len).unwrap_or(u64::MAX).max(1);
            headers.insert(TIMEOUT_MS, ms.saturating_mul(items).to_string().as_str());
        }
        headers
    }
}
