//! The order in which calls get a worker: a call's [`Ticket`] stands in the pool's [`Line`]
//! from its submission until it has a worker, so that priorities hold past the pool's queue.
//!
//! A call waits first in the `AsyncPool`'s queue (in priority order), then, once that pool
//! runs it (it has a place), here, for room on a worker (the pool runs up to
//! `PIPELINE_DEPTH` calls per worker at once, more than the workers can take). Only the first
//! waiting call in priority order, then submission order, may take room on a worker, and only
//! while no call of a higher priority is still in the queue: so a call past the queue never
//! starts ahead of a better one. The queue gives the next free place to its best call, and a
//! place frees whenever a call with a worker ends, so the wait for it is short; only when
//! every place is held by a waiting call (none would ever free) does the first one go anyway.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futurepool_core::Priority;
use tokio::sync::Notify;

use crate::conn::{Roster, lock};

/// The calls of one pool that do not have a worker yet.
#[derive(Default)]
pub(crate) struct Line {
    state: Mutex<State>,
    next: AtomicU64,
    /// How many calls the pool runs at once (its places).
    places: AtomicUsize,
}

impl Line {
    /// Sets how many calls the pool runs at once.
    pub(crate) fn set_places(&self, places: usize) {
        self.places.store(places, Ordering::Relaxed);
    }
}

#[derive(Default)]
struct State {
    /// Submitted and still in the pool's queue: how many at each level.
    queued: BTreeMap<u8, usize>,
    /// Past the queue and looking for a worker, in the order they may take one.
    /// Each with the bell that tells it it is first.
    waiting: BTreeMap<(Reverse<u8>, u64), Arc<Notify>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// In the pool's queue.
    Queued,
    /// Looking for a worker.
    Waiting,
    /// Has a worker, or a place to start one.
    Away,
}

/// Whether a waiting call may take room on a worker.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Turn {
    /// Yes: it is the first waiting call, and nothing better is queued.
    Go,
    /// It is the first waiting call, but a call of a higher priority is still in the queue,
    /// about to get a place.
    Behind,
    /// No: another waiting call goes first.
    Wait,
}

/// One call's place in its pool's [`Line`]; it leaves the line when dropped.
pub(crate) struct Ticket {
    roster: Arc<Roster>,
    level: u8,
    seq: u64,
    stage: Stage,
    /// Rung when the call becomes the first waiting one, or when what holds the first one
    /// back changes.
    bell: Arc<Notify>,
}

impl Ticket {
    /// A ticket for a call being submitted at `priority`: in the queue.
    pub(crate) fn new(roster: &Arc<Roster>, priority: Priority) -> Self {
        let line = &roster.line;
        let seq = line.next.fetch_add(1, Ordering::Relaxed);
        let level = priority.level();
        if priority != Priority::NORMAL && !roster.prioritized.load(Ordering::Relaxed) {
            roster.prioritized.store(true, Ordering::Relaxed);
        }
        *lock(&line.state).queued.entry(level).or_default() += 1;
        Self {
            roster: Arc::clone(roster),
            level,
            seq,
            stage: Stage::Queued,
            bell: Arc::default(),
        }
    }

    fn key(&self) -> (Reverse<u8>, u64) {
        (Reverse(self.level), self.seq)
    }

    /// The call looks for a worker (again): past the queue, in line by its priority and
    /// submission order.
    pub(crate) fn wait(&mut self) {
        let line = &self.roster.line;
        let mut state = lock(&line.state);
        if self.stage == Stage::Queued {
            unqueue(&mut state, self.level);
        }
        if self.stage != Stage::Waiting {
            state.waiting.insert(self.key(), Arc::clone(&self.bell));
            self.stage = Stage::Waiting;
        }
        // Every place is now held by a waiting call: the first goes whatever is queued.
        if state.waiting.len() >= line.places.load(Ordering::Relaxed) {
            ring_first(&state);
        }
    }

    /// What a call that is not first waits for: its turn.
    pub(crate) fn bell(&self) -> &Notify {
        &self.bell
    }

    /// Whether the call may take room on a worker now.
    pub(crate) fn turn(&self) -> Turn {
        let state = lock(&self.roster.line.state);
        if state.waiting.first_key_value().map(|(key, _)| key) != Some(&self.key()) {
            Turn::Wait
        } else if state
            .queued
            .last_key_value()
            .is_some_and(|(level, _)| *level > self.level)
            && state.waiting.len() < self.roster.line.places.load(Ordering::Relaxed)
        {
            Turn::Behind
        } else {
            Turn::Go
        }
    }

    /// The call has a worker, or a place to start one: the next call may go.
    pub(crate) fn leave(&mut self) {
        let mut state = lock(&self.roster.line.state);
        match self.stage {
            Stage::Queued => unqueue(&mut state, self.level),
            Stage::Waiting => {
                state.waiting.remove(&self.key());
            }
            Stage::Away => return,
        }
        self.stage = Stage::Away;
        // The next call is first now, or no longer held back by this one in the queue.
        ring_first(&state);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        // A call cancelled in the queue or while waiting lets the calls behind it go.
        self.leave();
    }
}

/// Tells the first waiting call to look again.
fn ring_first(state: &State) {
    if let Some((_, bell)) = state.waiting.first_key_value() {
        bell.notify_one();
    }
}

fn unqueue(state: &mut State, level: u8) {
    if let Some(count) = state.queued.get_mut(&level) {
        *count -= 1;
        if *count == 0 {
            state.queued.remove(&level);
        }
    }
}
