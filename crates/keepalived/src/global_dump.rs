//! The `------< Global definitions >------` section of the VRRP child's data
//! dump, in keepalived 2.2.7's layout (global_data.c dump_global_data, as
//! the VRRP process writes it: `Default interface` is its own line there).
//! Lines for features keepalived-rs does not build (LVS sync daemon
//! attributes, iptables, ipsets) follow the configuration model; the
//! `libnftnl version` line, a property of keepalived's build, is left out.

use keepalived_config::model::global::{GlobalDefs, LvsFlushOnStop, NotifyFifo, ProcessSettings, RootOptions};
use keepalived_runtime::script::cmd_str;
use std::fmt::Write as _;

/// What the section needs beyond the configuration.
pub struct GlobalFacts<'a> {
    pub root: &'a RootOptions,
    /// The nftables table in use (configured, or keepalived's default when
    /// VMACs or no_accept need one).
    pub nft_table: Option<String>,
    /// The default script user's ids, if there is one.
    pub script_ids: Option<(u32, u32)>,
    /// Written by the VRRP process: only there does keepalived resolve the
    /// default interface and fill the unset lower-priority GARP values
    /// (another process prints them unset, 4294967295).
    pub vrrp_process: bool,
}

fn on_off(v: Option<bool>) -> &'static str {
    match v {
        None => "unset",
        Some(true) => "on",
        Some(false) => "off",
    }
}

fn tf(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

fn en(b: bool) -> &'static str {
    if b {
        "enabled"
    } else {
        "disabled"
    }
}

/// dump_global_data.
pub fn global_data(g: &GlobalDefs, f: &GlobalFacts<'_>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "------< Global definitions >------");
    identity(&mut s, g, f);
    smtp(&mut s, g);
    reload(&mut s, g);
    interfaces(&mut s, g, f.vrrp_process);
    fifos(&mut s, g);
    vrrp_defaults(&mut s, g, f.vrrp_process);
    firewall(&mut s, g, f);
    processes(&mut s, g);
    snmp(&mut s, g, f);
    bufs(&mut s, g);
    s
}

fn identity(s: &mut String, g: &GlobalDefs, f: &GlobalFacts<'_>) {
    let ns = f.root.net_namespace.as_deref().unwrap_or("(default)");
    let _ = writeln!(s, " Network namespace = {ns}");
    let ipvs = match f.root.net_namespace_ipvs.as_deref() {
        None => "(main namespace)",
        Some("") => "(default)",
        Some(n) => n,
    };
    let _ = writeln!(s, " Network namespace ipvs = {ipvs}");
    if let Some(i) = &f.root.instance {
        let _ = writeln!(s, " Instance name = {i}");
    }
    for (what, name) in [
        ("Parent", &g.process_name),
        ("VRRP", &g.vrrp.process_name),
        ("LVS", &g.checker.process_name),
        ("BFD", &g.bfd.process_name),
    ] {
        if let Some(n) = name {
            let _ = writeln!(s, " {what} process name = {n}");
        }
    }
    if let Some(r) = &g.router_id {
        let _ = writeln!(s, " Router ID = {r}");
    }
}

fn smtp(s: &mut String, g: &GlobalDefs) {
    if let Some(srv) = &g.smtp_server {
        let _ = writeln!(s, " Smtp server = {}\n Smtp server port = {}", srv.addr.ip(), srv.addr.port());
    }
    if let Some(h) = &g.smtp_helo_name {
        let _ = writeln!(s, " Smtp HELO name = {h}");
    }
    if g.smtp_connect_timeout > 0 {
        let _ = writeln!(s, " Smtp server connection timeout = {}", g.smtp_connect_timeout / 1_000_000);
    }
    if let Some(from) = &g.notification_email_from {
        let _ = writeln!(s, " Email notification from = {from}\n Email notification to:");
        for e in &g.notification_email {
            let _ = writeln!(s, "   {e}");
        }
    }
    let _ = writeln!(s, " Default smtp_alert = {}", on_off(g.smtp_alert));
    let _ = writeln!(s, " Default smtp_alert_vrrp = {}", on_off(g.smtp_alert_vrrp));
    let _ = writeln!(s, " Default smtp_alert_checker = {}", on_off(g.smtp_alert_checker));
    let _ = writeln!(s, " Checkers log all failures = {}", tf(g.checker_log_all_failures));
}

