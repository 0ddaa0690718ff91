//! Scenario runner for the checker engine: a keepalived.conf, a timeline of inputs on a virtual clock and
//! scripted check outcomes; produces the action log (JSONL) and a final state snapshot.
//!
//! `input.jsonl` lines (comments `#`):
//! * `{"t":T,"input":INPUT}`: feed an [`Input`] at T (after the timers due up to T ran);
//! * `{"t":T,"health":{"checker":N,"result":OUTCOME}}`: from T on, every attempt of checker N is answered at
//!   once with OUTCOME (`null`: attempts stay outstanding, answer them with explicit inputs);
//! * `{"t":T,"reload":"FILE"}`: reload with the configuration FILE of the scenario directory;
//! * `{"t":T}`: just run the timers up to T (the end).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use keepalived_check::replay::ActionLine;
use keepalived_check::*;
use keepalived_config::{parse_str, ParseOptions};
use serde::{Deserialize, Serialize};

pub const SEED: u64 = 1;

#[derive(Clone, Debug, Deserialize)]
pub struct Health {
    pub checker: usize,
    pub result: Option<CheckOutcome>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Line {
    pub t: u64,
    #[serde(default)]
    pub input: Option<Input>,
    #[serde(default)]
    pub health: Option<Health>,
    #[serde(default)]
    pub reload: Option<String>,
}

pub fn parse_config(text: &str) -> keepalived_config::Config {
    parse_str("keepalived.conf", text, &ParseOptions::default()).config
}

pub fn engine_config(text: &str) -> EngineConfig {
    EngineConfig::from_config(&parse_config(text))
}

/// Runs a scenario: the engine, every action with its time.
pub struct Run {
    pub engine: Engine,
    pub actions: Vec<(Instant, Action)>,
    health: BTreeMap<usize, CheckOutcome>,
}

impl Run {
    pub fn new(config: &str) -> Run {
        Run { engine: Engine::new(engine_config(config), SEED), actions: Vec::new(), health: BTreeMap::new() }
    }

    /// Answers the attempts just started (from `first` on in the log) when a health script is set.
    fn respond(&mut self, now: Instant, mut first: usize) {
        let mut guard = 0;
        while first < self.actions.len() && guard < 100_000 {
            guard += 1;
            let end = self.actions.len();
            let starts: Vec<usize> = self.actions[first..end]
                .iter()
                .filter_map(|(_, a)| match a {
                    Action::StartCheck { checker } => Some(checker.0),
                    _ => None,
                })
                .collect();
            first = end;
            for c in starts {
                if let Some(r) = self.health.get(&c).cloned() {
                    self.feed(now, Input::CheckResult { checker: CheckerId(c), result: r });
                }
            }
        }
    }

    fn push(&mut self, now: Instant, out: Vec<Action>) {
        self.actions.extend(out.into_iter().map(|a| (now, a)));
    }

    /// Feeds one input at `now` (no timers), without answering.
    fn feed(&mut self, now: Instant, input: Input) {
        let mut out = Vec::new();
        self.engine.handle(now, input, &mut out);
        self.push(now, out);
    }

    /// Runs the timers due up to `until`, answering attempts.
    pub fn run_until(&mut self, until: Instant) {
        while let Some(due) = self.engine.poll_timeout() {
            if due > until {
                break;
            }
            let first = self.actions.len();
            let mut out = Vec::new();
            self.engine.handle_timeout(due, &mut out);
            self.push(due, out);
            self.respond(due, first);
        }
    }

    pub fn input(&mut self, now: Instant, input: Input) {
        self.run_until(now);
        let first = self.actions.len();
        self.feed(now, input);
        self.respond(now, first);
    }

    pub fn set_health(&mut self, checker: usize, result: Option<CheckOutcome>) {
        match result {
            Some(r) => self.health.insert(checker, r),
            None => self.health.remove(&checker),
        };
    }

    pub fn reload(&mut self, now: Instant, config: &str) {
        self.run_until(now);
        let first = self.actions.len();
        let mut out = Vec::new();
        let new = Engine::reload(&self.engine, engine_config(config), now, &mut out);
        self.engine = new;
        self.push(now, out);
        self.respond(now, first);
    }

