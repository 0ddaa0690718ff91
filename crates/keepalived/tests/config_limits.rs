//! Pathological configurations through the binary (issue 16), under a
//! bounded address space (`prlimit --as`) and a deadline, so that a limit
//! that regressed fails the test instead of exhausting the machine: `-t`
//! and a daemon start both end, with the message keepalived-rs gives.
//! The same inputs are checked in detail, in-process, by
//! crates/config/tests/pathological.rs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_keepalived");
/// Far above what a debug build needs for these (it runs in 256 MiB).
const AS_LIMIT: &str = "--as=1073741824";

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(tag: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("ka-rs-limits-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}

/// `keepalived -t -f conf` under the address-space limit; (exit code,
/// stderr), failing the test past `secs` or on a signal.
fn config_test(conf: &Path, secs: u64) -> (i32, String) {
    let mut child = Command::new("prlimit")
        .args([AS_LIMIT, "--", BIN, "-t", "-f"])
        .arg(conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run prlimit keepalived");
    // Drain stderr on a thread: a full pipe must not stall the child.
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{}: still running after {secs} s", conf.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = reader.join().unwrap();
    let code =
        status.code().unwrap_or_else(|| panic!("{}: killed by a signal ({status}); stderr:\n{out}", conf.display()));
    (code, out)
}

fn write(d: &Dir, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let p = d.0.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn memory_heavy_inputs_end_within_bounds() {
    keepalived_testkit::prereq::require_tools(&["prlimit"]);
    let d = dir("t");
    std::fs::File::create(d.0.join("huge.conf")).unwrap().set_len(100 << 30).unwrap();
    let mut exp = String::from("$D0=x x\n");
    for i in 1..=40 {
        exp.push_str(&format!("$D{i}=$D{} $D{}\n", i - 1, i - 1));
    }
    exp.push_str("global_defs {\n router_id $D40\n}\n");
    let cases: Vec<(&str, Vec<u8>, i32, &str)> = vec![
        ("sparse", b"include huge.conf\n".to_vec(), 0, "huge.conf' open problem (larger than 64 MiB) - skipping"),
        (
            "longline",
            format!("global_defs {{\n{}\n}}\n", "a".repeat(10_000_000)).into_bytes(),
            5,
            "line too long - ignoring",
        ),
        (
            "defexp",
            exp.into_bytes(),
            0,
            "Parameter substitution on line 'router_id $D40' would exceed maximum line length",
        ),
        (
            "defself",
            b"$A=$A\nglobal_defs {\n router_id $A\n}\n".to_vec(),
            5,
            "does not end after 10000 substitutions - a definition refers to itself?",
        ),
        (
            "seqhuge",
            b"global_defs {\n~SEQ(i,0,1,4000000000) router_id r$i\n}\n".to_vec(),
            5,
            "~SEQ has 4000000001 values, more than the maximum of 100000",
        ),
        (
            "seqnest",
            b"global_defs {\n~SEQ(i,1,100000) ~SEQ(j,1,100000) router_id r$i$j\n}\n".to_vec(),
            5,
            "~SEQ would make more than 1000000 lines",
        ),
        (
            "self",
            b"include self.conf\n".to_vec(),
            0,
            "self.conf' open problem (include loop: the file is already being read) - skipping",
        ),
        (
            "braces",
            format!("global_defs {{\n{}", "{\n".repeat(100_000)).into_bytes(),
            5,
            "There are 100001 missing '}'s or extra '{'s",
        ),
    ];
    for (name, text, want_rc, want) in cases {
        let conf = write(&d, &format!("{name}.conf"), text);
        let (rc, out) = config_test(&conf, 20);
        assert!(out.contains(want), "{name}: no '{want}' in:\n{}", tail(&out));
        assert_eq!(rc, want_rc, "{name}:\n{}", tail(&out));
    }
}

#[test]
fn a_multiline_definition_naming_itself_ends() {
    keepalived_testkit::prereq::require_tools(&["prlimit"]);
    let d = dir("ml");
    let conf = write(&d, "ml.conf", "$M=router_id x \\\n$M\n\nglobal_defs {\n$M\n}\n");
    let (rc, out) = config_test(&conf, 30);
    assert!(
        out.contains("multi-line definition expansion makes more than 1000000 lines - ignoring the rest"),
        "{}",
        tail(&out)
    );
    assert_eq!(rc, 5);
}

#[test]
fn a_fifo_include_does_not_block() {
    keepalived_testkit::prereq::require_tools(&["prlimit"]);
    let d = dir("fifo");
    assert!(Command::new("mkfifo").arg(d.0.join("pipe.conf")).status().unwrap().success());
    let conf = write(&d, "main.conf", "include pipe.conf\n");
    let (rc, out) = config_test(&conf, 10);
    assert!(out.contains("pipe.conf' is not a regular non-executable file - skipping"), "{out}");
    assert_eq!(rc, 0);
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(5)..]
        .iter()
        .map(|l| l.chars().take(300).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A daemon start reads the same front end, in the parent and again in
/// each child (from the consolidated copy): it reports and runs.
#[test]
fn a_daemon_starts_despite_pathological_lines() {
    keepalived_testkit::require(&["prlimit", "unshare"]);
    let d = dir("daemon");
    std::fs::File::create(d.0.join("huge.conf")).unwrap().set_len(100 << 30).unwrap();
    let conf = write(
        &d,
        "keepalived.conf",
        "include keepalived.conf\ninclude huge.conf\n$A=$A\nglobal_defs {\n router_id $A\n\
         ~SEQ(i,0,1,4000000000) router_id r$i\n~SEQ(i,1,100000) ~SEQ(j,1,100000) router_id r$i$j\n}\n\
         vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n virtual_ipaddress {\n  10.0.0.100\n }\n}\n",
    );
    let p = |f: &str| d.0.join(f).to_string_lossy().into_owned();
    let log = std::fs::File::create(d.0.join("log")).unwrap();
    let setup = "ip link set lo up; ip link add eth0 type veth peer name peth0; ip link set eth0 up; ip addr add 10.0.0.1/24 dev eth0";
    let mut child = Command::new("unshare")
        .args(["-n", "bash", "-c"])
        .arg(format!("{setup}; exec prlimit {AS_LIMIT} -- \"$0\" \"$@\""))
        .arg(BIN)
        .args(["-n", "-l", "-G", "-P", "-f"])
        .arg(&conf)
        .args(["-p", &p("k.pid"), "-r", &p("v.pid"), "-c", &p("c.pid"), "-b", &p("b.pid")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .env("TMPDIR", &d.0)
        .spawn()
        .unwrap();
    let read_log = || std::fs::read_to_string(d.0.join("log")).unwrap_or_default();
    let start = Instant::now();
    while !read_log().contains("Starting VRRP child process") && start.elapsed() < Duration::from_secs(20) {
        assert!(child.try_wait().unwrap().is_none(), "the daemon ended:\n{}", read_log());
        std::thread::sleep(Duration::from_millis(50));
    }
    // Past the 5 s watchdog: the child parsed the copy and runs.
    std::thread::sleep(Duration::from_secs(6));
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let log = read_log();
    for want in [
        "keepalived.conf' open problem (include loop: the file is already being read) - skipping",
        "huge.conf' open problem (larger than 64 MiB) - skipping",
        "does not end after 10000 substitutions",
        "~SEQ has 4000000001 values",
        "~SEQ would make more than 1000000 lines",
        "Starting VRRP child process",
    ] {
        assert!(log.contains(want), "no '{want}' in:\n{log}");
    }
    for bad in ["Respawning", "watchdog", "panicked", "signal"] {
        assert!(!log.contains(bad), "'{bad}' in:\n{log}");
    }
}
