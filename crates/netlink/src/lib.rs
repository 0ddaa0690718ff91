//! A small rtnetlink client: what keepalived-rs needs to know about, and
//! do to, the network interfaces, addresses, routes and rules of the
//! running system.
//!
//! - Blocking dumps: [`dump_links`], [`dump_addresses`] (below).
//! - Blocking changes, each acknowledged by the kernel: [`add_address`],
//!   [`del_address`], [`add_route`], [`del_route`], [`add_rule`],
//!   [`del_rule`]. "Already there" on add and "not there" on delete are
//!   their own errors ([`NetlinkError::AlreadyExists`],
//!   [`NetlinkError::NotFound`]).
//! - A non-blocking [`Monitor`] of link and address changes for a mio loop.
//! - [`vmac`]: `use_vmac` macvlan interfaces and the sysctls keepalived sets
//!   for them.
//! - [`nft`]: the nftables firewall of instances without accept mode.
//! - [`ipvs`]: IPVS virtual services, real servers, sync daemons and
//!   timeouts over generic netlink.
//!
//! Every request path (dumps, acknowledged changes, nf_tables batches,
//! IPVS, the multicast monitors) goes through one netlink transport
//! (`transport.rs`).
//!
//! [`dump_links`] and [`dump_addresses`] each open a `NETLINK_ROUTE`
//! socket, send one dump request and read the multi-part answer up to
//! `NLMSG_DONE`. A dump the kernel marks as interrupted (the interface list
//! changed while it was being read, `NLM_F_DUMP_INTR`) is started again, a
//! few times. Messages that are not part of the answer are ignored; a link
//! or address message that the `netlink-packet-route` decoder rejects is
//! read again by a minimal decoder of our own, so an unusual attribute on
//! one interface never hides the others. Nothing here panics on what the
//! kernel sends.
//!
//! ```no_run
//! let links = keepalived_netlink::dump_links()?;
//! let addrs = keepalived_netlink::dump_addresses()?;
//! for l in &links {
//!     println!("{} {} {:?}", l.index, l.name, l.kind);
//! }
//! # Ok::<(), keepalived_netlink::NetlinkError>(())
//! ```

use netlink_packet_core::{NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_DUMP, NLM_F_REQUEST};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{InfoData, InfoIpVlan, LinkAttribute, LinkFlags, LinkInfo, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::protocols::NETLINK_ROUTE;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use transport::Transport;

mod change;
#[doc(hidden)]
pub mod fuzzing;
pub mod ipvlan;
pub mod ipvs;
mod monitor;
pub mod nft;
mod nla;
pub mod procmon;
mod transport;
pub mod vmac;

pub use change::{
    add_address, add_route, add_rule, del_address, del_route, del_rule, AddrOptions, EncapSpec, Family, NexthopSpec,
    Prefix, RouteKind, RouteMetric, RouteSpec, RuleExtras, RuleSpec, RuleVerb, RTPROT_BOOT, RTPROT_KEEPALIVED,
    RT_TABLE_MAIN,
};
pub use monitor::{Event, Monitor, MONITOR_RECEIVE_BUFFER};

/// How many times an interrupted dump is started again before giving up.
pub const DUMP_ATTEMPTS: u32 = 5;

/// A network interface (an `RTM_NEWLINK` message of a link dump).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Link {
    /// Interface name (`IFLA_IFNAME`).
    pub name: String,
    /// Interface index.
    pub index: u32,
    /// `IFLA_INFO_KIND`: `veth`, `vlan`, `macvlan`, `bridge`, `dummy`…;
    /// `None` for physical devices and loopback.
    pub kind: Option<String>,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// Lower layer up (`IFF_RUNNING`): carrier present.
    pub running: bool,
    /// The loopback device (`IFF_LOOPBACK`).
    pub loopback: bool,
    /// All `IFF_*` flags.
    pub flags: u32,
    /// Link type, an `ARPHRD_*` value (1 Ethernet, 772 loopback).
    pub link_type: u16,
    /// Hardware address (`IFLA_ADDRESS`); empty when the link has none.
    pub hw_addr: Vec<u8>,
    /// `IFLA_MTU`.
    pub mtu: Option<u32>,
    /// `IFLA_LINK`: the underlying interface (vlan, macvlan, veth peer…).
    pub parent_index: Option<u32>,
    /// `IFLA_MASTER`: the bridge, bond or VRF this interface belongs to.
    pub master_index: Option<u32>,
    /// An ipvlan's mode and flags (`IFLA_INFO_DATA`), which keepalived compares before taking an
    /// existing ipvlan over.
    pub ipvlan: Option<IpvlanInfo>,
}

