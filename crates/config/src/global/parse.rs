//! Keyword handlers for the root-level options and `global_defs`
//! (keepalived core/global_parser.c `init_global_keywords`).

use super::model::*;
use super::scripts;
use crate::diag::Severity;
use crate::engine::{Args, Block, Ctx, Enter, Kw, KwIndexCell, Res};
use crate::numbers::{check_true_false, TIMER_HZ};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

const UINT_MAX: u32 = u32::MAX;
/// sched_get_priority_min/max(SCHED_RR) on Linux.
const SCHED_RR_MIN: i32 = 1;
const SCHED_RR_MAX: i32 = 99;
/// TASK_COMM_LEN.
const TASK_COMM_LEN: usize = 16;
const LVS_MAX_TIMEOUT: u32 = 86400 * 31;
const IP_VS_IFNAME_MAXLEN: usize = 16;
const IPSET_MAXNAMELEN: usize = 32;
const NFT_TABLE_MAXNAMELEN: usize = 256;
const IGMP_LINK_LOCAL_MCAST_REPORTS: &str = "/proc/sys/net/ipv4/igmp_link_local_mcast_reports";

/// Root-level keywords owned by this area.
pub static ROOT: &[Kw] = &[
    Kw::value("linkbeat_use_polling", h_linkbeat_use_polling),
    Kw::value("net_namespace", h_net_namespace),
    Kw::value("net_namespace_ipvs", h_net_namespace_ipvs),
    Kw::value("namespace_with_ipsets", h_namespace_with_ipsets),
    Kw::value("use_pid_dir", h_use_pid_dir),
    Kw::value("instance", h_instance),
    Kw::value("child_wait_time", h_child_wait_time),
    Kw::block("global_defs", open_global_defs, &GLOBAL_DEFS),
];

pub static GLOBAL_DEFS: Block =
    Block { index: KwIndexCell::new(), name: "global_defs", parts: &[GLOBAL_KWS], close: None };

static GLOBAL_KWS: &[Kw] = &[
    Kw::value("process_names", h_process_names),
    Kw::value("process_name", h_process_name),
    Kw::value("vrrp_process_name", h_vrrp_process_name),
    Kw::value("checker_process_name", h_checker_process_name),
    Kw::value("lvs_process_name", h_lvs_process_name),
    Kw::value("bfd_process_name", h_bfd_process_name),
    Kw::value("use_symlink_paths", h_use_symlink_paths),
    Kw::value("set_supplementary_groups", h_set_supplementary_groups),
    Kw::value("router_id", h_router_id),
    Kw::value("notification_email_from", h_email_from),
    Kw::value("smtp_server", h_smtp_server),
    Kw::value("smtp_helo_name", h_smtp_helo_name),
    Kw::value("smtp_connect_timeout", h_smtp_connect_timeout),
    Kw::list_with("notification_email", Some(open_email), item_email, Some(close_email)),
    Kw::value("smtp_alert", h_smtp_alert),
    Kw::script("startup_script", h_startup_script),
    Kw::value("startup_script_timeout", h_startup_script_timeout),
    Kw::script("shutdown_script", h_shutdown_script),
    Kw::value("shutdown_script_timeout", h_shutdown_script_timeout),
    Kw::value("max_auto_priority", h_max_auto_priority),
    Kw::value("min_auto_priority_delay", h_min_auto_priority_delay),
    Kw::value("smtp_alert_vrrp", h_smtp_alert_vrrp),
    Kw::value("smtp_alert_checker", h_smtp_alert_checker),
    Kw::value("checker_log_all_failures", h_checker_log_all_failures),
    Kw::value("dynamic_interfaces", h_dynamic_interfaces),
    Kw::value("no_email_faults", h_no_email_faults),
    Kw::value("default_interface", h_default_interface),
    Kw::value("disable_local_igmp", h_disable_local_igmp),
    Kw::value("v3_checksum_as_v2", h_v3_checksum_as_v2),
    Kw::value("lvs_timeouts", h_lvs_timeouts),
    Kw::value("lvs_flush", h_lvs_flush),
    Kw::value("lvs_flush_on_stop", h_lvs_flush_on_stop),
    Kw::value("lvs_flush_onstop", h_lvs_flush_on_stop),
    Kw::value("lvs_sync_daemon", h_lvs_sync_daemon),
    Kw::value("vrrp_mcast_group4", h_vrrp_mcast_group4),
    Kw::value("vrrp_mcast_group6", h_vrrp_mcast_group6),
    Kw::value("vrrp_garp_master_delay", h_garp_master_delay),
    Kw::value("vrrp_garp_master_repeat", h_garp_master_repeat),
    Kw::value("vrrp_garp_master_refresh", h_garp_master_refresh),
    Kw::value("vrrp_garp_master_refresh_repeat", h_garp_master_refresh_repeat),
    Kw::value("vrrp_garp_lower_prio_delay", h_garp_lower_prio_delay),
    Kw::value("vrrp_garp_lower_prio_repeat", h_garp_lower_prio_repeat),
    Kw::value("vrrp_down_timer_adverts", h_down_timer_adverts),
    Kw::value("vrrp_garp_interval", h_garp_interval),
    Kw::value("vrrp_gna_interval", h_gna_interval),
    Kw::value("vrrp_min_garp", h_min_garp),
    Kw::value("vrrp_garp_extra_if", h_garp_extra_if),
    Kw::value("vrrp_vmac_garp_intvl", h_garp_extra_if),
    Kw::value("vrrp_lower_prio_no_advert", h_lower_prio_no_advert),
    Kw::value("vrrp_higher_prio_send_advert", h_higher_prio_send_advert),
    Kw::value("vrrp_version", h_vrrp_version),
    Kw::value("vrrp_iptables", h_vrrp_iptables),
    Kw::value("vrrp_ipsets", h_vrrp_ipsets),
    Kw::value("nftables", h_nftables),
    Kw::value("nftables_priority", h_nftables_priority),
    Kw::value("nftables_ifindex", h_nftables_ifindex),
    Kw::value("vrrp_check_unicast_src", h_check_unicast_src),
    Kw::value("vrrp_skip_check_adv_addr", h_skip_check_adv_addr),
    Kw::value("vrrp_strict", h_vrrp_strict),
    Kw::value("vrrp_priority", h_vrrp_priority),
    Kw::value("vrrp_no_swap", h_vrrp_no_swap),
    Kw::value("vrrp_rt_priority", h_vrrp_rt_priority),
    Kw::value("vrrp_cpu_affinity", h_vrrp_cpu_affinity),
    Kw::value("vrrp_rlimit_rttime", h_vrrp_rlimit),
    Kw::value("vrrp_rlimit_rtime", h_vrrp_rlimit),
    Kw::value("nftables_ipvs", h_nftables_ipvs),
    Kw::value("nftables_ipvs_priority", h_nftables_ipvs_priority),
    Kw::value("nftables_ipvs_start_fwmark", h_nftables_ipvs_start_fwmark),
    Kw::value("nftables_counters", h_nftables_counters),
    Kw::value("notify_fifo", h_notify_fifo),
    Kw::script("notify_fifo_script", h_notify_fifo_script),
    Kw::value("vrrp_notify_fifo", h_vrrp_notify_fifo),
    Kw::script("vrrp_notify_fifo_script", h_vrrp_notify_fifo_script),
    Kw::value("vrrp_notify_priority_changes", h_vrrp_notify_priority_changes),
    Kw::value("fifo_write_vrrp_states_on_reload", h_fifo_write_vrrp_states_on_reload),
    Kw::value("lvs_notify_fifo", h_lvs_notify_fifo),
    Kw::script("lvs_notify_fifo_script", h_lvs_notify_fifo_script),
    Kw::value("checker_priority", h_checker_priority),
    Kw::value("checker_no_swap", h_checker_no_swap),
    Kw::value("checker_rt_priority", h_checker_rt_priority),
    Kw::value("checker_cpu_affinity", h_checker_cpu_affinity),
    Kw::value("checker_rlimit_rttime", h_checker_rlimit),
    Kw::value("checker_rlimit_rtime", h_checker_rlimit),
    Kw::value("bfd_priority", h_bfd_priority),
    Kw::value("bfd_no_swap", h_bfd_no_swap),
    Kw::value("bfd_rt_priority", h_bfd_rt_priority),
    Kw::value("bfd_cpu_affinity", h_bfd_cpu_affinity),
    Kw::value("bfd_rlimit_rttime", h_bfd_rlimit),
    Kw::value("bfd_rlimit_rtime", h_bfd_rlimit),
    Kw::value("snmp_socket", h_snmp_socket),
    Kw::value("enable_traps", h_enable_traps),
    Kw::value("enable_snmp_vrrp", h_enable_snmp_vrrp),
    Kw::value("enable_snmp_keepalived", h_enable_snmp_vrrp),
    Kw::value("enable_snmp_rfc", h_enable_snmp_rfc),
    Kw::value("enable_snmp_rfcv2", h_enable_snmp_rfcv2),
    Kw::value("enable_snmp_rfcv3", h_enable_snmp_rfcv3),
    Kw::value("enable_snmp_checker", h_enable_snmp_checker),
    Kw::value("snmp_vs_stats_update_interval", h_snmp_vs_stats),
    Kw::value("snmp_rs_stats_update_interval", h_snmp_rs_stats),
    Kw::value("enable_dbus", h_enable_dbus),
    Kw::value("dbus_service_name", h_dbus_service_name),
    Kw::value("dbus_no_interface_name", h_dbus_no_interface_name),
    Kw::value("script_user", h_script_user),
    Kw::value("enable_script_security", h_enable_script_security),
    Kw::value("vrrp_netlink_cmd_rcv_bufs", h_vrrp_nl_cmd_bufs),
    Kw::value("vrrp_netlink_cmd_rcv_bufs_force", h_vrrp_nl_cmd_bufs_force),
    Kw::value("vrrp_netlink_monitor_rcv_bufs", h_vrrp_nl_mon_bufs),
    Kw::value("vrrp_netlink_monitor_rcv_bufs_force", h_vrrp_nl_mon_bufs_force),
    Kw::value("process_monitor_rcv_bufs", h_proc_mon_bufs),
    Kw::value("process_monitor_rcv_bufs_force", h_proc_mon_bufs_force),
    Kw::value("lvs_netlink_cmd_rcv_bufs", h_lvs_nl_cmd_bufs),
    Kw::value("lvs_netlink_cmd_rcv_bufs_force", h_lvs_nl_cmd_bufs_force),
    Kw::value("lvs_netlink_monitor_rcv_bufs", h_lvs_nl_mon_bufs),
    Kw::value("lvs_netlink_monitor_rcv_bufs_force", h_lvs_nl_mon_bufs_force),
    Kw::value("rs_init_notifies", h_rs_init_notifies),
    Kw::value("no_checker_emails", h_no_checker_emails),
    Kw::value("vrrp_rx_bufs_policy", h_rx_bufs_policy),
    Kw::value("vrrp_rx_bufs_multiplier", h_rx_bufs_multiplier),
    Kw::value("vrrp_startup_delay", h_vrrp_startup_delay),
    Kw::value("vrrp_delay_after_boot", h_vrrp_delay_after_boot),
    Kw::value("log_unknown_vrids", h_log_unknown_vrids),
    Kw::value("vrrp_owner_ignore_adverts", h_owner_ignore_adverts),
    Kw::value("vmac_prefix", h_vmac_prefix),
    Kw::value("vmac_addr_prefix", h_vmac_addr_prefix),
    Kw::value("umask", h_umask),
    Kw::value("random_seed", h_random_seed),
    Kw::value("reload_check_config", h_reload_check_config),
    Kw::value("reload_time_file", h_reload_time_file),
    Kw::value("reload_repeat", h_reload_repeat),
    Kw::value("reload_file", h_reload_file),
    Kw::value("include_check", h_include_check),
    Kw::value("config_save_dir", h_config_save_dir),
    Kw::value("tmp_config_directory", h_tmp_config_directory),
    Kw::value("data_use_instance", h_data_use_instance),
    Kw::value("json_version", h_json_version),
    Kw::value("iproute_usr_dir", h_iproute_usr_dir),
    Kw::value("iproute_etc_dir", h_iproute_etc_dir),
    Kw::value("state_dump_file", h_state_dump_file),
    Kw::value("stats_dump_file", h_stats_dump_file),
    Kw::value("json_dump_file", h_json_dump_file),
    Kw::value("status_socket", h_status_socket),
    Kw::value("status_socket_group", h_status_socket_group),
    Kw::value("metrics_listen", h_metrics_listen),
    Kw::value("no_capability_drop", h_no_capability_drop),
];

