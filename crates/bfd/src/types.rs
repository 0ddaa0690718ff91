//! Engine value types: virtual time, ids, inputs, actions, states and counters.
use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

/// A point in virtual time: microseconds since an arbitrary epoch chosen by the shell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Instant(pub u64);

impl Instant {
    /// `self + us`, saturating.
    pub const fn add_us(self, us: u64) -> Instant {
        Instant(self.0.saturating_add(us))
    }
    /// Microseconds from `earlier` to `self` (0 when `earlier` is later).
    pub const fn since(self, earlier: Instant) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

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
    /// The session went Up (`up`) or left Up: tell the VRRP/checker children.
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
