//! Building the VRRP shell, at start and at a reload: the firewall, the
//! tracked scripts, each instance's link (interface or VMAC) and packet
//! metadata, the sockets the instances share, the monitors, and the facts
//! the engine learns before it starts. The steps run in this order because
//! their side effects (VMACs created, sockets opened, messages logged) are
//! keepalived's order.

use super::vmac_name::{Kind, VmacNames, Want};
use super::{
    advert_ttl, debounce, extra_garp, link_is_up, local_igmp, match_key, notify, open_recorder, routes, rx_bufs,
    sync_daemon, track_file, Meta, Sock, Statics, TrackScript, VrrpShell,
};
use keepalived_config::model::ip::IpAddress;
use keepalived_config::model::vrrp::VrrpInstance;
use keepalived_config::Config;
use keepalived_net::{
    interface_info, InterfaceInfo, PacketSocket, VrrpProto, VrrpSocketV4, VrrpSocketV4Config, VrrpSocketV6,
};
use keepalived_netlink::nft::Firewall;
use keepalived_netlink::vmac::{Sysctls, Vmac};
use keepalived_netlink::{AddrOptions, Monitor};
use keepalived_vrrp::{AuthConfig, Input, InstanceConfig, InstanceId, Router};
use keepalived_wire::vrrp::{self, Version};
use keepalived_wire::{ip_proto, MacAddr};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use tracing::{error, info, warn};

/// A v4 socket's key: (ifindex, protocol, unicast source). Unicast
/// instances get a socket bound to their source address, multicast ones
/// one joined to the group.
type V4Key = (u32, u8, Option<Ipv4Addr>);

/// The VRRP sockets the instances need, collected instance by instance and
/// opened once all are known: one per (interface, protocol, unicast
/// source), filtered to its VRIDs.
#[derive(Default)]
struct SocketPlan {
    v4_vrids: HashMap<V4Key, Vec<u8>>,
    v6_vrids: HashMap<u32, Vec<u8>>,
    ifnames: HashMap<u32, String>,
    /// Receive buffer sizes, summed per socket as keepalived does.
    v4_rcv: HashMap<V4Key, usize>,
    v6_rcv: HashMap<u32, usize>,
}

/// What the engine is told before Start.
#[derive(Default)]
struct Facts {
    /// Missing interfaces, and interfaces without an address to send from.
    down_ifaces: Vec<String>,
    /// Each instance's source address; `None`: its interface has none of the family.
    sources: Vec<(InstanceId, Option<IpAddr>)>,
    file_values: Vec<(String, i64)>,
    proc_states: Vec<(String, bool)>,
}

/// Where an instance's adverts leave from and its addresses go.
struct Link {
    ifname: String,
    /// 0 when the interface does not exist.
    ifindex: u32,
    mac: Option<MacAddr>,
    /// Where the VIPs go: the VMAC, even with `vmac_xmit_base`.
    vip_ifindex: u32,
    vmac: Option<Vmac>,
    src: Option<IpAddr>,
    /// The configured interface exists.
    found: bool,
    /// The interface `src` was taken from (no `unicast_src_ip`; not for an IPv6 VMAC, whose
    /// link-local address is ours): followed for address changes.
    src_from: Option<u32>,
}

/// What a reload carries from the old shell into the new one.
#[derive(Default)]
pub(super) struct Carried {
    /// The new configuration's engine, already built (and validated) by the reload.
    pub router: Option<Router>,
    pub sysctls: Option<Sysctls>,
    pub firewall: Option<Firewall>,
    /// See [`VmacNames::with_ipvlan_flags`].
    pub ipvlan_flags: HashMap<String, u16>,
    /// The link and address monitor: kept open across a reload, as keepalived keeps its netlink
    /// socket, so that no change between the two shells is lost.
    pub monitor: Option<Monitor>,
}

