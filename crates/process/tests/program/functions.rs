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

pub const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
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
}
