//! Helpers shared by the `harness = false` benches: argument parsing, timing,
//! a local HTTP server with a fixed latency, RSS readings and output as a
//! table or as JSON (`--json`).
#![allow(dead_code)] // each bench uses a part

use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// Command-line options common to every bench.
///
/// `cargo bench` passes `--bench`. Without it (`cargo test --benches`, which
/// runs these programs as tests in a debug build), a bench runs as a quick
/// smoke test, as with `--quick`.
#[derive(Debug, Clone, Default)]
pub struct Args {
    pub json: bool,
    pub quick: bool,
    pub url: Option<String>,
    pub filter: Option<String>,
}

impl Args {
    pub fn parse() -> Self {
        let mut args = Args::default();
        let mut bench = false;
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--json" => args.json = true,
                "--quick" => args.quick = true,
                "--url" => args.url = it.next(),
                "--bench" => bench = true,
                "--nocapture" => {}
                s if s.starts_with("--") => {}
                s => args.filter = Some(s.to_owned()),
            }
        }
        args.quick |= !bench;
        args
    }

    /// Whether the row named `name` should run (a free argument filters rows by substring).
    pub fn wants(&self, name: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| name.contains(f))
    }
}

/// The machine, as printed with every result.
pub fn machine() -> (usize, String) {
    let nproc = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    (nproc, cpu)
}

/// The median of `runs` timings of `f` (an async closure run on `rt`).
/// The multi-threaded Tokio runtime every bench runs on (one worker per core).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("build the Tokio runtime")
}

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

pub fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed(), out)
}

/// A value of one result row.
#[derive(Debug, Clone)]
pub enum Value {
    Secs(Duration),
    Micros(f64),
    Millis(f64),
    Bytes(f64),
    Num(f64),
    Ratio(f64),
    Text(String),
}

impl Value {
    fn json(&self) -> String {
        match self {
            Value::Secs(d) => format!("{}", d.as_secs_f64()),
            Value::Micros(x)
            | Value::Millis(x)
            | Value::Bytes(x)
            | Value::Num(x)
            | Value::Ratio(x) => {
                if x.is_finite() {
                    format!("{x}")
                } else {
                    "null".to_owned()
                }
            }
            Value::Text(s) => json_string(s),
        }
    }

    fn human(&self) -> String {
        match self {
            Value::Secs(d) => format!("{:.4} s", d.as_secs_f64()),
            Value::Micros(x) => format!("{x:.3} µs"),
            Value::Millis(x) => format!("{x:.2} ms"),
            Value::Bytes(x) if x.abs() >= 1024.0 * 1024.0 => {
                format!("{:.1} MiB", x / 1024.0 / 1024.0)
            }
            Value::Bytes(x) => format!("{x:.0} B"),
            Value::Num(x) => format!("{x}"),
            Value::Ratio(x) => format!("{x:.2}x"),
            Value::Text(s) => s.clone(),
        }
    }
}

pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Rows of named values, printed as an aligned table or as one JSON document.
pub struct Report {
    bench: &'static str,
    rows: Vec<Vec<(&'static str, Value)>>,
}

impl Report {
    pub fn new(bench: &'static str) -> Self {
        Report {
            bench,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, values: Vec<(&'static str, Value)>) {
        if !self.json_mode() {
            // progress on stderr so a long bench shows life
            let line: Vec<String> = values
                .iter()
                .map(|(k, v)| format!("{k}={}", v.human()))
                .collect();
            eprintln!("  {}", line.join("  "));
        }
        self.rows.push(values);
    }

    fn json_mode(&self) -> bool {
        std::env::args().any(|a| a == "--json")
    }

    pub fn print(&self, args: &Args) {
        let (nproc, cpu) = machine();
        if args.json {
            let rows: Vec<String> = self
                .rows
                .iter()
                .map(|r| {
                    let fields: Vec<String> = r
                        .iter()
                        .map(|(k, v)| format!("{}: {}", json_string(k), v.json()))
                        .collect();
                    format!("  {{{}}}", fields.join(", "))
                })
                .collect();
            println!(
                "{{\"bench\": {}, \"machine\": {{\"nproc\": {nproc}, \"cpu\": {}}}, \"results\": [\n{}\n]}}",
                json_string(self.bench),
                json_string(&cpu),
                rows.join(",\n")
            );
            return;
        }
        println!("\n{} — {nproc} cores, {cpu}", self.bench);
        let mut headers: Vec<&'static str> = Vec::new();
        for r in &self.rows {
            for (k, _) in r {
                if !headers.contains(k) {
                    headers.push(k);
                }
            }
        }
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                headers
                    .iter()
                    .map(|h| {
                        r.iter()
                            .find(|(k, _)| k == h)
                            .map_or_else(String::new, |(_, v)| v.human())
                    })
                    .collect()
            })
            .collect();
        let widths: Vec<usize> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| {
                cells
                    .iter()
                    .map(|c| c[i].chars().count())
                    .chain([h.len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |vals: Vec<String>| {
            vals.iter()
                .zip(&widths)
                .map(|(v, w)| format!("{v:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_owned()
        };
        println!(
            "{}",
            line(headers.iter().map(|h| (*h).to_owned()).collect())
        );
        for c in cells {
            println!("{}", line(c));
        }
    }
}

/// Resident set size of this process now (`VmRSS`) and its peak (`VmHWM`), in bytes.
pub fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets the peak RSS (`VmHWM`) to the current RSS, where the kernel allows it.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Starts a local HTTP server on 127.0.0.1 that answers `GET /page/{n}` after
/// `latency` with a small HTML page, and returns its base URL. Runs on the
/// current Tokio runtime until the runtime shuts down.
pub async fn latency_server(latency: Duration, body_bytes: usize) -> String {
    use axum::{Router, extract::Path, response::Html, routing::get};
    let app = Router::new().route(
        "/page/{name}",
        get(move |Path(name): Path<String>| async move {
            tokio::time::sleep(latency).await;
            Html(page(&name, body_bytes))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        axum::serve(listener, app).await.ok();
    });
    format!("http://{addr}")
}

/// The same page as benches/python/server.py serves.
pub fn page(name: &str, size: usize) -> String {
    let head = format!("<!doctype html><html><head><title>Page {name}</title></head><body><p>");
    let tail = "</p></body></html>";
    let filler = size.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", "x".repeat(filler))
}

/// Spins on the CPU for `d` (a CPU-bound job that never yields).
pub fn spin(d: Duration) -> u64 {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < d {
        for i in 0..1000u64 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
    }
    x
}

/// Like [`latency_server`], on its own runtime in a background thread, so the
/// server's work does not run on the measured runtime's threads.
pub fn latency_server_thread(latency: Duration, body_bytes: usize) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("bench-server".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                tx.send(latency_server(latency, body_bytes).await).ok();
                std::future::pending::<()>().await;
            });
        })
        .expect("spawn the server thread");
    rx.recv().expect("server started")
}
