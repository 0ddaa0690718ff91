//! Scenario runner for the BFD engine: one or two engines (nodes `a` and `b`, configured by `a.conf`
//! and `b.conf` of the scenario directory) on one virtual clock, every packet one sends delivered to
//! the other after [`LINK_DELAY_US`]; produces the action log (JSONL) and a final snapshot.
//!
//! Node addresses: `a` is the `neighbor_ip` of b's first session, `b` that of a's first session.
//! Packets arrive from port 49152 + the sender's session index, to the receiver's address, with TTL
//! 255 unless a `ttl` line says otherwise.
//!
//! `input.jsonl` lines (comments `#`):
//! * `{"t":T,"node":"a","input":INPUT}`: feed an [`Input`] to a node at T (`node` defaults to `a`);
//! * `{"t":T,"node":"b","freeze":true}`: the node stops (SIGSTOP): no timers run, packets to it are
//!   lost; `false` resumes it (its overdue timers run at once);
//! * `{"t":T,"link":false}`: packets between the nodes are lost until `{"t":T,"link":true}`;
//! * `{"t":T,"node":"a","ttl":254}`: a's packets now arrive at b with that TTL;
//! * `{"t":T,"node":"a","reload":"FILE"}`: reload a node with FILE of the scenario directory;
//! * `{"t":T}`: run everything up to T (the end).
//!
//! The log has one line per action: `{"t":…,"node":"a","send":{decoded packet}}` for a packet,
//! `{"t":…,"node":"a","action":…}` for the rest, then one `{"final":…}` line per node with every
//! session's [`SessionView`] and the global drop counters.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use keepalived_bfd::replay::parse_jsonl;
use keepalived_bfd::*;
use keepalived_config::{parse_str, ParseOptions};
use keepalived_wire::bfd as wire;
use serde::Deserialize;
use serde_json::{json, Value};

pub const SEED_A: u64 = 1;
pub const SEED_B: u64 = 2;
/// One-way delay between the nodes.
pub const LINK_DELAY_US: u64 = 100;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    pub t: u64,
    #[serde(default)]
    pub node: Option<String>,
    #[serde(default)]
    pub input: Option<Input>,
    #[serde(default)]
    pub freeze: Option<bool>,
    #[serde(default)]
    pub link: Option<bool>,
    #[serde(default)]
    pub ttl: Option<u8>,
    #[serde(default)]
    pub reload: Option<String>,
}

pub fn engine_config(text: &str) -> EngineConfig {
    EngineConfig::from_config(&parse_str("keepalived.conf", text, &ParseOptions::default()).config)
}

pub struct Node {
    pub engine: Option<Engine>,
    pub addr: Option<IpAddr>,
    pub frozen: bool,
    /// Fed Start (packets to a node not running are lost, as to a closed port).
    pub running: bool,
    /// TTL its packets arrive with.
    pub ttl: u8,
}

/// A packet in flight.
struct Flight {
    at: Instant,
    to: usize,
    input: Input,
}

pub struct Net {
    pub nodes: Vec<Node>,
    pub now: Instant,
    pub link: bool,
    in_flight: Vec<Flight>,
    /// (time, node, action)
    pub log: Vec<(Instant, usize, Action)>,
}

impl Net {
    /// One node (`b` empty) or two.
    pub fn new(a: EngineConfig, b: Option<EngineConfig>) -> Net {
        let addr_of = |c: &Option<EngineConfig>| c.as_ref().and_then(|c| c.sessions.first()).map(|s| s.neighbor);
        let a_addr = addr_of(&b);
        let b_addr = addr_of(&Some(a.clone()));
        let mk = |e: Option<Engine>, addr| Node { engine: e, addr, frozen: false, running: false, ttl: 255 };
        Net {
            nodes: vec![
                mk(Some(Engine::new(a, SEED_A)), a_addr),
                mk(b.map(|c| Engine::new(c, SEED_B)), if a_addr.is_some() { b_addr } else { None }),
            ],
            now: Instant(0),
            link: true,
            in_flight: Vec::new(),
            log: Vec::new(),
        }
    }

