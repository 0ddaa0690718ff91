//! Addresses, routes and rules (static and virtual), and static track groups.
//!
//! Values are stored as keepalived stores them after parsing (kernel units
//! for route metrics, numeric ids for tables/protocols/scopes resolved from
//! the iproute2 name files).
use crate::diag::Origin;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr};

/// Address family of a route or rule (`inet` / `inet6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Family {
    Inet,
    Inet6,
}

impl Family {
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Inet,
            IpAddr::V6(_) => Family::Inet6,
        }
    }
    pub fn max_prefix(self) -> u8 {
        match self {
            Family::Inet => 32,
            Family::Inet6 => 128,
        }
    }
    /// The all-zero address of the family (`default`).
    pub fn any(self) -> IpAddr {
        match self {
            Family::Inet => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Family::Inet6 => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        }
    }
}

/// An address with a prefix length (`10.0.0.0/8`, `default` = 0.0.0.0/0 or ::/0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct IpPrefix {
    pub addr: IpAddr,
    pub prefix: u8,
    /// Written as `default`/`any`/`all` (or the deprecated `default6`).
    pub default: bool,
}

impl std::fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.default {
            f.write_str("default")
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

/// `preferred_lft N|forever`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Lifetime {
    Forever,
    Secs(u32),
}

/// One address entry (`IP[/PREFIX] [dev IF] [brd …] [scope …] [label …] …`),
/// keepalived `alloc_ipaddress`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IpAddress {
    pub addr: IpAddr,
    /// Default /32 (IPv4) or /128 (IPv6); with `peer`, the peer's length.
    pub prefix: u8,
    /// `dev IF`. Static addresses without `dev` get `default_interface`
    /// during validation; VIPs without `dev` use the instance's interface.
    pub dev: Option<String>,
    /// `brd IP|+|-` / `broadcast …`, resolved to the broadcast address (IPv4 only).
    pub broadcast: Option<Ipv4Addr>,
    /// `scope NAME|N` (ifa_scope; None = global/0).
    pub scope: Option<u8>,
    /// `label LABEL` (IPv4 only, < 16 characters).
    pub label: Option<String>,
    /// `peer IP` (point-to-point address).
    pub peer: Option<IpAddr>,
    /// `home` (IFA_F_HOMEADDRESS).
    pub home: bool,
    /// `-nodad` (IFA_F_NODAD).
    pub nodad: bool,
    /// `mngtmpaddr` (IFA_F_MANAGETEMPADDR).
    pub mngtmpaddr: bool,
    /// `noprefixroute` (IFA_F_NOPREFIXROUTE).
    pub noprefixroute: bool,
    /// `autojoin` (IFA_F_MCAUTOJOIN).
    pub autojoin: bool,
    /// `preferred_lft N|forever`. IPv6 default: 0 for /128 (deprecated
    /// address), forever otherwise; IPv4: unset (kernel default).
    pub preferred_lft: Option<Lifetime>,
    /// `no_track`.
    pub no_track: bool,
    /// `use_vmac` (VIPs/eVIPs only).
    pub use_vmac: bool,
    /// `track_group NAME` (static addresses only).
    pub track_group: Option<String>,
    pub origin: Origin,
}

/// A route metric that may be locked (`mtu lock 1400`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Metric {
    pub value: u32,
    pub lock: bool,
}

/// Route type (`blackhole`, `unreachable`, … ; RTN_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum RouteType {
    Unicast,
    Local,
    Broadcast,
    Anycast,
    Multicast,
    Blackhole,
    Unreachable,
    Prohibit,
    Throw,
    Nat,
    XResolve,
    /// A numeric type without a name.
    Other(u8),
}

impl RouteType {
    pub fn from_rtn(v: u8) -> RouteType {
        match v {
            1 => RouteType::Unicast,
            2 => RouteType::Local,
            3 => RouteType::Broadcast,
            4 => RouteType::Anycast,
            5 => RouteType::Multicast,
            6 => RouteType::Blackhole,
            7 => RouteType::Unreachable,
            8 => RouteType::Prohibit,
            9 => RouteType::Throw,
            10 => RouteType::Nat,
            11 => RouteType::XResolve,
            n => RouteType::Other(n),
        }
    }
}

/// How the route is installed (`add`, `prepend` (default), `append`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum RouteMode {
    #[default]
    Prepend,
    Add,
    Append,
}

