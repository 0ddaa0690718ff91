//! What monitoring reads from the VRRP child, in keepalived 2.2.7's layouts:
//! the JSON dump (vrrp_json.c, SIGRTMIN+2) and the VRRP part of the data
//! dump (vrrp_data.c dump_vrrp / dump_vgroup / dump_vscript, SIGUSR1).
//! `crate::dumps` writes the files; this module lays them out from the
//! engine's live state, the shell's interfaces and the configuration.

use super::VrrpShell;
use keepalived_config::model::ip::{Family, IpAddress, Route, RouteMode, Rule, RuleAction};
use keepalived_config::model::vrrp::{VrrpConfig, VrrpInstance, VrrpScript};
use keepalived_runtime::script::cmd_str;
use keepalived_vrrp::{AuthConfig, Instance, State, TrackKind};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

/// keepalived's state numbers (vrrp.h).
pub fn state_num(s: State) -> u8 {
    match s {
        State::Init => 0,
        State::Backup => 1,
        State::Master => 2,
        State::Fault => 3,
        State::Stop => 98,
    }
}

pub(super) fn secs(t: SystemTime) -> (u64, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    (d.as_secs(), d.subsec_micros())
}

/// keepalived's ipaddresstos: the address, with `/len` unless a host address.
pub(super) fn addr_str(a: IpAddr, prefix: u8) -> String {
    let host = if a.is_ipv4() { 32 } else { 128 };
    if prefix == host {
        a.to_string()
    } else {
        format!("{a}/{prefix}")
    }
}

/// iproute2's scope names (rt_scopes).
fn scope_name(s: Option<u8>) -> String {
    match s.unwrap_or(0) {
        0 => "global".into(),
        200 => "site".into(),
        253 => "link".into(),
        254 => "host".into(),
        255 => "nowhere".into(),
        n => n.to_string(),
    }
}

/// One instance as the dumps see it.
struct View<'a> {
    inst: &'a Instance,
    cfg: Option<&'a VrrpInstance>,
    scripts: &'a [VrrpScript],
    /// The interface it sends on (its VMAC if it has one).
    ifname: String,
    base_ifname: String,
    vmac: Option<String>,
    src: Option<IpAddr>,
    last_transition: SystemTime,
    /// The index and descriptor of its socket in the shell's list.
    sock: Option<(usize, i32)>,
    /// No accept mode: its addresses have an nftables drop rule.
    blocked: bool,
}

impl View<'_> {
    /// keepalived's format_ipaddress.
    fn addr_line(&self, a: &IpAddress) -> String {
        let mut s = addr_str(a.addr, a.prefix);
        if let Some(b) = a.broadcast {
            let _ = write!(s, " brd {b}");
        }
        let dev = a.dev.clone().unwrap_or_else(|| self.ifname.clone());
        let _ = write!(s, " dev {dev}");
        if a.dev.is_none() && self.vmac.is_some() {
            let _ = write!(s, "@{}", self.base_ifname);
        }
        if a.use_vmac {
            s.push_str(" use_vmac");
        }
        let _ = write!(s, " scope {}", scope_name(a.scope));
        if let Some(l) = &a.label {
            let _ = write!(s, " label {l}");
        }
        if let Some(p) = a.peer {
            let _ = write!(s, " peer {p}/{}", a.prefix);
        }
        for (on, word) in [
            (a.home, " home"),
            (a.nodad, " -nodad"),
            (a.mngtmpaddr, " mngtmpaddr"),
            (a.noprefixroute, " noprefixroute"),
            (a.autojoin, " autojoin"),
            (a.no_track, " no_track"),
        ] {
            if on {
                s.push_str(word);
            }
        }
        if a.addr.is_ipv6() {
            s.push_str(match a.preferred_lft {
                Some(keepalived_config::model::ip::Lifetime::Secs(0)) => " deprecated",
                Some(keepalived_config::model::ip::Lifetime::Secs(_)) | None => " preferred_lft forever",
                Some(keepalived_config::model::ip::Lifetime::Forever) => " preferred_lft forever",
            });
        }
        if self.inst.vipset {
            s.push_str(" set");
        }
        if self.blocked {
            s.push_str(" nftable_set");
        }
        s
    }

    fn vips(&self) -> Vec<String> {
        self.cfg.map(|c| c.vips.iter().map(|a| self.addr_line(a)).collect()).unwrap_or_default()
    }

    fn evips(&self) -> Vec<String> {
        self.cfg.map(|c| c.evips.iter().map(|a| self.addr_line(a)).collect()).unwrap_or_default()
    }

    fn tracked(&self, kind: TrackKind) -> impl Iterator<Item = &keepalived_vrrp::TrackRef> {
        self.inst.config.trackers.iter().filter(move |t| t.kind == kind)
    }

    fn auth_type(&self) -> u8 {
        match self.inst.config.auth {
            AuthConfig::None => 0,
            AuthConfig::Pass(_) => 1,
            AuthConfig::Ah => 2,
        }
    }

    fn password(&self) -> Option<String> {
        match self.inst.config.auth {
            AuthConfig::Pass(p) => Some(String::from_utf8_lossy(&p).trim_end_matches('\0').to_string()),
            AuthConfig::Ah => self.cfg.and_then(|c| c.auth_pass.clone()),
            AuthConfig::None => None,
        }
    }
}

