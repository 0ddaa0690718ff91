//! Keyword handlers (keepalived check/check_parser.c and the checkers'
//! `install_*_check_keyword`).

use super::model::*;
use crate::diag::{Origin, Severity};
use crate::engine::{Args, Block, Ctx, Enter, Kw, KwIndexCell, Res, Sys};
use crate::numbers::check_true_false;
use std::net::IpAddr;

/// IPVS_WEIGHT_LIMIT.
const WEIGHT_LIMIT: u32 = i32::MAX as u32;
/// IPVS_SVC_PERSISTENT_TIMEOUT.
pub(crate) const PERSISTENT_TIMEOUT: u32 = 360;
/// LVS_MAX_TIMEOUT (31 days).
const LVS_MAX_TIMEOUT: u32 = 86400 * 31;
const SCHEDULERS: &[&str] =
    &["rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos"];
const DNS_TYPES: &[&str] = &["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA", "RRSIG", "DNSKEY"];
/// check_http.c `regex_options`, in its order: the names `regex_options` accepts (2.2.7 built with
/// Debian's PCRE2 has all 24; an unknown name is skipped silently, as there).
pub const REGEX_OPTIONS: &[&str] = &[
    "allow_empty_class",
    "alt_bsux",
    "auto_callout",
    "caseless",
    "dollar_endonly",
    "dotall",
    "dupnames",
    "extended",
    "firstline",
    "match_unset_backref",
    "multiline",
    "never_ucp",
    "never_utf",
    "no_auto_capture",
    "no_auto_possess",
    "no_dotstar_anchor",
    "no_start_optimize",
    "ucp",
    "ungreedy",
    "utf",
    "never_backslash_c",
    "alt_circumflex",
    "alt_verbnames",
    "use_offset_limit",
];

/// Root-level keywords owned by this area.
pub static ROOT: &[Kw] = &[
    Kw::block("SSL", ssl_open, &SSL_BLOCK).sys(Sys::Check),
    Kw::list_with("virtual_server_group", Some(vsg_open), vsg_entry, Some(vsg_close)).sys(Sys::Check),
    Kw::block("virtual_server", vs_open, &VS_BLOCK).sys(Sys::Check),
];

// ---------------------------------------------------------------- helpers

fn st(ctx: &mut Ctx) -> &mut ParseState {
    &mut ctx.cfg.lvs.state
}

/// keepalived `inet_stosockaddr`: the address (anything after a '-' or '/'
/// is ignored) and an optional port; a port of all zeros means none.
/// Returns None when keepalived's function fails (after the port reader's
/// own message).
pub(crate) fn sockaddr(ctx: &mut Ctx, ip: &str, port: Option<&str>) -> Option<(IpAddr, u16)> {
    let port = port.filter(|p| !p.bytes().all(|b| b == b'0'));
    let mut port_num = 0u16;
    if let Some(p) = port {
        port_num = ctx.read_unsigned(p, 1, 65535, true)? as u16;
    }
    Some((parse_ip(ip)?, port_num))
}

/// The address part of `inet_stosockaddr` (family by the presence of ':').
pub(crate) fn parse_ip(ip: &str) -> Option<IpAddr> {
    // One pass for the first '-', the first '/' and any ':' (10,000 real
    // servers are 10,000 calls).
    let (mut dash, mut slash, mut colon) = (None, None, false);
    for (i, c) in ip.bytes().enumerate() {
        match c {
            b'-' if dash.is_none() => dash = Some(i),
            b'/' if slash.is_none() => slash = Some(i),
            b':' => colon = true,
            _ => {}
        }
    }
    let cut = dash.or(slash).unwrap_or(ip.len());
    let s = &ip[..cut];
    if colon {
        s.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        s.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
    }
}

/// `inet_sockaddrtotrio`: `[IP]:proto:port`.
pub(crate) fn trio(addr: Option<&IpAddr>, proto: Option<Protocol>, port: u16) -> String {
    let a = match addr {
        Some(a) => a.to_string(),
        // 2.2.7 prints an unset (AF_UNSPEC) address as nothing: "[]:udp:0".
        None => String::new(),
    };
    format!("[{a}]:{}:{port}", Protocol::name(proto))
}

/// keepalived `FMT_VS`.
pub fn fmt_vs(vs: &VirtualServer) -> String {
    match &vs.addr {
        VsAddr::Group { name, index } => format!("[{name}]:{index}"),
        VsAddr::Fwmark(m) if *m != 0 => format!("FWM {m}"),
        VsAddr::Fwmark(_) => trio(None, vs.protocol, 0),
        VsAddr::Ip { addr, port } => trio(Some(addr), vs.protocol, *port),
    }
}

/// keepalived `FMT_RS`.
pub fn fmt_rs(rs: &RealServer, vs: &VirtualServer) -> String {
    trio(Some(&rs.addr), vs.protocol, rs.port)
}

fn bool_arg(ctx: &mut Ctx, args: &Args<'_>, msg: &str) -> Option<bool> {
    match args.get(1) {
        None => Some(true),
        Some(s) => match check_true_false(s) {
            Some(b) => Some(b),
            None => {
                ctx.error(format!("{msg} {s}"));
                None
            }
        },
    }
}

fn vsgname(ctx: &mut Ctx) -> String {
    match st(ctx).vs.as_ref().map(|v| &v.addr) {
        Some(VsAddr::Group { name, .. }) => name.clone(),
        _ => "(null)".to_string(),
    }
}

// ---------------------------------------------------------------- SSL

static SSL_BLOCK: Block = Block {
    index: KwIndexCell::new(),
    name: "SSL",
    parts: &[&[
        Kw::value("password", ssl_password),
        Kw::value("ca", ssl_ca),
        Kw::value("certificate", ssl_certificate),
        Kw::value("key", ssl_key),
    ]],
    close: None,
};

fn ssl_open(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    if ctx.cfg.lvs.ssl.is_some() {
        ctx.error("SSL context already specified - replacing");
    }
    ctx.cfg.lvs.ssl = Some(SslConfig { password: None, ca: None, certificate: None, key: None, origin: args.origin() });
    Ok(Enter::Yes)
}

fn ssl_file(ctx: &mut Ctx, args: &Args<'_>, what: &str) -> Option<String> {
    match args.get(1) {
        None => {
            ctx.error(format!("SSL {what} missing"));
            None
        }
        Some(v) => Some(v.to_string()),
    }
}

