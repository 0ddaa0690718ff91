//! Keyword handlers (keepalived vrrp_parser.c, vrrp_data.c alloc_*,
//! vrrp_track.c alloc_track_*, trackers/track_file.c).

use super::model::*;
use crate::diag::Severity;
use crate::engine::{Args, Block, Ctx, Enter, Kw, KwIndexCell, Res, Sys};
use crate::model::{Script, Weight};
use crate::numbers::{check_true_false, TIMER_HZ};
use std::net::IpAddr;

/// Root-level keywords owned by this area.
pub static ROOT: &[Kw] = &[
    Kw::block("vrrp_sync_group", open_sync_group, &SYNC_GROUP).sys(Sys::Vrrp),
    Kw::block("garp_group", open_garp_group, &GARP_GROUP).sys(Sys::Vrrp),
    Kw::list_with("linkbeat_interfaces", Some(open_not_implemented), linkbeat_item, None).sys(Sys::Vrrp),
    Kw::block("vrrp_instance", open_instance, &INSTANCE).sys(Sys::Vrrp),
    Kw::block("vrrp_script", open_script, &SCRIPT).sys(Sys::Vrrp),
    Kw::block("vrrp_track_process", open_track_process, &TRACK_PROCESS).sys(Sys::Vrrp),
    Kw::list("interface_up_down_delays", up_down_item).sys(Sys::Vrrp),
    Kw::block("track_file", open_track_file, &TRACK_FILE).sys(Sys::VrrpOrCheck),
    Kw::block("vrrp_track_file", open_vrrp_track_file, &TRACK_FILE).sys(Sys::VrrpOrCheck),
];

const IFNAMSIZ: usize = 16;
const PRIO_OWNER: u32 = 255;
const PRIO_DFL: u32 = 100;

// ---------------------------------------------------------------- helpers

/// The keyword is parsed and stored, but keepalived-rs does not act on it
/// (a notice, so that a user moving from keepalived knows).
fn not_implemented(ctx: &mut Ctx, kw: &str) {
    ctx.report(Severity::Notice, format!("'{kw}' is accepted but not implemented by keepalived-rs"));
}

/// A block or list whose keyword is [`not_implemented`].
fn open_not_implemented(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    not_implemented(ctx, args.word(0));
    Ok(Enter::Yes)
}

fn iname(ctx: &Ctx) -> String {
    ctx.cfg.vrrp.instances.last().map(|v| v.name.clone()).unwrap_or_default()
}

fn inst(ctx: &mut Ctx) -> Option<&mut VrrpInstance> {
    ctx.cfg.vrrp.instances.last_mut()
}

fn gname(ctx: &Ctx) -> String {
    ctx.cfg.vrrp.sync_groups.last().map(|g| g.name.clone()).unwrap_or_default()
}

fn group(ctx: &mut Ctx) -> Option<&mut SyncGroup> {
    ctx.cfg.vrrp.sync_groups.last_mut()
}

/// keepalived `if_get_by_ifname(name, IF_CREATE_IF_DYNAMIC)`: does the
/// interface exist? A miss marks the shared non-existent-interface flag.
pub(crate) fn if_lookup(ctx: &mut Ctx, name: &str) -> bool {
    if ctx.system.has_interface(name) {
        return true;
    }
    ctx.cfg.ip.nonexistent_interface = true;
    false
}

fn is_loopback(ctx: &Ctx, name: &str) -> bool {
    ctx.system.interface(name).is_some_and(|i| i.loopback)
}

/// keepalived `inet_stosockaddr` without a port: range and mask removed.
pub(crate) fn parse_sockaddr(s: &str) -> Option<IpAddr> {
    let end = s.find(['-', '/']).unwrap_or(s.len());
    s[..end].parse().ok()
}

/// An optional boolean argument (absent = true). `None` after an error.
fn opt_bool(ctx: &mut Ctx, args: &Args<'_>, err: impl FnOnce(&str) -> String) -> Option<bool> {
    match args.get(1) {
        None => Some(true),
        Some(w) => match check_true_false(w) {
            Some(b) => Some(b),
            None => {
                ctx.error(err(w));
                None
            }
        },
    }
}

/// keepalived `alloc_value_block` without an open handler: the keyword line
/// must not carry extra words.
fn check_extra(ctx: &mut Ctx, args: &Args<'_>) {
    if args.len() > 1 {
        ctx.error(format!("Block {} has extra parameters {} ...", args.word(0), args.word(1)));
    }
}

fn words_of(args: &Args<'_>) -> Vec<String> {
    args.rest(0).map(str::to_string).collect()
}

// ---------------------------------------------------------------- linkbeat / delays

fn linkbeat_item(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let name = args.word(0);
    if !ctx.system.has_interface(name) {
        ctx.report(Severity::Fatal, format!("unknown interface {name} specified for linkbeat interface"));
        return Ok(());
    }
    let mut kind = None;
    if args.len() > 1 {
        let w = args.word(1);
        if matches!(w, "MII" | "ETHTOOL" | "IOCTL") {
            kind = Some(w.to_string());
        }
        if kind.is_none() || args.len() > 2 {
            ctx.error(format!("extra characters {w} in linkbeat interface"));
        }
    }
    ctx.cfg.vrrp.linkbeat_interfaces.push(LinkbeatInterface { name: name.to_string(), kind, origin: args.origin() });
    Ok(())
}

fn up_down_item(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let name = args.word(0);
    if !ctx.system.has_interface(name) {
        ctx.report(Severity::Fatal, format!("unknown interface {name} specified for up/down delay"));
        return Ok(());
    }
    if args.len() < 2 {
        ctx.log(format!("No timeouts specified for {name} up/down delays"));
        return Ok(());
    }
    if args.len() > 3 {
        ctx.log(format!("Too many parameters for {name} up/down delays"));
    }
    let Some(down) = ctx.read_timer(args.word(1), 0, 255 * TIMER_HZ, true) else {
        ctx.log(format!("Invalid down delay {} for {name}", args.word(1)));
        return Ok(());
    };
    let mut up = 0;
    if args.len() > 2 {
        match ctx.read_timer(args.word(2), 0, 255 * TIMER_HZ, true) {
            Some(u) => up = u,
            None => {
                ctx.log(format!("Invalid up delay {} for {name}", args.word(2)));
                return Ok(());
            }
        }
    }
    let d = &mut ctx.cfg.vrrp.up_down_delays;
    d.retain(|x| x.name != name);
    d.push(UpDownDelay { name: name.to_string(), down_us: down, up_us: up, origin: args.origin() });
    Ok(())
}

// ---------------------------------------------------------------- garp_group

static GARP_GROUP: Block = Block {
    index: KwIndexCell::new(),
    name: "garp_group",
    parts: &[&[
        Kw::value("garp_interval", garp_interval),
        Kw::value("gna_interval", gna_interval),
        Kw::value("interface", garp_interface),
        Kw::list_with("interfaces", Some(open_garp_interfaces), garp_interfaces_item, Some(close_garp_interfaces)),
    ]],
    close: Some(close_garp_group),
};

fn open_garp_group(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    ctx.cfg.vrrp.garp_groups.push(GarpGroup {
        origin: args.origin(),
        garp_interval_us: None,
        gna_interval_us: None,
        interfaces: Vec::new(),
    });
    Ok(Enter::Yes)
}

fn garp_interval(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    garp_timer(ctx, args, "garp_interval")
}

fn gna_interval(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    garp_timer(ctx, args, "gna_interval")
}

// 2.2.7 reads the interval up to INT_MAX µs (read_decimal_unsigned_strvec).
fn garp_timer(ctx: &mut Ctx, args: &Args<'_>, which: &str) -> Res {
    let s = ctx.req(args, 1)?;
    let Some(v) = ctx.read_decimal(s, 0, i32::MAX as u64, 6, true) else {
        ctx.error(format!("garp_group {which} '{s}' invalid"));
        return Ok(());
    };
    if let Some(g) = ctx.cfg.vrrp.garp_groups.last_mut() {
        if which == "garp_interval" {
            g.garp_interval_us = Some(v);
        } else {
            g.gna_interval_us = Some(v);
        }
    }
    if v >= TIMER_HZ {
        ctx.log(format!("The {which} is very large - {s} seconds"));
    }
    Ok(())
}

fn garp_if_in_group(ctx: &Ctx, name: &str) -> bool {
    ctx.cfg.vrrp.garp_groups.iter().any(|g| g.interfaces.iter().any(|i| i == name))
}

fn garp_interface(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let name = ctx.req(args, 1)?;
    if !if_lookup(ctx, name) {
        ctx.error(format!("WARNING - interface {name} specified for garp_group doesn't exist"));
        return Ok(());
    }
    if garp_if_in_group(ctx, name) {
        ctx.error(format!("garp_group already specified for {name} - ignoring"));
        return Ok(());
    }
    if let Some(g) = ctx.cfg.vrrp.garp_groups.last_mut() {
        g.interfaces.push(name.to_string());
    }
    Ok(())
}

fn open_garp_interfaces(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    check_extra(ctx, args);
    ctx.cfg.vrrp.pending_words.clear();
    Ok(Enter::Yes)
}

fn garp_interfaces_item(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = words_of(args);
    ctx.cfg.vrrp.pending_words.extend(w);
    Ok(())
}

fn close_garp_interfaces(ctx: &mut Ctx) -> Res {
    let words = std::mem::take(&mut ctx.cfg.vrrp.pending_words);
    if words.is_empty() {
        ctx.error("Warning - empty garp_group interfaces block");
        return Ok(());
    }
    ctx.cfg.vrrp.aggregation_group += 1;
    for name in &words {
        if !if_lookup(ctx, name) {
            ctx.error(format!("WARNING - interface {name} specified for garp_group doesn't exist"));
            continue;
        }
        if garp_if_in_group(ctx, name) {
            // keepalived names the block's second word here.
            let shown = words.get(1).unwrap_or(name).clone();
            ctx.error(format!("garp_group already specified for {shown} - ignoring"));
            continue;
        }
        if let Some(g) = ctx.cfg.vrrp.garp_groups.last_mut() {
            g.interfaces.push(name.clone());
        }
    }
    Ok(())
}

