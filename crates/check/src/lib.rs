//! keepalived-rs checker engine: keepalived 2.2.7's health-checking and real-server semantics as a
//! sans-IO state machine.
//!
//! The shell (the Linux checker child) feeds [`Input`]s with the current virtual time ([`Instant`], µs) to
//! [`Engine::handle`], asks [`Engine::poll_timeout`] when the next checker is due and calls
//! [`Engine::handle_timeout`] then. Every call appends [`Action`]s to a caller-provided `Vec`: attempts to
//! run ([`Action::StartCheck`], answered later by [`Input::CheckResult`]), IPVS changes, notifications and
//! log lines with keepalived's texts. No sockets, no processes, no clock; randomness (warmup) comes from a
//! seed.
//!
//! Checkers are opaque: the engine knows their ids, timers and epilog family ([`Policy`]); how an attempt
//! is made (TCP connect, HTTP GET, script…) is the shell's business, from the model checker at
//! [`CheckerConfig::model_index`].
pub mod config;
pub mod engine;
mod epilog;
mod http;
mod misc;
pub mod names;
mod quorum;
mod real_server;
pub mod reload;
pub mod replay;
mod rng;
mod scheduling;
mod shutdown;
pub mod startup;
pub mod state;
mod suspend;
pub mod tracking;
pub mod types;

pub use config::{
    CheckerConfig, EngineConfig, FlushOnStop, Forwarding, Options, Policy, RsConfig, ServiceParams, SorryConfig,
    VsConfig, VsKey,
};
pub use engine::{real_weight, Engine};
pub use state::{CheckerState, DestState, Phase, VsState};
pub use types::{Action, AlertAbout, CheckOutcome, CheckerId, Counters, Dest, Input, Instant, RsId, VsId};
