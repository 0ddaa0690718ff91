//! The process model, end to end: the real binary, each daemon in its own
//! network namespace (unshare -n, with an eth0) and temporary directory
//! (config, pid files, log). Needs root; fails otherwise.

use keepalived_testkit::daemon::Unshared;
use keepalived_testkit::kernel::Kernel;
use keepalived_testkit::netns::samples_setup;
use keepalived_testkit::require;
use keepalived_testkit::wait_for;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_keepalived");

const VRRP: &str = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n virtual_ipaddress {\n  10.0.0.100\n }\n}\n";
const LVS: &str =
    "virtual_server 10.0.0.100 80 {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n real_server 10.0.0.2 80 {\n }\n}\n";
const BFD: &str = "bfd_instance B1 {\n neighbor_ip 10.0.0.2\n}\n";

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempdir(tag: &str) -> TempDir {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let d = std::env::temp_dir().join(format!("ka-rs-daemon-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
}

type Daemon = Unshared;

/// The network namespace of [`start`]: eth0 with 10.0.0.1/24.
const ETH0_SETUP: &str = "ip link set lo up; ip link add eth0 type veth peer name peth0; ip link set eth0 up; ip link set peth0 up; ip addr add 10.0.0.1/24 dev eth0";

/// Start keepalived-rs in a new network namespace that has eth0.
fn start(tag: &str, config: &str, extra: &[&str], env: &[(&str, &str)]) -> Daemon {
    start_in(tag, config, ETH0_SETUP, extra, env)
}

/// Start keepalived-rs in a new network namespace set up by the shell
/// commands `setup`.
fn start_in(tag: &str, config: &str, setup: &str, extra: &[&str], env: &[(&str, &str)]) -> Daemon {
    Unshared::start(BIN, &format!("daemon-{tag}"), setup, config, extra, env)
}

fn alive(pid: i32) -> bool {
    // A zombie is not alive: look at the state.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

fn wait_children(d: &Daemon, files: &[&str]) -> Vec<i32> {
    assert!(
        wait_for(Duration::from_secs(5), || files.iter().all(|f| d.pid_of(f).is_some_and(alive))),
        "children {files:?} did not start; log:\n{}",
        d.log()
    );
    files.iter().map(|f| d.pid_of(f).unwrap()).collect()
}

#[test]
fn the_right_children_start() {
    require(&["unshare"]);
    let cases: &[(&str, String, &[&str], &[&str])] = &[
        ("vrrp-only", VRRP.to_string(), &[], &["vrrp.pid"]),
        ("lvs-only", LVS.to_string(), &[], &["checkers.pid"]),
        ("bfd-only", BFD.to_string(), &[], &["bfd.pid"]),
        ("mixed", format!("{VRRP}{LVS}{BFD}"), &[], &["vrrp.pid", "checkers.pid", "bfd.pid"]),
        ("mixed-P", format!("{VRRP}{LVS}{BFD}"), &["-P"], &["vrrp.pid", "bfd.pid"]),
        ("mixed-C", format!("{VRRP}{LVS}{BFD}"), &["-C"], &["checkers.pid", "bfd.pid"]),
        ("mixed-B", format!("{VRRP}{LVS}{BFD}"), &["-B"], &["vrrp.pid", "checkers.pid"]),
    ];
    for (tag, conf, extra, want) in cases {
        let d = start(tag, conf, extra, &[]);
        wait_children(&d, want);
        std::thread::sleep(Duration::from_millis(300));
        for f in ["vrrp.pid", "checkers.pid", "bfd.pid"] {
            if !want.contains(&f) {
                assert!(d.pid_of(f).is_none(), "{tag}: {f} should not exist; log:\n{}", d.log());
            }
        }
        let n = count_children(d.pid());
        assert_eq!(n, want.len(), "{tag}: {n} children; log:\n{}", d.log());
    }
}

fn count_children(ppid: i32) -> usize {
    let mut n = 0;
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let name = e.file_name();
            let Some(pid) = name.to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                let after = stat.rsplit(')').next().unwrap_or("");
                let mut f = after.split_whitespace();
                let state = f.next().unwrap_or("");
                let p: i32 = f.next().and_then(|x| x.parse().ok()).unwrap_or(0);
                if p == ppid && state != "Z" {
                    n += 1;
                }
            }
        }
    }
    n
}

