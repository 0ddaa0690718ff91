//! The checker section of the SIGUSR1 data file (`/tmp/keepalived_check.data`)
//! in keepalived 2.2.7's layout (check/check_data.c `dump_check_data`,
//! `dump_vsg`, `dump_vs`, `dump_rs`, `dump_forwarding_method`;
//! check/check_api.c `dump_checkers_queue`, `dump_checker`,
//! `dump_connection_opts`; the checkers' own `dump_*_check`;
//! trackers/track_file.c `dump_track_file`), with the live state from the
//! engine. The reference output of the real 2.2.7 is
//! testdata/check_dump/keepalived_check.data (see the test).
//!
//! What the engine does not expose is written as keepalived writes it
//! before any reload: `reloaded` flags are 0, the previous effective weight
//! 0, a MISC_CHECK's last run is the epoch.

use keepalived_check::{CheckerConfig, CheckerId, Engine, Policy, RsId, VsId};
use keepalived_config::lvs::model as m;
use keepalived_config::Config;
use keepalived_runtime::script::{cmd_str, script_ids, ScriptRunOpts};
use std::fmt::Write as _;
use std::net::IpAddr;

/// keepalived's `IP_VS_VERSION_CODE` at build time (Debian's 2.2.7: 1.2.1).
const LVS_VERSION: &str = "1.2.1";

/// The lines being written.
struct Out(String);

impl Out {
    fn line(&mut self, args: std::fmt::Arguments<'_>) {
        let _ = self.0.write_fmt(args);
        self.0.push('\n');
    }
}

macro_rules! w {
    ($o:expr, $($arg:tt)*) => { $o.line(format_args!($($arg)*)) };
}

/// What the dump reads.
struct Ctx<'a> {
    cfg: &'a Config,
    engine: &'a Engine,
    opts: ScriptRunOpts,
}

/// The checker section of keepalived's data file.
pub fn check_data(cfg: &Config, engine: &Engine) -> String {
    let ctx = Ctx { cfg, engine, opts: ScriptRunOpts::from_global(&cfg.global, false) };
    let mut o = Out(String::new());
    // check_ssl.c init_ssl_ctx: an SSL_GET without an SSL block gets an
    // autogen context, which the dump shows.
    if cfg.lvs.ssl.is_some() || cfg.lvs.ssl_required {
        w!(o, "------< SSL definitions >------");
        dump_ssl(&mut o, cfg.lvs.ssl.as_ref());
    }
    if !cfg.lvs.virtual_servers.is_empty() {
        w!(o, "------< LVS Topology >------");
        w!(o, " System is compiled with LVS v{LVS_VERSION}");
        for g in &cfg.lvs.groups {
            dump_vsg(&mut o, &ctx, g);
        }
        for vi in 0..cfg.lvs.virtual_servers.len() {
            dump_vs(&mut o, &ctx, VsId(vi));
        }
    }
    dump_checkers(&mut o, &ctx);
    dump_track_files(&mut o, &ctx);
    dump_track_bfds(&mut o, &ctx);
    o.0
}

fn dump_ssl(o: &mut Out, ssl: Option<&m::SslConfig>) {
    let Some(ssl) =
        ssl.filter(|s| s.password.is_some() || s.ca.is_some() || s.certificate.is_some() || s.key.is_some())
    else {
        w!(o, " Using autogen SSL context");
        return;
    };
    let fields = [
        ("Password", &ssl.password),
        ("CA-file", &ssl.ca),
        ("Certificate file", &ssl.certificate),
        ("Key file", &ssl.key),
    ];
    for (name, v) in fields {
        if let Some(v) = v {
            w!(o, " {name} : {v}");
        }
    }
}