impl VrrpShell {
    pub(super) fn build(cfg: &Config, reloading: bool, carried: Carried) -> Result<VrrpShell, String> {
        let Carried { router, sysctls, firewall, ipvlan_flags, monitor } = carried;
        let router = match router {
            Some(r) => r,
            None => Router::from_config(cfg).map_err(|e| format!("VRRP configuration: {e}"))?,
        };
        let firewall = firewall_for(cfg, &router, firewall);
        let mut shell = Self::bare(cfg, reloading, router, sysctls, firewall);
        shell.track_scripts = track_scripts(cfg);
        // The monitor listens before any VMAC or ipvlan is created: the link-local address the
        // kernel gives a new IPv6 ipvlan a moment later is an instance's source (see
        // `ipvlan_link_local`), and a notification sent before the socket existed would be lost.
        shell.open_link_monitor(cfg, monitor);
        let mut facts = Facts::default();
        let plan = shell.add_instances(cfg, &mut facts, ipvlan_flags);
        shell.open_vrrp_sockets(cfg, &plan);
        shell.open_packet_sockets(&plan.ifnames);
        facts.file_values = shell.watch_files(cfg, reloading);
        facts.proc_states = shell.monitor_processes(cfg);
        shell.feed_initial_facts(cfg, reloading, facts);
        Ok(shell)
    }

    /// The shell with its router, firewall and per-configuration helpers,
    /// before any instance is set up.
    fn bare(
        cfg: &Config,
        reloading: bool,
        router: Router,
        sysctls: Option<Sysctls>,
        firewall: Option<Firewall>,
    ) -> VrrpShell {
        // Who scripts run as (resolves script_user once).
        let script_opts = crate::files::ScriptRunOpts::from_global(&cfg.global, false);
        VrrpShell {
            router,
            metas: Vec::new(),
            socks: Vec::new(),
            tx4: HashMap::new(),
            tx6: HashMap::new(),
            packet: HashMap::new(),
            by_key: HashMap::new(),
            monitor: None,
            epoch: std::time::Instant::now(),
            actions: Vec::with_capacity(64),
            buf: vec![0u8; 65536],
            recorder: open_recorder(),
            resyncs: 0,
            last_resync_log: None,
            rx_errors: 0,
            script_opts: script_opts.clone(),
            files: None,
            log_unknown_vrids: cfg.global.log_unknown_vrids,
            procs: None,
            statics: Statics::from_config(cfg),
            sysctls: sysctls.unwrap_or_default(),
            firewall,
            notifier: notify::Notifier::new(cfg, script_opts),
            track_scripts: Vec::new(),
            script_timers: keepalived_runtime::TimerHeap::new(),
            runner: keepalived_runtime::script::ScriptRunner::new(),
            sync_daemon: sync_daemon::SyncDaemonHook::new(cfg),
            local_igmp: if !reloading && cfg.global.disable_local_igmp {
                local_igmp::LocalIgmp::disable()
            } else {
                local_igmp::LocalIgmp::default()
            },
            debounce: debounce::Debounce::new(cfg, link_is_up(cfg)),
        }
    }

    /// Each instance's link (creating its VMAC), source address and packet
    /// metadata, in the engine's order. The sockets it needs go in the
    /// returned plan; missing interfaces and sources in `facts`.
    /// `ipvlan_flags`: see [`VmacNames::with_ipvlan_flags`].
    fn add_instances(&mut self, cfg: &Config, facts: &mut Facts, ipvlan_flags: HashMap<String, u16>) -> SocketPlan {
        let mut plan = SocketPlan::default();
        // Models by name (the first of a name, as a scan would find) and
        // interfaces by name: with 1,000 instances a scan and a getifaddrs
        // dump per instance made a reload take seconds.
        let mut models: HashMap<&str, &VrrpInstance> = HashMap::with_capacity(cfg.vrrp.instances.len());
        for m in cfg.vrrp.instances.iter().rev() {
            models.insert(m.name.as_str(), m);
        }
        let mut ifaces = IfaceCache::new();
        let mut names = vmac_names(cfg).with_ipvlan_flags(ipvlan_flags);
        for (id, inst) in self.router.instances().iter().enumerate() {
            let c = &inst.config;
            let model = models.get(c.name.as_str()).copied();
            let link = instance_link(
                c,
                model,
                &mut self.sysctls,
                self.firewall.as_mut(),
                &mut facts.down_ifaces,
                &mut ifaces,
                &mut names,
            );
            match link.src {
                Some(a) => facts.sources.push((id, Some(a))),
                None if link.found => {
                    let fam = if c.ipv6 { "IPv6" } else { "IPv4" };
                    warn!("({}) entering FAULT state (no {fam} address for interface)", c.name);
                    facts.sources.push((id, None));
                }
                None => {}
            }
            let addresses = instance_addresses(model, link.vip_ifindex);
            if link.ifindex != 0 {
                plan.add(cfg, c, model, &link);
                self.by_key.insert((c.vrid, c.ipv6, link.ifindex), id);
            }
            self.metas.push(meta(cfg, c, model, link, addresses));
        }
        plan
    }