/// keepalived's format_iproute (the common keywords).
fn route_line(r: &Route) -> String {
    let mut s = match r.mode {
        RouteMode::Add => "add ",
        RouteMode::Append => "append ",
        RouteMode::Prepend => "prepend ",
    }
    .to_string();
    s.push_str(&if r.dst.default { "default".to_string() } else { addr_str(r.dst.addr, r.dst.prefix) });
    if let Some(f) = &r.from {
        let _ = write!(s, " from {}", addr_str(f.addr, f.prefix));
    }
    if let Some(p) = r.pref_src {
        let _ = write!(s, " src {p}");
    }
    if let Some(t) = r.tos {
        let _ = write!(s, " tos {t}");
    }
    if let Some(v) = r.via {
        let _ = write!(s, " via {} {v}", if v.is_ipv6() { "inet6" } else { "inet" });
    }
    if let Some(d) = &r.dev {
        let _ = write!(s, " dev {d}");
    }
    if r.table != 254 {
        let _ = write!(s, " table {}", r.table);
    }
    let _ = write!(s, " proto {}", r.protocol.unwrap_or(18));
    if let Some(sc) = r.scope {
        let _ = write!(s, " scope {}", scope_name(Some(sc)));
    }
    if let Some(m) = r.metric {
        let _ = write!(s, " metric {m}");
    }
    if r.onlink {
        s.push_str(" onlink");
    }
    if r.no_track || r.dev.is_none() {
        s.push_str(" no_track");
    }
    s
}

/// keepalived's format_iprule.
fn rule_line(r: &Rule) -> String {
    let mut s = String::new();
    if r.from.is_none() && r.to.is_none() && r.family == Family::Inet6 {
        s.push_str("inet6 ");
    }
    if r.invert {
        s.push_str("not ");
    }
    match &r.from {
        Some(f) => {
            let _ = write!(s, "from {}", addr_str(f.addr, f.prefix));
        }
        None => s.push_str("from all"),
    }
    if let Some(t) = &r.to {
        let _ = write!(s, " to {}", addr_str(t.addr, t.prefix));
    }
    if r.preference != 0 || r.auto_preference {
        let _ = write!(s, " priority {}", r.preference);
    }
    let _ = write!(s, " tos 0x{:x}", r.tos.unwrap_or(0));
    rule_matches(&mut s, r);
    let _ = match r.action {
        RuleAction::Table(t) => write!(s, " lookup {t}"),
        RuleAction::Goto(t) => write!(s, " goto {t}"),
        RuleAction::Nop => write!(s, " nop"),
        RuleAction::Blackhole => write!(s, " type blackhole"),
        RuleAction::Unreachable => write!(s, " type unreachable"),
        RuleAction::Prohibit => write!(s, " type prohibit"),
    };
    if r.no_track {
        s.push_str(" no_track");
    }
    if let Some(g) = &r.track_group {
        let _ = write!(s, " track_group {g}");
    }
    s
}

/// format_iprule's selectors between `tos` and the action.
fn rule_matches(s: &mut String, r: &Rule) {
    if r.fwmark.is_some() || r.fwmask.is_some() {
        let _ = write!(s, " fwmark 0x{:x}", r.fwmark.unwrap_or(0));
        if let Some(m) = r.fwmask.filter(|m| *m != 0xffff_ffff) {
            let _ = write!(s, "/0x{m:x}");
        }
    }
    if let Some(i) = &r.iif {
        let _ = write!(s, " iif {i}");
    }
    if let Some(o) = &r.oif {
        let _ = write!(s, " oif {o}");
    }
    if let Some(p) = r.suppress_prefixlength {
        let _ = write!(s, " suppress_prefixlen {p}");
    }
    if let Some(g) = r.suppress_ifgroup {
        let _ = write!(s, " suppress_ifgroup {g}");
    }
    if let Some(t) = r.tunnel_id.filter(|t| *t != 0) {
        let _ = write!(s, " tunnel-id {t}");
    }
    if let Some((a, b)) = r.uidrange {
        let _ = write!(s, " uidrange {a}-{b}");
    }
    if r.l3mdev {
        s.push_str(" l3mdev");
    }
    let proto = r.protocol.or((!r.no_track).then_some(18));
    if let Some(p) = proto {
        let _ = write!(s, " protocol {p}");
    }
    if let Some(p) = r.ipproto {
        let _ = write!(s, " ipproto {p}");
    }
    if let Some((a, b)) = r.sport {
        let _ = write!(s, " sport {a}-{b}");
    }
    if let Some((a, b)) = r.dport {
        let _ = write!(s, " dport {a}-{b}");
    }
    if let Some(r) = r.realms.filter(|r| *r != 0) {
        let _ = write!(s, " realms {}/{}", r >> 16, r & 0xffff);
    }
}

