//! Root-level options and `global_defs` (keepalived `data_t`, core/global_data.h).
//!
//! Timers are stored in microseconds (`u64`), like keepalived's TIMER_HZ
//! values. `Option` marks settings keepalived distinguishes as unset.
use crate::diag::Origin;
use crate::model::Script;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Root-level keywords that live outside `global_defs` (they are unknown
/// inside it).
#[derive(Clone, Debug, Serialize)]
pub struct RootOptions {
    /// `net_namespace NAME`: run in this network namespace (implies pid dir).
    pub net_namespace: Option<String>,
    /// `net_namespace_ipvs [NAME]`: IPVS namespace; `Some("")` = default namespace.
    pub net_namespace_ipvs: Option<String>,
    /// `namespace_with_ipsets`.
    pub namespace_with_ipsets: bool,
    /// `instance NAME`: instance name for pid/data files (implies pid dir).
    pub instance: Option<String>,
    /// `use_pid_dir` (also set by `net_namespace` and `instance`).
    pub use_pid_dir: bool,
    /// `linkbeat_use_polling`.
    pub linkbeat_use_polling: bool,
    /// `child_wait_time SECS` (default 5).
    pub child_wait_time: u32,
}

impl Default for RootOptions {
    fn default() -> Self {
        RootOptions {
            net_namespace: None,
            net_namespace_ipvs: None,
            namespace_with_ipsets: false,
            instance: None,
            use_pid_dir: false,
            linkbeat_use_polling: false,
            child_wait_time: 5,
        }
    }
}

/// `smtp_server`: an address, or a host name resolved while parsing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SmtpServer {
    /// The name as configured.
    pub name: String,
    pub addr: SocketAddr,
}

/// `script_user USER [[:]GROUP]` resolved to ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScriptUser {
    pub user: String,
    pub group: Option<String>,
    pub uid: u32,
    pub gid: u32,
    /// A group starting with ':' (or `set_supplementary_groups`) sets the
    /// supplementary groups.
    pub set_supplementary_groups: bool,
}

/// `notify_fifo` / `vrrp_notify_fifo` / `lvs_notify_fifo` with its script.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NotifyFifo {
    /// FIFO path.
    pub name: Option<String>,
    /// Owner of the FIFO (`FIFO [user [group]]`).
    pub user: Option<String>,
    pub group: Option<String>,
    /// `*notify_fifo_script`: the FIFO name is appended as last argument
    /// during validation, as keepalived does.
    pub script: Option<Script>,
    pub origin: Option<Origin>,
}

/// `lvs_flush_on_stop [VS]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum LvsFlushOnStop {
    #[default]
    None,
    /// No argument: flush everything.
    Full,
    /// `VS`: delete only our virtual servers.
    Vs,
}

/// `lvs_timeouts [tcp S] [tcpfin S] [udp S]` (seconds, unset = unchanged).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LvsTimeouts {
    pub tcp: Option<u32>,
    pub tcpfin: Option<u32>,
    pub udp: Option<u32>,
}

/// `lvs_sync_daemon IF [[inst] VI] [id N] [maxlen N] [port N] [ttl N] [group MCAST]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LvsSyncDaemon {
    pub interface: String,
    /// The VRRP instance the daemon follows.
    pub vrrp_instance: Option<String>,
    /// `id` (default: the instance's VRID).
    pub syncid: Option<u32>,
    pub maxlen: Option<u16>,
    /// Default 8848.
    pub port: Option<u16>,
    pub ttl: Option<u8>,
    /// Default 224.0.0.81.
    pub group: Option<IpAddr>,
    pub origin: Option<Origin>,
}

/// `vrrp_rx_bufs_policy MTU|ADVERT|SIZE`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RxBufsPolicy {
    pub mtu: bool,
    pub advert: bool,
    /// An explicit buffer size.
    pub size: Option<u32>,
}

/// `vrrp_ipsets` names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IpsetNames {
    pub address: String,
    pub address6: String,
    pub address_iface6: String,
    pub igmp: String,
    pub mld: String,
    pub vmac_nd: String,
}

