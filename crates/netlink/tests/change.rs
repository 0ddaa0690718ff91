//! Adding and deleting addresses, routes and rules, and the change
//! monitor, in a new network namespace: each test re-runs this test binary
//! under `unshare -n` and checks the result with `ip`. They pass with a note
//! when they cannot run (not root, no `unshare`/`ip`).

use keepalived_netlink::{
    add_address, add_route, add_rule, del_address, del_route, del_rule, dump_addresses, dump_links, AddrOptions, Event,
    Family, Monitor, NetlinkError, Prefix, RouteKind, RouteSpec, RuleSpec, RTPROT_KEEPALIVED,
};
use keepalived_testkit::in_netns;
use keepalived_testkit::kernel::{self, AddressFlags, Kernel, RouteProtocol, RouteScope, RouteType};
use keepalived_testkit::netns::lo_up;
use keepalived_testkit::run;
use mio::{Events, Interest, Poll, Token};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The main routing table (RT_TABLE_MAIN).
const MAIN: u32 = 254;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A veth pair kat0/kat1, both up, lo up.
fn veth() -> u32 {
    lo_up();
    run("ip", &["link", "add", "kat0", "type", "veth", "peer", "name", "kat1"]);
    run("ip", &["link", "set", "kat0", "up"]);
    run("ip", &["link", "set", "kat1", "up"]);
    dump_links().unwrap().iter().find(|l| l.name == "kat0").unwrap().index
}

/// The addresses of `dev` as the kernel reports them to another netlink
/// client (rtnetlink): an independent view of what our requests did.
fn kernel_addrs(dev: &str) -> Vec<kernel::Addr> {
    Kernel::current().addresses(Some(dev))
}

fn find<'a>(info: &'a [kernel::Addr], local: &str) -> Option<&'a kernel::Addr> {
    info.iter().find(|a| a.addr == ip(local))
}

/// The route to `dst` (`None`: the default route) in `table`, both families.
fn kernel_route(table: u32, dst: Option<&str>) -> Option<kernel::Route> {
    let want = dst.map(|d| {
        let (a, len) = d.split_once('/').unwrap();
        (ip(a), len.parse::<u8>().unwrap())
    });
    Kernel::current().routes(Some(table)).into_iter().find(|r| r.dst == want)
}

