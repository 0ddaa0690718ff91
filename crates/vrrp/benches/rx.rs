//! Receive-path benchmark (issue: VRRP engine): 1,000 backup instances,
//! adverts from their masters round-robin, each one taken from the bytes on
//! the wire through decode (IPv4 header, VRRP checks, checksum, PASS or AH
//! HMAC-MD5-96) and the state machine. Prints adverts per second on one
//! core and allocations per advert in the steady state (a counting
//! allocator). Run: `cargo bench -p keepalived-vrrp --bench rx`.

use keepalived_vrrp::decode::{decode_ipv4, DecodeOptions};
use keepalived_vrrp::{EngineOptions, Input, InstanceConfig, Instant, Router, RouterConfig};
use keepalived_wire::advert::Ipv4Advert;
use keepalived_wire::vrrp::{self, Addrs, Auth, Repr, Version};
use keepalived_wire::{ah, ip_proto, ipv4};
use std::net::{IpAddr, Ipv4Addr};

#[global_allocator]
static ALLOC: keepalived_sys::CountingAlloc = keepalived_sys::CountingAlloc::new();

const N: usize = 1000;

#[derive(Clone, Copy, PartialEq)]
enum Variant {
    V3,
    V2Pass,
    V2Ah,
}

fn vip(k: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, (k >> 8) as u8, k as u8, 1)
}

/// One master datagram per instance (VRID k % 255 + 1 on 4 "interfaces":
/// instances are told apart by index in this benchmark).
fn datagrams(v: Variant) -> Vec<Vec<u8>> {
    let key = vrrp::auth_data(b"secret");
    (0..N)
        .map(|k| {
            let vips = [vip(k)];
            let (version, int, auth) = match v {
                Variant::V3 => (Version::V3, 100, Auth::None),
                Variant::V2Pass => (Version::V2, 1, Auth::Pass(key)),
                Variant::V2Ah => (Version::V2, 1, Auth::Ah),
            };
            let r = Repr {
                version,
                vrid: (k % 255) as u8 + 1,
                priority: 200,
                max_adver_int: int,
                auth,
                addrs: Addrs::v4(&vips),
            };
            let src = Ipv4Addr::new(10, 0, 0, 9);
            let dst = Ipv4Addr::new(224, 0, 0, 18);
            let ahr = (v == Variant::V2Ah).then(|| ah::Repr::vrrp(src, 1));
            let proto = if ahr.is_some() { ip_proto::AH } else { ip_proto::VRRP };
            let payload = r.buffer_len() + ahr.map_or(0, |a| a.buffer_len());
            let a = Ipv4Advert { ip: ipv4::Repr::vrrp(src, dst, proto, 1, payload), ah: ahr, vrrp: r };
            let mut buf = vec![0u8; a.buffer_len()];
            let kind = a.checksum_kind(false);
            let n = a.emit(&mut buf, kind).expect("emit");
            buf.truncate(n);
            if v == Variant::V2Ah {
                ah::sign(&mut buf, &key, false).expect("sign");
            }
            buf
        })
        .collect()
}

fn router(v: Variant) -> Router {
    let instances = (0..N)
        .map(|k| {
            let mut c = InstanceConfig::new(&format!("VI_{k}"), (k % 255) as u8 + 1, 100);
            c.vips = vec![IpAddr::V4(vip(k))];
            match v {
                Variant::V3 => c.version = 3,
                Variant::V2Pass => c.auth = keepalived_vrrp::AuthConfig::Pass(vrrp::auth_data(b"secret")),
                Variant::V2Ah => c.auth = keepalived_vrrp::AuthConfig::Ah,
            }
            c
        })
        .collect();
    Router::new(RouterConfig { options: EngineOptions::default(), instances, groups: vec![] })
}

fn run(v: Variant, name: &str, total: usize) {
    let dgrams = datagrams(v);
    let mut r = router(v);
    let key = vrrp::auth_data(b"secret");
    let opts = DecodeOptions { ah_key: (v == Variant::V2Ah).then_some(&key), ..Default::default() };
    let mut out = Vec::with_capacity(64);
    r.handle(Instant(0), Input::Start, &mut out);
    out.clear();
    // Warm up (first adverts set master addresses, log lines…), then measure.
    let mut handled = 0u64;
    let mut step = |k: usize, r: &mut Router, out: &mut Vec<_>| {
        let i = k % N;
        if let Ok(adv) = decode_ipv4(&dgrams[i], &opts) {
            r.handle_advert(Instant(1_000 + k as u64), i, &adv, out);
            handled += 1;
        }
        out.clear();
    };
    for k in 0..N * 3 {
        step(k, &mut r, &mut out);
    }
    let allocs_before = ALLOC.allocations();
    let start = std::time::Instant::now();
    for k in N * 3..N * 3 + total {
        step(k, &mut r, &mut out);
    }
    let el = start.elapsed();
    let allocs = ALLOC.allocations() - allocs_before;
    let rate = total as f64 / el.as_secs_f64();
    println!(
        "{name:<28} {:>10.2} M adverts/s/core {:>8.1} ns/advert {:>6.3} allocations/advert",
        rate / 1e6,
        1e9 / rate,
        allocs as f64 / total as f64
    );
    assert!(handled as usize >= total, "adverts were rejected: {handled}");
    // Every advert must have been accepted (the steady state, not an error path).
    let errors: u64 = r
        .instances()
        .iter()
        .map(|i| {
            let s = &i.stats;
            s.packet_len_err
                + s.ip_ttl_err
                + s.invalid_type_rcvd
                + s.addr_list_err
                + s.invalid_authtype
                + s.authtype_mismatch
                + s.auth_failure
                + s.vers_err
                + s.chk_err
                + s.advert_interval_err
        })
        .sum();
    assert_eq!(errors, 0, "receive errors counted");
}

fn main() {
    let total: usize = std::env::var("ADVERTS").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000_000);
    println!("receive path: decode + auth + checksum + state machine, {N} backup instances, {total} adverts each");
    run(Variant::V3, "VRRPv3 (pseudo-hdr cksum)", total);
    run(Variant::V2Pass, "VRRPv2 PASS", total);
    run(Variant::V2Ah, "VRRPv2 AH (HMAC-MD5-96)", total / 5);
}