#[test]
fn killed_child_is_respawned_with_backoff() {
    require(&["unshare"]);
    let d = start("respawn", VRRP, &[], &[]);
    let first = wait_children(&d, &["vrrp.pid"])[0];
    // First death: restarted at once.
    let t0 = Instant::now();
    let _ = Command::new("kill").args(["-9", &first.to_string()]).status();
    assert!(wait_for(Duration::from_secs(4), || d.pid_of("vrrp.pid").is_some_and(|p| p != first && alive(p))));
    let quick = t0.elapsed();
    let second = d.pid_of("vrrp.pid").unwrap();
    // Second death within a minute: delayed 1 s.
    let t1 = Instant::now();
    let _ = Command::new("kill").args(["-9", &second.to_string()]).status();
    assert!(wait_for(Duration::from_secs(6), || d.pid_of("vrrp.pid").is_some_and(|p| p != second && alive(p))));
    let delayed = t1.elapsed();
    eprintln!("respawn after first kill: {quick:?}, after second: {delayed:?}");
    // Loose upper bound (CI machines are busy); the log says there was no delay.
    assert!(quick < Duration::from_secs(3), "first respawn took {quick:?}");
    assert!(delayed >= Duration::from_millis(950), "second respawn took {delayed:?}");
    assert!(d.log().contains("Restart of VRRP process delayed 1 seconds to limit respawn rate"), "{}", d.log());
    assert!(d.log().contains(&format!("VRRP child process({first}) died: Respawning")), "{}", d.log());
}

#[test]
fn stopped_child_is_restarted_by_the_watchdog() {
    require(&["unshare"]);
    let d = start("wdog", LVS, &[], &[("KEEPALIVED_RS_WATCHDOG_TIMEOUT_MS", "2000")]);
    let pid = wait_children(&d, &["checkers.pid"])[0];
    // The watchdog's start-up allowance lasts until the child's loop first answers (hellos go
    // out every second).
    std::thread::sleep(Duration::from_millis(1500));
    let t0 = Instant::now();
    let _ = Command::new("kill").args(["-STOP", &pid.to_string()]).status();
    assert!(
        wait_for(Duration::from_secs(8), || d.pid_of("checkers.pid").is_some_and(|p| p != pid && alive(p))),
        "not restarted; log:\n{}",
        d.log()
    );
    let took = t0.elapsed();
    eprintln!("stopped child replaced after {took:?} (watchdog timeout 2 s, hello every 1 s)");
    // 2 s without an answer, checked every second: well under 6 s even on a busy machine.
    assert!(took < Duration::from_secs(6), "{took:?}");
    assert!(!alive(pid));
    assert!(d.log().contains("has not answered the watchdog"), "{}", d.log());
}

/// A child still reading its configuration cannot answer hellos; the watchdog gives it a start-up
/// allowance until its loop first answers, instead of killing and respawning it forever (a child
/// reading a huge configuration for longer than the watchdog's timeout; here the test hook delays
/// the read by 5 s against a 2 s timeout).
#[test]
fn a_child_slow_to_start_is_not_killed() {
    require(&["unshare"]);
    let env = [("KEEPALIVED_RS_WATCHDOG_TIMEOUT_MS", "2000"), ("KEEPALIVED_RS_TEST_CHILD_START_DELAY_MS", "5000")];
    let d = start("slowstart", VRRP, &[], &env);
    // The pid file comes after the delayed read; then a few hellos.
    std::thread::sleep(Duration::from_secs(8));
    let log = d.log();
    assert!(!log.contains("has not answered the watchdog"), "{log}");
    assert_eq!(log.matches("Starting VRRP child process").count(), 1, "{log}");
    assert!(d.pid_of("vrrp.pid").is_some_and(alive), "{log}");
}

