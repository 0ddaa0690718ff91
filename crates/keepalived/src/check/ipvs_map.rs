//! The configuration's virtual and real servers as IPVS services and
//! destinations (keepalived's `ipvswrapper.c`: `ipvs_set_srule`,
//! `ipvs_set_drule`, `ipvs_cmd`, `ipvs_group_cmd`), and the IPVS calls
//! with keepalived's error lines.
//!
//! A virtual server is one IPVS service, or, for `virtual_server group`,
//! one per address of every address range and one per fwmark of the
//! group; each destination of the virtual server goes to every one of
//! them.

use keepalived_config::global::model::LvsTimeouts;
use keepalived_config::lvs::model::{
    Family as MFamily, Forwarding, FwdMethod as MFwd, Granularity, Protocol as MProto, TunCsum, TunType as MTun,
    VirtualServer, VsAddr, VsGroup, VsgEntry,
};
use keepalived_netlink::ipvs::{self as nl, Dest, FwdMethod, Ipvs, Protocol, Service, ServiceKey, TunType};
use keepalived_netlink::{Family, NetlinkError};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use tracing::info;

/// One IPVS service of a virtual server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SvcEntry {
    pub service: Service,
    /// The `virtual_server_group` entry it comes from (keepalived compares
    /// whole entries at a reload, `vsge_iseq`); empty otherwise.
    pub entry: String,
}

impl SvcEntry {
    /// The port a destination gets in this service: its own with NAT; the
    /// service's (0 for a fwmark) with DR and TUN (keepalived `ipvs_cmd`).
    pub fn dest_port(&self, fwd: MFwd, rs_port: u16) -> u16 {
        match (fwd, self.service.key) {
            (MFwd::Nat, _) => rs_port,
            (_, ServiceKey::Addr { port, .. }) => port,
            (_, ServiceKey::Fwmark { .. }) => 0,
        }
    }
}

fn family(f: MFamily) -> Family {
    match f {
        MFamily::Inet => Family::Inet,
        MFamily::Inet6 => Family::Inet6,
    }
}

fn family_of(a: &IpAddr) -> Family {
    if a.is_ipv4() {
        Family::Inet
    } else {
        Family::Inet6
    }
}

fn protocol(p: Option<MProto>) -> Protocol {
    match p {
        Some(MProto::Udp) => Protocol::Udp,
        Some(MProto::Sctp) => Protocol::Sctp,
        // Validation sets the protocol of address services.
        Some(MProto::Tcp) | None => Protocol::Tcp,
    }
}

/// `netmask` without persistence granularity: all ones, or /128.
fn default_netmask(f: Family) -> u32 {
    match f {
        Family::Inet => u32::MAX,
        Family::Inet6 => 128,
    }
}

/// keepalived's `vs->flags`, as the parser set them.
fn sched_flags(vs: &VirtualServer) -> u32 {
    let f = &vs.flags;
    let bits = [
        (f.ops, nl::SVC_F_ONEPACKET),
        (f.flag_1, nl::SVC_F_SCHED1),
        (f.flag_2, nl::SVC_F_SCHED2),
        (f.flag_3, nl::SVC_F_SCHED3),
        (f.sh_port, nl::SVC_F_SCHED_SH_PORT),
        (f.sh_fallback, nl::SVC_F_SCHED_SH_FALLBACK),
        (f.mh_port, nl::SVC_F_SCHED_MH_PORT),
        (f.mh_fallback, nl::SVC_F_SCHED_MH_FALLBACK),
    ];
    bits.iter().filter(|(on, _)| *on).fold(0, |acc, (_, b)| acc | b)
}

/// The service `vs` would have at `key` (keepalived `ipvs_set_srule`):
/// scheduler, flags, persistence. `group`: a group entry, whose netmask
/// keepalived resets to the default (`ipvs_group_range_cmd` and the
/// fwmark loop of `ipvs_group_cmd` overwrite the granularity).
fn service(vs: &VirtualServer, key: ServiceKey, group: bool) -> Service {
    let fam = key.family();
    let mut s = Service {
        key,
        sched: vs.sched.clone().unwrap_or_else(|| "wlc".into()),
        flags: sched_flags(vs),
        timeout: 0,
        netmask: default_netmask(fam),
        pe_name: None,
    };
    if vs.persistence_timeout > 0 {
        s.timeout = vs.persistence_timeout;
        s.flags |= nl::SVC_F_PERSISTENT;
        s.netmask = match vs.persistence_granularity {
            Some(Granularity::V4(m)) => u32::from(m),
            Some(Granularity::V6(p)) => p,
            None => s.netmask,
        };
        s.pe_name = vs.persistence_engine.clone();
    }
    if group {
        s.netmask = default_netmask(fam);
    }
    s
}

