//! One worker process: starting it (its own listening socket, the handshake), sending it a
//! call, telling how it ended.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use futurepool_worker::frame::{read_frame_async, write_frame_async};
use futurepool_worker::{Hello, PROTOCOL_VERSION, Reply, Signature, WORKER_ARG, codec};
use tokio::io::BufReader;
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
    pub(crate) path: PathBuf,
    pub(crate) args: Vec<String>,
}

/// A running worker process with its channel.
pub(crate) struct Child {
    process: tokio::process::Child,
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    pid: u32,
    served: Arc<[Signature]>,
    /// Calls this worker answered.
    pub(crate) calls: u64,
    /// The place this process takes among the pool's `max_workers` processes; given back
    /// once the process is reaped.
    _place: OwnedSemaphorePermit,
}

/// Why a call got no reply.
pub(crate) enum NoReply {
    /// The worker process ended (or broke its channel); the text says how.
    Died(String),
    /// The task timeout passed.
    TimedOut,
}

impl Child {
    /// Starts a worker of `program`, listening on `socket` (a fresh path in the pool's private
    /// directory) for its connection, and waits for its hello.
    pub(crate) async fn start(
        program: &Program,
        socket: &Path,
        place: OwnedSemaphorePermit,
    ) -> Result<Child, String> {
        let listener = UnixListener::bind(socket)
            .map_err(|e| format!("cannot listen on {}: {e}", socket.display()))?;
        let mut command = Command::new(&program.path);
        command
            .args(&program.args)
            .arg(worker_arg(socket))
            .stdin(Stdio::null())
            // What a task prints goes to the parent's stderr, never into the channel.
            .stdout(io::stderr())
            .kill_on_drop(true);
        let spawned = command.spawn();
        let mut process =
            spawned.map_err(|e| format!("cannot start {}: {e}", program.path.display()))?;
        let pid = process.id().unwrap_or(0);
        let connected = tokio::select! {
            accepted = listener.accept() => accepted.map(|(stream, _)| stream),
            status = process.wait() => {
                let _ = std::fs::remove_file(socket);
                return Err(match status {
                    Ok(status) => format!("worker process {pid} ended before connecting: {}{}", describe(status), MAIN_HINT),
                    Err(e) => format!("worker process {pid}: {e}"),
                });
            }
            () = tokio::time::sleep(START_TIMEOUT) => Err(io::Error::new(io::ErrorKind::TimedOut, "timed out")),
        };
        drop(listener);
        let _ = std::fs::remove_file(socket);
        let stream = match connected {
            Ok(stream) => stream,
            Err(e) => {
                let _ = process.start_kill();
                return Err(format!(
                    "worker process {pid} did not connect within {START_TIMEOUT:?} ({e}){MAIN_HINT}"
                ));
            }
        };
        let (read, writer) = stream.into_split();
        let mut reader = BufReader::new(read);
        let hello = tokio::select! {
            frame = read_frame_async(&mut reader) => frame,
            () = tokio::time::sleep(START_TIMEOUT) => Err(io::Error::new(io::ErrorKind::TimedOut, "timed out")),
        };
        let hello: Hello = match hello {
            Ok(Some(frame)) => codec::decode(&frame).map_err(|e| {
                format!("worker process {pid} sent a hello that does not decode: {e}")
            })?,
            Ok(None) | Err(_) => {
                let how = match tokio::time::timeout(EXIT_GRACE, process.wait()).await {
                    Ok(Ok(status)) => describe(status),
                    _ => "it was killed".to_owned(),
                };
                return Err(format!(
                    "worker process {pid} closed its channel before saying hello: {how}"
                ));
            }
        };
        if hello.protocol != PROTOCOL_VERSION {
            return Err(format!(
                "worker process {pid} speaks protocol {}, this pool speaks {PROTOCOL_VERSION}",
                hello.protocol
            ));
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
            calls: 0,
            _place: place,
        })
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// What the worker said it serves.
    pub(crate) fn served(&self) -> &[Signature] {
        &self.served
    }

    /// Sends one encoded call and waits for its reply, for at most `timeout`.
    ///
    /// Dropping the future mid-way leaves the channel out of step: the caller then drops the
    /// whole child (which kills it).
    pub(crate) async fn call(
        &mut self,
        call: &[u8],
        timeout: Option<Duration>,
    ) -> Result<Reply, NoReply> {
        let exchange = async {
            write_frame_async(&mut self.writer, call).await?;
            read_frame_async(&mut self.reader).await
        };
        let frame = match timeout {
            Some(limit) => match tokio::time::timeout(limit, exchange).await {
                Ok(frame) => frame,
                Err(_) => return Err(NoReply::TimedOut),
            },
            None => exchange.await,
        };
        match frame {
            Ok(Some(frame)) => match codec::decode::<Reply>(&frame) {
                Ok(reply) => {
                    self.calls += 1;
                    Ok(reply)
                }
                Err(e) => {
                    let _ = self.process.start_kill();
                    Err(NoReply::Died(format!(
                        "it sent a reply that does not decode ({e}) and was killed"
                    )))
                }
            },
            Ok(None) | Err(_) => Err(NoReply::Died(self.how_it_ended().await)),
        }
    }

    /// After its channel closed: waits for the process to end and says how; kills it if it
    /// does not end within a grace period.
    async fn how_it_ended(&mut self) -> String {
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