// ---------------------------------------------------------------- helpers

fn g(ctx: &mut Ctx) -> &mut GlobalDefs {
    &mut ctx.cfg.global
}

/// The keyword is parsed and stored, but keepalived-rs does not provide
/// the feature.
fn not_implemented(ctx: &mut Ctx, args: &Args<'_>) {
    ctx.report(Severity::Notice, format!("'{}' is accepted but not implemented by keepalived-rs", args.word(0)));
}

/// An optional BOOL argument (omitted = true). `None`: invalid, reported
/// with `msg(value)`.
fn opt_bool(ctx: &mut Ctx, args: &Args<'_>, msg: impl Fn(&str) -> String) -> Option<bool> {
    match args.get(1) {
        None => Some(true),
        Some(w) => match check_true_false(w) {
            Some(b) => Some(b),
            None => {
                ctx.error(msg(w));
                None
            }
        },
    }
}

/// `Invalid value '%s' for global %s specified`.
fn global_bool(ctx: &mut Ctx, args: &Args<'_>, name: &str) -> Option<bool> {
    opt_bool(ctx, args, |w| format!("Invalid value '{w}' for global {name} specified"))
}

/// strtol-like prefix value of a number (keepalived prints the value read
/// even when the reader rejected it).
fn strtol_value(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n: String = digits.chars().take_while(|c| c.is_ascii_digit()).collect();
    let v = n.parse::<i64>().unwrap_or(if n.is_empty() { 0 } else { i64::MAX });
    if neg {
        -v
    } else {
        v
    }
}

// ---------------------------------------------------------------- root level

fn h_linkbeat_use_polling(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    ctx.cfg.root.linkbeat_use_polling = true;
    Ok(())
}

fn h_net_namespace(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let Some(name) = args.get(1) else {
        ctx.error("net_namespace name missing - ignoring");
        return Ok(());
    };
    if ctx.cfg.root.net_namespace.is_none() {
        ctx.cfg.root.net_namespace = Some(name.to_string());
        ctx.cfg.root.use_pid_dir = true;
    } else {
        ctx.error(format!("Duplicate net_namespace definition {name} - ignoring"));
    }
    Ok(())
}

fn h_net_namespace_ipvs(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if ctx.cfg.root.net_namespace_ipvs.is_some() {
        let w = ctx.req(args, 1)?;
        ctx.error(format!("Duplicate net_namespace_ipvs definition {w} - ignoring"));
        return Ok(());
    }
    ctx.cfg.root.net_namespace_ipvs = Some(args.get(1).unwrap_or("").to_string());
    Ok(())
}

fn h_namespace_with_ipsets(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    ctx.cfg.root.namespace_with_ipsets = true;
    not_implemented(ctx, args);
    Ok(())
}

fn h_use_pid_dir(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    ctx.cfg.root.use_pid_dir = true;
    Ok(())
}

fn h_instance(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let Some(name) = args.get(1) else {
        ctx.error("instance name missing - ignoring");
        return Ok(());
    };
    if ctx.cfg.root.instance.is_none() {
        ctx.cfg.root.instance = Some(name.to_string());
        ctx.cfg.root.use_pid_dir = true;
    } else {
        ctx.error(format!("Duplicate instance definition {name} - ignoring"));
    }
    Ok(())
}

fn h_child_wait_time(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    match ctx.read_unsigned(w, 0, UINT_MAX, false) {
        Some(v) => ctx.cfg.root.child_wait_time = v,
        None => ctx.error(format!("Invalid child_wait_time {w}")),
    }
    Ok(())
}

fn open_global_defs(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    if g(ctx).origin.is_none() {
        g(ctx).origin = Some(args.origin());
    }
    Ok(Enter::Yes)
}

// ---------------------------------------------------------------- process names

fn save_process_name(ctx: &mut Ctx, src: &str) -> String {
    if src.len() >= TASK_COMM_LEN {
        ctx.error(format!("Process name {src} more than {} characters, truncating", TASK_COMM_LEN - 1));
        let mut end = TASK_COMM_LEN - 1;
        while !src.is_char_boundary(end) {
            end -= 1;
        }
        return src[..end].to_string();
    }
    src.to_string()
}

fn h_process_names(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    let v = save_process_name(ctx, "keepalived_vrrp");
    g(ctx).vrrp.process_name = Some(v);
    let c = save_process_name(ctx, "keepalived_lvs");
    g(ctx).checker.process_name = Some(c);
    let b = save_process_name(ctx, "keepalived_bfd");
    g(ctx).bfd.process_name = Some(b);
    Ok(())
}

fn h_process_name(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let v = save_process_name(ctx, w);
    g(ctx).process_name = Some(v);
    Ok(())
}

fn h_vrrp_process_name(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let v = save_process_name(ctx, w);
    g(ctx).vrrp.process_name = Some(v);
    Ok(())
}

fn h_checker_process_name(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let v = save_process_name(ctx, w);
    g(ctx).checker.process_name = Some(v);
    Ok(())
}

fn h_lvs_process_name(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    ctx.log("'lvs_process_name' is deprecated - please use 'checker_process_name'");
    h_checker_process_name(ctx, args)
}

fn h_bfd_process_name(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let v = save_process_name(ctx, w);
    g(ctx).bfd.process_name = Some(v);
    Ok(())
}

fn h_use_symlink_paths(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = opt_bool(ctx, args, |w| format!("Invalid value '{w}' for global use_symlink_path specified")) {
        g(ctx).use_symlink_paths = b;
    }
    Ok(())
}

fn h_set_supplementary_groups(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = opt_bool(ctx, args, |w| format!("Invalid set_supplementary_groups parameter {w}")) {
        g(ctx).set_supplementary_groups = b;
    }
    Ok(())
}

// ---------------------------------------------------------------- identity, email

fn h_router_id(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    match args.get(1) {
        None => ctx.error("routerid name missing - ignoring"),
        Some(w) => g(ctx).router_id = Some(w.to_string()),
    }
    Ok(())
}

