//! Quorum with hysteresis and the sorry server (keepalived ipwrapper.c `update_quorum_state`,
//! `perform_quorum_state`, `do_vs_notifies`, `update_vs_notifies`, `set_quorum_states`).
//!
//! keepalived computes the thresholds in unsigned 32-bit arithmetic (`quorum ± hysteresis`); so do we.
use crate::engine::Engine;
use crate::real_server::{dest_cmd, DestCmd};
use crate::types::{Action, AlertAbout, Dest, RsId, VsId};

impl Engine {
    /// Threshold for the current state: `quorum - hysteresis` while up, `quorum + hysteresis` while down.
    fn threshold(&self, vs: usize) -> i64 {
        let c = self.vs_cfg(vs);
        let t = if self.vs[vs].quorum_up {
            c.quorum.wrapping_sub(c.hysteresis)
        } else {
            c.quorum.wrapping_add(c.hysteresis)
        };
        i64::from(t)
    }

    /// keepalived `set_quorum_states`: the quorum state before the services are set up.
    pub(crate) fn set_quorum_states(&mut self) {
        for v in 0..self.vs.len() {
            let c = self.vs_cfg(v);
            let need = u64::from(c.quorum.wrapping_add(c.hysteresis));
            let sum = u64::try_from(self.weight_sum(VsId(v))).unwrap_or(0);
            self.vs[v].quorum_up = sum >= need;
        }
    }

    /// keepalived `update_quorum_state`: gain or loss of quorum, swapping the sorry server.
    pub(crate) fn update_quorum_state(&mut self, vs: VsId, init: bool, out: &mut Vec<Action>) {
        let v = vs.0;
        let sum = self.weight_sum(vs);
        let threshold = self.threshold(v);
        let (q, h) = (self.vs_cfg(v).quorum, self.vs_cfg(v).hysteresis);
        let up = self.vs[v].quorum_up;
        let sorry_alive = self.vs[v].sorry_active();
        let has_sorry = self.vs[v].sorry.is_some();
        if !up && sum >= threshold {
            self.vs[v].quorum_up = true;
            let name = &self.vs_cfg(v).name;
            Engine::log(out, format!("Gained quorum {q}+{h}={threshold} <= {sum} for VS {name}"));
            if sorry_alive {
                self.sorry_out(vs, out);
            }
            self.vs_notifies(vs, init, threshold, sum, false, out);
        } else if (up && (sum == 0 || sum < threshold)) || (init && !up && has_sorry && !sorry_alive) {
            self.vs[v].quorum_up = false;
            let what = if init { "Starting with quorum down" } else { "Lost quorum" };
            let name = &self.vs_cfg(v).name;
            Engine::log(out, format!("{what} {q}-{h}={threshold} > {sum} for VS {name}"));
            if has_sorry && !sorry_alive {
                self.sorry_in(vs, out);
            }
            self.vs_notifies(vs, init, threshold, sum, false, out);
        }
    }

    /// Quorum regained: the sorry server leaves, the alive real servers come back.
    fn sorry_out(&mut self, vs: VsId, out: &mut Vec<Action>) {
        let Some(sorry) = self.vs[vs.0].sorry.as_ref() else { return };
        let verb = if sorry.inhibit { "Disabling" } else { "Removing" };
        let line = format!("{verb} sorry server {} from VS {}", self.sorry_name(vs), self.vs_cfg(vs.0).name);
        Engine::log(out, line);
        if let Some(s) = self.vs[vs.0].sorry.as_mut() {
            dest_cmd(s, vs, Dest::Sorry(vs), DestCmd::Del, out);
            s.alive = false;
        }
        self.perform_quorum_state(vs, true, out);
    }

    /// Quorum lost: the alive real servers leave, the sorry server comes in.
    fn sorry_in(&mut self, vs: VsId, out: &mut Vec<Action>) {
        let Some(sorry) = self.vs[vs.0].sorry.as_ref() else { return };
        let verb = if sorry.inhibit { "Enabling" } else { "Adding" };
        let line = format!("{verb} sorry server {} to VS {}", self.sorry_name(vs), self.vs_cfg(vs.0).name);
        Engine::log(out, line);
        self.perform_quorum_state(vs, false, out);
        if let Some(s) = self.vs[vs.0].sorry.as_mut() {
            dest_cmd(s, vs, Dest::Sorry(vs), DestCmd::Add, out);
            s.alive = true;
        }
    }

    pub(crate) fn sorry_name(&self, vs: VsId) -> String {
        self.vs_cfg(vs.0).sorry.as_ref().map(|s| s.name.clone()).unwrap_or_default()
    }

    /// keepalived `perform_quorum_state`: add or remove every alive real server.
    fn perform_quorum_state(&mut self, vs: VsId, add: bool, out: &mut Vec<Action>) {
        let what = if add { "Adding alive servers to" } else { "Removing alive servers from" };
        Engine::log(out, format!("{what} the pool for VS {}", self.vs_cfg(vs.0).name));
        for r in 0..self.rs[vs.0].len() {
            if self.rs[vs.0][r].alive {
                self.rs_cmd(RsId { vs, rs: r }, if add { DestCmd::Add } else { DestCmd::Del }, out);
            }
        }
    }

    /// keepalived `do_vs_notifies`: quorum script, FIFO, SMTP. At shutdown only with omega.
    pub(crate) fn vs_notifies(
        &self,
        vs: VsId,
        init: bool,
        threshold: i64,
        sum: i64,
        stopping: bool,
        out: &mut Vec<Action>,
    ) {
        let c = self.vs_cfg(vs.0);
        if stopping && !c.omega {
            return;
        }
        let up = self.vs[vs.0].quorum_up;
        out.push(Action::NotifyQuorum { vs, up });
        if !c.smtp_alert {
            return;
        }
        let message = if stopping {
            "=> Shutting down <=".to_string()
        } else {
            let what = match (up, init) {
                (true, true) => "Starting with quorum up",
                (true, false) => "Gained quorum",
                (false, true) => "Starting with quorum down",
                (false, false) => "Lost quorum",
            };
            format!("=> {what} {}+{}={threshold} <= {sum} <=", c.quorum, c.hysteresis)
        };
        out.push(Action::SmtpAlert { about: AlertAbout::Vs { vs }, up, message });
    }

    /// keepalived `update_vs_notifies`: quorum lost by removals (reload, shutdown), no sorry server swap.
    pub(crate) fn update_vs_notifies(&mut self, vs: VsId, stopping: bool, out: &mut Vec<Action>) {
        let c = self.vs_cfg(vs.0);
        let threshold = i64::from(c.quorum.wrapping_sub(c.hysteresis));
        let sum = self.weight_sum(vs);
        if stopping || (self.vs[vs.0].quorum_up && (sum == 0 || sum < threshold)) {
            self.vs[vs.0].quorum_up = false;
            self.vs_notifies(vs, false, threshold, sum, stopping, out);
        }
    }
}