/// `IFLA_IPVLAN_MODE` (0 l2, 1 l3, 2 l3s) and `IFLA_IPVLAN_FLAGS` (0 bridge, 1 private, 2 vepa).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpvlanInfo {
    pub mode: u16,
    pub flags: u16,
}

/// An address of an interface (an `RTM_NEWADDR` message of an address dump).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Addr {
    /// Index of the interface holding the address.
    pub index: u32,
    /// The address (`IFA_LOCAL` when present, else `IFA_ADDRESS`).
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix_len: u8,
    /// For a point-to-point address, the peer (`IFA_ADDRESS` when it
    /// differs from `IFA_LOCAL`).
    pub peer: Option<IpAddr>,
    /// `IFA_LABEL` (IPv4 only, e.g. `eth0:1`).
    pub label: Option<String>,
    /// Scope: 0 universe, 200 site, 253 link, 254 host.
    pub scope: u8,
}

/// Why reading or changing the system's interfaces, addresses, routes or
/// rules failed.
#[derive(Debug)]
pub enum NetlinkError {
    /// The netlink socket could not be created or connected.
    Socket(io::Error),
    /// The request could not be sent.
    Send { what: &'static str, source: io::Error },
    /// Reading the kernel's answer failed.
    Receive { what: &'static str, source: io::Error },
    /// The kernel refused the request (`NLMSG_ERROR` with an errno).
    Kernel { what: &'static str, source: io::Error },
    /// The kernel's answer could not be decoded.
    Malformed { what: &'static str, detail: String },
    /// The list kept changing while it was being read.
    Interrupted { what: &'static str, attempts: u32 },
    /// A change (`action`, e.g. "add address 192.0.2.1/32 to interface 3")
    /// was refused by the kernel, or could not be sent or confirmed.
    /// `hint`: the kernel's own explanation (extended ACK), when it gave one.
    Change { action: String, source: io::Error, hint: Option<String> },
    /// Adding: the address, route or rule is already there (`EEXIST`).
    AlreadyExists { action: String, source: io::Error },
    /// Deleting: the address (`EADDRNOTAVAIL`), route (`ESRCH`) or rule
    /// (`ENOENT`) is not there.
    NotFound { action: String, source: io::Error },
    /// The request is inconsistent (mixed address families, prefix too
    /// long…); nothing was sent to the kernel.
    Invalid { action: String, detail: String },
    /// Reading interface and address change notifications failed.
    Monitor(io::Error),
    /// The kernel has no IPVS (the `IPVS` generic netlink family is
    /// unknown even after `modprobe ip_vs`): `ENOENT`. Its text follows
    /// keepalived's `IPVS: Can't initialize ipvs: No such file or
    /// directory` once prefixed with `IPVS: `.
    IpvsUnavailable(io::Error),
}

impl fmt::Display for NetlinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetlinkError::Socket(e) => write!(f, "cannot open a netlink socket to the kernel: {e}"),
            NetlinkError::Send { what, source } => write!(f, "cannot ask the kernel for the list of {what}: {source}"),
            NetlinkError::Receive { what, source } => {
                write!(f, "cannot read the list of {what} from the kernel: {source}")
            }
            NetlinkError::Kernel { what, source } => {
                write!(f, "the kernel refused to list the {what}: {source}")
            }
            NetlinkError::Malformed { what, detail } => {
                write!(f, "the kernel's list of {what} could not be understood: {detail}")
            }
            NetlinkError::Interrupted { what, attempts } => {
                write!(f, "the list of {what} kept changing while it was read ({attempts} attempts); try again")
            }
            NetlinkError::Change { action, source, hint: None } => write!(f, "cannot {action}: {source}"),
            NetlinkError::Change { action, source, hint: Some(h) } => {
                write!(f, "cannot {action}: {source} (the kernel says: {h})")
            }
            NetlinkError::AlreadyExists { action, source } => {
                write!(f, "cannot {action}: it is already there ({source})")
            }
            NetlinkError::NotFound { action, source } => write!(f, "cannot {action}: it is not there ({source})"),
            NetlinkError::Invalid { action, detail } => write!(f, "cannot {action}: {detail}"),
            NetlinkError::Monitor(e) => write!(f, "cannot read interface and address changes from the kernel: {e}"),
            NetlinkError::IpvsUnavailable(e) => write!(f, "Can't initialize ipvs: {}", strerror(e)),
        }
    }
}

impl std::error::Error for NetlinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.io_error().map(|e| e as _)
    }
}