/// keepalived `format_email_addr`: `Name <a@b>` gets its display name
/// quoted (RFC5322 3.2.3) when it holds special characters.
pub fn format_email_addr(ctx: &mut Ctx, addr: &str) -> String {
    if !addr.ends_with('>') {
        return addr.to_string();
    }
    let Some(lt) = addr.rfind('<') else {
        ctx.log(format!("email address '{addr}' invalid"));
        return addr.to_string();
    };
    let b = addr.as_bytes();
    // end of the description: last non-blank before '<' (index, inclusive)
    let mut end = lt as isize - 1;
    while end > 0 && (b[end as usize] == b' ' || b[end as usize] == b'\t') {
        end -= 1;
    }
    let specials = b"()<>[]:;@\\,.";
    let first_special = b.iter().position(|c| specials.contains(c));
    match first_special {
        Some(p) if (p as isize) <= end => {}
        _ => return addr.to_string(),
    }
    let desc_end = if end < 0 { 0 } else { end as usize + 1 };
    let mut out = String::with_capacity(addr.len() + 4);
    out.push('"');
    for c in addr[..desc_end].chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out.push_str(&addr[desc_end..]);
    out
}

fn h_email_from(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let Some(w) = args.get(1) else {
        ctx.error("emailfrom missing - ignoring");
        return Ok(());
    };
    // Further words are ignored silently, as 2.2.7 does (set_value).
    let v = format_email_addr(ctx, w);
    g(ctx).notification_email_from = Some(v);
    Ok(())
}

/// keepalived `inet_stosockaddr` for the IP part (range/mask stripped).
fn parse_ip(s: &str) -> Option<IpAddr> {
    let end = s.find(['-', '/']).unwrap_or(s.len());
    let ip = &s[..end];
    if s.contains(':') {
        ip.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        ip.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
    }
}

fn h_smtp_server(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let name = ctx.req(args, 1)?;
    let port_str = args.get(2).unwrap_or("25");
    let mut result: Option<SocketAddr> = None;
    let mut try_domain = true;
    if !name.contains(['-', '/']) {
        // inet_stosockaddr: port first, then the address
        if let Some(port) = ctx.read_unsigned(port_str, 1, 65535, true) {
            if let Some(ip) = parse_ip(name) {
                result = Some(SocketAddr::new(ip, port as u16));
                try_domain = false;
            }
        }
    }
    if try_domain && !ctx.system.offline {
        // domain_stosockaddr
        if let Some(port) = ctx.read_unsigned(port_str, 1, 65535, true) {
            if let Ok(mut it) = (name, port as u16).to_socket_addrs() {
                result = it.next();
            }
        }
    }
    match result {
        Some(addr) => g(ctx).smtp_server = Some(SmtpServer { name: name.to_string(), addr }),
        None => {
            // keepalived's sockaddr is overwritten as AF_UNSPEC
            g(ctx).smtp_server = None;
            ctx.error(format!("Invalid smtp server {name} {port_str}"));
        }
    }
    Ok(())
}

fn h_smtp_helo_name(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(w) = args.get(1) {
        g(ctx).smtp_helo_name = Some(w.to_string());
    }
    Ok(())
}

fn h_smtp_connect_timeout(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let max = UINT_MAX / TIMER_HZ as u32;
    let Some(mut t) = ctx.read_unsigned(w, 0, max, true) else {
        ctx.error(format!("smtp_connect_timeout '{w}' must be in [0, {max}] - ignoring"));
        return Ok(());
    };
    if t == 0 {
        ctx.error("smtp_conect_timeout must be greater than 0, setting to 1");
        t = 1;
    }
    g(ctx).smtp_connect_timeout = t as u64 * TIMER_HZ;
    Ok(())
}

fn open_email(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    if let Some(w) = args.get(1) {
        ctx.error(format!("Block {} has extra parameters {w} ...", args.word(0)));
    }
    g(ctx).email_block_items = 0;
    Ok(Enter::Yes)
}

fn item_email(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    for w in args.rest(0) {
        let v = format_email_addr(ctx, w);
        g(ctx).notification_email.push(v);
        g(ctx).email_block_items += 1;
    }
    Ok(())
}

fn close_email(ctx: &mut Ctx) -> Res {
    if g(ctx).email_block_items == 0 {
        // reported at the closing '}', as keepalived does
        let o = ctx.pp.origin();
        ctx.report_at(Severity::GeneralError, Some(o), "Warning - empty notification_email block");
    }
    Ok(())
}

fn h_smtp_alert(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = global_bool(ctx, args, "smtp_alert") {
        g(ctx).smtp_alert = Some(b);
    }
    Ok(())
}

fn h_smtp_alert_vrrp(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = global_bool(ctx, args, "smtp_alert_vrrp") {
        g(ctx).smtp_alert_vrrp = Some(b);
    }
    Ok(())
}

fn h_smtp_alert_checker(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = global_bool(ctx, args, "smtp_alert_checker") {
        g(ctx).smtp_alert_checker = Some(b);
    }
    Ok(())
}

fn h_checker_log_all_failures(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = opt_bool(ctx, args, |_| "Invalid value for checker_log_all_failures specified".to_string()) {
        g(ctx).checker_log_all_failures = b;
    }
    Ok(())
}

fn h_no_email_faults(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    g(ctx).no_email_faults = true;
    Ok(())
}

fn h_rs_init_notifies(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = global_bool(ctx, args, "rs_init_notifies") {
        g(ctx).rs_init_notifies = b;
    }
    Ok(())
}

fn h_no_checker_emails(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = global_bool(ctx, args, "no_checker_emails") {
        g(ctx).no_checker_emails = b;
    }
    Ok(())
}

// ---------------------------------------------------------------- startup / shutdown scripts

fn startup_shutdown_script(ctx: &mut Ctx, args: &Args<'_>, startup: bool) -> Res {
    let kind = if startup { "startup" } else { "shutdown" };
    let already = if startup { g(ctx).startup_script.is_some() } else { g(ctx).shutdown_script.is_some() };
    if already {
        ctx.error(format!("{kind} script already specified"));
        return Ok(());
    }
    if args.len() < 2 {
        ctx.error(format!("{kind} script missing"));
        return Ok(());
    }
    let Some(script) = ctx.read_script(args, kind) else {
        ctx.error(format!("Invalid {kind} script"));
        return Ok(());
    };
    let gd = g(ctx);
    if startup {
        gd.startup_script = Some(script);
        if gd.startup_script_timeout == 0 {
            gd.startup_script_timeout = 10;
        }
    } else {
        gd.shutdown_script = Some(script);
        if gd.shutdown_script_timeout == 0 {
            gd.shutdown_script_timeout = 10;
        }
    }
    Ok(())
}

fn h_startup_script(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    startup_shutdown_script(ctx, args, true)
}

fn h_shutdown_script(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    startup_shutdown_script(ctx, args, false)
}

fn script_timeout(ctx: &mut Ctx, args: &Args<'_>, startup: bool) -> Res {
    let kind = if startup { "startup" } else { "shutdown" };
    let Some(w) = args.get(1) else {
        ctx.error(format!("{kind}_script_timeout requires value"));
        return Ok(());
    };
    let Some(v) = ctx.read_unsigned(w, 1, 1000, true) else {
        ctx.error(format!("{kind}_script_timeout '{w}' must be in [1, 1000] - ignoring"));
        return Ok(());
    };
    if startup {
        g(ctx).startup_script_timeout = v;
    } else {
        g(ctx).shutdown_script_timeout = v;
    }
    Ok(())
}

fn h_startup_script_timeout(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    script_timeout(ctx, args, true)
}

fn h_shutdown_script_timeout(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    script_timeout(ctx, args, false)
}

// ---------------------------------------------------------------- scheduling

fn h_max_auto_priority(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    let Some(w) = args.get(1) else {
        g(ctx).max_auto_priority = SCHED_RR_MAX;
        return Ok(());
    };
    match ctx.read_int(w, -1, SCHED_RR_MAX, true) {
        Some(p) => g(ctx).max_auto_priority = p,
        None => {
            ctx.error(format!("max_auto_priority '{w}' must be in [0, {SCHED_RR_MAX}] (or -1 to disable) - ignoring"))
        }
    }
    Ok(())
}

fn h_min_auto_priority_delay(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    let Some(w) = args.get(1) else {
        ctx.error("min_auto_priority_delay requires delay time");
        return Ok(());
    };
    // 2.2.7 reads it as a signed int (read_int_strvec), hence its texts.
    match ctx.read_int(w, 1, 10_000_000, true) {
        Some(v) => g(ctx).min_auto_priority_delay = v as u32,
        None => ctx.error(format!("min_auto_priority_delay '{w}' must be in [1, 10000000] - ignoring")),
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Proc {
    Vrrp,
    Checker,
    Bfd,
}

impl Proc {
    fn name(self) -> &'static str {
        match self {
            Proc::Vrrp => "vrrp",
            Proc::Checker => "checker",
            Proc::Bfd => "bfd",
        }
    }
    fn settings(self, ctx: &mut Ctx) -> &mut ProcessSettings {
        match self {
            Proc::Vrrp => &mut ctx.cfg.global.vrrp,
            Proc::Checker => &mut ctx.cfg.global.checker,
            Proc::Bfd => &mut ctx.cfg.global.bfd,
        }
    }
}

/// keepalived `get_priority`: errors set the nice value to 0.
fn proc_priority(ctx: &mut Ctx, args: &Args<'_>, p: Proc) -> Res {
    let name = p.name();
    let v = match args.get(1) {
        None => {
            ctx.error(format!("No {name} process priority specified"));
            0
        }
        Some(w) => match ctx.read_int(w, -20, 19, true) {
            Some(v) => v,
            None => {
                ctx.error(format!("Invalid {name} process priority specified"));
                0
            }
        },
    };
    p.settings(ctx).priority = v;
    Ok(())
}

fn proc_no_swap(ctx: &mut Ctx, p: Proc) -> Res {
    p.settings(ctx).no_swap = true;
    Ok(())
}

fn proc_rt_priority(ctx: &mut Ctx, args: &Args<'_>, p: Proc) -> Res {
    let name = p.name();
    let Some(w) = args.get(1) else {
        ctx.error(format!("No {name} process real-time priority specified"));
        return Ok(());
    };
    let Some(mut prio) = ctx.read_int(w, i32::MIN, i32::MAX, true) else {
        ctx.error(format!("{name} process real-time priority '{w}' invalid"));
        return Ok(());
    };
    if prio < SCHED_RR_MIN {
        ctx.error(format!(
            "{name} process real-time priority {prio} less than minimum {SCHED_RR_MIN} - setting to minimum"
        ));
        prio = SCHED_RR_MIN;
    } else if prio > SCHED_RR_MAX {
        ctx.error(format!(
            "{name} process real-time priority {prio} greater than maximum {SCHED_RR_MAX} - setting to maximum"
        ));
        prio = SCHED_RR_MAX;
    }
    p.settings(ctx).rt_priority = Some(prio);
    Ok(())
}

fn online_cpus() -> i32 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::_NPROCESSORS_ONLN) {
        Ok(Some(n)) if n > 0 => n as i32,
        _ => 1,
    }
}

