//! Keyword handlers for `bfd_instance NAME { … }` (keepalived
//! bfd/bfd_parser.c, bfd_data.c `alloc_bfd`, vrrp_track.c
//! `alloc_vrrp_tracked_bfd`).
//!
//! keepalived's `-t` parses the block three times: as the checker process
//! (only the name matters), as the VRRP process (name and `weight`) and as
//! the BFD process (everything else). We read it once and keep, in
//! [`Current`], which of those readings are still alive, so each keyword
//! only does what the process that owns it would do, with its messages.

use super::model::{BfdInstance, Current, BFD_CONTROL_HOPLIMIT, BFD_CONTROL_TTL, BFD_INAME_MAX};
use crate::engine::{Args, Block, Ctx, Enter, Kw, KwIndexCell, Res, Sys};
use crate::numbers::check_true_false;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Root-level keywords owned by this area.
/// keepalived installs `bfd_instance` in the VRRP and checker processes as
/// well (they resolve `track_bfd` / `BFD_CHECK` names), so the block is read
/// whichever subsystems are active; each process's view is decided inside.
pub static ROOT: &[Kw] = &[Kw::block("bfd_instance", bfd_instance, &BFD_BLOCK).sys(Sys::Global)];

static BFD_BLOCK: Block =
    Block { index: KwIndexCell::new(), name: "bfd_instance", parts: &[BFD_KWS], close: Some(bfd_end) };

static BFD_KWS: &[Kw] = &[
    Kw::value("source_ip", h_source_ip),
    Kw::value("neighbor_ip", h_neighbor_ip),
    Kw::value("neighbour_ip", h_neighbor_ip),
    Kw::value("min_rx", h_min_rx),
    Kw::value("min_tx", h_min_tx),
    Kw::value("idle_tx", h_idle_tx),
    Kw::value("multiplier", h_multiplier),
    Kw::value("passive", h_passive),
    Kw::value("ttl", h_ttl),
    Kw::value("hoplimit", h_ttl),
    Kw::value("max_hops", h_max_hops),
    Kw::value("multihop", h_multihop),
    Kw::value("weight", h_weight),
    Kw::value("vrrp", h_vrrp),
    Kw::value("checker", h_checker),
];

// Limits of keepalived's bfd.h (intervals in milliseconds).
const MINRX_MIN: u64 = 1;
const MINRX_MAX: u64 = u32::MAX as u64 / 1000;
const MINRX_MAX_SENSIBLE: u64 = 10_000;
const MINTX_MIN: u64 = 1;
const MINTX_MAX: u64 = u32::MAX as u64 / 1000;
const MINTX_MAX_SENSIBLE: u64 = 10_000;
const IDLETX_MIN: u64 = 1000;
const IDLETX_MAX: u64 = u32::MAX as u64 / 1000;
const IDLETX_MAX_SENSIBLE: u64 = 10_000;
const MULTIPLIER_MIN: u32 = 1;
const MULTIPLIER_MAX: u32 = 255;
const TTL_MAX: u32 = 255;
const WEIGHT_MIN: i32 = -253;
const WEIGHT_MAX: i32 = 253;

/// keepalived's `inet_stosockaddr`: the family is IPv6 when the text has a
/// ':' anywhere; a `-range` or `/prefix` suffix is dropped before parsing.
pub(crate) fn parse_sockaddr(s: &str) -> Option<IpAddr> {
    let v6 = s.contains(':');
    let cut = s.find('-').or_else(|| s.find('/')).unwrap_or(s.len());
    let text = s.get(..cut)?;
    if v6 {
        text.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        text.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
    }
}

/// An address as glibc's `inet_ntop` prints it (IPv4-compatible IPv6
/// addresses keep their dotted tail).
pub(crate) fn ntop(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => {
            let s = a.segments();
            if s[..6].iter().all(|w| *w == 0) && s[6] != 0 {
                let o = a.octets();
                format!("::{}", Ipv4Addr::new(o[12], o[13], o[14], o[15]))
            } else {
                a.to_string()
            }
        }
    }
}

fn same_family(a: &IpAddr, b: &IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

/// Which processes are reading the current block (None outside a block).
fn cur(ctx: &Ctx) -> Current {
    ctx.cfg.bfd.parse.cur.clone().unwrap_or_default()
}

fn inst(ctx: &mut Ctx) -> Option<&mut BfdInstance> {
    ctx.cfg.bfd.instances.last_mut()
}

fn cur_name(ctx: &Ctx) -> String {
    ctx.cfg.bfd.instances.last().map(|b| b.name.clone()).unwrap_or_default()
}

fn neighbor_word(ctx: &Ctx) -> &'static str {
    if ctx.cfg.bfd.parse.neighbour_spelling {
        "neighbour"
    } else {
        "neighbor"
    }
}

