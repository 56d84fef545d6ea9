//! The worker loop: a worker process connects to its pool, says what it serves, then runs one
//! call at a time until the pool closes the connection.

use std::ffi::OsStr;
use std::io::{self, BufReader};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::thread;

use rustix::event::{PollFd, PollFlags, poll};

use crate::codec;
use crate::frame::{read_frame, write_frame};
use crate::message::{Call, Hello, Reply};
use crate::registry::Registry;

/// The command-line argument that makes a process a worker: `--futurepool-worker=PATH`, where
/// `PATH` is the Unix socket its pool listens on. A pool adds it after the program's own
/// arguments.
///
/// An argument, not an environment variable, so that programs a task starts (which inherit the
/// environment) are not taken for workers, and a worker whose pool died before it connected
/// exits instead of running the program's `main`.
///
/// # Examples
///
/// ```
/// assert_eq!(futurepool_worker::WORKER_ARG, "--futurepool-worker");
/// ```
pub const WORKER_ARG: &str = "--futurepool-worker";

/// The socket path given by [`WORKER_ARG`], if this process was started as a worker.
///
/// # Examples
///
/// ```
/// assert_eq!(futurepool_worker::worker_socket(), None); // a test binary is no worker
/// ```
pub fn worker_socket() -> Option<PathBuf> {
    let prefix = format!("{WORKER_ARG}=");
    std::env::args_os().find_map(|arg| {
        arg.as_bytes()
            .strip_prefix(prefix.as_bytes())
            .map(|path| PathBuf::from(OsStr::from_bytes(path)))
    })
}

/// Serves `registry` and exits when this process was started as a pool's worker; returns at
/// once otherwise. Call it first thing in `main`, before anything reads the command line.
///
/// A worker (a process with the [`WORKER_ARG`] argument) connects to its pool's Unix socket,
/// sends its [`Hello`], then runs the calls it receives one at a time. It exits (status 0) as
/// soon as the pool's end of the connection closes — when the pool shuts down, is dropped, or
/// its process dies, even by `SIGKILL` — including while a call is running: a thread watches
/// the connection. If it cannot connect (its pool is gone), it exits with status 2.
///
/// # Examples
///
/// ```
/// use futurepool_worker::{Registry, RemoteFn, main_if_worker};
///
/// fn square(n: u64) -> u64 { n * n }
/// const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
///
/// fn main() {
///     main_if_worker(&Registry::new().with(SQUARE)); // a worker never gets past this line
///     // the program goes on only in the parent
/// }
/// ```
pub fn main_if_worker(registry: &Registry) {
    let Some(path) = worker_socket() else {
        return;
    };
    let pid = std::process::id();
    let code = match UnixStream::connect(&path) {
        Ok(stream) => match serve(registry, stream, || std::process::exit(0)) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("futurepool worker {pid}: {e}");
                2
            }
        },
        Err(e) => {
            eprintln!(
                "futurepool worker {pid}: cannot connect to its pool at {}: {e}",
                path.display()
            );
            2
        }
    };
    std::process::exit(code);
}

/// Runs the worker protocol over a connection: writes a [`Hello`] for `registry`, then answers
/// each [`Call`] read from `stream` with a [`Reply`], one at a time, until the other end closes.
///
/// A thread watches the connection while calls run (it waits for the peer's hang-up with
/// `poll(2)`, reading nothing); when the other end closes it calls `on_close` at once (a
/// worker process passes `|| std::process::exit(0)`, so a running call does not outlive its
/// pool) and the loop returns after the running call.
///
/// # Errors
///
/// When the connection fails or carries a frame that is not a [`Call`].
///
/// # Examples
///
/// ```
/// use std::os::unix::net::UnixStream;
/// use futurepool_worker::{Hello, Reply, Registry, RemoteFn, codec, frame, serve};
///
/// fn square(n: u64) -> u64 { n * n }
/// const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
///
/// let (mut pool_end, worker_end) = UnixStream::pair().unwrap();
/// let worker = std::thread::spawn(move || {
///     serve(&Registry::new().with(SQUARE), worker_end, || {})
/// });
/// let hello: Hello = codec::decode(&frame::read_frame(&mut pool_end).unwrap().unwrap()).unwrap();
/// assert_eq!(hello.functions, [SQUARE.signature()]);
///
/// let call = codec::encode(&SQUARE.call(1, &12).unwrap()).unwrap();
/// frame::write_frame(&mut pool_end, &call).unwrap();
/// let reply: Reply = codec::decode(&frame::read_frame(&mut pool_end).unwrap().unwrap()).unwrap();
/// assert_eq!((reply.id, SQUARE.result(reply.outcome)), (1, Ok(144)));
///
/// drop(pool_end); // the pool goes away: the worker loop ends
/// worker.join().unwrap().unwrap();
/// ```
pub fn serve<C>(registry: &Registry, stream: UnixStream, on_close: C) -> io::Result<()>
where
    C: FnOnce() + Send + 'static,
{
    let mut writer = stream.try_clone()?;
    let watched = stream.try_clone()?;
    let hello = codec::encode(&Hello::new(registry)).map_err(io::Error::other)?;
    write_frame(&mut writer, &hello)?;

    thread::Builder::new()
        .name("futurepool-worker-watch".to_owned())
        .spawn(move || {
            wait_for_hang_up(&watched);
            on_close();
        })?;

    let mut reader = BufReader::new(stream);
    while let Some(frame) = read_frame(&mut reader)? {
        let call: Call = codec::decode(&frame).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a frame from the pool is not a call: {e}"),
            )
        })?;
        let reply = Reply {
            id: call.id,
            outcome: registry.execute(&call),
        };
        let bytes = codec::encode(&reply).map_err(io::Error::other)?;
        write_frame(&mut writer, &bytes)?;
    }
    Ok(())
}

/// Blocks until the other end of `stream` hangs up (or the socket fails). Asks `poll(2)` for
/// the hang-up events only, so calls waiting to be read do not wake it.
fn wait_for_hang_up(stream: &UnixStream) {
    loop {
        let mut fds = [PollFd::new(stream, PollFlags::RDHUP)];
        match poll(&mut fds, None) {
            Ok(_) => {
                let events = fds[0].revents();
                if events.intersects(
                    PollFlags::RDHUP | PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL,
                ) {
                    return;
                }
            }
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => return,
        }
    }
}
