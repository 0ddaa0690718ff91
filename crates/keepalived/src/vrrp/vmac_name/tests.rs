//! The names 2.2.7 gives (vrrp.c `vrrp_complete_instance`), on made-up interface lists.
use super::{candidates, Kind, System, VmacNames, Want};
use keepalived_netlink::{Addr, IpvlanInfo, Link};
use std::net::IpAddr;

const ETH0: u32 = 2;
const ETH1: u32 = 3;
const PRIVATE: u16 = 1;

fn base(name: &str, index: u32) -> Link {
    Link { name: name.into(), index, kind: Some("veth".into()), ..Default::default() }
}

fn ipvlan(name: &str, index: u32, parent: u32, mode: u16, flags: u16) -> Link {
    let ipvlan = Some(IpvlanInfo { mode, flags });
    Link {
        name: name.into(),
        index,
        kind: Some("ipvlan".into()),
        parent_index: Some(parent),
        ipvlan,
        ..Default::default()
    }
}

fn addr(index: u32, a: &str) -> Addr {
    let addr: IpAddr = a.parse().unwrap();
    let scope = if a.starts_with("fe80") { 253 } else { 0 };
    Addr { index, addr, prefix_len: 64, peer: None, label: None, scope }
}

fn system(links: Vec<Link>, addrs: Vec<Addr>) -> System {
    let mut all = vec![base("eth0", ETH0), base("eth1", ETH1)];
    all.extend(links);
    System { links: all, addrs }
}

/// An unnamed ipvlan of `vrid` on `base`: its name and whether it was taken over.
fn name(names: &mut VmacNames, sys: &System, vrid: u8, base: u32, flags: u16, a: Option<&str>) -> (String, bool) {
    let addr: Option<IpAddr> = a.map(|a| a.parse().unwrap());
    let ipv6 = addr.is_some_and(|a| a.is_ipv6());
    names.choose_among(sys, &Want { vrid, ipv6, base, kind: &Kind::Ipvlan { flags, addr } })
}

fn names() -> VmacNames {
    VmacNames::new("vrrp", Vec::new())
}

fn v6_without_address(names: &mut VmacNames, sys: &System, vrid: u8) -> (String, bool) {
    names.choose_among(sys, &Want { vrid, ipv6: true, base: ETH0, kind: &Kind::Ipvlan { flags: 0, addr: None } })
}

#[test]
fn names_in_keepalived_order() {
    let v4: Vec<String> = candidates("vrrp", 7, false).take(3).collect();
    assert_eq!(v4, ["vrrp.7", "vrrp1.7", "vrrp2.7"]);
    let v6: Vec<String> = candidates("vrrp", 7, true).take(8).collect();
    assert_eq!(v6, ["vrrp.7", "vrrp6.7", "vrrp1.7", "vrrp2.7", "vrrp3.7", "vrrp4.7", "vrrp5.7", "vrrp7.7"]);
    let long: Vec<String> = candidates("averyverylongprefix", 255, false).take(2).collect();
    assert_eq!(long, ["averyverylo.255", "averyveryl1.255"]);
    assert!(long.iter().all(|n| n.len() <= 15));
}

#[test]
fn fresh_ipvlans_are_numbered() {
    let mut n = names();
    let none = system(Vec::new(), Vec::new());
    assert_eq!(name(&mut n, &none, 51, ETH0, 0, Some("198.51.100.50")), ("vrrp.51".into(), false));
    // The first one now exists with its address; another address does not take it over.
    let one = system(vec![ipvlan("vrrp.51", 10, ETH0, 0, 0)], vec![addr(10, "198.51.100.50")]);
    assert_eq!(name(&mut n, &one, 51, ETH0, 0, Some("198.51.100.60")), ("vrrp1.51".into(), false));
    assert_eq!(name(&mut n, &one, 51, ETH1, 0, Some("192.0.2.50")), ("vrrp2.51".into(), false));
    assert_eq!(name(&mut n, &one, 51, ETH0, 0, Some("2001:db8::50")), ("vrrp6.51".into(), false));
}

#[test]
fn reload_takes_over_the_ipvlan_with_the_address() {
    let sys = system(
        vec![ipvlan("ipv1", 10, ETH0, 0, PRIVATE), ipvlan("vrrp.52", 11, ETH0, 0, 0)],
        vec![addr(10, "198.51.100.50"), addr(11, "fe80::1"), addr(11, "2001:db8:1::50")],
    );
    // The configuration that dropped ipv1's instance: the IPv6 one finds its own again, not
    // ipv1 (private, another address), which the loose match took.
    let mut n = names();
    assert_eq!(name(&mut n, &sys, 52, ETH0, 0, Some("2001:db8:1::50")), ("vrrp.52".into(), true));
    // The flags, the parent and the address must all match.
    let mut n = names();
    assert_eq!(name(&mut n, &sys, 51, ETH0, 0, Some("198.51.100.50")), ("vrrp.51".into(), false));
    assert_eq!(name(&mut n, &sys, 51, ETH1, PRIVATE, Some("198.51.100.50")), ("vrrp1.51".into(), false));
    assert_eq!(name(&mut n, &sys, 51, ETH0, PRIVATE, Some("198.51.100.50")), ("ipv1".into(), true));
}

