//! One worker process: starting it (its own listening socket, the handshake), sending it a
//! call, telling how it ended.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use futurepool_worker::frame::MAX_FRAME_LEN;
use futurepool_worker::{Hello, PROTOCOL_VERSION, Signature, WORKER_ARG, codec, worker_socket};
use tokio::io::AsyncReadExt;
use tokio::net::UnixListener;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::process::Command;
use tokio::sync::OwnedSemaphorePermit;

use crate::exit::describe;

/// How long a started worker has to connect and say hello.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a worker whose channel closed has to exit before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(1);

/// What a worker process is started from.
#[derive(Clone, Debug)]
pub(crate) struct Program {
    /// The program, or `None` for the current executable.
    pub(crate) path: Option<PathBuf>,
    pub(crate) args: Vec<String>,
}

/// Why a worker did not start.
pub(crate) enum StartError {
    /// This start failed; another may work.
    Failed(String),
    /// No start can work: the pool is broken at once.
    Broken(String),
}

use StartError::{Broken, Failed};

/// A running worker process with its channel.
pub(crate) struct Child {
    process: tokio::process::Child,
    pub(crate) reader: FrameReader,
    pub(crate) writer: OwnedWriteHalf,
    pid: u32,
    served: Arc<[Signature]>,
    /// The place this process takes among the pool's `max_workers` processes; given back
    /// once the process is reaped (when the child is dropped after `kill` or `how_it_ended`).
    _place: OwnedSemaphorePermit,
}

/// Reads length-delimited frames from the channel. Cancel-safe: the bytes read so far stay in
/// its buffer, so it can wait in a `select!` beside other events.
pub(crate) struct FrameReader {
    stream: OwnedReadHalf,
    buf: Vec<u8>,
    start: usize,
}

impl FrameReader {
    fn new(stream: OwnedReadHalf) -> Self {
        Self {
            stream,
            buf: Vec::with_capacity(8192),
            start: 0,
        }
    }

    /// The next frame; `Ok(None)` when the stream ends between frames.
    pub(crate) async fn next(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(frame) = self.parse()? {
                return Ok(Some(frame));
            }
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            self.buf.reserve(8192);
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(io::ErrorKind::UnexpectedEof.into())
                };
            }
        }
    }

    fn parse(&mut self) -> io::Result<Option<Vec<u8>>> {
        let available = &self.buf[self.start..];
        let Some(prefix) = available.first_chunk::<4>() else {
            return Ok(None);
        };
        let len = u32::from_be_bytes(*prefix) as usize;
        if len > MAX_FRAME_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("frame length {len} is larger than the limit of {MAX_FRAME_LEN} bytes"),
            ));
        }
        let Some(frame) = available.get(4..4 + len) else {
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

impl Child {
    /// Starts a worker of `program`, listening on `socket` (a fresh path in the pool's private
    /// directory) for its connection, and waits for its hello.
    pub(crate) async fn start(
        program: &Program,
        socket: &Path,
        place: OwnedSemaphorePermit,
    ) -> Result<Child, StartError> {
        if worker_socket().is_some() {
            return Err(Broken(
                "this process was started as a ProcessPool worker, but its main did not call \
                 `main_if_worker` before building a pool"
                    .to_owned(),
            ));
        }
        let path = match &program.path {
            Some(path) => path.clone(),
            None => std::env::current_exe()
                .map_err(|e| Broken(format!("cannot find the current executable: {e}")))?,
        };
        let listener = UnixListener::bind(socket)
            .map_err(|e| Failed(format!("cannot listen on {}: {e}", socket.display())))?;
        let mut command = Command::new(&path);
        command
            .args(&program.args)
            .arg(worker_arg(socket))
            .stdin(Stdio::null())
            // What a task prints goes to the parent's stderr, never into the channel.
            .stdout(io::stderr())
            .kill_on_drop(true);
        let spawned = command.spawn();
        let mut process =
            spawned.map_err(|e| Failed(format!("cannot start {}: {e}", path.display())))?;
        let pid = process.id().unwrap_or(0);
        let connected = tokio::select! {
            accepted = listener.accept() => accepted.map(|(stream, _)| stream),
            status = process.wait() => {
                let _ = std::fs::remove_file(socket);
                return Err(Failed(match status {
                    Ok(status) => format!("worker process {pid} ended before connecting: {}{}", describe(status), MAIN_HINT),
                    Err(e) => format!("worker process {pid}: {e}"),
                }));
            }
            () = tokio::time::sleep(START_TIMEOUT) => Err(io::Error::new(io::ErrorKind::TimedOut, "timed out")),
        };
        drop(listener);
        let _ = std::fs::remove_file(socket);
        let stream = match connected {
            Ok(stream) => stream,
            Err(e) => {
                let _ = process.start_kill();
                return Err(Failed(format!(
                    "worker process {pid} did not connect within {START_TIMEOUT:?} ({e}){MAIN_HINT}"
                )));
            }
        };
        let (read, writer) = stream.into_split();
        let mut reader = FrameReader::new(read);
        let hello = tokio::select! {
            frame = reader.next() => frame,
            () = tokio::time::sleep(START_TIMEOUT) => Err(io::Error::new(io::ErrorKind::TimedOut, "timed out")),
        };
        let hello: Hello = match hello {
            Ok(Some(frame)) => codec::decode(&frame).map_err(|e| {
                Failed(format!(
                    "worker process {pid} sent a hello that does not decode: {e}"
                ))
            })?,
            Ok(None) | Err(_) => {
                let how = match tokio::time::timeout(EXIT_GRACE, process.wait()).await {
                    Ok(Ok(status)) => describe(status),
                    _ => "it was killed".to_owned(),
                };
                return Err(Failed(format!(
                    "worker process {pid} closed its channel before saying hello: {how}"
                )));
            }
        };
        if hello.protocol != PROTOCOL_VERSION {
            return Err(Failed(format!(
                "worker process {pid} speaks protocol {}, this pool speaks {PROTOCOL_VERSION}",
                hello.protocol
            )));
        }
        tracing::debug!(
            pid,
            functions = hello.functions.len(),
            "worker process started"
        );
        Ok(Child {
            process,
            reader,
            writer,
            pid,
            served: hello.functions.into(),
            _place: place,
        })
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// What the worker said it serves.
    pub(crate) fn served(&self) -> Arc<[Signature]> {
        Arc::clone(&self.served)
    }

    /// After its channel closed: waits for the process to end and says how; kills it if it
    /// does not end within a grace period.
    pub(crate) async fn how_it_ended(&mut self) -> String {
        match tokio::time::timeout(EXIT_GRACE, self.process.wait()).await {
            Ok(Ok(status)) => describe(status),
            Ok(Err(e)) => format!("its status could not be read: {e}"),
            Err(_) => {
                let _ = self.process.kill().await;
                "it closed its channel without exiting and was killed".to_owned()
            }
        }
    }

    /// Kills the process and waits until it is reaped.
    pub(crate) async fn kill(mut self) {
        let _ = self.process.kill().await;
    }
}

/// `--futurepool-worker=SOCKET`.
fn worker_arg(socket: &Path) -> std::ffi::OsString {
    let mut arg = std::ffi::OsString::from(format!("{WORKER_ARG}="));
    arg.push(socket);
    arg
}

const MAIN_HINT: &str =
    " (is `program` a futurepool worker whose main calls `main_if_worker` first?)";
