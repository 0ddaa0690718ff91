//! LVS: virtual servers, real servers, checkers, SSL.
//!
//! Timers are microseconds (`u64`). Fields that keepalived fills in at the
//! end of the configuration (inheritance VS → RS → checker) are `Option`s
//! while parsing and hold the effective value after validation.
use crate::diag::Origin;
use crate::model::Script;
use serde::Serialize;
use std::net::IpAddr;

#[derive(Clone, Debug, Default, Serialize)]
pub struct LvsConfig {
    /// `SSL { }`.
    pub ssl: Option<SslConfig>,
    /// `virtual_server_group NAME { }`.
    pub groups: Vec<VsGroup>,
    /// `virtual_server … { }`.
    pub virtual_servers: Vec<VirtualServer>,
    /// At least one `SSL_GET` checker is configured (keepalived `ssl_required`).
    pub ssl_required: bool,
    /// Objects being built while parsing (keepalived's `current_*` pointers).
    #[serde(skip)]
    pub(crate) state: ParseState,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct ParseState {
    pub vs: Option<VirtualServer>,
    pub rs: Option<RealServer>,
    /// The real servers of the virtual server being read. They move to the
    /// virtual server, in a list of exactly their number, when it closes:
    /// one reused buffer instead of a list that grows by doubling per
    /// virtual server (its outgrown copies were fresh pages each time).
    pub real_servers: Vec<RealServer>,
    pub checker: Option<Checker>,
    pub url: Option<Url>,
    pub regex_pattern: Option<String>,
    pub file_check: Option<FileCheck>,
    pub smtp_hosts: Vec<ConnOpts>,
    pub smtp_host: Option<ConnOpts>,
    pub vsg: Option<VsGroup>,
    pub misc_user_set: bool,
}

/// `SSL { password; ca; certificate; key }`.
#[derive(Clone, Debug, Serialize)]
pub struct SslConfig {
    /// `password STR`.
    pub password: Option<String>,
    /// `ca FILE`.
    pub ca: Option<String>,
    /// `certificate FILE`.
    pub certificate: Option<String>,
    /// `key FILE`.
    pub key: Option<String>,
    pub origin: Origin,
}

/// Address family (`inet` / `inet6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Family {
    Inet,
    Inet6,
}

impl Family {
    pub fn of(addr: &IpAddr) -> Family {
        if addr.is_ipv4() {
            Family::Inet
        } else {
            Family::Inet6
        }
    }
}

/// `virtual_server_group NAME { entries }`.
#[derive(Clone, Debug, Serialize)]
pub struct VsGroup {
    pub name: String,
    pub entries: Vec<VsgEntry>,
    pub have_ipv4: bool,
    pub have_ipv6: bool,
    /// A `fwmark N` entry without a family.
    pub fwmark_no_family: bool,
    pub origin: Origin,
}

impl VsGroup {
    pub fn has_addresses(&self) -> bool {
        self.entries.iter().any(|e| matches!(e, VsgEntry::Range { .. }))
    }
    pub fn has_fwmarks(&self) -> bool {
        self.entries.iter().any(|e| matches!(e, VsgEntry::Fwmark { .. }))
    }
}

/// One `virtual_server_group` entry.
#[derive(Clone, Debug, Serialize)]
pub enum VsgEntry {
    /// `IP [PORT]`, `IP-LASTOCTET [PORT]`, `IP1-IP2 [PORT]`, `IP/PREFIX [PORT]`
    /// (`start == end` for a single address). Port 0 = none.
    Range { start: IpAddr, end: IpAddr, port: u16, origin: Origin },
    /// `fwmark N [inet|inet6]`.
    Fwmark { mark: u32, family: Option<Family>, origin: Origin },
}

/// How a virtual server is identified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum VsAddr {
    /// `virtual_server IP [PORT]` (port 0 = none).
    Ip { addr: IpAddr, port: u16 },
    /// `virtual_server fwmark N`.
    Fwmark(u32),
    /// `virtual_server group NAME`; `index` is the sequence number of the
    /// virtual server among those using the group (keepalived uses it as
    /// the port when printing `[NAME]:index`).
    Group { name: String, index: u16 },
}

/// `protocol TCP|UDP|SCTP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub fn name(p: Option<Protocol>) -> &'static str {
        match p {
            Some(Protocol::Tcp) => "tcp",
            Some(Protocol::Udp) => "udp",
            Some(Protocol::Sctp) => "sctp",
            None => "none",
        }
    }
}

