//! The worker program of the remote pool's tests, examples' checks and bench: registered
//! functions that sleep, panic or crash on purpose, served by a `Worker`.
//!
//! ```text
//! remote-test-worker --url URL --namespace NS --concurrency N [--isolate]
//!                    [--tls-ca PATH] [--tls-cert PATH --tls-key PATH]
//! ```
//!
//! It exits when its standard input closes (the test that started it is gone).

use std::io::{Read, Write};
use std::sync::OnceLock;
use std::time::Duration;

use futurepool_remote::Worker;
use futurepool_worker::{Registry, RemoteFn};

static NAMESPACE: OnceLock<String> = OnceLock::new();

fn square(n: u64) -> u64 {
    n * n
}

/// Sleeps `ms`, then gives `n²` and this process's id.
fn slow_square((n, ms): (u64, u64)) -> (u64, u32) {
    std::thread::sleep(Duration::from_millis(ms));
    (n * n, std::process::id())
}

/// The namespace this worker serves.
fn whoami((): ()) -> String {
    NAMESPACE.get().cloned().unwrap_or_default()
}

/// Appends a line to `path` (one line per run), then does what `action` says.
fn record(path: &str) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("marker file");
    writeln!(file, "{}", std::process::id()).expect("marker line");
}

fn boom(path: String) -> u64 {
    record(&path);
    panic!("boom in the worker");
}

fn abort_now(path: String) -> u64 {
    record(&path);
    std::process::abort();
}

/// The seed's CPU workload: the sum of the squares below `n`.
fn cpu_bound_calculation(n: u64) -> u128 {
    let mut result: u128 = 0;
    for i in 0..n {
        let i = u128::from(std::hint::black_box(i));
        result += i * i;
    }
    result
}

/// Waits until the file `path` exists (the test's gate), then gives 1.
fn wait_for_file(path: String) -> u64 {
    while !std::path::Path::new(&path).exists() {
        std::thread::sleep(Duration::from_millis(5));
    }
    1
}

/// `n` bytes of zeros.
fn big_result(n: u64) -> Vec<u8> {
    vec![0; usize::try_from(n).expect("a size")]
}

/// The length of its argument.
fn len_of(bytes: Vec<u8>) -> u64 {
    bytes.len() as u64
}

/// Appends this process's id to `path`, then sleeps a minute (a task to time out).
fn pid_then_sleep(path: String) -> u64 {
    record(&path);
    std::thread::sleep(Duration::from_secs(60));
    0
}

/// `n²`, but panics on 13 (one bad item in a chunk).
fn picky_square(n: u64) -> u64 {
    if n == 13 {
        panic!("13 is unlucky");
    }
    n * n
}

fn registry() -> Registry {
    Registry::new()
        .with(RemoteFn::new("square", square))
        .with(RemoteFn::new("slow_square", slow_square))
        .with(RemoteFn::new("whoami", whoami))
        .with(RemoteFn::new("boom", boom))
        .with(RemoteFn::new("abort_now", abort_now))
        .with(RemoteFn::new("wait_for_file", wait_for_file))
        .with(RemoteFn::new("big_result", big_result))
        .with(RemoteFn::new("len_of", len_of))
        .with(RemoteFn::new("pid_then_sleep", pid_then_sleep))
        .with(RemoteFn::new("picky_square", picky_square))
        .with(RemoteFn::new(
            "cpu_bound_calculation",
            cpu_bound_calculation,
        ))
}

fn main() {
    futurepool_worker::main_if_worker(&registry());
    let mut url = String::new();
    let mut namespace = "futurepool".to_owned();
    let mut concurrency = 1;
    let mut isolate = false;
    let (mut tls_ca, mut tls_cert, mut tls_key) = (None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => url = args.next().expect("--url URL"),
            "--namespace" => namespace = args.next().expect("--namespace NS"),
            "--concurrency" => {
                concurrency = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--concurrency N")
            }
            "--isolate" => isolate = true,
            "--tls-ca" => tls_ca = args.next(),
            "--tls-cert" => tls_cert = args.next(),
            "--tls-key" => tls_key = args.next(),
            other => panic!("unknown argument {other}"),
        }
    }
    NAMESPACE.set(namespace.clone()).expect("set once");
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        std::process::exit(0);
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let mut options = futurepool_remote::async_nats::ConnectOptions::new();
    if let Some(ca) = tls_ca {
        options = options.add_root_certificates(ca.into()).require_tls(true);
    }
    if let (Some(cert), Some(key)) = (tls_cert, tls_key) {
        options = options.add_client_certificate(cert.into(), key.into());
    }
    let served = runtime.block_on(
        Worker::builder(registry())
            .connect_options(options)
            .url(url)
            .namespace(namespace)
            .concurrency(concurrency)
            .isolate(isolate)
            .run(),
    );
    if let Err(e) = served {
        eprintln!("remote-test-worker: {e}");
        std::process::exit(2);
    }
}
