//! Keyword handlers and entry readers.
//!
//! The readers follow keepalived 2.2.7 `alloc_ipaddress`, `alloc_route`
//! (+ `parse_nexthops`, `parse_encap*`) and `alloc_rule` word by word,
//! including their quirks (e.g. `inet`/`inet6` at the start of a route or
//! rule also skip the following word), because configurations are tested
//! against keepalived's `-t` output.
//!
//! Interface existence is not known while parsing: it is checked during
//! validation ([`super::validate`], and the `check_*_interfaces` helpers
//! for the VRRP area's virtual entries).

use super::model::*;
use super::rttables;
use crate::engine::{Args, Block, Ctx, Enter, Kw, KwIndexCell, Res, Stop, Sys};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Root-level keywords owned by this area.
pub static ROOT: &[Kw] = &[
    Kw::list_with("static_ipaddress", Some(open_static), item_static_address, None).sys(Sys::Vrrp),
    Kw::list_with("static_routes", Some(open_static), item_static_route, None).sys(Sys::Vrrp),
    Kw::list_with("static_rules", Some(open_static), item_static_rule, None).sys(Sys::Vrrp),
    Kw::block("track_group", open_track_group, &TRACK_GROUP).sys(Sys::Vrrp),
];

static TRACK_GROUP: Block = Block {
    index: KwIndexCell::new(),
    name: "track_group",
    parts: &[&[Kw::list_with(
        "group",
        Some(open_track_group_group),
        item_track_group_group,
        Some(close_track_group_group),
    )]],
    close: None,
};

/// RTPROT_KEEPALIVED: the protocol keepalived gives tracked routes/rules.
pub const RTPROT_KEEPALIVED: u8 = 18;
/// First automatic rule preference (keepalived RULE_START_PRIORITY).
pub const RULE_START_PRIORITY: u32 = 16384;

fn open_static(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    // global_data->have_vrrp_config = true
    ctx.cfg.seen.vrrp = true;
    if args.len() > 1 {
        ctx.error(format!("Block {} has extra parameters {} ...", args.word(0), args.word(1)));
    }
    Ok(Enter::Yes)
}

/// A reader returned nothing because a parameter was missing: stop as
/// keepalived does (exit 2).
fn stop_if_stopped(ctx: &Ctx) -> Res {
    if ctx.diags.stopped {
        Err(Stop)
    } else {
        Ok(())
    }
}

fn item_static_address(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(a) = read_address(ctx, args, true) {
        ctx.cfg.ip.addresses.push(a);
    }
    stop_if_stopped(ctx)
}

fn item_static_route(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(r) = read_route(ctx, args, true) {
        ctx.cfg.ip.routes.push(r);
    }
    stop_if_stopped(ctx)
}

fn item_static_rule(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(r) = read_rule(ctx, args, true) {
        ctx.cfg.ip.rules.push(r);
    }
    stop_if_stopped(ctx)
}

// ---------------------------------------------------------------- track_group

fn open_track_group(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    ctx.cfg.seen.vrrp = true;
    if args.len() != 2 {
        ctx.error("track_group must have a name - skipping");
        return Ok(Enter::Skip);
    }
    let name = args.word(1);
    if ctx.cfg.ip.track_groups.iter().any(|g| g.name == name) {
        ctx.error(format!("track_group {name} already defined"));
        return Ok(Enter::Skip);
    }
    ctx.cfg.ip.track_groups.push(TrackGroup { name: name.to_string(), group: None, origin: args.origin() });
    Ok(Enter::Yes)
}

fn open_track_group_group(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    let Some(g) = ctx.cfg.ip.track_groups.last_mut() else {
        return Ok(Enter::Skip);
    };
    if g.group.is_some() {
        let msg = format!("Group list already specified for sync group {}", g.name);
        ctx.error(msg);
        return Ok(Enter::Skip);
    }
    g.group = Some(Vec::new());
    if args.len() > 1 {
        ctx.error(format!("Block {} has extra parameters {} ...", args.word(0), args.word(1)));
    }
    Ok(Enter::Yes)
}

fn item_track_group_group(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(Some(list)) = ctx.cfg.ip.track_groups.last_mut().map(|g| g.group.as_mut()) {
        list.extend(args.rest(0).map(str::to_string));
    }
    Ok(())
}

fn close_track_group_group(ctx: &mut Ctx) -> Res {
    let Some(g) = ctx.cfg.ip.track_groups.last_mut() else {
        return Ok(());
    };
    if g.group.as_ref().is_some_and(|l| l.is_empty()) {
        // keepalived keeps no list (iname NULL) for an empty block.
        g.group = None;
        let msg = format!("Warning - track group {} has empty group block", g.name);
        // keepalived reports at the block's closing line.
        ctx.origin = ctx.pp.origin();
        ctx.error(msg);
    }
    Ok(())
}

fn track_group_known(ctx: &Ctx, name: &str) -> bool {
    ctx.cfg.ip.track_groups.iter().any(|g| g.name == name)
}

// ---------------------------------------------------------------- helpers

/// keepalived `parse_ipaddress`: `IP[/PREFIX]` (the prefix only when
/// `allow_subnet_mask`). The family is IPv6 when the text has a ':'.
fn parse_ip(ctx: &mut Ctx, s: &str, allow_subnet_mask: bool) -> Option<(IpAddr, u8)> {
    let v6 = s.contains(':');
    let max: u8 = if v6 { 128 } else { 32 };
    let mut prefix = max;
    let mut text = s;
    if allow_subnet_mask {
        if let Some(p) = s.find('/') {
            let plen = &s[p + 1..];
            match ctx.read_unsigned(plen, 0, max as u32, true) {
                Some(v) => prefix = v as u8,
                None => ctx.error(format!("Invalid address prefix len {plen} for address {s} - using {max}")),
            }
            text = &s[..p];
        }
    }
    let addr =
        if v6 { text.parse::<Ipv6Addr>().ok().map(IpAddr::V6) } else { text.parse::<Ipv4Addr>().ok().map(IpAddr::V4) };
    match addr {
        Some(a) => Some((a, prefix)),
        None => {
            ctx.error(format!("VRRP parsed invalid IP {s}. skipping IP..."));
            None
        }
    }
}

/// A destination/source prefix while parsing: the family is unknown for
/// `default`/`any`/`all` until the entry's family is known.
#[derive(Clone, Copy)]
struct Pfx {
    fam: Option<Family>,
    addr: Option<IpAddr>,
    prefix: u8,
    default: bool,
}

impl Pfx {
    fn resolve(self, fam: Family) -> IpPrefix {
        let fam = self.fam.unwrap_or(fam);
        IpPrefix { addr: self.addr.unwrap_or_else(|| fam.any()), prefix: self.prefix, default: self.default }
    }
}

/// keepalived `parse_route`: `default|any|all`, deprecated `default6`, or
/// `IP[/PREFIX]`.
fn parse_route_addr(ctx: &mut Ctx, s: &str) -> Option<Pfx> {
    match s {
        "default" | "any" | "all" => Some(Pfx { fam: None, addr: None, prefix: 0, default: true }),
        "default6" => {
            ctx.log("'default6' is deprecated - please replace with 'inet6 default'");
            Some(Pfx { fam: Some(Family::Inet6), addr: None, prefix: 0, default: true })
        }
        _ => {
            let (a, p) = parse_ip(ctx, s, true)?;
            Some(Pfx { fam: Some(Family::of(&a)), addr: Some(a), prefix: p, default: false })
        }
    }
}

/// keepalived `get_u8/16/32`: read_unsigned (no partial acceptance), then
/// the caller's message with the value.
fn get_uint(ctx: &mut Ctx, s: &str, max: u32, msg: &str) -> Option<u32> {
    match ctx.read_unsigned(s, 0, max, false) {
        Some(v) => Some(v),
        None => {
            ctx.error(msg.replace("%s", s));
            None
        }
    }
}

fn get_u64(ctx: &mut Ctx, s: &str, msg: &str) -> Option<u64> {
    match ctx.read_unsigned64(s, 0, u64::MAX, false) {
        Some(v) => Some(v),
        None => {
            ctx.error(msg.replace("%s", s));
            None
        }
    }
}

