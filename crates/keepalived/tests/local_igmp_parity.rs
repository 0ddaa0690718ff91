//! `disable_local_igmp`, compared with the real keepalived 2.2.7: in a
//! namespace whose `net.ipv4.igmp_link_local_mcast_reports` is 1, the VRRP
//! child turns it off while it runs and back on at stop.
//! Needs root and /usr/sbin/keepalived; fails otherwise.

use keepalived_testkit::netns::Node;
use keepalived_testkit::prereq::KEEPALIVED;
use keepalived_testkit::sh;
use keepalived_testkit::wait::secs;
use keepalived_testkit::wait_for;

const CONF: &str = "global_defs {
    router_id igmp
    disable_local_igmp
}
vrrp_instance VI_I {
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

/// The sysctl before start, while MASTER, after stop.
fn scenario(tag: &str, binary: &str) -> [String; 3] {
    let node = Node::new("igmp", tag);
    let read = || sh(&format!("ip netns exec {} cat /proc/sys/net/ipv4/igmp_link_local_mcast_reports", node.ns));
    let before = read();
    let mut daemon = node.start(binary, CONF);
    assert!(wait_for(secs(15), || node.has_addr("192.0.2.95")), "{tag}: never master; log:\n{}", daemon.log());
    let running = read();
    daemon.stop();
    [before, running, read()]
}

#[test]
fn disable_local_igmp_matches_keepalived_2_2_7() {
    keepalived_testkit::require(&[KEEPALIVED]);
    let theirs = scenario("ka", KEEPALIVED);
    let ours = scenario("rs", env!("CARGO_BIN_EXE_keepalived"));
    println!("before / running / stopped: keepalived 2.2.7 {theirs:?}, keepalived-rs {ours:?}");
    assert_eq!(theirs, ["1\n", "0\n", "1\n"].map(String::from), "keepalived 2.2.7's behaviour");
    assert_eq!(ours, theirs);
}