    pub fn engine(&self, n: usize) -> &Engine {
        self.nodes[n].engine.as_ref().expect("node")
    }

    /// Records `actions` of node `n` at `t` and puts its packets in flight.
    fn emit(&mut self, t: Instant, n: usize, actions: Vec<Action>) {
        for a in actions {
            if let Action::Send { session, dst, data } = &a {
                let peer = 1 - n;
                if self.link && self.nodes[peer].engine.is_some() && self.nodes[peer].addr == Some(dst.ip()) {
                    let src = SocketAddr::new(self.nodes[n].addr.unwrap_or(dst.ip()), 49152 + session.0 as u16);
                    self.in_flight.push(Flight {
                        at: t.add_us(LINK_DELAY_US),
                        to: peer,
                        input: Input::Packet {
                            src,
                            dst: Some(dst.ip()),
                            ttl: self.nodes[n].ttl,
                            multihop: dst.port() == wire::MULTIHOP_CONTROL_PORT,
                            data: data.clone(),
                        },
                    });
                }
            }
            self.log.push((t, n, a));
        }
    }

    pub fn feed(&mut self, n: usize, input: Input) {
        let now = self.now;
        let mut out = Vec::new();
        if input == Input::Start {
            self.nodes[n].running = true;
        }
        if let Some(e) = self.nodes[n].engine.as_mut() {
            e.handle(now, input, &mut out);
            // As the child does after every wake-up: what is due, and the packets that may leave
            // a little early, go now.
            e.handle_timeout(now, &mut out);
        }
        self.emit(now, n, out);
    }

    pub fn reload(&mut self, n: usize, cfg: EngineConfig) {
        let now = self.now;
        let mut out = Vec::new();
        let e = self.nodes[n].engine.take().expect("node");
        self.nodes[n].engine = Some(e.reload(cfg, now, &mut out));
        self.emit(now, n, out);
    }

    /// The next event at or before `until`: a delivery or a timer of a running node.
    fn next_event(&self, until: Instant) -> Option<(Instant, Option<usize>, usize)> {
        let mut best: Option<(Instant, Option<usize>, usize)> = None;
        for (i, f) in self.in_flight.iter().enumerate() {
            if f.at <= until && best.is_none_or(|b| f.at < b.0) {
                best = Some((f.at, Some(i), f.to));
            }
        }
        for (n, node) in self.nodes.iter().enumerate() {
            if node.frozen {
                continue;
            }
            if let Some(due) = node.engine.as_ref().and_then(Engine::poll_timeout) {
                let due = due.max(self.now);
                if due <= until && best.is_none_or(|b| due < b.0) {
                    best = Some((due, None, n));
                }
            }
        }
        best
    }

    /// Runs deliveries and timers up to `until`, in time order.
    pub fn run_until(&mut self, until: Instant) {
        let mut guard = 0u64;
        while let Some((t, flight, n)) = self.next_event(until) {
            guard += 1;
            assert!(guard < 10_000_000, "runaway simulation");
            self.now = t;
            match flight {
                Some(i) => {
                    let f = self.in_flight.remove(i);
                    if !self.nodes[f.to].frozen && self.nodes[f.to].running && self.link {
                        self.feed(f.to, f.input);
                    }
                }
                None => {
                    let mut out = Vec::new();
                    if let Some(e) = self.nodes[n].engine.as_mut() {
                        e.handle_timeout(t, &mut out);
                    }
                    self.emit(t, n, out);
                }
            }
        }
        self.now = until.max(self.now);
    }

    pub fn apply(&mut self, l: &Line, dir: &Path) -> Result<(), String> {
        self.run_until(Instant(l.t));
        let n = match l.node.as_deref() {
            None | Some("a") => 0,
            Some("b") => 1,
            Some(x) => return Err(format!("unknown node {x}")),
        };
        if let Some(f) = l.freeze {
            self.nodes[n].frozen = f;
        }
        if let Some(up) = l.link {
            self.link = up;
            if !up {
                self.in_flight.clear();
            }
        }
        if let Some(ttl) = l.ttl {
            self.nodes[n].ttl = ttl;
        }
        if let Some(file) = &l.reload {
            let text = std::fs::read_to_string(dir.join(file)).map_err(|e| format!("{file}: {e}"))?;
            self.reload(n, engine_config(&text));
        }
        if let Some(input) = &l.input {
            self.feed(n, input.clone());
        }
        Ok(())
    }

