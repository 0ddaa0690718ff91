//! End-of-configuration validation (keepalived ipwrapper.c
//! `link_vsg_to_vs`, check_data.c `validate_check_config` and
//! `check_check_script_security`, check_misc.c `check_misc_script_security`).

use super::model::*;
use super::parse::{fmt_rs, fmt_vs, PERSISTENT_TIMEOUT};
use crate::diag::{Origin, Severity};
use crate::engine::Ctx;
use crate::global::scripts::{check_notify_script_secure, check_script_secure, flags, report_security};
use crate::system::SystemView;
use std::collections::HashSet;

pub fn validate(ctx: &mut Ctx, sys: &SystemView) {
    link_vsg_to_vs(ctx);
    let mut vss = std::mem::take(&mut ctx.cfg.lvs.virtual_servers);
    let groups = ctx.cfg.lvs.groups.clone();
    for vs in vss.iter_mut() {
        if vs.real_servers.is_empty() {
            let m = format!("Virtual server {} has no real servers - ignoring", fmt_vs(vs));
            ctx.report_at(Severity::GeneralError, Some(vs.origin), m);
            continue;
        }
        let group = match &vs.addr {
            VsAddr::Group { name, .. } => groups.iter().find(|g| &g.name == name),
            _ => None,
        };
        validate_vs(ctx, vs, group);
    }
    vss.retain(|vs| !vs.real_servers.is_empty());
    for vs in vss.iter_mut() {
        vs.real_servers.shrink_to_fit();
    }
    let alert_default = ctx.cfg.global.smtp_alert_checker.or(ctx.cfg.global.smtp_alert);
    for vs in vss.iter_mut() {
        checker_defaults(vs);
        // keepalived: an unset smtp_alert takes smtp_alert_checker, then
        // smtp_alert; failing both it is off for a virtual server and on
        // for a real server (compatibility with old versions).
        vs.smtp_alert = vs.smtp_alert.or(alert_default).or(Some(false));
        for rs in vs.real_servers.iter_mut() {
            rs.smtp_alert = rs.smtp_alert.or(alert_default).or(Some(true));
        }
    }
    script_security(ctx, sys, &mut vss);
    ctx.cfg.lvs.virtual_servers = vss;
}

fn err(ctx: &mut Ctx, origin: &Origin, msg: String) {
    ctx.report_at(Severity::GeneralError, Some(*origin), msg);
}

/// keepalived `link_vsg_to_vs`: resolve `virtual_server group NAME`, check
/// families, and number the virtual servers of each group.
fn link_vsg_to_vs(ctx: &mut Ctx) {
    let vss = std::mem::take(&mut ctx.cfg.lvs.virtual_servers);
    let mut kept = Vec::with_capacity(vss.len());
    for mut vs in vss {
        let VsAddr::Group { name, .. } = &vs.addr else {
            kept.push(vs);
            continue;
        };
        let name = name.clone();
        let Some(g) = ctx.cfg.lvs.groups.iter().find(|g| g.name == name) else {
            ctx.diags.log(
                Some(vs.origin),
                format!(
                    "Virtual server group {name} specified but not configured - ignoring virtual server {}",
                    fmt_vs(&vs)
                ),
            );
            continue;
        };
        let vsg_af = if g.have_ipv4 == g.have_ipv6 {
            None
        } else if g.have_ipv4 {
            Some(Family::Inet)
        } else {
            Some(Family::Inet6)
        };
        let o = Some(vs.origin);
        if g.have_ipv4 && g.have_ipv6 && vs.af.is_some() {
            ctx.diags.log(
                o,
                format!(
                    "{name}: virtual server group with IPv4 & IPv6 doesn't match virtual server {} - ignoring",
                    fmt_vs(&vs)
                ),
            );
            continue;
        } else if (g.have_ipv4 && vs.af == Some(Family::Inet6)) || (g.have_ipv6 && vs.af == Some(Family::Inet)) {
            ctx.diags.log(o, format!("{name}: address family doesn't match virtual server {} - ignoring", fmt_vs(&vs)));
            continue;
        } else if let Some(a) = vsg_af {
            if vs.af.is_none() {
                vs.af = Some(a);
            } else if vs.af != Some(a) {
                ctx.diags
                    .log(o, format!("{name}: address family doesn't match virtual server {} - ignoring", fmt_vs(&vs)));
                continue;
            }
        } else if vs.af.is_none() && g.fwmark_no_family {
            ctx.diags.log(
                o,
                format!(
                    "{name}: Virtual server {} address family cannot be determined, defaulting to IPv4",
                    fmt_vs(&vs)
                ),
            );
        }
        kept.push(vs);
    }
    for g in &ctx.cfg.lvs.groups {
        let mut n: u16 = 0;
        for vs in kept.iter_mut() {
            if let VsAddr::Group { name, index } = &mut vs.addr {
                if *name == g.name {
                    *index = n;
                    n = n.wrapping_add(1);
                }
            }
        }
    }
    ctx.cfg.lvs.virtual_servers = kept;
}

