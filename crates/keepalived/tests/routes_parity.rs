//! `static_ipaddress`, `static_routes`, `static_rules`, `virtual_routes`
//! and `virtual_rules`, compared with the real keepalived 2.2.7: the same
//! configuration runs under each implementation in its own network
//! namespace; while the instance is MASTER, and after SIGTERM, the kernel's
//! addresses, routes (all tables) and rules must read the same.
//! Needs root and /usr/sbin/keepalived; skipped otherwise.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn sh(cmd: &str) -> String {
    let out = Command::new("sh").args(["-c", cmd]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const CONF: &str = "global_defs {
    router_id routes
}
static_ipaddress {
    192.0.2.10/24 dev eth1
}
static_routes {
    203.0.113.0/24 via 192.0.2.1 dev eth1
    blackhole 198.18.0.0/16
}
static_rules {
    from 192.0.2.10/32 table 100 priority 100
}
vrrp_instance VI_R {
    state BACKUP
    interface eth0
    virtual_router_id 81
    priority 100
    advert_int 1
    virtual_ipaddress {
        198.51.100.81/24
    }
    virtual_routes {
        198.51.100.128/25 via 198.51.100.254 dev eth0 table 200
        src 198.51.100.81 203.0.113.128/25 via 198.51.100.254
    }
    virtual_rules {
        from 198.51.100.81/32 table 200 priority 200
        to 203.0.113.128/25 table 200 priority 201
    }
}
";

struct State {
    master: String,
    stopped: String,
}

fn snapshot(n: &str) -> String {
    let addrs = sh(&format!("ip -n {n} -o addr show | awk '{{print $2, $3, $4}}' | grep -v '^lo ' | grep -v inet6"));
    let routes =
        sh(&format!("ip -n {n} route show table all | grep -v '^local\\|^broadcast\\|^multicast\\|fe80\\|ff00' "));
    let rules = sh(&format!("ip -n {n} rule show"));
    format!("{addrs}--\n{routes}--\n{rules}")
}

fn scenario(tag: &str, binary: &str) -> State {
    let dir = PathBuf::from(format!("/tmp/ka-rs-routes-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, CONF).unwrap();
    let n = format!("karp{}{tag}", std::process::id() % 100000);
    let setup = format!(
        "ip netns del {n} 2>/dev/null; set -e; ip netns add {n}; ip -n {n} link set lo up; \
         ip -n {n} link add eth0 type veth peer name peth0; ip -n {n} link add eth1 type veth peer name peth1; \
         for i in eth0 peth0 eth1 peth1; do ip -n {n} link set $i up; done; \
         ip -n {n} addr add 198.51.100.1/24 dev eth0"
    );
    assert!(Command::new("sh").args(["-c", &setup]).status().unwrap().success());
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
    let end = Instant::now() + Duration::from_secs(15);
    while !sh(&format!("ip -n {n} -o addr show")).contains("198.51.100.81/") {
        assert!(Instant::now() < end, "{tag}: never master; log in {d}/daemon.log");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1000));
    let master = snapshot(&n);
    let pid: i32 = std::fs::read_to_string(format!("{d}/k.pid")).unwrap().trim().parse().unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM).unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    while !matches!(child.try_wait(), Ok(Some(_))) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let stopped = snapshot(&n);
    let _ = Command::new("ip").args(["netns", "del", &n]).status();
    let _ = std::fs::remove_dir_all(&dir);
    State { master, stopped }
}

#[test]
fn static_and_virtual_routes_and_rules_match_keepalived_2_2_7() {
    if !nix::unistd::getuid().is_root() || !Path::new("/usr/sbin/keepalived").exists() {
        eprintln!("SKIP: needs root and /usr/sbin/keepalived");
        return;
    }
    let theirs = scenario("ka", "/usr/sbin/keepalived");
    let ours = scenario("rs", env!("CARGO_BIN_EXE_keepalived"));
    println!("== keepalived 2.2.7, master:\n{}\n== keepalived-rs, master:\n{}", theirs.master, ours.master);
    assert!(theirs.master.contains("table 200"), "keepalived did not install the virtual routes:\n{}", theirs.master);
    assert_eq!(ours.master, theirs.master, "kernel state while MASTER differs");
    assert_eq!(ours.stopped, theirs.stopped, "kernel state after stop differs");
}
