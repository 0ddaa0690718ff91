//! Area `ipaddr`: address/route/rule entries, static_* blocks, track_group.
//! Expected messages are keepalived 2.2.7's (checked with `keepalived -t`).

use keepalived_config::engine::{Args, Ctx};
use keepalived_config::ipaddr::{self, model::*};
use keepalived_config::lexer::tokenize;
use keepalived_config::preproc::{PreprocOptions, Preprocessor};
use keepalived_config::{parse_str, ParseOptions, Parsed, Severity, Subsystems, SystemView};
use std::net::{IpAddr, Ipv4Addr};

fn sys() -> SystemView {
    SystemView::with_interfaces(&["lo", "eth0", "eth1", "eth2", "eth3"])
}

fn parse(text: &str) -> Parsed {
    parse_str("t.conf", text, &ParseOptions { system: sys(), ..Default::default() })
}

/// Messages (not notices) as `LINE: text`.
fn msgs(p: &Parsed) -> Vec<String> {
    p.diags
        .iter()
        .filter(|d| d.severity != Severity::Notice)
        .map(|d| match &d.origin {
            Some(o) => format!("{}: {}", o.line, d.message),
            None => d.message.clone(),
        })
        .collect()
}

fn block(kw: &str, lines: &[&str]) -> String {
    let mut s = format!("{kw} {{\n");
    for l in lines {
        s.push_str("    ");
        s.push_str(l);
        s.push('\n');
    }
    s.push_str("}\n");
    s
}

fn addrs(lines: &[&str]) -> Parsed {
    parse(&block("static_ipaddress", lines))
}
fn routes(lines: &[&str]) -> Parsed {
    parse(&block("static_routes", lines))
}
fn rules(lines: &[&str]) -> Parsed {
    parse(&block("static_rules", lines))
}

/// One entry line rejected (or accepted with messages): the messages it gives.
fn expect(p: &Parsed, expected: &[&str]) {
    let got = msgs(p);
    assert_eq!(got, expected.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "messages");
}

fn v4(s: &str) -> IpAddr {
    s.parse().unwrap()
}

// ------------------------------------------------------------------ addresses

#[test]
fn address_all_options() {
    let p = addrs(&[
        "192.168.1.1/24 dev eth1 scope link label eth1:vip brd + home -nodad mngtmpaddr noprefixroute autojoin preferred_lft 30 no_track",
    ]);
    expect(&p, &[]);
    assert_eq!(p.test_exit_code(), 0);
    let a = &p.config.ip.addresses[0];
    assert_eq!(a.addr, v4("192.168.1.1"));
    assert_eq!(a.prefix, 24);
    assert_eq!(a.dev.as_deref(), Some("eth1"));
    assert_eq!(a.scope, Some(253));
    assert_eq!(a.label.as_deref(), Some("eth1:vip"));
    assert_eq!(a.broadcast, Some(Ipv4Addr::new(192, 168, 1, 255)));
    assert!(a.home && a.nodad && a.mngtmpaddr && a.noprefixroute && a.autojoin && a.no_track);
    assert_eq!(a.preferred_lft, Some(Lifetime::Secs(30)));
    assert_eq!(a.origin.line, 2);
    assert!(!a.use_vmac);
}

#[test]
fn address_defaults_and_default_interface() {
    let p = addrs(&["10.0.0.1", "2001:db8::1", "2001:db8::2/64 preferred_lft forever scope global"]);
    expect(&p, &[]);
    let a = &p.config.ip.addresses;
    assert_eq!(a[0].prefix, 32);
    // static address without dev: default interface eth0
    assert_eq!(a[0].dev.as_deref(), Some("eth0"));
    assert_eq!(a[0].preferred_lft, None);
    assert_eq!(a[1].prefix, 128);
    // IPv6 /128: deprecated (preferred_lft 0) unless set
    assert_eq!(a[1].preferred_lft, Some(Lifetime::Secs(0)));
    assert_eq!(a[2].preferred_lft, Some(Lifetime::Forever));
    assert_eq!(a[2].scope, Some(0));
}

#[test]
fn address_default_interface_missing_is_fatal() {
    let p = parse_str(
        "t.conf",
        &block("static_ipaddress", &["10.0.0.1/24"]),
        &ParseOptions { system: SystemView::with_interfaces(&["lo"]), ..Default::default() },
    );
    expect(
        &p,
        &[
            "2: Static address 10.0.0.1/24 requires either an interface or default interface must exist",
            "Non-existent interface specified in configuration",
        ],
    );
    assert!(p.config.ip.addresses.is_empty());
    assert_eq!(p.test_exit_code(), 4);
}

