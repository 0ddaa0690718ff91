//! The VRRP child's shell around the sans-IO engine: raw VRRP sockets per
//! interface, packet sockets for gratuitous ARP / unsolicited NA, netlink
//! for the virtual addresses and the link monitor, the engine's timers, and
//! notify scripts. It turns received bytes into engine inputs and engine
//! actions into packets, addresses and processes.
//!
//! Everything runs in the child's single mio loop; nothing blocks except
//! netlink requests to the kernel (answered at once).

mod debounce;
mod dump;
mod extra_garp;
mod notify;
mod status;
mod subsystem;
pub use subsystem::VrrpChild;
mod local_igmp;
mod reload;
mod routes;
mod rx_bufs;
mod setup;
mod sync_daemon;
mod vmac_name;
use crate::track_file;

use keepalived_config::model::ip::IpAddress;
use keepalived_config::model::Script;
use keepalived_config::Config;
use keepalived_net::{interface_info, PacketSocket, VrrpSocketV4, VrrpSocketV6};
use keepalived_netlink::{AddrOptions, Monitor};
use keepalived_vrrp::decode::{decode_ipv4, decode_ipv6, DecodeOptions, Ipv6Meta};
use keepalived_vrrp::replay::LogLine;
use keepalived_vrrp::{
    Action, AuthConfig, Input, InstanceId, Instant, Router, RxAdvert, RxAuth, ScriptExit, State, TrackKind,
};
use keepalived_wire::advert::Ipv4Advert;
use keepalived_wire::vrrp::{self, Addrs, Auth, ChecksumKind, Family, Repr, Version};
use keepalived_wire::{ah, arp, ip_proto, ipv4, ndisc, MacAddr};
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;
use tracing::{debug, info, warn};

/// Tokens from here on belong to the shell.
pub const FIRST_TOKEN: usize = 16;

enum Sock {
    V4(VrrpSocketV4),
    V6(VrrpSocketV6),
    Monitor,
    /// inotify for track_file.
    Files,
    /// The proc connector for vrrp_track_process.
    Procs,
}

/// What pairs an instance of the old configuration with one of the new
/// at a reload (keepalived's vrrp_exist): names do not matter.
#[derive(Clone, Debug, PartialEq, Eq)]
struct MatchKey {
    vrid: u8,
    ipv6: bool,
    interface: Option<String>,
    unicast: bool,
    /// Unicast: the source address; multicast: the group (None = default).
    addr: Option<IpAddr>,
    vmac: bool,
}

fn match_key(
    c: &keepalived_vrrp::InstanceConfig,
    model: Option<&keepalived_config::model::vrrp::VrrpInstance>,
) -> MatchKey {
    let unicast = c.unicast || !c.unicast_peers.is_empty();
    MatchKey {
        vrid: c.vrid,
        ipv6: c.ipv6,
        interface: c.interface.clone(),
        unicast,
        addr: if unicast { c.src_ip } else { model.and_then(|m| m.mcast_dst_ip) },
        vmac: model.is_some_and(|m| m.use_vmac.is_some()),
    }
}

/// What the shell keeps per engine instance to build its packets.
struct Meta {
    key: MatchKey,
    /// `garp_extra_if`: what to announce while master, and the timer.
    extra_garp: Option<extra_garp::ExtraGarp>,
    extra_garp_timer: Option<keepalived_runtime::TimerId>,
    /// The VMAC this instance created (or took over), deleted at stop.
    vmac: Option<keepalived_netlink::vmac::Vmac>,
    /// No accept mode: traffic to the addresses is dropped while master.
    block: bool,
    /// `virtual_routes` / `virtual_rules`.
    vroutes: Vec<keepalived_netlink::RouteSpec>,
    vrules: Vec<keepalived_netlink::RuleSpec>,
    name: String,
    ifname: String,
    ifindex: u32,
    mac: Option<MacAddr>,
    ipv6: bool,
    version: Version,
    vrid: u8,
    /// v2: seconds; v3: centiseconds.
    adver_int: u16,
    auth: AuthConfig,
    vips4: Vec<Ipv4Addr>,
    vips6: Vec<Ipv6Addr>,
    /// Addresses installed on MASTER (VIPs and eVIPs with their options),
    /// each with the ifindex it goes on (its `dev`, else the instance's
    /// interface), resolved once at start as keepalived does at config time.
    addresses: Vec<(IpAddress, u32)>,
    src: Option<IpAddr>,
    /// The interface `src` was taken from (no `unicast_src_ip`): when it loses that address
    /// another of the same family replaces it, or the instance faults until one is assigned.
    src_from: Option<u32>,
    /// Unicast peers (empty: multicast).
    peers: Vec<IpAddr>,
    group4: Ipv4Addr,
    ah_seq: u32,
    /// `auth_type AH`: the auth_pass, NUL padded.
    ah_key: Option<[u8; 8]>,
    ip_ident: u16,
    /// IPv4: the adverts' TTL (`unicast_ttl`, 255 when unset; keepalived
    /// uses it for multicast adverts too). IPv6: the unicast adverts' hop
    /// limit (-1: the route's default); None for multicast (255).
    ttl: Option<i32>,
}

pub struct VrrpShell {
    router: Router,
    metas: Vec<Meta>,
    socks: Vec<Sock>,
    /// (ifindex, proto, unicast) → socket index for sending.
    tx4: HashMap<(u32, u8, bool), usize>,
    tx6: HashMap<u32, usize>,
    packet: HashMap<u32, PacketSocket>,
    /// (vrid, ipv6, ifindex) → instance.
    by_key: HashMap<(u8, bool, u32), InstanceId>,
    monitor: Option<Monitor>,
    epoch: std::time::Instant,
    actions: Vec<Action>,
    buf: Vec<u8>,
    recorder: Option<std::fs::File>,
    /// Netlink monitor overruns handled by reading everything again, and when one was last logged.
    resyncs: u64,
    last_resync_log: Option<std::time::Instant>,
    rx_errors: u64,
    /// Who scripts run as (script_user / keepalived_script / us).
    script_opts: crate::files::ScriptRunOpts,
    /// track_file watcher.
    files: Option<track_file::FileTracker>,
    /// `log_unknown_vrids`.
    log_unknown_vrids: bool,
    /// vrrp_track_process monitor.
    procs: Option<keepalived_netlink::procmon::ProcMonitor>,
    /// `static_ipaddress` / `static_routes` / `static_rules`.
    statics: Statics,
    /// Interface settings changed for VMACs, restored at exit.
    sysctls: keepalived_netlink::vmac::Sysctls,
    /// The nftables table for `no_accept` / strict instances.
    firewall: Option<keepalived_netlink::nft::Firewall>,
    /// Notify scripts and FIFOs, indexed like the engine's instances.
    notifier: notify::Notifier,
    /// Tracked vrrp_scripts: run every `interval`, killed at `timeout`.
    track_scripts: Vec<TrackScript>,
    script_timers: keepalived_runtime::TimerHeap<ScriptTimer>,
    /// Running tracking scripts, tagged with their index.
    runner: keepalived_runtime::script::ScriptRunner<usize>,
    /// lvs_sync_daemon: the followed instance's roles, for the checker child.
    sync_daemon: sync_daemon::SyncDaemonHook,
    /// `disable_local_igmp`: what start changed, undone at stop.
    local_igmp: local_igmp::LocalIgmp,
    /// `interface_up_down_delays`: link changes held back.
    debounce: debounce::Debounce,
}

