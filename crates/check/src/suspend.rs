//! ha_suspend: a virtual server's checkers run only while its address is on the system (keepalived
//! check_api.c `update_checker_activity`, fed by the netlink address reflector).
use crate::engine::Engine;
use crate::state::Phase;
use crate::types::{Action, VsId};

impl Engine {
    /// One instance of `vs`'s address appeared (`present`) or disappeared.
    pub(crate) fn vs_address(&mut self, vs: VsId, present: bool, out: &mut Vec<Action>) {
        let Some(cfg) = self.cfg.virtual_servers.get(vs.0) else {
            self.counters.unknown_name += 1;
            return;
        };
        if !cfg.ha_suspend {
            return;
        }
        let count = &mut self.vs[vs.0].ha_suspend_addrs;
        *count = if present { count.saturating_add(1) } else { count.saturating_sub(1) };
        let count = *count;
        if self.phase != Phase::Running {
            return;
        }
        // Every checker of the VS, event-driven ones included (keepalived walks the whole queue).
        for c in 0..self.checkers.len() {
            if self.cfg.checkers[c].rs.vs != vs {
                continue;
            }
            if present != self.checkers[c].enabled && (present || count == 0) {
                let rs = self.cfg.checkers[c].rs;
                let line = format!(
                    "{}ing healthchecker for service {} for VS {}",
                    if self.checkers[c].enabled { "Suspend" } else { "Activat" },
                    self.rs_cfg(rs).name,
                    self.vs_cfg(vs.0).name
                );
                Engine::log(out, line);
                self.checkers[c].enabled = present;
            }
        }
    }
}