#[test]
fn address_broadcast() {
    let p = addrs(&[
        "10.1.2.3/16 dev eth0 brd -",
        "10.1.2.3/16 dev eth0 broadcast 10.1.255.254",
        "10.1.2.3/31 dev eth0 brd +",
        "10.1.2.3 dev eth0 brd x",
        "fe80::1/64 dev eth0 brd +",
        "10.1.2.3 dev eth0 peer 10.1.2.4 brd +",
    ]);
    expect(
        &p,
        &[
            "4: Address prefix length 31 too long for broadcast",
            "5: VRRP is trying to assign invalid broadcast x. skipping VIP...",
            "6: VRRP is trying to assign a broadcast brd to the IPv6 address fe80::1/64 !!?? WTF... skipping VIP...",
            "7: Cannot specify broadcast and peer addresses - ignoring broadcast address",
        ],
    );
    let a = &p.config.ip.addresses;
    assert_eq!(a.len(), 4);
    assert_eq!(a[0].broadcast, Some(Ipv4Addr::new(10, 1, 0, 0)));
    assert_eq!(a[1].broadcast, Some(Ipv4Addr::new(10, 1, 255, 254)));
    assert_eq!(a[2].broadcast, None);
    assert_eq!(a[3].broadcast, None);
    assert_eq!(a[3].peer, Some(v4("10.1.2.4")));
}

#[test]
fn address_peer() {
    let p = addrs(&[
        "10.0.0.1/24 dev eth0 peer 10.0.0.2 peer 10.0.0.3",
        "10.0.0.1 dev eth0 peer fe80::1",
        "10.0.0.1 dev eth0 peer 10.0.0.0/24",
    ]);
    expect(
        &p,
        &[
            "2: Cannot specify address prefix when specifying peer address - ignoring",
            "2: Peer 10.0.0.3 - another peer has already been specified",
            "2: Unknown configuration entry '10.0.0.3' for ip address - ignoring",
            "3: Peer address fe80::1 does not match address family",
            "4: VRRP parsed invalid IP 10.0.0.0/24. skipping IP...",
            "4: Invalid peer address 10.0.0.0/24",
        ],
    );
    let a = &p.config.ip.addresses[0];
    assert_eq!(a.peer, Some(v4("10.0.0.2")));
    assert_eq!(a.prefix, 32);
}

#[test]
fn address_errors() {
    let p = addrs(&[
        "192.168.100./24",
        "10.0.0.6/33 dev eth0",
        "10.0.0.1 dev eth0 label eth0:1234567890123",
        "10.0.0.1 dev eth0 scope nowhere-x",
        "fe80::2/64 dev eth0 scope link label foo",
        "10.0.0.5/24 dev eth0 scope",
        "10.0.0.1 dev eth0 dev eth1",
        "10.0.0.1 dev eth0 foo use_vmac",
        "10.0.0.1 dev eth0 preferred_lft x",
        "10.0.0.1 dev eth9 scope host",
    ]);
    expect(
        &p,
        &[
            "2: VRRP parsed invalid IP 192.168.100./24. skipping IP...",
            "3: number '33' outside range [0, 32]",
            "3: Invalid address prefix len 33 for address 10.0.0.6/33 - using 32",
            "4: Address label eth0:1234567890123 is longer than maximum length 15 - removing address",
            "5: Invalid scope 'nowhere-x' specified for 10.0.0.1 - ignoring",
            "6: Cannot specify scope for IPv6 addresses (fe80::2/64) - ignoring scope",
            "6: Cannot specify label for IPv6 addresses (fe80::2/64) - ignoring label",
            "7: No scope parameter specified for 10.0.0.5/24",
            "8: Cannot specify ipaddress device more than once for 10.0.0.1",
            "9: Unknown configuration entry 'foo' for ip address - ignoring",
            "9: Unknown configuration entry 'use_vmac' for ip address - ignoring",
            "10: invalid number 'x'",
            "10: preferred_lft x is invalid",
            "11: WARNING - interface eth9 for ip address 10.0.0.1 doesn't exist",
            "Non-existent interface specified in configuration",
        ],
    );
    let a = &p.config.ip.addresses;
    assert_eq!(a.len(), 5);
    assert_eq!(a[0].prefix, 32);
    assert_eq!(a[2].scope, None);
    assert_eq!(a[2].label, None);
    // least-severe-wins: the BAD_IF after general errors gives 5
    assert_eq!(p.test_exit_code(), 5);
}

