//! One instance's completion (keepalived vrrp.c vrrp_complete_instance):
//! defaults filled in, incompatible settings reported and reset. The steps
//! run in keepalived's order, which is the order of its messages (`-t`
//! output is compared byte for byte with 2.2.7's).

use super::{at, VrrpGlobals, CENTI, OWNER, TIMER_HZ};
use crate::diag::{Origin, Severity};
use crate::engine::Ctx;
use crate::system::SystemView;
use crate::vrrp::model::*;
use std::net::IpAddr;

fn is_link_local6(a: &IpAddr) -> bool {
    matches!(a, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80)
}

/// C's `%f`: six decimals.
fn secs6(us: u64) -> String {
    format!("{:.6}", us as f64 / TIMER_HZ as f64)
}

/// What the later steps read: the instance's name and origin for their
/// messages, and the settings the first step resolves.
struct Basics {
    n: String,
    o: Origin,
    strict: bool,
    family: Family,
    version: u8,
    prio: u8,
}

/// False when the instance cannot be used (keepalived stops there).
pub(super) fn complete_instance(
    ctx: &mut Ctx,
    sys: &SystemView,
    g: &VrrpGlobals,
    v: &mut VrrpInstance,
    sg: Option<&SyncGroup>,
) -> bool {
    let b = basics(ctx, g, v);
    authentication(ctx, &b, v);
    unicast(ctx, &b, v);
    if !addressing(ctx, sys, &b, v) {
        return false;
    }
    vips_fit_advert(ctx, &b, v);
    preemption(ctx, g, &b, v);
    accept_mode(ctx, &b, v);
    lower_priority_adverts(ctx, g, &b, v);
    notifications(g, sg, v);
    advert_interval(ctx, &b, v);
    interface_options(ctx, &b, v);
    if !virtual_addresses(ctx, &b, v) {
        return false;
    }
    weights(ctx, &b, v, sg);
    true
}

/// Strict mode, family, version, unicast TTL, priority and initial state.
fn basics(ctx: &mut Ctx, g: &VrrpGlobals, v: &mut VrrpInstance) -> Basics {
    let n = v.name.clone();
    let o = v.origin;
    let strict = v.strict_mode.unwrap_or(g.vrrp_strict);
    v.strict_mode = Some(strict);

    if v.family == Some(Family::Inet6) {
        if v.version == Some(2) && strict {
            at(ctx, &o, format!("({n}) cannot use IPv6 with VRRP version 2; setting version 3"));
            v.version = Some(3);
        } else if v.version.is_none() {
            v.version = Some(3);
        }
    }
    let family = *v.family.get_or_insert(Family::Inet);
    let version = *v.version.get_or_insert(if family == Family::Inet6 { 3 } else { g.vrrp_version });
    if family == Family::Inet && v.unicast_ttl.is_none() {
        v.unicast_ttl = Some(255);
    }
    let prio = *v.priority.get_or_insert(if v.state == Some(State::Master) { OWNER } else { 100 });
    let derived = if prio == OWNER { State::Master } else { State::Backup };
    match v.state {
        None => v.state = Some(derived),
        Some(s) if strict && (s == State::Master) != (prio == OWNER) => {
            at(ctx, &o, format!("({n}) State MASTER must match being address owner"));
            v.state = Some(derived);
        }
        _ => {}
    }
    Basics { n, o, strict, family, version, prio }
}

