//! `Task::blocking_wait` never deadlocks silently: on a thread that drives a Tokio runtime it
//! completes or panics at once, telling the caller to `.await` instead.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use futurepool_core::{AsyncPool, BlockingPool, CpuPool, Task};
use futurepool_test_support::Watchdog;

/// Runs `blocking_wait` on `task` and says how it went: `Ok(value)` or the panic's text.
fn wait_or_panic_text(task: Task<u32>) -> Result<u32, String> {
    match catch_unwind(AssertUnwindSafe(|| task.blocking_wait())) {
        Ok(result) => Ok(result.expect("the task itself succeeds")),
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default()),
    }
}

fn assert_completes_or_says_await(outcome: Result<u32, String>) {
    match outcome {
        Ok(value) => assert_eq!(value, 5),
        Err(text) => assert!(text.contains(".await"), "panic text: {text}"),
    }
}

#[test]
fn on_a_current_thread_runtime_an_async_pool_task_panics_at_once() {
    let _watchdog = Watchdog::new("blocking_wait current_thread", 30);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = runtime.block_on(async {
        let pool = AsyncPool::new();
        wait_or_panic_text(pool.submit(async { 5 }))
    });
    let text = outcome.expect_err("the task can never run while its only thread blocks");
    assert!(text.contains(".await"), "panic text: {text}");
}

#[test]
fn on_a_multi_thread_runtime_worker_an_async_pool_task_does_not_deadlock() {
    let _watchdog = Watchdog::new("blocking_wait multi_thread", 30);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let pool = AsyncPool::builder()
        .handle(runtime.handle().clone())
        .build()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    runtime.spawn(async move {
        let task = pool.submit(async { 5 });
        tx.send(wait_or_panic_text(task)).unwrap();
    });
    assert_completes_or_says_await(rx.recv().unwrap());
}

#[test]
fn on_a_runtime_thread_closure_pool_tasks_complete_or_panic_at_once() {
    let _watchdog = Watchdog::new("blocking_wait closure pools", 30);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let cpu = CpuPool::builder().max_workers(1).build().unwrap();
        assert_completes_or_says_await(wait_or_panic_text(cpu.submit(|| 5)));
        let io = BlockingPool::new();
        assert_completes_or_says_await(wait_or_panic_text(io.submit(|| 5)));
    });
}

#[test]
fn inside_spawn_blocking_it_waits() {
    let _watchdog = Watchdog::new("blocking_wait in spawn_blocking", 30);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let net = AsyncPool::new();
        let cpu = CpuPool::builder().max_workers(1).build().unwrap();
        let (a, b) = (net.submit(async { 5 }), cpu.submit(|| 5));
        let sum = tokio::task::spawn_blocking(move || {
            a.blocking_wait().unwrap() + b.blocking_wait().unwrap()
        })
        .await
        .unwrap();
        assert_eq!(sum, 10);
    });
}

#[test]
fn outside_any_runtime_it_waits() {
    let _watchdog = Watchdog::new("blocking_wait outside", 30);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pool = AsyncPool::builder()
        .handle(runtime.handle().clone())
        .build()
        .unwrap();
    assert_eq!(pool.submit(async { 5 }).blocking_wait().unwrap(), 5);
}
