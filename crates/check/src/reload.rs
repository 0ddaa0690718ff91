//! Reload: the new configuration takes over the old one's state (keepalived ipwrapper.c
//! `clear_diff_services`, `clear_diff_rs`, `migrate_checkers`, `clear_diff_s_srv`, `check_new_rs_state`,
//! check_daemon.c `start_check` with `reload` set).
use crate::config::{EngineConfig, Policy, VsKey};
use crate::engine::Engine;
use crate::real_server::{dest_cmd, DestCmd};
use crate::state::Phase;
use crate::types::{Action, Dest, Instant, RsId, VsId};

impl Engine {
    /// The engine for `new_cfg`, taking over `old`'s state: surviving virtual servers (same address /
    /// fwmark / group) and real servers (same address and port) keep their state and IPVS entries, checkers
    /// matched by [`crate::CheckerConfig::reload_key`] keep up/down, removed objects are deleted (those
    /// actions come wrapped in [`Action::Retired`], with the old ids), new ones are set up as at start.
    /// As in keepalived 2.2.7 every checker is scheduled afresh (1 s + warmup) and outstanding attempts of
    /// the old engine are cancelled.
    pub fn reload(old: &Engine, new_cfg: EngineConfig, now: Instant, out: &mut Vec<Action>) -> Engine {
        let mut new = Engine::new(new_cfg, 0);
        new.take_over(old, now, out);
        new
    }
}

/// Runs `f` (work on the old engine) and appends its actions, wrapped in [`Action::Retired`] except logs.
fn retired(out: &mut Vec<Action>, f: impl FnOnce(&mut Vec<Action>)) {
    let mut v = Vec::new();
    f(&mut v);
    out.extend(v.into_iter().map(|a| match a {
        Action::Log(_) => a,
        other => Action::Retired(Box::new(other)),
    }));
}

impl Engine {
    fn take_over(&mut self, old: &Engine, now: Instant, out: &mut Vec<Action>) {
        self.rng = old.rng.clone();
        self.counters = old.counters;
        self.files = old.files.clone();
        self.copy_suspend_counts(old);
        self.phase = old.phase;
        if old.phase != Phase::Running {
            return;
        }
        let mut old = old.clone();
        retired(out, |o| old.cancel_all(o));
        for c in 0..self.checkers.len() {
            if matches!(self.cfg.checkers[c].policy, Policy::File { .. }) {
                self.checkers[c].has_run = true;
            }
        }
        self.set_quorum_states();
        self.set_file_weights();
        self.clear_diff_services(&mut old, out);
        self.file_checkers_down(true, out);
        self.set_effective_weights();
        self.check_new_rs_state();
        self.init_services(out);
        self.register_checkers(now, out);
    }

    fn copy_suspend_counts(&mut self, old: &Engine) {
        for (nv, v) in self.cfg.virtual_servers.iter().enumerate() {
            if let Some(ov) = old.cfg.virtual_servers.iter().position(|o| o.key == v.key) {
                self.vs[nv].ha_suspend_addrs = old.vs[ov].ha_suspend_addrs;
            }
        }
    }

    /// keepalived `clear_diff_services`.
    fn clear_diff_services(&mut self, old: &mut Engine, out: &mut Vec<Action>) {
        for ov in 0..old.vs.len() {
            let key = old.cfg.virtual_servers[ov].key.clone();
            let Some(nv) = self.cfg.virtual_servers.iter().position(|v| v.key == key) else {
                let line = match &key {
                    VsKey::Group { name, .. } => format!("Removing Virtual Server Group [{name}]"),
                    _ => format!("Removing Virtual Server {}", old.cfg.virtual_servers[ov].name),
                };
                Engine::log(out, line);
                retired(out, |o| old.clear_service_vs(VsId(ov), false, o));
                continue;
            };
            self.vs[nv].alive = old.vs[ov].alive;
            self.vs[nv].quorum_up = old.vs[ov].quorum_up;
            if old.cfg.virtual_servers[ov].params != self.cfg.virtual_servers[nv].params {
                out.push(Action::EditService { vs: VsId(nv) });
            }
            self.clear_diff_rs(old, VsId(ov), VsId(nv), out);
            self.clear_diff_sorry(old, VsId(ov), VsId(nv), out);
        }
    }

    /// keepalived `clear_diff_rs`: real servers are the same when address and port are.
    fn clear_diff_rs(&mut self, old: &mut Engine, ov: VsId, nv: VsId, out: &mut Vec<Action>) {
        for or in 0..old.rs[ov.0].len() {
            let orid = RsId { vs: ov, rs: or };
            let (addr, port) = (old.rs_cfg(orid).addr, old.rs_cfg(orid).port);
            let found =
                self.cfg.virtual_servers[nv.0].real_servers.iter().position(|r| r.addr == addr && r.port == port);
            let Some(nr) = found else {
                Engine::log(out, format!("service {} no longer exist", old.rs_cfg(orid).name));
                retired(out, |o| old.clear_service_rs(orid, false, o));
                continue;
            };
            let nrid = RsId { vs: nv, rs: nr };
            let od = old.rs[ov.0][or].clone();
            let d = self.dest_mut(nrid);
            d.alive = od.alive;
            d.set = od.set;
            d.effective_weight = od.effective_weight;
            d.previous_weight = od.effective_weight;
            d.reloaded = true;
            self.migrate_checkers(old, orid, nrid, out);
            let moved = old.rs_cfg(orid).forwarding != self.rs_cfg(nrid).forwarding;
            if moved && self.rs[nv.0][nr].set {
                self.rs_cmd(nrid, DestCmd::Edit, out);
            }
        }
        retired(out, |o| old.update_vs_notifies(ov, false, o));
    }

