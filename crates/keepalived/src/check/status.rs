//! The checker child's answer to the status socket (`keepalived --status`):
//! each virtual server's quorum and sorry server, each real server's state
//! and weight, read from the engine (the live state the data dump shows), and the kernel's IPVS
//! counters of each (summed over a group's services).

use keepalived_check::{real_weight, Engine, RsId, VsId};
use keepalived_netlink::ipvs::Stats;
use serde_json::{json, Value};
use std::collections::HashMap;

/// The IPVS counters of the virtual servers and real servers, by index.
#[derive(Default)]
pub struct IpvsCounters {
    pub vs: HashMap<usize, Stats>,
    /// (virtual server, real server) → counters, active and inactive connections.
    pub rs: HashMap<(usize, usize), (Stats, u64, u64)>,
}

/// Adds `b` to `a` (a group's services, a real server in several of them).
pub fn add_stats(a: &mut Stats, b: &Stats) {
    a.conns += b.conns;
    a.inpkts += b.inpkts;
    a.outpkts += b.outpkts;
    a.inbytes += b.inbytes;
    a.outbytes += b.outbytes;
}

fn stats_json(s: &Stats) -> Value {
    json!({ "conns": s.conns, "inpkts": s.inpkts, "outpkts": s.outpkts, "inbytes": s.inbytes, "outbytes": s.outbytes })
}

/// `{"virtual_servers": [...]}`.
pub fn status(engine: &Engine, counters: Option<&IpvsCounters>) -> Value {
    let cfg = engine.config();
    let vss: Vec<Value> =
        cfg.virtual_servers.iter().enumerate().map(|(i, vs)| vs_status(engine, VsId(i), vs, counters)).collect();
    json!({ "virtual_servers": vss })
}

fn vs_status(engine: &Engine, id: VsId, vs: &keepalived_check::VsConfig, counters: Option<&IpvsCounters>) -> Value {
    let st = engine.vs_state(id);
    let rss: Vec<Value> = vs
        .real_servers
        .iter()
        .enumerate()
        .map(|(r, rs)| {
            let d = engine.rs_state(RsId { vs: id, rs: r });
            let ipvs = counters.and_then(|c| c.rs.get(&(id.0, r))).map(|(s, active, inactive)| {
                let mut v = stats_json(s);
                v["active_conns"] = json!(active);
                v["inactive_conns"] = json!(inactive);
                v
            });
            json!({
                "name": rs.name,
                "alive": d.is_some_and(|d| d.alive),
                "in_ipvs": d.is_some_and(|d| d.set),
                "weight": d.map_or(rs.weight, |d| real_weight(d.effective_weight)),
                "configured_weight": rs.weight,
                "checkers": rs.checkers.len(),
                "failed_checkers": d.map_or(0, |d| d.num_failed),
                "ipvs": ipvs,
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
        "ipvs": counters.and_then(|c| c.vs.get(&id.0)).map(stats_json),
    })
}