/// Per-process scheduling/resource settings (`vrrp_*`, `checker_*`, `bfd_*`).
#[derive(Clone, Debug, Serialize)]
pub struct ProcessSettings {
    /// `*_process_name` (≤ 15 characters).
    pub process_name: Option<String>,
    /// `*_priority` nice value [-20, 19].
    pub priority: i32,
    /// `*_no_swap`.
    pub no_swap: bool,
    /// `*_rt_priority` (SCHED_RR) 1..99.
    pub rt_priority: Option<i32>,
    /// `*_cpu_affinity` CPU ids (empty = not set / cleared on error).
    pub cpu_affinity: Vec<u32>,
    /// `*_rlimit_rttime` µs (default 10000).
    pub rlimit_rttime: u64,
}

impl Default for ProcessSettings {
    fn default() -> Self {
        ProcessSettings {
            process_name: None,
            priority: 0,
            no_swap: false,
            rt_priority: None,
            cpu_affinity: Vec::new(),
            rlimit_rttime: 10_000,
        }
    }
}

/// `reload_file [PATH]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ReloadFile {
    /// No argument: the default path, computed during validation.
    Default,
    Path(String),
}

/// Everything in `global_defs`.
#[derive(Clone, Debug, Serialize)]
pub struct GlobalDefs {
    /// Line of the (first) `global_defs` keyword.
    pub origin: Option<Origin>,

    // Identity, e-mail, SMTP
    /// `router_id` (default: host name, set in validation).
    pub router_id: Option<String>,
    /// `notification_email { ... }` (RFC5322 quoting applied).
    pub notification_email: Vec<String>,
    /// `notification_email_from` (default `<user>@<hostname>` when smtp_server set).
    pub notification_email_from: Option<String>,
    /// `smtp_server IP|NAME [PORT]`.
    pub smtp_server: Option<SmtpServer>,
    /// `smtp_helo_name` (default host name when smtp_server set).
    pub smtp_helo_name: Option<String>,
    /// `smtp_connect_timeout` µs (0 = unset; 30 s when smtp_server is set).
    pub smtp_connect_timeout: u64,
    /// `smtp_alert [BOOL]` (None = unset, keepalived's -1).
    pub smtp_alert: Option<bool>,
    pub smtp_alert_vrrp: Option<bool>,
    pub smtp_alert_checker: Option<bool>,
    /// `no_email_faults`.
    pub no_email_faults: bool,
    /// `no_checker_emails`.
    pub no_checker_emails: bool,
    /// `checker_log_all_failures`.
    pub checker_log_all_failures: bool,
    /// `rs_init_notifies`.
    pub rs_init_notifies: bool,

    // Process names, scheduling
    /// `process_name`.
    pub process_name: Option<String>,
    pub vrrp: ProcessSettings,
    pub checker: ProcessSettings,
    pub bfd: ProcessSettings,
    /// `max_auto_priority [N]` (-1..99; 0 = off).
    pub max_auto_priority: i32,
    /// `min_auto_priority_delay` µs (default 1000000).
    pub min_auto_priority_delay: u32,
    /// `umask` bits (None = keepalived's default 0177).
    pub umask: Option<u32>,

    // Scripts and FIFOs
    /// `script_user`.
    pub script_user: Option<ScriptUser>,
    /// `enable_script_security`.
    pub enable_script_security: bool,
    /// `use_symlink_paths`.
    pub use_symlink_paths: bool,
    /// `set_supplementary_groups`.
    pub set_supplementary_groups: bool,
    /// `startup_script` (parent only).
    pub startup_script: Option<Script>,
    /// `startup_script_timeout` seconds (10 once a startup script is set).
    pub startup_script_timeout: u32,
    pub shutdown_script: Option<Script>,
    pub shutdown_script_timeout: u32,
    /// `notify_fifo` / `notify_fifo_script`.
    pub notify_fifo: NotifyFifo,
    pub vrrp_notify_fifo: NotifyFifo,
    pub lvs_notify_fifo: NotifyFifo,
    /// `vrrp_notify_priority_changes`.
    pub vrrp_notify_priority_changes: bool,
    /// `fifo_write_vrrp_states_on_reload`.
    pub fifo_write_vrrp_states_on_reload: bool,