fn nat() -> Forwarding {
    Forwarding { method: FwdMethod::Nat, tun_type: TunType::Ipip, tun_port: 0, tun_csum: TunCsum::NoCsum }
}

fn vs_port(vs: &VirtualServer) -> u16 {
    match &vs.addr {
        VsAddr::Ip { port, .. } => *port,
        VsAddr::Group { index, .. } => *index,
        VsAddr::Fwmark(_) => 0,
    }
}

/// What the checks of a virtual server depend on: whether it is a fwmark
/// service, and whether its group has addresses and/or fwmarks.
struct VsKind {
    is_fwm: bool,
    grp_addrs: bool,
    grp_fwms: bool,
}

fn validate_vs(ctx: &mut Ctx, vs: &mut VirtualServer, group: Option<&VsGroup>) {
    let kind = VsKind {
        is_fwm: matches!(vs.addr, VsAddr::Fwmark(m) if m != 0),
        grp_addrs: group.is_some_and(|g| g.has_addresses()),
        grp_fwms: group.is_some_and(|g| g.has_fwmarks()),
    };
    service_defaults(ctx, vs, group, &kind);
    let weight_sum = real_servers(ctx, vs);
    sorry_server_forwarding(ctx, vs);
    quorum_and_hysteresis(ctx, vs, weight_sum);
    // Ports: unless NAT, real/sorry servers use the virtual server's port.
    match group {
        Some(g) => group_ports(ctx, vs, g, kind.grp_fwms),
        None => service_ports(ctx, vs, kind.is_fwm),
    }
}

/// ha_suspend, protocol, one packet scheduling, a zero port, the
/// scheduler: what fits the kind of service, with keepalived's defaults.
fn service_defaults(ctx: &mut Ctx, vs: &mut VirtualServer, group: Option<&VsGroup>, kind: &VsKind) {
    let o = vs.origin;
    let VsKind { is_fwm, grp_addrs, grp_fwms } = *kind;
    if vs.ha_suspend && (is_fwm || grp_fwms) {
        err(
            ctx,
            &o,
            format!("Virtual server {}: cannot use ha_suspend with fwmarks - clearing ha_suspend", fmt_vs(vs)),
        );
        vs.ha_suspend = false;
    }

    if grp_addrs || (group.is_none() && !is_fwm) {
        if vs.protocol.is_none() {
            err(ctx, &o, format!("Virtual server {}: no protocol set - defaulting to UDP", fmt_vs(vs)));
            vs.protocol = Some(Protocol::Udp);
        }
        if vs.flags.ops && vs.protocol != Some(Protocol::Udp) {
            err(ctx, &o, format!("Virtual server {}: one packet scheduling requires UDP - resetting", fmt_vs(vs)));
            vs.flags.ops = false;
        }
        if vs.persistence_timeout == 0 && group.is_none() && !is_fwm && vs_port(vs) == 0 {
            err(
                ctx,
                &o,
                format!("Virtual server {}: zero port only valid for persistent services - setting", fmt_vs(vs)),
            );
            vs.persistence_timeout = PERSISTENT_TIMEOUT;
        }
    }

    if vs.persistence_timeout == 0 {
        if let Some(g) = group {
            if g.entries.iter().any(|e| matches!(e, VsgEntry::Range { port: 0, .. })) {
                err(
                    ctx,
                    &o,
                    format!("Virtual server {}: zero port only valid for persistent services - setting", fmt_vs(vs)),
                );
                vs.persistence_timeout = PERSISTENT_TIMEOUT;
            }
        }
    }

    if vs.protocol.is_some() && ((group.is_some() && !grp_addrs && grp_fwms) || (group.is_none() && is_fwm)) {
        err(
            ctx,
            &o,
            format!("Warning: Virtual server {}: protocol specified for fwmark - protocol will be ignored", fmt_vs(vs)),
        );
        vs.protocol = None;
    }

    if vs.sched.is_none() {
        err(ctx, &o, format!("Virtual server {}: no scheduler set, setting default 'wlc'", fmt_vs(vs)));
        vs.sched = Some("wlc".to_string());
    }
}

