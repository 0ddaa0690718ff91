//! `vrrp_track_process`: which processes run, how many of them, and when a
//! tracker has its quorum.
//!
//! Three layers:
//!
//! - **Wire**: the kernel proc connector (`NETLINK_CONNECTOR`, multicast
//!   group `CN_IDX_PROC`). [`listen_request`] builds the `cn_msg` that
//!   subscribes or unsubscribes; [`parse_datagram`] reads what the kernel
//!   sends (`nlmsghdr` + `cn_msg` + `proc_event`, linux/connector.h and
//!   linux/cn_proc.h) into [`ProcMessage`]s. A short or foreign message is
//!   an error for that message only; nothing panics.
//! - **[`ProcessTracker`]**, sans-IO: an initial scan of a /proc tree, then
//!   fork, exec, comm and exit events, with keepalived's matching rules,
//!   quorum and delays. Every change of a tracker's state is appended to an
//!   output `Vec<(String, bool)>` (tracker name, quorum held).
//! - **[`ProcMonitor`]**: the socket and a tracker, a [`mio::event::Source`].
//!
//! ```no_run
//! use keepalived_netlink::procmon::ProcMonitor;
//! use mio::{Events, Interest, Poll, Token};
//! use std::time::Instant;
//!
//! # let tracks: Vec<keepalived_config::vrrp::model::TrackProcess> = Vec::new();
//! let mut poll = Poll::new()?;
//! let mut changes = Vec::new();
//! let mut mon = ProcMonitor::new(&tracks, None, false, &mut changes)?;
//! poll.registry().register(&mut mon, Token(0), Interest::READABLE)?;
//! let mut events = Events::with_capacity(16);
//! loop {
//!     let timeout = mon.poll_timeout().map(|t| t.saturating_duration_since(Instant::now()));
//!     poll.poll(&mut events, timeout)?;
//!     let now = Instant::now();
//!     mon.read(now, &mut changes)?;
//!     mon.on_timeout(now, &mut changes);
//!     for (name, up) in changes.drain(..) {
//!         println!("{name}: {}", if up { "quorum gained" } else { "quorum lost" });
//!     }
//! }
//! # #[allow(unreachable_code)] Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Network namespaces.** The kernel's connector socket exists in the
//! initial network namespace only. In any other network namespace the
//! socket can be opened and bound, but subscribing is refused with
//! `ECONNREFUSED` (checked on Linux 6.18: `unshare -n`), so no event is ever
//! delivered there: [`ProcMonitor::new`] fails with
//! [`ProcMonError::Subscribe`]. keepalived 2.2.7 has the same limitation
//! (its `set_proc_ev_listen` fails the same way and process tracking is
//! off); `vrrp_track_process` needs keepalived to run in the initial
//! network namespace.

use keepalived_config::vrrp::model::{ParamMatch, TrackProcess};
use netlink_sys::{protocols::NETLINK_CONNECTOR, Socket, SocketAddr};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// Wire format
// ---------------------------------------------------------------------------

/// linux/connector.h: the proc connector's `cb_id` and its multicast group.
pub const CN_IDX_PROC: u32 = 1;
/// linux/connector.h.
pub const CN_VAL_PROC: u32 = 1;
/// linux/cn_proc.h `enum proc_cn_mcast_op`.
pub const PROC_CN_MCAST_LISTEN: u32 = 1;
/// linux/cn_proc.h `enum proc_cn_mcast_op`.
pub const PROC_CN_MCAST_IGNORE: u32 = 2;

/// linux/cn_proc.h `enum what`.
pub const PROC_EVENT_NONE: u32 = 0;
pub const PROC_EVENT_FORK: u32 = 0x0000_0001;
pub const PROC_EVENT_EXEC: u32 = 0x0000_0002;
pub const PROC_EVENT_COMM: u32 = 0x0000_0200;
pub const PROC_EVENT_EXIT: u32 = 0x8000_0000;

// linux/netlink.h
const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_HDRLEN: usize = 16;

/// Byte ranges of the three headers, from the start of a netlink message.
mod field {
    use std::ops::Range;

    // struct nlmsghdr (linux/netlink.h)
    pub const NL_LEN: Range<usize> = 0..4;
    pub const NL_TYPE: Range<usize> = 4..6;

    // struct cn_msg (linux/connector.h), right after the 16-byte nlmsghdr.
    pub const CN_IDX: Range<usize> = 16..20;
    pub const CN_VAL: Range<usize> = 20..24;
    pub const CN_SEQ: Range<usize> = 24..28;
    pub const CN_ACK: Range<usize> = 28..32;
    pub const CN_LEN: Range<usize> = 32..34;
    pub const CN_END: usize = 36;

    // struct proc_event (linux/cn_proc.h), right after the 20-byte cn_msg.
    // `timestamp_ns` is 8-aligned inside proc_event, so there is no padding
    // after `cpu`.
    pub const EV_WHAT: Range<usize> = 36..40;
    pub const EV_CPU: Range<usize> = 40..44;
    pub const EV_TIMESTAMP: Range<usize> = 44..52;
    /// Start of `event_data`.
    pub const EV_DATA: usize = 52;
    /// `what`, `cpu` and `timestamp_ns`: every event has them.
    pub const EV_HEADER_END: usize = EV_DATA;
}

