//! A real `nats-server` on a free loopback port, and worker processes, for the tests.
#![allow(dead_code)]

pub mod cluster;

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
pub const BIG_RESULT: RemoteFn<u64, Vec<u8>> = RemoteFn::new("big_result", big_result);
pub const LEN_OF: RemoteFn<Vec<u8>, u64> = RemoteFn::new("len_of", len_of);
pub const PID_THEN_SLEEP: RemoteFn<String, u64> = RemoteFn::new("pid_then_sleep", boom);
/// `n²`, but panics on 13.
pub const PICKY_SQUARE: RemoteFn<u64, u64> = RemoteFn::new("picky_square", square);

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
fn big_result(_: u64) -> Vec<u8> {
    unreachable!()
}
fn len_of(_: Vec<u8>) -> u64 {
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
        .with(BIG_RESULT)
        .with(LEN_OF)
        .with(PID_THEN_SLEEP)
        .with(PICKY_SQUARE)
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
        let dir = fresh_dir();
        let (child, port) = spawn(&dir, None, jetstream);
        Self {
            child,
            url: format!("nats://127.0.0.1:{port}"),
            dir,
            port,
            jetstream,
        }
    }

    /// A server with JetStream on 127.0.0.1 whose configuration file also holds `config`
    /// (authorization, TLS, limits), written into its directory; `files` are written there too
    /// first, each as (name, contents) — `{dir}` in `config` is replaced by the directory.
    pub fn start_config(config: &str) -> Self {
        let dir = fresh_dir();
        let config = config.replace("{dir}", &dir.display().to_string());
        let file = dir.join("server.conf");
        std::fs::write(
            &file,
            format!(
                "host: 127.0.0.1\nport: -1\njetstream {{ store_dir: \"{}\" }}\n{config}\n",
                dir.join("js").display()
            ),
        )
        .expect("the server's configuration");
        let (child, port) = spawn_with(&dir, |command| {
            command.arg("-c").arg(&file);
        });
        Self {
            child,
            url: format!("nats://127.0.0.1:{port}"),
            dir,
            port,
            jetstream: true,
        }
    }

    /// The server's own directory (configuration, certificates, store).
    pub fn dir(&self) -> &Path {
        &self.dir
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

/// A fresh temporary directory for one server.
fn fresh_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "futurepool-remote-test-{}-{}",
        std::process::id(),
        NEXT_DIR.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

fn spawn(dir: &Path, port: Option<u16>, jetstream: bool) -> (Child, u16) {
    spawn_with(dir, |command| {
        if jetstream {
            command.arg("-js").arg("-sd").arg(dir.join("js"));
        }
        command
            .args(["-a", "127.0.0.1", "-p"])
            .arg(port.map_or("-1".to_owned(), |p| p.to_string()))
            // A monitoring port (random), for `server_state`'s view of the connections.
            .args(["-m", "-1"]);
    })
}

fn spawn_with(dir: &Path, args: impl FnOnce(&mut Command)) -> (Child, u16) {
    let ports_dir = dir.join("ports");
    let _ = std::fs::remove_dir_all(&ports_dir);
    std::fs::create_dir_all(&ports_dir).expect("the ports directory");
    let mut command = Command::new(server_binary());
    args(&mut command);
    command
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
    let start = text.find("\"nats\":[\"")? + "\"nats\":[\"".len();
    let rest = &text[start..];
    let rest = &rest[rest.find("://")? + 3..];
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
        Self::start_args(url, namespace, concurrency, isolate, &[])
    }

    /// A worker process with more arguments (`--tls-ca PATH`, `--tls-cert PATH`,
    /// `--tls-key PATH`).
    pub fn start_args(
        url: &str,
        namespace: &str,
        concurrency: usize,
        isolate: bool,
        extra: &[&str],
    ) -> Self {
        // `REMOTE_TEST_WORKER` runs another build of the program (a soak of an old build).
        let program = std::env::var_os("REMOTE_TEST_WORKER")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_remote-test-worker").into());
        let mut command = Command::new(program);
        command
            .args(["--url", url, "--namespace", namespace, "--concurrency"])
            .arg(concurrency.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null());
        if isolate {
            command.arg("--isolate");
        }
        command.args(extra);
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
/// The pool's id, from its `Debug` output.
pub fn pool_id(pool: &futurepool_remote::RemotePool) -> String {
    let text = format!("{pool:?}");
    let start = text.find("pool_id: \"").unwrap() + "pool_id: \"".len();
    text[start..start + 16].to_owned()
}

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

/// Like [`watchdog`], but when the test hangs prints what the server holds (every stream's
/// state and every consumer's counts) and `pool`'s own state before failing.
pub async fn watchdog_on<F: std::future::Future<Output = ()>>(
    secs: u64,
    url: &str,
    pool: impl FnOnce() -> String,
    test: F,
) {
    if tokio::time::timeout(Duration::from_secs(secs), test)
        .await
        .is_err()
    {
        let server = tokio::time::timeout(Duration::from_secs(10), server_state(url))
            .await
            .unwrap_or_else(|_| "the server did not answer within 10 s".to_owned());
        panic!(
            "watchdog: the test did not finish within {secs} s\npool: {}\nserver:\n{server}",
            pool()
        );
    }
}

/// The server's connections (name, messages in and out, pending bytes, subscriptions), from
/// its monitoring port (in the ports file next to its store), when it has one.
fn connections(url: &str) -> String {
    use std::io::{Read, Write};
    let port = url.rsplit(':').next().unwrap_or_default();
    let ports = std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("futurepool-remote-test-")
        })
        .flat_map(|e| {
            std::fs::read_dir(e.path().join("ports"))
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .find(|text| text.contains(&format!("127.0.0.1:{port}\"")));
    let Some(monitor) = ports.and_then(|text| {
        let at = text.find("\"monitoring\":[\"http://")? + "\"monitoring\":[\"http://".len();
        let rest = &text[at..];
        Some(rest[..rest.find('"')?].to_owned())
    }) else {
        return "no monitoring port\n".to_owned();
    };
    let fetch = || -> std::io::Result<String> {
        let mut stream = std::net::TcpStream::connect(&monitor)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        write!(
            stream,
            "GET /connz?subs=1 HTTP/1.0\r\nHost: {monitor}\r\n\r\n"
        )?;
        let mut body = String::new();
        stream.read_to_string(&mut body)?;
        Ok(body)
    };
    match fetch() {
        Ok(body) => format!(
            "connz: {}\n",
            body.split("\r\n\r\n").nth(1).unwrap_or(&body)
        ),
        Err(e) => format!("connz: {e}\n"),
    }
}

/// Every stream's state and every consumer's counts on the server at `url`, one per line.
pub async fn server_state(url: &str) -> String {
    use futures::TryStreamExt;
    let client = match async_nats::connect(url).await {
        Ok(client) => client,
        Err(e) => return format!("cannot connect: {e}"),
    };
    let js = async_nats::jetstream::new(client);
    let mut out = connections(url);
    let names: Vec<String> = js.stream_names().try_collect().await.unwrap_or_default();
    for name in names {
        let Ok(mut stream) = js.get_stream(&name).await else {
            continue;
        };
        if let Ok(info) = stream.info().await {
            out += &format!("stream {name}: {:?}\n", info.state);
        }
        let consumers: Vec<_> = stream.consumers().try_collect().await.unwrap_or_default();
        for c in consumers {
            out += &format!(
                "  consumer {}: pending {} ack_pending {} waiting {} redelivered {} delivered {:?} ack_floor {:?}\n",
                c.name,
                c.num_pending,
                c.num_ack_pending,
                c.num_waiting,
                c.num_redelivered,
                c.delivered,
                c.ack_floor
            );
        }
    }
    out
}

pub async fn watchdog<F: std::future::Future<Output = ()>>(secs: u64, test: F) {
    if tokio::time::timeout(Duration::from_secs(secs), test)
        .await
        .is_err()
    {
        panic!("watchdog: the test did not finish within {secs} s");
    }
}

/// The namespace's workers' consumer, as the server has it now.
pub async fn consumer_info(url: &str, namespace: &str) -> async_nats::jetstream::consumer::Info {
    let js = async_nats::jetstream::new(async_nats::connect(url).await.unwrap());
    let stream = js.get_stream(format!("{namespace}_tasks")).await.unwrap();
    stream.consumer_info("workers").await.unwrap()
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

/// A private CA and, signed by it, a certificate for a server on 127.0.0.1 and one for a
/// client, made with the `openssl` command in `dir`: `ca.pem`, `server.pem`,
/// `server-key.pem`, `client.pem`, `client-key.pem`.
pub fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .expect("the openssl command (apt-get install openssl)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec![
        "req",
        "-x509",
        "-days",
        "2",
        "-subj",
        "/CN=futurepool test CA",
    ];
    ca.extend(key);
    ca.extend(["-keyout", "ca-key.pem", "-out", "ca.pem"]);
    openssl(&ca);
    std::fs::write(dir.join("server.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    for (name, cn) in [("server", "127.0.0.1"), ("client", "futurepool worker")] {
        let subj = format!("/CN={cn}");
        let (keyout, csr, pem, ext) = (
            format!("{name}-key.pem"),
            format!("{name}.csr"),
            format!("{name}.pem"),
            format!("{name}.ext"),
        );
        let mut req = vec!["req", "-subj", subj.as_str()];
        req.extend(key);
        req.extend(["-keyout", &keyout, "-out", &csr]);
        openssl(&req);
        openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &pem,
        ]);
    }
}