#[test]
fn ipv6_without_address_never_takes_one_over() {
    let sys = system(vec![ipvlan("vrrp.52", 11, ETH0, 0, 0)], vec![addr(11, "fe80::1")]);
    assert_eq!(v6_without_address(&mut names(), &sys, 52), ("vrrp6.52".into(), false));
    let both = system(vec![ipvlan("vrrp.52", 11, ETH0, 0, 0), ipvlan("vrrp6.52", 12, ETH0, 0, 0)], Vec::new());
    assert_eq!(v6_without_address(&mut names(), &both, 52), ("vrrp1.52".into(), false));
}

#[test]
fn ipv4_compares_the_first_address_only() {
    let sys = system(vec![ipvlan("vrrp.51", 10, ETH0, 0, 0)], vec![addr(10, "10.0.0.1"), addr(10, "198.51.100.50")]);
    assert_eq!(name(&mut names(), &sys, 51, ETH0, 0, Some("198.51.100.50")), ("vrrp1.51".into(), false));
    assert_eq!(name(&mut names(), &sys, 51, ETH0, 0, Some("10.0.0.1")), ("vrrp.51".into(), true));
    // An IPv4 instance without an address (a configuration fault) takes any.
    assert_eq!(name(&mut names(), &sys, 9, ETH0, 0, None), ("vrrp.51".into(), true));
}

#[test]
fn only_l2_ipvlans() {
    let sys = system(vec![ipvlan("vrrp.51", 10, ETH0, 1, 0)], vec![addr(10, "198.51.100.50")]);
    assert_eq!(name(&mut names(), &sys, 51, ETH0, 0, Some("198.51.100.50")), ("vrrp1.51".into(), false));
}

#[test]
fn configured_names_are_skipped() {
    let mut n = VmacNames::new("vrrp", ["vrrp.51".to_string()]);
    let none = system(Vec::new(), Vec::new());
    assert_eq!(name(&mut n, &none, 51, ETH0, 0, Some("198.51.100.50")), ("vrrp1.51".into(), false));
}

#[test]
fn same_address_shares_the_ipvlan_as_keepalived() {
    let sys = system(vec![ipvlan("vrrp.51", 10, ETH0, 0, 0)], vec![addr(10, "198.51.100.50")]);
    let mut n = names();
    assert_eq!(name(&mut n, &sys, 51, ETH0, 0, Some("198.51.100.50")), ("vrrp.51".into(), true));
    assert_eq!(name(&mut n, &sys, 61, ETH0, 0, Some("198.51.100.50")), ("vrrp.51".into(), true));
}

#[test]
fn macvlan_unchanged() {
    let mac = [0, 0, 0x5e, 0, 1, 51];
    let vmac = Link {
        name: "vrrp.51".into(),
        index: 10,
        kind: Some("macvlan".into()),
        parent_index: Some(ETH0),
        hw_addr: mac.to_vec(),
        ..Default::default()
    };
    let sys = system(vec![vmac], Vec::new());
    let mut n = names();
    let want = Want { vrid: 51, ipv6: false, base: ETH0, kind: &Kind::Macvlan(mac) };
    assert_eq!(n.choose_among(&sys, &want), ("vrrp.51".into(), true));
    // Chosen once, it is not taken over again.
    assert_eq!(n.choose_among(&sys, &want), ("vrrp1.51".into(), false));
}

#[test]
fn flags_as_created_not_as_the_parent_has_them_now() {
    // vrrp.73 (private) was created last: the kernel shows every ipvlan of eth0 private, but
    // keepalived compares the flags each had when it created it (measured, vrrp_surface_vm).
    let sys = system(
        vec![ipvlan("vrrp.71", 10, ETH0, 0, PRIVATE), ipvlan("vrrp.73", 12, ETH0, 0, PRIVATE)],
        vec![addr(10, "198.51.100.60"), addr(12, "198.51.100.62")],
    );
    let created = [("vrrp.71".to_string(), 0), ("vrrp.73".to_string(), PRIVATE)];
    let mut n = names().with_ipvlan_flags(created.into_iter().collect());
    assert_eq!(name(&mut n, &sys, 71, ETH0, 0, Some("198.51.100.60")), ("vrrp.71".into(), true));
    // Without that record (an ipvlan found at start), the kernel's flags count.
    assert_eq!(name(&mut names(), &sys, 71, ETH0, 0, Some("198.51.100.60")), ("vrrp1.71".into(), false));
    // Names chosen in this configuration are recorded with their flags too.
    let fresh = system(Vec::new(), Vec::new());
    let mut n = names();
    assert_eq!(name(&mut n, &fresh, 71, ETH0, 0, Some("198.51.100.60")), ("vrrp.71".into(), false));
    let later = system(vec![ipvlan("vrrp.71", 10, ETH0, 0, PRIVATE)], vec![addr(10, "198.51.100.60")]);
    assert_eq!(name(&mut n, &later, 81, ETH0, 0, Some("198.51.100.60")), ("vrrp.71".into(), true));
}
