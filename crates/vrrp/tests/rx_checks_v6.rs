//! Every receive check for IPv6 adverts, from the bytes an IPv6 raw socket
//! returns (the VRRP message) and the control-message context (source,
//! destination, hop limit): a well-formed advert is accepted; each malformed
//! variant is decoded far enough to reach the instance, counted there under
//! keepalived's statistics name, and changes no state (as for IPv4, see
//! rx_checks.rs).

use keepalived_vrrp::decode::{decode_ipv6, Ipv6Meta};
use keepalived_vrrp::{EngineOptions, Input, InstanceConfig, Instant, Router, RouterConfig, State, Stats};
use keepalived_wire::vrrp::{self, Addrs, Auth, ChecksumKind, Repr, Version};
use std::net::{IpAddr, Ipv6Addr};

const SRC: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const GROUP: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
const VIP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x51);

fn meta(hop_limit: u8) -> Ipv6Meta {
    Ipv6Meta { src: SRC, dst: GROUP, hop_limit: Some(hop_limit) }
}

/// A priority-150 VRRPv3 advert for VRID 51 announcing `vips`.
fn message(vips: &[Ipv6Addr]) -> Vec<u8> {
    let r = Repr {
        version: Version::V3,
        vrid: 51,
        priority: 150,
        max_adver_int: 100,
        auth: Auth::None,
        addrs: Addrs::v6(vips),
    };
    let mut b = vec![0u8; r.buffer_len()];
    r.emit_into(&mut b, ChecksumKind::ipv6(SRC, GROUP)).unwrap();
    b
}

/// `b` with its checksum recomputed (so only the intended damage remains).
fn fixed(mut b: Vec<u8>) -> Vec<u8> {
    let c = vrrp::compute_checksum(&b, ChecksumKind::ipv6(SRC, GROUP));
    b[6..8].copy_from_slice(&c.to_be_bytes());
    b
}

fn router() -> Router {
    let mut c = InstanceConfig::new("VI_6", 51, 100);
    c.ipv6 = true;
    c.version = 3;
    c.vips = vec![IpAddr::V6(VIP)];
    let mut r = Router::new(RouterConfig { options: EngineOptions::default(), instances: vec![c], groups: vec![] });
    r.handle(Instant(0), Input::Start, &mut Vec::new());
    r
}

/// Feeds one message; the instance's counters after it (None: not decodable).
fn feed(r: &mut Router, msg: &[u8], m: &Ipv6Meta) -> Option<Stats> {
    let adv = decode_ipv6(msg, m).ok()?;
    r.handle_advert(Instant(500_000), 0, &adv, &mut Vec::new());
    Some(r.instances()[0].stats)
}

#[test]
fn a_good_ipv6_advert_is_accepted() {
    let mut r = router();
    let s = feed(&mut r, &message(&[VIP]), &meta(255)).unwrap();
    assert_eq!(s.advert_rcvd, 1);
    assert_eq!(r.instances()[0].master_saddr, Some(IpAddr::V6(SRC)));
}

#[test]
fn each_malformed_ipv6_variant_is_counted_and_changes_nothing() {
    type Case = (&'static str, Vec<u8>, u8, fn(&Stats) -> u64);
    let good = message(&[VIP]);
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = good.clone();
        f(&mut b);
        fixed(b)
    };
    let cases: Vec<Case> = vec![
        ("hop limit 64", good.clone(), 64, |s| s.ip_ttl_err),
        ("hop limit 1", good.clone(), 1, |s| s.ip_ttl_err),
        (
            "bad checksum",
            {
                let mut b = good.clone();
                b[7] ^= 0x5a;
                b
            },
            255,
            |s| s.chk_err,
        ),
        ("version 2", with(&|b| b[0] = 0x21), 255, |s| s.vers_err),
        ("version 4", with(&|b| b[0] = 0x41), 255, |s| s.vers_err),
        ("type 2", with(&|b| b[0] = 0x32), 255, |s| s.invalid_type_rcvd),
        ("count 2, one address", with(&|b| b[3] = 2), 255, |s| s.packet_len_err),
        ("trailing bytes", fixed([good.clone(), vec![0; 4]].concat()), 255, |s| s.packet_len_err),
    ];
    for (name, msg, hl, counter) in cases {
        let mut r = router();
        let before = r.instances()[0].clone();
        let s = feed(&mut r, &msg, &meta(hl)).unwrap_or_else(|| panic!("{name}: not decodable"));
        assert_eq!(counter(&s), 1, "{name}: not counted ({s:?})");
        let after = &r.instances()[0];
        assert_eq!(after.state, before.state, "{name}: state changed");
        assert_eq!(after.sands, before.sands, "{name}: timer changed");
        assert_eq!(after.master_saddr, before.master_saddr, "{name}: master learnt");
    }
}

/// An address-list mismatch is counted (addr_list_err) and, as in
/// keepalived >= 2.4 (FEATURES.md §6; 2.2.7 drops it), still accepted.
#[test]
fn an_ipv6_address_list_mismatch_is_counted() {
    for (name, msg) in [("no address", message(&[])), ("another address", message(&[Ipv6Addr::LOCALHOST]))] {
        let mut r = router();
        let s = feed(&mut r, &msg, &meta(255)).unwrap();
        assert_eq!(s.addr_list_err, 1, "{name}: not counted ({s:?})");
        assert_eq!(r.instances()[0].state, State::Backup, "{name}");
    }
}

#[test]
fn another_vrid_decodes_for_the_shell_to_demultiplex() {
    let mut b = message(&[VIP]);
    b[1] = 99;
    let a = decode_ipv6(&fixed(b), &meta(255)).unwrap();
    assert_eq!(a.vrid, 99);
    assert_eq!(keepalived_vrrp::decode::peek_vrid_ipv6(&message(&[VIP])), Some(51));
}

#[test]
fn a_runt_is_an_error_and_random_bytes_never_panic() {
    assert!(decode_ipv6(&message(&[VIP])[..6], &meta(255)).is_err());
    let mut r = router();
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for len in 0..120usize {
        for _ in 0..20 {
            let b: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            if let Ok(adv) = decode_ipv6(&b, &Ipv6Meta { hop_limit: None, ..meta(255) }) {
                r.handle_advert(Instant(1), 0, &adv, &mut Vec::new());
            }
        }
    }
}
