//! Chunking: several items sent to a pool as one task, so that tiny items do not each pay a
//! task round-trip.
//!
//! [`Chunking`] decides how many items go into the next task; a fixed size set by the user, or
//! an adaptive size that grows while chunks run in well under [`CHUNK_TARGET`].
//!
//! An adaptive stream starts slowly, as TCP does: its first chunks hold one item, and until a
//! chunk reaches the size its timing asks for, at most [`SLOW_START_CHUNKS`] chunks per worker
//! are in flight. Without that bound a large read-ahead filled up with one-item chunks before
//! the first one had finished, and a map of tiny items paid a message per item for its whole
//! read-ahead (a remote map of 1M items with `.buffer(32768)` ran at a seventh of its speed
//! with fixed chunks). A chunk task runs
//! its items one after the other with [`run_chunk`] (closures) or [`run_async_chunk`] (futures),
//! turning a panic into that item's error and skipping the items left once the stream is
//! dropped ([`StopFlag`]).

use std::collections::VecDeque;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futurepool_core::TaskError;
use futures_util::FutureExt;

/// How long an adaptive chunk should take to run; chunks grow until they reach it.
const CHUNK_TARGET: Duration = Duration::from_micros(100);

/// The largest adaptive chunk, in items (the read-ahead bound usually limits it first).
const MAX_ADAPTIVE_CHUNK: usize = 4096;

/// How many chunks per worker an adaptive stream keeps in flight until its size stops growing.
pub(crate) const SLOW_START_CHUNKS: usize = 2;

/// How many items go into one submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunking {
    /// One task per item.
    Single,
    /// Chunks of this many items (at most the read-ahead bound).
    Fixed(usize),
    /// Chunks of the current adaptive `size`, at most the read-ahead bound shared among the
    /// pool's `workers`, so that every worker has a chunk; they grow until a chunk takes
    /// `target`. While `growing` (the slow start), at most [`SLOW_START_CHUNKS`] chunks per
    /// worker are in flight.
    Adaptive {
        size: usize,
        workers: usize,
        target: Duration,
        growing: bool,
    },
}

impl Chunking {
    /// The chunking a stream starts with on a pool that batches tiny items.
    pub fn adaptive(workers: usize) -> Self {
        Self::adaptive_towards(workers, CHUNK_TARGET)
    }

    /// Adaptive chunks that grow until one takes `target` (a pool whose messages cost more
    /// than a thread hand-off wants longer chunks).
    pub fn adaptive_towards(workers: usize, target: Duration) -> Self {
        Chunking::Adaptive {
            size: 1,
            workers: workers.max(1),
            target,
            growing: true,
        }
    }

    /// The chunking `chunk_size(n)` asks for: 1 turns chunking off.
    pub fn fixed(n: usize) -> Self {
        assert!(n > 0, "a map stream's chunk size must be at least one item");
        if n == 1 {
            Chunking::Single
        } else {
            Chunking::Fixed(n)
        }
    }

    /// How many items the next submission should hold, with a read-ahead bound of `buffer`.
    pub fn len(self, buffer: usize) -> usize {
        match self {
            Chunking::Single => 1,
            Chunking::Fixed(n) => n.min(buffer),
            Chunking::Adaptive { size, workers, .. } => size.min(buffer / workers).max(1),
        }
    }

    /// How many chunks may be in flight at most, when the chunking bounds it: during an
    /// adaptive stream's slow start, [`SLOW_START_CHUNKS`] per worker.
    pub fn chunks_in_flight(self) -> Option<usize> {
        match self {
            Chunking::Adaptive {
                workers,
                growing: true,
                ..
            } => Some(workers.saturating_mul(SLOW_START_CHUNKS)),
            _ => None,
        }
    }