/// Real servers: duplicates removed, unset values inherited from the
/// virtual server, the sorry server's inhibit setting aligned with a real
/// server at the same address. Returns the sum of their weights.
fn real_servers(ctx: &mut Ctx, vs: &mut VirtualServer) -> u64 {
    let o = vs.origin;
    let rss = std::mem::take(&mut vs.real_servers);
    let mut kept: Vec<RealServer> = Vec::with_capacity(rss.len());
    // (address, port) of the kept ones: a scan of `kept` per server was
    // quadratic in the servers of a virtual server.
    let mut seen: HashSet<(std::net::IpAddr, u16), crate::engine::FnvBuild> =
        HashSet::with_capacity_and_hasher(rss.len(), Default::default());
    let mut weight_sum: u64 = 0;
    for mut rs in rss {
        if !seen.insert((rs.addr, rs.port)) {
            let m = format!("VS {}: real server {} is duplicated - removing second rs", fmt_vs(vs), fmt_rs(&rs, vs));
            err(ctx, &o, m);
            continue;
        }
        if rs.forwarding.is_none() {
            if vs.forwarding.is_none() {
                err(ctx, &o, format!("Virtual server {}: no forwarding method set, setting default NAT", fmt_vs(vs)));
                vs.forwarding = Some(nat());
            }
            rs.forwarding = vs.forwarding;
        }
        weight_sum += inherit_from_vs(&mut rs, vs) as u64;
        sorry_server_matching(ctx, vs, &rs);
        kept.push(rs);
    }
    vs.real_servers = kept;
    weight_sum
}

/// A real server's unset values (forwarding aside) from its virtual
/// server. Returns its weight.
fn inherit_from_vs(rs: &mut RealServer, vs: &VirtualServer) -> u32 {
    rs.alpha.get_or_insert(vs.alpha);
    rs.inhibit_on_failure.get_or_insert(vs.inhibit_on_failure);
    if rs.retry.is_none() {
        rs.retry = vs.retry;
    }
    rs.connect_timeout.get_or_insert(vs.connect_timeout);
    rs.delay_loop.get_or_insert(vs.delay_loop);
    if rs.warmup.is_none() {
        rs.warmup = vs.warmup;
    }
    if rs.delay_before_retry.is_none() {
        rs.delay_before_retry = vs.delay_before_retry;
    }
    *rs.weight.get_or_insert(vs.weight)
}

/// A real server that is also the sorry server: the sorry server takes
/// its inhibit setting.
fn sorry_server_matching(ctx: &mut Ctx, vs: &mut VirtualServer, rs: &RealServer) {
    let o = vs.origin;
    let rs_inhibit = rs.inhibit_on_failure.unwrap_or(false);
    let same_as_sorry = vs.sorry_server.as_ref().is_some_and(|s| s.addr == rs.addr && s.port == rs.port);
    if !same_as_sorry {
        return;
    }
    let differs = vs.sorry_server.as_ref().is_some_and(|s| s.inhibit != rs_inhibit);
    if differs {
        let m = format!(
            "Virtual server {}: real server {} matches sorry server, but inhibit setting differs, {}ing on sorry server",
            fmt_vs(vs),
            fmt_rs(rs, vs),
            if rs_inhibit { "sett" } else { "clear" }
        );
        err(ctx, &o, m);
        if let Some(s) = vs.sorry_server.as_mut() {
            s.inhibit = rs_inhibit;
        }
    }
    vs.sorry_server_duplicates_rs = true;
}

/// The sorry server's forwarding method, from the virtual server's.
fn sorry_server_forwarding(ctx: &mut Ctx, vs: &mut VirtualServer) {
    let o = vs.origin;
    if vs.sorry_server.as_ref().is_some_and(|s| s.forwarding.is_none()) {
        if vs.forwarding.is_none() {
            err(ctx, &o, format!("Virtual server {}: no forwarding method set, setting default NAT", fmt_vs(vs)));
            vs.forwarding = Some(nat());
        }
        let f = vs.forwarding;
        if let Some(s) = vs.sorry_server.as_mut() {
            s.forwarding = f;
        }
    }
}

