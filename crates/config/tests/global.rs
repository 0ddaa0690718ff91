//! Tests for the `global` area: root options, global_defs keywords,
//! derived defaults and script security.

use keepalived_config::model::global::*;
use keepalived_config::{parse_file, parse_str, ParseOptions, Parsed, Severity, SystemView};

fn opts() -> ParseOptions {
    ParseOptions { system: SystemView::with_interfaces(&["lo", "eth0", "eth1", "eth2", "eth3"]), ..Default::default() }
}

fn parse(text: &str) -> Parsed {
    parse_str("keepalived.conf", text, &opts())
}

fn gd(body: &str) -> Parsed {
    parse(&format!("global_defs {{\n{body}\n}}\n"))
}

fn msgs(p: &Parsed) -> Vec<String> {
    p.diags.iter().map(|d| d.message.clone()).collect()
}

#[track_caller]
fn assert_has(p: &Parsed, needle: &str) {
    assert!(p.diags.has(needle), "missing {needle:?} in {:#?}", msgs(p));
}

#[track_caller]
fn assert_clean(p: &Parsed) {
    let errs: Vec<_> = p.diags.iter().filter(|d| d.severity != Severity::Notice).map(|d| d.message.clone()).collect();
    assert!(errs.is_empty(), "unexpected diagnostics {errs:#?}");
    assert_eq!(p.test_exit_code(), 0);
}

fn line_of(p: &Parsed, needle: &str) -> Option<u32> {
    p.diags.iter().find(|d| d.message.contains(needle)).and_then(|d| d.origin.as_ref().map(|o| o.line))
}

// ------------------------------------------------------------------ samples

#[test]
fn sample_etc_keepalived_conf_garp_interval_zero() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/samples/etc.keepalived.conf");
    let p = parse_file(path, &opts());
    assert_eq!(line_of(&p, "number '0' outside range [0.000001, 4294.967295]"), Some(15));
    assert_eq!(line_of(&p, "vrrp_garp_interval '0' is invalid"), Some(15));
    assert_eq!(line_of(&p, "vrrp_gna_interval '0' is invalid"), Some(16));
    let n = p.diags.iter().filter(|d| d.message == "number '0' outside range [0.000001, 4294.967295]").count();
    assert_eq!(n, 2);
    // Only the global_defs part: keepalived's exit status 5.
    let text = std::fs::read_to_string(path).unwrap();
    let head: String = text.lines().take(17).map(|l| format!("{l}\n")).collect();
    let p = parse(&head);
    assert_eq!(
        msgs(&p),
        vec![
            "number '0' outside range [0.000001, 4294.967295]",
            "vrrp_garp_interval '0' is invalid",
            "number '0' outside range [0.000001, 4294.967295]",
            "vrrp_gna_interval '0' is invalid",
        ]
    );
    assert_eq!(p.test_exit_code(), 5);
    let g = &p.config.global;
    assert_eq!(g.router_id.as_deref(), Some("LVS_DEVEL"));
    assert_eq!(g.notification_email, vec!["acassen@firewall.loc", "failover@firewall.loc", "sysadmin@firewall.loc"]);
    assert_eq!(g.notification_email_from.as_deref(), Some("Alexandre.Cassen@firewall.loc"));
    assert_eq!(g.smtp_server.as_ref().map(|s| s.addr.to_string()), Some("192.168.200.1:25".to_string()));
    assert_eq!(g.smtp_connect_timeout, 30_000_000);
    assert!(g.vrrp_skip_check_adv_addr && g.vrrp_strict);
    assert_eq!(g.vrrp_garp_interval, 0);
    assert_eq!(g.smtp_helo_name.as_deref(), Some("localhost"));
}

// ------------------------------------------------------------------ defaults

#[test]
fn defaults_and_derived_defaults() {
    let p = parse("global_defs {\n}\n");
    assert_clean(&p);
    let g = &p.config.global;
    assert_eq!(g.router_id.as_deref(), Some("localhost"));
    assert_eq!(g.notification_email_from, None);
    assert_eq!(g.smtp_helo_name, None);
    assert_eq!(g.smtp_connect_timeout, 0);
    assert_eq!(g.vrrp_version, 2);
    assert_eq!(g.vrrp_mcast_group4.to_string(), "224.0.0.18");
    assert_eq!(g.vrrp_mcast_group6.to_string(), "ff02::12");
    assert_eq!(g.vrrp_garp_master_delay, 5_000_000);
    assert_eq!(g.vrrp_garp_master_repeat, 5);
    assert_eq!(g.vrrp_garp_master_refresh_repeat, 1);
    assert_eq!(g.vrrp_garp_lower_prio_delay, Some(5_000_000));
    assert_eq!(g.vrrp_garp_lower_prio_repeat, Some(5));
    assert_eq!(g.vrrp_down_timer_adverts, 3);
    assert_eq!(g.vmac_prefix.as_deref(), Some("vrrp"));
    assert_eq!(g.vmac_addr_prefix.as_deref(), Some("vrrp"));
    assert_eq!(g.vrrp.rlimit_rttime, 10_000);
    assert_eq!(g.min_auto_priority_delay, 1_000_000);
    assert_eq!(g.vrrp_rx_bufs_multiplier, 3);
    assert_eq!(g.snmp_rs_stats_update_interval, 5_000_000);
    assert_eq!(g.smtp_alert, None);
    assert_eq!(p.config.root.child_wait_time, 5);

    // smtp_server set: From, HELO and timeout derived from the host name.
    let mut o = opts();
    o.system.hostname = "node1".into();
    let p = parse_str("k.conf", "global_defs {\n smtp_server 10.0.0.1 2525\n}\n", &o);
    assert_clean(&p);
    let g = &p.config.global;
    let me = nix_user();
    assert_eq!(g.notification_email_from.as_deref(), Some(format!("{me}@node1").as_str()));
    assert_eq!(g.smtp_helo_name.as_deref(), Some("node1"));
    assert_eq!(g.smtp_connect_timeout, 30_000_000);
    assert_eq!(g.router_id.as_deref(), Some("node1"));
    assert_eq!(g.smtp_server.as_ref().unwrap().addr.to_string(), "10.0.0.1:2525");

    // No host name: "[unknown]" router id, no From/HELO.
    o.system.hostname = String::new();
    let p = parse_str("k.conf", "global_defs {\n smtp_server 10.0.0.1\n}\n", &o);
    assert_eq!(p.config.global.router_id.as_deref(), Some("[unknown]"));
    assert_eq!(p.config.global.notification_email_from, None);

    // lower-priority GARP defaults follow the master values; vmac_addr_prefix follows vmac_prefix
    let p = gd("vrrp_garp_master_delay 7\nvrrp_garp_master_repeat 3\nvmac_prefix vm");
    assert_clean(&p);
    assert_eq!(p.config.global.vrrp_garp_lower_prio_delay, Some(7_000_000));
    assert_eq!(p.config.global.vrrp_garp_lower_prio_repeat, Some(3));
    assert_eq!(p.config.global.vmac_addr_prefix.as_deref(), Some("vm"));
}

fn nix_user() -> String {
    let uid = std::process::Command::new("id").arg("-un").output().unwrap();
    String::from_utf8_lossy(&uid.stdout).trim().to_string()
}

#[test]
fn vrrp_min_garp_only_changes_defaults() {
    let p = gd("vrrp_min_garp");
    let g = &p.config.global;
    assert_eq!((g.vrrp_garp_master_repeat, g.vrrp_garp_master_refresh_repeat, g.vrrp_garp_master_delay), (1, 0, 0));
    let p = gd("vrrp_garp_master_repeat 3\nvrrp_garp_master_delay 2\nvrrp_min_garp true");
    let g = &p.config.global;
    assert_eq!((g.vrrp_garp_master_repeat, g.vrrp_garp_master_delay), (3, 2_000_000));
    let p = gd("vrrp_min_garp off");
    assert_eq!(p.config.global.vrrp_garp_master_repeat, 5);
    let p = gd("vrrp_min_garp maybe");
    assert_has(&p, "Invalid value for vrrp_min_garp specified");
}

