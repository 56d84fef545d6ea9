//! The engine shared by every map stream: reads input within the read-ahead bound, submits it,
//! yields results, and stops.
//!
//! It never holds more than `buffer` items that were read but not yet yielded (running, queued on
//! the pool, or finished and waiting for their turn), chunks included. The input is read only
//! while the consumer polls.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futurepool_core::TaskError;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use super::chunk::{Chunking, StopFlag};
use super::input::{poll_next_chunk, poll_next_item};
use super::order::Queue;
use super::source::{Submit, SubmitChunk};
use super::unit::Unit;

/// The state of a map stream apart from its (pinned) input.
pub struct Engine<Src, Q> {
    source: Src,
    buffer: usize,
    chunking: Chunking,
    /// Items read from the input and not yet yielded.
    outstanding: usize,
    /// Tells running chunks to skip their remaining items.
    stop: StopFlag,
    deadline: Option<Instant>,
    sleep: Option<Pin<Box<Sleep>>>,
    queue: Q,
    /// Whether the stream has ended (input done and drained, timed out, or stopped).
    finished: bool,
}

impl<Src, Q> Engine<Src, Q> {
    /// An engine with the source's default read-ahead bound and chunking.
    pub fn new<A>(source: Src) -> Self
    where
        Src: Submit<A>,
        Q: Default,
    {
        let defaults = source.defaults();
        Self {
            source,
            buffer: defaults.buffer,
            chunking: defaults.chunking,
            outstanding: 0,
            stop: StopFlag::default(),
            deadline: None,
            sleep: None,
            queue: Q::default(),
            finished: false,
        }
    }

    /// Sets the read-ahead bound; see `MapStream::buffer`.
    pub fn set_buffer(&mut self, n: usize) {
        assert!(n > 0, "a map stream's buffer must hold at least one item");
        self.buffer = n;
    }

    /// Sets a fixed chunk size; see `MapStream::chunk_size`.
    pub fn set_chunk_size(&mut self, n: usize) {
        self.chunking = Chunking::fixed(n);
    }

    /// The source, to change how it submits (`MapStream::priority`).
    pub fn source_mut(&mut self) -> &mut Src {
        &mut self.source
    }

    /// Sets the deadline; see `MapStream::deadline`.
    pub fn set_deadline(&mut self, deadline: Instant) {
        self.deadline = Some(deadline);
        self.sleep = None;
    }

    /// Whether the stream has ended.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Reads and submits one item per task while the read-ahead bound has room.
    pub fn fill_one_per_task<A, St>(
        &mut self,
        mut input: Pin<&mut Option<St>>,
        cx: &mut Context<'_>,
    ) where
        Src: Submit<A>,
        St: Stream<Item = A>,
        Q: Queue<Src::Output>,
    {
        while self.outstanding < self.buffer {
            let Some(item) = poll_next_item(input.as_mut(), cx) else {
                break;
            };
            let task = self.source.submit_one(item);
            self.queue.push(Unit::One(task));
            self.outstanding += 1;
        }
    }

    /// Reads and submits input in chunks while the read-ahead bound leaves room for a whole
    /// chunk (and, during an adaptive stream's slow start, while fewer chunks than it allows
    /// are in flight). A stream input that is not ready sends the items it gave so far as a
    /// shorter chunk, so that no item waits for the next one.
    pub fn fill_in_chunks<A, St>(&mut self, mut input: Pin<&mut Option<St>>, cx: &mut Context<'_>)
    where
        Src: SubmitChunk<A>,
        St: Stream<Item = A>,
        Q: Queue<Src::Output>,
    {
        if self.chunking == Chunking::Single {
            return self.fill_one_per_task(input, cx);
        }
        loop {
            let want = self.chunking.len(self.buffer);
            if self.outstanding + want > self.buffer {
                break;
            }
            if let Some(most) = self.chunking.chunks_in_flight()
                && self.queue.units() >= most
            {
                break;
            }
            let items = poll_next_chunk(input.as_mut(), cx, want);
            if items.is_empty() {
                break;
            }
            let len = items.len();
            let task = self.source.submit_chunk(items, &self.stop);
            self.queue.push(Unit::Chunk { task, len });
            self.outstanding += len;
        }
    }

    /// Ends the stream early: no more input is read, everything in flight is cancelled. The
    /// input is dropped by the next poll.
    pub fn stop<T>(&mut self)
    where
        Q: Queue<T>,
    {
        self.finished = true;
        self.stop.stop();
        self.queue.cancel_all();
        self.outstanding = 0;
    }

    /// Fills the read-ahead bound from `input`, then yields the next result in the queue's
    /// order; past the deadline, yields the timeout error and stops.
    pub fn poll_next<A, St>(
        &mut self,
        mut input: Pin<&mut Option<St>>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Src::Output, TaskError>>>
    where
        Src: Submit<A>,
        St: Stream<Item = A>,
        Q: Queue<Src::Output>,
    {
        if self.finished {
            input.set(None);
            return Poll::Ready(None);
        }
        let expired = self.deadline.is_some_and(|d| Instant::now() >= d);
        if !expired {
            Src::fill(self, input.as_mut(), cx);
        }
        match self.queue.poll_item(cx, &mut self.chunking) {
            Poll::Ready(Some(result)) => {
                self.outstanding -= 1;
                if matches!(&result, Err(e) if e.is_shutdown()) {
                    // The pool takes no more work: read no more input, so that an endless input
                    // does not become an endless run of errors.
                    input.set(None);
                }
                return Poll::Ready(Some(result));
            }
            Poll::Ready(None) if input.is_none() => {
                self.finished = true;
                return Poll::Ready(None);
            }
            // Pending, or nothing in flight while the input is not ready (or, past the
            // deadline, not read).
            _ => {}
        }
        if let Some(deadline) = self.deadline {
            let sleep = self
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
            if expired || sleep.as_mut().poll(cx).is_ready() {
                let unfinished = self.outstanding;
                self.stop();
                input.set(None);
                let message = format!("map timed out with {unfinished} read items unfinished");
                return Poll::Ready(Some(Err(TaskError::timeout(message))));
            }
        }
        Poll::Pending
    }

    /// The stream's size hint, from the input's and the items in flight.
    pub fn size_hint<St: Stream>(&self, input: Option<&St>) -> (usize, Option<usize>) {
        if self.finished {
            return (0, Some(0));
        }
        let (low, high) = input.map_or((0, Some(0)), Stream::size_hint);
        if self.deadline.is_some() {
            // A timeout error may take the place of everything left.
            let high = high.and_then(|h| h.checked_add(self.outstanding + 1));
            (self.outstanding.min(1), high)
        } else {
            let high = high.and_then(|h| h.checked_add(self.outstanding));
            (low.saturating_add(self.outstanding), high)
        }
    }
}

impl<Src, Q> Drop for Engine<Src, Q> {
    fn drop(&mut self) {
        // Runs before the queue drops (and cancels the tasks in it): chunks already running
        // skip their remaining items too.
        self.stop.stop();
    }
}

impl<Src, Q> fmt::Debug for Engine<Src, Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("buffer", &self.buffer)
            .field("chunking", &self.chunking)
            .field("outstanding", &self.outstanding)
            .field("deadline", &self.deadline)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}
