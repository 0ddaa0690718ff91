//! The sockets on the two ends of a veth pair, in a fresh network namespace.
//!
//! `veth_pair` re-runs this test binary under `unshare -n`, builds
//! `kv0 <-> kv1` there with `ip`, and checks that adverts, gratuitous ARP
//! and unsolicited NA built with keepalived-wire and sent on `kv0` arrive on
//! `kv1` as expected. It passes with a note when it cannot run (not root, no
//! `unshare`/`ip`).

use keepalived_net::{
    interface_info, PacketSocket, RecvMetaV4, RecvMetaV6, VrrpProto, VrrpSocketV4, VrrpSocketV4Config, VrrpSocketV6,
    VrrpSocketV6Config, ETH_P_ALL, VRRP_MCAST_GROUP_V6,
};
use keepalived_testkit::in_netns;
use keepalived_testkit::netns::lo_up;
use keepalived_testkit::run;
use keepalived_wire::advert::Ipv4Advert;
use keepalived_wire::vrrp::{self, Addrs, Auth, ChecksumKind, Family, Version};
use keepalived_wire::{ah, arp, ipv4, ndisc, MacAddr};
use mio::{Events, Interest, Poll, Token};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

const MAC0: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x10]);
const SRC4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const VIP4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const GROUP4: Ipv4Addr = ipv4::VRRP_MCAST_GROUP;
const SRC6: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const VIP6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);
const AH_KEY: &[u8] = b"secret";

fn sysctl(path: &str, v: &str) {
    std::fs::write(format!("/proc/sys/net/{path}"), v).unwrap_or_else(|e| panic!("{path}: {e}"));
}

/// A VRRP advert from SRC4 to the group, IPv4 header included.
fn advert_v4(version: Version, vrid: u8, auth: Auth) -> Vec<u8> {
    let vips = [VIP4];
    let adver = if version == Version::V2 { 1 } else { 100 };
    let v = vrrp::Repr { version, vrid, priority: 100, max_adver_int: adver, auth, addrs: Addrs::v4(&vips) };
    let (proto, ah) = match auth {
        Auth::Ah => (keepalived_wire::ip_proto::AH, Some(ah::Repr::vrrp(SRC4, 1))),
        _ => (keepalived_wire::ip_proto::VRRP, None),
    };
    let payload = ah.map_or(0, |a| a.buffer_len()) + v.buffer_len();
    let ip = ipv4::Repr::vrrp(SRC4, GROUP4, proto, 0x1234, payload);
    let a = Ipv4Advert { ip, ah, vrrp: v };
    let mut buf = vec![0u8; a.buffer_len()];
    let n = a.emit(&mut buf, ChecksumKind::ipv4(version, SRC4, GROUP4, false)).unwrap();
    assert_eq!(n, buf.len());
    if ah.is_some() {
        ah::sign(&mut buf, AH_KEY, false).unwrap();
    }
    buf
}

/// Waits up to `ms` for `tok` to become readable.
fn readable(poll: &mut Poll, tok: Token, ms: u64) -> bool {
    let mut events = Events::with_capacity(8);
    let end = Instant::now() + Duration::from_millis(ms);
    loop {
        let left = end.saturating_duration_since(Instant::now());
        poll.poll(&mut events, Some(left)).unwrap();
        if events.iter().any(|e| e.token() == tok && e.is_readable()) {
            return true;
        }
        if left.is_zero() {
            return false;
        }
    }
}

fn recv_v4(poll: &mut Poll, tok: Token, s: &VrrpSocketV4) -> (Vec<u8>, RecvMetaV4) {
    // Generous: the suite runs on a loaded 2-core machine.
    assert!(readable(poll, tok, 5000), "nothing received");
    let mut buf = [0u8; 1500];
    let (n, meta) = s.recv(&mut buf).unwrap().expect("readable but empty");
    (buf[..n].to_vec(), meta)
}