/// `authentication` and `auth_hmac`.
fn authentication(ctx: &mut Ctx, b: &Basics, v: &mut VrrpInstance) {
    let (n, o, strict, family, version, prio) = (&b.n, &b.o, b.strict, b.family, b.version, b.prio);
    if let Some(t) = v.auth_type {
        if strict {
            at(ctx, o, format!("({n}) Strict mode does not support authentication. Ignoring."));
            v.auth_type = None;
        } else if version == 3 {
            at(ctx, o, format!("({n}) VRRP version 3 does not support authentication. Ignoring."));
            v.auth_type = None;
        } else if v.auth_pass.as_deref().unwrap_or("").is_empty() {
            at(ctx, o, format!("({n}) Authentication specified but no password given. Ignoring"));
            v.auth_type = None;
        } else if family == Family::Inet6 && t == AuthType::Ah {
            at(ctx, o, format!("({n}) Cannot use AH authentication with IPv6. ignoring"));
            v.auth_type = None;
        } else if t == AuthType::Ah && v.state == Some(State::Master) && prio != OWNER {
            at(ctx, o, format!("({n}) Initial state master is incompatible with AH authentication - clearing"));
            v.state = Some(State::Backup);
        }
    }
    if let Some(mut h) = v.auth_hmac.take() {
        if v.auth_type.is_some() {
            at(ctx, o, format!("({n}) auth_hmac cannot be combined with authentication, dropping legacy auth"));
            v.auth_type = None;
        }
        if !h.keys.iter().any(|k| k.id == h.active_key) {
            at(ctx, o, format!("({n}) auth_hmac active_key {} is not defined, disabling extension", h.active_key));
        } else {
            if strict && h.mode != HmacMode::Enforce {
                at(ctx, o, format!("({n}) strict mode requires auth_hmac mode enforce"));
                h.mode = HmacMode::Enforce;
            }
            if h.anti_replay_time && h.time_window == 0 {
                let w = 3 * (v.advert_int_us.unwrap_or(0) / TIMER_HZ) as u32;
                h.time_window = w.clamp(5, 300);
            }
            v.auth_hmac = Some(h);
        }
    }
}

/// A unicast keyword: unicast with peers, else fault or multicast.
fn unicast(ctx: &mut Ctx, b: &Basics, v: &mut VrrpInstance) {
    let (n, o) = (&b.n, b.o);
    if v.unicast_configured {
        if !v.unicast_peers.is_empty() {
            v.unicast = true;
        } else if v.unicast_fault_no_peer {
            ctx.diags.log(Some(o), format!("({n}) Cannot use unicast without any peers - going to fault state"));
        } else {
            ctx.report_at(
                Severity::Deprecated,
                Some(o),
                format!(
                    "({n}) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration."
                ),
            );
        }
    }
}

/// Where the instance lives: interface or source address, VMAC, the
/// first IPv6 VIP, VRF. False when it has neither interface nor a usable
/// source.
fn addressing(ctx: &mut Ctx, sys: &SystemView, b: &Basics, v: &mut VrrpInstance) -> bool {
    let (n, o, strict, family) = (&b.n, &b.o, b.strict, b.family);
    // keepalived's "Unicast peers are not supported in strict mode" needs
    // the interface's flags, which 2.2.7 has not read yet here: measured,
    // its -t and its daemon both accept strict mode with unicast peers.
    let sys_if = v.interface.as_deref().and_then(|i| sys.interface(i)).cloned();
    if v.interface.is_none() {
        let Some(src) = v.src_ip else {
            at(ctx, o, format!("({n}): Unicast instances must have unicast_src_ip or interface"));
            return false;
        };
        if family == Family::Inet6 && is_link_local6(&src) {
            at(ctx, o, format!("({n}) Non link-local address required if interface omitted"));
            return false;
        }
    }
    if strict {
        if let Some(vm) = v.use_vmac.as_mut().filter(|m| m.mac.is_some()) {
            at(ctx, o, format!("({n}): cannot specify MAC address with strict mode - clearing"));
            vm.mac = None;
        }
    }
    if (v.use_vmac.is_some() || v.use_ipvlan.is_some()) && sys_if.as_ref().is_some_and(|i| i.link_type != 1) {
        v.use_vmac = None;
        v.use_ipvlan = None;
        at(ctx, o, format!("({n}): vmacs are only supported on Ethernet type interfaces"));
    }
    if family == Family::Inet6 && !v.unicast {
        if let Some(first) = v.vips.first() {
            if !is_link_local6(&first.addr) {
                if strict {
                    at(ctx, o, format!("({n}) the first IPv6 VIP address must be link local"));
                } else {
                    ctx.diags.log(Some(*o), format!("({n}) the first IPv6 VIP address should be link local"));
                }
            }
        }
    }
    if v.vrf.is_some() && (v.interface.is_some() || !v.unicast) {
        let w = if v.interface.is_some() { "out interface" } else { " unicast" };
        at(ctx, o, format!("({n}) vrf can only be specified with{w} - clearing"));
        v.vrf = None;
    }
    true
}

