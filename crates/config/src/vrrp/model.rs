//! VRRP: instances, sync groups, trackers, GARP groups, link polling and
//! interface debounce delays. Timers are stored in microseconds (`*_us`).
use crate::diag::Origin;
use crate::model::ip::{IpAddress, Route, Rule};
use crate::model::{Script, Weight};
use serde::Serialize;
use std::net::IpAddr;

#[derive(Clone, Debug, Default, Serialize)]
pub struct VrrpConfig {
    /// Names of the instances read so far (duplicate check while parsing).
    #[serde(skip)]
    pub(crate) instance_names: std::collections::HashSet<String>,
    /// `vrrp_instance NAME {}`.
    pub instances: Vec<VrrpInstance>,
    /// `vrrp_sync_group NAME {}`.
    pub sync_groups: Vec<SyncGroup>,
    /// `vrrp_script NAME {}`.
    pub scripts: Vec<VrrpScript>,
    /// `track_file NAME {}` / `vrrp_track_file NAME {}` (also used by the
    /// checker's FILE_CHECK).
    pub track_files: Vec<TrackFile>,
    /// `vrrp_track_process NAME {}`.
    pub track_processes: Vec<TrackProcess>,
    /// `garp_group {}`.
    pub garp_groups: Vec<GarpGroup>,
    /// `linkbeat_interfaces {}` entries.
    pub linkbeat_interfaces: Vec<LinkbeatInterface>,
    /// `interface_up_down_delays {}` entries.
    pub up_down_delays: Vec<UpDownDelay>,
    /// Parse state: words of the value block being read.
    #[serde(skip)]
    pub(crate) pending_words: Vec<String>,
    /// Parse state: garp_group `interfaces` blocks seen (keepalived's
    /// aggregation group number).
    #[serde(skip)]
    pub(crate) aggregation_group: u32,
    /// Parse state: `user` given in the current vrrp_script.
    #[serde(skip)]
    pub(crate) script_user_set: bool,
}

/// Address family of an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Family {
    Inet,
    Inet6,
}

impl Family {
    pub fn of(a: &IpAddr) -> Family {
        if a.is_ipv4() {
            Family::Inet
        } else {
            Family::Inet6
        }
    }
}

/// `state MASTER|BACKUP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum State {
    Master,
    Backup,
}

/// `auth_type PASS|AH`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AuthType {
    Pass,
    Ah,
}

/// `auth_hmac { mode … }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum HmacMode {
    Enforce,
    Permissive,
    ReceiveOnly,
}

/// `auth_hmac { … }`.
#[derive(Clone, Debug, Serialize)]
pub struct AuthHmac {
    /// `key ID VALUE|hex:…|file:PATH` (the secret bytes are kept out of dumps).
    pub keys: Vec<HmacKey>,
    /// `active_key ID` (0 = unset).
    pub active_key: u8,
    /// `time_window SECS` (0 = derived from the advert interval).
    pub time_window: u32,
    /// `anti_replay time|monotonic`: true = time.
    pub anti_replay_time: bool,
    /// `mode enforce|permissive|receive-only`.
    pub mode: HmacMode,
}

#[derive(Clone, Debug, Serialize)]
pub struct HmacKey {
    pub id: u8,
    #[serde(skip)]
    pub data: Vec<u8>,
}

/// `unicast_peer { IP [min_ttl N] [max_ttl N] }` entry.
#[derive(Clone, Debug, Serialize)]
pub struct UnicastPeer {
    pub addr: IpAddr,
    pub min_ttl: u8,
    pub max_ttl: u8,
    pub origin: Origin,
}

/// `track_interface { IF [weight N [reverse]] }` entry.
#[derive(Clone, Debug, Serialize)]
pub struct TrackedInterface {
    pub name: String,
    pub weight: Weight,
    pub origin: Origin,
}

/// `track_script` / `track_file` / `track_process` / `track_bfd` entry:
/// the tracker's name and the effective weight.
#[derive(Clone, Debug, Serialize)]
pub struct TrackedRef {
    pub name: String,
    pub weight: Weight,
    pub origin: Origin,
}

/// `use_vmac [[name] IFNAME] [MAC] [netlink_notify_msg] [group G]`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Vmac {
    pub ifname: Option<String>,
    /// A configured MAC (5 octets: the last one is the VRID).
    pub mac: Option<[u8; 6]>,
    pub mac_use_vrid: bool,
    pub netlink_notify_msg: bool,
    pub group: Option<String>,
}

