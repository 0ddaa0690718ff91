//! The name of a VMAC whose instance configures none, chosen as keepalived 2.2.7 does
//! (vrrp.c `vrrp_complete_instance` and `create_vmac_name`):
//!
//! 1. an existing interface that can be this instance's (a private macvlan on the same base
//!    interface with the instance's MAC) keeps its name, so that a
//!    restart or a reload finds its VMAC again;
//! 2. else the first of `PREFIX.VRID`, `PREFIX1.VRID`, `PREFIX2.VRID` … (IPv6 tries
//!    `PREFIX6.VRID` second) that no instance of the configuration names and no interface has.
//!
//! The same VRID on several interfaces, or for both families, thus gets one interface each
//! (`vrrp.1`, `vrrp1.1`, …) instead of one name that each instance would take from the previous.
use keepalived_netlink::Link;
use std::collections::HashSet;

/// What makes an existing interface this instance's.
pub(super) enum Kind {
    /// A macvlan with this MAC.
    Macvlan([u8; 6]),
}

/// Names chosen so far while one configuration is applied.
pub(super) struct VmacNames {
    prefix: String,
    /// Interface names configured by any instance, and those chosen so far.
    taken: HashSet<String>,
    /// The interfaces, read once and again after each creation.
    links: Option<Vec<Link>>,
}

impl VmacNames {
    /// `configured`: the names instances give their VMAC or ipvlan.
    pub(super) fn new(prefix: &str, configured: impl IntoIterator<Item = String>) -> VmacNames {
        VmacNames { prefix: prefix.to_string(), taken: configured.into_iter().collect(), links: None }
    }

    /// The interfaces changed (one was created): read them again when next needed.
    pub(super) fn forget_links(&mut self) {
        self.links = None;
    }

    /// The name for an instance of `vrid` (and family) on base interface `base`.
    pub(super) fn choose(&mut self, vrid: u8, ipv6: bool, base: u32, kind: &Kind) -> String {
        if self.links.is_none() {
            self.links = Some(keepalived_netlink::dump_links().unwrap_or_default());
        }
        let links = self.links.as_deref().unwrap_or_default();
        let found =
            links.iter().find(|l| !self.taken.contains(&l.name) && l.parent_index == Some(base) && is_kind(l, kind));
        let name = match found {
            Some(l) => l.name.clone(),
            None => candidates(&self.prefix, vrid, ipv6)
                .find(|n| !self.taken.contains(n) && !links.iter().any(|l| &l.name == n))
                .unwrap_or_else(|| format!("{}.{vrid}", self.prefix)),
        };
        self.taken.insert(name.clone());
        name
    }
}

fn is_kind(l: &Link, kind: &Kind) -> bool {
    match kind {
        Kind::Macvlan(mac) => l.kind.as_deref() == Some("macvlan") && l.hw_addr == mac,
    }
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
mod tests {
    use super::candidates;

    #[test]
    fn names_in_keepalived_order() {
        let v4: Vec<String> = candidates("vrrp", 7, false).take(3).collect();
        assert_eq!(v4, ["vrrp.7", "vrrp1.7", "vrrp2.7"]);
        let v6: Vec<String> = candidates("vrrp", 7, true).take(8).collect();
        assert_eq!(v6, ["vrrp.7", "vrrp6.7", "vrrp1.7", "vrrp2.7", "vrrp3.7", "vrrp4.7", "vrrp5.7", "vrrp7.7"]);
        let long: Vec<String> = candidates("averyverylongprefix", 255, false).take(2).collect();
        assert_eq!(long, ["averyverylo.255", "averyveryl1.255"]);
        assert!(long.iter().all(|n| n.len() <= 15));
    }
}
