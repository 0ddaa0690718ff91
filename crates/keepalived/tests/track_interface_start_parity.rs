//! An interface that is already down when the daemon starts, compared with the
//! real keepalived 2.2.7: `VI_T` tracks `trk0` (weight 0), `VI_W` tracks it
//! with weight -50 and `VI_R` with `weight 0 reverse`. With `trk0` down at
//! start, `VI_T` must start in FAULT (its address never appears, 2.2.7's
//! "entering FAULT state (interface trk0 down)" line), `VI_W` must run at
//! priority 150 and `VI_R` must become MASTER; once `trk0` comes up, `VI_T`
//! becomes MASTER and `VI_R` goes to FAULT.
//! (keepalived-rs used to take every interface as up until the link monitor
//! said otherwise, so `VI_T` became MASTER on a down interface.)
//! Needs root and /usr/sbin/keepalived; fails otherwise.

use keepalived_testkit::netns::Node;
use keepalived_testkit::prereq::KEEPALIVED;
use keepalived_testkit::sh;
use keepalived_testkit::wait::secs;
use keepalived_testkit::wait_for;
use std::time::Duration;

const CONF: &str = "global_defs {
    router_id trkstart
}
vrrp_instance VI_T {
    state MASTER
    interface eth0
    virtual_router_id 97
    priority 200
    advert_int 1
    track_interface {
        trk0
    }
    virtual_ipaddress {
        192.0.2.97/32
    }
}
vrrp_instance VI_W {
    state BACKUP
    interface eth0
    virtual_router_id 98
    priority 200
    advert_int 1
    track_interface {
        trk0 weight -50
    }
    virtual_ipaddress {
        192.0.2.98/32
    }
}
vrrp_instance VI_R {
    state MASTER
    interface eth0
    virtual_router_id 99
    priority 200
    advert_int 1
    track_interface {
        trk0 weight 0 reverse
    }
    virtual_ipaddress {
        192.0.2.99/32
    }
}
";

struct Seen {
    /// Addresses after start with trk0 down: (VI_T, VI_W, VI_R).
    down: (bool, bool, bool),
    /// The same once trk0 is up.
    up: (bool, bool, bool),
    fault_line: bool,
    /// VI_W's effective priority in the data dump while trk0 is down.
    w_priority: Option<String>,
}

fn addrs(node: &Node) -> (bool, bool, bool) {
    (node.has_addr("192.0.2.97"), node.has_addr("192.0.2.98"), node.has_addr("192.0.2.99"))
}

/// VI_W's `Effective priority` from a SIGUSR1 data dump.
fn w_priority(node: &Node, daemon: &keepalived_testkit::daemon::Daemon) -> Option<String> {
    let path = node.path("keepalived.data");
    let file = path.as_path();
    let _ = std::fs::remove_file(file);
    daemon.signal(nix::sys::signal::Signal::SIGUSR1);
    wait_for(secs(5), || file.exists() && std::fs::read_to_string(file).is_ok_and(|t| t.contains("VRRP Topology")));
    std::thread::sleep(Duration::from_millis(300));
    let text = std::fs::read_to_string(file).ok()?;
    let block = text.split(" VRRP Instance = ").find(|b| b.starts_with("VI_W"))?;
    block.lines().find(|l| l.trim_start().starts_with("Effective priority")).map(|l| l.trim().to_string())
}

fn scenario(tag: &str, binary: &str) -> Seen {
    let node = Node::new("trks", tag);
    sh(&format!("ip -n {} link add trk0 type veth peer name ptrk0 netns {}", node.ns, node.peer));
    let dir = node.dir.display().to_string();
    let mut daemon = node.start_env(binary, CONF, &[("TMPDIR", &dir)]);
    // Long enough for a MASTER (3 adverts + skew) and a BACKUP to take over.
    wait_for(secs(6), || addrs(&node) == (false, true, true));
    std::thread::sleep(Duration::from_secs(1));
    let down = addrs(&node);
    let w_priority = w_priority(&node, &daemon);
    sh(&format!("ip -n {} link set trk0 up; ip -n {} link set ptrk0 up", node.ns, node.peer));
    wait_for(secs(8), || addrs(&node) == (true, true, false));
    std::thread::sleep(Duration::from_millis(500));
    let up = addrs(&node);
    daemon.stop();
    let log = daemon.log();
    println!("== {tag} log:\n{log}");
    let fault_line = log.contains("(VI_T): entering FAULT state (interface trk0 down)");
    Seen { down, up, fault_line, w_priority }
}

#[test]
fn interface_down_at_start_matches_keepalived_2_2_7() {
    keepalived_testkit::require(&[KEEPALIVED]);
    let ka = scenario("ka", KEEPALIVED);
    let rs = scenario("rs", env!("CARGO_BIN_EXE_keepalived"));
    for (tag, s) in [("2.2.7", &ka), ("keepalived-rs", &rs)] {
        println!("{tag}: down {:?} up {:?} fault line {} VI_W {:?}", s.down, s.up, s.fault_line, s.w_priority);
    }
    assert_eq!(ka.down, (false, true, true), "2.2.7 with trk0 down");
    assert_eq!(ka.up, (true, true, false), "2.2.7 with trk0 up");
    assert_eq!(rs.down, ka.down, "addresses with trk0 down at start");
    assert_eq!(rs.up, ka.up, "addresses once trk0 is up");
    assert!(ka.fault_line && rs.fault_line, "2.2.7's start-up FAULT line");
    assert_eq!(rs.w_priority, ka.w_priority, "VI_W's priority with trk0 down");
}
