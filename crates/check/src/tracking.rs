//! Event-driven checkers: FILE_CHECK (keepalived check_file.c, trackers/track_file.c
//! `process_update_checker_track_file_status`) and BFD_CHECK (check_bfd.c `bfd_check_thread`).
use crate::config::Policy;
use crate::engine::Engine;
use crate::state::Phase;
use crate::types::Action;

/// keepalived `IPVS_WEIGHT_FAULT` (INT_MIN): the file value puts the checker down.
pub const WEIGHT_FAULT: i64 = i32::MIN as i64;

/// keepalived `weight_range`: clamp to an int.
fn weight_range(w: i64) -> i64 {
    w.clamp(i64::from(i32::MIN), i64::from(i32::MAX))
}

/// The status a FILE_CHECK derives from a file value: its weight contribution, or [`WEIGHT_FAULT`].
/// Weight 0: any non-zero value is a fault (with `reverse`: a zero value is). Otherwise
/// `value × weight × (reverse ? -1 : 1)`, a fault when it reaches INT_MIN.
///
/// keepalived 2.2.7 ignores `reverse` for weight-0 FILE_CHECKs at start (and at reload) but honours it on
/// every later change; we honour it always.
pub fn file_status(value: i64, weight: i64, reverse: bool) -> i64 {
    if weight == 0 {
        return if (value != 0) != reverse { WEIGHT_FAULT } else { 0 };
    }
    let mult = if reverse { -1 } else { 1 };
    weight_range(value.saturating_mul(weight).saturating_mul(mult))
}

impl Engine {
    fn file_policy(&self, c: usize) -> Option<(&str, i64, bool)> {
        match &self.cfg.checkers[c].policy {
            Policy::File { track_file, weight, reverse } => Some((track_file.as_str(), *weight, *reverse)),
            _ => None,
        }
    }

    /// keepalived `set_track_file_weights`: a FILE_CHECK's initial contribution `value × weight`.
    pub(crate) fn set_file_weights(&mut self) {
        for c in 0..self.checkers.len() {
            let Some((name, weight, reverse)) = self.file_policy(c) else { continue };
            let value = self.files.get(name).copied().unwrap_or(0);
            if value != 0 && weight != 0 {
                let mult = if reverse { -1 } else { 1 };
                self.checkers[c].cur_weight = value.saturating_mul(weight).saturating_mul(mult);
            }
        }
    }

    /// A FILE_CHECK whose track_file's current value is a fault.
    pub(crate) fn file_at_fault(&self, c: usize) -> bool {
        self.file_policy(c).is_some_and(|(name, weight, reverse)| {
            file_status(self.files.get(name).copied().unwrap_or(0), weight, reverse) == WEIGHT_FAULT
        })
    }

    /// keepalived `set_track_file_checkers_down`: a FILE_CHECK whose value is a fault starts down. At start
    /// the failure is only counted (`init_service_rs` then leaves the real server out); at reload it is a
    /// transition of a checker that was up.
    pub(crate) fn file_checkers_down(&mut self, reload: bool, out: &mut Vec<Action>) {
        for c in 0..self.checkers.len() {
            let Some((name, weight, reverse)) = self.file_policy(c) else { continue };
            let value = self.files.get(name).copied().unwrap_or(0);
            if file_status(value, weight, reverse) != WEIGHT_FAULT {
                continue;
            }
            if reload {
                self.file_checker_update(c, 0, WEIGHT_FAULT, out);
            } else {
                self.set_checker_state(c, false);
            }
        }
    }

    /// A track_file's new value (before Start: its initial value).
    pub(crate) fn file_value(&mut self, name: &str, value: i64, out: &mut Vec<Action>) {
        let tracked = (0..self.checkers.len()).any(|c| self.file_policy(c).is_some_and(|p| p.0 == name));
        if !tracked {
            self.counters.unknown_name += 1;
        }
        let last = self.files.get(name).copied().unwrap_or(0);
        if self.phase != Phase::Running || value == last {
            self.files.insert(name.to_string(), value);
            return;
        }
        for c in 0..self.checkers.len() {
            let Some((n, weight, reverse)) = self.file_policy(c) else { continue };
            if n != name {
                continue;
            }
            let previous = file_status(last, weight, reverse);
            let new = file_status(value, weight, reverse);
            self.file_checker_update(c, previous, new, out);
        }
        self.files.insert(name.to_string(), value);
    }

    /// keepalived `process_update_checker_track_file_status`.
    pub(crate) fn file_checker_update(&mut self, c: usize, previous: i64, new: i64, out: &mut Vec<Action>) {
        if previous == new {
            return;
        }
        let rs = self.cfg.checkers[c].rs;
        if new == WEIGHT_FAULT {
            self.update_checker(c, false, out);
            let cur = self.checkers[c].cur_weight;
            let d = self.dest_mut(rs);
            d.effective_weight = d.effective_weight.saturating_sub(cur);
            self.checkers[c].cur_weight = 0;
        } else if previous == WEIGHT_FAULT {
            self.checkers[c].cur_weight = new;
            let d = self.dest_mut(rs);
            d.effective_weight = d.effective_weight.saturating_add(new);
            self.update_checker(c, true, out);
        } else {
            let w = self.rs[rs.vs.0][rs.rs].effective_weight.saturating_add(new - previous);
            self.update_weight(rs, w, true, out);
            self.checkers[c].cur_weight = new;
        }
    }

    /// A BFD session changed state: every BFD_CHECK on it whose state differs (or that has not run yet).
    pub(crate) fn bfd_event(&mut self, name: &str, up: bool, out: &mut Vec<Action>) {
        if self.phase != Phase::Running {
            self.counters.not_running += 1;
            return;
        }
        let mut tracked = false;
        for c in 0..self.checkers.len() {
            let Policy::Bfd { name: n } = &self.cfg.checkers[c].policy else { continue };
            if n != name {
                continue;
            }
            tracked = true;
            if up == self.checkers[c].is_up && self.checkers[c].has_run {
                continue;
            }
            let rs = self.cfg.checkers[c].rs;
            let state = if up { "UP" } else { "DOWN" };
            Engine::log(out, format!("BFD check of [{name}] RS({}) is {state}", self.rs_cfg(rs).name));
            let was_up = self.checkers[c].is_up;
            let rs_was_alive = self.rs_alive(rs);
            self.update_checker(c, up, out);
            if up != was_up {
                let verdict = if up { "succeeded" } else { "failed" };
                self.checker_alert(c, rs_was_alive, format!("=> BFD CHECK {name} {verdict} on service <="), out);
            }
        }
        if !tracked {
            self.counters.unknown_name += 1;
        }
    }
}
