//! The name of a VMAC or ipvlan whose instance configures none, chosen as keepalived 2.2.7 does
//! (vrrp.c `vrrp_complete_instance` and `create_vmac_name`):
//!
//! 1. an existing interface that can be this instance's keeps its name, so that a restart or a
//!    reload finds its VMAC or ipvlan again:
//!    - for a VMAC, a private macvlan on the same base interface with the instance's MAC;
//!    - for an ipvlan, an l2 ipvlan on the same base interface with the instance's
//!      `IFLA_IPVLAN_FLAGS` (bridge, private, vepa; for an ipvlan keepalived created or took
//!      over, the flags it had then: the kernel keeps one value per parent, which the parent's
//!      last ipvlan sets for all, and keepalived does not read it again) whose address is the
//!      instance's
//!      `use_ipvlan` address (any, when none is configured). An IPv6 instance without an
//!      address never takes an existing ipvlan over ("We should probably check if any VIPs
//!      match for IPv6 when no i/f name or address configured"), so each reload gives it a new
//!      one;
//! 2. else the first of `PREFIX.VRID`, `PREFIX1.VRID`, `PREFIX2.VRID` … (IPv6 tries
//!    `PREFIX6.VRID` second) that no instance of the configuration names and no interface has.
//!
//! The same VRID on several interfaces, or for both families, thus gets one interface each
//! (`vrrp.1`, `vrrp1.1`, …) instead of one name that each instance would take from the previous.
use keepalived_netlink::{Addr, Link};
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

/// `IPVLAN_MODE_L2`: keepalived creates, and takes over, only l2 ipvlans.
const IPVLAN_MODE_L2: u16 = 0;

/// What makes an existing interface this instance's.
pub(super) enum Kind {
    /// A macvlan with this MAC.
    Macvlan([u8; 6]),
    /// An ipvlan with these `IFLA_IPVLAN_FLAGS` and this `use_ipvlan` address.
    Ipvlan { flags: u16, addr: Option<IpAddr> },
}

/// The interfaces and their addresses, as the kernel lists them.
#[derive(Default)]
pub(super) struct System {
    pub links: Vec<Link>,
    pub addrs: Vec<Addr>,
}

impl System {
    /// A failed read leaves the list empty: no existing interface is then taken over, and the
    /// log says why.
    fn read() -> System {
        System {
            links: or_empty(keepalived_netlink::dump_links()),
            addrs: or_empty(keepalived_netlink::dump_addresses()),
        }
    }
}

fn or_empty<T>(r: Result<Vec<T>, keepalived_netlink::NetlinkError>) -> Vec<T> {
    r.unwrap_or_else(|e| {
        tracing::warn!("Unable to read the interfaces to find existing VMACs and ipvlans: {e}");
        Vec::new()
    })
}

/// One instance's request: its VRID, family, base interface and what it takes over.
pub(super) struct Want<'a> {
    pub vrid: u8,
    pub ipv6: bool,
    pub base: u32,
    pub kind: &'a Kind,
}

/// Names chosen so far while one configuration is applied.
pub(super) struct VmacNames {
    prefix: String,
    /// Interface names configured by any instance, and those chosen so far.
    taken: HashSet<String>,
    /// The interfaces, read once and again after each creation.
    system: Option<System>,
    /// The flags of the ipvlans created or taken over, by name: the previous configuration's,
    /// then this one's.
    ipvlan_flags: HashMap<String, u16>,
}

impl VmacNames {
    /// `configured`: the names instances give their VMAC or ipvlan.
    pub(super) fn new(prefix: &str, configured: impl IntoIterator<Item = String>) -> VmacNames {
        let taken = configured.into_iter().collect();
        VmacNames { prefix: prefix.to_string(), taken, system: None, ipvlan_flags: HashMap::new() }
    }

    /// At a reload: the flags of the previous configuration's ipvlans, by name.
    pub(super) fn with_ipvlan_flags(mut self, flags: HashMap<String, u16>) -> VmacNames {
        self.ipvlan_flags = flags;
        self
    }

    /// The interfaces changed (one was created): read them again when next needed.
    pub(super) fn forget_links(&mut self) {
        self.system = None;
    }

    /// The name for `want`, and whether it is an existing interface taken over.
    pub(super) fn choose(&mut self, want: &Want<'_>) -> (String, bool) {
        let system = self.system.take().unwrap_or_else(System::read);
        let chosen = self.choose_among(&system, want);
        self.system = Some(system);
        chosen
    }

