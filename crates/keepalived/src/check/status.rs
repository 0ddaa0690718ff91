//! The checker child's answer to the status socket (`keepalived --status`):
//! each virtual server's quorum and sorry server, each real server's state
//! and weight, read from the engine (the live state the data dump shows).

use keepalived_check::{real_weight, Engine, RsId, VsId};
use serde_json::{json, Value};

/// `{"virtual_servers": [...]}`.
pub fn status(engine: &Engine) -> Value {
    let cfg = engine.config();
    let vss: Vec<Value> =
        cfg.virtual_servers.iter().enumerate().map(|(i, vs)| vs_status(engine, VsId(i), vs)).collect();
    json!({ "virtual_servers": vss })
}

fn vs_status(engine: &Engine, id: VsId, vs: &keepalived_check::VsConfig) -> Value {
    let st = engine.vs_state(id);
    let rss: Vec<Value> = vs
        .real_servers
        .iter()
        .enumerate()
        .map(|(r, rs)| {
            let d = engine.rs_state(RsId { vs: id, rs: r });
            json!({
                "name": rs.name,
                "alive": d.is_some_and(|d| d.alive),
                "in_ipvs": d.is_some_and(|d| d.set),
                "weight": d.map_or(rs.weight, |d| real_weight(d.effective_weight)),
                "configured_weight": rs.weight,
                "checkers": rs.checkers.len(),
                "failed_checkers": d.map_or(0, |d| d.num_failed),
            })
        })
        .collect();
    json!({
        "name": vs.name,
        "alive": st.is_some_and(|s| s.alive),
        "quorum_up": st.is_some_and(|s| s.quorum_up),
        "quorum": vs.quorum,
        "hysteresis": vs.hysteresis,
        "live_weight": engine.weight_sum(id),
        "sorry_server_active": st.is_some_and(|s| s.sorry_active()),
        "real_servers": rss,
    })
}