#[test]
fn addresses() {
    in_netns("addresses", &[], || {
        let kat0 = veth();
        // An IPv4 /32 VIP with a label.
        let vip4 = AddrOptions { label: Some("kat0:vip".into()), ..Default::default() };
        add_address(kat0, ip("192.0.2.100"), 32, &vip4).unwrap();
        // An IPv6 /128 VIP, deprecated at once, as keepalived adds them.
        let vip6 = AddrOptions { preferred_lft: Some(0), nodad: true, ..Default::default() };
        add_address(kat0, ip("2001:db8::100"), 128, &vip6).unwrap();
        // A peer address with a broadcast, on another scope.
        let p2p = AddrOptions { peer: Some(ip("192.0.2.201")), scope: Some(253), ..Default::default() };
        add_address(kat0, ip("192.0.2.200"), 32, &p2p).unwrap();
        let bcast = AddrOptions { broadcast: Some("198.51.100.255".parse().unwrap()), ..Default::default() };
        add_address(kat0, ip("198.51.100.1"), 24, &bcast).unwrap();

        let addrs = dump_addresses().unwrap();
        let a4 = addrs.iter().find(|a| a.addr == ip("192.0.2.100")).expect("IPv4 VIP");
        assert_eq!((a4.index, a4.prefix_len, a4.label.as_deref()), (kat0, 32, Some("kat0:vip")));
        let a6 = addrs.iter().find(|a| a.addr == ip("2001:db8::100")).expect("IPv6 VIP");
        assert_eq!((a6.index, a6.prefix_len), (kat0, 128));
        let p = addrs.iter().find(|a| a.addr == ip("192.0.2.200")).expect("peer address");
        assert_eq!((p.peer, p.scope), (Some(ip("192.0.2.201")), 253));

        let info = kernel_addrs("kat0");
        let j4 = find(&info, "192.0.2.100").expect("the kernel reports the IPv4 VIP");
        assert_eq!(j4.prefix_len, 32);
        assert_eq!(j4.label.as_deref(), Some("kat0:vip"));
        let j6 = find(&info, "2001:db8::100").expect("the kernel reports the IPv6 VIP");
        assert_eq!(j6.prefix_len, 128);
        assert_eq!(j6.preferred, 0);
        assert!(j6.flags.contains(AddressFlags::Deprecated), "{j6:?}");
        assert!(j6.flags.contains(AddressFlags::Nodad), "{j6:?}");
        assert_eq!(find(&info, "198.51.100.1").unwrap().broadcast, Some("198.51.100.255".parse().unwrap()));
        assert_eq!(find(&info, "192.0.2.200").unwrap().peer, Some(ip("192.0.2.201")));

        // Already there / already gone are told apart from other failures.
        let e = add_address(kat0, ip("192.0.2.100"), 32, &vip4).unwrap_err();
        assert!(e.is_already_exists(), "{e:?}");
        assert!(matches!(add_address(kat0, ip("2001:db8::100"), 128, &vip6), Err(NetlinkError::AlreadyExists { .. })));
        del_address(kat0, ip("192.0.2.100"), 32, &vip4).unwrap();
        del_address(kat0, ip("2001:db8::100"), 128, &vip6).unwrap();
        let e = del_address(kat0, ip("192.0.2.100"), 32, &vip4).unwrap_err();
        assert!(e.is_not_found(), "{e:?}");
        assert_eq!(e.errno(), Some(99));
        assert!(e.to_string().starts_with("cannot delete address 192.0.2.100/32 from interface "), "{e}");
        assert!(del_address(kat0, ip("2001:db8::100"), 128, &vip6).unwrap_err().is_not_found());
        let info = kernel_addrs("kat0");
        assert!(find(&info, "192.0.2.100").is_none() && find(&info, "2001:db8::100").is_none(), "{info:?}");
        assert!(!dump_addresses().unwrap().iter().any(|a| a.addr == ip("192.0.2.100")));

        // Other refusals are neither.
        let e = add_address(9999, ip("192.0.2.1"), 32, &AddrOptions::default()).unwrap_err();
        assert!(matches!(e, NetlinkError::Change { .. }), "{e:?}");
        assert_eq!(e.errno(), Some(19), "ENODEV: {e}");
    });
}

