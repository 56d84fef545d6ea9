//! Unit tests of [`room`](super::room): how many calls wait behind a running one.

use super::*;

/// A worker running a short call for a moment, with `in_flight` calls in all.
fn busy(in_flight: usize) -> State {
    State {
        in_flight,
        accepted: in_flight as u64,
        front: Some(("tiny", Instant::now())),
        closed: false,
    }
}

#[test]
fn at_most_one_call_is_sent_behind_a_running_one_once_priorities_are_used() {
    let roster = Roster::default();
    roster.record("tiny", Duration::from_micros(10));
    // Only NORMAL calls so far: up to three behind the running one.
    assert!(room(&busy(3), None, true, "tiny", 8, &roster));
    assert!(!room(&busy(4), None, true, "tiny", 8, &roster));
    roster.prioritized.store(true, Ordering::Relaxed);
    assert!(room(&busy(0), None, false, "tiny", 8, &roster));
    assert!(!room(&busy(1), None, false, "tiny", 8, &roster));
    assert!(room(&busy(1), None, true, "tiny", 8, &roster));
    // A second call behind the running one could start ahead of a better call submitted
    // after it: no room.
    assert!(!room(&busy(2), None, true, "tiny", 8, &roster));
    assert!(!room(&busy(3), None, true, "tiny", 8, &roster));
}