    /// The planned VRRP sockets, v4 then v6; one that cannot be opened is
    /// logged and its instances never hear adverts.
    fn open_vrrp_sockets(&mut self, cfg: &Config, plan: &SocketPlan) {
        for ((ifindex, proto, usrc), vrids) in &plan.v4_vrids {
            let (ifindex, proto, usrc) = (*ifindex, *proto, *usrc);
            let ifname = plan.ifnames.get(&ifindex).cloned().unwrap_or_default();
            let mut sc = VrrpSocketV4Config::multicast(&ifname, ifindex);
            sc.proto = if proto == ip_proto::AH { VrrpProto::Ah } else { VrrpProto::Vrrp };
            // With log_unknown_vrids the kernel must not filter other VRIDs out.
            sc.vrids = (!cfg.global.log_unknown_vrids).then(|| vrids.clone());
            sc.rcvbuf = rx_bufs::rcvbuf(plan.v4_rcv.get(&(ifindex, proto, usrc)).copied().unwrap_or(0));
            if usrc.is_some() {
                sc.group = None;
                sc.unicast_src = usrc;
            }
            match VrrpSocketV4::open(&sc) {
                Ok(s) => {
                    self.tx4.insert((ifindex, proto, usrc.is_some()), self.socks.len());
                    self.socks.push(Sock::V4(s));
                }
                Err(e) => error!("Unable to open a VRRP socket on {ifname}: {e}"),
            }
        }
        for (&ifindex, vrids) in &plan.v6_vrids {
            let ifname = plan.ifnames.get(&ifindex).cloned().unwrap_or_default();
            let mut sc = keepalived_net::VrrpSocketV6Config::multicast(&ifname, ifindex);
            // With log_unknown_vrids the kernel must not filter other VRIDs out.
            sc.vrids = (!cfg.global.log_unknown_vrids).then(|| vrids.clone());
            sc.rcvbuf = rx_bufs::rcvbuf(plan.v6_rcv.get(&ifindex).copied().unwrap_or(0));
            match VrrpSocketV6::open(&sc) {
                Ok(s) => {
                    self.tx6.insert(ifindex, self.socks.len());
                    self.socks.push(Sock::V6(s));
                }
                Err(e) => error!("Unable to open a VRRP IPv6 socket on {ifname}: {e}"),
            }
        }
    }

    /// Send-only packet sockets for gratuitous ARP / unsolicited NA, on
    /// the instances' interfaces and the `garp_extra_if` targets.
    fn open_packet_sockets(&mut self, ifnames: &HashMap<u32, String>) {
        let extra_ifs = self.metas.iter().flat_map(|m| m.extra_garp.iter().flat_map(|e| e.targets.iter()));
        let mut packet_ifs: Vec<u32> = ifnames.keys().copied().chain(extra_ifs.map(|t| t.ifindex)).collect();
        packet_ifs.sort_unstable();
        packet_ifs.dedup();
        for ifindex in &packet_ifs {
            match PacketSocket::open_send_only(*ifindex) {
                Ok(p) => {
                    self.packet.insert(*ifindex, p);
                }
                Err(e) => warn!("Unable to open a packet socket for gratuitous ARP/NA: {e}"),
            }
        }
    }

    /// The netlink monitor of links and addresses.
    /// `carried`: the old shell's at a reload.
    fn open_link_monitor(&mut self, cfg: &Config, carried: Option<Monitor>) {
        let g = &cfg.global;
        let opened = match carried {
            Some(m) => Ok(m),
            None => Monitor::configured(g.vrrp_netlink_monitor_rcv_bufs, g.vrrp_netlink_monitor_rcv_bufs_force),
        };
        match opened {
            Ok(m) => {
                self.monitor = Some(m);
                self.socks.push(Sock::Monitor);
            }
            Err(e) => warn!("Unable to monitor links and addresses: {e}"),
        }
    }