    pub fn logs(&self) -> Vec<String> {
        self.actions
            .iter()
            .filter_map(|(_, a)| match a {
                Action::Log(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }
}

/// Runs a scenario directory; returns the expected-file text.
pub fn run_dir(dir: &Path) -> Result<String, String> {
    let conf = std::fs::read_to_string(dir.join("config.conf")).map_err(|e| format!("config.conf: {e}"))?;
    let input = std::fs::read_to_string(dir.join("input.jsonl")).map_err(|e| format!("input.jsonl: {e}"))?;
    let mut run = Run::new(&conf);
    for (n, text) in input.lines().enumerate() {
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let l: Line = serde_json::from_str(text).map_err(|e| format!("input.jsonl line {}: {e}", n + 1))?;
        let now = Instant(l.t);
        run.run_until(now);
        if let Some(h) = l.health {
            run.set_health(h.checker, h.result);
        }
        if let Some(i) = l.input {
            run.input(now, i);
        }
        if let Some(f) = l.reload {
            let c = std::fs::read_to_string(dir.join(&f)).map_err(|e| format!("{f}: {e}"))?;
            run.reload(now, &c);
        }
    }
    let mut s = String::new();
    for (t, a) in &run.actions {
        s.push_str(&serde_json::to_string(&ActionLine { t: t.0, action: a.clone() }).unwrap_or_default());
        s.push('\n');
    }
    s.push_str(&serde_json::to_string(&snapshot(&run.engine)).unwrap_or_default());
    s.push('\n');
    Ok(s)
}

#[derive(Serialize)]
pub struct RsSnap {
    pub name: String,
    pub alive: bool,
    pub set: bool,
    pub weight: i64,
    pub failed: u32,
}

#[derive(Serialize)]
pub struct VsSnap {
    pub name: String,
    pub alive: bool,
    pub quorum_up: bool,
    pub weight_sum: i64,
    pub sorry_active: bool,
    pub rs: Vec<RsSnap>,
}

#[derive(Serialize)]
pub struct CkSnap {
    pub id: usize,
    pub name: String,
    pub up: bool,
    pub has_run: bool,
    pub retry_it: u32,
    pub enabled: bool,
    pub next_run: Option<u64>,
}

#[derive(Serialize)]
pub struct Snapshot {
    pub phase: Phase,
    pub vs: Vec<VsSnap>,
    pub checkers: Vec<CkSnap>,
    pub counters: Counters,
}

/// The final state line of a golden.
pub fn snapshot(e: &Engine) -> Snapshot {
    let cfg = e.config();
    let vs = cfg
        .virtual_servers
        .iter()
        .enumerate()
        .map(|(v, vc)| {
            let st = e.vs_state(VsId(v)).cloned().unwrap_or_default();
            let rs = vc
                .real_servers
                .iter()
                .enumerate()
                .map(|(r, rc)| {
                    let d = e.rs_state(RsId { vs: VsId(v), rs: r }).cloned().unwrap_or_default();
                    RsSnap {
                        name: rc.name.clone(),
                        alive: d.alive,
                        set: d.set,
                        weight: d.effective_weight,
                        failed: d.num_failed,
                    }
                })
                .collect();
            VsSnap {
                name: vc.name.clone(),
                alive: st.alive,
                quorum_up: st.quorum_up,
                weight_sum: e.weight_sum(VsId(v)),
                sorry_active: st.sorry_active(),
                rs,
            }
        })
        .collect();
    let checkers = cfg
        .checkers
        .iter()
        .enumerate()
        .map(|(c, cc)| {
            let st = e.checker(CheckerId(c)).cloned().unwrap_or_default();
            CkSnap {
                id: c,
                name: cc.name.clone(),
                up: st.is_up,
                has_run: st.has_run,
                retry_it: st.retry_it,
                enabled: st.enabled,
                next_run: st.next_run.map(|t| t.0),
            }
        })
        .collect();
    Snapshot { phase: e.phase(), vs, checkers, counters: *e.counters() }
}