/// `format_decimal(val, TIMER_HZ_DIGITS)`: µs as seconds with 6 decimals.
fn secs(us: u64) -> String {
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

fn on_off(b: bool) -> &'static str {
    if b {
        "ON"
    } else {
        "OFF"
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn abled(b: bool) -> &'static str {
    if b {
        "en"
    } else {
        "dis"
    }
}

// ------------------------------------------------------------------ groups

fn dump_vsg(o: &mut Out, ctx: &Ctx<'_>, g: &m::VsGroup) {
    w!(o, " ------< Virtual server group >------");
    w!(o, " Virtual Server Group = {}, IPv4 = {}, IPv6 = {}", g.name, yes_no(g.have_ipv4), yes_no(g.have_ipv6));
    // keepalived lists the address ranges, then the fwmarks.
    let ranges = g.entries.iter().filter(|e| matches!(e, m::VsgEntry::Range { .. }));
    let marks = g.entries.iter().filter(|e| matches!(e, m::VsgEntry::Fwmark { .. }));
    for e in ranges.chain(marks) {
        dump_vsg_entry(o, ctx, &g.name, e);
    }
}

/// How many alive virtual servers of group `name` use each protocol
/// (tcp, udp, sctp) and family (IPv4, IPv6): keepalived's per-entry
/// `*_alive` counters.
fn group_alive(ctx: &Ctx<'_>, name: &str) -> ([u32; 3], [u32; 2]) {
    let (mut proto, mut fam) = ([0u32; 3], [0u32; 2]);
    for (vi, vs) in ctx.cfg.lvs.virtual_servers.iter().enumerate() {
        let m::VsAddr::Group { name: g, .. } = &vs.addr else { continue };
        if g != name || !ctx.engine.vs_state(VsId(vi)).is_some_and(|s| s.alive) {
            continue;
        }
        match vs.protocol {
            Some(m::Protocol::Tcp) => proto[0] += 1,
            Some(m::Protocol::Udp) => proto[1] += 1,
            Some(m::Protocol::Sctp) => proto[2] += 1,
            None => {}
        }
        fam[usize::from(vs.af == Some(m::Family::Inet6))] += 1;
    }
    (proto, fam)
}

fn dump_vsg_entry(o: &mut Out, ctx: &Ctx<'_>, group: &str, e: &m::VsgEntry) {
    let (proto, fam) = group_alive(ctx, group);
    match e {
        m::VsgEntry::Fwmark { mark, family, .. } => {
            let f = match family {
                Some(m::Family::Inet) => " IPv4",
                Some(m::Family::Inet6) => " IPv6",
                None => "",
            };
            w!(o, "   FWMARK = {mark}{f}");
            w!(o, "     Alive: {} IPv4, {} IPv6", fam[0], fam[1]);
        }
        m::VsgEntry::Range { start, end, port, .. } => {
            if start == end {
                w!(o, "   VIP = {start}, VPORT = {port}");
            } else {
                w!(o, "   VIP Range = {start}-{end}, VPORT = {port}");
            }
            w!(o, "     Alive: {} tcp, {} udp, {} sctp", proto[0], proto[1], proto[2]);
        }
    }
    w!(o, "     reloaded = False");
}

// ------------------------------------------------------------------ virtual servers

fn dump_vs(o: &mut Out, ctx: &Ctx<'_>, id: VsId) {
    let (Some(vs), Some(ev)) = (ctx.cfg.lvs.virtual_servers.get(id.0), ctx.engine.config().vs(id)) else { return };
    w!(o, " ------< Virtual server >------");
    match &vs.addr {
        m::VsAddr::Group { .. } => w!(o, " VS GROUP = {}", ev.name),
        m::VsAddr::Fwmark(mark) => w!(o, " VS FWMARK = {mark}"),
        m::VsAddr::Ip { addr, port } => w!(o, " VS VIP = {addr}, VPORT = {port}"),
    }
    if let Some(v) = &vs.virtualhost {
        w!(o, "   VirtualHost = {v}");
    }
    if let Some(n) = &vs.snmp_name {
        w!(o, "   SNMP name = '{n}'");
    }
    w!(o, "   Address family = {}", vs_family(ctx, vs));
    w!(o, "   connection timeout = {}", secs(vs.connect_timeout));
    w!(o, "   delay_loop = {}", secs(vs.delay_loop));
    dump_vs_sched(o, vs);
    dump_vs_persistence(o, vs);
    let proto = match vs.protocol {
        Some(m::Protocol::Tcp) => "TCP",
        Some(m::Protocol::Udp) => "UDP",
        Some(m::Protocol::Sctp) => "SCTP",
        None => "none",
    };
    w!(o, "   protocol = {proto}");
    w!(o, "   alpha is {}", on_off(vs.alpha));
    w!(o, "   omega is {}", on_off(vs.omega));
    dump_retry(o, vs.retry, vs.delay_before_retry, vs.warmup);
    w!(o, "   Inhibit on failure is {}", on_off(vs.inhibit_on_failure));
    w!(o, "   quorum = {}, hysteresis = {}", vs.quorum, vs.hysteresis);
    dump_script(o, ctx, "   Quorum up notify script", vs.quorum_up.as_ref());
    dump_script(o, ctx, "   Quorum down notify script", vs.quorum_down.as_ref());
    if vs.ha_suspend {
        w!(o, "   Using HA suspend");
    }
    w!(o, "   Using smtp notification = {}", yes_no(ev.smtp_alert));
    dump_forwarding(o, "default ", vs.forwarding.as_ref());
    dump_sorry(o, vs);
    let st = ctx.engine.vs_state(id);
    w!(o, "   alive = {}", u8::from(st.is_some_and(|s| s.alive)));
    w!(o, "   quorum_state_up = {}", u8::from(st.is_some_and(|s| s.quorum_up)));
    w!(o, "   reloaded = 0");
    for ri in 0..vs.real_servers.len() {
        dump_rs(o, ctx, RsId { vs: id, rs: ri });
    }
}

fn vs_family(ctx: &Ctx<'_>, vs: &m::VirtualServer) -> &'static str {
    match vs.af {
        Some(m::Family::Inet) => "inet",
        Some(m::Family::Inet6) => "inet6",
        None => {
            let both = match &vs.addr {
                m::VsAddr::Group { name, .. } => {
                    ctx.cfg.lvs.groups.iter().any(|g| &g.name == name && g.have_ipv4 && g.have_ipv6)
                }
                _ => false,
            };
            if both {
                "IPv4 & IPv6"
            } else {
                "unknown"
            }
        }
    }
}

fn dump_vs_sched(o: &mut Out, vs: &m::VirtualServer) {
    let sched = vs.sched.as_deref().unwrap_or("wlc");
    let f = &vs.flags;
    w!(o, "   lvs_sched = {sched}");
    w!(o, "   Hashed = disabled");
    // sh-port/mh-port and flag-1 are the same IPVS bit (IP_VS_SVC_F_SCHED1), and so on.
    let (b1, b2, b3) = (f.flag_1 || f.sh_port || f.mh_port, f.flag_2 || f.sh_fallback || f.mh_fallback, f.flag_3);
    match sched {
        "sh" | "mh" => {
            w!(o, "   {sched}-port = {}abled", abled(b1));
            w!(o, "   {sched}-fallback = {}abled", abled(b2));
        }
        _ => {
            w!(o, "   flag-1 = {}abled", abled(b1));
            w!(o, "   flag-2 = {}abled", abled(b2));
            w!(o, "   flag-3 = {}abled", abled(b3));
        }
    }
    let inactive = if f.ops && vs.protocol != Some(m::Protocol::Udp) { " (inactive due to not UDP)" } else { "" };
    w!(o, "   One packet scheduling = {}abled{inactive}", abled(f.ops));
}

fn dump_vs_persistence(o: &mut Out, vs: &m::VirtualServer) {
    if vs.persistence_timeout != 0 {
        w!(o, "   persistence timeout = {}", vs.persistence_timeout);
    }
    match vs.persistence_granularity {
        Some(m::Granularity::V4(mask)) => w!(o, "   persistence granularity = {mask}"),
        Some(m::Granularity::V6(len)) => w!(o, "   persistence granularity = {len}"),
        None => {}
    }
}

/// `Retry count`, `Retry delay`, `Warmup`: only when configured at this level.
fn dump_retry(o: &mut Out, retry: Option<u32>, delay: Option<u64>, warmup: Option<u64>) {
    if let Some(r) = retry {
        w!(o, "   Retry count = {r}");
    }
    if let Some(d) = delay {
        w!(o, "   Retry delay = {}", secs(d));
    }
    if let Some(wu) = warmup {
        w!(o, "   Warmup = {}", secs(wu));
    }
}

fn dump_script(o: &mut Out, ctx: &Ctx<'_>, what: &str, s: Option<&keepalived_config::model::Script>) {
    let Some(s) = s else { return };
    let ids = script_ids(s, &ctx.opts);
    w!(o, "{what} = {}, uid:gid {}:{}", cmd_str(&s.args), ids.uid, ids.gid);
}

/// `dump_forwarding_method` (keepalived built with tunnel types).
fn dump_forwarding(o: &mut Out, prefix: &str, f: Option<&m::Forwarding>) {
    let what = "forwarding method = ";
    let Some(f) = f else {
        w!(o, "   {prefix}{what}NAT");
        return;
    };
    match f.method {
        m::FwdMethod::Nat => w!(o, "   {prefix}{what}NAT"),
        m::FwdMethod::Dr => w!(o, "   {prefix}{what}DR"),
        m::FwdMethod::Tun => dump_tunnel(o, prefix, f),
    }
}

fn dump_tunnel(o: &mut Out, prefix: &str, f: &m::Forwarding) {
    let csum = match f.tun_csum {
        m::TunCsum::NoCsum => ", no checksum",
        m::TunCsum::Csum => ", checksum",
        m::TunCsum::RemCsum => ", remote checksum",
    };
    // As 2.2.7: the GUE and GRE lines have no prefix.
    match f.tun_type {
        m::TunType::Ipip => w!(o, "   {prefix}forwarding method = TUN, type = IPIP"),
        m::TunType::Gue => w!(o, "   forwarding method = TUN, type = GUE, port = {}{csum}", f.tun_port),
        m::TunType::Gre => w!(o, "   forwarding method = TUN, type = GRE{csum}"),
    }
}

fn dump_sorry(o: &mut Out, vs: &m::VirtualServer) {
    let Some(s) = &vs.sorry_server else { return };
    let dup = if vs.sorry_server_duplicates_rs { "(duplicates rs) " } else { "" };
    w!(o, "   sorry server {dup}= {}", trio(&s.addr, vs.protocol, s.port));
    dump_forwarding(o, "  ", s.forwarding.as_ref().or(vs.forwarding.as_ref()));
    w!(o, "     Inhibit on failure is {}", on_off(s.inhibit));
}

fn trio(addr: &IpAddr, p: Option<m::Protocol>, port: u16) -> String {
    keepalived_check::names::trio(addr, p, port)
}

// ------------------------------------------------------------------ real servers

fn dump_rs(o: &mut Out, ctx: &Ctx<'_>, id: RsId) {
    let Some(vs) = ctx.cfg.lvs.virtual_servers.get(id.vs.0) else { return };
    let (Some(rs), Some(ers)) = (vs.real_servers.get(id.rs), ctx.engine.config().rs(id)) else { return };
    let st = ctx.engine.rs_state(id);
    let eff = st.map_or(ers.weight, |s| s.effective_weight);
    w!(o, "   ------< Real server >------");
    w!(
        o,
        "   RIP = {}, RPORT = {}, WEIGHT = {} EFF WEIGHT = {eff}",
        rs.addr,
        rs.port,
        keepalived_check::real_weight(eff)
    );
    dump_forwarding(o, "", rs.forwarding.as_ref().or(vs.forwarding.as_ref()));
    w!(o, "   Alpha is {}", on_off(ers.alpha));
    w!(o, "   connection timeout = {}", secs(rs.connect_timeout.unwrap_or(vs.connect_timeout)));
    w!(o, "   connection limit range = {} -> {}", rs.lthreshold, rs.uthreshold);
    w!(o, "   Delay loop = {}", secs(rs.delay_loop.unwrap_or(vs.delay_loop)));
    dump_retry(o, rs.retry, rs.delay_before_retry, rs.warmup);
    w!(o, "   Inhibit on failure is {}", on_off(ers.inhibit));
    dump_script(o, ctx, "     RS up notify script", rs.notify_up.as_deref());
    dump_script(o, ctx, "     RS down notify script", rs.notify_down.as_deref());
    if let Some(v) = &rs.virtualhost {
        w!(o, "    VirtualHost = '{v}'");
    }
    if let Some(n) = &rs.snmp_name {
        w!(o, "   SNMP name = {n}");
    }
    w!(o, "   Using smtp notification = {}", yes_no(ers.smtp_alert));
    w!(o, "   initial weight = {}", ers.weight);
    w!(o, "   effective weight = {eff}");
    w!(o, "   previous effective_weight = 0");
    w!(o, "   alive = {}", u8::from(st.is_some_and(|s| s.alive)));
    w!(o, "   num failed checkers = {}", st.map_or(0, |s| s.num_failed));
    w!(o, "   RS set = {}", u8::from(st.is_some_and(|s| s.set)));
    w!(o, "   reloaded = 0");
    dump_rs_tracking(o, ctx, rs);
}

fn dump_rs_tracking(o: &mut Out, ctx: &Ctx<'_>, rs: &m::RealServer) {
    if !rs.file_checks.is_empty() {
        w!(o, "   Tracked Files");
        for f in &rs.file_checks {
            let Some(name) = f.track_file.as_deref() else { continue };
            let (weight, reverse) = file_weight(ctx, f, name);
            w!(o, "     {name}, weight {weight}{}", if reverse { " reverse" } else { "" });
        }
    }
    let bfds: Vec<&str> = rs
        .checkers
        .iter()
        .filter_map(|c| match &c.kind {
            m::CheckerKind::Bfd(b) => b.name.as_deref(),
            _ => None,
        })
        .collect();
    if !bfds.is_empty() {
        w!(o, "   Tracked BFDs");
        for b in bfds {
            w!(o, "     {b}");
        }
    }
}

/// A FILE_CHECK's weight: its own, else its track_file's (check_file.c
/// `file_end_handler`).
fn file_weight(ctx: &Ctx<'_>, f: &m::FileCheck, name: &str) -> (i32, bool) {
    match f.weight {
        Some(w) => (w, f.reverse),
        None => ctx
            .cfg
            .vrrp
            .track_files
            .iter()
            .find(|t| t.name == name)
            .map_or((0, false), |t| (t.weight.weight, t.weight.reverse)),
    }
}

// ------------------------------------------------------------------ checkers

fn dump_checkers(o: &mut Out, ctx: &Ctx<'_>) {
    let checkers = &ctx.engine.config().checkers;
    if checkers.is_empty() {
        return;
    }
    w!(o, "------< Health checkers >------");
    for (i, c) in checkers.iter().enumerate() {
        dump_checker(o, ctx, CheckerId(i), c);
    }
}

fn dump_checker(o: &mut Out, ctx: &Ctx<'_>, id: CheckerId, c: &CheckerConfig) {
    let ecfg = ctx.engine.config();
    let (Some(vs), Some(rs)) = (ecfg.vs(c.rs.vs), ecfg.rs(c.rs)) else { return };
    let st = ctx.engine.checker(id);
    w!(o, " {} -> {}", vs.name, rs.name);
    w!(o, "   Enabled = {}", yes_no(st.is_some_and(|s| s.enabled)));
    w!(o, "   Up = {}", yes_no(st.is_some_and(|s| s.is_up)));
    w!(o, "   Has run = {}", yes_no(st.is_some_and(|s| s.has_run)));
    w!(o, "   Current weight = {}", st.map_or(0, |s| s.cur_weight));
    let model = model_checker(ctx, c);
    match c.policy {
        Policy::File { .. } => {}
        // No launch function: keepalived never fills the timers in.
        Policy::Bfd { .. } => dump_unset_timers(o, c),
        _ => dump_checker_timers(o, ctx, id, c, model),
    }
    w!(o, "   Log all failures = {}", yes_no(c.log_all_failures));
    if let Some(mc) = model {
        dump_connection(o, ctx, c, mc);
    }
    dump_method(o, ctx, id, c, model);
}

/// The model checker behind an engine checker (None for FILE_CHECK).
fn model_checker<'a>(ctx: &Ctx<'a>, c: &CheckerConfig) -> Option<&'a m::Checker> {
    if matches!(c.policy, Policy::File { .. }) {
        return None;
    }
    let rs = ctx.cfg.lvs.virtual_servers.get(c.rs.vs.0)?.real_servers.get(c.rs.rs)?;
    rs.checkers.get(c.model_index)
}