/// The most addresses one group entry expands to: IPVS services are
/// kernel objects, and a mistyped prefix must not make millions.
pub const MAX_RANGE: u32 = 1 << 16;

/// Every address of a group range, in order (keepalived increments the
/// whole IPv4 address, and only the last 16 bits of an IPv6 one). An end
/// before the start gives the start alone; a range longer than
/// [`MAX_RANGE`] is cut there, with a warning.
pub fn range_addrs(start: IpAddr, end: IpAddr) -> Vec<IpAddr> {
    match (start, end) {
        (IpAddr::V4(s), IpAddr::V4(e)) => {
            let (s, e) = (u32::from(s), u32::from(e).max(u32::from(s)));
            let last = if e - s >= MAX_RANGE {
                tracing::warn!("virtual_server_group range {start}-{end} has more than {MAX_RANGE} addresses - using the first {MAX_RANGE}");
                s + (MAX_RANGE - 1)
            } else {
                e
            };
            (s..=last).map(|a| IpAddr::V4(Ipv4Addr::from(a))).collect()
        }
        (IpAddr::V6(s), IpAddr::V6(e)) => {
            let seg = s.segments();
            let last = e.segments()[7].max(seg[7]);
            (seg[7]..=last)
                .map(|x| {
                    let mut g = seg;
                    g[7] = x;
                    IpAddr::V6(Ipv6Addr::from(g))
                })
                .collect()
        }
        _ => vec![start],
    }
}

/// The family of a group's fwmark entry: its own, else the virtual
/// server's, else IPv4 (keepalived `ipvs_group_cmd`).
fn fwmark_family(entry: Option<MFamily>, vs: &VirtualServer) -> Family {
    entry.or(vs.af).map(family).unwrap_or(Family::Inet)
}

/// The IPVS services of a virtual server (`groups`: the configuration's
/// `virtual_server_group`s). A group that does not exist gives none.
pub fn services(vs: &VirtualServer, groups: &[VsGroup]) -> Vec<SvcEntry> {
    let proto = protocol(vs.protocol);
    let one = |key| vec![SvcEntry { service: service(vs, key, false), entry: String::new() }];
    match &vs.addr {
        VsAddr::Ip { addr, port } => {
            one(ServiceKey::Addr { family: family_of(addr), protocol: proto, addr: *addr, port: *port })
        }
        VsAddr::Fwmark(mark) => {
            one(ServiceKey::Fwmark { family: vs.af.map(family).unwrap_or(Family::Inet), mark: *mark })
        }
        VsAddr::Group { name, .. } => {
            let Some(g) = groups.iter().find(|g| &g.name == name) else { return Vec::new() };
            group_services(vs, g, proto)
        }
    }
}

/// A group's address ranges first, then its fwmarks, as keepalived.
fn group_services(vs: &VirtualServer, g: &VsGroup, proto: Protocol) -> Vec<SvcEntry> {
    let mut out = Vec::new();
    for e in &g.entries {
        if let VsgEntry::Range { start, end, port, .. } = e {
            let entry = format!("{start}-{end} {port}");
            for addr in range_addrs(*start, *end) {
                let key = ServiceKey::Addr { family: family_of(&addr), protocol: proto, addr, port: *port };
                out.push(SvcEntry { service: service(vs, key, true), entry: entry.clone() });
            }
        }
    }
    for e in &g.entries {
        if let VsgEntry::Fwmark { mark, family: f, .. } = e {
            let key = ServiceKey::Fwmark { family: fwmark_family(*f, vs), mark: *mark };
            out.push(SvcEntry { service: service(vs, key, true), entry: format!("fwmark {mark} {f:?}") });
        }
    }
    out
}

/// A real or sorry server as configured, for [`dest`].
#[derive(Clone, Copy, Debug)]
pub struct DestSpec {
    pub addr: IpAddr,
    pub port: u16,
    pub fwd: Forwarding,
    pub u_threshold: u32,
    pub l_threshold: u32,
}

/// The destination `d` with `weight` in the service `svc` (keepalived
/// `ipvs_set_drule`; the weight clamped as `real_weight`).
pub fn dest(svc: &SvcEntry, d: &DestSpec, weight: i64) -> Dest {
    let fwd = match d.fwd.method {
        MFwd::Nat => FwdMethod::Masq,
        MFwd::Dr => FwdMethod::DirectRoute,
        MFwd::Tun => FwdMethod::Tunnel,
    };
    Dest {
        addr: d.addr,
        port: svc.dest_port(d.fwd.method, d.port),
        family: family_of(&d.addr),
        fwd,
        weight: weight.clamp(0, i64::from(i32::MAX)) as i32,
        u_threshold: d.u_threshold,
        l_threshold: d.l_threshold,
        tun_type: match d.fwd.tun_type {
            MTun::Ipip => TunType::Ipip,
            MTun::Gue => TunType::Gue,
            MTun::Gre => TunType::Gre,
        },
        tun_port: d.fwd.tun_port,
        tun_flags: match d.fwd.tun_csum {
            TunCsum::NoCsum => nl::TUN_F_NOCSUM,
            TunCsum::Csum => nl::TUN_F_CSUM,
            TunCsum::RemCsum => nl::TUN_F_REMCSUM,
        },
    }
}

