//! `vrrp_track_process` inside a network namespace, compared with the real
//! keepalived 2.2.7: the kernel only delivers process events (proc
//! connector) in the initial network namespace, so both daemons run
//! unmonitored there: a weight-0 tracker whose process cannot be seen keeps
//! the instance in FAULT, with no VIP, under both. (The matching, quorum
//! and delays are tested against the real kernel in
//! crates/netlink/tests/procmon.rs, from the initial namespace.)
//! Needs root and /usr/sbin/keepalived; fails otherwise.

use keepalived_testkit::netns::Node;
use keepalived_testkit::prereq::KEEPALIVED;
use std::process::Command;
use std::time::Duration;

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
    let node = Node::new("tp", tag);
    // A matching process runs the whole time (visible from any namespace).
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let mut daemon = node.start(binary, CONF);
    // Long enough for a master election (3 x 1 s + skew) had the tracker been up.
    std::thread::sleep(Duration::from_millis(5500));
    let has_vip = node.has_addr("198.51.100.91");
    daemon.stop();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    (has_vip, daemon.log())
}

#[test]
fn track_process_in_a_netns_behaves_as_keepalived_2_2_7() {
    keepalived_testkit::require(&[KEEPALIVED]);
    let (theirs_vip, theirs_log) = scenario("ka", KEEPALIVED);
    let (ours_vip, ours_log) = scenario("rs", env!("CARGO_BIN_EXE_keepalived"));
    println!("VIP present: keepalived 2.2.7 {theirs_vip}, keepalived-rs {ours_vip}");
    assert_eq!(ours_vip, theirs_vip, "keepalived log:\n{theirs_log}\nour log:\n{ours_log}");
    // The instance stays in FAULT without a line of its own (2.2.7 goes
    // there silently at start-up: no "Entering FAULT STATE (init)"); it
    // never becomes master in either daemon, and logs FAULT alike.
    for (who, log) in [("keepalived 2.2.7", &theirs_log), ("keepalived-rs", &ours_log)] {
        assert!(!log.contains("Entering MASTER STATE"), "{who} became master:\n{log}");
    }
    assert_eq!(
        ours_log.contains("FAULT"),
        theirs_log.contains("FAULT"),
        "keepalived log:\n{theirs_log}\nour log:\n{ours_log}"
    );
}
