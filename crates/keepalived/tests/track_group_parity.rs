//! `track_group`, compared with the real keepalived 2.2.7: a static
//! address on `eth1` names track group TG, whose member is VI_G; VI_O is
//! not a member. When `eth1` goes down, VI_G goes to FAULT (its virtual
//! address leaves) and VI_O stays MASTER; when `eth1` comes back, VI_G is
//! MASTER again.
//! Needs root and /usr/sbin/keepalived; fails otherwise.

use keepalived_testkit::netns::Node;
use keepalived_testkit::prereq::KEEPALIVED;
use keepalived_testkit::sh;
use keepalived_testkit::wait::secs;
use keepalived_testkit::wait_for;
use std::time::Duration;

const CONF: &str = "global_defs {
    router_id tg
}
track_group TG {
    group {
        VI_G
    }
}
static_ipaddress {
    203.0.113.5/24 dev eth1 track_group TG
}
vrrp_instance VI_G {
    state MASTER
    interface eth0
    virtual_router_id 101
    priority 200
    advert_int 1
    virtual_ipaddress {
        192.0.2.101/32
    }
}
vrrp_instance VI_O {
    state MASTER
    interface eth0
    virtual_router_id 102
    priority 200
    advert_int 1
    virtual_ipaddress {
        192.0.2.102/32
    }
}
";

/// (VI_G's VIP, VI_O's VIP) with eth1 down, then up again.
fn scenario(tag: &str, binary: &str) -> [(bool, bool); 2] {
    let node = Node::new("tg", tag);
    let (n, p) = (&node.ns, &node.peer);
    sh(&format!(
        "ip -n {n} link add eth1 type veth peer name peth1 netns {p}; ip -n {n} link set eth1 up; \
         ip -n {p} link set peth1 up"
    ));
    let vips = || (node.has_addr("192.0.2.101"), node.has_addr("192.0.2.102"));
    let mut daemon = node.start(binary, CONF);
    assert!(wait_for(secs(15), || vips() == (true, true)), "{tag}: never master; log:\n{}", daemon.log());
    sh(&format!("ip -n {p} link set peth1 down"));
    wait_for(secs(3), || !node.has_addr("192.0.2.101"));
    std::thread::sleep(Duration::from_millis(500));
    let down = vips();
    sh(&format!("ip -n {p} link set peth1 up"));
    wait_for(secs(10), || node.has_addr("192.0.2.101"));
    let up = vips();
    daemon.stop();
    println!("== {tag}:\n{}", daemon.log());
    [down, up]
}

#[test]
fn track_group_matches_keepalived_2_2_7() {
    keepalived_testkit::require(&[KEEPALIVED]);
    let theirs = scenario("ka", KEEPALIVED);
    let ours = scenario("rs", env!("CARGO_BIN_EXE_keepalived"));
    println!("(VI_G, VI_O) hold their VIP, eth1 down / up: keepalived 2.2.7 {theirs:?}, keepalived-rs {ours:?}");
    assert_eq!(theirs[0], (false, true), "keepalived 2.2.7 did not fault the track group's instance");
    assert_eq!(ours, theirs);
}
