//! Changes: adding and deleting addresses, routes and policy rules, with
//! the semantics of `ip addr add/del`, `ip route add/del` and
//! `ip rule add/del`.
//!
//! Each call opens a `NETLINK_ROUTE` socket, sends one request with
//! `NLM_F_ACK` and waits for the kernel's acknowledgement. An add uses
//! `NLM_F_CREATE | NLM_F_EXCL`: when the object is already there the result
//! is [`NetlinkError::AlreadyExists`]; a delete of an object that is not
//! there gives [`NetlinkError::NotFound`]. keepalived treats both as "nothing
//! to do". When the kernel explains a refusal (extended ACK), its words are
//! part of the error message.
//!
//! Not covered: multipath routes and nexthop groups (`RTA_MULTIPATH`,
//! `RTA_NH_ID`), lightweight tunnel encapsulation (`RTA_ENCAP`), route
//! metrics (`RTA_METRICS`: mtu, advmss…), IPv4 routes via IPv6 gateways
//! (`RTA_VIA`), and rule selectors other than from/to/fwmark (iif, oif,
//! tos, uid range, ports, `goto`, `suppress_prefixlength`).

use crate::transport::{Expect, Transport};
use crate::NetlinkError;
use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, CacheInfo};
pub use netlink_packet_route::route::RouteMetric;
use netlink_packet_route::route::{
    MplsLabel, RouteAddress, RouteAttribute, RouteFlags, RouteIp6TunnelFlags, RouteIpTunnelFlags, RouteLwEnCapType,
    RouteLwTunnelEncap, RouteMessage, RouteMplsIpTunnel, RouteMplsTtlPropagation, RouteNextHop, RouteNextHopFlags,
    RoutePreference, RouteProtocol, RouteRealm, RouteScope, RouteType,
};
use netlink_packet_route::rule::{RuleAction, RuleAttribute, RuleMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::protocols::NETLINK_ROUTE;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

// errno values (asm-generic/errno-base.h, errno.h).
const ENOENT: i32 = 2;
const ESRCH: i32 = 3;
const EADDRNOTAVAIL: i32 = 99;

/// `IFA_CACHEINFO` lifetime meaning "forever".
const INFINITY_LIFE_TIME: u32 = u32::MAX;

/// Options of an address, as the words of `ip addr add`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddrOptions {
    /// `label` (IPv4 only; by convention `<dev>` or `<dev>:<suffix>`).
    pub label: Option<String>,
    /// `broadcast` (IPv4 only).
    pub broadcast: Option<Ipv4Addr>,
    /// `scope`: 0 global (the default), 200 site, 253 link, 254 host.
    pub scope: Option<u8>,
    /// `peer`: the other end of a point-to-point address; the prefix length
    /// then applies to the peer.
    pub peer: Option<IpAddr>,
    /// `preferred_lft` in seconds (the valid lifetime stays "forever").
    /// 0 makes the address deprecated at once, as keepalived does for IPv6
    /// /128 virtual addresses so they are not used as source addresses.
    pub preferred_lft: Option<u32>,
    /// `nodad`: no duplicate address detection (IPv6).
    pub nodad: bool,
    /// `noprefixroute`: no route for the address's prefix.
    pub noprefixroute: bool,
    /// `home`: a Mobile IPv6 home address.
    pub home: bool,
    /// `mngtmpaddr`: the kernel manages temporary (privacy) addresses
    /// derived from this one (IPv6).
    pub mngtmpaddr: bool,
    /// `autojoin`: join the multicast group of a multicast address.
    pub autojoin: bool,
}

/// Add an address to an interface, as `ip addr add ADDR/LEN dev IFINDEX …`.
///
/// [`NetlinkError::AlreadyExists`] when the interface already has it.
pub fn add_address(ifindex: u32, addr: IpAddr, prefix_len: u8, opts: &AddrOptions) -> Result<(), NetlinkError> {
    let action = format!("add address {addr}/{prefix_len} to interface {ifindex}");
    let msg = address_message(ifindex, addr, prefix_len, opts, true).map_err(|detail| invalid(&action, detail))?;
    request(&action, RouteNetlinkMessage::NewAddress(msg), Kind::Add)
}

/// Delete an address from an interface, as `ip addr del ADDR/LEN dev
/// IFINDEX …`. Of `opts`, only `peer` and `label` select the address.
///
/// [`NetlinkError::NotFound`] (`EADDRNOTAVAIL`) when the interface does not
/// have it.
pub fn del_address(ifindex: u32, addr: IpAddr, prefix_len: u8, opts: &AddrOptions) -> Result<(), NetlinkError> {
    let action = format!("delete address {addr}/{prefix_len} from interface {ifindex}");
    let msg = address_message(ifindex, addr, prefix_len, opts, false).map_err(|detail| invalid(&action, detail))?;
    request(&action, RouteNetlinkMessage::DelAddress(msg), Kind::Del { absent: &[EADDRNOTAVAIL] })
}

