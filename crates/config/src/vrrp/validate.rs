//! End-of-configuration validation (keepalived vrrp_daemon.c start_vrrp,
//! vrrp.c vrrp_complete_init / vrrp_complete_instance / chk_min_cfg /
//! check_vrid_conflicts / sync_group_tracking_init, vrrp_sync.c
//! vrrp_sync_set_group, check_vrrp_script_security).

use super::model::*;
use crate::diag::{Origin, Severity};
use crate::engine::Ctx;
use crate::global::scripts::{check_notify_script_secure, check_script_secure, flags, report_security};
use crate::system::SystemView;
use std::net::IpAddr;

const OWNER: u8 = 255;
const TIMER_HZ: u64 = 1_000_000;
const CENTI: u64 = 10_000;

/// The `global_defs` settings VRRP validation depends on, with keepalived's
/// defaults. Integration point: fill from `ctx.cfg.global` once the global
/// area models these keywords.
#[derive(Clone, Debug)]
pub(crate) struct VrrpGlobals {
    pub vrrp_strict: bool,
    pub vrrp_version: u8,
    pub lower_prio_no_advert: bool,
    pub higher_prio_send_advert: bool,
    pub owner_ignore_adverts: bool,
    pub garp_lower_prio_rep: u32,
    pub garp_lower_prio_delay_us: u64,
    pub down_timer_adverts: u32,
    pub smtp_alert_vrrp: Option<bool>,
    pub notify_priority_changes: bool,
}

pub(crate) fn globals(ctx: &Ctx) -> VrrpGlobals {
    let g = &ctx.cfg.global;
    VrrpGlobals {
        vrrp_strict: g.vrrp_strict,
        vrrp_version: g.vrrp_version,
        lower_prio_no_advert: g.vrrp_lower_prio_no_advert,
        higher_prio_send_advert: g.vrrp_higher_prio_send_advert,
        owner_ignore_adverts: g.vrrp_owner_ignore_adverts,
        // Global validation has already copied the master values in.
        garp_lower_prio_rep: g.vrrp_garp_lower_prio_repeat.unwrap_or(5),
        garp_lower_prio_delay_us: g.vrrp_garp_lower_prio_delay.unwrap_or(5 * TIMER_HZ),
        down_timer_adverts: g.vrrp_down_timer_adverts,
        // keepalived: the instance's own, else smtp_alert_vrrp, else smtp_alert.
        smtp_alert_vrrp: g.smtp_alert_vrrp.or(g.smtp_alert),
        notify_priority_changes: g.vrrp_notify_priority_changes,
    }
}

pub fn validate(ctx: &mut Ctx, sys: &SystemView) {
    if ctx.cfg.ip.nonexistent_interface {
        crate::ipaddr::report_nonexistent_interface(ctx);
        return;
    }
    let g = globals(ctx);
    script_security(ctx, sys);

    let mut instances = std::mem::take(&mut ctx.cfg.vrrp.instances);
    let ok = run(ctx, sys, &g, &mut instances);
    ctx.cfg.vrrp.instances = instances;
    let _ = ok;
}

fn run(ctx: &mut Ctx, sys: &SystemView, g: &VrrpGlobals, instances: &mut [VrrpInstance]) -> bool {
    for v in instances.iter() {
        if !chk_min_cfg(ctx, v) {
            return false;
        }
    }
    sync_groups(ctx, instances);
    for v in instances.iter_mut() {
        let group = v.sync_group.as_ref().and_then(|n| ctx.cfg.vrrp.sync_groups.iter().find(|s| &s.name == n)).cloned();
        if !complete_instance(ctx, sys, g, v, group.as_ref()) {
            return false;
        }
    }
    if vrid_conflicts(ctx, sys, instances) {
        return false;
    }
    sync_group_tracking(ctx, instances);
    true
}

fn at(ctx: &mut Ctx, o: &Origin, msg: String) {
    ctx.report_at(Severity::GeneralError, Some(*o), msg);
}

