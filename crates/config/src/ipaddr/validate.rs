//! End-of-configuration validation of static entries, and the interface
//! checks keepalived does while reading an entry (`if_get_by_ifname`),
//! done here because the system's interfaces are known only now.

use super::model::{IpAddress, Route, Rule};
use crate::diag::Severity;
use crate::engine::Ctx;
use crate::system::SystemView;

/// keepalived's DFLT_INT, used for static addresses without `dev` when
/// `default_interface` is not set.
pub const DEFAULT_INTERFACE: &str = "eth0";

/// The address as written (keepalived prints the entry's first word).
fn addr_text(a: &IpAddress) -> String {
    let max = if a.addr.is_ipv6() { 128 } else { 32 };
    if a.prefix == max || a.peer.is_some() {
        a.addr.to_string()
    } else {
        format!("{}/{}", a.addr, a.prefix)
    }
}

/// `dev IF` of an address must exist: "WARNING - interface X for ip
/// address Y doesn't exist" (the address is dropped). Returns false when
/// the address must be dropped. Addresses without `dev` pass.
pub fn check_address_interfaces(ctx: &mut Ctx, sys: &SystemView, a: &IpAddress) -> bool {
    match &a.dev {
        Some(d) if !sys.has_interface(d) => {
            ctx.cfg.ip.nonexistent_interface = true;
            let msg = format!("WARNING - interface {d} for ip address {} doesn't exist", addr_text(a));
            ctx.report_at(Severity::GeneralError, Some(a.origin), msg);
            false
        }
        _ => true,
    }
}

/// A route's `dev`/`oif` must exist (else the route is dropped); a
/// nexthop `dev` that does not exist drops that nexthop and the following
/// ones (keepalived stops reading nexthops there); `vrf NAME` must be a VRF
/// interface. Returns false when the route must be dropped.
pub fn check_route_interfaces(ctx: &mut Ctx, sys: &SystemView, r: &mut Route) -> bool {
    if let Some(d) = &r.dev {
        if !sys.has_interface(d) {
            ctx.cfg.ip.nonexistent_interface = true;
            let msg = format!("WARNING - interface {d} for VROUTE nexthop doesn't exist");
            ctx.report_at(Severity::GeneralError, Some(r.origin), msg);
            return false;
        }
    }
    if let Some(v) = &r.vrf {
        if sys.interfaces.is_some() {
            match sys.interface(v) {
                None => {
                    let msg = format!("VRF {v} not found for route");
                    ctx.report_at(Severity::GeneralError, Some(r.origin), msg);
                    return false;
                }
                Some(i) if i.kind.as_deref() != Some("vrf") => {
                    let msg = format!("Route specified VRF {v} is not a VRF");
                    ctx.report_at(Severity::GeneralError, Some(r.origin), msg);
                    return false;
                }
                Some(_) => {}
            }
        }
    }
    let bad = r.nexthops.iter().position(|nh| nh.dev.as_deref().is_some_and(|d| !sys.has_interface(d)));
    if let Some(p) = bad {
        let d = r.nexthops[p].dev.clone().unwrap_or_default();
        ctx.cfg.ip.nonexistent_interface = true;
        let msg = format!("WARNING - interface {d} for VROUTE nexthop doesn't exist");
        ctx.report_at(Severity::GeneralError, Some(r.origin), msg);
        r.nexthops.truncate(p);
    }
    true
}

/// A rule's `dev`/`iif` and `oif` must exist, else the rule is dropped
/// ("WARNING - interface X for rule doesn't exist").
pub fn check_rule_interfaces(ctx: &mut Ctx, sys: &SystemView, r: &Rule) -> bool {
    for d in [&r.iif, &r.oif].into_iter().flatten() {
        if !sys.has_interface(d) {
            ctx.cfg.ip.nonexistent_interface = true;
            let msg = format!("WARNING - interface {d} for rule doesn't exist");
            ctx.report_at(Severity::GeneralError, Some(r.origin), msg);
            return false;
        }
    }
    true
}

/// keepalived's end-of-read check: once any configured interface was
/// missing, "Non-existent interface specified in configuration" (BAD_IF),
/// reported once whichever area finds it first.
pub fn report_nonexistent_interface(ctx: &mut Ctx) {
    const MSG: &str = "Non-existent interface specified in configuration";
    if ctx.cfg.ip.nonexistent_interface && !ctx.diags.has(MSG) {
        ctx.report_at(Severity::BadIf, None, MSG);
    }
}

