//! A real `nats-server` on a free loopback port, and worker processes, for the tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futurepool_worker::RemoteFn;

pub const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
pub const SLOW_SQUARE: RemoteFn<(u64, u64), (u64, u32)> = RemoteFn::new("slow_square", slow_square);
pub const WHOAMI: RemoteFn<(), String> = RemoteFn::new("whoami", whoami);
pub const BOOM: RemoteFn<String, u64> = RemoteFn::new("boom", boom);
pub const ABORT_NOW: RemoteFn<String, u64> = RemoteFn::new("abort_now", boom);
pub const CPU_BOUND: RemoteFn<u64, u128> = RemoteFn::new("cpu_bound_calculation", cpu_bound);
pub const WAIT_FOR_FILE: RemoteFn<String, u64> = RemoteFn::new("wait_for_file", wait_for_file);

// The parent never runs these: their bodies are in the worker program.
fn square(_: u64) -> u64 {
    unreachable!()
}
fn slow_square(_: (u64, u64)) -> (u64, u32) {
    unreachable!()
}
fn whoami((): ()) -> String {
    unreachable!()
}
fn boom(_: String) -> u64 {
    unreachable!()
}
fn cpu_bound(_: u64) -> u128 {
    unreachable!()
}
fn wait_for_file(_: String) -> u64 {
    unreachable!()
}

pub fn registry() -> futurepool_worker::Registry {
    futurepool_worker::Registry::new()
        .with(SQUARE)
        .with(SLOW_SQUARE)
        .with(WHOAMI)
        .with(BOOM)
        .with(ABORT_NOW)
        .with(CPU_BOUND)
        .with(WAIT_FOR_FILE)
}

/// Where the server binary is; panics saying how to install it when it is missing.
pub fn server_binary() -> PathBuf {
    let system = Path::new("/usr/sbin/nats-server");
    if system.exists() {
        return system.to_owned();
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("nats-server");
            if candidate.exists() {
                return candidate;
            }
        }
    }
    panic!(
        "nats-server is not installed (neither /usr/sbin/nats-server nor nats-server on PATH): \
         run `scripts/ensure-nats-server.sh` (it runs `apt-get install -y nats-server`)"
    );
}

/// A running `nats-server` with JetStream on 127.0.0.1, its store in a temporary directory;
/// killed when dropped.
pub struct Server {
    child: Child,
    dir: PathBuf,
    pub url: String,
    port: u16,
    jetstream: bool,
}

static NEXT_DIR: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Server {
    pub fn start() -> Self {
        Self::start_with(true)
    }

    /// A server without JetStream when `jetstream` is false.
    pub fn start_with(jetstream: bool) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "futurepool-remote-test-{}-{}",
            std::process::id(),
            NEXT_DIR.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let (child, port) = spawn(&dir, None, jetstream);
        Self {
            child,
            url: format!("nats://127.0.0.1:{port}"),
            dir,
            port,
            jetstream,
        }
    }

    /// Kills the server (SIGKILL) and starts it again on the same port and store directory.
    pub fn restart(&mut self) {
        self.stop();
        let (child, _) = spawn(&self.dir, Some(self.port), self.jetstream);
        self.child = child;
    }

    /// Kills the server (SIGKILL) and waits for it to exit.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn spawn(dir: &Path, port: Option<u16>, jetstream: bool) -> (Child, u16) {
    let ports_dir = dir.join("ports");
    let _ = std::fs::remove_dir_all(&ports_dir);
    std::fs::create_dir_all(&ports_dir).expect("the ports directory");
    let mut command = Command::new(server_binary());
    if jetstream {
        command.arg("-js").arg("-sd").arg(dir.join("js"));
    }
    command
        .args(["-a", "127.0.0.1", "-p"])
        .arg(port.map_or("-1".to_owned(), |p| p.to_string()))
        .arg("--ports_file_dir")
        .arg(&ports_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command.spawn().expect("nats-server starts");
    let ports_file = ports_dir.join(format!("nats-server_{}.ports", child.id()));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(port) = std::fs::read_to_string(&ports_file)
            .ok()
            .and_then(|text| parse_port(&text))
        {
            return (child, port);
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("nats-server exited at start: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "nats-server wrote no ports file within 10 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The port of `"nats":["nats://127.0.0.1:PORT"]` in a ports file.
fn parse_port(text: &str) -> Option<u16> {
    let start = text.find("\"nats\":[\"nats://")? + "\"nats\":[\"nats://".len();
    let rest = &text[start..];
    let colon = rest.find(':')?;
    let end = rest[colon + 1..].find('"')?;
    rest[colon + 1..colon + 1 + end].parse().ok()
}

/// A worker process of the test program; killed (SIGKILL) when dropped.
pub struct WorkerProcess {
    child: Child,
}

impl WorkerProcess {
    pub fn start(url: &str, namespace: &str, concurrency: usize, isolate: bool) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_remote-test-worker"));
        command
            .args(["--url", url, "--namespace", namespace, "--concurrency"])
            .arg(concurrency.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null());
        if isolate {
            command.arg("--isolate");
        }
        Self {
            child: command.spawn().expect("the worker program starts"),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `test` under a watchdog: a test that hangs fails after `secs` seconds.
/// A pool on `server` in `namespace`, with the default settings.
pub async fn pool_in(server: &Server, namespace: &str) -> futurepool_remote::RemotePool {
    futurepool_remote::RemotePool::builder(registry())
        .url(&server.url)
        .namespace(namespace)
        .build()
        .await
        .unwrap()
}

/// A pool on `server` in `namespace` whose tasks are redelivered after `ack_wait` of silence.
pub async fn pool_with_ack_wait(
    server: &Server,
    namespace: &str,
    ack_wait: Duration,
) -> futurepool_remote::RemotePool {
    futurepool_remote::RemotePool::builder(registry())
        .url(&server.url)
        .namespace(namespace)
        .ack_wait(ack_wait)
        .build()
        .await
        .unwrap()
}

pub async fn watchdog<F: std::future::Future<Output = ()>>(secs: u64, test: F) {
    if tokio::time::timeout(Duration::from_secs(secs), test)
        .await
        .is_err()
    {
        panic!("watchdog: the test did not finish within {secs} s");
    }
}

/// A fresh temporary file path for a marker file.
pub fn marker(name: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("futurepool-remote-{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// The lines in a marker file (one per run of the function that wrote it).
pub fn runs(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |s| s.lines().count())
}