fn dump_checker_timers(o: &mut Out, ctx: &Ctx<'_>, id: CheckerId, c: &CheckerConfig, model: Option<&m::Checker>) {
    w!(o, "   Alpha = {}", yes_no(c.alpha));
    w!(o, "   Delay loop = {} us", c.delay_loop);
    w!(o, "   Warmup = {} us", c.warmup);
    w!(o, "   Retries = {}", c.retry);
    if c.retry != 0 {
        w!(o, "   Delay before retry = {} us", c.delay_before_retry);
        let it = ctx.engine.checker(id).map_or(0, |s| s.retry_it);
        w!(o, "   Retries iterations = {it}");
    }
    let default = model.map_or(1_000_000, |mc| mc.default_delay_before_retry);
    w!(o, "   Default delay before retry = {default} us");
}

/// BFD_CHECK: its timers keep their unset values (ULONG_MAX, UINT_MAX).
fn dump_unset_timers(o: &mut Out, c: &CheckerConfig) {
    let (ul, ui) = (u64::MAX, u32::MAX);
    w!(o, "   Alpha = {}", yes_no(c.alpha));
    w!(o, "   Delay loop = {ul} us");
    w!(o, "   Warmup = {ul} us");
    w!(o, "   Retries = {ui}");
    w!(o, "   Delay before retry = {ul} us");
    w!(o, "   Retries iterations = {ui}");
    w!(o, "   Default delay before retry = 1000000 us");
}

