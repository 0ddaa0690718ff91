//! The BFD child's answer to the status socket (`keepalived --status`): each
//! session's neighbour, states, diagnostics, negotiated timers and how long
//! ago the peer was last heard, read from the engine (what the data dump
//! shows, as JSON).

use keepalived_bfd::{Engine, Instant, SessionId};
use serde_json::{json, Value};

/// `{"sessions": [...]}`; `now` is the engine's current time.
pub fn status(engine: &Engine, now: Instant) -> Value {
    let sessions: Vec<Value> = engine
        .config()
        .sessions
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let v = engine.session(SessionId(i))?;
            Some(json!({
                "name": s.name,
                "neighbor": s.neighbor.to_string(),
                "source": s.source.map(|a| a.to_string()),
                "multihop": s.multihop,
                "state": v.local_state.text(),
                "remote_state": v.remote_state.text(),
                "local_diag": v.local_diag.text(),
                "remote_diag": v.remote_diag.text(),
                "tx_interval_us": v.local_tx_intv_us,
                "detect_time_us": v.local_detect_time_us,
                "remote_multiplier": v.remote_mult,
                "last_seen_ago_us": v.last_seen.map(|t| now.since(t)),
                "tx": v.counters.tx,
                "rx": v.counters.rx,
                "dropped": v.counters.drops.values().sum::<u64>(),
            }))
        })
        .collect();
    json!({ "sessions": sessions })
}