    /// track_file: init_file written (not at a reload), directories
    /// watched; returns the files' values.
    fn watch_files(&mut self, cfg: &Config, reloading: bool) -> Vec<(String, i64)> {
        let mut file_values = Vec::new();
        if let Some((t, initial)) = track_file::FileTracker::new(&cfg.vrrp.track_files, !reloading) {
            self.files = Some(t);
            self.socks.push(Sock::Files);
            file_values = initial;
        }
        file_values
    }

    /// vrrp_track_process: subscribe to process events, then scan /proc;
    /// returns the trackers' states.
    fn monitor_processes(&mut self, cfg: &Config) -> Vec<(String, bool)> {
        let mut proc_states = Vec::new();
        if cfg.vrrp.track_processes.is_empty() {
            return proc_states;
        }
        let g = &cfg.global;
        match keepalived_netlink::procmon::ProcMonitor::new(
            &cfg.vrrp.track_processes,
            g.process_monitor_rcv_bufs,
            g.process_monitor_rcv_bufs_force,
            &mut proc_states,
        ) {
            Ok(m) => {
                self.procs = Some(m);
                self.socks.push(Sock::Procs);
            }
            Err(e) => {
                // As keepalived: unmonitored trackers are down (a
                // `quorum_max 0` one is up).
                warn!("Unable to monitor processes: {e}");
                proc_states.clear();
                keepalived_netlink::procmon::ProcessTracker::new(&cfg.vrrp.track_processes)
                    .report_unmonitored(&mut proc_states);
            }
        }
        proc_states
    }

    /// Initial facts before Start: process and file states, sources, then
    /// (after the FIFOs and the start alerts) missing interfaces.
    fn feed_initial_facts(&mut self, cfg: &Config, reloading: bool, facts: Facts) {
        let Facts { mut down_ifaces, sources, file_values, proc_states } = facts;
        let now = self.now();
        for (name, up) in proc_states {
            self.feed(now, Input::Process { name, up });
        }
        for (name, value) in file_values {
            self.feed(now, Input::FileValue { name, value });
        }
        for (id, addr) in sources {
            self.feed(now, Input::SourceAddress { instance: id, addr });
        }
        self.notifier.open_fifos(cfg);
        if !reloading {
            self.notifier.start_alerts(cfg, None);
        }
        down_ifaces.extend(super::interfaces_down_at_start(&self.router));
        down_ifaces.sort();
        down_ifaces.dedup();
        for name in down_ifaces {
            self.feed(now, Input::Interface { name, up: false });
        }
    }
}

/// no_accept / strict: keepalived drops traffic to a non-accept master's
/// addresses with nftables (its default table when none is configured);
/// VMACs need it too. A reload keeps the old firewall if still needed.
fn firewall_for(cfg: &Config, router: &Router, old: Option<Firewall>) -> Option<Firewall> {
    let needs_fw =
        router.instances().iter().any(|i| !i.config.accept) || cfg.vrrp.instances.iter().any(|m| m.use_vmac.is_some());
    match (old, needs_fw) {
        (Some(f), true) => Some(f),
        (Some(f), false) => {
            let _ = f.close();
            None
        }
        (None, true) => open_firewall(cfg),
        (None, false) => None,
    }
}

/// The configured nftables table, else keepalived's default one.
fn open_firewall(cfg: &Config) -> Option<Firewall> {
    let table =
        cfg.global.nftables.as_deref().filter(|t| !t.is_empty()).unwrap_or(keepalived_netlink::nft::DEFAULT_TABLE);
    if cfg.global.nftables.is_none() {
        info!("use_vmac or no_accept/strict specified, but no firewall configured - using nftables");
    }
    match Firewall::open(table, cfg.global.nftables_priority) {
        Ok(mut f) => {
            f.set_counters(cfg.global.nftables_counters);
            Some(f)
        }
        Err(e) => {
            error!("Unable to set up the nftables firewall for no_accept: {e}");
            None
        }
    }
}