// ------------------------------------------------------------------ root level

#[test]
fn root_keywords() {
    let p = parse(
        "net_namespace blue\nnet_namespace_ipvs\ninstance inst1\nlinkbeat_use_polling\nchild_wait_time 9\nuse_pid_dir\nnamespace_with_ipsets\n",
    );
    assert_eq!(p.test_exit_code(), 0, "{:?}", msgs(&p));
    let r = &p.config.root;
    assert_eq!(r.net_namespace.as_deref(), Some("blue"));
    assert_eq!(r.net_namespace_ipvs.as_deref(), Some(""));
    assert_eq!(r.instance.as_deref(), Some("inst1"));
    assert!(r.use_pid_dir && r.linkbeat_use_polling && r.namespace_with_ipsets);
    assert_eq!(r.child_wait_time, 9);

    let p = parse("net_namespace\nnet_namespace a\nnet_namespace b\ninstance\ninstance x\ninstance y\nchild_wait_time x\nnet_namespace_ipvs a\nnet_namespace_ipvs b\n");
    for m in [
        "net_namespace name missing - ignoring",
        "Duplicate net_namespace definition b - ignoring",
        "instance name missing - ignoring",
        "Duplicate instance definition y - ignoring",
        "invalid number 'x'",
        "Invalid child_wait_time x",
        "Duplicate net_namespace_ipvs definition b - ignoring",
    ] {
        assert_has(&p, m);
    }
    assert_eq!(p.config.root.net_namespace.as_deref(), Some("a"));
    assert_eq!(p.test_exit_code(), 5);

    // root-only keywords are unknown inside global_defs
    let p = gd("net_namespace x\nuse_pid_dir\nchild_wait_time 3\ninstance i\nlinkbeat_use_polling\nnamespace_with_ipsets\nnet_namespace_ipvs");
    for k in [
        "net_namespace",
        "use_pid_dir",
        "child_wait_time",
        "instance",
        "linkbeat_use_polling",
        "namespace_with_ipsets",
        "net_namespace_ipvs",
    ] {
        assert_has(&p, &format!("Unknown keyword '{k}'"));
    }
    assert!(p.config.root.net_namespace.is_none());
    // child_wait_time missing parameter stops the parse (exit 2)
    let p = parse("child_wait_time\n");
    assert_has(&p, "*** Configuration line starting `child_wait_time` is missing a parameter after keyword `child_wait_time` at word position 2");
    assert_eq!(p.test_exit_code(), 2);
}

// ------------------------------------------------------------------ keyword table