/// Sizes of the `event_data` members we read (linux/cn_proc.h).
const ACK_LEN: usize = 4;
const FORK_LEN: usize = 16;
const EXEC_LEN: usize = 8;
const COMM_LEN: usize = 8 + 16;
const EXIT_LEN: usize = 16;

/// Why one message from the proc connector was not understood.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Shorter than its headers, or than its own length fields say.
    Truncated { len: usize, need: usize },
    /// The netlink length field is below the netlink header size.
    BadLength(u32),
    /// A connector message for another kernel user (`cb_id` idx/val).
    NotProcConnector { idx: u32, val: u32 },
    /// An acknowledgement that is not `PROC_EVENT_NONE`, or the reverse.
    AckMismatch { what: u32, ack: u32 },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated { len, need } => {
                write!(f, "a process event message of {len} bytes is truncated (needs {need})")
            }
            WireError::BadLength(l) => write!(f, "a process event message has an impossible length {l}"),
            WireError::NotProcConnector { idx, val } => {
                write!(f, "a connector message for another kernel user (idx {idx}, val {val})")
            }
            WireError::AckMismatch { what, ack } => {
                write!(f, "a process event message mixes event {what:#x} with acknowledgement {ack}")
            }
        }
    }
}

impl std::error::Error for WireError {}

/// One event of the proc connector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcEvent {
    /// `PROC_EVENT_NONE`: the kernel's answer to a subscription; `err` 0 is
    /// success.
    Ack { err: u32 },
    /// A new task. `child_pid == child_tgid` for a new process; otherwise a
    /// new thread of `child_tgid`.
    Fork { parent_pid: i32, parent_tgid: i32, child_pid: i32, child_tgid: i32 },
    /// A task ran `execve`.
    Exec { pid: i32, tgid: i32 },
    /// A task changed its name (`prctl(PR_SET_NAME)`, writing
    /// /proc/PID/comm).
    Comm { pid: i32, tgid: i32, comm: Vec<u8> },
    /// A task ended.
    Exit { pid: i32, tgid: i32, exit_code: u32, exit_signal: u32 },
    /// Any other event (uid, gid, sid, ptrace, coredump…); not used.
    Other { what: u32 },
}

/// A message of the proc connector: its sequence numbers and its event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcMessage {
    /// `cn_msg.seq`: counts up per CPU, a gap means lost events.
    pub seq: u32,
    /// `cn_msg.ack`: non-zero only on the answer to a subscription.
    pub ack: u32,
    /// `proc_event.cpu`.
    pub cpu: u32,
    /// `proc_event.timestamp_ns`: nanoseconds since boot.
    pub timestamp_ns: u64,
    pub event: ProcEvent,
}

fn u16_at(b: &[u8], r: std::ops::Range<usize>) -> Option<u16> {
    let s = b.get(r)?;
    Some(u16::from_ne_bytes(s.try_into().ok()?))
}

fn u32_at(b: &[u8], r: std::ops::Range<usize>) -> Option<u32> {
    let s = b.get(r)?;
    Some(u32::from_ne_bytes(s.try_into().ok()?))
}

fn u64_at(b: &[u8], r: std::ops::Range<usize>) -> Option<u64> {
    let s = b.get(r)?;
    Some(u64::from_ne_bytes(s.try_into().ok()?))
}

fn i32_in(data: &[u8], index: usize) -> i32 {
    let at = index * 4;
    u32_at(data, at..at + 4).map_or(0, |v| v as i32)
}

/// What a netlink message of the proc connector socket is.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A proc connector event.
    Message(ProcMessage),
    /// `NLMSG_NOOP` or `NLMSG_ERROR`: nothing for us (keepalived skips them).
    Ignored,
}

/// A checked view of one netlink message carrying a `cn_msg` and a
/// `proc_event`.
#[derive(Debug)]
pub struct ProcEventView<'a> {
    bytes: &'a [u8],
}

impl<'a> ProcEventView<'a> {
    /// Check the netlink and connector lengths; the view then reads within
    /// them only. `bytes` may extend past the message (the rest of a
    /// datagram).
    pub fn new_checked(bytes: &'a [u8]) -> Result<ProcEventView<'a>, WireError> {
        let len = bytes.len();
        let nl_len = u32_at(bytes, field::NL_LEN).ok_or(WireError::Truncated { len, need: NLMSG_HDRLEN })?;
        if (nl_len as usize) < NLMSG_HDRLEN {
            return Err(WireError::BadLength(nl_len));
        }
        let msg = bytes.get(..nl_len as usize).ok_or(WireError::Truncated { len, need: nl_len as usize })?;
        Ok(ProcEventView { bytes: msg })
    }

    /// The whole netlink message, header included.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn nlmsg_type(&self) -> u16 {
        u16_at(self.bytes, field::NL_TYPE).unwrap_or(0)
    }

