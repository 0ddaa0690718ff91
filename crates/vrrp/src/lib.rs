//! keepalived-rs VRRP engine: a sans-IO core (quinn-proto style).
//!
//! The shell feeds [`Input`]s with the current virtual time ([`Instant`], µs) to [`Router::handle`],
//! asks [`Router::poll_timeout`] when the next timer is due and calls [`Router::handle_timeout`] then.
//! Every call appends [`Action`]s (adverts to send, GARPs, address changes, notifies, log lines) to a
//! caller-provided, reusable `Vec`. No sockets, no clock, no allocation on the steady-state receive path.
#![warn(missing_docs)]
pub mod config;
pub mod decode;
pub mod drop;
#[doc(hidden)]
pub mod fuzzing;
pub mod replay;
pub mod router;
pub mod types;

pub use config::{
    AuthConfig, ConfigError, EngineOptions, InstanceConfig, Peer, RouterConfig, SyncGroupConfig, TrackRef,
};
pub use replay::{replay, LogLine, ReplayError};
pub use router::{Instance, Router, Transition, TransitionReason};
pub use types::{
    Action, AddrList, GroupId, Input, InstanceId, Instant, RxAdvert, RxAuth, ScriptExit, State, Stats, TrackKind,
};
