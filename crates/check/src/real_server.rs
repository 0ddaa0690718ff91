//! Real server state: IPVS destination commands, checker → real server transitions, weights
//! (keepalived ipwrapper.c `ipvs_cmd` dest part, `perform_svr_state`, `update_svr_checker_state`,
//! `set_checker_state`, `update_svr_wgt`).
use crate::engine::{real_weight, Engine};
use crate::state::DestState;
use crate::types::{Action, AlertAbout, Dest, RsId, VsId};

/// A destination command as keepalived asks it (`LVS_CMD_ADD_DEST`, …), before inhibit rewriting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DestCmd {
    Add,
    Del,
    Edit,
}

/// keepalived `ipvs_cmd` for a destination: with inhibit_on_failure a delete becomes an edit to weight 0 and
/// an add of a present destination an edit; `set` tracks presence in IPVS.
pub(crate) fn dest_cmd(d: &mut DestState, vs: VsId, dest: Dest, cmd: DestCmd, out: &mut Vec<Action>) {
    let mut weight = real_weight(d.effective_weight);
    let cmd = match cmd {
        DestCmd::Del if d.inhibit => {
            weight = 0;
            DestCmd::Edit
        }
        DestCmd::Add if d.inhibit && d.set => DestCmd::Edit,
        DestCmd::Add if !d.set => {
            d.set = true;
            if d.inhibit && d.num_failed > 0 {
                weight = 0;
            }
            DestCmd::Add
        }
        DestCmd::Del if d.set => {
            d.set = false;
            DestCmd::Del
        }
        c => c,
    };
    out.push(match cmd {
        DestCmd::Add => Action::AddDest { vs, dest, weight },
        DestCmd::Edit => Action::EditDest { vs, dest, weight },
        DestCmd::Del => Action::DelDest { vs, dest },
    });
}

/// keepalived's forced removal (inhibit ignored): `clear_service_rs`, sorry server removal.
pub(crate) fn dest_remove(d: &mut DestState, vs: VsId, dest: Dest, out: &mut Vec<Action>) {
    let inhibit = d.inhibit;
    d.inhibit = false;
    dest_cmd(d, vs, dest, DestCmd::Del, out);
    d.inhibit = inhibit;
}

impl Engine {
    /// IPVS command for a real server.
    pub(crate) fn rs_cmd(&mut self, rs: RsId, cmd: DestCmd, out: &mut Vec<Action>) {
        dest_cmd(&mut self.rs[rs.vs.0][rs.rs], rs.vs, Dest::Real(rs), cmd, out);
    }

    /// Changes to the pool take effect only with quorum, or when no sorry server is in (keepalived's
    /// `vs->quorum_state_up || !vs->s_svr || !ISALIVE(vs->s_svr)`).
    pub(crate) fn pool_active(&self, vs: VsId) -> bool {
        let v = &self.vs[vs.0];
        v.quorum_up || !v.sorry_active()
    }

    /// keepalived `do_rs_notifies` (scripts and FIFO; SMTP is sent by the callers).
    pub(crate) fn rs_notify(&self, rs: RsId, out: &mut Vec<Action>) {
        out.push(Action::NotifyRs { rs, up: self.rs[rs.vs.0][rs.rs].alive });
    }

    /// keepalived `set_checker_state`: keeps the real server's failed-checker count.
    pub(crate) fn set_checker_state(&mut self, c: usize, up: bool) {
        if self.checkers[c].is_up == up {
            return;
        }
        self.checkers[c].is_up = up;
        let rs = self.cfg.checkers[c].rs;
        let d = self.dest_mut(rs);
        if !up {
            d.num_failed += 1;
        } else if d.num_failed > 0 {
            d.num_failed -= 1;
        }
    }

    /// keepalived `perform_svr_state`: the real server goes up or down.
    pub(crate) fn perform_svr_state(&mut self, rs: RsId, alive: bool, out: &mut Vec<Action>) {
        if self.rs[rs.vs.0][rs.rs].alive == alive {
            return;
        }
        let inhibit = self.rs[rs.vs.0][rs.rs].inhibit;
        let verb = match (alive, inhibit) {
            (true, true) => "Enabl",
            (true, false) => "Add",
            (false, true) => "Disabl",
            (false, false) => "Remov",
        };
        let prep = if inhibit {
            "of"
        } else if alive {
            "to"
        } else {
            "from"
        };
        let line = format!("{verb}ing service {} {prep} VS {}", self.rs_cfg(rs).name, self.vs_cfg(rs.vs.0).name);
        Engine::log(out, line);
        if self.pool_active(rs.vs) {
            self.rs_cmd(rs, if alive { DestCmd::Add } else { DestCmd::Del }, out);
        }
        self.dest_mut(rs).alive = alive;
        self.rs_notify(rs, out);
        self.update_quorum_state(rs.vs, false, out);
    }

    /// keepalived `update_svr_checker_state`: a checker's verdict, applied to its real server.
    pub(crate) fn update_checker(&mut self, c: usize, alive: bool, out: &mut Vec<Action>) {
        let rs = self.cfg.checkers[c].rs;
        if self.checkers[c].is_up == alive {
            if !self.checkers[c].has_run {
                if self.cfg.checkers[c].alpha || !alive {
                    self.rs_notify(rs, out);
                }
                self.checkers[c].has_run = true;
            }
            return;
        }
        self.checkers[c].has_run = true;
        let failed = self.rs[rs.vs.0][rs.rs].num_failed;
        if (alive && failed <= 1) || (!alive && failed == 0) {
            self.perform_svr_state(rs, alive, out);
        }
        self.set_checker_state(c, alive);
    }

    /// keepalived `update_svr_wgt`: a new effective weight for a real server.
    pub(crate) fn update_weight(&mut self, rs: RsId, weight: i64, update_quorum: bool, out: &mut Vec<Action>) {
        let d = &self.rs[rs.vs.0][rs.rs];
        let (old, new) = (real_weight(d.effective_weight), real_weight(weight));
        self.dest_mut(rs).effective_weight = weight;
        if new == old {
            return;
        }
        let d = &self.rs[rs.vs.0][rs.rs];
        let line = format!(
            "Changing weight from {old} to {new} for {}active service {} of VS {}",
            if d.alive { "" } else { "in" },
            self.rs_cfg(rs).name,
            self.vs_cfg(rs.vs.0).name
        );
        let push = d.set && d.alive && self.pool_active(rs.vs);
        Engine::log(out, line);
        if push {
            self.rs_cmd(rs, DestCmd::Edit, out);
        }
        if update_quorum {
            self.update_quorum_state(rs.vs, false, out);
        }
    }

    /// A checker's SMTP alert, sent when the real server's state changed or `no_checker_emails` is off. Its
    /// state word is the real server's (keepalived's subject prints `rs->alive`), not the checker's verdict.
    pub(crate) fn checker_alert(&self, c: usize, rs_was_alive: bool, message: String, out: &mut Vec<Action>) {
        let rs = self.cfg.checkers[c].rs;
        let up = self.rs[rs.vs.0][rs.rs].alive;
        let changed = rs_was_alive != up;
        if self.rs_cfg(rs).smtp_alert && (changed || !self.cfg.options.no_checker_emails) {
            out.push(Action::SmtpAlert {
                about: AlertAbout::Checker { checker: crate::types::CheckerId(c) },
                up,
                message,
            });
        }
    }

    pub(crate) fn rs_alive(&self, rs: RsId) -> bool {
        self.rs[rs.vs.0][rs.rs].alive
    }
}