    /// Decode the connector header and the event.
    pub fn parse(&self) -> Result<Parsed, WireError> {
        let b = self.bytes;
        let len = b.len();
        if matches!(self.nlmsg_type(), NLMSG_NOOP | NLMSG_ERROR) {
            return Ok(Parsed::Ignored);
        }
        let need = field::EV_HEADER_END;
        let truncated = || WireError::Truncated { len, need };
        let idx = u32_at(b, field::CN_IDX).ok_or_else(truncated)?;
        let val = u32_at(b, field::CN_VAL).ok_or_else(truncated)?;
        if idx != CN_IDX_PROC || val != CN_VAL_PROC {
            return Err(WireError::NotProcConnector { idx, val });
        }
        let seq = u32_at(b, field::CN_SEQ).ok_or_else(truncated)?;
        let ack = u32_at(b, field::CN_ACK).ok_or_else(truncated)?;
        let cn_len = usize::from(u16_at(b, field::CN_LEN).ok_or_else(truncated)?);
        // The event must fit in both the connector's and netlink's lengths.
        let data_end = field::CN_END.saturating_add(cn_len).min(len);
        let what = u32_at(b, field::EV_WHAT).filter(|_| data_end >= need).ok_or_else(truncated)?;
        let cpu = u32_at(b, field::EV_CPU).ok_or_else(truncated)?;
        let timestamp_ns = u64_at(b, field::EV_TIMESTAMP).ok_or_else(truncated)?;
        // A subscription answer is exactly PROC_EVENT_NONE with ack set.
        if (what == PROC_EVENT_NONE) != (ack != 0) {
            return Err(WireError::AckMismatch { what, ack });
        }
        let data = b.get(field::EV_DATA..data_end).unwrap_or(&[]);
        let need_data = |n: usize| {
            if data.len() < n {
                Err(WireError::Truncated { len, need: field::EV_DATA + n })
            } else {
                Ok(())
            }
        };
        let event = match what {
            PROC_EVENT_NONE => {
                need_data(ACK_LEN)?;
                ProcEvent::Ack { err: i32_in(data, 0) as u32 }
            }
            PROC_EVENT_FORK => {
                need_data(FORK_LEN)?;
                ProcEvent::Fork {
                    parent_pid: i32_in(data, 0),
                    parent_tgid: i32_in(data, 1),
                    child_pid: i32_in(data, 2),
                    child_tgid: i32_in(data, 3),
                }
            }
            PROC_EVENT_EXEC => {
                need_data(EXEC_LEN)?;
                ProcEvent::Exec { pid: i32_in(data, 0), tgid: i32_in(data, 1) }
            }
            PROC_EVENT_COMM => {
                need_data(COMM_LEN)?;
                let raw = data.get(8..COMM_LEN).unwrap_or(&[]);
                let end = raw.iter().position(|c| *c == 0).unwrap_or(raw.len());
                ProcEvent::Comm { pid: i32_in(data, 0), tgid: i32_in(data, 1), comm: raw[..end].to_vec() }
            }
            PROC_EVENT_EXIT => {
                need_data(EXIT_LEN)?;
                ProcEvent::Exit {
                    pid: i32_in(data, 0),
                    tgid: i32_in(data, 1),
                    exit_code: i32_in(data, 2) as u32,
                    exit_signal: i32_in(data, 3) as u32,
                }
            }
            what => ProcEvent::Other { what },
        };
        Ok(Parsed::Message(ProcMessage { seq, ack, cpu, timestamp_ns, event }))
    }
}

/// Every message of a datagram from the proc connector socket. The kernel
/// sends one message per datagram (cn_proc.c cannot chain them and keep
/// `proc_event` 8-aligned), but a chain is read as well. A message with a
/// broken length ends the walk.
pub fn parse_datagram(datagram: &[u8]) -> impl Iterator<Item = Result<Parsed, WireError>> + '_ {
    let mut off = 0usize;
    let mut done = false;
    std::iter::from_fn(move || {
        if done || off >= datagram.len() {
            return None;
        }
        let rest = datagram.get(off..)?;
        match ProcEventView::new_checked(rest) {
            Ok(v) => {
                off = off.saturating_add(crate::align4(v.len()));
                Some(v.parse())
            }
            Err(e) => {
                done = true;
                Some(Err(e))
            }
        }
    })
}

/// The message that subscribes to (`PROC_CN_MCAST_LISTEN`) or unsubscribes
/// from (`PROC_CN_MCAST_IGNORE`) process events: nlmsghdr + cn_msg + the
/// 4-byte operation.
pub fn listen_request(op: u32, seq: u32) -> [u8; 40] {
    let mut m = [0u8; 40];
    m[field::NL_LEN].copy_from_slice(&40u32.to_ne_bytes());
    // The connector takes any type; keepalived and the kernel samples send
    // NLMSG_DONE.
    m[field::NL_TYPE].copy_from_slice(&NLMSG_DONE.to_ne_bytes());
    m[8..12].copy_from_slice(&seq.to_ne_bytes());
    m[field::CN_IDX].copy_from_slice(&CN_IDX_PROC.to_ne_bytes());
    m[field::CN_VAL].copy_from_slice(&CN_VAL_PROC.to_ne_bytes());
    m[field::CN_SEQ].copy_from_slice(&seq.to_ne_bytes());
    m[field::CN_LEN].copy_from_slice(&4u16.to_ne_bytes());
    m[field::CN_END..field::CN_END + 4].copy_from_slice(&op.to_ne_bytes());
    m
}

// ---------------------------------------------------------------------------
// Reading /proc
// ---------------------------------------------------------------------------

/// What is read of one process in /proc.
struct ProcInfo {
    /// The process name (`comm`), when a tracker matches on it.
    comm: Option<Vec<u8>>,
    /// The start of /proc/PID/cmdline, when a tracker matches on it.
    cmdline: Option<Vec<u8>>,
}

