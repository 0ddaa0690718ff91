//! Scheduling of polled checkers: a due timer starts an attempt unless the checker is suspended
//! (keepalived's `*_connect_thread` / `misc_check_thread`: a disabled checker just re-arms `delay_loop`).
use crate::config::Policy;
use crate::engine::Engine;
use crate::types::{Action, CheckerId, Instant};

impl Engine {
    /// Checker `c`'s timer fired at `now`.
    pub(crate) fn run_checker(&mut self, now: Instant, c: usize, out: &mut Vec<Action>) {
        if self.checkers[c].in_flight {
            return;
        }
        if !self.checkers[c].enabled {
            let d = self.cfg.checkers[c].delay_loop;
            self.schedule(c, now.add_us(d));
            return;
        }
        self.checkers[c].in_flight = true;
        if matches!(self.cfg.checkers[c].policy, Policy::Misc { .. }) {
            self.checkers[c].last_ran = now;
        }
        self.counters.checks_started += 1;
        out.push(Action::StartCheck { checker: CheckerId(c) });
    }

    /// Re-arms checker `c` `delay` µs after `now`.
    pub(crate) fn rearm(&mut self, c: usize, now: Instant, delay: u64) {
        self.schedule(c, now.add_us(delay));
    }
}