/// The C library's words for an errno ("No such file or directory"),
/// without Rust's " (os error 2)".
fn strerror(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => nix::errno::Errno::from_raw(n).desc().to_string(),
        None => e.to_string(),
    }
}

impl NetlinkError {
    /// The errno the kernel (or the socket) answered, if any.
    pub fn errno(&self) -> Option<i32> {
        self.io_error().and_then(io::Error::raw_os_error)
    }

    /// The I/O error underneath, for the variants that carry one.
    fn io_error(&self) -> Option<&io::Error> {
        match self {
            NetlinkError::Socket(e)
            | NetlinkError::Send { source: e, .. }
            | NetlinkError::Receive { source: e, .. }
            | NetlinkError::Kernel { source: e, .. }
            | NetlinkError::Change { source: e, .. }
            | NetlinkError::AlreadyExists { source: e, .. }
            | NetlinkError::NotFound { source: e, .. }
            | NetlinkError::Monitor(e)
            | NetlinkError::IpvsUnavailable(e) => Some(e),
            _ => None,
        }
    }

    /// An add found the object already there (keepalived: nothing to do).
    pub fn is_already_exists(&self) -> bool {
        matches!(self, NetlinkError::AlreadyExists { .. })
    }

    /// A delete found the object already gone (keepalived: nothing to do).
    pub fn is_not_found(&self) -> bool {
        matches!(self, NetlinkError::NotFound { .. })
    }
}

/// Every network interface of the current network namespace, in the
/// kernel's order (by index).
pub fn dump_links() -> Result<Vec<Link>, NetlinkError> {
    let request = RouteNetlinkMessage::GetLink(LinkMessage::default());
    dump(Dump { what: "network interfaces", request, decode: decode_link })
}

/// Every IPv4 and IPv6 address of the current network namespace.
pub fn dump_addresses() -> Result<Vec<Addr>, NetlinkError> {
    let request = RouteNetlinkMessage::GetAddress(AddressMessage::default());
    dump(Dump { what: "interface addresses", request, decode: decode_addr })
}

// rtnetlink message types (linux/rtnetlink.h).
pub(crate) const RTM_NEWLINK: u16 = 16;
pub(crate) const RTM_DELLINK: u16 = 17;
pub(crate) const RTM_NEWADDR: u16 = 20;
pub(crate) const RTM_DELADDR: u16 = 21;

struct Dump<T> {
    what: &'static str,
    request: RouteNetlinkMessage,
    /// Decode one message of the answer; `None`: not ours, ignore it.
    decode: fn(u16, &[u8]) -> Result<Option<T>, String>,
}

