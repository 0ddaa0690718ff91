//! Start: initial checker states, IPVS set-up and the first schedule (keepalived check_data.c
//! `validate_check_config` tail, check_daemon.c `start_check`, ipwrapper.c `init_services`,
//! check_api.c `register_checkers_thread`).
use crate::config::Policy;
use crate::engine::Engine;
use crate::real_server::{dest_cmd, DestCmd};
use crate::state::Phase;
use crate::types::{Action, Dest, Instant, RsId, VsId};

/// keepalived `BOOTSTRAP_DELAY`: the first attempt comes 1 s after start (plus the warmup draw).
pub const BOOTSTRAP_DELAY: u64 = 1_000_000;

impl Engine {
    pub(crate) fn start(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.phase != Phase::Configured {
            self.counters.not_running += 1;
            return;
        }
        self.phase = Phase::Running;
        self.initial_checker_states();
        self.set_quorum_states();
        self.set_file_weights();
        self.file_checkers_down(false, out);
        self.set_effective_weights();
        self.init_services(out);
        self.register_checkers(now, out);
    }

    /// Alpha checkers start down (their real server with them); a non-alpha checker goes down on its first
    /// failure (`retry_it = retry`).
    fn initial_checker_states(&mut self) {
        for c in 0..self.checkers.len() {
            if matches!(self.cfg.checkers[c].policy, Policy::File { .. }) {
                // add_rs_to_track_files: the file has been read, no alpha.
                self.checkers[c].has_run = true;
                continue;
            }
            if self.cfg.checkers[c].alpha {
                self.set_checker_state(c, false);
                let rs = self.cfg.checkers[c].rs;
                self.dest_mut(rs).alive = false;
            }
            self.checkers[c].retry_it = self.cfg.checkers[c].retry;
        }
    }

    /// keepalived `set_effective_weights`: configured weight plus every checker's dynamic weight.
    pub(crate) fn set_effective_weights(&mut self) {
        for v in 0..self.rs.len() {
            for r in 0..self.rs[v].len() {
                self.rs[v][r].effective_weight = self.cfg.virtual_servers[v].real_servers[r].weight;
            }
        }
        for c in 0..self.checkers.len() {
            let rs = self.cfg.checkers[c].rs;
            let w = self.checkers[c].cur_weight;
            let d = self.dest_mut(rs);
            d.effective_weight = d.effective_weight.saturating_add(w);
        }
    }

    /// keepalived `init_services`.
    pub(crate) fn init_services(&mut self, out: &mut Vec<Action>) {
        for v in 0..self.vs.len() {
            self.init_service_vs(VsId(v), out);
        }
    }

    /// keepalived `init_service_vs`: the service, its real servers, the quorum, the inhibited sorry server.
    fn init_service_vs(&mut self, vs: VsId, out: &mut Vec<Action>) {
        if !self.vs[vs.0].alive {
            out.push(Action::AddService { vs });
            self.vs[vs.0].alive = true;
        }
        for r in 0..self.rs[vs.0].len() {
            self.init_service_rs(RsId { vs, rs: r }, out);
        }
        self.update_quorum_state(vs, true, out);
        let dup = self.vs_cfg(vs.0).sorry.as_ref().is_some_and(|s| s.duplicates_rs);
        if let Some(s) = self.vs[vs.0].sorry.as_mut() {
            if s.inhibit && !s.set {
                if dup {
                    s.set = true;
                } else {
                    // keepalived adds it with weight 0 by faking a failed checker.
                    s.num_failed = 1;
                    dest_cmd(s, vs, Dest::Sorry(vs), DestCmd::Add, out);
                    s.num_failed = 0;
                }
            }
        }
    }

    /// keepalived `init_service_rs` for one real server.
    fn init_service_rs(&mut self, rs: RsId, out: &mut Vec<Action>) {
        let d = &self.rs[rs.vs.0][rs.rs];
        if d.reloaded {
            if d.effective_weight != d.previous_weight {
                let new = d.effective_weight;
                let prev = d.previous_weight;
                self.dest_mut(rs).effective_weight = prev;
                self.update_weight(rs, new, false, out);
            }
            // keepalived: "Do not re-add failed RS instantly on reload".
            return;
        }
        let d = &self.rs[rs.vs.0][rs.rs];
        if (d.num_failed == 0 && !d.alive) || (d.inhibit && !d.set) {
            self.rs_cmd(rs, DestCmd::Add, out);
            if self.rs[rs.vs.0][rs.rs].num_failed == 0 {
                self.dest_mut(rs).alive = true;
                if self.cfg.options.rs_init_notifies {
                    self.rs_notify(rs, out);
                }
            }
        }
    }

    /// keepalived `register_checkers_thread`: logs and first schedule of the polled checkers.
    pub(crate) fn register_checkers(&mut self, now: Instant, out: &mut Vec<Action>) {
        for c in 0..self.checkers.len() {
            if !self.cfg.checkers[c].policy.is_polled() {
                continue;
            }
            let rs = self.cfg.checkers[c].rs;
            if self.vs_cfg(rs.vs.0).ha_suspend && self.vs[rs.vs.0].ha_suspend_addrs == 0 {
                self.checkers[c].enabled = false;
            }
            let line = format!(
                "{}ctivating healthchecker for service {} for VS {}",
                if self.checkers[c].enabled { "A" } else { "Dea" },
                self.rs_cfg(rs).name,
                self.vs_cfg(rs.vs.0).name
            );
            Engine::log(out, line);
            let warmup = self.rng.warmup(self.cfg.checkers[c].warmup);
            self.schedule(c, now.add_us(BOOTSTRAP_DELAY.saturating_add(warmup)));
        }
        if self.cfg.options.with_bfd {
            Engine::log(out, "Activating BFD healthchecker".to_string());
        }
    }
}