impl VrrpShell {
    fn views<'a>(&'a self, cfg: &'a VrrpConfig) -> Vec<View<'a>> {
        self.router
            .instances()
            .iter()
            .enumerate()
            .map(|(i, inst)| {
                let m = self.metas.get(i);
                let c = cfg.instances.iter().find(|c| c.name == inst.config.name);
                let vmac = m.and_then(|m| m.vmac.as_ref()).map(|v| v.name.clone());
                let base = inst.config.interface.clone().unwrap_or_default();
                View {
                    inst,
                    cfg: c,
                    scripts: &cfg.scripts,
                    ifname: vmac.clone().unwrap_or_else(|| base.clone()),
                    base_ifname: base,
                    vmac,
                    src: m.and_then(|m| m.src).or(inst.primary_addr),
                    last_transition: inst.last_transition.as_ref().map_or(UNIX_EPOCH, |t| self.wall_time(t.at)),
                    sock: self.sock_of(i),
                    blocked: m.is_some_and(|m| m.block) && self.firewall.is_some(),
                }
            })
            .collect()
    }

    /// The socket instance `i` sends and receives on (one descriptor for
    /// both: keepalived has a pair, fd_in and fd_out).
    fn sock_of(&self, i: usize) -> Option<(usize, i32)> {
        use std::os::fd::AsRawFd;
        let m = self.metas.get(i)?;
        let k = if m.ipv6 {
            *self.tx6.get(&m.ifindex)?
        } else {
            let proto = if matches!(m.auth, AuthConfig::Ah) {
                keepalived_wire::ip_proto::AH
            } else {
                keepalived_wire::ip_proto::VRRP
            };
            *self.tx4.get(&(m.ifindex, proto, !m.peers.is_empty()))?
        };
        match self.socks.get(k)? {
            super::Sock::V4(s) => Some((k, s.as_raw_fd())),
            super::Sock::V6(s) => Some((k, s.as_raw_fd())),
            _ => None,
        }
    }

    /// keepalived's dump_sock_pool: one entry per socket, in the order of
    /// their first instance.
    /// The receive buffer size socket `k` was opened with.
    fn rcvbuf_of(&self, k: usize) -> usize {
        match self.socks.get(k) {
            Some(super::Sock::V4(s)) => s.rcvbuf(),
            Some(super::Sock::V6(s)) => s.rcvbuf(),
            _ => 0,
        }
    }

