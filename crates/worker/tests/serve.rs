//! The worker loop over a real socket pair, with the pool's side played by the test.

use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use futurepool_worker::{Hello, Outcome, Registry, RemoteFn, Reply, codec, frame, serve};

fn square(n: u64) -> u64 {
    n * n
}
fn boom(_: ()) -> u64 {
    panic!("boom")
}

const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
const BOOM: RemoteFn<(), u64> = RemoteFn::new("boom", boom);

const WATCHDOG: Duration = Duration::from_secs(10);

struct Worker {
    pool_end: UnixStream,
    done: mpsc::Receiver<std::io::Result<()>>,
    closed: mpsc::Receiver<()>,
}

fn start() -> Worker {
    let (pool_end, worker_end) = UnixStream::pair().unwrap();
    pool_end.set_read_timeout(Some(WATCHDOG)).unwrap();
    let (done_tx, done) = mpsc::channel();
    let (closed_tx, closed) = mpsc::channel();
    thread::spawn(move || {
        let registry = Registry::new().with(SQUARE).with(BOOM);
        let result = serve(&registry, worker_end, move || {
            let _ = closed_tx.send(());
        });
        let _ = done_tx.send(result);
    });
    Worker {
        pool_end,
        done,
        closed,
    }
}

impl Worker {
    fn recv<T: serde::de::DeserializeOwned>(&mut self) -> T {
        let bytes = frame::read_frame(&mut self.pool_end)
            .unwrap()
            .expect("a frame");
        codec::decode(&bytes).unwrap()
    }
    fn send(&mut self, payload: &[u8]) {
        frame::write_frame(&mut self.pool_end, payload).unwrap();
    }
}

#[test]
fn the_worker_says_hello_then_answers_calls_in_order() {
    let mut w = start();
    let hello: Hello = w.recv();
    assert_eq!(hello.pid, std::process::id());
    assert_eq!(hello.functions, [BOOM.signature(), SQUARE.signature()]);
    for id in 0..5u64 {
        w.send(&codec::encode(&SQUARE.call(id, &id).unwrap()).unwrap());
    }
    w.send(&codec::encode(&BOOM.call(5, &()).unwrap()).unwrap());
    for id in 0..5u64 {
        let reply: Reply = w.recv();
        assert_eq!(reply.id, id);
        assert_eq!(SQUARE.result(reply.outcome), Ok(id * id));
    }
    let reply: Reply = w.recv();
    assert_eq!(
        (reply.id, reply.outcome),
        (5, Outcome::Panicked("boom".into()))
    );
    // A panic left the loop serving.
    w.send(&codec::encode(&SQUARE.call(6, &6).unwrap()).unwrap());
    assert_eq!(w.recv::<Reply>().id, 6);

    drop(w.pool_end);
    w.closed.recv_timeout(WATCHDOG).expect("on_close ran");
    w.done.recv_timeout(WATCHDOG).unwrap().unwrap();
}

#[test]
fn a_frame_that_is_not_a_call_ends_the_loop_with_an_error() {
    let mut w = start();
    let _: Hello = w.recv();
    w.send(&codec::encode(&"hello?").unwrap());
    let err = w.done.recv_timeout(WATCHDOG).unwrap().unwrap_err();
    assert!(err.to_string().contains("not a call"), "{err}");
    drop(w.pool_end);
    w.closed.recv_timeout(WATCHDOG).expect("on_close ran");
}