/// vrrp_scripts tracked by an instance or a sync group (keepalived runs
/// only those), with the script's user defaulting to the vrrp_script's.
fn track_scripts(cfg: &Config) -> Vec<TrackScript> {
    let tracked: std::collections::HashSet<&str> = cfg
        .vrrp
        .instances
        .iter()
        .flat_map(|v| v.track_scripts.iter().map(|t| t.name.as_str()))
        .chain(cfg.vrrp.sync_groups.iter().flat_map(|g| g.track_scripts.iter().map(|t| t.name.as_str())))
        .collect();
    let mut scripts = Vec::new();
    for vs in &cfg.vrrp.scripts {
        let (Some(script), true) = (&vs.script, tracked.contains(vs.name.as_str())) else { continue };
        let mut script = script.clone();
        if script.user.is_none() {
            script.user = vs.user.clone();
            script.group = vs.group.clone();
        }
        let interval = std::time::Duration::from_micros(vs.interval_us.max(1));
        let timeout = std::time::Duration::from_micros(vs.timeout_us.unwrap_or(vs.interval_us).max(1));
        scripts.push(TrackScript { name: vs.name.clone(), script, interval, timeout, running: None, last_status: 0 });
    }
    scripts
}

/// The instance's interface and source address (the configured one, else
/// the interface's first IPv4 or link-local IPv6 address); with use_vmac,
/// its VMAC. A missing interface goes in `down_ifaces`.
fn instance_link(
    c: &InstanceConfig,
    model: Option<&VrrpInstance>,
    sysctls: &mut Sysctls,
    firewall: Option<&mut Firewall>,
    down_ifaces: &mut Vec<String>,
    ifaces: &mut IfaceCache,
    names: &mut VmacNames,
) -> Link {
    let ifname = c.interface.clone().unwrap_or_else(|| "eth0".to_string());
    let info = ifaces.entry(ifname.clone()).or_insert_with(|| interface_info(&ifname).ok()).clone();
    let ifindex = info.as_ref().map_or(0, |i| i.index);
    if info.is_none() {
        warn!("({}) interface {ifname} not found", c.name);
        down_ifaces.push(ifname.clone());
    }
    let src = c.src_ip.or_else(|| {
        info.as_ref().and_then(|i| {
            if c.ipv6 {
                i.ipv6_link_local().map(IpAddr::V6)
            } else {
                i.ipv4.first().copied().map(IpAddr::V4)
            }
        })
    });
    let mac = info.as_ref().and_then(|i| i.mac);
    let found = info.is_some();
    let mut link = Link { ifname, ifindex, mac, vip_ifindex: ifindex, vmac: None, src, found, src_from: None };
    if let (Some(vm), Some(base)) = (model.and_then(|m| m.use_vmac.as_ref()), info.as_ref()) {
        let spec = vmac_spec(c, model, vm, base, names);
        attach_vmac(c, model, spec, base, &mut link, sysctls, firewall);
        // Creating a VMAC may have deleted or re-created interfaces.
        ifaces.clear();
        names.forget_links();
    } else if let (Some(ip), Some(base)) = (model.and_then(|m| m.use_ipvlan.as_ref()), info.as_ref()) {
        let name = ip.ifname.clone().unwrap_or_else(|| ipvlan_name(c, ip, base.index, names));
        attach_ipvlan(c, model, ip, name, base, &mut link);
        if c.ipv6 && c.src_ip.is_none() {
            ipvlan_link_local(&mut link);
        }
        // So may creating an ipvlan.
        ifaces.clear();
        names.forget_links();
    }
    let ours = c.src_ip.is_some() || (c.ipv6 && link.vmac.is_some());
    if !ours {
        link.src_from = info.map(|i| i.index);
    }
    link
}

/// An IPv6 ipvlan without an address sends from its own link-local address, not the base's
/// (which the kernel refuses there). keepalived takes it when the kernel reports it ("Assigned
/// address … for interface vrrp.72"), so it is followed; until it is there the instance has no
/// source.
fn ipvlan_link_local(link: &mut Link) {
    let Some(v) = &link.vmac else { return };
    link.src = interface_info(&v.name).ok().and_then(|i| i.ipv6_link_local()).map(IpAddr::V6);
    link.src_from = Some(v.index);
}

