//! Least privilege (keepalived-rs, not in keepalived 2.2.7): once started,
//! each child reduces its effective and permitted capability sets to what
//! it still needs for the rest of its life, reloads included.
//!
//! What is deliberately left alone, so that nothing a 2.2.7 user relies on
//! changes: the user id (0) and the bounding set. A script the child execs
//! as root therefore gets every capability back at execve (for uid 0 the
//! kernel grants the bounding set), while a script run as a `script_user`
//! other than root ends with none: the ambient and inheritable sets are
//! emptied and `PR_SET_KEEPCAPS` is off, so setuid(2) away from root clears
//! the permitted set and nothing comes back at exec. The parent keeps all
//! its capabilities: it forks the children, which must start with all of
//! theirs, and runs the start-up and shutdown scripts.
//!
//! `global_defs { no_capability_drop }` turns this off.

use keepalived_config::model::global::GlobalDefs;
use keepalived_runtime::ProcKind;
use tracing::{info, warn};

/// Capability numbers (linux/capability.h) and the names keepalived-rs
/// logs them by (libcap's spelling).
const NAMES: &[(u32, &str)] = &[
    (CHOWN, "cap_chown"),
    (DAC_OVERRIDE, "cap_dac_override"),
    (KILL, "cap_kill"),
    (SETGID, "cap_setgid"),
    (SETUID, "cap_setuid"),
    (NET_BIND_SERVICE, "cap_net_bind_service"),
    (NET_ADMIN, "cap_net_admin"),
    (NET_RAW, "cap_net_raw"),
    (IPC_LOCK, "cap_ipc_lock"),
    (SYS_PTRACE, "cap_sys_ptrace"),
    (SYS_NICE, "cap_sys_nice"),
];
const CHOWN: u32 = 0;
const DAC_OVERRIDE: u32 = 1;
const KILL: u32 = 5;
const SETGID: u32 = 6;
const SETUID: u32 = 7;
const NET_BIND_SERVICE: u32 = 10;
const NET_ADMIN: u32 = 12;
const NET_RAW: u32 = 13;
const IPC_LOCK: u32 = 14;
const SYS_PTRACE: u32 = 19;
const SYS_NICE: u32 = 23;

const fn set(caps: &[u32]) -> u64 {
    let mut bits = 0u64;
    let mut i = 0;
    while i < caps.len() {
        bits |= 1 << caps[i];
        i += 1;
    }
    bits
}

/// Running scripts: setgid/setgroups/setuid to `script_user`, killing a
/// script of another user at its timeout, exec-ing a root script only its
/// (non-root) owner may read or run (keepalived runs it), and creating a
/// notify FIFO owned by `script_user` (a reload may add one).
const SCRIPTS: u64 = set(&[SETUID, SETGID, KILL, DAC_OVERRIDE, CHOWN]);

/// VRRP: addresses, routes, VMACs, nftables, the process connector of
/// `track_process`, MII link polling (CAP_NET_ADMIN); raw VRRP, ARP and NA
/// sockets bound to an interface (CAP_NET_RAW). A reload creating new
/// VMACs and sockets needs nothing more.
const VRRP: u64 = SCRIPTS | set(&[NET_ADMIN, NET_RAW]);

/// Checker: IPVS and `fwmark` on check sockets (CAP_NET_ADMIN); PING_CHECK
/// and checks bound to an interface (CAP_NET_RAW); a check's `bind_port`
/// below 1024 (CAP_NET_BIND_SERVICE).
const CHECKER: u64 = SCRIPTS | set(&[NET_ADMIN, NET_RAW, NET_BIND_SERVICE]);

/// BFD: UDP sockets on ports above 1024 and the TTL / hop limit, which
/// need no capability; it runs no scripts.
const BFD: u64 = 0;