// ------------------------------------------------------------------ the IPVS calls

/// keepalived's IPVS commands, for its error line
/// `IPVS cmd IP_VS_SO_SET_ADDDEST(1095) error: …`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    Add,
    Edit,
    Del,
    Flush,
    AddDest,
    DelDest,
    EditDest,
}

impl Cmd {
    fn name(self) -> (&'static str, i32) {
        // IP_VS_BASE_CTL is 64 + 1024 (linux/ip_vs.h).
        match self {
            Cmd::Add => ("IP_VS_SO_SET_ADD", 1090),
            Cmd::Edit => ("IP_VS_SO_SET_EDIT", 1091),
            Cmd::Del => ("IP_VS_SO_SET_DEL", 1092),
            Cmd::Flush => ("IP_VS_SO_SET_FLUSH", 1093),
            Cmd::AddDest => ("IP_VS_SO_SET_ADDDEST", 1095),
            Cmd::DelDest => ("IP_VS_SO_SET_DELDEST", 1096),
            Cmd::EditDest => ("IP_VS_SO_SET_EDITDEST", 1097),
        }
    }
}

/// libipvs's `ipvs_strerror`: its own words for some errnos by command,
/// else the C library's.
pub fn ipvs_strerror(cmd: Cmd, errno: i32) -> String {
    use nix::errno::Errno::*;
    let e = nix::errno::Errno::from_raw(errno);
    let text = match (cmd, e) {
        (Cmd::Add, EEXIST) => "Service already exists",
        (Cmd::Add | Cmd::Edit, ENOENT) => "Scheduler or persistence engine not found",
        (Cmd::AddDest, EEXIST) => "Destination already exists",
        (Cmd::EditDest | Cmd::DelDest, ENOENT) => "No such destination",
        (_, ESRCH) => "No such service",
        (_, EPERM) => "Permission denied (you must be root)",
        (_, EINVAL) => "Invalid operation.  Possibly wrong module version, address not unicast, ...",
        (_, ENOPROTOOPT) => "Protocol not available",
        (_, ENOMEM) => "Memory allocation problem",
        (_, EOPNOTSUPP) => "Operation not supported with IPv6",
        (_, EAFNOSUPPORT) => "Operation not supported with specified address family",
        (_, EMSGSIZE) => "Module is wrong version",
        _ => return e.desc().to_string(),
    };
    text.to_string()
}

/// keepalived's `format_srule`: `10.0.0.1:tcp:80`, `Fwm 5`, `Fwm 5 inet6`.
pub fn format_srule(k: &ServiceKey) -> String {
    match k {
        ServiceKey::Addr { protocol, addr, port, .. } => format!("{addr}:{protocol}:{port}"),
        ServiceKey::Fwmark { family: Family::Inet6, mark } => format!("Fwm {mark} inet6"),
        ServiceKey::Fwmark { mark, .. } => format!("Fwm {mark}"),
    }
}

/// keepalived's line for a failed IPVS command (`ipvs_talk`).
pub fn error_line(cmd: Cmd, errno: i32, svc: Option<&ServiceKey>, d: Option<(IpAddr, u16)>) -> String {
    let (name, num) = cmd.name();
    let mut what = String::new();
    if let Some(k) = svc {
        what = format!(" ({}", format_srule(k));
        if let Some((a, p)) = d {
            what.push_str(&format!(" -> {a}:{p}"));
        }
        what.push(')');
    }
    format!("IPVS cmd {name}({num}) error: {}({errno}){what}", ipvs_strerror(cmd, errno))
}

/// IPVS failures, counted by kind (keepalived logs each and goes on).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpvsErrors {
    /// An add found the entry there already (another tool added it): taken
    /// as present.
    pub already_there: u64,
    /// A delete found nothing to delete.
    pub not_there: u64,
    /// Any other refusal.
    pub failed: u64,
}

/// The IPVS socket with keepalived's error handling: every failure is
/// logged with keepalived's line and counted, none stops the child.
pub struct IpvsTable {
    pub ipvs: Ipvs,
    pub errors: IpvsErrors,
    /// The kernel's timeouts before the first `lvs_timeouts` change.
    orig_timeouts: Option<nl::Timeouts>,
}

fn errno_of(e: &NetlinkError) -> i32 {
    e.errno().unwrap_or(nix::errno::Errno::EIO as i32)
}