fn family_of(ip: &IpAddr) -> AddressFamily {
    match ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

fn max_len(ip: &IpAddr) -> u8 {
    match ip {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

fn check_len(ip: &IpAddr, len: u8) -> Result<(), String> {
    if len > max_len(ip) {
        return Err(format!("prefix length {len} is longer than {} bits", max_len(ip)));
    }
    Ok(())
}

fn check_family(what: &str, ip: &IpAddr, other: &IpAddr) -> Result<(), String> {
    if ip.is_ipv4() != other.is_ipv4() {
        return Err(format!("{what} {other} is not of the same address family as {ip}"));
    }
    Ok(())
}

fn address_message(
    ifindex: u32,
    addr: IpAddr,
    prefix_len: u8,
    opts: &AddrOptions,
    add: bool,
) -> Result<AddressMessage, String> {
    check_len(&addr, prefix_len)?;
    if let Some(peer) = &opts.peer {
        check_family("peer", &addr, peer)?;
    }
    if addr.is_ipv6() {
        if opts.label.is_some() {
            return Err("labels are for IPv4 addresses only".into());
        }
        if opts.broadcast.is_some() {
            return Err("broadcast addresses are for IPv4 only".into());
        }
    }
    if let Some(label) = &opts.label {
        // IFNAMSIZ, terminating NUL included.
        if label.is_empty() || label.len() > 15 || label.contains('\0') {
            return Err(format!("label '{label}' must be 1 to 15 characters"));
        }
    }
    let mut m = AddressMessage::default();
    m.header.family = family_of(&addr);
    m.header.prefix_len = prefix_len;
    m.header.index = ifindex;
    m.header.scope = opts.scope.unwrap_or(0).into();
    m.attributes.push(AddressAttribute::Local(addr));
    m.attributes.push(AddressAttribute::Address(opts.peer.unwrap_or(addr)));
    if let Some(label) = &opts.label {
        m.attributes.push(AddressAttribute::Label(label.clone()));
    }
    if !add {
        return Ok(m);
    }
    if let Some(b) = opts.broadcast {
        m.attributes.push(AddressAttribute::Broadcast(b));
    }
    let mut flags = AddressFlags::empty();
    if opts.nodad {
        flags |= AddressFlags::Nodad;
    }
    if opts.home {
        flags |= AddressFlags::Homeaddress;
    }
    if opts.noprefixroute {
        flags |= AddressFlags::Noprefixroute;
    }
    if opts.mngtmpaddr {
        flags |= AddressFlags::Managetempaddr;
    }
    if opts.autojoin {
        flags |= AddressFlags::Mcautojoin;
    }
    if !flags.is_empty() {
        // Old kernels read the header's 8 bits, newer ones IFA_FLAGS.
        m.header.flags = AddressHeaderFlags::from_bits_retain((flags.bits() & 0xff) as u8);
        m.attributes.push(AddressAttribute::Flags(flags));
    }
    if let Some(preferred) = opts.preferred_lft {
        let mut ci = CacheInfo::default();
        ci.ifa_preferred = preferred;
        ci.ifa_valid = INFINITY_LIFE_TIME;
        m.attributes.push(AddressAttribute::CacheInfo(ci));
    }
    Ok(m)
}

/// An address prefix, `ADDR/LEN`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Prefix {
    pub addr: IpAddr,
    pub len: u8,
}

impl Prefix {
    pub fn new(addr: IpAddr, len: u8) -> Prefix {
        Prefix { addr, len }
    }

    /// The whole address space of a family (`default`): `0.0.0.0/0` or `::/0`.
    pub fn default_v4() -> Prefix {
        Prefix { addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED), len: 0 }
    }

    pub fn default_v6() -> Prefix {
        Prefix { addr: IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED), len: 0 }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl FromStr for Prefix {
    type Err = String;

    /// `ADDR/LEN`, or a bare address (a host prefix).
    fn from_str(s: &str) -> Result<Prefix, String> {
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| format!("'{a}' is not an IP address"))?;
        let len = match l {
            Some(l) => l.parse::<u8>().map_err(|_| format!("'{l}' is not a prefix length"))?,
            None => max_len(&addr),
        };
        check_len(&addr, len)?;
        Ok(Prefix { addr, len })
    }
}

/// The type of a route (`ip route add TYPE PREFIX`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RouteKind {
    /// A gateway or direct route (the default).
    #[default]
    Unicast,
    /// Packets are discarded silently.
    Blackhole,
    /// Packets are discarded with ICMP "host unreachable".
    Unreachable,
    /// Packets are discarded with ICMP "communication administratively
    /// prohibited".
    Prohibit,
}

impl RouteKind {
    fn to_netlink(self) -> RouteType {
        match self {
            RouteKind::Unicast => RouteType::Unicast,
            RouteKind::Blackhole => RouteType::BlackHole,
            RouteKind::Unreachable => RouteType::Unreachable,
            RouteKind::Prohibit => RouteType::Prohibit,
        }
    }

    fn word(self) -> &'static str {
        match self {
            RouteKind::Unicast => "",
            RouteKind::Blackhole => "blackhole ",
            RouteKind::Unreachable => "unreachable ",
            RouteKind::Prohibit => "prohibit ",
        }
    }
}

/// The main routing table (`table main`).
pub const RT_TABLE_MAIN: u32 = 254;
/// `proto boot`: what `ip route add` uses when no protocol is given.
pub const RTPROT_BOOT: u8 = 3;
/// `proto keepalived`.
pub const RTPROT_KEEPALIVED: u8 = 18;

