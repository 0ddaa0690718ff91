//! The checker child (keepalived's healthchecker process): the sans-IO
//! engine (`keepalived-check`) driven with a monotonic microsecond clock,
//! IPVS programmed from its actions (`ipvs_map`), TCP_CHECK (`tcp`),
//! HTTP_GET / SSL_GET (`http`, TLS in `tls`), MISC_CHECK (`misc`),
//! SMTP_CHECK (`smtp`), DNS_CHECK (`dns`), UDP_CHECK (`udp`) and
//! PING_CHECK (`ping`, through `proto`) attempts run in the child's mio
//! loop, ha_suspend addresses watched (`vs_address`).
//!
//! Start (keepalived `start_check`): IPVS opened when there are virtual
//! servers (failing: keepalived's lines and exit status 1, which stops the
//! daemon), `lvs_timeouts` set, `lvs_flush` flushes, then the engine's
//! Start. Stop: the engine's Shutdown (services removed, stop notifies)
//! unless `-I`, the `lvs_timeouts` put back.

pub mod dns;
pub mod dump;
pub mod file_check;
pub mod http;
pub mod ipvs_map;
pub mod misc;
pub mod notify;
pub mod ping;
pub mod proto;
pub mod smtp;
mod status;
pub mod sync_daemon;
pub mod tcp;
pub mod tls;
mod tokens;
pub mod udp;
pub mod vs_address;

#[cfg(test)]
#[path = "attempt_tests.rs"]
mod attempt_tests;

use file_check::FileChecks;
use ipvs_map::{DestSpec, IpvsTable, SvcEntry};
use keepalived_check::{Action, CheckOutcome, CheckerId, Dest, Engine, EngineConfig, Input, RsId, VsId};
use keepalived_config::lvs::model::{Checker as ModelChecker, CheckerKind, RealServer, VirtualServer};
use keepalived_config::Config;
use keepalived_netlink::ipvs::Ipvs;
use keepalived_runtime::script::{Exit, ScriptRunOpts, ScriptRunner};
use keepalived_runtime::{Ctx, DumpRequest, PeerEvent, ProcKind, Subsystem, FIRST_TOKEN};
use mio::{Registry, Token};
use notify::LvsNotifier;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;
use tcp::{Started, TcpProbes, TcpTarget};
use tracing::{info, warn};
use vs_address::VsAddresses;

/// The ha_suspend address monitor.
const ADDR_TOKEN: Token = Token(FIRST_TOKEN);
/// The FILE_CHECK inotify watch.
const FILE_TOKEN: Token = Token(FIRST_TOKEN + 1);
/// TCP probes take the tokens from here on.
const PROBE_FIRST: usize = FIRST_TOKEN + 64;
const PROBE_COUNT: usize = 1 << 20;
/// HTTP_GET / SSL_GET attempts take the tokens after the TCP probes'.
const HTTP_FIRST: usize = PROBE_FIRST + PROBE_COUNT;
const HTTP_COUNT: usize = 1 << 20;
/// SMTP/DNS/UDP/PING attempts take the tokens after those.
const PROTO_FIRST: usize = HTTP_FIRST + HTTP_COUNT;
const PROTO_COUNT: usize = 1 << 20;
/// keepalived's default `connect_timeout`.
const DEFAULT_CONNECT_TIMEOUT_US: u64 = 5_000_000;

/// The configuration the running engine was built from, with the IPVS
/// services of each virtual server.
struct Model {
    cfg: Config,
    ec: EngineConfig,
    services: Vec<Vec<SvcEntry>>,
}

impl Model {
    fn new(cfg: &Config) -> Model {
        let ec = EngineConfig::from_config(cfg);
        let services = cfg.lvs.virtual_servers.iter().map(|v| ipvs_map::services(v, &cfg.lvs.groups)).collect();
        Model { cfg: cfg.clone(), ec, services }
    }

    fn vs(&self, vs: VsId) -> Option<&VirtualServer> {
        self.cfg.lvs.virtual_servers.get(vs.0)
    }