    // VRRP
    /// `vrrp_version` 2|3.
    pub vrrp_version: u8,
    /// `vrrp_mcast_group4` (224.0.0.18).
    pub vrrp_mcast_group4: Ipv4Addr,
    /// `vrrp_mcast_group6` (ff02::12).
    pub vrrp_mcast_group6: Ipv6Addr,
    /// `default_interface`.
    pub default_interface: Option<String>,
    /// `vrrp_garp_master_delay` µs (5 s).
    pub vrrp_garp_master_delay: u64,
    /// `vrrp_garp_master_repeat` (5).
    pub vrrp_garp_master_repeat: u32,
    /// `vrrp_garp_master_refresh` seconds (0 = off).
    pub vrrp_garp_master_refresh: u32,
    /// `vrrp_garp_master_refresh_repeat` (1).
    pub vrrp_garp_master_refresh_repeat: u32,
    /// `vrrp_garp_lower_prio_delay` µs (None until validation copies master delay).
    pub vrrp_garp_lower_prio_delay: Option<u64>,
    /// `vrrp_garp_lower_prio_repeat` (None until validation copies master repeat).
    pub vrrp_garp_lower_prio_repeat: Option<u32>,
    /// `vrrp_garp_interval` µs (0).
    pub vrrp_garp_interval: u64,
    /// `vrrp_gna_interval` µs (0).
    pub vrrp_gna_interval: u64,
    /// `vrrp_min_garp` was given (its effect is applied at once).
    pub vrrp_min_garp: bool,
    /// `vrrp_garp_extra_if [all] SECS` (0 = off).
    pub vrrp_garp_extra_if: u32,
    pub vrrp_garp_extra_if_all: bool,
    /// `vrrp_down_timer_adverts` (3).
    pub vrrp_down_timer_adverts: u32,
    pub vrrp_lower_prio_no_advert: bool,
    pub vrrp_higher_prio_send_advert: bool,
    pub vrrp_check_unicast_src: bool,
    pub vrrp_skip_check_adv_addr: bool,
    pub vrrp_strict: bool,
    pub v3_checksum_as_v2: bool,
    pub vrrp_owner_ignore_adverts: bool,
    /// `vrrp_startup_delay` µs.
    pub vrrp_startup_delay: u64,
    /// `vrrp_delay_after_boot` µs as configured (the uptime is subtracted at start).
    pub vrrp_delay_after_boot: Option<u64>,
    pub log_unknown_vrids: bool,
    /// `vmac_prefix` (validation fills "vrrp").
    pub vmac_prefix: Option<String>,
    /// `vmac_addr_prefix` (validation fills vmac_prefix).
    pub vmac_addr_prefix: Option<String>,
    /// `dynamic_interfaces [allow_if_changes]`.
    pub dynamic_interfaces: bool,
    pub allow_if_changes: bool,
    pub disable_local_igmp: bool,
    pub vrrp_rx_bufs_policy: RxBufsPolicy,
    /// `vrrp_rx_bufs_multiplier` (3).
    pub vrrp_rx_bufs_multiplier: u32,
    pub vrrp_netlink_cmd_rcv_bufs: Option<u32>,
    pub vrrp_netlink_cmd_rcv_bufs_force: bool,
    pub vrrp_netlink_monitor_rcv_bufs: Option<u32>,
    pub vrrp_netlink_monitor_rcv_bufs_force: bool,
    pub process_monitor_rcv_bufs: Option<u32>,
    pub process_monitor_rcv_bufs_force: bool,
    pub lvs_sync_daemon: Option<LvsSyncDaemon>,

    // Firewall (accepted, not implemented)
    /// `vrrp_iptables [IN [OUT]]`: never set (Debian's 2.2.7 has no iptables; nftables is used).
    pub vrrp_iptables_inchain: Option<String>,
    pub vrrp_iptables_outchain: Option<String>,
    /// `vrrp_ipsets`: None = unset, Some(None) = "don't use ipsets".
    pub vrrp_ipsets: Option<Option<IpsetNames>>,
    /// `nftables [TABLE]`.
    pub nftables: Option<String>,
    pub nftables_priority: i32,
    pub nftables_counters: bool,
    pub nftables_ifindex: bool,
    pub nftables_ipvs: Option<String>,
    pub nftables_ipvs_priority: i32,
    pub nftables_ipvs_start_fwmark: u32,

    // LVS
    pub lvs_timeouts: LvsTimeouts,
    pub lvs_flush: bool,
    pub lvs_flush_on_stop: LvsFlushOnStop,
    pub lvs_netlink_cmd_rcv_bufs: Option<u32>,
    pub lvs_netlink_cmd_rcv_bufs_force: bool,
    pub lvs_netlink_monitor_rcv_bufs: Option<u32>,
    pub lvs_netlink_monitor_rcv_bufs_force: bool,