fn proc_cpu_affinity(ctx: &mut Ctx, args: &Args<'_>, p: Proc) -> Res {
    let name = p.name();
    if args.len() < 2 {
        ctx.error(format!("No {name} cpu_id set specified"));
        return Ok(());
    }
    let num_cpus = online_cpus();
    let mut set = Vec::new();
    p.settings(ctx).cpu_affinity.clear();
    for w in args.rest(1) {
        match ctx.read_int(w, 0, num_cpus - 1, true) {
            Some(id) => {
                if !set.contains(&(id as u32)) {
                    set.push(id as u32);
                }
            }
            None => {
                let v = strtol_value(w) as i32;
                ctx.error(format!("Invalid cpu_id:{v} specified for {name} process"));
                return Ok(());
            }
        }
    }
    set.sort_unstable();
    p.settings(ctx).cpu_affinity = set;
    Ok(())
}

/// keepalived `get_rt_rlimit`: errors set the limit to 0.
fn proc_rlimit(ctx: &mut Ctx, args: &Args<'_>, p: Proc) -> Res {
    let kw = args.word(0);
    if let Some(prefix) = kw.strip_suffix("rtime") {
        if !kw.ends_with("rttime") {
            ctx.log(format!("Keyword '{kw}' is deprecated - please use '{prefix}rttime'"));
        }
    }
    let w = ctx.req(args, 1)?;
    let v = match ctx.read_unsigned(w, 1, u32::MAX, true) {
        Some(1) => 2,
        Some(v) => v as u64,
        None => {
            ctx.error(format!("Invalid {} real-time limit - {w}", p.name()));
            0
        }
    };
    p.settings(ctx).rlimit_rttime = v;
    Ok(())
}

fn h_vrrp_priority(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    proc_priority(ctx, args, Proc::Vrrp)
}
fn h_vrrp_no_swap(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    proc_no_swap(ctx, Proc::Vrrp)
}
fn h_vrrp_rt_priority(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    proc_rt_priority(ctx, args, Proc::Vrrp)
}
fn h_vrrp_cpu_affinity(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    proc_cpu_affinity(ctx, args, Proc::Vrrp)
}
fn h_vrrp_rlimit(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    proc_rlimit(ctx, args, Proc::Vrrp)
}
fn h_checker_priority(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    proc_priority(ctx, args, Proc::Checker)
}
fn h_checker_no_swap(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    proc_no_swap(ctx, Proc::Checker)
}
fn h_checker_rt_priority(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    proc_rt_priority(ctx, args, Proc::Checker)
}
fn h_checker_cpu_affinity(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    proc_cpu_affinity(ctx, args, Proc::Checker)
}
fn h_checker_rlimit(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    proc_rlimit(ctx, args, Proc::Checker)
}
fn h_bfd_priority(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    proc_priority(ctx, args, Proc::Bfd)
}
fn h_bfd_no_swap(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    proc_no_swap(ctx, Proc::Bfd)
}
fn h_bfd_rt_priority(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    proc_rt_priority(ctx, args, Proc::Bfd)
}
fn h_bfd_cpu_affinity(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    proc_cpu_affinity(ctx, args, Proc::Bfd)
}
fn h_bfd_rlimit(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    proc_rlimit(ctx, args, Proc::Bfd)
}

// ---------------------------------------------------------------- VRRP globals

fn h_dynamic_interfaces(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    g(ctx).dynamic_interfaces = true;
    if let Some(w) = args.get(1) {
        if w == "allow_if_changes" {
            g(ctx).allow_if_changes = true;
        } else {
            ctx.error(format!("Unknown dynamic_interfaces option '{w}'"));
        }
    }
    Ok(())
}

fn h_default_interface(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    match args.get(1) {
        None => ctx.error("default_interface requires interface name"),
        Some(w) => g(ctx).default_interface = Some(w.to_string()),
    }
    Ok(())
}

fn h_disable_local_igmp(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    // keepalived checks the sysctl is writable; the daemon runs as root, so
    // only the kernel's support (the file's presence) is checked here.
    if !std::path::Path::new(IGMP_LINK_LOCAL_MCAST_REPORTS).exists() {
        ctx.error(format!("kernel does not support {IGMP_LINK_LOCAL_MCAST_REPORTS}"));
        return Ok(());
    }
    g(ctx).disable_local_igmp = true;
    Ok(())
}

fn h_v3_checksum_as_v2(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    g(ctx).v3_checksum_as_v2 = true;
    Ok(())
}

fn h_vrrp_mcast_group4(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    match parse_ip(w) {
        None => ctx.error(format!("Can't parse vrrp_mcast_group4 [{w}]. Skipping")),
        Some(IpAddr::V6(_)) => ctx.error(format!("vrrp_mcast_group4 [{w}] is not IPv4. Skipping")),
        Some(IpAddr::V4(a)) if !a.is_multicast() => {
            ctx.error(format!("vrrp_mcast_group4 [{w}] is not multicast. Skipping"))
        }
        Some(IpAddr::V4(a)) => g(ctx).vrrp_mcast_group4 = a,
    }
    Ok(())
}

fn h_vrrp_mcast_group6(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    match parse_ip(w) {
        None => ctx.error(format!("Can't parse vrrp_mcast_group6 [{w}]. Skipping")),
        Some(IpAddr::V4(_)) => ctx.error(format!("vrrp_mcast_group6 [{w}] is not IPv6. Skipping")),
        Some(IpAddr::V6(a)) if !a.is_multicast() => {
            ctx.error(format!("vrrp_mcast_group6 [{w}] is not multicast. Skipping"))
        }
        Some(IpAddr::V6(a)) => {
            // IN6_IS_ADDR_MC_LINKLOCAL: ff?2::
            if a.octets()[1] & 0x0f != 0x02 {
                ctx.warning(format!("vrrp_mcast_group6 [{w}] should be link-local multicast."));
            }
            g(ctx).vrrp_mcast_group6 = a;
        }
    }
    Ok(())
}

fn h_garp_master_delay(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    match ctx.read_unsigned(w, 0, UINT_MAX / TIMER_HZ as u32, true) {
        Some(v) => g(ctx).vrrp_garp_master_delay = v as u64 * TIMER_HZ,
        None => ctx.error(format!("vrrp_garp_master_delay '{w}' invalid - ignoring")),
    }
    Ok(())
}

fn h_garp_master_repeat(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let Some(mut v) = ctx.read_unsigned(w, 0, UINT_MAX, true) else {
        ctx.error(format!("vrrp_garp_master_repeat '{w}' invalid - ignoring"));
        return Ok(());
    };
    if v == 0 {
        ctx.error("vrrp_garp_master_repeat must be greater than 0, setting to 1");
        v = 1;
    }
    g(ctx).vrrp_garp_master_repeat = v;
    Ok(())
}

fn h_garp_master_refresh(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    match ctx.read_unsigned(w, 0, UINT_MAX, true) {
        Some(v) => g(ctx).vrrp_garp_master_refresh = v,
        None => {
            ctx.error(format!("Invalid vrrp_garp_master_refresh '{w}' - ignoring"));
            g(ctx).vrrp_garp_master_refresh = 0;
        }
    }
    Ok(())
}

fn h_garp_master_refresh_repeat(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let Some(mut v) = ctx.read_unsigned(w, 0, UINT_MAX, true) else {
        ctx.error(format!("vrrp_garp_master_refresh_repeat '{w}' invalid - ignoring"));
        return Ok(());
    };
    if v == 0 {
        ctx.error("vrrp_garp_master_refresh_repeat must be greater than 0, setting to 1");
        v = 1;
    }
    g(ctx).vrrp_garp_master_refresh_repeat = v;
    Ok(())
}

fn h_garp_lower_prio_delay(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    match ctx.read_unsigned(w, 0, UINT_MAX / TIMER_HZ as u32, true) {
        Some(v) => g(ctx).vrrp_garp_lower_prio_delay = Some(v as u64 * TIMER_HZ),
        None => ctx.error(format!("vrrp_garp_lower_prio_delay '{w}' invalid - ignoring")),
    }
    Ok(())
}

fn h_garp_lower_prio_repeat(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    match ctx.read_unsigned(w, 0, i32::MAX as u32, true) {
        Some(v) => g(ctx).vrrp_garp_lower_prio_repeat = Some(v),
        None => ctx.error(format!("Invalid vrrp_garp_lower_prio_repeat '{w}'")),
    }
    Ok(())
}