/// A route, as the words of `ip route add/del`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    /// The destination prefix (`default` is [`Prefix::default_v4`]).
    pub dst: Prefix,
    /// `via`: the gateway (same family as `dst`).
    pub gateway: Option<IpAddr>,
    /// `dev`: the outgoing interface.
    pub ifindex: Option<u32>,
    /// `src`: the preferred source address.
    pub src: Option<IpAddr>,
    /// `table`; main (254) when `None`. On delete, `None` also means main.
    pub table: Option<u32>,
    /// `metric` (`RTA_PRIORITY`). On delete, `None` matches any.
    pub metric: Option<u32>,
    /// `scope`. On add, when `None`: link for a unicast route without a
    /// gateway, else global (as `ip route`). On delete, `None` matches any.
    pub scope: Option<u8>,
    /// `proto`. On add, when `None`: boot (3), as `ip route`. On delete,
    /// `None` matches any.
    pub protocol: Option<u8>,
    /// The type of route.
    pub kind: RouteKind,
    /// `tos` (the header's TOS/DS field; 0 = any).
    pub tos: u8,
    /// `onlink` (RTNH_F_ONLINK).
    pub onlink: bool,
    /// `realms` (RTA_FLOW: source realm << 16 | destination realm).
    pub realms: Option<u32>,
    /// `mtu`, `advmss`, `hoplimit`, `rtt`, … (RTA_METRICS), in kernel units,
    /// with the `lock` bits as a `Lock` entry.
    pub metrics: Vec<RouteMetric>,
    /// `from` (IPv6 source routing: RTA_SRC and the source length).
    pub from: Option<Prefix>,
    /// `expires` seconds (RTA_EXPIRES, IPv6).
    pub expires: Option<u32>,
    /// `pref low|medium|high` (RTA_PREF, IPv6; ICMPv6 router preference).
    pub pref: Option<u8>,
    /// `nexthop …` entries (RTA_MULTIPATH); `gateway`/`ifindex` unset then.
    pub nexthops: Vec<NexthopSpec>,
    /// `encap ip|ip6|mpls|ila …` (lightweight tunnel encapsulation).
    pub encap: Option<EncapSpec>,
    /// `ttl-propagate enabled|disabled` (RTA_TTL_PROPAGATE).
    pub ttl_propagate: Option<bool>,
}

/// The lightweight tunnel encapsulations keepalived installs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncapSpec {
    /// `encap mpls LABEL[/LABEL]`: the label stack, outermost first.
    Mpls { labels: Vec<u32> },
    /// `encap ila LOCATOR`: the 64-bit locator (`a:b:c:d` read as one
    /// big-endian number).
    Ila { locator: u64 },
    /// `encap ip [id N] [dst IP] [src IP] [tos T] [ttl N] [flags N]`.
    Ip {
        id: Option<u64>,
        dst: Option<Ipv4Addr>,
        src: Option<Ipv4Addr>,
        tos: Option<u8>,
        ttl: Option<u8>,
        flags: Option<u16>,
    },
    /// `encap ip6 [id N] [dst IP] [src IP] [tc T] [hoplimit N] [flags N]`.
    Ip6 {
        id: Option<u64>,
        dst: Option<std::net::Ipv6Addr>,
        src: Option<std::net::Ipv6Addr>,
        tc: Option<u8>,
        hoplimit: Option<u8>,
        flags: Option<u16>,
    },
}

/// One `nexthop via IP dev IF weight N onlink realms R` of a multipath route.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NexthopSpec {
    pub gateway: Option<IpAddr>,
    pub ifindex: Option<u32>,
    /// 1..=256 as written (the kernel's hops = weight - 1).
    pub weight: Option<u16>,
    pub onlink: bool,
    pub realms: Option<u32>,
    /// `encap …` of this nexthop.
    pub encap: Option<EncapSpec>,
}

impl RouteSpec {
    /// A unicast route to `dst` with nothing else set.
    pub fn new(dst: Prefix) -> RouteSpec {
        RouteSpec {
            dst,
            gateway: None,
            ifindex: None,
            src: None,
            table: None,
            metric: None,
            scope: None,
            protocol: None,
            kind: RouteKind::Unicast,
            tos: 0,
            onlink: false,
            realms: None,
            metrics: Vec::new(),
            from: None,
            expires: None,
            pref: None,
            nexthops: Vec::new(),
            encap: None,
            ttl_propagate: None,
        }
    }
}

impl fmt::Display for RouteSpec {
    /// Much as `ip route` would write it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.kind.word(), self.dst)?;
        if let Some(g) = &self.gateway {
            write!(f, " via {g}")?;
        }
        if let Some(i) = self.ifindex {
            write!(f, " dev {i}")?;
        }
        if let Some(s) = &self.src {
            write!(f, " src {s}")?;
        }
        if let Some(t) = self.table {
            write!(f, " table {t}")?;
        }
        if let Some(m) = self.metric {
            write!(f, " metric {m}")?;
        }
        if let Some(s) = self.scope {
            write!(f, " scope {s}")?;
        }
        if let Some(p) = self.protocol {
            write!(f, " proto {p}")?;
        }
        Ok(())
    }
}

/// Add a route, as `ip route add …`.
///
/// [`NetlinkError::AlreadyExists`] when the table already has the route.
pub fn add_route(spec: &RouteSpec) -> Result<(), NetlinkError> {
    let action = format!("add route {spec}");
    let msg = route_message(spec, true).map_err(|detail| invalid(&action, detail))?;
    request(&action, RouteNetlinkMessage::NewRoute(msg), Kind::Add)
}

/// Delete a route, as `ip route del …`.
///
/// [`NetlinkError::NotFound`] (`ESRCH`) when there is no such route.
pub fn del_route(spec: &RouteSpec) -> Result<(), NetlinkError> {
    let action = format!("delete route {spec}");
    let msg = route_message(spec, false).map_err(|detail| invalid(&action, detail))?;
    request(&action, RouteNetlinkMessage::DelRoute(msg), Kind::Del { absent: &[ESRCH] })
}

