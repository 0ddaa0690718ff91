//! A reload (SIGHUP with a changed configuration), keepalived's
//! vrrp_exist: the new shell is built beside the old one, their instances
//! paired, and the new engine takes over the old one's state.

use super::setup::Carried;
use super::{delete_vmac, match_key, remove, routes, MatchKey, VrrpShell};
use keepalived_config::Config;
use keepalived_vrrp::{Action, Input, InstanceId, Instant, Router, State};
use mio::Registry;
use std::collections::HashMap;
use tracing::{error, info, warn};

impl VrrpShell {
    /// SIGHUP with a changed configuration: keepalived's reload (FEATURES.md
    /// §5.4). Masters advertise first; tracking scripts and FIFO readers
    /// are stopped; instances of the old configuration are paired with the
    /// new ones by VRID, family, interface, unicast source / multicast group
    /// and VMAC (not by name). Unpaired old instances leave (priority 0 if
    /// master, addresses removed, DELETED or FAULT notify); paired masters
    /// lose only the addresses that went away and keep their state with no
    /// election; new instances start as at boot.
    #[allow(clippy::result_large_err)] // the old shell comes back on error, to keep running
    pub fn reload(mut self, cfg: &Config, reg: &Registry) -> Result<VrrpShell, (VrrpShell, String)> {
        let new_router = match Router::from_config(cfg) {
            Ok(r) => r,
            Err(e) => return Err((self, format!("VRRP configuration: {e}"))),
        };
        let now = self.now();
        // 1. Every master sends an advert now (peers see no gap).
        self.advertise_masters();
        self.kill_scripts();
        // 2. Pair old and new instances.
        let (matches, taken) = self.pair(cfg, &new_router);
        // 3. Old instances that are gone.
        self.remove_unpaired(now, &taken);
        // 5. Close what the old shell had open, then open the new one.
        self.notifier.close_fifos();
        self.deregister(reg);
        let carried = Carried {
            router: Some(new_router),
            sysctls: Some(std::mem::take(&mut self.sysctls)),
            firewall: self.firewall.take(),
            ipvlan_flags: self.ipvlan_flags(),
            monitor: self.monitor.take(),
        };
        let mut new = match VrrpShell::build(cfg, true, carried) {
            Ok(n) => n,
            Err(e) => return Err((self, e)),
        };
        if let Err(e) = new.register(reg) {
            error!("Unable to watch the VRRP sockets: {e}");
        }
        self.remove_dropped_entries(&new, &matches);
        self.delete_unused_vmacs(&mut new);
        self.carry_over(&mut new, cfg, &matches);
        // Static entries: the new set goes in, what it dropped goes away.
        self.statics.remove_except(&new.statics);
        new.statics.install();
        new.local_igmp = std::mem::take(&mut self.local_igmp);
        // 6. The new engine takes over the old one's state.
        new.take_over(&self, &matches);
        let kept = matches.iter().filter(|m| m.is_some()).count();
        info!(
            kept,
            added = matches.len() - kept,
            removed = taken.iter().filter(|t| !**t).count(),
            "VRRP reload applied"
        );
        Ok(new)
    }

    /// Every master sends an advert now, so its peers see no gap.
    fn advertise_masters(&mut self) {
        for id in 0..self.metas.len() {
            if let Some(i) = self.router.instance(id).filter(|i| i.state == State::Master) {
                let p = i.effective_priority;
                self.send_advert(id, p);
            }
        }
    }

    /// For each new instance, the old one it continues (the first unpaired
    /// one with the same key), and which old instances were paired.
    fn pair(&self, cfg: &Config, new_router: &Router) -> (Vec<Option<InstanceId>>, Vec<bool>) {
        let new_keys: Vec<MatchKey> = new_router
            .instances()
            .iter()
            .map(|c| match_key(&c.config, cfg.vrrp.instances.iter().find(|m| m.name == c.config.name)))
            .collect();
        let mut taken = vec![false; self.metas.len()];
        let matches: Vec<Option<InstanceId>> = new_keys
            .iter()
            .map(|k| {
                let o = (0..self.metas.len()).find(|&o| !taken[o] && self.metas[o].key == *k)?;
                taken[o] = true;
                Some(o)
            })
            .collect();
        (matches, taken)
    }

    /// Old instances with no new counterpart leave the engine; their
    /// notify is DELETED (FAULT ones only with `notify_deleted`).
    fn remove_unpaired(&mut self, now: Instant, taken: &[bool]) {
        for (o, kept) in taken.iter().enumerate() {
            if *kept {
                continue;
            }
            let was_fault = self.router.instance(o).is_some_and(|i| i.state == State::Fault);
            info!("({}) removed at reload", self.metas[o].name);
            let mut acts = Vec::new();
            self.router.handle(now, Input::Remove { instance: o }, &mut acts);
            for a in &acts {
                match *a {
                    Action::Notify { instance, priority, .. } => {
                        let idx = self.notify_index(instance);
                        let deleted = self.notifier.instances.get(idx).is_some_and(|n| n.notify_deleted);
                        if deleted || !was_fault {
                            self.notifier.deleted(idx, priority);
                        }
                    }
                    ref other => self.do_action(other),
                }
            }
        }
    }