/// The quorum no more than the real servers' weights, the hysteresis below
/// the quorum.
fn quorum_and_hysteresis(ctx: &mut Ctx, vs: &mut VirtualServer, weight_sum: u64) {
    let o = vs.origin;
    // keepalived sums into an unsigned int.
    let weight_sum = weight_sum as u32;
    if vs.quorum > weight_sum {
        let m = format!(
            "Warning - quorum {} for {} exceeds total weight of real servers {weight_sum}, reducing quorum to {weight_sum}",
            vs.quorum,
            fmt_vs(vs)
        );
        err(ctx, &o, m);
        vs.quorum = weight_sum;
    }
    if vs.hysteresis >= vs.quorum {
        let h = vs.quorum.wrapping_sub(1);
        let m = format!(
            "Virtual server {}: hysteresis {} >= quorum {}; setting hysteresis to {h}",
            fmt_vs(vs),
            vs.hysteresis,
            vs.quorum
        );
        err(ctx, &o, m);
        vs.hysteresis = h;
    }
}

fn is_nat(f: Option<Forwarding>) -> bool {
    f.map(|f| f.method) == Some(FwdMethod::Nat)
}

/// A group's virtual server: ports of non-NAT real and sorry servers are
/// only reported (fwmark entries ignore them, address ranges must match).
fn group_ports(ctx: &mut Ctx, vs: &VirtualServer, g: &VsGroup, grp_fwms: bool) {
    let o = vs.origin;
    if grp_fwms {
        for rs in &vs.real_servers {
            if !is_nat(rs.forwarding) && rs.port != 0 {
                let m = format!(
                    "WARNING - fwmark virtual server {}, real server {} has port specified - port will be ignored",
                    fmt_vs(vs),
                    fmt_rs(rs, vs)
                );
                err(ctx, &o, m);
            }
        }
        if vs.sorry_server.as_ref().is_some_and(|s| !is_nat(s.forwarding) && s.port != 0) {
            let m = format!(
                "WARNING - fwmark virtual server {}, sorry server has port specified - port will be ignored",
                fmt_vs(vs)
            );
            err(ctx, &o, m);
        }
    }
    for e in &g.entries {
        let VsgEntry::Range { start, end, port, .. } = e else {
            continue;
        };
        let ge = if start != end { format!("{start}-{end},{port}") } else { format!("{start},{port}") };
        for rs in &vs.real_servers {
            if !is_nat(rs.forwarding) && rs.port != 0 && *port != rs.port {
                let m = format!(
                    "virtual server {}:[{ge}] and real server {} ports don't match",
                    fmt_vs(vs),
                    fmt_rs(rs, vs)
                );
                err(ctx, &o, m);
            }
        }
        if vs.sorry_server.as_ref().is_some_and(|s| !is_nat(s.forwarding) && s.port != 0 && s.port != *port) {
            let m = format!(
                "WARNING - virtual server {}, sorry server has port specified - port will be ignored",
                fmt_vs(vs)
            );
            err(ctx, &o, m);
        }
    }
}

/// A lone virtual server: non-NAT real and sorry servers take its port
/// (none for a fwmark service); NAT ones without a port take it too.
fn service_ports(ctx: &mut Ctx, vs: &mut VirtualServer, is_fwm: bool) {
    let o = vs.origin;
    let vport = vs_port(vs);
    let name = fmt_vs(vs);
    let proto = vs.protocol;
    for rs in vs.real_servers.iter_mut() {
        // Only formatted when a message needs it (10,000 servers).
        let rs_name = || super::parse::trio(Some(&rs.addr), proto, rs.port);
        if is_nat(rs.forwarding) {
            if !is_fwm && rs.port == 0 {
                rs.port = vport;
            }
            continue;
        }
        if is_fwm {
            if rs.port != 0 {
                let m = format!(
                    "WARNING - fwmark virtual server {name}, real server {} has port specified - clearing",
                    rs_name()
                );
                err(ctx, &o, m);
                pin_checker_ports(rs);
                rs.port = 0;
            }
        } else if rs.port == 0 {
            rs.port = vport;
        } else if rs.port != vport {
            let m =
                format!("WARNING - virtual server {name} and real server {} ports don't match - resetting", rs_name());
            err(ctx, &o, m);
            pin_checker_ports(rs);
            rs.port = vport;
        }
    }
    if let Some(s) = vs.sorry_server.as_mut() {
        if !is_nat(s.forwarding) {
            if is_fwm {
                if s.port != 0 {
                    let m = format!("WARNING - virtual server {name}, sorry server has port specified - clearing");
                    err(ctx, &o, m);
                    s.port = 0;
                }
            } else if s.port == 0 {
                s.port = vport;
            } else if s.port != vport {
                let m = format!("WARNING - virtual server {name} and sorry server ports don't match - resetting");
                err(ctx, &o, m);
                s.port = vport;
            }
        }
    }
}