fn set_table(table: u32) -> (u8, RouteAttribute) {
    // As iproute2: tables above 255 only in the attribute.
    let small = u8::try_from(table).unwrap_or(0);
    (small, RouteAttribute::Table(table))
}

fn route_message(spec: &RouteSpec, add: bool) -> Result<RouteMessage, String> {
    let dst = &spec.dst;
    check_len(&dst.addr, dst.len)?;
    if let Some(g) = &spec.gateway {
        check_family("gateway", &dst.addr, g)?;
        if spec.kind != RouteKind::Unicast {
            return Err("a blackhole, unreachable or prohibit route has no gateway".into());
        }
    }
    if let Some(s) = &spec.src {
        check_family("source address", &dst.addr, s)?;
    }
    let mut m = RouteMessage::default();
    m.header.address_family = family_of(&dst.addr);
    m.header.destination_prefix_length = dst.len;
    let (small, attr) = set_table(spec.table.unwrap_or(RT_TABLE_MAIN));
    m.header.table = small;
    m.header.kind = spec.kind.to_netlink();
    let scope = match (spec.scope, add) {
        (Some(s), _) => s,
        (None, true) if spec.kind == RouteKind::Unicast && spec.gateway.is_none() => 253,
        (None, true) => 0,
        (None, false) => 255,
    };
    m.header.scope = RouteScope::from(scope);
    m.header.protocol = match (spec.protocol, add) {
        (Some(p), _) => RouteProtocol::from(p),
        (None, true) => RouteProtocol::from(RTPROT_BOOT),
        (None, false) => RouteProtocol::from(0),
    };
    m.attributes.push(attr);
    if dst.len > 0 || !dst.addr.is_unspecified() {
        m.attributes.push(RouteAttribute::Destination(RouteAddress::from(dst.addr)));
    }
    if let Some(g) = spec.gateway {
        m.attributes.push(RouteAttribute::Gateway(RouteAddress::from(g)));
    }
    if let Some(i) = spec.ifindex {
        m.attributes.push(RouteAttribute::Oif(i));
    }
    if let Some(s) = spec.src {
        m.attributes.push(RouteAttribute::PrefSource(RouteAddress::from(s)));
    }
    if let Some(p) = spec.metric {
        m.attributes.push(RouteAttribute::Priority(p));
    }
    route_extras(spec, &mut m);
    Ok(m)
}

/// The rarer attributes, in keepalived's order (vrrp_iproute.c
/// `netlink_route`): tos and flags in the header, RTA_FLOW, RTA_METRICS.
fn route_extras(spec: &RouteSpec, m: &mut RouteMessage) {
    m.header.tos = spec.tos;
    if spec.onlink {
        m.header.flags |= RouteFlags::Onlink;
    }
    if let Some(r) = spec.realms {
        let realm = RouteRealm { source: (r >> 16) as u16, destination: (r & 0xffff) as u16 };
        m.attributes.push(RouteAttribute::Realm(realm));
    }
    if !spec.metrics.is_empty() {
        m.attributes.push(RouteAttribute::Metrics(spec.metrics.clone()));
    }
    if let Some(p) = &spec.from {
        m.header.source_prefix_length = p.len;
        m.attributes.push(RouteAttribute::Source(RouteAddress::from(p.addr)));
    }
    if let Some(e) = spec.expires {
        m.attributes.push(RouteAttribute::Expires(e));
    }
    if let Some(p) = spec.pref {
        m.attributes.push(RouteAttribute::Preference(RoutePreference::from(p)));
    }
    if !spec.nexthops.is_empty() {
        m.attributes.push(RouteAttribute::MultiPath(spec.nexthops.iter().map(nexthop).collect()));
    }
    if let Some(e) = &spec.encap {
        push_encap(&mut m.attributes, e);
    }
    if let Some(t) = spec.ttl_propagate {
        let v = if t { RouteMplsTtlPropagation::Enabled } else { RouteMplsTtlPropagation::Disabled };
        m.attributes.push(RouteAttribute::TtlPropagate(v));
    }
}

/// RTA_ENCAP and RTA_ENCAP_TYPE, in keepalived's order (`add_encap`: the
/// nest, then the type), for a route or one of its nexthops.
fn push_encap(attrs: &mut Vec<RouteAttribute>, e: &EncapSpec) {
    let (kind, nested) = encap(e);
    attrs.push(RouteAttribute::Encap(nested));
    attrs.push(RouteAttribute::EncapType(kind));
}

/// MPLS_IPTUNNEL_DST: each label shifted into a label stack entry, the
/// last with the bottom-of-stack bit (keepalived `parse_mpls_address`).
fn mpls_labels(labels: &[u32]) -> Vec<MplsLabel> {
    let last = labels.len().saturating_sub(1);
    labels.iter().enumerate().map(|(i, l)| MplsLabel::from((l << 12) | (u32::from(i == last) << 8))).collect()
}