/// Interface checks of every address, route and rule entry (static ones
/// and the VRRP instances' virtual ones), as keepalived does while reading
/// them. Entries naming a missing interface are dropped and the shared
/// "non-existent interface" flag is set; the VRRP validation then reports
/// BAD_IF and stops.
pub fn check_interfaces(ctx: &mut Ctx, sys: &SystemView) {
    let mut instances = std::mem::take(&mut ctx.cfg.vrrp.instances);
    for v in instances.iter_mut() {
        let vips = std::mem::take(&mut v.vips);
        v.vips = vips.into_iter().filter(|a| check_address_interfaces(ctx, sys, a)).collect();
        let evips = std::mem::take(&mut v.evips);
        v.evips = evips.into_iter().filter(|a| check_address_interfaces(ctx, sys, a)).collect();
        let routes = std::mem::take(&mut v.vroutes);
        v.vroutes =
            routes.into_iter().filter_map(|mut r| check_route_interfaces(ctx, sys, &mut r).then_some(r)).collect();
        let rules = std::mem::take(&mut v.vrules);
        v.vrules = rules.into_iter().filter(|r| check_rule_interfaces(ctx, sys, r)).collect();
    }
    ctx.cfg.vrrp.instances = instances;
    check_static_interfaces(ctx, sys);
}

fn check_static_interfaces(ctx: &mut Ctx, sys: &SystemView) {
    // Static addresses: dev must exist; without dev the default interface
    // is used and must exist (keepalived get_default_if).
    let default_if = ctx.cfg.global.default_interface.clone().unwrap_or_else(|| DEFAULT_INTERFACE.to_string());
    let addrs = std::mem::take(&mut ctx.cfg.ip.addresses);
    let mut kept = Vec::with_capacity(addrs.len());
    for mut a in addrs {
        if a.dev.is_none() {
            if !sys.has_interface(&default_if) {
                ctx.cfg.ip.nonexistent_interface = true;
                let msg = format!(
                    "Static address {} requires either an interface or default interface must exist",
                    addr_text(&a)
                );
                ctx.report_at(Severity::Fatal, Some(a.origin), msg);
                continue;
            }
            a.dev = Some(default_if.clone());
        } else if !check_address_interfaces(ctx, sys, &a) {
            continue;
        }
        kept.push(a);
    }
    ctx.cfg.ip.addresses = kept;

    let routes = std::mem::take(&mut ctx.cfg.ip.routes);
    let mut kept = Vec::with_capacity(routes.len());
    for mut r in routes {
        if check_route_interfaces(ctx, sys, &mut r) {
            kept.push(r);
        }
    }
    ctx.cfg.ip.routes = kept;

    let rules = std::mem::take(&mut ctx.cfg.ip.rules);
    let mut kept = Vec::with_capacity(rules.len());
    for r in rules {
        if check_rule_interfaces(ctx, sys, &r) {
            kept.push(r);
        }
    }
    ctx.cfg.ip.rules = kept;
}

/// What follows the VRRP checks (keepalived static_track_group_init).
pub fn validate(ctx: &mut Ctx, _sys: &SystemView) {
    if ctx.cfg.ip.nonexistent_interface {
        // keepalived's VRRP process stopped at the missing interface.
        return;
    }

    // static_track_group_init: groups without instances are removed.
    let groups = std::mem::take(&mut ctx.cfg.ip.track_groups);
    let mut kept = Vec::with_capacity(groups.len());
    for g in groups {
        if g.group.is_none() {
            ctx.diags.log(None, format!("Static track group {} has no virtual router(s)", g.name));
            ctx.diags.log(None, format!("Static track group {} init fails - removing", g.name));
            continue;
        }
        kept.push(g);
    }
    ctx.cfg.ip.track_groups = kept;
    let known = |ctx: &Ctx, n: &Option<String>| {
        n.as_ref().is_some_and(|n| ctx.cfg.ip.track_groups.iter().any(|g| &g.name == n))
    };

    let mut logs = Vec::new();
    for a in &ctx.cfg.ip.addresses {
        if known(ctx, &a.track_group) && a.no_track {
            logs.push("Static address has both track_group and no_track set - not tracking");
        }
    }
    for r in &ctx.cfg.ip.routes {
        if known(ctx, &r.track_group) && r.no_track {
            logs.push("Static route has both track_group and no_track set - not tracking");
        }
    }
    for r in &ctx.cfg.ip.rules {
        if known(ctx, &r.track_group) && r.no_track {
            logs.push("Static rule has both track_group and no_track set - not tracking");
        }
    }
    for l in logs {
        ctx.diags.log(None, l);
    }
}
