//! End-of-configuration validation (keepalived vrrp_daemon.c start_vrrp,
//! vrrp.c vrrp_complete_init / vrrp_complete_instance / chk_min_cfg /
//! check_vrid_conflicts / sync_group_tracking_init, vrrp_sync.c
//! vrrp_sync_set_group, check_vrrp_script_security).

use super::model::*;
use crate::diag::{Origin, Severity};
use crate::engine::Ctx;
use crate::global::scripts::{check_notify_script_secure, check_script_secure, flags, report_security};
use crate::system::SystemView;

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
    // Each instance's group by name, without a scan and a clone each (no
    // instance completion looks at the groups in `ctx`).
    let groups = std::mem::take(&mut ctx.cfg.vrrp.sync_groups);
    let mut by_name: std::collections::HashMap<&str, &SyncGroup> = std::collections::HashMap::new();
    for sg in groups.iter().rev() {
        // The first group of a name wins, as `find` did.
        by_name.insert(sg.name.as_str(), sg);
    }
    let mut ok = true;
    for v in instances.iter_mut() {
        let group = v.sync_group.as_deref().and_then(|n| by_name.get(n).copied());
        if !complete_instance(ctx, sys, g, v, group) {
            ok = false;
            break;
        }
    }
    drop(by_name);
    ctx.cfg.vrrp.sync_groups = groups;
    if !ok {
        return false;
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
        let (o, group) = (sg.origin, sg.name.as_str());
        // keepalived's texts: "clearing weight" for scripts and interfaces, "setting weight 0" else.
        let refs = [
            ("script", "clearing weight", &mut sg.track_scripts),
            ("file", "setting weight 0", &mut sg.track_files),
            ("process", "setting weight 0", &mut sg.track_processes),
            ("bfd", "setting weight 0", &mut sg.track_bfds),
        ];
        for (kind, action, list) in refs {
            let weights = list.iter_mut().map(|t| (t.name.as_str(), &mut t.weight));
            clear_owner_weights(ctx, &o, group, (kind, action), weights);
        }
        let weights = sg.track_interfaces.iter_mut().map(|t| (t.name.as_str(), &mut t.weight));
        clear_owner_weights(ctx, &o, group, ("interface", "clearing weight"), weights);
    }
    ctx.cfg.vrrp.sync_groups = groups;
}

/// A sync group with a priority-255 member cannot track with a weight: each weighted tracker
/// of one kind is reported and its weight cleared.
fn clear_owner_weights<'a>(
    ctx: &mut Ctx,
    o: &Origin,
    group: &str,
    (kind, action): (&str, &str),
    trackers: impl Iterator<Item = (&'a str, &'a mut crate::model::Weight)>,
) {
    for (name, weight) in trackers.filter(|(_, w)| w.weight != 0) {
        let msg =
            format!("({group}) Cannot have weighted track {kind} '{name}' with member having priority 255 - {action}");
        at(ctx, o, msg);
        weight.weight = 0;
    }
}

// ---------------------------------------------------------------- instance

mod instance;
use instance::complete_instance;

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