/// `dump_connection_opts` (checkers with a connection: all but MISC, FILE,
/// BFD; SMTP_CHECK shows its first host, the real server by default).
fn dump_connection(o: &mut Out, ctx: &Ctx<'_>, c: &CheckerConfig, mc: &m::Checker) {
    if matches!(mc.kind, m::CheckerKind::Misc(_) | m::CheckerKind::Bfd(_)) {
        return;
    }
    let Some(rs) = ctx.engine.config().rs(c.rs) else { return };
    let conn = mc.conn.clone().unwrap_or_default();
    let addr = conn.connect_ip.unwrap_or(rs.addr);
    let port = conn.connect_port.unwrap_or(rs.port);
    w!(o, "   Connection");
    w!(o, "     Dest = {}", pair(&addr, port));
    if let Some(b) = conn.bindto {
        w!(o, "     Bind to = {}", pair(&b, conn.bind_port.unwrap_or(0)));
    }
    if let Some(i) = &conn.bind_if {
        w!(o, "     Bind i/f = {i}");
    }
    if let Some(mark) = conn.fwmark.filter(|m| *m != 0) {
        w!(o, "     Mark = {mark}");
    }
    let to = c.connect_timeout.unwrap_or(0);
    w!(o, "     Timeout = {}", secs(to));
}