fn read_limited(path: &Path, limit: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    fs::File::open(path)?.take(limit as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// `comm` and state from /proc/PID/stat: `PID (COMM) S …`. The name may
/// hold spaces and parentheses, so it ends at the last `)`.
fn parse_stat(stat: &[u8]) -> Option<(Vec<u8>, u8)> {
    let open = stat.iter().position(|c| *c == b'(')?;
    let close = stat.iter().rposition(|c| *c == b')')?;
    if close < open {
        return None;
    }
    let state = *stat.get(close + 2)?;
    Some((stat[open + 1..close].to_vec(), state))
}

/// The process name from /proc/PID/comm (the kernel adds a newline).
fn parse_comm(mut comm: Vec<u8>) -> Vec<u8> {
    if comm.last() == Some(&b'\n') {
        comm.pop();
    }
    comm
}

// ---------------------------------------------------------------------------
// The tracker
// ---------------------------------------------------------------------------

/// One `vrrp_track_process`, with its running count and state.
#[derive(Debug)]
struct Track {
    name: String,
    /// `process NAME`; `None` (never configured) never matches.
    process: Option<Vec<u8>>,
    /// The parameters, each followed by a NUL, as they appear in
    /// /proc/PID/cmdline after the program name (keepalived's
    /// `process_params`); `None` when no parameter was given.
    params: Option<Vec<u8>>,
    param_match: Option<ParamMatch>,
    full_command: bool,
    quorum: u32,
    quorum_max: u32,
    fork_delay: Duration,
    terminate_delay: Duration,
    /// Processes counted now.
    count: u32,
    /// The state last reported.
    up: bool,
    /// Quorum changed on a fork: report it then (`fork_delay`).
    fork_timer: Option<Instant>,
    /// Quorum changed on an exit: report it then (`terminate_delay`).
    terminate_timer: Option<Instant>,
}

impl Track {
    fn from_config(t: &TrackProcess) -> Track {
        let params = (!t.params.is_empty()).then(|| {
            let mut p = Vec::new();
            for s in &t.params {
                p.extend_from_slice(s.as_bytes());
                p.push(0);
            }
            p
        });
        // The parser already does this (keepalived's process and
        // param_match handlers); repeated so a hand-built TrackProcess
        // behaves the same.
        let param_match = if params.is_some() { t.param_match.or(Some(ParamMatch::Exact)) } else { t.param_match };
        Track {
            name: t.name.clone(),
            process: t.process.as_ref().map(|p| p.as_bytes().to_vec()),
            params,
            param_match,
            full_command: t.full_command || param_match.is_some(),
            quorum: t.quorum,
            quorum_max: t.quorum_max,
            fork_delay: Duration::from_micros(t.fork_delay_us),
            terminate_delay: Duration::from_micros(t.terminate_delay_us),
            count: 0,
            up: false,
            fork_timer: None,
            terminate_timer: None,
        }
    }

    fn in_quorum(&self, count: u32) -> bool {
        count >= self.quorum && count <= self.quorum_max
    }

    /// Does a process of this name (comm, or argv[0] with `full_command`)
    /// and command line match? `None`: the name does not.
    fn check(&self, proc_name: &[u8], cmdline: &[u8]) -> Option<bool> {
        if self.process.as_deref() != Some(proc_name) {
            return None;
        }
        let Some(mode) = self.param_match else { return Some(true) };
        // The arguments follow argv[0] and its NUL.
        let params = cmdline.get(proc_name.len() + 1..).unwrap_or(&[]);
        Some(check_params(mode, self.params.as_deref(), params))
    }

    /// Report the state if it changed.
    fn set(&mut self, up: bool, out: &mut Vec<(String, bool)>) {
        if self.up != up {
            self.up = up;
            out.push((self.name.clone(), up));
        }
    }
}

/// keepalived's `check_params`: `want` is the configured parameters, each
/// NUL-terminated; `have` what follows argv[0] in /proc/PID/cmdline.
/// - exact: the same arguments, no more;
/// - partial: the configured arguments come first, more may follow;
/// - initial: as partial, but the last configured argument need only be
///   the start of the process's argument (`--conf` matches `--config=x`).
fn check_params(mode: ParamMatch, want: Option<&[u8]>, have: &[u8]) -> bool {
    let want_len = want.map_or(0, <[u8]>::len);
    if mode == ParamMatch::Exact && want.is_none() && have.is_empty() {
        return true;
    }
    if have.len() < want_len {
        return false;
    }
    let Some(want) = want else {
        // exact without parameters needs none; the others accept any.
        return mode != ParamMatch::Exact;
    };
    match mode {
        ParamMatch::Exact => have == want,
        ParamMatch::Partial => have.starts_with(want),
        ParamMatch::Initial => have.starts_with(&want[..want.len() - 1]),
    }
}

/// How a process came to be counted or not counted; decides which delay
/// applies (keepalived delays only fork-driven gains and exit-driven
/// losses; an exec, rename or command line change is reported at once).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cause {
    Fork,
    Exit,
    /// exec or comm change.
    Recheck,
}

/// Counts the processes of each `vrrp_track_process` and reports when a
/// tracker gains or loses its quorum (`quorum <= count <= quorum_max`).
///
/// Sans-IO: events come from [`ProcessTracker::handle`], time from the
/// caller; only /proc (under the root given to [`ProcessTracker::scan`]) is
/// read, for the initial scan and to learn the new name and command line
/// of a process that ran `exec`.
#[derive(Debug)]
pub struct ProcessTracker {
    tracks: Vec<Track>,
    /// pid (thread-group leader) → indices of the trackers counting it.
    pids: BTreeMap<i32, Vec<usize>>,
    proc_root: PathBuf,
    /// How much of /proc/PID/cmdline to read: one byte more than the
    /// longest configured name and parameters, so that an exact match can
    /// tell a longer command line (keepalived's vrrp_max_process_name_len
    /// + 2).
    cmdline_len: usize,
    /// Some tracker matches on the command line / on the name.
    use_cmdline: bool,
    use_comm: bool,
}

impl ProcessTracker {
    /// Trackers for the configured `vrrp_track_process` blocks; nothing is
    /// counted until [`ProcessTracker::scan`].
    pub fn new(tracks: &[TrackProcess]) -> ProcessTracker {
        let tracks: Vec<Track> = tracks.iter().map(Track::from_config).collect();
        let longest = tracks
            .iter()
            .map(|t| t.process.as_ref().map_or(0, |p| p.len() + 1) + t.params.as_ref().map_or(0, Vec::len))
            .max()
            .unwrap_or(0);
        ProcessTracker {
            use_cmdline: tracks.iter().any(|t| t.full_command),
            use_comm: tracks.iter().any(|t| !t.full_command),
            tracks,
            pids: BTreeMap::new(),
            proc_root: PathBuf::from("/proc"),
            cmdline_len: longest + 2,
        }
    }

    /// Count the matching processes of `proc_root` (normally `/proc`),
    /// forgetting what was counted before, and report the state of every
    /// tracker (keepalived sets the initial state without delay).
    pub fn scan(&mut self, proc_root: &Path, out: &mut Vec<(String, bool)>) {
        self.proc_root = proc_root.to_path_buf();
        self.read_procs();
        for t in &mut self.tracks {
            t.up = t.in_quorum(t.count);
            out.push((t.name.clone(), t.up));
        }
    }

    /// Events were lost: count again from /proc, and report the trackers
    /// whose state differs, with their delays (keepalived's
    /// `reinitialise_track_processes`). Pending delays are dropped.
    pub fn rescan(&mut self, now: Instant, out: &mut Vec<(String, bool)>) {
        self.read_procs();
        for t in &mut self.tracks {
            let level = t.in_quorum(t.count);
            if level == t.up {
                continue;
            }
            let delay = if level { t.fork_delay } else { t.terminate_delay };
            if delay.is_zero() {
                t.set(level, out);
            } else if level {
                t.fork_timer = Some(now + delay);
            } else {
                t.terminate_timer = Some(now + delay);
            }
        }
    }

    /// Whether the tracker `name` has its quorum now (as last reported).
    pub fn is_up(&self, name: &str) -> Option<bool> {
        self.tracks.iter().find(|t| t.name == name).map(|t| t.up)
    }

    /// How many processes the tracker `name` counts now.
    pub fn count(&self, name: &str) -> Option<u32> {
        self.tracks.iter().find(|t| t.name == name).map(|t| t.count)
    }

    /// The pids counted by any tracker.
    pub fn pids(&self) -> impl Iterator<Item = i32> + '_ {
        self.pids.keys().copied()
    }

    /// The earliest pending `fork_delay` / `terminate_delay`.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.tracks.iter().flat_map(|t| [t.fork_timer, t.terminate_timer]).flatten().min()
    }

    /// Report the states whose delay has run out.
    pub fn on_timeout(&mut self, now: Instant, out: &mut Vec<(String, bool)>) {
        for t in &mut self.tracks {
            // Both timers report the state as it is then, not as it was
            // when they started.
            if t.fork_timer.is_some_and(|d| d <= now) {
                t.fork_timer = None;
                let level = t.in_quorum(t.count);
                t.set(level, out);
            }
            if t.terminate_timer.is_some_and(|d| d <= now) {
                t.terminate_timer = None;
                let level = t.in_quorum(t.count);
                t.set(level, out);
            }
        }
    }

    /// Take one event into account. Only thread-group leaders count:
    /// events of other threads are ignored, as keepalived does.
    pub fn handle(&mut self, now: Instant, event: &ProcEvent, out: &mut Vec<(String, bool)>) {
        match *event {
            ProcEvent::Fork { parent_tgid, child_pid, child_tgid, .. } if child_pid == child_tgid => {
                self.fork(now, parent_tgid, child_tgid, out)
            }
            ProcEvent::Exec { pid, tgid } if pid == tgid => {
                if let Some(info) = self.read_process(pid, false) {
                    self.recheck(now, pid, &info, false, out);
                }
            }
            ProcEvent::Comm { pid, tgid, ref comm } if pid == tgid => {
                let info = ProcInfo { comm: Some(comm.clone()), cmdline: None };
                self.recheck(now, pid, &info, true, out);
            }
            ProcEvent::Exit { pid, tgid, .. } if pid == tgid => self.exit(now, pid, out),
            _ => {}
        }
    }

    fn read_procs(&mut self) {
        self.pids.clear();
        for t in &mut self.tracks {
            t.count = 0;
            t.fork_timer = None;
            t.terminate_timer = None;
        }
        let Ok(dir) = fs::read_dir(&self.proc_root) else { return };
        for entry in dir.flatten() {
            // Processes are the numeric directories; threads are not
            // listed at the top level, only thread-group leaders.
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
            if pid <= 0 {
                continue;
            }
            let Some(info) = self.read_process(pid, true) else { continue };
            let matched: Vec<usize> =
                (0..self.tracks.len()).filter(|&i| self.matches(i, &info, false) == Some(true)).collect();
            for &i in &matched {
                self.tracks[i].count += 1;
            }
            if !matched.is_empty() {
                self.pids.insert(pid, matched);
            }
        }
    }

    /// Read what the trackers need of process `pid`. At the initial scan
    /// the name comes from `stat`, which also tells zombies apart (they
    /// are skipped, like keepalived); after an exec from `comm`. `None`:
    /// the process is gone or unreadable.
    fn read_process(&self, pid: i32, scanning: bool) -> Option<ProcInfo> {
        let dir = self.proc_root.join(pid.to_string());
        let cmdline =
            if self.use_cmdline { Some(read_limited(&dir.join("cmdline"), self.cmdline_len).ok()?) } else { None };
        let comm = if !self.use_comm {
            None
        } else if scanning {
            let (comm, state) = parse_stat(&read_limited(&dir.join("stat"), 512).ok()?)?;
            if state == b'Z' {
                return None;
            }
            Some(comm)
        } else {
            Some(parse_comm(read_limited(&dir.join("comm"), 64).ok()?))
        };
        Some(ProcInfo { comm, cmdline })
    }

    /// Does tracker `i` count a process like `info`? `None`: this tracker
    /// does not look at what `info` holds (a rename seen by a full-command
    /// tracker), or its name differs; `Some(false)`: the name matches but
    /// the parameters do not.
    fn matches(&self, i: usize, info: &ProcInfo, rename: bool) -> Option<bool> {
        let t = &self.tracks[i];
        if t.full_command {
            if rename {
                return None;
            }
            let cmdline = info.cmdline.as_deref()?;
            let argv0 = cmdline.split(|c| *c == 0).next().unwrap_or(&[]);
            t.check(argv0, cmdline)
        } else {
            t.check(info.comm.as_deref()?, &[])
        }
    }

    fn fork(&mut self, now: Instant, parent: i32, child: i32, out: &mut Vec<(String, bool)>) {
        // A child of an untracked process is not tracked until it execs.
        let Some(inherited) = self.pids.get(&parent).cloned() else { return };
        let entry = self.pids.entry(child).or_default();
        let added: Vec<usize> = inherited.into_iter().filter(|i| !entry.contains(i)).collect();
        entry.extend(&added);
        for i in added {
            self.count_up(now, i, Cause::Fork, out);
        }
    }

    fn exit(&mut self, now: Instant, pid: i32, out: &mut Vec<(String, bool)>) {
        let Some(counted) = self.pids.remove(&pid) else { return };
        for i in counted {
            self.count_down(now, i, Cause::Exit, out);
        }
    }

    /// After an exec (`rename` false: name and command line read from
    /// /proc) or a rename (`rename` true: the new name only).
    fn recheck(&mut self, now: Instant, pid: i32, info: &ProcInfo, rename: bool, out: &mut Vec<(String, bool)>) {
        for i in 0..self.tracks.len() {
            // A rename does not concern full-command trackers, whatever
            // they counted.
            if rename && self.tracks[i].full_command {
                continue;
            }
            let counted = self.pids.get(&pid).is_some_and(|v| v.contains(&i));
            let matched = self.matches(i, info, rename);
            match (counted, matched == Some(true)) {
                (false, true) => {
                    self.pids.entry(pid).or_default().push(i);
                    self.count_up(now, i, Cause::Recheck, out);
                }
                (true, false) => {
                    if let Some(v) = self.pids.get_mut(&pid) {
                        v.retain(|&j| j != i);
                        if v.is_empty() {
                            self.pids.remove(&pid);
                        }
                    }
                    self.count_down(now, i, Cause::Recheck, out);
                }
                _ => {}
            }
        }
    }

    fn count_up(&mut self, now: Instant, i: usize, cause: Cause, out: &mut Vec<(String, bool)>) {
        let t = &mut self.tracks[i];
        let before = t.in_quorum(t.count);
        t.count = t.count.saturating_add(1);
        let level = t.in_quorum(t.count);
        if level == before {
            return;
        }
        // keepalived: a pending terminate delay is cancelled and the state
        // reported at once; a fork starts the fork delay; an exec or rename
        // is reported at once.
        if t.terminate_timer.take().is_some() || cause != Cause::Fork || t.fork_delay.is_zero() {
            t.set(level, out);
        } else {
            let due = now + t.fork_delay;
            t.fork_timer = Some(t.fork_timer.map_or(due, |d| d.min(due)));
        }
    }

    fn count_down(&mut self, now: Instant, i: usize, cause: Cause, out: &mut Vec<(String, bool)>) {
        let t = &mut self.tracks[i];
        let before = t.in_quorum(t.count);
        t.count = t.count.saturating_sub(1);
        let level = t.in_quorum(t.count);
        if level == before {
            return;
        }
        // keepalived: a pending fork delay is cancelled and the state
        // reported at once; an exit starts the terminate delay; an exec or
        // rename is reported at once.
        if t.fork_timer.take().is_some() || cause != Cause::Exit || t.terminate_delay.is_zero() {
            t.set(level, out);
        } else {
            let due = now + t.terminate_delay;
            t.terminate_timer = Some(t.terminate_timer.map_or(due, |d| d.min(due)));
        }
    }
}