/// keepalived `get_time_rtt` (2.2.7): a raw number in kernel units, or a
/// time with `s`/`sec`/`secs`/`ms`/`msec`/`msecs`. `unit_mult` converts
/// milliseconds to kernel units. Returns None on error (the caller reports).
fn get_time_rtt(ctx: &mut Ctx, s: &str, unit_mult: u32) -> Option<u32> {
    const RTT_MIN_MS: u64 = 200;
    const RTT_MAX_MS: u64 = 120_000;
    let str0 = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0B', '\x0C']);
    let (num, shift, raw) = match str0.find(['s', 'S']) {
        Some(p) => {
            let unit = &str0[p..];
            if !["s", "sec", "secs"].iter().any(|u| unit.eq_ignore_ascii_case(u)) {
                return None;
            }
            let (end, shift) =
                if p > 0 && str0.as_bytes()[p - 1].eq_ignore_ascii_case(&b'm') { (p - 1, 0) } else { (p, 3) };
            if end == 0 {
                return None;
            }
            (&str0[..end], shift, false)
        }
        None => (str0, 0, true),
    };
    if num.contains(['e', 'E']) {
        ctx.log(format!("rtt value exponential form {str0} no longer supported"));
        return None;
    }
    let max = RTT_MAX_MS * unit_mult as u64;
    let mut res = ctx.read_decimal(num, 0, max, shift, false)?;
    if !raw {
        res *= unit_mult as u64;
    }
    if res > max {
        ctx.log(format!("rtt value {str0} exceeds maximum {}s, resetting", RTT_MAX_MS / 1000));
        res = max;
    } else if res < RTT_MIN_MS * unit_mult as u64 {
        ctx.log(format!("rtt value {str0} below minimum {RTT_MIN_MS}ms, resetting"));
        res = RTT_MIN_MS * unit_mult as u64;
    }
    Some(res.min(u32::MAX as u64) as u32)
}

/// strtoul prefix parse (base 0/10/16): value (wrapping, ULONG_MAX on
/// overflow) and the unparsed rest; no digits → (0, whole input).
fn strtoul_prefix(s: &str, base: u32) -> (u64, &str) {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0B', '\x0C']);
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let hex_prefix = (body.starts_with("0x") || body.starts_with("0X"))
        && body.as_bytes().get(2).is_some_and(|c| c.is_ascii_hexdigit());
    let (radix, digits) = match base {
        0 if hex_prefix => (16, &body[2..]),
        0 if body.starts_with('0') => (8, body),
        0 => (10, body),
        16 if hex_prefix => (16, &body[2..]),
        b => (b, body),
    };
    let n = digits.bytes().take_while(|c| (*c as char).is_digit(radix)).count();
    if n == 0 {
        return (0, s);
    }
    let v = u64::from_str_radix(&digits[..n], radix).unwrap_or(u64::MAX);
    (if neg { v.wrapping_neg() } else { v }, &digits[n..])
}

/// sscanf `%u` (or `%hu`): optional blanks and sign, then digits.
fn scan_unsigned(s: &str) -> Option<(u64, &str)> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0B', '\x0C']);
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = body.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    let v = body[..n].parse::<u64>().unwrap_or(u64::MAX);
    Some((if neg { v.wrapping_neg() } else { v }, &body[n..]))
}

/// sscanf("%u-%u"): the number of conversions and the values.
fn scan_range(s: &str) -> (usize, u64, u64) {
    let Some((a, rest)) = scan_unsigned(s) else {
        return (0, 0, 0);
    };
    let Some(rest) = rest.strip_prefix('-') else {
        return (1, a, 0);
    };
    match scan_unsigned(rest) {
        Some((b, _)) => (2, a, b),
        None => (1, a, 0),
    }
}

// ---------------------------------------------------------------- addresses

/// keepalived `alloc_ipaddress(strvec, static_addr)`: one address line.
/// Reports problems at the current line; `None` when the entry is dropped.
///
/// Not checked here (no system view while parsing): whether `dev` exists
/// (see [`super::check_address_interfaces`]) and, for static addresses
/// without `dev`, the default interface (validation).
pub fn read_address(ctx: &mut Ctx, args: &Args<'_>, static_addr: bool) -> Option<IpAddress> {
    let addr_word = args.word(0);
    let (addr, mut prefix) = parse_ip(ctx, addr_word, true)?;
    let max = Family::of(&addr).max_prefix();
    let mut a = bare_address(addr, prefix, args.origin());
    let mut brd_len = 0i32;
    let mut have_broadcast = false;
    let mut missing: Option<&str> = None;
    let n = args.len();
    let mut i = 1;
    while i < n {
        let s = args.word(i);
        let avail = n >= i + 2;
        match s {
            "dev" | "scope" | "broadcast" | "brd" | "label" | "peer" | "preferred_lft" if !avail => {
                missing = Some(s);
                break;
            }
            "track_group" if static_addr && !avail => {
                missing = Some(s);
                break;
            }
            "dev" => {
                if a.dev.is_some() {
                    ctx.error(format!("Cannot specify ipaddress device more than once for {addr_word}"));
                    return None;
                }
                i += 1;
                a.dev = Some(args.word(i).to_string());
            }
            "scope" => {
                i += 1;
                let w = args.word(i);
                match rttables::scope(w) {
                    Some(v) => a.scope = Some(v),
                    None => ctx.error(format!("Invalid scope '{w}' specified for {addr_word} - ignoring")),
                }
            }
            "broadcast" | "brd" => {
                if addr.is_ipv6() {
                    ctx.error(format!(
                        "VRRP is trying to assign a broadcast {s} to the IPv6 address {addr_word} !!?? WTF... skipping VIP..."
                    ));
                    return None;
                }
                have_broadcast = true;
                i += 1;
                let w = args.word(i);
                match w {
                    "-" => brd_len = -2,
                    "+" => brd_len = -1,
                    _ => match w.parse::<Ipv4Addr>() {
                        Ok(b) => a.broadcast = Some(b),
                        Err(_) => {
                            ctx.error(format!("VRRP is trying to assign invalid broadcast {w}. skipping VIP..."));
                            return None;
                        }
                    },
                }
            }
            "label" => {
                i += 1;
                let w = args.word(i);
                if w.len() >= 16 {
                    ctx.error(format!("Address label {w} is longer than maximum length 15 - removing address"));
                    return None;
                }
                a.label = Some(w.to_string());
            }
            "peer" => {
                i += 1;
                let w = args.word(i);
                if a.peer.is_some() {
                    ctx.error(format!("Peer {w} - another peer has already been specified"));
                    // keepalived does not step over the value: it is read
                    // again as an option.
                    continue;
                }
                match parse_ip(ctx, w, false) {
                    None => ctx.error(format!("Invalid peer address {w}")),
                    Some((p, _)) if p.is_ipv6() != addr.is_ipv6() => {
                        ctx.error(format!("Peer address {w} does not match address family"))
                    }
                    Some((p, plen)) => {
                        if prefix != max {
                            ctx.error("Cannot specify address prefix when specifying peer address - ignoring");
                        }
                        a.peer = Some(p);
                        prefix = plen;
                    }
                }
            }
            "home" => a.home = true,
            "-nodad" => a.nodad = true,
            "mngtmpaddr" => a.mngtmpaddr = true,
            "noprefixroute" => a.noprefixroute = true,
            "autojoin" => a.autojoin = true,
            "no_track" => a.no_track = true,
            "preferred_lft" => {
                i += 1;
                let w = args.word(i);
                if w == "forever" {
                    a.preferred_lft = Some(Lifetime::Forever);
                } else if let Some(v) = ctx.read_unsigned(w, 0, u32::MAX, true) {
                    a.preferred_lft = Some(Lifetime::Secs(v));
                } else {
                    ctx.error(format!("preferred_lft {w} is invalid"));
                }
            }
            "track_group" if static_addr => {
                i += 1;
                let w = args.word(i);
                if a.track_group.is_some() {
                    ctx.error(format!("track_group {w} is a duplicate"));
                    break;
                }
                if track_group_known(ctx, w) {
                    a.track_group = Some(w.to_string());
                } else {
                    ctx.error(format!("track_group {w} not found"));
                }
            }
            "use_vmac" if !static_addr => a.use_vmac = true,
            _ => ctx.error(format!("Unknown configuration entry '{s}' for ip address - ignoring")),
        }
        i += 1;
    }

    if let Some(kw) = missing {
        ctx.error(format!("No {kw} parameter specified for {addr_word}"));
        return None;
    }
    a.prefix = prefix;
    address_broadcast(ctx, &mut a, have_broadcast, brd_len);
    ipv6_address_options(ctx, &mut a, addr_word);
    Some(a)
}