/// Checkers take their unset values from the real server (which took them
/// from the virtual server), then from their built-in defaults.
fn checker_defaults(vs: &mut VirtualServer) {
    let vs_delay = vs.delay_loop;
    for rs in vs.real_servers.iter_mut() {
        for c in rs.checkers.iter_mut() {
            if c.alpha.is_none() {
                c.alpha = rs.alpha;
            }
            if matches!(c.kind, CheckerKind::Bfd(_)) {
                continue;
            }
            if c.retry.is_none() {
                c.retry = Some(rs.retry.unwrap_or(c.default_retry));
            }
            if let Some(co) = c.conn.as_mut() {
                if co.connect_timeout.is_none() {
                    co.connect_timeout = rs.connect_timeout;
                }
            }
            if c.delay_loop.is_none() {
                c.delay_loop = rs.delay_loop;
            }
            let dl = c.delay_loop.unwrap_or(vs_delay);
            if c.warmup.is_none() {
                c.warmup = Some(rs.warmup.unwrap_or(dl));
            }
            if c.delay_before_retry.is_none() {
                c.delay_before_retry = Some(match rs.delay_before_retry {
                    Some(d) => d,
                    None if c.default_delay_before_retry != 0 => c.default_delay_before_retry,
                    None => dl,
                });
            }
            if let CheckerKind::Misc(m) = &mut c.kind {
                if m.timeout.unwrap_or(0) == 0 {
                    m.timeout = Some(vs_delay);
                }
            }
        }
    }
}

/// keepalived `check_check_script_security`.
fn script_security(ctx: &mut Ctx, sys: &SystemView, vss: &mut [VirtualServer]) {
    if vss.is_empty() {
        return;
    }
    let mut sflags = 0u32;
    for vs in vss.iter_mut() {
        for rs in vs.real_servers.iter_mut() {
            let mut kept = Vec::with_capacity(rs.checkers.len());
            for mut c in std::mem::take(&mut rs.checkers) {
                if let CheckerKind::Misc(m) = &mut c.kind {
                    if let Some(s) = m.script.as_mut() {
                        let f = check_script_secure(ctx, sys, s);
                        sflags |= f;
                        if sys.check_scripts {
                            let cmd = s.cmd_str();
                            let o = Some(s.origin);
                            if f & flags::INHIBIT != 0 {
                                ctx.diags.log(o, format!("Disabling misc script {cmd} due to insecure"));
                                continue;
                            } else if f & flags::NOTFOUND != 0 {
                                ctx.diags.log(o, format!("Disabling misc script {cmd} since not found/accessible"));
                                continue;
                            } else if f & (flags::EXECUTABLE | flags::SYSTEM) == 0 {
                                continue;
                            }
                        }
                    }
                }
                kept.push(c);
            }
            rs.checkers = kept;
        }
    }
    for vs in vss.iter_mut() {
        sflags |= check_notify_script_secure(ctx, sys, &mut vs.quorum_up);
        sflags |= check_notify_script_secure(ctx, sys, &mut vs.quorum_down);
        for rs in vs.real_servers.iter_mut() {
            sflags |= check_notify_script_secure(ctx, sys, &mut rs.notify_up);
            sflags |= check_notify_script_secure(ctx, sys, &mut rs.notify_down);
        }
    }
    // The global FIFO scripts run in the checker process too. Check copies:
    // the VRRP validation decides on the stored ones.
    for fifo in [ctx.cfg.global.notify_fifo.script.clone(), ctx.cfg.global.lvs_notify_fifo.script.clone()] {
        let mut fifo = fifo;
        sflags |= check_notify_script_secure(ctx, sys, &mut fifo);
    }
    report_security(ctx, sflags, "check scripts");
}

/// keepalived's checkers took the real server's address and port when they
/// were parsed (check_api.c `queue_checker`: `co->dst = rs->addr`), so a
/// port the validation clears or resets afterwards is still the one they
/// connect to (and dump): keep it as their `connect_port` unless one is set.
fn pin_checker_ports(rs: &mut RealServer) {
    let port = rs.port;
    for c in rs.checkers.iter_mut().filter(|c| !matches!(c.kind, CheckerKind::Smtp(_))) {
        if let Some(conn) = c.conn.as_mut() {
            conn.connect_port.get_or_insert(port);
        }
    }
}
