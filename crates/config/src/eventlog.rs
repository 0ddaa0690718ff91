//! Virtual time and deterministic replay of a sans-IO engine's JSONL event log, shared by the VRRP,
//! BFD and checker engines (each implements [`Engine`] and names the generic types with its own
//! input and action).
//!
//! A run of one engine is fully determined by its configuration and the timestamped inputs it was
//! fed: timers are not logged, they are re-derived from [`Engine::poll_timeout`]. The driving
//! discipline, used by the simulators, the conformance goldens and the replay tools alike, is:
//!
//! * before an input at time `t`, every timer due at or before `t` runs, each at its own due time
//!   ([`run_timers`]);
//! * then the input is handled at `t`.
//!
//! One log line is one [`LogLine`] as JSON: `{"t":1000000,"input":"Start"}`. A line without `input`
//! (`{"t":9000000}`) only runs the timers up to `t` (the end of a run). Blank lines and lines
//! starting with `#` are comments.
use std::io::BufRead;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

mod rng;
mod time;
pub use rng::Rng;
pub use time::Instant;

/// A sans-IO engine driven by virtual time: what replay needs of the VRRP router and the BFD and
/// checker engines.
pub trait Engine {
    /// One logged input.
    type Input: Clone;
    /// One action the engine asks its shell to perform.
    type Action;

    /// When the next timer is due, if any.
    fn poll_timeout(&self) -> Option<Instant>;
    /// Runs the timers due at `now`.
    fn handle_timeout(&mut self, now: Instant, out: &mut Vec<Self::Action>);
    /// Handles one input at `now`.
    fn handle(&mut self, now: Instant, input: Self::Input, out: &mut Vec<Self::Action>);
}

/// One line of the JSONL event log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
// `default` below is `Option`'s; without the bound serde would also ask `I: Default`.
#[serde(bound(deserialize = "I: Deserialize<'de>"))]
pub struct LogLine<I> {
    /// Virtual time in µs.
    pub t: u64,
    /// The input fed at `t`; `None`: only run the timers due up to `t`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<I>,
}

/// One line of an expected-actions file: `{"t":1000000,"action":…}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionLine<A> {
    /// Virtual time in µs at which the engine emitted the action.
    pub t: u64,
    /// The action.
    pub action: A,
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
pub fn run_timers<E: Engine>(
    engine: &mut E,
    until: Instant,
    scratch: &mut Vec<E::Action>,
    log: &mut Vec<(Instant, E::Action)>,
) {
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
pub fn parse_jsonl<T: DeserializeOwned>(events: impl BufRead, time: impl Fn(&T) -> u64) -> Result<Vec<T>, ReplayError> {
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
pub fn parse_log<I: DeserializeOwned>(events: impl BufRead) -> Result<Vec<LogLine<I>>, ReplayError> {
    parse_jsonl(events, |l: &LogLine<I>| l.t)
}

/// Replays parsed log lines on `engine`; returns every action with the time it was produced.
pub fn replay_lines<E: Engine>(engine: &mut E, lines: &[LogLine<E::Input>]) -> Vec<(Instant, E::Action)> {
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

/// Serialises log lines as JSONL.
pub fn write_log<I: Serialize>(lines: &[LogLine<I>]) -> String {
    let mut s = String::new();
    for l in lines {
        s.push_str(&serde_json::to_string(l).unwrap_or_default());
        s.push('\n');
    }
    s
}

/// Serialises timestamped actions as JSONL ([`ActionLine`]s).
pub fn write_actions<A: Serialize>(actions: &[(Instant, A)]) -> String {
    let mut s = String::new();
    for (t, a) in actions {
        s.push_str(&serde_json::to_string(&ActionLine { t: t.0, action: a }).unwrap_or_default());
        s.push('\n');
    }
    s
}