fn ssl_password(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(v) = ssl_file(ctx, args, "password") {
        if let Some(s) = ctx.cfg.lvs.ssl.as_mut() {
            s.password = Some(v);
        }
    }
    Ok(())
}
fn ssl_ca(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(v) = ssl_file(ctx, args, "cafile") {
        if let Some(s) = ctx.cfg.lvs.ssl.as_mut() {
            s.ca = Some(v);
        }
    }
    Ok(())
}
fn ssl_certificate(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(v) = ssl_file(ctx, args, "certfile") {
        if let Some(s) = ctx.cfg.lvs.ssl.as_mut() {
            s.certificate = Some(v);
        }
    }
    Ok(())
}
fn ssl_key(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(v) = ssl_file(ctx, args, "keyfile") {
        if let Some(s) = ctx.cfg.lvs.ssl.as_mut() {
            s.key = Some(v);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- virtual_server_group

fn vsg_open(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    let name = ctx.req(args, 1)?.to_string();
    if let Some(extra) = args.get(2) {
        ctx.error(format!("Block virtual_server_group has extra parameters {extra} ..."));
    }
    st(ctx).vsg = Some(VsGroup {
        name,
        entries: Vec::new(),
        have_ipv4: false,
        have_ipv6: false,
        fwmark_no_family: false,
        origin: args.origin(),
    });
    Ok(Enter::Yes)
}

fn vsg_close(ctx: &mut Ctx) -> Res {
    let Some(g) = st(ctx).vsg.take() else {
        return Ok(());
    };
    if g.entries.is_empty() {
        ctx.error(format!("virtual server group {} has no entries - removing", g.name));
    } else if g.have_ipv4 && g.have_ipv6 && g.fwmark_no_family {
        ctx.error(format!(
            "virtual server group {} cannot have IPv4, IPv6 and fwmark without family - removing",
            g.name
        ));
    } else {
        ctx.cfg.lvs.groups.push(g);
    }
    Ok(())
}

fn vsg_entry(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let gname = st(ctx).vsg.as_ref().map(|g| g.name.clone()).unwrap_or_default();
    let addr_str = args.word(0);
    let origin = args.origin();
    if addr_str == "fwmark" {
        return vsg_fwmark(ctx, args, &gname, origin);
    }
    let port_str = args.get(1).filter(|p| !p.bytes().all(|b| b == b'0'));
    let Some((start, port)) = sockaddr(ctx, addr_str, port_str) else {
        let (a, b, c) = match port_str {
            Some(p) => ("/port", "/", p),
            None => ("", "", ""),
        };
        ctx.error(format!("Invalid virtual server group IP address {addr_str} {a}{b}{c} - skipping"));
        return Ok(());
    };
    let v6 = start.is_ipv6();
    let end = if let Some(p) = addr_str.find('/') {
        masked_range_end(ctx, addr_str, p, start)
    } else if let Some(p) = addr_str.find('-').filter(|p| {
        let rest = &addr_str[p + 1..];
        (!v6 && rest.contains('.')) || (v6 && rest.contains(':'))
    }) {
        address_range_end(ctx, addr_str, p, start)
    } else if let Some(p) = addr_str.find('-') {
        last_octet_range_end(ctx, addr_str, p, start)
    } else {
        Some(start)
    };
    let Some(end) = end else { return Ok(()) };
    if let Some(g) = st(ctx).vsg.as_mut() {
        if v6 {
            g.have_ipv6 = true;
        } else {
            g.have_ipv4 = true;
        }
        g.entries.push(VsgEntry::Range { start, end, port, origin });
    }
    Ok(())
}

/// `fwmark MARK [inet|inet6]`.
fn vsg_fwmark(ctx: &mut Ctx, args: &Args<'_>, gname: &str, origin: Origin) -> Res {
    let s = ctx.req(args, 1)?;
    let Some(mark) = ctx.read_unsigned(s, 0, u32::MAX, true) else {
        ctx.error(format!("({gname}): fwmark '{s}' must be in [0, {}] - ignoring", u32::MAX));
        return Ok(());
    };
    let family = match args.get(2) {
        None => None,
        Some("inet") => Some(Family::Inet),
        Some("inet6") => Some(Family::Inet6),
        Some(f) => {
            ctx.error(format!("({gname}): fwmark '{mark}' family {f} unknown - ignoring"));
            return Ok(());
        }
    };
    if let Some(g) = st(ctx).vsg.as_mut() {
        match family {
            Some(Family::Inet) => g.have_ipv4 = true,
            Some(Family::Inet6) => g.have_ipv6 = true,
            None => g.fwmark_no_family = true,
        }
        g.entries.push(VsgEntry::Fwmark { mark, family, origin });
    }
    Ok(())
}

/// `IP/MASK` (the `/` at `p`): the last address of the network, which
/// `start` must begin. None (reported) skips the entry.
fn masked_range_end(ctx: &mut Ctx, addr_str: &str, p: usize, start: IpAddr) -> Option<IpAddr> {
    let v6 = start.is_ipv6();
    let m = &addr_str[p + 1..];
    let mask: Option<u32> = if !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) { m.parse().ok() } else { None };
    let mask = match mask {
        Some(k) if k != 0 && ((!v6 && k <= 32) || (v6 && k <= 128)) => k,
        _ => {
            ctx.error(format!("Invalid netmask - {addr_str} - skipping"));
            return None;
        }
    };
    let bits = if v6 { 128 } else { 32 };
    let host: u128 = if mask >= bits { 0 } else { (1u128 << (bits - mask)) - 1 };
    let (s, e) = match start {
        IpAddr::V4(a) => {
            let v = u32::from(a) as u128;
            (v, IpAddr::V4(std::net::Ipv4Addr::from((v | host) as u32)))
        }
        IpAddr::V6(a) => {
            let v = u128::from(a);
            (v, IpAddr::V6(std::net::Ipv6Addr::from(v | host)))
        }
    };
    if s & host != 0 {
        ctx.error(format!("Address mask bits not empty - {addr_str} - skipping"));
        return None;
    }
    Some(e)
}

/// `IP-IP` (the `-` at `p`): same family, end not below start. None
/// (reported) skips the entry.
fn address_range_end(ctx: &mut Ctx, addr_str: &str, p: usize, start: IpAddr) -> Option<IpAddr> {
    let rest = &addr_str[p + 1..];
    let Some(e) = parse_ip(rest) else {
        ctx.error(format!("Invalid range end {addr_str} - skipping"));
        return None;
    };
    if e.is_ipv6() != start.is_ipv6() {
        ctx.error(format!("Range address families do not match {addr_str} - skipping"));
        return None;
    }
    let bad = match (start, e) {
        (IpAddr::V4(a), IpAddr::V4(b)) => u32::from(a) > u32::from(b),
        (IpAddr::V6(a), IpAddr::V6(b)) => u128::from(a) > u128::from(b),
        _ => true,
    };
    if bad {
        ctx.error(format!("Address range end is less than address range start - {addr_str} - skipping"));
        return None;
    }
    Some(e)
}

/// IP-LASTOCTET (IPv6: last 16 bits in hex; the `-` at `p`). None
/// (reported) skips the entry.
fn last_octet_range_end(ctx: &mut Ctx, addr_str: &str, p: usize, start: IpAddr) -> Option<IpAddr> {
    let v6 = start.is_ipv6();
    let tail = &addr_str[p + 1..];
    let radix = if v6 { 16 } else { 10 };
    let n = tail.bytes().take_while(|c| (*c as char).is_digit(radix)).count();
    let range = u64::from_str_radix(&tail[..n], radix).unwrap_or(if n == 0 { 0 } else { u64::MAX });
    let warn = if ctx.config_test { "" } else { "WARNING - " };
    if n < tail.len() {
        ctx.report(
            Severity::InvalidNumber,
            format!("{warn}Virtual server group range '{addr_str}' has extra characters at end '{}'", &tail[n..]),
        );
        if ctx.config_test {
            return None;
        }
    } else if (v6 && range > 0xffff) || (!v6 && range > 255) {
        ctx.report(Severity::InvalidNumber, format!("Virtual server group range '{addr_str}' end '{tail}' too large"));
        return None;
    }
    let (first, e) = match start {
        IpAddr::V4(a) => {
            let v = u32::from(a);
            ((v & 0xff) as u64, IpAddr::V4(std::net::Ipv4Addr::from((v & !0xff) | (range as u32 & 0xff))))
        }
        IpAddr::V6(a) => {
            let v = u128::from(a);
            ((v & 0xffff) as u64, IpAddr::V6(std::net::Ipv6Addr::from((v & !0xffff) | (range as u128 & 0xffff))))
        }
    };
    if first >= range {
        ctx.error(format!("Address range end is not greater than address range start - {addr_str} - skipping"));
        return None;
    }
    Some(e)
}

// ---------------------------------------------------------------- virtual_server

static VS_BLOCK: Block = Block {
    index: KwIndexCell::new(),
    name: "virtual_server",
    parts: &[&[
        Kw::value("ip_family", vs_ip_family),
        Kw::value("retry", vs_retry),
        Kw::value("delay_before_retry", vs_delay_before_retry),
        Kw::value("warmup", vs_warmup),
        Kw::value("connect_timeout", vs_connect_timeout),
        Kw::value("delay_loop", vs_delay_loop),
        Kw::value("inhibit_on_failure", vs_inhibit),
        Kw::value("lb_algo", vs_sched),
        Kw::value("lvs_sched", vs_sched),
        Kw::value("hashed", vs_flag),
        Kw::value("ops", vs_flag),
        Kw::value("flag-1", vs_flag),
        Kw::value("flag-2", vs_flag),
        Kw::value("flag-3", vs_flag),
        Kw::value("sh-port", vs_flag),
        Kw::value("sh-fallback", vs_flag),
        Kw::value("mh-port", vs_flag),
        Kw::value("mh-fallback", vs_flag),
        Kw::value("lb_kind", vs_method),
        Kw::value("lvs_method", vs_method),
        Kw::value("persistence_engine", vs_pe),
        Kw::value("persistence_timeout", vs_pto),
        Kw::value("persistence_granularity", vs_pgr),
        Kw::value("protocol", vs_protocol),
        Kw::value("ha_suspend", vs_ha_suspend),
        Kw::value("smtp_alert", vs_smtp_alert),
        Kw::value("virtualhost", vs_virtualhost),
        Kw::value("snmp_name", vs_snmp_name),
        Kw::value("alpha", vs_alpha),
        Kw::value("omega", vs_omega),
        Kw::script("quorum_up", vs_quorum_up),
        Kw::script("quorum_down", vs_quorum_down),
        Kw::value("quorum", vs_quorum),
        Kw::value("hysteresis", vs_hysteresis),
        Kw::value("weight", vs_weight),
        Kw::value("sorry_server", vs_sorry_server),
        Kw::value("sorry_server_inhibit", vs_sorry_inhibit),
        Kw::value("sorry_server_lvs_method", vs_sorry_method),
        Kw::block("real_server", rs_open, &RS_BLOCK),
    ]],
    close: Some(vs_close),
};

fn vs_open(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    ctx.cfg.seen.check = true;
    let p1 = ctx.req(args, 1)?;
    let addr = if p1 == "group" {
        VsAddr::Group { name: ctx.req(args, 2)?.to_string(), index: 0 }
    } else if p1 == "fwmark" {
        let p2 = ctx.req(args, 2)?;
        match ctx.read_unsigned(p2, 0, u32::MAX, true) {
            Some(m) => VsAddr::Fwmark(m),
            None => {
                ctx.error(format!("virtual server fwmark '{p2}' must be in [0, {}] - ignoring", u32::MAX));
                return Ok(Enter::Skip);
            }
        }
    } else {
        let port_str = args.get(2).filter(|p| !p.bytes().all(|b| b == b'0'));
        match sockaddr(ctx, p1, port_str) {
            Some((addr, port)) => VsAddr::Ip { addr, port },
            None => {
                let (a, b, c) = match port_str {
                    Some(p) => ("/port", "/", p),
                    None => ("", "", ""),
                };
                ctx.error(format!("Invalid virtual server IP address{a} {p1}{b}{c} - skipping"));
                return Ok(Enter::Skip);
            }
        }
    };
    let af = match &addr {
        VsAddr::Ip { addr, .. } => Some(Family::of(addr)),
        _ => None,
    };
    st(ctx).vs = Some(VirtualServer {
        addr,
        af,
        sched: None,
        flags: SchedFlags::default(),
        forwarding: None,
        protocol: None,
        persistence_timeout: 0,
        persistence_granularity: None,
        persistence_engine: None,
        delay_loop: 60_000_000,
        connect_timeout: 5_000_000,
        retry: None,
        delay_before_retry: None,
        warmup: None,
        inhibit_on_failure: false,
        alpha: false,
        omega: false,
        quorum: 1,
        hysteresis: 0,
        quorum_up: None,
        quorum_down: None,
        sorry_server: None,
        ha_suspend: false,
        virtualhost: None,
        smtp_alert: None,
        snmp_name: None,
        weight: 1,
        real_servers: Vec::new(),
        sorry_server_duplicates_rs: false,
        origin: args.origin(),
    });
    Ok(Enter::Yes)
}

fn vs_close(ctx: &mut Ctx) -> Res {
    let Some(mut vs) = st(ctx).vs.take() else {
        return Ok(());
    };
    vs.real_servers = st(ctx).real_servers.drain(..).collect();
    // keepalived 2.2.7 reports a virtual server without real servers
    // during validation (see validate.rs), in configuration order.
    let ss_info = vs.sorry_server.as_ref().map(|s| (s.addr, s.forwarding.map(|f| f.method)));
    if let Some((ss_addr, m)) = ss_info {
        if m != Some(FwdMethod::Tun) {
            let f = Family::of(&ss_addr);
            match vs.af {
                None => vs.af = Some(f),
                Some(a) if a != f => {
                    ctx.error(format!(
                        "Address family of virtual server and sorry server {ss_addr} don't match - skipping sorry server."
                    ));
                    vs.sorry_server = None;
                }
                _ => {}
            }
        }
    }
    if vs.af.is_none() && !matches!(vs.addr, VsAddr::Group { .. }) {
        let mut af = vs.sorry_server.as_ref().map(|s| Family::of(&s.addr));
        let mut mixed = false;
        for rs in &vs.real_servers {
            let f = Family::of(&rs.addr);
            match af {
                None => af = Some(f),
                Some(a) if a != f => {
                    mixed = true;
                    break;
                }
                _ => {}
            }
        }
        vs.af = if mixed { Some(Family::Inet) } else { Some(af.unwrap_or(Family::Inet)) };
    }
    ctx.cfg.lvs.virtual_servers.push(vs);
    Ok(())
}

macro_rules! with_vs {
    ($ctx:expr, $vs:ident => $body:expr) => {
        if let Some($vs) = $ctx.cfg.lvs.state.vs.as_mut() {
            $body;
        }
    };
}

fn vs_ip_family(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    let af = match s {
        "inet" => Family::Inet,
        "inet6" => Family::Inet6,
        _ => {
            ctx.error(format!("unknown address family {s}"));
            return Ok(());
        }
    };
    let cur = st(ctx).vs.as_ref().and_then(|v| v.af);
    if cur.is_some_and(|c| c != af) {
        ctx.error(format!("Virtual server specified family {s} conflicts with server family"));
        return Ok(());
    }
    with_vs!(ctx, vs => vs.af = Some(af));
    Ok(())
}

fn vs_retry(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_unsigned(s, 1, u32::MAX, false) {
        Some(v) => with_vs!(ctx, vs => vs.retry = Some(v)),
        None => ctx.error(format!("retry value invalid - {s}")),
    }
    Ok(())
}

fn vs_delay_before_retry(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_timer(s, 0, 0, true) {
        Some(v) => with_vs!(ctx, vs => vs.delay_before_retry = Some(v)),
        None => ctx.error(format!("virtual server delay before retry '{s}' invalid - ignoring")),
    }
    Ok(())
}

fn vs_warmup(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_timer(s, 0, 0, true) {
        Some(v) => with_vs!(ctx, vs => vs.warmup = Some(v)),
        None => ctx.error(format!("virtual server warmup '{s}' invalid - ignoring")),
    }
    Ok(())
}

fn vs_connect_timeout(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_timer(s, 1, u32::MAX as u64, true) {
        Some(v) => with_vs!(ctx, vs => vs.connect_timeout = v),
        None => ctx.error(format!("virtual server connect_timeout {s} invalid - ignoring")),
    }
    Ok(())
}

fn vs_delay_loop(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_timer(s, 1, 0, true) {
        Some(v) => with_vs!(ctx, vs => vs.delay_loop = v),
        None => ctx.error(format!("virtual server delay loop '{s}' invalid - ignoring")),
    }
    Ok(())
}

fn vs_inhibit(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    with_vs!(ctx, vs => vs.inhibit_on_failure = true);
    Ok(())
}

fn vs_sched(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    if !SCHEDULERS.contains(&s) {
        ctx.error(format!("Invalid lvs_scheduler '{s}' - ignoring"));
        return Ok(());
    }
    with_vs!(ctx, vs => vs.sched = Some(s.to_string()));
    Ok(())
}

fn vs_flag(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let kw = args.word(0);
    let sched = st(ctx).vs.as_ref().and_then(|v| v.sched.clone()).unwrap_or_default();
    let Some(vs) = st(ctx).vs.as_mut() else {
        return Ok(());
    };
    let f = &mut vs.flags;
    match kw {
        "ops" => f.ops = true,
        "flag-1" => f.flag_1 = true,
        "flag-2" => f.flag_2 = true,
        "flag-3" => f.flag_3 = true,
        _ if sched == "sh" => match kw {
            "sh-port" => f.sh_port = true,
            "sh-fallback" => f.sh_fallback = true,
            _ => {}
        },
        _ if sched == "mh" => match kw {
            "mh-port" => f.mh_port = true,
            "mh-fallback" => f.mh_fallback = true,
            _ => {}
        },
        _ => ctx.error(format!("{kw} only applies to sh scheduler - ignoring")),
    }
    Ok(())
}

/// keepalived `svr_forwarding_handler`: `NAT|DR|TUN [type …] [port N] [csum…]`.
/// `cur` is the previous setting (tunnel options are kept from it).
fn read_forwarding(ctx: &mut Ctx, args: &Args<'_>, cur: Option<Forwarding>, who: &str) -> Res<Option<Forwarding>> {
    let s = ctx.req(args, 1)?;
    let method = match s {
        "NAT" => FwdMethod::Nat,
        "DR" => FwdMethod::Dr,
        "TUN" => FwdMethod::Tun,
        _ => {
            ctx.error(format!("PARSER : unknown [{s}] routing method for {who} server."));
            return Ok(None);
        }
    };
    let mut tun_type = TunType::Ipip;
    let mut port = 0u16;
    let mut csum = TunCsum::NoCsum;
    let mut i = 2;
    // keepalived stores the method before looking at the tunnel options, so
    // an error below keeps the method with the previous tunnel settings.
    let mut base = cur.unwrap_or(Forwarding { method, tun_type, tun_port: 0, tun_csum: csum });
    base.method = method;
    while i < args.len() {
        match args.word(i) {
            "type" => {
                let Some(t) = args.get(i + 1) else {
                    ctx.error(format!("Missing tunnel type for {who} server."));
                    return Ok(Some(base));
                };
                tun_type = match t {
                    "ipip" => TunType::Ipip,
                    "gue" => TunType::Gue,
                    "gre" => TunType::Gre,
                    _ => {
                        ctx.error(format!("Unknown tunnel type {t} for {who} server."));
                        return Ok(Some(base));
                    }
                };
                i += 1;
            }
            "port" => {
                let Some(p) = args.get(i + 1) else {
                    ctx.error(format!("Missing port for {who} server gue tunnel."));
                    return Ok(Some(base));
                };
                match ctx.read_unsigned(p, 1, 65535, false) {
                    Some(v) => port = v as u16,
                    None => {
                        ctx.error(format!("Invalid gue tunnel port {p} for {who} server."));
                        return Ok(Some(base));
                    }
                }
                i += 1;
            }
            "nocsum" => csum = TunCsum::NoCsum,
            "csum" => csum = TunCsum::Csum,
            "remcsum" => csum = TunCsum::RemCsum,
            o => {
                ctx.error(format!("Invalid tunnel option {o} for {who} server."));
                return Ok(Some(base));
            }
        }
        i += 1;
    }
    if (tun_type == TunType::Gue) != (port != 0) {
        ctx.error("gue tunnels require port, otherwise cannot have port.");
        return Ok(Some(base));
    }
    if tun_type == TunType::Ipip && csum != TunCsum::NoCsum {
        ctx.error("ipip tunnels do not support checksum option.");
        return Ok(Some(base));
    }
    if tun_type == TunType::Gre && csum == TunCsum::RemCsum {
        ctx.error("gre tunnels do not support remote checksum option.");
        return Ok(Some(base));
    }
    Ok(Some(Forwarding { method, tun_type, tun_port: port, tun_csum: csum }))
}

fn vs_method(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let cur = st(ctx).vs.as_ref().and_then(|v| v.forwarding);
    if let Some(f) = read_forwarding(ctx, args, cur, "virtual")? {
        with_vs!(ctx, vs => vs.forwarding = Some(f));
    }
    Ok(())
}

fn vs_pe(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    // IP_VS_PENAME_MAXLEN 16
    let mut name = s.to_string();
    if s.len() > 15 {
        ctx.error(format!("persistence_name too long, truncating - {s}"));
        let mut cut = 15;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    with_vs!(ctx, vs => vs.persistence_engine = Some(name));
    Ok(())
}

fn vs_pto(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let Some(s) = args.get(1) else {
        with_vs!(ctx, vs => vs.persistence_timeout = PERSISTENT_TIMEOUT);
        return Ok(());
    };
    match ctx.read_unsigned(s, 1, LVS_MAX_TIMEOUT, false) {
        Some(v) => with_vs!(ctx, vs => vs.persistence_timeout = v),
        None => ctx.error("persistence_timeout invalid"),
    }
    Ok(())
}

fn vs_pgr(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    let cur = st(ctx).vs.as_ref().and_then(|v| v.af);
    let af = cur.unwrap_or(if s.contains('.') { Family::Inet } else { Family::Inet6 });
    let g = if af == Family::Inet6 {
        match ctx.read_unsigned(s, 1, 128, false) {
            Some(v) => Granularity::V6(v),
            None => {
                ctx.error(format!("Invalid IPv6 persistence_granularity specified - {s}"));
                return Ok(());
            }
        }
    } else {
        match parse_inet_aton(s) {
            Some(a) => Granularity::V4(a),
            None => {
                ctx.error(format!("Invalid IPv4 persistence_granularity specified - {s}"));
                return Ok(());
            }
        }
    };
    with_vs!(ctx, vs => {
        vs.persistence_granularity = Some(g);
        if vs.af.is_none() {
            vs.af = Some(af);
        }
        if vs.persistence_timeout == 0 {
            vs.persistence_timeout = PERSISTENT_TIMEOUT;
        }
    });
    Ok(())
}

/// getaddrinfo(AI_NUMERICHOST, AF_INET) accepts the inet_aton forms
/// (`a`, `a.b`, `a.b.c`, `a.b.c.d`, each part decimal, octal or hex).
fn parse_inet_aton(s: &str) -> Option<std::net::Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::new();
    for p in &parts {
        let v = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            u32::from_str_radix(h, 16).ok()?
        } else if p.len() > 1 && p.starts_with('0') {
            u32::from_str_radix(&p[1..], 8).ok()?
        } else {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse::<u32>().ok()?
        };
        nums.push(v);
    }
    let n = nums.len();
    let mut v: u32 = 0;
    for (i, x) in nums.iter().enumerate() {
        if i < n - 1 {
            if *x > 255 {
                return None;
            }
            v |= x << (8 * (3 - i));
        } else {
            let rem_bits = 8 * (4 - i as u32);
            if rem_bits < 32 && (*x as u64) >= (1u64 << rem_bits) {
                return None;
            }
            v |= x;
        }
    }
    Some(std::net::Ipv4Addr::from(v))
}

fn vs_protocol(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    let p = match s.to_ascii_uppercase().as_str() {
        "TCP" => Protocol::Tcp,
        "SCTP" => Protocol::Sctp,
        "UDP" => Protocol::Udp,
        _ => {
            ctx.error(format!("Unknown protocol {s} - ignoring"));
            return Ok(());
        }
    };
    with_vs!(ctx, vs => vs.protocol = Some(p));
    Ok(())
}

fn vs_ha_suspend(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    with_vs!(ctx, vs => vs.ha_suspend = true);
    Ok(())
}

fn vs_smtp_alert(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = bool_arg(ctx, args, "Invalid virtual_server smtp_alert parameter") {
        with_vs!(ctx, vs => vs.smtp_alert = Some(b));
    }
    Ok(())
}

fn vs_virtualhost(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    match args.get(1) {
        None => ctx.error("virtual server virtualhost missing"),
        Some(h) => with_vs!(ctx, vs => vs.virtualhost = Some(h.to_string())),
    }
    Ok(())
}

fn vs_snmp_name(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if args.len() != 2 {
        ctx.error("virtual server snmp_name missing or extra parameters");
        return Ok(());
    }
    ctx.report(Severity::Notice, "snmp_name is accepted but not implemented by keepalived-rs");
    let n = args.word(1).to_string();
    with_vs!(ctx, vs => vs.snmp_name = Some(n));
    Ok(())
}

fn vs_alpha(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    with_vs!(ctx, vs => vs.alpha = true);
    Ok(())
}

fn vs_omega(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    with_vs!(ctx, vs => vs.omega = true);
    Ok(())
}

fn vs_quorum_up(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if st(ctx).vs.as_ref().is_some_and(|v| v.quorum_up.is_some()) {
        let s = ctx.req(args, 1)?;
        let g = vsgname(ctx);
        ctx.error(format!("({g}) quorum_up script already specified - ignoring {s}"));
        return Ok(());
    }
    let sc = ctx.read_script(args, "quorum");
    ctx.stop_if_stopped()?;
    with_vs!(ctx, vs => vs.quorum_up = sc);
    Ok(())
}

fn vs_quorum_down(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if st(ctx).vs.as_ref().is_some_and(|v| v.quorum_down.is_some()) {
        let s = ctx.req(args, 1)?;
        let g = vsgname(ctx);
        ctx.error(format!("({g}) quorum_down script already specified - ignoring {s}"));
        return Ok(());
    }
    let sc = ctx.read_script(args, "quorum");
    ctx.stop_if_stopped()?;
    with_vs!(ctx, vs => vs.quorum_down = sc);
    Ok(())
}

fn vs_quorum(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    let q = match ctx.read_unsigned(s, 1, u32::MAX, true) {
        Some(v) => v,
        None => {
            ctx.error(format!("Quorum {s} must be in [1, {}]. Setting to 1.", u32::MAX));
            1
        }
    };
    with_vs!(ctx, vs => vs.quorum = q);
    Ok(())
}

fn vs_hysteresis(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_unsigned(s, 0, u32::MAX, true) {
        Some(v) => with_vs!(ctx, vs => vs.hysteresis = v),
        None => ctx.error(format!("Hysteresis {s} must be in [0, {}] - ignoring", u32::MAX)),
    }
    Ok(())
}

fn vs_weight(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_unsigned(s, 1, WEIGHT_LIMIT, true) {
        Some(v) => with_vs!(ctx, vs => vs.weight = v),
        None => ctx.error(format!("Virtual server weight {s} is outside range 1-{WEIGHT_LIMIT}")),
    }
    Ok(())
}

fn vs_sorry_server(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let ip = ctx.req(args, 1)?;
    let port_str = args.get(2).filter(|p| !p.bytes().all(|b| b == b'0'));
    let Some((addr, port)) = sockaddr(ctx, ip, port_str) else {
        ctx.error(format!("Invalid sorry server IP address {ip} - skipping"));
        return Ok(());
    };
    let origin = args.origin();
    with_vs!(ctx, vs => {
        let forwarding = vs.forwarding;
        vs.sorry_server = Some(SorryServer { addr, port, inhibit: false, forwarding, origin });
    });
    Ok(())
}

fn vs_sorry_inhibit(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    match st(ctx).vs.as_mut().and_then(|v| v.sorry_server.as_mut()) {
        Some(s) => s.inhibit = true,
        None => ctx.error("Ignoring sorry_server inhibit used before or without sorry_server"),
    }
    Ok(())
}

fn vs_sorry_method(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let Some(cur) = st(ctx).vs.as_ref().and_then(|v| v.sorry_server.as_ref()).map(|s| s.forwarding) else {
        ctx.error("sorry_server forwarding used without sorry_server");
        return Ok(());
    };
    if let Some(f) = read_forwarding(ctx, args, cur, "sorry")? {
        if let Some(s) = st(ctx).vs.as_mut().and_then(|v| v.sorry_server.as_mut()) {
            s.forwarding = Some(f);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- real_server

static RS_BLOCK: Block = Block {
    index: KwIndexCell::new(),
    name: "real_server",
    parts: &[
        &[
            Kw::value("weight", rs_weight),
            Kw::value("lvs_method", rs_method),
            Kw::value("uthreshold", rs_uthreshold),
            Kw::value("lthreshold", rs_lthreshold),
            Kw::value("inhibit_on_failure", rs_inhibit),
            Kw::script("notify_up", rs_notify_up),
            Kw::script("notify_down", rs_notify_down),
            Kw::value("alpha", rs_alpha),
            Kw::value("retry", rs_retry),
            Kw::value("delay_before_retry", rs_delay_before_retry),
            Kw::value("warmup", rs_warmup),
            Kw::value("connect_timeout", rs_connect_timeout),
            Kw::value("delay_loop", rs_delay_loop),
            Kw::value("smtp_alert", rs_smtp_alert),
            Kw::value("virtualhost", rs_virtualhost),
            Kw::value("snmp_name", rs_snmp_name),
        ],
        CHECKER_KWS,
    ],
    close: Some(rs_close),
};

fn rs_open(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    let ip = ctx.req(args, 1)?;
    let port = args.get(2);
    let port_str = port.filter(|p| !p.bytes().all(|b| b == b'0'));
    let Some((addr, port_num)) = sockaddr(ctx, ip, port_str) else {
        ctx.error(format!("Invalid real server ip address/port {ip}/{} - skipping", port.unwrap_or("(null)")));
        return Ok(Enter::Skip);
    };
    let forwarding = st(ctx).vs.as_ref().and_then(|v| v.forwarding);
    st(ctx).rs = Some(RealServer {
        addr,
        port: port_num,
        weight: None,
        forwarding,
        uthreshold: 0,
        lthreshold: 0,
        inhibit_on_failure: None,
        alpha: None,
        notify_up: None,
        notify_down: None,
        retry: None,
        delay_before_retry: None,
        warmup: None,
        connect_timeout: None,
        delay_loop: None,
        smtp_alert: None,
        virtualhost: None,
        snmp_name: None,
        checkers: Vec::new(),
        file_checks: Vec::new(),
        origin: args.origin(),
    });
    Ok(Enter::Yes)
}

fn rs_close(ctx: &mut Ctx) -> Res {
    let Some(rs) = st(ctx).rs.take() else {
        return Ok(());
    };
    let Some(vs) = st(ctx).vs.as_mut() else {
        return Ok(());
    };
    if rs.forwarding.map(|f| f.method) != Some(FwdMethod::Tun) {
        let f = Family::of(&rs.addr);
        match vs.af {
            None => vs.af = Some(f),
            Some(a) if a != f => {
                ctx.error(format!(
                    "Address family of virtual server and real server {} don't match - skipping real server.",
                    rs.addr
                ));
                return Ok(());
            }
            _ => {}
        }
    }
    st(ctx).real_servers.push(rs);
    Ok(())
}

macro_rules! with_rs {
    ($ctx:expr, $rs:ident => $body:expr) => {
        if let Some($rs) = $ctx.cfg.lvs.state.rs.as_mut() {
            $body;
        }
    };
}

fn rs_weight(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_unsigned(s, 0, WEIGHT_LIMIT, true) {
        Some(v) => with_rs!(ctx, rs => rs.weight = Some(v)),
        None => ctx.error(format!("Real server weight {s} is outside range 0-{WEIGHT_LIMIT}")),
    }
    Ok(())
}

fn rs_method(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let cur = st(ctx).rs.as_ref().and_then(|r| r.forwarding);
    if let Some(f) = read_forwarding(ctx, args, cur, "real")? {
        with_rs!(ctx, rs => rs.forwarding = Some(f));
    }
    Ok(())
}

fn rs_uthreshold(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_unsigned(s, 0, u32::MAX, true) {
        Some(v) => with_rs!(ctx, rs => rs.uthreshold = v),
        None => ctx.error(format!("Invalid real_server uthreshold '{s}' - ignoring")),
    }
    Ok(())
}

fn rs_lthreshold(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_unsigned(s, 0, u32::MAX, true) {
        Some(v) => with_rs!(ctx, rs => rs.lthreshold = v),
        None => ctx.error(format!("Invalid real_server lthreshold '{s}' - ignoring")),
    }
    Ok(())
}

fn rs_inhibit(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = bool_arg(ctx, args, "Invalid inhibit_on_failure parameter") {
        with_rs!(ctx, rs => rs.inhibit_on_failure = Some(b));
    }
    Ok(())
}

fn rs_notify_up(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if st(ctx).rs.as_ref().is_some_and(|r| r.notify_up.is_some()) {
        let s = ctx.req(args, 1)?;
        let g = vsgname(ctx);
        ctx.error(format!("({g}) notify_up script already specified - ignoring {s}"));
        return Ok(());
    }
    let sc = ctx.read_script(args, "notify");
    ctx.stop_if_stopped()?;
    with_rs!(ctx, rs => rs.notify_up = sc.map(Box::new));
    Ok(())
}

fn rs_notify_down(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if st(ctx).rs.as_ref().is_some_and(|r| r.notify_down.is_some()) {
        let s = ctx.req(args, 1)?;
        let g = vsgname(ctx);
        ctx.error(format!("({g}) notify_down script already specified - ignoring {s}"));
        return Ok(());
    }
    let sc = ctx.read_script(args, "notify");
    ctx.stop_if_stopped()?;
    with_rs!(ctx, rs => rs.notify_down = sc.map(Box::new));
    Ok(())
}

fn rs_alpha(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = bool_arg(ctx, args, "Invalid alpha parameter") {
        with_rs!(ctx, rs => rs.alpha = Some(b));
    }
    Ok(())
}

fn rs_retry(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_unsigned(s, 1, u32::MAX, false) {
        Some(v) => with_rs!(ctx, rs => rs.retry = Some(v)),
        None => ctx.error(format!("retry value invalid - {s}")),
    }
    Ok(())
}

fn rs_delay_before_retry(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_timer(s, 0, 0, true) {
        Some(v) => with_rs!(ctx, rs => rs.delay_before_retry = Some(v)),
        None => ctx.error(format!("real server delay_before_retry '{s}' invalid - ignoring")),
    }
    Ok(())
}

fn rs_warmup(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_timer(s, 0, 0, true) {
        Some(v) => with_rs!(ctx, rs => rs.warmup = Some(v)),
        None => ctx.error(format!("real server warmup '{s}' invalid - ignoring")),
    }
    Ok(())
}

fn rs_connect_timeout(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_timer(s, 1, u32::MAX as u64, true) {
        Some(v) => with_rs!(ctx, rs => rs.connect_timeout = Some(v)),
        None => ctx.error(format!("real server connect_timeout {s} invalid - ignoring")),
    }
    Ok(())
}

fn rs_delay_loop(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_timer(s, 1, 0, true) {
        Some(v) => with_rs!(ctx, rs => rs.delay_loop = Some(v)),
        None => ctx.error(format!("real server delay_loop '{s}' invalid - ignoring")),
    }
    Ok(())
}

fn rs_smtp_alert(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = bool_arg(ctx, args, "Invalid real_server smtp_alert parameter") {
        with_rs!(ctx, rs => rs.smtp_alert = Some(b));
    }
    Ok(())
}

fn rs_virtualhost(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    match args.get(1) {
        None => ctx.error("real server virtualhost missing"),
        Some(h) => with_rs!(ctx, rs => rs.virtualhost = Some(h.to_string())),
    }
    Ok(())
}

fn rs_snmp_name(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if args.len() != 2 {
        ctx.error("real server snmp_name missing or extra parameters");
        return Ok(());
    }
    ctx.report(Severity::Notice, "snmp_name is accepted but not implemented by keepalived-rs");
    let n = args.word(1).to_string();
    with_rs!(ctx, rs => rs.snmp_name = Some(n));
    Ok(())
}

// ---------------------------------------------------------------- checkers

static CHECKER_KWS: &[Kw] = &[
    Kw::block("MISC_CHECK", misc_open, &MISC_BLOCK),
    Kw::block("SMTP_CHECK", smtp_open, &SMTP_BLOCK),
    Kw::block("TCP_CHECK", tcp_open, &TCP_BLOCK),
    Kw::block("PING_CHECK", ping_open, &PING_BLOCK),
    Kw::block("UDP_CHECK", udp_open, &UDP_BLOCK),
    Kw::block("HTTP_GET", http_open, &HTTP_BLOCK),
    Kw::block("SSL_GET", http_open, &SSL_GET_BLOCK),
    Kw::block("DNS_CHECK", dns_open, &DNS_BLOCK),
    Kw::block("FILE_CHECK", file_open, &FILE_BLOCK),
    Kw::block("BFD_CHECK", bfd_open, &BFD_BLOCK),
];

/// Connection keywords (`install_checker_common_keywords(true)`).
static CONN_KWS: &[Kw] = &[
    Kw::value("connect_ip", co_ip),
    Kw::value("connect_port", co_port),
    Kw::value("bindto", co_bindto),
    Kw::value("bind_port", co_bind_port),
    Kw::value("bind_if", co_bind_if),
    Kw::value("connect_timeout", co_timeout),
    Kw::value("fwmark", co_fwmark),
];

/// Keywords of every queued checker.
static COMMON_KWS: &[Kw] = &[
    Kw::value("retry", ck_retry),
    Kw::value("delay_before_retry", ck_delay_before_retry),
    Kw::value("warmup", ck_warmup),
    Kw::value("delay_loop", ck_delay_loop),
    Kw::value("alpha", ck_alpha),
    Kw::value("log_all_failures", ck_log_all_failures),
];

static TCP_BLOCK: Block = Block {
    index: KwIndexCell::new(),
    name: "TCP_CHECK",
    parts: &[CONN_KWS, COMMON_KWS],
    close: Some(conn_checker_close),
};
static PING_BLOCK: Block = Block {
    index: KwIndexCell::new(),
    name: "PING_CHECK",
    parts: &[CONN_KWS, COMMON_KWS],
    close: Some(conn_checker_close),
};
static UDP_BLOCK: Block = Block {
    index: KwIndexCell::new(),
    name: "UDP_CHECK",
    parts: &[
        CONN_KWS,
        COMMON_KWS,
        &[
            Kw::value("payload", udp_payload),
            Kw::value("require_reply", udp_require_reply),
            Kw::value("min_reply_length", udp_min_len),
            Kw::value("max_reply_length", udp_max_len),
        ],
    ],
    close: Some(udp_close),
};
static DNS_BLOCK: Block = Block {
    index: KwIndexCell::new(),
    name: "DNS_CHECK",
    parts: &[CONN_KWS, COMMON_KWS, &[Kw::value("type", dns_type), Kw::value("name", dns_name)]],
    close: Some(dns_close),
};
static MISC_BLOCK: Block = Block {
    index: KwIndexCell::new(),
    name: "MISC_CHECK",
    parts: &[
        COMMON_KWS,
        &[
            Kw::script("misc_path", misc_path),
            Kw::value("misc_timeout", misc_timeout),
            Kw::value("misc_dynamic", misc_dynamic),
            Kw::value("user", misc_user),
        ],
    ],
    close: Some(misc_close),
};
static SMTP_BLOCK: Block = Block {
    index: KwIndexCell::new(),
    name: "SMTP_CHECK",
    parts: &[
        &[Kw::value("helo_name", smtp_helo), Kw::block("host", smtp_host_open, &SMTP_HOST_BLOCK)],
        CONN_KWS,
        COMMON_KWS,
    ],
    close: Some(smtp_close),
};
static SMTP_HOST_BLOCK: Block =
    Block { index: KwIndexCell::new(), name: "host", parts: &[CONN_KWS, COMMON_KWS], close: Some(smtp_host_close) };
static HTTP_KWS: &[Kw] = &[
    Kw::value("nb_get_retry", http_nb_get_retry),
    Kw::value("virtualhost", http_virtualhost),
    Kw::value("http_protocol", http_protocol),
    Kw::value("enable_sni", http_enable_sni),
    Kw::value("sni_name", http_sni_name),
    Kw::value("fast_recovery", http_fast_recovery),
];
static HTTP_BLOCK: Block = Block {
    index: KwIndexCell::new(),
    name: "HTTP_GET",
    parts: &[CONN_KWS, COMMON_KWS, HTTP_KWS, &[Kw::block("url", url_open, &URL_BLOCK)]],
    close: Some(http_close),
};
static SSL_GET_BLOCK: Block = Block {
    index: KwIndexCell::new(),
    name: "SSL_GET",
    parts: &[
        CONN_KWS,
        COMMON_KWS,
        HTTP_KWS,
        &[Kw::value("tls_compliant", http_tls_compliant), Kw::block("url", url_open, &SSL_URL_BLOCK)],
    ],
    close: Some(http_close),
};
static URL_KWS: &[Kw] = &[
    Kw::value("path", url_path),
    Kw::value("digest", url_digest),
    Kw::value("status_code", url_status_code),
    Kw::value("virtualhost", url_virtualhost),
    Kw::value("regex", url_regex),
    Kw::value("regex_no_match", url_regex_no_match),
    Kw::value("regex_options", url_regex_options),
    Kw::value("regex_min_offset", url_regex_min_offset),
    Kw::value("regex_max_offset", url_regex_max_offset),
    Kw::value("regex_stack", url_regex_stack),
];
static URL_BLOCK: Block = Block { index: KwIndexCell::new(), name: "url", parts: &[URL_KWS], close: Some(url_close) };
static SSL_URL_BLOCK: Block = Block {
    index: KwIndexCell::new(),
    name: "url",
    parts: &[URL_KWS, &[Kw::value("tls_compliant", url_tls_compliant)]],
    close: Some(url_close),
};
static FILE_BLOCK: Block = Block {
    index: KwIndexCell::new(),
    name: "FILE_CHECK",
    parts: &[&[Kw::value("track_file", file_track_file), Kw::value("weight", file_weight)]],
    close: Some(file_close),
};
static BFD_BLOCK: Block = Block {
    index: KwIndexCell::new(),
    name: "BFD_CHECK",
    parts: &[&[Kw::value("name", bfd_name), Kw::value("alpha", ck_alpha)]],
    close: Some(bfd_close),
};

/// keepalived `queue_checker`.
fn queue(ctx: &mut Ctx, args: &Args<'_>, kind: CheckerKind, conn: bool) -> Res<Enter> {
    if st(ctx).rs.is_none() {
        return Ok(Enter::Skip);
    }
    let (default_retry, default_dbr) = match &kind {
        CheckerKind::Http(_) => (1, 3_000_000),
        CheckerKind::Dns(_) => (3, 0),
        CheckerKind::Misc(_) => (0, 1_000_000),
        _ => (1, 1_000_000),
    };
    st(ctx).checker = Some(Checker {
        kind,
        conn: if conn { Some(ConnOpts::default()) } else { None },
        retry: None,
        delay_before_retry: None,
        warmup: None,
        delay_loop: None,
        alpha: None,
        log_all_failures: false,
        default_retry,
        default_delay_before_retry: default_dbr,
        origin: args.origin(),
    });
    Ok(Enter::Yes)
}

/// Add the finished checker to the real server.
fn commit_checker(ctx: &mut Ctx, c: Checker) {
    // Most real servers have one checker: do not let Vec round up to 4.
    with_rs!(ctx, rs => { rs.checkers.reserve_exact(1); rs.checkers.push(c) });
}

/// keepalived `check_conn_opts`: an IPv6 link-local destination needs `bind_if`.
fn conn_ok(ctx: &mut Ctx, c: &Checker) -> bool {
    let Some(co) = &c.conn else { return true };
    let rs_addr = st(ctx).rs.as_ref().map(|r| r.addr);
    let dst = co.connect_ip.or(rs_addr);
    if let Some(IpAddr::V6(a)) = dst {
        if (a.segments()[0] & 0xffc0) == 0xfe80 && co.bind_if.is_none() {
            ctx.error(format!("Checker link local address {a} requires a bind_if"));
            return false;
        }
    }
    true
}

fn conn_checker_close(ctx: &mut Ctx) -> Res {
    let Some(c) = st(ctx).checker.take() else {
        return Ok(());
    };
    if conn_ok(ctx, &c) {
        commit_checker(ctx, c);
    }
    Ok(())
}

fn tcp_open(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    queue(ctx, args, CheckerKind::Tcp, true)
}

fn ping_open(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    queue(ctx, args, CheckerKind::Ping, true)
}

/// The connection options being configured: a SMTP `host { }` entry, or
/// the current checker's.
fn cur_conn(ctx: &mut Ctx) -> Option<&mut ConnOpts> {
    let s = st(ctx);
    if s.smtp_host.is_some() {
        return s.smtp_host.as_mut();
    }
    s.checker.as_mut().and_then(|c| c.conn.as_mut())
}

fn co_ip(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    let Some(a) = parse_ip(s) else {
        ctx.error(format!("Invalid connect_ip address {s} - ignoring"));
        return Ok(());
    };
    let bind = cur_conn(ctx).and_then(|c| c.bindto);
    if bind.is_some_and(|b| b.is_ipv4() != a.is_ipv4()) {
        ctx.error(format!("connect_ip address {s} does not match address family of bindto - skipping"));
        if let Some(c) = cur_conn(ctx) {
            c.connect_ip = None;
        }
        return Ok(());
    }
    if let Some(c) = cur_conn(ctx) {
        c.connect_ip = Some(a);
    }
    Ok(())
}

fn co_port(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_unsigned(s, 1, 65535, true) {
        Some(p) => {
            if let Some(c) = cur_conn(ctx) {
                c.connect_port = Some(p as u16);
            }
        }
        None => ctx.error(format!("Invalid checker connect_port '{s}'")),
    }
    Ok(())
}

fn co_bindto(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    let Some(a) = parse_ip(s) else {
        ctx.error(format!("Invalid bindto address {s} - ignoring"));
        return Ok(());
    };
    let dst = cur_conn(ctx).and_then(|c| c.connect_ip);
    if dst.is_some_and(|d| d.is_ipv4() != a.is_ipv4()) {
        ctx.error(format!("bindto address {s} does not match address family of connect_ip - skipping"));
        if let Some(c) = cur_conn(ctx) {
            c.bindto = None;
        }
        return Ok(());
    }
    if let Some(c) = cur_conn(ctx) {
        c.bindto = Some(a);
    }
    Ok(())
}

fn co_bind_port(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_unsigned(s, 1, 65535, true) {
        Some(p) => {
            if let Some(c) = cur_conn(ctx) {
                c.bind_port = Some(p as u16);
            }
        }
        None => ctx.error(format!("Invalid checker bind_port '{s}'")),
    }
    Ok(())
}

fn co_bind_if(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    if s.len() > 15 {
        ctx.error(format!("Interface name {s} is too long - ignoring"));
        return Ok(());
    }
    if let Some(c) = cur_conn(ctx) {
        c.bind_if = Some(s.to_string());
    }
    Ok(())
}

fn co_timeout(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_timer(s, 1, u32::MAX as u64, true) {
        Some(v) => {
            if let Some(c) = cur_conn(ctx) {
                c.connect_timeout = Some(v);
            }
        }
        None => ctx.error(format!("connect_timeout {s} invalid - ignoring")),
    }
    Ok(())
}

fn co_fwmark(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_unsigned(s, 0, u32::MAX, true) {
        Some(v) => {
            if let Some(c) = cur_conn(ctx) {
                c.fwmark = Some(v);
            }
        }
        None => ctx.error(format!("Invalid fwmark connection value '{s}'")),
    }
    Ok(())
}

macro_rules! with_ck {
    ($ctx:expr, $c:ident => $body:expr) => {
        if let Some($c) = $ctx.cfg.lvs.state.checker.as_mut() {
            $body;
        }
    };
}

fn ck_retry(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_unsigned(s, 0, u32::MAX, true) {
        Some(v) => with_ck!(ctx, c => c.retry = Some(v)),
        None => ctx.error(format!("Invalid retry connection value '{s}'")),
    }
    Ok(())
}

fn ck_delay_before_retry(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_timer(s, 0, 0, true) {
        Some(v) => with_ck!(ctx, c => c.delay_before_retry = Some(v)),
        None => ctx.error(format!("Invalid delay_before_retry connection value '{s}'")),
    }
    Ok(())
}

fn ck_warmup(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_timer(s, 0, 0, true) {
        Some(v) => with_ck!(ctx, c => c.warmup = Some(v)),
        None => ctx.error(format!("Invalid warmup connection value '{s}'")),
    }
    Ok(())
}

fn ck_delay_loop(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_timer(s, 1, 0, true) {
        Some(v) => with_ck!(ctx, c => c.delay_loop = Some(v)),
        None => ctx.error(format!("delay_loop '{s}' is invalid - ignoring")),
    }
    Ok(())
}

fn ck_alpha(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = bool_arg(ctx, args, "Invalid alpha parameter") {
        with_ck!(ctx, c => c.alpha = Some(b));
    }
    Ok(())
}

fn ck_log_all_failures(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = bool_arg(ctx, args, "Invalid log_all_failures parameter") {
        with_ck!(ctx, c => c.log_all_failures = b);
    }
    Ok(())
}

// ---- HTTP_GET / SSL_GET

fn http_open(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    let ssl = args.word(0) == "SSL_GET";
    if ssl && st(ctx).rs.is_some() {
        ctx.cfg.lvs.ssl_required = true;
    }
    queue(ctx, args, CheckerKind::Http(Box::new(HttpCheck { ssl, ..Default::default() })), true)
}

fn http_mut(ctx: &mut Ctx) -> Option<&mut HttpCheck> {
    match st(ctx).checker.as_mut().map(|c| &mut c.kind) {
        Some(CheckerKind::Http(h)) => Some(&mut **h),
        _ => None,
    }
}

fn http_close(ctx: &mut Ctx) -> Res {
    let Some(c) = st(ctx).checker.take() else {
        return Ok(());
    };
    if let CheckerKind::Http(h) = &c.kind {
        if h.urls.is_empty() {
            ctx.error("HTTP/SSL_GET checker has no urls specified - ignoring");
            return Ok(());
        }
    }
    if conn_ok(ctx, &c) {
        commit_checker(ctx, c);
    }
    Ok(())
}

fn http_nb_get_retry(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    ctx.error("nb_get_retry is deprecated - please use 'retry'");
    let s = ctx.req(args, 1)?;
    match ctx.read_unsigned(s, 0, u32::MAX, true) {
        Some(v) => with_ck!(ctx, c => c.retry = Some(v)),
        None => ctx.error(format!("Invalid nb_get_retry value '{s}'")),
    }
    Ok(())
}

fn http_virtualhost(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    match args.get(1) {
        None => ctx.error("HTTP_GET virtualhost name missing"),
        Some(v) => {
            if let Some(h) = http_mut(ctx) {
                h.virtualhost = Some(v.to_string());
            }
        }
    }
    Ok(())
}

fn http_protocol(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let p = match args.get(1) {
        None => {
            ctx.error("Missing http_protocol version");
            return Ok(());
        }
        Some("1.0") => HttpProtocol::V1_0,
        Some("1.1") => HttpProtocol::V1_1,
        Some("1.0C") | Some("1.0c") => HttpProtocol::V1_0C,
        Some(v) => {
            ctx.error(format!("Invalid http_protocol version {v}"));
            return Ok(());
        }
    };
    if let Some(h) = http_mut(ctx) {
        h.http_protocol = p;
    }
    Ok(())
}

fn http_enable_sni(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = bool_arg(ctx, args, "Invalid enable_sni parameter") {
        if let Some(h) = http_mut(ctx) {
            h.enable_sni = b;
        }
    }
    Ok(())
}

fn http_sni_name(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let cur = http_mut(ctx).and_then(|h| h.sni_name.clone());
    match args.get(1) {
        Some(n) => {
            if let Some(h) = http_mut(ctx) {
                h.sni_name = Some(n.to_string());
            }
        }
        None => {
            if let Some(c) = cur {
                ctx.error(format!("sni_name already specified as {c} - ignoring setting to default"));
                return Ok(());
            }
        }
    }
    if let Some(h) = http_mut(ctx) {
        h.enable_sni = true;
    }
    Ok(())
}

fn http_fast_recovery(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = bool_arg(ctx, args, "Invalid fast_recovery parameter") {
        if let Some(h) = http_mut(ctx) {
            h.fast_recovery = b;
        }
    }
    Ok(())
}

fn http_tls_compliant(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = bool_arg(ctx, args, "Invalid tls_compliant option") {
        if let Some(h) = http_mut(ctx) {
            h.tls_compliant = b;
        }
    }
    Ok(())
}

fn url_open(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    if st(ctx).checker.is_none() {
        return Ok(Enter::Skip);
    }
    st(ctx).url = Some(Url::new(args.origin()));
    Ok(Enter::Yes)
}

fn url_close(ctx: &mut Ctx) -> Res {
    let Some(mut url) = st(ctx).url.take() else {
        return Ok(());
    };
    if url.path.is_none() {
        ctx.error("HTTP/SSL_GET checker url has no path - ignoring");
        return Ok(());
    }
    if url.status_codes.is_empty() {
        url.status_codes.push((200, 299));
    }
    if let Some(p) = st(ctx).regex_pattern.take() {
        url.regex = Some(p);
    } else if !url.regex_options.is_empty()
        || url.regex_no_match
        || url.regex_min_offset != 0
        || url.regex_max_offset != 0
        || url.regex_stack.is_some()
    {
        ctx.log("regex parameters specified without regex");
        url.regex_options.clear();
        url.regex_no_match = false;
        url.regex_min_offset = 0;
        url.regex_max_offset = 0;
        url.regex_stack = None;
    }
    if url.regex_max_offset != 0 && url.regex_min_offset >= url.regex_max_offset {
        ctx.log(format!(
            "regex min offset {} > regex_max_offset {} - ignoring",
            url.regex_min_offset,
            url.regex_max_offset - 1
        ));
        url.regex_min_offset = 0;
        url.regex_max_offset = 0;
    }
    if let Some(h) = http_mut(ctx) {
        h.urls.push(url);
    }
    Ok(())
}

macro_rules! with_url {
    ($ctx:expr, $u:ident => $body:expr) => {
        if let Some($u) = $ctx.cfg.lvs.state.url.as_mut() {
            $body;
        }
    };
}

fn url_path(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let p = ctx.req(args, 1)?.to_string();
    with_url!(ctx, u => u.path = Some(p));
    Ok(())
}

fn url_digest(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let d = ctx.req(args, 1)?;
    if st(ctx).url.as_ref().is_some_and(|u| u.digest.is_some()) {
        ctx.error(format!("Digest '{d}' is a duplicate"));
        return Ok(());
    }
    if d.len() != 32 {
        ctx.error(format!("digest '{d}' character length should be 32 rather than {}", d.len()));
        return Ok(());
    }
    let b = d.as_bytes();
    let mut out = vec![0u8; 16];
    // keepalived converts from the last pair to the first and reports the
    // first bad pair it meets, showing the string truncated after it.
    for i in (0..16).rev() {
        let pair = &b[2 * i..2 * i + 2];
        let hexval = |c: u8| (c as char).to_digit(16);
        let ok = match (hexval(pair[0]), hexval(pair[1])) {
            (Some(h), Some(l)) => {
                out[i] = (h * 16 + l) as u8;
                true
            }
            _ => false,
        };
        if !ok {
            let shown = String::from_utf8_lossy(&b[..2 * i + 2]).into_owned();
            ctx.error(format!("Unable to interpret hex digit in '{shown}' at offset {}/{}", 2 * i, 2 * i + 1));
            return Ok(());
        }
    }
    with_url!(ctx, u => u.digest = Some(out));
    Ok(())
}

fn url_status_code(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    for s in args.rest(1) {
        let (min, rest) = strtoul(s);
        let (max, rest) = match rest.strip_prefix('-') {
            Some(r) => strtoul(r),
            None => (min, rest),
        };
        if !rest.is_empty() || !(100..=599).contains(&min) || !(100..=599).contains(&max) || min > max {
            ctx.error(format!("Invalid HTTP_GET status code '{s}'"));
            continue;
        }
        with_url!(ctx, u => u.status_codes.push((min as u16, max as u16)));
    }
    Ok(())
}

/// strtoul base 10 (leading blanks and a sign accepted); overflow saturates.
fn strtoul(s: &str) -> (u64, &str) {
    let t = s.trim_start_matches([' ', '\t']);
    let (neg, t2) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = t2.bytes().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 {
        return (0, s);
    }
    let v = t2[..n].parse::<u64>().unwrap_or(u64::MAX);
    (if neg { v.wrapping_neg() } else { v }, &t2[n..])
}

fn url_virtualhost(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    match args.get(1) {
        None => ctx.error("Missing HTTP_GET virtualhost name"),
        Some(v) => with_url!(ctx, u => u.virtualhost = Some(v.to_string())),
    }
    Ok(())
}

fn url_tls_compliant(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = bool_arg(ctx, args, "Invalid tls_compliant option") {
        with_url!(ctx, u => u.tls_compliant = b);
    }
    Ok(())
}

fn url_regex(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let words = crate::script::split(args.raw(), true).unwrap_or_default();
    if words.len() != 2 {
        ctx.log("regex missing or too many fields");
        return Ok(());
    }
    if let Some(old) = st(ctx).regex_pattern.clone() {
        ctx.error(format!("Duplicate regex specified - replacing {old} with {}", args.word(1)));
    }
    st(ctx).regex_pattern = Some(words[1].clone());
    Ok(())
}

fn url_regex_no_match(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    with_url!(ctx, u => u.regex_no_match = true);
    Ok(())
}

fn url_regex_options(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let opts: Vec<String> = args.rest(1).filter(|o| REGEX_OPTIONS.contains(o)).map(String::from).collect();
    with_url!(ctx, u => for o in opts {
        if !u.regex_options.contains(&o) {
            u.regex_options.push(o);
        }
    });
    Ok(())
}

fn regex_offset(ctx: &mut Ctx, args: &Args<'_>, which: &str) -> u64 {
    if args.len() != 2 {
        ctx.log(format!("Missing or too may options for regex_{which}_offset"));
        return 0;
    }
    let s = args.word(1);
    let (v, rest) = strtoul(s);
    if !rest.is_empty() {
        ctx.log(format!("Invalid regex_{which}_offset {s} specified"));
        return 0;
    }
    v
}

fn url_regex_min_offset(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let v = regex_offset(ctx, args, "min");
    with_url!(ctx, u => u.regex_min_offset = v);
    Ok(())
}

fn url_regex_max_offset(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let v = regex_offset(ctx, args, "max").wrapping_add(1);
    with_url!(ctx, u => u.regex_max_offset = v);
    Ok(())
}

fn url_regex_stack(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if args.len() != 3 {
        ctx.log("regex_stack requires start and max values");
        return Ok(());
    }
    let (a, r1) = strtoul(args.word(1));
    if !r1.is_empty() {
        ctx.log("regex_stack invalid start value");
        return Ok(());
    }
    let (b, r2) = strtoul(args.word(2));
    if !r2.is_empty() {
        ctx.log("regex_stack invalid max value");
        return Ok(());
    }
    if a > b {
        ctx.log("regex stack start cannot exceed max value");
        return Ok(());
    }
    with_url!(ctx, u => u.regex_stack = Some((a, b)));
    Ok(())
}

// ---- SMTP_CHECK

fn smtp_open(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    st(ctx).smtp_hosts.clear();
    st(ctx).smtp_host = None;
    queue(ctx, args, CheckerKind::Smtp(Box::default()), true)
}

fn smtp_helo(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let Some(n) = args.get(1) else {
        ctx.error("SMTP_CHECK helo name missing");
        return Ok(());
    };
    let has = matches!(st(ctx).checker.as_ref().map(|c| &c.kind), Some(CheckerKind::Smtp(s)) if s.helo_name.is_some());
    if has {
        ctx.error("SMTP_CHECK helo name already specified");
    }
    if let Some(CheckerKind::Smtp(s)) = st(ctx).checker.as_mut().map(|c| &mut c.kind) {
        s.helo_name = Some(n.to_string());
    }
    Ok(())
}

fn smtp_host_open(ctx: &mut Ctx, _args: &Args<'_>) -> Res<Enter> {
    if st(ctx).checker.is_none() {
        return Ok(Enter::Skip);
    }
    st(ctx).smtp_host = Some(ConnOpts::default());
    Ok(Enter::Yes)
}

fn smtp_host_close(ctx: &mut Ctx) -> Res {
    let Some(co) = st(ctx).smtp_host.take() else {
        return Ok(());
    };
    let rs_addr = st(ctx).rs.as_ref().map(|r| r.addr);
    if let Some(IpAddr::V6(a)) = co.connect_ip.or(rs_addr) {
        if (a.segments()[0] & 0xffc0) == 0xfe80 && co.bind_if.is_none() {
            ctx.error(format!("Checker link local address {a} requires a bind_if"));
            return Ok(());
        }
    }
    st(ctx).smtp_hosts.push(co);
    Ok(())
}

fn smtp_close(ctx: &mut Ctx) -> Res {
    let Some(mut c) = st(ctx).checker.take() else {
        return Ok(());
    };
    let hosts = std::mem::take(&mut st(ctx).smtp_hosts);
    if let CheckerKind::Smtp(s) = &mut c.kind {
        if s.helo_name.is_none() {
            s.helo_name = Some("smtpchecker.keepalived.org".to_string());
        }
    }
    if !hosts.is_empty() {
        ctx.log("The SMTP_CHECK host block is deprecated. Please define additional checkers.");
    }
    let co_set = c.conn.as_ref().is_some_and(|co| *co != ConnOpts::default());
    let mut hosts = hosts.into_iter();
    if co_set || hosts.len() == 0 {
        if !conn_ok(ctx, &c) {
            return Ok(());
        }
    } else if let Some(first) = hosts.next() {
        c.conn = Some(first);
    }
    let conn_to = {
        let rs_to = st(ctx).rs.as_ref().and_then(|r| r.connect_timeout);
        let vs_to = st(ctx).vs.as_ref().map(|v| v.connect_timeout).unwrap_or(5_000_000);
        rs_to.unwrap_or(vs_to)
    };
    if let Some(co) = c.conn.as_mut() {
        co.connect_timeout.get_or_insert(conn_to);
    }
    let extra: Vec<Checker> = hosts
        .map(|mut co| {
            co.connect_timeout.get_or_insert(conn_to);
            let mut n = c.clone();
            n.conn = Some(co);
            n
        })
        .collect();
    commit_checker(ctx, c);
    for n in extra {
        commit_checker(ctx, n);
    }
    Ok(())
}

// ---- DNS_CHECK

fn dns_open(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    queue(ctx, args, CheckerKind::Dns(Box::new(DnsCheck { qtype: "SOA".into(), name: None })), true)
}

fn dns_mut(ctx: &mut Ctx) -> Option<&mut DnsCheck> {
    match st(ctx).checker.as_mut().map(|c| &mut c.kind) {
        Some(CheckerKind::Dns(d)) => Some(&mut **d),
        _ => None,
    }
}

fn dns_type(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match DNS_TYPES.iter().find(|t| t.eq_ignore_ascii_case(s)) {
        Some(t) => {
            if let Some(d) = dns_mut(ctx) {
                d.qtype = t.to_string();
            }
        }
        None => ctx.error(format!("Unknown DNS check type {s} - ignoring")),
    }
    Ok(())
}

fn dns_name(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if dns_mut(ctx).is_some_and(|d| d.name.is_some()) {
        ctx.error("DNS_CHECK name already specified - ignoring");
        return Ok(());
    }
    let name = ctx.req(args, 1)?;
    let b = name.as_bytes();
    // keepalived's empty-label test, including its look at name[1] for a
    // name not starting with '.'.
    let mut invalid = false;
    if b.first() == Some(&b'.') && b.len() > 1 {
        invalid = true;
    } else {
        let mut p = 0usize;
        loop {
            if b.get(p + 1) == Some(&b'.') {
                invalid = true;
                break;
            }
            match b.iter().skip(p + 1).position(|c| *c == b'.') {
                Some(off) if p < b.len() => p = p + 1 + off,
                _ => break,
            }
        }
    }
    if invalid {
        ctx.error(format!("DNS_CHECK name '{name}' has empty label - ignoring"));
        return Ok(());
    }
    if let Some(d) = dns_mut(ctx) {
        d.name = Some(name.to_string());
    }
    Ok(())
}

fn dns_close(ctx: &mut Ctx) -> Res {
    let Some(mut c) = st(ctx).checker.take() else {
        return Ok(());
    };
    if !conn_ok(ctx, &c) {
        return Ok(());
    }
    if let CheckerKind::Dns(d) = &mut c.kind {
        d.name.get_or_insert_with(String::new);
    }
    commit_checker(ctx, c);
    Ok(())
}

// ---- UDP_CHECK

fn udp_open(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    let u = UdpCheck {
        payload: None,
        require_reply: false,
        reply_data: None,
        reply_mask: None,
        min_reply_length: 0,
        max_reply_length: 255,
    };
    queue(ctx, args, CheckerKind::Udp(Box::new(u)), true)
}

fn udp_mut(ctx: &mut Ctx) -> Option<&mut UdpCheck> {
    match st(ctx).checker.as_mut().map(|c| &mut c.kind) {
        Some(CheckerKind::Udp(u)) => Some(&mut **u),
        _ => None,
    }
}

/// keepalived `read_hex_str`: hex octets, optionally separated by blanks;
/// with `wildcard`, x/X nibbles are wildcards. None when invalid or empty.
pub(crate) fn read_hex_str(s: &str, wildcard: bool) -> Option<(Vec<u8>, Vec<u8>)> {
    fn hv(c: u8, w: bool) -> Option<Option<u8>> {
        match c {
            b'0'..=b'9' => Some(Some(c - b'0')),
            b'a'..=b'f' => Some(Some(c - b'a' + 10)),
            b'A'..=b'F' => Some(Some(c - b'A' + 10)),
            b'x' | b'X' if w => Some(None),
            _ => None,
        }
    }
    let b = s.as_bytes();
    let (mut data, mut mask) = (Vec::new(), Vec::new());
    let mut i = 0;
    loop {
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let first = hv(b[i], wildcard)?;
        i += 1;
        let (mut val, mut m) = match first {
            Some(v) => (v, 0u8),
            None => (0, 0x0f),
        };
        if i < b.len() && b[i] != b' ' {
            let second = hv(b[i], wildcard)?;
            i += 1;
            val <<= 4;
            m <<= 4;
            match second {
                Some(v) => val |= v,
                None => m |= 0x0f,
            }
        }
        data.push(val);
        mask.push(m);
    }
    if data.is_empty() {
        None
    } else {
        Some((data, mask))
    }
}

fn udp_payload(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if args.len() == 1 {
        ctx.error("UDP_CHECK payload requires a payload");
        return Ok(());
    }
    let joined: Vec<&str> = args.rest(1).collect();
    match read_hex_str(&joined.join(" "), false) {
        Some((d, _)) => {
            if let Some(u) = udp_mut(ctx) {
                u.payload = Some(d);
            }
        }
        None => {
            ctx.error("Invalid hex string for UDP_CHECK payload");
            if let Some(u) = udp_mut(ctx) {
                u.payload = None;
            }
        }
    }
    Ok(())
}

fn udp_require_reply(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(u) = udp_mut(ctx) {
        u.require_reply = true;
    }
    if args.len() == 1 {
        return Ok(());
    }
    let joined: Vec<&str> = args.rest(1).collect();
    match read_hex_str(&joined.join(" "), true) {
        Some((d, m)) => {
            if let Some(u) = udp_mut(ctx) {
                u.reply_mask = if m.iter().any(|x| *x != 0) { Some(m) } else { None };
                u.reply_data = Some(d);
            }
        }
        None => {
            ctx.error("Invalid hex string for UDP_CHECK reply");
            if let Some(u) = udp_mut(ctx) {
                u.reply_data = None;
                u.reply_mask = None;
            }
        }
    }
    Ok(())
}

fn udp_min_len(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_unsigned(s, 0, u16::MAX as u32, false) {
        Some(v) => {
            if let Some(u) = udp_mut(ctx) {
                u.min_reply_length = v as u16;
            }
        }
        None => ctx.error(format!("UDP_CHECK min length {s} not valid - must be between 0 & {}", u16::MAX)),
    }
    Ok(())
}

fn udp_max_len(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_unsigned(s, 0, u16::MAX as u32, false) {
        Some(v) => {
            if let Some(u) = udp_mut(ctx) {
                u.max_reply_length = v as u16;
            }
        }
        None => ctx.error(format!("UDP_CHECK max length {s} not valid - must be between 0 & {}", u16::MAX)),
    }
    Ok(())
}

fn udp_close(ctx: &mut Ctx) -> Res {
    let Some(c) = st(ctx).checker.take() else {
        return Ok(());
    };
    if !conn_ok(ctx, &c) {
        return Ok(());
    }
    if let CheckerKind::Udp(u) = &c.kind {
        if u.min_reply_length > u.max_reply_length {
            ctx.error(format!(
                "UDP_CHECK min_reply length {} > max_reply_length {} - will always fail",
                u.min_reply_length, u.max_reply_length
            ));
        }
    }
    commit_checker(ctx, c);
    Ok(())
}

// ---- MISC_CHECK

fn misc_open(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    st(ctx).misc_user_set = false;
    queue(ctx, args, CheckerKind::Misc(Box::default()), false)
}

fn misc_mut(ctx: &mut Ctx) -> Option<&mut MiscCheck> {
    match st(ctx).checker.as_mut().map(|c| &mut c.kind) {
        Some(CheckerKind::Misc(m)) => Some(&mut **m),
        _ => None,
    }
}

fn misc_cmd(ctx: &mut Ctx) -> String {
    misc_mut(ctx).and_then(|m| m.script.as_ref().map(|s| s.cmd_str())).unwrap_or_default()
}

fn misc_path(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let words = ctx.split_script_line(args);
    let argv = words.as_ref().and_then(|w| w.get(1)).and_then(|cmd| crate::script::split(cmd, true).ok());
    let Some(argv) = argv.filter(|a| !a.is_empty()) else {
        return Ok(());
    };
    let origin = args.origin();
    if let Some(m) = misc_mut(ctx) {
        m.script = Some(crate::model::Script { args: argv, user: None, group: None, origin });
    }
    Ok(())
}

fn misc_timeout(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    match ctx.read_unsigned(s, 0, u32::MAX / 1_000_000, true) {
        Some(v) => {
            if let Some(m) = misc_mut(ctx) {
                m.timeout = Some(v as u64 * 1_000_000);
            }
        }
        None => ctx.error(format!("Invalid misc_timeout value '{s}'")),
    }
    Ok(())
}

fn misc_dynamic(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    if let Some(m) = misc_mut(ctx) {
        m.dynamic = true;
    }
    Ok(())
}

fn misc_user(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let Some(user) = args.get(1) else {
        let c = misc_cmd(ctx);
        ctx.error(format!("No user specified for misc checker script {c}"));
        return Ok(());
    };
    let group = args.get(2);
    if !ctx.check_user_group(user, group) {
        let c = misc_cmd(ctx);
        ctx.error(format!("Failed to set uid/gid for misc checker script {c} - removing"));
        st(ctx).checker = None;
        return Ok(());
    }
    st(ctx).misc_user_set = true;
    if let Some(m) = misc_mut(ctx) {
        m.user = Some(user.to_string());
        m.group = group.map(String::from);
    }
    Ok(())
}

fn misc_close(ctx: &mut Ctx) -> Res {
    let Some(mut c) = st(ctx).checker.take() else {
        return Ok(());
    };
    if let CheckerKind::Misc(m) = &mut c.kind {
        let Some(s) = m.script.as_mut() else {
            ctx.error("No script path has been specified for MISC_CHECKER - skipping");
            return Ok(());
        };
        s.user = m.user.clone();
        s.group = m.group.clone();
        if s.user.is_none() && crate::global::scripts::get_default_script_user(ctx).is_none() {
            let cmd = s.cmd_str();
            ctx.error(format!("Unable to set default user for misc script {cmd} - removing"));
            return Ok(());
        }
    }
    commit_checker(ctx, c);
    Ok(())
}

// ---- FILE_CHECK

fn file_open(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    if st(ctx).rs.is_none() {
        return Ok(Enter::Skip);
    }
    st(ctx).file_check = Some(FileCheck { track_file: None, weight: None, reverse: false, origin: args.origin() });
    Ok(Enter::Yes)
}

fn file_track_file(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = ctx.req(args, 1)?;
    if !ctx.cfg.vrrp.track_files.iter().any(|t| t.name == n) {
        ctx.error(format!("track_file {n} not found"));
        return Ok(());
    }
    if let Some(f) = st(ctx).file_check.as_mut() {
        f.track_file = Some(n.to_string());
    }
    Ok(())
}

fn file_weight(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let Some(s) = args.get(1) else {
        ctx.error("track file weight missing");
        return Ok(());
    };
    let lim = i32::MAX;
    let Some(w) = ctx.read_int(s, -lim, lim, true) else {
        ctx.error(format!("weight for track file must be in [{}..{}] inclusive. Ignoring...", -lim, lim));
        return Ok(());
    };
    let reverse = match args.get(2) {
        None | Some("noreverse") => false,
        Some("reverse") => true,
        Some(o) => {
            ctx.error(format!("unknown track file weight option {o} - ignoring"));
            return Ok(());
        }
    };
    if let Some(f) = st(ctx).file_check.as_mut() {
        f.weight = Some(w);
        f.reverse = reverse;
    }
    Ok(())
}

fn file_close(ctx: &mut Ctx) -> Res {
    let Some(mut f) = st(ctx).file_check.take() else {
        return Ok(());
    };
    let Some(name) = f.track_file.clone() else {
        ctx.error("FILE_CHECK has no track_file specified - ignoring");
        return Ok(());
    };
    if f.weight.is_none() {
        if let Some(t) = ctx.cfg.vrrp.track_files.iter().find(|t| t.name == name) {
            f.weight = Some(t.weight.weight);
            f.reverse = t.weight.reverse;
        }
    }
    with_rs!(ctx, rs => rs.file_checks.push(f));
    Ok(())
}

// ---- BFD_CHECK

fn bfd_open(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    queue(ctx, args, CheckerKind::Bfd(Box::default()), false)
}

fn cur_fmt_rs(ctx: &mut Ctx) -> String {
    let s = st(ctx);
    match (s.rs.as_ref(), s.vs.as_ref()) {
        (Some(rs), Some(vs)) => fmt_rs(rs, vs),
        _ => String::new(),
    }
}

fn bfd_name(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if st(ctx).checker.is_none() {
        return Ok(());
    }
    let who = cur_fmt_rs(ctx);
    let name = args.word(1).to_string();
    let current = match st(ctx).checker.as_ref().map(|c| &c.kind) {
        Some(CheckerKind::Bfd(b)) => b.name.clone(),
        _ => None,
    };
    let mut err = true;
    if args.len() != 2 {
        ctx.error(format!("({who}) BFD_CHECK - No or too many names specified - skipping checker"));
    } else if !ctx.cfg.bfd.instances.iter().any(|b| b.name == name) {
        ctx.error(format!("({who}) BFD_CHECK - BFD {name} not configured"));
    } else if let Some(cur) = current {
        ctx.error(format!("({who}) BFD_CHECK - BFD {name} already specified as {cur}"));
    } else if name.len() >= 32 {
        ctx.error(format!("({who}) BFD_CHECK - BFD name {name} too long"));
    } else {
        err = false;
    }
    if !err {
        let dup = st(ctx).rs.as_ref().is_some_and(|rs| {
            rs.checkers
                .iter()
                .any(|c| matches!(&c.kind, CheckerKind::Bfd(b) if b.name.as_deref() == Some(name.as_str())))
        });
        if dup {
            ctx.error(format!("({who}) BFD_CHECK - RS already monitoring {name}"));
            err = true;
        }
    }
    if err {
        st(ctx).checker = None;
        return Ok(());
    }
    if let Some(CheckerKind::Bfd(b)) = st(ctx).checker.as_mut().map(|c| &mut c.kind) {
        b.name = Some(name);
    }
    Ok(())
}

fn bfd_close(ctx: &mut Ctx) -> Res {
    let Some(c) = st(ctx).checker.take() else {
        return Ok(());
    };
    if matches!(&c.kind, CheckerKind::Bfd(b) if b.name.is_none()) {
        let who = cur_fmt_rs(ctx);
        ctx.error(format!("({who}) No name has been specified for BFD_CHECKER - skipping"));
        return Ok(());
    }
    commit_checker(ctx, c);
    Ok(())
}