/// An address with no options yet.
fn bare_address(addr: IpAddr, prefix: u8, origin: crate::diag::Origin) -> IpAddress {
    IpAddress {
        addr,
        prefix,
        dev: None,
        broadcast: None,
        scope: None,
        label: None,
        peer: None,
        home: false,
        nodad: false,
        mngtmpaddr: false,
        noprefixroute: false,
        autojoin: false,
        preferred_lft: None,
        no_track: false,
        use_vmac: false,
        track_group: None,
        origin,
    }
}

/// `broadcast`: none with a peer; `+` / `-` (`brd_len` -1 / -2) computed
/// from the (peer) address and the prefix.
fn address_broadcast(ctx: &mut Ctx, a: &mut IpAddress, have_broadcast: bool, brd_len: i32) {
    let prefix = a.prefix;
    if have_broadcast && a.peer.is_some() {
        ctx.error("Cannot specify broadcast and peer addresses - ignoring broadcast address");
        a.broadcast = None;
    } else if brd_len < 0 && prefix <= 30 {
        let base = match a.peer.unwrap_or(a.addr) {
            IpAddr::V4(v) => u32::from(v),
            IpAddr::V6(_) => 0,
        };
        let mask = u32::MAX >> prefix;
        let b = if brd_len == -1 { base | mask } else { base & !mask };
        a.broadcast = Some(Ipv4Addr::from(b));
    } else if brd_len < 0 {
        ctx.error(format!("Address prefix length {prefix} too long for broadcast"));
    }
}

/// IPv6 addresses have no scope or label; their preferred lifetime
/// defaults to 0 for a /128 (never a source), else forever.
fn ipv6_address_options(ctx: &mut Ctx, a: &mut IpAddress, addr_word: &str) {
    if a.addr.is_ipv6() {
        if a.scope.is_some_and(|s| s != 0) {
            ctx.error(format!("Cannot specify scope for IPv6 addresses ({addr_word}) - ignoring scope"));
            a.scope = None;
        }
        if a.label.is_some() {
            ctx.error(format!("Cannot specify label for IPv6 addresses ({addr_word}) - ignoring label"));
            a.label = None;
        }
        if a.preferred_lft.is_none() {
            a.preferred_lft = Some(if a.prefix == 128 { Lifetime::Secs(0) } else { Lifetime::Forever });
        }
    }
}

// ---------------------------------------------------------------- routes

/// keepalived `alloc_route(list, strvec, allow_track_group)`: one route line.
///
/// Returns `None` when the route is dropped; if a parameter was missing,
/// `ctx.diags.stopped` is set and the caller must return `Err(Stop)`.
/// Interfaces (`dev`, nexthop `dev`) and `vrf` are checked later
/// ([`super::check_route_interfaces`]).
pub fn read_route(ctx: &mut Ctx, args: &Args<'_>, allow_track_group: bool) -> Option<Route> {
    route_inner(ctx, args, allow_track_group).unwrap_or(None)
}

struct RouteBuild {
    fam: Option<Family>,
    dst: Option<Pfx>,
    from: Option<Pfx>,
    r: Route,
}

fn new_route(origin: crate::diag::Origin) -> Route {
    Route {
        family: Family::Inet,
        dst: IpPrefix { addr: Family::Inet.any(), prefix: 0, default: true },
        from: None,
        pref_src: None,
        via: None,
        dev: None,
        tos: None,
        table: 254,
        protocol: None,
        scope: None,
        metric: None,
        onlink: false,
        route_type: None,
        encap: None,
        expires: None,
        mtu: None,
        hoplimit: None,
        advmss: None,
        rtt: None,
        rttvar: None,
        reordering: None,
        window: None,
        cwnd: None,
        ssthresh: None,
        realms: None,
        rto_min: None,
        initcwnd: None,
        initrwnd: None,
        features_ecn: false,
        quickack: None,
        congctl: None,
        congctl_lock: false,
        pref: None,
        ttl_propagate: None,
        fastopen_no_cookie: None,
        nexthops: Vec::new(),
        mode: RouteMode::Prepend,
        vrf: None,
        no_track: false,
        track_group: None,
        origin,
    }
}

/// `[lock] VALUE` of a lockable metric: returns (lock, index of value).
fn lockable<'a>(ctx: &mut Ctx, args: &Args<'a>, i: &mut usize) -> Res<(bool, &'a str)> {
    *i += 1;
    if ctx.req(args, *i)? == "lock" {
        *i += 1;
        Ok((true, ctx.req(args, *i)?))
    } else {
        Ok((false, ctx.req(args, *i)?))
    }
}

/// What one keyword of a route or rule line asks of the loop over the line's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Go on with the next word.
    Next,
    /// Stop reading words; what was read so far is checked as a whole.
    End,
    /// The line is dropped (the reason has been logged).
    Drop,
    /// Not a keyword of this group.
    NotMine,
}

/// Logs an error and drops the line being read.
macro_rules! drop_line {
    ($ctx:expr, $($t:tt)*) => {{
        $ctx.error(format!($($t)*));
        return Ok(Step::Drop);
    }};
}

/// An unsigned value of at most `max`, else the line is dropped (`get_uint` has logged why).
macro_rules! uint_or_drop {
    ($ctx:expr, $s:expr, $max:expr, $msg:expr) => {
        match get_uint($ctx, $s, $max, $msg) {
            Some(v) => v,
            None => return Ok(Step::Drop),
        }
    };
}

/// `track_group NAME` of a route or rule: a second one ends the line, an unknown one is ignored.
fn track_group_word(ctx: &mut Ctx, args: &Args<'_>, i: &mut usize, track_group: &mut Option<String>) -> Res<Step> {
    *i += 1;
    let w = ctx.req(args, *i)?;
    if track_group.is_some() {
        ctx.error(format!("track_group {w} is a duplicate"));
        return Ok(Step::End);
    }
    if track_group_known(ctx, w) {
        *track_group = Some(w.to_string());
    } else {
        ctx.error(format!("track_group {w} not found"));
    }
    Ok(Step::Next)
}

/// `inet`/`inet6` of a route or rule (`what`): sets the family if it has none; false (logged)
/// if it has the other one.
fn family_word(ctx: &mut Ctx, fam: &mut Option<Family>, word: &str, what: &str) -> bool {
    let f = if word == "inet6" { Family::Inet6 } else { Family::Inet };
    match *fam {
        None => *fam = Some(f),
        Some(g) if g != f => {
            let other = if f == Family::Inet6 { "IPv4" } else { "IPv6" };
            ctx.error(format!("{word} specified for {other} {what}"));
            return false;
        }
        _ => {}
    }
    true
}

fn route_inner(ctx: &mut Ctx, args: &Args<'_>, allow_track_group: bool) -> Res<Option<Route>> {
    let mut b = RouteBuild { fam: None, dst: None, from: None, r: new_route(args.origin()) };
    let mut i = 0;
    let mut do_nexthop = false;
    let mut dest = "";
    while i < args.len() {
        let step = match args.word(i) {
            "nexthop" => {
                if !b.r.nexthops.is_empty() {
                    ctx.error("Cannot specify nexthops with \"or\" route");
                } else {
                    do_nexthop = true;
                }
                Step::End
            }
            "track_group" if allow_track_group => track_group_word(ctx, args, &mut i, &mut b.r.track_group)?,
            _ => route_keyword(ctx, args, &mut i, &mut b, &mut dest)?,
        };
        match step {
            Step::Drop => return Ok(None),
            Step::End => break,
            Step::Next | Step::NotMine => i += 1,
        }
    }
    finish_route(ctx, args, i, b, do_nexthop, dest)
}

