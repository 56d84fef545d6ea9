//! [`FrameReader`]: the pool's side of reading a worker's length-delimited frames.

use std::io;

use tokio::io::AsyncReadExt;
use tokio::net::unix::OwnedReadHalf;

/// A frame at least this large is read straight into its own buffer instead of through the
/// reader's, so its bytes are copied once at most.
const LARGE_FRAME: usize = 64 * 1024;

/// Reads length-delimited frames from the channel. Cancel-safe: the bytes read so far stay in
/// its buffer (a large frame in `partial`), so it can wait in a `select!` beside other events.
pub(crate) struct FrameReader {
    stream: OwnedReadHalf,
    buf: Vec<u8>,
    start: usize,
    /// A large frame being read straight into its buffer (of the frame's length), and how
    /// many of its bytes have arrived.
    partial: Option<(Vec<u8>, usize)>,
    /// The largest frame accepted; a larger length means a broken or hostile worker.
    max_len: usize,
}

impl FrameReader {
    pub(crate) fn new(stream: OwnedReadHalf, max_len: usize) -> Self {
        Self {
            stream,
            buf: Vec::with_capacity(8192),
            start: 0,
            partial: None,
            max_len,
        }
    }

    /// The next frame; `Ok(None)` when the stream ends between frames.
    pub(crate) async fn next(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some((frame, filled)) = &mut self.partial {
                let n = self.stream.read(&mut frame[*filled..]).await?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                *filled += n;
                if *filled == frame.len() {
                    return Ok(self.partial.take().map(|(frame, _)| frame));
                }
                continue;
            }
            if let Some(frame) = self.parse()? {
                return Ok(Some(frame));
            }
            if self.partial.is_some() {
                continue;
            }
            self.compact();
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return self.ended();
            }
        }
    }

    /// The next frame if it has already arrived, without waiting: `Ok(None)` when no whole
    /// frame is there (yet, or ever: the stream ended).
    pub(crate) fn try_next(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some((frame, filled)) = &mut self.partial {
                let n = match self.stream.try_read(&mut frame[*filled..]) {
                    Ok(n) => n,
                    Err(e) => return would_block_is_none(e),
                };
                if n == 0 {
                    return Ok(None);
                }
                *filled += n;
                if *filled == frame.len() {
                    return Ok(self.partial.take().map(|(frame, _)| frame));
                }
                continue;
            }
            if let Some(frame) = self.parse()? {
                return Ok(Some(frame));
            }
            if self.partial.is_some() {
                continue;
            }
            self.compact();
            match self.stream.try_read_buf(&mut self.buf) {
                Ok(0) => return Ok(None),
                Ok(_) => {}
                Err(e) => return would_block_is_none(e),
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

fn would_block_is_none(e: io::Error) -> io::Result<Option<Vec<u8>>> {
    if e.kind() == io::ErrorKind::WouldBlock {
        Ok(None)
    } else {
        Err(e)
    }
}
