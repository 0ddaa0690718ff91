//! keepalived-rs BFD engine: RFC 5880 asynchronous-mode sessions (RFC 5881 single hop, RFC 5883
//! multihop) as a sans-IO state machine, with keepalived 2.2.7's behaviour where the RFC leaves room
//! and the RFC's where keepalived departs from it (see docs/compat.md).
//!
//! The shell (the Linux BFD child) feeds [`Input`]s with the current virtual time ([`Instant`], µs) to
//! [`Engine::handle`], asks [`Engine::poll_timeout`] when the next timer is due and calls
//! [`Engine::handle_timeout`] then. Every call appends [`Action`]s to a caller-provided `Vec`. No
//! sockets, no clock; randomness (discriminators, jitter) comes from a seed.
//!
//! # Contract with the shell
//! * One session per enabled `bfd_instance` ([`SessionId`] = index in [`EngineConfig::sessions`]).
//! * The shell opens the session's sending socket (source address and port, TTL/hop limit from
//!   [`SessionConfig`]) and sends every [`Action::Send`] on it at once.
//! * Every datagram received on the BFD ports is fed as [`Input::Packet`] (or, without copying, to
//!   [`Engine::handle_packet`]) with its source, local (destination) address and received TTL/hop
//!   limit (0 when unknown: the TTL check is then skipped, as keepalived does); the engine
//!   validates, demultiplexes and counts ([`DropReason`]).
//! * [`Action::Event`] is a session entering Up or leaving Up: the shell forwards it to the VRRP
//!   and/or checker children as its `to_vrrp`/`to_checker` say. A session leaving Up because the
//!   peer signalled AdminDown gives no event (RFC 5882 §3.2, keepalived `bfd_state_fall`). The
//!   engine sends no event at start or reload: keepalived's child sends every session's current
//!   state then (`bfd_register_workers`), which the shell can do from [`Engine::session`].
//! * [`Engine::reload`] returns the engine for the new configuration, keeping the state of sessions
//!   that survive (matched by name, neighbour and multihop). Sessions that disappear send AdminDown
//!   at once, with their index in the OLD configuration as [`SessionId`].
//! * [`Input::Shutdown`] ends every session (AdminDown, diag 7, sent at once).
#![warn(missing_docs)]
pub mod config;
pub mod drop;
pub mod engine;
#[doc(hidden)]
pub mod fuzzing;
pub mod replay;
mod rng;
mod session;
pub mod types;

pub use config::{EngineConfig, SessionConfig};
pub use drop::DropReason;
pub use engine::{Engine, SessionView};
pub use types::{Action, Counters, Diag, Input, Instant, SessionId, State};