/// `use_ipvlan [[name] IF] [IP[/P]] [bridge|private|vepa] [group G]`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Ipvlan {
    pub ifname: Option<String>,
    pub addr: Option<IpAddr>,
    /// The address's prefix length (`IP/P`; a host prefix without `/P`).
    pub prefix: Option<u8>,
    /// "bridge" (default), "private" or "vepa".
    pub mode: Option<String>,
    pub group: Option<String>,
}

/// `old_unicast_checksum [never]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ChecksumCompat {
    Config,
    Never,
}

/// `vrrp_instance NAME { … }`.
#[derive(Clone, Debug, Serialize)]
pub struct VrrpInstance {
    pub name: String,
    pub origin: Origin,
    /// `state`; None = derived from the priority.
    pub state: Option<State>,
    /// `interface` (None also when it does not exist or is loopback).
    pub interface: Option<String>,
    /// `vrf`.
    pub vrf: Option<String>,
    /// `virtual_router_id` (required).
    pub vrid: Option<u8>,
    /// `priority` (validation sets it: 255 for MASTER, else 100).
    pub priority: Option<u8>,
    /// `advert_int` in µs (validation: default 1 s, rounded for v2/v3).
    pub advert_int_us: Option<u64>,
    /// `version` / deduced (2 or 3).
    pub version: Option<u8>,
    /// Deduced from VIPs, peers and source addresses.
    pub family: Option<Family>,
    /// `virtual_ipaddress`.
    pub vips: Vec<IpAddress>,
    /// `virtual_ipaddress_excluded`.
    pub evips: Vec<IpAddress>,
    /// `virtual_routes`.
    pub vroutes: Vec<Route>,
    /// `virtual_rules`.
    pub vrules: Vec<Rule>,
    /// `no_virtual_ipaddress`.
    pub no_virtual_ipaddress: bool,
    /// `nopreempt` (`preempt` clears it).
    pub nopreempt: bool,
    /// `preempt_delay` in µs.
    pub preempt_delay_us: u64,
    /// `mcast_src_ip` / `unicast_src_ip`.
    pub src_ip: Option<IpAddr>,
    /// `mcast_dst_ip`.
    pub mcast_dst_ip: Option<IpAddr>,
    /// `unicast_peer {}`.
    pub unicast_peers: Vec<UnicastPeer>,
    /// A unicast keyword was given (`unicast_peer`, `unicast_src_ip`,
    /// `unicast_fault_no_peer`, `check_unicast_src`, `old_unicast_checksum`).
    pub unicast_configured: bool,
    /// Validation: unicast is in use (peers configured).
    pub unicast: bool,
    /// `unicast_fault_no_peer`.
    pub unicast_fault_no_peer: bool,
    /// `check_unicast_src` (also set by a peer's min_ttl/max_ttl).
    pub check_unicast_src: bool,
    /// `unicast_ttl` (validation: 255 for IPv4 when unset).
    pub unicast_ttl: Option<u8>,
    /// `old_unicast_checksum`.
    pub old_unicast_checksum: Option<ChecksumCompat>,
    /// `v3_checksum_as_v2`.
    pub v3_checksum_as_v2: Option<bool>,
    /// `track_src_ip`.
    pub track_src_ip: bool,
    /// `dont_track_primary`.
    pub dont_track_primary: bool,
    /// `track_interface {}`.
    pub track_interfaces: Vec<TrackedInterface>,
    /// `track_script {}`.
    pub track_scripts: Vec<TrackedRef>,
    /// `track_file {}`.
    pub track_files: Vec<TrackedRef>,
    /// `track_process {}`.
    pub track_processes: Vec<TrackedRef>,
    /// `track_bfd {}`.
    pub track_bfds: Vec<TrackedRef>,
    /// `use_vmac`.
    pub use_vmac: Option<Vmac>,
    /// `use_vmac_addr`.
    pub use_vmac_addr: bool,
    /// `vmac_xmit_base`.
    pub vmac_xmit_base: bool,
    /// `use_ipvlan`.
    pub use_ipvlan: Option<Ipvlan>,
    /// `accept` / `no_accept` (validation derives it).
    pub accept: Option<bool>,
    /// `skip_check_adv_addr` (keepalived sets it even for `false`).
    pub skip_check_adv_addr: bool,
    /// `strict_mode` (validation: global vrrp_strict when unset).
    pub strict_mode: Option<bool>,
    /// `garp_master_delay` in µs.
    pub garp_master_delay_us: Option<u64>,
    /// `garp_master_repeat`.
    pub garp_master_repeat: Option<u32>,
    /// `garp_master_refresh` in seconds.
    pub garp_master_refresh: Option<u32>,
    /// `garp_master_refresh_repeat`.
    pub garp_master_refresh_repeat: Option<u32>,
    /// `garp_lower_prio_delay` in µs.
    pub garp_lower_prio_delay_us: Option<u64>,
    /// `garp_lower_prio_repeat`.
    pub garp_lower_prio_repeat: Option<u32>,
    /// `garp_extra_if [all] SECS` / `vmac_garp_intvl` [depr]: seconds.
    pub garp_extra_if: Option<u32>,
    /// `garp_extra_if all`.
    pub garp_extra_if_all: bool,
    /// `down_timer_adverts`.
    pub down_timer_adverts: Option<u32>,
    /// `lower_prio_no_advert`.
    pub lower_prio_no_advert: Option<bool>,
    /// `higher_prio_send_advert`.
    pub higher_prio_send_advert: Option<bool>,
    /// `owner_ignore_adverts`.
    pub owner_ignore_adverts: Option<bool>,
    /// `timer_expired_backup [PRIO]` / `thread_timer_expired` [depr].
    pub timer_expired_backup: Option<u8>,
    /// `promote_secondaries`.
    pub promote_secondaries: bool,
    /// `kernel_rx_buf_size`.
    pub kernel_rx_buf_size: Option<u32>,
    /// `linkbeat_use_polling` [depr].
    pub linkbeat_use_polling: bool,
    /// `lvs_sync_daemon_interface` [depr].
    pub lvs_sync_daemon_interface: Option<String>,
    /// `debug`.
    pub debug: u32,
    /// `notify_master`.
    pub notify_master: Option<Box<Script>>,
    /// `notify_backup`.
    pub notify_backup: Option<Box<Script>>,
    /// `notify_fault`.
    pub notify_fault: Option<Box<Script>>,
    /// `notify_stop`.
    pub notify_stop: Option<Box<Script>>,
    /// `notify_deleted [SCRIPT]`: the script.
    pub notify_deleted_script: Option<Box<Script>>,
    /// `notify_deleted` given.
    pub notify_deleted: bool,
    /// `notify`.
    pub notify: Option<Box<Script>>,
    /// `notify_master_rx_lower_pri`.
    pub notify_master_rx_lower_pri: Option<Box<Script>>,
    /// `notify_priority_changes`.
    pub notify_priority_changes: Option<bool>,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `authentication { auth_type }`.
    pub auth_type: Option<AuthType>,
    /// `authentication { auth_pass }` (max 8 characters).
    pub auth_pass: Option<String>,
    /// `auth_hmac {}`.
    pub auth_hmac: Option<AuthHmac>,
    /// Validation: the sync group this instance belongs to.
    pub sync_group: Option<String>,
    /// Where `interface` was given.
    pub interface_origin: Option<Origin>,
}