/// VIPs that do not fit in an advert become eVIPs.
fn vips_fit_advert(ctx: &mut Ctx, b: &Basics, v: &mut VrrpInstance) {
    let (hdr, alen) = if b.family == Family::Inet {
        let mut h = 14 + 20 + 8;
        if b.version == 2 {
            h += 8;
            if v.auth_type == Some(AuthType::Ah) {
                h += 24;
            }
        }
        (h, 4)
    } else {
        (14 + 40 + 8, 16)
    };
    let max_addr = ((1500 - hdr) / alen).min(255);
    if v.vips.len() > max_addr {
        at(
            ctx,
            &b.o,
            format!(
                "({}) Number of VIPs ({}) exceeds maximum/space available in packet (max {max_addr} addresses) - excess moved to eVIPs",
                b.n,
                v.vips.len()
            ),
        );
        let extra = v.vips.split_off(max_addr);
        v.evips.extend(extra);
    }
}

/// `nopreempt`, `preempt_delay`, `down_timer_adverts` and
/// `expired_timer_backup` against the owner, the initial state and strict
/// mode.
fn preemption(ctx: &mut Ctx, g: &VrrpGlobals, b: &Basics, v: &mut VrrpInstance) {
    let (n, o, strict, prio) = (&b.n, &b.o, b.strict, b.prio);
    if prio == OWNER && v.nopreempt {
        at(ctx, o, format!("({n}) nopreempt is incompatible with priority 255. resetting nopreempt"));
        v.nopreempt = false;
    }
    if v.state == Some(State::Master) {
        if v.nopreempt {
            at(ctx, o, format!("({n}) Warning - nopreempt will not work with initial state MASTER - clearing"));
            v.nopreempt = false;
        }
        if v.preempt_delay_us != 0 {
            at(ctx, o, format!("({n}) Warning - preempt delay will not work with initial state MASTER - clearing"));
            v.preempt_delay_us = 0;
        }
    }
    if v.preempt_delay_us != 0 {
        if strict {
            at(ctx, o, format!("({n}) preempt_delay is incompatible with strict mode - resetting"));
            v.preempt_delay_us = 0;
        }
        if v.nopreempt {
            at(ctx, o, format!("({n}) preempt_delay is incompatible with nopreempt mode - resetting"));
            v.preempt_delay_us = 0;
        }
    }
    let dta = *v.down_timer_adverts.get_or_insert(g.down_timer_adverts);
    if dta != 3 && strict {
        at(ctx, o, format!("({n}) down_timer_adverts is incompatible with strict mode - resetting"));
        v.down_timer_adverts = Some(3);
    }
    if !v.nopreempt && v.timer_expired_backup.is_some() {
        at(ctx, o, format!("({n}) expired_timer_backup requires nopreempt - resetting"));
        v.timer_expired_backup = None;
    }
}

