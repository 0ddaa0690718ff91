//! `garp_extra_if` / `vrrp_garp_extra_if` (keepalived 2.2.7 vrrp.c
//! `vrrp_send_vmac_update`): while MASTER, every interval, one gratuitous
//! ARP (or unsolicited NA) per interface holding a virtual address other
//! than the instance's own: the VMACs it made, or with `all` any
//! interface. The instance's own interface counts with `vmac_xmit_base`
//! (the adverts then leave from the base, not from the VMAC).

use keepalived_config::model::global::GlobalDefs;
use keepalived_config::model::ip::IpAddress;
use keepalived_config::model::vrrp::VrrpInstance;
use keepalived_wire::MacAddr;
use std::net::IpAddr;
use std::time::Duration;

/// One announcement: an address on an interface, with that interface's MAC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub ifindex: u32,
    pub mac: MacAddr,
    pub addr: IpAddr,
}

#[derive(Clone, Debug)]
pub struct ExtraGarp {
    pub interval: Duration,
    pub targets: Vec<Target>,
}

/// Where the instance's addresses are: `own` is its interface (its VMAC if
/// it made one, whose MAC is `vmac_mac`).
pub struct Placement<'a> {
    pub addresses: &'a [(IpAddress, u32)],
    pub own: u32,
    pub vmac: Option<(u32, MacAddr)>,
    pub xmit_base: bool,
}

/// The instance's periodic announcements, if any (vrrp.c
/// `vrrp_complete_instance`: the global setting when the instance sets
/// none; off without an interface to announce on).
pub fn plan(g: &GlobalDefs, m: Option<&VrrpInstance>, p: &Placement<'_>) -> Option<ExtraGarp> {
    let (secs, all) = match m.and_then(|m| m.garp_extra_if) {
        Some(s) => (s, m.is_some_and(|m| m.garp_extra_if_all)),
        None => (g.vrrp_garp_extra_if, g.vrrp_garp_extra_if_all),
    };
    if secs == 0 {
        return None;
    }
    let mut targets: Vec<Target> = Vec::new();
    for (a, idx) in p.addresses {
        let ours = p.vmac.filter(|(v, _)| v == idx);
        if ours.is_none() && !all {
            continue;
        }
        if *idx == p.own && !p.xmit_base {
            continue;
        }
        if targets.iter().any(|t| t.ifindex == *idx) {
            continue;
        }
        let mac = match ours {
            Some((_, mac)) => Some(mac),
            None => a.dev.as_deref().and_then(|d| keepalived_net::interface_info(d).ok()).and_then(|i| i.mac),
        };
        if let Some(mac) = mac {
            targets.push(Target { ifindex: *idx, mac, addr: a.addr });
        }
    }
    (!targets.is_empty()).then(|| ExtraGarp { interval: Duration::from_secs(u64::from(secs)), targets })
}
