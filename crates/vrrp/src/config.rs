//! The engine's own per-instance configuration, and its construction from the parsed model.
use keepalived_config::model::vrrp as m;
use keepalived_config::Config;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

use crate::types::TrackKind;

/// Authentication expected on received adverts (v2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthConfig {
    /// No authentication (v2 auth type 0; always for v3, RFC 5798 §9).
    None,
    /// PASS with the password NUL-padded to 8 octets.
    Pass([u8; 8]),
    /// `auth_type AH`: IPsec AH with HMAC-MD5-96 (RFC 2402), v2 auth type 2.
    Ah,
}

/// A unicast peer with its optional TTL window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    /// The peer's address: adverts are sent to it and, with source checking, accepted only from peers.
    pub addr: IpAddr,
    /// Adverts from this peer arriving with a lower TTL / hop limit are dropped (`min_ttl`).
    pub min_ttl: u8,
    /// Adverts from this peer arriving with a higher TTL / hop limit are dropped (`max_ttl`).
    pub max_ttl: u8,
}

/// One tracked object of an instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackRef {
    /// What is tracked.
    pub kind: TrackKind,
    /// The interface, script, file, process or BFD instance name.
    pub name: String,
    /// 0 = failure means FAULT.
    pub weight: i32,
    /// `reverse`: the weight is negated; with weight 0, the object being up puts the instance in FAULT.
    pub reverse: bool,
}

/// A vrrp_script's hysteresis settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptConfig {
    /// The `vrrp_script` name.
    pub name: String,
    /// `rise`: consecutive successes that turn a failed script OK.
    pub rise: u32,
    /// `fall`: consecutive failures that turn an OK script failed.
    pub fall: u32,
    /// `init_fail`: the script starts failed instead of OK.
    pub init_fail: bool,
}

/// Per-interface GARP/NA pacing (garp_group, else the global vrrp_garp_interval/vrrp_gna_interval).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GarpPacing {
    /// The interface the pacing applies to.
    pub interface: String,
    /// Minimum gap between two gratuitous ARPs on it (µs; 0 = no pacing).
    pub garp_interval_us: u64,
    /// Minimum gap between two unsolicited neighbour advertisements on it (µs; 0 = no pacing).
    pub gna_interval_us: u64,
}

/// Engine-wide options (from global_defs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EngineOptions {
    /// Drop adverts whose VIP count/list differs (keepalived ≤ 2.3, incl. Debian 2.2.7). Default false:
    /// keepalived ≥ 2.4 logs, counts addr_list_err and accepts.
    pub drop_on_vip_mismatch: bool,
    /// `vrrp_check_unicast_src`.
    pub check_unicast_src: bool,
    /// `vrrp_startup_delay` (µs).
    pub startup_delay_us: u64,
    /// Default GARP/NA pacing (`vrrp_garp_interval` / `vrrp_gna_interval`, µs; 0 = no pacing).
    pub garp_interval_us: u64,
    /// Default unsolicited NA pacing (`vrrp_gna_interval`, µs; 0 = no pacing).
    pub gna_interval_us: u64,
    /// `garp_group` pacing per interface.
    pub garp_groups: Vec<GarpPacing>,
    /// vrrp_script settings, referenced by name from track_script.
    pub scripts: Vec<ScriptConfig>,
    /// Initial values of track_files (`init_file`), by name.
    pub file_init: Vec<(String, i64)>,
    /// `fifo_write_vrrp_states_on_reload`: at a reload, an instance or
    /// sync group that is not notified gets its state written to the FIFOs.
    #[serde(default)]
    pub fifo_states_on_reload: bool,
}