/// RTA_ENCAP_TYPE and the nested RTA_ENCAP attributes, in keepalived's
/// order (vrrp_iproute.c `add_encap_ip`/`add_encap_ip6`).
fn encap(e: &EncapSpec) -> (RouteLwEnCapType, Vec<RouteLwTunnelEncap>) {
    use netlink_packet_route::route::{RouteIp6Tunnel as T6, RouteIpTunnel as T4};
    use RouteLwTunnelEncap::{Ip, Ip6};
    match e {
        EncapSpec::Mpls { labels } => {
            let dst = RouteMplsIpTunnel::Destination(mpls_labels(labels));
            (RouteLwEnCapType::Mpls, vec![RouteLwTunnelEncap::Mpls(dst)])
        }
        // netlink-packet-route has no ILA type: ILA_ATTR_LOCATOR (1) raw.
        EncapSpec::Ila { locator } => {
            let nla = netlink_packet_core::DefaultNla::new(ILA_ATTR_LOCATOR, locator.to_be_bytes().to_vec());
            (RouteLwEnCapType::Ila, vec![RouteLwTunnelEncap::Other(nla)])
        }
        EncapSpec::Ip { id, dst, src, tos, ttl, flags } => {
            let mut v = Vec::new();
            v.extend(id.map(|x| Ip(T4::Id(x))));
            v.extend(dst.map(|x| Ip(T4::Destination(x))));
            v.extend(src.map(|x| Ip(T4::Source(x))));
            v.extend(tos.map(|x| Ip(T4::Tos(x))));
            v.extend(ttl.map(|x| Ip(T4::Ttl(x))));
            v.extend(flags.map(|x| Ip(T4::Flags(RouteIpTunnelFlags::from_bits_retain(x)))));
            (RouteLwEnCapType::Ip, v)
        }
        EncapSpec::Ip6 { id, dst, src, tc, hoplimit, flags } => {
            let mut v = Vec::new();
            v.extend(id.map(|x| Ip6(T6::Id(x))));
            v.extend(dst.map(|x| Ip6(T6::Destination(x))));
            v.extend(src.map(|x| Ip6(T6::Source(x))));
            v.extend(tc.map(|x| Ip6(T6::Tc(x))));
            v.extend(hoplimit.map(|x| Ip6(T6::Hoplimit(x))));
            v.extend(flags.map(|x| Ip6(T6::Flags(RouteIp6TunnelFlags::from_bits_retain(x)))));
            (RouteLwEnCapType::Ip6, v)
        }
    }
}

fn nexthop(n: &NexthopSpec) -> RouteNextHop {
    let mut hop = RouteNextHop::default();
    hop.hops = n.weight.map(|w| w.saturating_sub(1).min(255) as u8).unwrap_or(0);
    hop.interface_index = n.ifindex.unwrap_or(0);
    if n.onlink {
        hop.flags |= RouteNextHopFlags::Onlink;
    }
    if let Some(g) = n.gateway {
        hop.attributes.push(RouteAttribute::Gateway(RouteAddress::from(g)));
    }
    if let Some(r) = n.realms {
        let realm = RouteRealm { source: (r >> 16) as u16, destination: (r & 0xffff) as u16 };
        hop.attributes.push(RouteAttribute::Realm(realm));
    }
    if let Some(e) = &n.encap {
        push_encap(&mut hop.attributes, e);
    }
    hop
}

/// linux/ila.h
const ILA_ATTR_LOCATOR: u16 = 1;

/// The address family of a rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Family {
    #[default]
    Inet,
    Inet6,
}

/// A policy routing rule, as the words of `ip rule add/del`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleSpec {
    /// `ip -4 rule` or `ip -6 rule`; `from` and `to` must match it.
    pub family: Family,
    /// `from`: source prefix; `None` is `from all`.
    pub from: Option<Prefix>,
    /// `to`: destination prefix.
    pub to: Option<Prefix>,
    /// `lookup`: the table. On add, `None` is main (as `ip rule`); on
    /// delete, `None` matches any.
    pub table: Option<u32>,
    /// `priority`. On add, `None` lets the kernel choose; on delete, `None`
    /// matches any.
    pub priority: Option<u32>,
    /// `fwmark`.
    pub fwmark: Option<u32>,
    /// The mask of `fwmark MARK/MASK`.
    pub fwmask: Option<u32>,
    /// `protocol` (FRA_PROTOCOL): keepalived marks its rules
    /// RTPROT_KEEPALIVED. On delete, `None` matches any.
    pub protocol: Option<u8>,
    /// The rarer selectors and the actions other than `lookup`.
    pub extras: RuleExtras,
}

/// What a rule does instead of `lookup TABLE`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RuleVerb {
    /// `lookup` / `table` (the `table` field).
    #[default]
    Lookup,
    Goto(u32),
    Nop,
    Blackhole,
    Unreachable,
    Prohibit,
}

/// `not`, `tos`, `realms`, `suppress_*`, `iif`, `oif`, `tunnel-id`,
/// `uidrange`, `l3mdev`, `ipproto`, `sport`, `dport` and the action.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleExtras {
    pub invert: bool,
    pub tos: u8,
    pub realms: Option<u32>,
    pub suppress_prefixlength: Option<u32>,
    pub suppress_ifgroup: Option<u32>,
    pub iif: Option<String>,
    pub oif: Option<String>,
    pub tunnel_id: Option<u64>,
    pub uidrange: Option<(u32, u32)>,
    pub l3mdev: bool,
    pub ipproto: Option<u8>,
    pub sport: Option<(u16, u16)>,
    pub dport: Option<(u16, u16)>,
    pub verb: RuleVerb,
}