fn dump<T>(d: Dump<T>) -> Result<Vec<T>, NetlinkError> {
    let mut transport = Transport::connect(NETLINK_ROUTE)?;
    let build = |seq: u32| {
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_DUMP;
        header.sequence_number = seq;
        let mut msg = NetlinkMessage::new(header, NetlinkPayload::from(d.request.clone()));
        msg.finalize();
        let mut buf = vec![0u8; msg.buffer_len()];
        msg.serialize(&mut buf);
        buf
    };
    transport.dump(d.what, build, d.decode)
}

/// One netlink message of a datagram.
pub(crate) struct Msg<'a> {
    pub(crate) kind: u16,
    pub(crate) flags: u16,
    pub(crate) seq: u32,
    /// The whole message, header included.
    pub(crate) bytes: &'a [u8],
    /// The payload after the header.
    pub(crate) payload: &'a [u8],
}

pub(crate) const NLMSG_HDRLEN: usize = 16;

/// Split a datagram into its netlink messages.
pub(crate) fn messages(datagram: &[u8]) -> impl Iterator<Item = Result<Msg<'_>, String>> {
    let mut off = 0usize;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || off >= datagram.len() {
            return None;
        }
        let rest = datagram.get(off..)?;
        let nb = match NetlinkBuffer::new_checked(rest) {
            Ok(nb) => nb,
            Err(e) => {
                failed = true;
                return Some(Err(e.to_string()));
            }
        };
        let len = nb.length() as usize;
        let bytes = rest.get(..len).unwrap_or(rest);
        let payload = bytes.get(NLMSG_HDRLEN..).unwrap_or(&[]);
        let m = Msg { kind: nb.message_type(), flags: nb.flags(), seq: nb.sequence_number(), bytes, payload };
        off = off.saturating_add(align4(len));
        Some(Ok(m))
    })
}

pub(crate) fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

fn decode_link(kind: u16, bytes: &[u8]) -> Result<Option<Link>, String> {
    if kind != RTM_NEWLINK {
        return Ok(None);
    }
    match NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes) {
        Ok(NetlinkMessage { payload: NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(m)), .. }) => {
            Ok(Some(link_from_message(&m)))
        }
        _ => raw::link(bytes.get(NLMSG_HDRLEN..).unwrap_or(&[])).map(Some),
    }
}