// ---------------------------------------------------------------------------
// The socket
// ---------------------------------------------------------------------------

/// Why process monitoring could not start or go on.
#[derive(Debug)]
pub enum ProcMonError {
    /// The kernel has no proc connector (`CONFIG_PROC_EVENTS`).
    NotSupported(io::Error),
    /// The socket could not be opened, bound or configured.
    Socket(io::Error),
    /// The kernel refused the subscription to process events (e.g.
    /// `ECONNREFUSED` outside the initial network namespace).
    Subscribe(io::Error),
    /// Reading process events failed.
    Receive(io::Error),
}

impl fmt::Display for ProcMonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcMonError::NotSupported(e) => write!(
                f,
                "track_process not available - is CONFIG_PROC_EVENTS enabled in the kernel configuration? ({e})"
            ),
            ProcMonError::Socket(e) => write!(f, "cannot open the process monitoring socket: {e}"),
            ProcMonError::Subscribe(e) if e.raw_os_error() == Some(ECONNREFUSED) => write!(
                f,
                "the kernel refused to send process events ({e}); process events are only delivered \
                 in the initial network namespace"
            ),
            ProcMonError::Subscribe(e) => write!(f, "cannot subscribe to process events: {e}"),
            ProcMonError::Receive(e) => write!(f, "cannot read process events from the kernel: {e}"),
        }
    }
}