/// `inet_sockaddrtopair`: `[IP]:port`.
fn pair(addr: &IpAddr, port: u16) -> String {
    format!("[{addr}]:{port}")
}

fn dump_method(o: &mut Out, ctx: &Ctx<'_>, id: CheckerId, c: &CheckerConfig, model: Option<&m::Checker>) {
    if let Policy::File { track_file, .. } = &c.policy {
        w!(o, "   Keepalive method = FILE_CHECK");
        w!(o, "     Tracked file = {track_file}");
        w!(o, "     Reloaded = No");
        return;
    }
    let Some(mc) = model else { return };
    match &mc.kind {
        m::CheckerKind::Tcp => w!(o, "   Keepalive method = TCP_CHECK"),
        m::CheckerKind::Ping => w!(o, "   Keepalive method = PING_CHECK"),
        m::CheckerKind::Http(h) => dump_http(o, ctx, id, h),
        m::CheckerKind::Misc(misc) => dump_misc(o, ctx, id, misc),
        m::CheckerKind::Udp(u) => dump_udp(o, u),
        m::CheckerKind::Dns(d) => {
            w!(o, "   Keepalive method = DNS_CHECK");
            w!(o, "   Type = {}", d.qtype);
            w!(o, "   Name = {}", d.name.as_deref().unwrap_or(""));
        }
        m::CheckerKind::Smtp(s) => {
            w!(o, "   Keepalive method = SMTP_CHECK");
            w!(o, "   helo = {}", s.helo_name.as_deref().unwrap_or("smtpchecker.keepalived.org"));
        }
        m::CheckerKind::Bfd(b) => {
            w!(o, "   Keepalive method = BFD_CHECK");
            w!(o, "   Name = {}", b.name.as_deref().unwrap_or(""));
            w!(o, "   Alpha is {}", on_off(c.alpha));
        }
    }
}

