//! Deterministic replay of the engine's JSONL event log (the discipline of the VRRP and checker
//! engines):
//!
//! * before an input at time `t`, every timer due at or before `t` runs, each at its own due time
//!   ([`run_timers`]);
//! * then the input is handled at `t`.
//!
//! One log line is one [`LogLine`] as JSON: `{"t":1000000,"input":"Start"}`. A line without `input`
//! (`{"t":9000000}`) only runs the timers up to `t`. Blank lines and lines starting with `#` are
//! comments. The golden scenarios (crates/bfd/tests) extend this with a second engine on a shared
//! virtual clock.
use std::io::BufRead;

use serde::{Deserialize, Serialize};

use crate::engine::Engine;
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

/// One line of an expected-actions file: `{"t":1000000,"action":{"Log":{…}}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionLine {
    /// Virtual time in µs at which the engine emitted the action.
    pub t: u64,
    /// The action.
    pub action: Action,
}

/// Why an event log could not be read.
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
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayError::Io(e) => write!(f, "reading the event log: {e}"),
            ReplayError::Parse { line, error } => write!(f, "line {line}: {error}"),
            ReplayError::TimeTravel { line, t, previous } => {
                write!(f, "line {line}: time {t} is before the previous event at {previous}")
            }
        }
    }
}

impl std::error::Error for ReplayError {}

impl From<std::io::Error> for ReplayError {
    fn from(e: std::io::Error) -> Self {
        ReplayError::Io(e)
    }
}

/// Runs every timer of `engine` due at or before `until`, each at its own due time, appending the
/// actions with their time to `log`. `scratch` is a reusable buffer.
pub fn run_timers(engine: &mut Engine, until: Instant, scratch: &mut Vec<Action>, log: &mut Vec<(Instant, Action)>) {
    while let Some(due) = engine.poll_timeout() {
        if due > until {
            break;
        }
        scratch.clear();
        engine.handle_timeout(due, scratch);
        log.extend(scratch.drain(..).map(|a| (due, a)));
    }
}

/// Parses JSONL lines of any `T` (comments and blank lines skipped); `time` reads a line's time
/// so that time travel is refused.
pub fn parse_jsonl<T: serde::de::DeserializeOwned>(
    events: impl BufRead,
    time: impl Fn(&T) -> u64,
) -> Result<Vec<T>, ReplayError> {
    let mut lines = Vec::new();
    let mut previous = 0;
    for (n, line) in events.lines().enumerate() {
        let line = line?;
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let l: T = serde_json::from_str(text).map_err(|e| ReplayError::Parse { line: n + 1, error: e.to_string() })?;
        let t = time(&l);
        if t < previous {
            return Err(ReplayError::TimeTravel { line: n + 1, t, previous });
        }
        previous = t;
        lines.push(l);
    }
    Ok(lines)
}

/// Parses a JSONL event log (comments and blank lines skipped).
pub fn parse_log(events: impl BufRead) -> Result<Vec<LogLine>, ReplayError> {
    parse_jsonl(events, |l: &LogLine| l.t)
}

/// Replays parsed log lines on `engine`; returns every action with the time it was produced.
pub fn replay_lines(engine: &mut Engine, lines: &[LogLine]) -> Vec<(Instant, Action)> {
    let mut out = Vec::new();
    let mut scratch = Vec::new();
    for l in lines {
        let now = Instant(l.t);
        run_timers(engine, now, &mut scratch, &mut out);
        if let Some(input) = &l.input {
            scratch.clear();
            engine.handle(now, input.clone(), &mut scratch);
            out.extend(scratch.drain(..).map(|a| (now, a)));
        }
    }
    out
}

/// Replays a JSONL event log on `engine`.
pub fn replay(engine: &mut Engine, events: impl BufRead) -> Result<Vec<(Instant, Action)>, ReplayError> {
    let lines = parse_log(events)?;
    Ok(replay_lines(engine, &lines))
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