impl std::error::Error for ProcMonError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProcMonError::NotSupported(e)
            | ProcMonError::Socket(e)
            | ProcMonError::Subscribe(e)
            | ProcMonError::Receive(e) => Some(e),
        }
    }
}

const ENOBUFS: i32 = 105;
const ECONNREFUSED: i32 = 111;
const EPROTONOSUPPORT: i32 = 93;

/// After lost events, keepalived waits this long for things to settle
/// before counting again from /proc.
pub const RESCAN_DELAY: Duration = Duration::from_secs(1);

/// Counters of what [`ProcMonitor`] received.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcMonStats {
    /// Events read.
    pub events: u64,
    /// Messages not understood, or not from the kernel; skipped.
    pub malformed: u64,
    /// Receive buffer overflows (`ENOBUFS`).
    pub overflows: u64,
    /// Events missing according to the per-CPU sequence numbers.
    pub missed: u64,
    /// Counts from /proc after lost events.
    pub rescans: u64,
}

/// The proc connector socket and a [`ProcessTracker`]: register it with a
/// mio [`mio::Registry`] for [`mio::Interest::READABLE`], call
/// [`ProcMonitor::read`] when it is readable and
/// [`ProcMonitor::on_timeout`] at [`ProcMonitor::poll_timeout`].
///
/// On lost events (`ENOBUFS`), as keepalived: wait [`RESCAN_DELAY`], then
/// double the receive buffer (logging the size to put in
/// `process_monitor_rcv_bufs`) and count again from /proc.
#[derive(Debug)]
pub struct ProcMonitor {
    socket: Socket,
    tracker: ProcessTracker,
    force: bool,
    rescan_at: Option<Instant>,
    confirmed: Option<u32>,
    /// Last sequence number per CPU.
    cpu_seq: HashMap<u32, u32>,
    stats: ProcMonStats,
}