fn h_down_timer_adverts(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    match ctx.read_unsigned(w, 1, 100, true) {
        Some(v) => g(ctx).vrrp_down_timer_adverts = v,
        None => ctx.error(format!("Invalid vrrp_down_timer_adverts [1:100] '{w}'")),
    }
    Ok(())
}

fn garp_gna_interval(ctx: &mut Ctx, args: &Args<'_>, gna: bool) -> Res {
    let kw = if gna { "vrrp_gna_interval" } else { "vrrp_garp_interval" };
    let w = ctx.req(args, 1)?;
    match ctx.read_decimal(w, 1, UINT_MAX as u64, 6, true) {
        Some(v) => {
            if gna {
                g(ctx).vrrp_gna_interval = v;
            } else {
                g(ctx).vrrp_garp_interval = v;
            }
        }
        None => ctx.error(format!("{kw} '{w}' is invalid")),
    }
    let cur = if gna { g(ctx).vrrp_gna_interval } else { g(ctx).vrrp_garp_interval };
    if cur >= TIMER_HZ {
        ctx.log(format!("The {kw} is very large - {w} seconds"));
    }
    Ok(())
}

fn h_garp_interval(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    garp_gna_interval(ctx, args, false)
}

fn h_gna_interval(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    garp_gna_interval(ctx, args, true)
}

fn h_min_garp(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(w) = args.get(1) {
        match check_true_false(w) {
            None => {
                ctx.error("Invalid value for vrrp_min_garp specified");
                return Ok(());
            }
            Some(false) => return Ok(()),
            Some(true) => {}
        }
    }
    // Only replace values still at their defaults.
    let gd = g(ctx);
    gd.vrrp_min_garp = true;
    if gd.vrrp_garp_master_repeat == 5 {
        gd.vrrp_garp_master_repeat = 1;
    }
    if gd.vrrp_garp_master_refresh_repeat == 1 {
        gd.vrrp_garp_master_refresh_repeat = 0;
    }
    if gd.vrrp_garp_master_delay == 5 * TIMER_HZ {
        gd.vrrp_garp_master_delay = 0;
    }
    Ok(())
}

fn h_garp_extra_if(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let cmd = args.word(0);
    if cmd == "vrrp_vmac_garp_intvl" {
        ctx.deprecated("Keyword \"vrrp_vmac_garp_intvl\" is deprecated - please use \"vrrp_garp_extra_if\"");
    }
    let mut delay = 0;
    for w in args.rest(1) {
        if w == "all" {
            g(ctx).vrrp_garp_extra_if_all = true;
        } else {
            match ctx.read_unsigned(w, 1, 86400, true) {
                Some(v) => delay = v,
                None => {
                    ctx.error(format!("{cmd} '{w}' invalid - ignoring"));
                    return Ok(());
                }
            }
        }
    }
    if delay == 0 {
        ctx.error(format!("{cmd} specified without time - ignoring"));
        return Ok(());
    }
    g(ctx).vrrp_garp_extra_if = delay;
    Ok(())
}

fn h_lower_prio_no_advert(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = opt_bool(ctx, args, |_| "Invalid value for vrrp_lower_prio_no_advert specified".into()) {
        g(ctx).vrrp_lower_prio_no_advert = b;
    }
    Ok(())
}

fn h_higher_prio_send_advert(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = opt_bool(ctx, args, |_| "Invalid value for vrrp_higher_prio_send_advert specified".into()) {
        g(ctx).vrrp_higher_prio_send_advert = b;
    }
    Ok(())
}

fn h_vrrp_version(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    match ctx.read_int(w, 2, 3, true) {
        Some(v) => g(ctx).vrrp_version = v as u8,
        None => ctx.error("VRRP Error: Version must be either 2 or 3"),
    }
    Ok(())
}

fn h_check_unicast_src(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    g(ctx).vrrp_check_unicast_src = true;
    Ok(())
}

fn h_skip_check_adv_addr(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    g(ctx).vrrp_skip_check_adv_addr = flag_or_bool(args);
    Ok(())
}

fn h_vrrp_strict(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    g(ctx).vrrp_strict = flag_or_bool(args);
    Ok(())
}

/// `vrrp_strict` and `vrrp_skip_check_adv_addr` are flags in 2.2.7 (any
/// argument ignored, the option set); master reads a boolean. A boolean
/// word keeps master's meaning, any other word 2.2.7's, silently as 2.2.7.
fn flag_or_bool(args: &Args<'_>) -> bool {
    args.get(1).and_then(crate::numbers::check_true_false).unwrap_or(true)
}

fn h_vrrp_startup_delay(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let Some(v) = ctx.read_timer(w, TIMER_HZ / 1000, UINT_MAX as u64, true) else {
        ctx.error(format!("vrrp_startup_delay '{w}' is invalid"));
        return Ok(());
    };
    if v <= g(ctx).vrrp_startup_delay {
        return Ok(());
    }
    g(ctx).vrrp_startup_delay = v;
    if v >= 60 * TIMER_HZ {
        ctx.log(format!("The vrrp_startup_delay is very large - {w} seconds"));
    }
    Ok(())
}

fn h_vrrp_delay_after_boot(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    let w = ctx.req(args, 1)?;
    match ctx.read_timer(w, TIMER_HZ / 1000, UINT_MAX as u64, true) {
        // The system uptime is subtracted when VRRP starts.
        Some(v) => g(ctx).vrrp_delay_after_boot = Some(v),
        None => ctx.error(format!("vrrp_delay_after_boot '{w}' is invalid")),
    }
    Ok(())
}

fn h_log_unknown_vrids(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    g(ctx).log_unknown_vrids = true;
    Ok(())
}

fn h_owner_ignore_adverts(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    // keepalived prints the keyword and the value the other way round.
    let kw = args.word(0).to_string();
    if let Some(b) = opt_bool(ctx, args, |w| format!("Invalid value '{kw}' for global {w} specified")) {
        g(ctx).vrrp_owner_ignore_adverts = b;
    }
    Ok(())
}

fn h_vmac_prefix(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    if g(ctx).vmac_prefix.is_some() {
        ctx.error(format!("vmac prefix has already been specified - ignoring {w}"));
        return Ok(());
    }
    g(ctx).vmac_prefix = Some(w.to_string());
    Ok(())
}

fn h_vmac_addr_prefix(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    if g(ctx).vmac_addr_prefix.is_some() {
        ctx.error(format!("vmac_addr prefix has already been specified - ignoring {w}"));
        return Ok(());
    }
    g(ctx).vmac_addr_prefix = Some(w.to_string());
    Ok(())
}

fn h_rx_bufs_policy(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if args.len() < 2 {
        ctx.error("vrrp_rx_bufs_policy missing");
        return Ok(());
    }
    let mut pol = g(ctx).vrrp_rx_bufs_policy;
    for w in args.rest(1) {
        if w.eq_ignore_ascii_case("MTU") {
            pol.mtu = true;
        } else if w.eq_ignore_ascii_case("ADVERT") {
            pol.advert = true;
        } else {
            // keepalived always reads the first parameter here.
            match ctx.read_unsigned(args.word(1), 0, UINT_MAX, false) {
                Some(v) => pol.size = Some(v),
                None => ctx.error(format!("Invalid vrrp_rx_bufs_policy {w}")),
            }
        }
    }
    if pol.size.is_some() && (pol.mtu || pol.advert) {
        ctx.error("Cannot set vrrp_rx_bufs_policy size and policy, ignoring policy");
        pol.mtu = false;
        pol.advert = false;
    } else if pol.mtu && pol.advert {
        ctx.error("Cannot set both vrrp_rx_bufs_policy MTU and ADVERT, ignoring ADVERT");
        pol.advert = false;
    }
    g(ctx).vrrp_rx_bufs_policy = pol;
    Ok(())
}

fn h_rx_bufs_multiplier(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if args.len() != 2 {
        ctx.error("Invalid vrrp_rx_bufs_multiplier");
        return Ok(());
    }
    let w = args.word(1);
    match ctx.read_unsigned(w, 1, UINT_MAX, false) {
        Some(v) => g(ctx).vrrp_rx_bufs_multiplier = v,
        None => ctx.error(format!("Invalid vrrp_rx_bufs_multiplier {w}")),
    }
    Ok(())
}

fn rcv_bufs(ctx: &mut Ctx, args: &Args<'_>, kind: &str) -> Option<u32> {
    let Some(w) = args.get(1) else {
        ctx.error(format!("{kind}_rcv_bufs size missing"));
        return None;
    };
    match ctx.read_unsigned(w, 0, UINT_MAX, false) {
        Some(0) => None,
        Some(v) => Some(v),
        None => {
            ctx.error(format!("{kind}_rcv_bufs size ({w}) invalid"));
            None
        }
    }
}