/// `lvs_method NAT|DR|TUN`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum FwdMethod {
    Nat,
    Dr,
    Tun,
}

/// Tunnel encapsulation (`lvs_method TUN type ipip|gue|gre`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum TunType {
    #[default]
    Ipip,
    Gue,
    Gre,
}

/// Tunnel checksum option (`nocsum|csum|remcsum`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum TunCsum {
    #[default]
    NoCsum,
    Csum,
    RemCsum,
}

/// A forwarding method with its tunnel options.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Forwarding {
    pub method: FwdMethod,
    pub tun_type: TunType,
    /// GUE port (0 = none).
    pub tun_port: u16,
    pub tun_csum: TunCsum,
}

/// Scheduler flags (`ops`, `flag-1..3`, `sh-port`, `sh-fallback`, `mh-port`, `mh-fallback`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SchedFlags {
    pub ops: bool,
    pub flag_1: bool,
    pub flag_2: bool,
    pub flag_3: bool,
    pub sh_port: bool,
    pub sh_fallback: bool,
    pub mh_port: bool,
    pub mh_fallback: bool,
}

/// `persistence_granularity`: an IPv4 netmask or an IPv6 prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Granularity {
    V4(std::net::Ipv4Addr),
    V6(u32),
}

/// `virtual_server IP [PORT] | fwmark N | group NAME { … }`.
#[derive(Clone, Debug, Serialize)]
pub struct VirtualServer {
    pub addr: VsAddr,
    /// Address family (from the address, `ip_family`, the servers…).
    pub af: Option<Family>,
    /// `lvs_sched` / `lb_algo` (default `wlc` at validation, with an error).
    pub sched: Option<String>,
    pub flags: SchedFlags,
    /// `lvs_method` / `lb_kind` (default NAT at validation, with an error).
    pub forwarding: Option<Forwarding>,
    /// `protocol` (UDP at validation, with an error, for address VSs).
    pub protocol: Option<Protocol>,
    /// `persistence_timeout` in seconds (0 = none; no argument = 360).
    pub persistence_timeout: u32,
    /// `persistence_granularity`.
    pub persistence_granularity: Option<Granularity>,
    /// `persistence_engine`.
    pub persistence_engine: Option<String>,
    /// `delay_loop` (default 60 s).
    pub delay_loop: u64,
    /// `connect_timeout` (default 5 s).
    pub connect_timeout: u64,
    /// `retry`.
    pub retry: Option<u32>,
    /// `delay_before_retry`.
    pub delay_before_retry: Option<u64>,
    /// `warmup`.
    pub warmup: Option<u64>,
    /// `inhibit_on_failure`.
    pub inhibit_on_failure: bool,
    /// `alpha`.
    pub alpha: bool,
    /// `omega`.
    pub omega: bool,
    /// `quorum` (default 1).
    pub quorum: u32,
    /// `hysteresis` (default 0).
    pub hysteresis: u32,
    /// `quorum_up`.
    pub quorum_up: Option<Script>,
    /// `quorum_down`.
    pub quorum_down: Option<Script>,
    /// `sorry_server IP [PORT]` (+ `sorry_server_inhibit`, `sorry_server_lvs_method`).
    pub sorry_server: Option<SorryServer>,
    /// `ha_suspend`.
    pub ha_suspend: bool,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `smtp_alert [BOOL]` (effective value after validation).
    pub smtp_alert: Option<bool>,
    /// `snmp_name`.
    pub snmp_name: Option<String>,
    /// `weight` (default 1): default real server weight.
    pub weight: u32,
    /// `real_server` blocks.
    pub real_servers: Vec<RealServer>,
    /// The sorry server is also a real server.
    pub sorry_server_duplicates_rs: bool,
    pub origin: Origin,
}

/// `sorry_server IP [PORT]`.
#[derive(Clone, Debug, Serialize)]
pub struct SorryServer {
    pub addr: IpAddr,
    pub port: u16,
    /// `sorry_server_inhibit`.
    pub inhibit: bool,
    /// `sorry_server_lvs_method` (default the VS method).
    pub forwarding: Option<Forwarding>,
    pub origin: Origin,
}

