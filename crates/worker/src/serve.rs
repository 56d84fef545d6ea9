//! The worker loop: a worker process connects to its pool, says what it serves, then runs one
//! call at a time until the pool closes the connection.

use std::io::{self, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::thread;

use crate::codec;
use crate::frame::{read_frame, write_frame};
use crate::message::{Call, Hello, Reply};
use crate::registry::Registry;

/// The environment variable that makes a process a worker: the path of the Unix socket its
/// pool listens on.
///
/// # Examples
///
/// ```
/// assert_eq!(futurepool_worker::WORKER_SOCKET_ENV, "FUTUREPOOL_WORKER_SOCKET");
/// ```
pub const WORKER_SOCKET_ENV: &str = "FUTUREPOOL_WORKER_SOCKET";

/// The environment variable holding the process id of the pool's process. A process whose
/// parent has another id (say, a program a task started, which inherited the environment)
/// is not a worker.
///
/// # Examples
///
/// ```
/// assert_eq!(futurepool_worker::WORKER_PARENT_ENV, "FUTUREPOOL_WORKER_PARENT");
/// ```
pub const WORKER_PARENT_ENV: &str = "FUTUREPOOL_WORKER_PARENT";

/// Serves `registry` and exits when this process was started as a pool's worker; returns at
/// once otherwise. Call it first thing in `main`.
///
/// A worker connects to the Unix socket named by [`WORKER_SOCKET_ENV`], sends its [`Hello`],
/// then runs the calls it receives one at a time. It exits (status 0) as soon as the pool's end
/// of the connection closes — when the pool shuts down, is dropped, or its process dies, even
/// by `SIGKILL` — including while a call is running: a thread watches the connection.
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
    let Some(path) = std::env::var_os(WORKER_SOCKET_ENV) else {
        return;
    };
    let parent = std::env::var(WORKER_PARENT_ENV)
        .ok()
        .and_then(|p| p.parse::<u32>().ok());
    if parent != Some(std::os::unix::process::parent_id()) {
        return;
    }
    let pid = std::process::id();
    let code = match UnixStream::connect(&path).and_then(|s| Ok((s.try_clone()?, s))) {
        Ok((reader, writer)) => match serve(registry, reader, writer, || std::process::exit(0)) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("futurepool worker {pid}: {e}");
                2
            }
        },
        Err(e) => {
            eprintln!(
                "futurepool worker {pid}: cannot connect to its pool at {}: {e}",
                path.to_string_lossy()
            );
            2
        }
    };
    std::process::exit(code);
}

/// Runs the worker protocol over a connection: writes a [`Hello`] for `registry`, then answers
/// each [`Call`] read from `reader` with a [`Reply`] on `writer`, one at a time, until `reader`
/// ends.
///
/// A thread reads the connection while calls run; when the connection ends it calls
/// `on_close` at once (a worker process passes `|| std::process::exit(0)`, so a running call
/// does not outlive its pool) and the loop returns after the running call.
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
/// let (pool_end, worker_end) = UnixStream::pair().unwrap();
/// let worker = std::thread::spawn(move || {
///     let registry = Registry::new().with(SQUARE);
///     serve(&registry, worker_end.try_clone().unwrap(), worker_end, || {})
/// });
/// let mut pool_end = pool_end;
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
pub fn serve<R, W, C>(registry: &Registry, reader: R, mut writer: W, on_close: C) -> io::Result<()>
where
    R: Read + Send + 'static,
    W: Write,
    C: FnOnce() + Send + 'static,
{
    let hello = codec::encode(&Hello::new(registry)).map_err(io::Error::other)?;
    write_frame(&mut writer, &hello)?;

    let (calls, received) = mpsc::channel::<io::Result<Call>>();
    thread::Builder::new()
        .name("futurepool-worker-channel".to_owned())
        .spawn(move || {
            read_calls(reader, &calls);
            drop(calls);
            on_close();
        })?;

    for call in received {
        let call = call?;
        let reply = Reply {
            id: call.id,
            outcome: registry.execute(&call),
        };
        let bytes = codec::encode(&reply).map_err(io::Error::other)?;
        write_frame(&mut writer, &bytes)?;
    }
    Ok(())
}

/// Reads calls until the connection ends (clean EOF, an error, or a frame that is not a call,
/// which is passed on as an error).
fn read_calls<R: Read>(reader: R, calls: &mpsc::Sender<io::Result<Call>>) {
    let mut reader = BufReader::new(reader);
    loop {
        let call = match read_frame(&mut reader) {
            Ok(Some(frame)) => codec::decode::<Call>(&frame).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("a frame from the pool is not a call: {e}"),
                )
            }),
            Ok(None) => return,
            Err(e) => Err(e),
        };
        let stop = call.is_err();
        if calls.send(call).is_err() || stop {
            return;
        }
    }
}
