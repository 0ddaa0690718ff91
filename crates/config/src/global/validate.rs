//! End-of-configuration validation of the global settings (keepalived
//! core/global_data.c `init_global_data`, the global part of
//! vrrp.c `vrrp_complete_init`, and main.c's start/shutdown script check).

use super::model::ReloadFile;
use super::scripts::{check_start_stop_script_secure, report_security};
use crate::engine::Ctx;
use crate::numbers::TIMER_HZ;
use crate::system::SystemView;

/// keepalived's name when the host name cannot be found.
const UNKNOWN_NAME: &str = "[unknown]";

pub fn validate(ctx: &mut Ctx, sys: &SystemView) {
    derived_defaults(ctx, sys);
    fifo_conflicts(ctx);
    firewall(ctx);
    start_stop_scripts(ctx, sys);
}

/// `init_global_data`: router_id, SMTP defaults, reload file, and the
/// VRRP/SNMP defaults that depend on other settings.
fn derived_defaults(ctx: &mut Ctx, sys: &SystemView) {
    let local_name = if sys.hostname.is_empty() { UNKNOWN_NAME.to_string() } else { sys.hostname.clone() };
    let root_instance = ctx.cfg.root.instance.clone();
    let use_pid_dir = ctx.cfg.root.use_pid_dir;
    let gd = &mut ctx.cfg.global;

    if gd.reload_file == Some(ReloadFile::Default) {
        let path = match &root_instance {
            Some(i) => format!("/run/keepalived/keepalived_{i}.reload"),
            None if use_pid_dir => "/run/keepalived/keepalived.reload".to_string(),
            None => "/run/keepalived.reload".to_string(),
        };
        gd.reload_file = Some(ReloadFile::Path(path));
    }

    if gd.router_id.is_none() {
        gd.router_id = Some(local_name.clone());
    }

    if gd.smtp_server.is_some() {
        if gd.smtp_connect_timeout == 0 {
            gd.smtp_connect_timeout = 30 * TIMER_HZ;
        }
        if local_name != UNKNOWN_NAME {
            if gd.notification_email_from.is_none() {
                if let Ok(Some(user)) = nix::unistd::User::from_uid(nix::unistd::getuid()) {
                    gd.notification_email_from = Some(format!("{}@{}", user.name, local_name));
                }
            }
            if gd.smtp_helo_name.is_none() {
                gd.smtp_helo_name = Some(local_name.clone());
            }
        }
    }

    if gd.snmp_rs_stats_update_interval == 0 {
        gd.snmp_rs_stats_update_interval = gd.snmp_vs_stats_update_interval;
    }

    // vrrp_complete_init: lower-priority GARPs default to the master ones.
    if gd.vrrp_garp_lower_prio_repeat.is_none() {
        gd.vrrp_garp_lower_prio_repeat = Some(gd.vrrp_garp_master_repeat);
    }
    if gd.vrrp_garp_lower_prio_delay.is_none() {
        gd.vrrp_garp_lower_prio_delay = Some(gd.vrrp_garp_master_delay);
    }

    // VMAC name prefixes (vrrp.c: vmac_addr_prefix, else vmac_prefix, else "vrrp").
    if gd.vmac_prefix.is_none() {
        gd.vmac_prefix = Some("vrrp".to_string());
    }
    if gd.vmac_addr_prefix.is_none() {
        gd.vmac_addr_prefix = gd.vmac_prefix.clone();
    }
}

/// The notify FIFOs: a FIFO shared with the global one is ignored, and a
/// FIFO shared by LVS and VRRP keeps only the VRRP script. The FIFO name
/// is then appended to each FIFO script's arguments.
fn fifo_conflicts(ctx: &mut Ctx) {
    let gname = ctx.cfg.global.notify_fifo.name.clone();
    if ctx.active.vrrp {
        let vname = ctx.cfg.global.vrrp_notify_fifo.name.clone();
        if let (Some(g), Some(v)) = (&gname, &vname) {
            if g == v {
                let o = ctx.cfg.global.vrrp_notify_fifo.origin;
                ctx.diags.log(
                    o,
                    format!("notify FIFO {v} has been specified for global and vrrp FIFO - ignoring vrrp FIFO"),
                );
                ctx.cfg.global.vrrp_notify_fifo.name = None;
                ctx.cfg.global.vrrp_notify_fifo.script = None;
            }
        }
    }
    if ctx.active.check {
        let lname = ctx.cfg.global.lvs_notify_fifo.name.clone();
        if let (Some(g), Some(l)) = (&gname, &lname) {
            if g == l {
                let o = ctx.cfg.global.lvs_notify_fifo.origin;
                ctx.diags
                    .log(o, format!("notify FIFO {l} has been specified for global and LVS FIFO - ignoring LVS FIFO"));
                ctx.cfg.global.lvs_notify_fifo.name = None;
                ctx.cfg.global.lvs_notify_fifo.script = None;
            }
        }
        let gd = &ctx.cfg.global;
        if let (Some(l), Some(v)) = (&gd.lvs_notify_fifo.name, &gd.vrrp_notify_fifo.name) {
            if l == v && gd.lvs_notify_fifo.script.is_some() && gd.vrrp_notify_fifo.script.is_some() {
                let o = gd.lvs_notify_fifo.origin;
                ctx.diags
                    .log(o, "LVS notify FIFO and vrrp FIFO are the same both with scripts - ignoring LVS FIFO script");
                ctx.cfg.global.lvs_notify_fifo.script = None;
            }
        }
    }
    let gd = &mut ctx.cfg.global;
    for fifo in [&mut gd.notify_fifo, &mut gd.vrrp_notify_fifo, &mut gd.lvs_notify_fifo] {
        if let (Some(name), Some(script)) = (&fifo.name, &mut fifo.script) {
            script.args.push(name.clone());
        }
    }
}

/// vrrp_complete_init: ipsets without iptables. Debian's 2.2.7 has no
/// iptables (`vrrp_iptables` selects nftables while parsing), so no chain is
/// ever set and its "Both iptables and nftables" branch cannot run.
fn firewall(ctx: &mut Ctx) {
    if ctx.active.vrrp && matches!(ctx.cfg.global.vrrp_ipsets, Some(Some(_))) {
        ctx.diags.log(None, "vrrp_ipsets has been specified but not vrrp_iptables - vrrp_ipsets will be ignored");
        ctx.cfg.global.vrrp_ipsets = Some(None);
    }
}

/// main.c: the parent checks the startup and shutdown scripts.
fn start_stop_scripts(ctx: &mut Ctx, sys: &SystemView) {
    let gd = &ctx.cfg.global;
    if gd.startup_script.is_none() && gd.shutdown_script.is_none() {
        return;
    }
    let mut flags = 0;
    let mut s = ctx.cfg.global.startup_script.take();
    flags |= check_start_stop_script_secure(ctx, sys, &mut s);
    ctx.cfg.global.startup_script = s;
    let mut s = ctx.cfg.global.shutdown_script.take();
    flags |= check_start_stop_script_secure(ctx, sys, &mut s);
    ctx.cfg.global.shutdown_script = s;
    report_security(ctx, flags, "start/shutdown scripts");
}