/// `bfd_instance NAME`: each process decides whether it reads the block.
fn bfd_instance(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    ctx.cfg.seen.bfd = true;
    ctx.cfg.bfd.parse.cur = None;
    let name = ctx.req(args, 1)?;
    let too_long = name.len() >= BFD_INAME_MAX;

    // Checker process: only duplicates are refused.
    let mut checker = false;
    if ctx.active.check {
        if ctx.cfg.bfd.checker_tracked(name).is_some() {
            ctx.error(format!("BFD {name} already specified"));
        } else {
            checker = true;
        }
    }

    // VRRP process.
    let mut vrrp = false;
    if ctx.active.vrrp {
        if too_long {
            ctx.error(format!("BFD name {name} too long"));
        } else if ctx.cfg.bfd.vrrp_tracked(name).is_some() {
            ctx.error(format!("BFD {name} already specified"));
        } else {
            vrrp = true;
        }
    }

    // BFD process.
    let mut bfd = false;
    if !ctx.active.bfd {
        // Not running BFD (-B, or a VRRP/checker-only read).
    } else if too_long {
        ctx.error(format!(
            "Configuration error: BFD instance {name} name too long (maximum length is {} characters) - ignoring",
            BFD_INAME_MAX - 1
        ));
    } else if ctx.cfg.bfd.session(name).is_some() {
        ctx.error(format!("Configuration error: BFD instance {name} already configured - ignoring"));
    } else {
        bfd = true;
    }

    if !(bfd || vrrp || checker) {
        return Ok(Enter::Skip);
    }
    ctx.cfg.bfd.instances.push(BfdInstance::new(name, args.origin()));
    ctx.cfg.bfd.parse.cur = Some(Current { bfd, vrrp, checker });
    Ok(Enter::Yes)
}

fn h_neighbor_ip(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if !cur(ctx).bfd {
        return Ok(());
    }
    let s = ctx.req(args, 1)?;
    // keepalived compares the *value* (not the keyword) with
    // "neighbour_ip" to pick its spelling, so the British spelling only
    // appears in messages after `neighbo[u]r_ip neighbour_ip`.
    if s == "neighbour_ip" {
        ctx.cfg.bfd.parse.neighbour_spelling = true;
    }
    match parse_sockaddr(s) {
        Some(ip) => {
            if let Some(b) = inst(ctx) {
                b.neighbor = Some(ip);
            }
        }
        None => {
            let name = cur_name(ctx);
            let nw = neighbor_word(ctx);
            ctx.error(format!(
                "Configuration error: BFD instance {name} has malformed {nw} address {s}, ignoring instance"
            ));
            // The BFD process drops the instance and skips the rest of
            // the block.
            if let Some(c) = ctx.cfg.bfd.parse.cur.as_mut() {
                c.bfd = false;
            }
        }
    }
    Ok(())
}

fn h_source_ip(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if !cur(ctx).bfd {
        return Ok(());
    }
    let s = ctx.req(args, 1)?;
    match parse_sockaddr(s) {
        Some(ip) => {
            if let Some(b) = inst(ctx) {
                b.source = Some(ip);
            }
        }
        None => {
            let name = cur_name(ctx);
            ctx.error(format!("Configuration error: BFD instance {name} has malformed source address {s}, ignoring"));
        }
    }
    Ok(())
}

/// `min_rx` / `min_tx` / `idle_tx`: milliseconds with three decimals.
fn interval(ctx: &mut Ctx, args: &Args<'_>, what: &str, min: u64, max: u64, sensible: u64) -> Res<Option<u64>> {
    if !cur(ctx).bfd {
        return Ok(None);
    }
    let s = ctx.req(args, 1)?;
    let name = cur_name(ctx);
    let Some(v) = ctx.read_decimal(s, min * 1000, max * 1000, 3, false) else {
        ctx.error(format!(
            "Configuration error: BFD instance {name} {what} value {s} is not valid (must be in range [{min}-{max}]), ignoring"
        ));
        return Ok(None);
    };
    if v > sensible * 1000 {
        ctx.log(format!(
            "Configuration warning: BFD instance {name} {what} value {s} is larger than max sensible ({sensible})"
        ));
    }
    Ok(Some(v))
}

fn h_min_rx(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(v) = interval(ctx, args, "min_rx", MINRX_MIN, MINRX_MAX, MINRX_MAX_SENSIBLE)? {
        if let Some(b) = inst(ctx) {
            b.min_rx_us = v;
        }
    }
    Ok(())
}