    /// Learns from a finished chunk that ran `ran` items in `elapsed`: grow towards the target
    /// time per chunk ([`CHUNK_TARGET`] by default), at most doubling each time; fall back to
    /// one item when items are slow. The slow start ends, for good, at the first chunk whose
    /// ideal size is not above the size it allows next (no longer held back by doubling), or
    /// when the size reaches its largest.
    pub fn record(&mut self, ran: usize, elapsed: Duration) {
        if let Chunking::Adaptive {
            size,
            target,
            growing,
            ..
        } = self
        {
            if ran == 0 {
                return;
            }
            let per_item = (elapsed.as_nanos() / ran as u128).max(1);
            let ideal = target.as_nanos() / per_item;
            let ideal = usize::try_from(ideal).unwrap_or(usize::MAX);
            let largest = (*size * 2).min(MAX_ADAPTIVE_CHUNK);
            *size = ideal.clamp(1, largest);
            *growing = *growing && ideal > *size && *size < MAX_ADAPTIVE_CHUNK;
        }
    }
}

/// What a chunk task returns: each item's outcome in input order, and how long running them
/// took.
///
/// # Examples
///
/// ```
/// use futurepool_stream::Chunk;
///
/// let chunk: Chunk<u8> = Chunk {
///     results: [Ok(1), Ok(2)].into(),
///     ran: 2,
///     elapsed: std::time::Duration::from_micros(3),
/// };
/// assert_eq!(chunk.results.len(), 2);
/// ```
#[derive(Debug)]
pub struct Chunk<T> {
    /// One outcome per item of the chunk.
    pub results: VecDeque<Result<T, TaskError>>,
    /// How many items actually ran (the others were skipped after a stop).
    pub ran: usize,
    /// How long the items that ran took, together.
    pub elapsed: Duration,
}

impl<T> Chunk<T> {
    /// A chunk's outcome in item order, from the items that failed before they were sent
    /// (`Some(error)` in `sent_or_failed`, `None` for an item that was sent) and the answers of
    /// the sent ones, in order; a sent item left without an answer is an `is_invalid()` error.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::TaskError;
    /// use futurepool_stream::Chunk;
    /// use std::time::Duration;
    ///
    /// let early = vec![None, Some(TaskError::invalid("too big")), None, None];
    /// let chunk = Chunk::in_order(early, [Ok(1), Ok(3)], 2, Duration::from_micros(5));
    /// let results: Vec<_> = chunk.results.into_iter().map(|r| r.map_err(|e| e.is_invalid())).collect();
    /// assert_eq!(results, [Ok(1), Err(true), Ok(3), Err(true)]);
    /// ```
    pub fn in_order(
        sent_or_failed: Vec<Option<TaskError>>,
        answered: impl IntoIterator<Item = Result<T, TaskError>>,
        ran: usize,
        elapsed: Duration,
    ) -> Self {
        let mut answered = answered.into_iter();
        let results = sent_or_failed
            .into_iter()
            .map(|early| match early {
                Some(err) => Err(err),
                None => answered
                    .next()
                    .unwrap_or_else(|| Err(TaskError::invalid("a chunk lost an answer"))),
            })
            .collect();
        Chunk {
            results,
            ran,
            elapsed,
        }
    }
}

/// Tells the chunks of a stream that is gone to skip the items they have not started.
///
/// # Examples
///
/// ```
/// let stop = futurepool_stream::StopFlag::default();
/// assert!(!stop.is_stopped());
/// stop.stop();
/// assert!(stop.is_stopped());
/// ```
#[derive(Clone, Debug, Default)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// Asks every chunk sharing this flag to skip its remaining items.
    ///
    /// # Examples
    ///
    /// ```
    /// let stop = futurepool_stream::StopFlag::default();
    /// stop.clone().stop();
    /// assert!(stop.is_stopped());
    /// ```
    pub fn stop(&self) {
        // Relaxed: the flag carries no data. A chunk that reads it late runs a few more items,
        // whose results are dropped with the stream; nothing is published through it.
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`stop`](Self::stop) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!futurepool_stream::StopFlag::default().is_stopped());
    /// ```
    pub fn is_stopped(&self) -> bool {
        // Relaxed: see `stop`.
        self.0.load(Ordering::Relaxed)
    }
}

/// Runs `items` one after the other with `f`, on the calling (worker) thread.
///
/// A panic of `f` becomes that item's error only; once `stop` is set, the items left are
/// cancelled without running.
pub fn run_chunk<A, T>(items: Vec<A>, stop: &StopFlag, f: impl Fn(A) -> T) -> Chunk<T> {
    let start = Instant::now();
    let mut results = VecDeque::with_capacity(items.len());
    let mut ran = 0;
    for item in items {
        if stop.is_stopped() {
            results.push_back(Err(TaskError::cancelled()));
            continue;
        }
        ran += 1;
        let result = catch_unwind(AssertUnwindSafe(|| f(item)));
        results.push_back(result.map_err(TaskError::from_panic));
    }
    Chunk {
        results,
        ran,
        elapsed: start.elapsed(),
    }
}