/// (global_defs line, message expected) for invalid uses.
const INVALID: &[(&str, &str)] = &[
    (
        "process_name abcdefghijklmnopqrstuvwxyz",
        "Process name abcdefghijklmnopqrstuvwxyz more than 15 characters, truncating",
    ),
    ("use_symlink_paths maybe", "Invalid value 'maybe' for global use_symlink_path specified"),
    ("set_supplementary_groups maybe", "Invalid set_supplementary_groups parameter maybe"),
    ("router_id", "routerid name missing - ignoring"),
    ("notification_email_from", "emailfrom missing - ignoring"),
    ("smtp_server 1.2.3.4 99999", "Invalid smtp server 1.2.3.4 99999"),
    ("smtp_server 10.0.0.1/8 25", "Invalid smtp server 10.0.0.1/8 25"),
    ("smtp_connect_timeout 5000", "smtp_connect_timeout '5000' must be in [0, 4294] - ignoring"),
    ("smtp_connect_timeout 0", "smtp_conect_timeout must be greater than 0, setting to 1"),
    ("smtp_alert maybe", "Invalid value 'maybe' for global smtp_alert specified"),
    ("smtp_alert_vrrp maybe", "Invalid value 'maybe' for global smtp_alert_vrrp specified"),
    ("smtp_alert_checker maybe", "Invalid value 'maybe' for global smtp_alert_checker specified"),
    ("checker_log_all_failures maybe", "Invalid value for checker_log_all_failures specified"),
    ("startup_script", "startup script missing"),
    ("shutdown_script", "shutdown script missing"),
    ("startup_script_timeout", "startup_script_timeout requires value"),
    ("startup_script_timeout 0", "startup_script_timeout '0' must be in [1, 1000] - ignoring"),
    ("shutdown_script_timeout 1001", "shutdown_script_timeout '1001' must be in [1, 1000] - ignoring"),
    ("max_auto_priority 100", "max_auto_priority '100' must be in [0, 99] (or -1 to disable) - ignoring"),
    ("min_auto_priority_delay", "min_auto_priority_delay requires delay time"),
    ("min_auto_priority_delay 0", "min_auto_priority_delay '0' must be in [1, 10000000] - ignoring"),
    ("dynamic_interfaces foo", "Unknown dynamic_interfaces option 'foo'"),
    ("default_interface", "default_interface requires interface name"),
    ("lvs_timeouts tcp", "lvs_timeouts requires at least one option"),
    ("lvs_timeouts tcp x udp 5", "Invalid lvs_timeout tcp (x) - ignoring"),
    ("lvs_timeouts udp 5 tcpfin", "No value specified for lvs_timeout tcpfin - ignoring"),
    ("lvs_timeouts foo 5", "Unknown option foo specified for lvs_timeouts"),
    ("lvs_flush_on_stop ALL", "Unknown lvs_flush_on_stop type ALL"),
    ("lvs_sync_daemon", "lvs_sync_daemon requires interface"),
    (
        "lvs_sync_daemon averyveryverylongifname",
        "lvs_sync_daemon interface name 'averyveryverylongifname' too long - ignoring",
    ),
    ("lvs_sync_daemon eth0 id 300", "Invalid syncid (300) - defaulting to vrid"),
    ("lvs_sync_daemon eth0 id", "No value specified for lvs_sync_daemon id, defaulting to vrid"),
    ("lvs_sync_daemon eth0 port 0", "Invalid lvs_sync_daemon port (0) - ignoring"),
    ("lvs_sync_daemon eth0 group 10.0.0.1", "lvs_sync_daemon group address 10.0.0.1 is not multicast - ignoring"),
    ("lvs_sync_daemon eth0 VI_1 5", "Please use keyword \"id\" before lvs_sync_daemon SYNCID"),
    ("lvs_sync_daemon eth0 VI_1 5 junk", "Unknown option junk specified for lvs_sync_daemon"),
    ("vrrp_mcast_group4 foo", "Can't parse vrrp_mcast_group4 [foo]. Skipping"),
    ("vrrp_mcast_group4 ff02::1", "vrrp_mcast_group4 [ff02::1] is not IPv4. Skipping"),
    ("vrrp_mcast_group4 10.0.0.1", "vrrp_mcast_group4 [10.0.0.1] is not multicast. Skipping"),
    ("vrrp_mcast_group6 224.0.0.1", "vrrp_mcast_group6 [224.0.0.1] is not IPv6. Skipping"),
    ("vrrp_mcast_group6 fe80::1", "vrrp_mcast_group6 [fe80::1] is not multicast. Skipping"),
    ("vrrp_mcast_group6 ff05::12", "vrrp_mcast_group6 [ff05::12] should be link-local multicast."),
    ("vrrp_garp_master_delay x", "vrrp_garp_master_delay 'x' invalid - ignoring"),
    ("vrrp_garp_master_repeat 0", "vrrp_garp_master_repeat must be greater than 0, setting to 1"),
    ("vrrp_garp_master_repeat -1", "vrrp_garp_master_repeat '-1' invalid - ignoring"),
    ("vrrp_garp_master_refresh x", "Invalid vrrp_garp_master_refresh 'x' - ignoring"),
    ("vrrp_garp_master_refresh_repeat 0", "vrrp_garp_master_refresh_repeat must be greater than 0, setting to 1"),
    ("vrrp_garp_master_refresh_repeat x", "vrrp_garp_master_refresh_repeat 'x' invalid - ignoring"),
    ("vrrp_garp_lower_prio_delay x", "vrrp_garp_lower_prio_delay 'x' invalid - ignoring"),
    ("vrrp_garp_lower_prio_repeat x", "Invalid vrrp_garp_lower_prio_repeat 'x'"),
    ("vrrp_down_timer_adverts 101", "Invalid vrrp_down_timer_adverts [1:100] '101'"),
    ("vrrp_garp_interval 0", "vrrp_garp_interval '0' is invalid"),
    ("vrrp_gna_interval 0", "vrrp_gna_interval '0' is invalid"),
    ("vrrp_garp_extra_if all", "vrrp_garp_extra_if specified without time - ignoring"),
    ("vrrp_garp_extra_if 90000", "vrrp_garp_extra_if '90000' invalid - ignoring"),
    ("vrrp_vmac_garp_intvl 5", "Keyword \"vrrp_vmac_garp_intvl\" is deprecated - please use \"vrrp_garp_extra_if\""),
    ("vrrp_lower_prio_no_advert maybe", "Invalid value for vrrp_lower_prio_no_advert specified"),
    ("vrrp_higher_prio_send_advert maybe", "Invalid value for vrrp_higher_prio_send_advert specified"),
    ("vrrp_version 4", "VRRP Error: Version must be either 2 or 3"),
    ("vrrp_ipsets a a", "vrrp_ipsets: set name a used more than once"),
    ("nftables_priority x", "invalid nftables chain priority 'x'"),
    ("nftables_ipvs_priority x", "invalid ipvs nftables chain priority 'x'"),
    ("nftables_ipvs_start_fwmark 0", "invalid ipvs nftables start_fwmark priority '0'"),
    ("vrrp_priority", "No vrrp process priority specified"),
    ("checker_priority 20", "Invalid checker process priority specified"),
    ("bfd_priority x", "Invalid bfd process priority specified"),
    ("vrrp_rt_priority", "No vrrp process real-time priority specified"),
    ("vrrp_rt_priority x", "vrrp process real-time priority 'x' invalid"),
    ("checker_rt_priority 0", "checker process real-time priority 0 less than minimum 1 - setting to minimum"),
    ("bfd_rt_priority 200", "bfd process real-time priority 200 greater than maximum 99 - setting to maximum"),
    ("vrrp_cpu_affinity", "No vrrp cpu_id set specified"),
    ("checker_cpu_affinity 100000", "Invalid cpu_id:100000 specified for checker process"),
    ("bfd_rlimit_rttime 0", "Invalid bfd real-time limit - 0"),
    ("vrrp_rlimit_rtime 5000", "Keyword 'vrrp_rlimit_rtime' is deprecated - please use 'vrrp_rlimit_rttime'"),
    ("lvs_process_name x", "'lvs_process_name' is deprecated - please use 'checker_process_name'"),
    ("notify_fifo", "No notify_fifo name specified"),
    ("vrrp_notify_fifo /a\nvrrp_notify_fifo /b", "vrrp_notify_fifo already specified - ignoring /b"),
    ("lvs_notify_fifo_script", "No lvs_notify_fifo_script specified"),
    (
        "notify_fifo_script /bin/true\nnotify_fifo_script /bin/false",
        "notify_fifo_script already specified - ignoring /bin/false",
    ),
    ("notify_fifo /x nosuchuser_zz", "Invalid user/group for  fifo (null) - ignoring"),
    ("vrrp_notify_priority_changes maybe", "Invalid value 'maybe' for global vrrp_notify_priority_changes specified"),
    ("snmp_socket a b", "Too many parameters specified for snmp_socket - ignoring"),
    ("snmp_socket", "SNMP error : snmp socket name missing"),
    ("snmp_socket a\nsnmp_socket b", "SNMP socket already set to a - ignoring"),
    ("snmp_vs_stats_update_interval 31", "snmp stats vs update interval '31' invalid - ignoring"),
    ("snmp_rs_stats_update_interval 0", "snmp stats vs update interval '0' invalid - ignoring"),
    ("dbus_service_name", "dbus_service_name missing - ignoring"),
    ("dbus_no_interface_name", "dbus_no_interface_name missing - ignoring"),
    ("script_user", "No script username specified"),
    ("script_user nosuchuser_zz", "Error setting global script uid/gid"),
    ("vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_cmd_rcv_bufs size missing"),
    ("lvs_netlink_monitor_rcv_bufs x", "lvs_netlink_monitor_rcv_bufs size (x) invalid"),
    (
        "process_monitor_rcv_bufs_force maybe",
        "Invalid value 'maybe' for global process_monitor_rcv_bufs_force specified",
    ),
    ("rs_init_notifies maybe", "Invalid value 'maybe' for global rs_init_notifies specified"),
    ("no_checker_emails maybe", "Invalid value 'maybe' for global no_checker_emails specified"),
    ("vrrp_rx_bufs_policy", "vrrp_rx_bufs_policy missing"),
    ("vrrp_rx_bufs_policy MTU ADVERT", "Cannot set both vrrp_rx_bufs_policy MTU and ADVERT, ignoring ADVERT"),
    ("vrrp_rx_bufs_policy 1000 MTU", "Cannot set vrrp_rx_bufs_policy size and policy, ignoring policy"),
    ("vrrp_rx_bufs_policy x", "Invalid vrrp_rx_bufs_policy x"),
    ("vrrp_rx_bufs_multiplier", "Invalid vrrp_rx_bufs_multiplier"),
    ("vrrp_rx_bufs_multiplier 0", "Invalid vrrp_rx_bufs_multiplier 0"),
    ("vrrp_startup_delay 0", "vrrp_startup_delay '0' is invalid"),
    ("vrrp_startup_delay 61", "The vrrp_startup_delay is very large - 61 seconds"),
    ("vrrp_delay_after_boot x", "vrrp_delay_after_boot 'x' is invalid"),
    ("vrrp_owner_ignore_adverts maybe", "Invalid value 'vrrp_owner_ignore_adverts' for global maybe specified"),
    ("vmac_prefix a\nvmac_prefix b", "vmac prefix has already been specified - ignoring b"),
    ("vmac_addr_prefix a\nvmac_addr_prefix b", "vmac_addr prefix has already been specified - ignoring b"),
    ("umask 0777 1", "Extra parameter(s) to umask option"),
    ("umask 01000", "invalid umask value 01000"),
    ("umask IRUSR|FOO", "Unknown umask bit FOO"),
    ("umask IRUSR IWUSR", "Invalid umask syntax IWUSR"),
    ("umask IRUSR|", "umask missing bit value"),
    ("random_seed x", "random_seed x invalid"),
    ("reload_time_file", "reload_time_file invalid"),
    ("tmp_config_directory", "tmp_config_directory missing directory name"),
    ("tmp_config_directory /a\ntmp_config_directory /b", "tmp_config_directory already specified - ignoring"),
    ("data_use_instance maybe", "Invalid value 'maybe' for global date_use_instance specified"),
    ("json_version", "json_version requires version"),
    ("json_version 3", "Invalid JSON version"),
    ("iproute_usr_dir", "iproute_usr_dir requires path"),
    ("iproute_etc_dir a b", "iproute_etc_dir requires path"),
    ("state_dump_file", "state_dump_file requires a non-empty path"),
    ("stats_dump_file a b", "stats_dump_file requires a non-empty path"),
    ("json_dump_file \"\"", "json_dump_file requires a non-empty path"),
    ("include_check foo", "Unknown include_check type 'foo' - ignoring"),
    ("include_check read match", "Duplicate include_check 'match' specified - ignoring"),
    ("config_save_dir /etc/hostname", "config_save_dir /etc/hostname exists and is not a directory"),
    ("nftables\nnftables", "nftables already specified - ignoring"),
    ("nftables_ipvs\nnftables_ipvs", "ipvs nftables already specified - ignoring"),
    ("vrrp_iptables IN OUT", "iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option"),
    ("lvs_sync_daemon eth0\nlvs_sync_daemon eth1", "lvs_sync_daemon has already been specified as eth0  - ignoring"),
];