impl VrrpInstance {
    pub fn new(name: &str, origin: Origin) -> VrrpInstance {
        VrrpInstance {
            name: name.to_string(),
            origin,
            state: None,
            interface: None,
            vrf: None,
            vrid: None,
            priority: None,
            advert_int_us: None,
            version: None,
            family: None,
            vips: Vec::new(),
            evips: Vec::new(),
            vroutes: Vec::new(),
            vrules: Vec::new(),
            no_virtual_ipaddress: false,
            nopreempt: false,
            preempt_delay_us: 0,
            src_ip: None,
            mcast_dst_ip: None,
            unicast_peers: Vec::new(),
            unicast_configured: false,
            unicast: false,
            unicast_fault_no_peer: false,
            check_unicast_src: false,
            unicast_ttl: None,
            old_unicast_checksum: None,
            v3_checksum_as_v2: None,
            track_src_ip: false,
            dont_track_primary: false,
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            track_files: Vec::new(),
            track_processes: Vec::new(),
            track_bfds: Vec::new(),
            use_vmac: None,
            use_vmac_addr: false,
            vmac_xmit_base: false,
            use_ipvlan: None,
            accept: None,
            skip_check_adv_addr: false,
            strict_mode: None,
            garp_master_delay_us: None,
            garp_master_repeat: None,
            garp_master_refresh: None,
            garp_master_refresh_repeat: None,
            garp_lower_prio_delay_us: None,
            garp_lower_prio_repeat: None,
            garp_extra_if: None,
            garp_extra_if_all: false,
            down_timer_adverts: None,
            lower_prio_no_advert: None,
            higher_prio_send_advert: None,
            owner_ignore_adverts: None,
            timer_expired_backup: None,
            promote_secondaries: false,
            kernel_rx_buf_size: None,
            linkbeat_use_polling: false,
            lvs_sync_daemon_interface: None,
            debug: 0,
            notify_master: None,
            notify_backup: None,
            notify_fault: None,
            notify_stop: None,
            notify_deleted_script: None,
            notify_deleted: false,
            notify: None,
            notify_master_rx_lower_pri: None,
            notify_priority_changes: None,
            smtp_alert: None,
            auth_type: None,
            auth_pass: None,
            auth_hmac: None,
            sync_group: None,
            interface_origin: None,
        }
    }
}