    // SNMP / DBus (accepted, not implemented)
    pub snmp_socket: Option<String>,
    pub enable_traps: bool,
    pub enable_snmp_vrrp: bool,
    pub enable_snmp_checker: bool,
    pub enable_snmp_rfcv2: bool,
    pub enable_snmp_rfcv3: bool,
    /// µs (5 s).
    pub snmp_vs_stats_update_interval: u64,
    /// µs (0 = same as vs, filled in validation).
    pub snmp_rs_stats_update_interval: u64,
    pub enable_dbus: bool,
    pub dbus_service_name: Option<String>,
    pub dbus_no_interface_name: Option<String>,

    // Files, reload, misc
    pub data_use_instance: bool,
    pub state_dump_file: Option<String>,
    pub stats_dump_file: Option<String>,
    pub json_dump_file: Option<String>,
    /// keepalived-rs `status_socket PATH`: the status socket (default: next
    /// to the pid file).
    pub status_socket: Option<String>,
    /// keepalived-rs `status_socket_group NAME`: its members may read the status.
    pub status_socket_group: Option<String>,
    /// keepalived-rs `metrics_listen ADDR`: serve Prometheus metrics on
    /// `host:port` or `unix:/path` (off by default).
    pub metrics_listen: Option<String>,
    /// keepalived-rs `no_capability_drop`: the children keep every
    /// capability, as keepalived 2.2.7's do (default: each child drops the
    /// capabilities it does not need once started).
    pub no_capability_drop: bool,
    /// `json_version` 1|2.
    pub json_version: u32,
    /// `reload_check_config [LOG]` (no argument: /dev/null).
    pub reload_check_config: Option<String>,
    pub reload_time_file: Option<String>,
    pub reload_repeat: bool,
    /// `reload_file [PATH]`; validation turns Default into the path.
    pub reload_file: Option<ReloadFile>,
    pub config_save_dir: Option<String>,
    pub tmp_config_directory: Option<String>,
    pub random_seed: Option<u32>,
    pub iproute_usr_dir: Option<String>,
    pub iproute_etc_dir: Option<String>,
    /// `include_check` words as given (applied to the preprocessor at once).
    pub include_check: Option<Vec<String>>,

    // Parse state of keepalived's default script user (get_default_script_user).
    #[serde(skip)]
    pub(crate) default_script_uid_set: bool,
    #[serde(skip)]
    pub(crate) default_user_fail: bool,
    /// Resolved default script user ids (script_user, else keepalived_script,
    /// else ourselves), once looked up.
    #[serde(skip)]
    pub(crate) default_script_ids: Option<(u32, u32)>,
    /// Entries seen in the current `notification_email` block.
    #[serde(skip)]
    pub(crate) email_block_items: usize,
}