impl fmt::Display for RuleSpec {
    /// Much as `ip rule` would write it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.priority {
            write!(f, "priority {p} ")?;
        }
        match &self.from {
            Some(p) => write!(f, "from {p}")?,
            None => write!(f, "from all")?,
        }
        if let Some(p) = &self.to {
            write!(f, " to {p}")?;
        }
        if let Some(m) = self.fwmark {
            write!(f, " fwmark {m:#x}")?;
            if let Some(mask) = self.fwmask {
                write!(f, "/{mask:#x}")?;
            }
        }
        if let Some(t) = self.table {
            write!(f, " lookup {t}")?;
        }
        Ok(())
    }
}

/// Add a policy routing rule, as `ip rule add …`.
///
/// [`NetlinkError::AlreadyExists`] when the same rule is already there.
pub fn add_rule(spec: &RuleSpec) -> Result<(), NetlinkError> {
    let action = format!("add rule {spec}");
    let msg = rule_message(spec, true).map_err(|detail| invalid(&action, detail))?;
    request(&action, RouteNetlinkMessage::NewRule(msg), Kind::Add)
}

/// Delete a policy routing rule, as `ip rule del …`.
///
/// [`NetlinkError::NotFound`] (`ENOENT`) when there is no such rule.
pub fn del_rule(spec: &RuleSpec) -> Result<(), NetlinkError> {
    let action = format!("delete rule {spec}");
    let msg = rule_message(spec, false).map_err(|detail| invalid(&action, detail))?;
    request(&action, RouteNetlinkMessage::DelRule(msg), Kind::Del { absent: &[ENOENT] })
}

fn rule_message(spec: &RuleSpec, add: bool) -> Result<RuleMessage, String> {
    let family = match spec.family {
        Family::Inet => AddressFamily::Inet,
        Family::Inet6 => AddressFamily::Inet6,
    };
    let mut m = RuleMessage::default();
    m.header.family = family;
    for (word, p) in [("from", &spec.from), ("to", &spec.to)] {
        if let Some(p) = p {
            check_len(&p.addr, p.len)?;
            if p.addr.is_ipv4() != (spec.family == Family::Inet) {
                return Err(format!("{word} {p} is not of the rule's address family"));
            }
        }
    }
    if spec.fwmask.is_some() && spec.fwmark.is_none() {
        return Err("a fwmark mask without a fwmark".into());
    }
    if let Some(p) = &spec.from {
        m.header.src_len = p.len;
        if p.len > 0 {
            m.attributes.push(RuleAttribute::Source(p.addr));
        }
    }
    if let Some(p) = &spec.to {
        m.header.dst_len = p.len;
        if p.len > 0 {
            m.attributes.push(RuleAttribute::Destination(p.addr));
        }
    }
    let lookup = spec.extras.verb == RuleVerb::Lookup && !spec.extras.l3mdev;
    let table = match (spec.table, add) {
        (Some(t), _) if lookup => Some(t),
        (None, true) if lookup => Some(RT_TABLE_MAIN),
        _ => None,
    };
    if let Some(t) = table {
        m.header.table = u8::try_from(t).unwrap_or(0);
        m.attributes.push(RuleAttribute::Table(t));
        m.header.action = RuleAction::ToTable;
    }
    if let Some(p) = spec.priority {
        m.attributes.push(RuleAttribute::Priority(p));
    }
    if let Some(p) = spec.protocol {
        m.attributes.push(RuleAttribute::Protocol(RouteProtocol::from(p)));
    }
    if let Some(mark) = spec.fwmark {
        m.attributes.push(RuleAttribute::FwMark(mark));
    }
    if let Some(mask) = spec.fwmask {
        m.attributes.push(RuleAttribute::FwMask(mask));
    }
    rule_extras(&spec.extras, &mut m);
    Ok(m)
}

/// The rarer selectors and actions (keepalived vrrp_iprule.c
/// `netlink_rule`).
fn rule_extras(x: &RuleExtras, m: &mut RuleMessage) {
    use netlink_packet_route::rule::{RuleFlags, RulePortRange, RuleUidRange};
    m.header.tos = x.tos;
    if x.invert {
        m.header.flags |= RuleFlags::Invert;
    }
    m.header.action = match x.verb {
        RuleVerb::Lookup if x.l3mdev => RuleAction::ToTable,
        RuleVerb::Lookup => m.header.action,
        RuleVerb::Goto(_) => RuleAction::Goto,
        RuleVerb::Nop => RuleAction::Nop,
        RuleVerb::Blackhole => RuleAction::Blackhole,
        RuleVerb::Unreachable => RuleAction::Unreachable,
        RuleVerb::Prohibit => RuleAction::Prohibit,
    };
    let a = &mut m.attributes;
    if let RuleVerb::Goto(p) = x.verb {
        a.push(RuleAttribute::Goto(p));
    }
    if let Some(r) = x.realms {
        a.push(RuleAttribute::Realm(RouteRealm { source: (r >> 16) as u16, destination: (r & 0xffff) as u16 }));
    }
    a.extend(x.suppress_prefixlength.map(RuleAttribute::SuppressPrefixLen));
    a.extend(x.suppress_ifgroup.map(RuleAttribute::SuppressIfGroup));
    a.extend(x.iif.clone().map(RuleAttribute::Iifname));
    a.extend(x.oif.clone().map(RuleAttribute::Oifname));
    a.extend(x.tunnel_id.map(RuleAttribute::TunId));
    if let Some((start, end)) = x.uidrange {
        a.push(RuleAttribute::UidRange(RuleUidRange { start, end }));
    }
    if x.l3mdev {
        a.push(RuleAttribute::L3MDev(true));
    }
    a.extend(x.ipproto.map(|p| RuleAttribute::IpProtocol(netlink_packet_route::IpProtocol::from(p))));
    if let Some((start, end)) = x.sport {
        a.push(RuleAttribute::SourcePortRange(RulePortRange { start, end }));
    }
    if let Some((start, end)) = x.dport {
        a.push(RuleAttribute::DestinationPortRange(RulePortRange { start, end }));
    }
}