/// Interfaces looked up while one configuration is set up, by name (`None`:
/// not found).
type IfaceCache = HashMap<String, Option<InterfaceInfo>>;

/// A configured VMAC MAC; with `vmac_mac_use_vrid` its last octet is the VRID.
fn vmac_mac(mut m: [u8; 6], use_vrid: bool, vrid: u8) -> [u8; 6] {
    if use_vrid {
        m[5] = vrid;
    }
    m
}

/// The VMAC/ipvlan names of a configuration: `vmac_prefix`, and the names instances configure.
fn vmac_names(cfg: &Config) -> VmacNames {
    let configured = cfg.vrrp.instances.iter().filter_map(|m| {
        m.use_vmac
            .as_ref()
            .and_then(|v| v.ifname.clone())
            .or_else(|| m.use_ipvlan.as_ref().and_then(|i| i.ifname.clone()))
    });
    VmacNames::new(cfg.global.vmac_prefix(), configured)
}

/// What the instance's VMAC is: its MAC, and its name (configured, else
/// chosen as keepalived does, see [`VmacNames`]).
fn vmac_spec(
    c: &InstanceConfig,
    model: Option<&VrrpInstance>,
    vm: &keepalived_config::model::vrrp::Vmac,
    base: &InterfaceInfo,
    names: &mut VmacNames,
) -> keepalived_netlink::vmac::VmacSpec {
    let mut spec = keepalived_netlink::vmac::VmacSpec::new(c.vrid, base.index, c.ipv6);
    if let Some(m) = vm.mac {
        spec.mac = vmac_mac(m, vm.mac_use_vrid, c.vrid);
    }
    spec.name = match &vm.ifname {
        Some(n) => n.clone(),
        None => names.choose(&Want { vrid: c.vrid, ipv6: c.ipv6, base: base.index, kind: &Kind::Macvlan(spec.mac) }).0,
    };
    spec.other_family_evips = model.is_some_and(|m| m.evips.iter().any(|a| a.addr.is_ipv6() != c.ipv6));
    spec
}

/// The name of an ipvlan whose instance configures none (see [`VmacNames`]); keepalived logs the
/// existing one it takes over.
fn ipvlan_name(
    c: &InstanceConfig,
    ip: &keepalived_config::model::vrrp::Ipvlan,
    base: u32,
    names: &mut VmacNames,
) -> String {
    let kind = Kind::Ipvlan { flags: keepalived_netlink::ipvlan::ipvlan_flags(ip.mode.as_deref()), addr: ip.addr };
    let (name, existing) = names.choose(&Want { vrid: c.vrid, ipv6: c.ipv6, base, kind: &kind });
    if existing {
        info!("({}) Found matching interface {name}", c.name);
    }
    name
}

/// use_vmac: the instance lives on its own macvlan carrying the virtual
/// MAC; its addresses go there, adverts and GARPs leave from it (from the
/// base with vmac_xmit_base). A VMAC that cannot be created is logged and
/// the instance stays on its interface.
fn attach_vmac(
    c: &InstanceConfig,
    model: Option<&VrrpInstance>,
    spec: keepalived_netlink::vmac::VmacSpec,
    base: &InterfaceInfo,
    link: &mut Link,
    sysctls: &mut Sysctls,
    firewall: Option<&mut Firewall>,
) {
    match keepalived_netlink::vmac::create_vmac(&spec, sysctls) {
        Ok(v) => {
            info!("({}) VMAC {} on {} ({})", c.name, v.name, link.ifname, MacAddr(spec.mac));
            if c.ipv6 {
                add_vmac_link_local(c, &v, base, &mut link.src);
            }
            link.vip_ifindex = v.index;
            if !model.is_some_and(|m| m.vmac_xmit_base) {
                link.ifindex = v.index;
                link.ifname = v.name.clone();
            }
            link.mac = Some(MacAddr(spec.mac));
            if let Some(fw) = firewall {
                filter_vmac_reports(fw, c, &v, base, spec.other_family_evips);
            }
            link.vmac = Some(v);
        }
        Err(e) => error!("({}) unable to create VMAC {}: {e}", c.name, spec.name),
    }
}

