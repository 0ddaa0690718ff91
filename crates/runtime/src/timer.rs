//! A timer heap for a mio loop: timers are kept in a binary heap of
//! deadlines; the loop asks for the next deadline to compute its poll
//! timeout, then pops the expired ones. Cancelled timers are skipped lazily.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId(u64);

pub struct TimerHeap<T> {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    live: HashMap<u64, T>,
    next_id: u64,
}

impl<T> Default for TimerHeap<T> {
    fn default() -> Self {
        TimerHeap { heap: BinaryHeap::new(), live: HashMap::new(), next_id: 0 }
    }
}

impl<T> TimerHeap<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Fire `what` at `at`.
    pub fn add_at(&mut self, at: Instant, what: T) -> TimerId {
        let id = self.next_id;
        self.next_id += 1;
        self.heap.push(Reverse((at, id)));
        self.live.insert(id, what);
        TimerId(id)
    }

    /// Fire `what` after `after`, counted from `now`.
    pub fn add(&mut self, now: Instant, after: Duration, what: T) -> TimerId {
        self.add_at(now + after, what)
    }

    /// Cancel a timer; returns its payload if it had not fired.
    pub fn cancel(&mut self, id: TimerId) -> Option<T> {
        self.live.remove(&id.0)
    }

    pub fn is_pending(&self, id: TimerId) -> bool {
        self.live.contains_key(&id.0)
    }

    pub fn len(&self) -> usize {
        self.live.len()
    }

    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// The earliest live deadline.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, id))) = self.heap.peek().copied() {
            if self.live.contains_key(&id) {
                return Some(at);
            }
            self.heap.pop();
        }
        None
    }

    /// The poll timeout for a loop: time to the next deadline (zero if
    /// already due), or `None` to wait for I/O only.
    pub fn poll_timeout(&mut self, now: Instant) -> Option<Duration> {
        self.next_deadline().map(|d| d.saturating_duration_since(now))
    }

    /// Pop one timer due at `now` (call repeatedly).
    pub fn pop_expired(&mut self, now: Instant) -> Option<(TimerId, T)> {
        while let Some(Reverse((at, id))) = self.heap.peek().copied() {
            if at > now {
                return None;
            }
            self.heap.pop();
            if let Some(t) = self.live.remove(&id) {
                return Some((TimerId(id), t));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_cancel_and_timeout() {
        let t0 = Instant::now();
        let mut h = TimerHeap::new();
        let a = h.add(t0, Duration::from_millis(30), "a");
        h.add(t0, Duration::from_millis(10), "b");
        h.add(t0, Duration::from_millis(20), "c");
        assert_eq!(h.poll_timeout(t0), Some(Duration::from_millis(10)));
        assert_eq!(h.cancel(a), Some("a"));
        let now = t0 + Duration::from_millis(40);
        let fired: Vec<_> = std::iter::from_fn(|| h.pop_expired(now).map(|x| x.1)).collect();
        assert_eq!(fired, vec!["b", "c"]);
        assert!(h.is_empty());
        assert_eq!(h.poll_timeout(now), None);
    }

    #[test]
    fn same_deadline_fires_in_insertion_order() {
        let t0 = Instant::now();
        let mut h = TimerHeap::new();
        for i in 0..5 {
            h.add_at(t0, i);
        }
        let fired: Vec<_> = std::iter::from_fn(|| h.pop_expired(t0).map(|x| x.1)).collect();
        assert_eq!(fired, vec![0, 1, 2, 3, 4]);
    }
}