fn h_min_tx(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(v) = interval(ctx, args, "min_tx", MINTX_MIN, MINTX_MAX, MINTX_MAX_SENSIBLE)? {
        if let Some(b) = inst(ctx) {
            b.min_tx_us = v;
        }
    }
    Ok(())
}

fn h_idle_tx(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(v) = interval(ctx, args, "idle_tx", IDLETX_MIN, IDLETX_MAX, IDLETX_MAX_SENSIBLE)? {
        if let Some(b) = inst(ctx) {
            b.idle_tx_us = v;
        }
    }
    Ok(())
}

fn h_multiplier(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if !cur(ctx).bfd {
        return Ok(());
    }
    let s = ctx.req(args, 1)?;
    match ctx.read_unsigned(s, MULTIPLIER_MIN, MULTIPLIER_MAX, false) {
        Some(v) => {
            if let Some(b) = inst(ctx) {
                b.multiplier = u8::try_from(v).unwrap_or(u8::MAX);
            }
        }
        None => {
            let name = cur_name(ctx);
            ctx.error(format!(
                "Configuration error: BFD instance {name} multiplier value {s} not valid (must be in range [{MULTIPLIER_MIN}-{MULTIPLIER_MAX}]), ignoring"
            ));
        }
    }
    Ok(())
}

fn h_passive(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    if cur(ctx).bfd {
        if let Some(b) = inst(ctx) {
            b.passive = true;
        }
    }
    Ok(())
}

/// `ttl` / `hoplimit`.
fn h_ttl(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if !cur(ctx).bfd {
        return Ok(());
    }
    let s = ctx.req(args, 1)?;
    match ctx.read_unsigned(s, 1, TTL_MAX, false) {
        Some(v) => {
            if let Some(b) = inst(ctx) {
                b.ttl = u8::try_from(v).unwrap_or(u8::MAX);
                b.ttl_configured = true;
            }
        }
        None => {
            let name = cur_name(ctx);
            ctx.error(format!(
                "Configuration error: BFD instance {name} ttl/hoplimit value {s} not valid (must be in range [1-{TTL_MAX}]), ignoring"
            ));
        }
    }
    Ok(())
}

fn h_max_hops(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if !cur(ctx).bfd {
        return Ok(());
    }
    let s = ctx.req(args, 1)?;
    match ctx.read_int(s, -1, TTL_MAX as i32, false) {
        Some(v) => {
            if let Some(b) = inst(ctx) {
                // keepalived keeps it in a byte: -1 wraps to 255.
                b.max_hops = v as u8;
            }
        }
        None => {
            let name = cur_name(ctx);
            ctx.error(format!(
                "Configuration error: BFD instance {name} max_hops value {s} not valid (must be in range [-1-{TTL_MAX}]), ignoring"
            ));
        }
    }
    Ok(())
}

/// `multihop [BOOL]` (keepalived after 2.2.7).
fn h_multihop(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if !cur(ctx).bfd {
        return Ok(());
    }
    let value = match args.get(1) {
        None => true,
        Some(s) => match check_true_false(s) {
            Some(v) => v,
            None => {
                let name = cur_name(ctx);
                ctx.error(format!("Configuration error: BFD instance {name} multihop setting not valid - {s}"));
                return Ok(());
            }
        },
    };
    if let Some(b) = inst(ctx) {
        b.multihop = value;
    }
    Ok(())
}

/// `weight N [reverse]`: read by the VRRP process only.
fn h_weight(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if !cur(ctx).vrrp {
        return Ok(());
    }
    let s = ctx.req(args, 1)?;
    let name = cur_name(ctx);
    match ctx.read_int(s, WEIGHT_MIN, WEIGHT_MAX, true) {
        Some(v) => {
            if let Some(b) = inst(ctx) {
                b.weight.weight = v;
            }
        }
        None => ctx.error(format!(
            "Configuration error: BFD instance {name} weight value {s} not valid (must be in range [{WEIGHT_MIN}-{WEIGHT_MAX}]), ignoring"
        )),
    }
    if let Some(opt) = args.get(2) {
        if opt == "reverse" {
            if let Some(b) = inst(ctx) {
                b.weight.reverse = true;
            }
        } else {
            ctx.error(format!("Configuration error: BFD instance {name} unknown weight option {opt}"));
        }
    }
    Ok(())
}

/// `vrrp`: send events to the VRRP process (only, unless `checker` too).
fn h_vrrp(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    if ctx.cfg.bfd.parse.cur.is_some() {
        if let Some(b) = inst(ctx) {
            b.vrrp_keyword = true;
        }
    }
    Ok(())
}