#[test]
fn children_die_with_the_parent() {
    require(&["unshare"]);
    let mut d = start("pdeath", &format!("{VRRP}{LVS}{BFD}"), &[], &[]);
    let pids = wait_children(&d, &["vrrp.pid", "checkers.pid", "bfd.pid"]);
    let _ = Command::new("kill").args(["-9", &d.pid().to_string()]).status();
    let _ = d.wait_exit(Duration::from_secs(2));
    assert!(
        wait_for(Duration::from_secs(1), || pids.iter().all(|p| !alive(*p))),
        "children left after the parent's SIGKILL: {:?}",
        pids.iter().filter(|p| alive(**p)).collect::<Vec<_>>()
    );
}

#[test]
fn sigterm_stops_cleanly() {
    require(&["unshare"]);
    let mut d = start("term", &format!("{VRRP}{LVS}{BFD}"), &[], &[]);
    wait_children(&d, &["vrrp.pid", "checkers.pid", "bfd.pid"]);
    assert!(d.pid_of("keepalived.pid").is_some());
    d.signal("TERM");
    assert_eq!(d.wait_exit(Duration::from_secs(8)), Some(0), "log:\n{}", d.log());
    for f in ["keepalived.pid", "vrrp.pid", "checkers.pid", "bfd.pid"] {
        assert!(!d.path(f).exists(), "{f} left behind");
    }
    assert!(d.log().contains("Stopping"));
}

#[test]
fn second_daemon_is_refused() {
    require(&["unshare"]);
    let d = start("dup", VRRP, &[], &[]);
    let first = wait_children(&d, &["vrrp.pid"])[0];
    let out = Command::new("unshare")
        .args(["-n", BIN, "-n", "-l", "-G", "-f"])
        .arg(d.path("keepalived.conf"))
        .args(["-p".as_ref(), d.path("keepalived.pid").as_os_str()])
        .args(["-r".as_ref(), d.path("vrrp.pid").as_os_str()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("daemon is already running"), "{err}");
    assert_eq!(out.status.code(), Some(0), "keepalived exits 0 here");
    assert!(alive(first) && alive(d.pid()));
}

fn fd_count(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|r| r.count()).unwrap_or(0)
}

#[test]
fn broken_config_is_refused_at_reload_with_reload_check_config() {
    require(&["unshare"]);
    let dir_conf = format!("global_defs {{\n reload_check_config\n}}\n{VRRP}{LVS}");
    let d = start("reloadcheck", &dir_conf, &[], &[]);
    let pids = wait_children(&d, &["vrrp.pid", "checkers.pid"]);
    // A keyword that lost its parameter: keepalived exits 2 on it.
    let broken = dir_conf.replace("virtual_router_id 51", "virtual_router_id");
    std::fs::write(d.path("keepalived.conf"), broken).unwrap();
    d.signal("HUP");
    assert!(wait_for(Duration::from_secs(8), || d.log().contains("New config failed validation")), "log:\n{}", d.log());
    std::thread::sleep(Duration::from_millis(300));
    assert!(pids.iter().all(|p| alive(*p)), "children changed; log:\n{}", d.log());
    assert_eq!(d.pid_of("vrrp.pid"), Some(pids[0]));
    assert!(alive(d.pid()));
}

#[test]
fn missing_parameter_at_reload_ends_the_daemon_with_status_2() {
    require(&["unshare"]);
    let mut d = start("reload2", VRRP, &[], &[]);
    wait_children(&d, &["vrrp.pid"]);
    std::fs::write(d.path("keepalived.conf"), VRRP.replace("virtual_router_id 51", "virtual_router_id")).unwrap();
    d.signal("HUP");
    assert_eq!(d.wait_exit(Duration::from_secs(10)), Some(2), "log:\n{}", d.log());
    assert!(d.log().contains("exited with permanent error CONFIG. Terminating"), "{}", d.log());
}

#[test]
fn permanent_child_errors_end_the_daemon_with_that_status() {
    require(&["unshare"]);
    for (code, what) in [(1, "FATAL"), (2, "CONFIG"), (4, "missing permission")] {
        let v = format!("checker={code}");
        let mut d = start("exitcode", &format!("{VRRP}{LVS}"), &[], &[("KEEPALIVED_RS_TEST_CHILD_EXIT", &v)]);
        assert_eq!(d.wait_exit(Duration::from_secs(10)), Some(code), "log:\n{}", d.log());
        assert!(d.log().contains(&format!("exited with permanent error {what}. Terminating")), "{}", d.log());
        // The other child was stopped too.
        assert!(!d.path("vrrp.pid").exists());
    }
}

