//! `keepalived --status [--json]` (keepalived-rs): ask the running daemon
//! for its state through the status socket and print it, as a table or as
//! the raw JSON document. Exit status 0 when the daemon answered, 1
//! otherwise (no daemon, refused, an error from the daemon).

use crate::cli::Cli;
use crate::files::PidPaths;
use crate::pidfile::PID_DIR;
use crate::status;
use serde_json::Value;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// How long the client waits for the daemon (its children have 1 s).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest answer read (thousands of instances fit easily).
const MAX_ANSWER: u64 = 64 * 1024 * 1024;

pub fn run(cli: &Cli) -> i32 {
    let path = socket_path(cli);
    let text = match request(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("Unable to read the status from {}: {e}", path.display());
            return 1;
        }
    };
    let doc: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("The status from {} is not valid JSON: {e}", path.display());
            return 1;
        }
    };
    if let Some(err) = doc.get("error").and_then(Value::as_str) {
        eprintln!("The daemon refused the status request: {err}");
        return 1;
    }
    if cli.json {
        println!("{}", text.trim_end());
    } else {
        print!("{}", render(&doc));
    }
    0
}

/// The socket's path as the daemon computes it, seen from outside its
/// mount namespace: `--status-socket`, else `status_socket` from the
/// configuration (if readable), else next to the parent's pid file.
fn socket_path(cli: &Cli) -> PathBuf {
    if let Some(p) = &cli.status_socket {
        return PathBuf::from(p);
    }
    let conf = cli.use_file.clone().unwrap_or_else(|| "/etc/keepalived/keepalived.conf".to_string());
    let parsed = crate::parent::read_parent_config(&conf, cli.config_id.clone(), cli);
    let mut root = parsed.config.root;
    crate::files::apply_namespace_override(cli, &mut root);
    let pid_paths = PidPaths::resolve(cli, &root);
    let path = status::socket_path(None, parsed.config.global.status_socket.as_deref(), &pid_paths.parent);
    // A daemon in a namespace has its own /run/keepalived (a bind mount of
    // /run/keepalived/NAME).
    match (&root.net_namespace, path.strip_prefix(PID_DIR)) {
        (Some(ns), Ok(rest)) if parsed.config.global.status_socket.is_none() => {
            PathBuf::from(PID_DIR).join(ns).join(rest)
        }
        _ => path,
    }
}

fn request(path: &std::path::Path) -> std::io::Result<String> {
    let mut s = UnixStream::connect(path)?;
    s.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    s.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    // A refused client is answered and closed at once: its write may
    // fail, the answer is still there to read.
    let _ = s.write_all(b"status\n");
    let mut text = String::new();
    s.take(MAX_ANSWER).read_to_string(&mut text)?;
    Ok(text)
}

/// The document as tables.
pub fn render(doc: &Value) -> String {
    let mut out = String::new();
    let pid = doc["pid"].as_u64().unwrap_or(0);
    let version = doc["keepalived_rs"].as_str().unwrap_or("?");
    let now_us = doc["time_us"].as_u64().unwrap_or(0);
    let _ = writeln!(out, "keepalived-rs {version}, pid {pid}, at {}", time_text(now_us));
    let children = doc["children"].as_object().cloned().unwrap_or_default();
    for (name, child) in &children {
        if child["answered"].as_bool() != Some(true) {
            let why = child["error"].as_str().unwrap_or("no answer");
            let _ = writeln!(out, "\n{name}: {why}");
        } else if child["status"].is_null() {
            let _ = writeln!(out, "\n{name}: running, reports no status yet");
        }
    }
    if let Some(v) = children.get("vrrp").and_then(|c| c.get("status")).filter(|s| !s.is_null()) {
        render_vrrp(&mut out, v, now_us);
    }
    if let Some(c) = children.get("checker").and_then(|c| c.get("status")).filter(|s| !s.is_null()) {
        render_checker(&mut out, c);
    }
    if let Some(b) = children.get("bfd").and_then(|c| c.get("status")).filter(|s| !s.is_null()) {
        render_bfd(&mut out, b);
    }
    out
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_string(),
        v => v.to_string(),
    }
}

