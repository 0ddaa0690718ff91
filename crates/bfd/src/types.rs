//! Engine value types: virtual time, ids, inputs, actions, states and counters.
use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

/// A point in virtual time (shared by the engines and their event logs).
pub use keepalived_config::eventlog::Instant;

/// A session: its index in [`crate::EngineConfig::sessions`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SessionId(pub usize);

/// Session state (RFC 5880 §4.1 "Sta").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum State {
    /// 0
    AdminDown,
    /// 1
    Down,
    /// 2
    Init,
    /// 3
    Up,
}

impl State {
    /// keepalived's `BFD_STATE_STR`.
    pub const fn text(self) -> &'static str {
        match self {
            State::AdminDown => "AdminDown",
            State::Down => "Down",
            State::Init => "Init",
            State::Up => "Up",
        }
    }
    /// From the wire's Sta.
    pub const fn from_wire(s: keepalived_wire::bfd::State) -> State {
        use keepalived_wire::bfd::State as W;
        match s {
            W::AdminDown => State::AdminDown,
            W::Down => State::Down,
            W::Init => State::Init,
            W::Up => State::Up,
        }
    }
    /// To the wire's Sta.
    pub const fn to_wire(self) -> keepalived_wire::bfd::State {
        use keepalived_wire::bfd::State as W;
        match self {
            State::AdminDown => W::AdminDown,
            State::Down => W::Down,
            State::Init => W::Init,
            State::Up => W::Up,
        }
    }
}

/// Diagnostic code (RFC 5880 §4.1 "Diag").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Diag {
    /// 0 No Diagnostic
    None,
    /// 1 Control Detection Time Expired
    TimeExpired,
    /// 2 Echo Function Failed
    EchoFailed,
    /// 3 Neighbor Signaled Session Down
    NeighborDown,
    /// 4 Forwarding Plane Reset
    FwdPlaneReset,
    /// 5 Path Down
    PathDown,
    /// 6 Concatenated Path Down
    ConcatPathDown,
    /// 7 Administratively Down
    AdminDown,
    /// 8 Reverse Concatenated Path Down
    RevConcatPathDown,
}

impl Diag {
    /// The Diag value on the wire.
    pub const fn code(self) -> u8 {
        match self {
            Diag::None => 0,
            Diag::TimeExpired => 1,
            Diag::EchoFailed => 2,
            Diag::NeighborDown => 3,
            Diag::FwdPlaneReset => 4,
            Diag::PathDown => 5,
            Diag::ConcatPathDown => 6,
            Diag::AdminDown => 7,
            Diag::RevConcatPathDown => 8,
        }
    }
    /// From the wire (`None` above 8).
    pub const fn from_code(v: u8) -> Option<Diag> {
        Some(match v {
            0 => Diag::None,
            1 => Diag::TimeExpired,
            2 => Diag::EchoFailed,
            3 => Diag::NeighborDown,
            4 => Diag::FwdPlaneReset,
            5 => Diag::PathDown,
            6 => Diag::ConcatPathDown,
            7 => Diag::AdminDown,
            8 => Diag::RevConcatPathDown,
            _ => return None,
        })
    }
    /// keepalived's `BFD_DIAG_STR`.
    pub const fn text(self) -> &'static str {
        match self {
            Diag::None => "No Diagnostic",
            Diag::TimeExpired => "Control Detection Time Expired",
            Diag::EchoFailed => "Echo Function Failed",
            Diag::NeighborDown => "Neighbor Signaled Session Down",
            Diag::FwdPlaneReset => "Forwarding Plane Reset",
            Diag::PathDown => "Path Down",
            Diag::ConcatPathDown => "Concatenated Path Down",
            Diag::AdminDown => "Administratively Down",
            Diag::RevConcatPathDown => "Reverse Concatenated Path Down",
        }
    }
}

/// An input to the engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Input {
    /// The child starts: sessions begin (non-passive ones send at once).
    Start,
    /// A datagram received on a BFD port.
    Packet {
        /// Sender address and port.
        src: SocketAddr,
        /// Local (destination) address from IP_PKTINFO/IPV6_PKTINFO, if known.
        dst: Option<IpAddr>,
        /// Received TTL / hop limit (0: unknown).
        ttl: u8,
        /// Received on the multihop port (4784).
        multihop: bool,
        /// The UDP payload.
        #[serde(with = "hex_bytes")]
        data: Vec<u8>,
    },
    /// The sending socket of a session failed (keepalived: logs and retries).
    SendFailed {
        /// The session.
        session: SessionId,
    },
    /// The child stops: every session goes AdminDown (diag 7), sent at once.
    Shutdown,
}

/// What the engine asks the shell to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Send a control packet on the session's socket to `dst`.
    Send {
        /// The session.
        session: SessionId,
        /// Destination (neighbour, port 3784 or 4784).
        dst: SocketAddr,
        /// The encoded control packet.
        #[serde(with = "hex_bytes")]
        data: Vec<u8>,
    },
    /// The session went Up (`up`) or left Up (not when the peer signalled AdminDown, RFC 5882
    /// §3.2): tell the VRRP/checker children.
    Event {
        /// The session.
        session: SessionId,
        /// Instance name (what `track_bfd`/`BFD_CHECK` name).
        name: String,
        /// Up or not.
        up: bool,
        /// Forward to the VRRP child.
        to_vrrp: bool,
        /// Forward to the checker child.
        to_checker: bool,
    },
    /// A log line (keepalived's text), with its syslog severity.
    Log {
        /// `"info"`, `"warning"` or `"error"`.
        level: String,
        /// The text.
        text: String,
    },
}

/// Per-session counters (for dumps and tests): every receive check of RFC 5880 §6.8.6 has one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Packets sent.
    pub tx: u64,
    /// Packets accepted.
    pub rx: u64,
    /// Dropped by reason (see the engine's drop-reason enum), keyed by its name.
    pub drops: std::collections::BTreeMap<String, u64>,
}

/// Hex encoding of byte fields in the JSONL logs.
pub mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialize as lowercase hex.
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let hex: String = v.iter().map(|b| format!("{b:02x}")).collect();
        s.serialize_str(&hex)
    }

    /// Deserialize from hex.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        if s.len() % 2 != 0 {
            return Err(serde::de::Error::custom("odd hex length"));
        }
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap_or(""), 16).map_err(serde::de::Error::custom))
            .collect()
    }
}