#[test]
fn invalid_values_report_keepalived_messages() {
    for (line, msg) in INVALID {
        let p = gd(line);
        assert!(p.diags.has(msg), "{line:?}: missing {msg:?} in {:#?}", msgs(&p));
        assert!(!p.diags.stopped, "{line:?} stopped the parse");
    }
}

/// Keywords whose missing value is a NULL strvec slot in keepalived: exit 2.
#[test]
fn missing_parameters_stop_the_parse() {
    for kw in [
        "process_name",
        "smtp_server",
        "smtp_connect_timeout",
        "vrrp_mcast_group4",
        "vrrp_garp_master_delay",
        "vrrp_garp_interval",
        "vrrp_version",
        "vrrp_rlimit_rttime",
        "nftables_priority",
        "vmac_prefix",
        "umask",
        "random_seed",
        "config_save_dir",
        "vrrp_startup_delay",
        "snmp_vs_stats_update_interval",
    ] {
        let p = gd(kw);
        assert!(
            p.diags.has(&format!("*** Configuration line starting `{kw}` is missing a parameter")),
            "{kw}: {:?}",
            msgs(&p)
        );
        assert_eq!(p.test_exit_code(), 2, "{kw}");
    }
    let p = gd("lvs_sync_daemon eth0 inst");
    assert_eq!(p.test_exit_code(), 2);
}

