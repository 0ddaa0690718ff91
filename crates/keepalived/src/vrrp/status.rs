//! The VRRP child's answer to the status socket (`keepalived --status`):
//! every instance's state, priorities, addresses, last transition and
//! tracked objects, read from the engine (the same live state the dumps
//! show) — a keepalived-rs document, not one of keepalived's layouts.

use super::dump::{addr_str, secs};
use super::VrrpShell;
use keepalived_vrrp::{Instance, TrackKind, Transition};
use serde_json::{json, Value};
use std::net::IpAddr;

fn kind_name(k: TrackKind) -> &'static str {
    match k {
        TrackKind::Interface => "interface",
        TrackKind::Script => "script",
        TrackKind::File => "file",
        TrackKind::Process => "process",
        TrackKind::Bfd => "bfd",
    }
}

/// The instance's counters, named as keepalived's JSON dump names them
/// (the metrics endpoint reads them).
fn stats_status(s: &keepalived_vrrp::Stats) -> Value {
    json!({
        "advert_rcvd": s.advert_rcvd, "advert_sent": s.advert_sent,
        "become_master": s.become_master, "release_master": s.release_master,
        "packet_len_err": s.packet_len_err, "advert_interval_err": s.advert_interval_err,
        "ip_ttl_err": s.ip_ttl_err, "invalid_type_rcvd": s.invalid_type_rcvd,
        "addr_list_err": s.addr_list_err, "invalid_authtype": s.invalid_authtype,
        "authtype_mismatch": s.authtype_mismatch, "auth_failure": s.auth_failure,
        "pri_zero_rcvd": s.pri_zero_rcvd, "pri_zero_sent": s.pri_zero_sent,
    })
}

fn up_name(up: Option<bool>) -> &'static str {
    match up {
        Some(true) => "up",
        Some(false) => "down",
        None => "init",
    }
}

impl VrrpShell {
    /// The status document: `{"instances": [...], "sync_groups": [...]}`.
    pub fn status(&self) -> Value {
        let instances: Vec<Value> =
            self.router.instances().iter().enumerate().map(|(i, x)| self.instance_status(i, x)).collect();
        let groups: Vec<Value> = (0..)
            .map_while(|g| Some((self.router.group_name(g)?, self.router.group_state(g)?)))
            .map(|(name, st)| json!({ "name": name, "state": st.name() }))
            .collect();
        json!({ "instances": instances, "sync_groups": groups, "scripts": self.scripts_status() })
    }

    /// Each tracked vrrp_script as keepalived's data dump shows it: Status
    /// GOOD or BAD (BAD until it has risen), State running or idle.
    fn scripts_status(&self) -> Vec<Value> {
        let one = |t: &super::TrackScript| {
            let up = self.router.tracker_state(TrackKind::Script, &t.name).and_then(|(up, _)| up);
            json!({
                "name": t.name,
                "status": if up == Some(true) { "GOOD" } else { "BAD" },
                "state": if t.running.is_some() { "running" } else { "idle" },
            })
        };
        self.track_scripts.iter().map(one).collect()
    }

    fn instance_status(&self, i: usize, x: &Instance) -> Value {
        let c = &x.config;
        let meta = self.metas.get(i);
        let addr = |a: &IpAddr| -> String {
            let prefix = meta.and_then(|m| m.addresses.iter().find(|(ia, _)| ia.addr == *a)).map(|(ia, _)| ia.prefix);
            addr_str(*a, prefix.unwrap_or(if a.is_ipv4() { 32 } else { 128 }))
        };
        let tracked: Vec<Value> = c
            .trackers
            .iter()
            .map(|t| {
                let (up, value) = self.router.tracker_state(t.kind, &t.name).unwrap_or((None, 0));
                let mut v =
                    json!({ "kind": kind_name(t.kind), "name": t.name, "state": up_name(up), "weight": t.weight });
                if t.kind == TrackKind::File {
                    v["value"] = json!(value);
                }
                v
            })
            .collect();
        json!({
            "name": c.name,
            "vrid": c.vrid,
            "family": if c.ipv6 { "inet6" } else { "inet" },
            "interface": meta.map(|m| m.ifname.clone()).or_else(|| c.interface.clone()),
            "state": x.state.name(),
            "wantstate": x.wantstate.name(),
            "priority": { "effective": x.effective_priority, "base": c.priority },
            "master": { "address": x.master_saddr, "priority": x.master_priority },
            "vips": c.vips.iter().map(addr).collect::<Vec<_>>(),
            "evips": c.evips.iter().map(addr).collect::<Vec<_>>(),
            "addresses": self.addresses_status(i, x),
            "sync_group": c.sync_group.and_then(|g| self.router.group_name(g)),
            "last_transition": x.last_transition.as_ref().map(|t| self.transition_status(t)),
            "tracked": tracked,
            "stats": stats_status(&x.stats),
        })
    }

    /// Each virtual address with the device it goes on (its `dev`, else
    /// the instance's interface): the exporter labels the state with it.
    fn addresses_status(&self, i: usize, x: &Instance) -> Vec<Value> {
        let Some(meta) = self.metas.get(i) else { return Vec::new() };
        let c = &x.config;
        let excluded = |a: &IpAddr| !c.vips.contains(a) && c.evips.contains(a);
        meta.addresses
            .iter()
            .map(|(ia, _)| {
                json!({
                    "address": addr_str(ia.addr, ia.prefix),
                    "dev": ia.dev.clone().unwrap_or_else(|| meta.ifname.clone()),
                    "excluded": excluded(&ia.addr),
                })
            })
            .collect()
    }

    fn transition_status(&self, t: &Transition) -> Value {
        let (sec, us) = secs(self.wall_time(t.at));
        json!({
            "time_us": sec * 1_000_000 + u64::from(us),
            "from": t.from.name(),
            "to": t.to.name(),
            "reason": t.reason.to_string(),
            "cause": t.reason,
        })
    }
}
