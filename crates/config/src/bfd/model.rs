//! BFD instances (`bfd_instance NAME { … }`).
//!
//! keepalived parses a `bfd_instance` block in three processes, each with
//! its own view of it: the BFD process runs a session for it (after its own
//! checks), the VRRP process records its name and default `weight` for
//! `track_bfd`, and the checker process records its name for `BFD_CHECK`.
//! The three views can disagree (an instance without `neighbor_ip` is
//! disabled by the BFD process but still known to VRRP), so each instance
//! carries one flag per view; use [`BfdConfig::session`],
//! [`BfdConfig::vrrp_tracked`] and [`BfdConfig::checker_tracked`] to look
//! an instance up by name as the respective process would.
use crate::diag::Origin;
use crate::model::Weight;
use serde::Serialize;
use std::net::IpAddr;

/// Longest instance name plus one (keepalived `BFD_INAME_MAX`).
pub const BFD_INAME_MAX: usize = 32;
/// UDP port of single-hop BFD control packets (RFC 5881).
pub const BFD_CONTROL_PORT: u16 = 3784;
/// UDP port of multihop BFD control packets (RFC 5883).
pub const BFD_MULTIHOP_CONTROL_PORT: u16 = 4784;
/// Default outgoing TTL for IPv4 sessions.
pub const BFD_CONTROL_TTL: u8 = 255;
/// Default outgoing hop limit for IPv6 sessions.
pub const BFD_CONTROL_HOPLIMIT: u8 = 64;
/// Default `min_rx` / `min_tx` (10 ms), in microseconds.
pub const BFD_MIN_RX_TX_DEFAULT_US: u64 = 10_000;
/// Default `idle_tx` (1000 ms), in microseconds.
pub const BFD_IDLE_TX_DEFAULT_US: u64 = 1_000_000;
/// Default `multiplier`.
pub const BFD_MULTIPLIER_DEFAULT: u8 = 5;

#[derive(Clone, Debug, Default, Serialize)]
pub struct BfdConfig {
    /// Every `bfd_instance` block known to at least one process, in
    /// configuration order. The same name can appear twice when processes
    /// disagree (see the module documentation); prefer the lookup helpers.
    pub instances: Vec<BfdInstance>,
    /// Parser state (keepalived's `current_bfd` and friends).
    #[serde(skip)]
    pub(crate) parse: ParseState,
}

impl BfdConfig {
    /// The instance the BFD process runs a session for.
    pub fn session(&self, name: &str) -> Option<&BfdInstance> {
        self.instances.iter().find(|b| b.enabled && b.name == name)
    }
    /// The instance as the VRRP process knows it (`track_bfd NAME`).
    pub fn vrrp_tracked(&self, name: &str) -> Option<&BfdInstance> {
        self.instances.iter().find(|b| b.vrrp_tracked && b.name == name)
    }
    /// The instance as the checker process knows it (`BFD_CHECK NAME`).
    pub fn checker_tracked(&self, name: &str) -> Option<&BfdInstance> {
        self.instances.iter().find(|b| b.checker_tracked && b.name == name)
    }
    /// Instances the BFD process runs sessions for.
    pub fn sessions(&self) -> impl Iterator<Item = &BfdInstance> {
        self.instances.iter().filter(|b| b.enabled)
    }
}