// ---------------------------------------------------------------- scripts

fn script_security(ctx: &mut Ctx, sys: &SystemView) {
    if ctx.cfg.vrrp.instances.is_empty() {
        return;
    }
    let mut fl = 0u32;
    // Every vrrp_script is checked, tracked or not: 2.2.7 removes the
    // unused ones only after its checks (measured: an unused script alone
    // gives the SECURITY VIOLATION report).
    let mut scripts = std::mem::take(&mut ctx.cfg.vrrp.scripts);
    let mut insecure: Vec<String> = Vec::new();
    for s in scripts.iter_mut() {
        let Some(sc) = s.script.as_mut() else {
            continue;
        };
        let f = check_script_secure(ctx, sys, sc);
        fl |= f;
        if !sys.check_scripts {
            continue;
        }
        if f & flags::INHIBIT != 0 {
            ctx.report_at(
                Severity::GeneralError,
                Some(s.origin),
                format!("Disabling track script {} due to insecure", s.name),
            );
            insecure.push(s.name.clone());
        } else if f & flags::NOTFOUND != 0 {
            ctx.report_at(
                Severity::GeneralError,
                Some(s.origin),
                format!("Disabling track script {} since not found/accessible", s.name),
            );
            insecure.push(s.name.clone());
        } else if f & (flags::EXECUTABLE | flags::SYSTEM) == 0 {
            insecure.push(s.name.clone());
        }
    }
    let mut instances = std::mem::take(&mut ctx.cfg.vrrp.instances);
    for v in instances.iter_mut() {
        for s in [
            &mut v.notify_backup,
            &mut v.notify_master,
            &mut v.notify_fault,
            &mut v.notify_stop,
            &mut v.notify_deleted_script,
            &mut v.notify,
            &mut v.notify_master_rx_lower_pri,
        ] {
            fl |= check_notify_script_secure(ctx, sys, s);
        }
        v.track_scripts.retain(|t| !insecure.contains(&t.name));
    }
    let mut groups = std::mem::take(&mut ctx.cfg.vrrp.sync_groups);
    for sg in groups.iter_mut() {
        for s in
            [&mut sg.notify_backup, &mut sg.notify_master, &mut sg.notify_fault, &mut sg.notify_stop, &mut sg.notify]
        {
            fl |= check_notify_script_secure(ctx, sys, s);
        }
        sg.track_scripts.retain(|t| !insecure.contains(&t.name));
    }
    // The global FIFO scripts run in the VRRP process too.
    let mut fifo = std::mem::take(&mut ctx.cfg.global.notify_fifo.script);
    fl |= check_notify_script_secure(ctx, sys, &mut fifo);
    ctx.cfg.global.notify_fifo.script = fifo;
    let mut fifo = std::mem::take(&mut ctx.cfg.global.vrrp_notify_fifo.script);
    fl |= check_notify_script_secure(ctx, sys, &mut fifo);
    ctx.cfg.global.vrrp_notify_fifo.script = fifo;
    report_security(ctx, fl, "scripts");
    scripts.retain(|s| !insecure.contains(&s.name));
    ctx.cfg.vrrp.scripts = scripts;
    ctx.cfg.vrrp.instances = instances;
    ctx.cfg.vrrp.sync_groups = groups;
}

// ---------------------------------------------------------------- minimal config

fn chk_min_cfg(ctx: &mut Ctx, v: &VrrpInstance) -> bool {
    if v.vrid.is_none() {
        at(ctx, &v.origin, format!("({}) the virtual router id must be set", v.name));
        return false;
    }
    if v.interface.is_none() {
        if !v.unicast_configured {
            at(ctx, &v.origin, format!("({}) Unknown interface!", v.name));
            return false;
        }
        if v.use_vmac.is_some() {
            at(ctx, &v.origin, format!("({}) cannot use VMAC if no interface specified", v.name));
            return false;
        }
    }
    true
}

