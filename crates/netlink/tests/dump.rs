//! Dumps of the running system's links and addresses.
//!
//! `current_namespace_*` read the namespace the tests run in (it must have
//! `lo`, index 1, with 127.0.0.1/8 when `lo` is up). `fresh_namespace`
//! re-runs this test binary under `unshare -n` (a new, empty network
//! namespace), builds a veth pair there with `ip`, and checks the dumps see
//! exactly what was built. It passes with a note when it cannot run
//! (not root, no `unshare`/`ip`).

use keepalived_netlink::{dump_addresses, dump_links, Addr, Link};
use keepalived_testkit::in_netns;
use keepalived_testkit::netns::lo_up;
use keepalived_testkit::run;
use std::net::IpAddr;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn link<'a>(links: &'a [Link], name: &str) -> &'a Link {
    links.iter().find(|l| l.name == name).unwrap_or_else(|| panic!("no link {name} in {links:#?}"))
}

fn has_addr(addrs: &[Addr], index: u32, a: &str, prefix: u8) -> bool {
    addrs.iter().any(|x| x.index == index && x.addr == ip(a) && x.prefix_len == prefix)
}

#[test]
fn current_namespace_links() {
    let links = dump_links().expect("link dump");
    let lo = link(&links, "lo");
    assert_eq!(lo.index, 1);
    assert!(lo.loopback);
    assert_eq!(lo.link_type, 772);
    assert_eq!(lo.kind, None);
    let mut idx: Vec<u32> = links.iter().map(|l| l.index).collect();
    idx.dedup();
    assert_eq!(idx.len(), links.len(), "each link once");
}

#[test]
fn current_namespace_addresses() {
    let links = dump_links().expect("link dump");
    let addrs = dump_addresses().expect("address dump");
    if link(&links, "lo").up {
        assert!(has_addr(&addrs, 1, "127.0.0.1", 8), "{addrs:#?}");
    }
    for a in &addrs {
        assert!(links.iter().any(|l| l.index == a.index), "address on unknown link: {a:?}");
    }
}

/// Runs inside the new namespace.
fn in_fresh_namespace() {
    // Only lo exists, down, without addresses.
    let links = dump_links().unwrap();
    assert_eq!(links.len(), 1, "{links:#?}");
    assert!(!links[0].up);
    assert!(dump_addresses().unwrap().is_empty());

    lo_up();
    run("ip", &["link", "add", "kat0", "type", "veth", "peer", "name", "kat1"]);
    run("ip", &["link", "set", "kat0", "address", "02:00:00:00:00:0a"]);
    run("ip", &["addr", "add", "192.0.2.1/24", "dev", "kat0"]);
    run("ip", &["addr", "add", "192.0.2.9/32", "peer", "192.0.2.10", "dev", "kat0", "label", "kat0:p"]);
    run("ip", &["addr", "add", "2001:db8::1/64", "dev", "kat1", "nodad"]);
    run("ip", &["link", "set", "kat0", "up"]);

    let links = dump_links().unwrap();
    assert_eq!(links.len(), 3, "{links:#?}");
    let (k0, k1) = (link(&links, "kat0"), link(&links, "kat1"));
    for l in [k0, k1] {
        assert_eq!(l.kind.as_deref(), Some("veth"));
        assert_eq!(l.link_type, 1);
        assert_eq!(l.hw_addr.len(), 6);
        assert!(!l.loopback);
    }
    assert_eq!(k0.hw_addr, vec![2, 0, 0, 0, 0, 0x0a]);
    assert!(k0.up && !k1.up);
    assert_eq!(k0.parent_index, Some(k1.index));
    assert!(link(&links, "lo").up);

    let addrs = dump_addresses().unwrap();
    assert!(has_addr(&addrs, 1, "127.0.0.1", 8), "{addrs:#?}");
    assert!(has_addr(&addrs, 1, "::1", 128), "{addrs:#?}");
    assert!(has_addr(&addrs, k0.index, "192.0.2.1", 24), "{addrs:#?}");
    assert!(has_addr(&addrs, k1.index, "2001:db8::1", 64), "{addrs:#?}");
    let p = addrs.iter().find(|a| a.addr == ip("192.0.2.9")).expect("peer address");
    assert_eq!(p.peer, Some(ip("192.0.2.10")));
    assert_eq!(p.label.as_deref(), Some("kat0:p"));
    // Many links: the dump spans several datagrams.
    for i in 0..75 {
        run("ip", &["link", "add", &format!("kaa{i}"), "type", "veth", "peer", "name", &format!("kab{i}")]);
    }
    let links = dump_links().unwrap();
    assert_eq!(links.len(), 153);
    assert_eq!(links.iter().filter(|l| l.kind.as_deref() == Some("veth")).count(), 152);
    assert!(links.iter().any(|l| l.name == "kab74"));
}

#[test]
fn fresh_namespace() {
    in_netns("fresh_namespace", &[], in_fresh_namespace);
}
