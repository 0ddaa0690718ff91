//! The metrics endpoint's rendering: the children's status documents (the
//! ones `keepalived --status` shows) turned into Prometheus series with
//! the `prometheus-client` crate.
//!
//! Names, labels and value encodings follow the most used keepalived
//! exporter (mehdy/keepalived-exporter) so that its dashboards and alerts
//! work unchanged: `keepalived_up`, `keepalived_vrrp_state{iname,intf,vrid,
//! ip_address}` (INIT 0, BACKUP 1, MASTER 2, FAULT 3), the per-instance
//! counters labelled `{iname,intf,vrid}`, `keepalived_script_status{name}`
//! (BAD 0, GOOD 1). What no exporter has is prefixed `keepalived_rs_`.
//!
//! Label values come from the configuration only (names, interfaces,
//! addresses), never from live state, so a reload of an unchanged
//! configuration keeps every label set.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

type Labels = Vec<(&'static str, String)>;
type Gauges = Family<Labels, Gauge>;
type FloatGauges = Family<Labels, Gauge<f64, AtomicU64>>;
type Counters = Family<Labels, Counter>;

/// What the parent itself knows: restarts and reloads.
#[derive(Default, Clone)]
pub struct Facts {
    /// Respawns of each child (`vrrp`, `checker`, `bfd`) since start.
    pub restarts: BTreeMap<&'static str, u64>,
    /// Reloads (SIGHUP) processed since start.
    pub reloads: u64,
    /// When the parent started, seconds since the epoch.
    pub start_time: f64,
    /// When the last reload finished, seconds since the epoch.
    pub last_reload_time: Option<f64>,
}

/// One child's part of a scrape: its document, or None when it did not
/// answer in time or is not running.
pub struct ChildDoc {
    pub key: &'static str,
    pub doc: Option<Value>,
}

/// The per-instance counters: (status key, exporter name, help).
const VRRP_COUNTERS: [(&str, &str, &str); 14] = [
    ("advert_rcvd", "keepalived_advertisements_received", "Advertisements received"),
    ("advert_sent", "keepalived_advertisements_sent", "Advertisements sent"),
    ("become_master", "keepalived_become_master", "Became master"),
    ("release_master", "keepalived_release_master", "Released master"),
    ("packet_len_err", "keepalived_packet_length_errors", "Packet length errors"),
    ("advert_interval_err", "keepalived_advertisements_interval_errors", "Advertisement interval errors"),
    ("ip_ttl_err", "keepalived_ip_ttl_errors", "TTL errors"),
    ("invalid_type_rcvd", "keepalived_invalid_type_received", "Invalid type errors"),
    ("addr_list_err", "keepalived_address_list_errors", "Address list errors"),
    ("invalid_authtype", "keepalived_authentication_invalid", "Authentication invalid"),
    ("authtype_mismatch", "keepalived_authentication_mismatch", "Authentication mismatch"),
    ("auth_failure", "keepalived_authentication_failure", "Authentication failure"),
    ("pri_zero_rcvd", "keepalived_priority_zero_received", "Priority zero received"),
    ("pri_zero_sent", "keepalived_priority_zero_sent", "Priority zero sent"),
];

/// The exporter's VRRP state numbers (keepalived's internal ones).
fn vrrp_state_number(name: &str) -> Option<i64> {
    match name {
        "INIT" => Some(0),
        "BACKUP" => Some(1),
        "MASTER" => Some(2),
        "FAULT" => Some(3),
        _ => None,
    }
}

/// BFD states as RFC 5880 numbers them.
fn bfd_state_number(name: &str) -> Option<i64> {
    match name {
        "AdminDown" => Some(0),
        "Down" => Some(1),
        "Init" => Some(2),
        "Up" => Some(3),
        _ => None,
    }
}

fn text(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn num(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// The families a scrape fills, registered in a fresh registry.
struct Families {
    up: Gauge,
    child_up: Gauges,
    restarts: Counters,
    reloads: Counter,
    start_time: FloatGauges,
    last_reload: FloatGauges,
    vrrp_state: Gauges,
    excluded_state: Gauges,
    counters: Vec<Counters>,
    script_status: Gauges,
    script_state: Gauges,
    rs_state: Gauges,
    rs_priority: Gauges,
    rs_transition: FloatGauges,
    group_state: Gauges,
    tracker_up: Gauges,
    vs_up: Gauges,
    vs_quorum_up: Gauges,
    vs_weight: Gauges,
    real_up: Gauges,
    real_weight: Gauges,
    vs_conns: Counters,
    vs_packets: Counters,
    vs_bytes: Counters,
    real_conns: Counters,
    real_packets: Counters,
    real_bytes: Counters,
    real_active: Gauges,
    real_inactive: Gauges,
    bfd_state: Gauges,
    bfd_packets: Counters,
}

impl Families {
    fn new(reg: &mut Registry) -> Families {
        let f = Families {
            up: Gauge::default(),
            child_up: Gauges::default(),
            restarts: Counters::default(),
            reloads: Counter::default(),
            start_time: FloatGauges::default(),
            last_reload: FloatGauges::default(),
            vrrp_state: Gauges::default(),
            excluded_state: Gauges::default(),
            counters: VRRP_COUNTERS.iter().map(|_| Counters::default()).collect(),
            script_status: Gauges::default(),
            script_state: Gauges::default(),
            rs_state: Gauges::default(),
            rs_priority: Gauges::default(),
            rs_transition: FloatGauges::default(),
            group_state: Gauges::default(),
            tracker_up: Gauges::default(),
            vs_up: Gauges::default(),
            vs_quorum_up: Gauges::default(),
            vs_weight: Gauges::default(),
            real_up: Gauges::default(),
            real_weight: Gauges::default(),
            vs_conns: Counters::default(),
            vs_packets: Counters::default(),
            vs_bytes: Counters::default(),
            real_conns: Counters::default(),
            real_packets: Counters::default(),
            real_bytes: Counters::default(),
            real_active: Gauges::default(),
            real_inactive: Gauges::default(),
            bfd_state: Gauges::default(),
            bfd_packets: Counters::default(),
        };
        f.register(reg);
        f
    }

    fn register(&self, reg: &mut Registry) {
        reg.register("keepalived_up", "Status", self.up.clone());
        reg.register("keepalived_vrrp_state", "State of vrrp", self.vrrp_state.clone());
        let excluded = self.excluded_state.clone();
        reg.register("keepalived_vrrp_excluded_state", "State of vrrp with excluded VIP", excluded);
        for ((_, name, help), fam) in VRRP_COUNTERS.iter().zip(&self.counters) {
            reg.register(*name, *help, fam.clone());
        }
        reg.register("keepalived_script_status", "Tracker Script Status", self.script_status.clone());
        reg.register("keepalived_script_state", "Tracker Script State", self.script_state.clone());
        self.register_ours(reg);
    }

    fn register_ours(&self, reg: &mut Registry) {
        macro_rules! ours {
            ($name:literal, $help:literal, $m:expr) => {
                reg.register(concat!("keepalived_rs_", $name), $help, $m.clone())
            };
        }
        ours!("child_up", "Child process answered this scrape (1) or not (0)", self.child_up);
        ours!("child_restarts", "Child process respawns since the daemon started", self.restarts);
        ours!("reloads", "Configuration reloads since the daemon started", self.reloads);
        ours!("start_time_seconds", "When the daemon started (Unix time)", self.start_time);
        ours!(
            "last_reload_timestamp_seconds",
            "When the last reload finished (Unix time; 0 before any)",
            self.last_reload
        );
        ours!("vrrp_instance_state", "VRRP instance state (INIT 0, BACKUP 1, MASTER 2, FAULT 3)", self.rs_state);
        ours!("vrrp_effective_priority", "VRRP instance effective priority", self.rs_priority);
        ours!("vrrp_last_transition_timestamp_seconds", "Last state change (Unix time)", self.rs_transition);
        ours!("vrrp_sync_group_state", "Sync group state (INIT 0, BACKUP 1, MASTER 2, FAULT 3)", self.group_state);
        ours!("vrrp_tracker_up", "Tracked object state per instance (1 up, 0 down)", self.tracker_up);
        ours!("virtual_server_up", "Virtual server alive", self.vs_up);
        ours!("virtual_server_quorum_up", "Virtual server quorum reached", self.vs_quorum_up);
        ours!("virtual_server_live_weight", "Sum of the weights of the live real servers", self.vs_weight);
        ours!("real_server_up", "Real server alive", self.real_up);
        ours!("real_server_weight", "Real server effective weight", self.real_weight);
        ours!("virtual_server_connections", "IPVS connections to the virtual server", self.vs_conns);
        ours!("virtual_server_packets", "IPVS packets of the virtual server by direction", self.vs_packets);
        ours!("virtual_server_bytes", "IPVS bytes of the virtual server by direction", self.vs_bytes);
        ours!("real_server_connections", "IPVS connections to the real server", self.real_conns);
        ours!("real_server_packets", "IPVS packets of the real server by direction", self.real_packets);
        ours!("real_server_bytes", "IPVS bytes of the real server by direction", self.real_bytes);
        ours!("real_server_active_connections", "IPVS active connections of the real server", self.real_active);
        ours!("real_server_inactive_connections", "IPVS inactive connections of the real server", self.real_inactive);
        ours!("bfd_session_state", "BFD session state (AdminDown 0, Down 1, Init 2, Up 3)", self.bfd_state);
        ours!("bfd_packets", "BFD control packets by direction", self.bfd_packets);
    }
}

/// Render a scrape: `openmetrics` selects the OpenMetrics text format,
/// otherwise the classic Prometheus text format 0.0.4.
pub fn render(children: &[ChildDoc], facts: &Facts, openmetrics: bool) -> String {
    let mut reg = Registry::default();
    let f = Families::new(&mut reg);
    let all_answered = children.iter().all(|c| c.doc.is_some());
    f.up.set(i64::from(all_answered && !children.is_empty()));
    parent_facts(&f, children, facts);
    for c in children {
        let Some(doc) = &c.doc else { continue };
        match c.key {
            "vrrp" => vrrp(&f, doc),
            "checker" => checker(&f, doc),
            "bfd" => bfd(&f, doc),
            _ => {}
        }
    }
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut out, &reg);
    let out = sorted_samples(&out);
    if openmetrics {
        out
    } else {
        to_classic(&out)
    }
}

/// The samples of each family in label order (the registry keeps them in
/// hash order), so that two scrapes of the same state read the same.
fn sorted_samples(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run: Vec<&str> = Vec::new();
    let flush = |run: &mut Vec<&str>, out: &mut String| {
        run.sort_unstable();
        for l in run.drain(..) {
            out.push_str(l);
            out.push('\n');
        }
    };
    for line in text.lines() {
        if line.starts_with('#') {
            flush(&mut run, &mut out);
            out.push_str(line);
            out.push('\n');
        } else {
            run.push(line);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn parent_facts(f: &Families, children: &[ChildDoc], facts: &Facts) {
    for c in children {
        f.child_up.get_or_create(&vec![("child", c.key.to_string())]).set(i64::from(c.doc.is_some()));
        let n = facts.restarts.get(c.key).copied().unwrap_or(0);
        f.restarts.get_or_create(&vec![("child", c.key.to_string())]).inc_by(n);
    }
    f.reloads.inc_by(facts.reloads);
    f.start_time.get_or_create(&Vec::new()).set(facts.start_time);
    // Always present (0: never reloaded), so a reload adds no series.
    f.last_reload.get_or_create(&Vec::new()).set(facts.last_reload_time.unwrap_or(0.0));
}

fn vrrp(f: &Families, doc: &Value) {
    let empty = Vec::new();
    for inst in doc["instances"].as_array().unwrap_or(&empty) {
        vrrp_instance(f, inst);
    }
    for sc in doc["scripts"].as_array().unwrap_or(&empty) {
        let l: Labels = vec![("name", text(sc, "name"))];
        // The exporter's encodings: BAD 0, GOOD 1; idle 0, running 1.
        f.script_status.get_or_create(&l).set(i64::from(sc["status"] == "GOOD"));
        f.script_state.get_or_create(&l).set(i64::from(sc["state"] == "running"));
    }
    for g in doc["sync_groups"].as_array().unwrap_or(&empty) {
        if let Some(n) = g["state"].as_str().and_then(vrrp_state_number) {
            f.group_state.get_or_create(&vec![("name", text(g, "name"))]).set(n);
        }
    }
}

fn vrrp_instance(f: &Families, inst: &Value) {
    let base: Labels =
        vec![("iname", text(inst, "name")), ("intf", text(inst, "interface")), ("vrid", text(inst, "vrid"))];
    if let Some(n) = inst["state"].as_str().and_then(vrrp_state_number) {
        address_states(f, inst, &base, n);
        f.rs_state.get_or_create(&base).set(n);
    }
    for ((key, _, _), fam) in VRRP_COUNTERS.iter().zip(&f.counters) {
        fam.get_or_create(&base).inc_by(inst["stats"][key].as_u64().unwrap_or(0));
    }
    f.rs_priority.get_or_create(&base).set(num(&inst["priority"]["effective"]));
    if let Some(us) = inst["last_transition"]["time_us"].as_u64() {
        f.rs_transition.get_or_create(&base).set(us as f64 / 1e6);
    }
    for t in inst["tracked"].as_array().into_iter().flatten() {
        let up = match t["state"].as_str() {
            Some("up") => 1,
            Some("down") => 0,
            _ => continue,
        };
        let mut l = base.clone();
        l.push(("kind", text(t, "kind")));
        l.push(("name", text(t, "name")));
        f.tracker_up.get_or_create(&l).set(up);
    }
}

/// `keepalived_vrrp_state` per virtual address and
/// `keepalived_vrrp_excluded_state` per excluded one, labelled with the
/// device the address goes on, as the exporter does.
fn address_states(f: &Families, inst: &Value, base: &Labels, n: i64) {
    let mut any_vip = false;
    for a in inst["addresses"].as_array().into_iter().flatten() {
        let l: Labels =
            vec![base[0].clone(), ("intf", text(a, "dev")), base[2].clone(), ("ip_address", text(a, "address"))];
        if a["excluded"] == true {
            f.excluded_state.get_or_create(&l).set(n);
        } else {
            any_vip = true;
            f.vrrp_state.get_or_create(&l).set(n);
        }
    }
    // The exporter keeps one series with an empty address when there is none.
    if !any_vip {
        let mut l = base.clone();
        l.push(("ip_address", String::new()));
        f.vrrp_state.get_or_create(&l).set(n);
    }
}

fn checker(f: &Families, doc: &Value) {
    for vs in doc["virtual_servers"].as_array().into_iter().flatten() {
        let l: Labels = vec![("virtual_server", text(vs, "name"))];
        f.vs_up.get_or_create(&l).set(i64::from(vs["alive"] == true));
        f.vs_quorum_up.get_or_create(&l).set(i64::from(vs["quorum_up"] == true));
        f.vs_weight.get_or_create(&l).set(num(&vs["live_weight"]));
        for rs in vs["real_servers"].as_array().into_iter().flatten() {
            let mut rl = l.clone();
            rl.push(("real_server", text(rs, "name")));
            f.real_up.get_or_create(&rl).set(i64::from(rs["alive"] == true));
            f.real_weight.get_or_create(&rl).set(num(&rs["weight"]));
            let c = &rs["ipvs"];
            if c.is_object() {
                ipvs_counters(&[&f.real_conns, &f.real_packets, &f.real_bytes], &rl, c);
                f.real_active.get_or_create(&rl).set(num(&c["active_conns"]));
                f.real_inactive.get_or_create(&rl).set(num(&c["inactive_conns"]));
            }
        }
        if vs["ipvs"].is_object() {
            ipvs_counters(&[&f.vs_conns, &f.vs_packets, &f.vs_bytes], &l, &vs["ipvs"]);
        }
    }
}

/// The kernel's IPVS counters of a service or destination (`conns`, `inpkts`/`outpkts`,
/// `inbytes`/`outbytes` of the checker's status) into the connections, packets and bytes families.
fn ipvs_counters(fams: &[&Counters; 3], l: &Labels, c: &Value) {
    fams[0].get_or_create(l).inc_by(c["conns"].as_u64().unwrap_or(0));
    for (fam, what) in [(fams[1], "pkts"), (fams[2], "bytes")] {
        for dir in ["in", "out"] {
            let mut dl = l.clone();
            dl.push(("direction", dir.to_string()));
            fam.get_or_create(&dl).inc_by(c[format!("{dir}{what}")].as_u64().unwrap_or(0));
        }
    }
}

fn bfd(f: &Families, doc: &Value) {
    for s in doc["sessions"].as_array().into_iter().flatten() {
        let l: Labels = vec![("name", text(s, "name")), ("neighbor", text(s, "neighbor"))];
        if let Some(n) = s["state"].as_str().and_then(bfd_state_number) {
            f.bfd_state.get_or_create(&l).set(n);
        }
        for dir in ["tx", "rx"] {
            let mut dl = l.clone();
            dl.push(("direction", dir.to_string()));
            f.bfd_packets.get_or_create(&dl).inc_by(s[dir].as_u64().unwrap_or(0));
        }
    }
}

/// OpenMetrics text to the classic Prometheus text format (what a client
/// that does not ask for OpenMetrics, and `promtool check metrics`,
/// read): a counter family is named with its `_total` suffix, as its
/// samples are, and the `# EOF` marker goes.
fn to_classic(om: &str) -> String {
    let mut counters = std::collections::HashSet::new();
    for line in om.lines() {
        if let Some(name) = line.strip_prefix("# TYPE ").and_then(|r| r.strip_suffix(" counter")) {
            counters.insert(name.to_string());
        }
    }
    let mut out = String::with_capacity(om.len());
    for line in om.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        out.push_str(&rename_meta(line, &counters));
        out.push('\n');
    }
    out
}

/// `# HELP name ...` / `# TYPE name counter` of a counter family gets the
/// `_total` name.
fn rename_meta(line: &str, counters: &std::collections::HashSet<String>) -> String {
    for prefix in ["# HELP ", "# TYPE "] {
        let Some(rest) = line.strip_prefix(prefix) else { continue };
        let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
        if counters.contains(name) {
            return format!("{prefix}{name}_total {tail}");
        }
    }
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Vec<ChildDoc> {
        let vrrp = json!({"instances": [{
            "name": "VI_1", "vrid": 51, "interface": "eth0", "state": "MASTER",
            "priority": {"effective": 150, "base": 150},
            "addresses": [{"address": "192.0.2.1/32", "dev": "eth0", "excluded": false},
                          {"address": "192.0.2.2/32", "dev": "eth0", "excluded": false},
                          {"address": "198.51.100.1/32", "dev": "eth1", "excluded": true}],
            "last_transition": {"time_us": 1_700_000_000_500_000u64},
            "tracked": [{"kind": "script", "name": "chk", "state": "up", "weight": 0}],
            "stats": {"advert_rcvd": 3, "advert_sent": 7}
        }], "sync_groups": [], "scripts": [{"name": "chk", "status": "GOOD", "state": "idle"}]});
        vec![ChildDoc { key: "vrrp", doc: Some(vrrp) }, ChildDoc { key: "bfd", doc: None }]
    }

    #[test]
    fn exporter_names_labels_and_encodings() {
        let out = render(&sample(), &Facts::default(), false);
        assert!(out.contains("keepalived_up 0\n"), "{out}");
        assert!(
            out.contains(r#"keepalived_vrrp_state{iname="VI_1",intf="eth0",vrid="51",ip_address="192.0.2.2/32"} 2"#)
        );
        let ex = r#"keepalived_vrrp_excluded_state{iname="VI_1",intf="eth1",vrid="51",ip_address="198.51.100.1/32"} 2"#;
        assert!(out.contains(ex), "{out}");
        assert!(out.contains(r#"keepalived_advertisements_sent_total{iname="VI_1",intf="eth0",vrid="51"} 7"#));
        assert!(out.contains("# TYPE keepalived_advertisements_sent_total counter\n"));
        assert!(out.contains(r#"keepalived_script_status{name="chk"} 1"#));
        assert!(out.contains(r#"keepalived_script_state{name="chk"} 0"#));
        assert!(out.contains(r#"keepalived_rs_child_up{child="bfd"} 0"#));
        assert!(!out.contains("# EOF"));
        let om = render(&sample(), &Facts::default(), true);
        assert!(om.ends_with("# EOF\n"));
        assert!(om.contains("# TYPE keepalived_advertisements_sent counter\n"));
    }

    #[test]
    fn samples_come_sorted_within_their_family() {
        let out = render(&sample(), &Facts::default(), false);
        let a = out.find(r#"ip_address="192.0.2.1/32""#).unwrap();
        let b = out.find(r#"ip_address="192.0.2.2/32""#).unwrap();
        assert!(a < b);
        assert_eq!(out, render(&sample(), &Facts::default(), false));
    }

    #[test]
    fn odd_documents_do_not_panic() {
        for doc in [json!(null), json!([]), json!({"instances": "x"}), json!({"instances": [{"stats": 3}]})] {
            let c = [ChildDoc { key: "vrrp", doc: Some(doc.clone()) }, ChildDoc { key: "checker", doc: Some(doc) }];
            let _ = render(&c, &Facts::default(), false);
        }
    }
}
