//! ipvlan interfaces (`use_ipvlan`), created and configured as keepalived
//! 2.2.7 does (keepalived/vrrp/vrrp_vmac.c `netlink_link_add_ipvlan`):
//!
//! 1. If a link of that name exists, it is used as is (brought up when it
//!    is down); the parser already refused a name held by anything but an
//!    ipvlan.
//! 2. Otherwise one `RTM_NEWLINK` creates it up: `IFLA_LINK` the instance's
//!    interface, `IFLA_IFNAME`, kind `ipvlan` with `IFLA_IPVLAN_MODE` l2
//!    ("in l2 mode, ipvlan will receive frames") and `IFLA_IPVLAN_FLAGS`
//!    bridge (0), private or vepa; `IFLA_MASTER` the base's VRF when the
//!    base is enslaved to one; `IFLA_GROUP` with `group` (keepalived after
//!    2.2.7).
//! 3. `disable_ipv6` = 1 for an IPv4 instance without IPv6 eVIPs, else 0.
//! 4. The configured address (`use_ipvlan IP[/P]`) is added (IPv6: `nodad`
//!    and preferred_lft 0, as keepalived's zeroed address gets); it is the
//!    instance's source. The VIPs stay on the base interface (2.2.7 moves
//!    VIPs only onto a VMAC).
//!
//! Unlike a VMAC, an ipvlan shares the base's MAC: no sysctls, no
//! `addrgenmode`, no IGMP/MLD filter. It goes with [`crate::vmac::delete_vmac`]
//! (keepalived's `netlink_link_del_vmac` serves both), at stop and when a
//! reload drops it.

use crate::nla::MsgBuilder;
use crate::vmac::{check_name, ifinfomsg, ipv6_conf, link_by_name, request, up_message, write_sysctl};
use crate::vmac::{Vmac, VmacError};
use crate::{AddrOptions, NetlinkError, RTM_NEWLINK};
use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST};
use std::io;
use std::net::IpAddr;

const IFLA_IFNAME: u16 = 3;
const IFLA_LINK: u16 = 5;
const IFLA_MASTER: u16 = 10;
const IFLA_LINKINFO: u16 = 18;
const IFLA_GROUP: u16 = 27;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const IFLA_IPVLAN_MODE: u16 = 1;
const IFLA_IPVLAN_FLAGS: u16 = 2;
const IPVLAN_MODE_L2: u16 = 0;
use crate::vmac::{AF_UNSPEC, ENODEV, IFF_UP};

/// `IPVLAN_F_PRIVATE`, `IPVLAN_F_VEPA` (linux/if_link.h); bridge is 0.
pub const IPVLAN_F_PRIVATE: u16 = 1;
pub const IPVLAN_F_VEPA: u16 = 2;

/// The `IFLA_IPVLAN_FLAGS` of a configured type word.
pub fn ipvlan_flags(mode: Option<&str>) -> u16 {
    match mode {
        Some("private") => IPVLAN_F_PRIVATE,
        Some("vepa") => IPVLAN_F_VEPA,
        _ => 0,
    }
}

/// What to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpvlanSpec {
    /// Interface name (`use_ipvlan NAME`, default `vrrp.<VRID>`).
    pub name: String,
    /// The instance's interface (the ipvlan's parent).
    pub base_ifindex: u32,
    /// [`ipvlan_flags`].
    pub flags: u16,
    /// The VRF the base is enslaved to (`IFLA_MASTER`).
    pub vrf_master: Option<u32>,
    /// `group` (`IFLA_GROUP`).
    pub group: Option<u32>,
    /// `use_ipvlan IP[/P]`.
    pub addr: Option<(IpAddr, u8)>,
    /// The instance is IPv6.
    pub ipv6: bool,
    /// The instance has eVIPs of the other family.
    pub other_family_evips: bool,
}

/// The VRF `base` is enslaved to, if any (keepalived: `vrf_master_ifp`).
pub fn vrf_master_of(base: u32) -> Result<Option<u32>, NetlinkError> {
    let links = crate::dump_links()?;
    let master = links.iter().find(|l| l.index == base).and_then(|l| l.master_index);
    Ok(master.filter(|m| links.iter().any(|l| l.index == *m && l.kind.as_deref() == Some("vrf"))))
}

/// The table of VRF `name` (`None`: no such interface, or not a VRF), for
/// a route's `vrf NAME`.
pub fn vrf_table(name: &str) -> Result<Option<u32>, NetlinkError> {
    Ok(link_by_name(name)?.and_then(|l| l.vrf_table))
}

