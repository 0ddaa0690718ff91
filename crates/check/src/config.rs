//! The engine's own configuration, and its construction from the parsed (validated) model.
//!
//! Ids: a virtual server's [`VsId`] is its index in [`EngineConfig::virtual_servers`] (the order of the
//! validated model's `lvs.virtual_servers`), a real server's [`RsId`] its index in that virtual server's
//! `real_servers` (the model's order), a [`CheckerId`] the index in [`EngineConfig::checkers`]: every
//! protocol checker in configuration order, then every FILE_CHECK (keepalived queues those after parsing,
//! `add_rs_to_track_files`).
use std::net::IpAddr;

use keepalived_config::global::model::LvsFlushOnStop;
use keepalived_config::lvs::model as m;
use keepalived_config::Config;
use serde::{Deserialize, Serialize};

use crate::names;
use crate::types::{CheckerId, RsId, VsId};

/// What to do with IPVS at shutdown (`lvs_flush_on_stop`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlushOnStop {
    /// Remove every real server, then the service (keepalived's default).
    #[default]
    No,
    /// `lvs_flush_on_stop VS`: delete only the services.
    Vs,
    /// `lvs_flush_on_stop`: flush the whole IPVS table.
    Full,
}

/// Engine-wide options (from global_defs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// `checker_log_all_failures`.
    pub log_all_failures: bool,
    /// `no_checker_emails`: checker alerts only when the real server's state changes.
    pub no_checker_emails: bool,
    /// `rs_init_notifies`: notify_up for real servers found up at start.
    pub rs_init_notifies: bool,
    /// `lvs_flush_on_stop`.
    pub flush_on_stop: FlushOnStop,
    /// keepalived built with BFD: logs `Activating BFD healthchecker` at start (Debian's 2.2.7 is).
    pub with_bfd: bool,
}

/// How a virtual server is identified across a reload (keepalived `vs_iseq`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VsKey {
    /// `virtual_server group NAME`: the name and the sequence number among the group's users.
    Group { name: String, index: u16 },
    /// `virtual_server fwmark N` (`ipv6`: the family).
    Fwmark { mark: u32, ipv6: bool },
    /// `virtual_server IP PORT` with its protocol (`tcp`/`udp`/`sctp`/`none`).
    Addr { addr: IpAddr, port: u16, protocol: String },
}

/// The service parameters whose change makes keepalived edit the service at reload.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceParams {
    pub sched: String,
    /// Scheduler flags as keepalived prints them (`ops`, `flag-1`, …), sorted.
    pub flags: Vec<String>,
    pub persistence_engine: Option<String>,
    pub persistence_granularity: Option<String>,
    pub persistence_timeout: u32,
}

/// The forwarding settings of a destination (a change is an `EditDest` at reload).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forwarding {
    /// `NAT`, `DR` or `TUN`.
    pub method: String,
    /// Tunnel type, port and checksum (TUN only).
    pub tunnel: Option<(String, u16, String)>,
}

/// The sorry server of a virtual server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SorryConfig {
    /// keepalived's FMT_RS.
    pub name: String,
    pub addr: IpAddr,
    pub port: u16,
    /// `sorry_server_inhibit`.
    pub inhibit: bool,
    /// The sorry server is also one of the real servers (keepalived `s_svr_duplicates_rs`).
    pub duplicates_rs: bool,
    pub forwarding: Forwarding,
}

/// One real server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RsConfig {
    /// keepalived's FMT_RS: `[IP]:proto:port`.
    pub name: String,
    pub addr: IpAddr,
    pub port: u16,
    /// Configured weight (keepalived `iweight`).
    pub weight: i64,
    /// `inhibit_on_failure`.
    pub inhibit: bool,
    /// `alpha` (real server value; each checker has its own).
    pub alpha: bool,
    /// `smtp_alert` (effective).
    pub smtp_alert: bool,
    pub forwarding: Forwarding,
    /// This real server's checkers (protocol checkers, then FILE_CHECKs).
    pub checkers: Vec<CheckerId>,
}

/// One virtual server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VsConfig {
    /// keepalived's FMT_VS: `[IP]:proto:port`, `FWM N` or `[group]:N`.
    pub name: String,
    pub key: VsKey,
    pub params: ServiceParams,
    pub quorum: u32,
    pub hysteresis: u32,
    /// `omega`: down notifies and quorum_down at shutdown.
    pub omega: bool,
    /// `ha_suspend`: checkers run only while the virtual address is present ([`crate::Input::VsAddress`]).
    pub ha_suspend: bool,
    /// `smtp_alert` (effective).
    pub smtp_alert: bool,
    pub sorry: Option<SorryConfig>,
    pub real_servers: Vec<RsConfig>,
}

