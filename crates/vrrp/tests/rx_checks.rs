//! Every receive check, from bytes: a well-formed advert from the master is
//! accepted; a malformed variant of it is dropped, counted under keepalived's
//! statistics name on the instance, and changes no state.

use keepalived_vrrp::decode::{decode_ipv4, DecodeOptions};
use keepalived_vrrp::{AuthConfig, EngineOptions, Input, InstanceConfig, Instant, Router, RouterConfig, State, Stats};
use keepalived_wire::advert::Ipv4Advert;
use keepalived_wire::vrrp::{self, Addrs, Auth, Repr, Version};
use keepalived_wire::{ah, ip_proto, ipv4};
use std::net::{IpAddr, Ipv4Addr};

const SRC: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const VIP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 51);

struct Adv {
    version: Version,
    vrid: u8,
    prio: u8,
    int: u16,
    auth: Auth,
    vips: Vec<Ipv4Addr>,
    ttl: u8,
    ah_key: Option<[u8; 8]>,
}

impl Default for Adv {
    fn default() -> Adv {
        Adv {
            version: Version::V2,
            vrid: 51,
            prio: 150,
            int: 1,
            auth: Auth::None,
            vips: vec![VIP],
            ttl: 255,
            ah_key: None,
        }
    }
}

fn bytes(a: &Adv) -> Vec<u8> {
    let r = Repr {
        version: a.version,
        vrid: a.vrid,
        priority: a.prio,
        max_adver_int: a.int,
        auth: a.auth,
        addrs: Addrs::v4(&a.vips),
    };
    let ahr = a.ah_key.map(|_| ah::Repr::vrrp(SRC, 1));
    let proto = if ahr.is_some() { ip_proto::AH } else { ip_proto::VRRP };
    let mut ip = ipv4::Repr::vrrp(
        SRC,
        Ipv4Addr::new(224, 0, 0, 18),
        proto,
        7,
        r.buffer_len() + ahr.map_or(0, |x| x.buffer_len()),
    );
    ip.ttl = a.ttl;
    let adv = Ipv4Advert { ip, ah: ahr, vrrp: r };
    let mut buf = vec![0u8; adv.buffer_len()];
    let kind = adv.checksum_kind(false);
    let n = adv.emit(&mut buf, kind).unwrap();
    buf.truncate(n);
    if let Some(k) = a.ah_key {
        ah::sign(&mut buf, &k, false).unwrap();
    }
    buf
}

fn router(auth: AuthConfig, version: u8) -> Router {
    let mut c = InstanceConfig::new("VI_1", 51, 100);
    c.vips = vec![IpAddr::V4(VIP)];
    c.auth = auth;
    c.version = version;
    let mut r = Router::new(RouterConfig { options: EngineOptions::default(), instances: vec![c], groups: vec![] });
    let mut out = Vec::new();
    r.handle(Instant(0), Input::Start, &mut out);
    r
}

/// Feed `dgram`; returns the stats delta and whether the advert was accepted
/// (accepted adverts from a higher priority master keep the backup's timer
/// from expiring: we check the master address was learnt).
fn feed(r: &mut Router, dgram: &[u8], opts: &DecodeOptions<'_>) -> Option<Stats> {
    let before = r.instances()[0].stats;
    let adv = decode_ipv4(dgram, opts).ok()?;
    let mut out = Vec::new();
    r.handle_advert(Instant(500_000), 0, &adv, &mut out);
    let after = r.instances()[0].stats;
    Some(delta(&before, &after))
}

#[allow(clippy::field_reassign_with_default)]
fn delta(a: &Stats, b: &Stats) -> Stats {
    let mut d = Stats::default();
    d.advert_rcvd = b.advert_rcvd - a.advert_rcvd;
    d.packet_len_err = b.packet_len_err - a.packet_len_err;
    d.advert_interval_err = b.advert_interval_err - a.advert_interval_err;
    d.ip_ttl_err = b.ip_ttl_err - a.ip_ttl_err;
    d.invalid_type_rcvd = b.invalid_type_rcvd - a.invalid_type_rcvd;
    d.addr_list_err = b.addr_list_err - a.addr_list_err;
    d.invalid_authtype = b.invalid_authtype - a.invalid_authtype;
    d.authtype_mismatch = b.authtype_mismatch - a.authtype_mismatch;
    d.auth_failure = b.auth_failure - a.auth_failure;
    d.pri_zero_rcvd = b.pri_zero_rcvd - a.pri_zero_rcvd;
    d.vers_err = b.vers_err - a.vers_err;
    d.chk_err = b.chk_err - a.chk_err;
    d
}

fn errors(d: &Stats) -> u64 {
    d.packet_len_err
        + d.advert_interval_err
        + d.ip_ttl_err
        + d.invalid_type_rcvd
        + d.addr_list_err
        + d.invalid_authtype
        + d.authtype_mismatch
        + d.auth_failure
        + d.vers_err
        + d.chk_err
}