fn link_from_message(m: &LinkMessage) -> Link {
    let flags = m.header.flags;
    let mut link = Link {
        index: m.header.index,
        up: flags.contains(LinkFlags::Up),
        running: flags.contains(LinkFlags::Running),
        loopback: flags.contains(LinkFlags::Loopback),
        flags: flags.bits(),
        link_type: u16::from(m.header.link_layer_type),
        ..Default::default()
    };
    for a in &m.attributes {
        match a {
            LinkAttribute::IfName(n) => link.name = n.clone(),
            LinkAttribute::Address(hw) => link.hw_addr = hw.clone(),
            LinkAttribute::Mtu(mtu) => link.mtu = Some(*mtu),
            LinkAttribute::Link(i) => link.parent_index = Some(*i),
            LinkAttribute::Controller(i) => link.master_index = Some(*i),
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    match i {
                        LinkInfo::Kind(k) => link.kind = Some(k.to_string()),
                        LinkInfo::Data(InfoData::IpVlan(d)) => link.ipvlan = Some(ipvlan_info(d)),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    link
}

fn ipvlan_info(data: &[InfoIpVlan]) -> IpvlanInfo {
    let mut info = IpvlanInfo::default();
    for d in data {
        match d {
            InfoIpVlan::Mode(m) => info.mode = u16::from(*m),
            InfoIpVlan::Flags(f) => info.flags = f.bits(),
            _ => {}
        }
    }
    info
}

fn decode_addr(kind: u16, bytes: &[u8]) -> Result<Option<Addr>, String> {
    if kind != RTM_NEWADDR {
        return Ok(None);
    }
    match NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes) {
        Ok(NetlinkMessage { payload: NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(m)), .. }) => {
            Ok(addr_from_message(&m))
        }
        _ => raw::addr(bytes.get(NLMSG_HDRLEN..).unwrap_or(&[])),
    }
}

fn addr_from_message(m: &AddressMessage) -> Option<Addr> {
    let mut local = None;
    let mut address = None;
    let mut label = None;
    for a in &m.attributes {
        match a {
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Address(ip) => address = Some(*ip),
            AddressAttribute::Label(l) => label = Some(l.clone()),
            _ => {}
        }
    }
    make_addr(m.header.index, m.header.prefix_len, u8::from(m.header.scope), local, address, label)
}

fn make_addr(
    index: u32,
    prefix_len: u8,
    scope: u8,
    local: Option<IpAddr>,
    address: Option<IpAddr>,
    label: Option<String>,
) -> Option<Addr> {
    let addr = local.or(address)?;
    let peer = match (local, address) {
        (Some(l), Some(a)) if l != a => Some(a),
        _ => None,
    };
    Some(Addr { index, addr, prefix_len, peer, label, scope })
}

/// A minimal decoder for the few fields we need, used when
/// `netlink-packet-route` rejects a message.
mod raw {
    use super::*;

    // linux/if_link.h, linux/if_addr.h
    const IFLA_ADDRESS: u16 = 1;
    const IFLA_IFNAME: u16 = 3;
    const IFLA_MTU: u16 = 4;
    const IFLA_LINK: u16 = 5;
    const IFLA_MASTER: u16 = 10;
    const IFLA_LINKINFO: u16 = 18;
    const IFLA_INFO_KIND: u16 = 1;
    const IFLA_INFO_DATA: u16 = 2;
    const IFLA_IPVLAN_MODE: u16 = 1;
    const IFLA_IPVLAN_FLAGS: u16 = 2;
    const IFA_ADDRESS: u16 = 1;
    const IFA_LOCAL: u16 = 2;
    const IFA_LABEL: u16 = 3;
    const IFF_UP: u32 = 1;
    const IFF_LOOPBACK: u32 = 8;
    const IFF_RUNNING: u32 = 0x40;
    const AF_INET: u8 = 2;
    const AF_INET6: u8 = 10;

    fn u16_at(b: &[u8], i: usize) -> Option<u16> {
        let s = b.get(i..i + 2)?;
        Some(u16::from_ne_bytes([s[0], s[1]]))
    }
    fn u32_at(b: &[u8], i: usize) -> Option<u32> {
        let s = b.get(i..i + 4)?;
        Some(u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
    }

    /// Iterate `(type, value)` over netlink attributes; stops at the first
    /// malformed one.
    pub(super) fn attrs(mut b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
        std::iter::from_fn(move || {
            let len = usize::from(u16_at(b, 0)?);
            let kind = u16_at(b, 2)? & 0x3fff;
            if len < 4 || len > b.len() {
                return None;
            }
            let value = b.get(4..len)?;
            b = b.get(align4(len).min(b.len())..)?;
            Some((kind, value))
        })
    }

    fn string(v: &[u8]) -> String {
        let end = v.iter().position(|c| *c == 0).unwrap_or(v.len());
        String::from_utf8_lossy(&v[..end]).into_owned()
    }

    fn ip(family: u8, v: &[u8]) -> Option<IpAddr> {
        match family {
            AF_INET => {
                let o: [u8; 4] = v.get(..4)?.try_into().ok()?;
                Some(IpAddr::V4(Ipv4Addr::from(o)))
            }
            AF_INET6 => {
                let o: [u8; 16] = v.get(..16)?.try_into().ok()?;
                Some(IpAddr::V6(Ipv6Addr::from(o)))
            }
            _ => None,
        }
    }

    /// `struct ifinfomsg` (16 bytes) and its attributes.
    pub(crate) fn link(p: &[u8]) -> Result<Link, String> {
        const IFINFOMSG_LEN: usize = 16;
        let too_short = || format!("an interface message of {} bytes is too short", p.len());
        let link_type = u16_at(p, 2).ok_or_else(too_short)?;
        let index = u32_at(p, 4).ok_or_else(too_short)?;
        let flags = u32_at(p, 8).ok_or_else(too_short)?;
        let mut l = Link {
            index,
            link_type,
            flags,
            up: flags & IFF_UP != 0,
            running: flags & IFF_RUNNING != 0,
            loopback: flags & IFF_LOOPBACK != 0,
            ..Default::default()
        };
        for (kind, v) in attrs(p.get(IFINFOMSG_LEN..).unwrap_or(&[])) {
            match kind {
                IFLA_IFNAME => l.name = string(v),
                IFLA_ADDRESS => l.hw_addr = v.to_vec(),
                IFLA_MTU => l.mtu = u32_at(v, 0),
                IFLA_LINK => l.parent_index = u32_at(v, 0),
                IFLA_MASTER => l.master_index = u32_at(v, 0),
                IFLA_LINKINFO => {
                    for (k, iv) in attrs(v) {
                        if k == IFLA_INFO_KIND {
                            l.kind = Some(string(iv));
                        }
                    }
                    if l.kind.as_deref() == Some("ipvlan") {
                        l.ipvlan = attrs(v).find(|(k, _)| *k == IFLA_INFO_DATA).map(|(_, d)| ipvlan_info(d));
                    }
                }
                _ => {}
            }
        }
        Ok(l)
    }

    fn ipvlan_info(data: &[u8]) -> IpvlanInfo {
        let mut info = IpvlanInfo::default();
        for (k, v) in attrs(data) {
            match k {
                IFLA_IPVLAN_MODE => info.mode = u16_at(v, 0).unwrap_or(0),
                IFLA_IPVLAN_FLAGS => info.flags = u16_at(v, 0).unwrap_or(0),
                _ => {}
            }
        }
        info
    }

    /// `struct ifaddrmsg` (8 bytes) and its attributes.
    pub(crate) fn addr(p: &[u8]) -> Result<Option<Addr>, String> {
        const IFADDRMSG_LEN: usize = 8;
        if p.len() < IFADDRMSG_LEN {
            return Err(format!("an address message of {} bytes is too short", p.len()));
        }
        let (family, prefix_len, scope) = (p[0], p[1], p[3]);
        let index = u32_at(p, 4).unwrap_or(0);
        let (mut local, mut address, mut label) = (None, None, None);
        for (kind, v) in attrs(&p[IFADDRMSG_LEN..]) {
            match kind {
                IFA_LOCAL => local = ip(family, v),
                IFA_ADDRESS => address = ip(family, v),
                IFA_LABEL => label = Some(string(v)),
                _ => {}
            }
        }
        Ok(make_addr(index, prefix_len, scope, local, address, label))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::NLMSG_DONE;

    fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
        let len = 4 + value.len();
        let mut v = Vec::new();
        v.extend_from_slice(&(len as u16).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    fn nlmsg(kind: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let len = 16 + payload.len();
        let mut v = Vec::new();
        v.extend_from_slice(&(len as u32).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(payload);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    fn ifinfomsg(index: u32, link_type: u16, flags: u32) -> Vec<u8> {
        let mut v = vec![0u8, 0];
        v.extend_from_slice(&link_type.to_ne_bytes());
        v.extend_from_slice(&index.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v
    }

    fn veth_payload() -> Vec<u8> {
        let mut p = ifinfomsg(7, 1, 0x1043);
        p.extend(nla(3, b"veth0\0"));
        p.extend(nla(1, &[2, 0, 0, 0, 0, 1]));
        p.extend(nla(4, &1500u32.to_ne_bytes()));
        p.extend(nla(18, &nla(1, b"veth\0")));
        p
    }

    #[test]
    fn link_decoded_by_both_decoders() {
        let msg = nlmsg(RTM_NEWLINK, 2, 1, &veth_payload());
        let a = decode_link(RTM_NEWLINK, &msg).unwrap().unwrap();
        let b = raw::link(&veth_payload()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.name, "veth0");
        assert_eq!(a.index, 7);
        assert_eq!(a.kind.as_deref(), Some("veth"));
        assert!(a.up && a.running && !a.loopback);
        assert_eq!(a.link_type, 1);
        assert_eq!(a.hw_addr, vec![2, 0, 0, 0, 0, 1]);
        assert_eq!(a.mtu, Some(1500));
    }

    #[test]
    fn address_decoded_by_both_decoders() {
        let mut p = vec![2u8, 24, 0, 0];
        p.extend_from_slice(&3u32.to_ne_bytes());
        p.extend(nla(1, &[192, 0, 2, 1]));
        p.extend(nla(2, &[192, 0, 2, 1]));
        p.extend(nla(3, b"eth0:1\0"));
        let msg = nlmsg(RTM_NEWADDR, 2, 1, &p);
        let a = decode_addr(RTM_NEWADDR, &msg).unwrap().unwrap();
        let b = raw::addr(&p).unwrap().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.addr, "192.0.2.1".parse::<IpAddr>().unwrap());
        assert_eq!(a.prefix_len, 24);
        assert_eq!(a.index, 3);
        assert_eq!(a.peer, None);
        assert_eq!(a.label.as_deref(), Some("eth0:1"));
    }

    #[test]
    fn garbage_never_panics() {
        let samples: Vec<Vec<u8>> = vec![
            vec![],
            vec![0; 3],
            vec![0xff; 40],
            nlmsg(RTM_NEWLINK, 0, 1, &[1, 2, 3]),
            nlmsg(RTM_NEWADDR, 0, 1, &[1, 2, 3]),
            nlmsg(RTM_NEWLINK, 0, 1, &{
                let mut p = ifinfomsg(1, 1, 0);
                p.extend_from_slice(&[0xff, 0xff, 3, 0, b'x']);
                p
            }),
        ];
        for s in &samples {
            for m in messages(s).flatten() {
                let _ = decode_link(m.kind, m.bytes);
                let _ = decode_addr(m.kind, m.bytes);
            }
            let _ = raw::link(s);
            let _ = raw::addr(s);
            for cut in 0..s.len() {
                let _ = raw::link(&s[..cut]);
                let _ = raw::addr(&s[..cut]);
                for m in messages(&s[..cut]).flatten() {
                    let _ = decode_link(m.kind, m.bytes);
                }
            }
        }
    }

    #[test]
    fn datagram_split() {
        let mut d = nlmsg(RTM_NEWLINK, 2, 9, &veth_payload());
        d.extend(nlmsg(NLMSG_DONE, 2, 9, &0i32.to_ne_bytes()));
        let v: Vec<_> = messages(&d).collect::<Result<_, _>>().unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].kind, v[0].seq), (RTM_NEWLINK, 9));
        assert_eq!(v[1].kind, NLMSG_DONE);
        // A length field past the end is an error, not a panic.
        let mut bad = d.clone();
        bad[0] = 0xff;
        assert!(messages(&bad).next().unwrap().is_err());
    }

    #[test]
    fn error_messages_read_well() {
        let e = NetlinkError::Kernel { what: "network interfaces", source: io::Error::from_raw_os_error(1) };
        assert!(e.to_string().starts_with("the kernel refused to list the network interfaces: "));
        let e = NetlinkError::Interrupted { what: "interface addresses", attempts: 5 };
        assert_eq!(
            e.to_string(),
            "the list of interface addresses kept changing while it was read (5 attempts); try again"
        );
    }
}