/// A group of route keywords: reads the one at `args.word(*i)`, leaving `*i` on its last word.
type RouteGroup = fn(&mut Ctx, &Args<'_>, &mut usize, &mut RouteBuild) -> Res<Step>;

/// One word of a route line other than `nexthop` and `track_group`: a keyword, else the destination.
fn route_keyword<'a>(
    ctx: &mut Ctx,
    args: &Args<'a>,
    i: &mut usize,
    b: &mut RouteBuild,
    dest: &mut &'a str,
) -> Res<Step> {
    const GROUPS: [RouteGroup; 5] =
        [route_address_word, route_setting_word, route_metric_word, route_tcp_word, route_option_word];
    for group in GROUPS {
        let step = group(ctx, args, i, b)?;
        if step != Step::NotMine {
            return Ok(step);
        }
    }
    route_destination(ctx, args, i, b, dest)
}

/// The family and address keywords: `inet`/`inet6`, `src`, `via`/`gw`, `from`, `as`.
fn route_address_word(ctx: &mut Ctx, args: &Args<'_>, i: &mut usize, b: &mut RouteBuild) -> Res<Step> {
    let s = args.word(*i);
    match s {
        "inet6" | "inet" => {
            if !family_word(ctx, &mut b.fam, s, "route") {
                return Ok(Step::Drop);
            }
            // keepalived steps here and again at the end of the loop,
            // so the word after inet/inet6 is skipped.
            *i += 1;
        }
        "src" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            let Some((a, _)) = parse_ip(ctx, w, false) else { drop_line!(ctx, "invalid route src address {w}") };
            if !route_family_fits(b, Family::of(&a)) {
                drop_line!(ctx, "Cannot mix IPv4 and IPv6 addresses for route");
            }
            b.r.pref_src = Some(a);
        }
        "as" => {
            *i += 1;
            if ctx.req(args, *i)? == "to" {
                *i += 1;
            }
            ctx.error("\"as to\" for MPLS only - ignoring");
        }
        "via" | "gw" => return route_via(ctx, args, i, b),
        "from" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            let Some(p) = parse_route_addr(ctx, w) else { drop_line!(ctx, "invalid route from address {w}") };
            if p.fam != Some(Family::Inet6) {
                drop_line!(ctx, "route from address only supported with IPv6 ({w})");
            }
            match b.fam {
                None => b.fam = p.fam,
                Some(g) if Some(g) != p.fam => {
                    drop_line!(ctx, "Cannot mix IPv4 and IPv6 addresses for route")
                }
                _ => {}
            }
            b.from = Some(p);
        }
        _ => return Ok(Step::NotMine),
    }
    Ok(Step::Next)
}

/// Sets the route's family to `f` if it has none yet; false if it has the other one.
fn route_family_fits(b: &mut RouteBuild, f: Family) -> bool {
    match b.fam {
        None => b.fam = Some(f),
        Some(g) if g != f => return false,
        _ => {}
    }
    true
}

/// `via|gw [inet|inet6] ADDRESS`.
fn route_via(ctx: &mut Ctx, args: &Args<'_>, i: &mut usize, b: &mut RouteBuild) -> Res<Step> {
    if args.word(*i) == "gw" {
        ctx.error("\"gw\" for routes is deprecated. Please use \"via\"");
    }
    *i += 1;
    let mut w = ctx.req(args, *i)?;
    let family = if w == "inet" || w == "inet6" {
        let f = if w == "inet" { Family::Inet } else { Family::Inet6 };
        *i += 1;
        w = ctx.req(args, *i)?;
        Some(f)
    } else {
        b.fam
    };
    if b.fam.is_none() {
        b.fam = family;
    } else if b.fam != family {
        drop_line!(ctx, "Cannot mix IPv4 and IPv6 addresses for route");
    }
    let Some((a, _)) = parse_ip(ctx, w, false) else { drop_line!(ctx, "invalid route via address {}", args.word(*i)) };
    if !route_family_fits(b, Family::of(&a)) {
        drop_line!(ctx, "Cannot mix IPv4 and IPv6 addresses for route");
    }
    b.r.via = Some(a);
    Ok(Step::Next)
}

/// Where and how the route is installed: `tos`, `table`, `protocol`, `scope`, `metric`, `dev`,
/// `onlink`, `encap`, `add`/`prepend`/`append`, `or`, `no_track`, `vrf`.
fn route_setting_word(ctx: &mut Ctx, args: &Args<'_>, i: &mut usize, b: &mut RouteBuild) -> Res<Step> {
    match args.word(*i) {
        "tos" | "dsfield" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            match rttables::dsfield(w) {
                Some(v) => b.r.tos = Some(v),
                None => drop_line!(ctx, "TOS value {w} is invalid"),
            }
        }
        "table" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            match rttables::table(w) {
                Some(v) => b.r.table = v,
                None => drop_line!(ctx, "Routing table {w} not found for route"),
            }
        }
        "protocol" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            match rttables::proto(w) {
                Some(v) => b.r.protocol = Some(v),
                None => drop_line!(ctx, "Protocol {w} not found or invalid for route"),
            }
        }
        "scope" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            match rttables::scope(w) {
                Some(v) => b.r.scope = Some(v),
                None => drop_line!(ctx, "Scope {w} not found or invalid for route"),
            }
        }
        "metric" | "priority" | "preference" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            b.r.metric = Some(uint_or_drop!(ctx, w, u32::MAX, "Invalid metric %s specified for route"));
        }
        "dev" | "oif" => {
            *i += 1;
            b.r.dev = Some(ctx.req(args, *i)?.to_string());
        }
        "onlink" => b.r.onlink = true,
        "encap" => b.r.encap = parse_encap(ctx, args, i)?,
        "add" => b.r.mode = RouteMode::Add,
        "prepend" => b.r.mode = RouteMode::Prepend,
        "append" => b.r.mode = RouteMode::Append,
        "or" => return route_or(ctx, args, i, b),
        "no_track" => b.r.no_track = true,
        "vrf" => {
            *i += 1;
            b.r.vrf = Some(ctx.req(args, *i)?.to_string());
        }
        _ => return Ok(Step::NotMine),
    }
    Ok(Step::Next)
}

/// The deprecated `or ADDRESS`: the route's `via` and ADDRESS become two nexthops.
fn route_or(ctx: &mut Ctx, args: &Args<'_>, i: &mut usize, b: &mut RouteBuild) -> Res<Step> {
    ctx.error("\"or\" for routes is deprecated. Please use \"nexthop\"");
    if !b.r.nexthops.is_empty() {
        ctx.error("\"or\" route already specified - ignoring subsequent");
        // Skips the address too (keepalived steps over both words).
        *i += 1;
        return Ok(Step::Next);
    }
    let first = Nexthop { via: b.r.via.take(), ..Default::default() };
    b.r.nexthops.push(first);
    *i += 1;
    let w = ctx.req(args, *i)?;
    let Some((a, _)) = parse_ip(ctx, w, false) else { drop_line!(ctx, "Invalid \"or\" address {w}") };
    b.r.nexthops.push(Nexthop { via: Some(a), ..Default::default() });
    Ok(Step::Next)
}