/// Addresses, routes and rules the VRRP child installs at start and
/// removes at stop, whatever the instances' states.
#[derive(Default)]
struct Statics {
    addresses: Vec<(IpAddress, u32)>,
    routes: Vec<keepalived_netlink::RouteSpec>,
    rules: Vec<keepalived_netlink::RuleSpec>,
}

impl Statics {
    fn from_config(cfg: &Config) -> Statics {
        let addresses = cfg
            .ip
            .addresses
            .iter()
            .filter_map(|a| {
                let dev = a.dev.as_deref()?;
                match interface_info(dev) {
                    Ok(i) => Some((a.clone(), i.index)),
                    Err(_) => {
                        warn!("static address {}/{}: interface {dev} not found", a.addr, a.prefix);
                        None
                    }
                }
            })
            .collect();
        Statics {
            addresses,
            routes: routes::routes(&cfg.ip.routes, "static"),
            rules: routes::rules(&cfg.ip.rules, "static"),
        }
    }

    fn install(&self) {
        for (a, idx) in &self.addresses {
            install(a, *idx, "static");
        }
        routes::add_routes(&self.routes, "static");
        routes::add_rules(&self.rules, "static");
    }

    /// Remove what is here and not in `keep`.
    fn remove_except(&self, keep: &Statics) {
        let rules: Vec<_> = self.rules.iter().filter(|r| !keep.rules.contains(r)).cloned().collect();
        routes::del_rules(&rules, "static");
        let rts: Vec<_> = self.routes.iter().filter(|r| !keep.routes.contains(r)).cloned().collect();
        routes::del_routes(&rts, "static");
        for (a, idx) in &self.addresses {
            if !keep.addresses.iter().any(|(k, i)| k.addr == a.addr && k.prefix == a.prefix && i == idx) {
                remove(a, *idx, "static");
            }
        }
    }
}

/// A vrrp_script that some instance or sync group tracks.
struct TrackScript {
    name: String,
    script: Script,
    interval: std::time::Duration,
    timeout: std::time::Duration,
    /// The running check (its timeout is the script runner's).
    running: Option<nix::unistd::Pid>,
    /// The last exit status (keepalived's last_status, 0 at start).
    last_status: i32,
}

#[derive(Clone, Copy, Debug)]
enum ScriptTimer {
    /// Time to run script `n`.
    Run(usize),
    /// `garp_extra_if`: instance `n`'s periodic announcements.
    ExtraGarp(usize),
}

fn instant(epoch: std::time::Instant) -> Instant {
    Instant(epoch.elapsed().as_micros() as u64)
}

impl VrrpShell {
    /// Build the engine and open what it needs. Interfaces that do not
    /// exist or sockets that cannot be opened are logged; their instances
    /// are put in FAULT by the engine (interface down).
    pub fn new(cfg: &Config) -> Result<VrrpShell, String> {
        Self::build(cfg, false, setup::Carried::default())
    }

    /// The live state and counters of every instance, for the dumps.
    pub fn live(&self) -> Vec<crate::dumps::VrrpLive> {
        self.router
            .instances()
            .iter()
            .map(|i| crate::dumps::VrrpLive {
                name: i.config.name.clone(),
                effective_priority: i.effective_priority,
                master_priority: i.master_priority,
                state: i.state,
                wantstate: i.wantstate,
                vipset: i.vipset,
                stats: i.stats,
            })
            .collect()
    }

    pub fn clear_stats(&mut self) {
        self.router.clear_stats();
    }

    fn now(&self) -> Instant {
        instant(self.epoch)
    }

    /// The wall-clock time of an engine instant (the engine's clock is the
    /// shell's monotonic epoch).
    fn wall_time(&self, at: Instant) -> std::time::SystemTime {
        let ago = std::time::Duration::from_micros(self.now().since(at));
        std::time::SystemTime::now().checked_sub(ago).unwrap_or(std::time::UNIX_EPOCH)
    }

