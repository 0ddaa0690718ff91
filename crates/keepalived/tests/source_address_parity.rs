//! The interface loses the address an instance took as its source (no
//! `unicast_src_ip`), compared with the real keepalived 2.2.7
//! (keepalived_netlink.c on RTM_DELADDR / RTM_NEWADDR):
//! 1. with another address on the interface, that one becomes the source and
//!    the MASTER keeps its VIP;
//! 2. with none left, the instance goes to FAULT (the VIP leaves);
//! 3. an address assigned again brings it back to BACKUP, then MASTER.
//!
//! (keepalived-rs used to keep sending from the lost address as MASTER.)
//! Needs root and /usr/sbin/keepalived; fails otherwise.

use keepalived_testkit::netns::Node;
use keepalived_testkit::prereq::KEEPALIVED;
use keepalived_testkit::sh;
use keepalived_testkit::wait::secs;
use keepalived_testkit::wait_for;
use std::time::Duration;

const CONF: &str = "global_defs {
    router_id srcaddr
}
vrrp_instance VI_S {
    state MASTER
    interface eth0
    virtual_router_id 95
    priority 200
    advert_int 1
    virtual_ipaddress {
        192.0.2.95/32
    }
}
";

const VIP: &str = "192.0.2.95";

/// Whether the VIP is there at each step: (other address left, none left, one back).
fn scenario(tag: &str, binary: &str) -> (bool, bool, bool) {
    let node = Node::new("srca", tag);
    sh(&format!("ip -n {} addr add 203.0.113.1/24 dev eth0", node.ns));
    let mut daemon = node.start(binary, CONF);
    assert!(wait_for(secs(10), || node.has_addr(VIP)), "{tag}: never master; log:\n{}", daemon.log());
    sh(&format!("ip -n {} addr del 198.51.100.1/24 dev eth0", node.ns));
    std::thread::sleep(Duration::from_secs(2));
    let kept = node.has_addr(VIP);
    sh(&format!("ip -n {} addr del 203.0.113.1/24 dev eth0", node.ns));
    wait_for(secs(4), || !node.has_addr(VIP));
    std::thread::sleep(Duration::from_millis(500));
    let none_left = node.has_addr(VIP);
    sh(&format!("ip -n {} addr add 198.51.100.1/24 dev eth0", node.ns));
    let back = wait_for(secs(10), || node.has_addr(VIP));
    daemon.stop();
    println!("== {tag} log:\n{}", daemon.log());
    (kept, none_left, back)
}

#[test]
fn source_address_loss_matches_keepalived_2_2_7() {
    keepalived_testkit::require(&[KEEPALIVED]);
    let ka = scenario("ka", KEEPALIVED);
    let rs = scenario("rs", env!("CARGO_BIN_EXE_keepalived"));
    println!("VIP present (other address left, none left, one back): 2.2.7 {ka:?}, keepalived-rs {rs:?}");
    assert_eq!(ka, (true, false, true), "keepalived 2.2.7");
    assert_eq!(rs, ka);
}
