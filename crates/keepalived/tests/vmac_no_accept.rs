//! `use_vmac` and `no_accept` on the wire and in the kernel, compared with
//! the real keepalived 2.2.7: one node (its own network namespace, a veth
//! to a peer namespace) runs an IPv4 instance with `use_vmac` and
//! `no_accept`, alone, so it becomes master. Under each implementation:
//! the macvlan `vrrp.61` exists (mode private, MAC 00:00:5e:00:01:3d) and
//! holds the VIP; gratuitous ARPs leave with the virtual MAC; the nftables
//! ruleset is the same text; traffic from the peer to the VIP is dropped;
//! after SIGTERM the macvlan and the table are gone.
//! Needs root, /usr/sbin/keepalived, nft and tcpdump; fails otherwise.

use keepalived_testkit::kernel::{Kernel, Link};
use keepalived_testkit::netns::Node;
use keepalived_testkit::pcap::{garps, Capture};
use keepalived_testkit::prereq::KEEPALIVED;
use keepalived_testkit::sh;
use keepalived_testkit::wait::secs;
use keepalived_testkit::wait_for;
use std::process::{Command, Stdio};
use std::time::Duration;

const CONF: &str = "global_defs {
    router_id vmac
    vrrp_garp_master_delay 0
    vrrp_garp_master_repeat 3
    vrrp_garp_master_refresh 0
}
vrrp_instance VI_VMAC {
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority 100
    advert_int 1
    use_vmac
    no_accept
    virtual_ipaddress {
        198.51.100.61/24
    }
}
";

struct Outcome {
    link: String,
    vip_on: String,
    ruleset: String,
    garp_macs: Vec<String>,
    ping_blocked: bool,
    after_stop_link: bool,
    after_stop_table: bool,
}

/// A VMAC as "mac kind mode lower-link", as `ip -d link` shows them.
fn vmac(kernel: &Kernel, l: &Link) -> String {
    let lower = kernel.lower_name(l);
    let (kind, mode) = (l.kind.clone().unwrap_or_default(), l.macvlan_mode().unwrap_or_default());
    format!("{} {kind} {mode} {}", l.mac_string(), lower.as_deref().unwrap_or("None"))
}

fn scenario(tag: &str, binary: &str) -> Outcome {
    let node = Node::new("vm", tag);
    let n = node.ns.clone();
    let capture = Capture::start(&node, "arp");
    let mut daemon = node.start(binary, CONF);
    assert!(wait_for(secs(15), || node.has_addr("198.51.100.61")), "{tag}: never master; log:\n{}", daemon.log());
    std::thread::sleep(Duration::from_millis(1500));
    let kernel = Kernel::named(&n);
    let link = kernel.link("vrrp.61").map_or_else(String::new, |l| vmac(&kernel, &l));
    let vip_on = kernel.holders("198.51.100.61").join("\n");
    let ruleset = sh(&format!("ip netns exec {n} nft list ruleset"));
    let ping_blocked = !Command::new("ip")
        .args(["netns", "exec", &node.peer, "ping", "-c", "1", "-W", "1", "198.51.100.61"])
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success();
    daemon.stop();
    let after_stop_link = kernel.link("vrrp.61").is_some();
    let after_stop_table = sh(&format!("ip netns exec {n} nft list ruleset")).contains("table");
    let garp_macs = garps(&capture.finish(), "198.51.100.61")
        .iter()
        .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_string())
        .collect();
    Outcome { link, vip_on, ruleset, garp_macs, ping_blocked, after_stop_link, after_stop_table }
}

#[test]
fn vmac_and_no_accept_match_keepalived_2_2_7() {
    keepalived_testkit::require(&[KEEPALIVED, "nft", "tcpdump"]);
    let theirs = scenario("ka", KEEPALIVED);
    let ours = scenario("rs", env!("CARGO_BIN_EXE_keepalived"));
    println!("{:28} {:48} | keepalived-rs", "", "keepalived 2.2.7");
    println!("{:28} {:48} | {}", "vrrp.61 (mac kind mode link)", theirs.link, ours.link);
    println!("{:28} {:48} | {}", "VIP on", theirs.vip_on, ours.vip_on);
    println!("{:28} {:48} | {:?}", "GARP source MACs", format!("{:?}", theirs.garp_macs), ours.garp_macs);
    println!("{:28} {:48} | {}", "ping to VIP dropped", theirs.ping_blocked, ours.ping_blocked);
    println!("{:28} {:48} | {}", "VMAC left after stop", theirs.after_stop_link, ours.after_stop_link);
    println!("{:28} {:48} | {}", "nft table left after stop", theirs.after_stop_table, ours.after_stop_table);
    assert!(theirs.link.starts_with("00:00:5e:00:01:3d macvlan private"), "keepalived's VMAC: {}", theirs.link);
    assert_eq!(ours.link, theirs.link);
    assert_eq!(ours.vip_on, theirs.vip_on);
    assert_eq!(ours.garp_macs, theirs.garp_macs);
    assert_eq!(ours.ping_blocked, theirs.ping_blocked);
    assert_eq!(ours.ruleset, theirs.ruleset, "nft rulesets differ");
    assert!(!ours.after_stop_link && !ours.after_stop_table, "VMAC or nft table left after stop");
}
