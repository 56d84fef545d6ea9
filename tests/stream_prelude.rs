//! The contract's "Map streams" and "Completion" snippets, written exactly as users write them:
//! through `use futurepool::prelude::*;` and the facade's top level.

use std::time::Duration;

use futurepool::prelude::*;

#[tokio::test]
async fn map_snippet_from_the_contract() {
    let cpu = CpuPool::builder().max_workers(2).build().unwrap();
    let squares: Vec<u64> = cpu
        .map(|n| n * n, 0..10u64)
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(squares, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);

    let io = BlockingPool::new();
    let mut lens: Vec<usize> = io
        .map_unordered(|s: &str| s.len(), ["a", "bbb", "cc"])
        .map(Result::unwrap)
        .collect()
        .await;
    lens.sort();
    assert_eq!(lens, [1, 2, 3]);

    let net = AsyncPool::new();
    let doubled: Vec<u32> = net
        .map(|n: u32| async move { n * 2 }, 0..3)
        .buffer(2)
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(doubled, [0, 2, 4]);
}

#[tokio::test]
async fn completion_snippets_from_the_contract() {
    let pool = BlockingPool::new();
    let urls = ["a.example", "b.example", "c.example"];
    let tasks = urls.map(|url| pool.submit(move || url.len()).map(move |r| (url, r)));
    let mut done = as_completed(tasks);
    let mut seen = Vec::new();
    while let Some((url, out)) = done.next().await {
        seen.push((url, out.unwrap()));
    }
    seen.sort();
    assert_eq!(seen, [("a.example", 9), ("b.example", 9), ("c.example", 9)]);

    let tasks: Vec<Task<u8>> = (0..3).map(|n| pool.submit(move || n)).collect();
    let w: Waited<u8> = wait(tasks, ReturnWhen::FirstCompleted).await;
    assert!(!w.done.is_empty());
    assert_eq!(w.done.len() + w.pending.len(), 3);

    let tasks: Vec<Task<u8>> = (0..3).map(|n| pool.submit(move || n)).collect();
    let w = wait_timeout(tasks, ReturnWhen::AllCompleted, Duration::from_secs(60)).await;
    assert_eq!(w.done.len(), 3);

    // Also reachable at the top level.
    let w: futurepool::Waited<u8> =
        futurepool::wait(Vec::<Task<u8>>::new(), futurepool::ReturnWhen::FirstError).await;
    assert!(w.done.is_empty());
}
