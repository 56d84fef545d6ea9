//! The registered functions of the test worker program, shared by the program and the tests.
#![allow(dead_code)]

use std::time::Duration;

use futurepool_worker::{Registry, RemoteFn};
use serde::{Deserialize, Serialize};

pub fn square(n: u64) -> u64 {
    n * n
}

pub fn pid(_: ()) -> u32 {
    std::process::id()
}

/// Sleeps `ms` milliseconds, then returns the worker's pid.
pub fn sleep_ms(ms: u64) -> u32 {
    std::thread::sleep(Duration::from_millis(ms));
    std::process::id()
}

pub fn abort(_: ()) -> u32 {
    std::process::abort()
}

/// Dies of SIGSEGV: Rust's runtime swallows the first SIGSEGV sent with kill(2) (its stack
/// overflow handler re-raises with the default action), so it keeps sending until it dies.
pub fn segv(_: ()) -> u32 {
    let me = std::process::id().to_string();
    loop {
        let _ = std::process::Command::new("kill")
            .args(["-SEGV", &me])
            .status();
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn exit3(_: ()) -> u32 {
    std::process::exit(3)
}

/// Never returns (until its process is killed).
pub fn spin(_: ()) -> u32 {
    let mut n = 0u64;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

pub fn fail(message: String) -> u32 {
    panic!("{message}")
}

/// Prints `text` to stdout (with bytes that look like a frame) and returns the pid.
pub fn print(text: String) -> u32 {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&[0, 0, 0, 4, 0xc0, 0xc1, 0xc0, 0xc1]);
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
    std::process::id()
}

/// Serializes any value, but only an even one deserializes.
#[derive(Debug, Serialize, Deserialize)]
#[serde(try_from = "u32")]
pub struct Even(pub u32);

impl TryFrom<u32> for Even {
    type Error = String;
    fn try_from(n: u32) -> Result<Self, String> {
        if n.is_multiple_of(2) {
            Ok(Even(n))
        } else {
            Err(format!("{n} is odd"))
        }
    }
}

pub fn half(n: Even) -> u32 {
    n.0 / 2
}

pub fn retyped(n: u64) -> u64 {
    n + 1
}

/// A value whose `Deserialize` panics on 7 and whose `Serialize` panics on 13.
#[derive(Debug, PartialEq)]
pub struct Touchy(pub u32);

impl Serialize for Touchy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        assert!(self.0 != 13, "Touchy refuses to serialize 13");
        s.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for Touchy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u32::deserialize(d)?;
        assert!(n != 7, "Touchy refuses to deserialize 7");
        Ok(Touchy(n))
    }
}

/// `2n + 1`: so 3 gives 7 (the parent cannot read it) and 6 gives 13 (the worker cannot
/// write it).
pub fn touchy(n: Touchy) -> Touchy {
    Touchy(n.0 * 2 + 1)
}

/// The worker's end of its channel, kept by the test program's `--keep-socket` mode.
pub static SOCKET: std::sync::OnceLock<std::os::unix::net::UnixStream> = std::sync::OnceLock::new();

/// Starts a grandchild (`sleep 300`) that holds the worker's channel open (as its stdin),
/// writes its pid to the file `pid_file`, then aborts.
pub fn grandchild_then_abort(pid_file: String) -> u32 {
    use std::process::{Command, Stdio};
    let socket = SOCKET
        .get()
        .expect("the --keep-socket mode")
        .try_clone()
        .expect("a clone");
    let sleeper = Command::new("sleep")
        .arg("300")
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(socket)))
        .spawn()
        .expect("sleep");
    std::fs::write(&pid_file, sleeper.id().to_string()).expect("the pid file");
    std::process::abort()
}

/// Starts a grandchild (`sleep 300`) that holds the worker's channel open (as its stdin), and
/// returns its pid.
pub fn grandchild(_: ()) -> u32 {
    use std::process::{Command, Stdio};
    let socket = SOCKET
        .get()
        .expect("the --keep-socket mode")
        .try_clone()
        .expect("a clone");
    Command::new("sleep")
        .arg("300")
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(socket)))
        .spawn()
        .expect("sleep")
        .id()
}

/// The value of an environment variable in the worker.
pub fn env_var(name: String) -> Option<String> {
    std::env::var(name).ok()
}

/// Allocates and touches `bytes` bytes; returns how many it touched.
pub fn alloc(bytes: u64) -> u64 {
    let mut v = vec![1u8; usize::try_from(bytes).expect("a size")];
    for i in (0..v.len()).step_by(4096) {
        v[i] = 2;
    }
    std::hint::black_box(&v).len() as u64
}

/// A string of `n` bytes.
pub fn text_of(n: u64) -> String {
    "x".repeat(usize::try_from(n).expect("a size"))
}