/// The capabilities a `kind` child keeps. `*_no_swap` locks all future
/// memory too (MCL_FUTURE), which past RLIMIT_MEMLOCK needs CAP_IPC_LOCK
/// at every allocation; a positive `*_priority` keeps CAP_SYS_NICE for the
/// scripts (see below). `proc_hidepid`: /proc hides processes (`hidepid`
/// with a `gid` other than root's, or `ptraceable`), which
/// `vrrp_track_process` (a reload may add one) can then only see with
/// CAP_SYS_PTRACE.
pub fn needed(kind: ProcKind, g: &GlobalDefs, proc_hidepid: bool) -> u64 {
    let mut caps = match kind {
        ProcKind::Vrrp => VRRP,
        ProcKind::Checker => CHECKER,
        ProcKind::Bfd => BFD,
    };
    let settings = crate::subsystems::process_settings(kind, g);
    if settings.no_swap {
        caps |= set(&[IPC_LOCK]);
    }
    // Scripts get the daemon's original niceness back before exec; below
    // a positive `*_priority` that needs CAP_SYS_NICE.
    if settings.priority > 0 && caps & SCRIPTS != 0 {
        caps |= set(&[SYS_NICE]);
    }
    if kind == ProcKind::Vrrp && proc_hidepid {
        caps |= set(&[SYS_PTRACE]);
    }
    caps
}

/// Whether /proc hides processes from a root process without
/// CAP_SYS_PTRACE (from /proc/self/mountinfo; the last mount on /proc
/// wins).
fn proc_hidepid() -> bool {
    std::fs::read_to_string("/proc/self/mountinfo").is_ok_and(|t| mountinfo_hidepid(&t))
}

/// [`proc_hidepid`] on the text of a mountinfo file: field 5 is the mount
/// point; proc's options are among the super options, the last field.
/// `hidepid=1|2` lets members of its `gid=` group (root's group 0 by
/// default) see everything; `hidepid=4` (`ptraceable`) nobody.
fn mountinfo_hidepid(text: &str) -> bool {
    let proc_line = text.lines().rfind(|l| l.split(' ').nth(4) == Some("/proc"));
    let Some(line) = proc_line else { return false };
    let opts: Vec<&str> = line.rsplit(' ').next().unwrap_or("").split(',').collect();
    let value = |key: &str| opts.iter().find_map(|o| o.strip_prefix(key));
    match value("hidepid=") {
        None | Some("0") | Some("off") => false,
        Some("4") | Some("ptraceable") => true,
        Some(_) => value("gid=").is_some_and(|g| g != "0"),
    }
}

/// `cap_net_admin,cap_net_raw` (`none` for the empty set); unknown bits by
/// number.
pub fn names(bits: u64) -> String {
    let mut out: Vec<String> = Vec::new();
    for cap in 0..64u32 {
        if bits & (1 << cap) == 0 {
            continue;
        }
        match NAMES.iter().find(|(n, _)| *n == cap) {
            Some((_, name)) => out.push((*name).to_string()),
            None => out.push(format!("cap_{cap}")),
        }
    }
    if out.is_empty() {
        "none".to_string()
    } else {
        out.join(",")
    }
}

/// Why the capabilities could not be reduced.
#[derive(Debug)]
pub enum DropError {
    Read(std::io::Error),
    Set(std::io::Error),
    Ambient(std::io::Error),
    KeepCaps(std::io::Error),
}

impl std::fmt::Display for DropError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DropError::Read(e) => write!(f, "unable to read the process capabilities: {e}"),
            DropError::Set(e) => write!(f, "unable to reduce the process capabilities: {e}"),
            DropError::Ambient(e) => write!(f, "unable to clear the ambient capabilities: {e}"),
            DropError::KeepCaps(e) => write!(f, "unable to turn PR_SET_KEEPCAPS off: {e}"),
        }
    }
}

