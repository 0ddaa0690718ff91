//! VMAC names when the configuration gives none, compared with the real keepalived 2.2.7: the
//! same VRID on two interfaces and for both families gets one VMAC each (`vrrp.1`, `vrrp1.1`,
//! `vrrp2.1`, and `vrrp6.1` for IPv6, as 2.2.7's `create_vmac_name`), and a reload finds each
//! instance its own VMAC again instead of renaming or re-creating them. Needs root and
//! /usr/sbin/keepalived.

use keepalived_testkit::kernel::Kernel;
use keepalived_testkit::netns::Node;
use keepalived_testkit::prereq::KEEPALIVED;
use keepalived_testkit::wait::secs;
use keepalived_testkit::wait_for;
use nix::sys::signal::Signal;
use std::time::Duration;

const OURS: &str = env!("CARGO_BIN_EXE_keepalived");

fn instance(name: &str, ifname: &str, vip: &str) -> String {
    format!(
        "vrrp_instance {name} {{\n state BACKUP\n interface {ifname}\n virtual_router_id 1\n priority 100\n \
         advert_int 1\n use_vmac\n virtual_ipaddress {{\n  {vip}\n }}\n}}\n"
    )
}

fn conf() -> String {
    let mut c = String::from("global_defs {\n router_id names\n}\n");
    c += &instance("A4", "eth0", "198.51.100.100/24");
    c += &instance("B4", "eth1", "192.0.2.100/24");
    c += &instance("A6", "eth0", "2001:db8::100/64");
    c += &instance("B6", "eth1", "2001:db8:1::100/64");
    c
}

/// The VMACs as `name@base`, sorted.
fn vmacs(kernel: &Kernel) -> Vec<String> {
    let links = kernel.links();
    let mut v: Vec<String> = links
        .iter()
        .filter(|l| l.kind.as_deref() == Some("macvlan"))
        .map(|l| {
            let base = links.iter().find(|b| Some(b.index) == l.parent).map_or("?", |b| b.name.as_str());
            format!("{}@{base}", l.name)
        })
        .collect();
    v.sort();
    v
}

/// The VMACs after start and after a reload.
fn scenario(tag: &str, binary: &str) -> (Vec<String>, Vec<String>) {
    let node = Node::new("vn", tag);
    node.exec(&["ip", "link", "add", "eth1", "type", "veth", "peer", "name", "peth1"]);
    node.exec(&["ip", "link", "set", "peth1", "up"]);
    node.exec(&["ip", "link", "set", "eth1", "up"]);
    node.exec(&["ip", "addr", "add", "192.0.2.1/24", "dev", "eth1"]);
    let kernel = Kernel::named(&node.ns);
    let mut daemon = node.start(binary, &conf());
    assert!(wait_for(secs(15), || vmacs(&kernel).len() == 4), "{tag}: {:?}\n{}", vmacs(&kernel), daemon.log());
    std::thread::sleep(Duration::from_millis(500));
    let started = vmacs(&kernel);
    daemon.signal(Signal::SIGHUP);
    std::thread::sleep(Duration::from_secs(3));
    let reloaded = vmacs(&kernel);
    daemon.stop();
    (started, reloaded)
}

#[test]
fn vmac_names_as_keepalived_2_2_7() {
    let theirs = scenario("ka", KEEPALIVED);
    let ours = scenario("rs", OURS);
    eprintln!("keepalived 2.2.7: {theirs:?}\nkeepalived-rs:    {ours:?}");
    assert_eq!(theirs.0.len(), 4, "2.2.7 made {:?}", theirs.0);
    assert_eq!(ours, theirs);
}