/// How the engine runs a checker: its keepalived epilog (retry rules, log texts). The engine never looks at
/// the checker's protocol settings; the shell does, through [`CheckerConfig::model_index`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Policy {
    /// TCP_CHECK (`tcp_epilog`: also retries while down).
    Tcp,
    /// UDP_CHECK (`udp_epilog`: retries only while up).
    Udp,
    /// PING_CHECK (`ping_epilog`).
    Ping,
    /// DNS_CHECK (`dns_final`).
    Dns,
    /// SMTP_CHECK (`smtp_final`).
    Smtp,
    /// HTTP_GET / SSL_GET (`epilog`): one attempt per URL, `urls` of them, in turn.
    Http { urls: usize, fast_recovery: bool },
    /// MISC_CHECK: `path` is the script's argv\[0\] (logged), `dynamic` = `misc_dynamic`.
    Misc { path: String, dynamic: bool },
    /// FILE_CHECK: event-driven by [`crate::Input::FileValue`] for `track_file`; `weight` (0 = any non-zero
    /// value is a failure) and `reverse` already resolved from the track_file when not set.
    File { track_file: String, weight: i64, reverse: bool },
    /// BFD_CHECK: event-driven by [`crate::Input::Bfd`] for the bfd_instance `name`.
    Bfd { name: String },
}

impl Policy {
    /// Polled checkers are scheduled by the engine; FILE/BFD are pushed by the shell.
    pub fn is_polled(&self) -> bool {
        !matches!(self, Policy::File { .. } | Policy::Bfd { .. })
    }
}

/// One checker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckerConfig {
    pub rs: RsId,
    /// keepalived's name: `TCP_CHECK`, `HTTP_GET`, `SSL_GET`, `SMTP_CHECK`, `DNS_CHECK`, `MISC_CHECK`,
    /// `UDP_CHECK`, `PING_CHECK`, `FILE_CHECK`, `BFD_CHECK`.
    pub name: String,
    pub policy: Policy,
    /// Index in the model real server's `checkers` (or `file_checks` for FILE_CHECK).
    pub model_index: usize,
    /// Timers in µs.
    pub delay_loop: u64,
    pub retry: u32,
    pub delay_before_retry: u64,
    pub warmup: u64,
    /// connect_timeout (µs), for the shell (None: MISC/FILE/BFD).
    pub connect_timeout: Option<u64>,
    pub alpha: bool,
    pub log_all_failures: bool,
    /// Reload matching: checkers of the same real server with equal keys are the same checker (keepalived's
    /// per-type `compare` function). `None`: never matched (FILE_CHECK has no compare function).
    pub reload_key: Option<String>,
}

/// Everything the engine needs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineConfig {
    pub options: Options,
    pub virtual_servers: Vec<VsConfig>,
    pub checkers: Vec<CheckerConfig>,
}

impl EngineConfig {
    pub fn vs(&self, vs: VsId) -> Option<&VsConfig> {
        self.virtual_servers.get(vs.0)
    }

    pub fn rs(&self, rs: RsId) -> Option<&RsConfig> {
        self.vs(rs.vs).and_then(|v| v.real_servers.get(rs.rs))
    }

    pub fn checker(&self, c: CheckerId) -> Option<&CheckerConfig> {
        self.checkers.get(c.0)
    }

    /// Makes a hand-built configuration safe for the engine: checkers naming a real server that does not
    /// exist are dropped (later ids shift down) and every real server's `checkers` list is rebuilt from the
    /// checkers' `rs`. A configuration from [`EngineConfig::from_config`] is unchanged.
    pub fn sanitized(mut self) -> EngineConfig {
        let exists =
            |c: &CheckerConfig, vss: &[VsConfig]| vss.get(c.rs.vs.0).is_some_and(|v| c.rs.rs < v.real_servers.len());
        let vss = std::mem::take(&mut self.virtual_servers);
        self.checkers.retain(|c| exists(c, &vss));
        self.virtual_servers = vss;
        for v in &mut self.virtual_servers {
            for r in &mut v.real_servers {
                r.checkers.clear();
            }
        }
        for (i, c) in self.checkers.iter().enumerate() {
            self.virtual_servers[c.rs.vs.0].real_servers[c.rs.rs].checkers.push(CheckerId(i));
        }
        self
    }