/// The metrics that take `[lock] VALUE`: `mtu`, `advmss`, `rtt`, `rttvar`, `reordering`, `cwnd`,
/// `ssthresh`, `rto_min`.
fn route_metric_word(ctx: &mut Ctx, args: &Args<'_>, i: &mut usize, b: &mut RouteBuild) -> Res<Step> {
    match args.word(*i) {
        "mtu" => {
            let (lock, w) = lockable(ctx, args, i)?;
            b.r.mtu =
                Some(Metric { value: uint_or_drop!(ctx, w, u32::MAX, "Invalid MTU %s specified for route"), lock });
        }
        "advmss" => {
            let (lock, w) = lockable(ctx, args, i)?;
            let value = uint_or_drop!(ctx, w, u32::MAX, "Invalid advmss %s specified for route");
            b.r.advmss = Some(Metric { value, lock });
        }
        "rtt" => {
            let (lock, w) = lockable(ctx, args, i)?;
            match get_time_rtt(ctx, w, 8) {
                Some(v) => b.r.rtt = Some(Metric { value: v, lock }),
                None => drop_line!(ctx, "Invalid rtt {w} for route"),
            }
        }
        "rttvar" => {
            let (lock, w) = lockable(ctx, args, i)?;
            match get_time_rtt(ctx, w, 4) {
                Some(v) => b.r.rttvar = Some(Metric { value: v, lock }),
                None => drop_line!(ctx, "Invalid rttvar {w} for route"),
            }
        }
        "reordering" => {
            let (lock, w) = lockable(ctx, args, i)?;
            let value = uint_or_drop!(ctx, w, u32::MAX, "Invalid reordering value %s specified for route");
            b.r.reordering = Some(Metric { value, lock });
        }
        "cwnd" => {
            let (lock, w) = lockable(ctx, args, i)?;
            let value = uint_or_drop!(ctx, w, u32::MAX, "Invalid cwnd value %s specified for route");
            b.r.cwnd = Some(Metric { value, lock });
        }
        "ssthresh" => {
            let (lock, w) = lockable(ctx, args, i)?;
            let value = uint_or_drop!(ctx, w, u32::MAX, "Invalid ssthresh value %s specified for route");
            b.r.ssthresh = Some(Metric { value, lock });
        }
        "rto_min" => {
            let (lock, w) = lockable(ctx, args, i)?;
            match get_time_rtt(ctx, w, 1) {
                Some(v) => b.r.rto_min = Some(Metric { value: v, lock }),
                None => drop_line!(ctx, "Invalid rto_min value {w} specified for route"),
            }
        }
        _ => return Ok(Step::NotMine),
    }
    Ok(Step::Next)
}

/// The TCP options without `lock`: `window`, `initcwnd`, `initrwnd`, `features`, `quickack`,
/// `congctl`, `fastopen_no_cookie`.
fn route_tcp_word(ctx: &mut Ctx, args: &Args<'_>, i: &mut usize, b: &mut RouteBuild) -> Res<Step> {
    match args.word(*i) {
        "window" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            b.r.window = Some(uint_or_drop!(ctx, w, u32::MAX, "Invalid window value %s specified for route"));
        }
        "initcwnd" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            b.r.initcwnd = Some(uint_or_drop!(ctx, w, u32::MAX, "Invalid initcwnd value %s specified for route"));
        }
        "initrwnd" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            b.r.initrwnd = Some(uint_or_drop!(ctx, w, u32::MAX, "Invalid initrwnd value %s specified for route"));
        }
        "features" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            if w == "ecn" {
                b.r.features_ecn = true;
            } else {
                ctx.error(format!("feature {w} not supported"));
            }
        }
        "quickack" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            b.r.quickack = Some(uint_or_drop!(ctx, w, 1, "Invalid quickack value %s specified for route") != 0);
        }
        "congctl" => {
            *i += 1;
            let mut w = ctx.req(args, *i)?;
            if w == "lock" {
                b.r.congctl_lock = true;
                *i += 1;
                w = ctx.req(args, *i)?;
            }
            b.r.congctl = Some(w.to_string());
        }
        "fastopen_no_cookie" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            b.r.fastopen_no_cookie =
                Some(uint_or_drop!(ctx, w, 1, "Invalid fastopen_no_cookie value %s specified for route") != 0);
        }
        _ => return Ok(Step::NotMine),
    }
    Ok(Step::Next)
}

/// The remaining per-route options: `expires`, `hoplimit`, `realms`, `pref`, `ttl-propagate`.
fn route_option_word(ctx: &mut Ctx, args: &Args<'_>, i: &mut usize, b: &mut RouteBuild) -> Res<Step> {
    match args.word(*i) {
        "expires" => {
            *i += 1;
            if b.fam == Some(Family::Inet) {
                drop_line!(ctx, "expires is only valid for IPv6");
            }
            b.fam = Some(Family::Inet6);
            let w = ctx.req(args, *i)?;
            b.r.expires = Some(uint_or_drop!(ctx, w, u32::MAX, "Invalid expires time %s specified for route"));
        }
        "hoplimit" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            b.r.hoplimit = Some(uint_or_drop!(ctx, w, 255, "Invalid hoplimit %s specified for route") as u8);
        }
        "realms" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            let Some(v) = rttables::realms(w) else { drop_line!(ctx, "Invalid realms {w} for route") };
            if b.fam == Some(Family::Inet6) {
                drop_line!(ctx, "realms are only valid for IPv4");
            }
            b.fam = Some(Family::Inet);
            b.r.realms = Some(v);
        }
        "pref" => {
            *i += 1;
            if b.fam == Some(Family::Inet) {
                drop_line!(ctx, "pref is only valid for IPv6");
            }
            b.fam = Some(Family::Inet6);
            let w = ctx.req(args, *i)?;
            b.r.pref = Some(match w {
                "low" => 3,
                "medium" => 0,
                "high" => 1,
                _ => uint_or_drop!(ctx, w, 255, "Invalid pref value %s specified for route") as u8,
            });
        }
        "ttl-propagate" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            match w {
                "enabled" => b.r.ttl_propagate = Some(true),
                "disabled" => b.r.ttl_propagate = Some(false),
                _ => {
                    ctx.error(format!("ttl-propagate value {w} not recognised"));
                    // keepalived still marks it as set (to 0).
                    b.r.ttl_propagate = Some(b.r.ttl_propagate.unwrap_or(false));
                }
            }
        }
        _ => return Ok(Step::NotMine),
    }
    Ok(Step::Next)
}

/// Any other word: `[to] [TYPE] DESTINATION`.
fn route_destination<'a>(
    ctx: &mut Ctx,
    args: &Args<'a>,
    i: &mut usize,
    b: &mut RouteBuild,
    dest: &mut &'a str,
) -> Res<Step> {
    let s = args.word(*i);
    if s == "to" {
        *i += 1;
    }
    // keepalived looks up the type of the word it started
    // with (so `to blackhole X` takes `blackhole` as the
    // destination).
    if let Some(t) = rttables::rtntype(s) {
        b.r.route_type = Some(RouteType::from_rtn(t));
        *i += 1;
    }
    let d = ctx.req(args, *i)?;
    *dest = d;
    let Some(p) = parse_route_addr(ctx, d) else { drop_line!(ctx, "unknown route keyword {d}") };
    if b.fam.is_none() {
        b.fam = p.fam;
    } else if b.fam != p.fam {
        drop_line!(ctx, "Cannot mix IPv4 and IPv6 addresses for route ({d})");
    }
    b.dst = Some(p);
    Ok(Step::Next)
}

/// After the words: the nexthops, then what needs the whole line (destination, tracking, family).
fn finish_route(
    ctx: &mut Ctx,
    args: &Args<'_>,
    i: usize,
    mut b: RouteBuild,
    do_nexthop: bool,
    dest: &str,
) -> Res<Option<Route>> {
    if do_nexthop {
        parse_nexthops(ctx, args, i, &mut b)?;
    } else if i < args.len() {
        ctx.error(format!("Route has trailing nonsense - {}", args.word(i)));
        return Ok(None);
    }
    let Some(dst) = b.dst else {
        ctx.error("Route must have a destination");
        return Ok(None);
    };

    route_tracking(ctx, &mut b.r, dest);
    let fam = b.fam.unwrap_or(Family::Inet);
    b.r.family = fam;
    b.r.dst = dst.resolve(fam);
    b.r.from = b.from.map(|p| p.resolve(fam));
    Ok(Some(b.r))
}

/// A tracked route is keepalived's protocol and needs an interface; so
/// does a track group.
fn route_tracking(ctx: &mut Ctx, r: &mut Route, dest: &str) {
    if !r.no_track {
        if r.protocol.is_some_and(|p| p != RTPROT_KEEPALIVED) {
            ctx.error(format!(
                "Route cannot be tracked if protocol is not RTPROT_KEEPALIVED({RTPROT_KEEPALIVED}), resetting protocol"
            ));
        }
        r.protocol = Some(RTPROT_KEEPALIVED);
        if r.dev.is_none() {
            ctx.error(format!("Warning - cannot track route {dest} with no interface specified, not tracking"));
            r.no_track = true;
        }
    }

    if r.track_group.is_some() && r.dev.is_none() {
        ctx.error("Static route cannot have track group if no oif specified");
        r.track_group = None;
    }
}