/// Keep only `keep` (of what the process has) in the effective and
/// permitted sets; empty the inheritable and ambient sets and turn
/// KEEPCAPS off. Returns what was kept.
fn reduce(keep: u64) -> Result<u64, DropError> {
    match keepalived_sys::clear_ambient_caps() {
        // Before Linux 4.3 there is no ambient set to clear.
        Err(e) if e.raw_os_error() == Some(nix::libc::EINVAL) => {}
        r => r.map_err(DropError::Ambient)?,
    }
    keepalived_sys::set_keepcaps(false).map_err(DropError::KeepCaps)?;
    let now = keepalived_sys::capget().map_err(DropError::Read)?;
    let kept = now.permitted & keep;
    let sets = keepalived_sys::CapSets { effective: kept, permitted: kept, inheritable: 0 };
    keepalived_sys::capset(&sets).map_err(DropError::Set)?;
    Ok(kept)
}

/// Called once the child has started: drop what it does not need, unless
/// `no_capability_drop` is set. Logged either way; a failure is logged and
/// the child runs on with what it has (as keepalived 2.2.7 would).
pub fn drop_unneeded(kind: ProcKind, g: &GlobalDefs) {
    if g.no_capability_drop {
        info!(child = kind.label(), "Capabilities not reduced (no_capability_drop)");
        return;
    }
    match reduce(needed(kind, g, proc_hidepid())) {
        Ok(kept) => info!(child = kind.label(), "Capabilities kept: {}", names(kept)),
        Err(e) => warn!(child = kind.label(), "Capabilities: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_sets_are_the_documented_ones() {
        let g = GlobalDefs::default();
        assert_eq!(
            names(needed(ProcKind::Vrrp, &g, false)),
            "cap_chown,cap_dac_override,cap_kill,cap_setgid,cap_setuid,cap_net_admin,cap_net_raw"
        );
        assert_eq!(needed(ProcKind::Vrrp, &g, false), 0x30e3);
        assert_eq!(needed(ProcKind::Checker, &g, true), 0x34e3);
        assert_eq!(needed(ProcKind::Bfd, &g, true), 0);
        assert_eq!(names(0), "none");
    }

    #[test]
    fn no_swap_keeps_ipc_lock() {
        let mut g = GlobalDefs::default();
        g.bfd.no_swap = true;
        assert_eq!(names(needed(ProcKind::Bfd, &g, false)), "cap_ipc_lock");
        assert_eq!(needed(ProcKind::Vrrp, &g, false) & (1 << IPC_LOCK), 0);
    }

    #[test]
    fn positive_priority_keeps_sys_nice_where_scripts_run() {
        let mut g = GlobalDefs::default();
        g.vrrp.priority = 5;
        g.checker.priority = -5;
        g.bfd.priority = 5;
        assert_eq!(needed(ProcKind::Vrrp, &g, false), 0x30e3 | (1 << SYS_NICE));
        assert_eq!(needed(ProcKind::Checker, &g, false), 0x34e3);
        assert_eq!(needed(ProcKind::Bfd, &g, false), 0);
    }

    #[test]
    fn hidepid_keeps_ptrace_for_vrrp_only() {
        let g = GlobalDefs::default();
        assert_eq!(needed(ProcKind::Vrrp, &g, true), 0x30e3 | (1 << SYS_PTRACE));
        let line =
            |opts: &str| format!("25 30 0:23 / /proc rw,nosuid,nodev,noexec,relatime shared:14 - proc proc {opts}\n");
        let sys = "24 30 0:22 / /sys rw,relatime shared:7 - sysfs sysfs rw,hidepid=2\n";
        assert!(!mountinfo_hidepid(&format!("{sys}{}", line("rw"))));
        // Root's group 0 may see everything unless `gid=` names another.
        assert!(!mountinfo_hidepid(&line("rw,hidepid=invisible")));
        assert!(mountinfo_hidepid(&line("rw,gid=4,hidepid=invisible")));
        assert!(mountinfo_hidepid(&line("rw,hidepid=2,gid=4")));
        assert!(mountinfo_hidepid(&line("rw,hidepid=ptraceable")));
        assert!(!mountinfo_hidepid(&line("rw,gid=4,hidepid=off")));
        // A later mount over /proc hides the earlier one.
        assert!(!mountinfo_hidepid(&format!("{}{}", line("rw,hidepid=4"), line("rw"))));
        assert!(!mountinfo_hidepid(""));
    }
}
