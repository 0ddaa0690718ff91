//! `interface_up_down_delays`, compared with the real keepalived 2.2.7: a
//! MASTER instance on `eth0` with a 1.5 s down delay. The link loses its
//! carrier (the far end goes down) for 0.5 s: the instance must ride it
//! out (its address never leaves); then for 3 s: it goes to FAULT, its
//! address leaving about 1.5 s after the carrier did. Under each
//! implementation the address is sampled every 20 ms.
//! Needs root and /usr/sbin/keepalived; fails otherwise.

use keepalived_testkit::netns::Node;
use keepalived_testkit::prereq::KEEPALIVED;
use keepalived_testkit::sh;
use keepalived_testkit::wait::secs;
use keepalived_testkit::wait_for;
use std::time::{Duration, Instant};

const CONF: &str = "global_defs {
    router_id updown
}
interface_up_down_delays {
    eth0 1.5 0.5
}
vrrp_instance VI_D {
    state MASTER
    interface eth0
    virtual_router_id 96
    priority 200
    advert_int 1
    virtual_ipaddress {
        192.0.2.96/32
    }
}
";

struct Outcome {
    /// The address went away during the short flap.
    lost_in_flap: bool,
    /// When the address left after the carrier did (long outage).
    fault_after: Option<Duration>,
}

/// Take the far end down for `d`, sampling the address; when it first went
/// missing, counted from the carrier loss.
fn outage(node: &Node, d: Duration) -> Option<Duration> {
    sh(&format!("ip -n {} link set peth0 down", node.peer));
    let start = Instant::now();
    let mut gone = None;
    while start.elapsed() < d {
        if gone.is_none() && !node.has_addr("192.0.2.96") {
            gone = Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    sh(&format!("ip -n {} link set peth0 up", node.peer));
    gone
}

fn scenario(tag: &str, binary: &str) -> Outcome {
    let node = Node::new("ud", tag);
    let mut daemon = node.start(binary, CONF);
    assert!(wait_for(secs(15), || node.has_addr("192.0.2.96")), "{tag}: never master; log:\n{}", daemon.log());
    std::thread::sleep(Duration::from_millis(500));
    let lost_in_flap = outage(&node, Duration::from_millis(500)).is_some();
    // Settle (the up delay, and no pending change).
    std::thread::sleep(Duration::from_millis(1500));
    let fault_after = outage(&node, Duration::from_secs(3));
    daemon.stop();
    println!("== {tag} log:\n{}", daemon.log());
    Outcome { lost_in_flap, fault_after }
}

#[test]
fn interface_up_down_delays_match_keepalived_2_2_7() {
    keepalived_testkit::require(&[KEEPALIVED]);
    for (tag, binary) in [("ka", KEEPALIVED), ("rs", env!("CARGO_BIN_EXE_keepalived"))] {
        let o = scenario(tag, binary);
        println!("{tag}: lost in the short flap: {}, FAULT after {:?}", o.lost_in_flap, o.fault_after);
        assert!(!o.lost_in_flap, "{tag}: the address left during a flap shorter than the down delay");
        let f = o.fault_after.unwrap_or_else(|| panic!("{tag}: never went to FAULT in a 3 s outage"));
        assert!(
            f >= Duration::from_millis(1400) && f <= Duration::from_millis(2500),
            "{tag}: FAULT {f:?} after the carrier loss, the down delay is 1.5 s"
        );
    }
}
