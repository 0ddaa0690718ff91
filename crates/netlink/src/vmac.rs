//! VMAC interfaces (`use_vmac`): a private-mode macvlan carrying the
//! virtual router's MAC address, created and configured as keepalived 2.2.7
//! does (keepalived/vrrp/vrrp_vmac.c, vrrp_if_config.c).
//!
//! [`create_vmac`]:
//! 1. If a link of that name exists: on another base interface, a macvlan is
//!    deleted and created again, anything else is an error (it is not
//!    ours); on the right base with another MAC or mode, it is updated in
//!    place; with the right MAC and private mode it is reused as is (a
//!    leftover of an earlier run).
//! 2. Otherwise `RTM_NEWLINK` macvlan, mode private, `IFLA_LINK` base,
//!    `IFLA_ADDRESS` 00:00:5e:00:01:VRID (IPv6 instances :02:VRID).
//! 3. IPv4 instances, when the link was created or updated: the sysctls of
//!    [`Sysctls::vmac_created`].
//! 4. `disable_ipv6` = 1 for an IPv4 instance without IPv6 eVIPs, else 0.
//! 5. IPv6 `addrgenmode none` (no EUI-64 link-local from the virtual MAC,
//!    RFC 5798 §7.4; a separate message, the kernel ignores it at creation),
//!    then the link is set up (a third message: setting it up before
//!    `addrgenmode` would add the EUI-64 address).
//!
//! An IPv6 instance then needs a link-local address on the VMAC (unless
//! `vmac_xmit_base`): see [`vmac_link_local`].
//!
//! [`delete_vmac`] deletes it (`RTM_DELLINK`); keepalived deletes the VMACs
//! it created or reused at exit.

use crate::nla::MsgBuilder;
use crate::transport::{error_code, Expect, Transport};
use crate::{raw, NetlinkError, RTM_DELLINK, RTM_NEWLINK};
use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST};
use netlink_sys::protocols::NETLINK_ROUTE;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io;
use std::net::Ipv6Addr;
use std::ops::ControlFlow;
use std::path::PathBuf;

// linux/if_link.h
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_LINK: u16 = 5;
const IFLA_LINKINFO: u16 = 18;
const IFLA_AF_SPEC: u16 = 26;
const IFLA_EXT_MASK: u16 = 29;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const IFLA_MACVLAN_MODE: u16 = 1;
const IFLA_INET_CONF: u16 = 1;
const IFLA_INET6_ADDR_GEN_MODE: u16 = 8;
const IN6_ADDR_GEN_MODE_NONE: u8 = 1;
const RTM_GETLINK: u16 = 18;
const RTEXT_FILTER_VF: u32 = 1;
const RTEXT_FILTER_SKIP_STATS: u32 = 8;
pub(crate) const AF_UNSPEC: u8 = 0;
const AF_INET: u8 = 2;
const AF_INET6: u16 = 10;
pub(crate) const IFF_UP: u32 = 1;
pub(crate) const ENODEV: i32 = 19;

/// `MACVLAN_MODE_PRIVATE`: frames are not switched between macvlans of the
/// same base, so the VMAC only sees traffic for its own MAC.
pub const MACVLAN_MODE_PRIVATE: u32 = 1;

// linux/ip.h IPV4_DEVCONF_* (attribute numbers inside IFLA_INET_CONF).
const DEVCONF_RP_FILTER: u16 = 8;
const DEVCONF_ARPFILTER: u16 = 13;
const DEVCONF_ARP_IGNORE: u16 = 19;
const DEVCONF_PROMOTE_SECONDARIES: u16 = 20;
const DEVCONF_ACCEPT_LOCAL: u16 = 23;

/// The VRRP virtual MAC address (RFC 5798 §7.3): 00:00:5e:00:01:VRID for
/// IPv4, 00:00:5e:00:02:VRID for IPv6.
pub fn default_mac(vrid: u8, ipv6: bool) -> [u8; 6] {
    [0, 0, 0x5e, 0, if ipv6 { 2 } else { 1 }, vrid]
}

/// The default VMAC name, `vrrp.<VRID>`.
pub fn default_name(vrid: u8) -> String {
    format!("vrrp.{vrid}")
}