impl ProcMonitor {
    /// Subscribe to process events, then count the matching processes in
    /// /proc and append the initial state of every tracker to `out`.
    /// `rcv_bufs`: `process_monitor_rcv_bufs` (`None`: the system default);
    /// `force`: `process_monitor_rcv_bufs_force` (go beyond
    /// `net.core.rmem_max`, needs `CAP_NET_ADMIN`).
    pub fn new(
        tracks: &[TrackProcess],
        rcv_bufs: Option<u32>,
        force: bool,
        out: &mut Vec<(String, bool)>,
    ) -> Result<ProcMonitor, ProcMonError> {
        let mut socket = Socket::new(NETLINK_CONNECTOR).map_err(|e| {
            if e.raw_os_error() == Some(EPROTONOSUPPORT) {
                ProcMonError::NotSupported(e)
            } else {
                ProcMonError::Socket(e)
            }
        })?;
        socket.bind(&SocketAddr::new(0, CN_IDX_PROC)).map_err(ProcMonError::Socket)?;
        if let Some(bytes) = rcv_bufs.filter(|b| *b > 0) {
            set_rcv_buf(&socket, bytes as usize, force);
        }
        socket.set_non_blocking(true).map_err(ProcMonError::Socket)?;
        socket
            .send_to(&listen_request(PROC_CN_MCAST_LISTEN, 0), &SocketAddr::new(0, 0), 0)
            .map_err(ProcMonError::Subscribe)?;
        // Subscribed before scanning, so no process is missed in between.
        let mut tracker = ProcessTracker::new(tracks);
        tracker.scan(Path::new("/proc"), out);
        Ok(ProcMonitor {
            socket,
            tracker,
            force,
            rescan_at: None,
            confirmed: None,
            cpu_seq: HashMap::new(),
            stats: ProcMonStats::default(),
        })
    }

    /// The tracker: counts and states.
    pub fn tracker(&self) -> &ProcessTracker {
        &self.tracker
    }

