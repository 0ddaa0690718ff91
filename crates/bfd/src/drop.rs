//! Why a received control packet is discarded, in one place.
//!
//! Every receive check of RFC 5880 §6.8.6 (and keepalived 2.2.7's extra ones in `bfd_check_packet`,
//! `bfd_handle_packet`, `bfd_check_packet_ttl`) is one [`DropReason`]. `report` is the only place
//! that counts a drop (per session when one can be named, else in the engine's global counters) and
//! logs it, rate-limited per reason and counter scope, with keepalived's text where it has one.
use std::net::SocketAddr;

use keepalived_wire::bfd::Invalid;

use crate::types::{Action, Counters, Instant};

/// A receive check that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// Fewer than 24 bytes.
    Short {
        /// Bytes received.
        len: usize,
    },
    /// Version is not 1 (§6.8.6).
    Version(u8),
    /// Length field < 24 (26 with A set) or greater than the payload (§6.8.6).
    Length {
        /// Length field.
        length: u8,
        /// Bytes received.
        buffer: usize,
    },
    /// A set and the authentication section does not fit its type or the Length field.
    AuthLength {
        /// Auth Type.
        auth_type: u8,
        /// Auth Len.
        auth_len: u8,
    },
    /// A set with an undefined Auth Type.
    AuthType(u8),
    /// Detect Mult is zero (§6.8.6).
    DetectMultZero,
    /// M is set (§6.8.6).
    Multipoint,
    /// My Discriminator is zero (§6.8.6).
    MyDiscrZero,
    /// Your Discriminator is zero while State is not Down/AdminDown (§6.8.6).
    YourDiscrZero,
    /// P and F both set (keepalived).
    PollAndFinal,
    /// Diag above 8 (keepalived).
    Diag(u8),
    /// Your Discriminator names no session (§6.8.6).
    UnknownDiscr(u32),
    /// Your Discriminator is zero and no session has the source as neighbour (keepalived's
    /// `find_bfd_by_addr`).
    UnknownNeighbor,
    /// Your Discriminator names a session whose neighbour is not the source.
    NeighborMismatch,
    /// Received on the single-hop port for a multihop session, or the reverse (RFC 5883 §5).
    ModeMismatch {
        /// The packet came to the multihop port.
        multihop: bool,
    },
    /// TTL / hop limit below `ttl - max_hops` (RFC 5881 §5 GTSM; keepalived `bfd_check_packet_ttl`).
    Ttl {
        /// Received TTL / hop limit.
        ttl: u8,
        /// Lowest accepted.
        min: u8,
        /// IPv6 (keepalived says "hop_limit").
        v6: bool,
    },
    /// A set but no authentication in use (§6.8.6).
    AuthUnexpected,
    /// The session is AdminDown (§6.8.6: discard).
    AdminDown,
}

/// How many reasons there are (size of the rate-limit table).
pub(crate) const REASONS: usize = 18;

/// How long one reason's log line stays quiet once logged (per counter scope), µs.
pub const LOG_INTERVAL_US: u64 = 60_000_000;

impl From<Invalid> for DropReason {
    fn from(i: Invalid) -> DropReason {
        match i {
            Invalid::Short { len } => DropReason::Short { len },
            Invalid::Version(v) => DropReason::Version(v),
            Invalid::Length { length, buffer } => DropReason::Length { length, buffer },
            Invalid::AuthLength { auth_type, auth_len } => DropReason::AuthLength { auth_type, auth_len },
            Invalid::AuthType(t) => DropReason::AuthType(t),
            Invalid::DetectMultZero => DropReason::DetectMultZero,
            Invalid::Multipoint => DropReason::Multipoint,
            Invalid::MyDiscrZero => DropReason::MyDiscrZero,
            Invalid::YourDiscrZero(_) => DropReason::YourDiscrZero,
            Invalid::PollAndFinal => DropReason::PollAndFinal,
            Invalid::Diag(d) => DropReason::Diag(d),
        }
    }
}