    fn rs(&self, rs: RsId) -> Option<&RealServer> {
        self.vs(rs.vs)?.real_servers.get(rs.rs)
    }

    /// The model checker behind an engine checker.
    fn checker(&self, c: CheckerId) -> Option<(&ModelChecker, &keepalived_check::CheckerConfig)> {
        let cc = self.ec.checker(c)?;
        Some((self.rs(cc.rs)?.checkers.get(cc.model_index)?, cc))
    }

    /// What IPVS gets for a destination of `vs`.
    fn dest_spec(&self, vs: VsId, d: Dest) -> Option<DestSpec> {
        let v = self.vs(vs)?;
        let vs_fwd = v.forwarding?;
        match d {
            Dest::Real(id) => {
                let r = self.rs(id)?;
                let fwd = r.forwarding.unwrap_or(vs_fwd);
                Some(DestSpec { addr: r.addr, port: r.port, fwd, u_threshold: r.uthreshold, l_threshold: r.lthreshold })
            }
            Dest::Sorry(_) => {
                let s = v.sorry_server.as_ref()?;
                let fwd = s.forwarding.unwrap_or(vs_fwd);
                Some(DestSpec { addr: s.addr, port: s.port, fwd, u_threshold: 0, l_threshold: 0 })
            }
        }
    }
}

/// The kernel's counters of every configured service and of each real server in them (one dump of
/// the destinations per service); a service IPVS does not have counts nothing.
fn ipvs_counters(ipvs: &mut Ipvs, model: &Model) -> status::IpvsCounters {
    let mut out = status::IpvsCounters::default();
    let services: std::collections::HashMap<_, _> =
        ipvs.services().unwrap_or_default().into_iter().map(|e| (e.service.key, e.stats)).collect();
    for (v, svcs) in model.services.iter().enumerate() {
        let Some(vs) = model.vs(VsId(v)) else { continue };
        for svc in svcs {
            let Some(st) = services.get(&svc.service.key) else { continue };
            status::add_stats(out.vs.entry(v).or_default(), st);
            let dests = ipvs.dests(&svc.service.key).unwrap_or_default();
            for r in 0..vs.real_servers.len() {
                let Some(spec) = model.dest_spec(VsId(v), Dest::Real(RsId { vs: VsId(v), rs: r })) else { continue };
                let port = svc.dest_port(spec.fwd.method, spec.port);
                for d in dests.iter().filter(|d| d.dest.addr == spec.addr && d.dest.port == port) {
                    let e = out.rs.entry((v, r)).or_default();
                    status::add_stats(&mut e.0, &d.stats);
                    e.1 += u64::from(d.active_conns);
                    e.2 += u64::from(d.inactive_conns);
                }
            }
        }
    }
    out
}

// ------------------------------------------------------------------ the child

pub struct CheckChild {
    model: Model,
    /// During a reload: the configuration being replaced.
    old: Option<Model>,
    engine: Engine,
    /// `None` while there are no virtual servers (keepalived opens IPVS
    /// only then).
    ipvs: Option<IpvsTable>,
    tcp: TcpProbes<CheckerId>,
    /// HTTP_GET / SSL_GET attempts and their SSL context.
    http: http::HttpSide,
    /// SMTP_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK attempts.
    proto: proto::ProtoProbes<CheckerId>,
    /// `ping_group_range` widened for PING_CHECK.
    ping_range: ping::GroupRange,
    scripts: ScriptRunner<CheckerId>,
    script_opts: ScriptRunOpts,
    addrs: Option<VsAddresses>,
    files: Option<FileChecks>,
    /// FILE_CHECK values read at start, fed before the engine's Start.
    initial_files: Vec<(String, i64)>,
    notifier: LvsNotifier,
    /// `lvs_sync_daemon` without a VRRP instance: the checker's own daemons.
    sync_own: Option<sync_daemon::Own>,
    /// `lvs_sync_daemon` following a VRRP instance (events from the VRRP child).
    sync_follow: sync_daemon::Follower,
    /// TCP attempts whose socket could not be set up, started again at
    /// this time (keepalived reschedules them a `delay_loop` later).
    retries: Vec<(std::time::Instant, CheckerId)>,
    pending: VecDeque<Input>,
    /// Group entries added by a reload, whose services 2.2.7 never deletes.
    unsynced: exec::Unsynced,
    epoch: std::time::Instant,
    /// `-I`: leave the IPVS entries at stop.
    dont_release: bool,
}