/// use_ipvlan: the instance's adverts leave from an l2 ipvlan of its
/// interface (same MAC), from the ipvlan's address (keepalived makes it
/// the source). One that cannot be
/// created is logged and the instance stays on its interface, as in
/// keepalived ("Unable to create ipvlan interface").
fn attach_ipvlan(
    c: &InstanceConfig,
    model: Option<&VrrpInstance>,
    ip: &keepalived_config::model::vrrp::Ipvlan,
    name: String,
    base: &InterfaceInfo,
    link: &mut Link,
) {
    let spec = ipvlan_spec(c, model, ip, name, base);
    match keepalived_netlink::ipvlan::create_ipvlan(&spec) {
        Ok(v) => {
            info!("({}) ipvlan {} on {}", c.name, v.name, link.ifname);
            // The VIPs stay on the configured interface: keepalived 2.2.7
            // moves them only onto a VMAC (vrrp_complete_instance).
            link.ifindex = v.index;
            link.ifname = v.name.clone();
            link.vmac = Some(v);
        }
        Err(e) => error!("({}): Unable to create ipvlan interface {}: {e}", c.name, spec.name),
    }
}

fn ipvlan_spec(
    c: &InstanceConfig,
    model: Option<&VrrpInstance>,
    ip: &keepalived_config::model::vrrp::Ipvlan,
    name: String,
    base: &InterfaceInfo,
) -> keepalived_netlink::ipvlan::IpvlanSpec {
    use keepalived_config::ipaddr::rttables;
    let host = |a: &IpAddr| if a.is_ipv6() { 128 } else { 32 };
    keepalived_netlink::ipvlan::IpvlanSpec {
        name,
        base_ifindex: base.index,
        flags: keepalived_netlink::ipvlan::ipvlan_flags(ip.mode.as_deref()),
        vrf_master: keepalived_netlink::ipvlan::vrf_master_of(base.index).ok().flatten(),
        group: ip.group.as_deref().and_then(rttables::group),
        addr: ip.addr.map(|a| (a, ip.prefix.unwrap_or_else(|| host(&a)))),
        ipv6: c.ipv6,
        other_family_evips: model.is_some_and(|m| m.evips.iter().any(|a| a.addr.is_ipv6() != c.ipv6)),
    }
}

/// An IPv6 VMAC's link-local address (derived from the configured source
/// or the base's), which is the instance's source unless one is configured.
fn add_vmac_link_local(c: &InstanceConfig, v: &Vmac, base: &InterfaceInfo, src: &mut Option<IpAddr>) {
    let cfg_src = match c.src_ip {
        Some(IpAddr::V6(a)) => Some(a),
        _ => None,
    };
    let base_mac = base.mac.map(|m| m.0).unwrap_or_default();
    let ll = keepalived_netlink::vmac::vmac_link_local(cfg_src, base.ipv6_link_local(), &base_mac);
    let opts = AddrOptions { nodad: true, preferred_lft: Some(0), ..Default::default() };
    match keepalived_netlink::add_address(v.index, IpAddr::V6(ll), 64, &opts) {
        Ok(()) => {}
        Err(e) if e.is_already_exists() => {}
        Err(e) => warn!("({}) unable to add {ll} to {}: {e}", c.name, v.name),
    }
    if cfg_src.is_none() {
        *src = Some(IpAddr::V6(ll));
    }
}

/// keepalived's IGMP/MLD filter: reports leaving the VMAC are sent from the
/// base instead (both families when the instance has eVIPs of the other
/// one).
fn filter_vmac_reports(fw: &mut Firewall, c: &InstanceConfig, v: &Vmac, base: &InterfaceInfo, other_family: bool) {
    let mut fams = vec![c.ipv6];
    if other_family {
        fams.push(!c.ipv6);
    }
    for v6 in fams {
        if let Err(e) = fw.add_vmac(v.index, base.index, v6) {
            warn!("({}) unable to add VMAC {} to the firewall: {e}", c.name, v.name);
        }
    }
}

/// The VIPs and eVIPs with the ifindex each goes on: its `dev`, else the
/// instance's (resolved once, as keepalived does at config time).
fn instance_addresses(model: Option<&VrrpInstance>, vip_ifindex: u32) -> Vec<(IpAddress, u32)> {
    model
        .into_iter()
        .flat_map(|m| m.vips.iter().chain(m.evips.iter()))
        .map(|a| {
            let idx = a.dev.as_deref().and_then(|d| interface_info(d).ok()).map_or(vip_ifindex, |i| i.index);
            (a.clone(), idx)
        })
        .collect()
}

