//! Deterministic replay of the engine's JSONL event log: the [`keepalived_config::eventlog`] discipline (every
//! checker timer due at or before an input's time runs first, each at its own due time) applied to an
//! [`Engine`].
//!
//! One log line is one [`LogLine`] as JSON: `{"t":1000000,"input":"Start"}`. A line without `input`
//! (`{"t":9000000}`) only runs the timers up to `t`. Blank lines and lines starting with `#` are comments.
use std::io::BufRead;

use crate::engine::Engine;
use crate::types::{Action, Input, Instant};

pub use keepalived_config::eventlog::{replay_lines, run_timers, write_actions, ReplayError};

/// One line of the JSONL event log.
pub type LogLine = keepalived_config::eventlog::LogLine<Input>;

/// One line of an expected-actions file: `{"t":1000000,"action":{"StartCheck":{"checker":0}}}`.
pub type ActionLine = keepalived_config::eventlog::ActionLine<Action>;

impl keepalived_config::eventlog::Engine for Engine {
    type Input = Input;
    type Action = Action;

    fn poll_timeout(&self) -> Option<Instant> {
        Engine::poll_timeout(self)
    }
    fn handle_timeout(&mut self, now: Instant, out: &mut Vec<Action>) {
        Engine::handle_timeout(self, now, out)
    }
    fn handle(&mut self, now: Instant, input: Input, out: &mut Vec<Action>) {
        Engine::handle(self, now, input, out)
    }
}

/// Parses a JSONL event log (comments and blank lines skipped).
pub fn parse_log(events: impl BufRead) -> Result<Vec<LogLine>, ReplayError> {
    keepalived_config::eventlog::parse_log(events)
}

/// Replays a JSONL event log on a fresh engine built from `config` with `seed`.
pub fn replay(
    config: &keepalived_config::Config,
    seed: u64,
    events: impl BufRead,
) -> Result<Vec<(Instant, Action)>, ReplayError> {
    let mut engine = Engine::from_config(config, seed);
    let lines = parse_log(events)?;
    Ok(replay_lines(&mut engine, &lines))
}