/// keepalived `parse_nexthops`: errors drop the nexthop being read (and
/// the rest of the line) but keep the route.
fn parse_nexthops(ctx: &mut Ctx, args: &Args<'_>, mut i: usize, b: &mut RouteBuild) -> Res {
    let n = args.len();
    let mut family: Option<Family> = None;
    while i < n && args.word(i) == "nexthop" {
        i += 1;
        let mut nh = Nexthop::default();
        macro_rules! fail {
            ($($t:tt)*) => {{
                ctx.error(format!($($t)*));
                return Ok(());
            }};
        }
        while i < n {
            let s = args.word(i);
            match s {
                "via" => {
                    i += 1;
                    let mut w = ctx.req(args, i)?;
                    if w == "inet" || w == "inet6" {
                        family = Some(if w == "inet" { Family::Inet } else { Family::Inet6 });
                        i += 1;
                        w = ctx.req(args, i)?;
                    }
                    if let Some(f) = family {
                        match b.fam {
                            None => b.fam = Some(f),
                            Some(g) if g != f => fail!("IPv4/6 mismatch for nexthop"),
                            _ => {}
                        }
                    }
                    let Some((a, _)) = parse_ip(ctx, w, false) else { fail!("invalid nexthop address {w}") };
                    let f = Family::of(&a);
                    if b.fam.is_some_and(|g| g != f) {
                        fail!("Address family mismatch for next hop");
                    }
                    b.fam.get_or_insert(f);
                    nh.via = Some(a);
                }
                "dev" => {
                    i += 1;
                    nh.dev = Some(ctx.req(args, i)?.to_string());
                }
                "weight" => {
                    i += 1;
                    let w = ctx.req(args, i)?;
                    let Some(v) = get_uint(ctx, w, 256, "Invalid weight %s specified for route") else {
                        return Ok(());
                    };
                    if v == 0 {
                        fail!("Invalid weight 0 specified for route");
                    }
                    nh.weight = Some(v as u16);
                }
                "onlink" => nh.onlink = true,
                "encap" => nh.encap = parse_encap(ctx, args, &mut i)?,
                "realms" => {
                    i += 1;
                    let w = ctx.req(args, i)?;
                    let Some(v) = rttables::realms(w) else { fail!("Invalid realms {w} for route") };
                    nh.realms = Some(v);
                    match b.fam {
                        None => b.fam = Some(Family::Inet),
                        Some(Family::Inet) => {}
                        Some(_) => fail!("realms are only supported for IPv4"),
                    }
                }
                "as" => {
                    ctx.req(args, i + 1)?;
                    fail!("'as [to]' (nat) not supported");
                }
                _ => break,
            }
            i += 1;
        }
        b.r.nexthops.push(nh);
    }
    if i < n {
        ctx.error(format!("Route has trailing nonsense after nexthops - {}", args.word(i)));
    }
    Ok(())
}

/// keepalived `parse_encap`: `i` is at `encap`; on return it is at the
/// last word used (the caller steps over it). An unknown type also
/// swallows the word after it, as keepalived does.
fn parse_encap(ctx: &mut Ctx, args: &Args<'_>, i: &mut usize) -> Res<Option<Encap>> {
    let n = args.len();
    *i += 1;
    if n <= *i {
        ctx.error("Missing encap type");
        return Ok(None);
    }
    let kind = args.word(*i);
    *i += 1;
    let enc = match kind {
        "ip" | "ip6" => parse_encap_ip(ctx, args, i, kind == "ip6"),
        "mpls" => {
            if *i >= n {
                ctx.error("missing address for MPLS encapsulation");
                None
            } else {
                let w = args.word(*i);
                *i += 1;
                match parse_mpls(w) {
                    Some(labels) => Some(Encap::Mpls { labels }),
                    None => {
                        ctx.error(format!("invalid mpls address {w} for encapsulation"));
                        None
                    }
                }
            }
        }
        "ila" => {
            if *i >= n {
                ctx.error("missing locator for ILA encapsulation");
                None
            } else {
                let w = args.word(*i);
                *i += 1;
                match parse_addr64(w) {
                    Some(locator) => Some(Encap::Ila { locator }),
                    None => {
                        ctx.error(format!("invalid locator {w} for ila encapsulation"));
                        None
                    }
                }
            }
        }
        _ => {
            ctx.error(format!("Unknown encap type - {kind}"));
            return Ok(None);
        }
    };
    *i -= 1;
    Ok(enc)
}

fn parse_encap_ip(ctx: &mut Ctx, args: &Args<'_>, i: &mut usize, v6: bool) -> Option<Encap> {
    let n = args.len();
    let (mut id, mut dst, mut src, mut tos, mut ttl, mut flags) = (None, None, None, None, None, None);
    let (fam_name, want_v6) = if v6 { ("ip6", true) } else { ("ip", false) };
    let wrong = if v6 { "IPv4" } else { "IPv6" };
    while *i + 1 < n {
        let s = args.word(*i);
        let v = args.word(*i + 1);
        match s {
            "id" => {
                let msg =
                    if v6 { "id %s value invalid for IPv6 encapsulation" } else { "encap id %s value is invalid" };
                id = Some(get_u64(ctx, v, msg)?);
            }
            "dst" | "src" => {
                let Some((a, _)) = parse_ip(ctx, v, false) else {
                    ctx.error(format!("Invalid encap {fam_name} {s} {v}"));
                    return None;
                };
                if a.is_ipv6() != want_v6 {
                    ctx.error(format!("{wrong} address {v} not valid for {fam_name} encapsulation"));
                    return None;
                }
                if s == "dst" {
                    dst = Some(a);
                } else {
                    src = Some(a);
                }
            }
            "tos" if !v6 => match rttables::dsfield(v) {
                Some(t) => tos = Some(t),
                None => {
                    ctx.error(format!("dsfield {v} not valid for ip encapsulation"));
                    return None;
                }
            },
            "tc" if v6 => match rttables::dsfield(v) {
                Some(t) => tos = Some(t),
                None => {
                    // keepalived prints the keyword, not the value.
                    ctx.error(format!("tc value {s} is invalid for ip6 encapsulation"));
                    return None;
                }
            },
            "ttl" if !v6 => ttl = Some(get_uint(ctx, v, 255, "ttl %s is not valid for ip encapsulation")? as u8),
            "hoplimit" if v6 => {
                ttl = Some(get_uint(ctx, v, 255, "Invalid hoplimit %s specified for ip6 encapsulation")? as u8)
            }
            "flags" => {
                let msg = if v6 {
                    "flags %s is not valid for ip6 encapsulation"
                } else {
                    "flags %s is not valid for ip encapsulation"
                };
                flags = Some(get_uint(ctx, v, 65535, msg)? as u16);
            }
            _ => break,
        }
        *i += 2;
    }
    if dst.is_none() && id.is_none() {
        ctx.error(format!("address or id missing for {fam_name} encapsulation"));
        return None;
    }
    Some(if v6 {
        Encap::Ip6 { id, dst, src, tc: tos, hoplimit: ttl, flags }
    } else {
        Encap::Ip { id, dst, src, tos, ttl, flags }
    })
}

/// keepalived `parse_mpls_address`: up to 2 labels `L[/L]`, each ≤ 0xFFFFF.
fn parse_mpls(s: &str) -> Option<Vec<u32>> {
    let mut labels = Vec::new();
    let mut rest = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0B', '\x0C']);
    for _ in 0..2 {
        if rest.starts_with('-') || rest.starts_with([' ', '\t']) {
            return None;
        }
        let (v, after) = strtoul_prefix(rest, 0);
        if after.len() == rest.len() || v > 0xFFFFF {
            return None;
        }
        labels.push(v as u32);
        if after.is_empty() {
            return Some(labels);
        }
        rest = after.strip_prefix('/')?;
    }
    None
}

