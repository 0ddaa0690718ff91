//! What the engine needs of each `bfd_instance`, taken from the configuration model.
use std::net::IpAddr;

use keepalived_config::model as m;
use serde::{Deserialize, Serialize};

/// One BFD session (one enabled `bfd_instance`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionConfig {
    /// Instance name.
    pub name: String,
    /// `neighbor_ip`.
    pub neighbor: IpAddr,
    /// `source_ip`, if any.
    pub source: Option<IpAddr>,
    /// `min_rx`, µs (Required Min RX Interval).
    pub min_rx_us: u32,
    /// `min_tx`, µs (Desired Min TX Interval while Up).
    pub min_tx_us: u32,
    /// `idle_tx`, µs (Desired Min TX Interval while not Up).
    pub idle_tx_us: u32,
    /// `multiplier` (Detect Mult).
    pub multiplier: u8,
    /// `passive`: send nothing until the peer has been heard.
    pub passive: bool,
    /// `ttl`/`hoplimit`: outgoing TTL or hop limit.
    pub ttl: u8,
    /// `max_hops`: accept a received TTL down to `ttl - max_hops` (255: no check).
    pub max_hops: u8,
    /// `multihop`: RFC 5883 session (destination port 4784).
    pub multihop: bool,
    /// Send events to the VRRP child.
    pub to_vrrp: bool,
    /// Send events to the checker child.
    pub to_checker: bool,
}

/// Every session the BFD child runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineConfig {
    /// Sessions in configuration order.
    pub sessions: Vec<SessionConfig>,
}

impl EngineConfig {
    /// The sessions of the BFD process's view of the configuration.
    pub fn from_config(cfg: &m::Config) -> EngineConfig {
        let sessions = cfg.bfd.sessions().filter_map(SessionConfig::from_instance).collect();
        EngineConfig { sessions }
    }
}

impl SessionConfig {
    /// The session of an enabled instance (`None` without a neighbour).
    pub fn from_instance(b: &m::bfd::BfdInstance) -> Option<SessionConfig> {
        let us = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        Some(SessionConfig {
            name: b.name.clone(),
            neighbor: b.neighbor?,
            source: b.source,
            min_rx_us: us(b.min_rx_us),
            min_tx_us: us(b.min_tx_us),
            idle_tx_us: us(b.idle_tx_us),
            multiplier: b.multiplier,
            passive: b.passive,
            ttl: b.ttl,
            max_hops: b.max_hops,
            multihop: b.multihop,
            to_vrrp: b.vrrp,
            to_checker: b.checker,
        })
    }
}