/// Accept mode (RFC 3768 has none) and a multicast group with unicast.
fn accept_mode(ctx: &mut Ctx, b: &Basics, v: &mut VrrpInstance) {
    let (n, o, strict, prio) = (&b.n, &b.o, b.strict, b.prio);
    let mut accept = v.accept.unwrap_or(if prio == OWNER { true } else { !strict });
    if accept && prio != OWNER && strict && b.version == 2 {
        at(ctx, o, format!("({n}) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting"));
        accept = false;
    }
    v.accept = Some(accept);
    if v.unicast && v.mcast_dst_ip.is_some() {
        at(ctx, o, format!("({n}) multicast destination specified with unicast - ignoring"));
        v.mcast_dst_ip = None;
    }
}

/// GARPs and adverts towards lower and higher priorities, and the owner
/// ignoring adverts: global defaults, strict mode's requirements.
fn lower_priority_adverts(ctx: &mut Ctx, g: &VrrpGlobals, b: &Basics, v: &mut VrrpInstance) {
    let (n, o, strict, prio) = (&b.n, &b.o, b.strict, b.prio);
    match v.garp_lower_prio_repeat {
        None => v.garp_lower_prio_repeat = Some(if strict { 0 } else { g.garp_lower_prio_rep }),
        Some(r) if strict && r != 0 => {
            at(ctx, o, format!("({n}) Strict mode requires no repeat garps. resetting"));
            v.garp_lower_prio_repeat = Some(0);
        }
        _ => {}
    }
    match v.garp_lower_prio_delay_us {
        None => v.garp_lower_prio_delay_us = Some(if strict { 0 } else { g.garp_lower_prio_delay_us }),
        Some(d) if strict && d != 0 => {
            at(ctx, o, format!("({n}) Strict mode requires no repeat garp delay. resetting"));
            v.garp_lower_prio_delay_us = Some(0);
        }
        _ => {}
    }
    match v.lower_prio_no_advert {
        None => v.lower_prio_no_advert = Some(strict || g.lower_prio_no_advert),
        Some(false) if strict => {
            at(ctx, o, format!("({n}) Strict mode requires no lower priority advert. resetting"));
            v.lower_prio_no_advert = Some(true);
        }
        _ => {}
    }
    match v.higher_prio_send_advert {
        None => v.higher_prio_send_advert = Some(!strict && g.higher_prio_send_advert),
        Some(true) if strict => {
            at(ctx, o, format!("({n}) strict mode requires higher_prio_send_advert to be clear. resetting"));
            v.higher_prio_send_advert = Some(false);
        }
        _ => {}
    }
    match v.owner_ignore_adverts {
        Some(true) if prio != OWNER => {
            at(ctx, o, format!("({n}) ignoring owner_ignore_adverts since priority is not 255"));
            v.owner_ignore_adverts = Some(false);
        }
        None => v.owner_ignore_adverts = Some(prio == OWNER && (strict || g.owner_ignore_adverts)),
        Some(false) if prio == OWNER => {
            at(ctx, o, format!("({n}) strict_mode with priority 255 requires owner_ignore_adverts"));
            v.owner_ignore_adverts = Some(true);
        }
        _ => {}
    }
}

/// `smtp_alert` and `notify_priority_changes` defaults (the sync group's,
/// then the global ones).
fn notifications(g: &VrrpGlobals, sg: Option<&SyncGroup>, v: &mut VrrpInstance) {
    if v.smtp_alert.is_none() {
        v.smtp_alert = Some(g.smtp_alert_vrrp.unwrap_or(false));
    }
    if v.notify_priority_changes.is_none() {
        v.notify_priority_changes =
            Some(sg.and_then(|s| s.notify_priority_changes).unwrap_or(g.notify_priority_changes));
    }
}

