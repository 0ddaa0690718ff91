//! The engine: state, input dispatch, timers and read-only accessors.
use std::collections::{BTreeMap, BTreeSet};

use crate::config::{EngineConfig, RsConfig, VsConfig};
use crate::rng::Rng;
use crate::state::{CheckerState, DestState, Phase, VsState};
use crate::types::{Action, CheckOutcome, CheckerId, Counters, Input, Instant, RsId, VsId};

/// keepalived's healthchecker engine for one configuration.
#[derive(Clone, Debug)]
pub struct Engine {
    pub(crate) cfg: EngineConfig,
    pub(crate) vs: Vec<VsState>,
    /// Real servers, per virtual server.
    pub(crate) rs: Vec<Vec<DestState>>,
    pub(crate) checkers: Vec<CheckerState>,
    /// Last value of each track_file (keepalived `last_status`), by name.
    pub(crate) files: BTreeMap<String, i64>,
    /// Pending checker timers: (due, checker index).
    pub(crate) timers: BTreeSet<(Instant, usize)>,
    pub(crate) rng: Rng,
    pub(crate) phase: Phase,
    pub(crate) counters: Counters,
}

impl Engine {
    /// A stopped engine for `cfg`; nothing happens before [`Input::Start`]. `seed` drives the warmup
    /// draws (keepalived's `random()`). `cfg` is [`EngineConfig::sanitized`] first.
    pub fn new(cfg: EngineConfig, seed: u64) -> Engine {
        let cfg = cfg.sanitized();
        let vs = cfg
            .virtual_servers
            .iter()
            .map(|v| VsState {
                sorry: v.sorry.as_ref().map(|s| DestState {
                    inhibit: s.inhibit,
                    effective_weight: 1,
                    ..DestState::default()
                }),
                ..VsState::default()
            })
            .collect();
        let rs = cfg
            .virtual_servers
            .iter()
            .map(|v| {
                v.real_servers
                    .iter()
                    .map(|r| DestState { inhibit: r.inhibit, effective_weight: r.weight, ..DestState::default() })
                    .collect()
            })
            .collect();
        let checkers = cfg.checkers.iter().map(|_| CheckerState::new()).collect();
        Engine {
            cfg,
            vs,
            rs,
            checkers,
            files: BTreeMap::new(),
            timers: BTreeSet::new(),
            rng: Rng::new(seed),
            phase: Phase::Configured,
            counters: Counters::default(),
        }
    }

    /// Builds the engine from a parsed configuration ([`EngineConfig::from_config`]).
    pub fn from_config(cfg: &keepalived_config::Config, seed: u64) -> Engine {
        Engine::new(EngineConfig::from_config(cfg), seed)
    }

    /// Handles one input at `now`, appending the resulting actions to `out`.
    pub fn handle(&mut self, now: Instant, input: Input, out: &mut Vec<Action>) {
        if self.phase == Phase::Stopped {
            self.counters.not_running += 1;
            return;
        }
        match input {
            Input::Start => self.start(now, out),
            Input::CheckResult { checker, result } => self.check_result(now, checker, result, out),
            Input::FileValue { name, value } => self.file_value(&name, value, out),
            Input::Bfd { name, up } => self.bfd_event(&name, up, out),
            Input::VsAddress { vs, present } => self.vs_address(vs, present, out),
            Input::Shutdown => self.shutdown(out),
        }
    }

    /// Runs every checker timer due at or before `now` (each attempt is started at `now`).
    pub fn handle_timeout(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.handle_timeout_early(now, now, out);
    }

    /// Runs every checker timer due at or before `horizon` (`>= now`), each attempt started at `now`:
    /// the shell coalesces timers a little apart into one wake-up by running them early, never late.
    pub fn handle_timeout_early(&mut self, now: Instant, horizon: Instant, out: &mut Vec<Action>) {
        let horizon = horizon.max(now);
        while let Some(&(due, c)) = self.timers.first() {
            if due > horizon {
                break;
            }
            self.timers.pop_first();
            self.checkers[c].next_run = None;
            self.run_checker(now, c, out);
        }
    }

    /// When [`Engine::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|&(t, _)| t)
    }

    fn check_result(&mut self, now: Instant, id: CheckerId, result: CheckOutcome, out: &mut Vec<Action>) {
        if self.phase != Phase::Running {
            self.counters.not_running += 1;
            return;
        }
        let Some(st) = self.checkers.get_mut(id.0) else {
            self.counters.unknown_checker += 1;
            return;
        };
        if !st.in_flight {
            self.counters.unexpected_result += 1;
            return;
        }
        st.in_flight = false;
        self.counters.results += 1;
        self.epilog(now, id.0, result, out);
    }

    // ------------------------------------------------------------------ accessors

    /// The configuration in force (after [`Engine::new`]'s sanitizing, or the last reload).
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Whether the engine is configured, running or stopped.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The inputs ignored so far, and the attempts started and results applied.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The live state (quorum, sorry server) of virtual server `vs`.
    pub fn vs_state(&self, vs: VsId) -> Option<&VsState> {
        self.vs.get(vs.0)
    }

    /// The live state (alive, weight in IPVS) of real server `rs`.
    pub fn rs_state(&self, rs: RsId) -> Option<&DestState> {
        self.rs.get(rs.vs.0).and_then(|v| v.get(rs.rs))
    }

    /// The live state (verdict, retries, next run) of checker `c`.
    pub fn checker(&self, c: CheckerId) -> Option<&CheckerState> {
        self.checkers.get(c.0)
    }

    /// Sum of the weights of the alive real servers (keepalived `weigh_live_realservers`).
    pub fn weight_sum(&self, vs: VsId) -> i64 {
        self.rs.get(vs.0).map_or(0, |l| l.iter().filter(|r| r.alive).map(|r| real_weight(r.effective_weight)).sum())
    }

    /// Last value seen for a track_file.
    pub fn file_value_of(&self, name: &str) -> Option<i64> {
        self.files.get(name).copied()
    }

    // ------------------------------------------------------------------ internal helpers

    pub(crate) fn vs_cfg(&self, vs: usize) -> &VsConfig {
        &self.cfg.virtual_servers[vs]
    }

    pub(crate) fn rs_cfg(&self, rs: RsId) -> &RsConfig {
        &self.cfg.virtual_servers[rs.vs.0].real_servers[rs.rs]
    }

    pub(crate) fn dest_mut(&mut self, rs: RsId) -> &mut DestState {
        &mut self.rs[rs.vs.0][rs.rs]
    }

    pub(crate) fn log(out: &mut Vec<Action>, s: String) {
        out.push(Action::Log(s));
    }

    /// Schedules checker `c` at `at` (replacing any pending timer).
    pub(crate) fn schedule(&mut self, c: usize, at: Instant) {
        if let Some(old) = self.checkers[c].next_run.take() {
            self.timers.remove(&(old, c));
        }
        self.checkers[c].next_run = Some(at);
        self.timers.insert((at, c));
    }
}

/// keepalived `real_weight`: the weight IPVS gets, 0..=i32::MAX.
pub fn real_weight(w: i64) -> i64 {
    w.clamp(0, i64::from(i32::MAX))
}