fn reload(s: &mut String, g: &GlobalDefs) {
    match &g.reload_check_config {
        Some(l) => {
            let _ = writeln!(s, " Test config before reload, log to {l}");
        }
        None => {
            let _ = writeln!(s, " No test config before reload");
        }
    }
    if g.data_use_instance {
        let _ = writeln!(s, " Use instance name in data dumps");
    }
    for (what, sc, t, sep) in [
        ("Startup", &g.startup_script, g.startup_script_timeout, ","),
        ("Shutdown", &g.shutdown_script, g.shutdown_script_timeout, ""),
    ] {
        if let Some(sc) = sc {
            let _ = writeln!(s, " {what} script = {}, uid:gid 0:0{sep} timeout {t}", cmd_str(&sc.args));
        }
    }
}

fn interfaces(s: &mut String, g: &GlobalDefs, vrrp_process: bool) {
    let _ = writeln!(s, " Dynamic interfaces = {}", tf(g.dynamic_interfaces));
    if g.dynamic_interfaces {
        let _ = writeln!(s, " Allow interface changes = {}", tf(g.allow_if_changes));
    }
    if g.no_email_faults {
        let _ = writeln!(s, " Send emails for fault transitions = off");
    }
    if vrrp_process {
        let _ = writeln!(s, " Default interface = {}", g.default_interface.as_deref().unwrap_or("eth0"));
    }
    let _ = writeln!(s, " Disable local IGMP = {}", if g.disable_local_igmp { "yes" } else { "no" });
    let _ = writeln!(s, " LVS flush = {}", tf(g.lvs_flush));
    let flush = match g.lvs_flush_on_stop {
        LvsFlushOnStop::Full => "full",
        LvsFlushOnStop::None => "disabled",
        _ => "VS",
    };
    let _ = writeln!(s, " LVS flush on stop = {flush}");
}

fn fifo(s: &mut String, what: &str, f: &NotifyFifo) {
    let Some(name) = &f.name else { return };
    let _ = writeln!(s, " {what} = {name}, uid:gid 0:0");
    if let Some(sc) = &f.script {
        let _ = writeln!(s, " {what} script = {}, uid:gid 0:0", cmd_str(&sc.args));
    }
}

fn fifos(s: &mut String, g: &GlobalDefs) {
    fifo(s, "Global notify fifo", &g.notify_fifo);
    fifo(s, "VRRP notify fifo", &g.vrrp_notify_fifo);
    fifo(s, "LVS notify fifo", &g.lvs_notify_fifo);
    let _ = writeln!(s, " FIFO write vrrp states on reload = {}", tf(g.fifo_write_vrrp_states_on_reload));
    let _ = writeln!(s, " VRRP notify priority changes = {}", tf(g.vrrp_notify_priority_changes));
}