// ---------------------------------------------------------------- sync groups

fn sync_groups(ctx: &mut Ctx, instances: &mut [VrrpInstance]) {
    let groups = std::mem::take(&mut ctx.cfg.vrrp.sync_groups);
    let mut kept = Vec::new();
    // Name → index, so thousands of members are found without a scan each
    // (the first instance of a name wins, as a linear search would).
    let mut by_name: std::collections::HashMap<String, usize> =
        std::collections::HashMap::with_capacity(instances.len());
    for (i, v) in instances.iter().enumerate() {
        by_name.entry(v.name.clone()).or_insert(i);
    }
    for mut sg in groups {
        let Some(names) = sg.members.take() else {
            at(ctx, &sg.origin, format!("Sync group {} has no virtual router(s). removing", sg.name));
            continue;
        };
        #[derive(PartialEq)]
        enum St {
            Init,
            Master,
            Backup,
        }
        let mut st = St::Init;
        let mut members = Vec::new();
        for n in names {
            let Some(v) = by_name.get(&n).map(|&i| &mut instances[i]) else {
                at(
                    ctx,
                    &sg.origin,
                    format!("Virtual router {n} specified in sync group {} doesn't exist - ignoring", sg.name),
                );
                continue;
            };
            if v.sync_group.is_some() {
                at(
                    ctx,
                    &sg.origin,
                    format!("Virtual router {n} cannot exist in more than one sync group; ignoring {}", sg.name),
                );
                continue;
            }
            v.sync_group = Some(sg.name.clone());
            if st == St::Master && v.state == Some(State::Backup) {
                at(
                    ctx,
                    &sg.origin,
                    format!(
                        "Sync group {} has some member(s) as address owner and some not as address owner. This won't work.",
                        sg.name
                    ),
                );
            }
            if st != St::Backup {
                st = if v.state == Some(State::Master) && v.priority == Some(OWNER) { St::Master } else { St::Backup };
            }
            members.push(n);
        }
        if members.is_empty() {
            at(
                ctx,
                &sg.origin,
                format!("Sync group {}, no matching virtual router found in group declaration - removing", sg.name),
            );
            continue;
        }
        if members.len() == 1 {
            at(
                ctx,
                &sg.origin,
                format!("Sync group {} has only 1 virtual router(s) - this probably isn't what you want", sg.name),
            );
        }
        sg.members = Some(members);
        kept.push(sg);
    }
    ctx.cfg.vrrp.sync_groups = kept;
}

fn sync_group_tracking(ctx: &mut Ctx, instances: &[VrrpInstance]) {
    let mut groups = std::mem::take(&mut ctx.cfg.vrrp.sync_groups);
    for sg in groups.iter_mut() {
        let members = sg.members.as_deref().unwrap_or_default();
        let owner = instances.iter().any(|v| v.priority == Some(OWNER) && members.contains(&v.name));
        if !owner {
            continue;
        }
        let o = sg.origin;
        for t in sg.track_scripts.iter_mut().filter(|t| t.weight.weight != 0) {
            at(
                ctx,
                &o,
                format!(
                    "({}) Cannot have weighted track script '{}' with member having priority 255 - clearing weight",
                    sg.name, t.name
                ),
            );
            t.weight.weight = 0;
        }
        for t in sg.track_files.iter_mut().filter(|t| t.weight.weight != 0) {
            at(
                ctx,
                &o,
                format!(
                    "({}) Cannot have weighted track file '{}' with member having priority 255 - setting weight 0",
                    sg.name, t.name
                ),
            );
            t.weight.weight = 0;
        }
        for t in sg.track_processes.iter_mut().filter(|t| t.weight.weight != 0) {
            at(
                ctx,
                &o,
                format!(
                    "({}) Cannot have weighted track process '{}' with member having priority 255 - setting weight 0",
                    sg.name, t.name
                ),
            );
            t.weight.weight = 0;
        }
        for t in sg.track_bfds.iter_mut().filter(|t| t.weight.weight != 0) {
            at(
                ctx,
                &o,
                format!(
                    "({}) Cannot have weighted track bfd '{}' with member having priority 255 - setting weight 0",
                    sg.name, t.name
                ),
            );
            t.weight.weight = 0;
        }
        for t in sg.track_interfaces.iter_mut().filter(|t| t.weight.weight != 0) {
            at(
                ctx,
                &o,
                format!(
                    "({}) Cannot have weighted track interface '{}' with member having priority 255 - clearing weight",
                    sg.name, t.name
                ),
            );
            t.weight.weight = 0;
        }
    }
    ctx.cfg.vrrp.sync_groups = groups;
}

