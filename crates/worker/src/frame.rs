//! Length-delimited frames over a byte stream (a Unix socket): a 4-byte big-endian length,
//! then that many bytes. Blocking functions for the worker, async ones for the pool.

use std::io::{self, Read, Write};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

mod reader;

pub use reader::FrameReader;

/// The largest frame either side accepts (1 GiB): a larger length prefix means a corrupt
/// stream, not a big argument.
///
/// # Examples
///
/// ```
/// assert_eq!(futurepool_worker::frame::MAX_FRAME_LEN, 1 << 30);
/// ```
pub const MAX_FRAME_LEN: usize = 1 << 30;

/// The 4-byte length prefix of a frame holding `payload`.
fn prefix(payload: &[u8]) -> io::Result<[u8; 4]> {
    if payload.len() > MAX_FRAME_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "a frame of {} bytes is larger than the limit of {MAX_FRAME_LEN} bytes",
                payload.len()
            ),
        ));
    }
    // At most MAX_FRAME_LEN (1 GiB), so it fits.
    Ok(u32::try_from(payload.len())
        .unwrap_or(u32::MAX)
        .to_be_bytes())
}

/// Encodes `value` with [`codec::encode`](crate::codec::encode) straight into a whole frame
/// (the length prefix, then the payload), ready for one write with no further copy.
///
/// # Errors
///
/// When the value fails to encode, or its encoding is over [`MAX_FRAME_LEN`].
///
/// # Examples
///
/// ```
/// use futurepool_worker::{codec, frame};
///
/// let framed = frame::encode_framed(&7u8).unwrap();
/// assert_eq!(framed, [0, 0, 0, 1, 7]);
/// let mut wire: &[u8] = &framed;
/// assert_eq!(codec::decode::<u8>(&frame::read_frame(&mut wire).unwrap().unwrap()).unwrap(), 7);
/// ```
pub fn encode_framed<T: serde::Serialize + ?Sized>(
    value: &T,
) -> Result<Vec<u8>, crate::codec::CodecError> {
    let mut buf = vec![0u8; 4];
    crate::codec::encode_into(&mut buf, value)?;
    let len = buf.len() - 4;
    if len > MAX_FRAME_LEN {
        return Err(crate::codec::CodecError::new(format!(
            "a message of {len} bytes is larger than the limit of {MAX_FRAME_LEN} bytes"
        )));
    }
    let prefix = u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes();
    buf[..4].copy_from_slice(&prefix);
    Ok(buf)
}

fn checked_len(prefix: [u8; 4]) -> io::Result<usize> {
    let len = u32::from_be_bytes(prefix) as usize;
    if len > MAX_FRAME_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame length {len} is larger than the limit of {MAX_FRAME_LEN} bytes"),
        ));
    }
    Ok(len)
}

/// Writes one frame holding `payload` (its prefix, then the payload, without copying it).
///
/// # Errors
///
/// The writer's error, or `InvalidInput` for a payload over [`MAX_FRAME_LEN`].
///
/// # Examples
///
/// ```
/// use futurepool_worker::frame;
///
/// let mut wire = Vec::new();
/// frame::write_frame(&mut wire, b"hi").unwrap();
/// assert_eq!(wire, [0, 0, 0, 2, b'h', b'i']);
/// ```
pub fn write_frame<W: Write + ?Sized>(writer: &mut W, payload: &[u8]) -> io::Result<()> {
    let prefix = prefix(payload)?;
    writer.write_all(&prefix)?;
    writer.write_all(payload)?;
    writer.flush()
}

/// Reads one frame; `Ok(None)` when the stream ends cleanly before a frame starts.
///
/// # Errors
///
/// The reader's error, `UnexpectedEof` when the stream ends inside a frame, or `InvalidData`
/// for a length over [`MAX_FRAME_LEN`].
///
/// # Examples
///
/// ```
/// use futurepool_worker::frame;
///
/// let mut wire: &[u8] = &[0, 0, 0, 2, b'h', b'i'];
/// assert_eq!(frame::read_frame(&mut wire).unwrap().as_deref(), Some(&b"hi"[..]));
/// assert_eq!(frame::read_frame(&mut wire).unwrap(), None);
/// ```
pub fn read_frame<R: Read + ?Sized>(reader: &mut R) -> io::Result<Option<Vec<u8>>> {
    let mut prefix = [0u8; 4];
    let mut filled = 0;
    while filled < 4 {
        match reader.read(&mut prefix[filled..]) {
            Ok(0) if filled == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let mut payload = vec![0u8; checked_len(prefix)?];
    reader.read_exact(&mut payload)?;
    Ok(Some(payload))
}

/// Writes one frame holding `payload` to an async writer.
///
/// # Errors
///
/// As [`write_frame`].
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use futurepool_worker::frame;
///
/// let mut wire = Vec::new();
/// frame::write_frame_async(&mut wire, b"hi").await.unwrap();
/// assert_eq!(wire, [0, 0, 0, 2, b'h', b'i']);
/// # }
/// ```
pub async fn write_frame_async<W: AsyncWrite + Unpin + ?Sized>(
    writer: &mut W,
    payload: &[u8],
) -> io::Result<()> {
    let prefix = prefix(payload)?;
    writer.write_all(&prefix).await?;
    writer.write_all(payload).await?;
    writer.flush().await
}

/// Reads one frame from an async reader; `Ok(None)` when the stream ends cleanly before a
/// frame starts.
///
/// Cancel-safe only between frames: dropping the future mid-frame loses the stream's framing,
/// so a pool drops the whole connection in that case.
///
/// # Errors
///
/// As [`read_frame`].
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use futurepool_worker::frame;
///
/// let mut wire: &[u8] = &[0, 0, 0, 1, 7];
/// assert_eq!(frame::read_frame_async(&mut wire).await.unwrap(), Some(vec![7]));
/// assert_eq!(frame::read_frame_async(&mut wire).await.unwrap(), None);
/// # }
/// ```
pub async fn read_frame_async<R: AsyncRead + Unpin + ?Sized>(
    reader: &mut R,
) -> io::Result<Option<Vec<u8>>> {
    let mut prefix = [0u8; 4];
    let mut filled = 0;
    while filled < 4 {
        match reader.read(&mut prefix[filled..]).await? {
            0 if filled == 0 => return Ok(None),
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => filled += n,
        }
    }
    let mut payload = vec![0u8; checked_len(prefix)?];
    reader.read_exact(&mut payload).await?;
    Ok(Some(payload))
}
