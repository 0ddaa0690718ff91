//! `virtual_routes` / `virtual_rules` (added when an instance becomes
//! MASTER, removed when it leaves) and `static_ipaddress` / `static_routes`
//! / `static_rules` (added at start, removed at stop), turned from the
//! configuration model into netlink requests as keepalived sends them
//! (vrrp_iproute.c / vrrp_iprule.c): a route without `protocol` gets
//! RTPROT_KEEPALIVED (18) and scope universe unless one is configured.
//!
//! This build applies the common attributes (destination, `via`, `dev`,
//! `src`, `table`, `metric`, `scope`, `protocol`, the blackhole /
//! unreachable / prohibit types, `tos`, `onlink`, `realms`, the metrics
//! `mtu` `advmss` `hoplimit` `rtt` `rttvar` `rto_min` `window` `cwnd`
//! `ssthresh` `reordering` `initcwnd` `initrwnd` `features ecn` `quickack`
//! `fastopen_no_cookie` `congctl` with their `lock`s; rules: every selector and
//! action keepalived 2.2.7 has; `from`, `expires`, `pref` and `nexthop`
//! groups, `encap ip`/`ip6`/`mpls`/`ila` on the route and on its nexthops,
//! `vrf` (the VRF's table, as keepalived reads it at start) and
//! `ttl-propagate`). What cannot be applied (an interface or VRF that is
//! gone) is named once in the log at start-up.

use keepalived_config::model::ip::{Route, RouteType, Rule, RuleAction};
use keepalived_netlink::{
    EncapSpec, Family, NexthopSpec, Prefix, RouteKind, RouteMetric, RouteSpec, RuleExtras, RuleSpec, RuleVerb,
};
use tracing::warn;

/// A route ready for netlink, with what was left out.
pub fn route_spec(r: &Route) -> (RouteSpec, Vec<&'static str>) {
    let mut left = Vec::new();
    let mut spec = RouteSpec::new(Prefix::new(r.dst.addr, r.dst.prefix));
    spec.gateway = r.via;
    spec.ifindex = r.dev.as_deref().and_then(|d| keepalived_net::interface_info(d).ok()).map(|i| i.index);
    if r.dev.is_some() && spec.ifindex.is_none() {
        left.push("dev (interface not found)");
    }
    spec.src = r.pref_src;
    spec.table = Some(r.table);
    spec.metric = r.metric;
    spec.scope = Some(r.scope.unwrap_or(0));
    spec.protocol = Some(r.protocol.unwrap_or(keepalived_netlink::RTPROT_KEEPALIVED));
    spec.kind = match r.route_type {
        None | Some(RouteType::Unicast) => RouteKind::Unicast,
        Some(RouteType::Blackhole) => RouteKind::Blackhole,
        Some(RouteType::Unreachable) => RouteKind::Unreachable,
        Some(RouteType::Prohibit) => RouteKind::Prohibit,
        Some(_) => {
            left.push("route type");
            RouteKind::Unicast
        }
    };
    spec.tos = r.tos.unwrap_or(0);
    spec.onlink = r.onlink;
    spec.realms = r.realms;
    spec.metrics = metrics(r);
    spec.from = r.from.map(|p| Prefix::new(p.addr, p.prefix));
    spec.expires = r.expires;
    spec.pref = r.pref;
    spec.nexthops = r.nexthops.iter().map(nexthop).collect();
    if r.nexthops.iter().any(|n| n.dev.is_some() && ifindex(&n.dev).is_none()) {
        left.push("nexthop dev (interface not found)");
    }
    spec.encap = r.encap.as_ref().map(encap);
    spec.ttl_propagate = r.ttl_propagate;
    if let Some(v) = &r.vrf {
        // keepalived: `new->table = ifp->vrf_tb_id` while reading the route.
        match keepalived_netlink::ipvlan::vrf_table(v) {
            Ok(Some(t)) => spec.table = Some(t),
            _ => left.push("vrf (not a VRF interface)"),
        }
    }
    (spec, left)
}

/// The `encap` of a route or nexthop.
fn encap(e: &keepalived_config::model::ip::Encap) -> EncapSpec {
    use keepalived_config::model::ip::Encap;
    use std::net::IpAddr;
    let v4 = |a: &Option<IpAddr>| match a {
        Some(IpAddr::V4(x)) => Some(*x),
        _ => None,
    };
    let v6 = |a: &Option<IpAddr>| match a {
        Some(IpAddr::V6(x)) => Some(*x),
        _ => None,
    };
    match e {
        Encap::Ip { id, dst, src, tos, ttl, flags } => {
            EncapSpec::Ip { id: *id, dst: v4(dst), src: v4(src), tos: *tos, ttl: *ttl, flags: *flags }
        }
        Encap::Ip6 { id, dst, src, tc, hoplimit, flags } => {
            EncapSpec::Ip6 { id: *id, dst: v6(dst), src: v6(src), tc: *tc, hoplimit: *hoplimit, flags: *flags }
        }
        Encap::Mpls { labels } => EncapSpec::Mpls { labels: labels.clone() },
        Encap::Ila { locator } => EncapSpec::Ila { locator: *locator },
    }
}

fn ifindex(dev: &Option<String>) -> Option<u32> {
    dev.as_deref().and_then(|d| keepalived_net::interface_info(d).ok()).map(|i| i.index)
}

fn nexthop(n: &keepalived_config::model::ip::Nexthop) -> NexthopSpec {
    NexthopSpec {
        gateway: n.via,
        ifindex: ifindex(&n.dev),
        weight: n.weight,
        onlink: n.onlink,
        realms: n.realms,
        encap: n.encap.as_ref().map(encap),
    }
}