    /// [`VmacNames::choose`] on the given interfaces (sans I/O).
    pub(super) fn choose_among(&mut self, system: &System, want: &Want<'_>) -> (String, bool) {
        let found = match want.kind {
            // A VMAC chosen for an earlier instance is not taken over again.
            Kind::Macvlan(mac) => system
                .links
                .iter()
                .find(|l| !self.taken.contains(&l.name) && l.parent_index == Some(want.base) && is_macvlan(l, mac)),
            // keepalived does not look at the names in use here: two instances with the same
            // ipvlan address share the ipvlan.
            Kind::Ipvlan { flags, addr } => system.links.iter().find(|l| {
                l.parent_index == Some(want.base) && is_ipvlan(system, l, self.flags_of(l), want, (*flags, *addr))
            }),
        };
        let chosen = match found {
            Some(l) => (l.name.clone(), true),
            None => (self.free_name(&system.links, want), false),
        };
        self.taken.insert(chosen.0.clone());
        if let Kind::Ipvlan { flags, .. } = want.kind {
            self.ipvlan_flags.insert(chosen.0.clone(), *flags);
        }
        chosen
    }

    /// An l2 ipvlan's flags as keepalived recorded them; `None` for anything else.
    fn flags_of(&self, l: &Link) -> Option<u16> {
        let dumped = l.ipvlan.filter(|i| i.mode == IPVLAN_MODE_L2).map(|i| i.flags);
        dumped.map(|f| self.ipvlan_flags.get(&l.name).copied().unwrap_or(f))
    }

    /// The first candidate name no instance uses and no interface has.
    fn free_name(&self, links: &[Link], want: &Want<'_>) -> String {
        candidates(&self.prefix, want.vrid, want.ipv6)
            .find(|n| !self.taken.contains(n) && !links.iter().any(|l| &l.name == n))
            .unwrap_or_else(|| format!("{}.{}", self.prefix, want.vrid))
    }
}

fn is_macvlan(l: &Link, mac: &[u8; 6]) -> bool {
    l.kind.as_deref() == Some("macvlan") && l.hw_addr == mac
}

/// keepalived's ipvlan test: l2 (`l2_flags`, `None` otherwise) with the instance's flags, not an
/// IPv6 instance without an address, and the interface's address the instance's `use_ipvlan` one
/// (an IPv4 instance without one, a configuration fault, takes any).
fn is_ipvlan(system: &System, l: &Link, l2_flags: Option<u16>, want: &Want<'_>, ip: (u16, Option<IpAddr>)) -> bool {
    let (flags, addr) = ip;
    if l.kind.as_deref() != Some("ipvlan") || l2_flags != Some(flags) {
        return false;
    }
    match addr {
        None => !want.ipv6,
        Some(IpAddr::V4(a)) => first_ipv4(system, l.index) == Some(a),
        // keepalived compares the address it gave the ipvlan when it created it
        // (`ifp->sin6_addr`, which a reload keeps): the interface carrying it.
        Some(a) => system.addrs.iter().any(|x| x.index == l.index && x.addr == a),
    }
}

/// The interface's first IPv4 address, which keepalived records as its own (`ifp->sin_addr`).
fn first_ipv4(system: &System, index: u32) -> Option<std::net::Ipv4Addr> {
    system.addrs.iter().filter(|a| a.index == index).find_map(|a| match a.addr {
        IpAddr::V4(v) => Some(v),
        IpAddr::V6(_) => None,
    })
}

/// `PREFIX.VRID`, then `PREFIXn.VRID` for n = 1, 2, … (IPv6: 6, 1, 2, 3, 4, 5, 7, …), each cut
/// to an interface name's 15 characters by shortening the prefix, as keepalived does.
fn candidates(prefix: &str, vrid: u8, ipv6: bool) -> impl Iterator<Item = String> + '_ {
    let numbers = (0u16..=u16::MAX).map(move |i| match (ipv6, i) {
        (_, 0) => None,
        (true, 1) => Some(6),
        (true, n) if n <= 6 => Some(n - 1),
        (_, n) => Some(n),
    });
    numbers.map(move |n| {
        let tail = match n {
            None => format!(".{vrid}"),
            Some(n) => format!("{n}.{vrid}"),
        };
        let keep = prefix.len().min(15usize.saturating_sub(tail.len()));
        let cut = (0..=keep).rev().find(|&i| prefix.is_char_boundary(i)).unwrap_or(0);
        format!("{}{tail}", &prefix[..cut])
    })
}

#[cfg(test)]
mod tests;