fn dump_http(o: &mut Out, ctx: &Ctx<'_>, id: CheckerId, h: &m::HttpCheck) {
    let proto = match h.http_protocol {
        m::HttpProtocol::V1_0C => "1.0C",
        m::HttpProtocol::V1_1 => "1.1",
        _ => "1.0",
    };
    w!(o, "   Keepalive method = {}_GET, http protocol {proto}", if h.ssl { "SSL" } else { "HTTP" });
    if let Some(v) = &h.virtualhost {
        w!(o, "   Virtualhost = {v}");
    }
    w!(o, "   Enable SNI {}set", if h.enable_sni { "" } else { "un" });
    w!(o, "   Fast recovery {}set", if h.fast_recovery { "" } else { "un" });
    for u in &h.urls {
        dump_url(o, ctx, u);
    }
    let failed = ctx.engine.checker(id).and_then(|s| s.failed_step).and_then(|i| h.urls.get(i));
    if let Some(u) = failed {
        w!(o, "   Failed URL = {}", u.path.as_deref().unwrap_or(""));
    }
}

fn dump_url(o: &mut Out, ctx: &Ctx<'_>, u: &m::Url) {
    w!(o, "   Checked url = {}", u.path.as_deref().unwrap_or(""));
    if let Some(d) = &u.digest {
        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
        w!(o, "     digest = {hex}");
    }
    w!(o, "     HTTP Status Code(s)");
    for &(lo, hi) in &status_ranges(u) {
        if lo == hi {
            w!(o, "       {lo}");
        } else {
            w!(o, "       {lo}-{hi}");
        }
    }
    if let Some(v) = &u.virtualhost {
        w!(o, "     Virtual host = {v}");
    }
    if u.regex.is_some() {
        dump_regex(o, ctx, u);
    }
}