#[test]
fn signum_matches_keepalived() {
    let theirs = Path::new("/usr/sbin/keepalived");
    for name in ["STOP", "RELOAD", "DATA", "STATS", "STATS_CLEAR", "JSON", "TDUMP", "NOPE"] {
        let ours = Command::new(BIN).arg(format!("--signum={name}")).output().unwrap();
        if theirs.exists() {
            let k = Command::new(theirs).arg(format!("--signum={name}")).output().unwrap();
            assert_eq!(ours.status.code(), k.status.code(), "{name}");
            assert_eq!(ours.stdout, k.stdout, "{name}");
            assert_eq!(ours.stderr, k.stderr, "{name}");
        }
    }
    let ours = Command::new(BIN).arg("--signum=JSON").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&ours.stdout).trim(), "36");
}

#[test]
fn a_hundred_reloads_leak_no_file_descriptors() {
    require(&["unshare"]);
    let d = start("fdleak", &format!("{VRRP}{LVS}{BFD}"), &[], &[]);
    let mut pids = wait_children(&d, &["vrrp.pid", "checkers.pid", "bfd.pid"]);
    pids.push(d.pid());
    // Let start-up settle, then count.
    std::thread::sleep(Duration::from_millis(500));
    let before: Vec<usize> = pids.iter().map(|p| fd_count(*p)).collect();
    for _ in 0..100 {
        d.signal("HUP");
        // Reloads may queue; pace them a little so they complete.
        std::thread::sleep(Duration::from_millis(30));
    }
    // Wait for the last reload to be processed.
    std::thread::sleep(Duration::from_secs(2));
    let after: Vec<usize> = pids.iter().map(|p| fd_count(*p)).collect();
    assert!(pids.iter().all(|p| alive(*p)), "a process died during the reloads; log:\n{}", d.log());
    assert_eq!(before, after, "fd counts (vrrp, checker, bfd, parent) changed");
    assert!(d.log().matches("Reloading ...").count() >= 10, "reloads not seen");
}

#[test]
fn data_and_stats_dumps_on_signals() {
    require(&["unshare"]);
    let d = start("dumps", &format!("{VRRP}{LVS}"), &[], &[]);
    wait_children(&d, &["vrrp.pid", "checkers.pid"]);
    d.signal("USR1");
    d.signal("USR2");
    let json = Command::new(BIN).arg("--signum=JSON").output().unwrap();
    let json_sig = String::from_utf8_lossy(&json.stdout).trim().to_string();
    d.signal(&json_sig);
    let tmp = &d.dir;
    for f in
        ["keepalived_parent.data", "keepalived.data", "keepalived_check.data", "keepalived.stats", "keepalived.json"]
    {
        assert!(wait_for(Duration::from_secs(3), || tmp.join(f).exists()), "{f} not written; log:\n{}", d.log());
    }
    let stats = std::fs::read_to_string(tmp.join("keepalived.stats")).unwrap();
    assert!(stats.starts_with("VRRP Instance: VI_1\n  Advertisements:\n    Received: 0\n"), "{stats}");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.join("keepalived.json")).unwrap()).unwrap();
    assert_eq!(j[0]["data"]["iname"], "VI_1");
}