/// Runs `futures` one after the other: the asynchronous twin of [`run_chunk`].
pub async fn run_async_chunk<Fut: Future>(futures: Vec<Fut>, stop: StopFlag) -> Chunk<Fut::Output> {
    let start = Instant::now();
    let mut results = VecDeque::with_capacity(futures.len());
    let mut ran = 0;
    for future in futures {
        if stop.is_stopped() {
            results.push_back(Err(TaskError::cancelled()));
            continue;
        }
        ran += 1;
        let result = AssertUnwindSafe(future).catch_unwind().await;
        results.push_back(result.map_err(TaskError::from_panic));
    }
    Chunk {
        results,
        ran,
        elapsed: start.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adaptive_chunks_double_at_most_and_stay_within_the_bound() {
        let mut chunking = Chunking::adaptive(2);
        assert_eq!(chunking.len(64), 1);
        chunking.record(1, Duration::from_nanos(10)); // ideal 10,000 items
        assert_eq!(chunking.len(64), 2, "at most doubling");
        for _ in 0..20 {
            chunking.record(10, Duration::from_nanos(100));
        }
        assert_eq!(chunking.len(64), 32, "buffer shared among 2 workers");
        chunking.record(1, Duration::from_millis(1)); // a slow item
        assert_eq!(chunking.len(64), 1);
    }

    #[test]
    fn the_slow_start_bounds_chunks_in_flight_until_the_size_stops_growing() {
        let mut chunking = Chunking::adaptive(3);
        assert_eq!(chunking.chunks_in_flight(), Some(6));
        // Tiny items: the size doubles, and the bound stays until the largest size.
        let mut sizes = Vec::new();
        while chunking.chunks_in_flight().is_some() {
            chunking.record(1, Duration::from_nanos(1));
            sizes.push(chunking.len(usize::MAX));
            assert!(sizes.len() <= 20, "no end to the slow start: {sizes:?}");
        }
        assert_eq!(sizes.len(), 12, "{sizes:?}");
        assert_eq!(*sizes.last().unwrap(), MAX_ADAPTIVE_CHUNK);
        // Over for good: a slow chunk shrinks the size but brings no bound back.
        chunking.record(1, Duration::from_millis(1));
        assert_eq!(chunking.len(64), 1);
        chunking.record(1, Duration::from_nanos(1));
        assert_eq!(chunking.chunks_in_flight(), None);

        // Items of a tenth of the target: it ends at the chunk that reaches ten.
        let mut chunking = Chunking::adaptive(1);
        let tenth = CHUNK_TARGET / 10;
        chunking.record(1, tenth); // 2
        chunking.record(2, tenth * 2); // 4
        chunking.record(4, tenth * 4); // 8
        assert_eq!(chunking.chunks_in_flight(), Some(2));
        chunking.record(8, tenth * 8); // 10, as asked
        assert_eq!(chunking.len(64), 10);
        assert_eq!(chunking.chunks_in_flight(), None);

        // Fixed chunks and single items are never bounded this way.
        assert_eq!(Chunking::fixed(8).chunks_in_flight(), None);
        assert_eq!(Chunking::Single.chunks_in_flight(), None);
    }

    #[test]
    fn fixed_chunks_never_exceed_the_buffer() {
        assert_eq!(Chunking::fixed(1), Chunking::Single);
        assert_eq!(Chunking::fixed(37).len(300), 37);
        assert_eq!(Chunking::fixed(37).len(10), 10);
    }

    #[test]
    fn a_stopped_chunk_skips_its_items() {
        let stop = StopFlag::default();
        let chunk = run_chunk(vec![1, 2], &stop, |n: u32| {
            stop.stop();
            n
        });
        assert_eq!(chunk.ran, 1);
        assert_eq!(chunk.results[0], Ok(1));
        assert!(chunk.results[1].as_ref().unwrap_err().is_cancelled());
    }
}