    pub fn stats(&self) -> ProcMonStats {
        self.stats
    }

    /// Whether the kernel answered the subscription (keepalived warns that
    /// the kernel does not support proc events when no answer came within
    /// 100 ms). `Some(err)` once answered, 0 being success.
    pub fn kernel_answer(&self) -> Option<u32> {
        self.confirmed
    }

    /// The receive buffer the kernel granted, in bytes.
    pub fn receive_buffer(&self) -> Result<usize, ProcMonError> {
        self.socket.get_rx_buf_sz().map_err(ProcMonError::Socket)
    }

    /// The earliest pending delay or rescan.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.tracker.poll_timeout(), self.rescan_at].into_iter().flatten().min()
    }

    /// Run the delays and the rescan that are due.
    pub fn on_timeout(&mut self, now: Instant, out: &mut Vec<(String, bool)>) {
        if self.rescan_at.is_some_and(|t| t <= now) {
            self.rescan_at = None;
            self.rescan(now, out);
        }
        self.tracker.on_timeout(now, out);
    }

    /// Read every pending event, appending the tracker changes to `out`;
    /// returns when nothing more is pending.
    pub fn read(&mut self, now: Instant, out: &mut Vec<(String, bool)>) -> Result<(), ProcMonError> {
        let mut buf: Vec<u8> = Vec::with_capacity(1024);
        loop {
            buf.clear();
            let from = match self.socket.recv_from(&mut buf, 0) {
                Ok((_, from)) => from,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.raw_os_error() == Some(ENOBUFS) => {
                    // Events were lost: count again once things settle.
                    self.stats.overflows += 1;
                    self.rescan_at = Some(now + RESCAN_DELAY);
                    tracing::warn!(
                        overflows = self.stats.overflows,
                        "process events lost (receive buffer full); counting processes again in 1 s"
                    );
                    continue;
                }
                Err(e) => return Err(ProcMonError::Receive(e)),
            };
            if buf.is_empty() {
                return Ok(());
            }
            // Only the kernel may tell us about processes.
            if from.port_number() != 0 {
                self.stats.malformed += 1;
                continue;
            }
            for parsed in parse_datagram(&buf) {
                match parsed {
                    Ok(Parsed::Message(m)) => self.message(now, m, out),
                    Ok(Parsed::Ignored) => {}
                    Err(e) => {
                        self.stats.malformed += 1;
                        tracing::debug!(error = %e, "process event skipped");
                    }
                }
            }
        }
    }

    fn message(&mut self, now: Instant, m: ProcMessage, out: &mut Vec<(String, bool)>) {
        self.stats.events += 1;
        // The answer to our subscription carries our own sequence number,
        // not the CPU's.
        if let ProcEvent::Ack { err } = m.event {
            self.confirmed = Some(err);
            tracing::debug!(err, "the kernel confirmed process events");
            return;
        }
        if let Some(prev) = self.cpu_seq.insert(m.cpu, m.seq) {
            let gap = m.seq.wrapping_sub(prev).wrapping_sub(1);
            // A restart of the numbering (gap near u32::MAX) is not a loss.
            if gap != 0 && gap < u32::MAX / 2 {
                self.stats.missed += u64::from(gap);
                tracing::debug!(cpu = m.cpu, missed = gap, "process events missed");
            }
        }
        self.tracker.handle(now, &m.event, out);
    }

    fn rescan(&mut self, now: Instant, out: &mut Vec<(String, bool)>) {
        self.stats.rescans += 1;
        // keepalived doubles what getsockopt reports (itself twice what
        // was set) and asks the user to configure it.
        if let Ok(current) = self.socket.get_rx_buf_sz() {
            let bigger = current.saturating_mul(2);
            set_rcv_buf(&self.socket, bigger, self.force);
            tracing::warn!(
                process_monitor_rcv_bufs = bigger,
                "process events were lost; receive buffer raised - recommend setting \
                 process_monitor_rcv_bufs in global_defs"
            );
        }
        self.cpu_seq.clear();
        self.tracker.rescan(now, out);
    }
}

fn set_rcv_buf(socket: &Socket, bytes: usize, force: bool) {
    let forced = force && nix::sys::socket::setsockopt(socket, nix::sys::socket::sockopt::RcvBufForce, &bytes).is_ok();
    if !forced {
        if let Err(e) = socket.set_rx_buf_sz(bytes) {
            tracing::warn!(bytes, error = %e, "cannot set the process monitor receive buffer");
        }
    }
}

impl Drop for ProcMonitor {
    fn drop(&mut self) {
        // Tell the kernel we stop listening (it counts listeners to decide
        // whether to build events at all).
        let _ = self.socket.send_to(&listen_request(PROC_CN_MCAST_IGNORE, 0), &SocketAddr::new(0, 0), 0);
    }
}

impl mio::event::Source for ProcMonitor {
    fn register(&mut self, registry: &mio::Registry, token: mio::Token, interests: mio::Interest) -> io::Result<()> {
        self.socket.register(registry, token, interests)
    }

    fn reregister(&mut self, registry: &mio::Registry, token: mio::Token, interests: mio::Interest) -> io::Result<()> {
        self.socket.reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        self.socket.deregister(registry)
    }
}

impl AsRawFd for ProcMonitor {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for ProcMonitor {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}