    /// Builds the engine configuration from a parsed and validated keepalived configuration.
    pub fn from_config(cfg: &Config) -> EngineConfig {
        let g = &cfg.global;
        let options = Options {
            log_all_failures: g.checker_log_all_failures,
            no_checker_emails: g.no_checker_emails,
            rs_init_notifies: g.rs_init_notifies,
            flush_on_stop: match g.lvs_flush_on_stop {
                LvsFlushOnStop::None => FlushOnStop::No,
                LvsFlushOnStop::Vs => FlushOnStop::Vs,
                LvsFlushOnStop::Full => FlushOnStop::Full,
            },
            with_bfd: true,
        };
        let mut out = EngineConfig { options, virtual_servers: Vec::new(), checkers: Vec::new() };
        for (vi, vs) in cfg.lvs.virtual_servers.iter().enumerate() {
            out.virtual_servers.push(vs_config(vs));
            for (ri, rs) in vs.real_servers.iter().enumerate() {
                let id = RsId { vs: VsId(vi), rs: ri };
                for (ci, c) in rs.checkers.iter().enumerate() {
                    let cid = CheckerId(out.checkers.len());
                    out.checkers.push(protocol_checker(id, ci, c, rs));
                    out.virtual_servers[vi].real_servers[ri].checkers.push(cid);
                }
            }
        }
        // keepalived queues the FILE_CHECKs after every parsed checker.
        for (vi, vs) in cfg.lvs.virtual_servers.iter().enumerate() {
            for (ri, rs) in vs.real_servers.iter().enumerate() {
                let id = RsId { vs: VsId(vi), rs: ri };
                for (fi, f) in rs.file_checks.iter().enumerate() {
                    let Some(fc) = file_checker(cfg, id, fi, f) else { continue };
                    let cid = CheckerId(out.checkers.len());
                    out.checkers.push(fc);
                    out.virtual_servers[vi].real_servers[ri].checkers.push(cid);
                }
            }
        }
        out
    }
}

fn forwarding(f: Option<m::Forwarding>) -> Forwarding {
    let Some(f) = f else { return Forwarding { method: "NAT".into(), tunnel: None } };
    let method = match f.method {
        m::FwdMethod::Nat => "NAT",
        m::FwdMethod::Dr => "DR",
        m::FwdMethod::Tun => "TUN",
    };
    let tunnel =
        (f.method == m::FwdMethod::Tun).then(|| (format!("{:?}", f.tun_type), f.tun_port, format!("{:?}", f.tun_csum)));
    Forwarding { method: method.into(), tunnel }
}

fn sched_flags(f: &m::SchedFlags) -> Vec<String> {
    let all = [
        (f.ops, "ops"),
        (f.flag_1, "flag-1"),
        (f.flag_2, "flag-2"),
        (f.flag_3, "flag-3"),
        (f.sh_port, "sh-port"),
        (f.sh_fallback, "sh-fallback"),
        (f.mh_port, "mh-port"),
        (f.mh_fallback, "mh-fallback"),
    ];
    all.iter().filter(|(on, _)| *on).map(|(_, n)| n.to_string()).collect()
}

fn vs_key(vs: &m::VirtualServer) -> VsKey {
    match &vs.addr {
        m::VsAddr::Group { name, index } => VsKey::Group { name: name.clone(), index: *index },
        m::VsAddr::Fwmark(mark) => VsKey::Fwmark { mark: *mark, ipv6: vs.af == Some(m::Family::Inet6) },
        m::VsAddr::Ip { addr, port } => {
            VsKey::Addr { addr: *addr, port: *port, protocol: m::Protocol::name(vs.protocol).to_string() }
        }
    }
}

fn vs_config(vs: &m::VirtualServer) -> VsConfig {
    let params = ServiceParams {
        sched: vs.sched.clone().unwrap_or_else(|| "wlc".into()),
        flags: sched_flags(&vs.flags),
        persistence_engine: vs.persistence_engine.clone(),
        persistence_granularity: vs.persistence_granularity.map(|g| format!("{g:?}")),
        persistence_timeout: vs.persistence_timeout,
    };
    let sorry = vs.sorry_server.as_ref().map(|s| SorryConfig {
        name: names::trio(&s.addr, vs.protocol, s.port),
        addr: s.addr,
        port: s.port,
        inhibit: s.inhibit,
        duplicates_rs: vs.sorry_server_duplicates_rs,
        forwarding: forwarding(s.forwarding),
    });
    let real_servers = vs
        .real_servers
        .iter()
        .map(|rs| RsConfig {
            name: names::trio(&rs.addr, vs.protocol, rs.port),
            addr: rs.addr,
            port: rs.port,
            weight: i64::from(rs.weight.unwrap_or(vs.weight)),
            inhibit: rs.inhibit_on_failure.unwrap_or(vs.inhibit_on_failure),
            alpha: rs.alpha.unwrap_or(vs.alpha),
            smtp_alert: rs.smtp_alert.unwrap_or(true),
            forwarding: forwarding(rs.forwarding.or(vs.forwarding)),
            checkers: Vec::new(),
        })
        .collect();
    VsConfig {
        name: names::fmt_vs(vs),
        key: vs_key(vs),
        params,
        quorum: vs.quorum,
        hysteresis: vs.hysteresis,
        omega: vs.omega,
        ha_suspend: vs.ha_suspend,
        smtp_alert: vs.smtp_alert.unwrap_or(false),
        sorry,
        real_servers,
    }
}

