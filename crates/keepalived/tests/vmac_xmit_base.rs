//! `use_vmac` with `vmac_xmit_base`, compared with the real keepalived
//! 2.2.7: the adverts leave from the base interface (its MAC), the VIP sits
//! on the VMAC, and the gratuitous ARPs carry the MAC they carry under
//! keepalived. Needs root, /usr/sbin/keepalived, nft and tcpdump.

use keepalived_testkit::kernel::Kernel;
use keepalived_testkit::netns::Node;
use keepalived_testkit::pcap::{garps, Capture};
use keepalived_testkit::prereq::KEEPALIVED;
use keepalived_testkit::wait::secs;
use keepalived_testkit::wait_for;
use std::time::Duration;

const CONF: &str = "global_defs {
    router_id xmit
    vrrp_garp_master_delay 0
    vrrp_garp_master_repeat 2
    vrrp_garp_master_refresh 0
}
vrrp_instance VI_XB {
    state BACKUP
    interface eth0
    virtual_router_id 62
    priority 100
    advert_int 1
    use_vmac
    vmac_xmit_base
    virtual_ipaddress {
        198.51.100.62/24
    }
}
";

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    vip_on: String,
    garp_macs: Vec<String>,
    advert_src_macs: Vec<String>,
}

fn scenario(tag: &str, binary: &str) -> Outcome {
    let node = Node::new("xb", tag);
    let n = node.ns.clone();
    let kernel = Kernel::named(&n);
    let base_mac = kernel.link("eth0").expect("eth0").mac_string();
    let capture = Capture::start(&node, "arp or ip proto 112");
    let mut daemon = node.start(binary, CONF);
    assert!(wait_for(secs(15), || node.has_addr("198.51.100.62")), "{tag}: never master; log:\n{}", daemon.log());
    std::thread::sleep(Duration::from_millis(2500));
    let vip_on = kernel.holders("198.51.100.62").join("\n");
    daemon.stop();
    let text = capture.finish();
    // The base MAC is random per run: name it.
    let name = |m: &str| if m == base_mac { "base".to_string() } else { m.to_string() };
    let garp_macs =
        garps(&text, "198.51.100.62").iter().map(|l| name(l.split_whitespace().nth(1).unwrap_or(""))).collect();
    let mut advert_src_macs: Vec<String> =
        text.lines().filter(|l| l.contains("VRRP")).map(|l| name(l.split_whitespace().nth(1).unwrap_or(""))).collect();
    advert_src_macs.dedup();
    Outcome { vip_on, garp_macs, advert_src_macs }
}

#[test]
fn vmac_xmit_base_matches_keepalived_2_2_7() {
    keepalived_testkit::require(&[KEEPALIVED, "tcpdump"]);
    let theirs = scenario("ka", KEEPALIVED);
    let ours = scenario("rs", env!("CARGO_BIN_EXE_keepalived"));
    println!("keepalived 2.2.7: {theirs:?}\nkeepalived-rs:    {ours:?}");
    assert_eq!(ours, theirs);
}