fn invalid(action: &str, detail: String) -> NetlinkError {
    NetlinkError::Invalid { action: action.to_string(), detail }
}

#[derive(Clone, Copy)]
enum Kind {
    Add,
    /// `absent`: the errno values meaning "not there".
    Del {
        absent: &'static [i32],
    },
}

/// Send one change and wait for the kernel's acknowledgement.
fn request(action: &str, msg: RouteNetlinkMessage, kind: Kind) -> Result<(), NetlinkError> {
    let mut transport = Transport::connect(NETLINK_ROUTE)?;
    let seq = transport.next_seq();
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_ACK;
    if let Kind::Add = kind {
        header.flags |= NLM_F_CREATE | NLM_F_EXCL;
    }
    header.sequence_number = seq;
    let mut msg = NetlinkMessage::new(header, NetlinkPayload::from(msg));
    msg.finalize();
    let mut buf = vec![0u8; msg.buffer_len()];
    msg.serialize(&mut buf);
    let expect = match kind {
        Kind::Add => Expect::Add,
        Kind::Del { absent } => Expect::Del { absent },
    };
    transport.request(action, &buf, seq, expect)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::EEXIST;
    use crate::transport::{
        ext_ack_message, NETLINK_EXT_ACK_FLAGS_CAPPED, NETLINK_EXT_ACK_FLAGS_TLVS, NLMSGERR_ATTR_MSG,
    };
    use std::io;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn address_message_as_ip_addr_add() {
        let opts = AddrOptions {
            label: Some("eth0:vip".into()),
            broadcast: Some("192.0.2.255".parse().unwrap()),
            scope: Some(253),
            preferred_lft: Some(0),
            nodad: true,
            noprefixroute: true,
            ..Default::default()
        };
        let m = address_message(3, v4("192.0.2.7"), 24, &opts, true).unwrap();
        assert_eq!(m.header.index, 3);
        assert_eq!(m.header.prefix_len, 24);
        assert_eq!(u8::from(m.header.scope), 253);
        assert!(m.attributes.contains(&AddressAttribute::Local(v4("192.0.2.7"))));
        assert!(m.attributes.contains(&AddressAttribute::Address(v4("192.0.2.7"))));
        assert!(m.attributes.contains(&AddressAttribute::Label("eth0:vip".into())));
        assert!(m.attributes.contains(&AddressAttribute::Flags(AddressFlags::Nodad | AddressFlags::Noprefixroute)));
        assert!(m.attributes.iter().any(|a| matches!(a,
            AddressAttribute::CacheInfo(c) if c.ifa_preferred == 0 && c.ifa_valid == u32::MAX)));
        // A delete carries only what selects the address.
        let m = address_message(3, v4("192.0.2.7"), 24, &opts, false).unwrap();
        assert_eq!(m.attributes.len(), 3);
        // A peer.
        let opts = AddrOptions { peer: Some(v4("192.0.2.8")), ..Default::default() };
        let m = address_message(3, v4("192.0.2.7"), 32, &opts, true).unwrap();
        assert!(m.attributes.contains(&AddressAttribute::Address(v4("192.0.2.8"))));
        // The flags past the header's 8 bits go in IFA_FLAGS only.
        let opts = AddrOptions { mngtmpaddr: true, autojoin: true, ..Default::default() };
        let m = address_message(3, v4("239.1.2.3"), 32, &opts, true).unwrap();
        assert!(m
            .attributes
            .contains(&AddressAttribute::Flags(AddressFlags::Managetempaddr | AddressFlags::Mcautojoin)));
    }

    #[test]
    fn inconsistent_requests_are_refused_before_sending() {
        let six: IpAddr = "2001:db8::1".parse().unwrap();
        let label = AddrOptions { label: Some("eth0:1".into()), ..Default::default() };
        assert!(address_message(1, six, 128, &label, true).is_err());
        assert!(address_message(1, v4("192.0.2.1"), 33, &AddrOptions::default(), true).is_err());
        let peer = AddrOptions { peer: Some(six), ..Default::default() };
        assert!(address_message(1, v4("192.0.2.1"), 32, &peer, true).is_err());
        let long = AddrOptions { label: Some("a-very-long-label".into()), ..Default::default() };
        assert!(address_message(1, v4("192.0.2.1"), 32, &long, true).is_err());

        let mut r = RouteSpec::new("10.0.0.0/8".parse().unwrap());
        r.gateway = Some(six);
        let e = add_route(&r).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot add route 10.0.0.0/8 via 2001:db8::1: gateway 2001:db8::1 is not of the same address family as 10.0.0.0"
        );
        let rule = RuleSpec { family: Family::Inet6, from: Some("10.0.0.0/8".parse().unwrap()), ..Default::default() };
        assert!(matches!(add_rule(&rule), Err(NetlinkError::Invalid { .. })));
        assert!("10.0.0.0/33".parse::<Prefix>().is_err());
        assert_eq!("2001:db8::1".parse::<Prefix>().unwrap().len, 128);
    }

    #[test]
    fn route_defaults_as_ip_route() {
        let mut r = RouteSpec::new("10.1.0.0/16".parse().unwrap());
        r.ifindex = Some(2);
        let m = route_message(&r, true).unwrap();
        assert_eq!(u8::from(m.header.scope), 253);
        assert_eq!(u8::from(m.header.protocol), RTPROT_BOOT);
        assert_eq!(m.header.table, 254);
        assert_eq!(m.header.kind, RouteType::Unicast);
        r.gateway = Some(v4("192.0.2.1"));
        assert_eq!(u8::from(route_message(&r, true).unwrap().header.scope), 0);
        let m = route_message(&r, false).unwrap();
        assert_eq!(u8::from(m.header.scope), 255);
        assert_eq!(u8::from(m.header.protocol), 0);
        r.table = Some(1000);
        let m = route_message(&r, true).unwrap();
        assert_eq!(m.header.table, 0);
        assert!(m.attributes.contains(&RouteAttribute::Table(1000)));
        // default: no RTA_DST.
        let m = route_message(&RouteSpec::new(Prefix::default_v6()), true).unwrap();
        assert!(!m.attributes.iter().any(|a| matches!(a, RouteAttribute::Destination(_))));
        assert_eq!(r.to_string(), "10.1.0.0/16 via 192.0.2.1 dev 2 table 1000");
    }

    /// The RTA_ENCAP payloads keepalived 2.2.7 builds (vrrp_iproute.c
    /// `add_encap_mpls`, `add_encap_ila`; labels by `parse_mpls_address`,
    /// the locator by `get_addr64`), and RTA_TTL_PROPAGATE.
    #[test]
    fn mpls_ila_encap_and_ttl_propagate_as_keepalived() {
        use netlink_packet_core::Emitable;
        let bytes = |attrs: &[RouteAttribute]| {
            let a = attrs.iter().find(|a| matches!(a, RouteAttribute::Encap(_))).unwrap();
            let mut b = vec![0u8; a.buffer_len()];
            a.emit(&mut b);
            b
        };
        let mut r = RouteSpec::new("10.9.0.0/24".parse().unwrap());
        r.encap = Some(EncapSpec::Mpls { labels: vec![100, 200] });
        r.ttl_propagate = Some(false);
        let m = route_message(&r, true).unwrap();
        // RTA_ENCAP { MPLS_IPTUNNEL_DST: 100 << 12, 200 << 12 | S }, big endian.
        assert_eq!(bytes(&m.attributes), [16, 0, 22, 0, 12, 0, 1, 0, 0, 0x06, 0x40, 0, 0, 0x0c, 0x81, 0]);
        assert!(m.attributes.contains(&RouteAttribute::EncapType(RouteLwEnCapType::Mpls)));
        assert!(m.attributes.contains(&RouteAttribute::TtlPropagate(RouteMplsTtlPropagation::Disabled)));
        r.encap = Some(EncapSpec::Ila { locator: 0x2001_0000_0000_0001 });
        let m = route_message(&r, true).unwrap();
        assert_eq!(bytes(&m.attributes), [16, 0, 22, 0, 12, 0, 1, 0, 0x20, 1, 0, 0, 0, 0, 0, 1]);
        assert!(m.attributes.contains(&RouteAttribute::EncapType(RouteLwEnCapType::Ila)));
        // A nexthop's encap travels inside its rtnexthop.
        let hop = NexthopSpec { encap: Some(EncapSpec::Mpls { labels: vec![5] }), ..Default::default() };
        let n = nexthop(&hop);
        assert!(n.attributes.contains(&RouteAttribute::EncapType(RouteLwEnCapType::Mpls)));
    }

    #[test]
    fn ext_ack_is_read_and_never_panics() {
        let mut p = (-22i32).to_ne_bytes().to_vec();
        p.extend_from_slice(&[0u8; 16]);
        let msg = b"Invalid prefix\0";
        p.extend_from_slice(&((4 + msg.len()) as u16).to_ne_bytes());
        p.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        p.extend_from_slice(msg);
        let flags = NETLINK_EXT_ACK_FLAGS_TLVS | NETLINK_EXT_ACK_FLAGS_CAPPED;
        assert_eq!(ext_ack_message(flags, &p).as_deref(), Some("Invalid prefix"));
        for cut in 0..p.len() {
            let _ = ext_ack_message(flags, &p[..cut]);
            let _ = ext_ack_message(NETLINK_EXT_ACK_FLAGS_TLVS, &p[..cut]);
        }
        assert_eq!(ext_ack_message(0, &p), None);
    }

    #[test]
    fn error_kinds_read_well() {
        let e = NetlinkError::AlreadyExists {
            action: "add address 192.0.2.1/32 to interface 3".into(),
            source: io::Error::from_raw_os_error(EEXIST),
        };
        assert!(e.is_already_exists() && !e.is_not_found());
        assert_eq!(e.errno(), Some(EEXIST));
        assert!(e.to_string().starts_with("cannot add address 192.0.2.1/32 to interface 3: it is already there ("));
        let e = NetlinkError::Change {
            action: "add route 10.0.0.0/8".into(),
            source: io::Error::from_raw_os_error(22),
            hint: Some("Nexthop has invalid gateway".into()),
        };
        assert!(e.to_string().ends_with("(the kernel says: Nexthop has invalid gateway)"), "{e}");
    }
}