/// `encap ip|ip6|mpls|ila …` (lightweight tunnel encapsulation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Encap {
    /// `encap mpls LABEL[/LABEL…]`.
    Mpls { labels: Vec<u32> },
    /// `encap ip [id N] [dst IP] [src IP] [tos T] [ttl N] [flags N]`.
    Ip {
        id: Option<u64>,
        dst: Option<IpAddr>,
        src: Option<IpAddr>,
        tos: Option<u8>,
        ttl: Option<u8>,
        flags: Option<u16>,
    },
    /// `encap ip6 [id N] [dst IP] [src IP] [tc T] [hoplimit N] [flags N]`.
    Ip6 {
        id: Option<u64>,
        dst: Option<IpAddr>,
        src: Option<IpAddr>,
        tc: Option<u8>,
        hoplimit: Option<u8>,
        flags: Option<u16>,
    },
    /// `encap ila LOCATOR` (64-bit locator `a:b:c:d`).
    Ila { locator: u64 },
}

/// One `nexthop` of a multipath route (or an `or` alternative).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Nexthop {
    /// `via [inet|inet6] IP`.
    pub via: Option<IpAddr>,
    /// `dev IF`.
    pub dev: Option<String>,
    /// `weight N` (1..=256, as configured).
    pub weight: Option<u16>,
    /// `onlink`.
    pub onlink: bool,
    /// `encap …`.
    pub encap: Option<Encap>,
    /// `realms [FROM/]TO` (FROM << 16 | TO).
    pub realms: Option<u32>,
}

/// One route entry (the `ip route add` syntax keepalived accepts),
/// keepalived `alloc_route`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Route {
    /// Resolved family (default inet).
    pub family: Family,
    /// `[to] [TYPE] PREFIX|default`.
    pub dst: IpPrefix,
    /// `from PREFIX` (IPv6 source routing).
    pub from: Option<IpPrefix>,
    /// `src IP` (preferred source).
    pub pref_src: Option<IpAddr>,
    /// `via [inet|inet6] IP` (`gw` deprecated).
    pub via: Option<IpAddr>,
    /// `dev IF` / `oif IF`.
    pub dev: Option<String>,
    /// `tos N` / `dsfield N`.
    pub tos: Option<u8>,
    /// `table N|NAME` (default 254 = main).
    pub table: u32,
    /// `protocol N|NAME`. Tracked routes get 18 (RTPROT_KEEPALIVED).
    pub protocol: Option<u8>,
    /// `scope N|NAME` (None = universe).
    pub scope: Option<u8>,
    /// `metric|priority|preference N`.
    pub metric: Option<u32>,
    /// `onlink`.
    pub onlink: bool,
    /// Route type prefix (`blackhole`, `unreachable`, `prohibit`, `throw`, …);
    /// None = unicast (not specified).
    pub route_type: Option<RouteType>,
    /// `encap …`.
    pub encap: Option<Encap>,
    /// `expires N` (IPv6 only).
    pub expires: Option<u32>,
    /// `mtu [lock] N`.
    pub mtu: Option<Metric>,
    /// `hoplimit N`.
    pub hoplimit: Option<u8>,
    /// `advmss [lock] N`.
    pub advmss: Option<Metric>,
    /// `rtt [lock] TIME` (kernel units, 1/8 ms).
    pub rtt: Option<Metric>,
    /// `rttvar [lock] TIME` (kernel units, 1/4 ms).
    pub rttvar: Option<Metric>,
    /// `reordering [lock] N`.
    pub reordering: Option<Metric>,
    /// `window N`.
    pub window: Option<u32>,
    /// `cwnd [lock] N`.
    pub cwnd: Option<Metric>,
    /// `ssthresh [lock] N`.
    pub ssthresh: Option<Metric>,
    /// `realms [FROM/]TO`.
    pub realms: Option<u32>,
    /// `rto_min [lock] TIME` (ms).
    pub rto_min: Option<Metric>,
    /// `initcwnd N`.
    pub initcwnd: Option<u32>,
    /// `initrwnd N`.
    pub initrwnd: Option<u32>,
    /// `features ecn`.
    pub features_ecn: bool,
    /// `quickack 0|1`.
    pub quickack: Option<bool>,
    /// `congctl [lock] ALG`.
    pub congctl: Option<String>,
    pub congctl_lock: bool,
    /// `pref low|medium|high|N` (ICMPV6_ROUTER_PREF_*; IPv6 only).
    pub pref: Option<u8>,
    /// `ttl-propagate enabled|disabled`.
    pub ttl_propagate: Option<bool>,
    /// `fastopen_no_cookie 0|1`.
    pub fastopen_no_cookie: Option<bool>,
    /// `nexthop …` groups (also built from the deprecated `or`).
    pub nexthops: Vec<Nexthop>,
    /// `add` / `prepend` / `append`.
    pub mode: RouteMode,
    /// `vrf NAME` (checked during validation).
    pub vrf: Option<String>,
    /// `no_track`, or set when the route cannot be tracked (no interface).
    pub no_track: bool,
    /// `track_group NAME` (static routes only).
    pub track_group: Option<String>,
    pub origin: Origin,
}