fn h_vrrp_nl_cmd_bufs(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    if let Some(v) = rcv_bufs(ctx, args, "vrrp_netlink_cmd") {
        g(ctx).vrrp_netlink_cmd_rcv_bufs = Some(v);
    }
    Ok(())
}
fn h_vrrp_nl_cmd_bufs_force(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    if let Some(b) = global_bool(ctx, args, "vrrp_netlink_cmd_rcv_bufs_force") {
        g(ctx).vrrp_netlink_cmd_rcv_bufs_force = b;
    }
    Ok(())
}
fn h_vrrp_nl_mon_bufs(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(v) = rcv_bufs(ctx, args, "vrrp_netlink_monitor") {
        g(ctx).vrrp_netlink_monitor_rcv_bufs = Some(v);
    }
    Ok(())
}
fn h_vrrp_nl_mon_bufs_force(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = global_bool(ctx, args, "vrrp_netlink_monitor_rcv_bufs_force") {
        g(ctx).vrrp_netlink_monitor_rcv_bufs_force = b;
    }
    Ok(())
}
fn h_proc_mon_bufs(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(v) = rcv_bufs(ctx, args, "process_monitor") {
        g(ctx).process_monitor_rcv_bufs = Some(v);
    }
    Ok(())
}
fn h_proc_mon_bufs_force(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = global_bool(ctx, args, "process_monitor_rcv_bufs_force") {
        g(ctx).process_monitor_rcv_bufs_force = b;
    }
    Ok(())
}
fn h_lvs_nl_cmd_bufs(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    if let Some(v) = rcv_bufs(ctx, args, "lvs_netlink_cmd") {
        g(ctx).lvs_netlink_cmd_rcv_bufs = Some(v);
    }
    Ok(())
}
fn h_lvs_nl_cmd_bufs_force(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    if let Some(b) = global_bool(ctx, args, "lvs_netlink_cmd_rcv_bufs_force") {
        g(ctx).lvs_netlink_cmd_rcv_bufs_force = b;
    }
    Ok(())
}
fn h_lvs_nl_mon_bufs(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(v) = rcv_bufs(ctx, args, "lvs_netlink_monitor") {
        g(ctx).lvs_netlink_monitor_rcv_bufs = Some(v);
    }
    Ok(())
}
fn h_lvs_nl_mon_bufs_force(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = global_bool(ctx, args, "lvs_netlink_monitor_rcv_bufs_force") {
        g(ctx).lvs_netlink_monitor_rcv_bufs_force = b;
    }
    Ok(())
}

// ---------------------------------------------------------------- LVS globals

fn h_lvs_timeouts(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if args.len() < 3 {
        ctx.error("lvs_timeouts requires at least one option");
        return Ok(());
    }
    let n = args.len();
    let mut i = 1;
    while i < n {
        let w = args.word(i);
        if w == "tcp" || w == "tcpfin" || w == "udp" {
            if i == n - 1 {
                ctx.error(format!("No value specified for lvs_timeout {w} - ignoring"));
                i += 1;
                continue;
            }
            let v = args.word(i + 1);
            match ctx.read_unsigned(v, 0, LVS_MAX_TIMEOUT, false) {
                None => ctx.error(format!("Invalid lvs_timeout {w} ({v}) - ignoring")),
                Some(val) => {
                    let t = &mut g(ctx).lvs_timeouts;
                    match w {
                        "tcp" => t.tcp = Some(val),
                        "tcpfin" => t.tcpfin = Some(val),
                        _ => t.udp = Some(val),
                    }
                }
            }
            i += 2;
            continue;
        }
        ctx.error(format!("Unknown option {w} specified for lvs_timeouts"));
        i += 1;
    }
    Ok(())
}

fn h_lvs_flush(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    g(ctx).lvs_flush = true;
    Ok(())
}

fn h_lvs_flush_on_stop(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    match args.get(1) {
        None => g(ctx).lvs_flush_on_stop = LvsFlushOnStop::Full,
        Some("VS") => g(ctx).lvs_flush_on_stop = LvsFlushOnStop::Vs,
        Some(w) => ctx.error(format!("Unknown lvs_flush_on_stop type {w}")),
    }
    Ok(())
}

fn h_lvs_sync_daemon(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(s) = &g(ctx).lvs_sync_daemon {
        let msg = format!(
            "lvs_sync_daemon has already been specified as {} {} - ignoring",
            s.interface,
            s.vrrp_instance.as_deref().unwrap_or("")
        );
        ctx.error(msg);
        return Ok(());
    }
    let Some(ifname) = args.get(1) else {
        ctx.error("lvs_sync_daemon requires interface");
        return Ok(());
    };
    if ifname.len() >= IP_VS_IFNAME_MAXLEN {
        ctx.error(format!("lvs_sync_daemon interface name '{ifname}' too long - ignoring"));
        return Ok(());
    }
    let mut sd = LvsSyncDaemon { interface: ifname.to_string(), origin: Some(args.origin()), ..Default::default() };
    let n = args.len();
    let mut i = 2;
    while i < n {
        let w = args.word(i);
        let last = i == n - 1;
        match w {
            "inst" => {
                let v = ctx.req(args, i + 1)?;
                if let Some(name) = &sd.vrrp_instance {
                    ctx.error(format!("lvs_sync_daemon vrrp instance has already been specified as {name} - ignoring"));
                } else {
                    sd.vrrp_instance = Some(v.to_string());
                }
                i += 2;
                continue;
            }
            "id" => {
                if last {
                    ctx.error("No value specified for lvs_sync_daemon id, defaulting to vrid");
                    i += 1;
                    continue;
                }
                let v = args.word(i + 1);
                match ctx.read_unsigned(v, 0, 255, false) {
                    Some(x) => sd.syncid = Some(x),
                    None => ctx.error(format!("Invalid syncid ({v}) - defaulting to vrid")),
                }
                i += 2;
                continue;
            }
            "maxlen" | "port" | "ttl" => {
                if last {
                    ctx.error(format!("No value specified for lvs_sync_daemon {w} - ignoring"));
                    i += 1;
                    continue;
                }
                let v = args.word(i + 1);
                let max = match w {
                    "maxlen" => 65535 - 20 - 8,
                    "port" => 65535,
                    _ => 255,
                };
                match ctx.read_unsigned(v, 1, max, false) {
                    Some(x) => match w {
                        "maxlen" => sd.maxlen = Some(x as u16),
                        "port" => sd.port = Some(x as u16),
                        _ => sd.ttl = Some(x as u8),
                    },
                    None => ctx.error(format!("Invalid lvs_sync_daemon {w} ({v}) - ignoring")),
                }
                i += 2;
                continue;
            }
            "group" => {
                if last {
                    ctx.error("No value specified for lvs_sync_daemon group - ignoring");
                    i += 1;
                    continue;
                }
                let v = args.word(i + 1);
                match parse_ip(v) {
                    None => ctx.error(format!("Invalid lvs_sync_daemon group ({v}) - ignoring")),
                    Some(ip) if !ip.is_multicast() => {
                        ctx.error(format!("lvs_sync_daemon group address {v} is not multicast - ignoring"));
                        sd.group = None;
                    }
                    Some(ip) => sd.group = Some(ip),
                }
                i += 2;
                continue;
            }
            _ => {}
        }
        if i == 2 {
            sd.vrrp_instance = Some(w.to_string());
            i += 1;
            continue;
        }
        if i == 3 {
            match ctx.read_unsigned(w, 0, 255, false) {
                None => ctx.error(format!("Invalid syncid ({w}) - defaulting to vrid")),
                Some(x) => {
                    ctx.error("Please use keyword \"id\" before lvs_sync_daemon SYNCID");
                    sd.syncid = Some(x);
                }
            }
            i += 1;
            continue;
        }
        ctx.error(format!("Unknown option {w} specified for lvs_sync_daemon"));
        i += 1;
    }
    g(ctx).lvs_sync_daemon = Some(sd);
    Ok(())
}

// ---------------------------------------------------------------- firewall

fn valid_fw_name(ctx: &mut Ctx, name: &str, max_len: usize, type_name: &str, log_name: &str) -> bool {
    if name.len() >= max_len - 1 {
        ctx.error(format!("VRRP Error : {type_name} {log_name} name too long - ignored"));
        return false;
    }
    if name.is_empty() {
        ctx.error(format!("VRRP Error : {type_name} {log_name} name empty - ignored"));
        return false;
    }
    true
}

fn h_vrrp_iptables(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    // What Debian's keepalived 2.2.7 (built with nftables, without
    // iptables) does: an error, and nftables with the default table; the
    // chain names are not read.
    ctx.error(
        "iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option",
    );
    g(ctx).nftables = Some("keepalived".to_string());
    g(ctx).nftables_priority = -1;
    Ok(())
}

/// Copy `base`, keep at most `keep` bytes, append `suffix` (keepalived's
/// fixed-size set name buffers).
fn derived_set_name(base: &str, keep: usize, suffix: &str) -> String {
    let mut end = base.len().min(keep);
    while !base.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{suffix}", &base[..end])
}

fn h_vrrp_ipsets(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    g(ctx).vrrp_ipsets = None;
    let Some(a) = args.get(1) else {
        g(ctx).vrrp_ipsets = Some(None);
        return Ok(());
    };
    let m = IPSET_MAXNAMELEN;
    if !valid_fw_name(ctx, a, m, "ipset", "address") {
        return Ok(());
    }
    let address = a.to_string();
    let address6 = match args.get(2) {
        Some(w) => {
            if !valid_fw_name(ctx, w, m, "ipset", "IPv6 address") {
                return Ok(());
            }
            w.to_string()
        }
        None => derived_set_name(&address, m - 2, "6"),
    };
    let address_iface6 = match args.get(3) {
        Some(w) => {
            if !valid_fw_name(ctx, w, m, "ipset", "IPv6 address_iface") {
                return Ok(());
            }
            w.to_string()
        }
        None => {
            let base = address6.strip_suffix('6').unwrap_or(&address6);
            derived_set_name(base, m - 5, "_if6")
        }
    };
    let igmp = match args.get(4) {
        Some(w) => {
            if !valid_fw_name(ctx, w, m, "ipset", "IGMP") {
                return Ok(());
            }
            w.to_string()
        }
        None => derived_set_name(&address, m - 6, "_igmp"),
    };
    let mld = match args.get(5) {
        Some(w) => {
            if !valid_fw_name(ctx, w, m, "ipset", "MLD") {
                return Ok(());
            }
            w.to_string()
        }
        None => derived_set_name(&address, m - 5, "_mld"),
    };
    let vmac_nd = match args.get(6) {
        Some(w) => {
            if !valid_fw_name(ctx, w, m, "ipset", "ND") {
                return Ok(());
            }
            w.to_string()
        }
        None => derived_set_name(&address, m - 5, "_nd"),
    };
    let names = [&address, &address6, &address_iface6, &igmp, &mld, &vmac_nd];
    for i in 0..names.len() {
        for j in i + 1..names.len() {
            if names[i] == names[j] {
                ctx.error(format!("vrrp_ipsets: set name {} used more than once", names[i]));
                return Ok(());
            }
        }
    }
    g(ctx).vrrp_ipsets = Some(Some(IpsetNames { address, address6, address_iface6, igmp, mld, vmac_nd }));
    Ok(())
}

