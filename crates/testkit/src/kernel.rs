//! Kernel state (links, addresses, routes, rules) read through rtnetlink,
//! inside the test's network namespace: tests assert on the kernel's own
//! answer rather than on `ip`'s text. rtnetlink is async; each read runs
//! on a small current-thread tokio runtime, on a thread that entered the
//! named namespace when there is one.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use futures_util::TryStreamExt;
pub use netlink_packet_route::address::AddressFlags;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{InfoData, InfoMacVlan, LinkAttribute, LinkFlags, LinkInfo, LinkMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
pub use netlink_packet_route::route::{RouteProtocol, RouteScope, RouteType};
use netlink_packet_route::rule::{RuleAttribute, RuleMessage};
use rtnetlink::{Handle, IpVersion, RouteMessageBuilder};

/// Where to read: the current namespace, or the one a file names
/// (`/run/netns/NAME`, `/proc/PID/ns/net`).
#[derive(Clone, Debug)]
pub struct Kernel {
    ns: Option<String>,
}

/// One interface.
#[derive(Clone, Debug)]
pub struct Link {
    pub index: u32,
    pub name: String,
    /// IFF_UP (administratively up).
    pub up: bool,
    /// IFF_UP without IFF_RUNNING: what `ip link` shows as NO-CARRIER.
    pub no_carrier: bool,
    /// `veth`, `macvlan`, ... (none for lo and plain devices).
    pub kind: Option<String>,
    pub mac: Vec<u8>,
    /// The lower device (IFLA_LINK) of a VMAC or veth.
    pub parent: Option<u32>,
    /// The IFLA_LINKINFO attributes (kind and data: a macvlan's mode...).
    pub info: Vec<LinkInfo>,
}

/// One address on an interface.
#[derive(Clone, Debug)]
pub struct Addr {
    pub ifname: String,
    pub addr: IpAddr,
    pub prefix_len: u8,
    pub flags: AddressFlags,
    /// Preferred and valid lifetimes in seconds (u32::MAX: forever).
    pub preferred: u32,
    pub valid: u32,
    pub label: Option<String>,
    pub broadcast: Option<Ipv4Addr>,
    /// The far end of a point-to-point address (IFA_ADDRESS besides IFA_LOCAL).
    pub peer: Option<IpAddr>,
    /// Interface, prefix, scope, flags and every attribute but the
    /// lifetimes, interfaces by name: what parity tests compare.
    pub text: String,
}

/// One route, with every attribute but the time-varying ones.
#[derive(Clone, Debug)]
pub struct Route {
    pub table: u32,
    pub kind: RouteType,
    pub protocol: RouteProtocol,
    pub scope: RouteScope,
    /// Destination and prefix length (none: a default route).
    pub dst: Option<(IpAddr, u8)>,
    pub gateway: Option<IpAddr>,
    /// The output interface's name.
    pub oif: Option<String>,
    pub prefsrc: Option<IpAddr>,
    pub metric: Option<u32>,
    /// Header and attributes, interfaces by name: what parity tests compare.
    pub text: String,
}

/// One policy rule (header and attributes).
#[derive(Clone, Debug)]
pub struct Rule {
    pub priority: Option<u32>,
    pub table: Option<u32>,
    pub text: String,
}

impl Kernel {
    /// The namespace the caller runs in (an [`crate::in_netns`] body).
    pub fn current() -> Kernel {
        Kernel { ns: None }
    }

    /// The namespace `/run/netns/ns`.
    pub fn named(ns: &str) -> Kernel {
        Kernel { ns: Some(format!("/run/netns/{ns}")) }
    }

    /// The namespace of process `pid`.
    pub fn of_pid(pid: i32) -> Kernel {
        Kernel { ns: Some(format!("/proc/{pid}/ns/net")) }
    }

    pub fn links(&self) -> Vec<Link> {
        self.read(|h| async move { dump_links(&h).await.into_iter().map(link).collect() })
    }

    pub fn link(&self, name: &str) -> Option<Link> {
        self.links().into_iter().find(|l| l.name == name)
    }

    /// The name of the device `l` sits on (a VMAC's or VLAN's lower link).
    pub fn lower_name(&self, l: &Link) -> Option<String> {
        self.links().into_iter().find(|x| Some(x.index) == l.parent).map(|x| x.name)
    }

    /// Addresses of `ifname`, or of every interface.
    pub fn addresses(&self, ifname: Option<&str>) -> Vec<Addr> {
        let all: Vec<Addr> = self.read(|h| async move {
            let names = names(&dump_links(&h).await);
            let msgs: Vec<AddressMessage> = h.address().get().execute().try_collect().await.expect("address dump");
            msgs.into_iter().map(|m| addr(&names, m)).collect()
        });
        all.into_iter().filter(|a| ifname.is_none_or(|n| a.ifname == n)).collect()
    }

    /// `addr` (an address without its prefix) is on `ifname` (any interface when none).
    pub fn has_addr(&self, ifname: Option<&str>, addr: &str) -> bool {
        let want: IpAddr = addr.parse().unwrap_or_else(|e| panic!("{addr}: {e}"));
        self.addresses(ifname).iter().any(|a| a.addr == want)
    }

    /// The interfaces holding `addr`.
    pub fn holders(&self, addr: &str) -> Vec<String> {
        let want: IpAddr = addr.parse().unwrap_or_else(|e| panic!("{addr}: {e}"));
        self.addresses(None).into_iter().filter(|a| a.addr == want).map(|a| a.ifname).collect()
    }

    /// Routes of both families in `table`, or in every table.
    pub fn routes(&self, table: Option<u32>) -> Vec<Route> {
        let all: Vec<Route> = self.read(|h| async move {
            let names = names(&dump_links(&h).await);
            let mut out = Vec::new();
            for req in [RouteMessageBuilder::<Ipv4Addr>::new().build(), RouteMessageBuilder::<Ipv6Addr>::new().build()]
            {
                let msgs: Vec<RouteMessage> = h.route().get(req).execute().try_collect().await.expect("route dump");
                out.extend(msgs.into_iter().map(|m| route(&names, m)));
            }
            out
        });
        all.into_iter().filter(|r| table.is_none_or(|t| r.table == t)).collect()
    }

    /// Policy rules of both families.
    pub fn rules(&self) -> Vec<Rule> {
        self.read(|h| async move {
            let mut out = Vec::new();
            for v in [IpVersion::V4, IpVersion::V6] {
                let msgs: Vec<RuleMessage> = h.rule().get(v).execute().try_collect().await.expect("rule dump");
                out.extend(msgs.into_iter().map(rule));
            }
            out
        })
    }

    /// Run one rtnetlink conversation in the namespace.
    fn read<T, F, Fut>(&self, f: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(Handle) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = T>,
    {
        let talk = move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_io().build().expect("tokio runtime");
            rt.block_on(async move {
                let (conn, handle, _) = rtnetlink::new_connection().expect("rtnetlink socket");
                tokio::spawn(conn);
                f(handle).await
            })
        };
        match &self.ns {
            Some(path) => crate::netns::within_path(path, talk),
            None => std::thread::spawn(talk).join().expect("the rtnetlink thread"),
        }
    }
}

async fn dump_links(h: &Handle) -> Vec<LinkMessage> {
    h.link().get().execute().try_collect().await.expect("link dump")
}

fn names(links: &[LinkMessage]) -> HashMap<u32, String> {
    links.iter().map(|l| (l.header.index, link_name(l))).collect()
}

fn link_name(m: &LinkMessage) -> String {
    m.attributes
        .iter()
        .find_map(|a| match a {
            LinkAttribute::IfName(n) => Some(n.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn link(m: LinkMessage) -> Link {
    let name = link_name(&m);
    let up = m.header.flags.contains(LinkFlags::Up);
    let no_carrier = up && !m.header.flags.contains(LinkFlags::Running);
    let (mut mac, mut parent, mut info) = (Vec::new(), None, Vec::new());
    for a in m.attributes {
        match a {
            LinkAttribute::Address(a) => mac = a,
            LinkAttribute::Link(i) => parent = Some(i),
            LinkAttribute::LinkInfo(i) => info = i,
            _ => {}
        }
    }
    let kind = info.iter().find_map(|i| match i {
        LinkInfo::Kind(k) => Some(k.to_string()),
        _ => None,
    });
    Link { index: m.header.index, name, up, no_carrier, kind, mac, parent, info }
}

fn addr(names: &HashMap<u32, String>, m: AddressMessage) -> Addr {
    let h = &m.header;
    let ifname = names.get(&h.index).cloned().unwrap_or_default();
    let (mut address, mut local, mut flags) = (None, None, AddressFlags::empty());
    let (mut preferred, mut valid) = (u32::MAX, u32::MAX);
    let (mut label, mut broadcast) = (None, None);
    let mut attrs = Vec::new();
    for a in &m.attributes {
        match a {
            AddressAttribute::Address(ip) => address = Some(*ip),
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Flags(f) => flags = *f,
            AddressAttribute::CacheInfo(c) => (preferred, valid) = (c.ifa_preferred, c.ifa_valid),
            AddressAttribute::Label(l) => label = Some(l.clone()),
            AddressAttribute::Broadcast(b) => broadcast = Some(*b),
            _ => {}
        }
        if !matches!(a, AddressAttribute::CacheInfo(_)) {
            attrs.push(format!("{a:?}"));
        }
    }
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS the peer's on a point-to-point link.
    let addr = local.or(address).expect("an address message without an address");
    let peer = address.filter(|a| local.is_some_and(|l| l != *a));
    let text = format!("{ifname} {:?}/{} {:?} {:?} {attrs:?}", h.family, h.prefix_len, h.scope, h.flags);
    Addr { ifname, addr, prefix_len: h.prefix_len, flags, preferred, valid, label, broadcast, peer, text }
}

fn route(names: &HashMap<u32, String>, m: RouteMessage) -> Route {
    let h = &m.header;
    let mut table = u32::from(h.table);
    let (mut dst, mut gateway, mut oif, mut prefsrc, mut metric) = (None, None, None, None, None);
    for a in &m.attributes {
        match a {
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Destination(d) => dst = ip_of(d).map(|ip| (ip, h.destination_prefix_length)),
            RouteAttribute::Gateway(g) => gateway = ip_of(g),
            RouteAttribute::PrefSource(p) => prefsrc = ip_of(p),
            RouteAttribute::Priority(p) => metric = Some(*p),
            RouteAttribute::Oif(i) => oif = names.get(i).cloned(),
            _ => {}
        }
    }
    let attrs: Vec<String> = m.attributes.iter().filter_map(|a| route_attr_text(names, a)).collect();
    let text = format!(
        "table {table} {:?} {:?} {:?} {:?} tos {} src/{} dst {dst:?} {attrs:?}",
        h.kind, h.protocol, h.scope, h.flags, h.tos, h.source_prefix_length
    );
    let (kind, protocol, scope) = (h.kind, h.protocol, h.scope);
    Route { table, kind, protocol, scope, dst, gateway, oif, prefsrc, metric, text }
}

/// A route attribute as parity tests compare it: interfaces by name, the
/// expiry time cut, the cache statistics and what the header line shows left out.
fn route_attr_text(names: &HashMap<u32, String>, a: &RouteAttribute) -> Option<String> {
    let name = |i: &u32| names.get(i).map_or("?", |n| n).to_string();
    match a {
        RouteAttribute::Table(_) | RouteAttribute::Destination(_) | RouteAttribute::CacheInfo(_) => None,
        RouteAttribute::Expires(_) => Some("Expires(N)".to_string()),
        RouteAttribute::Oif(i) => Some(format!("Oif({})", name(i))),
        RouteAttribute::Iif(i) => Some(format!("Iif({})", name(i))),
        other => Some(format!("{other:?}")),
    }
}

fn ip_of(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(ip) => Some(IpAddr::V4(*ip)),
        RouteAddress::Inet6(ip) => Some(IpAddr::V6(*ip)),
        _ => None,
    }
}

fn rule(m: RuleMessage) -> Rule {
    let mut priority = None;
    let mut table = (m.header.table != 0).then_some(u32::from(m.header.table));
    for a in &m.attributes {
        match a {
            RuleAttribute::Priority(p) => priority = Some(*p),
            RuleAttribute::Table(t) => table = Some(*t),
            _ => {}
        }
    }
    let text = format!("{:?} {:?}", m.header, m.attributes);
    Rule { priority, table, text }
}

impl Link {
    /// The MAC address as `ip` prints it (`00:00:5e:00:01:3d`).
    pub fn mac_string(&self) -> String {
        self.mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
    }

    /// A macvlan's mode in lower case (`private`, `bridge`...).
    pub fn macvlan_mode(&self) -> Option<String> {
        self.info.iter().find_map(|i| match i {
            LinkInfo::Data(InfoData::MacVlan(v)) => v.iter().find_map(|m| match m {
                InfoMacVlan::Mode(mode) => Some(format!("{mode:?}").to_lowercase()),
                _ => None,
            }),
            _ => None,
        })
    }
}

impl fmt::Display for Addr {
    /// `eth0 inet 192.0.2.1/24`, as `ip -o addr show` prints its first columns.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let family = if self.addr.is_ipv4() { "inet" } else { "inet6" };
        write!(f, "{} {family} {}/{}", self.ifname, self.addr, self.prefix_len)
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
