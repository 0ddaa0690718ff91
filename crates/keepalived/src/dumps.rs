//! The files written on signals: data dumps (SIGUSR1, every process),
//! VRRP statistics (SIGUSR2 / STATS_CLEAR) and the VRRP JSON dump
//! (SIGRTMIN+2), at keepalived's locations (see `files::dump_path`).
//!
//! keepalived documents the `.data` text as an unstable debug format; ours
//! is a readable summary followed by the process's configuration model as
//! JSON. The `.stats` text and the `.json` layout follow keepalived's
//! (vrrp_print.c, vrrp_json.c, json_version 1), because exporters parse
//! them. Until the VRRP engine runs, every counter is zero and every
//! instance is in the INIT state, which is exactly the truth.

use keepalived_config::Config;
use keepalived_runtime::ProcKind;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use tracing::warn;

/// Write `text` to `path` (created or truncated).
pub fn write(path: &Path, text: &str) {
    let r = std::fs::File::create(path).and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = r {
        warn!("Can't open {} ({e})", path.display());
    }
}

/// Write to a temporary file next to `path`, then rename (keepalived does
/// this for the JSON dump so readers never see a partial file).
pub fn write_atomic(path: &Path, text: &str) {
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    let r = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = r {
        warn!("Failed to write {} ({e})", path.display());
        let _ = std::fs::remove_file(&tmp);
    }
}

fn now_string() -> String {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:06}", t.as_secs(), t.subsec_micros())
}

/// The parent's data file.
pub fn parent_data(cfg: &Config, children: &[(ProcKind, Option<i32>)]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "------< Keepalived parent process (keepalived-rs {}) >------", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, " Time = {}", now_string());
    let _ = writeln!(s, " Pid = {}", std::process::id());
    for (k, pid) in children {
        match pid {
            Some(p) => {
                let _ = writeln!(s, " {} child pid = {p}", k.label());
            }
            None => {
                let _ = writeln!(s, " {} child not running", k.label());
            }
        }
    }
    let _ = writeln!(s, "------< Global definitions >------");
    let _ = writeln!(s, " Router ID = {}", cfg.global.router_id.as_deref().unwrap_or(""));
    push_json(&mut s, "Root options", &cfg.root);
    push_json(&mut s, "Global definitions (model)", &cfg.global);
    s
}

/// A child's data file: its part of the configuration.
pub fn child_data(kind: ProcKind, cfg: &Config) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "------< {} process (keepalived-rs {}) >------", kind.label(), env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, " Time = {}", now_string());
    let _ = writeln!(s, " Pid = {}", std::process::id());
    match kind {
        ProcKind::Vrrp => {
            for v in &cfg.vrrp.instances {
                let _ = writeln!(s, " VRRP Instance = {}", v.name);
                let _ = writeln!(s, "   State = INIT");
            }
            push_json(&mut s, "VRRP configuration", &cfg.vrrp);
            push_json(&mut s, "Static addresses, routes and rules", &cfg.ip);
        }
        ProcKind::Checker => push_json(&mut s, "LVS configuration", &cfg.lvs),
        ProcKind::Bfd => push_json(&mut s, "BFD configuration", &cfg.bfd),
    }
    s
}

fn push_json<T: serde::Serialize>(s: &mut String, title: &str, v: &T) {
    let _ = writeln!(s, "------< {title} >------");
    match serde_json::to_string_pretty(v) {
        Ok(j) => {
            s.push_str(&j);
            s.push('\n');
        }
        Err(e) => {
            let _ = writeln!(s, " (cannot be shown: {e})");
        }
    }
}

/// keepalived's `/tmp/keepalived.stats` text, one block per instance.
pub fn vrrp_stats(cfg: &Config) -> String {
    let mut s = String::new();
    for v in &cfg.vrrp.instances {
        let _ = writeln!(s, "VRRP Instance: {}", v.name);
        s.push_str(
            "  Advertisements:\n    Received: 0\n    Sent: 0\n  Became master: 0\n  Released master: 0\n  \
             Packet Errors:\n    Length: 0\n    TTL: 0\n    Invalid Type: 0\n    Advertisement Interval: 0\n    \
             Address List: 0\n  Authentication Errors:\n    Invalid Type: 0\n    Type Mismatch: 0\n    Failure: 0\n  \
             Authentication Extension Errors:\n    Missing: 0\n    Malformed: 0\n    Unknown Key: 0\n    \
             Invalid HMAC: 0\n    Stale: 0\n    Replay: 0\n  Priority Zero:\n    Received: 0\n    Sent: 0\n",
        );
    }
    s
}

/// keepalived's `/tmp/keepalived.json` (json_version 1: an array of
/// `{ "data": …, "stats": … }` objects).
pub fn vrrp_json(cfg: &Config) -> String {
    let list: Vec<serde_json::Value> = cfg
        .vrrp
        .instances
        .iter()
        .map(|v| {
            let prio = v.priority.unwrap_or(100);
            serde_json::json!({
                "data": {
                    "iname": v.name,
                    "ifp_ifname": v.interface,
                    "vrid": v.vrid,
                    "base_priority": prio,
                    "effective_priority": prio,
                    "master_priority": 0,
                    "state": 0,
                    "wantstate": 0,
                    "version": v.version,
                    "nopreempt": v.nopreempt,
                    "vipset": false,
                },
                "stats": {
                    "advert_rcvd": 0, "advert_sent": 0, "become_master": 0, "release_master": 0,
                    "packet_len_err": 0, "advert_interval_err": 0, "ip_ttl_err": 0, "invalid_type_rcvd": 0,
                    "addr_list_err": 0, "invalid_authtype": 0, "authtype_mismatch": 0, "auth_failure": 0,
                    "pri_zero_rcvd": 0, "pri_zero_sent": 0,
                },
            })
        })
        .collect();
    serde_json::to_string(&list).unwrap_or_else(|_| "[]".to_string())
}