/// Why the child cannot run: the message to log (if any) and its exit status.
pub struct BuildError {
    pub message: Option<String>,
    pub exit: i32,
}

/// keepalived `ipvs_start`, with its lines.
fn open_ipvs() -> Result<IpvsTable, String> {
    info!("Initializing ipvs");
    Ipvs::open().map(IpvsTable::new).map_err(|e| format!("IPVS: {e}"))
}

/// keepalived's lines for the real servers when the child stops before
/// starting them (`clear_services` from `stop_check`).
fn log_shutdown_unstarted(m: &Model) {
    for v in &m.ec.virtual_servers {
        for r in &v.real_servers {
            let inhibited = if r.inhibit { "(inhibited) " } else { "" };
            info!("Shutting down {inhibited}service {} from VS {}", r.name, v.name);
        }
    }
}

/// keepalived-rs test hook: `KEEPALIVED_RS_TEST_WITHOUT_IPVS=1` lets the
/// checker child run on a kernel without IPVS (its IPVS changes are
/// dropped) instead of ending the daemon as keepalived does, for the
/// daemon's lifecycle tests on such hosts. Not for production use.
fn test_without_ipvs() -> bool {
    std::env::var_os("KEEPALIVED_RS_TEST_WITHOUT_IPVS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// keepalived widens `ping_group_range` when it reads a PING_CHECK.
fn ping_range(cfg: &Config, mut r: ping::GroupRange) -> ping::GroupRange {
    let has_ping = cfg
        .lvs
        .virtual_servers
        .iter()
        .flat_map(|v| &v.real_servers)
        .flat_map(|r| &r.checkers)
        .any(|c| matches!(c.kind, CheckerKind::Ping));
    if has_ping {
        r.set();
    }
    r
}

/// keepalived `set_max_file_limit` as `start_check` calls it: room for
/// one descriptor per checker with a socket (17 of its own, 10 spare), so
/// that a thousand checks in flight do not hit the usual 1024 limit.
fn raise_fd_limit(cfg: &Config) {
    use nix::sys::resource::{getrlimit, Resource};
    let sockets = cfg
        .lvs
        .virtual_servers
        .iter()
        .flat_map(|v| &v.real_servers)
        .flat_map(|r| &r.checkers)
        .filter(|c| !matches!(c.kind, CheckerKind::Misc(_) | CheckerKind::Bfd(_)))
        .count() as u64;
    let need = 17 + sockets + 10;
    let Ok((cur, max)) = getrlimit(Resource::RLIMIT_NOFILE) else { return };
    if need <= cur {
        return;
    }
    if let Err(e) = keepalived_sys::set_nofile_limit(need, max.max(need)) {
        let errno = e.raw_os_error().unwrap_or(0);
        info!("Failed to set open file limit to {need}:{} failed - errno {errno}", max.max(need));
    }
}

fn seed() -> u64 {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    t.as_nanos() as u64 ^ u64::from(std::process::id())
}

impl CheckChild {
    pub fn new(cfg: &Config, cli: &crate::cli::Cli) -> Result<CheckChild, BuildError> {
        let model = Model::new(cfg);
        let ipvs = if cfg.lvs.virtual_servers.is_empty() {
            None
        } else {
            match open_ipvs() {
                Ok(t) => Some(t),
                Err(e) if test_without_ipvs() => {
                    warn!("{e} - running without IPVS (KEEPALIVED_RS_TEST_WITHOUT_IPVS)");
                    None
                }
                Err(e) => {
                    info!("{e}");
                    log_shutdown_unstarted(&model);
                    // stop_check's closing line (the frame logs it only
                    // for a child that ran).
                    info!("Stopped");
                    return Err(BuildError { message: None, exit: crate::parent::EXIT_FATAL });
                }
            }
        };
        let Ok(http) = http::HttpSide::new(cfg, HTTP_FIRST, HTTP_COUNT) else {
            // keepalived `start_check`: stop_check(KEEPALIVED_EXIT_FATAL).
            info!("Stopped");
            return Err(BuildError { message: None, exit: crate::parent::EXIT_FATAL });
        };
        raise_fd_limit(cfg);
        let script_opts = ScriptRunOpts::from_global(&cfg.global, cli.log_detail > 0);
        let engine = Engine::new(model.ec.clone(), seed());
        let (files, initial_files) = FileChecks::new(cfg, &model.ec).map_or((None, Vec::new()), |(f, v)| (Some(f), v));
        Ok(CheckChild {
            notifier: LvsNotifier::new(cfg, &model.ec, script_opts.clone()),
            addrs: VsAddresses::new(cfg),
            files,
            initial_files,
            sync_own: None,
            sync_follow: sync_daemon::Follower::new(),
            model,
            old: None,
            engine,
            ipvs,
            tcp: TcpProbes::new(PROBE_FIRST, PROBE_COUNT),
            http,
            proto: proto::ProtoProbes::new(PROTO_FIRST, PROTO_COUNT),
            ping_range: ping_range(cfg, ping::GroupRange::default()),
            scripts: ScriptRunner::new(),
            script_opts,
            retries: Vec::new(),
            pending: VecDeque::new(),
            unsynced: Default::default(),
            epoch: std::time::Instant::now(),
            dont_release: cli.dont_release_ipvs,
        })
    }

    fn now(&self) -> keepalived_check::Instant {
        keepalived_check::Instant(self.epoch.elapsed().as_micros() as u64)
    }

    /// Feed `input` and everything its actions lead to.
    fn feed(&mut self, reg: &Registry, input: Input) {
        self.pending.push_back(input);
        self.drain(reg);
    }

    /// Feed the queued inputs (results known at once) and what follows.
    fn drain(&mut self, reg: &Registry) {
        while let Some(i) = self.pending.pop_front() {
            let mut out = Vec::new();
            let now = self.now();
            self.engine.handle(now, i, &mut out);
            self.exec_all(reg, out);
        }
    }

    /// Carry out the engine's actions; check results they produce at once
    /// are queued in `pending`.
    fn exec_all(&mut self, reg: &Registry, out: Vec<Action>) {
        for a in out {
            self.exec(reg, a, false);
        }
    }
}

mod exec;
mod proto_exec;

impl Subsystem for CheckChild {
    fn register(&mut self, ctx: &mut Ctx<'_>) -> std::io::Result<()> {
        self.register_files(ctx.registry);
        match self.addrs.as_mut() {
            Some(a) => a.register(ctx.registry, ADDR_TOKEN),
            None => Ok(()),
        }
    }

    /// keepalived `start_check`: IPVS set up, the ha_suspend addresses and
    /// FILE_CHECK values known, then the engine started.
    fn start(&mut self, ctx: &mut Ctx<'_>) {
        self.start_ipvs();
        let mut initial = self.addrs.as_mut().map(|a| a.resync()).unwrap_or_default();
        let files = std::mem::take(&mut self.initial_files);
        initial.extend(files.into_iter().map(|(name, value)| Input::FileValue { name, value }));
        for i in initial {
            self.feed(ctx.registry, i);
        }
        self.feed(ctx.registry, Input::Start);
    }

    fn poll_timeout(&mut self) -> Option<Duration> {
        self.next_deadline().map(|d| d.saturating_duration_since(std::time::Instant::now()))
    }

    fn poll_deadline(&mut self) -> Option<std::time::Instant> {
        self.next_deadline()
    }

    fn on_ready(&mut self, token: Token, ctx: &mut Ctx<'_>) {
        if token == ADDR_TOKEN || token == FILE_TOKEN {
            let inputs =
                if token == ADDR_TOKEN { self.addrs.as_mut().map(|a| a.on_ready()) } else { self.file_values() };
            for i in inputs.unwrap_or_default() {
                self.feed(ctx.registry, i);
            }
            return;
        }
        if self.http_ready(ctx.registry, token) {
            return;
        }
        if let Some((c, r)) = self.tcp.on_ready(ctx.registry, token) {
            self.tcp_result(ctx.registry, c, r);
        }
        if let Some((c, result)) = self.proto.on_ready(ctx.registry, token) {
            self.feed(ctx.registry, Input::CheckResult { checker: c, result });
        }
    }

    fn on_timers(&mut self, ctx: &mut Ctx<'_>) {
        self.run_due(ctx.registry);
    }

    fn on_sigchld(&mut self, ctx: &mut Ctx<'_>) {
        for r in self.scripts.reap() {
            match r.tag {
                Some(c) => self.misc_result(ctx.registry, c, r.pid, r.exit),
                None => {
                    self.notifier.reaped(r.pid);
                }
            }
        }
    }

    /// The VRRP child's `lvs_sync_daemon` instance changed role (BFD_CHECK
    /// events arrive with the BFD child).
    fn on_peer(&mut self, _from: ProcKind, event: PeerEvent, ctx: &mut Ctx<'_>) {
        match event {
            PeerEvent::SyncDaemon { master, syncid } => {
                if let Some(t) = self.ipvs.as_mut() {
                    self.sync_follow.on_event(&mut t.ipvs, &self.model.cfg.global, master, syncid);
                }
            }
            // BFD_CHECK: keepalived's read_bfd_event on the checker pipe.
            PeerEvent::Bfd { name, up } => self.feed(ctx.registry, Input::Bfd { name, up }),
        }
    }

    fn reload(&mut self, cfg: &Config, ctx: &mut Ctx<'_>) -> bool {
        self.reload_config(cfg, ctx.registry)
    }

    /// SIGUSR1: the running configuration with the engine's state (the
    /// engine's ids are those of the running configuration, not of the
    /// file re-read for the dump).
    fn dump(&mut self, what: DumpRequest, _cfg: &Config) -> Option<String> {
        (what == DumpRequest::Data).then(|| dump::check_data(&self.model.cfg, &self.engine))
    }

    fn status(&mut self) -> Option<serde_json::Value> {
        let counters = self.ipvs.as_mut().map(|t| ipvs_counters(&mut t.ipvs, &self.model));
        Some(status::status(&self.engine, counters.as_ref()))
    }

    fn shutdown(&mut self, ctx: &mut Ctx<'_>) {
        self.stop(ctx.registry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keepalived_config::{parse_str, ParseOptions};

    /// Every checker kind runs since the BFD child exists (BFD_CHECK was
    /// the last one dropped with a warning).
    #[test]
    fn every_checker_reaches_the_engine() {
        let text = "bfd_instance b1 {\n neighbor_ip 10.0.2.1\n}\n\
            virtual_server 10.0.0.1 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n \
            real_server 10.0.1.1 80 {\n  HTTP_GET {\n   url {\n    path /\n   }\n  }\n  TCP_CHECK {\n  }\n }\n \
            real_server 10.0.1.2 80 {\n  BFD_CHECK {\n   name b1\n  }\n }\n \
            real_server 10.0.1.3 80 {\n  MISC_CHECK {\n   misc_path /bin/true\n  }\n }\n}\n";
        let opts = ParseOptions { validate: true, ..ParseOptions::default() };
        let cfg = parse_str("t.conf", text, &opts).config;
        let m = Model::new(&cfg);
        let names: Vec<&str> = m.ec.checkers.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["HTTP_GET", "TCP_CHECK", "BFD_CHECK", "MISC_CHECK"]);
        let rs = &m.ec.virtual_servers[0].real_servers;
        assert_eq!(rs[1].checkers, [CheckerId(2)]);
        assert_eq!(m.services[0].len(), 1);
    }
}