fn recv_v6(poll: &mut Poll, tok: Token, s: &VrrpSocketV6) -> (Vec<u8>, RecvMetaV6) {
    // Generous: the suite runs on a loaded 2-core machine.
    assert!(readable(poll, tok, 5000), "nothing received");
    let mut buf = [0u8; 1500];
    let (n, meta) = s.recv(&mut buf).unwrap().expect("readable but empty");
    (buf[..n].to_vec(), meta)
}

/// The first captured frame equal to `want`, within 2 s.
fn capture(cap: &PacketSocket, want: &[u8]) {
    let end = Instant::now() + Duration::from_secs(2);
    let mut buf = [0u8; 2048];
    let mut seen = Vec::new();
    while Instant::now() < end {
        match cap.recv(&mut buf).unwrap() {
            Some(n) if &buf[..n] == want => return,
            Some(n) => seen.push(buf[..n].to_vec()),
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    panic!("frame {want:02x?} not captured; saw {seen:02x?}");
}

fn in_namespace() {
    lo_up();
    run("ip", &["link", "add", "kv0", "type", "veth", "peer", "name", "kv1"]);
    run("ip", &["link", "set", "kv0", "address", "02:00:00:00:00:10"]);
    run("ip", &["link", "set", "kv1", "address", "02:00:00:00:00:11"]);
    run("ip", &["addr", "add", "192.0.2.1/24", "dev", "kv0"]);
    run("ip", &["addr", "add", "192.0.2.2/24", "dev", "kv1"]);
    run("ip", &["addr", "add", "fe80::1/64", "dev", "kv0", "nodad"]);
    run("ip", &["addr", "add", "fe80::2/64", "dev", "kv1", "nodad"]);
    run("ip", &["link", "set", "kv0", "up"]);
    run("ip", &["link", "set", "kv1", "up"]);
    // Both ends are in this namespace: kv1 must accept a source address
    // that is local (kv0's).
    for dev in ["all", "kv1"] {
        sysctl(&format!("ipv4/conf/{dev}/accept_local"), "1");
        sysctl(&format!("ipv4/conf/{dev}/rp_filter"), "0");
    }

    // interface_info
    let i0 = interface_info("kv0").unwrap();
    let i1 = interface_info("kv1").unwrap();
    assert_eq!(i0.mac, Some(MAC0));
    assert_eq!(i0.ipv4, vec![SRC4]);
    assert!(i0.ipv6.contains(&SRC6), "{i0:?}");
    assert_eq!(i0.ipv6_link_local().map(|a| a.segments()[0]), Some(0xfe80));
    assert_eq!(i1.mac, Some(MacAddr([2, 0, 0, 0, 0, 0x11])));
    assert!(interface_info("nonexistent0").is_err());
    let (k0, k1) = (i0.index, i1.index);
    assert_ne!(k0, k1);

    let mut poll = Poll::new().unwrap();
    let (ta, tb, tah, t6a, t6b) = (Token(1), Token(2), Token(3), Token(4), Token(5));

    // IPv4: a plain sender on kv0, a receiver of VRIDs 7 and 54 on kv1.
    let mut a = VrrpSocketV4::open(&VrrpSocketV4Config::multicast("kv0", k0)).unwrap();
    let mut b = VrrpSocketV4::open(&VrrpSocketV4Config {
        vrids: Some(vec![54, 7]),
        ..VrrpSocketV4Config::multicast("kv1", k1)
    })
    .unwrap();
    assert!(a.socket().header_included_v4().unwrap());
    assert!(!a.socket().multicast_loop_v4().unwrap());
    assert_eq!(a.socket().multicast_ttl_v4().unwrap(), 255);
    assert_eq!(a.socket().ttl_v4().unwrap(), 255);
    assert!(!a.socket().multicast_all_v4().unwrap());
    assert_eq!(a.socket().device().unwrap().as_deref(), Some(&b"kv0"[..]));
    poll.registry().register(&mut a, ta, Interest::READABLE).unwrap();
    poll.registry().register(&mut b, tb, Interest::READABLE).unwrap();

    for version in [Version::V2, Version::V3] {
        let dgram = advert_v4(version, 54, Auth::None);
        a.send(&dgram, GROUP4).unwrap();
        let (got, meta) = recv_v4(&mut poll, tb, &b);
        assert_eq!(got, dgram, "the datagram arrives byte for byte");
        assert_eq!(meta, RecvMetaV4 { src: SRC4, dst: GROUP4, ifindex: k1, ttl: 255 });
        let adv = Ipv4Advert::parse(&got).unwrap();
        assert_eq!(adv.vrrp.vrid, 54);
        assert!(Ipv4Advert::verify_checksum(&got, adv.checksum_kind(false)));
        assert_eq!(b.recv(&mut [0u8; 1500]).unwrap(), None, "one datagram only");
    }
    // The sender does not see its own adverts (IP_MULTICAST_LOOP 0, and no
    // loop back from the peer).
    assert_eq!(a.recv(&mut [0u8; 1500]).unwrap(), None);

    // The VRID filter: 99 does not wake the loop, 7 does.
    a.send(&advert_v4(Version::V3, 99, Auth::None), GROUP4).unwrap();
    assert!(!readable(&mut poll, tb, 300), "VRID 99 woke the loop");
    assert_eq!(b.recv(&mut [0u8; 1500]).unwrap(), None);
    a.send(&advert_v4(Version::V3, 99, Auth::None), GROUP4).unwrap();
    a.send(&advert_v4(Version::V3, 7, Auth::None), GROUP4).unwrap();
    let (got, _) = recv_v4(&mut poll, tb, &b);
    assert_eq!(Ipv4Advert::parse(&got).unwrap().vrrp.vrid, 7);
    assert_eq!(b.recv(&mut [0u8; 1500]).unwrap(), None);
    // Replacing the filter: everything passes.
    b.set_vrid_filter(None).unwrap();
    a.send(&advert_v4(Version::V3, 99, Auth::None), GROUP4).unwrap();
    let (got, _) = recv_v4(&mut poll, tb, &b);
    assert_eq!(Ipv4Advert::parse(&got).unwrap().vrrp.vrid, 99);
    b.set_vrid_filter(Some(&[1])).unwrap();
    a.send(&advert_v4(Version::V3, 99, Auth::None), GROUP4).unwrap();
    assert!(!readable(&mut poll, tb, 300));

    // AH: an AH socket on kv1 filtered to VRID 54 (the VRID is 24 bytes
    // further); the VRRP socket does not see protocol 51.
    let mut bah = VrrpSocketV4::open(&VrrpSocketV4Config {
        proto: VrrpProto::Ah,
        vrids: Some(vec![54]),
        ..VrrpSocketV4Config::multicast("kv1", k1)
    })
    .unwrap();
    poll.registry().register(&mut bah, tah, Interest::READABLE).unwrap();
    a.send(&advert_v4(Version::V2, 55, Auth::Ah), GROUP4).unwrap();
    let dgram = advert_v4(Version::V2, 54, Auth::Ah);
    a.send(&dgram, GROUP4).unwrap();
    let (got, meta) = recv_v4(&mut poll, tah, &bah);
    assert_eq!(got, dgram);
    assert_eq!(meta, RecvMetaV4 { src: SRC4, dst: GROUP4, ifindex: k1, ttl: 255 });
    let adv = Ipv4Advert::parse(&got).unwrap();
    assert_eq!((adv.vrrp.vrid, adv.vrrp.auth), (54, Auth::Ah));
    ah::verify(&got, AH_KEY, false).unwrap();
    assert_eq!(bah.recv(&mut [0u8; 1500]).unwrap(), None, "VRID 55 filtered");
    assert_eq!(b.recv(&mut [0u8; 1500]).unwrap(), None, "AH not on the VRRP socket");

    // IPv6: VRRPv3 from fe80::1 to ff02::12, hop limit 255.
    let mut a6 = VrrpSocketV6::open(&VrrpSocketV6Config::multicast("kv0", k0)).unwrap();
    let mut b6 =
        VrrpSocketV6::open(&VrrpSocketV6Config { vrids: Some(vec![54]), ..VrrpSocketV6Config::multicast("kv1", k1) })
            .unwrap();
    assert_eq!(a6.socket().multicast_hops_v6().unwrap(), 255);
    // Not set, as keepalived: unicast adverts take the route's hop limit
    // (the system default, 64) unless `unicast_ttl` sets it per message.
    assert_eq!(a6.socket().unicast_hops_v6().unwrap(), 64);
    assert!(!a6.socket().multicast_loop_v6().unwrap());
    poll.registry().register(&mut a6, t6a, Interest::READABLE).unwrap();
    poll.registry().register(&mut b6, t6b, Interest::READABLE).unwrap();
    let vips6 = [VIP6];
    let msg6 = |vrid: u8| {
        let v = vrrp::Repr {
            version: Version::V3,
            vrid,
            priority: 200,
            max_adver_int: 100,
            auth: Auth::None,
            addrs: Addrs::v6(&vips6),
        };
        let mut buf = vec![0u8; v.buffer_len()];
        v.emit_into(&mut buf, ChecksumKind::ipv6(SRC6, VRRP_MCAST_GROUP_V6)).unwrap();
        buf
    };
    a6.send(&msg6(99), SRC6, VRRP_MCAST_GROUP_V6).unwrap();
    let m = msg6(54);
    a6.send(&m, SRC6, VRRP_MCAST_GROUP_V6).unwrap();
    let (got, meta) = recv_v6(&mut poll, t6b, &b6);
    assert_eq!(got, m, "the message arrives byte for byte (the kernel left the checksum alone)");
    assert_eq!(meta, RecvMetaV6 { src: SRC6, dst: VRRP_MCAST_GROUP_V6, ifindex: k1, ttl: 255 });
    let p = vrrp::Packet::new_checked(&got[..], Family::Ipv6).unwrap();
    assert!(p.verify_checksum(ChecksumKind::ipv6(meta.src, meta.dst)));
    assert_eq!(vrrp::Repr::parse(&p).unwrap().vrid, 54);
    assert_eq!(b6.recv(&mut [0u8; 1500]).unwrap(), None, "VRID 99 filtered");
    assert_eq!(a6.recv(&mut [0u8; 1500]).unwrap(), None, "no loop back");
    // A bad checksum is delivered (the caller counts it), not dropped.
    let mut bad = msg6(54);
    bad[6] ^= 0xff;
    a6.send(&bad, SRC6, VRRP_MCAST_GROUP_V6).unwrap();
    let (got, _) = recv_v6(&mut poll, t6b, &b6);
    assert_eq!(got, bad);

    // Gratuitous ARP and unsolicited NA frames, captured on kv1.
    let mut cap = PacketSocket::open(k1, ETH_P_ALL).unwrap();
    poll.registry().register(&mut cap, Token(6), Interest::READABLE).unwrap();
    let tx = PacketSocket::open_send_only(k0).unwrap();
    assert_eq!(tx.ifindex(), k0);
    let mut garp = [0u8; arp::GARP_FRAME_LEN];
    let n = arp::emit_gratuitous_frame(&mut garp, MAC0, VIP4).unwrap();
    tx.send(&garp[..n]).unwrap();
    capture(&cap, &garp[..n]);
    let mut na = [0u8; ndisc::UNSOLICITED_NA_FRAME_LEN];
    let n = ndisc::emit_unsolicited_na_frame(&mut na, MAC0, VIP6, false).unwrap();
    tx.send(&na[..n]).unwrap();
    capture(&cap, &na[..n]);
    // The send-only socket receives nothing.
    assert_eq!(tx.recv(&mut [0u8; 2048]).unwrap(), None);
    println!("veth checks done");
}

#[test]
fn veth_pair() {
    in_netns("veth_pair", &[], in_namespace);
}