/// The engine's view of one `vrrp_instance`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceConfig {
    /// The `vrrp_instance` name, as logged.
    pub name: String,
    /// `virtual_router_id` (RFC 5798 §5.2.3).
    pub vrid: u8,
    /// 2 or 3.
    pub version: u8,
    /// The instance runs over IPv6 (VRRPv3 only, RFC 5798 §5.1.2).
    pub ipv6: bool,
    /// Configured priority (255 = address owner).
    pub priority: u8,
    /// `advert_int` in µs.
    pub advert_int_us: u64,
    /// `state MASTER` (or priority 255 without state).
    pub initial_master: bool,
    /// `nopreempt`: a higher priority backup does not take over from a lower priority master
    /// (RFC 5798 Preempt_Mode false; never for the address owner).
    pub nopreempt: bool,
    /// `preempt_delay` (µs): how long after startup a backup waits before preempting.
    pub preempt_delay_us: u64,
    /// The interface adverts are sent and received on.
    pub interface: Option<String>,
    /// `dont_track_primary`: the interface's own link state does not put the instance in FAULT.
    pub dont_track_primary: bool,
    /// VIPs in configuration order (the advert's address list).
    pub vips: Vec<IpAddr>,
    /// eVIPs (GARPed, not advertised).
    pub evips: Vec<IpAddr>,
    /// Configured source address (`mcast_src_ip`/`unicast_src_ip`).
    pub src_ip: Option<IpAddr>,
    /// `unicast_peer`: adverts go to each of these instead of the multicast group.
    pub unicast_peers: Vec<Peer>,
    /// Unicast in use.
    pub unicast: bool,
    /// `unicast_fault_no_peer`: a unicast instance without peers is in FAULT.
    pub unicast_fault_no_peer: bool,
    /// `check_unicast_src`: unicast adverts from an address that is no peer are dropped.
    pub check_unicast_src: bool,
    /// The authentication sent and required (v2).
    pub auth: AuthConfig,
    /// Accept_Mode (RFC 5798 §6.1): as master, accept packets addressed to the virtual addresses.
    pub accept: bool,
    /// `vrrp_strict`: enforce the RFC where keepalived is lenient by default.
    pub strict: bool,
    /// `skip_check_adv_addr`: the address list is not checked in adverts from the current master.
    pub skip_check_adv_addr: bool,
    /// `lower_prio_no_advert`: a master receiving a lower priority advert does not answer with its own.
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert`: a master receiving a higher priority advert sends one more advert
    /// before becoming backup.
    pub higher_prio_send_advert: bool,
    /// `owner_ignore_adverts` (address owner only): received adverts are ignored while its priority is 255.
    pub owner_ignore_adverts: bool,
    /// `down_timer_adverts`: adverts a backup misses before the master is down (RFC 5798 §6.1 uses 3 in
    /// Master_Down_Interval).
    pub down_timer_adverts: u32,
    /// `garp_master_delay` (µs): delay before the second burst of GARPs / NAs after becoming master
    /// (0 = no second burst).
    pub garp_master_delay_us: u64,
    /// `garp_master_repeat`: GARPs / NAs per address in each burst.
    pub garp_master_repeat: u32,
    /// `garp_master_refresh` (µs): interval of repeated GARPs / NAs while master; 0 = no refresh.
    pub garp_master_refresh_us: u64,
    /// `garp_master_refresh_repeat`: GARPs / NAs per address at each refresh.
    pub garp_master_refresh_repeat: u32,
    /// `garp_lower_prio_delay` (µs): delay before the GARP / NA burst sent by a master that received a
    /// lower priority advert.
    pub garp_lower_prio_delay_us: u64,
    /// `garp_lower_prio_repeat`: GARPs / NAs per address in that burst.
    pub garp_lower_prio_repeat: u32,
    /// `notify_priority_changes`: effective priority changes are reported ([`crate::Action::NotifyPriority`]).
    pub notify_priority_changes: bool,
    /// `track_interface`, `track_script`, `track_file`, `track_process`, `track_bfd` (the instance's own and
    /// its sync group's).
    pub trackers: Vec<TrackRef>,
    /// Sync group index.
    pub sync_group: Option<usize>,
}

impl InstanceConfig {
    /// A plain multicast instance with keepalived's defaults (no VIPs).
    pub fn new(name: &str, vrid: u8, priority: u8) -> InstanceConfig {
        InstanceConfig {
            name: name.to_string(),
            vrid,
            version: 2,
            ipv6: false,
            priority,
            advert_int_us: 1_000_000,
            initial_master: priority == 255,
            nopreempt: false,
            preempt_delay_us: 0,
            interface: Some("eth0".to_string()),
            dont_track_primary: false,
            vips: Vec::new(),
            evips: Vec::new(),
            src_ip: None,
            unicast_peers: Vec::new(),
            unicast: false,
            unicast_fault_no_peer: false,
            check_unicast_src: false,
            auth: AuthConfig::None,
            accept: true,
            strict: false,
            skip_check_adv_addr: false,
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            owner_ignore_adverts: false,
            down_timer_adverts: 3,
            garp_master_delay_us: 5_000_000,
            garp_master_repeat: 5,
            garp_master_refresh_us: 0,
            garp_master_refresh_repeat: 1,
            garp_lower_prio_delay_us: 5_000_000,
            garp_lower_prio_repeat: 5,
            notify_priority_changes: false,
            trackers: Vec::new(),
            sync_group: None,
        }
    }
}

/// A `vrrp_sync_group`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncGroupConfig {
    /// The `vrrp_sync_group` name.
    pub name: String,
    /// Member instance indices.
    pub members: Vec<usize>,
}

/// Everything the engine needs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterConfig {
    /// Settings from `global_defs` and the shared `vrrp_script` / `garp_group` / `track_file` blocks.
    pub options: EngineOptions,
    /// The instances, in configuration order ([`crate::InstanceId`] indexes them).
    pub instances: Vec<InstanceConfig>,
    /// The sync groups, in configuration order ([`crate::GroupId`] indexes them).
    pub groups: Vec<SyncGroupConfig>,
}

/// Why a configuration could not be turned into an engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConfigError {
    /// `(name) the virtual router id must be set`.
    MissingVrid(String),
    /// A sync group names an instance that does not exist.
    UnknownMember {
        /// The sync group.
        group: String,
        /// The instance name it lists.
        instance: String,
    },
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::MissingVrid(n) => write!(f, "({n}) the virtual router id must be set"),
            ConfigError::UnknownMember { group, instance } => {
                write!(f, "Virtual router {instance} specified in sync group {group} doesn't exist - ignoring")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

fn track_refs(
    out: &mut Vec<TrackRef>,
    ifs: &[m::TrackedInterface],
    scripts: &[m::TrackedRef],
    files: &[m::TrackedRef],
    procs: &[m::TrackedRef],
    bfds: &[m::TrackedRef],
    force_zero: bool,
) {
    let w = |x: i32| if force_zero { 0 } else { x };
    for t in ifs {
        out.push(TrackRef {
            kind: TrackKind::Interface,
            name: t.name.clone(),
            weight: w(t.weight.weight),
            reverse: t.weight.reverse,
        });
    }
    for (kind, list) in
        [(TrackKind::Script, scripts), (TrackKind::File, files), (TrackKind::Process, procs), (TrackKind::Bfd, bfds)]
    {
        for t in list {
            out.push(TrackRef { kind, name: t.name.clone(), weight: w(t.weight.weight), reverse: t.weight.reverse });
        }
    }
}

/// `track_group` (keepalived 2.2.7 vrrp_static_track.c
/// `static_track_group_init`): an instance of a track group tracks, at
/// weight 0, the interface of each static address, the `oif` of each static
/// route and the `iif` of each static rule naming the group (unless
/// `no_track`), so it goes to FAULT while one of them is down.
fn static_track_refs(out: &mut Vec<TrackRef>, ip: &keepalived_config::model::ip::StaticConfig, instance: &str) {
    let member = |g: &Option<String>| {
        let g = g.as_deref();
        ip.track_groups.iter().any(|t| Some(t.name.as_str()) == g && t.group.iter().flatten().any(|n| n == instance))
    };
    let addrs = ip.addresses.iter().filter(|a| !a.no_track && member(&a.track_group)).filter_map(|a| a.dev.as_ref());
    let routes = ip.routes.iter().filter(|r| !r.no_track && member(&r.track_group)).filter_map(|r| r.dev.as_ref());
    let rules = ip.rules.iter().filter(|r| !r.no_track && member(&r.track_group)).filter_map(|r| r.iif.as_ref());
    for name in addrs.chain(routes).chain(rules) {
        if !out.iter().any(|t| t.kind == TrackKind::Interface && t.name == *name && t.weight == 0) {
            out.push(TrackRef { kind: TrackKind::Interface, name: name.clone(), weight: 0, reverse: false });
        }
    }
}

impl RouterConfig {
    /// Builds the engine configuration from a parsed (and validated) keepalived configuration.
    pub fn from_config(cfg: &Config) -> Result<RouterConfig, ConfigError> {
        let (groups, member_of) = sync_groups(&cfg.vrrp)?;
        let mut instances = Vec::with_capacity(cfg.vrrp.instances.len());
        for (idx, vi) in cfg.vrrp.instances.iter().enumerate() {
            instances.push(instance_config(cfg, vi, member_of[idx], &groups)?);
        }
        Ok(RouterConfig { options: engine_options(cfg), instances, groups })
    }
}

/// The sync groups with their members' indices, and each instance's group
/// (the first that names it).
fn sync_groups(v: &m::VrrpConfig) -> Result<(Vec<SyncGroupConfig>, Vec<Option<usize>>), ConfigError> {
    let mut groups = Vec::new();
    let mut member_of: Vec<Option<usize>> = vec![None; v.instances.len()];
    for sg in &v.sync_groups {
        let mut members = Vec::new();
        for name in sg.members.iter().flatten() {
            match v.instances.iter().position(|i| &i.name == name) {
                Some(idx) => {
                    if member_of[idx].is_none() {
                        member_of[idx] = Some(groups.len());
                        members.push(idx);
                    }
                }
                None => return Err(ConfigError::UnknownMember { group: sg.name.clone(), instance: name.clone() }),
            }
        }
        groups.push(SyncGroupConfig { name: sg.name.clone(), members });
    }
    Ok((groups, member_of))
}

/// One instance's engine configuration, with the global defaults of what
/// it leaves unset.
fn instance_config(
    cfg: &Config,
    vi: &m::VrrpInstance,
    sync_group: Option<usize>,
    groups: &[SyncGroupConfig],
) -> Result<InstanceConfig, ConfigError> {
    let g = &cfg.global;
    let vrid = vi.vrid.ok_or_else(|| ConfigError::MissingVrid(vi.name.clone()))?;
    let priority = vi.priority.unwrap_or(match vi.state {
        Some(m::State::Master) => 255,
        _ => 100,
    });
    let ipv6 = vi.family == Some(m::Family::Inet6);
    let version = vi.version.unwrap_or(if ipv6 { 3 } else { g.vrrp_version });
    let strict = vi.strict_mode.unwrap_or(g.vrrp_strict);
    let owner = priority == 255;
    let trackers = instance_trackers(cfg, vi, sync_group, groups);
    let lower_delay = vi.garp_lower_prio_delay_us.or(g.vrrp_garp_lower_prio_delay);
    let lower_rep = vi.garp_lower_prio_repeat.or(g.vrrp_garp_lower_prio_repeat);
    Ok(InstanceConfig {
        name: vi.name.clone(),
        vrid,
        version,
        ipv6,
        priority,
        advert_int_us: vi.advert_int_us.unwrap_or(1_000_000).max(10_000),
        initial_master: match vi.state {
            Some(m::State::Master) => true,
            Some(m::State::Backup) => false,
            None => owner,
        },
        nopreempt: vi.nopreempt && !owner,
        preempt_delay_us: if owner { 0 } else { vi.preempt_delay_us },
        interface: vi.interface.clone(),
        dont_track_primary: vi.dont_track_primary,
        vips: vi.vips.iter().map(|a| a.addr).collect(),
        evips: vi.evips.iter().map(|a| a.addr).collect(),
        src_ip: vi.src_ip,
        unicast_peers: vi
            .unicast_peers
            .iter()
            .map(|p| Peer { addr: p.addr, min_ttl: p.min_ttl, max_ttl: p.max_ttl })
            .collect(),
        unicast: vi.unicast || !vi.unicast_peers.is_empty(),
        unicast_fault_no_peer: vi.unicast_fault_no_peer,
        check_unicast_src: vi.check_unicast_src,
        auth: auth_config(vi),
        accept: owner || vi.accept.unwrap_or(!strict),
        strict,
        skip_check_adv_addr: vi.skip_check_adv_addr || g.vrrp_skip_check_adv_addr,
        lower_prio_no_advert: vi.lower_prio_no_advert.unwrap_or(g.vrrp_lower_prio_no_advert),
        higher_prio_send_advert: vi.higher_prio_send_advert.unwrap_or(g.vrrp_higher_prio_send_advert),
        owner_ignore_adverts: owner && vi.owner_ignore_adverts.unwrap_or(g.vrrp_owner_ignore_adverts),
        down_timer_adverts: vi.down_timer_adverts.unwrap_or(g.vrrp_down_timer_adverts).max(1),
        garp_master_delay_us: vi.garp_master_delay_us.unwrap_or(g.vrrp_garp_master_delay),
        garp_master_repeat: vi.garp_master_repeat.unwrap_or(g.vrrp_garp_master_repeat),
        garp_master_refresh_us: u64::from(vi.garp_master_refresh.unwrap_or(g.vrrp_garp_master_refresh)) * 1_000_000,
        garp_master_refresh_repeat: vi.garp_master_refresh_repeat.unwrap_or(g.vrrp_garp_master_refresh_repeat),
        garp_lower_prio_delay_us: lower_delay.unwrap_or(vi.garp_master_delay_us.unwrap_or(g.vrrp_garp_master_delay)),
        garp_lower_prio_repeat: lower_rep.unwrap_or(vi.garp_master_repeat.unwrap_or(g.vrrp_garp_master_repeat)),
        notify_priority_changes: vi.notify_priority_changes.unwrap_or(g.vrrp_notify_priority_changes),
        trackers,
        sync_group,
    })
}

/// PASS: the password, NUL padded to 8 bytes; AH; none without a password.
fn auth_config(vi: &m::VrrpInstance) -> AuthConfig {
    match (vi.auth_type, &vi.auth_pass) {
        (Some(m::AuthType::Pass), Some(p)) => {
            let mut b = [0u8; 8];
            for (d, s) in b.iter_mut().zip(p.as_bytes()) {
                *d = *s;
            }
            AuthConfig::Pass(b)
        }
        (Some(m::AuthType::Ah), Some(_)) => AuthConfig::Ah,
        _ => AuthConfig::None,
    }
}

/// What the instance tracks: its own trackers, its sync group's (weight 0
/// without `track_weight`), then the track group's static interfaces.
fn instance_trackers(
    cfg: &Config,
    vi: &m::VrrpInstance,
    sync_group: Option<usize>,
    groups: &[SyncGroupConfig],
) -> Vec<TrackRef> {
    let mut trackers = Vec::new();
    track_refs(
        &mut trackers,
        &vi.track_interfaces,
        &vi.track_scripts,
        &vi.track_files,
        &vi.track_processes,
        &vi.track_bfds,
        false,
    );
    if let Some(gi) = sync_group {
        if let Some(sg) = cfg.vrrp.sync_groups.iter().find(|s| groups.get(gi).is_some_and(|g| g.name == s.name)) {
            track_refs(
                &mut trackers,
                &sg.track_interfaces,
                &sg.track_scripts,
                &sg.track_files,
                &sg.track_processes,
                &sg.track_bfds,
                !sg.tracking_weight,
            );
        }
    }
    static_track_refs(&mut trackers, &cfg.ip, &vi.name);
    trackers
}

/// The engine-wide options: global settings, GARP groups per interface,
/// vrrp_scripts' rise and fall, track files' initial values.
fn engine_options(cfg: &Config) -> EngineOptions {
    let g = &cfg.global;
    let v = &cfg.vrrp;
    let mut garp_groups = Vec::new();
    for gg in &v.garp_groups {
        for ifname in &gg.interfaces {
            garp_groups.push(GarpPacing {
                interface: ifname.clone(),
                garp_interval_us: gg.garp_interval_us.unwrap_or(0),
                gna_interval_us: gg.gna_interval_us.unwrap_or(0),
            });
        }
    }
    let scripts = v
        .scripts
        .iter()
        .map(|s| ScriptConfig {
            name: s.name.clone(),
            rise: s.rise.max(1),
            fall: s.fall.max(1),
            init_fail: s.init_fail,
        })
        .collect();
    let file_init =
        v.track_files.iter().filter_map(|f| f.init_file.map(|i| (f.name.clone(), i64::from(i.value)))).collect();
    EngineOptions {
        drop_on_vip_mismatch: false,
        check_unicast_src: g.vrrp_check_unicast_src,
        startup_delay_us: g.vrrp_startup_delay,
        fifo_states_on_reload: g.fifo_write_vrrp_states_on_reload,
        garp_interval_us: g.vrrp_garp_interval,
        gna_interval_us: g.vrrp_gna_interval,
        garp_groups,
        scripts,
        file_init,
    }
}