    /// keepalived `migrate_checkers`: matching checkers keep their state; then the real server is put in
    /// or out of the pool to agree with its checkers.
    fn migrate_checkers(&mut self, old: &Engine, orid: RsId, nrid: RsId, out: &mut Vec<Action>) {
        let olds: Vec<usize> = (0..old.checkers.len()).filter(|&c| old.cfg.checkers[c].rs == orid).collect();
        let news: Vec<usize> = (0..self.checkers.len()).filter(|&c| self.cfg.checkers[c].rs == nrid).collect();
        for &nc in &news {
            let Some(key) = self.cfg.checkers[nc].reload_key.clone() else { continue };
            if let Some(&oc) = olds.iter().find(|&&oc| old.cfg.checkers[oc].reload_key.as_ref() == Some(&key)) {
                self.migrate_checker(old, oc, nc);
            }
        }
        let failed = news.iter().filter(|&&c| self.checkers[c].has_run && !self.checkers[c].is_up).count();
        let any_run = news.iter().any(|&c| self.checkers[c].has_run);
        self.dest_mut(nrid).num_failed = u32::try_from(failed).unwrap_or(u32::MAX);
        if failed > 0 || (!self.rs_alive(nrid) && !any_run) {
            for &c in &news {
                if !self.checkers[c].has_run {
                    if self.cfg.checkers[c].alpha {
                        self.set_checker_state(c, false);
                    }
                    // One failure is enough.
                    self.checkers[c].retry_it = self.cfg.checkers[c].retry;
                }
            }
        }
        // keepalived 2.2.7 brings such a real server up here and takes it down again a moment later when its
        // FILE_CHECK is found at fault (set_track_file_checkers_down): a flap with notifies. Not so here.
        let file_fault = news.iter().any(|&c| self.file_at_fault(c));
        let d = &self.rs[nrid.vs.0][nrid.rs];
        if d.num_failed == 0 && !d.alive && !file_fault {
            self.perform_svr_state(nrid, true, out);
        } else if d.num_failed > 0 && d.set != d.inhibit {
            self.rs_cmd(nrid, if d.inhibit { DestCmd::Add } else { DestCmd::Del }, out);
        }
    }

    fn migrate_checker(&mut self, old: &Engine, oc: usize, nc: usize) {
        let o = &old.checkers[oc];
        if o.has_run && o.is_up != self.checkers[nc].is_up {
            self.set_checker_state(nc, o.is_up);
        }
        let retry = self.cfg.checkers[nc].retry;
        let st = &mut self.checkers[nc];
        st.has_run = o.has_run;
        if o.retry_it > 0 && retry > 0 {
            st.retry_it = if o.retry_it >= retry { retry - 1 } else { o.retry_it };
        }
        if let Policy::Misc { dynamic, .. } = self.cfg.checkers[nc].policy {
            st.last_exit_code = o.last_exit_code;
            st.last_ran = o.last_ran;
            // keepalived 2.2.7 sets -weight for a last exit status of 0 (so the weight becomes 0): a bug;
            // only a dynamic status (2..255) carries a weight.
            if dynamic && (2..=255).contains(&o.last_exit_code) {
                let iweight = self.rs_cfg(self.cfg.checkers[nc].rs).weight;
                self.checkers[nc].cur_weight = o.last_exit_code - 2 - iweight;
            }
        }
    }

    /// keepalived `clear_diff_s_srv`.
    fn clear_diff_sorry(&mut self, old: &mut Engine, ov: VsId, nv: VsId, out: &mut Vec<Action>) {
        let Some(os) = old.vs[ov.0].sorry.clone() else { return };
        let ocfg = old.cfg.virtual_servers[ov.0].sorry.as_ref().map(|s| (s.addr, s.port));
        let ncfg = self.cfg.virtual_servers[nv.0].sorry.as_ref().map(|s| (s.addr, s.port));
        if ncfg.is_some() && ncfg == ocfg {
            if let Some(s) = self.vs[nv.0].sorry.as_mut() {
                s.alive = os.alive;
                s.set = os.set;
                s.effective_weight = 1;
                s.reloaded = true;
            }
            return;
        }
        let line = format!("Removing sorry server {} from VS {}", old.sorry_name(ov), old.vs_cfg(ov.0).name);
        let Some(s) = old.vs[ov.0].sorry.as_mut() else { return };
        if s.inhibit {
            if !s.alive && s.set {
                s.alive = true;
            }
            s.inhibit = false;
        }
        if s.alive {
            Engine::log(out, line);
            retired(out, |o| dest_cmd(s, ov, Dest::Sorry(ov), DestCmd::Del, o));
        }
    }

    /// keepalived `check_new_rs_state`: alpha checkers of new real servers start down.
    fn check_new_rs_state(&mut self) {
        for c in 0..self.checkers.len() {
            let rs = self.cfg.checkers[c].rs;
            if self.rs[rs.vs.0][rs.rs].reloaded || !self.cfg.checkers[c].alpha {
                continue;
            }
            self.set_checker_state(c, false);
            self.dest_mut(rs).alive = false;
        }
    }
}