/// RTA_METRICS as keepalived sends it (values in kernel units; a `lock`
/// word sets bit RTAX_x of RTAX_LOCK).
fn metrics(r: &Route) -> Vec<RouteMetric> {
    use keepalived_config::model::ip::Metric;
    let mut out = Vec::new();
    let mut lock = 0u32;
    let mut add = |m: &Option<Metric>, rtax: u32, f: fn(u32) -> RouteMetric| {
        if let Some(m) = m {
            lock |= u32::from(m.lock) << rtax;
            out.push(f(m.value));
        }
    };
    add(&r.rtt, 4, RouteMetric::Rtt);
    add(&r.rttvar, 5, RouteMetric::RttVar);
    add(&r.rto_min, 13, RouteMetric::RtoMin);
    add(&r.mtu, 2, RouteMetric::Mtu);
    add(&r.ssthresh, 6, RouteMetric::SsThresh);
    add(&r.cwnd, 7, RouteMetric::Cwnd);
    add(&r.advmss, 8, RouteMetric::Advmss);
    add(&r.reordering, 9, RouteMetric::Reordering);
    let plain = [
        (r.features_ecn.then_some(1), RouteMetric::Features as fn(u32) -> RouteMetric),
        (r.window, RouteMetric::Window),
        (r.hoplimit.map(u32::from), RouteMetric::Hoplimit),
        (r.initcwnd, RouteMetric::InitCwnd),
        (r.initrwnd, RouteMetric::InitRwnd),
        (r.quickack.map(u32::from), RouteMetric::QuickAck),
        (r.fastopen_no_cookie.map(u32::from), RouteMetric::FastopenNoCookie),
    ];
    out.extend(plain.into_iter().filter_map(|(v, f)| v.map(f)));
    if let Some(cc) = &r.congctl {
        lock |= u32::from(r.congctl_lock) << 16;
        out.push(RouteMetric::CcAlgo(cc.clone()));
    }
    if lock != 0 {
        out.insert(0, RouteMetric::Lock(lock));
    }
    out
}

/// A rule ready for netlink (nothing is left out any more; the list stays
/// for the callers' warning).
pub fn rule_spec(r: &Rule) -> (RuleSpec, Vec<&'static str>) {
    let family = match r.family {
        keepalived_config::model::ip::Family::Inet6 => Family::Inet6,
        _ => Family::Inet,
    };
    let (table, verb) = match r.action {
        RuleAction::Table(t) => (Some(t), RuleVerb::Lookup),
        RuleAction::Goto(p) => (None, RuleVerb::Goto(p)),
        RuleAction::Nop => (None, RuleVerb::Nop),
        RuleAction::Blackhole => (None, RuleVerb::Blackhole),
        RuleAction::Unreachable => (None, RuleVerb::Unreachable),
        RuleAction::Prohibit => (None, RuleVerb::Prohibit),
    };
    let extras = RuleExtras {
        invert: r.invert,
        tos: r.tos.unwrap_or(0),
        realms: r.realms,
        suppress_prefixlength: r.suppress_prefixlength,
        suppress_ifgroup: r.suppress_ifgroup,
        iif: r.iif.clone(),
        oif: r.oif.clone(),
        tunnel_id: r.tunnel_id,
        uidrange: r.uidrange,
        l3mdev: r.l3mdev,
        ipproto: r.ipproto,
        sport: r.sport,
        dport: r.dport,
        verb,
    };
    let spec = RuleSpec {
        family,
        from: r.from.map(|p| Prefix::new(p.addr, p.prefix)),
        to: r.to.map(|p| Prefix::new(p.addr, p.prefix)),
        table,
        priority: Some(r.preference),
        fwmark: r.fwmark,
        fwmask: r.fwmask,
        protocol: Some(r.protocol.unwrap_or(keepalived_netlink::RTPROT_KEEPALIVED)),
        extras,
    };
    (spec, Vec::new())
}

/// Convert a list, logging (once, here) what is not applied.
pub fn routes(list: &[Route], owner: &str) -> Vec<RouteSpec> {
    list.iter()
        .map(|r| {
            let (spec, left) = route_spec(r);
            if !left.is_empty() {
                warn!("({owner}) route {spec}: not applied: {}", left.join(", "));
            }
            spec
        })
        .collect()
}

pub fn rules(list: &[Rule], owner: &str) -> Vec<RuleSpec> {
    list.iter()
        .map(|r| {
            let (spec, left) = rule_spec(r);
            if !left.is_empty() {
                warn!("({owner}) rule {spec}: not applied: {}", left.join(", "));
            }
            spec
        })
        .collect()
}

pub fn add_routes(list: &[RouteSpec], owner: &str) {
    for r in list {
        match keepalived_netlink::add_route(r) {
            Ok(()) => {}
            Err(e) if e.is_already_exists() => {}
            Err(e) => warn!("({owner}) {e}"),
        }
    }
}

pub fn del_routes(list: &[RouteSpec], owner: &str) {
    for r in list.iter().rev() {
        match keepalived_netlink::del_route(r) {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => warn!("({owner}) {e}"),
        }
    }
}

pub fn add_rules(list: &[RuleSpec], owner: &str) {
    for r in list {
        match keepalived_netlink::add_rule(r) {
            Ok(()) => {}
            Err(e) if e.is_already_exists() => {}
            Err(e) => warn!("({owner}) {e}"),
        }
    }
}

pub fn del_rules(list: &[RuleSpec], owner: &str) {
    for r in list.iter().rev() {
        match keepalived_netlink::del_rule(r) {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => warn!("({owner}) {e}"),
        }
    }
}