#[test]
fn address_bad_interface_alone_exits_4() {
    let p = addrs(&["10.0.0.7 dev eth0.1"]);
    assert!(p.diags.has("WARNING - interface eth0.1 for ip address 10.0.0.7 doesn't exist"));
    assert!(p.config.ip.addresses.is_empty());
    assert_eq!(p.test_exit_code(), 5);
}

#[test]
fn address_track_group() {
    let text = "track_group TG {\n group {\n VI_1\n }\n}\n".to_string()
        + &block(
            "static_ipaddress",
            &[
                "10.0.0.1 dev eth0 track_group TG",
                "10.0.0.2 dev eth0 track_group NOPE",
                "10.0.0.3 dev eth0 track_group TG track_group TG2",
            ],
        );
    let p = parse(&text);
    expect(&p, &["8: track_group NOPE not found", "9: track_group TG2 is a duplicate"]);
    let a = &p.config.ip.addresses;
    assert_eq!(a[0].track_group.as_deref(), Some("TG"));
    assert_eq!(a[1].track_group, None);
    assert_eq!(p.config.ip.track_groups[0].group, Some(vec!["VI_1".to_string()]));
}

#[test]
fn track_group_block_errors() {
    let p = parse("track_group {\n}\ntrack_group A {\n group {\n }\n}\ntrack_group A {\n}\n");
    expect(
        &p,
        &[
            "1: track_group must have a name - skipping",
            "5: Warning - track group A has empty group block",
            "7: track_group A already defined",
        ],
    );
    // a group without instances is removed at the end
    assert!(p.config.ip.track_groups.is_empty());
}

// ------------------------------------------------------------------ routes

#[test]
fn route_all_options() {
    let p = routes(&[
        "src 10.0.0.9 10.1.0.0/16 via 10.0.0.1 dev eth0 table main protocol keepalived-x",
        "10.1.0.0/16 via 10.0.0.1 dev eth0 table 100 scope link metric 5 onlink tos 4 mtu lock 1400 hoplimit 5 advmss 1000 rtt 3s rttvar lock 100ms reordering 3 window 5 cwnd lock 4 ssthresh 3 realms 1/2 rto_min 300ms initcwnd 3 initrwnd 4 features ecn quickack 1 congctl lock cubic fastopen_no_cookie 1 ttl-propagate enabled append",
    ]);
    expect(&p, &["2: Protocol keepalived-x not found or invalid for route"]);
    let r = &p.config.ip.routes[0];
    assert_eq!(r.family, Family::Inet);
    assert_eq!(r.dst.to_string(), "10.1.0.0/16");
    assert_eq!(r.via, Some(v4("10.0.0.1")));
    assert_eq!(r.dev.as_deref(), Some("eth0"));
    assert_eq!(r.table, 100);
    assert_eq!(r.scope, Some(253));
    assert_eq!(r.metric, Some(5));
    assert!(r.onlink && r.features_ecn);
    assert_eq!(r.tos, Some(4));
    assert_eq!(r.mtu, Some(Metric { value: 1400, lock: true }));
    assert_eq!(r.hoplimit, Some(5));
    assert_eq!(r.advmss, Some(Metric { value: 1000, lock: false }));
    assert_eq!(r.rtt, Some(Metric { value: 24000, lock: false }));
    // 100ms is below the 200ms minimum: reset (keepalived logs it)
    assert_eq!(r.rttvar, Some(Metric { value: 800, lock: true }));
    assert_eq!(r.reordering.map(|m| m.value), Some(3));
    assert_eq!(r.window, Some(5));
    assert_eq!(r.cwnd, Some(Metric { value: 4, lock: true }));
    assert_eq!(r.ssthresh.map(|m| m.value), Some(3));
    assert_eq!(r.realms, Some((1 << 16) | 2));
    assert_eq!(r.rto_min.map(|m| m.value), Some(300));
    assert_eq!((r.initcwnd, r.initrwnd), (Some(3), Some(4)));
    assert_eq!(r.quickack, Some(true));
    assert_eq!((r.congctl.as_deref(), r.congctl_lock), (Some("cubic"), true));
    assert_eq!(r.fastopen_no_cookie, Some(true));
    assert_eq!(r.ttl_propagate, Some(true));
    assert_eq!(r.mode, RouteMode::Append);
    assert_eq!(r.protocol, Some(ipaddr::RTPROT_KEEPALIVED));
    assert!(!r.no_track);
}

