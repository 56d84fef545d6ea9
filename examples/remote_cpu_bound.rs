//! Seed: "CPU-Bound Task with ProcessPoolExecutor" (sum of squares), spread over three
//! remote workers with `RemotePool` (feature `remote`).
//!
//! ```text
//! cargo run --release --example remote_cpu_bound
//! ```
//!
//! It starts a local `nats-server` with JetStream (Debian package `nats-server`; see
//! `scripts/ensure-nats-server.sh`) on a free loopback port, then three worker processes (this
//! same program, started with `--worker URL`), and maps the seed's five numbers over them. On
//! real machines the server and the workers are started separately: see the book's chapter
//! "Scaling out". Its `Calculation for` lines are the Python seed's.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futurepool::prelude::*;

fn cpu_bound_calculation(n: u64) -> u128 {
    let mut result: u128 = 0;
    for i in 0..n {
        let i = u128::from(std::hint::black_box(i));
        result += i * i;
    }
    result
}

const CPU_BOUND_CALCULATION: RemoteFn<u64, u128> =
    RemoteFn::new("cpu_bound_calculation", cpu_bound_calculation);

fn registry() -> Registry {
    Registry::new().with(CPU_BOUND_CALCULATION)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Runtime::new()?;
    if let [_, flag, url] = args.as_slice()
        && flag == "--worker"
    {
        // A worker: one task at a time, until the parent ends it.
        runtime.block_on(Worker::builder(registry()).url(url).concurrency(1).run())?;
        return Ok(());
    }
    let server = NatsServer::start()?;
    let workers = (0..3)
        .map(|_| {
            Command::new(std::env::current_exe()?)
                .args(["--worker", &server.url])
                .spawn()
                .map(KillOnDrop)
        })
        .collect::<Result<Vec<_>, _>>()?;
    runtime.block_on(async {
        let numbers = [10_000_000u64, 12_000_000, 11_000_000, 9_000_000, 13_000_000];
        let pool = RemotePool::builder(registry())
            .url(&server.url)
            .build()
            .await?;
        let start_time = Instant::now();
        let results: Vec<Result<u128, TaskError>> =
            pool.map(CPU_BOUND_CALCULATION, numbers).collect().await;
        let elapsed = start_time.elapsed();
        pool.shutdown().await;
        println!(
            "RemotePool ({} workers) Execution Time: {:.4} seconds",
            workers.len(),
            elapsed.as_secs_f64()
        );
        for (num, result) in numbers.iter().zip(results) {
            println!("Calculation for {num}: {}", result?);
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    drop(workers);
    Ok(())
}

/// A child process killed when dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A local `nats-server -js` on a free loopback port, with its store in a temporary directory.
struct NatsServer {
    _child: KillOnDrop,
    dir: PathBuf,
    url: String,
}

impl NatsServer {
    fn start() -> Result<Self, Box<dyn std::error::Error>> {
        let binary = ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .unwrap_or_else(|| PathBuf::from("nats-server"));
        let dir = std::env::temp_dir().join(format!("futurepool-example-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let child = Command::new(&binary)
            .args(["-js", "-a", "127.0.0.1", "-p", "-1", "-sd"])
            .arg(dir.join("js"))
            .arg("--ports_file_dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {}: {e} (install it: scripts/ensure-nats-server.sh)",
                    binary.display()
                )
            })?;
        let ports = dir.join(format!("nats-server_{}.ports", child.id()));
        let child = KillOnDrop(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        let url = loop {
            let text = std::fs::read_to_string(&ports).unwrap_or_default();
            if let Some(start) = text.find("nats://") {
                let rest = &text[start..];
                break rest[..rest.find('"').unwrap_or(rest.len())].to_owned();
            }
            if Instant::now() > deadline {
                return Err("nats-server did not start within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        Ok(Self {
            _child: child,
            dir,
            url,
        })
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
