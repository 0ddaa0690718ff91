//! `unicast_ttl` on the wire, compared with the real keepalived 2.2.7: the
//! same configuration (IPv4 and IPv6 unicast instances with and without
//! `unicast_ttl`, a multicast one, and a multicast one with `unicast_ttl`,
//! which keepalived resets to 0, so the kernel never sends its adverts) runs under each implementation while
//! tcpdump records the far end of the link; the TTL / hop limit of each
//! instance's adverts must be the same.
//! Needs root, tcpdump and /usr/sbin/keepalived; fails otherwise.

use keepalived_testkit::netns::Node;
use keepalived_testkit::pcap::Capture;
use keepalived_testkit::prereq::KEEPALIVED;
use keepalived_testkit::sh;
use std::collections::BTreeSet;
use std::time::Duration;

const CONF: &str = "global_defs {
    router_id ttl
}
vrrp_instance V4_TTL {
    state MASTER
    interface eth0
    virtual_router_id 83
    priority 200
    advert_int 1
    unicast_src_ip 198.51.100.1
    unicast_peer {
        198.51.100.2
    }
    unicast_ttl 7
    virtual_ipaddress {
        192.0.2.83/32
    }
}
vrrp_instance V4_DEFAULT {
    state MASTER
    interface eth0
    virtual_router_id 84
    priority 200
    advert_int 1
    unicast_src_ip 198.51.100.1
    unicast_peer {
        198.51.100.2
    }
    virtual_ipaddress {
        192.0.2.84/32
    }
}
vrrp_instance V4_MCAST {
    state MASTER
    interface eth0
    virtual_router_id 85
    priority 200
    advert_int 1
    virtual_ipaddress {
        192.0.2.85/32
    }
}
vrrp_instance V4_NO_PEER {
    state MASTER
    interface eth0
    virtual_router_id 88
    priority 200
    advert_int 1
    unicast_ttl 5
    virtual_ipaddress {
        192.0.2.88/32
    }
}
vrrp_instance V6_TTL {
    state MASTER
    interface eth0
    virtual_router_id 86
    priority 200
    advert_int 1
    unicast_src_ip 2001:db8:1::1
    unicast_peer {
        2001:db8:1::2
    }
    unicast_ttl 9
    virtual_ipaddress {
        2001:db8:86::1
    }
}
vrrp_instance V6_DEFAULT {
    state MASTER
    interface eth0
    virtual_router_id 87
    priority 200
    advert_int 1
    unicast_src_ip 2001:db8:1::1
    unicast_peer {
        2001:db8:1::2
    }
    virtual_ipaddress {
        2001:db8:87::1
    }
}
";

/// `vrid N: ttl N` of every advert in `tcpdump -v` text (the TTL / hop
/// limit from the IP header line; the VRID on that line or the next).
fn ttls(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut last_ttl = String::new();
    for line in text.lines() {
        if let Some(h) = line.find(" IP (").or_else(|| line.find(" IP6 (")) {
            let hdr = &line[h..];
            if let Some(i) = hdr.find(" ttl ").or_else(|| hdr.find(" hlim ")) {
                let n: String = hdr[i..].split(' ').nth(2).unwrap_or("").chars().filter(char::is_ascii_digit).collect();
                last_ttl = format!("ttl {n}");
            }
        }
        if let Some(i) = line.find("vrid ") {
            let vrid: String = line[i + 5..].chars().take_while(char::is_ascii_digit).collect();
            out.insert(format!("vrid {vrid}: {last_ttl}"));
        }
    }
    out
}

fn scenario(tag: &str, binary: &str) -> BTreeSet<String> {
    let node = Node::new("ttl", tag);
    sh(&format!("ip -n {} addr add 2001:db8:1::1/64 dev eth0 nodad", node.ns));
    sh(&format!("ip -n {} addr add 2001:db8:1::2/64 dev peth0 nodad", node.peer));
    let cap = Capture::start(&node, "ip proto 112 or ip6 proto 112");
    let mut daemon = node.start(binary, CONF);
    std::thread::sleep(Duration::from_secs(7));
    let file = cap.file.clone();
    cap.finish();
    daemon.stop();
    let text = sh(&format!("tcpdump -v -n -r {} 2>/dev/null", file.display()));
    let got = ttls(&text);
    assert!(got.len() >= 5, "{tag}: adverts of every instance expected:\n{got:?}\nlog:\n{}", daemon.log());
    got
}

#[test]
fn unicast_ttl_matches_keepalived_2_2_7_on_the_wire() {
    keepalived_testkit::require(&[KEEPALIVED, "tcpdump"]);
    let theirs = scenario("ka", KEEPALIVED);
    let ours = scenario("rs", env!("CARGO_BIN_EXE_keepalived"));
    println!("== keepalived 2.2.7: {theirs:?}\n== keepalived-rs: {ours:?}");
    assert!(theirs.contains("vrid 83: ttl 7"), "keepalived did not use unicast_ttl: {theirs:?}");
    assert!(!theirs.iter().any(|t| t.starts_with("vrid 88:")), "a TTL 0 multicast advert left: {theirs:?}");
    assert_eq!(ours, theirs);
}
