//! Helpers shared by futurepool's own tests: a [`Gate`] closures block on, a [`Gauge`] of how
//! many run at once, [`DropSignal`] and [`DropFlag`] to prove a value was dropped, and a
//! [`Watchdog`] that fails a hung test instead of letting it block CI.
//!
//! It depends on no futurepool crate, so every crate of the workspace can use it in its tests
//! without building a second copy of itself.
//!
//! # Examples
//!
//! ```
//! use futurepool_test_support::{Gate, Watchdog};
//!
//! let _watchdog = Watchdog::new("gate example", 10);
//! let gate = Gate::new();
//! let waiter = {
//!     let gate = gate.clone();
//!     std::thread::spawn(move || gate.wait())
//! };
//! gate.open();
//! waiter.join().unwrap();
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

/// A gate that blocked closures wait on until the test opens it.
///
/// # Examples
///
/// ```
/// let gate = futurepool_test_support::Gate::new();
/// gate.open();
/// gate.wait(); // returns at once: the gate is open
/// assert!(gate.is_open());
/// ```
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    /// A closed gate.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!futurepool_test_support::Gate::new().is_open());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Blocks the calling thread until the gate is open.
    ///
    /// # Examples
    ///
    /// ```
    /// let gate = futurepool_test_support::Gate::new();
    /// let opener = gate.clone();
    /// std::thread::spawn(move || opener.open());
    /// gate.wait();
    /// ```
    pub fn wait(&self) {
        let (open, cond) = &*self.0;
        let mut guard = open.lock().unwrap_or_else(PoisonError::into_inner);
        while !*guard {
            guard = cond.wait(guard).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Opens the gate for every waiter, now and later.
    ///
    /// # Examples
    ///
    /// ```
    /// let gate = futurepool_test_support::Gate::new();
    /// gate.open();
    /// assert!(gate.is_open());
    /// ```
    pub fn open(&self) {
        let (open, cond) = &*self.0;
        *open.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cond.notify_all();
    }

    /// Whether the gate was opened.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!futurepool_test_support::Gate::new().is_open());
    /// ```
    pub fn is_open(&self) -> bool {
        *self.0.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Counts the closures running now and remembers the highest count seen.
///
/// # Examples
///
/// ```
/// let gauge = futurepool_test_support::Gauge::new();
/// gauge.enter();
/// gauge.enter();
/// gauge.exit();
/// assert_eq!((gauge.now(), gauge.max()), (1, 2));
/// ```
#[derive(Clone, Default)]
pub struct Gauge(Arc<(AtomicUsize, AtomicUsize)>);

impl Gauge {
    /// A gauge at zero.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(futurepool_test_support::Gauge::new().max(), 0);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes that one more closure runs.
    ///
    /// # Examples
    ///
    /// ```
    /// let gauge = futurepool_test_support::Gauge::new();
    /// gauge.enter();
    /// assert_eq!(gauge.now(), 1);
    /// ```
    pub fn enter(&self) {
        // SeqCst: tests read `max` from other threads right after joining on channels; the
        // cost is irrelevant here.
        let now = self.0.0.fetch_add(1, Ordering::SeqCst) + 1;
        self.0.1.fetch_max(now, Ordering::SeqCst);
    }

    /// Notes that a closure finished.
    ///
    /// # Examples
    ///
    /// ```
    /// let gauge = futurepool_test_support::Gauge::new();
    /// gauge.enter();
    /// gauge.exit();
    /// assert_eq!(gauge.now(), 0);
    /// ```
    pub fn exit(&self) {
        self.0.0.fetch_sub(1, Ordering::SeqCst);
    }

    /// How many run now.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(futurepool_test_support::Gauge::new().now(), 0);
    /// ```
    pub fn now(&self) -> usize {
        self.0.0.load(Ordering::SeqCst)
    }

    /// The most seen running at once.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(futurepool_test_support::Gauge::new().max(), 0);
    /// ```
    pub fn max(&self) -> usize {
        self.0.1.load(Ordering::SeqCst)
    }
}

/// Sends on a oneshot channel when dropped: proves a future or closure was dropped.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = tokio::sync::oneshot::channel();
/// drop(futurepool_test_support::DropSignal::new(tx));
/// assert!(rx.try_recv().is_ok());
/// ```
pub struct DropSignal(Option<tokio::sync::oneshot::Sender<()>>);

impl DropSignal {
    /// A signal that sends on `tx` when dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = tokio::sync::oneshot::channel();
    /// let _signal = futurepool_test_support::DropSignal::new(tx);
    /// ```
    pub fn new(tx: tokio::sync::oneshot::Sender<()>) -> Self {
        Self(Some(tx))
    }
}

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// A flag set when the value holding it is dropped; cheap to check at any later point.
///
/// # Examples
///
/// ```
/// let flag = futurepool_test_support::DropFlag::new();
/// let capture = flag.clone();
/// assert!(!flag.is_dropped());
/// drop(capture);
/// assert!(flag.is_dropped());
/// ```
#[derive(Default)]
pub struct DropFlag {
    dropped: Arc<AtomicBool>,
    armed: bool,
}

impl DropFlag {
    /// A flag whose clones set it when dropped (the original does not).
    ///
    /// # Examples
    ///
    /// ```
    /// let flag = futurepool_test_support::DropFlag::new();
    /// drop(flag.clone());
    /// assert!(flag.is_dropped());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a clone of this flag was dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!futurepool_test_support::DropFlag::new().is_dropped());
    /// ```
    pub fn is_dropped(&self) -> bool {
        // SeqCst: read right after the code under test returns, on another thread than the
        // drop; the strongest ordering keeps the test's reasoning simple.
        self.dropped.load(Ordering::SeqCst)
    }
}

/// A clone that sets the flag when dropped.
impl Clone for DropFlag {
    fn clone(&self) -> Self {
        Self {
            dropped: Arc::clone(&self.dropped),
            armed: true,
        }
    }
}

impl Drop for DropFlag {
    fn drop(&mut self) {
        if self.armed {
            self.dropped.store(true, Ordering::SeqCst);
        }
    }
}

/// Aborts the test process if it is still alive after a deadline: a hung test fails (with
/// its name on stderr) instead of blocking CI. Disarmed when dropped.
///
/// # Examples
///
/// ```
/// let watchdog = futurepool_test_support::Watchdog::new("quick test", 30);
/// // ... the test ...
/// drop(watchdog);
/// ```
#[must_use = "the watchdog is disarmed as soon as it is dropped"]
pub struct Watchdog {
    disarm: Option<mpsc::Sender<()>>,
}

impl Watchdog {
    /// Starts a watchdog for the test `name` that fires after `seconds`.
    ///
    /// # Examples
    ///
    /// ```
    /// let _watchdog = futurepool_test_support::Watchdog::new("example", 5);
    /// ```
    pub fn new(name: &str, seconds: u64) -> Self {
        let (disarm, disarmed) = mpsc::channel::<()>();
        let name = name.to_owned();
        std::thread::Builder::new()
            .name(format!("watchdog {name}"))
            .spawn(move || {
                if let Err(RecvTimeoutError::Timeout) =
                    disarmed.recv_timeout(Duration::from_secs(seconds))
                {
                    eprintln!("watchdog: test `{name}` still running after {seconds} s: hung");
                    std::process::abort();
                }
            })
            .expect("watchdog thread");
        Self {
            disarm: Some(disarm),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(disarm) = self.disarm.take() {
            let _ = disarm.send(());
        }
    }
}