#[test]
fn systemd_notifications() {
    require(&["unshare"]);
    let dir = tempdir("sdnotify");
    let sock_path = dir.0.join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let path = sock_path.to_string_lossy().into_owned();
    let mut d = start("sdnotify", &format!("{VRRP}{LVS}"), &[], &[("NOTIFY_SOCKET", &path)]);
    let recv = || {
        let mut buf = [0u8; 512];
        let n = sock.recv(&mut buf).expect("a notification");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let ready = recv();
    assert_eq!(ready.trim(), "READY=1", "first notification");
    // Both children had started and read their configuration by then.
    assert!(d.pid_of("vrrp.pid").is_some() && d.pid_of("checkers.pid").is_some());
    d.signal("HUP");
    let reloading = recv();
    assert!(reloading.starts_with("RELOADING=1\nMONOTONIC_USEC="), "{reloading:?}");
    assert_eq!(recv().trim(), "READY=1", "after the reload");
    d.signal("TERM");
    assert_eq!(recv().trim(), "STOPPING=1");
    assert_eq!(d.wait_exit(Duration::from_secs(8)), Some(0));
    drop(dir);
}

#[test]
fn respawned_child_reads_the_parents_copy_not_the_edited_file() {
    require(&["unshare"]);
    let d = start("copy", VRRP, &[], &[]);
    let first = wait_children(&d, &["vrrp.pid"])[0];
    // Edit the file on disk, without a reload.
    std::fs::write(d.path("keepalived.conf"), VRRP.replace("VI_1", "VI_EDITED")).unwrap();
    let _ = Command::new("kill").args(["-9", &first.to_string()]).status();
    assert!(wait_for(Duration::from_secs(4), || d.pid_of("vrrp.pid").is_some_and(|p| p != first && alive(p))));
    std::thread::sleep(Duration::from_millis(300));
    let data = d.dir.join("keepalived.data");
    d.signal("USR1");
    assert!(
        wait_for(Duration::from_secs(3), || std::fs::read_to_string(&data).is_ok_and(|s| s.contains("VRRP Instance")))
    );
    let text = std::fs::read_to_string(&data).unwrap();
    assert!(text.contains("VRRP Instance = VI_1") && !text.contains("VI_EDITED"), "{text}");
    // A reload takes the edit.
    let _ = std::fs::remove_file(&data);
    d.signal("HUP");
    std::thread::sleep(Duration::from_millis(500));
    d.signal("USR1");
    assert!(
        wait_for(Duration::from_secs(3), || std::fs::read_to_string(&data).is_ok_and(|s| s.contains("VI_EDITED"))),
        "{}",
        d.log()
    );
}

#[test]
fn vrrp_master_installs_its_vip_and_runs_notify_scripts() {
    require(&["unshare"]);
    let dir = tempdir("notify-script");
    let script = dir.0.join("n.sh");
    let out = dir.0.join("out");
    std::fs::write(&script, format!("#!/bin/sh\necho \"$@\" >> {}\n", out.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let conf = format!(
        "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n priority 100\n advert_int 1\n \
         notify_master {s}\n notify \"{s} generic\"\n virtual_ipaddress {{\n  10.0.0.100/24\n }}\n}}\n",
        s = script.display()
    );
    let mut d = start("notify", &conf, &["-P"], &[]);
    // Alone on the segment: MASTER after 3 × 1 s + skew. Both scripts run as separate processes (as in
    // keepalived), so wait for both lines: either may land first.
    let both = |t: &str| t.contains("MASTER") && t.lines().any(|l| l.is_empty());
    assert!(
        wait_for(Duration::from_secs(8), || std::fs::read_to_string(&out).is_ok_and(|t| both(&t))),
        "no MASTER notify from both scripts; out: {:?}; log:\n{}",
        std::fs::read_to_string(&out).unwrap_or_default(),
        d.log()
    );
    let text = std::fs::read_to_string(&out).unwrap();
    // keepalived's arguments: notify_master none; the generic notify gets INSTANCE NAME STATE PRIORITY.
    assert!(text.lines().any(|l| l == "generic INSTANCE VI_1 MASTER 100"), "{text}");
    assert!(text.lines().any(|l| l.is_empty()), "notify_master runs without arguments: {text}");
    assert!(d.log().contains("(VI_1) Entering MASTER STATE"), "{}", d.log());
    d.signal("TERM");
    assert_eq!(d.wait_exit(Duration::from_secs(8)), Some(0));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.lines().any(|l| l.starts_with("generic INSTANCE VI_1 STOP")), "{text}");
}

#[test]
fn tracked_script_failure_puts_the_instance_in_fault() {
    require(&["unshare"]);
    let dir = tempdir("track-script");
    let rc = dir.0.join("rc");
    let script = dir.0.join("chk.sh");
    std::fs::write(&rc, "1").unwrap();
    std::fs::write(&script, format!("#!/bin/sh\nexit $(cat {})\n", rc.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let conf = format!(
        "vrrp_script chk {{\n script {}\n interval 0.2\n}}\nvrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n \
         priority 100\n advert_int 1\n track_script {{\n  chk\n }}\n virtual_ipaddress {{\n  10.0.0.100/24\n }}\n}}\n",
        script.display()
    );
    let d = start("trackscript", &conf, &["-P"], &[]);
    // keepalived 2.2.7 waits in FAULT silently while the script is in its
    // init state, and logs only the script's first (failed) result.
    let failed = "VRRP_Script(chk) failed (exited with status 1)";
    assert!(wait_for(Duration::from_secs(5), || d.log().contains(failed)), "{}", d.log());
    std::thread::sleep(Duration::from_secs(1));
    assert!(!d.log().contains("Entering MASTER STATE"), "master while its script fails:\n{}", d.log());
    std::fs::write(&rc, "0").unwrap();
    assert!(wait_for(Duration::from_secs(8), || d.log().contains("(VI_1) Entering MASTER STATE")), "{}", d.log());
    std::fs::write(&rc, "1").unwrap();
    assert!(wait_for(Duration::from_secs(3), || d.log().contains("(VI_1) Entering FAULT STATE")), "{}", d.log());
}

#[test]
fn dont_release_vrrp_keeps_the_vip_at_stop() {
    require(&["unshare"]);
    let conf = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n advert_int 1\n \
                virtual_ipaddress {\n  10.0.0.100/24\n }\n}\n";
    for (flags, kept) in [(vec!["-P"], false), (vec!["-P", "-V"], true)] {
        let mut d = start("dontrelease", conf, &flags, &[]);
        assert!(wait_for(Duration::from_secs(8), || d.log().contains("Entering MASTER STATE")), "{}", d.log());
        // The namespace lives as long as the daemon: look from inside it via /proc.
        let pid = d.pid();
        let has_vip = || Kernel::of_pid(pid).has_addr(Some("eth0"), "10.0.0.100");
        assert!(wait_for(Duration::from_secs(2), has_vip), "VIP not installed");
        // Stop the VRRP child only, so the namespace (held by the parent) stays to be inspected.
        let v = d.pid_of("vrrp.pid").unwrap();
        let _ = Command::new("kill").args(["-STOP", &pid.to_string()]).status();
        let _ = Command::new("kill").args(["-TERM", &v.to_string()]).status();
        assert!(wait_for(Duration::from_secs(4), || !alive(v)));
        assert_eq!(has_vip(), kept, "flags {flags:?}");
        let _ = Command::new("kill").args(["-CONT", &pid.to_string()]).status();
        d.signal("TERM");
        let _ = d.wait_exit(Duration::from_secs(8));
    }
}

/// keepalived's own VRRP sample configurations (copied from
/// shared/keepalived/samples into tests/data/samples).
const VRRP_SAMPLES: &[&str] = &[
    "keepalived.conf.vrrp",
    "keepalived.conf.vrrp.localcheck",
    "keepalived.conf.vrrp.lvs_syncd",
    "keepalived.conf.vrrp.routes",
    "keepalived.conf.vrrp.rules",
    "keepalived.conf.vrrp.scripts",
    "keepalived.conf.vrrp.static_ipaddress",
    "keepalived.conf.vrrp.sync",
    "keepalived.conf.track_interface",
    "keepalived.conf.conditional_conf",
    "keepalived.conf.sample",
    "docker.keepalived.conf",
    "etc.keepalived.conf",
    "json_tracking.rendered_2vlans.conf",
    "test_mk_lots.generated.conf",
];

/// Where a log line shows a Rust Debug form instead of keepalived's text
/// or a sentence: `Some(`, `None`, `Ok(`, `Err(`, a struct literal
/// (`Name { field: `) or a quoted string right after an identifier
/// (`MissingVrid("VI_1")`).
fn debug_form(line: &str) -> Option<&'static str> {
    let b = line.as_bytes();
    for (pat, what) in [("Some(", "Some("), ("Ok(", "Ok("), ("Err(", "Err(")] {
        let mut from = 0;
        while let Some(p) = line[from..].find(pat) {
            let at = from + p;
            if at == 0 || !(b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'_') {
                return Some(what);
            }
            from = at + 1;
        }
    }
    if line.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').any(|w| w == "None") {
        return Some("None");
    }
    for (i, w) in b.windows(2).enumerate() {
        // identifier immediately followed by ("
        if w == b"(\"" && i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') {
            return Some("Ident(\"");
        }
        // Name { field:
        if w == b" {" && i > 0 && b[i - 1].is_ascii_alphanumeric() {
            let rest = &line[i + 2..];
            let rest = rest.trim_start();
            let field: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !field.is_empty() && rest[field.len()..].starts_with(": ") {
                return Some("struct literal");
            }
        }
    }
    None
}

