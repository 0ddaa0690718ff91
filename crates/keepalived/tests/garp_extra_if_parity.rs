//! `garp_extra_if all`, compared with the real keepalived 2.2.7: a MASTER
//! instance on `eth0` has a second virtual address on `eth1`; every 2 s it
//! sends a gratuitous ARP on `eth1`. The gratuitous ARPs seen at the far
//! end of `eth1` over 9 s of mastership are counted under each
//! implementation (the initial announcement included) and must agree
//! within one.
//! Needs root, tcpdump and /usr/sbin/keepalived; fails otherwise.

use keepalived_testkit::netns::Node;
use keepalived_testkit::pcap::{garps, Capture};
use keepalived_testkit::prereq::KEEPALIVED;
use keepalived_testkit::sh;
use keepalived_testkit::wait::secs;
use keepalived_testkit::wait_for;
use std::time::Duration;

const CONF: &str = "global_defs {
    router_id extra
    vrrp_garp_master_delay 0
    vrrp_garp_master_repeat 1
}
vrrp_instance VI_X {
    state MASTER
    interface eth0
    virtual_router_id 100
    priority 200
    advert_int 1
    garp_extra_if all 2
    virtual_ipaddress {
        192.0.2.100/32
        203.0.113.100/32 dev eth1
    }
}
";

/// The gratuitous ARPs for the eth1 address, as `tcpdump -e` lines.
fn scenario(tag: &str, binary: &str) -> Vec<String> {
    let node = Node::new("gx", tag);
    let (n, p) = (&node.ns, &node.peer);
    sh(&format!(
        "ip -n {n} link add eth1 type veth peer name peth1 netns {p}; ip -n {n} link set eth1 up; \
         ip -n {p} link set peth1 up"
    ));
    let file = node.path("eth1.pcap");
    let dump = Capture::start_on(p, "peth1", &file, "arp");
    let mut daemon = node.start(binary, CONF);
    assert!(wait_for(secs(15), || node.has_addr("203.0.113.100")), "{tag}: never master; log:\n{}", daemon.log());
    std::thread::sleep(Duration::from_secs(9));
    daemon.stop();
    let text = dump.finish_as("-tt -e -n");
    garps(&text, "203.0.113.100")
}

#[test]
fn garp_extra_if_matches_keepalived_2_2_7() {
    keepalived_testkit::require(&[KEEPALIVED, "tcpdump"]);
    let theirs = scenario("ka", KEEPALIVED);
    let ours = scenario("rs", env!("CARGO_BIN_EXE_keepalived"));
    println!(
        "== keepalived 2.2.7 ({}):\n{}\n== keepalived-rs ({}):\n{}",
        theirs.len(),
        theirs.join("\n"),
        ours.len(),
        ours.join("\n")
    );
    assert!(theirs.len() >= 4, "keepalived sent no periodic announcements on eth1");
    assert!(
        ours.len().abs_diff(theirs.len()) <= 1,
        "{} gratuitous ARPs on eth1, keepalived {}",
        ours.len(),
        theirs.len()
    );
    // Every interval is the configured 2 s (keepalived's are checked at its
    // advert times, a few ms late).
    for (tag, lines) in [("keepalived 2.2.7", &theirs), ("keepalived-rs", &ours)] {
        let t: Vec<f64> = lines.iter().filter_map(|l| l.split(' ').next()?.parse().ok()).collect();
        for w in t.windows(2) {
            let gap = w[1] - w[0];
            assert!((1.8..=2.3).contains(&gap), "{tag}: {gap:.3} s between two announcements on eth1");
        }
    }
}