// ---------------------------------------------------------------- instance

fn is_link_local6(a: &IpAddr) -> bool {
    matches!(a, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80)
}

/// C's `%f`: six decimals.
fn secs6(us: u64) -> String {
    format!("{:.6}", us as f64 / TIMER_HZ as f64)
}

fn complete_instance(
    ctx: &mut Ctx,
    sys: &SystemView,
    g: &VrrpGlobals,
    v: &mut VrrpInstance,
    sg: Option<&SyncGroup>,
) -> bool {
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

    // authentication
    if let Some(t) = v.auth_type {
        if strict {
            at(ctx, &o, format!("({n}) Strict mode does not support authentication. Ignoring."));
            v.auth_type = None;
        } else if version == 3 {
            at(ctx, &o, format!("({n}) VRRP version 3 does not support authentication. Ignoring."));
            v.auth_type = None;
        } else if v.auth_pass.as_deref().unwrap_or("").is_empty() {
            at(ctx, &o, format!("({n}) Authentication specified but no password given. Ignoring"));
            v.auth_type = None;
        } else if family == Family::Inet6 && t == AuthType::Ah {
            at(ctx, &o, format!("({n}) Cannot use AH authentication with IPv6. ignoring"));
            v.auth_type = None;
        } else if t == AuthType::Ah && v.state == Some(State::Master) && prio != OWNER {
            at(ctx, &o, format!("({n}) Initial state master is incompatible with AH authentication - clearing"));
            v.state = Some(State::Backup);
        }
    }
    if let Some(mut h) = v.auth_hmac.take() {
        if v.auth_type.is_some() {
            at(ctx, &o, format!("({n}) auth_hmac cannot be combined with authentication, dropping legacy auth"));
            v.auth_type = None;
        }
        if !h.keys.iter().any(|k| k.id == h.active_key) {
            at(ctx, &o, format!("({n}) auth_hmac active_key {} is not defined, disabling extension", h.active_key));
        } else {
            if strict && h.mode != HmacMode::Enforce {
                at(ctx, &o, format!("({n}) strict mode requires auth_hmac mode enforce"));
                h.mode = HmacMode::Enforce;
            }
            if h.anti_replay_time && h.time_window == 0 {
                let w = 3 * (v.advert_int_us.unwrap_or(0) / TIMER_HZ) as u32;
                h.time_window = w.clamp(5, 300);
            }
            v.auth_hmac = Some(h);
        }
    }

    // unicast
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
    // keepalived's "Unicast peers are not supported in strict mode" needs
    // the interface's flags, which 2.2.7 has not read yet here: measured,
    // its -t and its daemon both accept strict mode with unicast peers.
    let sys_if = v.interface.as_deref().and_then(|i| sys.interface(i)).cloned();
    if v.interface.is_none() {
        let Some(src) = v.src_ip else {
            at(ctx, &o, format!("({n}): Unicast instances must have unicast_src_ip or interface"));
            return false;
        };
        if family == Family::Inet6 && is_link_local6(&src) {
            at(ctx, &o, format!("({n}) Non link-local address required if interface omitted"));
            return false;
        }
    }
    if strict {
        if let Some(vm) = v.use_vmac.as_mut().filter(|m| m.mac.is_some()) {
            at(ctx, &o, format!("({n}): cannot specify MAC address with strict mode - clearing"));
            vm.mac = None;
        }
    }
    if (v.use_vmac.is_some() || v.use_ipvlan.is_some()) && sys_if.as_ref().is_some_and(|i| i.link_type != 1) {
        v.use_vmac = None;
        v.use_ipvlan = None;
        at(ctx, &o, format!("({n}): vmacs are only supported on Ethernet type interfaces"));
    }
    if family == Family::Inet6 && !v.unicast {
        if let Some(first) = v.vips.first() {
            if !is_link_local6(&first.addr) {
                if strict {
                    at(ctx, &o, format!("({n}) the first IPv6 VIP address must be link local"));
                } else {
                    ctx.diags.log(Some(o), format!("({n}) the first IPv6 VIP address should be link local"));
                }
            }
        }
    }
    if v.vrf.is_some() && (v.interface.is_some() || !v.unicast) {
        let w = if v.interface.is_some() { "out interface" } else { " unicast" };
        at(ctx, &o, format!("({n}) vrf can only be specified with{w} - clearing"));
        v.vrf = None;
    }
    // VIPs that fit in an advert
    let (hdr, alen) = if family == Family::Inet {
        let mut h = 14 + 20 + 8;
        if version == 2 {
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
            &o,
            format!(
                "({n}) Number of VIPs ({}) exceeds maximum/space available in packet (max {max_addr} addresses) - excess moved to eVIPs",
                v.vips.len()
            ),
        );
        let extra = v.vips.split_off(max_addr);
        v.evips.extend(extra);
    }
    if prio == OWNER && v.nopreempt {
        at(ctx, &o, format!("({n}) nopreempt is incompatible with priority 255. resetting nopreempt"));
        v.nopreempt = false;
    }
    if v.state == Some(State::Master) {
        if v.nopreempt {
            at(ctx, &o, format!("({n}) Warning - nopreempt will not work with initial state MASTER - clearing"));
            v.nopreempt = false;
        }
        if v.preempt_delay_us != 0 {
            at(ctx, &o, format!("({n}) Warning - preempt delay will not work with initial state MASTER - clearing"));
            v.preempt_delay_us = 0;
        }
    }
    if v.preempt_delay_us != 0 {
        if strict {
            at(ctx, &o, format!("({n}) preempt_delay is incompatible with strict mode - resetting"));
            v.preempt_delay_us = 0;
        }
        if v.nopreempt {
            at(ctx, &o, format!("({n}) preempt_delay is incompatible with nopreempt mode - resetting"));
            v.preempt_delay_us = 0;
        }
    }
    let dta = *v.down_timer_adverts.get_or_insert(g.down_timer_adverts);
    if dta != 3 && strict {
        at(ctx, &o, format!("({n}) down_timer_adverts is incompatible with strict mode - resetting"));
        v.down_timer_adverts = Some(3);
    }
    if !v.nopreempt && v.timer_expired_backup.is_some() {
        at(ctx, &o, format!("({n}) expired_timer_backup requires nopreempt - resetting"));
        v.timer_expired_backup = None;
    }
    let mut accept = v.accept.unwrap_or(if prio == OWNER { true } else { !strict });
    if accept && prio != OWNER && strict && version == 2 {
        at(ctx, &o, format!("({n}) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting"));
        accept = false;
    }
    v.accept = Some(accept);
    if v.unicast && v.mcast_dst_ip.is_some() {
        at(ctx, &o, format!("({n}) multicast destination specified with unicast - ignoring"));
        v.mcast_dst_ip = None;
    }
    match v.garp_lower_prio_repeat {
        None => v.garp_lower_prio_repeat = Some(if strict { 0 } else { g.garp_lower_prio_rep }),
        Some(r) if strict && r != 0 => {
            at(ctx, &o, format!("({n}) Strict mode requires no repeat garps. resetting"));
            v.garp_lower_prio_repeat = Some(0);
        }
        _ => {}
    }
    match v.garp_lower_prio_delay_us {
        None => v.garp_lower_prio_delay_us = Some(if strict { 0 } else { g.garp_lower_prio_delay_us }),
        Some(d) if strict && d != 0 => {
            at(ctx, &o, format!("({n}) Strict mode requires no repeat garp delay. resetting"));
            v.garp_lower_prio_delay_us = Some(0);
        }
        _ => {}
    }
    match v.lower_prio_no_advert {
        None => v.lower_prio_no_advert = Some(strict || g.lower_prio_no_advert),
        Some(false) if strict => {
            at(ctx, &o, format!("({n}) Strict mode requires no lower priority advert. resetting"));
            v.lower_prio_no_advert = Some(true);
        }
        _ => {}
    }
    match v.higher_prio_send_advert {
        None => v.higher_prio_send_advert = Some(!strict && g.higher_prio_send_advert),
        Some(true) if strict => {
            at(ctx, &o, format!("({n}) strict mode requires higher_prio_send_advert to be clear. resetting"));
            v.higher_prio_send_advert = Some(false);
        }
        _ => {}
    }
    match v.owner_ignore_adverts {
        Some(true) if prio != OWNER => {
            at(ctx, &o, format!("({n}) ignoring owner_ignore_adverts since priority is not 255"));
            v.owner_ignore_adverts = Some(false);
        }
        None => v.owner_ignore_adverts = Some(prio == OWNER && (strict || g.owner_ignore_adverts)),
        Some(false) if prio == OWNER => {
            at(ctx, &o, format!("({n}) strict_mode with priority 255 requires owner_ignore_adverts"));
            v.owner_ignore_adverts = Some(true);
        }
        _ => {}
    }
    if v.smtp_alert.is_none() {
        v.smtp_alert = Some(g.smtp_alert_vrrp.unwrap_or(false));
    }
    if v.notify_priority_changes.is_none() {
        v.notify_priority_changes =
            Some(sg.and_then(|s| s.notify_priority_changes).unwrap_or(g.notify_priority_changes));
    }
    // advert interval
    let mut adv = v.advert_int_us.unwrap_or(TIMER_HZ);
    if version == 2 {
        if adv >= 256 * TIMER_HZ {
            at(
                ctx,
                &o,
                format!(
                    "({n}) VRRPv2 advertisement interval {:.2}s is out of range. Must be less than 256s. Setting to 255s",
                    adv as f64 / TIMER_HZ as f64
                ),
            );
            adv = 255 * TIMER_HZ;
        } else if !adv.is_multiple_of(TIMER_HZ) {
            at(ctx, &o, format!("({n}) VRRPv2 advertisement interval {}s must be an integer. rounding", secs6(adv)));
            adv += TIMER_HZ / 2;
            adv -= adv % TIMER_HZ;
            if adv == 0 {
                adv = TIMER_HZ;
            }
        }
    } else if adv >= 4096 * CENTI {
        at(
            ctx,
            &o,
            format!(
                "({n}) VRRPv3 advertisement interval {:.2}s is out of range. Must be less than 40.96s. Setting to 40.95s",
                adv as f64 / TIMER_HZ as f64
            ),
        );
        adv = 4095 * CENTI;
    } else if !adv.is_multiple_of(CENTI) {
        at(ctx, &o, format!("({n}) VRRPv3 advertisement interval {}s must be in units of 10ms - rounding", secs6(adv)));
        adv += CENTI / 2;
        adv -= adv % CENTI;
        if adv == 0 {
            adv = CENTI;
        } else if adv == 4096 * CENTI {
            adv = 4095 * CENTI;
        }
    }
    v.advert_int_us = Some(adv);
    if v.src_ip.is_none() {
        v.track_src_ip = false;
    }
    if (v.use_vmac.is_some() || v.use_ipvlan.is_some()) && v.promote_secondaries && v.interface.is_some() {
        at(ctx, &o, format!("({n}) promote_secondaries is automatically set for vmacs - ignoring"));
        v.promote_secondaries = false;
    }
    if let Some(ip) = &v.use_ipvlan {
        if family == Family::Inet && ip.addr.is_none() {
            at(
                ctx,
                &o,
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
                at(ctx, &o, format!("({n}) Ignoring track_interface {own} since own interface"));
            } else {
                kept.push(t);
            }
        }
        v.track_interfaces = kept;
    }
    if v.vmac_xmit_base && v.use_vmac.is_none() {
        at(ctx, &o, format!("({n}) vmac_xmit_base is only valid with a vmac"));
        v.vmac_xmit_base = false;
    }
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
        if version == 3 || strict {
            at(ctx, &o, format!("({n}) No VIP specified; at least one is required"));
            return false;
        }
        ctx.report_at(Severity::Warning, Some(o), format!("({n}) No VIP specified; at least one is sensible"));
    }
    // weights in sync groups / for address owners
    let sync_no_weight = sg.is_some_and(|s| !s.tracking_weight);
    if sync_no_weight || prio == OWNER {
        let why = if sync_no_weight { "SYNC group" } else { "address_owner" };
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
        let mut kept = Vec::new();
        for t in std::mem::take(&mut v.track_scripts) {
            if t.weight.weight != 0 {
                at(ctx, &t.origin, format!("({n}) ignoring tracked script {} with weights due to {why}", t.name));
                continue;
            }
            kept.push(t);
        }
        v.track_scripts = kept;
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
    true
}

