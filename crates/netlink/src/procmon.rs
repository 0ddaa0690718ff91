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
//! [`ProcMonError::Subscribe`]; the caller then uses
//! [`ProcessTracker::report_unmonitored`]. keepalived 2.2.7 has the same
//! limitation (checked: under `unshare -n` it logs "Failed to set/clear
//! process event listen - errno 111 - Connection refused" and a weight-0
//! tracker keeps its instance in FAULT); `vrrp_track_process` needs
//! keepalived in the initial network namespace. Processes of other network
//! namespaces are seen all the same: events are system-wide. In a child
//! *pid* (or user) namespace the kernel ignores the subscription without
//! answering ([`ProcMonitor::kernel_answer`] stays `None`), and the pids
//! of any events would not be those of the namespace's /proc.

use crate::transport::{delegate_source, Transport};
use keepalived_config::vrrp::model::{ParamMatch, TrackProcess};
use netlink_sys::protocols::NETLINK_CONNECTOR;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs;
use std::io::{self, Read};
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

    /// Process events are not available (the kernel refused the
    /// subscription, e.g. outside the initial network namespace): nothing
    /// is counted, and every tracker is reported as with no process
    /// running, i.e. down unless `quorum_max 0`. keepalived 2.2.7 does the
    /// same: it logs the failure and never scans /proc, so a tracker with
    /// weight 0 keeps its instances in FAULT ("tracked process … quorum not
    /// achieved").
    pub fn report_unmonitored(&mut self, out: &mut Vec<(String, bool)>) {
        self.pids.clear();
        for t in &mut self.tracks {
            t.count = 0;
            t.fork_timer = None;
            t.terminate_timer = None;
            t.up = t.in_quorum(0);
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
    socket: Transport,
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
        let socket = Transport::bind_groups(NETLINK_CONNECTOR, CN_IDX_PROC).map_err(|e| {
            if e.raw_os_error() == Some(EPROTONOSUPPORT) {
                ProcMonError::NotSupported(e)
            } else {
                ProcMonError::Socket(e)
            }
        })?;
        if let Some(bytes) = rcv_bufs.filter(|b| *b > 0) {
            set_rcv_buf(&socket, bytes as usize, force);
        }
        socket.set_non_blocking().map_err(ProcMonError::Socket)?;
        socket.send_to_kernel(&listen_request(PROC_CN_MCAST_LISTEN, 0)).map_err(ProcMonError::Subscribe)?;
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

    /// After a configuration reload: track `tracks` instead, keeping the
    /// subscription, count them from /proc and append the state of every
    /// tracker to `out` (keepalived's `reload_track_processes`).
    pub fn reload(&mut self, tracks: &[TrackProcess], out: &mut Vec<(String, bool)>) {
        self.tracker = ProcessTracker::new(tracks);
        self.tracker.scan(Path::new("/proc"), out);
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
        self.socket.receive_buffer().map_err(ProcMonError::Socket)
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
        loop {
            let (buf, from) = match self.socket.receive_from() {
                Ok(answer) => answer,
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
            if from != 0 {
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
        if let Ok(current) = self.socket.receive_buffer() {
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

fn set_rcv_buf(socket: &Transport, bytes: usize, force: bool) {
    if let Err(e) = socket.set_receive_buffer(bytes, force) {
        tracing::warn!(bytes, error = %e, "cannot set the process monitor receive buffer");
    }
}

impl Drop for ProcMonitor {
    fn drop(&mut self) {
        // Tell the kernel we stop listening (it counts listeners to decide
        // whether to build events at all).
        let _ = self.socket.send_to_kernel(&listen_request(PROC_CN_MCAST_IGNORE, 0));
    }
}

delegate_source!(ProcMonitor, socket);

#[cfg(test)]
mod tests {
    use super::*;
    use keepalived_config::diag::FileId;
    use keepalived_config::model::Weight;
    use keepalived_config::Origin;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    // Captured from Linux 6.18 (x86_64): the answer to PROC_CN_MCAST_LISTEN,
    // then the fork, exec and exit of `/bin/true` run by a test program, and
    // a rename by `printf kaprocmon-renamed > /proc/$$/comm`.
    const ACK: &str = concat!(
        "4c000000030000000000000000000000010000000100000000000000010000002800000000000000",
        "01000000e581fdc9250a0000000000000000000000000000000000000000000000000000"
    );
    const FORK: &str = concat!(
        "4c000000030000000100000000000000010000000100000001000000000000002800000001000000",
        "0100000057c9ffc9250a0000d52a0000d52a0000432b0000432b00000000000000000000"
    );
    const EXEC: &str = concat!(
        "4c000000030000000200000000000000010000000100000002000000000000002800000002000000",
        "010000009fde05ca250a0000432b0000432b000000000000000000000000000000000000"
    );
    const EXIT: &str = concat!(
        "4c000000030000000000000000000000010000000100000000000000000000002800000000000080",
        "00000000bc8c07ca250a0000412b0000412b000000000000110000005320000053200000"
    );
    const COMM: &str = concat!(
        "4c00000003000000613d0000000000000100000001000000613d0000000000002800000000020000",
        "01000000ed739e68440a0000a05b0000a05b00006b6170726f636d6f6e2d72656e616d00"
    );

    fn fixture(s: &str) -> Vec<u8> {
        let b = hex(s);
        assert_eq!(b.len(), 76); // nlmsghdr 16 + cn_msg 20 + proc_event 40
        b
    }

    fn one(bytes: &[u8]) -> ProcMessage {
        let v: Vec<_> = parse_datagram(bytes).collect();
        assert_eq!(v.len(), 1);
        match v.into_iter().next().unwrap().unwrap() {
            Parsed::Message(m) => m,
            p => panic!("unexpected {p:?}"),
        }
    }

    /// A message built field by field from linux/netlink.h, connector.h and
    /// cn_proc.h.
    fn build(what: u32, ack: u32, cpu: u32, data: &[u8]) -> Vec<u8> {
        let mut ev = Vec::new();
        ev.extend_from_slice(&what.to_ne_bytes());
        ev.extend_from_slice(&cpu.to_ne_bytes());
        ev.extend_from_slice(&123_456_789u64.to_ne_bytes());
        ev.extend_from_slice(data);
        ev.resize(40, 0); // sizeof(struct proc_event)
        let mut cn = Vec::new();
        cn.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
        cn.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
        cn.extend_from_slice(&7u32.to_ne_bytes()); // seq
        cn.extend_from_slice(&ack.to_ne_bytes());
        cn.extend_from_slice(&(ev.len() as u16).to_ne_bytes());
        cn.extend_from_slice(&0u16.to_ne_bytes());
        let mut m = Vec::new();
        m.extend_from_slice(&((16 + cn.len() + ev.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend(cn);
        m.extend(ev);
        m
    }

    fn pids(v: &[i32]) -> Vec<u8> {
        v.iter().flat_map(|p| p.to_ne_bytes()).collect()
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn captured_kernel_messages() {
        let m = one(&fixture(ACK));
        assert_eq!((m.event.clone(), m.ack, m.cpu), (ProcEvent::Ack { err: 0 }, 1, 1));
        let m = one(&fixture(FORK));
        assert_eq!(
            m.event,
            ProcEvent::Fork { parent_pid: 10965, parent_tgid: 10965, child_pid: 11075, child_tgid: 11075 }
        );
        assert_eq!((m.seq, m.ack, m.cpu), (1, 0, 1));
        assert_eq!(m.timestamp_ns, 0x0a25_c9ff_c957);
        assert_eq!(one(&fixture(EXEC)).event, ProcEvent::Exec { pid: 11075, tgid: 11075 });
        assert_eq!(
            one(&fixture(EXIT)).event,
            ProcEvent::Exit { pid: 11073, tgid: 11073, exit_code: 0, exit_signal: 17 }
        );
        // The kernel truncates the name to 15 bytes and a NUL.
        assert_eq!(
            one(&fixture(COMM)).event,
            ProcEvent::Comm { pid: 23456, tgid: 23456, comm: b"kaprocmon-renam".to_vec() }
        );
    }

    #[test]
    fn built_messages() {
        let m = one(&build(PROC_EVENT_FORK, 0, 1, &pids(&[10, 11, 12, 13])));
        assert_eq!(m.event, ProcEvent::Fork { parent_pid: 10, parent_tgid: 11, child_pid: 12, child_tgid: 13 });
        assert_eq!((m.seq, m.cpu, m.timestamp_ns), (7, 1, 123_456_789));
        assert_eq!(one(&build(PROC_EVENT_EXEC, 0, 0, &pids(&[5, 5]))).event, ProcEvent::Exec { pid: 5, tgid: 5 });
        let mut comm = pids(&[6, 6]);
        comm.extend_from_slice(b"sleep\0\0\0\0\0\0\0\0\0\0\0");
        assert_eq!(
            one(&build(PROC_EVENT_COMM, 0, 0, &comm)).event,
            ProcEvent::Comm { pid: 6, tgid: 6, comm: b"sleep".to_vec() }
        );
        let mut full = pids(&[6, 6]);
        full.extend_from_slice(b"0123456789abcdef"); // no NUL at all
        assert_eq!(
            one(&build(PROC_EVENT_COMM, 0, 0, &full)).event,
            ProcEvent::Comm { pid: 6, tgid: 6, comm: b"0123456789abcdef".to_vec() }
        );
        assert_eq!(
            one(&build(PROC_EVENT_EXIT, 0, 0, &pids(&[8, 7, 256, 0, 1, 1]))).event,
            ProcEvent::Exit { pid: 8, tgid: 7, exit_code: 256, exit_signal: 0 }
        );
        assert_eq!(one(&build(0x4, 0, 0, &[])).event, ProcEvent::Other { what: 4 });
        assert_eq!(one(&build(PROC_EVENT_NONE, 1, 0, &22u32.to_ne_bytes())).event, ProcEvent::Ack { err: 22 });
    }

    #[test]
    fn foreign_and_inconsistent_messages_are_errors() {
        let mut other = build(PROC_EVENT_EXEC, 0, 0, &pids(&[5, 5]));
        other[16] = 2; // CN_IDX_CIFS
        assert_eq!(parse_datagram(&other).next(), Some(Err(WireError::NotProcConnector { idx: 2, val: 1 })));
        // An event flagged as an answer, and an answer not flagged.
        let m = build(PROC_EVENT_EXEC, 3, 0, &pids(&[5, 5]));
        assert_eq!(parse_datagram(&m).next(), Some(Err(WireError::AckMismatch { what: 2, ack: 3 })));
        let m = build(PROC_EVENT_NONE, 0, 0, &[0; 4]);
        assert!(matches!(parse_datagram(&m).next(), Some(Err(WireError::AckMismatch { .. }))));
        // cn_msg.len too short for the fork data.
        let mut m = build(PROC_EVENT_FORK, 0, 0, &pids(&[1, 1, 2, 2]));
        m[32..34].copy_from_slice(&20u16.to_ne_bytes());
        assert!(matches!(parse_datagram(&m).next(), Some(Err(WireError::Truncated { .. }))));
        // Netlink error and no-op messages are not events.
        let mut m = build(PROC_EVENT_EXEC, 0, 0, &pids(&[5, 5]));
        m[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        assert_eq!(parse_datagram(&m).next(), Some(Ok(Parsed::Ignored)));
        let bad_len = [8u8, 0, 0, 0, 3, 0, 0, 0];
        assert_eq!(parse_datagram(&bad_len).next(), Some(Err(WireError::BadLength(8))));
    }

    #[test]
    fn chained_messages_are_all_read() {
        let mut d = build(PROC_EVENT_EXEC, 0, 0, &pids(&[5, 5]));
        d.extend(build(PROC_EVENT_EXIT, 0, 0, &pids(&[5, 5, 0, 9])));
        let v: Vec<_> = parse_datagram(&d).collect();
        assert_eq!(v.len(), 2);
        assert!(matches!(v[1], Ok(Parsed::Message(ProcMessage { event: ProcEvent::Exit { .. }, .. }))));
    }

    #[test]
    fn truncated_and_garbage_never_panic() {
        let mut samples = vec![fixture(ACK), fixture(FORK), fixture(EXEC), fixture(EXIT), fixture(COMM)];
        samples.push(vec![0xff; 100]);
        samples.push(vec![0; 100]);
        let mut x: u32 = 12345;
        for _ in 0..200 {
            let mut s = fixture(FORK);
            for _ in 0..4 {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let i = (x >> 8) as usize % s.len();
                s[i] = (x >> 20) as u8;
            }
            samples.push(s);
        }
        for s in &samples {
            for cut in 0..=s.len() {
                for p in parse_datagram(&s[..cut]) {
                    let _ = p;
                }
            }
        }
        // Every cut of a real message is an error, not an event.
        let exit = fixture(EXIT);
        for cut in 1..exit.len() {
            assert!(parse_datagram(&exit[..cut]).all(|p| p.is_err()), "cut {cut}");
        }
    }

    #[test]
    fn listen_request_layout() {
        // What the kernel accepted in the capture above (and what
        // keepalived sends): nlmsghdr{40, NLMSG_DONE} + cn_msg{1, 1, 0, 0,
        // len 4} + PROC_CN_MCAST_LISTEN.
        let mut want = Vec::new();
        want.extend_from_slice(&40u32.to_ne_bytes());
        want.extend_from_slice(&3u16.to_ne_bytes());
        want.extend_from_slice(&[0; 10]);
        for v in [1u32, 1, 0, 0] {
            want.extend_from_slice(&v.to_ne_bytes());
        }
        want.extend_from_slice(&4u16.to_ne_bytes());
        want.extend_from_slice(&[0, 0]);
        want.extend_from_slice(&1u32.to_ne_bytes());
        assert_eq!(listen_request(PROC_CN_MCAST_LISTEN, 0).to_vec(), want);
        assert_eq!(listen_request(PROC_CN_MCAST_IGNORE, 0)[36..40], 2u32.to_ne_bytes());
    }

    #[test]
    fn stat_and_comm_files() {
        assert_eq!(parse_stat(b"42 (sleep) S 1 42 42"), Some((b"sleep".to_vec(), b'S')));
        // Names may hold spaces and parentheses.
        assert_eq!(parse_stat(b"42 (a) b (c) Z 1"), Some((b"a) b (c".to_vec(), b'Z')));
        assert_eq!(parse_stat(b"42 (sleep"), None);
        assert_eq!(parse_stat(b"42 )x( S"), None);
        assert_eq!(parse_stat(b"42 (x)"), None);
        assert_eq!(parse_comm(b"sleep\n".to_vec()), b"sleep".to_vec());
    }

    // ---------------------------------------------------------------------
    // Tracker
    // ---------------------------------------------------------------------

    pub(super) fn track(name: &str, process: &str) -> TrackProcess {
        TrackProcess {
            name: name.into(),
            origin: Origin::new(FileId::intern("test.conf"), 1, 1),
            process: Some(process.into()),
            params: Vec::new(),
            param_match: None,
            weight: Weight::default(),
            quorum: 1,
            quorum_max: u32::MAX,
            terminate_delay_us: 0,
            fork_delay_us: 0,
            full_command: false,
        }
    }

    /// A fake /proc tree in a temporary directory.
    struct FakeProc {
        root: PathBuf,
    }

    impl FakeProc {
        fn new(tag: &str) -> FakeProc {
            let root = std::env::temp_dir().join(format!("ka-procmon-{}-{tag}", std::process::id()));
            let _ = fs::remove_dir_all(&root);
            fs::create_dir_all(&root).unwrap();
            // Not processes: must be ignored.
            fs::create_dir_all(root.join("self")).unwrap();
            fs::write(root.join("uptime"), "1 1\n").unwrap();
            FakeProc { root }
        }

        /// A process with its comm (as the kernel, at most 15 bytes) and
        /// argv.
        fn add(&self, pid: i32, argv: &[&str]) {
            let comm = Path::new(argv[0]).file_name().unwrap().to_str().unwrap();
            self.add_named(pid, &comm[..comm.len().min(15)], argv, 'S');
        }

        fn add_named(&self, pid: i32, comm: &str, argv: &[&str], state: char) {
            let d = self.root.join(pid.to_string());
            fs::create_dir_all(&d).unwrap();
            fs::write(d.join("comm"), format!("{comm}\n")).unwrap();
            fs::write(d.join("stat"), format!("{pid} ({comm}) {state} 1 {pid} {pid} 0 -1\n")).unwrap();
            let mut cmdline = Vec::new();
            for a in argv {
                cmdline.extend_from_slice(a.as_bytes());
                cmdline.push(0);
            }
            fs::write(d.join("cmdline"), cmdline).unwrap();
        }

        fn remove(&self, pid: i32) {
            fs::remove_dir_all(self.root.join(pid.to_string())).unwrap();
        }

        fn scan(&self, tracks: &[TrackProcess]) -> (ProcessTracker, Vec<(String, bool)>) {
            let mut t = ProcessTracker::new(tracks);
            let mut out = Vec::new();
            t.scan(&self.root, &mut out);
            (t, out)
        }
    }

    impl Drop for FakeProc {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.root);
        }
    }

    fn counts(t: &ProcessTracker, names: &[&str]) -> Vec<u32> {
        names.iter().map(|n| t.count(n).unwrap()).collect()
    }

    #[test]
    fn comm_matching_is_exact_and_limited_to_15_bytes() {
        let p = FakeProc::new("comm");
        p.add(100, &["/usr/sbin/nginx", "-g", "daemon off;"]);
        p.add(101, &["nginx: worker"]); // comm "nginx: worker"
        p.add(102, &["/opt/bin/a-very-long-daemon-name", "x"]); // comm "a-very-long-dae"
        p.add(103, &["nginxx"]);
        p.add_named(104, "nginx", &[], 'Z'); // a zombie
        let tracks = [
            track("ngx", "nginx"),
            track("path", "/usr/sbin/nginx"),
            track("long", "a-very-long-daemon-name"),
            track("long15", "a-very-long-dae"),
            track("worker", "nginx: worker"),
        ];
        let (t, out) = p.scan(&tracks);
        assert_eq!(counts(&t, &["ngx", "path", "long", "long15", "worker"]), vec![1, 0, 0, 1, 1]);
        // Every tracker's initial state is reported.
        assert_eq!(
            out,
            vec![
                ("ngx".into(), true),
                ("path".into(), false),
                ("long".into(), false),
                ("long15".into(), true),
                ("worker".into(), true)
            ]
        );
        assert_eq!(t.pids().collect::<Vec<_>>(), vec![100, 101, 102]);
    }

    #[test]
    fn full_command_matches_argv0() {
        let p = FakeProc::new("full");
        p.add(200, &["/usr/sbin/nginx", "-g", "daemon off;"]);
        p.add(201, &["/opt/bin/a-very-long-daemon-name"]);
        p.add(202, &["nginx"]);
        let mut path = track("path", "/usr/sbin/nginx");
        path.full_command = true;
        let mut long = track("long", "/opt/bin/a-very-long-daemon-name");
        long.full_command = true;
        let mut short = track("short", "nginx");
        short.full_command = true;
        let (t, _) = p.scan(&[path, long, short, track("comm", "nginx")]);
        // Without parameters, full_command compares argv[0] only.
        assert_eq!(counts(&t, &["path", "long", "short", "comm"]), vec![1, 1, 1, 2]);
    }

    fn with_params(name: &str, process: &str, params: &[&str], m: Option<ParamMatch>) -> TrackProcess {
        let mut t = track(name, process);
        t.params = params.iter().map(|s| s.to_string()).collect();
        t.param_match = if params.is_empty() { m } else { m.or(Some(ParamMatch::Exact)) };
        t.full_command = true;
        t
    }

    #[test]
    fn parameter_matching() {
        let p = FakeProc::new("params");
        p.add(1, &["app", "--config=/etc/app.conf", "-v"]);
        p.add(2, &["app", "--config=/etc/app.conf"]);
        p.add(3, &["app", "--conf"]);
        p.add(4, &["app"]);
        p.add(5, &["app", "-v", "--config=/etc/app.conf"]);
        use ParamMatch::*;
        let tracks = [
            with_params("exact", "app", &["--config=/etc/app.conf"], None),
            with_params("exact2", "app", &["--config=/etc/app.conf", "-v"], Some(Exact)),
            with_params("partial", "app", &["--config=/etc/app.conf"], Some(Partial)),
            with_params("initial", "app", &["--conf"], Some(Initial)),
            with_params("partial-short", "app", &["--conf"], Some(Partial)),
            // param_match without parameters: exact wants none, the
            // others accept any.
            with_params("exact-none", "app", &[], Some(Exact)),
            with_params("initial-none", "app", &[], Some(Initial)),
            with_params("partial-none", "app", &[], Some(Partial)),
            with_params("initial-empty", "app", &[""], Some(Initial)),
        ];
        let (t, _) = p.scan(&tracks);
        let names: Vec<&str> = tracks.iter().map(|t| t.name.as_str()).collect();
        let got: Vec<Vec<i32>> = names
            .iter()
            .map(|n| {
                let i = t.tracks.iter().position(|x| x.name == *n).unwrap();
                t.pids.iter().filter(|(_, v)| v.contains(&i)).map(|(p, _)| *p).collect()
            })
            .collect();
        assert_eq!(
            got,
            vec![
                vec![2],       // exact
                vec![1],       // exact2
                vec![1, 2],    // partial: configured args first
                vec![1, 2, 3], // initial: last arg a prefix
                vec![3],       // partial-short: whole "--conf" argument
                vec![4],       // exact-none
                vec![1, 2, 3, 4, 5],
                vec![1, 2, 3, 4, 5],
                vec![1, 2, 3, 5], // initial with one empty arg: any arg
            ]
        );
    }

    #[test]
    fn check_params_rules() {
        use ParamMatch::*;
        assert!(check_params(Exact, Some(b"a\0"), b"a\0"));
        assert!(!check_params(Exact, Some(b"a\0"), b"a\0b\0"));
        assert!(!check_params(Exact, Some(b"a\0"), b"ab\0"));
        assert!(check_params(Partial, Some(b"a\0"), b"a\0b\0"));
        assert!(!check_params(Partial, Some(b"a\0"), b"ab\0"));
        assert!(check_params(Initial, Some(b"a\0"), b"ab\0"));
        assert!(!check_params(Initial, Some(b"ab\0"), b"a\0"));
        assert!(check_params(Exact, None, b""));
        assert!(!check_params(Exact, None, b"x\0"));
        assert!(check_params(Partial, None, b"x\0"));
    }

    fn t0() -> Instant {
        Instant::now()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn fork(parent: i32, child: i32) -> ProcEvent {
        ProcEvent::Fork { parent_pid: parent, parent_tgid: parent, child_pid: child, child_tgid: child }
    }

    fn exit(pid: i32) -> ProcEvent {
        ProcEvent::Exit { pid, tgid: pid, exit_code: 0, exit_signal: 17 }
    }

    fn exec(pid: i32) -> ProcEvent {
        ProcEvent::Exec { pid, tgid: pid }
    }

    #[test]
    fn exec_fork_exit_and_threads() {
        let p = FakeProc::new("events");
        p.add(1, &["init"]);
        let (mut t, out) = p.scan(&[track("sl", "sleep")]);
        assert_eq!(out, vec![("sl".into(), false)]);
        let now = t0();
        let mut out = Vec::new();
        // bash forks (untracked parent: the child is not tracked) then the
        // child execs sleep.
        t.handle(now, &fork(1, 50), &mut out);
        assert_eq!(t.count("sl"), Some(0));
        p.add(50, &["sleep", "30"]);
        t.handle(now, &exec(50), &mut out);
        assert_eq!(out, vec![("sl".into(), true)]);
        out.clear();
        // A thread of it neither counts nor ends it.
        t.handle(now, &ProcEvent::Fork { parent_pid: 50, parent_tgid: 50, child_pid: 51, child_tgid: 50 }, &mut out);
        t.handle(now, &ProcEvent::Exit { pid: 51, tgid: 50, exit_code: 0, exit_signal: 0 }, &mut out);
        t.handle(now, &ProcEvent::Exec { pid: 51, tgid: 50 }, &mut out);
        assert_eq!(t.count("sl"), Some(1));
        // A tracked process forking: the child counts at once.
        t.handle(now, &fork(50, 52), &mut out);
        assert_eq!(t.count("sl"), Some(2));
        // Exec of the same program again is not counted twice.
        t.handle(now, &exec(50), &mut out);
        assert_eq!(t.count("sl"), Some(2));
        // The child execs something else: no longer counted.
        p.add(52, &["cat"]);
        t.handle(now, &exec(52), &mut out);
        assert_eq!(t.count("sl"), Some(1));
        // The exec of a process gone from /proc changes nothing.
        t.handle(now, &exec(99), &mut out);
        t.handle(now, &exit(52), &mut out);
        assert!(out.is_empty());
        t.handle(now, &exit(50), &mut out);
        assert_eq!(out, vec![("sl".into(), false)]);
        assert_eq!(t.pids().count(), 0);
    }

    #[test]
    fn renames() {
        let p = FakeProc::new("comm-events");
        p.add(10, &["worker"]);
        let mut full = track("full", "worker");
        full.full_command = true;
        let (mut t, _) = p.scan(&[track("w", "worker"), track("m", "master"), full]);
        assert_eq!(counts(&t, &["w", "m", "full"]), vec![1, 0, 1]);
        let mut out = Vec::new();
        let comm = |c: &str| ProcEvent::Comm { pid: 10, tgid: 10, comm: c.as_bytes().to_vec() };
        t.handle(t0(), &comm("master"), &mut out);
        // The command line did not change: the full-command tracker keeps it.
        assert_eq!(out, vec![("w".into(), false), ("m".into(), true)]);
        assert_eq!(counts(&t, &["w", "m", "full"]), vec![0, 1, 1]);
        out.clear();
        t.handle(t0(), &comm("master"), &mut out);
        assert!(out.is_empty());
        // An untracked process renamed to a tracked name.
        t.handle(t0(), &ProcEvent::Comm { pid: 11, tgid: 11, comm: b"worker".to_vec() }, &mut out);
        assert_eq!(out, vec![("w".into(), true)]);
        // A thread renamed: ignored.
        t.handle(t0(), &ProcEvent::Comm { pid: 12, tgid: 11, comm: b"master".to_vec() }, &mut out);
        assert_eq!(counts(&t, &["w", "m", "full"]), vec![1, 1, 1]);
    }

    #[test]
    fn quorum_and_quorum_max() {
        let p = FakeProc::new("quorum");
        p.add(1, &["init"]);
        let mut two = track("two", "sleep");
        two.quorum = 2;
        two.quorum_max = 3;
        let mut none = track("none", "sleep");
        none.quorum = 0;
        none.quorum_max = 0;
        let (mut t, out) = p.scan(&[two, none]);
        // quorum_max 0: up while no such process runs.
        assert_eq!(out, vec![("two".into(), false), ("none".into(), true)]);
        let now = t0();
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for pid in 10..15 {
            p.add(pid, &["sleep", "30"]);
            t.handle(now, &exec(pid), &mut out);
            seen.push(std::mem::take(&mut out));
        }
        assert_eq!(
            seen,
            vec![
                vec![("none".to_string(), false)],
                vec![("two".to_string(), true)],
                vec![],
                vec![("two".to_string(), false)],
                vec![],
            ]
        );
        let mut seen = Vec::new();
        for pid in 10..15 {
            t.handle(now, &exit(pid), &mut out);
            seen.push(std::mem::take(&mut out));
        }
        assert_eq!(
            seen,
            vec![
                vec![],
                vec![("two".to_string(), true)],
                vec![],
                vec![("two".to_string(), false)],
                vec![("none".to_string(), true)],
            ]
        );
    }

    #[test]
    fn terminate_delay() {
        let p = FakeProc::new("tdelay");
        p.add(10, &["sleep", "30"]);
        p.add(11, &["sleep", "30"]);
        let mut tr = track("sl", "sleep");
        tr.terminate_delay_us = 2_000_000;
        let (mut t, out) = p.scan(&[tr]);
        assert_eq!(out, vec![("sl".into(), true)]);
        let now = t0();
        let mut out = Vec::new();
        t.handle(now, &exit(10), &mut out);
        assert_eq!(t.poll_timeout(), None);
        t.handle(now + ms(100), &exit(11), &mut out);
        assert!(out.is_empty());
        assert_eq!(t.poll_timeout(), Some(now + ms(2100)));
        t.on_timeout(now + ms(2099), &mut out);
        assert!(out.is_empty());
        t.on_timeout(now + ms(2100), &mut out);
        assert_eq!(out, vec![("sl".into(), false)]);
        assert_eq!(t.poll_timeout(), None);

        // A process coming back within the delay cancels it: no report.
        out.clear();
        p.add(12, &["sleep", "30"]);
        t.handle(now + ms(3000), &exec(12), &mut out);
        assert_eq!(out, vec![("sl".into(), true)]);
        out.clear();
        t.handle(now + ms(4000), &exit(12), &mut out);
        t.handle(now + ms(5000), &exec(12), &mut out);
        assert_eq!(t.poll_timeout(), None);
        t.on_timeout(now + ms(7000), &mut out);
        assert!(out.is_empty());
        // An exec of something else is reported at once, without delay.
        p.add(12, &["cat"]);
        t.handle(now + ms(8000), &exec(12), &mut out);
        assert_eq!(out, vec![("sl".into(), false)]);
    }

    #[test]
    fn fork_delay() {
        let p = FakeProc::new("fdelay");
        p.add(10, &["daemon"]);
        let mut tr = track("d", "daemon");
        tr.quorum = 2;
        tr.fork_delay_us = 500_000;
        tr.terminate_delay_us = 1_000_000;
        let (mut t, out) = p.scan(&[tr]);
        assert_eq!(out, vec![("d".into(), false)]);
        let now = t0();
        let mut out = Vec::new();
        // The daemon forks a worker: quorum reached, reported after the
        // fork delay.
        t.handle(now, &fork(10, 11), &mut out);
        assert!(out.is_empty());
        assert_eq!(t.poll_timeout(), Some(now + ms(500)));
        t.on_timeout(now + ms(500), &mut out);
        assert_eq!(out, vec![("d".into(), true)]);
        out.clear();
        // A worker dies before the fork delay of its replacement ran out:
        // the fork delay is cancelled and the loss reported at once
        // (keepalived does not start the terminate delay then).
        t.handle(now + ms(1000), &exit(11), &mut out);
        assert!(out.is_empty());
        assert_eq!(t.poll_timeout(), Some(now + ms(2000)));
        t.handle(now + ms(1500), &fork(10, 12), &mut out);
        // The terminate delay was pending: cancelled, no change to report.
        assert_eq!(t.poll_timeout(), None);
        assert!(out.is_empty());
        t.handle(now + ms(3000), &exit(12), &mut out);
        t.on_timeout(now + ms(4000), &mut out);
        assert_eq!(out, vec![("d".into(), false)]);
        out.clear();
        t.handle(now + ms(5000), &fork(10, 13), &mut out);
        assert_eq!(t.poll_timeout(), Some(now + ms(5500)));
        t.handle(now + ms(5100), &exit(13), &mut out);
        assert_eq!(t.poll_timeout(), None);
        assert!(out.is_empty());
        assert_eq!(t.is_up("d"), Some(false));
        // An exec reaching the quorum is reported at once (keepalived
        // applies fork_delay to forks of tracked processes only).
        p.add(14, &["daemon"]);
        t.handle(now + ms(6000), &exec(14), &mut out);
        assert_eq!(out, vec![("d".into(), true)]);
    }

    #[test]
    fn rescan_after_lost_events() {
        let p = FakeProc::new("rescan");
        p.add(10, &["sleep", "30"]);
        let mut a = track("a", "sleep");
        a.terminate_delay_us = 1_000_000;
        let b = track("b", "cat");
        let (mut t, _) = p.scan(&[a, b]);
        assert_eq!(t.is_up("a"), Some(true));
        // Events were lost: sleep exited, cat started.
        p.remove(10);
        p.add(20, &["cat"]);
        let now = t0();
        let mut out = Vec::new();
        t.rescan(now, &mut out);
        assert_eq!(out, vec![("b".into(), true)]);
        assert_eq!(t.poll_timeout(), Some(now + ms(1000)));
        t.on_timeout(now + ms(1000), &mut out);
        assert_eq!(out, vec![("b".into(), true), ("a".into(), false)]);
        assert_eq!(counts(&t, &["a", "b"]), vec![0, 1]);
    }

    #[test]
    fn unconfigured_or_missing_proc() {
        let mut t = ProcessTracker::new(&[TrackProcess { process: None, ..track("x", "x") }]);
        let mut out = Vec::new();
        t.scan(Path::new("/nonexistent-proc-root"), &mut out);
        assert_eq!(out, vec![("x".into(), false)]);
        t.handle(t0(), &exec(1), &mut out);
        t.handle(t0(), &exit(1), &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn unmonitored_trackers() {
        let mut never = track("never", "x");
        never.quorum = 0;
        never.quorum_max = 0;
        let mut t = ProcessTracker::new(&[track("x", "x"), never]);
        let mut out = Vec::new();
        t.report_unmonitored(&mut out);
        assert_eq!(out, vec![("x".into(), false), ("never".into(), true)]);
    }

    #[test]
    fn error_messages_read_well() {
        let e = ProcMonError::Subscribe(io::Error::from_raw_os_error(ECONNREFUSED));
        assert!(e.to_string().contains("only delivered in the initial network namespace"), "{e}");
        let e = ProcMonError::NotSupported(io::Error::from_raw_os_error(EPROTONOSUPPORT));
        assert!(e.to_string().contains("CONFIG_PROC_EVENTS"));
        assert_eq!(
            WireError::Truncated { len: 40, need: 52 }.to_string(),
            "a process event message of 40 bytes is truncated (needs 52)"
        );
    }
}
