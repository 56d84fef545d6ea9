//! The worker loop: a worker process connects to its pool, says what it serves, then runs one
//! call at a time until the pool closes the connection.

use std::ffi::OsStr;
use std::io::{self, BufReader, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::thread;

use rustix::event::{PollFd, PollFlags, poll};
use rustix::process::{Resource, Rlimit, setrlimit};

use crate::codec;
use crate::frame::{MAX_FRAME_LEN, encode_framed, read_frame};
use crate::message::{Call, Hello, Outcome, Reply};
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

/// The command-line argument that sets a worker's largest message:
/// `--futurepool-max-message=BYTES`. A reply whose encoding is larger is replaced by an
/// [`Outcome::Invalid`](crate::Outcome::Invalid) saying "result too large", with the size and
/// the limit; the worker serves on. Default: [`MAX_FRAME_LEN`](crate::frame::MAX_FRAME_LEN).
///
/// # Examples
///
/// ```
/// assert_eq!(futurepool_worker::MAX_MESSAGE_ARG, "--futurepool-max-message");
/// ```
pub const MAX_MESSAGE_ARG: &str = "--futurepool-max-message";

/// The command-line argument that limits a worker's memory: `--futurepool-max-memory=BYTES`.
/// The worker sets its address-space limit (`RLIMIT_AS`) to it before connecting, so an
/// allocation past it fails and the process aborts.
///
/// # Examples
///
/// ```
/// assert_eq!(futurepool_worker::MAX_MEMORY_ARG, "--futurepool-max-memory");
/// ```
pub const MAX_MEMORY_ARG: &str = "--futurepool-max-memory";

/// The socket path given by [`WORKER_ARG`], if this process was started as a worker.
///
/// # Examples
///
/// ```
/// assert_eq!(futurepool_worker::worker_socket(), None); // a test binary is no worker
/// ```
pub fn worker_socket() -> Option<PathBuf> {
    arg_value(WORKER_ARG).map(|path| PathBuf::from(OsStr::from_bytes(&path)))
}

/// The value of the last `NAME=VALUE` argument of this process.
fn arg_value(name: &str) -> Option<Vec<u8>> {
    let prefix = format!("{name}=");
    std::env::args_os().rev().find_map(|arg| {
        arg.as_bytes()
            .strip_prefix(prefix.as_bytes())
            .map(<[u8]>::to_vec)
    })
}

/// The number given by a `NAME=BYTES` argument; an unreadable number is reported and ends
/// the worker.
fn arg_number(name: &str) -> Option<u64> {
    let value = arg_value(name)?;
    match std::str::from_utf8(&value)
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(n) => Some(n),
        None => {
            eprintln!(
                "futurepool worker {}: {name} needs a number of bytes, got {:?}",
                std::process::id(),
                String::from_utf8_lossy(&value)
            );
            std::process::exit(2);
        }
    }
}

/// Ends this process if it was started as a pool's worker (it has [`WORKER_ARG`]) but did
/// not become one: its `main` reached futurepool (for example built a pool) without calling
/// [`main_if_worker`] first. It tells its pool why (so the pool is broken at once with that
/// message instead of starting the program again), prints the fix on stderr, and exits with
/// status 2. Returns at once in any other process. Pools call it when they are built.
///
/// # Examples
///
/// ```
/// futurepool_worker::exit_if_stray_worker(); // not a worker: nothing happens
/// ```
pub fn exit_if_stray_worker() {
    let Some(path) = worker_socket() else {
        return;
    };
    let why = format!(
        "worker process {} was started by a ProcessPool but its main did not call \
         `futurepool::worker::main_if_worker(&registry)` first: add that call as the first \
         line of main, before anything else runs",
        std::process::id()
    );
    eprintln!("futurepool: {why}");
    if let Ok(mut stream) = UnixStream::connect(&path)
        && let Ok(hello) = crate::frame::encode_framed(&Hello::refusing(why))
    {
        let _ = stream.write_all(&hello);
    }
    std::process::exit(2);
}

/// Limits this process's address space to `bytes` (`RLIMIT_AS`).
fn limit_memory(bytes: u64) -> io::Result<()> {
    let limit = Rlimit {
        current: Some(bytes),
        maximum: Some(bytes),
    };
    setrlimit(Resource::As, limit).map_err(io::Error::from)
}

/// Serves `registry` and exits when this process was started as a pool's worker; returns at
/// once otherwise. Call it first thing in `main`, before anything reads the command line.
///
/// A worker (a process with the [`WORKER_ARG`] argument) connects to its pool's Unix socket,
/// sends its [`Hello`], then runs the calls it receives one at a time. It exits (status 0) as
/// soon as the pool's end of the connection closes — when the pool shuts down, is dropped, or
/// its process dies, even by `SIGKILL` — including while a call is running: a thread watches
/// the connection. If it cannot connect (its pool is gone), it exits with status 2. Before
/// connecting it applies its pool's limits, given as arguments: [`MAX_MEMORY_ARG`] (its
/// address space) and [`MAX_MESSAGE_ARG`] (the largest reply it sends).
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
    if let Some(bytes) = arg_number(MAX_MEMORY_ARG)
        && let Err(e) = limit_memory(bytes)
    {
        eprintln!("futurepool worker {pid}: cannot limit its memory to {bytes} bytes: {e}");
        std::process::exit(2);
    }
    let max_message = arg_number(MAX_MESSAGE_ARG)
        .and_then(|n| usize::try_from(n).ok())
        .map_or(MAX_FRAME_LEN, |n| n.min(MAX_FRAME_LEN));
    let code = match UnixStream::connect(&path) {
        Ok(stream) => {
            match serve_limited(registry, stream, max_message, || std::process::exit(0)) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("futurepool worker {pid}: {e}");
                    2
                }
            }
        }
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
    serve_limited(registry, stream, MAX_FRAME_LEN, on_close)
}

/// [`serve`] with replies limited to `max_message` bytes.
fn serve_limited<C>(
    registry: &Registry,
    stream: UnixStream,
    max_message: usize,
    on_close: C,
) -> io::Result<()>
where
    C: FnOnce() + Send + 'static,
{
    let mut writer = stream.try_clone()?;
    let watched = stream.try_clone()?;
    let hello = encode_framed(&Hello::new(registry)).map_err(io::Error::other)?;
    writer.write_all(&hello)?;

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
        let framed = match encode_framed(&reply) {
            Ok(framed) if framed.len() - 4 <= max_message => framed,
            Ok(framed) => too_large(&call, framed.len() - 4, max_message)?,
            Err(e) => too_large_or(&call, &e, max_message)?,
        };
        writer.write_all(&framed)?;
    }
    Ok(())
}

/// The reply to `call` whose result is `size` bytes, over the limit.
fn too_large(call: &Call, size: usize, limit: usize) -> io::Result<Vec<u8>> {
    let reply = Reply {
        id: call.id,
        outcome: Outcome::Invalid(format!(
            "result too large: the reply of `{}` is {size} bytes, over the max_message_size of {limit} bytes",
            call.function.name
        )),
    };
    encode_framed(&reply).map_err(io::Error::other)
}

/// The reply to `call` whose reply failed to encode (too large for a frame).
fn too_large_or(call: &Call, e: &codec::CodecError, limit: usize) -> io::Result<Vec<u8>> {
    let reply = Reply {
        id: call.id,
        outcome: Outcome::Invalid(format!(
            "result too large: the reply of `{}` could not be sent ({e}); the max_message_size is {limit} bytes",
            call.function.name
        )),
    };
    encode_framed(&reply).map_err(io::Error::other)
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