fn h_nftables(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if g(ctx).nftables.is_some() {
        ctx.error("nftables already specified - ignoring");
        return Ok(());
    }
    let name = match args.get(1) {
        Some(w) => {
            if !valid_fw_name(ctx, w, NFT_TABLE_MAXNAMELEN, "nftables", "chain") {
                return Ok(());
            }
            w
        }
        None => "keepalived",
    };
    g(ctx).nftables = Some(name.to_string());
    g(ctx).nftables_priority = -1;
    Ok(())
}

fn h_nftables_priority(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    match ctx.read_int(w, i32::MIN, i32::MAX, false) {
        Some(v) => g(ctx).nftables_priority = v,
        None => ctx.report(Severity::InvalidNumber, format!("invalid nftables chain priority '{w}'")),
    }
    Ok(())
}

fn h_nftables_ifindex(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    g(ctx).nftables_ifindex = true;
    Ok(())
}

fn h_nftables_ipvs(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    if g(ctx).nftables_ipvs.is_some() {
        ctx.error("ipvs nftables already specified - ignoring");
        return Ok(());
    }
    let name = match args.get(1) {
        Some(w) => {
            if !valid_fw_name(ctx, w, NFT_TABLE_MAXNAMELEN, "nftables", "ipvs chain") {
                return Ok(());
            }
            w
        }
        None => "keepalived_ipvs",
    };
    let gd = g(ctx);
    gd.nftables_ipvs = Some(name.to_string());
    gd.nftables_ipvs_priority = -1;
    gd.nftables_ipvs_start_fwmark = 1000;
    Ok(())
}

fn h_nftables_ipvs_priority(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    match ctx.read_int(w, i32::MIN, i32::MAX, false) {
        Some(v) => g(ctx).nftables_ipvs_priority = v,
        None => ctx.report(Severity::InvalidNumber, format!("invalid ipvs nftables chain priority '{w}'")),
    }
    Ok(())
}

fn h_nftables_ipvs_start_fwmark(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    match ctx.read_unsigned(w, 1, u32::MAX, false) {
        Some(v) => g(ctx).nftables_ipvs_start_fwmark = v,
        None => ctx.report(Severity::InvalidNumber, format!("invalid ipvs nftables start_fwmark priority '{w}'")),
    }
    Ok(())
}

fn h_nftables_counters(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    g(ctx).nftables_counters = true;
    Ok(())
}

// ---------------------------------------------------------------- FIFOs

#[derive(Clone, Copy)]
enum Fifo {
    Global,
    Vrrp,
    Lvs,
}

impl Fifo {
    fn prefix(self) -> &'static str {
        match self {
            Fifo::Global => "",
            Fifo::Vrrp => "vrrp_",
            Fifo::Lvs => "lvs_",
        }
    }
    fn get(self, ctx: &mut Ctx) -> &mut NotifyFifo {
        match self {
            Fifo::Global => &mut ctx.cfg.global.notify_fifo,
            Fifo::Vrrp => &mut ctx.cfg.global.vrrp_notify_fifo,
            Fifo::Lvs => &mut ctx.cfg.global.lvs_notify_fifo,
        }
    }
}

fn notify_fifo(ctx: &mut Ctx, args: &Args<'_>, f: Fifo) -> Res {
    let t = f.prefix();
    let Some(name) = args.get(1) else {
        ctx.error(format!("No {t}notify_fifo name specified"));
        return Ok(());
    };
    if f.get(ctx).name.is_some() {
        ctx.error(format!("{t}notify_fifo already specified - ignoring {name}"));
        return Ok(());
    }
    // keepalived prints the (not yet set) FIFO name as "(null)".
    if let Some(user) = args.get(2) {
        let origin = Some(args.origin());
        if scripts::resolve_user(ctx, origin, user, args.get(3)).is_none() {
            ctx.log(format!("Invalid user/group for {t} fifo (null) - ignoring"));
            return Ok(());
        }
    } else if scripts::get_default_script_user(ctx).is_none() {
        ctx.log(format!("Failed to set default user for {t} fifo (null) - ignoring"));
        return Ok(());
    }
    let fifo = f.get(ctx);
    fifo.name = Some(name.to_string());
    fifo.user = args.get(2).map(str::to_string);
    fifo.group = args.get(3).map(str::to_string);
    fifo.origin = Some(args.origin());
    Ok(())
}

fn notify_fifo_script(ctx: &mut Ctx, args: &Args<'_>, f: Fifo) -> Res {
    let t = f.prefix();
    if args.len() < 2 {
        ctx.error(format!("No {t}notify_fifo_script specified"));
        return Ok(());
    }
    if f.get(ctx).script.is_some() {
        ctx.error(format!("{t}notify_fifo_script already specified - ignoring {}", args.word(1)));
        return Ok(());
    }
    let kind = format!("{t}notify_fifo");
    let s = ctx.read_script(args, &kind);
    f.get(ctx).script = s;
    Ok(())
}

fn h_notify_fifo(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    notify_fifo(ctx, args, Fifo::Global)
}
fn h_notify_fifo_script(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    notify_fifo_script(ctx, args, Fifo::Global)
}
fn h_vrrp_notify_fifo(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    notify_fifo(ctx, args, Fifo::Vrrp)
}
fn h_vrrp_notify_fifo_script(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    notify_fifo_script(ctx, args, Fifo::Vrrp)
}
fn h_lvs_notify_fifo(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    notify_fifo(ctx, args, Fifo::Lvs)
}
fn h_lvs_notify_fifo_script(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    notify_fifo_script(ctx, args, Fifo::Lvs)
}

fn h_vrrp_notify_priority_changes(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = global_bool(ctx, args, "vrrp_notify_priority_changes") {
        g(ctx).vrrp_notify_priority_changes = b;
    }
    Ok(())
}

fn h_fifo_write_vrrp_states_on_reload(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    g(ctx).fifo_write_vrrp_states_on_reload = true;
    Ok(())
}

// ---------------------------------------------------------------- SNMP / DBus

fn h_snmp_socket(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    if args.len() > 2 {
        ctx.error("Too many parameters specified for snmp_socket - ignoring");
        return Ok(());
    }
    let Some(w) = args.get(1) else {
        ctx.error("SNMP error : snmp socket name missing");
        return Ok(());
    };
    if w.len() > 4096 - 1 {
        ctx.error("SNMP error : snmp socket name too long - ignored");
        return Ok(());
    }
    if let Some(cur) = g(ctx).snmp_socket.clone() {
        ctx.error(format!("SNMP socket already set to {cur} - ignoring"));
        return Ok(());
    }
    g(ctx).snmp_socket = Some(w.to_string());
    Ok(())
}

fn h_enable_traps(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    g(ctx).enable_traps = true;
    Ok(())
}
fn h_enable_snmp_vrrp(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    g(ctx).enable_snmp_vrrp = true;
    Ok(())
}
fn h_enable_snmp_rfc(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    g(ctx).enable_snmp_rfcv2 = true;
    g(ctx).enable_snmp_rfcv3 = true;
    Ok(())
}
fn h_enable_snmp_rfcv2(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    g(ctx).enable_snmp_rfcv2 = true;
    Ok(())
}
fn h_enable_snmp_rfcv3(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    g(ctx).enable_snmp_rfcv3 = true;
    Ok(())
}
fn h_enable_snmp_checker(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    g(ctx).enable_snmp_checker = true;
    Ok(())
}

fn snmp_stats(ctx: &mut Ctx, args: &Args<'_>, rs: bool) -> Res {
    not_implemented(ctx, args);
    let w = ctx.req(args, 1)?;
    match ctx.read_timer(w, 1000, 30 * TIMER_HZ, true) {
        Some(v) if rs => g(ctx).snmp_rs_stats_update_interval = v,
        Some(v) => g(ctx).snmp_vs_stats_update_interval = v,
        // keepalived uses the "vs" text for both keywords
        None => ctx.error(format!("snmp stats vs update interval '{w}' invalid - ignoring")),
    }
    Ok(())
}

fn h_snmp_vs_stats(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    snmp_stats(ctx, args, false)
}
fn h_snmp_rs_stats(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    snmp_stats(ctx, args, true)
}

fn h_enable_dbus(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    g(ctx).enable_dbus = true;
    Ok(())
}

fn h_dbus_service_name(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    match args.get(1) {
        None => ctx.error("dbus_service_name missing - ignoring"),
        Some(w) => g(ctx).dbus_service_name = Some(w.to_string()),
    }
    Ok(())
}