/// The advert interval in range and in the version's units (seconds for
/// v2, centiseconds for v3), rounded as keepalived rounds.
fn advert_interval(ctx: &mut Ctx, b: &Basics, v: &mut VrrpInstance) {
    let (n, o) = (&b.n, &b.o);
    let mut adv = v.advert_int_us.unwrap_or(TIMER_HZ);
    if b.version == 2 {
        if adv >= 256 * TIMER_HZ {
            at(
                ctx,
                o,
                format!(
                    "({n}) VRRPv2 advertisement interval {:.2}s is out of range. Must be less than 256s. Setting to 255s",
                    adv as f64 / TIMER_HZ as f64
                ),
            );
            adv = 255 * TIMER_HZ;
        } else if !adv.is_multiple_of(TIMER_HZ) {
            at(ctx, o, format!("({n}) VRRPv2 advertisement interval {}s must be an integer. rounding", secs6(adv)));
            adv += TIMER_HZ / 2;
            adv -= adv % TIMER_HZ;
            if adv == 0 {
                adv = TIMER_HZ;
            }
        }
    } else if adv >= 4096 * CENTI {
        at(
            ctx,
            o,
            format!(
                "({n}) VRRPv3 advertisement interval {:.2}s is out of range. Must be less than 40.96s. Setting to 40.95s",
                adv as f64 / TIMER_HZ as f64
            ),
        );
        adv = 4095 * CENTI;
    } else if !adv.is_multiple_of(CENTI) {
        at(ctx, o, format!("({n}) VRRPv3 advertisement interval {}s must be in units of 10ms - rounding", secs6(adv)));
        adv += CENTI / 2;
        adv -= adv % CENTI;
        if adv == 0 {
            adv = CENTI;
        } else if adv == 4096 * CENTI {
            adv = 4095 * CENTI;
        }
    }
    v.advert_int_us = Some(adv);
}

/// Settings that depend on the interface, the VMAC or the source address:
/// `track_src_ip`, `promote_secondaries`, ipvlan's address, tracking the
/// own interface, `vmac_xmit_base`.
fn interface_options(ctx: &mut Ctx, b: &Basics, v: &mut VrrpInstance) {
    let (n, o) = (&b.n, &b.o);
    if v.src_ip.is_none() {
        v.track_src_ip = false;
    }
    if (v.use_vmac.is_some() || v.use_ipvlan.is_some()) && v.promote_secondaries && v.interface.is_some() {
        at(ctx, o, format!("({n}) promote_secondaries is automatically set for vmacs - ignoring"));
        v.promote_secondaries = false;
    }
    if let Some(ip) = &v.use_ipvlan {
        if b.family == Family::Inet && ip.addr.is_none() {
            at(
                ctx,
                o,
                format!(
                    "({n}) IPv4 ipvlan requires a source ip address to be configured. setting instance to fault state"
                ),
            );
        }
    }
    if let Some(own) = v.interface.clone() {
        let mut kept = Vec::new();
        for t in std::mem::take(&mut v.track_interfaces) {
            if t.name == own {
                at(ctx, o, format!("({n}) Ignoring track_interface {own} since own interface"));
            } else {
                kept.push(t);
            }
        }
        v.track_interfaces = kept;
    }
    if v.vmac_xmit_base && v.use_vmac.is_none() {
        at(ctx, o, format!("({n}) vmac_xmit_base is only valid with a vmac"));
        v.vmac_xmit_base = false;
    }
}

/// (e)VIPs without an interface to go on are removed; an instance needs a
/// VIP unless `no_virtual_ipaddress` (false: v3 or strict without one).
fn virtual_addresses(ctx: &mut Ctx, b: &Basics, v: &mut VrrpInstance) -> bool {
    let (n, o, strict) = (&b.n, b.o, b.strict);
    if v.interface.is_none() {
        for excl in [false, true] {
            let list = if excl { std::mem::take(&mut v.evips) } else { std::mem::take(&mut v.vips) };
            let mut kept = Vec::new();
            for a in list {
                if a.dev.is_none() {
                    let e = if excl { "e" } else { "" };
                    at(ctx, &o, format!("({n}): no interface for {e}vip {} - removing", a.addr));
                } else {
                    kept.push(a);
                }
            }
            if excl {
                v.evips = kept;
            } else {
                v.vips = kept;
            }
        }
    }
    if v.no_virtual_ipaddress && strict {
        ctx.report_at(
            Severity::Warning,
            Some(o),
            format!("({n}) no_virtual_ipaddress and strict mode incompatible, clearing no_virtual_ipaddress"),
        );
        v.no_virtual_ipaddress = false;
    }
    if !v.no_virtual_ipaddress && v.vips.is_empty() {
        if b.version == 3 || strict {
            at(ctx, &o, format!("({n}) No VIP specified; at least one is required"));
            return false;
        }
        ctx.report_at(Severity::Warning, Some(o), format!("({n}) No VIP specified; at least one is sensible"));
    }
    true
}

