//! What monitoring reads from the VRRP child, compared with the real
//! keepalived 2.2.7: the same configuration (several instances, eVIPs,
//! virtual routes and rules, authentication, track scripts, a sync group,
//! a VMAC, strict mode with its nftables rules, VRRPv3) runs under each
//! implementation in its own network namespace; once every instance is
//! MASTER, SIGUSR1, SIGUSR2 and SIGRTMIN+2 are sent and the three files
//! compared: the JSON key sets, key order and value types recursively (and
//! the values that are neither times nor counters), the data file line by
//! line (times, file descriptors and paths normalised; the `Interfaces`
//! section and the `libnftnl version` line are known differences, see
//! docs/compat.md), the stats file line by line with the advert counters
//! normalised. A second test reads both dumps the way keepalived-exporter
//! (mehdy/keepalived-exporter, internal/collector/parser.go) does and
//! requires the same metrics. Needs root and /usr/sbin/keepalived.

use keepalived_testkit::daemon::write_script;
use keepalived_testkit::netns::Node;
use keepalived_testkit::prereq::KEEPALIVED;
use keepalived_testkit::sh;
use keepalived_testkit::wait::secs;
use keepalived_testkit::wait_for;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

fn config(dir: &Path) -> String {
    let d = dir.display();
    format!(
        r#"global_defs {{
    router_id parity
    script_user root
    enable_script_security
    vrrp_garp_master_delay 0
    vrrp_strict
    notification_email_from ka@example.com
    smtp_server 127.0.0.1
}}
vrrp_script CHK_OK {{
    script "{d}/ok.sh"
    interval 1
    weight 5
}}
vrrp_script CHK_W0 {{
    script "{d}/ok.sh"
    interval 1
    weight 0
    rise 2
    fall 3
}}
vrrp_sync_group G1 {{
    group {{
        VI_1
        VI_2
    }}
    notify_master "{d}/ok.sh group master"
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority 100
    advert_int 1
    track_script {{
        CHK_W0
    }}
    virtual_ipaddress {{
        198.51.100.61/32
        198.51.100.71/24 dev eth0 label eth0:vip
    }}
    virtual_ipaddress_excluded {{
        203.0.113.61/32
    }}
    virtual_routes {{
        192.0.2.0/24 via 198.51.100.2
    }}
}}
vrrp_instance VI_2 {{
    state MASTER
    interface eth0
    virtual_router_id 62
    priority 150
    advert_int 2
    authentication {{
        auth_type PASS
        auth_pass secret
    }}
    virtual_ipaddress {{
        198.51.100.62/32
    }}
}}
vrrp_instance VI_3 {{
    interface eth0
    use_vmac
    virtual_router_id 63
    priority 90
    advert_int 1
    track_script {{
        CHK_OK
    }}
    virtual_ipaddress {{
        198.51.100.63/32
    }}
}}
vrrp_instance VI_4 {{
    interface eth0
    version 3
    virtual_router_id 64
    priority 80
    advert_int 0.5
    promote_secondaries
    smtp_alert
    notify_master "{d}/ok.sh master"
    notify "{d}/ok.sh"
    notify_deleted
    track_interface {{
        lo weight -10
    }}
    virtual_ipaddress {{
        198.51.100.64/32
    }}
    virtual_routes {{
        192.0.2.64/26 dev eth0 table 100
    }}
    virtual_rules {{
        from 198.51.100.64 table 100
    }}
}}
"#
    )
}

struct Dumps {
    data: String,
    json: Value,
    stats: String,
    log: String,
}

fn json_signal() -> String {
    sh(&format!("{} --signum=JSON", env!("CARGO_BIN_EXE_keepalived"))).trim().to_string()
}

fn scenario(tag: &str, binary: &str) -> Dumps {
    let node = Node::new("dp", tag);
    let dir = node.dir.clone();
    write_script(&dir.join("ok.sh"), "exit 0");
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let daemon = node.start_env(binary, &config(&dir), &[("TMPDIR", tmp.to_str().unwrap())]);
    let d = dir.display().to_string();
    let all_master =
        || ["198.51.100.61", "198.51.100.62", "198.51.100.63", "198.51.100.64"].iter().all(|a| node.has_addr(a));
    assert!(wait_for(secs(20), all_master), "{tag}: not every instance became master (log in {d}/daemon.log)");
    // Let the scripts settle (no run in progress at the dump).
    std::thread::sleep(Duration::from_millis(1500));
    let pid = daemon.pid().expect("pid file").as_raw();
    for sig in ["USR1".to_string(), "USR2".to_string(), json_signal()] {
        sh(&format!("kill -s {sig} {pid} 2>/dev/null || kill -{sig} {pid}"));
    }
    let read = |f: &str| {
        let p = tmp.join(f);
        assert!(wait_for(secs(5), || p.exists() && std::fs::metadata(&p).is_ok_and(|m| m.len() > 0)), "{tag}: no {f}");
        std::thread::sleep(Duration::from_millis(300));
        let text = std::fs::read_to_string(&p).unwrap();
        text.replace(&d, "/D").replace(&d.replace('/', "\\/"), "\\/D")
    };
    let (data, json, stats) = (read("keepalived.data"), read("keepalived.json"), read("keepalived.stats"));
    let json = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{tag}: JSON does not parse ({e}):\n{json}"));
    Dumps { data, json, stats, log: daemon.log() }
}