/// The link-local address keepalived gives an IPv6 VMAC so adverts are not
/// sent from a VIP (vrrp_vmac.c `set_link_local_address`): the instance's
/// configured IPv6 source address if any, else the base interface's
/// link-local address if it has one, else one made EUI-64 style from the
/// base interface's MAC. keepalived adds it as `ADDR/64` with `nodad` and
/// a preferred lifetime of 0.
pub fn vmac_link_local(source: Option<Ipv6Addr>, base_link_local: Option<Ipv6Addr>, base_mac: &[u8]) -> Ipv6Addr {
    if let Some(a) = source.or(base_link_local) {
        return a;
    }
    let m = |i: usize| base_mac.get(i).copied().unwrap_or(0);
    Ipv6Addr::from([0xfe, 0x80, 0, 0, 0, 0, 0, 0, m(0) ^ 2, m(1), m(2), 0xff, 0xfe, m(3), m(4), m(5)])
}

/// What to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmacSpec {
    /// Interface name (`use_vmac NAME`, default `vrrp.<VRID>`).
    pub name: String,
    /// The configured interface of the instance (the macvlan's base).
    pub base_ifindex: u32,
    /// The MAC address ([`default_mac`] or configured).
    pub mac: [u8; 6],
    /// The instance is IPv6.
    pub ipv6: bool,
    /// The instance has eVIPs of the other family: IPv6 stays enabled on
    /// an IPv4 VMAC.
    pub other_family_evips: bool,
}

impl VmacSpec {
    /// keepalived's defaults for `use_vmac` without arguments.
    pub fn new(vrid: u8, base_ifindex: u32, ipv6: bool) -> VmacSpec {
        VmacSpec {
            name: default_name(vrid),
            base_ifindex,
            mac: default_mac(vrid, ipv6),
            ipv6,
            other_family_evips: false,
        }
    }
}

/// A VMAC in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vmac {
    pub name: String,
    pub index: u32,
    pub base_ifindex: u32,
    /// An existing, correct macvlan was reused (not created, nor changed).
    pub reused: bool,
    /// An ipvlan's `IFLA_IPVLAN_FLAGS` as created or taken over (the kernel keeps one value per
    /// parent, which the parent's last ipvlan sets); `None` for a macvlan.
    pub ipvlan_flags: Option<u16>,
}

/// Why a VMAC could not be set up.
#[derive(Debug)]
pub enum VmacError {
    /// A link of that name exists and is not a macvlan.
    Conflict { name: String, kind: Option<String> },
    /// The name cannot be an interface name.
    BadName(String),
    /// A netlink request failed.
    Netlink(NetlinkError),
    /// A sysctl could not be read or written.
    Sysctl { path: PathBuf, source: io::Error },
}

