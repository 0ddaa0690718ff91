//! Deterministic replay of the engine's JSONL event log: the [`keepalived_config::eventlog`] discipline (timers
//! due at or before an input's time run first, each at its own due time) applied to a [`Router`].
//!
//! One log line is one [`LogLine`] as JSON: `{"t":1000000,"input":"Start"}`. A line without `input`
//! (`{"t":9000000}`) only runs the timers up to `t` (the end of a run). Blank lines and lines starting with
//! `#` are comments.
use std::io::BufRead;

use crate::router::Router;
use crate::types::{Action, Input, Instant};

pub use keepalived_config::eventlog::{replay_lines, run_timers, write_actions, write_log};

/// One line of the JSONL event log.
pub type LogLine = keepalived_config::eventlog::LogLine<Input>;

/// One line of an expected-actions file: `{"t":3609375,"action":{"SendAdvert":{...}}}`.
pub type ActionLine = keepalived_config::eventlog::ActionLine<Action>;

/// Why an event log could not be replayed.
#[derive(Debug)]
pub enum ReplayError {
    /// The log could not be read or parsed.
    Log(keepalived_config::eventlog::ReplayError),
    /// The configuration could not be turned into an engine.
    Config(crate::config::ConfigError),
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayError::Log(e) => std::fmt::Display::fmt(e, f),
            ReplayError::Config(e) => write!(f, "configuration: {e}"),
        }
    }
}

impl std::error::Error for ReplayError {}

impl From<keepalived_config::eventlog::ReplayError> for ReplayError {
    fn from(e: keepalived_config::eventlog::ReplayError) -> Self {
        ReplayError::Log(e)
    }
}

impl keepalived_config::eventlog::Engine for Router {
    type Input = Input;
    type Action = Action;

    fn poll_timeout(&self) -> Option<Instant> {
        Router::poll_timeout(self)
    }
    fn handle_timeout(&mut self, now: Instant, out: &mut Vec<Action>) {
        Router::handle_timeout(self, now, out)
    }
    fn handle(&mut self, now: Instant, input: Input, out: &mut Vec<Action>) {
        Router::handle(self, now, input, out)
    }
}

/// Parses a JSONL event log (comments and blank lines skipped).
pub fn parse_log(events: impl BufRead) -> Result<Vec<LogLine>, ReplayError> {
    Ok(keepalived_config::eventlog::parse_log(events)?)
}

/// Replays a JSONL event log on a fresh engine built from `config`.
pub fn replay(config: &keepalived_config::Config, events: impl BufRead) -> Result<Vec<(Instant, Action)>, ReplayError> {
    let mut router = Router::from_config(config).map_err(ReplayError::Config)?;
    let lines = parse_log(events)?;
    Ok(replay_lines(&mut router, &lines))
}