/// check_http.c's regex lines. As 2.2.7 prints them: any option set lists
/// every option name (it tests the table's bits, not the url's); the ref
/// count is how many urls share the compiled pattern (same pattern and
/// options, whole configuration); the JIT stack is the process-wide one.
fn dump_regex(o: &mut Out, ctx: &Ctx<'_>, u: &m::Url) {
    w!(o, "     Regex = \"{}\"", u.regex.as_deref().unwrap_or(""));
    if u.regex_no_match {
        w!(o, "     Regex no match");
    }
    match (u.regex_min_offset, u.regex_max_offset) {
        (0, 0) => {}
        (min, 0) => w!(o, "     Regex min offset = {min}"),
        (min, max) => w!(o, "     Regex min offset = {min}, max_offset = {}", max - 1),
    }
    let options = if u.regex_options.is_empty() {
        String::new()
    } else {
        format!(" {}", keepalived_config::lvs::REGEX_OPTIONS.join(" "))
    };
    w!(o, "     Regex options:{options}");
    let urls = all_urls(ctx);
    let same = |x: &&&m::Url| x.regex == u.regex && sorted(&x.regex_options) == sorted(&u.regex_options);
    w!(o, "     Regex ref count = {}", urls.iter().filter(same).count());
    if u.regex_stack.is_some() {
        let stacks = urls.iter().filter_map(|x| x.regex_stack);
        let (start, max) = stacks.fold((0, 0), |(s, m), (a, b)| (s.max(a), m.max(b)));
        w!(o, "     Regex stack start {start}, max {max}");
    }
}

fn sorted(v: &[String]) -> Vec<&str> {
    let mut v: Vec<&str> = v.iter().map(String::as_str).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Every HTTP_GET/SSL_GET url with a regex in the configuration.
fn all_urls<'a>(ctx: &Ctx<'a>) -> Vec<&'a m::Url> {
    let checkers = ctx.cfg.lvs.virtual_servers.iter().flat_map(|v| &v.real_servers).flat_map(|r| &r.checkers);
    checkers
        .filter_map(|c| match &c.kind {
            m::CheckerKind::Http(h) => Some(h.urls.iter().filter(|u| u.regex.is_some())),
            _ => None,
        })
        .flatten()
        .collect()
}