/// `n + 1`, but panics on 13 and aborts its process on 666.
pub fn picky(n: u64) -> u64 {
    match n {
        13 => panic!("picky refuses 13"),
        666 => std::process::abort(),
        _ => n + 1,
    }
}

/// What [`mark`] does: append `tag` (a line) to the file `log` when it starts, then, with a
/// `gate`, wait until that file exists.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Mark {
    pub log: String,
    pub tag: String,
    pub gate: Option<String>,
}

/// Records that it started (see [`Mark`]), then waits for its gate if it has one; returns the
/// worker's pid.
pub fn mark(m: Mark) -> u32 {
    use std::io::Write;
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&m.log)
        .expect("the mark log");
    writeln!(log, "{}", m.tag).expect("a mark");
    drop(log);
    if let Some(gate) = m.gate {
        while !std::path::Path::new(&gate).exists() {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    std::process::id()
}

pub const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
pub const MARK: RemoteFn<Mark, u32> = RemoteFn::new("mark", mark);
pub const TOUCHY: RemoteFn<Touchy, Touchy> = RemoteFn::new("touchy", touchy);
pub const GRANDCHILD_THEN_ABORT: RemoteFn<String, u32> =
    RemoteFn::new("grandchild_then_abort", grandchild_then_abort);
pub const GRANDCHILD: RemoteFn<(), u32> = RemoteFn::new("grandchild", grandchild);
pub const ENV_VAR: RemoteFn<String, Option<String>> = RemoteFn::new("env_var", env_var);
pub const ALLOC: RemoteFn<u64, u64> = RemoteFn::new("alloc", alloc);
pub const TEXT_OF: RemoteFn<u64, String> = RemoteFn::new("text_of", text_of);
pub const PICKY: RemoteFn<u64, u64> = RemoteFn::new("picky", picky);
pub const PID: RemoteFn<(), u32> = RemoteFn::new("pid", pid);
pub const SLEEP_MS: RemoteFn<u64, u32> = RemoteFn::new("sleep_ms", sleep_ms);
pub const ABORT: RemoteFn<(), u32> = RemoteFn::new("abort", abort);
pub const SEGV: RemoteFn<(), u32> = RemoteFn::new("segv", segv);
pub const EXIT3: RemoteFn<(), u32> = RemoteFn::new("exit3", exit3);
pub const SPIN: RemoteFn<(), u32> = RemoteFn::new("spin", spin);
pub const FAIL: RemoteFn<String, u32> = RemoteFn::new("fail", fail);
pub const PRINT: RemoteFn<String, u32> = RemoteFn::new("print", print);
pub const HALF: RemoteFn<Even, u32> = RemoteFn::new("half", half);
pub const RETYPED: RemoteFn<u64, u64> = RemoteFn::new("retyped", retyped);

/// What the worker program serves.
pub fn worker_registry() -> Registry {
    Registry::new()
        .with(SQUARE)
        .with(PID)
        .with(SLEEP_MS)
        .with(ABORT)
        .with(SEGV)
        .with(EXIT3)
        .with(SPIN)
        .with(FAIL)
        .with(PRINT)
        .with(HALF)
        .with(RETYPED)
        .with(TOUCHY)
        .with(GRANDCHILD_THEN_ABORT)
        .with(GRANDCHILD)
        .with(ENV_VAR)
        .with(ALLOC)
        .with(TEXT_OF)
        .with(PICKY)
        .with(MARK)
}

/// Registered in the test (parent) registry only: the worker program does not serve it.
pub fn missing(n: u64) -> u64 {
    n
}

/// Registered in the test registry under the name the worker serves with `u64` types.
pub fn retyped_here(s: String) -> String {
    s
}

pub const MISSING: RemoteFn<u64, u64> = RemoteFn::new("missing", missing);
pub const RETYPED_HERE: RemoteFn<String, String> = RemoteFn::new("retyped", retyped_here);

/// What the tests give their pools: the worker's functions, with `missing` added and
/// `retyped` known with other types.
pub fn parent_registry() -> Registry {
    Registry::new()
        .with(SQUARE)
        .with(PID)
        .with(SLEEP_MS)
        .with(ABORT)
        .with(SEGV)
        .with(EXIT3)
        .with(SPIN)
        .with(FAIL)
        .with(PRINT)
        .with(HALF)
        .with(RETYPED_HERE)
        .with(MISSING)
        .with(TOUCHY)
        .with(GRANDCHILD_THEN_ABORT)
        .with(GRANDCHILD)
        .with(ENV_VAR)
        .with(ALLOC)
        .with(TEXT_OF)
        .with(PICKY)
        .with(MARK)
}