fn conn_key(c: &Option<m::ConnOpts>) -> String {
    serde_json::to_string(c).unwrap_or_default()
}

/// keepalived's checker name and epilog family for a model checker.
fn policy_of(kind: &m::CheckerKind) -> (&'static str, Policy) {
    match kind {
        m::CheckerKind::Tcp => ("TCP_CHECK", Policy::Tcp),
        m::CheckerKind::Http(h) => (
            if h.ssl { "SSL_GET" } else { "HTTP_GET" },
            Policy::Http { urls: h.urls.len().max(1), fast_recovery: h.fast_recovery },
        ),
        m::CheckerKind::Smtp(_) => ("SMTP_CHECK", Policy::Smtp),
        m::CheckerKind::Dns(_) => ("DNS_CHECK", Policy::Dns),
        m::CheckerKind::Misc(x) => (
            "MISC_CHECK",
            Policy::Misc {
                path: x.script.as_ref().map(|s| s.path().to_string()).unwrap_or_default(),
                dynamic: x.dynamic,
            },
        ),
        m::CheckerKind::Udp(_) => ("UDP_CHECK", Policy::Udp),
        m::CheckerKind::Ping => ("PING_CHECK", Policy::Ping),
        m::CheckerKind::Bfd(b) => ("BFD_CHECK", Policy::Bfd { name: b.name.clone().unwrap_or_default() }),
    }
}

/// keepalived's per-type `compare` function as a key: the connection options plus the type's own settings.
fn reload_key(name: &str, c: &m::Checker) -> String {
    let own = match &c.kind {
        m::CheckerKind::Misc(x) => {
            let script = x.script.as_ref().map(|s| (s.args.clone(), s.user.clone(), s.group.clone()));
            serde_json::to_string(&(x.dynamic, script)).unwrap_or_default()
        }
        other => serde_json::to_string(other).unwrap_or_default(),
    };
    format!("{name} {} {own}", conn_key(&c.conn))
}

fn protocol_checker(rs: RsId, index: usize, c: &m::Checker, mrs: &m::RealServer) -> CheckerConfig {
    let (name, policy) = policy_of(&c.kind);
    let delay_loop = c.delay_loop.or(mrs.delay_loop).unwrap_or(60_000_000);
    CheckerConfig {
        rs,
        name: name.to_string(),
        policy,
        model_index: index,
        delay_loop,
        retry: c.retry.unwrap_or(c.default_retry),
        delay_before_retry: c.delay_before_retry.unwrap_or(delay_loop),
        warmup: c.warmup.unwrap_or(delay_loop),
        connect_timeout: c.conn.as_ref().and_then(|co| co.connect_timeout),
        alpha: c.alpha.unwrap_or(false),
        log_all_failures: c.log_all_failures,
        reload_key: Some(reload_key(name, c)),
    }
}

fn file_checker(cfg: &Config, rs: RsId, index: usize, f: &m::FileCheck) -> Option<CheckerConfig> {
    let name = f.track_file.clone()?;
    let tf = cfg.vrrp.track_files.iter().find(|t| t.name == name)?;
    let (weight, reverse) = match f.weight {
        Some(w) => (w, f.reverse),
        None => (tf.weight.weight, tf.weight.reverse),
    };
    Some(CheckerConfig {
        rs,
        name: "FILE_CHECK".into(),
        policy: Policy::File { track_file: name, weight: i64::from(weight), reverse },
        model_index: index,
        delay_loop: 0,
        retry: 0,
        delay_before_retry: 0,
        warmup: 0,
        connect_timeout: None,
        alpha: false,
        log_all_failures: false,
        reload_key: None,
    })
}