#[test]
fn route_ipv6_and_quirks() {
    let p = routes(&[
        "fe80::/64 dev eth0 from 2001::/64 pref high expires 10",
        "inet6 default via fe80::1 dev eth0",
        "default via 10.0.0.1 dev eth0",
        "default6 via fe80::1 dev eth0",
        "10.10.0.0/16 dev eth0 from 10.0.0.0/8",
        "10.8.0.0/16 dev eth0 via fe80::1",
        "10.8.0.0/16 dev eth0 pref low",
    ]);
    expect(
        &p,
        &[
            // inet6 also skips the next word (keepalived quirk)
            "3: Route must have a destination",
            "6: route from address only supported with IPv6 (10.0.0.0/8)",
            "7: Cannot mix IPv4 and IPv6 addresses for route",
            "8: pref is only valid for IPv6",
        ],
    );
    assert!(p.diags.has("'default6' is deprecated - please replace with 'inet6 default'"));
    let r = &p.config.ip.routes;
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].family, Family::Inet6);
    assert_eq!(r[0].from.map(|f| f.to_string()), Some("2001::/64".into()));
    assert_eq!((r[0].pref, r[0].expires), (Some(1), Some(10)));
    assert!(r[1].dst.default && r[1].dst.prefix == 0);
    assert_eq!(r[1].dst.addr, v4("0.0.0.0"));
    assert_eq!(r[2].family, Family::Inet6);
}

#[test]
fn route_nexthops_and_deprecated() {
    let p = routes(&[
        "10.2.0.0/16 dev eth0 nexthop via 10.0.0.1 dev eth1 weight 2 onlink nexthop via 10.0.0.2 dev eth2 weight 0 nexthop via 10.0.0.3",
        "10.3.0.0/16 dev eth0 nexthop via 10.0.0.1 dev eth1 foo",
        "10.23.0.0/16 via 10.0.0.1 or 10.0.0.2 or 10.0.0.3",
        "10.25.0.0/16 dev eth0 or 10.0.0.1 nexthop via 10.0.0.2",
        "0.0.0.0/0 gw 192.168.0.1 table 100",
        "10.24.0.0/16 dev eth0 nexthop via 10.0.0.1 dev eth9 nexthop via 10.0.0.2",
        "10.30.0.0/16 dev eth0 nexthop realms 1 encap mpls 5 via 1.1.1.1",
    ]);
    expect(
        &p,
        &[
            "2: Invalid weight 0 specified for route",
            "3: Route has trailing nonsense after nexthops - foo",
            "4: \"or\" for routes is deprecated. Please use \"nexthop\"",
            "4: \"or\" for routes is deprecated. Please use \"nexthop\"",
            "4: \"or\" route already specified - ignoring subsequent",
            "4: Warning - cannot track route 10.23.0.0/16 with no interface specified, not tracking",
            "5: \"or\" for routes is deprecated. Please use \"nexthop\"",
            "5: Cannot specify nexthops with \"or\" route",
            "5: Route has trailing nonsense - nexthop",
            "6: \"gw\" for routes is deprecated. Please use \"via\"",
            "6: Warning - cannot track route 0.0.0.0/0 with no interface specified, not tracking",
            "7: WARNING - interface eth9 for VROUTE nexthop doesn't exist",
            "Non-existent interface specified in configuration",
        ],
    );
    let r = &p.config.ip.routes;
    assert_eq!(r[0].nexthops.len(), 1);
    assert_eq!(
        r[0].nexthops[0],
        Nexthop {
            via: Some(v4("10.0.0.1")),
            dev: Some("eth1".into()),
            weight: Some(2),
            onlink: true,
            encap: None,
            realms: None
        }
    );
    assert_eq!(r[1].nexthops.len(), 1);
    assert_eq!(
        r[2].nexthops.iter().map(|n| n.via).collect::<Vec<_>>(),
        vec![Some(v4("10.0.0.1")), Some(v4("10.0.0.2"))]
    );
    assert!(r[2].no_track && r[2].via.is_none());
    assert_eq!((r[3].via, r[3].table), (Some(v4("192.168.0.1")), 100));
    assert!(r[4].nexthops.is_empty());
    assert_eq!(r[5].nexthops[0].encap, Some(Encap::Mpls { labels: vec![5] }));
    assert_eq!(r[5].nexthops[0].realms, Some(1));
}