/// keepalived `get_addr64`: `a:b:c:d`, 4 hex groups ≤ 0xffff.
fn parse_addr64(s: &str) -> Option<u64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0B', '\x0C']);
    let parts: Vec<&str> = t.split(':').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut v: u64 = 0;
    for p in parts {
        if !p.starts_with(|c: char| c.is_ascii_hexdigit()) {
            return None;
        }
        let (x, rest) = strtoul_prefix(p, 16);
        if !rest.is_empty() || x > 0xffff {
            return None;
        }
        v = (v << 16) | x;
    }
    Some(v)
}

// ---------------------------------------------------------------- rules

/// keepalived `alloc_rule(list, strvec, allow_track_group)`: one rule line.
///
/// A rule without a preference gets 16384, 16383, … (per family, counted
/// over the whole configuration, static and virtual rules alike).
/// Returns `None` when the rule is dropped; if a parameter was missing,
/// `ctx.diags.stopped` is set and the caller must return `Err(Stop)`.
pub fn read_rule(ctx: &mut Ctx, args: &Args<'_>, allow_track_group: bool) -> Option<Rule> {
    rule_inner(ctx, args, allow_track_group).unwrap_or(None)
}

/// A rule line being read: the words that are checked against each other at the end.
struct RuleBuild {
    fam: Option<Family>,
    from: Option<Pfx>,
    to: Option<Pfx>,
    action: Option<RuleAction>,
    /// A realm or suppressor was given: only valid with a table action.
    table_option: bool,
    preference: Option<u32>,
    table: u32,
    r: Rule,
}

fn new_rule(origin: crate::diag::Origin) -> Rule {
    Rule {
        family: Family::Inet,
        from: None,
        to: None,
        invert: false,
        preference: 0,
        auto_preference: false,
        tos: None,
        fwmark: None,
        fwmask: None,
        realms: None,
        suppress_prefixlength: None,
        suppress_ifgroup: None,
        iif: None,
        oif: None,
        tunnel_id: None,
        uidrange: None,
        l3mdev: false,
        protocol: None,
        ipproto: None,
        sport: None,
        dport: None,
        action: RuleAction::Nop,
        no_track: false,
        track_group: None,
        origin,
    }
}

fn rule_inner(ctx: &mut Ctx, args: &Args<'_>, allow_track_group: bool) -> Res<Option<Rule>> {
    let mut b = RuleBuild {
        fam: None,
        from: None,
        to: None,
        action: None,
        table_option: false,
        preference: None,
        table: 0,
        r: new_rule(args.origin()),
    };
    let mut i = 0;
    while i < args.len() {
        let step = match args.word(i) {
            "track_group" if allow_track_group => track_group_word(ctx, args, &mut i, &mut b.r.track_group)?,
            _ => rule_keyword(ctx, args, &mut i, &mut b)?,
        };
        match step {
            Step::Drop => return Ok(None),
            Step::End => break,
            Step::Next | Step::NotMine => i += 1,
        }
    }
    finish_rule(ctx, b)
}

/// A group of rule keywords: reads the one at `args.word(*i)`, leaving `*i` on its last word.
type RuleGroup = fn(&mut Ctx, &Args<'_>, &mut usize, &mut RuleBuild) -> Res<Step>;

/// One word of a rule line other than `track_group`: a keyword, else the action.
fn rule_keyword(ctx: &mut Ctx, args: &Args<'_>, i: &mut usize, b: &mut RuleBuild) -> Res<Step> {
    const GROUPS: [RuleGroup; 3] = [rule_address_word, rule_selector_word, rule_table_word];
    for group in GROUPS {
        let step = group(ctx, args, i, b)?;
        if step != Step::NotMine {
            return Ok(step);
        }
    }
    rule_action_word(ctx, args, i, b)
}

/// The family, addresses and interfaces: `inet`/`inet6`, `from`, `to`, `not`, `dev`/`iif`, `oif`.
fn rule_address_word(ctx: &mut Ctx, args: &Args<'_>, i: &mut usize, b: &mut RuleBuild) -> Res<Step> {
    let s = args.word(*i);
    match s {
        "inet6" | "inet" => {
            if !family_word(ctx, &mut b.fam, s, "rule") {
                return Ok(Step::Drop);
            }
            // As keepalived: the following word is skipped too.
            *i += 1;
        }
        "from" | "to" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            let Some(p) = parse_route_addr(ctx, w) else { drop_line!(ctx, "Invalid rule {s} address {w}") };
            if b.fam.is_none() {
                b.fam = p.fam;
            } else if p.fam != b.fam {
                drop_line!(ctx, "rule specification has mixed IPv4 and IPv6");
            }
            if s == "from" {
                b.from = Some(p);
            } else {
                b.to = Some(p);
            }
        }
        "not" => b.r.invert = true,
        "dev" | "iif" => {
            *i += 1;
            b.r.iif = Some(ctx.req(args, *i)?.to_string());
        }
        "oif" => {
            *i += 1;
            b.r.oif = Some(ctx.req(args, *i)?.to_string());
        }
        _ => return Ok(Step::NotMine),
    }
    Ok(Step::Next)
}

/// What else the rule matches: `tos`/`dsfield`, `fwmark`, `tunnel-id`, `uidrange`, `ipproto`,
/// `sport`, `dport`.
fn rule_selector_word(ctx: &mut Ctx, args: &Args<'_>, i: &mut usize, b: &mut RuleBuild) -> Res<Step> {
    let s = args.word(*i);
    match s {
        "tos" | "dsfield" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            match rttables::dsfield(w) {
                Some(v) => b.r.tos = Some(v),
                None => drop_line!(ctx, "TOS value {w} is invalid"),
            }
        }
        "fwmark" => {
            *i += 1;
            let w = ctx.req(args, *i)?.trim_start_matches([' ', '\t', '\n', '\r', '\x0B', '\x0C']);
            match parse_fwmark(w) {
                Some((mark, mask)) => {
                    b.r.fwmark = Some(mark);
                    b.r.fwmask = mask;
                }
                None => drop_line!(ctx, "Invalid rule fwmark {w} specified"),
            }
        }
        "tunnel-id" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            match ctx.read_unsigned64(w, 0, u64::MAX, false) {
                Some(v) => b.r.tunnel_id = Some(v),
                None => drop_line!(ctx, "Invalid tunnel-id {s} specified"),
            }
        }
        "uidrange" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            match scan_range(w) {
                (2, lo, hi) => b.r.uidrange = Some((lo as u32, hi as u32)),
                _ => drop_line!(ctx, "Invalid uidrange {s} specified"),
            }
        }
        "ipproto" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            match rttables::ip_proto(w) {
                Some(p) if (0..=255).contains(&p) => b.r.ipproto = Some(p as u8),
                _ => ctx.error(format!("Invalid ipproto {w}")),
            }
        }
        "sport" | "dport" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            // keepalived 2.2.7 accepts only the `A-B` form: a single
            // port is reported as invalid.
            match scan_range(w) {
                (2, lo, hi) => {
                    let range = Some((lo as u16, hi as u16));
                    if s == "sport" {
                        b.r.sport = range;
                    } else {
                        b.r.dport = range;
                    }
                }
                _ => ctx.error(format!("invalid {s} range {w}")),
            }
        }
        _ => return Ok(Step::NotMine),
    }
    Ok(Step::Next)
}

/// The table and the rule's own settings: `table`/`lookup`, `realms`, the suppressors, `l3mdev`,
/// `preference`, `protocol`, `no_track`.
fn rule_table_word(ctx: &mut Ctx, args: &Args<'_>, i: &mut usize, b: &mut RuleBuild) -> Res<Step> {
    let s = args.word(*i);
    match s {
        "table" | "lookup" => return rule_table(ctx, args, i, b),
        "realms" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            let Some(v) = rttables::realms(w) else { drop_line!(ctx, "invalid realms {w} for rule") };
            b.r.realms = Some(v);
            b.table_option = true;
            match b.fam {
                None => b.fam = Some(Family::Inet),
                Some(Family::Inet) => {}
                Some(_) => drop_line!(ctx, "realms is only valid for IPv4"),
            }
        }
        "suppress_prefixlength" | "sup_pl" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            match ctx.read_unsigned(w, 0, i32::MAX as u32, false) {
                Some(v) => b.r.suppress_prefixlength = Some(v),
                None => drop_line!(ctx, "Invalid suppress_prefixlength {s} specified"),
            }
            b.table_option = true;
        }
        "suppress_ifgroup" | "sup_group" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            match rttables::group(w) {
                Some(v) => b.r.suppress_ifgroup = Some(v),
                None => drop_line!(ctx, "suppress_group {w} is invalid"),
            }
            b.table_option = true;
        }
        "l3mdev" => {
            b.r.l3mdev = true;
            if b.action.is_some() {
                drop_line!(ctx, "Cannot specify l3mdev with other action");
            }
            b.action = Some(RuleAction::Table(0));
        }
        _ => return rule_setting_word(ctx, args, i, b),
    }
    Ok(Step::Next)
}