    /// Kept masters lose only the addresses, routes and rules the new
    /// configuration dropped (the adopted engine re-adds the rest).
    fn remove_dropped_entries(&self, new: &VrrpShell, matches: &[Option<InstanceId>]) {
        for (n, m) in matches.iter().enumerate() {
            let Some(o) = *m else { continue };
            if self.router.instance(o).is_none_or(|i| i.state != State::Master) {
                continue;
            }
            let (old, kept) = (&self.metas[o], &new.metas[n]);
            let gone_rules: Vec<_> = old.vrules.iter().filter(|r| !kept.vrules.contains(r)).cloned().collect();
            routes::del_rules(&gone_rules, &old.name);
            let gone_routes: Vec<_> = old.vroutes.iter().filter(|r| !kept.vroutes.contains(r)).cloned().collect();
            routes::del_routes(&gone_routes, &old.name);
            for (a, idx) in &old.addresses {
                let still = kept.addresses.iter().any(|(k, i)| k.addr == a.addr && k.prefix == a.prefix && i == idx);
                if !still {
                    info!("({}) removing {}/{} dropped from the configuration", old.name, a.addr, a.prefix);
                    remove(a, *idx, &old.name);
                }
            }
        }
    }

    /// The flags each ipvlan was created or taken over with: keepalived compares those, not the
    /// parent's current ones, when the new configuration looks for its ipvlans.
    fn ipvlan_flags(&self) -> HashMap<String, u16> {
        let vmacs = self.metas.iter().filter_map(|m| m.vmac.as_ref());
        vmacs.filter_map(|v| v.ipvlan_flags.map(|f| (v.name.clone(), f))).collect()
    }

    /// VMACs the new configuration no longer uses are deleted (the ones it
    /// uses were taken over when it was built).
    fn delete_unused_vmacs(&mut self, new: &mut VrrpShell) {
        for m in &mut self.metas {
            if let Some(v) = m.vmac.take() {
                if !new.metas.iter().any(|n| n.vmac.as_ref().is_some_and(|x| x.name == v.name)) {
                    if let Err(e) = delete_vmac(&v, new.firewall.as_mut(), &mut new.sysctls) {
                        warn!("({}) unable to delete VMAC {}: {e}", m.name, v.name);
                    }
                }
            }
        }
    }

    /// The SMTP sender carries over (with the new settings), and so does
    /// what each kept instance and group last mailed, and each kept
    /// instance's AH sequence and IP identification.
    fn carry_over(&mut self, new: &mut VrrpShell, cfg: &Config, matches: &[Option<InstanceId>]) {
        new.notifier.start_alerts(cfg, self.notifier.alerts.take());
        for g in &mut new.notifier.groups {
            if let Some(o) = self.notifier.groups.iter().find(|o| o.name == g.name) {
                g.last_email = o.last_email;
            }
        }
        for (n, m) in matches.iter().enumerate() {
            if let Some(o) = *m {
                let (ni, oi) = (new.notify_index(n), self.notify_index(o));
                if let (Some(oe), true) = (self.notifier.instances.get(oi), ni < new.notifier.instances.len()) {
                    new.notifier.instances[ni].last_email = oe.last_email;
                }
                new.metas[n].ah_seq = self.metas[o].ah_seq;
                new.metas[n].ip_ident = self.metas[o].ip_ident;
            }
        }
    }

    /// The new engine adopts the old one's states and timers (on the old
    /// clock), its actions run, kept masters announce on their extra
    /// interfaces, tracking scripts start again.
    fn take_over(&mut self, old: &VrrpShell, matches: &[Option<InstanceId>]) {
        let now = self.now_from(old.epoch);
        self.epoch = old.epoch;
        self.router.adopt(&old.router, matches, now, &mut self.actions);
        self.execute();
        // keepalived's new instance has no garp_extra_if timer yet: a kept
        // master announces at once, then every interval.
        for id in 0..self.metas.len() {
            if self.router.instance(id).is_some_and(|i| i.state == State::Master) {
                self.extra_garp(id);
            }
        }
        self.start_scripts();
        let followed = self.sync_daemon.instance().and_then(|n| self.metas.iter().position(|m| m.name == n));
        self.sync_daemon.reloaded(followed.and_then(|id| self.router.instance(id)).map(|i| i.state));
    }
}
