//! Property tests: no panics on arbitrary bytes; emit → parse round-trips.
use std::net::{Ipv4Addr, Ipv6Addr};

use keepalived_wire::advert::Ipv4Advert;
use keepalived_wire::vrrp::{self, Addrs, Auth, ChecksumKind, Family, Repr, Version};
use keepalived_wire::{ah, arp, bfd, ethernet, ipv4, ipv6, ndisc, MacAddr};
use proptest::prelude::*;

proptest! {
    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), key in any::<[u8; 8]>()) {
        let b = &bytes[..];
        for fam in [Family::Ipv4, Family::Ipv6] {
            let p = vrrp::Packet::new_unchecked(b, fam);
            let _ = Repr::parse(&p);
            let _ = (p.verify_checksum(ChecksumKind::Plain), p.addr_bytes(), p.auth_data(), p.message());
        }
        let _ = Ipv4Advert::parse(b);
        let _ = Ipv4Advert::verify_checksum(b, ChecksumKind::Plain);
        let _ = ah::verify(b, &key, false);
        let mut m = bytes.clone();
        let _ = ah::sign(&mut m, &key, true);
        let _ = ipv4::Repr::parse(&ipv4::Packet::new_unchecked(b));
        let _ = ipv4::Packet::new_unchecked(b).payload();
        let _ = ipv6::Repr::parse(&ipv6::Packet::new_unchecked(b));
        let _ = arp::Repr::parse(&arp::Packet::new_unchecked(b));
        let _ = ndisc::Repr::parse(&ndisc::Packet::new_unchecked(b), Ipv6Addr::LOCALHOST, ipv6::ALL_NODES);
        let _ = ethernet::Repr::parse(&ethernet::Frame::new_unchecked(b));
        let bp = bfd::Packet::new_unchecked(b);
        let _ = (bp.validate(), bp.auth_section(), bp.required_min_echo_rx(), bfd::Packet::new_checked(b).is_ok());
        if let Ok(r) = bfd::Repr::parse(&bp) {
            // Whatever parses re-emits the mandatory section it was read from (Length becomes 24
            // when A is clear: bytes after the mandatory section are then not part of the packet).
            let out = r.to_vec().unwrap();
            if bp.auth_present() {
                prop_assert_eq!(out.len(), usize::from(bp.length()));
            } else {
                prop_assert_eq!(out.len(), bfd::HEADER_LEN);
                prop_assert_eq!(&out[4..24], &b[4..24]);
            }
        }
    }

    #[test]
    fn bfd_mutations_round_trip(pos in 0usize..52, val in any::<u8>(), cut in 0usize..53) {
        // A valid SHA1-authenticated packet, one byte changed, cut anywhere: never panics, and what
        // parses re-emits identically but for the reserved byte.
        let r = bfd::Repr {
            diag: 0, state: bfd::State::Up, poll: false, final_flag: false, control_plane_independent: false,
            demand: false, detect_mult: 3, my_discriminator: 1, your_discriminator: 2, desired_min_tx: 100_000,
            required_min_rx: 100_000, required_min_echo_rx: 0,
            auth: Some(bfd::Auth::Sha1 { meticulous: true, key_id: 1, seq: 5, hash: [7; 20] }),
        };
        let mut b = r.to_vec().unwrap();
        b[pos] = val;
        b.truncate(cut);
        if let Ok(p) = bfd::Repr::parse(&bfd::Packet::new_unchecked(&b[..])) {
            let mut out = p.to_vec().unwrap();
            if p.auth.is_none() {
                // The mutation cleared A: Length is re-emitted as 24 (the bytes after the mandatory
                // section are not part of the packet then), all else as read.
                prop_assert_eq!(out.len(), bfd::HEADER_LEN);
                prop_assert_eq!(&out[..3], &b[..3]);
                prop_assert_eq!(&out[4..24], &b[4..24]);
            } else {
                if out.len() > 27 { out[27] = b[27]; }
                prop_assert_eq!(&out[..], &b[..out.len()]);
            }
        }
    }

    #[test]
    fn ipv4_advert_mutations_never_panic(pos in 0usize..64, val in any::<u8>(), cut in 0usize..70) {
        // Mutate a valid AH advert: exercises deeper paths than random bytes.
        let mut d = [
            0x45u8, 0xc0, 0x00, 0x40, 0x00, 0x01, 0x00, 0x00, 0xff, 0x33, 0xb0, 0x82, 0xc6, 0x33, 0x64, 0x01, 0xe0,
            0x00, 0x00, 0x12, 0x70, 0x04, 0x00, 0x00, 0xc6, 0x33, 0x64, 0x01, 0x00, 0x00, 0x00, 0x01, 0x75, 0xbb,
            0xfc, 0xd1, 0x46, 0xb6, 0x6d, 0xa5, 0x5e, 0xff, 0x71, 0x4b, 0x21, 0x37, 0x96, 0x01, 0x02, 0x01, 0x1c,
            0x5b, 0xc6, 0x33, 0x64, 0x37, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        d[pos] = val;
        let b = &d[..cut.min(64)];
        let _ = Ipv4Advert::parse(b);
        let _ = ah::verify(b, b"lab-ah1", false);
    }

    #[test]
    fn vrrp_v4_roundtrip(
        v3 in any::<bool>(), vrid in any::<u8>(), priority in any::<u8>(), int in 0u16..4096,
        addrs in proptest::collection::vec(any::<[u8; 4]>(), 0..20), auth in 0u8..3, pw in any::<[u8; 8]>(),
        src in any::<[u8; 4]>(), dst in any::<[u8; 4]>(),
    ) {
        let addrs: Vec<Ipv4Addr> = addrs.into_iter().map(Ipv4Addr::from).collect();
        let (version, max_adver_int, auth) = if v3 {
            (Version::V3, int, Auth::None)
        } else {
            (Version::V2, int % 256, [Auth::None, Auth::Pass(pw), Auth::Ah][usize::from(auth)])
        };
        let r = Repr { version, vrid, priority, max_adver_int, auth, addrs: Addrs::v4(&addrs) };
        let kind = ChecksumKind::ipv4(version, src.into(), dst.into(), false);
        let mut buf = vec![0u8; r.buffer_len()];
        prop_assert_eq!(r.emit_into(&mut buf, kind), Ok(r.buffer_len()));
        let parsed = Repr::parse_checked(&vrrp::Packet::new_checked(&buf[..], Family::Ipv4).unwrap(), kind).unwrap();
        prop_assert_eq!(parsed, r);
        // Through a whole datagram too (AH iff auth AH).
        let ah = (auth == Auth::Ah).then(|| ah::Repr::vrrp(src.into(), 7));
        let proto = if ah.is_some() { 51 } else { 112 };
        let ah_len = if ah.is_some() { ah::HEADER_LEN } else { 0 };
        let ip = ipv4::Repr::vrrp(src.into(), dst.into(), proto, 1, ah_len + r.buffer_len());
        let adv = Ipv4Advert { ip, ah, vrrp: r };
        let mut d = vec![0u8; adv.buffer_len()];
        adv.emit(&mut d, kind).unwrap();
        if ah.is_some() {
            ah::sign(&mut d, &pw, false).unwrap();
            prop_assert_eq!(ah::verify(&d, &pw, false), Ok(()));
        }
        let back = Ipv4Advert::parse(&d).unwrap();
        prop_assert_eq!(back.vrrp, r);
        prop_assert!(Ipv4Advert::verify_checksum(&d, back.checksum_kind(false)));
    }

    #[test]
    fn vrrp_v6_roundtrip(
        v3 in any::<bool>(), vrid in any::<u8>(), priority in any::<u8>(), int in 0u16..256,
        addrs in proptest::collection::vec(any::<[u8; 16]>(), 0..10), src in any::<[u8; 16]>(),
    ) {
        let addrs: Vec<Ipv6Addr> = addrs.into_iter().map(Ipv6Addr::from).collect();
        let version = if v3 { Version::V3 } else { Version::V2 };
        let r = Repr { version, vrid, priority, max_adver_int: int, auth: Auth::None, addrs: Addrs::v6(&addrs) };
        let kind = ChecksumKind::ipv6(src.into(), ipv6::VRRP_MCAST_GROUP);
        let mut buf = vec![0u8; r.buffer_len()];
        r.emit_into(&mut buf, kind).unwrap();
        let parsed = Repr::parse_checked(&vrrp::Packet::new_checked(&buf[..], Family::Ipv6).unwrap(), kind).unwrap();
        prop_assert_eq!(parsed, r);
    }

    #[test]
    fn garp_and_na_roundtrip(mac in any::<[u8; 6]>(), v4 in any::<[u8; 4]>(), v6 in any::<[u8; 16]>(), router in any::<bool>()) {
        let mac = MacAddr(mac);
        let mut buf = [0u8; 100];
        let n = arp::emit_gratuitous_frame(&mut buf, mac, v4.into()).unwrap();
        let r = arp::Repr::parse(&arp::Packet::new_checked(&buf[14..n]).unwrap()).unwrap();
        prop_assert_eq!(r, arp::Repr::gratuitous(mac, v4.into()));
        let n = ndisc::emit_unsolicited_na_frame(&mut buf, mac, v6.into(), router).unwrap();
        let r = ndisc::Repr::parse(&ndisc::Packet::new_checked(&buf[54..n]).unwrap(), v6.into(), ipv6::ALL_NODES).unwrap();
        prop_assert_eq!(r, ndisc::Repr::unsolicited(v6.into(), mac, router));
    }
}