/// `RTM_NEWLINK` creating the ipvlan up, keepalived's attributes in its order.
fn newlink_message(spec: &IpvlanSpec) -> MsgBuilder {
    let mut m = MsgBuilder::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    m.raw(&ifinfomsg(AF_UNSPEC, 0, IFF_UP, IFF_UP));
    m.u32_ne(IFLA_LINK, spec.base_ifindex).str_bare(IFLA_IFNAME, &spec.name);
    m.begin(IFLA_LINKINFO, 0).str_bare(IFLA_INFO_KIND, "ipvlan");
    m.begin(IFLA_INFO_DATA, 0);
    m.attr(IFLA_IPVLAN_MODE, &IPVLAN_MODE_L2.to_ne_bytes()).attr(IFLA_IPVLAN_FLAGS, &spec.flags.to_ne_bytes());
    m.end().end();
    if let Some(v) = spec.vrf_master {
        m.u32_ne(IFLA_MASTER, v);
    }
    if let Some(g) = spec.group {
        m.u32_ne(IFLA_GROUP, g);
    }
    m
}

fn gone(name: &str) -> VmacError {
    VmacError::Netlink(NetlinkError::Change {
        action: format!("create ipvlan interface {name}"),
        source: io::Error::from_raw_os_error(ENODEV),
        hint: None,
    })
}

/// Create (or take over) the ipvlan of `spec`, bring it up and give it its
/// address. The result is deleted with [`crate::vmac::delete_vmac`].
pub fn create_ipvlan(spec: &IpvlanSpec) -> Result<Vmac, VmacError> {
    check_name(&spec.name)?;
    let reused = match link_by_name(&spec.name)? {
        Some(old) => {
            if old.flags & IFF_UP == 0 {
                request(format!("bring ipvlan {} up", spec.name), up_message(old.index))?;
            }
            true
        }
        None => {
            let action = format!("create ipvlan interface {} on interface {}", spec.name, spec.base_ifindex);
            request(action, newlink_message(spec))?;
            false
        }
    };
    let link = link_by_name(&spec.name)?.ok_or_else(|| gone(&spec.name))?;
    let (name, base_ifindex, ipvlan_flags) = (spec.name.clone(), spec.base_ifindex, Some(spec.flags));
    let v = Vmac { name, index: link.index, base_ifindex, reused, ipvlan_flags };
    // No IPv6 on an IPv4 ipvlan unless it carries IPv6 eVIPs.
    let disable = !spec.ipv6 && !spec.other_family_evips;
    write_sysctl(&ipv6_conf(&spec.name, "disable_ipv6"), u8::from(disable))?;
    if let Some((addr, len)) = spec.addr {
        // keepalived adds it as a VIP with a zeroed preferred_lft: IPv6 gets
        // nodad and a preferred lifetime of 0 (deprecated).
        let v6 = addr.is_ipv6();
        let opts = AddrOptions { nodad: v6, preferred_lft: v6.then_some(0), ..Default::default() };
        match crate::add_address(v.index, addr, len, &opts) {
            Ok(()) => {}
            Err(e) if e.is_already_exists() => {}
            Err(e) => return Err(e.into()),
        }
    }
    tracing::info!(ipvlan = %spec.name, index = v.index, reused, "ipvlan interface ready");
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw;

    #[test]
    fn newlink_as_ip_link_add() {
        // ip link add link IDX3 name vrrp.5 up type ipvlan mode l2 private
        let spec = IpvlanSpec {
            name: "vrrp.5".into(),
            base_ifindex: 3,
            flags: ipvlan_flags(Some("private")),
            vrf_master: Some(7),
            group: None,
            addr: None,
            ipv6: false,
            other_family_evips: false,
        };
        let m = newlink_message(&spec).finish(0);
        assert_eq!(m[16 + 8..16 + 16], [1, 0, 0, 0, 1, 0, 0, 0], "IFF_UP in flags and change");
        let top: Vec<(u16, Vec<u8>)> = raw::attrs(&m[32..]).map(|(k, v)| (k, v.to_vec())).collect();
        let kinds: Vec<u16> = top.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, [IFLA_LINK, IFLA_IFNAME, IFLA_LINKINFO, IFLA_MASTER]);
        let info = &top[2].1;
        let inner: Vec<(u16, Vec<u8>)> = raw::attrs(info).map(|(k, v)| (k, v.to_vec())).collect();
        assert_eq!(inner[0], (IFLA_INFO_KIND, b"ipvlan".to_vec()));
        let data: Vec<(u16, Vec<u8>)> = raw::attrs(&inner[1].1).map(|(k, v)| (k, v.to_vec())).collect();
        assert_eq!(data, [(IFLA_IPVLAN_MODE, vec![0, 0]), (IFLA_IPVLAN_FLAGS, vec![1, 0])]);
        assert_eq!(ipvlan_flags(Some("vepa")), IPVLAN_F_VEPA);
        assert_eq!(ipvlan_flags(Some("bridge")), 0);
    }
}