    pub fn register(&mut self, reg: &Registry) -> std::io::Result<()> {
        for (k, s) in self.socks.iter_mut().enumerate() {
            let t = Token(FIRST_TOKEN + k);
            match s {
                Sock::V4(v) => reg.register(&mut SourceFd(&v.socket().as_raw_fd()), t, Interest::READABLE)?,
                Sock::V6(v) => reg.register(&mut SourceFd(&v.socket().as_raw_fd()), t, Interest::READABLE)?,
                Sock::Monitor => {
                    if let Some(m) = self.monitor.as_mut() {
                        reg.register(m, t, Interest::READABLE)?;
                    }
                }
                Sock::Files => {
                    if let Some(f) = self.files.as_ref() {
                        reg.register(&mut SourceFd(&f.raw_fd()), t, Interest::READABLE)?;
                    }
                }
                Sock::Procs => {
                    if let Some(p) = self.procs.as_mut() {
                        reg.register(p, t, Interest::READABLE)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Start every instance. As keepalived does when an instance enters
    /// BACKUP at start-up, addresses left over from a previous run (a crash)
    /// are removed first, so that only the elected master holds them.
    pub fn start(&mut self) {
        self.statics.install();
        let existing = keepalived_netlink::dump_addresses().unwrap_or_default();
        for id in 0..self.metas.len() {
            let present = self.metas[id].addresses.iter().any(|(a, _)| existing.iter().any(|x| x.addr == a.addr));
            if present {
                info!("({}) removing VIPs.", self.metas[id].name);
                self.actions.push(Action::RemoveAddresses { instance: id });
                self.execute();
            }
        }
        self.sync_daemon.start();
        let now = self.now();
        self.feed(now, Input::Start);
        self.start_scripts();
    }

    /// Events for the other children (lvs_sync_daemon), to send.
    pub fn take_peer_events(&mut self) -> Vec<keepalived_runtime::PeerEvent> {
        self.sync_daemon.take()
    }

    fn deregister(&mut self, reg: &Registry) {
        for s in self.socks.iter_mut() {
            match s {
                Sock::V4(v) => {
                    let _ = reg.deregister(&mut SourceFd(&v.socket().as_raw_fd()));
                }
                Sock::V6(v) => {
                    let _ = reg.deregister(&mut SourceFd(&v.socket().as_raw_fd()));
                }
                Sock::Monitor => {
                    if let Some(m) = self.monitor.as_mut() {
                        let _ = reg.deregister(m);
                    }
                }
                Sock::Files => {
                    if let Some(f) = self.files.as_ref() {
                        let _ = reg.deregister(&mut SourceFd(&f.raw_fd()));
                    }
                }
                Sock::Procs => {
                    if let Some(p) = self.procs.as_mut() {
                        let _ = reg.deregister(p);
                    }
                }
            }
        }
    }

    fn now_from(&self, epoch: std::time::Instant) -> Instant {
        instant(epoch)
    }

    fn start_scripts(&mut self) {
        let t = std::time::Instant::now();
        for n in 0..self.track_scripts.len() {
            self.script_timers.add(t, std::time::Duration::ZERO, ScriptTimer::Run(n));
        }
    }

    /// How long the loop may sleep.
    pub fn poll_timeout(&mut self) -> Option<std::time::Duration> {
        let now = self.now();
        let engine = self.router.poll_timeout().map(|t| std::time::Duration::from_micros(t.0.saturating_sub(now.0)));
        let wall = std::time::Instant::now();
        let scripts = self.script_timers.poll_timeout(wall);
        let running = self.runner.poll_timeout(wall);
        let procs = self.procs.as_ref().and_then(|p| p.poll_timeout()).map(|t| t.saturating_duration_since(wall));
        let links = self.debounce.poll_timeout().map(|t| t.saturating_duration_since(wall));
        [engine, scripts, running, procs, links].into_iter().flatten().min()
    }

    fn feed_processes(&mut self, changes: Vec<(String, bool)>) {
        let now = self.now();
        for (name, up) in changes {
            self.feed(now, Input::Process { name, up });
        }
    }

    /// Timers due now.
    pub fn on_timers(&mut self) {
        let wall = std::time::Instant::now();
        if let Some(p) = self.procs.as_mut() {
            if p.poll_timeout().is_some_and(|t| t <= wall) {
                let mut changes = Vec::new();
                p.on_timeout(wall, &mut changes);
                self.feed_processes(changes);
            }
        }
        while let Some((_, t)) = self.script_timers.pop_expired(wall) {
            self.script_timer(t);
        }
        for (name, up) in self.debounce.expired(wall) {
            let now = self.now();
            self.feed(now, Input::Interface { name, up });
        }
        for &n in self.runner.on_timers(wall) {
            if let Some(ts) = self.track_scripts.get(n) {
                info!("Script `{}` timed out", ts.name);
            }
        }
        let now = self.now();
        if self.router.poll_timeout().is_some_and(|t| t.0 <= now.0) {
            self.record(now, None);
            self.router.handle_timeout(now, &mut self.actions);
            self.execute();
        }
    }

    /// A readable socket.
    pub fn on_ready(&mut self, token: Token) {
        let Some(k) = token.0.checked_sub(FIRST_TOKEN) else { return };
        match self.socks.get(k) {
            Some(Sock::V4(_)) => self.read_v4(k),
            Some(Sock::V6(_)) => self.read_v6(k),
            Some(Sock::Monitor) => self.read_monitor(),
            Some(Sock::Procs) => {
                let mut changes = Vec::new();
                if let Some(p) = self.procs.as_mut() {
                    if let Err(e) = p.read(std::time::Instant::now(), &mut changes) {
                        warn!("process monitor: {e}");
                    }
                }
                self.feed_processes(changes);
            }
            Some(Sock::Files) => {
                let mut values = Vec::new();
                if let Some(f) = self.files.as_mut() {
                    f.on_ready(&mut values);
                }
                let now = self.now();
                for (name, value) in values {
                    self.feed(now, Input::FileValue { name, value });
                }
            }
            None => {}
        }
    }

    fn script_timer(&mut self, t: ScriptTimer) {
        let wall = std::time::Instant::now();
        let n = match t {
            ScriptTimer::Run(n) => n,
            ScriptTimer::ExtraGarp(id) => return self.extra_garp(id),
        };
        let Some(ts) = self.track_scripts.get(n) else { return };
        self.script_timers.add(wall, ts.interval, ScriptTimer::Run(n));
        if ts.running.is_some() {
            return; // keepalived does not start a script that is still running
        }
        match self.runner.spawn(&ts.script, &[], &self.script_opts, Some(ts.timeout), n) {
            Some(pid) => self.track_scripts[n].running = Some(pid),
            None => {
                let name = ts.name.clone();
                let now = self.now();
                self.feed(now, Input::ScriptResult { name, success: false, exit: None });
            }
        }
    }

    /// SIGCHLD: collect finished scripts; a tracked script's exit status
    /// is its result (0 = success; a timeout or a signal = failure).
    pub fn on_sigchld(&mut self) {
        use keepalived_runtime::script::Exit;
        for r in self.runner.reap() {
            let Some(n) = r.tag else {
                self.notifier.reaped(r.pid); // a notify script or a FIFO reader
                continue;
            };
            let Some(ts) = self.track_scripts.get_mut(n) else { continue };
            ts.running = None;
            let exit = match r.exit {
                Exit::Code(c) => {
                    // keepalived logs a change of exit status (vrrp_script_child_thread).
                    if c != ts.last_status {
                        info!("Script `{}` now returning {c}", ts.name);
                    }
                    ts.last_status = c;
                    ScriptExit::Status(c)
                }
                Exit::Signal(s) => ScriptExit::Signal(s),
                Exit::TimedOut => ScriptExit::TimedOut,
            };
            let name = ts.name.clone();
            let now = self.now();
            self.feed(now, Input::ScriptResult { name, success: r.exit == Exit::Code(0), exit: Some(exit) });
        }
    }

    /// Stop: priority 0 from masters, addresses removed, STOP notifies.
    pub fn shutdown(&mut self) {
        self.kill_scripts();
        let now = self.now();
        self.feed(now, Input::Shutdown);
        self.statics.remove_except(&Statics::default());
        self.release_links();
        self.finish();
    }

    /// Stop: the VMACs we made go, interface settings are put back and the
    /// nftables table is deleted.
    fn release_links(&mut self) {
        for m in &mut self.metas {
            if let Some(v) = m.vmac.take() {
                if let Err(e) = delete_vmac(&v, self.firewall.as_mut(), &mut self.sysctls) {
                    warn!("({}) unable to delete VMAC {}: {e}", m.name, v.name);
                }
            }
        }
        if let Err(e) = self.sysctls.restore() {
            warn!("Unable to restore interface settings: {e}");
        }
        if let Some(fw) = self.firewall.take() {
            if let Err(e) = fw.close() {
                warn!("Unable to remove the nftables table: {e}");
            }
        }
    }

    /// keepalived's first stop step: SIGTERM to the tracking scripts and
    /// FIFO readers still running.
    fn kill_scripts(&mut self) {
        self.runner.abandon(|_| true);
        for t in &mut self.track_scripts {
            t.running = None;
        }
        self.notifier.kill_readers();
    }

    /// Stop with `-V`: addresses stay, no priority 0 is sent, but scripts
    /// and FIFO readers still hear STOP (keepalived notifies either way).
    pub fn shutdown_keeping_addresses(&mut self) {
        self.kill_scripts();
        // keepalived clears static entries even with -V.
        self.statics.remove_except(&Statics::default());
        for id in 0..self.metas.len() {
            let prio = self.router.instance(id).map_or(0, |i| i.effective_priority);
            let idx = self.notify_index(id);
            self.notifier.instance(idx, State::Stop, prio);
        }
        for g in 0.. {
            let Some(name) = self.router.group_name(g).map(str::to_string) else { break };
            self.notifier.group(g, &name, State::Stop);
        }
        self.finish();
    }

    /// The end of a stop: the FIFOs are closed
    /// (their readers see end of file), and notify scripts get up to one
    /// second to finish, as keepalived's shutdown timer gives them, before
    /// the child exits (and PDEATHSIG ends what is left).
    fn finish(&mut self) {
        self.notifier.close_fifos();
        self.local_igmp.restore();
        // The STOP mails go out, within the parent's patience (child_wait_time).
        self.notifier.stop_alerts(std::time::Duration::from_secs(3));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
        while !self.notifier.running.is_empty() && std::time::Instant::now() < deadline {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => std::thread::sleep(std::time::Duration::from_millis(5)),
                Ok(st) => {
                    if let Some(pid) = st.pid() {
                        self.notifier.reaped(pid);
                    }
                }
                Err(_) => break,
            }
        }
    }

    /// A BFD session's state from the BFD child (`track_bfd`).
    pub fn bfd_event(&mut self, name: String, up: bool) {
        let now = self.now();
        self.feed(now, Input::Bfd { name, up });
    }

    fn feed(&mut self, now: Instant, input: Input) {
        self.record(now, Some(&input));
        self.router.handle(now, input, &mut self.actions);
        self.execute();
    }

    fn record(&mut self, now: Instant, input: Option<&Input>) {
        if let Some(f) = self.recorder.as_mut() {
            let line = LogLine { t: now.0, input: input.cloned() };
            if let Ok(s) = serde_json::to_string(&line) {
                let _ = writeln!(f, "{s}");
            }
        }
    }

    fn read_v4(&mut self, k: usize) {
        loop {
            let Some(Sock::V4(s)) = self.socks.get(k) else { return };
            let ifindex = s.ifindex();
            let (len, _meta) = match s.recv(&mut self.buf) {
                Ok(Some(x)) => x,
                Ok(None) => return,
                Err(e) => {
                    warn!("VRRP receive error: {e}");
                    return;
                }
            };
            let Some(vrid) = keepalived_vrrp::decode::peek_vrid(&self.buf[..len]) else { continue };
            let Some(&id) = self.by_key.get(&(vrid, false, ifindex)) else {
                self.unknown_vrid(vrid, ifindex);
                continue;
            };
            let ah_key = self.ah_key(id);
            let opts = DecodeOptions {
                ah_key: ah_key.as_ref(),
                unicast: !self.metas[id].peers.is_empty(),
                ..Default::default()
            };
            match decode_ipv4(&self.buf[..len], &opts) {
                Ok(adv) => {
                    // keepalived continues the AH sequence numbers it has
                    // seen: a new master must not look like a replay.
                    if adv.auth == (RxAuth::Ah { ok: true }) {
                        if let Some(seq) = ah_seq_of(&self.buf[..len]) {
                            let m = &mut self.metas[id];
                            m.ah_seq = m.ah_seq.max(seq);
                        }
                    }
                    self.advert(id, adv)
                }
                Err(e) => {
                    self.rx_errors += 1;
                    if self.rx_errors.is_power_of_two() {
                        warn!(
                            count = self.rx_errors,
                            "dropped an unreadable VRRP packet on {}: {e}", self.metas[id].ifname
                        );
                    }
                }
            }
        }
    }

    /// `log_unknown_vrids`: say so when an advert for a VRID we do not run
    /// arrives (the BPF filter keeps most of them out of the socket).
    fn unknown_vrid(&self, vrid: u8, ifindex: u32) {
        if self.log_unknown_vrids {
            let ifname = self.metas.iter().find(|m| m.ifindex == ifindex).map_or("?", |m| m.ifname.as_str());
            info!("Unknown VRID({vrid}) received on interface({ifname}). ignoring...");
        }
    }

    fn ah_key(&self, id: InstanceId) -> Option<[u8; 8]> {
        // The AH key is the auth_pass; the engine config keeps PASS data only
        // for PASS, so AH instances carry theirs in the model (auth_pass).
        if self.metas[id].auth == AuthConfig::Ah {
            self.metas[id].ah_key
        } else {
            None
        }
    }

    fn read_v6(&mut self, k: usize) {
        loop {
            let Some(Sock::V6(s)) = self.socks.get(k) else { return };
            let ifindex = s.ifindex();
            let (len, meta) = match s.recv(&mut self.buf) {
                Ok(Some(x)) => x,
                Ok(None) => return,
                Err(e) => {
                    warn!("VRRP receive error: {e}");
                    return;
                }
            };
            let msg = &self.buf[..len];
            let Some(vrid) = keepalived_vrrp::decode::peek_vrid_ipv6(msg) else { continue };
            let Some(&id) = self.by_key.get(&(vrid, true, ifindex)) else {
                self.unknown_vrid(vrid, ifindex);
                continue;
            };
            // The engine counts what is wrong once the VRID is readable.
            let hop_limit = (meta.ttl != 0).then_some(meta.ttl);
            match decode_ipv6(msg, &Ipv6Meta { src: meta.src, dst: meta.dst, hop_limit }) {
                Ok(adv) => self.advert(id, adv),
                Err(_) => self.rx_errors += 1,
            }
        }
    }

    fn advert(&mut self, id: InstanceId, adv: RxAdvert) {
        let now = self.now();
        if self.recorder.is_some() {
            self.record(now, Some(&Input::Advert { instance: id, advert: adv }));
        }
        self.router.handle_advert(now, id, &adv, &mut self.actions);
        self.execute();
    }

    fn read_monitor(&mut self) {
        let mut events = Vec::new();
        if let Some(m) = self.monitor.as_mut() {
            if let Err(e) = m.read(&mut events) {
                warn!("netlink monitor: {e}");
            }
        }
        let now = self.now();
        for ev in events {
            match ev {
                keepalived_netlink::Event::LinkUp { name, .. } => self.link_change(now, name, true),
                keepalived_netlink::Event::LinkDown { name, .. } => self.link_change(now, name, false),
                keepalived_netlink::Event::LinkRemoved { name, .. } => {
                    self.feed(now, Input::Interface { name, up: false })
                }
                keepalived_netlink::Event::AddressRemoved(a) => {
                    self.source_removed(now, a.index, a.addr);
                    self.restore_vip(a.index, a.addr)
                }
                keepalived_netlink::Event::AddressAdded(a) => self.source_added(now, &a),
                keepalived_netlink::Event::Resync => self.resync(now),
            }
        }
    }

    /// A link went up or down: now, or after its `interface_up_down_delays`.
    fn link_change(&mut self, now: Instant, name: String, up: bool) {
        if let Some(up) = self.debounce.change(&name, up, std::time::Instant::now()) {
            self.feed(now, Input::Interface { name, up });
        }
    }

    /// The link monitor lost notifications (its receive buffer overflowed, ENOBUFS): read every
    /// interface and address again and apply what changed meanwhile, as the lost events would have:
    /// watched links up or down, instances' source addresses, VIPs removed from a MASTER.
    fn resync(&mut self, now: Instant) {
        self.resyncs += 1;
        let wall = std::time::Instant::now();
        if self.last_resync_log.is_none_or(|t| wall.duration_since(t) >= std::time::Duration::from_secs(10)) {
            self.last_resync_log = Some(wall);
            warn!(
                count = self.resyncs,
                "Netlink monitor overrun (changes lost) - reading the interfaces and addresses again"
            );
        }
        let (Ok(links), Ok(addrs)) = (keepalived_netlink::dump_links(), keepalived_netlink::dump_addresses()) else {
            warn!("Unable to read the interfaces and addresses after a netlink monitor overrun");
            return;
        };
        for name in watched_interfaces(&self.router) {
            let up = links.iter().any(|l| l.name == name && l.up && l.running);
            self.link_change(now, name, up);
        }
        let present = |index: u32, addr: IpAddr| addrs.iter().any(|a| a.index == index && a.addr == addr);
        for id in 0..self.metas.len() {
            let (from, src) = (self.metas[id].src_from, self.metas[id].src);
            match (from, src) {
                (Some(index), Some(addr)) if !present(index, addr) => self.source_removed(now, index, addr),
                (Some(index), None) => {
                    let v6 = self.metas[id].ipv6;
                    let candidate = addrs.iter().find(|a| a.index == index && a.addr.is_ipv6() == v6);
                    if let Some(a) = candidate.cloned() {
                        self.source_added(now, &a);
                    }
                }
                _ => {}
            }
        }
        let missing: Vec<(u32, IpAddr)> = self
            .metas
            .iter()
            .flat_map(|m| m.addresses.iter().map(|(a, idx)| (*idx, a.addr)))
            .filter(|&(idx, addr)| !present(idx, addr))
            .collect();
        for (idx, addr) in missing {
            self.restore_vip(idx, addr);
        }
    }

    /// Instances whose source address the interface just lost (keepalived_netlink.c on RTM_DELADDR):
    /// another address of the family on the interface replaces it (IPv6: link-local), else the
    /// instance faults, after sending its priority 0 advert from the address going away.
    fn source_removed(&mut self, now: Instant, index: u32, addr: IpAddr) {
        let hit: Vec<InstanceId> = (0..self.metas.len())
            .filter(|&i| self.metas[i].src_from == Some(index) && self.metas[i].src == Some(addr))
            .collect();
        if hit.is_empty() {
            return;
        }
        let remaining = keepalived_netlink::dump_addresses().unwrap_or_default();
        // keepalived keeps its own VIPs and eVIPs out of an interface's address lists.
        let ours = |x: &IpAddr| self.metas.iter().any(|m| m.addresses.iter().any(|(v, _)| v.addr == *x));
        let other = remaining
            .iter()
            .filter(|r| r.index == index && r.addr != addr && r.addr.is_ipv6() == addr.is_ipv6())
            .filter(|r| !ours(&r.addr))
            .rfind(|r| !r.addr.is_ipv6() || r.scope == 253)
            .map(|r| r.addr);
        if other.is_none() {
            let ifname = self.metas[hit[0]].ifname.clone();
            debug!("Deassigned address {} from interface {ifname}", addr);
        }
        for id in hit {
            self.feed(now, Input::SourceAddress { instance: id, addr: other });
            self.metas[id].src = other;
        }
    }

    /// An address arrived on an interface whose instances had lost theirs (`try_up_instance`).
    fn source_added(&mut self, now: Instant, a: &keepalived_netlink::Addr) {
        let ours = self.metas.iter().any(|m| m.addresses.iter().any(|(v, _)| v.addr == a.addr));
        if ours || (a.addr.is_ipv6() && a.scope != 253) {
            return;
        }
        let hit: Vec<InstanceId> = (0..self.metas.len())
            .filter(|&i| {
                let m = &self.metas[i];
                m.src_from == Some(a.index) && m.src.is_none() && m.ipv6 == a.addr.is_ipv6()
            })
            .collect();
        if let Some(&first) = hit.first() {
            debug!("Assigned address {} for interface {}", a.addr, self.metas[first].ifname);
        }
        for id in hit {
            self.metas[id].src = Some(a.addr);
            self.feed(now, Input::SourceAddress { instance: id, addr: Some(a.addr) });
        }
    }

    /// keepalived puts back a VIP another program removed while we are MASTER.
    fn restore_vip(&mut self, ifindex: u32, addr: IpAddr) {
        for (id, inst) in self.router.instances().iter().enumerate() {
            if inst.state != State::Master {
                continue;
            }
            let m = &self.metas[id];
            if let Some((a, idx)) = m.addresses.iter().find(|(a, idx)| a.addr == addr && *idx == ifindex) {
                info!("({}) virtual address {addr} was removed - restoring it", m.name);
                install(a, *idx, &m.name);
            }
        }
    }

    fn execute(&mut self) {
        let actions = std::mem::take(&mut self.actions);
        for a in &actions {
            self.do_action(a);
        }
        self.actions = actions;
        self.actions.clear();
    }

    fn do_action(&mut self, a: &Action) {
        {
            match *a {
                Action::SendAdvert { instance, priority } => self.send_advert(instance, priority),
                Action::SendGarp { instance, addr } => self.send_garp(instance, addr),
                Action::SendNa { instance, addr } => self.send_na(instance, addr),
                Action::AddAddresses { instance } => {
                    let m = &self.metas[instance];
                    // RFC 5798 §6.1 Accept_Mode: block first, then add.
                    if m.block {
                        if let Some(fw) = self.firewall.as_mut() {
                            if let Err(e) = fw.block(&firewall_addrs(m)) {
                                warn!("({}) unable to block traffic to the VIPs: {e}", m.name);
                            }
                        }
                    }
                    for (a, idx) in &m.addresses {
                        install(a, *idx, &m.name);
                    }
                    routes::add_routes(&m.vroutes, &m.name);
                    routes::add_rules(&m.vrules, &m.name);
                }
                Action::RemoveAddresses { instance } => {
                    let m = &self.metas[instance];
                    // keepalived's order: rules, routes, then addresses.
                    routes::del_rules(&m.vrules, &m.name);
                    routes::del_routes(&m.vroutes, &m.name);
                    for (a, idx) in &m.addresses {
                        remove(a, *idx, &m.name);
                    }
                    if m.block {
                        if let Some(fw) = self.firewall.as_mut() {
                            if let Err(e) = fw.unblock(&firewall_addrs(m)) {
                                warn!("({}) unable to unblock traffic to the VIPs: {e}", m.name);
                            }
                        }
                    }
                }
                Action::Notify { instance, state, priority } => {
                    self.schedule_extra_garp(instance, state);
                    // The notifier is indexed by configuration order; the
                    // engine's instances follow it, but match by name to be safe.
                    let idx = self.notify_index(instance);
                    if let Some(m) = self.metas.get(instance) {
                        self.sync_daemon.on_state(&m.name, state);
                    }
                    self.notifier.instance(idx, state, priority)
                }
                Action::NotifyGroup { group, state } => {
                    let name = self.router.group_name(group).unwrap_or_default().to_string();
                    self.notifier.group(group, &name, state)
                }
                Action::NotifyMasterRxLowerPri { instance, .. } => {
                    // keepalived's line carries our effective priority.
                    let prio = self.router.instance(instance).map_or(0, |i| i.effective_priority);
                    let idx = self.notify_index(instance);
                    self.notifier.event(idx, notify::Event::MasterRxLowerPri, prio)
                }
                Action::NotifyPriority { instance, priority } => {
                    let master = self.router.instance(instance).is_some_and(|i| i.state == State::Master);
                    let ev = if master { notify::Event::MasterPriority } else { notify::Event::BackupPriority };
                    let idx = self.notify_index(instance);
                    self.notifier.event(idx, ev, priority)
                }
                Action::FifoState { instance, state, priority } => {
                    let name = self.metas[instance].name.clone();
                    self.notifier.fifo_state(false, &name, state, priority)
                }
                Action::FifoGroupState { group, state } => {
                    let name = self.router.group_name(group).unwrap_or_default().to_string();
                    self.notifier.fifo_state(true, &name, state, 0)
                }
                Action::Log(ref s) => info!("{s}"),
            }
        }
    }

    fn send_advert(&mut self, id: InstanceId, priority: u8) {
        if self.metas[id].ipv6 {
            self.send_advert_v6(id, priority);
        } else {
            self.send_advert_v4(id, priority);
        }
    }

    fn send_advert_v4(&mut self, id: InstanceId, priority: u8) {
        let ah_key = self.ah_key(id);
        let m = &mut self.metas[id];
        let Some(IpAddr::V4(src)) = m.src else { return };
        let auth = match m.auth {
            AuthConfig::None => Auth::None,
            AuthConfig::Pass(p) => Auth::Pass(p),
            AuthConfig::Ah => Auth::Ah,
        };
        let repr = Repr {
            version: m.version,
            vrid: m.vrid,
            priority,
            max_adver_int: m.adver_int,
            auth,
            addrs: Addrs::v4(&m.vips4),
        };
        let proto = if auth == Auth::Ah { ip_proto::AH } else { ip_proto::VRRP };
        let dsts: Vec<Ipv4Addr> = if m.peers.is_empty() {
            vec![m.group4]
        } else {
            m.peers.iter().filter_map(|p| if let IpAddr::V4(a) = p { Some(*a) } else { None }).collect()
        };
        let Some(&sk) = self.tx4.get(&(m.ifindex, proto, !m.peers.is_empty())) else { return };
        let Some(Sock::V4(sock)) = self.socks.get(sk) else { return };
        // keepalived's IP id counts from 1 and skips 0; it (and the AH
        // sequence number) moves once per advert: every unicast copy of
        // one advert carries the same id and sequence number.
        m.ip_ident = m.ip_ident.wrapping_add(1).max(1);
        if auth == Auth::Ah {
            m.ah_seq = m.ah_seq.wrapping_add(1);
        }
        for dst in dsts {
            let ahr = (auth == Auth::Ah).then(|| ah::Repr::vrrp(src, m.ah_seq));
            let payload = repr.buffer_len() + ahr.map_or(0, |a| a.buffer_len());
            let mut ip = ipv4::Repr::vrrp(src, dst, proto, m.ip_ident, payload);
            ip.ttl = m.ttl.and_then(|t| u8::try_from(t).ok()).unwrap_or(ip.ttl);
            let adv = Ipv4Advert { ip, ah: ahr, vrrp: repr };
            let kind = adv.checksum_kind(false);
            let mut buf = [0u8; 1500];
            let Ok(n) = adv.emit(&mut buf, kind) else { return };
            if let (Some(_), Some(k)) = (ahr, ah_key) {
                if ah::sign(&mut buf[..n], &k, !m.peers.is_empty()).is_err() {
                    return;
                }
            }
            if let Err(e) = sock.send(&buf[..n], dst) {
                warn!("({}) unable to send an advert to {dst}: {e}", m.name);
            }
        }
    }

    fn send_advert_v6(&mut self, id: InstanceId, priority: u8) {
        let m = &self.metas[id];
        let Some(IpAddr::V6(src)) = m.src else { return };
        let repr = Repr {
            version: Version::V3,
            vrid: m.vrid,
            priority,
            max_adver_int: m.adver_int,
            auth: Auth::None,
            addrs: Addrs::v6(&m.vips6),
        };
        let dsts: Vec<Ipv6Addr> = if m.peers.is_empty() {
            vec![keepalived_net::VRRP_MCAST_GROUP_V6]
        } else {
            m.peers.iter().filter_map(|p| if let IpAddr::V6(a) = p { Some(*a) } else { None }).collect()
        };
        let Some(&sk) = self.tx6.get(&m.ifindex) else { return };
        let Some(Sock::V6(sock)) = self.socks.get(sk) else { return };
        for dst in dsts {
            let mut buf = [0u8; 1500];
            let len = repr.buffer_len();
            let Some(out) = buf.get_mut(..len) else { return };
            let mut p = vrrp::Packet::new_unchecked(&mut *out, Family::Ipv6);
            if repr.emit(&mut p, ChecksumKind::ipv6(src, dst)).is_err() {
                return;
            }
            if let Err(e) = sock.send_with_hop_limit(&buf[..len], src, dst, m.ttl) {
                warn!("({}) unable to send an advert to {dst}: {e}", m.name);
            }
        }
    }

    /// `garp_extra_if`: the first round one interval after becoming
    /// master; none while not master.
    fn schedule_extra_garp(&mut self, id: InstanceId, state: State) {
        let Some(m) = self.metas.get_mut(id) else { return };
        if let Some(t) = m.extra_garp_timer.take() {
            self.script_timers.cancel(t);
        }
        if let (Some(e), State::Master) = (&m.extra_garp, state) {
            let at = self.script_timers.add(std::time::Instant::now(), e.interval, ScriptTimer::ExtraGarp(id));
            m.extra_garp_timer = Some(at);
        }
    }

    /// One gratuitous ARP / unsolicited NA per extra interface, then the
    /// next round.
    fn extra_garp(&mut self, id: InstanceId) {
        let master = self.router.instance(id).is_some_and(|i| i.state == State::Master);
        let Some(m) = self.metas.get_mut(id) else { return };
        m.extra_garp_timer = None;
        let Some(e) = m.extra_garp.as_ref().filter(|_| master) else { return };
        let interval = e.interval;
        for t in &e.targets {
            let mut frame = [0u8; 128];
            let n = match t.addr {
                IpAddr::V4(a) => arp::emit_gratuitous_frame(&mut frame, t.mac, a),
                IpAddr::V6(a) => ndisc::emit_unsolicited_na_frame(&mut frame, t.mac, a, false),
            };
            if let (Ok(n), Some(p)) = (n, self.packet.get(&t.ifindex)) {
                if let Err(e) = p.send(&frame[..n]) {
                    warn!("({}) unable to announce {} on an extra interface: {e}", m.name, t.addr);
                }
            }
        }
        let at = self.script_timers.add(std::time::Instant::now(), interval, ScriptTimer::ExtraGarp(id));
        m.extra_garp_timer = Some(at);
    }

    fn send_garp(&mut self, id: InstanceId, addr: IpAddr) {
        let m = &self.metas[id];
        let (IpAddr::V4(vip), Some(mac)) = (addr, m.mac) else { return };
        let mut frame = [0u8; 64];
        let Ok(n) = arp::emit_gratuitous_frame(&mut frame, mac, vip) else { return };
        if let Some(p) = self.packet.get(&m.ifindex) {
            if let Err(e) = p.send(&frame[..n]) {
                warn!("({}) unable to send a gratuitous ARP for {vip}: {e}", m.name);
            }
        }
    }

    fn send_na(&mut self, id: InstanceId, addr: IpAddr) {
        let m = &self.metas[id];
        let (IpAddr::V6(vip), Some(mac)) = (addr, m.mac) else { return };
        let mut frame = [0u8; 128];
        let Ok(n) = ndisc::emit_unsolicited_na_frame(&mut frame, mac, vip, false) else { return };
        if let Some(p) = self.packet.get(&m.ifindex) {
            if let Err(e) = p.send(&frame[..n]) {
                warn!("({}) unable to send an unsolicited NA for {vip}: {e}", m.name);
            }
        }
    }

    /// The notifier's index of an engine instance.
    fn notify_index(&self, id: InstanceId) -> usize {
        let name = &self.metas[id].name;
        self.notifier.instances.iter().position(|n| &n.name == name).unwrap_or(usize::MAX)
    }
}

/// Every interface an instance watches: its own unless `dont_track_primary`, and its
/// `track_interface`s.
fn watched_interfaces(router: &Router) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for inst in router.instances() {
        let c = &inst.config;
        let own = c.interface.iter().filter(|_| !c.dont_track_primary);
        let tracked = c.trackers.iter().filter(|t| t.kind == TrackKind::Interface).map(|t| &t.name);
        names.extend(own.chain(tracked).cloned());
    }
    names.sort();
    names.dedup();
    names
}

/// The interfaces the instances watch (their own unless `dont_track_primary`, and their
/// `track_interface`s) that are down now (not `IFF_UP` and `IFF_RUNNING`, keepalived's
/// `IF_FLAGS_UP`) or absent: the engine takes every interface as up until told otherwise, and
/// keepalived starts such an instance in FAULT (an absent one is fatal in 2.2.7 without
/// `dynamic_interfaces`, and down with it). Logs 2.2.7's `initialise_interface_tracking_priorities`
/// line for each instance a weight-0 interface puts in FAULT.
fn interfaces_down_at_start(router: &Router) -> Vec<String> {
    let links = match keepalived_netlink::dump_links() {
        Ok(l) => l,
        Err(e) => {
            warn!("unable to read the interfaces' states: {e}");
            return Vec::new();
        }
    };
    let is_up = |name: &str| links.iter().any(|l| l.name == name && l.up && l.running);
    let mut down = Vec::new();
    for inst in router.instances() {
        let c = &inst.config;
        let own = c.interface.iter().filter(|_| !c.dont_track_primary).map(|n| (n, 0, false));
        let tracked =
            c.trackers.iter().filter(|t| t.kind == TrackKind::Interface).map(|t| (&t.name, t.weight, t.reverse));
        for (name, weight, reverse) in own.chain(tracked) {
            let up = is_up(name);
            if weight == 0 && up == reverse {
                info!("({}): entering FAULT state (interface {name} down)", c.name);
            }
            if !up {
                down.push(name.clone());
            }
        }
    }
    down
}

/// Whether an interface is up now, for the debounce of links with delays
/// (read only when some are configured).
fn link_is_up(cfg: &Config) -> impl Fn(&str) -> Option<bool> {
    let links = if cfg.vrrp.up_down_delays.is_empty() {
        Vec::new()
    } else {
        keepalived_netlink::dump_links().unwrap_or_default()
    };
    move |name| links.iter().find(|l| l.name == name).map(|l| l.up && l.running)
}

/// keepalived's `vrrp->ttl`: `unicast_ttl` (the configuration resets it to
/// 0 without peers), else 255 for IPv4. IPv6 unicast adverts carry it in an
/// `IPV6_HOPLIMIT` control message; without it keepalived leaves the hop
/// limit to the kernel (the route's default, -1), as it never sets
/// `IPV6_UNICAST_HOPS`. Multicast IPv6 adverts: 255 (None).
fn advert_ttl(ipv6: bool, unicast: bool, unicast_ttl: Option<u8>) -> Option<i32> {
    match (ipv6, unicast) {
        (false, _) => Some(i32::from(unicast_ttl.unwrap_or(255))),
        (true, true) => Some(unicast_ttl.map_or(-1, i32::from)),
        (true, false) => None,
    }
}

/// The AH sequence number of an IPv4 + AH datagram.
fn ah_seq_of(datagram: &[u8]) -> Option<u32> {
    let ihl = usize::from(datagram.first()? & 0x0f) * 4;
    let ahdr = datagram.get(ihl..)?;
    Some(ah::Packet::new_unchecked(ahdr).seq())
}

/// The firewall entries of an instance's addresses.
fn firewall_addrs(m: &Meta) -> Vec<keepalived_netlink::nft::FirewallAddr> {
    m.addresses.iter().map(|(a, idx)| keepalived_netlink::nft::FirewallAddr::new(a.addr, *idx)).collect()
}

/// A VMAC leaves the IGMP/MLD filter first, then goes (keepalived's order).
fn delete_vmac(
    v: &keepalived_netlink::vmac::Vmac,
    fw: Option<&mut keepalived_netlink::nft::Firewall>,
    sysctls: &mut keepalived_netlink::vmac::Sysctls,
) -> Result<(), keepalived_netlink::vmac::VmacError> {
    if let Some(fw) = fw {
        for v6 in [false, true] {
            if fw.has_vmac(v.index, v6) {
                let _ = fw.remove_vmac(v.index, v6);
            }
        }
    }
    keepalived_netlink::vmac::delete_vmac(v, sysctls)
}

/// keepalived's `netlink_ipaddress`: every option of the entry; IPv6
/// addresses get DAD off unless `-nodad` (sic) and a preferred lifetime
/// (0 for a /128 unless given) in IFA_CACHEINFO, which IPv4 never carries.
fn addr_options(a: &IpAddress) -> AddrOptions {
    use keepalived_config::model::ip::Lifetime;
    let v6 = a.addr.is_ipv6();
    let preferred_lft = match (v6, a.prefix, a.preferred_lft) {
        (false, _, _) => None,
        (true, _, Some(Lifetime::Secs(s))) => Some(s),
        (true, _, Some(Lifetime::Forever)) => None,
        // keepalived: an IPv6 /128 VIP is deprecated so it is never a source.
        (true, 128, None) => Some(0),
        (true, _, None) => None,
    };
    AddrOptions {
        label: a.label.clone(),
        broadcast: a.broadcast,
        scope: a.scope,
        peer: a.peer,
        preferred_lft,
        nodad: v6 && !a.nodad,
        noprefixroute: a.noprefixroute,
        home: a.home,
        mngtmpaddr: a.mngtmpaddr,
        autojoin: a.autojoin,
    }
}

fn remove(a: &IpAddress, ifindex: u32, name: &str) {
    match keepalived_netlink::del_address(ifindex, a.addr, a.prefix, &addr_options(a)) {
        Ok(()) => {}
        Err(e) if e.is_not_found() => {}
        Err(e) => warn!("({name}) {e}"),
    }
}

fn install(a: &IpAddress, ifindex: u32, name: &str) {
    match keepalived_netlink::add_address(ifindex, a.addr, a.prefix, &addr_options(a)) {
        Ok(()) => {}
        Err(e) if e.is_already_exists() => {}
        Err(e) => warn!("({name}) {e}"),
    }
}

/// `KEEPALIVED_RS_EVENT_LOG=FILE`: record every engine input as JSON lines
/// (replayable with `keepalived-replay`).
fn open_recorder() -> Option<std::fs::File> {
    let path = std::env::var("KEEPALIVED_RS_EVENT_LOG").ok()?;
    match std::fs::OpenOptions::new().create(true).append(true).open(&path) {
        Ok(f) => Some(f),
        Err(e) => {
            warn!("Unable to open the event log {path}: {e}");
            None
        }
    }
}