fn render_vrrp(out: &mut String, v: &Value, now_us: u64) {
    let empty = Vec::new();
    let instances = v["instances"].as_array().unwrap_or(&empty);
    let _ = writeln!(out, "\nVRRP instances ({})", instances.len());
    let mut rows = vec![["NAME", "STATE", "PRIO", "INTERFACE", "VIPS", "LAST TRANSITION"].map(String::from).to_vec()];
    let mut details: Vec<String> = Vec::new();
    for i in instances {
        let prio = format!("{}/{}", text(&i["priority"]["effective"]), text(&i["priority"]["base"]));
        let vips: Vec<String> = i["vips"].as_array().unwrap_or(&empty).iter().map(text).collect();
        let t = &i["last_transition"];
        let when = match t["time_us"].as_u64() {
            Some(us) => format!("{} ({} ago)", time_text(us), age_text(now_us.saturating_sub(us))),
            None => "-".to_string(),
        };
        rows.push(vec![text(&i["name"]), text(&i["state"]), prio, text(&i["interface"]), vips.join(" "), when]);
        let mut d = String::new();
        if !t.is_null() {
            let _ =
                write!(d, "  {}: {} -> {}: {}", text(&i["name"]), text(&t["from"]), text(&t["to"]), text(&t["reason"]));
        }
        let tracked: Vec<String> = i["tracked"].as_array().unwrap_or(&empty).iter().map(tracked_text).collect();
        if !tracked.is_empty() {
            let _ = write!(d, "\n    tracking: {}", tracked.join(", "));
        }
        details.push(d);
    }
    table(out, &rows);
    for d in details.iter().filter(|d| !d.is_empty()) {
        let _ = writeln!(out, "{d}");
    }
    let groups = v["sync_groups"].as_array().unwrap_or(&empty);
    if !groups.is_empty() {
        let _ = writeln!(out, "\nSync groups");
        let mut rows = vec![vec!["NAME".to_string(), "STATE".to_string()]];
        rows.extend(groups.iter().map(|g| vec![text(&g["name"]), text(&g["state"])]));
        table(out, &rows);
    }
}

fn tracked_text(t: &Value) -> String {
    let mut s = format!("{} {} {}", text(&t["kind"]), text(&t["name"]), text(&t["state"]));
    if let Some(v) = t.get("value") {
        let _ = write!(s, " value {v}");
    }
    if t["weight"].as_i64().is_some_and(|w| w != 0) {
        let _ = write!(s, " weight {}", t["weight"]);
    }
    s
}

fn render_checker(out: &mut String, c: &Value) {
    let empty = Vec::new();
    let vss = c["virtual_servers"].as_array().unwrap_or(&empty);
    let _ = writeln!(out, "\nVirtual servers ({})", vss.len());
    let mut rows = vec![["SERVER", "STATE", "WEIGHT", "DETAIL"].map(String::from).to_vec()];
    for vs in vss {
        let quorum = if vs["quorum_up"].as_bool() == Some(true) { "quorum up" } else { "quorum down" };
        let mut detail = format!("quorum {} (live weight {})", text(&vs["quorum"]), text(&vs["live_weight"]));
        if vs["sorry_server_active"].as_bool() == Some(true) {
            detail.push_str(", sorry server in");
        }
        rows.push(vec![text(&vs["name"]), quorum.to_string(), String::new(), detail]);
        for rs in vs["real_servers"].as_array().unwrap_or(&empty) {
            let st = if rs["alive"].as_bool() == Some(true) { "up" } else { "down" };
            let failed = format!("{} of {} checkers failing", text(&rs["failed_checkers"]), text(&rs["checkers"]));
            rows.push(vec![format!("  {}", text(&rs["name"])), st.to_string(), text(&rs["weight"]), failed]);
        }
    }
    table(out, &rows);
}

fn render_bfd(out: &mut String, b: &Value) {
    let empty = Vec::new();
    let sessions = b["sessions"].as_array().unwrap_or(&empty);
    let _ = writeln!(out, "\nBFD sessions ({})", sessions.len());
    let mut rows =
        vec![["NAME", "NEIGHBOR", "STATE", "REMOTE", "TX/DETECT", "LAST HEARD", "DIAG"].map(String::from).to_vec()];
    for s in sessions {
        let ms = |v: &Value| v.as_u64().map_or("-".to_string(), |us| format!("{:.1}ms", us as f64 / 1000.0));
        let timers = format!("{}/{}", ms(&s["tx_interval_us"]), ms(&s["detect_time_us"]));
        let heard = match s["last_seen_ago_us"].as_u64() {
            Some(us) => format!("{} ago", ms(&Value::from(us))),
            None => "never".to_string(),
        };
        rows.push(vec![
            text(&s["name"]),
            text(&s["neighbor"]),
            text(&s["state"]),
            text(&s["remote_state"]),
            timers,
            heard,
            text(&s["local_diag"]),
        ]);
    }
    table(out, &rows);
}