/// Times, descriptors and run-dependent states out of a data file line.
fn normalise_data(line: &str) -> Option<String> {
    let t = line.trim_start();
    if t.starts_with("libnftnl version") {
        return None; // a property of keepalived's build (docs/compat.md)
    }
    let key = t.split(" = ").next().unwrap_or("");
    let out = match key {
        "Last transition" | "Read timeout" | "Master down timer" => format!("{key} = T"),
        _ if t.starts_with("fd_in ") => "fd_in N".to_string(),
        // A script run may be in progress at the dump, in either daemon.
        "State" if line.starts_with("   State = ") && matches!(t, "State = idle" | "State = running") => {
            "State = idle|running".to_string()
        }
        _ => line.to_string(),
    };
    Some(out)
}

/// The data file without its `Interfaces` section (kernel facts of each
/// interface, not written by keepalived-rs: docs/compat.md).
fn data_lines(text: &str) -> Vec<String> {
    text.lines().take_while(|l| *l != "------< Interfaces >------").filter_map(normalise_data).collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Key order, key sets and types, recursively; values too except times
/// and advert counters.
fn compare_json(theirs: &Value, ours: &Value, path: &str, diffs: &mut Vec<String>) {
    if kind(theirs) != kind(ours) {
        diffs.push(format!("{path}: {} {theirs} vs {} {ours}", kind(theirs), kind(ours)));
        return;
    }
    match (theirs, ours) {
        (Value::Object(a), Value::Object(b)) => {
            let (ka, kb): (Vec<&String>, Vec<&String>) = (a.keys().collect(), b.keys().collect());
            if ka != kb {
                diffs.push(format!("{path}: keys {ka:?} vs {kb:?}"));
            }
            for (k, v) in a {
                if let Some(w) = b.get(k) {
                    compare_json(v, w, &format!("{path}.{k}"), diffs);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                diffs.push(format!("{path}: {} vs {} elements", a.len(), b.len()));
            }
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                compare_json(v, w, &format!("{path}[{i}]"), diffs);
            }
        }
        _ if path.ends_with(".last_transition") || path.ends_with(".advert_sent") => {}
        _ if theirs != ours => diffs.push(format!("{path}: {theirs} vs {ours}")),
        _ => {}
    }
}

fn stats_lines(text: &str) -> Vec<String> {
    // The advert counters depend on timing: "Sent" under Advertisements.
    let mut out = Vec::new();
    let mut section = "";
    for l in text.lines() {
        if l.starts_with("  ") && !l.starts_with("    ") {
            section = l.trim();
        }
        if section == "Advertisements:" && l.trim_start().starts_with("Sent: ") {
            out.push("    Sent: N".to_string());
        } else {
            out.push(l.to_string());
        }
    }
    out
}

/// Both runs, once for the tests of this file.
fn runs() -> Option<&'static (Dumps, Dumps)> {
    static RUNS: std::sync::OnceLock<Option<(Dumps, Dumps)>> = std::sync::OnceLock::new();
    RUNS.get_or_init(|| {
        keepalived_testkit::require(&[KEEPALIVED]);
        Some((scenario("ka", KEEPALIVED), scenario("rs", env!("CARGO_BIN_EXE_keepalived"))))
    })
    .as_ref()
}

fn line_diff(a: &[String], b: &[String]) -> String {
    let mut s = String::new();
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i).map_or("<none>", String::as_str), b.get(i).map_or("<none>", String::as_str));
        if x != y {
            s.push_str(&format!("  line {}: keepalived {x:?}\n               ours {y:?}\n", i + 1));
        }
    }
    s
}

#[test]
fn data_json_and_stats_dumps_match_keepalived_2_2_7() {
    let Some((theirs, ours)) = runs() else { return };
    let mut diffs = Vec::new();
    compare_json(&theirs.json, &ours.json, "json", &mut diffs);
    assert!(diffs.is_empty(), "JSON dumps differ:\n{}\nour log:\n{}", diffs.join("\n"), ours.log);
    let (a, b) = (data_lines(&theirs.data), data_lines(&ours.data));
    assert!(a == b, "data dumps differ:\n{}", line_diff(&a, &b));
    let (a, b) = (stats_lines(&theirs.stats), stats_lines(&ours.stats));
    assert!(a == b, "stats dumps differ:\n{}", line_diff(&a, &b));
}