#[test]
fn route_types_and_encap() {
    let p = routes(&[
        "blackhole 192.168.113.1/32",
        "throw 10.27.0.0/16 dev eth0 no_track",
        "to blackhole 1.2.3.4",
        "10.11.0.0/16 dev eth0 encap ip id 5 dst 1.2.3.4 tos 5 ttl 5 flags 3",
        "10.12.0.0/16 dev eth0 encap ip6 dst 1.2.3.4",
        "10.13.0.0/16 dev eth0 encap ip ttl 5",
        "10.14.0.0/16 dev eth0 encap mpls 100/200/300",
        "10.15.0.0/16 dev eth0 encap ila 1:2:3",
        "10.16.0.0/16 dev eth0 encap foo bar 1.2.3.0/24",
        "10.17.0.0/16 dev eth0 encap ila 1:2:3:4 as to 1.2.3.4",
    ]);
    expect(
        &p,
        &[
            "2: Warning - cannot track route 192.168.113.1/32 with no interface specified, not tracking",
            "4: VRRP parsed invalid IP blackhole. skipping IP...",
            "4: unknown route keyword blackhole",
            "6: IPv4 address 1.2.3.4 not valid for ip6 encapsulation",
            "6: VRRP parsed invalid IP dst. skipping IP...",
            "6: unknown route keyword dst",
            "7: address or id missing for ip encapsulation",
            "8: invalid mpls address 100/200/300 for encapsulation",
            "9: invalid locator 1:2:3 for ila encapsulation",
            "10: Unknown encap type - foo",
            "11: \"as to\" for MPLS only - ignoring",
        ],
    );
    let r = &p.config.ip.routes;
    assert_eq!(r[0].route_type, Some(RouteType::Blackhole));
    assert_eq!(r[1].route_type, Some(RouteType::Throw));
    assert!(r[1].no_track && r[1].protocol.is_none());
    assert_eq!(
        r[2].encap,
        Some(Encap::Ip {
            id: Some(5),
            dst: Some(v4("1.2.3.4")),
            src: None,
            tos: Some(5),
            ttl: Some(5),
            flags: Some(3)
        })
    );
    // the word after an unknown encap type is swallowed
    assert_eq!(r.iter().find(|r| r.origin.line == 10).map(|r| r.dst.to_string()), Some("1.2.3.0/24".into()));
    assert_eq!(r.last().and_then(|r| r.encap.clone()), Some(Encap::Ila { locator: 0x0001_0002_0003_0004 }));
}

#[test]
fn route_value_errors() {
    let p = routes(&[
        "10.4.0.0/16 dev eth0 table nosuch",
        "10.6.0.0/16 dev eth0 scope nosuch",
        "10.7.0.0/16 dev eth0 metric x",
        "dev eth0",
        "10.9.0.0/16 dev eth0 src 1.2.3",
        "10.17.0.0/16 dev eth0 features foo",
        "10.18.0.0/16 dev eth0 quickack 2",
        "10.20.0.0/16 dev eth0 rtt 5e3",
        "10.21.0.0/16 dev eth0 rtt 5x",
        "10.22.0.0/16 dev eth0 protocol 5 track_group x",
        "10.28.0.0/16 dev eth0 hoplimit 300",
        "10.31.0.0/16 dev eth0 nexthop weight 300",
        "10.19.0.0/16 dev eth0 ttl-propagate foo",
        "10.1.0.0/16 dev eth0 vrf foo",
        "10.1.0.0/16 dev eth0 tos 300",
    ]);
    expect(
        &p,
        &[
            "2: Routing table nosuch not found for route",
            "3: Scope nosuch not found or invalid for route",
            "4: invalid number 'x'",
            "4: Invalid metric x specified for route",
            "5: Route must have a destination",
            "6: VRRP parsed invalid IP 1.2.3. skipping IP...",
            "6: invalid route src address 1.2.3",
            "7: feature foo not supported",
            "8: number '2' outside range [0, 1]",
            "8: Invalid quickack value 2 specified for route",
            "9: Invalid rtt 5e3 for route",
            "10: invalid number '5x'",
            "10: Invalid rtt 5x for route",
            "11: track_group x not found",
            "11: Route cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol",
            "12: number '300' outside range [0, 255]",
            "12: Invalid hoplimit 300 specified for route",
            "13: number '300' outside range [0, 256]",
            "13: Invalid weight 300 specified for route",
            "14: ttl-propagate value foo not recognised",
            "16: TOS value 300 is invalid",
            "15: VRF foo not found for route",
        ],
    );
}

#[test]
fn route_missing_parameter_stops() {
    let p = routes(&["10.0.0.0/8 via", "10.1.0.0/16 dev eth0"]);
    expect(&p, &["2: *** Configuration line starting `10.0.0.0/8` is missing a parameter after keyword `via` at word position 3"]);
    assert_eq!(p.test_exit_code(), 2);
    assert!(p.config.ip.routes.is_empty());
}

