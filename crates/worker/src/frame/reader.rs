//! [`FrameReader`]: the pool's side of reading a worker's length-delimited frames, buffered and
//! cancel-safe.

use std::future::{Future, poll_fn};
use std::io;
use std::pin::pin;
use std::task::{Context, Poll, Waker, ready};

use tokio::io::{AsyncRead, AsyncReadExt};

/// A frame at least this large is read straight into its own buffer instead of through the
/// reader's, so its bytes are copied once at most.
const LARGE_FRAME: usize = 64 * 1024;

/// Reads length-delimited frames (the format of [`write_frame`](super::write_frame)) from an
/// async byte stream, refusing any longer than a limit.
///
/// Cancel-safe, unlike [`read_frame_async`](super::read_frame_async): the bytes read so far
/// stay in the reader (a large frame in a buffer of its own), so [`next`](Self::next) can
/// wait in a `select!` beside other events, and [`try_next`](Self::try_next) takes a frame
/// that has already arrived without waiting.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use futurepool_worker::frame::FrameReader;
///
/// let wire: &[u8] = &[0, 0, 0, 2, b'h', b'i', 0, 0, 0, 1, b'!'];
/// let mut reader = FrameReader::new(wire, 1024);
/// assert_eq!(reader.next().await.unwrap().as_deref(), Some(&b"hi"[..]));
/// assert_eq!(reader.try_next().unwrap().as_deref(), Some(&b"!"[..]));
/// assert_eq!(reader.next().await.unwrap(), None);
/// # }
/// ```
#[derive(Debug)]
pub struct FrameReader<R> {
    stream: R,
    buf: Vec<u8>,
    start: usize,
    /// A large frame being read straight into its buffer (of the frame's length), and how
    /// many of its bytes have arrived.
    partial: Option<(Vec<u8>, usize)>,
    /// The largest frame accepted; a larger length means a broken or hostile peer.
    max_len: usize,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// A reader of `stream` accepting frames of at most `max_len` bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let reader = futurepool_worker::frame::FrameReader::new(&b""[..], 1 << 20);
    /// # drop(reader);
    /// ```
    pub fn new(stream: R, max_len: usize) -> Self {
        Self {
            stream,
            buf: Vec::with_capacity(8192),
            start: 0,
            partial: None,
            max_len,
        }
    }

    /// The next frame; `Ok(None)` when the stream ends between frames. Cancel-safe.
    ///
    /// # Errors
    ///
    /// The stream's error, `UnexpectedEof` when it ends inside a frame, or `InvalidData` for
    /// a length over the reader's limit.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let wire: &[u8] = &[0, 0, 0, 9, 1];
    /// let mut reader = futurepool_worker::frame::FrameReader::new(wire, 4);
    /// assert_eq!(reader.next().await.unwrap_err().kind(), std::io::ErrorKind::InvalidData);
    /// # }
    /// ```
    pub async fn next(&mut self) -> io::Result<Option<Vec<u8>>> {
        poll_fn(|cx| self.poll_next(cx)).await
    }

    /// The next frame if it has already arrived, without waiting: `Ok(None)` when no whole
    /// frame is there (yet, or ever: the stream ended).
    ///
    /// # Errors
    ///
    /// As [`next`](Self::next).
    ///
    /// # Examples
    ///
    /// ```
    /// let wire: &[u8] = &[0, 0, 0, 1, 7, 0, 0];
    /// let mut reader = futurepool_worker::frame::FrameReader::new(wire, 16);
    /// assert_eq!(reader.try_next().unwrap(), Some(vec![7]));
    /// assert!(reader.try_next().is_err(), "the stream ended inside a frame");
    /// ```
    pub fn try_next(&mut self) -> io::Result<Option<Vec<u8>>> {
        match self.poll_next(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(frame) => frame,
            Poll::Pending => Ok(None),
        }
    }

    /// Reads until a whole frame is buffered, the stream ends, or it would wait.
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<Vec<u8>>>> {
        loop {
            if let Some((frame, filled)) = &mut self.partial {
                let n = ready!(poll_once(self.stream.read(&mut frame[*filled..]), cx))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
                }
                *filled += n;
                if *filled == frame.len() {
                    return Poll::Ready(Ok(self.partial.take().map(|(frame, _)| frame)));
                }
                continue;
            }
            if let Some(frame) = self.parse()? {
                return Poll::Ready(Ok(Some(frame)));
            }
            if self.partial.is_some() {
                continue;
            }
            self.compact();
            if ready!(poll_once(self.stream.read_buf(&mut self.buf), cx))? == 0 {
                return Poll::Ready(self.ended());
            }
        }
    }

    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.reserve(8192);
    }

    fn ended(&self) -> io::Result<Option<Vec<u8>>> {
        if self.buf.is_empty() {
            Ok(None)
        } else {
            Err(io::ErrorKind::UnexpectedEof.into())
        }
    }

    fn parse(&mut self) -> io::Result<Option<Vec<u8>>> {
        let available = &self.buf[self.start..];
        let Some(prefix) = available.first_chunk::<4>() else {
            return Ok(None);
        };
        let len = u32::from_be_bytes(*prefix) as usize;
        if len > self.max_len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "frame length {len} is larger than the limit of {} bytes",
                    self.max_len
                ),
            ));
        }
        let Some(frame) = available.get(4..4 + len) else {
            if len >= LARGE_FRAME {
                // Read the rest straight into the frame's own buffer.
                let mut frame = vec![0u8; len];
                let filled = available.len() - 4;
                frame[..filled].copy_from_slice(&available[4..]);
                self.buf.clear();
                self.start = 0;
                self.partial = Some((frame, filled));
            }
            return Ok(None);
        };
        let frame = frame.to_vec();
        self.start += 4 + len;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        Ok(Some(frame))
    }
}

/// Polls a cancel-safe read once: pending, it has read nothing.
fn poll_once<F: Future>(read: F, cx: &mut Context<'_>) -> Poll<F::Output> {
    pin!(read).poll(cx)
}
