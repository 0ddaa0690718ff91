//! Reload (SIGHUP): a new engine adopts the old one's trackers, instance states,
//! counters and master information (keepalived's vrrp_exist / restore_vrrp_state).
use std::net::IpAddr;

use super::Router;
use crate::types::{Action, InstanceId, Instant, State};

impl Router {
    /// Reload (SIGHUP): this engine, built from the new configuration,
    /// takes over from `old` as keepalived does (vrrp_exist / restore_vrrp_state /
    /// vrrp_init_state with `reload`):
    ///
    /// - `matches[new] = Some(old)` pairs instances with the same VRID,
    ///   family, interface, unicast source and multicast group (the caller
    ///   matches; names do not matter). Unmatched old instances must have
    ///   been given [`Input::Remove`](crate::Input::Remove) on `old` before.
    /// - Tracker states (interfaces, scripts, files, processes, BFD) carry
    ///   over by name, so nothing re-initialises that did not change.
    /// - A matched instance keeps its state (unless it is now in fault),
    ///   counters and master information: a MASTER stays MASTER with no
    ///   election and sends an advert at once; its addresses are re-added
    ///   (the caller removes those that went away) and, if it has new
    ///   ones, gratuitous ARPs / NAs go out for them. A BACKUP stays BACKUP
    ///   with a fresh master-down timer. No notify for an unchanged state.
    /// - A sync group whose state is the same as before does not notify.
    /// - New instances start as at boot.
    pub fn adopt(&mut self, old: &Router, matches: &[Option<InstanceId>], now: Instant, out: &mut Vec<Action>) {
        for t in &mut self.trackers {
            if let Some(o) = old.trackers.iter().find(|o| o.kind == t.kind && o.name == t.name) {
                t.up = o.up;
                t.value = o.value;
                t.result = o.result;
            }
        }
        self.apply_trackers();
        let mut reload_master = vec![false; self.instances.len()];
        for (i, m) in matches.iter().enumerate().take(self.instances.len()) {
            let Some(o) = m.and_then(|o| old.instances.get(o)) else { continue };
            let inst = &mut self.instances[i];
            inst.stats = o.stats;
            inst.master_saddr = o.master_saddr;
            inst.master_priority = o.master_priority;
            inst.master_adver_int_us = o.master_adver_int_us;
            inst.vipset = o.vipset;
            inst.last_transition = o.last_transition.clone();
            inst.noted = o.noted;
            if inst.primary_addr.is_none() {
                inst.primary_addr = o.primary_addr;
            }
            if matches!(o.state, State::Master | State::Backup) && !inst.fault && !inst.script_init {
                inst.state = o.state;
                inst.wantstate = o.state;
                reload_master[i] = o.state == State::Master;
            } else if o.state == State::Fault {
                // Already reported: a fault found again is not notified again.
                inst.state = State::Fault;
            }
        }
        let mut group_same = vec![false; self.groups.len()];
        #[allow(clippy::needless_range_loop)] // self.groups[g] is written while self.instances is read
        for g in 0..self.groups.len() {
            let st = self.initial_group_state(g);
            let before = old.groups.iter().find(|o| o.name == self.groups[g].name).map(|o| o.state);
            group_same[g] = before == Some(st);
            self.groups[g].state = st;
        }
        self.started = true;
        self.start_instances(now, out, &reload_master, &group_same, true);
        let reason = super::TransitionReason::Reload;
        self.note_all(now, &super::Cause { instance: None, tracker: None, reason: &reason });
        for (i, m) in matches.iter().enumerate().take(self.instances.len()) {
            let (Some(o), true) = (m.and_then(|o| old.instances.get(o)), reload_master[i]) else { continue };
            if self.instances[i].state != State::Master {
                continue;
            }
            // keepalived re-adds every address of a reloaded master (the
            // kernel may have dropped routes with a removed VIP) and
            // announces them all if any is new or refreshes are configured.
            out.push(Action::AddAddresses { instance: i });
            self.instances[i].vipset = true;
            let inst = &self.instances[i];
            let known = |a: &IpAddr| o.config.vips.contains(a) || o.config.evips.contains(a);
            let new_addr = inst.config.vips.iter().chain(inst.config.evips.iter()).any(|a| !known(a));
            let (rep, delay, refresh) =
                (inst.config.garp_master_repeat, inst.config.garp_master_delay_us, inst.config.garp_master_refresh_us);
            // One block only: keepalived 2.2.7 schedules a second block after
            // garp_master_delay in its source, but on the wire (measured by
            // tests/reload_parity.rs) only the first block goes out.
            let _ = delay;
            if new_addr || refresh > 0 {
                self.send_link_update(i, rep, now, out);
            }
            if refresh > 0 {
                self.instances[i].garp_refresh_at = Some(now.add_us(refresh));
            }
        }
    }
}