#[test]
fn route_track_group_needs_interface() {
    let p = parse(
        &("track_group G {\n group {\n VI_1\n }\n}\n".to_string()
            + &block(
                "static_routes",
                &["10.0.0.0/8 via 10.0.0.1 no_track track_group G", "10.1.0.0/16 dev eth0 track_group G no_track"],
            )),
    );
    expect(&p, &["7: Static route cannot have track group if no oif specified"]);
    assert_eq!(p.config.ip.routes[1].track_group.as_deref(), Some("G"));
    assert!(p.diags.has("Static route has both track_group and no_track set - not tracking"));
}

// ------------------------------------------------------------------ rules

#[test]
fn rule_all_options() {
    let p = rules(&[
        "from 10.0.0.0/8 to 10.1.0.0/16 table 5 preference 0x10 tos 4 fwmark 0x10/0xff realms 1/2 sup_pl 3 sup_group 0 dev eth0 oif eth1 tunnel-id 7 uidrange 1-5 protocol 18 ipproto udp dport 1-2 sport 3-4 not",
        "from 10.0.0.0/8 preference 200 goto 300",
        "from 10.0.0.0/8 nop order 60",
        "from 10.0.0.0/8 type blackhole priority 61",
        "from 10.0.0.0/8 unreachable preference 62 no_track",
        "from 10.0.0.0/8 prohibit preference 63",
        "from 10.0.0.0/8 lookup main preference 64",
        "preference 65 l3mdev",
    ]);
    expect(&p, &[]);
    let r = &p.config.ip.rules;
    let a = &r[0];
    assert_eq!(a.from.map(|f| f.to_string()), Some("10.0.0.0/8".into()));
    assert_eq!(a.to.map(|f| f.to_string()), Some("10.1.0.0/16".into()));
    assert_eq!(a.action, RuleAction::Table(5));
    assert_eq!((a.preference, a.auto_preference), (16, false));
    assert_eq!(a.tos, Some(4));
    assert_eq!((a.fwmark, a.fwmask), (Some(16), Some(255)));
    assert_eq!(a.realms, Some((1 << 16) | 2));
    assert_eq!((a.suppress_prefixlength, a.suppress_ifgroup), (Some(3), Some(0)));
    assert_eq!((a.iif.as_deref(), a.oif.as_deref()), (Some("eth0"), Some("eth1")));
    assert_eq!(a.tunnel_id, Some(7));
    assert_eq!(a.uidrange, Some((1, 5)));
    assert_eq!(a.protocol, Some(18));
    assert_eq!(a.ipproto, Some(17));
    assert_eq!((a.sport, a.dport), (Some((3, 4)), Some((1, 2))));
    assert!(a.invert);
    assert_eq!(r[1].action, RuleAction::Goto(300));
    assert_eq!(r[2].action, RuleAction::Nop);
    assert_eq!(r[3].action, RuleAction::Blackhole);
    assert_eq!(r[4].action, RuleAction::Unreachable);
    assert!(r[4].no_track && r[4].protocol.is_none());
    assert_eq!(r[5].action, RuleAction::Prohibit);
    assert_eq!(r[6].action, RuleAction::Table(254));
    assert!(r[7].l3mdev);
    assert_eq!(r[7].action, RuleAction::Table(0));
}

#[test]
fn rule_automatic_preference() {
    let p = rules(&[
        "from 10.0.0.0/8 table 1",
        "to fe80::/64 table 1",
        "to 10.1.0.0/16 table 1",
        "to 192.168.100./24 table 1",
    ]);
    expect(
        &p,
        &[
            "2: Rule has no preference specified - setting to 16384. This is probably not what you want.",
            "3: Rule has no preference specified - setting to 16384. This is probably not what you want.",
            "4: Rule has no preference specified - setting to 16383. This is probably not what you want.",
            "5: VRRP parsed invalid IP 192.168.100./24. skipping IP...",
            "5: Invalid rule to address 192.168.100./24",
        ],
    );
    let r = &p.config.ip.rules;
    assert_eq!(r.iter().map(|r| r.preference).collect::<Vec<_>>(), vec![16384, 16384, 16383]);
    assert!(r[0].auto_preference);
    assert_eq!(r[1].family, Family::Inet6);
}

