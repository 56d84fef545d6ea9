//! Input: a map stream reads its items from an `Iterator` or from a `Stream`.
//!
//! Both become a [`Stream`] inside the engine (an iterator through
//! [`futures_util::stream::iter`], which is always ready), so one read-ahead bound covers both.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use futures_util::stream::{self, Iter};

/// What a map stream can read its items from: any [`IntoIterator`] (a range, a `Vec`, an
/// endless iterator) or any [`Stream`] (lines read from stdin, a channel's receiver).
///
/// `Kind` is [`IterInput`] or [`StreamInput`]; the compiler infers it, so callers never name
/// it. A type that is both an iterator and a stream (rare) is ambiguous: pass
/// `futures_util::stream::iter(it)` or the stream instead.
///
/// # Examples
///
/// ```
/// use futurepool_core::BlockingPool;
/// use futurepool_stream::ExecutorMapExt;
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = BlockingPool::new();
/// // From an iterator ...
/// let a: Vec<usize> = pool.map(|w: &str| w.len(), ["a", "bb"]).map(Result::unwrap).collect().await;
/// // ... or from a stream, e.g. lines arriving over time (it need not be `Unpin`).
/// let lines = futures_util::stream::iter(["a", "bb"]).then(|w| async move { w });
/// let b: Vec<usize> = pool.map(|w: &str| w.len(), lines).map(Result::unwrap).collect().await;
/// assert_eq!(a, b);
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is neither an iterator nor a stream",
    label = "a map stream reads its items from an `IntoIterator` or a `Stream`"
)]
pub trait MapInput<Kind> {
    /// The items read.
    type Item;
    /// The input as a stream.
    type Stream: Stream<Item = Self::Item>;
    /// Turns the input into a stream.
    fn into_stream(self) -> Self::Stream;
}

/// The [`MapInput`] kind of an [`IntoIterator`].
///
/// # Examples
///
/// ```
/// use futurepool_stream::{IterInput, MapInput};
///
/// fn input<K, In: MapInput<K>>(_: In) -> &'static str { std::any::type_name::<K>() }
/// assert!(input(0..3).ends_with("IterInput"));
/// ```
#[derive(Debug)]
pub enum IterInput {}

/// The [`MapInput`] kind of a [`Stream`].
///
/// # Examples
///
/// ```
/// use futurepool_stream::{MapInput, StreamInput};
///
/// fn input<K, In: MapInput<K>>(_: In) -> &'static str { std::any::type_name::<K>() }
/// assert!(input(futures_util::stream::iter(0..3)).ends_with("StreamInput"));
/// ```
#[derive(Debug)]
pub enum StreamInput {}

impl<I: IntoIterator> MapInput<IterInput> for I {
    type Item = I::Item;
    type Stream = Iter<I::IntoIter>;

    fn into_stream(self) -> Self::Stream {
        stream::iter(self)
    }
}

impl<S: Stream> MapInput<StreamInput> for S {
    type Item = S::Item;
    type Stream = S;

    fn into_stream(self) -> S {
        self
    }
}

/// Reads the next item if one is ready. Drops the input once it has ended, so that it is never
/// polled again.
pub fn poll_next_item<St: Stream>(
    mut input: Pin<&mut Option<St>>,
    cx: &mut Context<'_>,
) -> Option<St::Item> {
    let stream = input.as_mut().as_pin_mut()?;
    match stream.poll_next(cx) {
        Poll::Ready(Some(item)) => Some(item),
        Poll::Ready(None) => {
            input.set(None);
            None
        }
        Poll::Pending => None,
    }
}

/// Reads up to `want` items, as many as are ready now.
pub fn poll_next_chunk<St: Stream>(
    mut input: Pin<&mut Option<St>>,
    cx: &mut Context<'_>,
    want: usize,
) -> Vec<St::Item> {
    let mut items = Vec::with_capacity(want);
    while items.len() < want {
        match poll_next_item(input.as_mut(), cx) {
            Some(item) => items.push(item),
            None => break,
        }
    }
    items
}