/// `bfd_instance NAME { … }` (used by VRRP `track_bfd` and `BFD_CHECK`).
#[derive(Clone, Debug, Serialize)]
pub struct BfdInstance {
    /// The instance name (at most 31 bytes).
    pub name: String,
    /// Where the `bfd_instance` line is.
    pub origin: Origin,
    /// `neighbor_ip` / `neighbour_ip`: the peer. Required by the BFD process.
    pub neighbor: Option<IpAddr>,
    /// `source_ip`: the local address (same family as the neighbor);
    /// `None` lets the kernel choose.
    pub source: Option<IpAddr>,
    /// `min_rx` (milliseconds, 3 decimals): Required Min RX Interval, µs.
    pub min_rx_us: u64,
    /// `min_tx` (milliseconds, 3 decimals): Desired Min TX Interval, µs.
    pub min_tx_us: u64,
    /// `idle_tx` (milliseconds, 3 decimals): TX interval while not Up, µs.
    pub idle_tx_us: u64,
    /// `multiplier`: Detect Mult, 1..=255.
    pub multiplier: u8,
    /// `passive`: do not send until the peer has been heard.
    pub passive: bool,
    /// `ttl` / `hoplimit`: outgoing TTL or hop limit. While parsing 0 means
    /// unset; when the block closes an unset value becomes 255 (IPv4) or
    /// 64 (IPv6) for enabled instances.
    pub ttl: u8,
    /// `ttl` / `hoplimit` was given (keepalived-rs's IPv6 default differs
    /// from keepalived's 64: the BFD process needs to tell them apart).
    #[serde(skip)]
    pub ttl_configured: bool,
    /// `max_hops` (-1..=255, default 0): accept packets whose received TTL
    /// plus `max_hops` reaches `ttl`. Stored as keepalived stores it, in a
    /// byte: -1 becomes 255, which disables the check. When the block
    /// closes a value above `ttl` is clamped to `ttl` (so -1 is clamped too
    /// whenever `ttl` is below 255, as in keepalived).
    pub max_hops: u8,
    /// `multihop [BOOL]`: RFC 5883 multihop session (port 4784).
    pub multihop: bool,
    /// `weight N [reverse]` (VRRP process only): default weight for
    /// `track_bfd` lines that name this instance without a weight.
    pub weight: Weight,
    /// Send session events to the VRRP process (keepalived `bfd->vrrp`):
    /// true unless `checker` was given without `vrrp`.
    pub vrrp: bool,
    /// Send session events to the checker process (`bfd->checker`): true
    /// unless `vrrp` was given without `checker`.
    pub checker: bool,
    /// The `vrrp` keyword was given.
    pub vrrp_keyword: bool,
    /// The `checker` keyword was given.
    pub checker_keyword: bool,
    /// The BFD process accepted the instance and runs a session for it.
    pub enabled: bool,
    /// The VRRP process knows the instance (`track_bfd` may name it).
    pub vrrp_tracked: bool,
    /// The checker process knows the instance (`BFD_CHECK` may name it).
    pub checker_tracked: bool,
}

impl BfdInstance {
    /// A new instance with keepalived's defaults.
    pub fn new(name: &str, origin: Origin) -> BfdInstance {
        BfdInstance {
            name: name.to_string(),
            origin,
            neighbor: None,
            source: None,
            min_rx_us: BFD_MIN_RX_TX_DEFAULT_US,
            min_tx_us: BFD_MIN_RX_TX_DEFAULT_US,
            idle_tx_us: BFD_IDLE_TX_DEFAULT_US,
            multiplier: BFD_MULTIPLIER_DEFAULT,
            passive: false,
            ttl: 0,
            ttl_configured: false,
            max_hops: 0,
            multihop: false,
            weight: Weight::default(),
            vrrp: false,
            checker: false,
            vrrp_keyword: false,
            checker_keyword: false,
            enabled: false,
            vrrp_tracked: false,
            checker_tracked: false,
        }
    }

    /// The UDP port control packets are sent to.
    pub fn port(&self) -> u16 {
        if self.multihop {
            BFD_MULTIHOP_CONTROL_PORT
        } else {
            BFD_CONTROL_PORT
        }
    }
}

/// Which processes are still reading the current block (each keepalived
/// process may have rejected it at its `bfd_instance` line or later).
#[derive(Clone, Debug, Default)]
pub(crate) struct Current {
    pub bfd: bool,
    pub vrrp: bool,
    pub checker: bool,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct ParseState {
    /// The block being read (its instance is the last of `instances`).
    pub cur: Option<Current>,
    /// "neighbour" once keepalived's spelling switch has fired (it is sticky
    /// for the rest of the configuration).
    pub neighbour_spelling: bool,
}