#[test]
fn rule_errors() {
    let p = rules(&[
        "inet6 from fe80::/64 table 5",
        "from 10.0.0.0/8 goto 100",
        "from 10.0.0.0/8 preference 200 goto 100",
        "from 10.0.0.0/8 throw preference 62",
        "from 10.0.0.0/8 foo preference 63",
        "from 10.0.0.0/8 nop table 5 preference 64",
        "from 10.0.0.0/8 table 0 preference 65",
        "from 10.0.0.0/8 preference 66",
        "from 10.0.0.0/8 realms 3 nop preference 67",
        "from 10.0.0.0/8 table 5 preference x",
        "from 10.0.0.0/8 to fe80::1 table 5 preference 69",
        "from 10.0.0.0/8 table 5 preference 70 fwmark 5/-1",
        "from 10.0.0.0/8 table 5 preference 71 protocol 5",
        "from 10.0.0.0/8 table 5 preference 72 tunnel-id x",
        "from 10.0.0.0/8 table 5 preference 73 uidrange 5",
        "from 10.0.0.0/8 table nosuch preference 74",
        "from 10.0.0.0/8 table 5 preference 75 dev eth7",
        "from 10.0.0.0/8 table 5 preference 76 sup_pl x",
        "from 10.0.0.0/8 table 5 preference 77 track_group foo",
        "from 10.0.0.0/8 table 5 preference 78 tos 300",
        "from 10.0.0.0/8 unreachable preference 79 l3mdev",
        "from 10.0.0.0/8 table 5 preference 80 sport 80 ipproto 200",
        "from 10.0.0.0/8 table 5 preference 81 nop",
    ]);
    expect(
        &p,
        &[
            "2: Unknown rule option fe80::/64",
            "3: Invalid rule - goto target 100 specified without preference",
            "4: Invalid rule - preference 200 >= goto target 100",
            "5: Invalid rule action throw",
            "6: Unknown rule option foo",
            "7: Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable for rule",
            "8: Table 0 is not valid",
            "9: No action specified for rule - ignoring",
            "10: suppressor/realm specified for non table action - skipping",
            "11: invalid number 'x'",
            "11: Invalid rule preference preference specified",
            "12: rule specification has mixed IPv4 and IPv6",
            "13: Invalid rule fwmark 5/-1 specified",
            "14: Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol",
            "15: invalid number 'x'",
            "15: Invalid tunnel-id tunnel-id specified",
            "16: Invalid uidrange uidrange specified",
            "17: Routing table nosuch not found for rule",
            "19: invalid number 'x'",
            "19: Invalid suppress_prefixlength sup_pl specified",
            "20: track_group foo not found",
            "21: TOS value 300 is invalid",
            "22: Cannot specify l3mdev with other action",
            "23: invalid sport range 80",
            "23: Invalid ipproto 200",
            "24: Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule",
            "18: WARNING - interface eth7 for rule doesn't exist",
            "Non-existent interface specified in configuration",
        ],
    );
}

#[test]
fn static_blocks_are_vrrp_only_and_mark_seen() {
    let text = block("static_routes", &["10.0.0.0/8 dev eth0"]);
    let p = parse_str(
        "t.conf",
        &text,
        &ParseOptions {
            system: sys(),
            active: Subsystems { vrrp: false, check: true, bfd: false },
            ..Default::default()
        },
    );
    assert!(p.config.ip.routes.is_empty());
    assert!(p.config.seen.vrrp);
    let p = parse(&text);
    assert!(p.config.seen.vrrp);
    assert_eq!(p.config.ip.routes.len(), 1);
    let p = parse("static_rules extra {\n}\n");
    expect(&p, &["1: Block static_rules has extra parameters extra ..."]);
}

#[test]
fn model_serializes() {
    let p = routes(&["10.0.0.0/8 dev eth0 encap mpls 1/2 nexthop via 10.0.0.1"]);
    let j = serde_json::to_string(&p.config.ip).unwrap();
    assert!(j.contains("\"Mpls\"") && j.contains("\"nexthops\""));
}

// ------------------------------------------------------------------ samples

/// Feed a sample through the readers the way keepalived does: static_*
/// blocks with their flags, and the vrrp_instance virtual_* blocks as the
/// VRRP area will (virtual entries: no track_group, VIPs not static).
/// Returns the messages as (line, text).
fn run_sample(name: &str) -> Vec<(u32, String)> {
    #[derive(Clone, Copy)]
    enum K {
        Addr(bool),
        Route(bool),
        Rule(bool),
    }
    let path = format!("{}/tests/data/samples/{}", env!("CARGO_MANIFEST_DIR"), name);
    let text = std::fs::read_to_string(&path).expect("sample");
    let pp = Preprocessor::from_text(name, &text, &PreprocOptions::default());
    let mut ctx = Ctx::new(pp, Subsystems::all(), true);
    let mut pending: Option<K> = None;
    let mut mode: Option<K> = None;
    while let Some(line) = ctx.pp.next_line(&mut ctx.diags) {
        let toks = tokenize(&line.text).words;
        let Some(w0) = toks.first().map(|t| t.text(&line.text).to_string()) else {
            continue;
        };
        if let Some(k) = mode {
            if w0 == "}" {
                mode = None;
                continue;
            }
            ctx.origin = line.origin;
            let args = Args::new(&toks, &line);
            match k {
                K::Addr(s) => drop(ipaddr::read_address(&mut ctx, &args, s)),
                K::Route(s) => drop(ipaddr::read_route(&mut ctx, &args, s)),
                K::Rule(s) => drop(ipaddr::read_rule(&mut ctx, &args, s)),
            }
            continue;
        }
        if w0 == "{" && pending.is_some() {
            mode = pending.take();
            continue;
        }
        pending = match w0.as_str() {
            "static_ipaddress" => Some(K::Addr(true)),
            "virtual_ipaddress" | "virtual_ipaddress_excluded" => Some(K::Addr(false)),
            "static_routes" => Some(K::Route(true)),
            "virtual_routes" => Some(K::Route(false)),
            "static_rules" => Some(K::Rule(true)),
            "virtual_rules" => Some(K::Rule(false)),
            _ => None,
        };
    }
    ctx.diags
        .iter()
        .filter(|d| d.severity != Severity::Notice)
        .map(|d| (d.origin.as_ref().map_or(0, |o| o.line), d.message.clone()))
        .collect()
}