    /// The log as JSONL, packets decoded, then the final snapshot.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for (t, n, a) in &self.log {
            let node = ["a", "b"][*n];
            let v = match a {
                Action::Send { session, dst, data } => {
                    json!({"t": t.0, "node": node, "send": decode(session.0, *dst, data)})
                }
                other => json!({"t": t.0, "node": node, "action": other}),
            };
            s.push_str(&v.to_string());
            s.push('\n');
        }
        for (n, node) in self.nodes.iter().enumerate() {
            if let Some(e) = &node.engine {
                s.push_str(&json!({"final": snapshot(["a", "b"][n], e)}).to_string());
                s.push('\n');
            }
        }
        s
    }
}

/// A sent packet as a readable object.
pub fn decode(session: usize, dst: SocketAddr, data: &[u8]) -> Value {
    match wire::Repr::parse(&wire::Packet::new_unchecked(data)) {
        Ok(r) => json!({
            "session": session, "dst": dst.to_string(), "state": format!("{:?}", r.state), "diag": r.diag,
            "P": r.poll, "F": r.final_flag, "mult": r.detect_mult, "my": format!("{:08x}", r.my_discriminator),
            "your": format!("{:08x}", r.your_discriminator), "tx": r.desired_min_tx, "rx": r.required_min_rx,
        }),
        Err(e) => json!({"session": session, "invalid": e.to_string()}),
    }
}

/// Every session's view and the global counters of an engine.
pub fn snapshot(node: &str, e: &Engine) -> Value {
    let sessions: Vec<Value> = (0..e.config().sessions.len())
        .map(|i| serde_json::to_value(e.session(SessionId(i))).unwrap_or(Value::Null))
        .collect();
    json!({"node": node, "sessions": sessions, "global": e.global_counters()})
}

/// Runs a scenario directory; returns the rendered log.
pub fn run_dir(dir: &Path) -> Result<String, String> {
    let read = |f: &str| std::fs::read_to_string(dir.join(f));
    let a = read("a.conf").map_err(|e| format!("a.conf: {e}"))?;
    let b = read("b.conf").ok();
    let mut net = Net::new(engine_config(&a), b.as_deref().map(engine_config));
    let input = read("input.jsonl").map_err(|e| format!("input.jsonl: {e}"))?;
    let lines: Vec<Line> = parse_jsonl(input.as_bytes(), |l: &Line| l.t).map_err(|e| e.to_string())?;
    for l in &lines {
        net.apply(l, dir)?;
    }
    Ok(net.render())
}

/// A counter map with `(name, value)` pairs, for assertions.
pub fn drops(c: &Counters) -> BTreeMap<String, u64> {
    c.drops.clone()
}

/// Time of the first forged packet in the hostile scenarios.
pub const FORGERY_AT: u64 = 1_000_050;

/// A hostile scenario's log: from the first forged packet on, node a neither changes state nor
/// reports an event, and its final snapshot counts at least one drop.
pub fn no_change_after_forgery(rendered: &str) -> Result<(), String> {
    for line in rendered.lines() {
        let v: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        if let Some(f) = v.get("final") {
            if f["node"] == "a" {
                let count = |c: &Value| c["drops"].as_object().map_or(0, |m| m.len());
                let n = count(&f["global"])
                    + f["sessions"].as_array().map_or(0, |s| s.iter().map(|s| count(&s["counters"])).sum());
                if n == 0 {
                    return Err("no drop counted".into());
                }
            }
            continue;
        }
        if v["node"] != "a" || v["t"].as_u64().unwrap_or(0) < FORGERY_AT {
            continue;
        }
        let a = &v["action"];
        let entering = a["Log"]["text"].as_str().is_some_and(|t| t.contains("Entering"));
        if entering || a.get("Event").is_some() {
            return Err(format!("state change after the forged packet: {line}"));
        }
    }
    Ok(())
}