#[test]
fn keepalived_exporter_reads_the_same_metrics() {
    let Some((theirs, ours)) = runs() else { return };
    exporter_metrics_match(theirs, ours);
}

/// One metric sample: name, sorted labels, value.
type Metrics = BTreeMap<(String, Vec<(String, String)>), String>;

/// keepalived-exporter's JSON collection (internal/collector: ParseJSON into
/// VRRP{Data: iname, state, wantstate, ifp_ifname, garp_delay, vrid, vips,
/// evips; Stats: the counters}, one keepalived_vrrp_state per VIP with the
/// address and device of ParseVIP, the counters by iname).
fn exporter_json(v: &Value) -> Metrics {
    let mut m = Metrics::new();
    for e in v.as_array().expect("an array (json_version 1)") {
        let (d, st) = (&e["data"], &e["stats"]);
        let int = |x: &Value| x.as_i64().expect("an integer, as Go's int field needs");
        let iname = d["iname"].as_str().unwrap().to_string();
        let base = vec![
            ("iname".to_string(), iname.clone()),
            ("intf".to_string(), d["ifp_ifname"].as_str().unwrap().to_string()),
            ("vrid".to_string(), int(&d["vrid"]).to_string()),
        ];
        for (metric, key) in [("keepalived_vrrp_state", "vips"), ("keepalived_vrrp_excluded_state", "evips")] {
            for vip in d[key].as_array().into_iter().flatten() {
                let words: Vec<&str> = vip.as_str().unwrap().split(' ').collect();
                let mut labels = base.clone();
                labels.push(("ip_address".into(), format!("{} {}", words[0], words.get(2).unwrap_or(&""))));
                m.insert((metric.into(), labels), int(&d["state"]).to_string());
            }
        }
        m.insert(("keepalived_gratuitous_arp_delay_total".into(), base.clone()), int(&d["garp_delay"]).to_string());
        m.insert(("keepalived_wantstate".into(), base.clone()), int(&d["wantstate"]).to_string());
        for (k, v) in st.as_object().unwrap() {
            let value = if k == "advert_sent" { "N".to_string() } else { int(v).to_string() };
            m.insert((format!("keepalived_{k}"), vec![("iname".into(), iname.clone())]), value);
        }
    }
    m
}

/// keepalived-exporter's data-file parsing (ParseVRRPData, ParseVRRPScript):
/// per ` VRRP Instance = ` the `State`, `Wantstate`, `Interface`,
/// `Gratuitous ARP delay`, `Virtual Router ID` values and the VIPs under
/// `Virtual IP (N):`; per ` VRRP Script = ` its `Status` and `State`.
fn exporter_data(text: &str) -> Metrics {
    let mut m = Metrics::new();
    let mut instance = String::new();
    let mut script = String::new();
    let mut in_vips = false;
    for l in text.lines() {
        if let Some(n) = l.strip_prefix(" VRRP Instance = ") {
            (instance, script) = (n.trim().to_string(), String::new());
            continue;
        }
        if let Some(n) = l.strip_prefix(" VRRP Script = ") {
            (script, instance) = (n.trim().to_string(), String::new());
            continue;
        }
        if !l.starts_with("   ") {
            (instance, script) = (String::new(), String::new());
            continue;
        }
        let owner = if !instance.is_empty() { &instance } else { &script };
        if owner.is_empty() {
            continue;
        }
        if l.starts_with("     ") {
            if in_vips {
                let vip = l.trim().split(' ').next().unwrap_or("").to_string();
                m.insert(("vip".into(), vec![("owner".into(), owner.clone()), ("ip".into(), vip)]), "1".into());
            }
            continue;
        }
        let t = l.trim();
        in_vips = t.starts_with("Virtual IP (");
        if let Some((k, v)) = t.split_once(" = ") {
            let wanted = ["State", "Wantstate", "Interface", "Gratuitous ARP delay", "Virtual Router ID", "Status"];
            if wanted.contains(&k) {
                let v = if k == "State" && !script.is_empty() { "idle|running" } else { v };
                m.insert((k.to_string(), vec![("owner".into(), owner.clone())]), v.to_string());
            }
        }
    }
    m
}

fn exporter_metrics_match(theirs: &Dumps, ours: &Dumps) {
    let (a, b) = (exporter_json(&theirs.json), exporter_json(&ours.json));
    assert!(!a.is_empty(), "no metric from keepalived's JSON");
    assert_eq!(a, b, "keepalived-exporter's JSON metrics differ");
    let (a, b) = (exporter_data(&theirs.data), exporter_data(&ours.data));
    assert!(a.len() > 10, "too few metrics from keepalived's data file: {a:?}");
    assert_eq!(a, b, "keepalived-exporter's data-file metrics differ");
}