impl fmt::Display for VmacError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VmacError::Conflict { name, kind } => write!(
                f,
                "cannot use {name} as a VMAC: an interface of that name exists and is not a macvlan ({})",
                kind.as_deref().unwrap_or("a physical device")
            ),
            VmacError::BadName(n) => write!(f, "'{n}' is not a valid interface name (1 to 15 characters, no '/')"),
            VmacError::Netlink(e) => write!(f, "{e}"),
            VmacError::Sysctl { path, source } => write!(f, "cannot set {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for VmacError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            VmacError::Netlink(e) => Some(e),
            VmacError::Sysctl { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<NetlinkError> for VmacError {
    fn from(e: NetlinkError) -> Self {
        VmacError::Netlink(e)
    }
}

pub(crate) fn check_name(name: &str) -> Result<(), VmacError> {
    if name.is_empty() || name.len() > 15 || name.contains(['/', '\0']) || name.chars().any(char::is_whitespace) {
        return Err(VmacError::BadName(name.to_string()));
    }
    Ok(())
}

/// An existing link, as far as VMAC handling cares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkDetail {
    pub index: u32,
    pub kind: Option<String>,
    pub macvlan_mode: Option<u32>,
    /// A VRF's table (`IFLA_VRF_TABLE`).
    pub vrf_table: Option<u32>,
    pub parent_index: Option<u32>,
    pub hw_addr: Vec<u8>,
    pub flags: u32,
}

pub(crate) fn ifinfomsg(family: u8, index: u32, flags: u32, change: u32) -> [u8; 16] {
    let mut h = [0u8; 16];
    h[0] = family;
    h[4..8].copy_from_slice(&index.to_ne_bytes());
    h[8..12].copy_from_slice(&flags.to_ne_bytes());
    h[12..16].copy_from_slice(&change.to_ne_bytes());
    h
}

/// Send one rtnetlink request and wait for its acknowledgement.
pub(crate) fn request(action: String, m: MsgBuilder) -> Result<(), NetlinkError> {
    let mut t = Transport::connect(NETLINK_ROUTE)?;
    let seq = t.next_seq();
    t.request(&action, &m.finish(seq), seq, Expect::Ack)
}

/// The link named `name`, if there is one.
pub fn link_by_name(name: &str) -> Result<Option<LinkDetail>, NetlinkError> {
    let what = "network interfaces";
    let mut t = Transport::connect(NETLINK_ROUTE)?;
    let seq = t.next_seq();
    let mut m = MsgBuilder::new(RTM_GETLINK, NLM_F_REQUEST);
    m.raw(&ifinfomsg(AF_UNSPEC, 0, 0, 0))
        .u32_ne(IFLA_EXT_MASK, RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS)
        .str(IFLA_IFNAME, name);
    let answer = t.exchange(&m.finish(seq), seq, |msg| match msg.kind {
        netlink_packet_core::NLMSG_ERROR => ControlFlow::Break(Err(error_code(msg).unwrap_or(0).saturating_abs())),
        RTM_NEWLINK => ControlFlow::Break(Ok(parse_link(msg.payload))),
        _ => ControlFlow::Continue(()),
    });
    match answer.map_err(|f| f.into_dump_error(what))? {
        Ok(link) => Ok(Some(link)),
        Err(ENODEV) => Ok(None),
        Err(errno) => Err(NetlinkError::Kernel { what, source: io::Error::from_raw_os_error(errno) }),
    }
}

pub(crate) fn parse_link(p: &[u8]) -> LinkDetail {
    let u32_at = |b: &[u8], i: usize| b.get(i..i + 4).map(|s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]));
    let mut l = LinkDetail { index: u32_at(p, 4).unwrap_or(0), flags: u32_at(p, 8).unwrap_or(0), ..Default::default() };
    for (kind, v) in raw::attrs(p.get(16..).unwrap_or(&[])) {
        match kind {
            IFLA_ADDRESS => l.hw_addr = v.to_vec(),
            IFLA_LINK => l.parent_index = u32_at(v, 0),
            IFLA_LINKINFO => {
                for (k, iv) in raw::attrs(v) {
                    match k {
                        IFLA_INFO_KIND => {
                            let end = iv.iter().position(|c| *c == 0).unwrap_or(iv.len());
                            l.kind = Some(String::from_utf8_lossy(&iv[..end]).into_owned());
                        }
                        IFLA_INFO_DATA => {
                            for (dk, dv) in raw::attrs(iv) {
                                if dk == IFLA_MACVLAN_MODE {
                                    l.macvlan_mode = u32_at(dv, 0);
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    // IFLA_VRF_TABLE has the number of IFLA_MACVLAN_MODE.
    if l.kind.as_deref() == Some("vrf") {
        l.vrf_table = l.macvlan_mode.take();
    }
    l
}

/// `RTM_NEWLINK` creating (`update` None) or updating the macvlan, with
/// keepalived's attributes in keepalived's order.
fn newlink_message(spec: &VmacSpec, update: Option<u32>) -> MsgBuilder {
    let flags = NLM_F_REQUEST | NLM_F_ACK | if update.is_none() { NLM_F_CREATE | NLM_F_EXCL } else { 0 };
    let mut m = MsgBuilder::new(RTM_NEWLINK, flags);
    m.raw(&ifinfomsg(AF_UNSPEC, update.unwrap_or(0), 0, 0));
    m.begin(IFLA_LINKINFO, 0).str_bare(IFLA_INFO_KIND, "macvlan");
    m.begin(IFLA_INFO_DATA, 0).u32_ne(IFLA_MACVLAN_MODE, MACVLAN_MODE_PRIVATE).end().end();
    if update.is_none() {
        m.u32_ne(IFLA_LINK, spec.base_ifindex).str_bare(IFLA_IFNAME, &spec.name);
    }
    m.attr(IFLA_ADDRESS, &spec.mac);
    m
}

fn addrgenmode_message(index: u32) -> MsgBuilder {
    let mut m = MsgBuilder::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
    m.raw(&ifinfomsg(AF_UNSPEC, index, 0, 0));
    m.begin(IFLA_AF_SPEC, 0).begin(AF_INET6, 0).u8(IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE).end().end();
    m
}

pub(crate) fn up_message(index: u32) -> MsgBuilder {
    let mut m = MsgBuilder::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
    m.raw(&ifinfomsg(AF_UNSPEC, index, IFF_UP, IFF_UP));
    m
}

/// Per-interface IPv4 settings in one message (`IFLA_AF_SPEC` / `AF_INET` /
/// `IFLA_INET_CONF`), as keepalived sets them.
fn devconf_message(index: u32, settings: &[(u16, u32)]) -> MsgBuilder {
    let mut m = MsgBuilder::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
    m.raw(&ifinfomsg(AF_UNSPEC, index, 0, 0));
    m.begin(IFLA_AF_SPEC, 0).begin(u16::from(AF_INET), 0).begin(IFLA_INET_CONF, 0);
    for (k, v) in settings {
        m.u32_ne(*k, *v);
    }
    m.end().end().end();
    m
}

fn mac_str(mac: &[u8]) -> String {
    mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// Create (or reuse, or fix) the VMAC of `spec`, configure it and bring it
/// up. `sysctls` records what must be put back later.
pub fn create_vmac(spec: &VmacSpec, sysctls: &mut Sysctls) -> Result<Vmac, VmacError> {
    check_name(&spec.name)?;
    let mut update = None;
    let mut reused = false;
    if let Some(old) = link_by_name(&spec.name)? {
        let is_macvlan = old.kind.as_deref() == Some("macvlan");
        if old.parent_index != Some(spec.base_ifindex) {
            if !is_macvlan {
                return Err(VmacError::Conflict { name: spec.name.clone(), kind: old.kind });
            }
            tracing::info!(vmac = %spec.name, "removing old VMAC interface on another base interface");
            delete_link(&spec.name, old.index)?;
        } else if !is_macvlan {
            return Err(VmacError::Conflict { name: spec.name.clone(), kind: old.kind });
        } else if old.hw_addr != spec.mac || old.macvlan_mode != Some(MACVLAN_MODE_PRIVATE) {
            tracing::info!(vmac = %spec.name, mac = %mac_str(&old.hw_addr), "updating old VMAC interface with wrong MAC/mode");
            update = Some(old.index);
        } else {
            reused = true;
        }
    }
    if !reused {
        let action = match update {
            None => format!(
                "create VMAC {} (macvlan, private) on interface {} with MAC {}",
                spec.name,
                spec.base_ifindex,
                mac_str(&spec.mac)
            ),
            Some(_) => format!("update VMAC {} to macvlan private mode with MAC {}", spec.name, mac_str(&spec.mac)),
        };
        request(action, newlink_message(spec, update))?;
    }
    let link = link_by_name(&spec.name)?.ok_or_else(|| {
        VmacError::Netlink(NetlinkError::Change {
            action: format!("create VMAC {}", spec.name),
            source: io::Error::from_raw_os_error(ENODEV),
            hint: None,
        })
    })?;
    let vmac = Vmac {
        name: spec.name.clone(),
        index: link.index,
        base_ifindex: spec.base_ifindex,
        reused,
        ipvlan_flags: None,
    };
    if !spec.ipv6 && !reused {
        sysctls.vmac_created(&vmac)?;
    }
    // No IPv6 on an IPv4 VMAC unless it carries IPv6 eVIPs.
    let disable = !spec.ipv6 && !spec.other_family_evips;
    sysctls.write_untracked(&ipv6_conf(&spec.name, "disable_ipv6"), u8::from(disable))?;
    request(format!("set addrgenmode none on VMAC {}", spec.name), addrgenmode_message(link.index))?;
    request(format!("bring VMAC {} up", spec.name), up_message(link.index))?;
    tracing::info!(vmac = %spec.name, index = link.index, reused, "VMAC interface ready");
    Ok(vmac)
}

pub(crate) fn delete_link(name: &str, index: u32) -> Result<(), NetlinkError> {
    let mut m = MsgBuilder::new(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
    m.raw(&ifinfomsg(AF_INET, index, 0, 0));
    request(format!("delete VMAC {name}"), m)
}

/// Delete a VMAC and put back the base interface's ARP settings when it was
/// the last IPv4 VMAC on it. An already-gone VMAC is not an error.
pub fn delete_vmac(vmac: &Vmac, sysctls: &mut Sysctls) -> Result<(), VmacError> {
    let restored = sysctls.vmac_deleted(vmac);
    match delete_link(&vmac.name, vmac.index) {
        Ok(()) => {}
        Err(e) if e.errno() == Some(ENODEV) => {}
        Err(e) => return Err(e.into()),
    }
    restored
}

fn ipv4_conf(ifname: &str, key: &str) -> PathBuf {
    PathBuf::from(format!("/proc/sys/net/ipv4/conf/{ifname}/{key}"))
}

pub(crate) fn ipv6_conf(ifname: &str, key: &str) -> PathBuf {
    PathBuf::from(format!("/proc/sys/net/ipv6/conf/{ifname}/{key}"))
}

/// Read a one-digit sysctl, as keepalived reads them.
pub fn read_sysctl(path: &PathBuf) -> Result<u8, VmacError> {
    let s = std::fs::read_to_string(path).map_err(|source| VmacError::Sysctl { path: path.clone(), source })?;
    s.trim().parse::<u8>().map_err(|_| VmacError::Sysctl {
        path: path.clone(),
        source: io::Error::new(io::ErrorKind::InvalidData, format!("unexpected value '{}'", s.trim())),
    })
}

pub(crate) fn write_sysctl(path: &PathBuf, value: u8) -> Result<(), VmacError> {
    std::fs::write(path, format!("{value}\n")).map_err(|source| VmacError::Sysctl { path: path.clone(), source })
}

/// One changed setting: restored only if it still has the value we set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SysctlChange {
    pub path: PathBuf,
    pub old: u8,
    pub new: u8,
}

/// The sysctls keepalived changes for IPv4 VMACs, and their restoration.
///
/// - Once, before the first IPv4 VMAC, when `net.ipv4.conf.all.rp_filter`
///   is not 0 (a VMAC needs rp_filter 0, and the kernel uses the maximum of
///   `all` and the interface's value): `default.rp_filter` and every
///   interface's `rp_filter` are raised to the value of `all`, then `all`
///   is set to 0. Put back by [`Sysctls::restore`] (at exit).
/// - On the VMAC: `arp_ignore` 1, `accept_local` 1, `rp_filter` 0,
///   `promote_secondaries` 1 (gone with the interface).
/// - On the base interface: `arp_ignore` 1 and `arp_filter` 1, so the base
///   does not answer ARP for the VIPs with its own MAC; put back when its
///   last IPv4 VMAC is deleted.
#[derive(Debug, Default)]
pub struct Sysctls {
    rp_filter: Option<Vec<SysctlChange>>,
    /// Per base interface: its IPv4 VMACs (by index), and what to put back.
    bases: HashMap<u32, (HashSet<u32>, Vec<SysctlChange>)>,
}

impl Sysctls {
    pub fn new() -> Sysctls {
        Sysctls::default()
    }

    /// Write a setting nobody restores (`disable_ipv6` of the VMAC).
    fn write_untracked(&self, path: &PathBuf, value: u8) -> Result<(), VmacError> {
        write_sysctl(path, value)
    }

    /// Set `path` to `new` if it differs, recording the old value.
    fn set(changes: &mut Vec<SysctlChange>, path: PathBuf, new: u8) -> Result<(), VmacError> {
        let old = read_sysctl(&path)?;
        if old != new {
            write_sysctl(&path, new)?;
            changes.push(SysctlChange { path, old, new });
        }
        Ok(())
    }

    fn clear_rp_filter(&mut self) -> Result<(), VmacError> {
        let mut changes = Vec::new();
        let all = read_sysctl(&ipv4_conf("all", "rp_filter"))?;
        if all != 0 {
            let default = ipv4_conf("default", "rp_filter");
            if read_sysctl(&default)? < all {
                tracing::info!(from = read_sysctl(&default)?, to = all, "setting net.ipv4.conf.default.rp_filter");
                Self::set(&mut changes, default, all)?;
            }
            for l in crate::dump_links()? {
                let p = ipv4_conf(&l.name, "rp_filter");
                match read_sysctl(&p) {
                    Ok(v) if v < all => Self::set(&mut changes, p, all)?,
                    Ok(_) => {}
                    // An interface that went away meanwhile.
                    Err(_) => {}
                }
            }
            tracing::info!(from = all, "setting net.ipv4.conf.all.rp_filter to 0");
            Self::set(&mut changes, ipv4_conf("all", "rp_filter"), 0)?;
        }
        self.rp_filter = Some(changes);
        Ok(())
    }

    /// Settings for a newly created (or updated) IPv4 VMAC and its base.
    pub fn vmac_created(&mut self, vmac: &Vmac) -> Result<(), VmacError> {
        if self.rp_filter.is_none() {
            self.clear_rp_filter()?;
        }
        let conf = [
            (DEVCONF_ARP_IGNORE, 1),
            (DEVCONF_ACCEPT_LOCAL, 1),
            (DEVCONF_RP_FILTER, 0),
            (DEVCONF_PROMOTE_SECONDARIES, 1),
        ];
        request(format!("configure VMAC {}", vmac.name), devconf_message(vmac.index, &conf))?;
        if let Some((vmacs, _)) = self.bases.get_mut(&vmac.base_ifindex) {
            vmacs.insert(vmac.index);
            return Ok(());
        }
        let base = crate::dump_links()?.into_iter().find(|l| l.index == vmac.base_ifindex).map(|l| l.name);
        let Some(base) = base else {
            return Err(NetlinkError::Change {
                action: format!("configure the base interface of VMAC {}", vmac.name),
                source: io::Error::from_raw_os_error(ENODEV),
                hint: None,
            }
            .into());
        };
        let mut changes = Vec::new();
        let ignore = read_sysctl(&ipv4_conf(&base, "arp_ignore"))?;
        let filter = read_sysctl(&ipv4_conf(&base, "arp_filter"))?;
        if ignore != 1 || filter != 1 {
            request(
                format!("set arp_ignore and arp_filter on {base}"),
                devconf_message(vmac.base_ifindex, &[(DEVCONF_ARP_IGNORE, 1), (DEVCONF_ARPFILTER, 1)]),
            )?;
            changes.push(SysctlChange { path: ipv4_conf(&base, "arp_ignore"), old: ignore, new: 1 });
            changes.push(SysctlChange { path: ipv4_conf(&base, "arp_filter"), old: filter, new: 1 });
        }
        self.bases.insert(vmac.base_ifindex, (HashSet::from([vmac.index]), changes));
        Ok(())
    }

    /// `vmac` is going: after the last IPv4 VMAC of its base interface,
    /// put the base's ARP settings back.
    pub fn vmac_deleted(&mut self, vmac: &Vmac) -> Result<(), VmacError> {
        let Some((vmacs, _)) = self.bases.get_mut(&vmac.base_ifindex) else { return Ok(()) };
        if !vmacs.remove(&vmac.index) || !vmacs.is_empty() {
            return Ok(());
        }
        let (_, changes) = self.bases.remove(&vmac.base_ifindex).unwrap_or_default();
        put_back(&changes)
    }

    /// What is currently changed, in the order it was changed.
    pub fn changes(&self) -> Vec<SysctlChange> {
        let mut v: Vec<SysctlChange> = self.rp_filter.iter().flatten().cloned().collect();
        for (_, c) in self.bases.values() {
            v.extend(c.iter().cloned());
        }
        v
    }

    /// Put everything back (at exit, after the VMACs are deleted).
    pub fn restore(&mut self) -> Result<(), VmacError> {
        let mut first_err = None;
        let bases: Vec<u32> = self.bases.keys().copied().collect();
        for b in bases {
            if let Some((_, c)) = self.bases.remove(&b) {
                if let Err(e) = put_back(&c) {
                    first_err.get_or_insert(e);
                }
            }
        }
        if let Some(c) = self.rp_filter.take() {
            if let Err(e) = put_back(&c) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

/// Restore in reverse order; a setting someone else changed since is left
/// alone (keepalived: "only if they are the same as what we set").
fn put_back(changes: &[SysctlChange]) -> Result<(), VmacError> {
    let mut first_err = None;
    for c in changes.iter().rev() {
        match read_sysctl(&c.path) {
            Ok(v) if v == c.new => {
                if let Err(e) = write_sysctl(&c.path, c.old) {
                    first_err.get_or_insert(e);
                }
            }
            Ok(_) => {}
            // The interface is gone: nothing to put back.
            Err(_) => {}
        }
    }
    first_err.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nla::unhex;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/testdata/{name}.hex", env!("CARGO_MANIFEST_DIR"));
        unhex(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
    }

    fn without_seq(mut m: Vec<u8>) -> Vec<u8> {
        m[8..16].copy_from_slice(&[0; 8]);
        m
    }

    /// `(type, value)` of the top-level attributes after `ifinfomsg`, sorted.
    fn attrs(m: &[u8]) -> Vec<(u16, Vec<u8>)> {
        // iproute2 ends IFLA_IFNAME with a NUL, keepalived does not: the
        // kernel takes both.
        let trim = |k: u16, v: &[u8]| {
            if k == IFLA_IFNAME {
                v.split(|c| *c == 0).next().unwrap_or(v).to_vec()
            } else {
                v.to_vec()
            }
        };
        let mut v: Vec<(u16, Vec<u8>)> = raw::attrs(&m[32..]).map(|(k, v)| (k, trim(k, v))).collect();
        v.sort();
        v
    }

    #[test]
    fn newlink_as_keepalived() {
        let spec = VmacSpec::new(70, 3, false);
        assert_eq!(spec.name, "vrrp.70");
        let ours = without_seq(newlink_message(&spec, None).finish(0));
        assert_eq!(ours, without_seq(fixture("keepalived-2.2.7-vmac-newlink")));
    }

    #[test]
    fn newlink_as_ip_link_add() {
        // ip link add link eth0 name vrrp.1 address 00:00:5e:00:01:01 type macvlan mode private
        let ip = fixture("iproute2-6.1-ip-link-add-macvlan");
        let ours = newlink_message(&VmacSpec::new(1, 3, false), None).finish(0);
        assert_eq!(ours[4..8], ip[4..8], "type and flags");
        assert_eq!(ours[16..32], ip[16..32], "ifinfomsg");
        assert_eq!(attrs(&ours), attrs(&ip));
    }

    #[test]
    fn addrgenmode_and_up_as_keepalived() {
        // keepalived's messages were for the VMAC of index 5.
        assert_eq!(
            without_seq(addrgenmode_message(5).finish(0)),
            without_seq(fixture("keepalived-2.2.7-vmac-addrgenmode"))
        );
        assert_eq!(without_seq(up_message(5).finish(0)), without_seq(fixture("keepalived-2.2.7-vmac-up")));
    }

    #[test]
    fn devconf_as_keepalived() {
        // keepalived's VMAC was index 5, its base index 3.
        let vmac = [
            (DEVCONF_ARP_IGNORE, 1),
            (DEVCONF_ACCEPT_LOCAL, 1),
            (DEVCONF_RP_FILTER, 0),
            (DEVCONF_PROMOTE_SECONDARIES, 1),
        ];
        assert_eq!(
            without_seq(devconf_message(5, &vmac).finish(0)),
            without_seq(fixture("keepalived-2.2.7-vmac-devconf"))
        );
        let base = [(DEVCONF_ARP_IGNORE, 1), (DEVCONF_ARPFILTER, 1)];
        assert_eq!(
            without_seq(devconf_message(3, &base).finish(0)),
            without_seq(fixture("keepalived-2.2.7-vmac-base-devconf"))
        );
    }

    #[test]
    fn addresses_and_names() {
        assert_eq!(default_mac(71, true), [0, 0, 0x5e, 0, 2, 71]);
        assert_eq!(
            vmac_link_local(None, None, &[0xbe, 0x40, 0, 0x68, 0xe8, 0x40]),
            "fe80::bc40:ff:fe68:e840".parse::<Ipv6Addr>().unwrap()
        );
        let base: Ipv6Addr = "fe80::1".parse().unwrap();
        assert_eq!(vmac_link_local(None, Some(base), &[]), base);
        assert!(check_name("vrrp.1").is_ok());
        assert!(check_name("a-name-far-too-long").is_err());
        assert!(check_name("a/b").is_err());
        let l = parse_link(&[1, 2, 3]);
        assert_eq!(l, LinkDetail::default());
    }
}