// ---------------------------------------------------------------- VRID conflicts

fn vrid_conflicts(ctx: &mut Ctx, sys: &SystemView, instances: &[VrrpInstance]) -> bool {
    let mut had_error = false;
    // Only instances with the same (family, VRID, unicast) can conflict:
    // bucket them first instead of comparing every pair (1,000s of them).
    let mut buckets: std::collections::HashMap<(Option<Family>, Option<u8>, bool), Vec<usize>> =
        std::collections::HashMap::new();
    for (i, v) in instances.iter().enumerate() {
        buckets.entry((v.family, v.vrid, v.unicast)).or_default().push(i);
    }
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for idx in buckets.values().filter(|b| b.len() > 1) {
        for (k, &i) in idx.iter().enumerate() {
            for &j in &idx[k + 1..] {
                pairs.push((i, j));
            }
        }
    }
    // Report in configuration order, as the pairwise scan would.
    pairs.sort_unstable();
    for (i, j) in pairs {
        let (a, b) = (&instances[i], &instances[j]);
        {
            let vrid = a.vrid.unwrap_or(0);
            if a.unicast {
                if a.interface.is_some() && b.interface.is_some() && a.interface != b.interface {
                    continue;
                }
                let (Some(sa), Some(sb)) = (a.src_ip, b.src_ip) else {
                    continue;
                };
                if sa != sb {
                    continue;
                }
                if !a.unicast_peers.iter().any(|p| b.unicast_peers.iter().any(|q| q.addr == p.addr)) {
                    continue;
                }
                at(ctx, &a.origin, format!("({}) duplicate VRID conflict with {} VRID {vrid}", a.name, b.name));
                had_error = true;
                continue;
            }
            if a.interface != b.interface || a.mcast_dst_ip != b.mcast_dst_ip {
                continue;
            }
            let Some(ifn) = a.interface.as_deref() else {
                continue;
            };
            if sys.interface(ifn).is_none() {
                continue;
            }
            let ipv = if a.family == Some(Family::Inet6) { 6 } else { 4 };
            at(
                ctx,
                &a.origin,
                format!("{} and {} both use VRID {vrid} with IPv{ipv} on interface {ifn}", a.name, b.name),
            );
            had_error = true;
        }
    }
    had_error
}