fn vrrp_defaults(s: &mut String, g: &GlobalDefs, vrrp_process: bool) {
    let _ = writeln!(s, " VRRP IPv4 mcast group = {}", g.vrrp_mcast_group4);
    let _ = writeln!(s, " VRRP IPv6 mcast group = {}", g.vrrp_mcast_group6);
    let _ = writeln!(s, " Gratuitous ARP delay = {}", g.vrrp_garp_master_delay / 1_000_000);
    let _ = writeln!(s, " Gratuitous ARP repeat = {}", g.vrrp_garp_master_repeat);
    let _ = writeln!(s, " Gratuitous ARP refresh timer = {}", g.vrrp_garp_master_refresh);
    let _ = writeln!(s, " Gratuitous ARP refresh repeat = {}", g.vrrp_garp_master_refresh_repeat);
    let (delay, rep) = match (vrrp_process, g.vrrp_garp_lower_prio_delay, g.vrrp_garp_lower_prio_repeat) {
        (true, d, r) => (
            (d.unwrap_or(g.vrrp_garp_master_delay) / 1_000_000).to_string(),
            r.unwrap_or(g.vrrp_garp_master_repeat).to_string(),
        ),
        // keepalived's PARAMETER_UNSET where the VRRP process's defaults are
        // not applied (the model has them applied: a value equal to the
        // default is taken as not configured).
        (false, d, r) => (
            d.filter(|d| *d != g.vrrp_garp_master_delay).map_or(u32::MAX.to_string(), |d| (d / 1_000_000).to_string()),
            r.filter(|r| *r != g.vrrp_garp_master_repeat).map_or(u32::MAX.to_string(), |r| r.to_string()),
        ),
    };
    let _ = writeln!(s, " Gratuitous ARP lower priority delay = {delay}");
    let _ = writeln!(s, " Gratuitous ARP lower priority repeat = {rep}");
    let _ = writeln!(s, " Num adverts before down = {}", g.vrrp_down_timer_adverts);
    let each = if g.vrrp_garp_extra_if_all { "i/f" } else { "VMAC" };
    let _ = writeln!(s, " Gratuitous ARP for each secondary {each} = {}s", g.vrrp_garp_extra_if);
    let _ = writeln!(s, " Send advert after receive lower priority advert = {}", tf(!g.vrrp_lower_prio_no_advert));
    let _ = writeln!(s, " Send advert after receive higher priority advert = {}", tf(g.vrrp_higher_prio_send_advert));
    let _ = writeln!(s, " Gratuitous ARP interval = {:.6}", g.vrrp_garp_interval as f64 / 1e6);
    let _ = writeln!(s, " Gratuitous NA interval = {:.6}", g.vrrp_gna_interval as f64 / 1e6);
    let _ = writeln!(s, " VRRP default protocol version = {}", g.vrrp_version);
}

fn firewall(s: &mut String, g: &GlobalDefs, f: &GlobalFacts<'_>) {
    if let Some(t) = &f.nft_table {
        let _ = writeln!(s, " nftables table name = {t}");
        let _ = writeln!(s, " nftables base chain priority = {}", g.nftables_priority);
        let dont = if g.nftables_ifindex { "" } else { "don't " };
        let _ = writeln!(s, " nftables {dont}force use ifindex for link local IPv6");
    }
    let _ = writeln!(s, " nftables with{} counters", if g.nftables_counters { "" } else { "out" });
    let _ = writeln!(s, " VRRP check unicast_src = {}", tf(g.vrrp_check_unicast_src));
    let _ = writeln!(s, " VRRP skip check advert addresses = {}", tf(g.vrrp_skip_check_adv_addr));
    let _ = writeln!(s, " VRRP strict mode = {}", tf(g.vrrp_strict));
    if g.max_auto_priority == -1 {
        let _ = writeln!(s, " Max auto priority = Disabled");
    } else {
        let _ = writeln!(s, " Max auto priority = {}", g.max_auto_priority);
    }
    let _ = writeln!(s, " Min auto priority delay = {} usecs", g.min_auto_priority_delay);
}

fn process(s: &mut String, what: &str, p: &ProcessSettings) {
    let _ = writeln!(s, " {what} process priority = {}", p.priority);
    let _ = writeln!(s, " {what} don't swap = {}", tf(p.no_swap));
    let _ = writeln!(s, " {what} realtime priority = {}", p.rt_priority.unwrap_or(0));
    if !p.cpu_affinity.is_empty() {
        let cpus: Vec<String> = p.cpu_affinity.iter().map(u32::to_string).collect();
        let _ = writeln!(s, " {what} CPU Affinity = {}", cpus.join(" "));
    }
    let _ = writeln!(s, " {what} realtime limit = {}", p.rlimit_rttime);
}