impl IpvsTable {
    pub fn new(ipvs: Ipvs) -> IpvsTable {
        IpvsTable { ipvs, errors: IpvsErrors::default(), orig_timeouts: None }
    }

    /// Log and count a failure; `EEXIST` on an add and `ENOENT`/`ESRCH` on
    /// a delete are logged too (keepalived does) but are not failures.
    fn failed(&mut self, cmd: Cmd, e: &NetlinkError, svc: Option<&ServiceKey>, d: Option<(IpAddr, u16)>) {
        let errno = errno_of(e);
        info!("{}", error_line(cmd, errno, svc, d));
        let exists = errno == nix::errno::Errno::EEXIST as i32;
        let absent = errno == nix::errno::Errno::ENOENT as i32 || errno == nix::errno::Errno::ESRCH as i32;
        match cmd {
            Cmd::Add | Cmd::AddDest if exists => self.errors.already_there += 1,
            Cmd::Del | Cmd::DelDest if absent => self.errors.not_there += 1,
            _ => self.errors.failed += 1,
        }
    }

    pub fn add_service(&mut self, s: &Service) {
        if let Err(e) = self.ipvs.add_service(s) {
            self.failed(Cmd::Add, &e, Some(&s.key), None);
        }
    }

    pub fn edit_service(&mut self, s: &Service) {
        if let Err(e) = self.ipvs.edit_service(s) {
            self.failed(Cmd::Edit, &e, Some(&s.key), None);
        }
    }

    pub fn del_service(&mut self, k: &ServiceKey) {
        if let Err(e) = self.ipvs.del_service(k) {
            self.failed(Cmd::Del, &e, Some(k), None);
        }
    }

    pub fn add_dest(&mut self, k: &ServiceKey, d: &Dest) {
        if let Err(e) = self.ipvs.add_dest(k, d) {
            self.failed(Cmd::AddDest, &e, Some(k), Some((d.addr, d.port)));
        }
    }

    /// An edit of a destination that is not there adds it (keepalived
    /// `ipvs_talk`).
    pub fn edit_dest(&mut self, k: &ServiceKey, d: &Dest) {
        match self.ipvs.edit_dest(k, d) {
            Err(e) if errno_of(&e) == nix::errno::Errno::ENOENT as i32 => self.add_dest(k, d),
            Err(e) => self.failed(Cmd::EditDest, &e, Some(k), Some((d.addr, d.port))),
            Ok(()) => {}
        }
    }

    pub fn del_dest(&mut self, k: &ServiceKey, d: &Dest) {
        if let Err(e) = self.ipvs.del_dest(k, &d.key()) {
            self.failed(Cmd::DelDest, &e, Some(k), Some((d.addr, d.port)));
        }
    }

    pub fn flush(&mut self) {
        if let Err(e) = self.ipvs.flush() {
            self.failed(Cmd::Flush, &e, None, None);
        }
    }

    /// `lvs_timeouts` (`None`: none configured). As libipvs, the kernel's
    /// values are read before the first change, so that unset ones keep
    /// them and [`IpvsTable::restore_timeouts`] can put them back; with
    /// none configured nothing is changed, unless earlier ones are undone
    /// (reload). keepalived logs `Failed to set ipvs timeouts`.
    pub fn set_timeouts(&mut self, t: Option<&LvsTimeouts>) {
        let t = t.filter(|t| t.tcp.is_some() || t.tcpfin.is_some() || t.udp.is_some());
        let orig = match (self.orig_timeouts, t) {
            (Some(o), _) => o,
            (None, None) => return,
            (None, Some(_)) => match self.ipvs.timeouts() {
                Ok(o) => *self.orig_timeouts.insert(o),
                Err(_) => nl::Timeouts::default(),
            },
        };
        let pick = |v: Option<u32>, o: u32| v.filter(|v| *v != 0).unwrap_or(o);
        let want = match t {
            Some(t) => nl::Timeouts {
                tcp: pick(t.tcp, orig.tcp),
                tcp_fin: pick(t.tcpfin, orig.tcp_fin),
                udp: pick(t.udp, orig.udp),
            },
            None => orig,
        };
        if self.ipvs.set_timeouts(&want).is_err() {
            info!("Failed to set ipvs timeouts");
            self.errors.failed += 1;
        }
    }

    /// At stop: the timeouts as they were before we changed them
    /// (keepalived `ipvs_stop`).
    pub fn restore_timeouts(&mut self) {
        if let Some(o) = self.orig_timeouts {
            if self.ipvs.set_timeouts(&o).is_err() {
                info!("Failed to set ipvs timeouts");
            }
        }
    }
}

#[cfg(test)]
#[path = "ipvs_map_tests.rs"]
mod tests;
