//! The worker program of the integration tests. Started by a pool, it serves the functions in
//! `functions.rs`. Started by a test with arguments, it plays a parent process:
//!
//! - `hold N`: starts a pool of N workers, occupies them with long tasks, prints their pids on
//!   one line of stdout, then waits to be killed;
//! - `print TEXT`: runs a task that prints TEXT, then prints `result PID` on stdout.

mod functions;

use std::io::Write;

use functions::{PID, PRINT, SLEEP_MS, worker_registry};
use futurepool_process::{ProcessPool, main_if_worker};

fn main() {
    main_if_worker(&worker_registry());
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    match args.first().map(String::as_str) {
        Some("hold") => runtime.block_on(hold(args[1].parse().expect("a worker count"))),
        Some("print") => runtime.block_on(print(args[1].clone())),
        _ => {
            eprintln!("usage: process-test-worker hold N | print TEXT");
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
