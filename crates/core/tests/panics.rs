//! A panicking task yields an error for that task only; the pool and other tasks carry on.

use futurepool_core::{AsyncPool, BlockingPool, CpuPool, TaskErrorKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_are_isolated_on_every_pool() {
    let io = BlockingPool::builder().max_workers(2).build().unwrap();
    let cpu = CpuPool::builder().max_workers(2).build().unwrap();
    let net = AsyncPool::builder().max_concurrency(2).build().unwrap();
    for round in 0..3 {
        let bad = [
            io.submit(move || -> u32 { panic!("io {round}") }),
            cpu.submit(move || -> u32 { panic!("cpu {round}") }),
            net.submit(async move { panic!("net {}", round) }),
        ];
        let good = [
            io.submit(move || round),
            cpu.submit(move || round),
            net.submit(async move { round }),
        ];
        for (task, pool) in bad.into_iter().zip(["io", "cpu", "net"]) {
            let id = task.id();
            let err = task.await.unwrap_err();
            assert_eq!(err.kind(), TaskErrorKind::Panic);
            assert_eq!(
                err.panic_message(),
                Some(format!("{pool} {round}").as_str())
            );
            assert_eq!(err.task_id(), Some(id));
            assert_eq!(
                err.to_string(),
                format!("task {id} panicked: {pool} {round}")
            );
        }
        for task in good {
            assert_eq!(task.await.unwrap(), round);
        }
    }
    for stats in [io.stats(), cpu.stats(), net.stats()] {
        assert_eq!((stats.failed, stats.completed), (3, 3));
    }
}

#[test]
fn non_string_panic_payloads_still_make_an_error() {
    let cpu = CpuPool::builder().max_workers(1).build().unwrap();
    let err = cpu
        .submit(|| std::panic::panic_any(17u8))
        .blocking_wait()
        .unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.panic_message(), Some("Box<dyn Any>"));
    assert_eq!(cpu.submit(|| "alive").blocking_wait().unwrap(), "alive");
}
