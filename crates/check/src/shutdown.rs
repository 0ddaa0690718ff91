//! Shutdown: every service removed (keepalived ipwrapper.c `clear_services`, `clear_service_vs`,
//! `clear_service_rs`), outstanding attempts cancelled. Down notifies and quorum_down run only with omega.
use crate::config::FlushOnStop;
use crate::engine::Engine;
use crate::real_server::dest_remove;
use crate::state::Phase;
use crate::types::{Action, AlertAbout, CheckerId, Dest, RsId, VsId};

impl Engine {
    pub(crate) fn shutdown(&mut self, out: &mut Vec<Action>) {
        let was_running = self.phase == Phase::Running;
        self.phase = Phase::Stopped;
        self.cancel_all(out);
        if !was_running {
            return;
        }
        match self.cfg.options.flush_on_stop {
            FlushOnStop::Full => {
                out.push(Action::Flush);
                for v in 0..self.vs.len() {
                    self.update_vs_notifies(VsId(v), true, out);
                }
            }
            _ => {
                for v in 0..self.vs.len() {
                    self.clear_service_vs(VsId(v), true, out);
                }
            }
        }
    }

    /// Cancels every outstanding attempt and timer.
    pub(crate) fn cancel_all(&mut self, out: &mut Vec<Action>) {
        for c in 0..self.checkers.len() {
            if self.checkers[c].in_flight {
                self.checkers[c].in_flight = false;
                out.push(Action::CancelCheck { checker: CheckerId(c) });
            }
            self.checkers[c].next_run = None;
        }
        self.timers.clear();
    }

    /// keepalived `clear_service_vs`.
    pub(crate) fn clear_service_vs(&mut self, vs: VsId, stopping: bool, out: &mut Vec<Action>) {
        if self.cfg.options.flush_on_stop == FlushOnStop::No {
            let dup = self.vs_cfg(vs.0).sorry.as_ref().is_some_and(|s| s.duplicates_rs);
            if let Some(s) = self.vs[vs.0].sorry.as_mut() {
                if s.set {
                    if dup {
                        s.set = false;
                    } else {
                        dest_remove(s, vs, Dest::Sorry(vs), out);
                    }
                    s.alive = false;
                }
            }
            for r in 0..self.rs[vs.0].len() {
                self.clear_service_rs(RsId { vs, rs: r }, stopping, out);
            }
            self.update_vs_notifies(vs, stopping, out);
        } else {
            self.update_vs_notifies(vs, stopping, out);
            if let Some(s) = self.vs[vs.0].sorry.as_mut() {
                if s.set {
                    s.alive = false;
                }
            }
        }
        out.push(Action::DelService { vs });
        self.vs[vs.0].alive = false;
    }

    /// keepalived `clear_service_rs`: removal at reload (`stopping` false) or shutdown.
    pub(crate) fn clear_service_rs(&mut self, rs: RsId, stopping: bool, out: &mut Vec<Action>) {
        let d = &self.rs[rs.vs.0][rs.rs];
        if d.set || stopping {
            let line = format!(
                "{} {}service {} from VS {}",
                if stopping { "Shutting down" } else { "Removing" },
                if d.inhibit && !d.alive { "(inhibited) " } else { "" },
                self.rs_cfg(rs).name,
                self.vs_cfg(rs.vs.0).name
            );
            Engine::log(out, line);
        }
        if !self.rs[rs.vs.0][rs.rs].set {
            return;
        }
        dest_remove(&mut self.rs[rs.vs.0][rs.rs], rs.vs, Dest::Real(rs), out);
        if !self.rs[rs.vs.0][rs.rs].alive {
            return;
        }
        self.dest_mut(rs).alive = false;
        if stopping && !self.vs_cfg(rs.vs.0).omega {
            return;
        }
        self.rs_notify(rs, out);
        if self.rs_cfg(rs).smtp_alert {
            let message = if stopping { "=> Shutting down <=" } else { "=> Removing <=" };
            out.push(Action::SmtpAlert { about: AlertAbout::RsShut { rs }, up: false, message: message.into() });
        }
    }
}