impl SocketPlan {
    /// An instance on `link` (which exists) joins its interface's socket of
    /// its family and protocol, and adds its share of the receive buffer.
    fn add(&mut self, cfg: &Config, c: &InstanceConfig, model: Option<&VrrpInstance>, link: &Link) {
        let ifindex = link.ifindex;
        let proto = if c.auth == AuthConfig::Ah { ip_proto::AH } else { ip_proto::VRRP };
        self.ifnames.insert(ifindex, link.ifname.clone());
        let adv_len = rx_bufs::adv_len(c.ipv6, c.version == 3, c.vips.len(), proto == ip_proto::AH);
        let rx = rx_bufs::share(&cfg.global, model.and_then(|m| m.kernel_rx_buf_size), adv_len, &link.ifname);
        if c.ipv6 {
            self.v6_vrids.entry(ifindex).or_default().push(c.vrid);
            *self.v6_rcv.entry(ifindex).or_default() += rx;
        } else {
            let usrc = match (c.unicast || !c.unicast_peers.is_empty(), link.src) {
                (true, Some(IpAddr::V4(a))) => Some(a),
                _ => None,
            };
            self.v4_vrids.entry((ifindex, proto, usrc)).or_default().push(c.vrid);
            *self.v4_rcv.entry((ifindex, proto, usrc)).or_default() += rx;
        }
    }
}

/// What the shell keeps to build the instance's packets and install its
/// addresses, routes and rules.
fn meta(
    cfg: &Config,
    c: &InstanceConfig,
    model: Option<&VrrpInstance>,
    link: Link,
    addresses: Vec<(IpAddress, u32)>,
) -> Meta {
    let version = if c.version == 3 { Version::V3 } else { Version::V2 };
    let adver_int = match version {
        Version::V2 => (c.advert_int_us / 1_000_000).clamp(1, 255) as u16,
        Version::V3 => (c.advert_int_us / 10_000).clamp(1, 4095) as u16,
    };
    let vips4 = c.vips.iter().filter_map(|a| if let IpAddr::V4(v) = a { Some(*v) } else { None }).collect();
    let vips6 = c.vips.iter().filter_map(|a| if let IpAddr::V6(v) = a { Some(*v) } else { None }).collect();
    let group4 = match model.and_then(|m| m.mcast_dst_ip) {
        Some(IpAddr::V4(g)) => g,
        _ => cfg.global.vrrp_mcast_group4,
    };
    let placement = extra_garp::Placement {
        addresses: &addresses,
        own: link.vip_ifindex,
        vmac: link.vmac.as_ref().zip(link.mac).map(|(v, m)| (v.index, m)),
        xmit_base: model.is_some_and(|m| m.vmac_xmit_base),
    };
    let extra = extra_garp::plan(&cfg.global, model, &placement);
    Meta {
        key: match_key(c, model),
        extra_garp: extra,
        extra_garp_timer: None,
        name: c.name.clone(),
        ifname: link.ifname,
        ifindex: link.ifindex,
        mac: link.mac,
        vmac: link.vmac,
        block: !c.accept,
        vroutes: model.map(|m| routes::routes(&m.vroutes, &c.name)).unwrap_or_default(),
        vrules: model.map(|m| routes::rules(&m.vrules, &c.name)).unwrap_or_default(),
        ipv6: c.ipv6,
        version,
        vrid: c.vrid,
        adver_int,
        auth: c.auth,
        vips4,
        vips6,
        addresses,
        src: link.src,
        src_from: link.src_from,
        peers: c.unicast_peers.iter().map(|p| p.addr).collect(),
        group4,
        ah_seq: 0,
        ah_key: model.and_then(|m| m.auth_pass.as_deref()).map(|p| vrrp::auth_data(p.as_bytes())),
        ip_ident: 0,
        ttl: advert_ttl(c.ipv6, !c.unicast_peers.is_empty(), model.and_then(|m| m.unicast_ttl)),
    }
}