/// The action of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum RuleAction {
    /// `table|lookup N|NAME` (or `l3mdev`, table 0).
    Table(u32),
    /// `goto N`.
    Goto(u32),
    /// `nop`.
    Nop,
    /// `blackhole`.
    Blackhole,
    /// `unreachable`.
    Unreachable,
    /// `prohibit`.
    Prohibit,
}

/// One rule entry (the `ip rule add` syntax keepalived accepts),
/// keepalived `alloc_rule`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Resolved family (default inet).
    pub family: Family,
    /// `from PREFIX|default`.
    pub from: Option<IpPrefix>,
    /// `to PREFIX|default`.
    pub to: Option<IpPrefix>,
    /// `not`.
    pub invert: bool,
    /// `preference|order|priority N`; automatic (16384 decreasing) if unset.
    pub preference: u32,
    /// The preference was assigned automatically.
    pub auto_preference: bool,
    /// `tos|dsfield N`.
    pub tos: Option<u8>,
    /// `fwmark N[/MASK]`.
    pub fwmark: Option<u32>,
    pub fwmask: Option<u32>,
    /// `realms [FROM/]TO` (IPv4 only).
    pub realms: Option<u32>,
    /// `suppress_prefixlength|sup_pl N`.
    pub suppress_prefixlength: Option<u32>,
    /// `suppress_ifgroup|sup_group G`.
    pub suppress_ifgroup: Option<u32>,
    /// `dev|iif IF`.
    pub iif: Option<String>,
    /// `oif IF`.
    pub oif: Option<String>,
    /// `tunnel-id N`.
    pub tunnel_id: Option<u64>,
    /// `uidrange A-B`.
    pub uidrange: Option<(u32, u32)>,
    /// `l3mdev`.
    pub l3mdev: bool,
    /// `protocol N`. Tracked rules get 18 (RTPROT_KEEPALIVED).
    pub protocol: Option<u8>,
    /// `ipproto P`.
    pub ipproto: Option<u8>,
    /// `sport A-B`.
    pub sport: Option<(u16, u16)>,
    /// `dport A-B`.
    pub dport: Option<(u16, u16)>,
    pub action: RuleAction,
    /// `no_track`.
    pub no_track: bool,
    /// `track_group NAME` (static rules only).
    pub track_group: Option<String>,
    pub origin: Origin,
}

/// `track_group NAME { group { VI_1 VI_2 } }`: instances tracking static
/// addresses/routes/rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrackGroup {
    pub name: String,
    /// `group { … }`: the instance names (None: no group block).
    pub group: Option<Vec<String>>,
    pub origin: Origin,
}

/// `static_ipaddress`, `static_routes`, `static_rules`, `track_group`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StaticConfig {
    pub addresses: Vec<IpAddress>,
    pub routes: Vec<Route>,
    pub rules: Vec<Rule>,
    pub track_groups: Vec<TrackGroup>,
    /// Rules given an automatic preference so far (IPv4, IPv6): the next
    /// one gets 16384 minus this count (keepalived's per-process counter,
    /// shared by static and virtual rules).
    #[serde(skip)]
    pub auto_rule_prefs: (u32, u32),
    /// An entry named an interface that does not exist (keepalived's
    /// `non_existent_interface_specified`): reported once as
    /// "Non-existent interface specified in configuration" (BAD_IF).
    #[serde(skip)]
    pub nonexistent_interface: bool,
}