impl Default for GlobalDefs {
    fn default() -> Self {
        GlobalDefs {
            origin: None,
            router_id: None,
            notification_email: Vec::new(),
            notification_email_from: None,
            smtp_server: None,
            smtp_helo_name: None,
            smtp_connect_timeout: 0,
            smtp_alert: None,
            smtp_alert_vrrp: None,
            smtp_alert_checker: None,
            no_email_faults: false,
            no_checker_emails: false,
            checker_log_all_failures: false,
            rs_init_notifies: false,
            process_name: None,
            vrrp: ProcessSettings::default(),
            checker: ProcessSettings::default(),
            bfd: ProcessSettings::default(),
            max_auto_priority: 0,
            min_auto_priority_delay: 1_000_000,
            umask: None,
            script_user: None,
            enable_script_security: false,
            use_symlink_paths: false,
            set_supplementary_groups: false,
            startup_script: None,
            startup_script_timeout: 0,
            shutdown_script: None,
            shutdown_script_timeout: 0,
            notify_fifo: NotifyFifo::default(),
            vrrp_notify_fifo: NotifyFifo::default(),
            lvs_notify_fifo: NotifyFifo::default(),
            vrrp_notify_priority_changes: false,
            fifo_write_vrrp_states_on_reload: false,
            vrrp_version: 2,
            vrrp_mcast_group4: Ipv4Addr::new(224, 0, 0, 18),
            vrrp_mcast_group6: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12),
            default_interface: None,
            vrrp_garp_master_delay: 5_000_000,
            vrrp_garp_master_repeat: 5,
            vrrp_garp_master_refresh: 0,
            vrrp_garp_master_refresh_repeat: 1,
            vrrp_garp_lower_prio_delay: None,
            vrrp_garp_lower_prio_repeat: None,
            vrrp_garp_interval: 0,
            vrrp_gna_interval: 0,
            vrrp_min_garp: false,
            vrrp_garp_extra_if: 0,
            vrrp_garp_extra_if_all: false,
            vrrp_down_timer_adverts: 3,
            vrrp_lower_prio_no_advert: false,
            vrrp_higher_prio_send_advert: false,
            vrrp_check_unicast_src: false,
            vrrp_skip_check_adv_addr: false,
            vrrp_strict: false,
            v3_checksum_as_v2: false,
            vrrp_owner_ignore_adverts: false,
            vrrp_startup_delay: 0,
            vrrp_delay_after_boot: None,
            log_unknown_vrids: false,
            vmac_prefix: None,
            vmac_addr_prefix: None,
            dynamic_interfaces: false,
            allow_if_changes: false,
            disable_local_igmp: false,
            vrrp_rx_bufs_policy: RxBufsPolicy::default(),
            vrrp_rx_bufs_multiplier: 3,
            vrrp_netlink_cmd_rcv_bufs: None,
            vrrp_netlink_cmd_rcv_bufs_force: false,
            vrrp_netlink_monitor_rcv_bufs: None,
            vrrp_netlink_monitor_rcv_bufs_force: false,
            process_monitor_rcv_bufs: None,
            process_monitor_rcv_bufs_force: false,
            lvs_sync_daemon: None,
            vrrp_iptables_inchain: None,
            vrrp_iptables_outchain: None,
            vrrp_ipsets: None,
            nftables: None,
            nftables_priority: -1,
            nftables_counters: false,
            nftables_ifindex: false,
            nftables_ipvs: None,
            nftables_ipvs_priority: -1,
            nftables_ipvs_start_fwmark: 1000,
            lvs_timeouts: LvsTimeouts::default(),
            lvs_flush: false,
            lvs_flush_on_stop: LvsFlushOnStop::None,
            lvs_netlink_cmd_rcv_bufs: None,
            lvs_netlink_cmd_rcv_bufs_force: false,
            lvs_netlink_monitor_rcv_bufs: None,
            lvs_netlink_monitor_rcv_bufs_force: false,
            snmp_socket: None,
            enable_traps: false,
            enable_snmp_vrrp: false,
            enable_snmp_checker: false,
            enable_snmp_rfcv2: false,
            enable_snmp_rfcv3: false,
            snmp_vs_stats_update_interval: 5_000_000,
            snmp_rs_stats_update_interval: 0,
            enable_dbus: false,
            dbus_service_name: None,
            dbus_no_interface_name: None,
            data_use_instance: false,
            state_dump_file: None,
            stats_dump_file: None,
            json_dump_file: None,
            status_socket: None,
            status_socket_group: None,
            metrics_listen: None,
            no_capability_drop: false,
            json_version: 1,
            reload_check_config: None,
            reload_time_file: None,
            reload_repeat: false,
            reload_file: None,
            config_save_dir: None,
            tmp_config_directory: None,
            random_seed: None,
            iproute_usr_dir: None,
            iproute_etc_dir: None,
            include_check: None,
            default_script_uid_set: false,
            default_user_fail: false,
            default_script_ids: None,
            email_block_items: 0,
        }
    }
}

impl GlobalDefs {
    /// The VMAC interface name prefix (`vmac_prefix`, default "vrrp").
    pub fn vmac_prefix(&self) -> &str {
        self.vmac_prefix.as_deref().unwrap_or("vrrp")
    }
    /// The prefix for VMACs on addresses (`vmac_addr_prefix`, else vmac_prefix).
    pub fn vmac_addr_prefix(&self) -> &str {
        self.vmac_addr_prefix.as_deref().unwrap_or_else(|| self.vmac_prefix())
    }
    /// Effective lower-priority GARP delay µs (defaults to the master delay).
    pub fn garp_lower_prio_delay(&self) -> u64 {
        self.vrrp_garp_lower_prio_delay.unwrap_or(self.vrrp_garp_master_delay)
    }
    /// Effective lower-priority GARP repeat (defaults to the master repeat).
    pub fn garp_lower_prio_repeat(&self) -> u32 {
        self.vrrp_garp_lower_prio_repeat.unwrap_or(self.vrrp_garp_master_repeat)
    }
}
