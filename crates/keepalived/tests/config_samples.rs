//! Differential test: `keepalived -t` of keepalived-rs against what Debian
//! keepalived 2.2.7 printed and returned for each of keepalived's own sample
//! configurations (../shared/keepalived/config-test-2.2.7, made by
//! run_config_tests.sh). Each sample runs in a throw-away network namespace
//! (`unshare -n`) with eth0..eth3 like the reference run.
//!
//! Passes when, for every sample: the exit code is the same, and every line
//! keepalived printed (its "(FILE: Line N)" prefix removed) starts one of
//! our lines (our "file:line:col:" prefix removed; we may add a hint after
//! keepalived's text). Intentional differences are listed in
//! tests/data/config-test-exceptions.tsv and documented in docs/compat.md.

use std::path::{Path, PathBuf};
use std::process::Command;

fn shared_dir() -> Option<PathBuf> {
    if let Ok(d) = std::env::var("KA_SHARED_DIR") {
        return Some(PathBuf::from(d));
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let d = repo.join("../shared/keepalived");
    d.is_dir().then(|| d.canonicalize().unwrap_or(d))
}

/// Same set-up as shared/keepalived/run_config_tests.sh (netns variant),
/// without eth0.1: the reference machine had no VLAN support.
const NETNS_SETUP: &str = r#"
ip link set lo up
n=1
for i in eth0 eth1 eth2 eth3; do
  ip link add $i type veth peer name p$i && ip link set $i up && ip link set p$i up
  ip addr add 192.168.$((200+n)).250/24 dev $i
  ip addr add 10.$n.0.250/24 dev $i
  ip -6 addr add 2001:db8:$n::250/64 dev $i nodad
  n=$((n+1))
done
ip addr add 192.168.200.250/24 dev eth0
cd "$1" && exec "$3" -t -f "$1/$2"
"#;

fn strip_theirs(line: &str) -> String {
    // "(Line 15) msg" or "(file: Line 31) msg"
    if let Some(rest) = line.strip_prefix('(') {
        if let Some(close) = rest.find(") ") {
            let inner = &rest[..close];
            let tail = inner.rsplit(": ").next().unwrap_or(inner);
            if tail.starts_with("Line ") && tail[5..].chars().all(|c| c.is_ascii_digit()) {
                return rest[close + 2..].to_string();
            }
        }
    }
    line.to_string()
}

fn strip_ours(line: &str) -> String {
    // "path:line:col: msg"
    let b = line.as_bytes();
    let mut i = 0;
    while let Some(p) = line[i..].find(':') {
        let at = i + p;
        let rest = &line[at + 1..];
        let digits1 = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits1 > 0 && rest.as_bytes().get(digits1) == Some(&b':') {
            let rest2 = &rest[digits1 + 1..];
            let digits2 = rest2.bytes().take_while(u8::is_ascii_digit).count();
            if digits2 > 0 && rest2[digits2..].starts_with(": ") {
                return rest2[digits2 + 2..].to_string();
            }
        }
        i = at + 1;
        if i >= b.len() {
            break;
        }
    }
    line.to_string()
}

fn exceptions() -> Vec<(String, i32, String)> {
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/config-test-exceptions.tsv");
    let Ok(text) = std::fs::read_to_string(f) else { return Vec::new() };
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut it = l.splitn(3, '\t');
            Some((it.next()?.to_string(), it.next()?.parse().ok()?, it.next().unwrap_or("").to_string()))
        })
        .collect()
}

#[test]
fn samples_match_keepalived_2_2_7() {
    let Some(shared) = shared_dir() else {
        eprintln!("SKIP: ../shared/keepalived not found (set KA_SHARED_DIR)");
        return;
    };
    if !nix_is_root() || Command::new("unshare").args(["-n", "true"]).status().map(|s| !s.success()).unwrap_or(true) {
        eprintln!("SKIP: needs root and unshare -n");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_keepalived");
    let samples = shared.join("samples");
    let results = shared.join("config-test-2.2.7");
    let exc = exceptions();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut names: Vec<_> = std::fs::read_dir(&results)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".netns.rc"))
        .collect();
    names.sort();
    for rc_name in names {
        let sample = rc_name.trim_end_matches(".netns.rc").to_string();
        let path = samples.join(&sample);
        if !path.is_file() {
            continue;
        }
        let want_rc: i32 = std::fs::read_to_string(results.join(&rc_name)).unwrap().trim().parse().unwrap();
        let want_out = std::fs::read_to_string(results.join(format!("{sample}.netns.out"))).unwrap_or_default();
        let out = Command::new("timeout")
            .args(["60", "unshare", "-n", "bash", "-c", NETNS_SETUP, "_"])
            .arg(&samples)
            .arg(&sample)
            .arg(bin)
            .output()
            .expect("run keepalived-rs");
        let got_rc = out.status.code().unwrap_or(-1);
        let got = String::from_utf8_lossy(&out.stderr).into_owned();
        let ours: Vec<String> = got.lines().map(strip_ours).collect();
        let exc_rc = exc.iter().find(|e| e.0 == sample).map(|e| e.1);
        checked += 1;
        let expect_rc = exc_rc.unwrap_or(want_rc);
        if got_rc != expect_rc {
            failures.push(format!("{sample}: exit {got_rc}, keepalived 2.2.7 exits {want_rc} (expected {expect_rc})\n--- ours:\n{got}--- keepalived:\n{want_out}"));
            continue;
        }
        for l in want_out.lines().filter(|l| !l.trim().is_empty()) {
            let t = strip_theirs(l);
            if !ours.iter().any(|o| o.starts_with(&t)) {
                failures.push(format!("{sample}: keepalived printed {t:?}, we did not\n--- ours:\n{got}"));
            }
        }
    }
    assert!(checked > 20, "only {checked} samples checked");
    if !failures.is_empty() {
        panic!("{} difference(s) from keepalived 2.2.7:\n\n{}", failures.len(), failures.join("\n\n"));
    }
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

#[test]
fn prefix_stripping() {
    assert_eq!(strip_theirs("(Line 15) number '0'"), "number '0'");
    assert_eq!(strip_theirs("(a.conf: Line 31) WARNING - x"), "WARNING - x");
    assert_eq!(strip_theirs("(VI_1) State MASTER"), "(VI_1) State MASTER");
    assert_eq!(strip_ours("/x/a.conf:15:3: number '0'"), "number '0'");
    assert_eq!(strip_ours("(VI_1) x: y"), "(VI_1) x: y");
}
