//! One worker process: starting it (its own listening socket, the peer check, the handshake),
//! and telling how it ended.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use futurepool_worker::{
    Hello, MAX_MEMORY_ARG, MAX_MESSAGE_ARG, PROTOCOL_VERSION, Signature, WORKER_ARG, codec,
    worker_socket,
};
use rustix::io::Errno;
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::{UnixListener, UnixStream};
use tokio::process::Command;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use crate::exit::describe;
use futurepool_worker::frame::FrameReader;
use tokio::net::unix::OwnedReadHalf;

/// How long a started worker has to connect and say hello.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a worker whose channel closed has to exit before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(1);

/// What a worker process is started from, and the limits it runs under.
#[derive(Clone, Debug)]
pub(crate) struct Program {
    /// The program, or `None` for the current executable.
    pub(crate) path: Option<PathBuf>,
    pub(crate) args: Vec<String>,
    /// Start from an empty environment (then add `envs`).
    pub(crate) env_clear: bool,
    pub(crate) envs: Vec<(OsString, OsString)>,
    /// The child's address-space limit, in bytes.
    pub(crate) max_memory: Option<u64>,
    /// The largest message either way, in bytes.
    pub(crate) max_message: usize,
}

/// Why a worker did not start.
pub(crate) enum StartError {
    /// The program ran but did not become a worker (it exited, or never connected): counted;
    /// the pool is broken after several in a row.
    Failed(String),
    /// The system could not start it now (out of processes, memory or descriptors, the
    /// executable busy): another start will be tried later, however many fail.
    Transient(String),
    /// No start can work: the pool is broken at once.
    Broken(String),
}

use StartError::{Broken, Failed, Transient};

/// A running worker process with its channel.
pub(crate) struct Child {
    pub(crate) process: tokio::process::Child,
    pub(crate) reader: FrameReader<OwnedReadHalf>,
    pub(crate) writer: OwnedWriteHalf,
    pid: u32,
    served: Arc<[Signature]>,
    /// The place this process takes among the pool's `max_workers` processes; given back
    /// once the process is reaped (when the child is dropped after `kill` or `how_it_ended`).
    _place: OwnedSemaphorePermit,
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
            .map_err(|e| classify(&e, format!("cannot listen on {}: {e}", socket.display())))?;
        let mut process = spawn(program, &path, socket)?;
        let pid = process.id().unwrap_or(0);
        let deadline = Instant::now() + START_TIMEOUT;
        let connected = tokio::select! {
            // A child that connected, then exited (one refusing to serve, saying why) is
            // heard first.
            biased;
            stream = accept_from(&listener, pid) => stream,
            status = process.wait() => {
                let _ = std::fs::remove_file(socket);
                return Err(Failed(match status {
                    Ok(status) => format!("worker process {pid} ended before connecting: {}{}", describe(status), MAIN_HINT),
                    Err(e) => format!("worker process {pid}: {e}"),
                }));
            }
            () = tokio::time::sleep_until(deadline) => Err(io::Error::new(io::ErrorKind::TimedOut, "timed out")),
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
        let mut reader = FrameReader::new(read, program.max_message.max(HELLO_ROOM));
        let hello = tokio::select! {
            frame = reader.next() => frame,
            () = tokio::time::sleep_until(deadline) => Err(io::Error::new(io::ErrorKind::TimedOut, "timed out")),
        };
        let hello: Hello = match hello {
            Ok(Some(frame)) => codec::decode(&frame).map_err(|e| {
                let _ = process.start_kill();
                Failed(format!(
                    "worker process {pid} did not say hello ({e}); is it a futurepool worker of the same version?"
                ))
            })?,
            Ok(None) | Err(_) => {
                let how = match tokio::time::timeout(EXIT_GRACE, process.wait()).await {
                    Ok(Ok(status)) => describe(status),
                    _ => {
                        let _ = process.start_kill();
                        "it was killed".to_owned()
                    }
                };
                return Err(Failed(format!(
                    "worker process {pid} closed its channel before saying hello: {how}"
                )));
            }
        };
        if let Some(why) = hello.refused {
            let _ = process.start_kill();
            return Err(Broken(why));
        }
        if hello.protocol != PROTOCOL_VERSION {
            let _ = process.start_kill();
            return Err(Broken(format!(
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

/// Room for a hello however small `max_message_size` is.
const HELLO_ROOM: usize = 1 << 20;

/// Starts the process: in its own process group (a Ctrl-C at the terminal reaches the parent
/// only), with the pool's environment and limits, its stdout sent to the parent's stderr.
fn spawn(
    program: &Program,
    path: &Path,
    socket: &Path,
) -> Result<tokio::process::Child, StartError> {
    let mut command = Command::new(path);
    if program.env_clear {
        command.env_clear();
    }
    command
        .envs(program.envs.iter().map(|(k, v)| (k, v)))
        .args(&program.args)
        .arg(worker_arg(socket))
        .arg(format!("{MAX_MESSAGE_ARG}={}", program.max_message));
    if let Some(bytes) = program.max_memory {
        command.arg(format!("{MAX_MEMORY_ARG}={bytes}"));
    }
    command
        .stdin(Stdio::null())
        // What a task prints goes to the parent's stderr, never into the channel.
        .stdout(io::stderr())
        .process_group(0)
        .kill_on_drop(true);
    command.spawn().map_err(|e| {
        let _ = std::fs::remove_file(socket);
        classify(&e, format!("cannot start {}: {e}", path.display()))
    })
}

/// What a failed spawn (or bind) means: a program that is missing, not executable or not a
/// program at all can never start (broken at once); a lack of processes, memory or
/// descriptors, or a program being replaced (`ETXTBSY`), passes (tried again however often it
/// fails); anything else counts as a failed start (broken after several in a row).
fn classify(e: &io::Error, why: String) -> StartError {
    const FOR_NOW: [Errno; 8] = [
        Errno::AGAIN,
        Errno::NOMEM,
        Errno::MFILE,
        Errno::NFILE,
        Errno::TXTBSY,
        Errno::INTR,
        Errno::NOBUFS,
        Errno::NOSPC,
    ];
    const NEVER: [Errno; 6] = [
        Errno::NOEXEC,
        Errno::ISDIR,
        Errno::NOTDIR,
        Errno::LOOP,
        Errno::NAMETOOLONG,
        Errno::TOOBIG,
    ];
    let errno = Errno::from_io_error(e);
    if errno.is_some_and(|errno| FOR_NOW.contains(&errno)) {
        Transient(why)
    } else if matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied
    ) || errno.is_some_and(|errno| NEVER.contains(&errno))
    {
        Broken(why)
    } else {
        Failed(why)
    }
}

/// The first connection to `listener` from process `pid`. A connection from any other
/// process (another local user racing the child, or anything else that found the socket) is
/// refused: closed at once, without reading or sending a byte.
async fn accept_from(listener: &UnixListener, pid: u32) -> io::Result<UnixStream> {
    loop {
        let (stream, _) = listener.accept().await?;
        let peer = stream.peer_cred().ok().and_then(|cred| cred.pid());
        if peer.and_then(|p| u32::try_from(p).ok()) == Some(pid) {
            return Ok(stream);
        }
        tracing::warn!(
            pid,
            peer = ?peer,
            "refused a connection to a worker socket from another process"
        );
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
