//! ha_suspend: a virtual server's checkers run only while its address is
//! on this system (keepalived `update_checker_activity`). The addresses are
//! watched with a netlink [`Monitor`]; each (interface, address) instance
//! counts once, so the same address on two interfaces must go from both
//! before the checkers are suspended. Only `virtual_server IP PORT`
//! servers take part: keepalived's `addr_matches` is false for groups and
//! fwmarks.

use keepalived_check::{Input, VsId};
use keepalived_config::lvs::model::VsAddr;
use keepalived_config::Config;
use keepalived_netlink::{Event, Monitor};
use mio::{Interest, Registry, Token};
use std::collections::HashSet;
use std::net::IpAddr;
use tracing::warn;

pub struct VsAddresses {
    monitor: Monitor,
    /// The ha_suspend virtual servers and their addresses.
    watched: Vec<(VsId, IpAddr)>,
    /// The instances present now: (interface index, address).
    present: HashSet<(u32, IpAddr)>,
    /// Monitor read failures (logged once each run of them).
    read_errors: u64,
}

/// The ha_suspend virtual servers of `cfg` with their address.
pub fn watched(cfg: &Config) -> Vec<(VsId, IpAddr)> {
    let vss = cfg.lvs.virtual_servers.iter().enumerate();
    vss.filter(|(_, v)| v.ha_suspend)
        .filter_map(|(i, v)| match v.addr {
            VsAddr::Ip { addr, .. } => Some((VsId(i), addr)),
            _ => None,
        })
        .collect()
}

impl VsAddresses {
    /// A watcher when some virtual server has ha_suspend; `None` otherwise,
    /// or when the monitor cannot be opened (logged; those virtual servers'
    /// checkers then stay suspended, no address being known).
    pub fn new(cfg: &Config) -> Option<VsAddresses> {
        let watched = watched(cfg);
        if watched.is_empty() {
            return None;
        }
        let g = &cfg.global;
        match Monitor::configured(g.lvs_netlink_monitor_rcv_bufs, g.lvs_netlink_monitor_rcv_bufs_force) {
            Ok(monitor) => Some(VsAddresses { monitor, watched, present: HashSet::new(), read_errors: 0 }),
            Err(e) => {
                warn!("Unable to watch the virtual server addresses: {e}");
                None
            }
        }
    }

    pub fn register(&mut self, reg: &Registry, token: Token) -> std::io::Result<()> {
        reg.register(&mut self.monitor, token, Interest::READABLE)
    }

    /// The addresses present now, read from the kernel: the inputs that
    /// bring the counts from what was known to what is (at start, and
    /// after lost notifications).
    pub fn resync(&mut self) -> Vec<Input> {
        self.resync_for(&|_| true)
    }

    /// [`VsAddresses::resync`], with inputs only for the virtual servers
    /// `fresh` accepts (after a reload: those the engine did not carry
    /// over with their counts).
    pub fn resync_for(&mut self, fresh: &dyn Fn(VsId) -> bool) -> Vec<Input> {
        let now: HashSet<(u32, IpAddr)> = match keepalived_netlink::dump_addresses() {
            Ok(a) => a.into_iter().map(|a| (a.index, a.addr)).filter(|(_, ip)| self.is_watched(ip)).collect(),
            Err(e) => {
                warn!("Unable to read the system's addresses: {e}");
                return Vec::new();
            }
        };
        let gone: Vec<_> = self.present.difference(&now).copied().collect();
        let new: Vec<_> = now.difference(&self.present).copied().collect();
        let mut out = Vec::new();
        for inst in gone {
            self.change(inst, false, &mut out);
        }
        for inst in new {
            self.change(inst, true, &mut out);
        }
        out.retain(|i| matches!(i, Input::VsAddress { vs, .. } if fresh(*vs)));
        out
    }

    fn is_watched(&self, ip: &IpAddr) -> bool {
        self.watched.iter().any(|(_, a)| a == ip)
    }

    /// One instance appeared or went: an input per virtual server of that
    /// address (repeats of a known state are dropped: IPv6 addresses are
    /// announced again when they change).
    fn change(&mut self, inst: (u32, IpAddr), present: bool, out: &mut Vec<Input>) {
        let changed = if present { self.present.insert(inst) } else { self.present.remove(&inst) };
        if !changed {
            return;
        }
        for (vs, a) in &self.watched {
            if *a == inst.1 {
                out.push(Input::VsAddress { vs: *vs, present });
            }
        }
    }

    /// The monitor is readable: the inputs for the engine.
    pub fn on_ready(&mut self) -> Vec<Input> {
        let mut events = Vec::new();
        if let Err(e) = self.monitor.read(&mut events) {
            self.read_errors += 1;
            if self.read_errors == 1 || self.read_errors.is_power_of_two() {
                warn!("{e} ({} times)", self.read_errors);
            }
        }
        let mut out = Vec::new();
        for ev in events {
            match ev {
                Event::AddressAdded(a) if self.is_watched(&a.addr) => self.change((a.index, a.addr), true, &mut out),
                Event::AddressRemoved(a) if self.is_watched(&a.addr) => self.change((a.index, a.addr), false, &mut out),
                Event::Resync => out.extend(self.resync()),
                _ => {}
            }
        }
        out
    }
}