/// `real_server IP [PORT] { … }`.
#[derive(Clone, Debug, Serialize)]
pub struct RealServer {
    pub addr: IpAddr,
    /// Port (0 = unset; validation sets it from the VS).
    pub port: u16,
    /// `weight` (default the VS weight).
    pub weight: Option<u32>,
    /// `lvs_method` (default the VS method).
    pub forwarding: Option<Forwarding>,
    /// `uthreshold`.
    pub uthreshold: u32,
    /// `lthreshold`.
    pub lthreshold: u32,
    /// `inhibit_on_failure [BOOL]` (default the VS value).
    pub inhibit_on_failure: Option<bool>,
    /// `alpha [BOOL]` (default the VS value).
    pub alpha: Option<bool>,
    /// `notify_up` (boxed, as the other rare fields: 10,000 real servers
    /// without scripts should not carry 176 bytes each for them).
    pub notify_up: Option<Box<Script>>,
    /// `notify_down`.
    pub notify_down: Option<Box<Script>>,
    /// `retry` (effective: VS value, may stay unset = checker default).
    pub retry: Option<u32>,
    /// `delay_before_retry`.
    pub delay_before_retry: Option<u64>,
    /// `warmup`.
    pub warmup: Option<u64>,
    /// `connect_timeout` (effective: VS value).
    pub connect_timeout: Option<u64>,
    /// `delay_loop` (effective: VS value).
    pub delay_loop: Option<u64>,
    /// `smtp_alert [BOOL]` (effective after validation; default true).
    pub smtp_alert: Option<bool>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `snmp_name`.
    pub snmp_name: Option<String>,
    /// Health checkers (all must be up).
    pub checkers: Vec<Checker>,
    /// `FILE_CHECK { }` blocks.
    pub file_checks: Vec<FileCheck>,
    pub origin: Origin,
}

/// Connection options of a checker (`connect_ip`, `connect_port`, `bindto`,
/// `bind_port`, `bind_if`, `connect_timeout`, `fwmark`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ConnOpts {
    /// `connect_ip` (default the real server address).
    pub connect_ip: Option<IpAddr>,
    /// `connect_port` (default the real server port).
    pub connect_port: Option<u16>,
    /// `bindto`.
    pub bindto: Option<IpAddr>,
    /// `bind_port`.
    pub bind_port: Option<u16>,
    /// `bind_if`.
    pub bind_if: Option<String>,
    /// `connect_timeout` (effective: RS → VS value after validation).
    pub connect_timeout: Option<u64>,
    /// `fwmark` (SO_MARK).
    pub fwmark: Option<u32>,
}

/// One health checker.
#[derive(Clone, Debug, Serialize)]
pub struct Checker {
    pub kind: CheckerKind,
    /// Connection options (None for MISC_CHECK and BFD_CHECK).
    pub conn: Option<ConnOpts>,
    /// `retry` (effective after validation).
    pub retry: Option<u32>,
    /// `delay_before_retry` (effective after validation).
    pub delay_before_retry: Option<u64>,
    /// `warmup` (effective after validation).
    pub warmup: Option<u64>,
    /// `delay_loop` (effective after validation).
    pub delay_loop: Option<u64>,
    /// `alpha [BOOL]` (effective after validation).
    pub alpha: Option<bool>,
    /// `log_all_failures [BOOL]`.
    pub log_all_failures: bool,
    /// Built-in default retry (1; DNS 3; MISC 0).
    #[serde(skip)]
    pub default_retry: u32,
    /// Built-in default delay_before_retry (1 s; HTTP/SSL 3 s; DNS 0 = delay_loop).
    #[serde(skip)]
    pub default_delay_before_retry: u64,
    pub origin: Origin,
}

/// The checker types and their own settings.
#[derive(Clone, Debug, Serialize)]
pub enum CheckerKind {
    /// `TCP_CHECK`.
    Tcp,
    /// `HTTP_GET` / `SSL_GET`.
    Http(Box<HttpCheck>),
    /// `SMTP_CHECK`.
    Smtp(Box<SmtpCheck>),
    /// `DNS_CHECK`.
    Dns(Box<DnsCheck>),
    /// `MISC_CHECK`.
    Misc(Box<MiscCheck>),
    /// `UDP_CHECK`.
    Udp(Box<UdpCheck>),
    /// `PING_CHECK`.
    Ping,
    /// `BFD_CHECK`.
    Bfd(Box<BfdCheck>),
}

