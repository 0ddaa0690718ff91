//! Every VRRP, AH, ARP and NA packet of the lab's golden captures (copied
//! under tests/data/): decode, verify checksums (and PASS / AH ICV),
//! re-emit byte-identical.
use std::net::Ipv6Addr;
use std::path::PathBuf;

use keepalived_testkit::pcap;
use keepalived_wire::advert::Ipv4Advert;
use keepalived_wire::ethernet::{self, ethertype};
use keepalived_wire::vrrp::{self, Auth, ChecksumKind, Family, Version};
use keepalived_wire::{ah, arp, bfd, ip_proto, ipv4, ipv6, ndisc};

/// The link type and frames of a golden capture, which must be whole
/// (the testkit's reader; a capture here is never cut short nor snapped).
fn read_pcap(data: &[u8]) -> (u32, Vec<&[u8]>) {
    let p = pcap::parse(data);
    assert!(!p.truncated, "truncated record");
    assert!(p.frames.iter().all(|f| f.data.len() == f.orig_len), "capture was snapped");
    (p.linktype, p.frames.into_iter().map(|f| &data[f.at..f.at + f.data.len()]).collect())
}

#[derive(Default, Debug)]
struct Counts {
    vrrp4: usize,
    vrrp6: usize,
    ah: usize,
    pass: usize,
    arp: usize,
    garp: usize,
    na: usize,
}