#[test]
fn a_good_advert_is_accepted() {
    let mut r = router(AuthConfig::None, 2);
    let d = feed(&mut r, &bytes(&Adv::default()), &DecodeOptions::default()).unwrap();
    assert_eq!(d.advert_rcvd, 1);
    assert_eq!(errors(&d), 0);
    assert_eq!(r.instances()[0].state, State::Backup);
}

#[test]
fn each_malformed_variant_is_counted_and_changes_nothing() {
    let none = DecodeOptions::default();
    type Case = (&'static str, Vec<u8>, AuthConfig, fn(&Stats) -> u64);
    let cases: Vec<Case> = vec![
        ("ttl 64", bytes(&Adv { ttl: 64, ..Adv::default() }), AuthConfig::None, |d| d.ip_ttl_err),
        (
            "bad checksum",
            {
                let mut b = bytes(&Adv::default());
                let n = b.len();
                b[n - 1] ^= 0x55;
                b
            },
            AuthConfig::None,
            |d| d.chk_err,
        ),
        // keepalived 2.2.7 drops it but never increments advert_interval_err:
        // nothing is counted.
        ("v2 interval 2 s vs 1 s", bytes(&Adv { int: 2, ..Adv::default() }), AuthConfig::None, |d| {
            u64::from(errors(d) == 0)
        }),
        (
            "PASS on an instance without auth",
            bytes(&Adv { auth: Auth::Pass(vrrp::auth_data(b"x")), ..Adv::default() }),
            AuthConfig::None,
            |d| d.authtype_mismatch,
        ),
        (
            "wrong PASS",
            bytes(&Adv { auth: Auth::Pass(vrrp::auth_data(b"wrong")), ..Adv::default() }),
            AuthConfig::Pass(vrrp::auth_data(b"right")),
            |d| d.auth_failure,
        ),
        ("missing PASS", bytes(&Adv::default()), AuthConfig::Pass(vrrp::auth_data(b"right")), |d| d.authtype_mismatch),
        (
            "wrong version (v3 to a v2 instance)",
            bytes(&Adv { version: Version::V3, int: 100, ..Adv::default() }),
            AuthConfig::None,
            |d| d.vers_err,
        ),
        (
            "type 2",
            {
                let mut b = bytes(&Adv::default());
                b[20] = 0x22; // version 2, type 2
                b
            },
            AuthConfig::None,
            |d| d.invalid_type_rcvd,
        ),
        (
            "truncated address list",
            {
                let mut b = bytes(&Adv::default());
                b[23] = 3; // count 3 addresses, only 1 present
                b
            },
            AuthConfig::None,
            |d| d.packet_len_err,
        ),
    ];
    for (name, dgram, auth, counter) in cases {
        let mut r = router(auth, 2);
        let state_before = r.instances()[0].state;
        match feed(&mut r, &dgram, &none) {
            Some(d) => {
                assert_eq!(counter(&d), 1, "{name}: counter not incremented ({d:?})");
                assert_eq!(r.instances()[0].state, state_before, "{name}: state changed");
            }
            None => panic!("{name}: not decodable at all (the instance could not count it)"),
        }
    }
}

#[test]
fn ah_icv_checked() {
    let key = vrrp::auth_data(b"lab-ah1");
    let good = bytes(&Adv { auth: Auth::Ah, ah_key: Some(key), ..Adv::default() });
    let opts = DecodeOptions { ah_key: Some(&key), ..Default::default() };
    let mut r = router(AuthConfig::Ah, 2);
    let d = feed(&mut r, &good, &opts).unwrap();
    assert_eq!(errors(&d), 0, "{d:?}");
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 2] ^= 1; // inside the VRRP message: the ICV no longer matches
    let mut r = router(AuthConfig::Ah, 2);
    let d = feed(&mut r, &bad, &opts).unwrap();
    assert_eq!(d.auth_failure, 1, "{d:?}");
}

#[test]
fn priority_zero_is_counted() {
    let mut r = router(AuthConfig::None, 2);
    feed(&mut r, &bytes(&Adv::default()), &DecodeOptions::default()).unwrap();
    let d = feed(&mut r, &bytes(&Adv { prio: 0, ..Adv::default() }), &DecodeOptions::default()).unwrap();
    assert_eq!(d.pri_zero_rcvd, 1);
}

#[test]
fn random_bytes_never_panic_the_receive_path() {
    let mut r = router(AuthConfig::None, 2);
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for len in 0..200usize {
        for _ in 0..20 {
            let mut b = Vec::with_capacity(len);
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b.push(x as u8);
            }
            if let Ok(adv) = decode_ipv4(&b, &DecodeOptions::default()) {
                let mut out = Vec::new();
                r.handle_advert(Instant(1), 0, &adv, &mut out);
            }
        }
    }
}
