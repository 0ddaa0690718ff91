//! `static_ipaddress`, `static_routes`, `static_rules`, `virtual_routes`
//! and `virtual_rules`, compared with the real keepalived 2.2.7: the same
//! configuration runs under each implementation in its own network
//! namespace; while the instance is MASTER, and after SIGTERM, the kernel's
//! addresses, routes (all tables) and rules must read the same. The routes
//! carry the rarer attributes too (tos, realms, onlink, the metrics with
//! their locks, nexthop groups, IPv6 from/expires/pref, ip/ip6 encap,
//! ttl-propagate), the rules every selector and action but l3mdev and
//! tunnel-id. MPLS and ILA encap, nexthop encap and `vrf` need modules this
//! host's kernel lacks: tests/vrrp_surface_vm.rs compares them in a guest.
//! Needs root and /usr/sbin/keepalived; fails otherwise.

use keepalived_testkit::kernel::{Kernel, Route, RouteType};
use keepalived_testkit::netns::Node;
use keepalived_testkit::prereq::KEEPALIVED;
use keepalived_testkit::wait::secs;
use keepalived_testkit::wait_for;
use std::net::IpAddr;
use std::time::Duration;

const CONF: &str = "global_defs {
    router_id routes
}
static_ipaddress {
    192.0.2.10/24 dev eth1
}
static_routes {
    203.0.113.0/24 via 192.0.2.1 dev eth1
    blackhole 198.18.0.0/16
    192.0.2.128/25 via 192.0.2.1 dev eth1 mtu lock 1400 advmss 1300 hoplimit 10 initcwnd 10 initrwnd 20 window 65535
    198.19.0.0/24 via 192.0.2.1 dev eth1 tos 0x10 realms 3/4 rtt 300ms rttvar 250ms rto_min 200ms ssthresh 10 cwnd lock 5 reordering 4 features ecn quickack 1 congctl lock reno fastopen_no_cookie 1
    203.0.113.64/26 via 198.18.255.77 dev eth1 onlink
    198.20.0.0/24 nexthop via 192.0.2.1 dev eth1 weight 2 nexthop via 192.0.2.2 dev eth1 weight 3 onlink
    2001:db8:5::/64 from 2001:db8:6::/64 via 2001:db8:1::1 dev eth1 expires 300 pref high
    10.5.0.0/24 encap ip id 5 dst 1.2.3.4 ttl 3 tos 0x10 dev eth1
    2001:db8:9::/64 encap ip6 id 7 dst 2001:db8::1 hoplimit 4 tc 8 dev eth1
    198.21.0.0/24 via 192.0.2.1 dev eth1 ttl-propagate disabled
    2001:db8:b::/64 via 2001:db8:1::1 dev eth1 ttl-propagate enabled
}
static_rules {
    from 192.0.2.10/32 table 100 priority 100
    from 192.0.2.0/24 to 198.18.0.0/16 tos 0x10 iif eth1 table 100 priority 110
    not from 192.0.2.11 table 100 priority 111
    oif eth1 uidrange 1000-2000 table 100 priority 112
    from 192.0.2.13 ipproto tcp sport 1000-2000 dport 80-80 table 100 priority 113
    fwmark 5 goto 32766 priority 114
    from 192.0.2.12 blackhole priority 115
    from 192.0.2.14 unreachable priority 116
    from 192.0.2.15 prohibit priority 117
    from 192.0.2.16 nop priority 118
    from 192.0.2.17 suppress_prefixlength 0 table main priority 119
    from 192.0.2.18 realms 3/4 table 100 priority 120
    from 192.0.2.19 suppress_ifgroup 5 table 100 priority 121
}
vrrp_instance VI_R {
    state BACKUP
    interface eth0
    virtual_router_id 81
    priority 100
    advert_int 1
    virtual_ipaddress {
        198.51.100.81/24
    }
    virtual_routes {
        198.51.100.128/25 via 198.51.100.254 dev eth0 table 200
        src 198.51.100.81 203.0.113.128/25 via 198.51.100.254
        198.51.100.0/26 via 198.51.100.254 dev eth0 table 201 mtu 1300 tos 0x04 realms 7
    }
    virtual_rules {
        from 198.51.100.81/32 table 200 priority 200
        to 203.0.113.128/25 table 200 priority 201
        not to 203.0.113.0/25 iif eth0 tos 0x04 goto 32766 priority 202
    }
}
";

struct State {
    master: String,
    stopped: String,
}

/// The kernel's addresses (IPv4, lo aside), routes of every table (local,
/// broadcast, multicast and link-local ones aside) and rules, as rtnetlink
/// reports them (expiry times cut).
fn snapshot(n: &str) -> String {
    let kernel = Kernel::named(n);
    let addrs: Vec<String> =
        kernel.addresses(None).iter().filter(|a| a.ifname != "lo" && a.addr.is_ipv4()).map(|a| a.to_string()).collect();
    let routes: Vec<String> = kernel.routes(None).iter().filter(|r| shown(r)).map(|r| r.to_string()).collect();
    let rules: Vec<String> = kernel.rules().iter().map(|r| r.to_string()).collect();
    format!("{}\n--\n{}\n--\n{}", addrs.join("\n"), routes.join("\n"), rules.join("\n"))
}

/// Not a local, broadcast or multicast route, nor one to fe80::/10 or ff00::/8.
fn shown(r: &Route) -> bool {
    let special = matches!(r.kind, RouteType::Local | RouteType::Broadcast | RouteType::Multicast);
    let v6_link = matches!(r.dst, Some((IpAddr::V6(v), _)) if v.segments()[0] & 0xffc0 == 0xfe80 || v.segments()[0] & 0xff00 == 0xff00);
    !special && !v6_link
}

fn scenario(tag: &str, binary: &str) -> State {
    let node = Node::new("rp", tag);
    let n = node.ns.clone();
    let setup = format!(
        "set -e; ip -n {n} link add eth1 type veth peer name peth1; \
         ip -n {n} link set eth1 up; ip -n {n} link set peth1 up; \
         ip -n {n} -6 addr add 2001:db8:1::10/64 dev eth1 nodad"
    );
    assert!(std::process::Command::new("sh").args(["-c", &setup]).status().unwrap().success());
    let mut daemon = node.start(binary, CONF);
    assert!(wait_for(secs(15), || node.has_addr("198.51.100.81")), "{tag}: never master; log:\n{}", daemon.log());
    std::thread::sleep(Duration::from_millis(1000));
    let master = snapshot(&n);
    daemon.stop();
    let stopped = snapshot(&n);
    State { master, stopped }
}

#[test]
fn static_and_virtual_routes_and_rules_match_keepalived_2_2_7() {
    keepalived_testkit::require(&[KEEPALIVED]);
    let theirs = scenario("ka", KEEPALIVED);
    let ours = scenario("rs", env!("CARGO_BIN_EXE_keepalived"));
    println!("== keepalived 2.2.7, master:\n{}\n== keepalived-rs, master:\n{}", theirs.master, ours.master);
    assert!(theirs.master.contains("table 200 "), "keepalived did not install the virtual routes:\n{}", theirs.master);
    assert_eq!(ours.master, theirs.master, "kernel state while MASTER differs");
    assert_eq!(ours.stopped, theirs.stopped, "kernel state after stop differs");
}
