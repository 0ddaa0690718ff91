//! The files written on signals: data dumps (SIGUSR1, every process),
//! VRRP statistics (SIGUSR2 / STATS_CLEAR) and the VRRP JSON dump
//! (SIGRTMIN+2), at keepalived's locations (see `files::dump_path`).
//!
//! The VRRP child's `.data` (global definitions and VRRP sections), `.json`
//! and `.stats` follow keepalived 2.2.7's layouts (global_data.c,
//! vrrp_data.c, vrrp_json.c, vrrp_print.c), because monitoring parses them;
//! the VRRP layouts live in `vrrp::dump`, the global one in `global_dump`.
//! The other processes' `.data` is a readable summary followed by their
//! configuration model as JSON.

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
    s.push_str(&global_data(cfg, true));
    push_json(&mut s, "Root options", &cfg.root);
    push_json(&mut s, "Global definitions (model)", &cfg.global);
    s
}

/// What the VRRP child knows of one running instance, for the dumps.
#[derive(Clone, Debug)]
pub struct VrrpLive {
    pub name: String,
    pub effective_priority: u8,
    pub master_priority: u8,
    pub state: keepalived_vrrp::State,
    pub wantstate: keepalived_vrrp::State,
    pub vipset: bool,
    pub stats: keepalived_vrrp::Stats,
}

/// A child's data file: the live state of its instances (VRRP) and its part
/// of the configuration.
pub fn child_data(kind: ProcKind, cfg: &Config, live: &[VrrpLive]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "------< {} process (keepalived-rs {}) >------", kind.label(), env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, " Time = {}", now_string());
    let _ = writeln!(s, " Pid = {}", std::process::id());
    match kind {
        ProcKind::Vrrp => {
            for v in &cfg.vrrp.instances {
                let _ = writeln!(s, " VRRP Instance = {}", v.name);
                match live.iter().find(|l| l.name == v.name) {
                    Some(l) => {
                        let _ = writeln!(s, "   State = {}", l.state.name());
                        let _ = writeln!(s, "   Wantstate = {}", l.wantstate.name());
                        let _ = writeln!(s, "   Effective priority = {}", l.effective_priority);
                        let _ = writeln!(s, "   Master priority = {}", l.master_priority);
                        let _ = writeln!(s, "   Virtual IPs set = {}", l.vipset);
                    }
                    None => {
                        let _ = writeln!(s, "   State = INIT");
                    }
                }
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

/// keepalived's `/tmp/keepalived.stats` text, one block per instance
/// (vrrp_print.c's layout, with the engine's counters).
pub fn vrrp_stats(live: &[VrrpLive]) -> String {
    let mut s = String::new();
    for l in live {
        let t = &l.stats;
        let _ = write!(
            s,
            "VRRP Instance: {}\n  Advertisements:\n    Received: {}\n    Sent: {}\n  Became master: {}\n  \
             Released master: {}\n  Packet Errors:\n    Length: {}\n    TTL: {}\n    Invalid Type: {}\n    \
             Advertisement Interval: {}\n    Address List: {}\n  Authentication Errors:\n    Invalid Type: {}\n    \
             Type Mismatch: {}\n    Failure: {}\n  Priority Zero:\n    Received: {}\n    Sent: {}\n",
            l.name,
            t.advert_rcvd,
            t.advert_sent,
            t.become_master,
            t.release_master,
            t.packet_len_err,
            t.ip_ttl_err,
            t.invalid_type_rcvd,
            t.advert_interval_err,
            t.addr_list_err,
            t.invalid_authtype,
            t.authtype_mismatch,
            t.auth_failure,
            t.pri_zero_rcvd,
            t.pri_zero_sent,
        );
    }
    s
}

/// keepalived's dump_global_data section, from the configuration alone.
pub fn global_data(cfg: &Config, vrrp_process: bool) -> String {
    let facts = crate::global_dump::GlobalFacts {
        root: &cfg.root,
        nft_table: cfg.global.nftables.clone(),
        script_ids: keepalived_runtime::script::default_script_ids(
            &keepalived_runtime::script::ScriptRunOpts::from_global(&cfg.global, false),
            cfg.global.enable_script_security,
        )
        .map(|i| (i.uid, i.gid)),
        vrrp_process,
    };
    crate::global_dump::global_data(&cfg.global, &facts)
}