#[test]
fn routes_and_rules() {
    in_netns("routes_and_rules", &[], || {
        let kat0 = veth();
        add_address(kat0, ip("192.0.2.1"), 24, &AddrOptions::default()).unwrap();
        add_address(kat0, ip("2001:db8::1"), 64, &AddrOptions { nodad: true, ..Default::default() }).unwrap();

        let mut r = RouteSpec::new("198.51.100.0/24".parse().unwrap());
        r.gateway = Some(ip("192.0.2.254"));
        r.ifindex = Some(kat0);
        r.src = Some(ip("192.0.2.1"));
        r.table = Some(100);
        r.metric = Some(5);
        r.protocol = Some(RTPROT_KEEPALIVED);
        add_route(&r).unwrap();
        // 198.51.100.0/24 via 192.0.2.254 dev kat0 proto keepalived src 192.0.2.1 metric 5
        let shown = kernel_route(100, Some("198.51.100.0/24")).expect("the route in table 100");
        assert_eq!(shown.gateway, Some(ip("192.0.2.254")), "{shown}");
        assert_eq!(shown.oif.as_deref(), Some("kat0"), "{shown}");
        assert_eq!(shown.protocol, RouteProtocol::KeepAlived, "{shown}");
        assert_eq!((shown.prefsrc, shown.metric), (Some(ip("192.0.2.1")), Some(5)), "{shown}");
        assert!(add_route(&r).unwrap_err().is_already_exists());

        // A direct route in main: scope link, as `ip route add … dev`.
        let mut direct = RouteSpec::new("203.0.113.0/25".parse().unwrap());
        direct.ifindex = Some(kat0);
        add_route(&direct).unwrap();
        // unicast 203.0.113.0/25 dev kat0 proto boot scope link
        let shown = kernel_route(MAIN, Some("203.0.113.0/25")).expect("the direct route");
        assert_eq!((shown.kind, shown.oif.as_deref()), (RouteType::Unicast, Some("kat0")), "{shown}");
        assert_eq!((shown.protocol, shown.scope), (RouteProtocol::Boot, RouteScope::Link), "{shown}");

        let mut bh = RouteSpec::new("203.0.113.128/25".parse().unwrap());
        bh.kind = RouteKind::Blackhole;
        add_route(&bh).unwrap();
        let mut un6 = RouteSpec::new("2001:db8:99::/48".parse().unwrap());
        un6.kind = RouteKind::Unreachable;
        un6.table = Some(1000);
        add_route(&un6).unwrap();
        let mut gw6 = RouteSpec::new(Prefix::default_v6());
        gw6.gateway = Some(ip("2001:db8::fe"));
        gw6.ifindex = Some(kat0);
        add_route(&gw6).unwrap();
        let kind = |table, dst| kernel_route(table, dst).map(|r| r.kind);
        assert_eq!(kind(MAIN, Some("203.0.113.128/25")), Some(RouteType::BlackHole));
        assert_eq!(kind(1000, Some("2001:db8:99::/48")), Some(RouteType::Unreachable));
        let gw = kernel_route(MAIN, None).filter(|r| r.gateway == Some(ip("2001:db8::fe")));
        assert_eq!(gw.and_then(|r| r.oif).as_deref(), Some("kat0"), "default via 2001:db8::fe dev kat0");

        for spec in [&r, &direct, &bh, &un6, &gw6] {
            del_route(spec).unwrap_or_else(|e| panic!("{e}"));
            let e = del_route(spec).unwrap_err();
            assert!(e.is_not_found(), "{e:?}");
        }
        assert!(Kernel::current().routes(Some(100)).is_empty());
        assert!(kernel_route(MAIN, Some("203.0.113.128/25")).is_none());
        // A gateway the kernel cannot reach: its explanation is kept.
        let mut bad = RouteSpec::new("10.0.0.0/8".parse().unwrap());
        bad.gateway = Some(ip("10.9.9.9"));
        let e = add_route(&bad).unwrap_err();
        assert!(matches!(e, NetlinkError::Change { .. }), "{e:?}");
        println!("unreachable gateway: {e}");

        let rule = RuleSpec {
            from: Some("192.0.2.0/24".parse().unwrap()),
            table: Some(100),
            priority: Some(1000),
            ..Default::default()
        };
        add_rule(&rule).unwrap();
        let mark = RuleSpec {
            fwmark: Some(0x10),
            fwmask: Some(0xff),
            table: Some(200),
            priority: Some(1001),
            ..Default::default()
        };
        add_rule(&mark).unwrap();
        let six = RuleSpec {
            family: Family::Inet6,
            to: Some("2001:db8::/32".parse().unwrap()),
            table: Some(1000),
            priority: Some(1002),
            ..Default::default()
        };
        add_rule(&six).unwrap();
        let shown = run("ip", &["rule"]);
        assert!(shown.contains("1000:\tfrom 192.0.2.0/24 lookup 100"), "{shown}");
        assert!(shown.contains("1001:\tfrom all fwmark 0x10/0xff lookup 200"), "{shown}");
        let shown6 = run("ip", &["-6", "rule"]);
        assert!(shown6.contains("1002:\tfrom all to 2001:db8::/32 lookup 1000"), "{shown6}");
        assert!(add_rule(&rule).unwrap_err().is_already_exists());
        for spec in [&rule, &mark, &six] {
            del_rule(spec).unwrap_or_else(|e| panic!("{e}"));
            let e = del_rule(spec).unwrap_err();
            assert!(e.is_not_found(), "{e:?}");
        }
        assert!(!run("ip", &["rule"]).contains("lookup 100"));
        assert!(!run("ip", &["-6", "rule"]).contains("lookup 1000"));
    });
}

/// Poll until an event matching `want` arrives (5 s at most); returns
/// every event read.
fn wait_event(poll: &mut Poll, monitor: &mut Monitor, want: impl Fn(&Event) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut events = Events::with_capacity(8);
    let mut seen = Vec::new();
    loop {
        monitor.read(&mut seen).unwrap();
        if seen.iter().any(&want) {
            return seen;
        }
        let left = deadline.checked_duration_since(Instant::now()).unwrap_or_else(|| panic!("not seen in {seen:#?}"));
        poll.poll(&mut events, Some(left)).unwrap();
    }
}