fn check_file(name: &str, data: &[u8]) -> Counts {
    let (linktype, frames) = read_pcap(data);
    assert_eq!(linktype, 1, "{name}: Ethernet link type expected");
    let mut c = Counts::default();
    for (i, frame) in frames.iter().enumerate() {
        let ctx = format!("{name} frame {}", i + 1);
        let f = ethernet::Frame::new_checked(*frame).unwrap();
        let eth = ethernet::Repr::parse(&f).unwrap();
        let payload = f.payload();
        match eth.ethertype {
            ethertype::ARP => {
                let r = arp::Repr::parse(&arp::Packet::new_checked(payload).unwrap()).expect(&ctx);
                let mut out = [0u8; 28];
                r.emit(&mut arp::Packet::new_unchecked(&mut out[..])).unwrap();
                assert_eq!(&out[..], &payload[..28], "{ctx}");
                c.arp += 1;
                if r.is_gratuitous() {
                    // keepalived's GARP: whole frame identical to ours.
                    assert_eq!(eth.dst_addr, keepalived_wire::MacAddr::BROADCAST, "{ctx}");
                    assert_eq!(r, arp::Repr::gratuitous(eth.src_addr, r.source_protocol_addr), "{ctx}");
                    let mut out = [0u8; 64];
                    let n = arp::emit_gratuitous_frame(&mut out, eth.src_addr, r.source_protocol_addr).unwrap();
                    assert_eq!(&out[..n], *frame, "{ctx}");
                    c.garp += 1;
                }
            }
            ethertype::IPV4 => {
                let p = ipv4::Packet::new_checked(payload).unwrap();
                if p.protocol() != ip_proto::VRRP && p.protocol() != ip_proto::AH {
                    continue;
                }
                let adv = Ipv4Advert::parse(payload).expect(&ctx);
                let kind = adv.checksum_kind(false);
                assert!(Ipv4Advert::verify_checksum(payload, kind), "{ctx}: checksum");
                if adv.vrrp.version == Version::V3 && adv.ip.dst_addr != ipv4::VRRP_MCAST_GROUP {
                    // Unicast: the old keepalived checksum variant must not match.
                    let old = ChecksumKind::ipv4_old_unicast(adv.ip.src_addr);
                    assert!(!Ipv4Advert::verify_checksum(payload, old), "{ctx}");
                }
                assert_eq!(adv.ip.ttl, 255, "{ctx}");
                assert_eq!(adv.ip.tos, ipv4::VRRP_TOS, "{ctx}");
                // keepalived never sets DF; FRR vrrpd does (kernel-chosen ID): both re-emit identically.
                let mut out = [0u8; 1600];
                let n = adv.emit(&mut out, kind).unwrap();
                assert_eq!(&out[..n], &payload[..usize::from(p.total_len())], "{ctx}: re-emit");
                match adv.vrrp.auth {
                    Auth::Ah => {
                        let key = vrrp::auth_data(b"lab-ah1");
                        let unicast = !adv.ip.dst_addr.is_multicast();
                        ah::verify(payload, &key, unicast).expect(&ctx);
                        assert!(ah::verify(payload, &vrrp::auth_data(b"wrong"), unicast).is_err());
                        // Sign a zero-ICV copy: the same ICV as keepalived's.
                        let mut fresh = adv;
                        fresh.ah = Some(ah::Repr { icv: [0; 12], ..adv.ah.unwrap() });
                        let n = fresh.emit(&mut out, kind).unwrap();
                        ah::sign(&mut out[..n], &key, unicast).unwrap();
                        assert_eq!(&out[..n], &payload[..n], "{ctx}: ICV");
                        c.ah += 1;
                    }
                    Auth::Pass(_) => {
                        adv.vrrp.check_pass(&vrrp::auth_data(b"lab-pw1")).expect(&ctx);
                        c.pass += 1;
                    }
                    Auth::None => {}
                }
                c.vrrp4 += 1;
            }
            ethertype::IPV6 => {
                let p = ipv6::Packet::new_checked(payload).unwrap();
                let ip = ipv6::Repr::parse(&p).unwrap();
                let mut out = [0u8; 1600];
                match ip.next_header {
                    ip_proto::VRRP => {
                        let kind = ChecksumKind::ipv6(ip.src_addr, ip.dst_addr);
                        let vp = vrrp::Packet::new_checked(p.payload(), Family::Ipv6).unwrap();
                        let r = vrrp::Repr::parse_checked(&vp, kind).expect(&ctx);
                        assert_eq!(ip.hop_limit, 255, "{ctx}");
                        ip.emit(&mut ipv6::Packet::new_unchecked(&mut out[..])).unwrap();
                        let n = r.emit_into(&mut out[40..], kind).unwrap();
                        assert_eq!(&out[..40 + n], &payload[..40 + ip.payload_len], "{ctx}: re-emit");
                        c.vrrp6 += 1;
                    }
                    ip_proto::ICMPV6 if p.payload().first() == Some(&ndisc::TYPE_NEIGHBOR_ADVERT) => {
                        let np = ndisc::Packet::new_checked(p.payload()).unwrap();
                        let r = ndisc::Repr::parse(&np, ip.src_addr, ip.dst_addr).expect(&ctx);
                        let mac = r.target_lladdr.expect(&ctx);
                        // keepalived's unsolicited NA: the whole frame is ours.
                        assert_eq!(r, ndisc::Repr::unsolicited(r.target_addr, mac, r.router), "{ctx}");
                        assert_eq!(ip.dst_addr, ipv6::ALL_NODES);
                        let n =
                            ndisc::emit_unsolicited_na_frame(&mut out, eth.src_addr, r.target_addr, r.router).unwrap();
                        assert_eq!(&out[..n], *frame, "{ctx}: re-emit");
                        c.na += 1;
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    c
}

/// Decode `tests/data/NAME` (copies of the lab's golden captures, see
/// tests/data/README.md) and count what it holds. A missing file fails.
fn run(name: &str) -> Counts {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let c = check_file(name, &data);
    println!("{name}: {c:?}");
    c
}

#[test]
fn v2() {
    let c = run("v2.pcap");
    assert!(c.vrrp4 >= 4 && c.garp >= 3, "{c:?}");
}

#[test]
fn v3() {
    let c = run("v3.pcap");
    assert!(c.vrrp4 >= 4 && c.garp >= 3, "{c:?}");
}

#[test]
fn v3_ipv6() {
    let c = run("v3-ipv6.pcap");
    assert!(c.vrrp6 >= 4 && c.na >= 3, "{c:?}");
}

#[test]
fn pass() {
    let c = run("pass.pcap");
    assert!(c.pass >= 4 && c.pass == c.vrrp4, "{c:?}");
}

#[test]
fn ah() {
    let c = run("ah.pcap");
    assert!(c.ah >= 5 && c.ah == c.vrrp4, "{c:?}");
}

#[test]
fn unicast() {
    let c = run("unicast.pcap");
    assert!(c.vrrp4 >= 8 && c.arp > c.garp, "{c:?}");
}

#[test]
fn frr_keepalived_vrrp_v3() {
    let c = run("frr-keepalived-vrrp-v3.pcap");
    assert!(c.vrrp4 > 0 && c.vrrp6 > 0 && c.garp > 0 && c.na > 0, "{c:?}");
}

#[test]
fn keepalived_vmac_frr() {
    let c = run("keepalived-vmac-frr.pcap");
    assert!(c.vrrp4 > 0 && c.vrrp6 > 0 && c.garp > 0 && c.na > 0, "{c:?}");
}

#[test]
fn bfd_capture_has_no_vrrp() {
    let c = run("bfd-keepalived-frr.pcap");
    assert_eq!(c.vrrp4 + c.vrrp6, 0);
}

/// Every BFD control packet (UDP to 3784) of the keepalived <-> FRR capture: TTL/hop limit 255
/// (RFC 5881 §5), every §6.8.6 check passes, Repr parse then emit byte-identical, and the capture
/// holds the Up handshake and poll/final sequences.
#[test]
fn bfd_keepalived_frr_round_trip() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/bfd-keepalived-frr.pcap");
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (linktype, frames) = read_pcap(&data);
    assert_eq!(linktype, 1);
    let (mut n4, mut n6, mut up, mut polls, mut finals) = (0, 0, 0, 0, 0);
    for (i, frame) in frames.iter().enumerate() {
        let ctx = format!("frame {}", i + 1);
        let f = ethernet::Frame::new_checked(*frame).unwrap();
        let eth = ethernet::Repr::parse(&f).unwrap();
        let (udp, ttl) = match eth.ethertype {
            ethertype::IPV4 => {
                let p = ipv4::Packet::new_checked(f.payload()).unwrap();
                if p.protocol() != 17 {
                    continue;
                }
                n4 += 1;
                (p.payload(), p.ttl())
            }
            ethertype::IPV6 => {
                let p = ipv6::Packet::new_checked(f.payload()).unwrap();
                if p.next_header() != 17 {
                    continue;
                }
                n6 += 1;
                (p.payload(), p.hop_limit())
            }
            _ => continue,
        };
        assert!(udp.len() >= 8, "{ctx}");
        let dport = u16::from_be_bytes([udp[2], udp[3]]);
        assert_eq!(dport, bfd::CONTROL_PORT, "{ctx}");
        assert_eq!(ttl, 255, "{ctx}: GTSM");
        let payload = &udp[8..usize::from(u16::from_be_bytes([udp[4], udp[5]]))];
        let p = bfd::Packet::new_checked(payload).expect(&ctx);
        assert_eq!(p.validate(), Ok(()), "{ctx}");
        let r = bfd::Repr::parse(&p).expect(&ctx);
        assert_eq!(r.auth, None, "{ctx}");
        assert_eq!(r.to_vec().unwrap(), payload, "{ctx}: re-emit");
        up += usize::from(r.state == bfd::State::Up);
        polls += usize::from(r.poll);
        finals += usize::from(r.final_flag);
    }
    println!("bfd: {n4} IPv4 + {n6} IPv6 packets, {up} Up, {polls} P, {finals} F");
    assert!(n4 > 10 && n6 > 10 && up > 10 && polls > 0 && finals > 0);
}

#[test]
fn link_local_source_kind() {
    // IPv6 adverts come from link-local sources (the kernel checksums them).
    let src: Ipv6Addr = "fe80::ff:fe00:1".parse().unwrap();
    assert_eq!(ChecksumKind::ipv6(src, ipv6::VRRP_MCAST_GROUP), ChecksumKind::ipv6_old_unicast(src));
}