/// `table|lookup TABLE`: the rule's action.
fn rule_table(ctx: &mut Ctx, args: &Args<'_>, i: &mut usize, b: &mut RuleBuild) -> Res<Step> {
    *i += 1;
    let w = ctx.req(args, *i)?;
    let Some(t) = rttables::table(w) else { drop_line!(ctx, "Routing table {w} not found for rule") };
    if t == 0 {
        drop_line!(ctx, "Table 0 is not valid");
    }
    b.table = t;
    if b.action.is_some() {
        drop_line!(ctx, "Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable for rule");
    }
    b.action = Some(RuleAction::Table(t));
    Ok(Step::Next)
}

/// `preference`, `protocol`, `no_track`.
fn rule_setting_word(ctx: &mut Ctx, args: &Args<'_>, i: &mut usize, b: &mut RuleBuild) -> Res<Step> {
    let s = args.word(*i);
    match s {
        "preference" | "order" | "priority" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            match ctx.read_unsigned_base(w, 0, 0, u32::MAX, false) {
                Some(v) => b.preference = Some(v),
                None => drop_line!(ctx, "Invalid rule preference {s} specified"),
            }
        }
        "protocol" => {
            *i += 1;
            let w = ctx.req(args, *i)?;
            match ctx.read_unsigned(w, 0, 255, false) {
                Some(v) => b.r.protocol = Some(v as u8),
                None => ctx.error(format!("Invalid protocol {w}")),
            }
        }
        "no_track" => b.r.no_track = true,
        _ => return Ok(Step::NotMine),
    }
    Ok(Step::Next)
}

/// Any other word: `[type] goto N | nop | blackhole | unreachable | prohibit`.
fn rule_action_word(ctx: &mut Ctx, args: &Args<'_>, i: &mut usize, b: &mut RuleBuild) -> Res<Step> {
    let mut s = args.word(*i);
    if s == "type" {
        *i += 1;
        s = ctx.req(args, *i)?;
    }
    let act = if s == "goto" {
        *i += 1;
        let w = ctx.req(args, *i)?;
        match ctx.read_unsigned(w, 0, u32::MAX, false) {
            Some(v) => RuleAction::Goto(v),
            None => drop_line!(ctx, "Invalid target {s} specified"),
        }
    } else if s == "nop" {
        RuleAction::Nop
    } else if let Some(t) = rttables::rtntype(s) {
        match t {
            rttables::RTN_BLACKHOLE => RuleAction::Blackhole,
            rttables::RTN_UNREACHABLE => RuleAction::Unreachable,
            rttables::RTN_PROHIBIT => RuleAction::Prohibit,
            _ => drop_line!(ctx, "Invalid rule action {s}"),
        }
    } else {
        drop_line!(ctx, "Unknown rule option {s}");
    };
    if b.action.is_some() {
        drop_line!(
            ctx,
            "Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule"
        );
    }
    b.action = Some(act);
    Ok(Step::Next)
}

/// After the words: the action checked against the rest, then tracking, family and preference.
fn finish_rule(ctx: &mut Ctx, mut b: RuleBuild) -> Res<Option<Rule>> {
    let action = match rule_action_checked(&b) {
        Ok(action) => action,
        Err(e) => {
            ctx.error(e);
            return Ok(None);
        }
    };
    b.r.action = action;

    rule_tracking(ctx, &mut b.r);
    let fam = b.fam.unwrap_or(Family::Inet);
    b.r.family = fam;
    b.r.from = b.from.map(|p| p.resolve(fam));
    b.r.to = b.to.map(|p| p.resolve(fam));
    rule_preference(ctx, &mut b.r, b.preference);
    Ok(Some(b.r))
}

/// The rule's action, checked against its preference, table options and `l3mdev`; else why the
/// rule is dropped.
fn rule_action_checked(b: &RuleBuild) -> Result<RuleAction, String> {
    if let Some(RuleAction::Goto(target)) = b.action {
        match b.preference {
            Some(p) if p >= target => return Err(format!("Invalid rule - preference {p} >= goto target {target}")),
            Some(_) => {}
            None => return Err(format!("Invalid rule - goto target {target} specified without preference")),
        }
    }
    let Some(action) = b.action else { return Err("No action specified for rule - ignoring".to_string()) };
    if !matches!(action, RuleAction::Table(_)) && b.table_option {
        return Err("suppressor/realm specified for non table action - skipping".to_string());
    }
    if b.table != 0 && b.r.l3mdev {
        return Err("table cannot be specified for l3mdev rules".to_string());
    }
    Ok(action)
}

/// A tracked rule is keepalived's protocol; a track group needs an iif.
fn rule_tracking(ctx: &mut Ctx, r: &mut Rule) {
    if !r.no_track {
        if r.protocol.is_some_and(|p| p != RTPROT_KEEPALIVED) {
            ctx.error(format!(
                "Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED({RTPROT_KEEPALIVED}), resetting protocol"
            ));
        }
        r.protocol = Some(RTPROT_KEEPALIVED);
    }

    if r.track_group.is_some() && r.iif.is_none() {
        ctx.error("Static rule cannot have track_group if dev/iif not specified");
        r.track_group = None;
    }
}

/// The configured preference, else keepalived's automatic one: counting
/// down per family from RULE_START_PRIORITY (with a warning).
fn rule_preference(ctx: &mut Ctx, r: &mut Rule, preference: Option<u32>) {
    match preference {
        Some(p) => r.preference = p,
        None => {
            let counter = match r.family {
                Family::Inet => &mut ctx.cfg.ip.auto_rule_prefs.0,
                Family::Inet6 => &mut ctx.cfg.ip.auto_rule_prefs.1,
            };
            r.preference = RULE_START_PRIORITY.wrapping_sub(*counter);
            *counter = counter.wrapping_add(1);
            r.auto_preference = true;
            ctx.error(format!(
                "Rule has no preference specified - setting to {}. This is probably not what you want.",
                r.preference
            ));
        }
    }
}

/// `fwmark N[/MASK]` (strtoul base 0, each ≤ u32::MAX, no negative).
fn parse_fwmark(s: &str) -> Option<(u32, Option<u32>)> {
    if s.starts_with('-') {
        return None;
    }
    let (v, rest) = strtoul_prefix(s, 0);
    if v > u32::MAX as u64 {
        return None;
    }
    let (mask, rest) = match rest.strip_prefix('/') {
        Some(m) => {
            if m.starts_with([' ', '\t', '\n', '\r', '\x0B', '\x0C', '-']) {
                return None;
            }
            let (m, rest) = strtoul_prefix(m, 0);
            if m > u32::MAX as u64 {
                return None;
            }
            (Some(m as u32), rest)
        }
        None => (None, rest),
    };
    if !rest.is_empty() {
        return None;
    }
    Some((v as u32, mask))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_parsers() {
        assert_eq!(parse_mpls("100/200"), Some(vec![100, 200]));
        assert_eq!(parse_mpls("100/200/300"), None);
        assert_eq!(parse_mpls("0x100000"), None);
        assert_eq!(parse_addr64("1:2:3:4"), Some(0x0001_0002_0003_0004));
        assert_eq!(parse_addr64("1:2:3"), None);
        assert_eq!(parse_fwmark("0x10/0xff"), Some((16, Some(255))));
        assert_eq!(parse_fwmark("5x"), None);
        assert_eq!(parse_fwmark("5/-1"), None);
        assert_eq!(scan_range("1-2"), (2, 1, 2));
        assert_eq!(scan_range("80"), (1, 80, 0));
    }
}