#[test]
fn valid_values_are_stored() {
    let p = gd(r#"
process_names
process_name ka
bfd_process_name kbfd
use_symlink_paths
set_supplementary_groups false
router_id R1
notification_email {
  "Joe B. Bloggs <joe@example.com>"
  a@b c@d
}
notification_email_from "J. Doe <jd@example.com>"
smtp_server 127.0.0.1 2525
smtp_helo_name helo.example
smtp_connect_timeout 12
smtp_alert
smtp_alert_vrrp off
smtp_alert_checker yes
checker_log_all_failures
startup_script "/bin/echo start" root
startup_script_timeout 20
shutdown_script /bin/true root
max_auto_priority
min_auto_priority_delay 5000
dynamic_interfaces allow_if_changes
no_email_faults
default_interface eth1
v3_checksum_as_v2
lvs_timeouts tcp 100 tcpfin 20 udp 30
lvs_flush
lvs_flush_onstop VS
lvs_sync_daemon eth0 inst VI_1 id 7 maxlen 1400 port 9000 ttl 3 group 224.0.0.99
vrrp_mcast_group4 224.0.0.19
vrrp_mcast_group6 ff02::13
vrrp_garp_master_delay 2
vrrp_garp_master_repeat 4
vrrp_garp_master_refresh 60
vrrp_garp_master_refresh_repeat 2
vrrp_garp_lower_prio_delay 3
vrrp_garp_lower_prio_repeat 6
vrrp_down_timer_adverts 4
vrrp_garp_interval 0.001
vrrp_gna_interval 0.002
vrrp_garp_extra_if all 30
vrrp_lower_prio_no_advert
vrrp_higher_prio_send_advert true
vrrp_version 3
vrrp_check_unicast_src
vrrp_skip_check_adv_addr
vrrp_strict
vrrp_priority -5
vrrp_no_swap
vrrp_rt_priority 50
vrrp_cpu_affinity 0
vrrp_rlimit_rttime 1
checker_priority 3
checker_no_swap
checker_rt_priority 20
checker_rlimit_rttime 20000
bfd_priority 2
bfd_no_swap
bfd_rt_priority 30
bfd_rlimit_rttime 30000
notify_fifo /run/ka.fifo
notify_fifo_script "/bin/echo fifo" root
vrrp_notify_fifo /run/vrrp.fifo
vrrp_notify_priority_changes
fifo_write_vrrp_states_on_reload
lvs_notify_fifo /run/lvs.fifo root
script_user root
enable_script_security
vrrp_netlink_cmd_rcv_bufs 1000
vrrp_netlink_cmd_rcv_bufs_force
vrrp_netlink_monitor_rcv_bufs 2000
vrrp_netlink_monitor_rcv_bufs_force no
process_monitor_rcv_bufs 3000
process_monitor_rcv_bufs_force
lvs_netlink_cmd_rcv_bufs 4000
lvs_netlink_cmd_rcv_bufs_force
lvs_netlink_monitor_rcv_bufs 5000
lvs_netlink_monitor_rcv_bufs_force
rs_init_notifies
no_checker_emails
vrrp_rx_bufs_policy MTU
vrrp_rx_bufs_multiplier 4
vrrp_startup_delay 2.5
vrrp_delay_after_boot 30
log_unknown_vrids
vrrp_owner_ignore_adverts
vmac_prefix vm
vmac_addr_prefix va
umask IRWXG|IRWXO
random_seed 1234
reload_check_config /tmp/check.log
reload_time_file /tmp/reload.time
reload_repeat
reload_file
config_save_dir /tmp
tmp_config_directory /tmp
data_use_instance
json_version 2
iproute_usr_dir /usr/share/iproute2
iproute_etc_dir /etc/iproute2
state_dump_file /tmp/state
stats_dump_file /tmp/stats
json_dump_file /tmp/json
include_check +read
"#);
    assert_clean(&p);
    let g = &p.config.global;
    assert_eq!(g.vrrp.process_name.as_deref(), Some("keepalived_vrrp"));
    assert_eq!(g.checker.process_name.as_deref(), Some("keepalived_lvs"));
    assert_eq!(g.bfd.process_name.as_deref(), Some("kbfd"));
    assert_eq!(g.process_name.as_deref(), Some("ka"));
    assert!(g.use_symlink_paths && !g.set_supplementary_groups);
    assert_eq!(g.router_id.as_deref(), Some("R1"));
    assert_eq!(g.notification_email, vec!["\"Joe B. Bloggs\" <joe@example.com>", "a@b", "c@d"]);
    assert_eq!(g.notification_email_from.as_deref(), Some("\"J. Doe\" <jd@example.com>"));
    assert_eq!(g.smtp_server.as_ref().unwrap().addr.to_string(), "127.0.0.1:2525");
    assert_eq!(g.smtp_helo_name.as_deref(), Some("helo.example"));
    assert_eq!(g.smtp_connect_timeout, 12_000_000);
    assert_eq!((g.smtp_alert, g.smtp_alert_vrrp, g.smtp_alert_checker), (Some(true), Some(false), Some(true)));
    assert!(g.checker_log_all_failures && g.no_email_faults && g.v3_checksum_as_v2);
    let ss = g.startup_script.as_ref().unwrap();
    assert_eq!(ss.args, vec!["/bin/echo", "start"]);
    assert_eq!(ss.user.as_deref(), Some("root"));
    assert_eq!(g.startup_script_timeout, 20);
    assert_eq!(g.shutdown_script.as_ref().unwrap().args, vec!["/bin/true"]);
    assert_eq!(g.shutdown_script_timeout, 10);
    assert_eq!(g.max_auto_priority, 99);
    assert_eq!(g.min_auto_priority_delay, 5000);
    assert!(g.dynamic_interfaces && g.allow_if_changes);
    assert_eq!(g.default_interface.as_deref(), Some("eth1"));
    assert_eq!(g.lvs_timeouts, LvsTimeouts { tcp: Some(100), tcpfin: Some(20), udp: Some(30) });
    assert!(g.lvs_flush);
    assert_eq!(g.lvs_flush_on_stop, LvsFlushOnStop::Vs);
    let sd = g.lvs_sync_daemon.as_ref().unwrap();
    assert_eq!(sd.interface, "eth0");
    assert_eq!(sd.vrrp_instance.as_deref(), Some("VI_1"));
    assert_eq!((sd.syncid, sd.maxlen, sd.port, sd.ttl), (Some(7), Some(1400), Some(9000), Some(3)));
    assert_eq!(sd.group.map(|a| a.to_string()).as_deref(), Some("224.0.0.99"));
    assert_eq!(g.vrrp_mcast_group4.to_string(), "224.0.0.19");
    assert_eq!(g.vrrp_mcast_group6.to_string(), "ff02::13");
    assert_eq!(g.vrrp_garp_master_delay, 2_000_000);
    assert_eq!(g.vrrp_garp_master_repeat, 4);
    assert_eq!(g.vrrp_garp_master_refresh, 60);
    assert_eq!(g.vrrp_garp_master_refresh_repeat, 2);
    assert_eq!(g.vrrp_garp_lower_prio_delay, Some(3_000_000));
    assert_eq!(g.vrrp_garp_lower_prio_repeat, Some(6));
    assert_eq!(g.vrrp_down_timer_adverts, 4);
    assert_eq!((g.vrrp_garp_interval, g.vrrp_gna_interval), (1000, 2000));
    assert_eq!((g.vrrp_garp_extra_if, g.vrrp_garp_extra_if_all), (30, true));
    assert!(g.vrrp_lower_prio_no_advert && g.vrrp_higher_prio_send_advert);
    assert_eq!(g.vrrp_version, 3);
    assert!(g.vrrp_check_unicast_src && g.vrrp_skip_check_adv_addr && g.vrrp_strict);
    assert_eq!((g.vrrp.priority, g.vrrp.no_swap, g.vrrp.rt_priority), (-5, true, Some(50)));
    assert_eq!(g.vrrp.cpu_affinity, vec![0]);
    assert_eq!(g.vrrp.rlimit_rttime, 2);
    assert_eq!(
        (g.checker.priority, g.checker.no_swap, g.checker.rt_priority, g.checker.rlimit_rttime),
        (3, true, Some(20), 20000)
    );
    assert_eq!((g.bfd.priority, g.bfd.no_swap, g.bfd.rt_priority, g.bfd.rlimit_rttime), (2, true, Some(30), 30000));
    assert_eq!(g.notify_fifo.name.as_deref(), Some("/run/ka.fifo"));
    // the FIFO name is appended to the FIFO script's arguments
    assert_eq!(g.notify_fifo.script.as_ref().unwrap().args, vec!["/bin/echo", "fifo", "/run/ka.fifo"]);
    assert_eq!(g.vrrp_notify_fifo.name.as_deref(), Some("/run/vrrp.fifo"));
    assert!(g.vrrp_notify_priority_changes && g.fifo_write_vrrp_states_on_reload);
    assert_eq!(g.lvs_notify_fifo.user.as_deref(), Some("root"));
    assert_eq!(g.script_user.as_ref().map(|u| (u.user.as_str(), u.uid)), Some(("root", 0)));
    assert!(g.enable_script_security);
    assert_eq!((g.vrrp_netlink_cmd_rcv_bufs, g.vrrp_netlink_cmd_rcv_bufs_force), (Some(1000), true));
    assert_eq!((g.vrrp_netlink_monitor_rcv_bufs, g.vrrp_netlink_monitor_rcv_bufs_force), (Some(2000), false));
    assert_eq!((g.process_monitor_rcv_bufs, g.process_monitor_rcv_bufs_force), (Some(3000), true));
    assert_eq!((g.lvs_netlink_cmd_rcv_bufs, g.lvs_netlink_cmd_rcv_bufs_force), (Some(4000), true));
    assert_eq!((g.lvs_netlink_monitor_rcv_bufs, g.lvs_netlink_monitor_rcv_bufs_force), (Some(5000), true));
    assert!(g.rs_init_notifies && g.no_checker_emails);
    assert_eq!(g.vrrp_rx_bufs_policy, RxBufsPolicy { mtu: true, advert: false, size: None });
    assert_eq!(g.vrrp_rx_bufs_multiplier, 4);
    assert_eq!(g.vrrp_startup_delay, 2_500_000);
    assert_eq!(g.vrrp_delay_after_boot, Some(30_000_000));
    assert!(g.log_unknown_vrids && g.vrrp_owner_ignore_adverts);
    assert_eq!((g.vmac_prefix.as_deref(), g.vmac_addr_prefix.as_deref()), (Some("vm"), Some("va")));
    assert_eq!(g.umask, Some(0o077));
    assert_eq!(g.random_seed, Some(1234));
    assert_eq!(g.reload_check_config.as_deref(), Some("/tmp/check.log"));
    assert_eq!(g.reload_time_file.as_deref(), Some("/tmp/reload.time"));
    assert!(g.reload_repeat);
    assert_eq!(g.reload_file, Some(ReloadFile::Path("/run/keepalived.reload".into())));
    assert_eq!(g.config_save_dir.as_deref(), Some("/tmp"));
    assert_eq!(g.tmp_config_directory.as_deref(), Some("/tmp"));
    assert!(g.data_use_instance);
    assert_eq!(g.json_version, 2);
    assert_eq!(g.iproute_usr_dir.as_deref(), Some("/usr/share/iproute2"));
    assert_eq!(g.iproute_etc_dir.as_deref(), Some("/etc/iproute2"));
    assert_eq!(g.state_dump_file.as_deref(), Some("/tmp/state"));
    assert_eq!(g.stats_dump_file.as_deref(), Some("/tmp/stats"));
    assert_eq!(g.json_dump_file.as_deref(), Some("/tmp/json"));
    assert_eq!(g.include_check, Some(vec!["+read".to_string()]));
}

#[test]
fn not_implemented_features_are_noticed_but_accepted() {
    let p = gd("enable_snmp_vrrp\nenable_snmp_keepalived\nenable_snmp_checker\nenable_snmp_rfc\nenable_snmp_rfcv2\nenable_snmp_rfcv3\nenable_traps\nsnmp_socket udp:1.2.3.4:705\nsnmp_vs_stats_update_interval 1\nsnmp_rs_stats_update_interval 2\nenable_dbus\ndbus_service_name org.x\ndbus_no_interface_name none\nnftables\nnftables_priority 5\nnftables_counters\nnftables_ifindex\nnftables_ipvs tbl\nnftables_ipvs_priority 3\nnftables_ipvs_start_fwmark 100");
    assert_eq!(p.test_exit_code(), 0, "{:?}", msgs(&p));
    assert_has(&p, "'enable_dbus' is accepted but not implemented by keepalived-rs");
    assert!(p
        .diags
        .iter()
        .filter(|d| d.message.contains("accepted but not implemented"))
        .all(|d| d.severity == Severity::Notice));
    let g = &p.config.global;
    assert!(
        g.enable_snmp_vrrp
            && g.enable_snmp_checker
            && g.enable_snmp_rfcv2
            && g.enable_snmp_rfcv3
            && g.enable_traps
            && g.enable_dbus
    );
    assert_eq!(g.snmp_socket.as_deref(), Some("udp:1.2.3.4:705"));
    assert_eq!((g.snmp_vs_stats_update_interval, g.snmp_rs_stats_update_interval), (1_000_000, 2_000_000));
    assert_eq!(g.dbus_service_name.as_deref(), Some("org.x"));
    assert_eq!(g.nftables.as_deref(), Some("keepalived"));
    assert_eq!(g.nftables_priority, 5);
    assert_eq!(g.nftables_ipvs.as_deref(), Some("tbl"));
    assert_eq!((g.nftables_ipvs_priority, g.nftables_ipvs_start_fwmark), (3, 100));
    // Debian's 2.2.7 is built without iptables: vrrp_iptables is an
    // error and selects nftables with the default table.
    let p = gd("vrrp_iptables IN OUT");
    assert_eq!(p.test_exit_code(), 5);
    assert_eq!(p.config.global.nftables.as_deref(), Some("keepalived"));
    assert_eq!(p.config.global.vrrp_iptables_inchain, None);
    let p = gd("vrrp_ipsets ka");
    assert_has(&p, "vrrp_ipsets has been specified but not vrrp_iptables - vrrp_ipsets will be ignored");
}

#[test]
fn notification_email_block() {
    let p = gd("notification_email {\n}");
    assert_has(&p, "Warning - empty notification_email block");
    let p = gd("notification_email {\n a@b\n}\nnotification_email {\n c@d\n}");
    assert_clean(&p);
    assert_eq!(p.config.global.notification_email, vec!["a@b", "c@d"]);
    let p = gd("notification_email_from \"Back\\slash, Q <x@y>\"");
    assert_eq!(p.config.global.notification_email_from.as_deref(), Some("\"Back\\\\slash, Q\" <x@y>"));
    let p = gd("notification_email_from \"Plain Name <x@y>\"");
    assert_eq!(p.config.global.notification_email_from.as_deref(), Some("Plain Name <x@y>"));
}

#[test]
fn script_timeouts_default_once_script_set() {
    let p = gd("startup_script /bin/true root");
    assert_eq!(p.config.global.startup_script_timeout, 10);
    assert_eq!(p.config.global.shutdown_script_timeout, 0);
    let p = gd("startup_script /bin/true root\nstartup_script /bin/false root");
    assert_has(&p, "startup script already specified");
    let p = gd("shutdown_script \"/bin/x 'a\" root");
    assert_has(&p, "Invalid shutdown script");
}

#[test]
fn process_name_truncated_to_15() {
    let p = gd("vrrp_process_name abcdefghijklmnopq");
    assert_has(&p, "Process name abcdefghijklmnopq more than 15 characters, truncating");
    assert_eq!(p.config.global.vrrp.process_name.as_deref(), Some("abcdefghijklmno"));
}

#[test]
fn cpu_affinity_error_clears_set() {
    let p = gd("vrrp_cpu_affinity 0\nvrrp_cpu_affinity 0 x");
    assert_has(&p, "Invalid cpu_id:0 specified for vrrp process");
    assert!(p.config.global.vrrp.cpu_affinity.is_empty());
}

#[test]
fn errors_that_reset_values() {
    // get_priority/get_rt_rlimit set 0 on error
    let p = gd("vrrp_priority 5\nvrrp_priority 50\nvrrp_rlimit_rttime x");
    assert_eq!(p.config.global.vrrp.priority, 0);
    assert_eq!(p.config.global.vrrp.rlimit_rttime, 0);
    // an invalid vrrp_garp_master_refresh resets it to 0
    let p = gd("vrrp_garp_master_refresh 5\nvrrp_garp_master_refresh x");
    assert_eq!(p.config.global.vrrp_garp_master_refresh, 0);
    // an invalid smtp_server clears an earlier one
    let p = gd("smtp_server 10.0.0.1\nsmtp_server 10.0.0.2 0");
    assert!(p.config.global.smtp_server.is_none());
    assert_has(&p, "number '0' outside range [1, 65535]");
    // a name with '-' or '/' is not tried as an address: one port report
    let p = gd("smtp_server 10.0.0.1/8 0");
    assert_eq!(p.diags.iter().filter(|d| d.message == "number '0' outside range [1, 65535]").count(), 1);
    // a host name is resolved
    let p = gd("smtp_server localhost 25");
    assert!(p.config.global.smtp_server.is_some(), "{:?}", msgs(&p));
}

#[test]
fn umask_forms() {
    assert_eq!(gd("umask 0177").config.global.umask, Some(0o177));
    assert_eq!(gd("umask 0x3f").config.global.umask, Some(0o77));
    assert_eq!(gd("umask 63").config.global.umask, Some(0o77));
    assert_eq!(gd("umask IXUSR | IRWXG|IRWXO").config.global.umask, Some(0o177));
}

#[test]
fn reload_file_default_paths() {
    let p = gd("reload_file");
    assert_eq!(p.config.global.reload_file, Some(ReloadFile::Path("/run/keepalived.reload".into())));
    let p = parse("instance web\nglobal_defs {\nreload_file\n}\n");
    assert_eq!(p.config.global.reload_file, Some(ReloadFile::Path("/run/keepalived/keepalived_web.reload".into())));
    let p = parse("use_pid_dir\nglobal_defs {\nreload_file\n}\n");
    assert_eq!(p.config.global.reload_file, Some(ReloadFile::Path("/run/keepalived/keepalived.reload".into())));
}

#[test]
fn fifo_conflicts() {
    let p = gd("notify_fifo /f\nvrrp_notify_fifo /f\nlvs_notify_fifo /f");
    assert_has(&p, "notify FIFO /f has been specified for global and vrrp FIFO - ignoring vrrp FIFO");
    assert_has(&p, "notify FIFO /f has been specified for global and LVS FIFO - ignoring LVS FIFO");
    assert_eq!(p.config.global.vrrp_notify_fifo.name, None);
    assert_eq!(p.config.global.lvs_notify_fifo.name, None);
    let p = gd("vrrp_notify_fifo /f\nvrrp_notify_fifo_script /bin/true root\nlvs_notify_fifo /f\nlvs_notify_fifo_script /bin/false root");
    assert_has(&p, "LVS notify FIFO and vrrp FIFO are the same both with scripts - ignoring LVS FIFO script");
    assert!(p.config.global.lvs_notify_fifo.script.is_none());
}

#[test]
fn random_seed_reseeds_random() {
    let text = "global_defs {\nrandom_seed 42\n}\n$R=${_RANDOM}\nglobal_defs {\nrouter_id $R\n}\n";
    let a = parse(text);
    let b = parse(text);
    assert_eq!(a.config.global.random_seed, Some(42));
    assert_eq!(a.config.global.router_id, b.config.global.router_id);
}

// ------------------------------------------------------------------ include_check

fn tempdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ka-global-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn include_check_makes_missing_includes_fatal() {
    let d = tempdir("inc");
    let main = d.join("keepalived.conf");
    std::fs::write(&main, "global_defs {\n include_check\n}\ninclude missing.conf\n").unwrap();
    let p = parse_file(main.to_str().unwrap(), &opts());
    assert_eq!(p.test_exit_code(), 6, "{:?}", msgs(&p));
    // without include_check: only logged, exit 0
    std::fs::write(&main, "global_defs {\n router_id x\n}\ninclude missing.conf\n").unwrap();
    let p = parse_file(main.to_str().unwrap(), &opts());
    assert_eq!(p.test_exit_code(), 0, "{:?}", msgs(&p));
    // include_check -match: a missing plain name is no longer an error
    std::fs::write(&main, "global_defs {\n include_check -match\n}\ninclude missing.conf\n").unwrap();
    let p = parse_file(main.to_str().unwrap(), &opts());
    assert_eq!(p.test_exit_code(), 0, "{:?}", msgs(&p));
    // an existing include is fine
    std::fs::write(d.join("other.conf"), "global_defs {\n router_id other\n}\n").unwrap();
    std::fs::write(&main, "global_defs {\n include_check\n}\ninclude other.conf\n").unwrap();
    let p = parse_file(main.to_str().unwrap(), &opts());
    assert_eq!(p.test_exit_code(), 0, "{:?}", msgs(&p));
    assert_eq!(p.config.global.router_id.as_deref(), Some("other"));
    let _ = std::fs::remove_dir_all(&d);
}

// ------------------------------------------------------------------ script security

fn sys_checking() -> SystemView {
    let mut s = SystemView::with_interfaces(&["lo", "eth0"]);
    s.check_scripts = true;
    s
}

fn parse_checking(text: &str) -> Parsed {
    let o = ParseOptions { system: sys_checking(), ..Default::default() };
    parse_str("keepalived.conf", text, &o)
}

fn write_script(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn script_security_violation_only_for_found_scripts() {
    let d = tempdir("sec");
    let s = d.join("ok.sh");
    write_script(&s, 0o755);
    let text = format!("global_defs {{\n startup_script {}\n}}\n", s.display());
    let p = parse_checking(&text);
    assert_has(&p, "SECURITY VIOLATION - start/shutdown scripts are being executed but script_security not enabled.");
    assert_eq!(p.test_exit_code(), 6);
    assert!(p.config.global.startup_script.is_some());

    // with enable_script_security: no violation (when root the default user
    // keepalived_script may be missing, which keepalived reports)
    let text = format!("global_defs {{\n enable_script_security\n startup_script {} root\n}}\n", s.display());
    let p = parse_checking(&text);
    assert!(!p.diags.has("SECURITY VIOLATION"), "{:?}", msgs(&p));

    // a missing script: logged, dropped, no violation
    let text = "global_defs {\n shutdown_script /nonexistent/dir/x.sh\n}\n";
    let p = parse_checking(text);
    assert_has(&p, "Script /nonexistent/dir/x.sh cannot be accessed - No such file or directory");
    assert!(!p.diags.has("SECURITY VIOLATION"));
    assert!(p.config.global.shutdown_script.is_none());
    assert_eq!(p.test_exit_code(), 0);

    // without check_scripts nothing is looked at
    let p = gd("shutdown_script /nonexistent/dir/x.sh");
    assert!(p.config.global.shutdown_script.is_some());
    assert_clean(&p);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn script_in_world_writable_dir_is_insecure() {
    // Needs root-owned files and a root script user.
    keepalived_testkit::require(&[]);
    use std::os::unix::fs::PermissionsExt;
    let d = tempdir("ww");
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
    let s = d.join("x.sh");
    write_script(&s, 0o755);
    let text = format!("global_defs {{\n startup_script {} root\n}}\n", s.display());
    let p = parse_checking(&text);
    assert_has(&p, &format!("Unsafe permissions found for script '{}'.", s.display()));
    assert_has(
        &p,
        "SECURITY VIOLATION - start/shutdown scripts are being executed but script_security not enabled. There are insecure scripts.",
    );
    // with script security the script is disabled
    let text = format!("global_defs {{\n enable_script_security\n startup_script {} root\n}}\n", s.display());
    let p = parse_checking(&text);
    assert_has(&p, &format!("Unsafe permissions found for script '{}' - disabling.", s.display()));
    assert!(p.config.global.startup_script.is_none());
    // a world-writable script itself
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    write_script(&s, 0o777);
    let text = format!("global_defs {{\n startup_script {} root\n}}\n", s.display());
    let p = parse_checking(&text);
    assert_has(&p, "There are insecure scripts.");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn script_not_executable() {
    let d = tempdir("nx");
    let s = d.join("nx.sh");
    write_script(&s, 0o644);
    let text = format!("global_defs {{\n startup_script {} root\n}}\n", s.display());
    let p = parse_checking(&text);
    assert_has(&p, &format!("WARNING - script '{}' is not executable for uid:gid 0:0 - disabling.", s.display()));
    assert!(p.config.global.startup_script.is_none());
    // still a script: the violation is reported
    assert_has(&p, "SECURITY VIOLATION - start/shutdown scripts");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bare_script_names_use_path_search() {
    let p = parse_checking("global_defs {\n startup_script \"sh -c true\" root\n}\n");
    assert_has(&p, "WARNING - script `sh` resolved by path search to `");
    // Kept with its resolved path, also on merged-/usr systems where a PATH
    // entry such as /bin is a symlink (keepalived 2.2.7 checks the path
    // after realpath()).
    let s = p.config.global.startup_script.as_ref().expect("script kept");
    assert!(s.args[0].ends_with("/sh") && s.args[0].starts_with('/'), "{:?}", s.args);
    assert_eq!(&s.args[1..], &["-c", "true"]);
    assert!(!p.diags.has("Wrong file type"), "{:?}", msgs(&p));

    let p = parse_checking("global_defs {\n startup_script no_such_script_zz root\n}\n");
    assert_has(&p, "Cannot find script no_such_script_zz in path - disabling");
    assert!(p.config.global.startup_script.is_none());
    assert!(!p.diags.has("SECURITY VIOLATION"));
}

#[test]
fn file_test_scripts_are_system() {
    use keepalived_config::global::scripts::{check_script_secure, flags};
    let _ = (check_script_secure, flags::SYSTEM);
    let p = parse_checking("global_defs {\n startup_script \"</etc/hostname\" root\n}\n");
    assert!(p.config.global.startup_script.is_some());
    assert!(!p.diags.has("SECURITY VIOLATION"));
}

/// keepalived 2.2.7 checks a script after realpath(): a symlinked
/// directory in the written path (/bin on a merged-/usr host) is not walked,
/// and argv[0] becomes the resolved path. (keepalived master walks the path
/// as written and rejects it with "Wrong file type found in script path".)
#[test]
fn symlinked_path_component_is_resolved_as_2_2_7_does() {
    let d = tempdir("ln");
    let real = d.join("real");
    std::fs::create_dir(&real).unwrap();
    write_script(&real.join("x.sh"), 0o755);
    std::os::unix::fs::symlink(&real, d.join("link")).unwrap();
    let s = d.join("link").join("x.sh");
    for security in ["", "enable_script_security\n script_user root\n"] {
        let text = format!("global_defs {{\n {security} startup_script {} root\n}}\n", s.display());
        let p = parse_checking(&text);
        assert!(!p.diags.has("Wrong file type"), "{:?}", msgs(&p));
        let got = p.config.global.startup_script.as_ref().expect("script kept");
        let want = real.canonicalize().unwrap().join("x.sh");
        assert_eq!(got.args[0], want.to_string_lossy(), "argv[0] is the resolved path");
    }
    // A symlink to a differently named file keeps the written name.
    std::os::unix::fs::symlink("x.sh", real.join("alias.sh")).unwrap();
    let s = d.join("link").join("alias.sh");
    let p = parse_checking(&format!("global_defs {{\n startup_script {} root\n}}\n", s.display()));
    let got = p.config.global.startup_script.as_ref().expect("script kept");
    assert_eq!(got.args[0], real.canonicalize().unwrap().join("alias.sh").to_string_lossy());
    // keepalived master's use_symlink_paths keeps the written path, and the
    // security walk still uses the resolved one.
    let text = format!("global_defs {{\n use_symlink_paths\n startup_script {} root\n}}\n", s.display());
    let p = parse_checking(&text);
    assert!(!p.diags.has("Wrong file type"), "{:?}", msgs(&p));
    assert_eq!(p.config.global.startup_script.as_ref().expect("kept").args[0], s.to_string_lossy());
    let _ = std::fs::remove_dir_all(&d);
}

/// On this kind of host (/bin -> usr/bin) the common /bin and /sbin paths
/// must pass script security as they do with keepalived 2.2.7.
#[test]
fn merged_usr_paths_pass_script_security() {
    keepalived_testkit::require(&[]);
    for path in ["/bin/true", "/bin/sh", "/sbin/ip", "/usr/bin/true"] {
        if !std::path::Path::new(path).exists() {
            continue;
        }
        let text = format!(
            "global_defs {{\n enable_script_security\n script_user root\n startup_script \"{path} -c true\"\n}}\n"
        );
        let p = parse_checking(&text);
        assert!(!p.diags.has("Wrong file type") && !p.diags.has("Unsafe permissions"), "{path}: {:?}", msgs(&p));
        assert!(p.config.global.startup_script.is_some(), "{path}: {:?}", msgs(&p));
        assert_eq!(p.test_exit_code(), 0, "{path}: {:?}", msgs(&p));
    }
}

#[test]
fn default_script_user_with_script_security() {
    // keepalived_script does not exist here: with enable_script_security
    // set before the script, the script is refused.
    if nix_user_exists("keepalived_script") {
        return;
    }
    let p = gd("enable_script_security\nstartup_script /bin/true");
    assert_has(&p, "Unable to set default user keepalived_script for script");
    assert_has(&p, "Failed to set default user for startup script /bin/true - ignoring");
    assert_has(&p, "Invalid startup script");
    assert!(p.config.global.startup_script.is_none());
    // script_user given: no problem
    let p = gd("enable_script_security\nscript_user root\nstartup_script /bin/true");
    assert!(p.config.global.startup_script.is_some(), "{:?}", msgs(&p));
    // security enabled after the first script: keepalived has already
    // settled on our own uid
    let p = gd("startup_script /bin/true\nenable_script_security\nshutdown_script /bin/true");
    assert!(p.config.global.shutdown_script.is_some(), "{:?}", msgs(&p));
}

fn nix_user_exists(name: &str) -> bool {
    std::process::Command::new("id").arg(name).output().map(|o| o.status.success()).unwrap_or(false)
}

#[test]
fn compare_with_keepalived_2_2_7_output() {
    // keepalived 2.2.7 -t printed these lines (plus "Unknown keyword" for
    // vrrp_owner_ignore_adverts, new since 2.2.7) and exited 5.
    let text = "global_defs {
  smtp_connect_timeout 0
  vrrp_garp_master_repeat 0
  vrrp_mcast_group6 ff05::12
  lvs_sync_daemon eth0 VI_1 5 junk
  vrrp_rx_bufs_policy MTU ADVERT
  umask IRUSR IWUSR
  checker_cpu_affinity 100000
  notification_email {
  }
  smtp_server 10.0.0.2 0
  max_auto_priority 100
  process_name abcdefghijklmnopqrstuvwxyz
}
";
    let p = parse(text);
    let got: Vec<String> = p
        .diags
        .iter()
        .filter(|d| d.severity != Severity::Notice)
        .map(|d| format!("(Line {}) {}", d.origin.as_ref().map(|o| o.line).unwrap_or(0), d.message))
        .collect();
    let want = [
        "(Line 2) smtp_conect_timeout must be greater than 0, setting to 1",
        "(Line 3) vrrp_garp_master_repeat must be greater than 0, setting to 1",
        "(Line 4) vrrp_mcast_group6 [ff05::12] should be link-local multicast.",
        "(Line 5) Please use keyword \"id\" before lvs_sync_daemon SYNCID",
        "(Line 5) Unknown option junk specified for lvs_sync_daemon",
        "(Line 6) Cannot set both vrrp_rx_bufs_policy MTU and ADVERT, ignoring ADVERT",
        "(Line 7) Invalid umask syntax IWUSR",
        "(Line 10) Warning - empty notification_email block",
        "(Line 11) number '0' outside range [1, 65535]",
        "(Line 11) number '0' outside range [1, 65535]",
        "(Line 11) Invalid smtp server 10.0.0.2 0",
        "(Line 12) number '100' outside range [-1, 99]",
        "(Line 12) max_auto_priority '100' must be in [0, 99] (or -1 to disable) - ignoring",
        "(Line 13) Process name abcdefghijklmnopqrstuvwxyz more than 15 characters, truncating",
    ];
    // the cpu_id range depends on this machine's CPU count
    let got: Vec<String> = got.into_iter().filter(|l| !l.starts_with("(Line 8)")).collect();
    assert_eq!(got, want);
    assert_eq!(p.test_exit_code(), 5);
}

#[test]
fn no_panic_on_odd_arguments() {
    let mut kws = Vec::new();
    keepalived_config::keywords::walk(|path, kw| {
        if path == ["global_defs"] {
            kws.push(kw.name);
        }
    });
    assert!(kws.len() >= 140, "{}", kws.len());
    let odd =
        ["", "x", "-1", "0", "4294967296", "ünïcödé", "0x", "\"\"", "a b c d e f g h", "<", "all 0 all", "IRWXU|", "|"];
    for kw in &kws {
        if *kw == "smtp_server" {
            continue; // would do DNS look-ups
        }
        for a in odd {
            let _ = gd(&format!("{kw} {a}"));
        }
    }
    for kw in ["net_namespace", "net_namespace_ipvs", "instance", "child_wait_time"] {
        for a in odd {
            let _ = parse(&format!("{kw} {a}\n"));
        }
    }
}

/// 2.2.7 takes `vrrp_strict` and `vrrp_skip_check_adv_addr` as flags: any
/// word after them is ignored silently (the differential -t test compares
/// this with keepalived 2.2.7); a boolean word keeps master's meaning.
#[test]
fn strict_and_skip_check_adv_addr_accept_any_word() {
    let p = gd("vrrp_strict maybe\nvrrp_skip_check_adv_addr 0");
    assert_eq!(p.test_exit_code(), 0, "{:?}", msgs(&p));
    assert!(p.config.global.vrrp_strict && p.config.global.vrrp_skip_check_adv_addr);
    let p = gd("vrrp_strict false\nvrrp_skip_check_adv_addr off");
    assert!(!p.config.global.vrrp_strict && !p.config.global.vrrp_skip_check_adv_addr);
}

// ------------------------------------------------------------------ no_capability_drop (keepalived-rs)

#[test]
fn no_capability_drop_is_a_boolean_off_by_default() {
    assert!(!gd("router_id x").config.global.no_capability_drop);
    for (text, want) in
        [("no_capability_drop", true), ("no_capability_drop true", true), ("no_capability_drop off", false)]
    {
        let p = gd(text);
        assert_clean(&p);
        assert_eq!(p.config.global.no_capability_drop, want, "{text}");
    }
    let p = gd("no_capability_drop maybe");
    assert_has(&p, "Invalid value 'maybe' for global no_capability_drop specified");
    assert!(!p.config.global.no_capability_drop);
}

// ------------------------------------------------------------------ metrics_listen (keepalived-rs)

#[test]
fn metrics_listen_takes_an_ip_and_port_or_a_unix_path() {
    for (addr, want) in
        [("127.0.0.1:9650", "127.0.0.1:9650"), ("[::1]:9650", "[::1]:9650"), ("unix:/run/k.sock", "unix:/run/k.sock")]
    {
        let p = gd(&format!("metrics_listen {addr}"));
        assert_clean(&p);
        assert_eq!(p.config.global.metrics_listen.as_deref(), Some(want));
    }
    for bad in ["metrics_listen", "metrics_listen localhost", "metrics_listen unix:rel.sock", "metrics_listen 1.2.3.4"]
    {
        let p = gd(bad);
        assert_has(&p, "metrics_listen requires an address");
        assert_eq!(p.config.global.metrics_listen, None, "{bad}");
    }
}