/// Left-aligned columns, two spaces apart.
fn table(out: &mut String, rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width: Vec<usize> =
        (0..cols).map(|c| rows.iter().map(|r| r.get(c).map_or(0, |s| s.chars().count())).max().unwrap_or(0)).collect();
    for r in rows {
        let mut line = String::from("  ");
        for (c, cell) in r.iter().enumerate() {
            let _ = write!(line, "{cell:<w$}  ", w = width[c]);
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// Local time, to the second.
fn time_text(us: u64) -> String {
    let Ok(ts) = jiff::Timestamp::from_microsecond(us as i64) else { return "-".to_string() };
    ts.to_zoned(jiff::tz::TimeZone::system()).strftime("%Y-%m-%d %H:%M:%S").to_string()
}

fn age_text(us: u64) -> String {
    let s = us / 1_000_000;
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m{}s", s / 60, s % 60),
        _ => format!("{}h{}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_instances_and_a_silent_child() {
        let doc = json!({
            "keepalived_rs": "0.1.0", "pid": 42, "time_us": 1_000_000_000_000u64,
            "children": {
                "vrrp": { "answered": true, "status": { "instances": [{
                    "name": "VI_1", "state": "MASTER", "priority": { "effective": 110, "base": 100 },
                    "interface": "eth0", "vips": ["10.0.0.100/24"],
                    "last_transition": { "time_us": 999_990_000_000u64, "from": "BACKUP", "to": "MASTER",
                                         "reason": "no advert from the master (master down timer expired)" },
                    "tracked": [{ "kind": "script", "name": "chk", "state": "up", "weight": 10 }]
                }], "sync_groups": [] } },
                "checker": { "answered": false, "error": "the Healthcheck child did not answer within 1000 ms" },
                "bfd": { "answered": true, "status": null }
            }
        });
        let t = render(&doc);
        assert!(t.contains("pid 42"), "{t}");
        assert!(
            t.contains("VI_1") && t.contains("MASTER") && t.contains("110/100") && t.contains("10.0.0.100/24"),
            "{t}"
        );
        assert!(t.contains("(10s ago)"), "{t}");
        assert!(t.contains("BACKUP -> MASTER: no advert from the master"), "{t}");
        assert!(t.contains("tracking: script chk up weight 10"), "{t}");
        assert!(t.contains("checker: the Healthcheck child did not answer within 1000 ms"), "{t}");
        assert!(t.contains("bfd: running, reports no status yet"), "{t}");
    }

    #[test]
    fn renders_bfd_sessions() {
        let doc = json!({ "children": { "bfd": { "answered": true, "status": { "sessions": [{
            "name": "peer1", "neighbor": "192.0.2.2", "state": "Up", "remote_state": "Up",
            "tx_interval_us": 100_000, "detect_time_us": 300_000, "last_seen_ago_us": 42_000,
            "local_diag": "No Diagnostic"
        }, { "name": "peer2", "neighbor": "2001:db8::2", "state": "Down", "remote_state": "Down",
            "tx_interval_us": 1_000_000, "detect_time_us": 0, "last_seen_ago_us": null,
            "local_diag": "Control Detection Time Expired" }] } } } });
        let t = render(&doc);
        assert!(t.contains("BFD sessions (2)"), "{t}");
        assert!(t.contains("peer1") && t.contains("100.0ms/300.0ms") && t.contains("42.0ms ago"), "{t}");
        assert!(
            t.contains("2001:db8::2") && t.contains("never") && t.contains("Control Detection Time Expired"),
            "{t}"
        );
    }

    #[test]
    fn odd_documents_do_not_panic() {
        for doc in [json!(null), json!([]), json!({"children": 3}), json!({"children": {"vrrp": {"status": 7}}})] {
            let _ = render(&doc);
        }
    }
}