#[test]
fn monitor() {
    in_netns("monitor", &[], || {
        let kat0 = veth();
        let mut poll = Poll::new().unwrap();
        let mut m = Monitor::new().unwrap();
        assert!(m.receive_buffer().unwrap() >= 1024 * 1024, "root may pass rmem_max");
        // `vrrp_netlink_monitor_rcv_bufs 300000` with and without _force
        // (the kernel doubles the size; without force it caps at rmem_max).
        let rmem_max: usize = std::fs::read_to_string("/proc/sys/net/core/rmem_max").unwrap().trim().parse().unwrap();
        let forced = Monitor::configured(Some(300_000), true).unwrap();
        assert_eq!(forced.receive_buffer().unwrap(), 600_000);
        let capped = Monitor::configured(Some(300_000), false).unwrap();
        assert_eq!(capped.receive_buffer().unwrap(), 2 * rmem_max.min(300_000));
        poll.registry().register(&mut m, Token(7), Interest::READABLE).unwrap();
        let name = "kat0".to_string();

        run("ip", &["link", "set", "dev", "kat0", "down"]);
        wait_event(&mut poll, &mut m, |e| *e == Event::LinkDown { index: kat0, name: name.clone() });
        run("ip", &["link", "set", "dev", "kat0", "up"]);
        wait_event(&mut poll, &mut m, |e| *e == Event::LinkUp { index: kat0, name: name.clone() });
        // The peer going down takes the carrier away.
        run("ip", &["link", "set", "dev", "kat1", "down"]);
        wait_event(&mut poll, &mut m, |e| *e == Event::LinkDown { index: kat0, name: name.clone() });

        run("ip", &["addr", "add", "192.0.2.77/24", "dev", "kat0"]);
        let seen = wait_event(&mut poll, &mut m, |e| matches!(e, Event::AddressAdded(a) if a.addr == ip("192.0.2.77")));
        let Some(Event::AddressAdded(a)) = seen.iter().find(|e| matches!(e, Event::AddressAdded(_))) else { panic!() };
        assert_eq!((a.index, a.prefix_len), (kat0, 24));
        run("ip", &["addr", "add", "2001:db8::77/64", "dev", "kat0", "nodad"]);
        wait_event(&mut poll, &mut m, |e| matches!(e, Event::AddressAdded(a) if a.addr == ip("2001:db8::77")));
        run("ip", &["addr", "del", "192.0.2.77/24", "dev", "kat0"]);
        wait_event(&mut poll, &mut m, |e| matches!(e, Event::AddressRemoved(a) if a.addr == ip("192.0.2.77")));
        run("ip", &["link", "del", "kat0"]);
        wait_event(&mut poll, &mut m, |e| *e == Event::LinkRemoved { index: kat0, name: name.clone() });

        // Nothing pending: read returns at once with nothing.
        let mut none = Vec::new();
        m.read(&mut none).unwrap();
        assert!(none.is_empty(), "{none:?}");

        // A tiny receive buffer overflows: Resync, and reading goes on.
        let mut small = Monitor::with_receive_buffer(0, false).unwrap();
        let batch: String =
            (0..300).map(|i| format!("addr add 10.1.{}.{}/32 dev lo\n", i / 250, i % 250 + 1)).collect();
        let path = std::env::temp_dir().join(format!("kanl-batch-{}", std::process::id()));
        std::fs::write(&path, batch).unwrap();
        run("ip", &["-batch", path.to_str().unwrap()]);
        let _ = std::fs::remove_file(&path);
        let mut seen = Vec::new();
        small.read(&mut seen).unwrap();
        assert!(seen.contains(&Event::Resync), "{} events, no Resync", seen.len());
        run("ip", &["addr", "add", "10.2.0.1/32", "dev", "lo"]);
        let mut seen = Vec::new();
        let mut poll2 = Poll::new().unwrap();
        poll2.registry().register(&mut small, Token(1), Interest::READABLE).unwrap();
        wait_event(&mut poll2, &mut small, |e| matches!(e, Event::AddressAdded(a) if a.addr == ip("10.2.0.1")));
        small.read(&mut seen).unwrap();
    });
}