    fn sockpool_lines(&self, s: &mut String, views: &[View<'_>]) {
        let mut seen: Vec<(usize, i32)> = Vec::new();
        for v in views {
            if let Some(k) = v.sock.filter(|k| !seen.contains(k)) {
                seen.push(k);
            }
        }
        if seen.is_empty() {
            return;
        }
        let _ = writeln!(s, "------< VRRP Sockpool >------");
        for (k, fd) in seen {
            let users: Vec<&View<'_>> = views.iter().filter(|v| v.sock.map(|x| x.0) == Some(k)).collect();
            let Some(first) = users.first() else { continue };
            let c = &first.inst.config;
            let _ = writeln!(s, " fd_in {fd} fd_out = {fd}\n   Interface = {}", first.ifname);
            let _ = writeln!(s, "   Family = {}", if c.ipv6 { "IPv6" } else { "IPv4" });
            let ah = matches!(c.auth, AuthConfig::Ah);
            let _ = writeln!(s, "   Protocol = {}", if ah { "AH" } else { "VRRP" });
            let _ = writeln!(s, "   Type = {}", if c.unicast { "Unicast" } else { "Multicast" });
            if let Some(a) = c.unicast.then_some(first.src).flatten() {
                let _ = writeln!(s, "   Address = {a}");
            }
            let _ = writeln!(s, "   Rx buf size = {}\n   VRRP instances", self.rcvbuf_of(k));
            for u in users {
                let _ = writeln!(s, "     {} vrid {}", u.inst.config.name, u.inst.config.vrid);
            }
        }
    }

    /// keepalived 2.2.7's `/tmp/keepalived.json`: an array of `{ "data":
    /// …, "stats": … }` (vrrp_json.c). With `json_version 2` (keepalived
    /// after 2.2.7) the same array is the `vrrp` member of an object.
    pub fn dump_json(&self, cfg: &keepalived_config::Config) -> String {
        let list: Vec<String> = self.views(&cfg.vrrp).iter().map(json_entry).collect();
        // keepalived's json_writer escapes '/' (which only strings hold).
        let array = format!("[{}]", list.join(",")).replace('/', "\\/");
        if cfg.global.json_version == 2 {
            format!("{{\"vrrp\":{array}}}")
        } else {
            array
        }
    }

    /// keepalived 2.2.7's VRRP data dump (dump_data_vrrp): the global
    /// definitions, then the VRRP sections (dump_vrrp_data).
    pub fn dump_data(&self, cfg: &keepalived_config::Config) -> String {
        let facts = crate::global_dump::GlobalFacts {
            root: &cfg.root,
            nft_table: self.firewall.as_ref().map(|f| f.table().to_string()),
            script_ids: keepalived_runtime::script::default_script_ids(
                &self.script_opts,
                cfg.global.enable_script_security,
            )
            .map(|i| (i.uid, i.gid)),
            vrrp_process: true,
        };
        let mut s = crate::global_dump::global_data(&cfg.global, &facts);
        let views = self.views(&cfg.vrrp);
        let _ = writeln!(s, "------< VRRP Topology >------");
        for v in &views {
            self.instance_lines(&mut s, v);
        }
        self.sockpool_lines(&mut s, &views);
        self.group_lines(&mut s, &cfg.vrrp);
        self.script_lines(&mut s, &cfg.vrrp, &views);
        s
    }

    fn group_lines(&self, s: &mut String, cfg: &VrrpConfig) {
        let groups = &cfg.sync_groups;
        if groups.is_empty() {
            return;
        }
        let _ = writeln!(s, "------< VRRP Sync groups >------");
        for (g, grp) in groups.iter().enumerate() {
            let st = self.router.group_state(g).unwrap_or(State::Init);
            let members: Vec<&keepalived_vrrp::Instance> =
                self.router.instances().iter().filter(|i| i.config.sync_group == Some(g)).collect();
            let faults = members.iter().filter(|i| i.fault).count();
            let init = members.iter().filter(|i| i.script_init).count();
            let _ = writeln!(s, " VRRP Sync Group = {}, {}", grp.name, st.name());
            let _ = writeln!(s, "   Num member fault {faults}, num member init {init}");
            let _ = writeln!(s, "   VRRP member instances :");
            for m in members {
                let _ = writeln!(s, "     {}", m.config.name);
            }
            if grp.tracking_weight {
                let _ = writeln!(s, "   sync group tracking weight set");
            }
            let _ = writeln!(s, "   Using smtp notification = {}", yes_no(grp.smtp_alert.unwrap_or(false)));
            if let Some(n) = grp.notify_priority_changes {
                let _ = writeln!(s, "   Notify priority changes = {}", yes_no(n));
            }
            let ifs = grp.track_interfaces.iter().map(|t| weighted(&t.name, t.weight));
            block(s, "Tracked interfaces", ifs.collect());
            block(s, "Tracked scripts", grp.track_scripts.iter().map(|t| weighted(&t.name, t.weight)).collect());
            block(s, "Tracked files", grp.track_files.iter().map(|t| weighted(&t.name, t.weight)).collect());
            block(s, "Tracked process", grp.track_processes.iter().map(|t| weighted(&t.name, t.weight)).collect());
            let ids = self.script_ids();
            notify_lines(s, &ids, &[("Backup", grp.notify_backup.as_ref()), ("Master", grp.notify_master.as_ref())]);
            notify_lines(
                s,
                &ids,
                &[
                    ("Fault", grp.notify_fault.as_ref()),
                    ("Stop", grp.notify_stop.as_ref()),
                    ("Generic", grp.notify.as_ref()),
                ],
            );
        }
    }

    fn script_lines(&self, s: &mut String, cfg: &VrrpConfig, views: &[View<'_>]) {
        let used: Vec<_> = cfg
            .scripts
            .iter()
            .filter(|sc| views.iter().any(|v| v.tracked(TrackKind::Script).any(|t| t.name == sc.name)))
            .collect();
        if used.is_empty() {
            return;
        }
        let _ = writeln!(s, "------< VRRP Scripts >------");
        for sc in used {
            let (result, init) = self.router.script_state(&sc.name).unwrap_or((0, true));
            let rise = sc.rise.max(1);
            let _ = writeln!(s, " VRRP Script = {}", sc.name);
            let cmd = sc.script.as_ref().map(|c| cmd_str(&c.args)).unwrap_or_default();
            let _ = writeln!(s, "   Command = {cmd}");
            let _ = writeln!(s, "   Interval = {} sec", sc.interval_us / 1_000_000);
            let _ = writeln!(s, "   Timeout = {} sec", sc.timeout_us.unwrap_or(0) / 1_000_000);
            let rev = if sc.weight.reverse { " reverse" } else { "" };
            let _ = writeln!(s, "   Weight = {}{rev}", sc.weight.weight);
            let _ = writeln!(s, "   Rise = {rise}\n   Fall = {}", sc.fall.max(1));
            let _ = writeln!(s, "   Result = {result}\n   Insecure = no");
            let _ = writeln!(s, "   Init state = {}", if init { "INIT" } else { "unknown" });
            let _ = writeln!(s, "   Status = {}", if result >= rise { "GOOD" } else { "BAD" });
            let _ = writeln!(s, "   Script uid:gid = {}", self.script_ids());
            let _ = writeln!(s, "   VRRP instances :\n   Tracking instances :");
            for v in views {
                for t in v.tracked(TrackKind::Script).filter(|t| t.name == sc.name) {
                    let _ = writeln!(s, "     {}, weight {}{}", v.inst.config.name, t.weight, reverse(t.reverse));
                }
            }
            let running = self.track_scripts.iter().any(|t| t.name == sc.name && t.running.is_some());
            let _ = writeln!(s, "   State = {}", if running { "running" } else { "idle" });
        }
    }

    fn script_ids(&self) -> String {
        let ids = self.script_opts.default_ids.as_ref();
        ids.map_or_else(|| "0:0".to_string(), |i| format!("{}:{}", i.uid, i.gid))
    }

    fn instance_lines(&self, s: &mut String, v: &View<'_>) {
        head_lines(s, v);
        timer_lines(s, v, self.now());
        iface_lines(s, v);
        garp_lines(s, v);
        prio_lines(s, v);
        list_lines(s, v);
        notify_tail(s, v, &self.script_ids());
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn reverse(r: bool) -> &'static str {
    if r {
        " reverse"
    } else {
        ""
    }
}

fn enabled(b: bool) -> &'static str {
    if b {
        "enabled"
    } else {
        "disabled"
    }
}

/// keepalived's ctime_us_r: `Wed Dec  2 19:32:13.411246 2026` (local time).
fn ctime_us(t: SystemTime) -> String {
    let (_, us) = secs(t);
    let dt = crate::logging::local_time(t);
    format!("{}.{us:06} {}", dt.strftime("%a %b %e %H:%M:%S"), dt.strftime("%Y"))
}

fn head_lines(s: &mut String, v: &View<'_>) {
    let i = v.inst;
    let c = &i.config;
    let _ = writeln!(s, " VRRP Instance = {}\n   VRRP Version = {}", c.name, c.version);
    if let Some(g) = v.cfg.and_then(|c| c.sync_group.as_ref()) {
        let _ = writeln!(s, "   Sync group = {g}");
    }
    if c.ipv6 {
        let _ = writeln!(s, "   Using Native IPv6");
    }
    let _ = writeln!(s, "   State = {}", i.state.name());
    if i.state == State::Backup {
        let master = i.master_saddr.map_or_else(|| "(none)".to_string(), |a| a.to_string());
        let _ = writeln!(s, "   Master router = {master}\n   Master priority = {}", i.master_priority);
        if c.version == 3 {
            let _ = writeln!(s, "   Master advert int = {:.2} sec", i.master_adver_int_us as f64 / 1e6);
        }
    }
    flag_lines(s, v);
    let _ = writeln!(s, "   Wantstate = {}", i.wantstate.name());
    let _ = writeln!(s, "   Number of config faults = 0");
    let _ = writeln!(s, "   Number of interface and track script faults = {}", u8::from(i.fault));
    let _ = writeln!(s, "   Number of track scripts init = {}", u8::from(i.script_init));
}

fn flag_lines(s: &mut String, v: &View<'_>) {
    let c = &v.inst.config;
    let promote = v.cfg.is_some_and(|c| c.promote_secondaries);
    let any = v.vmac.is_some()
        || c.nopreempt
        || c.unicast
        || c.unicast_fault_no_peer
        || c.dont_track_primary
        || c.skip_check_adv_addr
        || promote;
    if !any {
        let _ = writeln!(s, "   Flags: none");
        return;
    }
    let _ = writeln!(s, "   Flags:");
    if c.unicast {
        let _ = writeln!(s, "     Using unicast");
    }
    if c.unicast_fault_no_peer {
        let _ = writeln!(s, "     If unicast go to fault state if no peers");
    }
}

fn timer_lines(s: &mut String, v: &View<'_>, now: keepalived_vrrp::Instant) {
    let i = v.inst;
    let (sec, us) = secs(v.last_transition);
    let _ = writeln!(s, "   Last transition = {sec}.{us:06} ({})", ctime_us(v.last_transition));
    match i.sands {
        Some(t) => {
            let wall = SystemTime::now() + std::time::Duration::from_micros(t.0.saturating_sub(now.0));
            let (sec, us) = secs(wall);
            let _ = writeln!(s, "   Read timeout = {sec}.{us:06} ({})", ctime_us(wall));
        }
        None => {
            let _ = writeln!(s, "   Read timeout = DISABLED");
        }
    }
    let _ = writeln!(s, "   Master down timer = {} usecs", i.ms_down_timer_us);
}

/// keepalived's `Use IPVLAN` and `Interface = X, ipvlan on BASE` lines.
fn ipvlan_lines(s: &mut String, vm: &str, ip: &keepalived_config::model::vrrp::Ipvlan, base: &str) {
    let addr = match ip.addr {
        Some(a) => {
            let host = if a.is_ipv6() { 128 } else { 32 };
            match ip.prefix.filter(|p| *p != host) {
                Some(p) => format!(", i/f address = {a}/{p}"),
                None => format!(", i/f address = {a}"),
            }
        }
        None => String::new(),
    };
    let kind = ip.mode.as_deref().unwrap_or("bridge");
    let _ = writeln!(s, "   Use IPVLAN, i/f {vm}, is_up = true{addr}, type {kind}");
    let _ = writeln!(s, "   Interface = {vm}, ipvlan on {base}");
}

fn iface_lines(s: &mut String, v: &View<'_>) {
    let c = &v.inst.config;
    if let (Some(vm), Some(ip)) = (&v.vmac, v.cfg.and_then(|c| c.use_ipvlan.as_ref())) {
        ipvlan_lines(s, vm, ip, &v.base_ifname);
    } else if let Some(vm) = &v.vmac {
        let xmit = v.cfg.is_some_and(|c| c.vmac_xmit_base);
        let _ = writeln!(s, "   Use VMAC, i/f name {vm}, is_up = true, xmit_base = {xmit}");
        let xb = if xmit { ", xmit base i/f" } else { "" };
        let _ = writeln!(s, "   Interface = {vm}, vmac on {}{xb}", v.base_ifname);
    } else {
        let name = if v.ifname.is_empty() { "not configured" } else { &v.ifname };
        let _ = writeln!(s, "   Interface = {name}");
    }
    if c.dont_track_primary {
        let _ = writeln!(s, "   VRRP interface tracking disabled");
    }
    if c.skip_check_adv_addr {
        let _ = writeln!(s, "   Skip checking advert IP addresses");
    }
    if c.strict {
        let _ = writeln!(s, "   Enforcing strict VRRP compliance");
    }
    let from = if c.src_ip.is_some() { " (from configuration)" } else { "" };
    let src = v.src.map_or_else(|| "(none)".to_string(), |a| a.to_string());
    let _ = writeln!(s, "   Using src_ip = {src}{from}");
    if !c.unicast {
        let group = v
            .cfg
            .and_then(|c| c.mcast_dst_ip)
            .map_or_else(|| if c.ipv6 { "ff02::12".to_string() } else { "224.0.0.18".to_string() }, |a| a.to_string());
        let _ = writeln!(s, "   Multicast address {group}");
    }
}

fn garp_lines(s: &mut String, v: &View<'_>) {
    let c = &v.inst.config;
    let _ = writeln!(s, "   Gratuitous ARP delay = {}", c.garp_master_delay_us / 1_000_000);
    let _ = writeln!(s, "   Gratuitous ARP repeat = {}", c.garp_master_repeat);
    let _ = writeln!(s, "   Gratuitous ARP refresh = {}", c.garp_master_refresh_us / 1_000_000);
    let _ = writeln!(s, "   Gratuitous ARP refresh repeat = {}", c.garp_master_refresh_repeat);
    let _ = writeln!(s, "   Gratuitous ARP lower priority delay = {}", c.garp_lower_prio_delay_us / 1_000_000);
    let _ = writeln!(s, "   Gratuitous ARP lower priority repeat = {}", c.garp_lower_prio_repeat);
    let _ = writeln!(s, "   Down timer adverts = {}", c.down_timer_adverts);
    let _ = writeln!(s, "   Send advert after receive lower priority advert = {}", !c.lower_prio_no_advert);
    let _ = writeln!(s, "   Send advert after receive higher priority advert = {}", c.higher_prio_send_advert);
}

fn prio_lines(s: &mut String, v: &View<'_>) {
    let i = v.inst;
    let c = &i.config;
    let _ = writeln!(s, "   Virtual Router ID = {}\n   Priority = {}", c.vrid, c.priority);
    let _ = writeln!(s, "   Effective priority = {}\n   Total priority = {}", i.effective_priority, i.total_priority);
    if c.version == 2 {
        let _ = writeln!(s, "   Advert interval = {} sec", c.advert_int_us / 1_000_000);
    } else {
        let _ = writeln!(s, "   Advert interval = {} milli-sec", c.advert_int_us / 1000);
        if i.state == State::Backup {
            let _ = writeln!(s, "   Master advert interval = {} milli-sec", i.master_adver_int_us / 1000);
        }
    }
    let _ = writeln!(s, "   Accept = {}\n   Preempt = {}", enabled(c.accept), enabled(!c.nopreempt));
    if c.preempt_delay_us > 0 {
        let _ = writeln!(s, "   Preempt delay = {} secs", c.preempt_delay_us as f64 / 1e6);
    }
    let _ = writeln!(s, "   Promote_secondaries = {}", enabled(v.cfg.is_some_and(|c| c.promote_secondaries)));
    match v.auth_type() {
        0 if c.version == 2 => {
            let _ = writeln!(s, "   Authentication type = none");
        }
        0 => {}
        2 => {
            let _ = writeln!(s, "   Authentication type = IPSEC_AH");
        }
        _ => {
            let _ = writeln!(s, "   Authentication type = SIMPLE_PASSWORD");
            let _ = writeln!(s, "   Password = {}", v.password().unwrap_or_default());
        }
    }
    if let Some(n) = v.cfg.and_then(|c| c.kernel_rx_buf_size).filter(|n| *n != 0) {
        let _ = writeln!(s, "   Kernel rx buffer size = {n}");
    }
}

fn list_lines(s: &mut String, v: &View<'_>) {
    let vips = v.vips();
    if !vips.is_empty() {
        let _ = writeln!(s, "   Virtual IP ({}):", vips.len());
        for a in vips {
            let _ = writeln!(s, "     {a}");
        }
    }
    let evips = v.evips();
    if !evips.is_empty() {
        let _ = writeln!(s, "   Virtual IP Excluded :");
        for a in evips {
            let _ = writeln!(s, "     {a}");
        }
    }
    let c = &v.inst.config;
    if c.unicast {
        unicast_lines(s, v);
    }
    match v.sock {
        Some((_, fd)) => {
            let _ = writeln!(s, "   fd_in {fd}, fd_out {fd}");
        }
        None => {
            let _ = writeln!(s, "   No sockets allocated");
        }
    }
    if let Some(cfg) = v.cfg {
        block(s, "Virtual Routes", cfg.vroutes.iter().map(route_line).collect());
        block(s, "Virtual Rules", cfg.vrules.iter().map(rule_line).collect());
    }
    let ifs = v.tracked(TrackKind::Interface).map(|t| format!("{} weight {}{}", t.name, t.weight, reverse(t.reverse)));
    block(s, "Tracked interfaces", ifs.collect());
    let scripts = v.tracked(TrackKind::Script).map(|t| format!("{} weight {}{}", t.name, t.weight, reverse(t.reverse)));
    block(s, "Tracked scripts", scripts.collect());
    let files = v.tracked(TrackKind::File).map(|t| format!("{} weight {}{}", t.name, t.weight, reverse(t.reverse)));
    block(s, "Tracked files", files.collect());
    let procs = v.tracked(TrackKind::Process).map(|t| format!("{} weight {}{}", t.name, t.weight, reverse(t.reverse)));
    block(s, "Tracked processes", procs.collect());
}

/// dump_vrrp's unicast part and dump_unicast_peer_list.
fn unicast_lines(s: &mut String, v: &View<'_>) {
    let c = &v.inst.config;
    let ttl = v.cfg.and_then(|c| c.unicast_ttl);
    if let Some(t) = ttl {
        let _ = writeln!(s, "   Unicast TTL = {t}");
    }
    let _ = writeln!(s, "   Check unicast src : {}", yes_no(c.check_unicast_src));
    let _ = writeln!(s, "   Unicast Peer :");
    for p in &c.unicast_peers {
        let _ = writeln!(s, "     {} min_ttl {} max_ttl {}", p.addr, p.min_ttl, p.max_ttl);
    }
    let compat = v.cfg.and_then(|c| c.old_unicast_checksum);
    let _ = writeln!(s, "   Unicast checksum compatibility = {}", compat.map_or("no", checksum_compat));
}

fn checksum_compat(c: keepalived_config::model::vrrp::ChecksumCompat) -> &'static str {
    use keepalived_config::model::vrrp::ChecksumCompat as C;
    match c {
        C::Never => "never",
        C::Config => "config",
    }
}

fn weighted(name: &str, w: keepalived_config::model::Weight) -> String {
    format!("{name} weight {}{}", w.weight, reverse(w.reverse))
}

fn block(s: &mut String, title: &str, lines: Vec<String>) {
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(s, "   {title} :");
    for l in lines {
        let _ = writeln!(s, "     {l}");
    }
}

type NotifySlot<'a> = (&'a str, Option<&'a keepalived_config::model::Script>);

/// keepalived's dump_notify_script.
/// keepalived's dump_notify_script; `ids` is the default script user's
/// uid:gid (a script's own `user` is not resolved here: docs/compat.md).
fn notify_lines(s: &mut String, ids: &str, slots: &[NotifySlot<'_>]) {
    for (what, script) in slots {
        if let Some(sc) = script {
            let _ = writeln!(s, "   {what} state transition script = {}, uid:gid {ids}", cmd_str(&sc.args));
        }
    }
}

fn notify_tail(s: &mut String, v: &View<'_>, ids: &str) {
    let Some(c) = v.cfg else { return };
    let _ = writeln!(s, "   Using smtp notification = {}", yes_no(c.smtp_alert.unwrap_or(false)));
    let _ = writeln!(s, "   Notify deleted = {}", if c.notify_deleted { "Deleted" } else { "Fault" });
    notify_lines(
        s,
        ids,
        &[
            ("Backup", c.notify_backup.as_deref()),
            ("Master", c.notify_master.as_deref()),
            ("Fault", c.notify_fault.as_deref()),
        ],
    );
    notify_lines(
        s,
        ids,
        &[
            ("Stop", c.notify_stop.as_deref()),
            ("Deleted", c.notify_deleted_script.as_deref()),
            ("Generic", c.notify.as_deref()),
        ],
    );
    notify_lines(s, ids, &[("Master rx lower pri", c.notify_master_rx_lower_pri.as_deref())]);
    let npc = v.inst.config.notify_priority_changes;
    let _ = writeln!(s, "   Notify priority changes = {npc}");
}

/// One element of the JSON array: keepalived's vrrp_json_data_dump and
/// vrrp_json_stats_dump, key for key and type for type.
fn json_entry(v: &View<'_>) -> String {
    let mut d = json_core(v);
    json_scripts(&mut d, v);
    json_lists(&mut d, v);
    d.insert("auth_type", json!(v.auth_type()));
    if let Some(p) = v.password().filter(|_| v.auth_type() != 0) {
        d.insert("auth_data", json!(p));
    }
    format!("{{\"data\":{},\"stats\":{}}}", d.text(), json_stats(&v.inst.stats).text())
}

/// A JSON object written in insertion order, as keepalived's json_writer
/// does (serde_json's map would sort the keys).
#[derive(Default)]
struct Obj(Vec<(String, String)>);

impl Obj {
    fn insert(&mut self, k: &str, v: Value) {
        self.0.push((k.to_string(), v.to_string()));
    }

    fn raw(&mut self, k: &str, text: String) {
        self.0.push((k.to_string(), text));
    }

    fn text(&self) -> String {
        let fields: Vec<String> = self.0.iter().map(|(k, v)| format!("{}:{v}", Value::from(k.as_str()))).collect();
        format!("{{{}}}", fields.join(","))
    }
}

fn json_core(v: &View<'_>) -> Obj {
    let i = v.inst;
    let c = &i.config;
    let (sec, us) = secs(v.last_transition);
    let mut d = Obj::default();
    d.insert("iname", json!(c.name));
    d.insert("dont_track_primary", json!(u8::from(c.dont_track_primary)));
    d.insert("skip_check_adv_addr", json!(u8::from(c.skip_check_adv_addr)));
    d.insert("strict_mode", json!(u8::from(c.strict)));
    d.insert("vmac_ifname", json!(v.vmac.clone().unwrap_or_default()));
    if !v.ifname.is_empty() {
        d.insert("ifp_ifname", json!(v.ifname));
    }
    d.insert("master_priority", json!(i.master_priority));
    // keepalived writes it with "%f".
    d.raw("last_transition", format!("{sec}.{us:06}"));
    d.insert("garp_delay", float(c.garp_master_delay_us as f64 / 1e6));
    d.insert("garp_refresh", json!(c.garp_master_refresh_us / 1_000_000));
    d.insert("garp_rep", json!(c.garp_master_repeat));
    d.insert("garp_refresh_rep", json!(c.garp_master_refresh_repeat));
    d.insert("garp_lower_prio_delay", json!(c.garp_lower_prio_delay_us / 1_000_000));
    d.insert("garp_lower_prio_rep", json!(c.garp_lower_prio_repeat));
    d.insert("lower_prio_no_advert", json!(u8::from(c.lower_prio_no_advert)));
    d.insert("higher_prio_send_advert", json!(u8::from(c.higher_prio_send_advert)));
    d.insert("vrid", json!(c.vrid));
    d.insert("base_priority", json!(c.priority));
    d.insert("effective_priority", json!(i.effective_priority));
    d.insert("vipset", json!(i.vipset));
    d.insert("promote_secondaries", json!(v.cfg.is_some_and(|c| c.promote_secondaries)));
    d.insert("adver_int", float(c.advert_int_us as f64 / 1e6));
    d.insert("master_adver_int", float(i.master_adver_int_us as f64 / 1e6));
    d.insert("accept", json!(u8::from(c.accept)));
    d.insert("nopreempt", json!(c.nopreempt));
    d.insert("preempt_delay", json!(c.preempt_delay_us / 1_000_000));
    d.insert("state", json!(state_num(i.state)));
    d.insert("wantstate", json!(state_num(i.wantstate)));
    d.insert("version", json!(c.version));
    d.insert("smtp_alert", json!(v.cfg.is_some_and(|c| c.smtp_alert.unwrap_or(false))));
    d.insert("notify_deleted", json!(v.cfg.is_some_and(|c| c.notify_deleted)));
    d
}

/// keepalived's json_writer prints doubles in their shortest form: whole
/// numbers without a fraction (`"adver_int":1`), as Rust's Display does.
fn float(x: f64) -> Value {
    serde_json::from_str(&x.to_string()).unwrap_or(Value::Null)
}

fn json_scripts(d: &mut Obj, v: &View<'_>) {
    let Some(c) = v.cfg else { return };
    for (k, sc) in [
        ("script_backup", &c.notify_backup),
        ("script_master", &c.notify_master),
        ("script_fault", &c.notify_fault),
        ("script_stop", &c.notify_stop),
        ("script_deleted", &c.notify_deleted_script),
        ("script", &c.notify),
        ("script_master_rx_lower_pri", &c.notify_master_rx_lower_pri),
    ] {
        if let Some(sc) = sc {
            d.insert(k, json!(cmd_str(&sc.args)));
        }
    }
}

fn json_lists(d: &mut Obj, v: &View<'_>) {
    let mut arr = |k: &str, list: Vec<String>| {
        if !list.is_empty() {
            d.insert(k, json!(list));
        }
    };
    arr("vips", v.vips());
    arr("evips", v.evips());
    arr("vroutes", v.cfg.map(|c| c.vroutes.iter().map(route_line).collect()).unwrap_or_default());
    arr("vrules", v.cfg.map(|c| c.vrules.iter().map(rule_line).collect()).unwrap_or_default());
    arr("track_ifp", v.tracked(TrackKind::Interface).map(|t| t.name.clone()).collect());
    let cmd = |name: &str| -> String {
        let sc = v.scripts.iter().find(|s| s.name == name).and_then(|s| s.script.as_ref());
        sc.map(|c| cmd_str(&c.args)).unwrap_or_default()
    };
    let scripts: Vec<String> = v.tracked(TrackKind::Script).map(|t| cmd(&t.name)).collect();
    arr("track_script", scripts);
}

fn json_stats(t: &keepalived_vrrp::Stats) -> Obj {
    let mut o = Obj::default();
    for (k, n) in [
        ("advert_rcvd", t.advert_rcvd),
        ("advert_sent", t.advert_sent),
        ("become_master", t.become_master),
        ("release_master", t.release_master),
        ("packet_len_err", t.packet_len_err),
        ("advert_interval_err", t.advert_interval_err),
        ("ip_ttl_err", t.ip_ttl_err),
        ("invalid_type_rcvd", t.invalid_type_rcvd),
        ("addr_list_err", t.addr_list_err),
        ("invalid_authtype", t.invalid_authtype),
        ("authtype_mismatch", t.authtype_mismatch),
        ("auth_failure", t.auth_failure),
        ("pri_zero_rcvd", t.pri_zero_rcvd),
        ("pri_zero_sent", t.pri_zero_sent),
    ] {
        o.insert(k, json!(n));
    }
    o
}