impl DropReason {
    /// The counter name (key of [`Counters::drops`]).
    pub const fn name(self) -> &'static str {
        match self {
            DropReason::Short { .. } => "short",
            DropReason::Version(_) => "version",
            DropReason::Length { .. } => "length",
            DropReason::AuthLength { .. } => "auth_length",
            DropReason::AuthType(_) => "auth_type",
            DropReason::DetectMultZero => "detect_mult_zero",
            DropReason::Multipoint => "multipoint",
            DropReason::MyDiscrZero => "my_discr_zero",
            DropReason::YourDiscrZero => "your_discr_zero",
            DropReason::PollAndFinal => "poll_and_final",
            DropReason::Diag(_) => "diag",
            DropReason::UnknownDiscr(_) => "unknown_discr",
            DropReason::UnknownNeighbor => "unknown_neighbor",
            DropReason::NeighborMismatch => "neighbor_mismatch",
            DropReason::ModeMismatch { .. } => "mode_mismatch",
            DropReason::Ttl { .. } => "ttl",
            DropReason::AuthUnexpected => "auth_unexpected",
            DropReason::AdminDown => "admin_down",
        }
    }

    const fn index(self) -> usize {
        match self {
            DropReason::Short { .. } => 0,
            DropReason::Version(_) => 1,
            DropReason::Length { .. } => 2,
            DropReason::AuthLength { .. } => 3,
            DropReason::AuthType(_) => 4,
            DropReason::DetectMultZero => 5,
            DropReason::Multipoint => 6,
            DropReason::MyDiscrZero => 7,
            DropReason::YourDiscrZero => 8,
            DropReason::PollAndFinal => 9,
            DropReason::Diag(_) => 10,
            DropReason::UnknownDiscr(_) => 11,
            DropReason::UnknownNeighbor => 12,
            DropReason::NeighborMismatch => 13,
            DropReason::ModeMismatch { .. } => 14,
            DropReason::Ttl { .. } => 15,
            DropReason::AuthUnexpected => 16,
            DropReason::AdminDown => 17,
        }
    }

    /// A packet-sanity check: keepalived follows its line with "Discarding bogus packet from …".
    const fn is_sanity(self) -> bool {
        self.index() <= 10
    }

    /// The log line (keepalived 2.2.7's text where it has one) and its level.
    fn log(self, src: SocketAddr) -> (&'static str, String) {
        let from = pair(src);
        let text = match self {
            DropReason::Short { len } => format!("Packet is too small: {len} bytes"),
            DropReason::Length { length, buffer } => {
                format!("Packet size mismatch: length field: {length} bytes, buffer size: {buffer} bytes")
            }
            DropReason::Version(v) => format!("Packet is of unsupported version: {v}"),
            DropReason::AuthLength { auth_type, auth_len } => {
                format!("Packet authentication section length {auth_len} does not fit auth type {auth_type}")
            }
            DropReason::AuthType(t) => format!("Packet has unknown authentication type {t}"),
            DropReason::DetectMultZero => "Packet 'detection multiplier' field is zero".into(),
            DropReason::Multipoint => "Packet has 'multipoint' flag".into(),
            DropReason::MyDiscrZero => "Packet 'my discriminator' field is zero".into(),
            DropReason::YourDiscrZero => {
                "Packet 'your discriminator' field is zero and 'state' field is not Down or AdminDown".into()
            }
            DropReason::PollAndFinal => "Packet has both poll and final  flags set".into(),
            DropReason::Diag(d) => format!("Packet has invalid 'diag' field: {d}"),
            DropReason::UnknownDiscr(d) => {
                format!("Discarding packet from {from} (session is not found - your discriminator field is 0x{d:08x})")
            }
            DropReason::UnknownNeighbor => {
                format!("Discarding packet from {from} (session is not found - your discriminator field is 0x00000000)")
            }
            DropReason::NeighborMismatch => {
                format!("Discarding packet from {from} (source is not the session's neighbor)")
            }
            DropReason::ModeMismatch { multihop: true } => {
                format!("Discarding packet from {from} (multihop packet for a single hop session)")
            }
            DropReason::ModeMismatch { multihop: false } => {
                format!("Discarding packet from {from} (single hop packet for a multihop session)")
            }
            DropReason::Ttl { ttl, min, v6 } => {
                format!("Packet {}({ttl}) < {min} - discarding", if v6 { "hop_limit" } else { "ttl" })
            }
            DropReason::AuthUnexpected => {
                format!("Discarding packet from {from} (auth bit is set, but no authentication  is in use)")
            }
            DropReason::AdminDown => format!("Discarding packet from {from} (session is in AdminDown state)"),
        };
        (if matches!(self, DropReason::AdminDown) { "info" } else { "error" }, text)
    }
}

/// keepalived's `inet_sockaddrtopair`: `[addr]:port`.
pub(crate) fn pair(a: SocketAddr) -> String {
    format!("[{}]:{}", a.ip().to_canonical(), a.port())
}

/// When each reason last logged, for one counter scope.
#[derive(Clone, Debug, Default)]
pub(crate) struct LogLimit {
    last: [Option<Instant>; REASONS],
}

/// Counts `reason` in `counters` and logs it unless it logged for this scope within
/// [`LOG_INTERVAL_US`]. No allocation once a reason has been counted in a scope, unless it logs.
pub(crate) fn report(
    reason: DropReason,
    src: SocketAddr,
    now: Instant,
    counters: &mut Counters,
    limit: &mut LogLimit,
    out: &mut Vec<Action>,
) {
    match counters.drops.get_mut(reason.name()) {
        Some(n) => *n += 1,
        None => {
            counters.drops.insert(reason.name().to_string(), 1);
        }
    }
    let slot = &mut limit.last[reason.index()];
    if slot.is_some_and(|t| now.since(t) < LOG_INTERVAL_US) {
        return;
    }
    *slot = Some(now);
    let (level, text) = reason.log(src);
    out.push(Action::Log { level: level.into(), text });
    if reason.is_sanity() {
        out.push(Action::Log { level: "error".into(), text: format!("Discarding bogus packet from {}", pair(src)) });
    }
}