fn close_garp_group(ctx: &mut Ctx) -> Res {
    if let Some(g) = ctx.cfg.vrrp.garp_groups.last() {
        if g.garp_interval_us.is_none() && g.gna_interval_us.is_none() {
            let n = ctx.cfg.vrrp.aggregation_group;
            ctx.error(format!("garp group {n} does not have any delay set - removing"));
            ctx.cfg.vrrp.garp_groups.pop();
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- trackers (shared)

#[derive(Clone, Copy)]
enum Owner {
    Inst,
    Group,
}

fn owner_name(ctx: &Ctx, o: Owner) -> String {
    match o {
        Owner::Inst => iname(ctx),
        Owner::Group => gname(ctx),
    }
}

#[derive(Clone, Copy)]
enum TKind {
    Script,
    File,
    Process,
    Bfd,
}

fn tracked_list(ctx: &mut Ctx, o: Owner, k: TKind) -> Option<&mut Vec<TrackedRef>> {
    match o {
        Owner::Inst => inst(ctx).map(|v| match k {
            TKind::Script => &mut v.track_scripts,
            TKind::File => &mut v.track_files,
            TKind::Process => &mut v.track_processes,
            TKind::Bfd => &mut v.track_bfds,
        }),
        Owner::Group => group(ctx).map(|g| match k {
            TKind::Script => &mut g.track_scripts,
            TKind::File => &mut g.track_files,
            TKind::Process => &mut g.track_processes,
            TKind::Bfd => &mut g.track_bfds,
        }),
    }
}

fn track_if_list(ctx: &mut Ctx, o: Owner) -> Option<&mut Vec<TrackedInterface>> {
    match o {
        Owner::Inst => inst(ctx).map(|v| &mut v.track_interfaces),
        Owner::Group => group(ctx).map(|g| &mut g.track_interfaces),
    }
}

/// keepalived `alloc_track_if`.
fn track_if(ctx: &mut Ctx, args: &Args<'_>, o: Owner) -> Res {
    let name = owner_name(ctx, o);
    let tracked = args.word(0);
    if !if_lookup(ctx, tracked) {
        ctx.error(format!("({name}) tracked interface {tracked} doesn't exist"));
        return Ok(());
    }
    if track_if_list(ctx, o).is_some_and(|l| l.iter().any(|t| t.name == tracked)) {
        ctx.error(format!("({name}) duplicate track_interface {tracked} - ignoring"));
        return Ok(());
    }
    let mut weight = 0;
    let mut reverse = false;
    if args.len() >= 2 {
        if args.word(1) != "weight" {
            ctx.error(format!("({name}) unknown track_interface {tracked} option {} - ignoring", args.word(1)));
            return Ok(());
        }
        if args.len() == 2 {
            ctx.error(format!("({name}) weight without value specified for track_interface {tracked} - ignoring"));
            return Ok(());
        }
        match ctx.read_int(args.word(2), -254, 254, true) {
            None => {
                ctx.error(format!(
                    "({name}) weight {} for {tracked} must be between [-253..253] inclusive. Ignoring...",
                    args.word(2)
                ));
                weight = 0;
            }
            Some(w) if w == 254 || w == -254 => {
                ctx.error(format!("({name}) weight for {tracked} cannot be +/-254. Setting to +/-253"));
                weight = if w < 0 { -253 } else { 253 };
            }
            Some(w) => weight = w,
        }
        if args.len() >= 4 {
            if args.word(3) == "reverse" {
                reverse = true;
            } else {
                ctx.error(format!(
                    "({name}) unknown track_interace {tracked} weight option {} - ignoring",
                    args.word(3)
                ));
            }
        }
    }
    let origin = args.origin();
    if let Some(l) = track_if_list(ctx, o) {
        l.push(TrackedInterface { name: tracked.to_string(), weight: Weight { weight, reverse }, origin });
    }
    Ok(())
}

/// keepalived `alloc_track_script`, `vrrp_alloc_track_file`,
/// `alloc_track_process`, `alloc_track_bfd`.
fn track_ref(ctx: &mut Ctx, args: &Args<'_>, o: Owner, k: TKind) -> Res {
    let name = owner_name(ctx, o);
    let tracked = args.word(0);
    let default: Option<Weight> = match k {
        TKind::Script => ctx.cfg.vrrp.scripts.iter().find(|s| s.name == tracked).map(|s| s.weight),
        TKind::File => ctx.cfg.vrrp.track_files.iter().find(|s| s.name == tracked).map(|s| s.weight),
        TKind::Process => ctx.cfg.vrrp.track_processes.iter().find(|s| s.name == tracked).map(|s| s.weight),
        TKind::Bfd => ctx.cfg.bfd.instances.iter().find(|b| b.name == tracked).map(|_| Weight::default()),
    };
    let (what, dup_kw) = match k {
        TKind::Script => ("track script", "track_script"),
        TKind::File => ("track file", "track_file"),
        TKind::Process => ("track process", "track_process"),
        TKind::Bfd => ("track bfd", "track_bfd"),
    };
    let Some(default) = default else {
        ctx.error(format!("({name}) {what} {tracked} not found, ignoring..."));
        return Ok(());
    };
    if tracked_list(ctx, o, k).is_some_and(|l| l.iter().any(|t| t.name == tracked)) {
        ctx.error(format!("({name}) duplicate {dup_kw} {tracked} - ignoring"));
        return Ok(());
    }
    let mut weight = default.weight;
    let mut reverse = default.reverse;
    if args.len() >= 2 {
        if args.word(1) != "weight" {
            let msg = match k {
                TKind::Bfd => format!("({name}) unknown track bfd {tracked} option {} - ignoring", args.word(1)),
                _ => format!("({name}) unknown {what} option {} - ignoring", args.word(1)),
            };
            ctx.error(msg);
            return Ok(());
        }
        if args.len() == 2 {
            ctx.error(format!("({name}) weight without value specified for {what} {tracked} - ignoring"));
            return Ok(());
        }
        let (lo, hi) = if matches!(k, TKind::Bfd) { (-253, 253) } else { (-254, 254) };
        match ctx.read_int(args.word(2), lo, hi, true) {
            None => {
                weight = default.weight;
                let msg = match k {
                    TKind::Script => {
                        format!("({name}) track script {tracked}: weight must be between [-253..253] inclusive, ignoring...")
                    }
                    TKind::File => format!(
                        "({name}) weight for track file {tracked} must be in [-254..254] inclusive. Ignoring..."
                    ),
                    TKind::Process => {
                        format!(
                            "({name}) weight for track process {tracked} must be in [-254..254] inclusive. Ignoring..."
                        )
                    }
                    TKind::Bfd => {
                        format!("({name}) weight for track bfd {tracked} must be in [-253..253] inclusive. Ignoring...")
                    }
                };
                ctx.error(msg);
            }
            Some(w) if matches!(k, TKind::Script) && (w == 254 || w == -254) => {
                ctx.error(format!("({name}) weight for {tracked} cannot be +/-254. Setting to +/-253"));
                weight = if w < 0 { -253 } else { 253 };
            }
            Some(w) => weight = w,
        }
        if args.len() >= 4 {
            match args.word(3) {
                "reverse" => reverse = true,
                "noreverse" => reverse = false,
                opt => {
                    let (msg, stop) = match k {
                        TKind::Script => {
                            (format!("({name}) unknown track_script {tracked} weight option {opt} - ignoring"), false)
                        }
                        TKind::File => {
                            (format!("({name}) unknown track file {tracked} weight option {opt} - ignoring"), true)
                        }
                        TKind::Process => {
                            (format!("({name}) unknown track_process {tracked} weight option {opt} - ignoring"), false)
                        }
                        TKind::Bfd => {
                            (format!("({name}) unknown track bfd {tracked} weight option {opt} - ignoring"), true)
                        }
                    };
                    ctx.error(msg);
                    if stop {
                        return Ok(());
                    }
                }
            }
        }
    }
    let origin = args.origin();
    if let Some(l) = tracked_list(ctx, o, k) {
        l.push(TrackedRef { name: tracked.to_string(), weight: Weight { weight, reverse }, origin });
    }
    Ok(())
}

fn inst_track_if(c: &mut Ctx, a: &Args<'_>) -> Res {
    track_if(c, a, Owner::Inst)
}
fn inst_track_script(c: &mut Ctx, a: &Args<'_>) -> Res {
    track_ref(c, a, Owner::Inst, TKind::Script)
}
fn inst_track_file(c: &mut Ctx, a: &Args<'_>) -> Res {
    track_ref(c, a, Owner::Inst, TKind::File)
}
fn inst_track_process(c: &mut Ctx, a: &Args<'_>) -> Res {
    track_ref(c, a, Owner::Inst, TKind::Process)
}
fn inst_track_bfd(c: &mut Ctx, a: &Args<'_>) -> Res {
    track_ref(c, a, Owner::Inst, TKind::Bfd)
}
fn group_track_if(c: &mut Ctx, a: &Args<'_>) -> Res {
    track_if(c, a, Owner::Group)
}
fn group_track_script(c: &mut Ctx, a: &Args<'_>) -> Res {
    track_ref(c, a, Owner::Group, TKind::Script)
}
fn group_track_file(c: &mut Ctx, a: &Args<'_>) -> Res {
    track_ref(c, a, Owner::Group, TKind::File)
}
fn group_track_process(c: &mut Ctx, a: &Args<'_>) -> Res {
    track_ref(c, a, Owner::Group, TKind::Process)
}
fn group_track_bfd(c: &mut Ctx, a: &Args<'_>) -> Res {
    track_ref(c, a, Owner::Group, TKind::Bfd)
}

// ---------------------------------------------------------------- vrrp_sync_group

static SYNC_GROUP: Block = Block {
    index: KwIndexCell::new(),
    name: "vrrp_sync_group",
    parts: &[&[
        Kw::list_with("group", Some(open_sg_group), sg_group_item, Some(close_sg_group)),
        Kw::list("track_interface", group_track_if),
        Kw::list("track_script", group_track_script),
        Kw::list("track_file", group_track_file),
        Kw::list("track_process", group_track_process),
        Kw::list("track_bfd", group_track_bfd),
        Kw::script("notify_backup", sg_notify),
        Kw::script("notify_master", sg_notify),
        Kw::script("notify_fault", sg_notify),
        Kw::script("notify_stop", sg_notify),
        Kw::script("notify", sg_notify),
        Kw::value("smtp_alert", sg_smtp_alert),
        Kw::value("global_tracking", sg_global_tracking),
        Kw::value("sync_group_tracking_weight", sg_tracking_weight),
        Kw::value("notify_priority_changes", sg_notify_priority_changes),
    ]],
    close: None,
};

fn open_sync_group(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    if args.len() != 2 {
        ctx.error("vrrp_sync_group must have a name - skipping");
        return Ok(Enter::Skip);
    }
    let name = args.word(1);
    if ctx.cfg.vrrp.sync_groups.iter().any(|g| g.name == name) {
        ctx.error(format!("vrrp sync group {name} already defined"));
        return Ok(Enter::Skip);
    }
    ctx.cfg.vrrp.sync_groups.push(SyncGroup {
        name: name.to_string(),
        origin: args.origin(),
        members: None,
        track_interfaces: Vec::new(),
        track_scripts: Vec::new(),
        track_files: Vec::new(),
        track_processes: Vec::new(),
        track_bfds: Vec::new(),
        notify_master: None,
        notify_backup: None,
        notify_fault: None,
        notify_stop: None,
        notify: None,
        smtp_alert: None,
        notify_priority_changes: None,
        tracking_weight: false,
    });
    Ok(Enter::Yes)
}

fn open_sg_group(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    if group(ctx).is_some_and(|g| g.members.is_some()) {
        let n = gname(ctx);
        ctx.error(format!("Group list already specified for sync group {n}"));
        return Ok(Enter::Skip);
    }
    check_extra(ctx, args);
    ctx.cfg.vrrp.pending_words.clear();
    Ok(Enter::Yes)
}

fn sg_group_item(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = words_of(args);
    ctx.cfg.vrrp.pending_words.extend(w);
    Ok(())
}

fn close_sg_group(ctx: &mut Ctx) -> Res {
    let words = std::mem::take(&mut ctx.cfg.vrrp.pending_words);
    if words.is_empty() {
        let n = gname(ctx);
        ctx.error(format!("Warning - sync group {n} has empty group block"));
    } else if let Some(g) = group(ctx) {
        g.members = Some(words);
    }
    Ok(())
}

fn sg_notify(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let kw = args.word(0);
    let exists = group(ctx).is_some_and(|g| match kw {
        "notify_backup" => g.notify_backup.is_some(),
        "notify_master" => g.notify_master.is_some(),
        "notify_fault" => g.notify_fault.is_some(),
        "notify_stop" => g.notify_stop.is_some(),
        _ => g.notify.is_some(),
    });
    if exists {
        let w = ctx.req(args, 1)?;
        let n = gname(ctx);
        let what = if kw == "notify" { "notify" } else { kw };
        ctx.error(format!("vrrp group {n}: {what} script already specified - ignoring {w}"));
        return Ok(());
    }
    let s = ctx.read_script(args, "notify");
    ctx.stop_if_stopped()?;
    if let Some(g) = group(ctx) {
        match kw {
            "notify_backup" => g.notify_backup = s,
            "notify_master" => g.notify_master = s,
            "notify_fault" => g.notify_fault = s,
            "notify_stop" => g.notify_stop = s,
            _ => g.notify = s,
        }
    }
    Ok(())
}

fn sg_smtp_alert(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = opt_bool(ctx, args, |w| format!("Invalid vrrp_group smtp_alert parameter {w}")) {
        if let Some(g) = group(ctx) {
            g.smtp_alert = Some(b);
        }
    }
    Ok(())
}

fn sg_global_tracking(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    let n = gname(ctx);
    ctx.error(format!("({n}) global_tracking is deprecated. Use track_interface/script/file on the sync group"));
    if let Some(g) = group(ctx) {
        g.tracking_weight = true;
    }
    Ok(())
}

fn sg_tracking_weight(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    if let Some(g) = group(ctx) {
        g.tracking_weight = true;
    }
    Ok(())
}

fn sg_notify_priority_changes(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = gname(ctx);
    if let Some(b) =
        opt_bool(ctx, args, |w| format!("({n}) Invalid value '{w}' for sync group notify_priority_changes specified"))
    {
        if let Some(g) = group(ctx) {
            g.notify_priority_changes = Some(b);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- vrrp_instance

static AUTH: Block = Block {
    index: KwIndexCell::new(),
    name: "authentication",
    parts: &[&[Kw::value("auth_type", auth_type), Kw::value("auth_pass", auth_pass)]],
    close: None,
};

static AUTH_HMAC: Block = Block {
    index: KwIndexCell::new(),
    name: "auth_hmac",
    parts: &[&[
        Kw::value("key", hmac_key),
        Kw::value("active_key", hmac_active_key),
        Kw::value("time_window", hmac_time_window),
        Kw::value("anti_replay", hmac_anti_replay),
        Kw::value("mode", hmac_mode),
    ]],
    close: None,
};

static INSTANCE: Block = Block {
    index: KwIndexCell::new(),
    name: "vrrp_instance",
    parts: &[&[
        Kw::value("use_vmac", use_vmac),
        Kw::value("use_vmac_addr", |c, a| {
            not_implemented(c, a.word(0));
            flag(c, |v| v.use_vmac_addr = true)
        }),
        Kw::value("vmac_xmit_base", |c, _| flag(c, |v| v.vmac_xmit_base = true)),
        Kw::value("use_ipvlan", use_ipvlan),
        Kw::list_with("unicast_peer", Some(open_unicast_peer), unicast_peer_item, None),
        Kw::value("unicast_fault_no_peer", |c, _| {
            flag(c, |v| {
                v.unicast_configured = true;
                v.unicast_fault_no_peer = true
            })
        }),
        Kw::value("check_unicast_src", |c, _| {
            flag(c, |v| {
                v.unicast_configured = true;
                v.check_unicast_src = true
            })
        }),
        Kw::value("old_unicast_checksum", old_unicast_checksum),
        Kw::value("native_ipv6", native_ipv6),
        Kw::value("state", state),
        Kw::value("interface", interface),
        Kw::value("vrf", vrf),
        Kw::value("dont_track_primary", |c, _| flag(c, |v| v.dont_track_primary = true)),
        Kw::list("track_interface", inst_track_if),
        Kw::list("track_script", inst_track_script),
        Kw::list("track_file", inst_track_file),
        Kw::list("track_process", inst_track_process),
        Kw::list("track_bfd", inst_track_bfd),
        Kw::value("mcast_src_ip", mcast_src_ip),
        Kw::value("unicast_src_ip", unicast_src_ip),
        Kw::value("mcast_dst_ip", mcast_dst_ip),
        Kw::value("track_src_ip", |c, _| flag(c, |v| v.track_src_ip = true)),
        Kw::value("virtual_router_id", vrid),
        Kw::value("unicast_ttl", unicast_ttl),
        Kw::value("version", version),
        Kw::value("priority", priority),
        Kw::value("advert_int", advert_int),
        Kw::list("virtual_ipaddress", vip_item),
        Kw::list("virtual_ipaddress_excluded", evip_item),
        Kw::value("no_virtual_ipaddress", |c, _| flag(c, |v| v.no_virtual_ipaddress = true)),
        Kw::value("promote_secondaries", |c, _| flag(c, |v| v.promote_secondaries = true)),
        Kw::value("linkbeat_use_polling", linkbeat_use_polling),
        Kw::value("v3_checksum_as_v2", v3_checksum_as_v2),
        Kw::list("virtual_routes", vroute_item),
        Kw::list("virtual_rules", vrule_item),
        Kw::value("accept", |c, _| flag(c, |v| v.accept = Some(true))),
        Kw::value("no_accept", |c, _| flag(c, |v| v.accept = Some(false))),
        Kw::value("skip_check_adv_addr", skip_check_adv_addr),
        Kw::value("strict_mode", strict_mode),
        Kw::value("preempt", |c, _| flag(c, |v| v.nopreempt = false)),
        Kw::value("nopreempt", |c, _| flag(c, |v| v.nopreempt = true)),
        Kw::value("preempt_delay", preempt_delay),
        Kw::value("debug", debug),
        Kw::script("notify_backup", notify),
        Kw::script("notify_master", notify),
        Kw::script("notify_fault", notify),
        Kw::script("notify_stop", notify),
        Kw::script("notify_deleted", notify_deleted),
        Kw::script("notify", notify),
        Kw::script("notify_master_rx_lower_pri", notify),
        Kw::value("smtp_alert", smtp_alert),
        Kw::value("notify_priority_changes", notify_priority_changes),
        Kw::value("lvs_sync_daemon_interface", lvs_sync_daemon_interface),
        Kw::value("garp_master_delay", garp_master_delay),
        Kw::value("garp_master_refresh", garp_master_refresh),
        Kw::value("garp_master_repeat", garp_repeat),
        Kw::value("garp_master_refresh_repeat", garp_repeat),
        Kw::value("garp_lower_prio_delay", garp_lower_prio_delay),
        Kw::value("garp_lower_prio_repeat", garp_lower_prio_repeat),
        Kw::value("down_timer_adverts", down_timer_adverts),
        Kw::value("timer_expired_backup", timer_expired_backup),
        Kw::value("thread_timer_expired", thread_timer_expired),
        Kw::value("garp_extra_if", garp_extra_if),
        Kw::value("vmac_garp_intvl", garp_extra_if),
        Kw::value("lower_prio_no_advert", prio_advert_bool),
        Kw::value("higher_prio_send_advert", prio_advert_bool),
        Kw::value("owner_ignore_adverts", owner_ignore_adverts),
        Kw::value("kernel_rx_buf_size", kernel_rx_buf_size),
        Kw::block("authentication", open_auth, &AUTH),
        Kw::block("auth_hmac", open_auth_hmac, &AUTH_HMAC),
    ]],
    close: Some(close_instance),
};

fn flag(ctx: &mut Ctx, f: impl FnOnce(&mut VrrpInstance)) -> Res {
    if let Some(v) = inst(ctx) {
        f(v);
    }
    Ok(())
}

fn open_instance(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    ctx.cfg.seen.vrrp = true;
    if args.len() != 2 {
        ctx.error("vrrp_instance must have a name");
        return Ok(Enter::Skip);
    }
    let name = args.word(1);
    if !ctx.cfg.vrrp.instance_names.insert(name.to_string()) {
        ctx.error(format!("vrrp instance {name} already defined"));
        return Ok(Enter::Skip);
    }
    ctx.cfg.vrrp.instances.push(VrrpInstance::new(name, args.origin()));
    Ok(Enter::Yes)
}

/// keepalived `vrrp_end_handler`.
fn close_instance(ctx: &mut Ctx) -> Res {
    let n = iname(ctx);
    let Some(v) = inst(ctx) else { return Ok(()) };
    let vm = v.use_vmac.is_some() || v.use_ipvlan.is_some();
    let mut msgs = Vec::new();
    if v.unicast_configured && vm {
        if v.interface.is_none() {
            msgs.push(format!("({n}): Cannot use VMAC/ipvlan with unicast and no interface - clearing use_vmac"));
            v.use_vmac = None;
            v.use_ipvlan = None;
        } else if !v.vmac_xmit_base {
            msgs.push(format!("({n}) unicast with use_vmac requires vmac_xmit_base - setting"));
            v.vmac_xmit_base = true;
        }
    }
    if v.unicast_peers.is_empty() && v.unicast_ttl.is_some() {
        msgs.push(format!("({n}): Cannot use unicast_ttl without unicast peers - resetting"));
        v.unicast_ttl = Some(0);
    }
    if v.interface.is_none() {
        v.linkbeat_use_polling = false;
    }
    for m in msgs {
        ctx.error(m);
    }
    Ok(())
}

fn dev_name_valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() < IFNAMSIZ
        && name != "."
        && name != ".."
        && !name.chars().any(|c| c == '/' || c == ':' || c.is_ascii_whitespace())
}

/// Parse a VMAC MAC: 6 octets, or 5 (the last octet is then the VRID).
fn parse_vmac_mac(s: &str) -> Option<([u8; 6], bool)> {
    let mut parts: Vec<&str> = s.split(':').collect();
    let mut mac = [0u8; 6];
    if parts.len() == 6 && parts[5].is_empty() {
        parts.pop();
    }
    if parts.len() != 5 && parts.len() != 6 {
        return None;
    }
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        mac[i] = u8::from_str_radix(p, 16).ok()?;
    }
    Some((mac, parts.len() == 5))
}

fn use_vmac(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = iname(ctx);
    let mut vm = inst(ctx).and_then(|v| v.use_vmac.clone()).unwrap_or_default();
    let mut i = 1;
    while i < args.len() {
        let w = args.word(i);
        if w.contains(':') {
            if vm.mac.is_some() {
                ctx.error("VMAC interface address already specified");
            } else if w.chars().any(|c| !c.is_ascii_hexdigit() && c != ':') {
                ctx.error(format!("VMAC invalid MAC address {w}"));
            } else {
                match parse_vmac_mac(w) {
                    None => ctx.error(format!("VMAC invalid MAC address {w} - ignored")),
                    Some((mac, _)) if mac[0] & 1 != 0 => {
                        ctx.error(format!("VMAC MAC address is multicast {w} - ignoring"))
                    }
                    Some((mac, _)) if mac[..4] == [0, 0, 0x5e, 0] && (mac[4] == 1 || mac[4] == 2) => {
                        ctx.error(format!("VMAC MAC address not allowed to be RFC5798 address ({w}) - ignoring"))
                    }
                    Some((mac, use_vrid)) => {
                        vm.mac = Some(mac);
                        vm.mac_use_vrid = use_vrid;
                    }
                }
            }
            i += 1;
            continue;
        }
        if w == "netlink_notify_msg" {
            vm.netlink_notify_msg = true;
            i += 1;
            continue;
        }
        if w == "group" {
            i += 1;
            let g = ctx.req(args, i)?;
            vm.group = Some(g.to_string());
            i += 1;
            continue;
        }
        if w == "name" {
            i += 1;
        }
        if vm.ifname.is_some() {
            ctx.error("VMAC interface name already specified");
            i += 1;
            continue;
        }
        let name = ctx.req(args, i)?;
        i += 1;
        if !dev_name_valid(name) {
            ctx.error(format!("VMAC interface name '{name}' too long or invalid characters - ignoring"));
            continue;
        }
        let other = ctx.cfg.vrrp.instances.iter().find(|o| {
            o.use_vmac.as_ref().and_then(|m| m.ifname.as_deref()) == Some(name)
                || o.use_ipvlan.as_ref().and_then(|m| m.ifname.as_deref()) == Some(name)
        });
        if let Some(o) = other {
            let on = o.name.clone();
            ctx.error(format!("({n}) VRRP instance {on} is already using {name} - ignoring name"));
            continue;
        }
        if ctx.system.interface(name).is_some_and(|i| i.kind.as_deref() != Some("macvlan")) {
            ctx.error(format!(
                "({n}) interface {name} already exists and is not a private macvlan; ignoring vmac if_name"
            ));
            continue;
        }
        vm.ifname = Some(name.to_string());
    }
    if let Some(v) = inst(ctx) {
        v.use_vmac = Some(vm);
    }
    Ok(())
}

fn use_ipvlan(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = iname(ctx);
    if inst(ctx).is_some_and(|v| v.use_ipvlan.is_some()) {
        ctx.error(format!("({n}) use_ipvlan already specified"));
        return Ok(());
    }
    let mut ip = Ipvlan::default();
    let mut had_flags = false;
    let mut i = 1;
    while i < args.len() {
        let w = args.word(i);
        i += 1;
        if matches!(w, "bridge" | "private" | "vepa") {
            if had_flags {
                ctx.error(format!("({n}) ipvlan type already specified - ignoring '{w}'"));
            } else {
                ip.mode = Some(w.to_string());
                had_flags = true;
            }
            continue;
        }
        if w == "group" {
            let g = ctx.req(args, i)?;
            ip.group = Some(g.to_string());
            i += 1;
            continue;
        }
        let name = if w == "name" {
            let nm = ctx.req(args, i)?;
            i += 1;
            nm
        } else if let Some(a) = parse_sockaddr(w).filter(|_| !w.contains('-')) {
            if ip.addr.is_some() {
                ctx.error(format!("({n}) ipvlan address already specified - ignoring '{w}'"));
                continue;
            }
            let fam = Family::of(&a);
            let cur = inst(ctx).and_then(|v| v.family);
            match cur {
                None => {
                    if let Some(v) = inst(ctx) {
                        v.family = Some(fam);
                    }
                }
                Some(f) if f != fam => {
                    ctx.error(format!("({n}) ipvlan address[{w}] MUST match vrrp instance family !!! Skipping..."));
                    continue;
                }
                _ => {}
            }
            ip.addr = Some(a);
            ip.prefix = w.split_once('/').and_then(|(_, p)| p.parse().ok());
            if let Some(v) = inst(ctx) {
                if v.src_ip.is_none() {
                    v.src_ip = Some(a);
                }
            }
            continue;
        } else {
            w
        };
        if ip.ifname.is_some() {
            ctx.error(format!("({n}) IPVLAN interface already specified - ignoring '{name}'"));
            continue;
        }
        if name.len() >= IFNAMSIZ {
            ctx.error(format!("({n}) IPVLAN interface name '{name}' too long - ignoring"));
            continue;
        }
        let other = ctx.cfg.vrrp.instances.iter().find(|o| {
            o.use_vmac.as_ref().and_then(|m| m.ifname.as_deref()) == Some(name)
                || o.use_ipvlan.as_ref().and_then(|m| m.ifname.as_deref()) == Some(name)
        });
        if let Some(o) = other {
            let on = o.name.clone();
            ctx.error(format!("({n}) VRRP instance {on} is already using {name} - ignoring name"));
            continue;
        }
        if ctx.system.interface(name).is_some_and(|i| i.kind.as_deref() != Some("ipvlan")) {
            ctx.error(format!(
                "({n}) interface {name} already exists and is not an l2 ipvlan; ignoring ipvlan if_name"
            ));
            continue;
        }
        ip.ifname = Some(name.to_string());
    }
    if let Some(v) = inst(ctx) {
        v.use_ipvlan = Some(ip);
    }
    Ok(())
}

fn open_unicast_peer(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    flag(ctx, |v| v.unicast_configured = true)?;
    check_extra(ctx, args);
    Ok(Enter::Yes)
}

fn unicast_peer_item(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = iname(ctx);
    let w0 = args.word(0);
    let Some(addr) = parse_sockaddr(w0) else {
        ctx.error(format!("Configuration error: VRRP instance[{n}] malformed unicast peer address[{w0}]. Skipping..."));
        return Ok(());
    };
    let fam = Family::of(&addr);
    match inst(ctx).and_then(|v| v.family) {
        None => flag(ctx, |v| v.family = Some(fam))?,
        Some(f) if f != fam => {
            ctx.error(format!(
                "Configuration error: VRRP instance[{n}] and unicast peer address[{w0}] MUST be of the same family !!! Skipping..."
            ));
            return Ok(());
        }
        _ => {}
    }
    let (mut min_ttl, mut max_ttl) = (0u8, 255u8);
    let mut i = 1;
    while i < args.len() {
        if i + 1 >= args.len() {
            ctx.error(format!("({n}) {w0} - {} is missing a value", args.word(i)));
            break;
        }
        if let Some(ttl) = ctx.read_unsigned(args.word(i + 1), 0, 255, false) {
            match args.word(i) {
                "min_ttl" => min_ttl = ttl as u8,
                "max_ttl" => max_ttl = ttl as u8,
                o => {
                    ctx.error(format!("({n}) {w0} - unknown unicast_peer option {o}"));
                    break;
                }
            }
            flag(ctx, |v| v.check_unicast_src = true)?;
        }
        i += 2;
    }
    if inst(ctx).is_some_and(|v| v.unicast_peers.iter().any(|p| p.addr == addr)) {
        // Master's text; 2.2.7 adds the peer twice silently (two adverts
        // per interval to it): dropped, noticed without failing -t.
        ctx.log(format!("({n}) {w0} - duplicate unicast_peer"));
        return Ok(());
    }
    if min_ttl > max_ttl {
        ctx.error(format!("({n}) {w0} - min_ttl {min_ttl} > max_ttl {max_ttl} - all packets will be discarded"));
    }
    let origin = args.origin();
    flag(ctx, |v| v.unicast_peers.push(UnicastPeer { addr, min_ttl, max_ttl, origin }))
}

fn old_unicast_checksum(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = iname(ctx);
    flag(ctx, |v| v.unicast_configured = true)?;
    match args.get(1) {
        None => flag(ctx, |v| v.old_unicast_checksum = Some(ChecksumCompat::Config)),
        Some("never") => flag(ctx, |v| v.old_unicast_checksum = Some(ChecksumCompat::Never)),
        Some(w) => {
            ctx.error(format!("({n}) Unknown old_unicast_chksum mode {w} - ignoring"));
            Ok(())
        }
    }
}

fn native_ipv6(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    let n = iname(ctx);
    if inst(ctx).is_some_and(|v| v.family == Some(Family::Inet)) {
        ctx.error(format!("({n}) Cannot specify native_ipv6 with IPv4 addresses"));
        return Ok(());
    }
    flag(ctx, |v| {
        v.family = Some(Family::Inet6);
        v.version = Some(3);
    })
}

fn state(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    let n = iname(ctx);
    match s {
        "MASTER" => flag(ctx, |v| v.state = Some(State::Master)),
        "BACKUP" => {
            if inst(ctx).is_some_and(|v| v.state == Some(State::Master)) {
                ctx.error(format!("({n}) state previously set as MASTER - ignoring BACKUP"));
                Ok(())
            } else {
                flag(ctx, |v| v.state = Some(State::Backup))
            }
        }
        _ => {
            ctx.error(format!("({n}) unknown state '{s}', defaulting to BACKUP"));
            flag(ctx, |v| v.state = Some(State::Backup))
        }
    }
}

fn interface(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let name = ctx.req(args, 1)?;
    let n = iname(ctx);
    if name.len() >= IFNAMSIZ {
        ctx.error(format!("Interface name '{name}' too long - ignoring"));
        return Ok(());
    }
    let origin = args.origin();
    let ifname = if !if_lookup(ctx, name) {
        ctx.error(format!("WARNING - interface {name} for vrrp_instance {n} doesn't exist"));
        None
    } else if is_loopback(ctx, name) {
        ctx.error(format!("({n}) cannot use a loopback interface ({name}) for vrrp - ignoring"));
        None
    } else {
        Some(name.to_string())
    };
    flag(ctx, |v| {
        v.interface = ifname;
        v.interface_origin = Some(origin);
    })
}

fn vrf(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let name = ctx.req(args, 1)?;
    let n = iname(ctx);
    if name.len() >= IFNAMSIZ {
        ctx.error(format!("({n}) VRF interface name '{name}' too long - ignoring"));
        return Ok(());
    }
    if inst(ctx).is_some_and(|v| v.interface.is_some()) {
        ctx.error(format!("({n}) Cannot specify VRF interface and interface - ignoring"));
        return Ok(());
    }
    if let Some(prev) = inst(ctx).and_then(|v| v.vrf.clone()) {
        ctx.error(format!("({n}) VRF interface already specified as '{prev}' - ignoring"));
        return Ok(());
    }
    if !if_lookup(ctx, name) {
        ctx.error(format!("({n}) WARNING - VRF interface {name} doesn't exist"));
    } else if is_loopback(ctx, name) {
        ctx.error(format!("({n}) cannot use a loopback interface ({name}) for VRF - ignoring"));
    } else {
        flag(ctx, |v| v.vrf = Some(name.to_string()))?;
    }
    Ok(())
}

fn linkbeat_use_polling(ctx: &mut Ctx, _args: &Args<'_>) -> Res {
    not_implemented(ctx, "linkbeat_use_polling");
    let n = iname(ctx);
    flag(ctx, |v| v.linkbeat_use_polling = true)?;
    ctx.error(format!("({n}) 'linkbeat_use_polling' in vrrp instance deprecated - use linkbeat_interfaces block"));
    Ok(())
}

fn v3_checksum_as_v2(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = iname(ctx);
    if let Some(b) = opt_bool(ctx, args, |w| format!("({n}) invalid v3_checksum_as_v2 {w} specified")) {
        flag(ctx, |v| v.v3_checksum_as_v2 = Some(b))?;
    }
    Ok(())
}

/// keepalived `vrrp_srcip_handler`.
fn src_ip(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let n = iname(ctx);
    let Some(a) = parse_sockaddr(w) else {
        ctx.error(format!("Configuration error: VRRP instance[{n}] malformed src address[{w}]. Skipping..."));
        return Ok(());
    };
    let fam = Family::of(&a);
    match inst(ctx).and_then(|v| v.family) {
        None => flag(ctx, |v| {
            v.family = Some(fam);
            v.src_ip = Some(a);
        }),
        Some(f) if f != fam => {
            ctx.error(format!(
                "Configuration error: VRRP instance[{n}] and src address[{w}] MUST be of the same family !!! Skipping..."
            ));
            flag(ctx, |v| v.src_ip = None)
        }
        _ => flag(ctx, |v| v.src_ip = Some(a)),
    }
}

fn mcast_src_ip(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    src_ip(ctx, args)
}

fn unicast_src_ip(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    flag(ctx, |v| v.unicast_configured = true)?;
    src_ip(ctx, args)
}

fn mcast_dst_ip(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let n = iname(ctx);
    let Some(a) = parse_sockaddr(w) else {
        ctx.error(format!("({n}) malformed mcast dest address {w}. Skipping..."));
        return Ok(());
    };
    let fam = Family::of(&a);
    let mut ok = true;
    match inst(ctx).and_then(|v| v.family) {
        None => flag(ctx, |v| v.family = Some(fam))?,
        Some(f) if f != fam => {
            ctx.error(format!("({n}) mcast dest address {w} MUST match VRRP instance family. Skipping..."));
            ok = false;
        }
        _ => {}
    }
    if ok {
        let good = match a {
            IpAddr::V4(v4) => v4.is_multicast(),
            IpAddr::V6(v6) => v6.segments()[0] & 0xff0f == 0xff02,
        };
        if !good {
            let ll = if fam == Family::Inet6 { " link-local" } else { "" };
            ctx.error(format!("({n}) mcast_dst_ip {w} not{ll} multicast. Skipping..."));
            ok = false;
        }
    }
    flag(ctx, |v| v.mcast_dst_ip = if ok { Some(a) } else { None })
}

fn vrid(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let n = iname(ctx);
    match ctx.read_unsigned(w, 1, 255, false) {
        Some(id) => flag(ctx, |v| v.vrid = Some(id as u8)),
        None => {
            ctx.error(format!("({n}): VRID '{w}' not valid - must be between 1 & 255"));
            Ok(())
        }
    }
}

fn unicast_ttl(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let n = iname(ctx);
    match ctx.read_unsigned(w, 0, 255, false) {
        Some(t) => flag(ctx, |v| v.unicast_ttl = Some(t as u8)),
        None => {
            ctx.error(format!("({n}): TTL '{w}' not valid - must be between 0 & 255"));
            Ok(())
        }
    }
}

fn version(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let n = iname(ctx);
    let Some(ver) = ctx.read_int(w, 2, 3, true) else {
        ctx.error(format!("({n}): Version must be either 2 or 3"));
        return Ok(());
    };
    let (cur, fam) = inst(ctx).map(|v| (v.version, v.family)).unwrap_or((None, None));
    if cur.is_some_and(|c| c as i32 != ver) || (ver == 2 && fam == Some(Family::Inet6)) {
        ctx.error(format!(
            "({n}) vrrp_version {ver} conflicts with configured or deduced version {}; ignoring.",
            cur.unwrap_or(0)
        ));
        return Ok(());
    }
    flag(ctx, |v| v.version = Some(ver as u8))
}

fn priority(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let n = iname(ctx);
    match ctx.read_unsigned(w, 1, PRIO_OWNER, false) {
        Some(p) => flag(ctx, |v| v.priority = Some(p as u8)),
        None => {
            ctx.error(format!("({n}) Priority not valid! must be between 1 & {PRIO_OWNER}. Using default {PRIO_DFL}"));
            flag(ctx, |v| v.priority = Some(PRIO_DFL as u8))
        }
    }
}

fn advert_int(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let n = iname(ctx);
    match ctx.read_decimal(w, TIMER_HZ / 100, 255 * TIMER_HZ, 6, true) {
        Some(us) if us > 0 => flag(ctx, |v| v.advert_int_us = Some(us)),
        _ => {
            ctx.error(format!("({n}) Advert interval ({w}) not valid! Must be > 0 - ignoring"));
            Ok(())
        }
    }
}

fn debug(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let n = iname(ctx);
    match ctx.read_unsigned(w, 0, 4, true) {
        Some(d) => flag(ctx, |v| v.debug = d),
        None => {
            ctx.error(format!("({n}) Debug value '{w}' not valid; must be between 0-4"));
            Ok(())
        }
    }
}

fn skip_check_adv_addr(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = iname(ctx);
    // keepalived sets the flag for `false` too.
    if opt_bool(ctx, args, |w| format!("({n}) invalid skip_check_adv_addr {w} specified")).is_some() {
        flag(ctx, |v| v.skip_check_adv_addr = true)?;
    }
    Ok(())
}

fn strict_mode(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = iname(ctx);
    if let Some(b) = opt_bool(ctx, args, |w| format!("({n}) invalid strict_mode {w} specified")) {
        flag(ctx, |v| v.strict_mode = Some(b))?;
    }
    Ok(())
}

fn prio_advert_bool(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = iname(ctx);
    let kw = args.word(0);
    if let Some(b) = opt_bool(ctx, args, |w| format!("({n}) invalid {kw} {w} specified")) {
        flag(ctx, |v| {
            if kw == "lower_prio_no_advert" {
                v.lower_prio_no_advert = Some(b)
            } else {
                v.higher_prio_send_advert = Some(b)
            }
        })?;
    }
    Ok(())
}

fn owner_ignore_adverts(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = iname(ctx);
    let kw = args.word(0);
    if let Some(b) = opt_bool(ctx, args, |w| format!("({n}) invalid {kw} {w} specified")) {
        flag(ctx, |v| v.owner_ignore_adverts = Some(b))?;
    }
    Ok(())
}

fn preempt_delay(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let n = iname(ctx);
    match ctx.read_decimal(w, 0, 1000 * TIMER_HZ, 6, true) {
        Some(d) => flag(ctx, |v| v.preempt_delay_us = d),
        None => {
            ctx.error(format!("({n}) Preempt_delay not valid! must be between 0-1000"));
            flag(ctx, |v| v.preempt_delay_us = 0)
        }
    }
}

fn notify(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let kw = args.word(0);
    let n = iname(ctx);
    let exists = inst(ctx).is_some_and(|v| match kw {
        "notify_backup" => v.notify_backup.is_some(),
        "notify_master" => v.notify_master.is_some(),
        "notify_fault" => v.notify_fault.is_some(),
        "notify_stop" => v.notify_stop.is_some(),
        "notify_master_rx_lower_pri" => v.notify_master_rx_lower_pri.is_some(),
        _ => v.notify.is_some(),
    });
    if exists {
        let w = ctx.req(args, 1)?;
        ctx.error(format!("({n}) {kw} script already specified - ignoring {w}"));
        return Ok(());
    }
    let s = ctx.read_script(args, "notify").map(Box::new);
    ctx.stop_if_stopped()?;
    flag(ctx, |v| match kw {
        "notify_backup" => v.notify_backup = s,
        "notify_master" => v.notify_master = s,
        "notify_fault" => v.notify_fault = s,
        "notify_stop" => v.notify_stop = s,
        "notify_master_rx_lower_pri" => v.notify_master_rx_lower_pri = s,
        _ => v.notify = s,
    })
}

fn notify_deleted(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = iname(ctx);
    if inst(ctx).is_some_and(|v| v.notify_deleted) {
        ctx.error(format!("({n}) notify_deleted already specified - ignoring {}", args.word(1)));
        return Ok(());
    }
    let s = if args.len() > 1 { ctx.read_script(args, "notify").map(Box::new) } else { None };
    flag(ctx, |v| {
        v.notify_deleted_script = s;
        v.notify_deleted = true;
    })
}

fn smtp_alert(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if let Some(b) = opt_bool(ctx, args, |w| format!("Invalid vrrp_instance smtp_alert parameter {w}")) {
        flag(ctx, |v| v.smtp_alert = Some(b))?;
    }
    Ok(())
}

fn notify_priority_changes(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = iname(ctx);
    if let Some(b) = opt_bool(ctx, args, |w| format!("({n}) Invalid value '{w}' for notify_priority_changes specified"))
    {
        flag(ctx, |v| v.notify_priority_changes = Some(b))?;
    }
    Ok(())
}

fn lvs_sync_daemon_interface(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = iname(ctx);
    ctx.error(format!("({n}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated."));
    let pad = (n.len() as i64 - 2).unsigned_abs() as usize;
    ctx.error(format!("      {:pad$}Please use global lvs_sync_daemon", ""));
    // keepalived checks (and fills) the global lvs_sync_daemon's interface.
    if let Some(sd) = &ctx.cfg.global.lvs_sync_daemon {
        let ifn = sd.interface.clone();
        ctx.error(format!("({n}) lvs_sync_daemon_interface has already been specified as {ifn} - ignoring"));
        return Ok(());
    }
    let w = ctx.req(args, 1)?;
    ctx.cfg.global.lvs_sync_daemon = Some(crate::model::global::LvsSyncDaemon {
        interface: w.to_string(),
        vrrp_instance: Some(n),
        origin: Some(args.origin()),
        ..Default::default()
    });
    flag(ctx, |v| v.lvs_sync_daemon_interface = Some(w.to_string()))
}

fn garp_master_delay(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let n = iname(ctx);
    match ctx.read_unsigned(w, 0, u32::MAX / TIMER_HZ as u32, true) {
        Some(d) => flag(ctx, |v| v.garp_master_delay_us = Some(d as u64 * TIMER_HZ)),
        None => {
            ctx.error(format!("({n}): garp_master_delay '{w}' invalid - ignoring"));
            Ok(())
        }
    }
}

fn garp_master_refresh(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let n = iname(ctx);
    match ctx.read_unsigned(w, 0, u32::MAX, true) {
        Some(d) => flag(ctx, |v| v.garp_master_refresh = Some(d)),
        None => {
            ctx.error(format!("({n}): Invalid garp_master_refresh '{w}' - ignoring"));
            flag(ctx, |v| v.garp_master_refresh = Some(0))
        }
    }
}

fn garp_repeat(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let kw = args.word(0);
    let w = ctx.req(args, 1)?;
    let n = iname(ctx);
    let Some(mut r) = ctx.read_unsigned(w, 0, u32::MAX, true) else {
        ctx.error(format!("({n}): {kw} '{w}' invalid - ignoring"));
        return Ok(());
    };
    if r == 0 {
        ctx.error(format!("({n}): {kw} must be greater than 0, setting to 1"));
        r = 1;
    }
    flag(ctx, |v| {
        if kw == "garp_master_repeat" {
            v.garp_master_repeat = Some(r)
        } else {
            v.garp_master_refresh_repeat = Some(r)
        }
    })
}

fn garp_lower_prio_delay(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let n = iname(ctx);
    match ctx.read_unsigned(w, 0, u32::MAX / TIMER_HZ as u32, true) {
        Some(d) => flag(ctx, |v| v.garp_lower_prio_delay_us = Some(d as u64 * TIMER_HZ)),
        None => {
            ctx.error(format!("({n}): garp_lower_prio_delay '{w}' invalid - ignoring"));
            Ok(())
        }
    }
}

fn garp_lower_prio_repeat(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let n = iname(ctx);
    match ctx.read_unsigned(w, 0, i32::MAX as u32, true) {
        Some(r) => flag(ctx, |v| v.garp_lower_prio_repeat = Some(r)),
        None => {
            ctx.error(format!("({n}): Invalid garp_lower_prio_repeat '{w}'"));
            Ok(())
        }
    }
}

fn down_timer_adverts(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let n = iname(ctx);
    match ctx.read_unsigned(w, 1, 100, true) {
        Some(r) => flag(ctx, |v| v.down_timer_adverts = Some(r)),
        None => {
            ctx.error(format!("({n}): Invalid down_timer_adverts [1:100] '{w}'"));
            Ok(())
        }
    }
}

fn timer_expired_backup(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    not_implemented(ctx, "timer_expired_backup");
    let n = iname(ctx);
    let mut p = PRIO_OWNER - 1;
    if let Some(w) = args.get(1) {
        match ctx.read_unsigned(w, 1, PRIO_OWNER - 1, false) {
            Some(x) => p = x,
            None => {
                ctx.error(format!(
                    "({n}) timer_expired_backup highest_other_priority not valid! must be between 1 & 254"
                ));
                return Ok(());
            }
        }
    }
    flag(ctx, |v| v.timer_expired_backup = Some(p as u8))
}

fn thread_timer_expired(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = iname(ctx);
    ctx.error(format!("({n}) thread_timer_expired - please replace with keyword 'timer_expired_backup'"));
    timer_expired_backup(ctx, args)
}

fn garp_extra_if(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let kw = args.word(0);
    let n = iname(ctx);
    if kw == "vmac_garp_intvl" {
        ctx.deprecated("Keyword \"vmac_garp_intvl\" is deprecated - please use \"garp_extra_if\"");
    }
    let mut delay: Option<u32> = None;
    let mut all = false;
    for i in 1..args.len() {
        let w = args.word(i);
        if w == "all" {
            all = true;
        } else {
            match ctx.read_unsigned(w, 0, 86400, true) {
                Some(d) => delay = Some(d),
                None => {
                    ctx.error(format!("({n}): {kw} '{w}' invalid - ignoring"));
                    return Ok(());
                }
            }
        }
    }
    if all {
        flag(ctx, |v| v.garp_extra_if_all = true)?;
    }
    let Some(d) = delay else {
        ctx.error(format!("({n}): {kw} specified without time - ignoring"));
        return Ok(());
    };
    flag(ctx, |v| v.garp_extra_if = Some(d))
}

fn kernel_rx_buf_size(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = iname(ctx);
    if args.len() == 2 {
        if let Some(s) = ctx.read_unsigned(args.word(1), 0, u32::MAX, false) {
            return flag(ctx, |v| v.kernel_rx_buf_size = Some(s));
        }
    }
    ctx.error(format!("({n}) invalid kernel_rx_buf_size specified"));
    Ok(())
}

fn open_auth(_ctx: &mut Ctx, _args: &Args<'_>) -> Res<Enter> {
    Ok(Enter::Yes)
}

fn auth_type(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    let n = iname(ctx);
    match s {
        "AH" => flag(ctx, |v| v.auth_type = Some(AuthType::Ah)),
        "PASS" => flag(ctx, |v| v.auth_type = Some(AuthType::Pass)),
        _ => {
            ctx.error(format!("({n}) unknown authentication type '{s}'"));
            Ok(())
        }
    }
}

fn auth_pass(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let s = ctx.req(args, 1)?;
    let mut bytes = s.as_bytes().to_vec();
    if bytes.len() > 8 {
        bytes.truncate(8);
        ctx.error("Truncating auth_pass to 8 characters");
    }
    let p = String::from_utf8_lossy(&bytes).into_owned();
    flag(ctx, |v| v.auth_pass = Some(p))
}

fn open_auth_hmac(ctx: &mut Ctx, _args: &Args<'_>) -> Res<Enter> {
    ctx.report(Severity::Notice, "auth_hmac is accepted but not implemented by keepalived-rs");
    flag(ctx, |v| {
        if v.auth_hmac.is_none() {
            v.auth_hmac = Some(AuthHmac {
                keys: Vec::new(),
                active_key: 0,
                time_window: 0,
                anti_replay_time: true,
                mode: HmacMode::Enforce,
            });
        }
    })?;
    Ok(Enter::Yes)
}

fn hmac(ctx: &mut Ctx) -> Option<&mut AuthHmac> {
    inst(ctx).and_then(|v| v.auth_hmac.as_mut())
}

fn decode_hmac_key(s: &str) -> Option<Vec<u8>> {
    match s.strip_prefix("hex:") {
        Some(h) => {
            let h: Vec<u8> = h.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
            if !h.len().is_multiple_of(2) {
                return None;
            }
            h.chunks(2).map(|c| std::str::from_utf8(c).ok().and_then(|t| u8::from_str_radix(t, 16).ok())).collect()
        }
        None => Some(s.as_bytes().to_vec()),
    }
}

fn hmac_key(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if hmac(ctx).is_none() {
        return Ok(());
    }
    let n = iname(ctx);
    if args.len() < 3 {
        ctx.error(format!("({n}) auth_hmac key needs an id and a value"));
        return Ok(());
    }
    let Some(id) = ctx.read_unsigned(args.word(1), 1, 255, false) else {
        ctx.error(format!("({n}) auth_hmac key id '{}' must be between 1 and 255", args.word(1)));
        return Ok(());
    };
    let s = args.word(2);
    let data = if let Some(path) = s.strip_prefix("file:") {
        // O_NONBLOCK: a FIFO named as the key file must not block the parse (a configuration is read
        // by the parent, every child and `-t`); only a regular file is read.
        use std::os::unix::fs::OpenOptionsExt;
        let nonblock = nix::fcntl::OFlag::O_NONBLOCK.bits();
        match std::fs::OpenOptions::new().read(true).custom_flags(nonblock).open(path) {
            Err(_) => {
                ctx.error(format!("({n}) auth_hmac key file '{path}' cannot be opened"));
                None
            }
            Ok(f) if !f.metadata().is_ok_and(|m| m.is_file()) => {
                ctx.error(format!("({n}) auth_hmac key file '{path}' is not a regular file"));
                None
            }
            Ok(f) => {
                use std::io::Read;
                use std::os::unix::fs::PermissionsExt;
                if f.metadata().is_ok_and(|m| m.permissions().mode() & 0o077 != 0) {
                    ctx.report(
                        Severity::SecurityError,
                        format!("({n}) auth_hmac key file '{path}' is readable by group or others"),
                    );
                }
                let mut buf = Vec::new();
                let max = 4 + 64 * 2 + 8 - 1;
                match f.take(max as u64 + 1).read_to_end(&mut buf) {
                    Ok(len) if len > max => {
                        ctx.error(format!("({n}) auth_hmac key file '{path}' is too large"));
                        None
                    }
                    Ok(_) => {
                        while buf.last().is_some_and(|c| *c == b'\n' || *c == b'\r') {
                            buf.pop();
                        }
                        decode_hmac_key(&String::from_utf8_lossy(&buf))
                    }
                    Err(_) => None,
                }
            }
        }
    } else {
        decode_hmac_key(s)
    };
    let len = data.as_ref().map_or(0, |d| d.len());
    match data {
        Some(d) if (32..=64).contains(&d.len()) => {
            if hmac(ctx).is_some_and(|h| h.keys.iter().any(|k| k.id as u32 == id)) {
                ctx.error(format!("({n}) duplicate auth_hmac key id {id}"));
            } else if let Some(h) = hmac(ctx) {
                h.keys.push(HmacKey { id: id as u8, data: d });
            }
        }
        _ => ctx.error(format!("({n}) auth_hmac key {id} length {len} not in range [32, 64]")),
    }
    Ok(())
}

fn hmac_active_key(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if hmac(ctx).is_none() {
        return Ok(());
    }
    let w = ctx.req(args, 1)?;
    let n = iname(ctx);
    match ctx.read_unsigned(w, 1, 255, false) {
        Some(id) => {
            if let Some(h) = hmac(ctx) {
                h.active_key = id as u8;
            }
        }
        None => ctx.error(format!("({n}) auth_hmac active_key '{w}' must be between 1 and 255")),
    }
    Ok(())
}

fn hmac_time_window(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if hmac(ctx).is_none() {
        return Ok(());
    }
    let w = ctx.req(args, 1)?;
    let n = iname(ctx);
    match ctx.read_unsigned(w, 1, 300, false) {
        Some(t) => {
            if let Some(h) = hmac(ctx) {
                h.time_window = t;
            }
        }
        None => ctx.error(format!("({n}) auth_hmac time_window '{w}' must be between 1 and 300 seconds")),
    }
    Ok(())
}

fn hmac_anti_replay(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    if hmac(ctx).is_none() {
        return Ok(());
    }
    let n = iname(ctx);
    match w {
        "time" | "monotonic" => {
            if let Some(h) = hmac(ctx) {
                h.anti_replay_time = w == "time";
            }
        }
        _ => ctx.error(format!("({n}) auth_hmac anti_replay '{w}' must be time or monotonic")),
    }
    Ok(())
}

fn hmac_mode(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    if hmac(ctx).is_none() {
        return Ok(());
    }
    let n = iname(ctx);
    let m = match w {
        "enforce" => HmacMode::Enforce,
        "permissive" => HmacMode::Permissive,
        "receive-only" => HmacMode::ReceiveOnly,
        _ => {
            ctx.error(format!("({n}) auth_hmac mode '{w}' must be enforce, permissive or receive-only"));
            return Ok(());
        }
    };
    if let Some(h) = hmac(ctx) {
        h.mode = m;
    }
    Ok(())
}

// ---- address / route / rule entries

/// keepalived `vip_is_duplicate`.
fn vip_is_duplicate(ctx: &mut Ctx, new: &crate::model::ip::IpAddress, s: &str, excluded: bool) -> bool {
    let n = iname(ctx);
    let ex = if excluded { "Excluded " } else { "" };
    let instances = ctx.cfg.vrrp.instances.len();
    let Some(v) = ctx.cfg.vrrp.instances.last() else {
        return false;
    };
    let index = &mut ctx.vip_index;
    index.catch_up(instances, v);
    // A VIP duplicates any VIP of the address; an excluded one only one on the same device.
    let dup_vip = index.vips.get(&new.addr).is_some_and(|devs| !excluded || devs.contains(&new.dev));
    if dup_vip {
        ctx.error(format!("({n}): {ex}VIP duplicates a VIP {s} - ignoring"));
        return true;
    }
    if index.evips.contains(&(new.addr, new.dev.clone())) {
        ctx.error(format!("({n}): {ex}VIP duplicates an excluded VIP {s} - ignoring"));
        return true;
    }
    false
}

/// An entry reader returned nothing: keep going, unless it hit a missing
/// parameter (keepalived exits there).
fn stopped(ctx: &Ctx) -> Res {
    if ctx.diags.stopped {
        Err(crate::engine::Stop)
    } else {
        Ok(())
    }
}

fn vip_item(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let Some(ip) = crate::ipaddr::read_address(ctx, args, false) else {
        return stopped(ctx);
    };
    let n = iname(ctx);
    let fam = Family::of(&ip.addr);
    match inst(ctx).and_then(|v| v.family) {
        None => flag(ctx, |v| v.family = Some(fam))?,
        Some(f) if f != fam => {
            ctx.error(format!("({n}): address family must match VRRP instance [{}] - ignoring", args.word(0)));
            return Ok(());
        }
        _ => {}
    }
    if vip_is_duplicate(ctx, &ip, args.word(0), false) {
        return Ok(());
    }
    flag(ctx, |v| v.vips.push(ip))
}

fn evip_item(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let Some(ip) = crate::ipaddr::read_address(ctx, args, false) else {
        return stopped(ctx);
    };
    if vip_is_duplicate(ctx, &ip, args.word(0), true) {
        return Ok(());
    }
    flag(ctx, |v| v.evips.push(ip))
}

fn vroute_item(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    match crate::ipaddr::read_route(ctx, args, false) {
        Some(r) => flag(ctx, |v| v.vroutes.push(r)),
        None => stopped(ctx),
    }
}

fn vrule_item(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    match crate::ipaddr::read_rule(ctx, args, false) {
        Some(r) => flag(ctx, |v| v.vrules.push(r)),
        None => stopped(ctx),
    }
}

// ---------------------------------------------------------------- vrrp_script

static SCRIPT: Block = Block {
    index: KwIndexCell::new(),
    name: "vrrp_script",
    parts: &[&[
        Kw::script("script", vs_script),
        Kw::value("interval", vs_interval),
        Kw::value("timeout", vs_timeout),
        Kw::value("weight", vs_weight),
        Kw::value("rise", vs_rise_fall),
        Kw::value("fall", vs_rise_fall),
        Kw::value("user", vs_user),
        Kw::value("init_fail", |c, _| {
            if let Some(s) = c.cfg.vrrp.scripts.last_mut() {
                s.init_fail = true;
            }
            Ok(())
        }),
    ]],
    close: Some(close_script),
};

fn vscr(ctx: &mut Ctx) -> Option<&mut VrrpScript> {
    ctx.cfg.vrrp.scripts.last_mut()
}

fn sname(ctx: &Ctx) -> String {
    ctx.cfg.vrrp.scripts.last().map(|s| s.name.clone()).unwrap_or_default()
}

fn open_script(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    let name = ctx.req(args, 1)?;
    ctx.cfg.vrrp.scripts.push(VrrpScript {
        name: name.to_string(),
        origin: args.origin(),
        script: None,
        interval_us: TIMER_HZ,
        timeout_us: None,
        weight: Weight::default(),
        rise: 1,
        fall: 1,
        user: None,
        group: None,
        init_fail: false,
        remove: false,
    });
    ctx.cfg.vrrp.script_user_set = false;
    Ok(Enter::Yes)
}

fn vs_script(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    use crate::script::{split, ShellSplitError};
    let Some(words) = ctx.split_script_line(args) else {
        return Ok(());
    };
    let Some(cmd) = words.get(1) else {
        return Ok(());
    };
    let argv = match split(cmd, true) {
        Ok(a) => a,
        Err(ShellSplitError::MissingQuote(q)) => {
            ctx.report(Severity::UnmatchedQuote, format!("String '{cmd}': missing terminating {q}"));
            return Ok(());
        }
        Err(ShellSplitError::TrailingBackslash) => {
            ctx.log(format!("Missing escape char at end: '{cmd}'"));
            return Ok(());
        }
    };
    let origin = args.origin();
    if let Some(s) = vscr(ctx) {
        s.script = Some(Script { args: argv, user: None, group: None, origin });
    }
    Ok(())
}

fn vs_interval(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    vs_timer(ctx, args, "interval")
}

fn vs_timeout(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    vs_timer(ctx, args, "timeout")
}

fn vs_timer(ctx: &mut Ctx, args: &Args<'_>, which: &str) -> Res {
    let w = ctx.req(args, 1)?;
    let n = sname(ctx);
    // Whole seconds, as 2.2.7 reads them (read_unsigned_strvec); master
    // takes decimals.
    let max_s = (u32::MAX as u64 / TIMER_HZ) as u32;
    let Some(mut ms) = ctx.read_unsigned(w, 0, max_s, true).map(|s| s as u64 * 1000) else {
        if which == "interval" {
            ctx.error(format!("({n}): vrrp script interval '{w}' must be between 1 and {max_s} - ignoring"));
        } else {
            ctx.error(format!("({n}): vrrp script timeout '{w}' invalid - ignoring"));
        }
        return Ok(());
    };
    if ms == 0 {
        ctx.error(format!("({n}): vrrp script {which} must be greater than 0, setting to 1"));
        ms = 1000;
    }
    if let Some(s) = vscr(ctx) {
        if which == "interval" {
            s.interval_us = ms * 1000;
        } else {
            s.timeout_us = Some(ms * 1000);
        }
    }
    Ok(())
}

fn vs_weight(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let n = sname(ctx);
    match ctx.read_int(w, -253, 253, true) {
        Some(x) => {
            if let Some(s) = vscr(ctx) {
                s.weight.weight = x;
            }
        }
        None => ctx.error(format!("vrrp_script {n} weight {w} must be in [-253, 253]")),
    }
    if args.len() >= 3 {
        if args.word(2) == "reverse" {
            if let Some(s) = vscr(ctx) {
                s.weight.reverse = true;
            }
        } else {
            ctx.error(format!("vrrp_script {n} unknown weight option {}", args.word(2)));
        }
    }
    Ok(())
}

fn vs_rise_fall(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let kw = args.word(0);
    let w = ctx.req(args, 1)?;
    let n = sname(ctx);
    let v = match ctx.read_unsigned(w, 1, i32::MAX as u32, true) {
        Some(v) => v,
        None => {
            ctx.error(format!("({n}): vrrp script {kw} value '{w}' invalid, defaulting to 1"));
            1
        }
    };
    if let Some(s) = vscr(ctx) {
        if kw == "rise" {
            s.rise = v;
        } else {
            s.fall = v;
        }
    }
    Ok(())
}

fn vs_user(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let user = ctx.req(args, 1)?;
    let group = args.get(2);
    if ctx.check_user_group(user, group) {
        ctx.cfg.vrrp.script_user_set = true;
        if let Some(s) = vscr(ctx) {
            s.remove = false;
            s.user = Some(user.to_string());
            s.group = group.map(str::to_string);
        }
    } else {
        let cmd = ctx.cfg.vrrp.scripts.last().and_then(|s| s.script.as_ref()).map(|s| s.cmd_str()).unwrap_or_default();
        ctx.error(format!("Unable to set uid/gid for script {cmd}"));
        if let Some(s) = vscr(ctx) {
            s.remove = true;
        }
    }
    Ok(())
}

fn close_script(ctx: &mut Ctx) -> Res {
    let Some(s) = ctx.cfg.vrrp.scripts.last() else {
        return Ok(());
    };
    let no_script = s.script.as_ref().is_none_or(|sc| sc.args.first().is_none_or(|a| a.is_empty()));
    let mut remove = s.remove;
    if no_script {
        let n = s.name.clone();
        ctx.error(format!("No script set for vrrp_script {n} - removing"));
        remove = true;
    } else if !remove && !ctx.cfg.vrrp.script_user_set && crate::global::scripts::get_default_script_user(ctx).is_none()
    {
        let n = ctx.cfg.vrrp.scripts.last().map(|s| s.name.clone()).unwrap_or_default();
        ctx.error(format!("Unable to set default user for vrrp script {n} - removing"));
        remove = true;
    }
    if remove {
        ctx.cfg.vrrp.scripts.pop();
    }
    Ok(())
}

// ---------------------------------------------------------------- track_file

static TRACK_FILE: Block = Block {
    index: KwIndexCell::new(),
    name: "track_file",
    parts: &[&[Kw::value("file", tf_file), Kw::value("weight", tf_weight), Kw::value("init_file", tf_init_file)]],
    close: Some(close_track_file),
};

fn open_track_file(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    let name = ctx.req(args, 1)?;
    ctx.cfg.vrrp.track_files.push(TrackFile {
        name: name.to_string(),
        file: None,
        weight: Weight { weight: 1, reverse: false },
        init_file: None,
        origin: args.origin(),
    });
    Ok(Enter::Yes)
}

fn open_vrrp_track_file(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    ctx.log("\"vrrp_track_file\" is deprecated, please use \"track_file\"");
    open_track_file(ctx, args)
}

fn tf(ctx: &mut Ctx) -> Option<&mut TrackFile> {
    ctx.cfg.vrrp.track_files.last_mut()
}

fn tfname(ctx: &Ctx) -> String {
    ctx.cfg.vrrp.track_files.last().map(|t| t.name.clone()).unwrap_or_default()
}

fn tf_file(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    if args.len() < 2 {
        ctx.error("track file file name missing");
        return Ok(());
    }
    let n = tfname(ctx);
    if tf(ctx).is_some_and(|t| t.file.is_some()) {
        ctx.error(format!("File already set for track file {n} - ignoring {}", args.word(1)));
        return Ok(());
    }
    if let Some(t) = tf(ctx) {
        t.file = Some(args.word(1).to_string());
    }
    Ok(())
}

fn tf_weight(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = tfname(ctx);
    if args.len() < 2 {
        ctx.error(format!("No weight specified for track file {n} - ignoring"));
        return Ok(());
    }
    if tf(ctx).is_some_and(|t| t.weight.weight != 1) {
        ctx.error(format!("Weight already set for track file {n} - ignoring {}", args.word(1)));
        return Ok(());
    }
    let w = match ctx.read_int(args.word(1), -254, 254, true) {
        Some(w) => w,
        None => {
            ctx.error(format!(
                "Weight ({}) for track_file {n} must be between [-254..254] inclusive. Ignoring...",
                args.word(1)
            ));
            1
        }
    };
    let mut reverse = None;
    if args.len() >= 3 {
        if args.word(2) == "reverse" {
            reverse = Some(true);
        } else {
            ctx.error(format!("track_file {n} unknown weight option {}", args.word(2)));
        }
    }
    if let Some(t) = tf(ctx) {
        t.weight.weight = w;
        if let Some(r) = reverse {
            t.weight.reverse = r;
        }
    }
    Ok(())
}

fn tf_init_file(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = tfname(ctx);
    let mut init = TrackFileInit { value: 0, overwrite: false };
    for i in 1..args.len() {
        let word = args.word(i).trim_start();
        if word.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            let v = match ctx.read_int(word, i32::MIN, i32::MAX, false) {
                Some(v) => {
                    if !(-254..=254).contains(&v) {
                        ctx.error(format!("Track file {n} init value {v} is outside sensible range [-254, 254]"));
                    }
                    v
                }
                None => {
                    ctx.error(format!("Track file {n} init value {word} is invalid"));
                    0
                }
            };
            init.value = v;
        } else if word == "overwrite" {
            init.overwrite = true;
        } else {
            ctx.error(format!("Unknown track file init option {word}"));
        }
    }
    if let Some(t) = tf(ctx) {
        t.init_file = Some(init);
    }
    Ok(())
}

fn close_track_file(ctx: &mut Ctx) -> Res {
    if let Some(t) = ctx.cfg.vrrp.track_files.last() {
        if t.file.is_none() {
            let n = t.name.clone();
            ctx.error(format!("No file set for track_file {n} - ignoring"));
            ctx.cfg.vrrp.track_files.pop();
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- vrrp_track_process

static TRACK_PROCESS: Block = Block {
    index: KwIndexCell::new(),
    name: "vrrp_track_process",
    parts: &[&[
        Kw::value("process", tp_process),
        Kw::value("param_match", tp_param_match),
        Kw::value("weight", tp_weight),
        Kw::value("quorum", tp_quorum),
        Kw::value("quorum_max", tp_quorum_max),
        Kw::value("delay", tp_delay),
        Kw::value("terminate_delay", tp_delay),
        Kw::value("fork_delay", tp_delay),
        Kw::value("full_command", |c, _| {
            if let Some(t) = c.cfg.vrrp.track_processes.last_mut() {
                t.full_command = true;
            }
            Ok(())
        }),
    ]],
    close: Some(close_track_process),
};

fn tp(ctx: &mut Ctx) -> Option<&mut TrackProcess> {
    ctx.cfg.vrrp.track_processes.last_mut()
}

fn tpname(ctx: &Ctx) -> String {
    ctx.cfg.vrrp.track_processes.last().map(|t| t.name.clone()).unwrap_or_default()
}

fn open_track_process(ctx: &mut Ctx, args: &Args<'_>) -> Res<Enter> {
    let name = ctx.req(args, 1)?;
    ctx.cfg.vrrp.track_processes.push(TrackProcess {
        name: name.to_string(),
        origin: args.origin(),
        process: None,
        params: Vec::new(),
        param_match: None,
        weight: Weight::default(),
        quorum: 1,
        quorum_max: u32::MAX,
        terminate_delay_us: 0,
        fork_delay_us: 0,
        full_command: false,
    });
    Ok(Enter::Yes)
}

fn tp_process(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = tpname(ctx);
    if tp(ctx).is_some_and(|t| t.process.is_some()) {
        let w = ctx.req(args, 1)?;
        ctx.error(format!("Process already set for track process {n} - ignoring {w}"));
        return Ok(());
    }
    let p = ctx.req(args, 1)?.to_string();
    let params: Vec<String> = args.rest(2).map(str::to_string).collect();
    if let Some(t) = tp(ctx) {
        t.process = Some(p);
        if !params.is_empty() {
            if t.param_match.is_none() {
                t.param_match = Some(ParamMatch::Exact);
            }
            t.full_command = true;
        }
        t.params = params;
    }
    Ok(())
}

fn tp_param_match(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let m = match args.get(1) {
        None => ParamMatch::Exact,
        Some("initial") => ParamMatch::Initial,
        Some("partial") => ParamMatch::Partial,
        Some(w) => {
            ctx.error(format!("Invalid param_match type {w} - ignoring"));
            return Ok(());
        }
    };
    if let Some(t) = tp(ctx) {
        t.param_match = Some(m);
        t.full_command = true;
    }
    Ok(())
}

fn tp_weight(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let n = tpname(ctx);
    if args.len() < 2 {
        ctx.error(format!("No weight specified for track process {n} - ignoring"));
        return Ok(());
    }
    if tp(ctx).is_some_and(|t| t.weight.weight != 0) {
        ctx.error(format!("Weight already set for track process {n} - ignoring {}", args.word(1)));
        return Ok(());
    }
    let Some(w) = ctx.read_int(args.word(1), -254, 254, true) else {
        ctx.error(format!(
            "Weight ({}) for vrrp_track_process {n} must be between [-254..254] inclusive. Ignoring...",
            args.word(1)
        ));
        return Ok(());
    };
    let mut reverse = false;
    if args.len() >= 3 {
        if args.word(2) == "reverse" {
            reverse = true;
        } else {
            ctx.error(format!("vrrp_track_process {n} unknown weight option {}", args.word(2)));
        }
    }
    if let Some(t) = tp(ctx) {
        t.weight.weight = w;
        if reverse {
            t.weight.reverse = true;
        }
    }
    Ok(())
}

fn tp_quorum(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let n = tpname(ctx);
    let Some(q) = ctx.read_unsigned(w, 1, 65535, true) else {
        ctx.error(format!("Quorum ({w}) for vrrp_track_process {n} must be between [1..65535] inclusive. Ignoring..."));
        return Ok(());
    };
    if tp(ctx).is_some_and(|t| q > t.quorum_max) {
        ctx.error("Quorum is greater than quorum_max - ignoring");
        return Ok(());
    }
    if let Some(t) = tp(ctx) {
        t.quorum = q;
    }
    Ok(())
}

fn tp_quorum_max(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let w = ctx.req(args, 1)?;
    let n = tpname(ctx);
    let Some(q) = ctx.read_unsigned(w, 0, 65535, true) else {
        ctx.error(format!(
            "quorum_max ({w}) for vrrp_track_process {n} must be between [0..65535] inclusive. Ignoring..."
        ));
        return Ok(());
    };
    let quorum = tp(ctx).map_or(1, |t| t.quorum);
    if (q != 0 || quorum > 1) && q < quorum {
        ctx.error("quorum_max is less than quorum - ignoring");
        return Ok(());
    }
    if let Some(t) = tp(ctx) {
        t.quorum_max = q;
        if q == 0 {
            t.quorum = 0;
        } else if t.quorum == 0 {
            t.quorum = 1;
        }
    }
    Ok(())
}

fn tp_delay(ctx: &mut Ctx, args: &Args<'_>) -> Res {
    let kw = args.word(0);
    let w = ctx.req(args, 1)?;
    let n = tpname(ctx);
    let Some(d) = ctx.read_decimal(w, 1, 3600 * TIMER_HZ, 6, true) else {
        let prefix = match kw {
            "terminate_delay" => "terminate_",
            "fork_delay" => "fork_",
            _ => "",
        };
        ctx.error(format!(
            "{prefix}delay ({w}) for vrrp_track_process {n} must be between [0.000001..3600] inclusive. Ignoring..."
        ));
        return Ok(());
    };
    if let Some(t) = tp(ctx) {
        if kw != "fork_delay" {
            t.terminate_delay_us = d;
        }
        if kw != "terminate_delay" {
            t.fork_delay_us = d;
        }
    }
    Ok(())
}

fn close_track_process(ctx: &mut Ctx) -> Res {
    if let Some(t) = ctx.cfg.vrrp.track_processes.last() {
        if t.process.is_none() {
            let n = t.name.clone();
            ctx.error(format!("track process '{n}' process name not specified"));
            ctx.cfg.vrrp.track_processes.pop();
        }
    }
    Ok(())
}
