//! What a task runs, kept inside its cell under its lock: a closure stored in place (no box of
//! its own), a boxed future with the waker of the worker polling it, or nothing (a promise's
//! task, with the waker of the promise's owner watching for a cancel).
//!
//! # The runner's waker lives with the work
//!
//! Only a future's worker and a promise's owner wait for a cancel while the task runs (a
//! cooperative closure is told through its token), so only their work types keep a waker for
//! `cancel` to wake: a closure's cell carries no waker it never uses (see `state.rs`, "One
//! lock").
//!
//! # Why a closure lives in the cell
//!
//! A task's cell is allocated on the submitting thread and, in the common case, freed there by
//! the awaiter. A closure in a box of its own was a second allocation and a second free per
//! task on that thread, the critical path of a submit-then-collect burst. The cell is generic
//! over its work (`TaskCell<T, W>`), and every handle sees it as `TaskCell<T, dyn Work>`, so
//! the closure is stored inline and the task type stays `Task<T>`.
//!
//! # The future box is freed with the task (allocator workaround)
//!
//! A future is polled in place, so it stays boxed (pinning it inside the shared cell would take
//! `unsafe`). After it completes, its box stays in the cell, empty, and is freed with the cell,
//! usually by the thread that awaited the task. A worker freeing, one by one, boxes that the
//! submitting thread allocated made glibc's allocator take its arena lock on every free:
//! measured on `AsyncPool` (200k tiny tasks), freeing on the worker ran at 0.5× of
//! `tokio::spawn`, keeping the box in the cell at 1.1–1.8× (`cargo bench --bench overhead`).

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::error::TaskError;

/// The part of a task's work every handle can reach (through `TaskCell<T, dyn Work>`): taking
/// it out, to drop it outside the cell's lock when the task is cancelled while queued, and
/// the runner's waker, for `cancel` to wake.
pub(crate) trait Work: Send + 'static {
    /// Takes out what is left to run, if anything, to be dropped by the caller.
    fn take_boxed(&mut self) -> Option<Box<dyn Send>>;

    /// Where whoever runs the task keeps its waker, to be woken by `cancel`; `None` for work
    /// nobody waits on while it runs (a closure).
    fn runner(&mut self) -> Option<&mut Option<Waker>>;
}

/// A closure that has not run yet (`None` once a worker took it, or `cancel` dropped it).
pub(crate) struct ClosureWork<F>(pub(super) Option<F>);

/// A future, boxed; `None` while a worker polls it, or once `cancel` dropped it. A completed
/// future leaves its empty box here (see the module docs).
pub(crate) struct FutureWork<T> {
    pub(super) fut: Option<Pin<Box<dyn FutureBody<T>>>>,
    /// The waker of the worker polling the future, woken by `cancel`.
    pub(super) runner: Option<Waker>,
}

/// A promise's task (or a task made finished): nothing runs in a pool. Keeps the waker of the
/// promise's owner watching for a cancel.
#[derive(Default)]
pub(crate) struct PromiseWork(pub(super) Option<Waker>);

impl<F: Send + 'static> Work for ClosureWork<F> {
    fn take_boxed(&mut self) -> Option<Box<dyn Send>> {
        // A rare path (a cancel of a queued task): the box lets the caller drop the captures
        // outside the lock whatever their type.
        self.0.take().map(|f| Box::new(f) as Box<dyn Send>)
    }

    fn runner(&mut self) -> Option<&mut Option<Waker>> {
        None
    }
}

impl<T: 'static> Work for FutureWork<T> {
    fn take_boxed(&mut self) -> Option<Box<dyn Send>> {
        self.fut.take().map(|f| Box::new(f) as Box<dyn Send>)
    }

    fn runner(&mut self) -> Option<&mut Option<Waker>> {
        Some(&mut self.runner)
    }
}

impl Work for PromiseWork {
    fn take_boxed(&mut self) -> Option<Box<dyn Send>> {
        None
    }

    fn runner(&mut self) -> Option<&mut Option<Waker>> {
        Some(&mut self.0)
    }
}

/// A future polled to completion in place, then cleared, leaving its box behind.
pub(crate) trait FutureBody<T>: Send {
    fn poll_body(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>>;
    /// Drops the future, keeping the box.
    fn clear(self: Pin<&mut Self>);
}

pin_project_lite::pin_project! {
    struct FutureIn<F: Future, T> {
        #[pin]
        fut: Option<F>,
        outcome: fn(F::Output) -> Result<T, TaskError>,
    }
}

impl<F, T> FutureBody<T> for FutureIn<F, T>
where
    F: Future + Send,
{
    fn poll_body(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>> {
        let this = self.project();
        match this.fut.as_pin_mut() {
            Some(fut) => fut.poll(cx).map(*this.outcome),
            None => Poll::Ready(Err(TaskError::cancelled())),
        }
    }

    fn clear(self: Pin<&mut Self>) {
        self.project().fut.set(None);
    }
}

/// The work of a task as a pool's handle hands it over: `Body::closure(f)`,
/// `Body::future(fut)`, `Body::fallible_future(fut)`. `W` is what the cell stores.
pub(crate) struct Body<T, W> {
    pub(super) work: W,
    _output: PhantomData<fn() -> T>,
}

impl<T, F> Body<T, ClosureWork<F>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    pub(crate) fn closure(f: F) -> Self {
        Self {
            work: ClosureWork(Some(f)),
            _output: PhantomData,
        }
    }
}

impl<T: Send + 'static> Body<T, FutureWork<T>> {
    pub(crate) fn future<F>(fut: F) -> Self
    where
        F: Future<Output = T> + Send + 'static,
    {
        Self::boxed(Box::pin(FutureIn {
            fut: Some(fut),
            outcome: Ok,
        }))
    }

    pub(crate) fn fallible_future<F>(fut: F) -> Self
    where
        F: Future<Output = Result<T, TaskError>> + Send + 'static,
    {
        Self::boxed(Box::pin(FutureIn {
            fut: Some(fut),
            outcome: std::convert::identity,
        }))
    }

    fn boxed(fut: Pin<Box<dyn FutureBody<T>>>) -> Self {
        Self {
            work: FutureWork {
                fut: Some(fut),
                runner: None,
            },
            _output: PhantomData,
        }
    }
}
