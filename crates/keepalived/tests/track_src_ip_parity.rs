//! `track_src_ip`, compared with the real keepalived 2.2.7: three MASTER
//! instances send from a configured `mcast_src_ip`: VI_T (tracking it) and
//! VI_N (not) from the interface's only address, VI_S (tracking) from a
//! second address. The second address is deleted, then the only one, then
//! the latter is added back. keepalived 2.2.7 means to fault VI_T when its
//! address goes (keepalived_netlink.c), but compares the address with the
//! start of a `sockaddr_storage` (`&vrrp->saddr`), which never matches:
//! no instance ever changes state. keepalived-rs, a drop-in replacement,
//! does the same, and this test makes sure it stays so.
//! Needs root and /usr/sbin/keepalived; fails otherwise.

use keepalived_testkit::netns::Node;
use keepalived_testkit::prereq::KEEPALIVED;
use keepalived_testkit::sh;
use keepalived_testkit::wait::secs;
use keepalived_testkit::wait_for;
use std::time::Duration;

fn instance(name: &str, vrid: u8, src: &str, track: bool) -> String {
    format!(
        "vrrp_instance {name} {{\n    state MASTER\n    interface eth0\n    virtual_router_id {vrid}\n    \
         priority 200\n    advert_int 1\n    mcast_src_ip {src}\n{}    virtual_ipaddress {{\n        \
         192.0.2.{vrid}/32\n    }}\n}}\n",
        if track { "    track_src_ip\n" } else { "" }
    )
}

/// Which of VI_T, VI_N, VI_S hold their address.
fn vips(node: &Node) -> (bool, bool, bool) {
    (node.has_addr("192.0.2.97"), node.has_addr("192.0.2.98"), node.has_addr("192.0.2.99"))
}

/// The instances' addresses after each step: second address deleted, only
/// address deleted, only address back.
fn scenario(tag: &str, binary: &str) -> [(bool, bool, bool); 3] {
    let node = Node::new("tsi", tag);
    let n = node.ns.clone();
    sh(&format!("ip -n {n} addr add 198.51.100.50/24 dev eth0"));
    let conf = format!(
        "global_defs {{\n    router_id tsi\n}}\n{}{}{}",
        instance("VI_T", 97, "198.51.100.1", true),
        instance("VI_N", 98, "198.51.100.1", false),
        instance("VI_S", 99, "198.51.100.50", true)
    );
    let mut daemon = node.start(binary, &conf);
    assert!(wait_for(secs(15), || vips(&node) == (true, true, true)), "{tag}: never master; log:\n{}", daemon.log());
    sh(&format!("ip -n {n} addr del 198.51.100.50/24 dev eth0"));
    std::thread::sleep(Duration::from_millis(1500));
    let second_gone = vips(&node);
    sh(&format!("ip -n {n} addr del 198.51.100.1/24 dev eth0"));
    wait_for(secs(3), || !node.has_addr("192.0.2.97"));
    std::thread::sleep(Duration::from_millis(500));
    let only_gone = vips(&node);
    sh(&format!("ip -n {n} addr add 198.51.100.1/24 dev eth0"));
    wait_for(secs(10), || node.has_addr("192.0.2.97"));
    let back = vips(&node);
    daemon.stop();
    println!("== {tag}:\n{}", daemon.log());
    [second_gone, only_gone, back]
}

#[test]
fn track_src_ip_matches_keepalived_2_2_7() {
    keepalived_testkit::require(&[KEEPALIVED]);
    let theirs = scenario("ka", KEEPALIVED);
    let ours = scenario("rs", env!("CARGO_BIN_EXE_keepalived"));
    println!("(VI_T, VI_N, VI_S) hold their VIP: keepalived 2.2.7 {theirs:?}, keepalived-rs {ours:?}");
    assert_eq!(theirs, [(true, true, true); 3], "keepalived 2.2.7 now acts on track_src_ip");
    assert_eq!(ours, theirs);
}