/// keepalived's `(FILE: Line N) msg` lines of a sample (netns run), limited
/// to the lines of address/route/rule blocks.
fn expected(name: &str, lines: std::ops::RangeInclusive<u32>) -> Vec<(u32, String)> {
    let out = std::fs::read_to_string(format!(
        "{}/tests/data/config-test-2.2.7/{}.netns.out",
        env!("CARGO_MANIFEST_DIR"),
        name
    ))
    .expect("out");
    out.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix('(')?;
            let (head, msg) = rest.split_once(") ")?;
            let n: u32 = head.rsplit("Line ").next()?.parse().ok()?;
            lines.contains(&n).then(|| (n, msg.to_string()))
        })
        .collect()
}

#[test]
fn sample_vrrp_routes() {
    let n = "keepalived.conf.vrrp.routes";
    assert_eq!(run_sample(n), expected(n, 7..=33));
    // the static block through the whole parser
    let text = std::fs::read_to_string(format!("{}/tests/data/samples/{}", env!("CARGO_MANIFEST_DIR"), n)).unwrap();
    let p = parse_str(n, &text, &ParseOptions { system: sys(), ..Default::default() });
    let r = &p.config.ip.routes;
    assert_eq!(r.len(), 5);
    assert_eq!(r[0].pref_src, Some(v4("192.168.100.1")));
    assert_eq!(r[0].dst.to_string(), "192.168.209.0/24");
    assert_eq!(r[3].scope, Some(200));
    assert!(!p.diags.iter().any(|d| d.origin.as_ref().is_some_and(|o| (7..=13).contains(&o.line))));
}

#[test]
fn sample_vrrp_rules() {
    let n = "keepalived.conf.vrrp.rules";
    let got = run_sample(n);
    assert_eq!(got, expected(n, 9..=27));
    assert_eq!(got.len(), 6);
    let text = std::fs::read_to_string(format!("{}/tests/data/samples/{}", env!("CARGO_MANIFEST_DIR"), n)).unwrap();
    let p = parse_str(n, &text, &ParseOptions { system: sys(), ..Default::default() });
    assert_eq!(p.config.ip.rules.len(), 1);
    assert_eq!(p.config.ip.rules[0].action, RuleAction::Table(1));
    assert_eq!(p.config.ip.rules[0].preference, 16384);
}

#[test]
fn sample_static_ipaddress() {
    let n = "keepalived.conf.vrrp.static_ipaddress";
    assert_eq!(run_sample(n), expected(n, 7..=26));
    let text = std::fs::read_to_string(format!("{}/tests/data/samples/{}", env!("CARGO_MANIFEST_DIR"), n)).unwrap();
    let p = parse_str(n, &text, &ParseOptions { system: sys(), ..Default::default() });
    let a = &p.config.ip.addresses;
    assert_eq!(a.len(), 3);
    assert_eq!((a[0].dev.as_deref(), a[0].scope), (Some("eth0"), Some(253)));
    assert_eq!((a[2].dev.as_deref(), a[2].scope), (Some("eth2"), None));
}

#[test]
fn sample_track_interface() {
    let n = "keepalived.conf.track_interface";
    let got = run_sample(n);
    assert_eq!(got, expected(n, 7..=12).into_iter().chain(expected(n, 23..=32)).collect::<Vec<_>>());
    assert_eq!(
        got,
        vec![(
            31,
            "Warning - cannot track route 192.168.112.0/24 with no interface specified, not tracking".to_string()
        )]
    );
}
