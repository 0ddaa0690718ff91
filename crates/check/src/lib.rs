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
//!
//! # Contract with the shell
//! * Before [`Input::Start`]: feed each track_file's value ([`Input::FileValue`]) and, for `ha_suspend`
//!   virtual servers, each instance of the virtual address already on the system ([`Input::VsAddress`]).
//! * [`Action::StartCheck`]: run one attempt (HTTP_GET/SSL_GET: the URL at [`CheckerState::step`]), answer
//!   with exactly one [`Input::CheckResult`], however late; never run two attempts of one checker at once.
//!   [`Action::CancelCheck`]: kill the attempt, send no result.
//! * FILE_CHECK and BFD_CHECK are never started: push [`Input::FileValue`] / [`Input::Bfd`] on change.
//! * IPVS actions are keepalived's kernel commands after its inhibit rewriting (`ipvs_cmd`): execute them
//!   as they come (a failing command is only logged by the shell; the engine assumes success).
//! * [`Engine::reload`] returns the engine for the new configuration; actions about objects of the old one
//!   come wrapped in [`Action::Retired`] and use the old ids. New track_files / ha_suspend addresses must be
//!   fed after the reload.
//! * [`Input::Shutdown`] emits keepalived's `clear_services`; with `-I` (keep IPVS) keepalived skips it
//!   entirely, so the shell then drops everything but the `CancelCheck`s.
//!
//! # Deliberate differences from 2.2.7
//! * A weight-0 FILE_CHECK with `reverse` honours `reverse` at start and reload too (2.2.7 only on changes).
//! * A reload does not add-then-remove a real server kept out by a FILE_CHECK at fault.
//! * A reload's MISC migration gives a last exit status of 0 no dynamic weight (2.2.7 sets `-weight`).
#![warn(missing_docs)]
pub mod config;
pub mod dns;
pub mod engine;
mod epilog;
#[doc(hidden)]
pub mod fuzzing;
mod http;
pub mod http_response;
mod misc;
pub mod names;
pub mod ping;
mod quorum;
mod real_server;
pub mod reload;
pub mod replay;
mod rng;
mod scheduling;
mod shutdown;
pub mod smtp;
pub mod startup;
pub mod state;
mod suspend;
pub mod tracking;
pub mod types;
pub mod udp;

pub use config::{
    CheckerConfig, EngineConfig, FlushOnStop, Forwarding, Options, Policy, RsConfig, ServiceParams, SorryConfig,
    VsConfig, VsKey,
};
pub use engine::{real_weight, Engine};
pub use state::{CheckerState, DestState, Phase, VsState};
pub use types::{Action, AlertAbout, CheckOutcome, CheckerId, Counters, Dest, Input, Instant, RsId, VsId};
