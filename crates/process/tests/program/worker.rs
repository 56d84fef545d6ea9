//! The worker program of the integration tests. Started by a pool, it serves the functions in
//! `functions.rs`. Started by a test with arguments, it plays a parent process:
//!
//! - `hold N`: starts a pool of N workers, occupies them with long tasks, prints their pids on
//!   one line of stdout, then waits to be killed;
//! - `print TEXT`: runs a task that prints TEXT, then prints `result PID` on stdout;
//! - `sigint`: handles Ctrl-C; runs a 500 ms task, prints `running` on stdout once its worker
//!   is up, waits for a SIGINT, then prints the task's result (`ok PID` or `error MESSAGE`).
//!
//! - `umask`: with umask 000, runs a task, then prints the name and mode (octal) of every
//!   entry of the temporary directory (`TMPDIR`), one a line.
//!
//! Started by a pool with `--keep-socket`, it serves over a connection it made itself and
//! keeps a clone of it for `grandchild_then_abort`. With `--stray LOG` (a program that forgot
//! `main_if_worker`), it appends a line to LOG, then builds a pool as its main would.

mod functions;

use std::io::Write;

use functions::{PID, PRINT, SLEEP_MS, worker_registry};
use futurepool_process::{ProcessPool, main_if_worker};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--stray") {
        stray(&args[1]);
    }
    if args.iter().any(|a| a == "--keep-socket") {
        keep_socket();
    }
    main_if_worker(&worker_registry());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    match args.first().map(String::as_str) {
        Some("hold") => runtime.block_on(hold(args[1].parse().expect("a worker count"))),
        Some("print") => runtime.block_on(print(args[1].clone())),
        Some("sigint") => runtime.block_on(sigint()),
        Some("umask") => {
            // umask 000: whatever the pool makes is open to all unless it says otherwise.
            rustix::process::umask(rustix::fs::Mode::empty());
            runtime.block_on(umask());
        }
        _ => {
            eprintln!("usage: process-test-worker hold N | print TEXT | sigint");
            std::process::exit(2);
        }
    }
}

async fn pool(workers: usize) -> ProcessPool {
    ProcessPool::builder(worker_registry())
        .max_workers(workers)
        .build()
        .expect("a pool")
}

async fn hold(workers: usize) {
    let pool = pool(workers).await;
    // Occupy every worker with a task that outlives this process.
    let busy: Vec<_> = (0..workers)
        .map(|_| pool.submit(SLEEP_MS, 600_000))
        .collect();
    let started = tokio::time::Instant::now();
    while pool.worker_pids().len() < workers {
        assert!(started.elapsed().as_secs() < 30, "workers did not start");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let line: Vec<String> = pool.worker_pids().iter().map(u32::to_string).collect();
    let mut out = std::io::stdout();
    writeln!(out, "{}", line.join(" ")).expect("stdout");
    out.flush().expect("stdout");
    for task in busy {
        let _ = task.await;
    }
    let _ = pool.submit(PID, ()).await;
}

async fn print(text: String) {
    let pool = pool(1).await;
    let pid = pool.submit(PRINT, text).await.expect("a result");
    println!("result {pid}");
    pool.shutdown().await;
}

/// A main that forgot `main_if_worker`: a side effect, then a pool.
fn stray(log: &str) {
    use std::fs::OpenOptions;
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("the log");
    writeln!(file, "main ran in {}", std::process::id()).expect("the log");
    drop(file);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let pool = ProcessPool::builder(worker_registry())
            .max_workers(1)
            .build()
            .expect("a pool");
        let _ = pool.submit(PID, ()).await;
    });
    std::process::exit(0);
}

/// Serves as a worker over a connection kept in `SOCKET` too.
fn keep_socket() {
    let Some(path) = futurepool_worker::worker_socket() else {
        return;
    };
    let stream = std::os::unix::net::UnixStream::connect(path).expect("the pool's socket");
    functions::SOCKET
        .set(stream.try_clone().expect("a clone"))
        .expect("set once");
    let served = futurepool_worker::serve(&worker_registry(), stream, || std::process::exit(0));
    std::process::exit(i32::from(served.is_err()));
}

async fn sigint() {
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    // Poll once so the handler is installed before anything can send the signal.
    let _ = futures_poll_once(ctrl_c.as_mut()).await;
    let pool = pool(1).await;
    let task = pool.submit(SLEEP_MS, 500);
    while pool.worker_pids().is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    println!("running");
    std::io::stdout().flush().expect("stdout");
    ctrl_c.await.expect("a Ctrl-C handler");
    match task.await {
        Ok(pid) => println!("ok {pid}"),
        Err(e) => println!("error {e}"),
    }
    pool.shutdown().await;
}

/// Polls `fut` once.
async fn futures_poll_once<F: Future + Unpin>(mut fut: F) -> Option<F::Output> {
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match std::pin::Pin::new(&mut fut).poll(cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        })
    })
    .await
}

async fn umask() {
    use std::os::unix::fs::PermissionsExt;
    let pool = pool(1).await;
    pool.submit(PID, ()).await.expect("a result");
    for entry in std::fs::read_dir(std::env::temp_dir()).expect("the temporary directory") {
        let entry = entry.expect("an entry");
        let mode = entry.metadata().expect("metadata").permissions().mode() & 0o7777;
        println!("{} {mode:o}", entry.file_name().to_string_lossy());
    }
    pool.shutdown().await;
}
