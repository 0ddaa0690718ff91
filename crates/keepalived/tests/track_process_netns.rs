//! `vrrp_track_process` inside a network namespace, compared with the real
//! keepalived 2.2.7: the kernel only delivers process events (proc
//! connector) in the initial network namespace, so both daemons run
//! unmonitored there: a weight-0 tracker whose process cannot be seen keeps
//! the instance in FAULT, with no VIP, under both. (The matching, quorum
//! and delays are tested against the real kernel in
//! crates/netlink/tests/procmon.rs, from the initial namespace.)
//! Needs root and /usr/sbin/keepalived; skipped otherwise.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn sh(cmd: &str) -> String {
    let out = Command::new("sh").args(["-c", cmd]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const CONF: &str = "global_defs {
    router_id tp
}
vrrp_track_process TP {
    process sleep
    weight 0
}
vrrp_instance VI_TP {
    state BACKUP
    interface eth0
    virtual_router_id 91
    priority 100
    advert_int 1
    track_process {
        TP
    }
    virtual_ipaddress {
        198.51.100.91/24
    }
}
";

fn scenario(tag: &str, binary: &str) -> (bool, String) {
    let dir = PathBuf::from(format!("/tmp/ka-rs-tp-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, CONF).unwrap();
    let n = format!("katp{}{tag}", std::process::id() % 100000);
    let setup = format!(
        "ip netns del {n} 2>/dev/null; set -e; ip netns add {n}; ip -n {n} link set lo up; \
         ip -n {n} link add eth0 type veth peer name peth0; ip -n {n} link set eth0 up; ip -n {n} link set peth0 up; \
         ip -n {n} addr add 198.51.100.1/24 dev eth0"
    );
    assert!(Command::new("sh").args(["-c", &setup]).status().unwrap().success());
    // A matching process runs the whole time (visible from any namespace).
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let d = dir.display().to_string();
    let log = std::fs::File::create(dir.join("daemon.log")).unwrap();
    let mut child = Command::new("ip")
        .args(["netns", "exec", &n, binary, "-n", "-l", "-D", "-P", "-f"])
        .arg(&conf)
        .args(["-p", &format!("{d}/k.pid"), "-r", &format!("{d}/v.pid"), "-c", &format!("{d}/c.pid")])
        .args(["-b", &format!("{d}/b.pid")])
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    // Long enough for a master election (3 x 1 s + skew) had the tracker been up.
    std::thread::sleep(Duration::from_millis(5500));
    let has_vip = sh(&format!("ip -n {n} -o addr show")).contains("198.51.100.91/");
    if let Ok(pid) = std::fs::read_to_string(format!("{d}/k.pid")) {
        if let Ok(pid) = pid.trim().parse::<i32>() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
        }
    }
    std::thread::sleep(Duration::from_millis(1500));
    let _ = child.kill();
    let _ = child.wait();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    let log = std::fs::read_to_string(dir.join("daemon.log")).unwrap_or_default();
    let _ = Command::new("ip").args(["netns", "del", &n]).status();
    let _ = std::fs::remove_dir_all(&dir);
    (has_vip, log)
}

#[test]
fn track_process_in_a_netns_behaves_as_keepalived_2_2_7() {
    if !nix::unistd::getuid().is_root() || !Path::new("/usr/sbin/keepalived").exists() {
        eprintln!("SKIP: needs root and /usr/sbin/keepalived");
        return;
    }
    let (theirs_vip, theirs_log) = scenario("ka", "/usr/sbin/keepalived");
    let (ours_vip, ours_log) = scenario("rs", env!("CARGO_BIN_EXE_keepalived"));
    println!("VIP present: keepalived 2.2.7 {theirs_vip}, keepalived-rs {ours_vip}");
    assert_eq!(ours_vip, theirs_vip, "keepalived log:\n{theirs_log}\nour log:\n{ours_log}");
    assert!(ours_log.contains("FAULT"), "our instance should be in FAULT:\n{ours_log}");
}
