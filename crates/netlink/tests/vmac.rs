//! VMAC creation, reuse, repair, conflicts, sysctls and deletion against
//! the real kernel, in a new network namespace, checked with our own link
//! query and with `ip -d -j link show` (iproute2 is the reference). Each
//! test re-runs this binary under `unshare -n`; it passes with a note when
//! it cannot run (not root, no `unshare`/`ip`).

use keepalived_netlink::dump_links;
use keepalived_netlink::vmac::{
    create_vmac, delete_vmac, link_by_name, read_sysctl, Sysctls, VmacError, VmacSpec, MACVLAN_MODE_PRIVATE,
};
use keepalived_testkit::in_netns;
use keepalived_testkit::netns::lo_up;
use keepalived_testkit::run;
use std::path::PathBuf;
use std::time::Instant;

fn index(name: &str) -> u32 {
    dump_links().unwrap().iter().find(|l| l.name == name).unwrap_or_else(|| panic!("no {name}")).index
}

fn ip_d_j(dev: &str) -> serde_json::Value {
    let out = run("ip", &["-d", "-j", "link", "show", "dev", dev]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v[0].clone()
}

fn v4(dev: &str, key: &str) -> u8 {
    read_sysctl(&PathBuf::from(format!("/proc/sys/net/ipv4/conf/{dev}/{key}"))).unwrap()
}

fn v6(dev: &str, key: &str) -> u8 {
    read_sysctl(&PathBuf::from(format!("/proc/sys/net/ipv6/conf/{dev}/{key}"))).unwrap()
}

fn set(path: &str, value: &str) {
    std::fs::write(path, value).unwrap();
}

/// veth kat0 (the base) / kat1, both up; all.rp_filter 1 as on many
/// distributions.
fn base() -> u32 {
    lo_up();
    run("ip", &["link", "add", "kat0", "type", "veth", "peer", "name", "kat1"]);
    run("ip", &["link", "set", "kat0", "up"]);
    run("ip", &["link", "set", "kat1", "up"]);
    set("/proc/sys/net/ipv4/conf/all/rp_filter", "1");
    index("kat0")
}

#[test]
fn create_configure_delete() {
    in_netns("create_configure_delete", &[], || {
        let kat0 = base();
        let mut sysctls = Sysctls::new();
        let spec = VmacSpec::new(1, kat0, false);
        let t = Instant::now();
        let vmac = create_vmac(&spec, &mut sysctls).unwrap();
        println!("figure: create_vmac, first IPv4 VMAC (rp_filter pass included): {:?}", t.elapsed());
        assert!(!vmac.reused);
        assert_eq!(vmac.name, "vrrp.1");

        // Our own view.
        let l = link_by_name("vrrp.1").unwrap().unwrap();
        assert_eq!(l.index, vmac.index);
        assert_eq!(l.kind.as_deref(), Some("macvlan"));
        assert_eq!(l.macvlan_mode, Some(MACVLAN_MODE_PRIVATE));
        assert_eq!(l.parent_index, Some(kat0));
        assert_eq!(l.hw_addr, vec![0, 0, 0x5e, 0, 1, 1]);
        let d = dump_links().unwrap();
        let dl = d.iter().find(|x| x.name == "vrrp.1").unwrap();
        assert!(dl.up && dl.kind.as_deref() == Some("macvlan") && dl.parent_index == Some(kat0));

        // iproute2's view.
        let j = ip_d_j("vrrp.1");
        assert_eq!(j["link"], "kat0");
        assert_eq!(j["address"], "00:00:5e:00:01:01");
        assert_eq!(j["linkinfo"]["info_kind"], "macvlan");
        assert_eq!(j["linkinfo"]["info_data"]["mode"], "private");
        assert_eq!(j["inet6_addr_gen_mode"], "none");
        assert!(j["flags"].as_array().unwrap().iter().any(|f| f == "UP"), "{j}");

        // keepalived's sysctls for an IPv4 VMAC.
        assert_eq!((v4("vrrp.1", "arp_ignore"), v4("vrrp.1", "accept_local"), v4("vrrp.1", "rp_filter")), (1, 1, 0));
        assert_eq!(v4("vrrp.1", "promote_secondaries"), 1);
        assert_eq!(v6("vrrp.1", "disable_ipv6"), 1);
        assert_eq!((v4("kat0", "arp_ignore"), v4("kat0", "arp_filter")), (1, 1));
        assert_eq!((v4("all", "rp_filter"), v4("default", "rp_filter")), (0, 1));
        assert_eq!((v4("kat0", "rp_filter"), v4("kat1", "rp_filter")), (1, 1));

        // An IPv6 VMAC on the same base: its own MAC, IPv6 on, no IPv4 sysctls.
        let spec6 = VmacSpec::new(1, kat0, true);
        let spec6 = VmacSpec { name: "vrrp6.1".into(), ..spec6 };
        let vmac6 = create_vmac(&spec6, &mut sysctls).unwrap();
        let j = ip_d_j("vrrp6.1");
        assert_eq!(j["address"], "00:00:5e:00:02:01");
        assert_eq!(j["inet6_addr_gen_mode"], "none");
        assert_eq!(v6("vrrp6.1", "disable_ipv6"), 0);
        assert_eq!(v4("vrrp6.1", "accept_local"), 0);
        // No EUI-64 link-local address appeared on it.
        let addrs = run("ip", &["-j", "addr", "show", "dev", "vrrp6.1"]);
        assert!(!addrs.contains("fe80::"), "{addrs}");

        // A second IPv4 VMAC on kat0: the base is put back after the last.
        let t = Instant::now();
        let vmac2 = create_vmac(&VmacSpec::new(2, kat0, false), &mut sysctls).unwrap();
        println!("figure: create_vmac, second IPv4 VMAC: {:?}", t.elapsed());
        delete_vmac(&vmac, &mut sysctls).unwrap();
        assert!(link_by_name("vrrp.1").unwrap().is_none());
        assert_eq!(v4("kat0", "arp_ignore"), 1, "vrrp.2 still needs it");
        delete_vmac(&vmac2, &mut sysctls).unwrap();
        assert_eq!((v4("kat0", "arp_ignore"), v4("kat0", "arp_filter")), (0, 0));
        delete_vmac(&vmac6, &mut sysctls).unwrap();
        // Already gone: fine.
        delete_vmac(&vmac6, &mut sysctls).unwrap();

        sysctls.restore().unwrap();
        assert_eq!((v4("all", "rp_filter"), v4("default", "rp_filter")), (1, 0));
        assert_eq!((v4("kat0", "rp_filter"), v4("kat1", "rp_filter")), (0, 0));
        assert!(sysctls.changes().is_empty());
    });
}

#[test]
fn reuse_repair_and_conflicts() {
    in_netns("reuse_repair_and_conflicts", &[], || {
        let kat0 = base();
        let mut sysctls = Sysctls::new();

        // A correct leftover is reused as is.
        run(
            "ip",
            &[
                "link",
                "add",
                "link",
                "kat0",
                "name",
                "vrrp.3",
                "address",
                "00:00:5e:00:01:03",
                "type",
                "macvlan",
                "mode",
                "private",
            ],
        );
        let before = index("vrrp.3");
        let v = create_vmac(&VmacSpec::new(3, kat0, false), &mut sysctls).unwrap();
        assert!(v.reused);
        assert_eq!(v.index, before);
        assert_eq!(ip_d_j("vrrp.3")["inet6_addr_gen_mode"], "none");
        assert_eq!(v4("kat0", "arp_ignore"), 0, "keepalived sets no sysctls for a reused VMAC");

        // Wrong mode and MAC: updated in place.
        run("ip", &["link", "add", "link", "kat0", "name", "vrrp.4", "type", "macvlan", "mode", "bridge"]);
        let before = index("vrrp.4");
        let v = create_vmac(&VmacSpec::new(4, kat0, false), &mut sysctls).unwrap();
        assert!(!v.reused);
        assert_eq!(v.index, before);
        let j = ip_d_j("vrrp.4");
        assert_eq!(j["linkinfo"]["info_data"]["mode"], "private");
        assert_eq!(j["address"], "00:00:5e:00:01:04");

        // A macvlan of that name on another interface: replaced.
        run("ip", &["link", "add", "link", "kat1", "name", "vrrp.5", "type", "macvlan", "mode", "private"]);
        let v = create_vmac(&VmacSpec::new(5, kat0, false), &mut sysctls).unwrap();
        assert_eq!(ip_d_j("vrrp.5")["link"], "kat0");
        assert_eq!(link_by_name("vrrp.5").unwrap().unwrap().index, v.index);

        // Something else of that name: refused, and left alone.
        run("ip", &["link", "add", "vrrp.6", "type", "veth", "peer", "name", "kat6"]);
        let e = create_vmac(&VmacSpec::new(6, kat0, false), &mut sysctls).unwrap_err();
        assert!(matches!(e, VmacError::Conflict { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "cannot use vrrp.6 as a VMAC: an interface of that name exists and is not a macvlan (veth)"
        );
        assert_eq!(ip_d_j("vrrp.6")["linkinfo"]["info_kind"], "veth");

        // Bad names and bases.
        let bad = VmacSpec { name: "much-too-long-name".into(), ..VmacSpec::new(7, kat0, false) };
        assert!(matches!(create_vmac(&bad, &mut sysctls), Err(VmacError::BadName(_))));
        let e = create_vmac(&VmacSpec::new(8, 9999, false), &mut sysctls).unwrap_err();
        assert!(e.to_string().starts_with("cannot create VMAC vrrp.8 (macvlan, private) on interface 9999"), "{e}");
        sysctls.restore().unwrap();
    });
}