/// The status codes as keepalived prints its bitmap: merged, ascending
/// ranges (no codes configured: 200-299).
fn status_ranges(u: &m::Url) -> Vec<(u16, u16)> {
    let mut codes: Vec<(u16, u16)> = if u.status_codes.is_empty() { vec![(200, 299)] } else { u.status_codes.clone() };
    codes.sort_unstable();
    let mut out: Vec<(u16, u16)> = Vec::new();
    for (lo, hi) in codes {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

fn dump_misc(o: &mut Out, ctx: &Ctx<'_>, id: CheckerId, misc: &m::MiscCheck) {
    w!(o, "   Keepalive method = MISC_CHECK");
    let args = misc.script.as_ref().map_or(&[][..], |s| &s.args[..]);
    w!(o, "   script = {}", cmd_str(args));
    // The model holds the effective timeout (the virtual server's
    // delay_loop when unset); keepalived prints its unset 0.
    let timeout = misc.timeout.filter(|t| Some(*t) != vs_delay(ctx, id)).unwrap_or(0);
    w!(o, "   timeout = {}", timeout / 1_000_000);
    w!(o, "   dynamic = {}", if misc.dynamic { "YES" } else { "NO" });
    let ids = misc.script.as_ref().map_or_else(keepalived_runtime::script::our_ids, |s| script_ids(s, &ctx.opts));
    w!(o, "   uid:gid = {}:{}", ids.uid, ids.gid);
    // The engine keeps virtual time only: the last run as keepalived
    // prints one that never happened.
    w!(o, "   Last ran = 0.000000 (Thu Jan  1 00:00:00 1970.000000)");
    w!(o, "   Last status = {}", ctx.engine.checker(id).map_or(0, |s| s.last_exit_code));
}

fn vs_delay(ctx: &Ctx<'_>, id: CheckerId) -> Option<u64> {
    let c = ctx.engine.config().checker(id)?;
    Some(ctx.cfg.lvs.virtual_servers.get(c.rs.vs.0)?.delay_loop)
}

fn dump_udp(o: &mut Out, u: &m::UdpCheck) {
    w!(o, "   Keepalive method = UDP_CHECK");
    match &u.payload {
        Some(p) => w!(o, "   Payload len = {}", p.len()),
        None => w!(o, "   Payload specified = no"),
    }
    w!(o, "   Require reply = {}", yes_no(u.require_reply));
    if u.require_reply {
        w!(o, "     Min reply length = {}", u.min_reply_length);
        w!(o, "     Max reply length = {}", u.max_reply_length);
        w!(o, "     Reply data len = {}", u.reply_data.as_ref().map_or(0, Vec::len));
        if u.reply_data.is_some() {
            w!(o, "     Reply data mask = {}", yes_no(u.reply_mask.is_some()));
        }
    }
}

// ------------------------------------------------------------------ track files

fn dump_track_files(o: &mut Out, ctx: &Ctx<'_>) {
    let used: Vec<&keepalived_config::model::vrrp::TrackFile> =
        ctx.cfg.vrrp.track_files.iter().filter(|t| !file_trackers(ctx, &t.name).is_empty()).collect();
    if used.is_empty() {
        return;
    }
    w!(o, "------< Checker track files >------");
    for t in used {
        w!(o, " Track file = {}", t.name);
        w!(o, "   File = {}", t.file.as_deref().unwrap_or(""));
        w!(o, "   Status = {}", ctx.engine.file_value_of(&t.name).unwrap_or(0));
        w!(o, "   Weight = {}{}", t.weight.weight, if t.weight.reverse { " reverse" } else { "" });
        w!(o, "   Tracking instances :");
        for (vs, rs, weight, reverse) in file_trackers(ctx, &t.name) {
            w!(o, "     {vs} -> {rs}, weight {weight}{}", if reverse { " reverse" } else { "" });
        }
    }
}

/// The FILE_CHECKs following `name`: (VS, RS, weight, reverse).
fn file_trackers(ctx: &Ctx<'_>, name: &str) -> Vec<(String, String, i64, bool)> {
    let ecfg = ctx.engine.config();
    ecfg.checkers
        .iter()
        .filter_map(|c| match &c.policy {
            Policy::File { track_file, weight, reverse } if track_file == name => {
                Some((ecfg.vs(c.rs.vs)?.name.clone(), ecfg.rs(c.rs)?.name.clone(), *weight, *reverse))
            }
            _ => None,
        })
        .collect()
}

// ------------------------------------------------------------------ track BFDs

/// `------< Checker track BFDs >------`: each bfd_instance a BFD_CHECK
/// follows (in configuration order), with its real servers.
fn dump_track_bfds(o: &mut Out, ctx: &Ctx<'_>) {
    let ecfg = ctx.engine.config();
    let mut names: Vec<&str> = Vec::new();
    for c in &ecfg.checkers {
        if let Policy::Bfd { name } = &c.policy {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    if names.is_empty() {
        return;
    }
    w!(o, "------< Checker track BFDs >------");
    for name in names {
        w!(o, " Checker Track BFD = {name}");
        w!(o, "   Tracking RS :");
        for c in ecfg.checkers.iter().filter(|c| matches!(&c.policy, Policy::Bfd { name: n } if n == name)) {
            if let Some(rs) = ecfg.rs(c.rs) {
                w!(o, "   {}", rs.name);
            }
        }
    }
}

#[cfg(test)]
mod tests;