/// `checker`: send events to the checker process (only, unless `vrrp` too).
fn h_checker(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    if ctx.cfg.bfd.parse.cur.is_some() {
        if let Some(b) = inst(ctx) {
            b.checker_keyword = true;
        }
    }
    Ok(())
}

/// End of a `bfd_instance` block: each process that read it files it.
fn bfd_end(ctx: &mut Ctx) -> Res {
    let Some(c) = ctx.cfg.bfd.parse.cur.take() else {
        return Ok(());
    };
    let Some(mut b) = ctx.cfg.bfd.instances.pop() else {
        return Ok(());
    };
    let specified = b.vrrp_keyword || b.checker_keyword;
    let to_vrrp = !specified || b.vrrp_keyword;
    let to_checker = !specified || b.checker_keyword;

    b.checker_tracked = c.checker && to_checker;
    b.vrrp_tracked = c.vrrp && to_vrrp;

    if c.bfd {
        b.enabled = bfd_checks(ctx, &mut b);
        if b.enabled {
            b.vrrp = to_vrrp;
            b.checker = to_checker;
        }
    }

    if b.enabled || b.vrrp_tracked || b.checker_tracked {
        ctx.cfg.bfd.instances.push(b);
    }
    Ok(())
}

/// The BFD process's end-of-block checks and derived defaults. Returns
/// whether the instance is kept.
fn bfd_checks(ctx: &mut Ctx, b: &mut BfdInstance) -> bool {
    let name = b.name.clone();
    let nw = neighbor_word(ctx);
    let Some(nbr) = b.neighbor else {
        ctx.error(format!("Configuration error: BFD instance {name} has no {nw} address set, disabling instance"));
        return false;
    };
    if let Some(src) = b.source {
        if !same_family(&src, &nbr) {
            // keepalived formats both addresses into one static buffer, so
            // its message shows the source address twice.
            let shown = ntop(&src);
            ctx.error(format!(
                "Configuration error: BFD instance {name} source address {shown} and {nw} address {shown} are not of the same family, disabling instance"
            ));
            return false;
        }
    }
    if is_duplicate(ctx, b, &nbr) {
        match b.source {
            Some(src) => ctx.error(format!(
                "Configuration error: BFD instance {name} has duplicate source/{nw} address {}/{}, ignoring instance",
                ntop(&src),
                ntop(&nbr)
            )),
            None => ctx.error(format!(
                "Configuration error: BFD instance {name} has duplicate {nw} address {}, ignoring instance",
                ntop(&nbr)
            )),
        }
        return false;
    }
    if b.ttl == 0 {
        b.ttl = if nbr.is_ipv4() { BFD_CONTROL_TTL } else { BFD_CONTROL_HOPLIMIT };
    }
    if b.max_hops > b.ttl {
        ctx.error(format!("BFD instance {name}: max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit"));
        b.max_hops = b.ttl;
    }
    true
}

/// keepalived `find_bfd_by_addr`: same neighbor and multihop setting, and
/// either side without a source address or the same source address.
fn is_duplicate(ctx: &Ctx, b: &BfdInstance, nbr: &IpAddr) -> bool {
    ctx.cfg.bfd.sessions().any(|o| {
        o.neighbor.as_ref() == Some(nbr)
            && o.multihop == b.multihop
            && match (&o.source, &b.source) {
                (None, _) | (_, None) => true,
                (Some(x), Some(y)) => x == y,
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockaddr_parsing() {
        assert_eq!(parse_sockaddr("10.0.0.1"), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(parse_sockaddr("10.0.0.1/24"), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(parse_sockaddr("10.0.0.1-5"), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(parse_sockaddr("fe80::1"), Some("fe80::1".parse().unwrap()));
        assert_eq!(parse_sockaddr("10.0.0.x"), None);
        assert_eq!(parse_sockaddr("10.1"), None);
        assert_eq!(parse_sockaddr(""), None);
        assert_eq!(parse_sockaddr("1.2.3.4/::"), None);
    }

    #[test]
    fn ntop_format() {
        assert_eq!(ntop(&"::1.2.3.4".parse().unwrap()), "::1.2.3.4");
        assert_eq!(ntop(&"::ffff:1.2.3.4".parse().unwrap()), "::ffff:1.2.3.4");
        assert_eq!(ntop(&"::1".parse().unwrap()), "::1");
        assert_eq!(ntop(&"fe80::1".parse().unwrap()), "fe80::1");
    }
}