/// Tracking weights are ignored in a sync group without `track_weight`
/// and for an address owner (whose priority cannot change).
fn weights(ctx: &mut Ctx, b: &Basics, v: &mut VrrpInstance, sg: Option<&SyncGroup>) {
    let sync_no_weight = sg.is_some_and(|s| !s.tracking_weight);
    if !(sync_no_weight || b.prio == OWNER) {
        return;
    }
    let why = if sync_no_weight { "SYNC group" } else { "address_owner" };
    tracked_interface_weights(ctx, &b.n, v, sync_no_weight);
    tracked_script_weights(ctx, &b.n, v, why);
    tracked_file_weights(ctx, &b.n, v, why);
    tracked_bfd_weights(ctx, &b.n, v, why);
}

/// Sync group: weights zeroed; address owner: weighted interfaces dropped.
fn tracked_interface_weights(ctx: &mut Ctx, n: &str, v: &mut VrrpInstance, sync_no_weight: bool) {
    let mut kept = Vec::new();
    for mut t in std::mem::take(&mut v.track_interfaces) {
        if t.weight.weight != 0 {
            let (w, r) = if sync_no_weight { ("weight ", "SYNC group") } else { ("", "address owner") };
            at(ctx, &t.origin, format!("({n}) ignoring {} tracked interface {w}due to {r}", t.name));
            if !sync_no_weight {
                continue;
            }
            t.weight.weight = 0;
        }
        kept.push(t);
    }
    v.track_interfaces = kept;
}

fn tracked_script_weights(ctx: &mut Ctx, n: &str, v: &mut VrrpInstance, why: &str) {
    let mut kept = Vec::new();
    for t in std::mem::take(&mut v.track_scripts) {
        if t.weight.weight != 0 {
            at(ctx, &t.origin, format!("({n}) ignoring tracked script {} with weights due to {why}", t.name));
            continue;
        }
        kept.push(t);
    }
    v.track_scripts = kept;
}

/// Weight 1 (the default) is zeroed, other weights drop the file.
fn tracked_file_weights(ctx: &mut Ctx, n: &str, v: &mut VrrpInstance, why: &str) {
    let mut kept = Vec::new();
    for mut t in std::mem::take(&mut v.track_files) {
        if t.weight.weight == 1 {
            at(
                ctx,
                &t.origin,
                format!("({n}) ignoring weight from tracked file {} due to {why}. specify weight 0", t.name),
            );
            t.weight.weight = 0;
        } else if t.weight.weight != 0 {
            at(
                ctx,
                &t.origin,
                format!("({n}) ignoring tracked file {} with weight {} due to {why}", t.name, t.weight.weight),
            );
            continue;
        }
        kept.push(t);
    }
    v.track_files = kept;
}

fn tracked_bfd_weights(ctx: &mut Ctx, n: &str, v: &mut VrrpInstance, why: &str) {
    let mut kept = Vec::new();
    for t in std::mem::take(&mut v.track_bfds) {
        if t.weight.weight != 0 {
            at(
                ctx,
                &t.origin,
                format!("({n}) ignoring tracked bfd {} with weight {} due to {why}", t.name, t.weight.weight),
            );
            continue;
        }
        kept.push(t);
    }
    v.track_bfds = kept;
}