fn h_dbus_no_interface_name(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    match args.get(1) {
        None => ctx.error("dbus_no_interface_name missing - ignoring"),
        Some(w) => g(ctx).dbus_no_interface_name = Some(w.to_string()),
    }
    Ok(())
}

// ---------------------------------------------------------------- script user / security

fn h_script_user(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let Some(user) = args.get(1) else {
        ctx.error("No script username specified");
        return Ok(());
    };
    let group = args.get(2);
    // keepalived `set_default_script_user`: reset, then resolve (sticky).
    let gd = g(ctx);
    gd.default_script_uid_set = true;
    gd.default_user_fail = false;
    gd.default_script_ids = None;
    let origin = Some(args.origin());
    match scripts::resolve_user(ctx, origin, user, group) {
        Some((uid, gid)) => {
            let sup = g(ctx).set_supplementary_groups || group.is_some_and(|x| x.starts_with(':'));
            let gd = g(ctx);
            gd.default_script_ids = Some((uid, gid));
            gd.script_user = Some(ScriptUser {
                user: user.to_string(),
                group: group.map(str::to_string),
                uid,
                gid,
                set_supplementary_groups: sup,
            });
        }
        None => {
            g(ctx).default_user_fail = true;
            ctx.error("Error setting global script uid/gid");
        }
    }
    Ok(())
}

fn h_enable_script_security(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    g(ctx).enable_script_security = true;
    Ok(())
}

// ---------------------------------------------------------------- misc

fn h_umask(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let mask = ctx.req(args, 1)?;
    const S_IRWXUGO: i64 = 0o777;
    let bits: u32;
    if mask.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        if args.len() != 2 {
            ctx.error(format!("{} parameter(s) to umask option", if args.len() == 1 { "Missing" } else { "Extra" }));
            return Ok(());
        }
        // strtol base 0
        let (radix, digits) = if let Some(h) = mask.strip_prefix("0x").or_else(|| mask.strip_prefix("0X")) {
            (16, h)
        } else if mask.len() > 1 && mask.starts_with('0') {
            (8, &mask[1..])
        } else {
            (10, mask)
        };
        match i64::from_str_radix(digits, radix) {
            Ok(v) if v >= 0 && v & !S_IRWXUGO == 0 && !digits.is_empty() => bits = v as u32,
            _ => {
                ctx.error(format!("invalid umask value {mask}"));
                return Ok(());
            }
        }
    } else {
        const NAMES: [(&str, u32); 12] = [
            ("IRUSR", 0o400),
            ("IWUSR", 0o200),
            ("IXUSR", 0o100),
            ("IRWXU", 0o700),
            ("IRGRP", 0o040),
            ("IWGRP", 0o020),
            ("IXGRP", 0o010),
            ("IRWXG", 0o070),
            ("IROTH", 0o004),
            ("IWOTH", 0o002),
            ("IXOTH", 0o001),
            ("IRWXO", 0o007),
        ];
        let mut acc = 0u32;
        let mut need_or = false;
        for w in args.rest(1) {
            let mut p = w;
            while !p.is_empty() {
                if need_or {
                    if let Some(r) = p.strip_prefix('|') {
                        need_or = false;
                        p = r;
                        continue;
                    }
                    ctx.error(format!("Invalid umask syntax {w}"));
                    return Ok(());
                }
                match NAMES.iter().find(|(n, _)| p.starts_with(n)) {
                    Some((_, b)) => acc |= b,
                    None => {
                        ctx.error(format!("Unknown umask bit {p}"));
                        return Ok(());
                    }
                }
                p = &p[5..];
                need_or = true;
            }
        }
        if !need_or {
            ctx.error("umask missing bit value");
            return Ok(());
        }
        bits = acc;
    }
    g(ctx).umask = Some(bits);
    Ok(())
}

fn h_random_seed(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    match ctx.read_unsigned(w, 0, UINT_MAX, false) {
        Some(v) => {
            g(ctx).random_seed = Some(v);
            ctx.pp.set_random_seed(v as u64);
        }
        None => ctx.error(format!("random_seed {w} invalid")),
    }
    Ok(())
}

fn h_include_check(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let words: Vec<&str> = args.rest(1).collect();
    ctx.pp.set_include_check(&words, &mut ctx.diags);
    g(ctx).include_check = Some(words.iter().map(|s| s.to_string()).collect());
    Ok(())
}

fn h_reload_check_config(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let v = args.get(1).unwrap_or("/dev/null").to_string();
    g(ctx).reload_check_config = Some(v);
    Ok(())
}

fn h_reload_time_file(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    if args.len() != 2 {
        ctx.error("reload_time_file invalid");
        return Ok(());
    }
    g(ctx).reload_time_file = Some(args.word(1).to_string());
    Ok(())
}

fn h_reload_repeat(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    g(ctx).reload_repeat = true;
    Ok(())
}

fn h_reload_file(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    g(ctx).reload_file = Some(match args.get(1) {
        Some(w) => ReloadFile::Path(w.to_string()),
        None => ReloadFile::Default,
    });
    Ok(())
}

fn h_config_save_dir(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    let dir = ctx.req(args, 1)?;
    let save = |d: &str| d.strip_suffix('/').unwrap_or(d).to_string();
    match std::fs::metadata(dir) {
        Ok(md) if md.is_dir() => g(ctx).config_save_dir = Some(save(dir)),
        Ok(_) => ctx.error(format!("config_save_dir {dir} exists and is not a directory")),
        // The parent creates a missing directory when it starts.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => g(ctx).config_save_dir = Some(save(dir)),
        Err(e) => {
            let n = e.raw_os_error().unwrap_or(0);
            let desc = nix::errno::Errno::from_raw(n).desc();
            ctx.error(format!("config_save_dir {dir} error {n} - {desc}"));
        }
    }
    Ok(())
}

fn h_tmp_config_directory(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let kw = args.word(0);
    if g(ctx).tmp_config_directory.is_some() {
        ctx.error(format!("{kw} already specified - ignoring"));
        return Ok(());
    }
    match args.get(1) {
        Some(w) => g(ctx).tmp_config_directory = Some(w.to_string()),
        None => ctx.error(format!("{kw} missing directory name")),
    }
    Ok(())
}

fn h_data_use_instance(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = global_bool(ctx, args, "date_use_instance") {
        g(ctx).data_use_instance = b;
    }
    Ok(())
}

fn h_json_version(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let Some(w) = args.get(1) else {
        ctx.error(format!("{} requires version", args.word(0)));
        return Ok(());
    };
    match ctx.read_unsigned(w, 1, 2, true) {
        Some(v) => g(ctx).json_version = v,
        None => ctx.error("Invalid JSON version"),
    }
    Ok(())
}

fn h_iproute_usr_dir(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    if args.len() != 2 {
        ctx.error(format!("{} requires path", args.word(0)));
        return Ok(());
    }
    g(ctx).iproute_usr_dir = Some(args.word(1).to_string());
    Ok(())
}

fn h_iproute_etc_dir(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, args);
    if args.len() != 2 {
        ctx.error(format!("{} requires path", args.word(0)));
        return Ok(());
    }
    g(ctx).iproute_etc_dir = Some(args.word(1).to_string());
    Ok(())
}

fn dump_file(ctx: &mut Ctx, args: &Args<'_>) -> Option<String> {
    if args.len() != 2 || args.word(1).is_empty() {
        ctx.error(format!("{} requires a non-empty path", args.word(0)));
        return None;
    }
    Some(args.word(1).to_string())
}

fn h_state_dump_file(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(p) = dump_file(ctx, args) {
        g(ctx).state_dump_file = Some(p);
    }
    Ok(())
}
fn h_stats_dump_file(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(p) = dump_file(ctx, args) {
        g(ctx).stats_dump_file = Some(p);
    }
    Ok(())
}
/// keepalived-rs: where `keepalived --status` connects.
fn h_status_socket(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if args.len() != 2 || !args.word(1).starts_with('/') {
        ctx.error(format!("{} requires an absolute path", args.word(0)));
        return Ok(());
    }
    g(ctx).status_socket = Some(args.word(1).to_string());
    Ok(())
}

/// keepalived-rs: the group, besides root, allowed to read the status.
fn h_status_socket_group(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if args.len() != 2 || args.word(1).is_empty() {
        ctx.error(format!("{} requires a group name", args.word(0)));
        return Ok(());
    }
    g(ctx).status_socket_group = Some(args.word(1).to_string());
    Ok(())
}

/// keepalived-rs: the children keep all their capabilities.
fn h_no_capability_drop(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = opt_bool(ctx, args, |w| format!("Invalid value '{w}' for global no_capability_drop specified")) {
        g(ctx).no_capability_drop = b;
    }
    Ok(())
}

/// keepalived-rs: where the Prometheus metrics are served: an IP
/// address and port, or `unix:` and an absolute path.
fn h_metrics_listen(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let a = args.word(1);
    let valid =
        a.strip_prefix("unix:").map_or_else(|| a.parse::<std::net::SocketAddr>().is_ok(), |p| p.starts_with('/'));
    if args.len() != 2 || !valid {
        ctx.error(format!("{} requires an address: IP:port, [IPv6]:port or unix:/path", args.word(0)));
        return Ok(());
    }
    g(ctx).metrics_listen = Some(args.word(1).to_string());
    Ok(())
}

fn h_json_dump_file(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(p) = dump_file(ctx, args) {
        g(ctx).json_dump_file = Some(p);
    }
    Ok(())
}