#[test]
fn debug_form_detector() {
    assert_eq!(debug_form("VRRP configuration: MissingVrid(\"VI_1\")"), Some("Ident(\""));
    assert_eq!(debug_form("state Some(Master)"), Some("Some("));
    assert_eq!(debug_form("got None"), Some("None"));
    assert_eq!(debug_form("x: Err(Os { code: 2 })"), Some("Err("));
    assert_eq!(debug_form("UnknownMember { group: \"G\", instance: \"I\" }"), Some("struct literal"));
    assert_eq!(debug_form("(VI_1) Entering MASTER STATE"), None);
    assert_eq!(debug_form("VRRP_Script(chk) succeeded"), None);
    assert_eq!(debug_form("Opening file '/etc/keepalived/keepalived.conf'."), None);
    assert_eq!(debug_form("(VI_1) Receive advertisement timeout"), None);
}

/// Our daemon over keepalived's VRRP samples (`-n -l -D`), each for a few
/// seconds: no log line may show a Rust Debug form.
#[test]
fn vrrp_sample_logs_have_no_debug_forms() {
    require(&["unshare"]);
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/samples");
    // The interfaces and addresses the samples name; the VLANs eth0.N are
    // plain veths, as the test kernel may lack VLAN support.
    let setup = samples_setup(&["eth0", "eth1", "eth2", "eth3", "eth0.1", "eth0.2", "eth0.3"]);
    let daemons: Vec<(&str, Daemon)> = VRRP_SAMPLES
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(data.join(name)).unwrap();
            (*name, start_in("samplelog", &text, &setup, &["-D"], &[]))
        })
        .collect();
    // Every daemon started (the namespace set-up of seven daemons can take
    // seconds on a loaded machine), then long enough for the instances to
    // time out of BACKUP into MASTER.
    for (name, d) in &daemons {
        assert!(wait_for(Duration::from_secs(30), || d.log().contains("Starting Keepalived")), "{name}: no log");
    }
    std::thread::sleep(Duration::from_secs(5));
    let mut hits = Vec::new();
    for (name, mut d) in daemons {
        d.signal("TERM");
        let _ = d.wait_exit(Duration::from_secs(8));
        let log = d.log();
        assert!(log.contains("Starting Keepalived"), "{name}: no log:\n{log}");
        for line in log.lines() {
            if let Some(what) = debug_form(line) {
                hits.push(format!("{name}: {what}: {line}"));
            }
        }
    }
    assert!(hits.is_empty(), "Debug forms in the log:\n{}", hits.join("\n"));
}

/// Issue 14 item 7 said, until the BFD child existed, that a configuration
/// with bfd_instance blocks runs no session; with the BFD child (issue 13)
/// nothing of the kind is said.
#[test]
fn bfd_instances_get_no_not_running_notice_at_start_up() {
    require(&["unshare"]);
    const NOTICE: &str = "This build of keepalived-rs does not run BFD yet";
    let d = start("bfdnotice", &format!("{BFD}{VRRP}"), &[], &[]);
    wait_children(&d, &["vrrp.pid", "bfd.pid"]);
    assert!(!d.log().contains(NOTICE), "log:\n{}", d.log());
    let d = start("nobfdnotice", &format!("{VRRP}{LVS}"), &[], &[]);
    wait_children(&d, &["vrrp.pid", "checkers.pid"]);
    assert!(!d.log().contains(NOTICE), "log:\n{}", d.log());
}
