//! Gratuitous ARP / unsolicited NA pacing: one queue per interface, drained at
//! `vrrp_garp_interval` / `vrrp_gna_interval` (keepalived's vrrp_arp.c / vrrp_ndisc.c
//! with the interface's `garp_group` delays; RFC 5798 §6.4.2 "broadcast a gratuitous ARP").
use std::collections::VecDeque;
use std::net::IpAddr;

use super::Router;
use crate::config::EngineOptions;
use crate::types::{Action, InstanceId, Instant};

/// The GARP/NA queue of one interface.
#[derive(Clone, Debug)]
pub(super) struct GarpQueue {
    pub(super) interface: Option<String>,
    pub(super) garp_us: u64,
    pub(super) gna_us: u64,
    pub(super) next_v4: Instant,
    pub(super) next_v6: Instant,
    pub(super) q: VecDeque<(InstanceId, IpAddr)>,
}

impl GarpQueue {
    /// The index of `interface`'s queue, added with its pacing (the
    /// interface's `garp_group`, else the global intervals) if new.
    pub(super) fn find_or_add(
        queues: &mut Vec<GarpQueue>,
        options: &EngineOptions,
        interface: &Option<String>,
    ) -> usize {
        if let Some(p) = queues.iter().position(|g| &g.interface == interface) {
            return p;
        }
        let pacing = interface.as_ref().and_then(|i| options.garp_groups.iter().find(|g| &g.interface == i));
        queues.push(GarpQueue {
            interface: interface.clone(),
            garp_us: pacing.map(|p| p.garp_interval_us).unwrap_or(options.garp_interval_us),
            gna_us: pacing.map(|p| p.gna_interval_us).unwrap_or(options.gna_interval_us),
            next_v4: Instant::ZERO,
            next_v6: Instant::ZERO,
            q: VecDeque::new(),
        });
        queues.len() - 1
    }
}

impl Router {
    /// The instance's delayed, lower-priority and refresh GARP timers.
    pub(super) fn garp_timers(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
        if self.instances[i].garp_delay_at.is_some_and(|t| t <= now) {
            self.instances[i].garp_delay_at = None;
            let rep = self.instances[i].config.garp_master_repeat;
            self.send_link_update(i, rep, now, out);
        }
        if self.instances[i].garp_lower_at.is_some_and(|t| t <= now) {
            self.instances[i].garp_lower_at = None;
            let rep = self.instances[i].config.garp_lower_prio_repeat;
            self.send_link_update(i, rep, now, out);
        }
        if self.instances[i].garp_refresh_at.is_some_and(|t| t <= now) {
            let (rep, per) =
                (self.instances[i].config.garp_master_refresh_repeat, self.instances[i].config.garp_master_refresh_us);
            self.instances[i].garp_refresh_at = Some(now.add_us(per.max(1)));
            self.send_link_update(i, rep, now, out);
        }
    }

    pub(super) fn send_link_update(&mut self, i: InstanceId, rep: u32, now: Instant, out: &mut Vec<Action>) {
        let inst = &self.instances[i];
        let q = &mut self.garp[inst.garp_queue];
        for _ in 0..rep {
            for a in inst.config.vips.iter().chain(inst.config.evips.iter()) {
                q.q.push_back((i, *a));
            }
        }
        self.drain_garps(now, out);
    }

    pub(super) fn drain_garps(&mut self, now: Instant, out: &mut Vec<Action>) {
        for g in &mut self.garp {
            while let Some(&(i, a)) = g.q.front() {
                let (next, intv) = if a.is_ipv4() { (&mut g.next_v4, g.garp_us) } else { (&mut g.next_v6, g.gna_us) };
                if intv > 0 && *next > now {
                    break;
                }
                g.q.pop_front();
                if intv > 0 {
                    *next = now.add_us(intv);
                }
                out.push(if a.is_ipv4() {
                    Action::SendGarp { instance: i, addr: a }
                } else {
                    Action::SendNa { instance: i, addr: a }
                });
            }
        }
    }

    pub(super) fn remove_delayed_arp(&mut self, i: InstanceId) {
        let qi = self.instances[i].garp_queue;
        self.garp[qi].q.retain(|(x, _)| *x != i);
        let inst = &mut self.instances[i];
        inst.garp_delay_at = None;
        inst.garp_refresh_at = None;
        inst.garp_lower_at = None;
    }

    /// `garp_lower_prio_repeat` / `garp_lower_prio_delay` when a MASTER hears a
    /// lower priority: for the instance, then for the other members of its sync group.
    pub(super) fn lower_prio_garps(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
        let (rep, delay) =
            (self.instances[i].config.garp_lower_prio_repeat, self.instances[i].config.garp_lower_prio_delay_us);
        let mut targets = vec![];
        if let Some(g) = self.instances[i].config.sync_group {
            targets.extend(self.groups[g].members.iter().copied().filter(|&m| m != i));
        }
        if rep > 0 {
            self.send_link_update(i, rep, now, out);
            if delay > 0 {
                self.instances[i].garp_lower_at = Some(now.add_us(delay));
            }
        }
        for m in targets {
            let (r, d) =
                (self.instances[m].config.garp_lower_prio_repeat, self.instances[m].config.garp_lower_prio_delay_us);
            if r == 0 {
                continue;
            }
            self.send_link_update(m, r, now, out);
            if d > 0 {
                self.instances[m].garp_lower_at = Some(now.add_us(d));
            }
        }
    }
}