fn processes(s: &mut String, g: &GlobalDefs) {
    process(s, "VRRP", &g.vrrp);
    process(s, "Checker", &g.checker);
    process(s, "BFD", &g.bfd);
}

fn snmp(s: &mut String, g: &GlobalDefs, f: &GlobalFacts<'_>) {
    let _ = writeln!(s, " SNMP vrrp {}\n SNMP checker {}", en(g.enable_snmp_vrrp), en(g.enable_snmp_checker));
    let _ = writeln!(s, " SNMP RFCv2 {}\n SNMP RFCv3 {}", en(g.enable_snmp_rfcv2), en(g.enable_snmp_rfcv3));
    let _ = writeln!(s, " SNMP traps {}", en(g.enable_traps));
    let sock = g.snmp_socket.as_deref().unwrap_or("default (unix:/var/agentx/master)");
    let _ = writeln!(s, " SNMP socket = {sock}");
    let _ = writeln!(s, " DBus {}", en(g.enable_dbus));
    let _ = writeln!(s, " DBus service name = {}", g.dbus_service_name.as_deref().unwrap_or(""));
    let _ = writeln!(s, " Script security {}", en(g.enable_script_security));
    if let Some((u, gid)) = f.script_ids {
        let _ = writeln!(s, " Default script uid:gid {u}:{gid}");
    }
}

fn bufs(s: &mut String, g: &GlobalDefs) {
    for (k, v, force) in [
        ("vrrp_netlink_cmd_rcv_bufs", g.vrrp_netlink_cmd_rcv_bufs, g.vrrp_netlink_cmd_rcv_bufs_force),
        ("vrrp_netlink_monitor_rcv_bufs", g.vrrp_netlink_monitor_rcv_bufs, g.vrrp_netlink_monitor_rcv_bufs_force),
        ("process_monitor_rcv_bufs", g.process_monitor_rcv_bufs, g.process_monitor_rcv_bufs_force),
        ("lvs_netlink_cmd_rcv_bufs", g.lvs_netlink_cmd_rcv_bufs, g.lvs_netlink_cmd_rcv_bufs_force),
        ("lvs_netlink_monitor_rcv_bufs", g.lvs_netlink_monitor_rcv_bufs, g.lvs_netlink_monitor_rcv_bufs_force),
    ] {
        let _ = writeln!(s, " {k} = {}\n {k}_force = {}", v.unwrap_or(0), u8::from(force));
    }
    let _ = writeln!(s, " rs_init_notifies = {}", u8::from(g.rs_init_notifies));
    let _ = writeln!(s, " no_checker_emails = {}", u8::from(g.no_checker_emails));
    let _ = writeln!(s, " rx_bufs_multiples = {}", g.vrrp_rx_bufs_multiplier);
    let _ = writeln!(s, " umask = 0{:o}", g.umask.unwrap_or(0o177));
    if g.vrrp_startup_delay > 0 {
        let _ = writeln!(s, " vrrp_startup_delay = {}", g.vrrp_startup_delay as f64 / 1e6);
    }
    if g.log_unknown_vrids {
        let _ = writeln!(s, " log_unknown_vrids");
    }
    // Validation fills in keepalived's defaults ("vrrp", then vmac_prefix),
    // which keepalived itself keeps unset: those are not printed.
    let prefix = g.vmac_prefix.as_deref().filter(|p| *p != "vrrp");
    if let Some(p) = prefix {
        let _ = writeln!(s, " VMAC prefix = {p}");
    }
    if let Some(p) = g.vmac_addr_prefix.as_deref().filter(|p| Some(*p) != prefix && *p != "vrrp") {
        let _ = writeln!(s, " VMAC address prefix = {p}");
    }
}