/// `vrrp_sync_group NAME { … }`.
#[derive(Clone, Debug, Serialize)]
pub struct SyncGroup {
    pub name: String,
    pub origin: Origin,
    /// `group { VI… }`; None when absent or empty.
    pub members: Option<Vec<String>>,
    pub track_interfaces: Vec<TrackedInterface>,
    pub track_scripts: Vec<TrackedRef>,
    pub track_files: Vec<TrackedRef>,
    pub track_processes: Vec<TrackedRef>,
    pub track_bfds: Vec<TrackedRef>,
    pub notify_master: Option<Script>,
    pub notify_backup: Option<Script>,
    pub notify_fault: Option<Script>,
    pub notify_stop: Option<Script>,
    pub notify: Option<Script>,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `notify_priority_changes`.
    pub notify_priority_changes: Option<bool>,
    /// `sync_group_tracking_weight` / `global_tracking` [depr].
    pub tracking_weight: bool,
}

/// `vrrp_script NAME { … }`.
#[derive(Clone, Debug, Serialize)]
pub struct VrrpScript {
    pub name: String,
    pub origin: Origin,
    /// `script` (required).
    pub script: Option<Script>,
    /// `interval` in µs (ms resolution), default 1 s.
    pub interval_us: u64,
    /// `timeout` in µs; None = the interval.
    pub timeout_us: Option<u64>,
    /// `weight N [reverse]`, default 0.
    pub weight: Weight,
    /// `rise`, default 1.
    pub rise: u32,
    /// `fall`, default 1.
    pub fall: u32,
    /// `user USER [GROUP]`.
    pub user: Option<String>,
    pub group: Option<String>,
    /// `init_fail`.
    pub init_fail: bool,
    #[serde(skip)]
    pub(crate) remove: bool,
}

/// `track_file NAME { file PATH; weight N [reverse]; init_file [V] [overwrite] }`.
#[derive(Clone, Debug, Serialize)]
pub struct TrackFile {
    pub name: String,
    pub file: Option<String>,
    /// Default 1.
    pub weight: Weight,
    /// `init_file [VALUE] [overwrite]`.
    pub init_file: Option<TrackFileInit>,
    pub origin: Origin,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TrackFileInit {
    pub value: i32,
    pub overwrite: bool,
}

/// `param_match`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ParamMatch {
    Exact,
    Initial,
    Partial,
}

/// `vrrp_track_process NAME { … }`.
#[derive(Clone, Debug, Serialize)]
pub struct TrackProcess {
    pub name: String,
    pub origin: Origin,
    /// `process NAME [PARAM…]`.
    pub process: Option<String>,
    pub params: Vec<String>,
    pub param_match: Option<ParamMatch>,
    /// `weight N [reverse]`, default 0.
    pub weight: Weight,
    /// `quorum`, default 1.
    pub quorum: u32,
    /// `quorum_max`, default unlimited (u32::MAX).
    pub quorum_max: u32,
    /// `terminate_delay` / `delay` in µs.
    pub terminate_delay_us: u64,
    /// `fork_delay` / `delay` in µs.
    pub fork_delay_us: u64,
    /// `full_command`.
    pub full_command: bool,
}

/// `garp_group { garp_interval T; gna_interval T; interface IF; interfaces {…} }`.
#[derive(Clone, Debug, Serialize)]
pub struct GarpGroup {
    pub origin: Origin,
    pub garp_interval_us: Option<u64>,
    pub gna_interval_us: Option<u64>,
    pub interfaces: Vec<String>,
}

/// `linkbeat_interfaces { IF [MII|ETHTOOL|IOCTL] }` entry.
#[derive(Clone, Debug, Serialize)]
pub struct LinkbeatInterface {
    pub name: String,
    /// "MII", "ETHTOOL", "IOCTL", or None (auto).
    pub kind: Option<String>,
    pub origin: Origin,
}

/// `interface_up_down_delays { IF DOWN [UP] }` entry.
#[derive(Clone, Debug, Serialize)]
pub struct UpDownDelay {
    pub name: String,
    pub down_us: u64,
    pub up_us: u64,
    pub origin: Origin,
}
