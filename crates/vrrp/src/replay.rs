//! Deterministic replay of the engine's JSONL event log.
//!
//! A run of one [`Router`] is fully determined by its configuration and the timestamped inputs it was fed:
//! timers are not logged, they are re-derived from [`Router::poll_timeout`]. The driving discipline, used by
//! the simulator, the conformance goldens and [`replay`] alike, is:
//!
//! * before an input at time `t`, every timer due at or before `t` runs, each at its own due time
//!   ([`run_timers`]);
//! * then the input is handled at `t`.
//!
//! One log line is one [`LogLine`] as JSON: `{"t":1000000,"input":"Start"}`. A line without `input`
//! (`{"t":9000000}`) only runs the timers up to `t` (the end of a run). Blank lines and lines starting with
//! `#` are comments.
use std::io::BufRead;

use serde::{Deserialize, Serialize};

use crate::router::Router;
use crate::types::{Action, Input, Instant};

/// One line of the JSONL event log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// Virtual time in µs.
    pub t: u64,
    /// The input fed at `t`; `None`: only run the timers due up to `t`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Input>,
}

/// One line of an expected-actions file: `{"t":3609375,"action":{"SendAdvert":{...}}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionLine {
    /// Virtual time in µs at which the engine emitted the action.
    pub t: u64,
    /// The action.
    pub action: Action,
}

/// Why an event log could not be replayed.
#[derive(Debug)]
pub enum ReplayError {
    /// The log could not be read.
    Io(std::io::Error),
    /// A line that is not a [`LogLine`] (1-based line number).
    Parse {
        /// 1-based line number.
        line: usize,
        /// What the JSON parser said.
        error: String,
    },
    /// Time went backwards (1-based line number).
    TimeTravel {
        /// 1-based line number.
        line: usize,
        /// The line's time (µs).
        t: u64,
        /// The previous line's later time (µs).
        previous: u64,
    },
    /// The configuration could not be turned into an engine.
    Config(crate::config::ConfigError),
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayError::Io(e) => write!(f, "reading the event log: {e}"),
            ReplayError::Parse { line, error } => write!(f, "line {line}: {error}"),
            ReplayError::TimeTravel { line, t, previous } => {
                write!(f, "line {line}: time {t} is before the previous event at {previous}")
            }
            ReplayError::Config(e) => write!(f, "configuration: {e}"),
        }
    }
}

impl std::error::Error for ReplayError {}

impl From<std::io::Error> for ReplayError {
    fn from(e: std::io::Error) -> Self {
        ReplayError::Io(e)
    }
}

/// Runs every timer of `router` due at or before `until`, each at its own due time, appending the actions
/// with their time to `log`. `scratch` is a reusable buffer.
pub fn run_timers(router: &mut Router, until: Instant, scratch: &mut Vec<Action>, log: &mut Vec<(Instant, Action)>) {
    while let Some(due) = router.poll_timeout() {
        if due > until {
            break;
        }
        scratch.clear();
        router.handle_timeout(due, scratch);
        log.extend(scratch.drain(..).map(|a| (due, a)));
    }
}

/// Parses a JSONL event log (comments and blank lines skipped).
pub fn parse_log(events: impl BufRead) -> Result<Vec<LogLine>, ReplayError> {
    let mut lines = Vec::new();
    let mut previous = 0;
    for (n, line) in events.lines().enumerate() {
        let line = line?;
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let l: LogLine =
            serde_json::from_str(text).map_err(|e| ReplayError::Parse { line: n + 1, error: e.to_string() })?;
        if l.t < previous {
            return Err(ReplayError::TimeTravel { line: n + 1, t: l.t, previous });
        }
        previous = l.t;
        lines.push(l);
    }
    Ok(lines)
}

/// Replays parsed log lines on `router`; returns every action with the time it was produced.
pub fn replay_lines(router: &mut Router, lines: &[LogLine]) -> Vec<(Instant, Action)> {
    let mut out = Vec::new();
    let mut scratch = Vec::new();
    for l in lines {
        let now = Instant(l.t);
        run_timers(router, now, &mut scratch, &mut out);
        if let Some(input) = &l.input {
            scratch.clear();
            router.handle(now, input.clone(), &mut scratch);
            out.extend(scratch.drain(..).map(|a| (now, a)));
        }
    }
    out
}

/// Replays a JSONL event log on a fresh engine built from `config`.
pub fn replay(config: &keepalived_config::Config, events: impl BufRead) -> Result<Vec<(Instant, Action)>, ReplayError> {
    let mut router = Router::from_config(config).map_err(ReplayError::Config)?;
    let lines = parse_log(events)?;
    Ok(replay_lines(&mut router, &lines))
}

/// Serialises log lines as JSONL.
pub fn write_log(lines: &[LogLine]) -> String {
    let mut s = String::new();
    for l in lines {
        s.push_str(&serde_json::to_string(l).unwrap_or_default());
        s.push('\n');
    }
    s
}

/// Serialises timestamped actions as JSONL ([`ActionLine`]s).
pub fn write_actions(actions: &[(Instant, Action)]) -> String {
    let mut s = String::new();
    for (t, a) in actions {
        s.push_str(&serde_json::to_string(&ActionLine { t: t.0, action: a.clone() }).unwrap_or_default());
        s.push('\n');
    }
    s
}