/// `http_protocol 1.0|1.0C|1.1`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum HttpProtocol {
    #[default]
    V1_0,
    V1_0C,
    V1_1,
}

/// `HTTP_GET { … }` / `SSL_GET { … }`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct HttpCheck {
    /// SSL_GET.
    pub ssl: bool,
    /// `url { }` blocks (at least one, each with a path).
    pub urls: Vec<Url>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `http_protocol`.
    pub http_protocol: HttpProtocol,
    /// `enable_sni [BOOL]` (also set by `sni_name`).
    pub enable_sni: bool,
    /// `sni_name NAME`.
    pub sni_name: Option<String>,
    /// `fast_recovery [BOOL]`.
    pub fast_recovery: bool,
    /// `tls_compliant [BOOL]` (SSL_GET).
    pub tls_compliant: bool,
}

/// `url { path; digest; status_code; virtualhost; regex…; tls_compliant }`.
#[derive(Clone, Debug, Serialize)]
pub struct Url {
    /// `path`.
    pub path: Option<String>,
    /// `digest` (MD5, 16 bytes).
    pub digest: Option<Vec<u8>>,
    /// `status_code` ranges (inclusive); 200-299 when none is given.
    pub status_codes: Vec<(u16, u16)>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `regex`.
    pub regex: Option<String>,
    /// `regex_no_match`.
    pub regex_no_match: bool,
    /// `regex_options` (names as given).
    pub regex_options: Vec<String>,
    /// `regex_min_offset`.
    pub regex_min_offset: u64,
    /// `regex_max_offset` (0 = none; stored as keepalived does, one past the last position).
    pub regex_max_offset: u64,
    /// `regex_stack START MAX`.
    pub regex_stack: Option<(u64, u64)>,
    /// `tls_compliant` (SSL_GET).
    pub tls_compliant: bool,
    pub origin: Origin,
}

impl Url {
    pub fn new(origin: Origin) -> Url {
        Url {
            path: None,
            digest: None,
            status_codes: Vec::new(),
            virtualhost: None,
            regex: None,
            regex_no_match: false,
            regex_options: Vec::new(),
            regex_min_offset: 0,
            regex_max_offset: 0,
            regex_stack: None,
            tls_compliant: false,
            origin,
        }
    }
}

/// `SMTP_CHECK { helo_name …; host { … } }`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SmtpCheck {
    /// `helo_name` (default `smtpchecker.keepalived.org`).
    pub helo_name: Option<String>,
}

/// `DNS_CHECK { type; name }`.
#[derive(Clone, Debug, Serialize)]
pub struct DnsCheck {
    /// `type` (default SOA), upper case.
    pub qtype: String,
    /// `name` (default "" = the root).
    pub name: Option<String>,
}

/// `MISC_CHECK { misc_path; misc_timeout; misc_dynamic; user }`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MiscCheck {
    /// `misc_path`.
    pub script: Option<Script>,
    /// `misc_timeout` in µs (effective: VS delay_loop when unset).
    pub timeout: Option<u64>,
    /// `misc_dynamic`.
    pub dynamic: bool,
    /// `user USER [GROUP]`.
    pub user: Option<String>,
    pub group: Option<String>,
}

/// `UDP_CHECK { payload; require_reply; min_reply_length; max_reply_length }`.
#[derive(Clone, Debug, Serialize)]
pub struct UdpCheck {
    /// `payload HEX`.
    pub payload: Option<Vec<u8>>,
    /// `require_reply [HEX]`.
    pub require_reply: bool,
    pub reply_data: Option<Vec<u8>>,
    /// Wildcard nibbles of `require_reply` (0x0f / 0xf0 bits set).
    pub reply_mask: Option<Vec<u8>>,
    /// `min_reply_length` (default 0).
    pub min_reply_length: u16,
    /// `max_reply_length` (default 255).
    pub max_reply_length: u16,
}

/// `BFD_CHECK { name; alpha }`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BfdCheck {
    pub name: Option<String>,
}

/// `FILE_CHECK { track_file NAME; weight N [reverse|noreverse] }`.
#[derive(Clone, Debug, Serialize)]
pub struct FileCheck {
    /// The `track_file` block named.
    pub track_file: Option<String>,
    /// `weight` (None: the track_file's weight).
    pub weight: Option<i32>,
    pub reverse: bool,
    pub origin: Origin,
}
