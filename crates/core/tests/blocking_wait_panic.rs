//! `blocking_wait` on a runtime thread prints one panic, and it points at the caller: the
//! probe that asks Tokio whether the thread may block stays silent. (A test binary of its own:
//! it sets the process's panic hook.)

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use futurepool_core::CpuPool;
use futurepool_test_support::Watchdog;

#[test]
fn a_refused_blocking_wait_reports_one_panic_at_the_callers_line() {
    let _watchdog = Watchdog::new("blocking_wait one panic", 30);
    let reported: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    {
        let reported = Arc::clone(&reported);
        std::panic::set_hook(Box::new(move |info| {
            let place = info
                .location()
                .map(|l| l.file().to_owned())
                .unwrap_or_default();
            let text = info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| {
                    info.payload()
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                })
                .unwrap_or_default();
            reported.lock().unwrap().push((place, text));
        }));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pool = CpuPool::builder().max_workers(1).build().unwrap();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let task = pool.submit(move || released.recv().unwrap());
    let outcome =
        runtime.block_on(async { catch_unwind(AssertUnwindSafe(|| task.blocking_wait())) });
    drop(std::panic::take_hook());
    release.send(()).unwrap();
    assert!(
        outcome.is_err(),
        "blocking_wait on the runtime's thread panics"
    );
    let reported = reported.lock().unwrap().clone();
    assert_eq!(reported.len(), 1, "one panic is reported: {reported:?}");
    let (place, text) = &reported[0];
    assert!(
        place.ends_with("blocking_wait_panic.rs"),
        "the panic points at the caller: {place}"
    );
    assert!(text.contains(".await"), "{text}");
}
