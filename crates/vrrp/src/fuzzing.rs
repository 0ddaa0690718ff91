//! Fuzz target body, shared by the cargo-fuzz target (`fuzz/`) and the corpus replay test
//! (`tests/fuzz_corpus.rs`) so the two cannot drift. Not part of the API.
//!
//! The packet path of the VRRP child: received datagrams are decoded ([`crate::decode`]),
//! demultiplexed to an instance and handed to the engine, with the timers run in between. The
//! input is a list of records `[ctrl, len_hi, len_lo, bytes…]` (a short last record takes what is
//! left): `ctrl` bit 0 selects IPv6 (the bytes are the VRRP message a raw IPv6 socket returns;
//! otherwise the whole IPv4 datagram), bit 1 a hop limit of 64 instead of 255 (IPv6), bits 2–7
//! advance the clock by that many 20 ms steps first. The instances match the lab captures
//! (`fuzz/seeds/vrrp_engine/`).

use crate::config::{AuthConfig, EngineOptions, InstanceConfig, Peer, RouterConfig};
use crate::decode::{decode_ipv4, decode_ipv6, peek_vrid, DecodeOptions, Ipv6Meta};
use crate::router::Router;
use crate::types::{Input, Instant};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The AH and PASS secrets of the lab captures.
const AH_KEY: [u8; 8] = *b"lab-ah1\0";
const PASS: [u8; 8] = *b"lab-pw1\0";
/// Timer expiries run at one instant before the engine is deemed stuck.
const MAX_TIMER_RUNS: usize = 10_000;

/// Run the records of `data` through a router configured as the lab's.
pub fn engine(data: &[u8]) {
    let mut r = Router::new(lab_config());
    let mut out = Vec::new();
    let mut now = Instant(1_000_000);
    r.handle(now, Input::Start, &mut out);
    let mut rest = data;
    while let Some((&ctrl, tail)) = rest.split_first() {
        let (len, tail) = match tail {
            [hi, lo, t @ ..] => (usize::from(*hi) << 8 | usize::from(*lo), t),
            _ => (tail.len(), &[][..]),
        };
        let (pkt, tail) = tail.split_at(len.min(tail.len()));
        rest = tail;
        now = Instant(now.0 + u64::from(ctrl >> 2) * 20_000);
        run_timers(&mut r, now, &mut out);
        receive(&mut r, now, ctrl, pkt, &mut out);
        out.clear();
    }
}

fn run_timers(r: &mut Router, now: Instant, out: &mut Vec<crate::types::Action>) {
    for _ in 0..MAX_TIMER_RUNS {
        match r.poll_timeout() {
            Some(t) if t <= now => r.handle_timeout(now, out),
            _ => return,
        }
        out.clear();
    }
    panic!("timers still due at {now:?} after {MAX_TIMER_RUNS} runs");
}

fn receive(r: &mut Router, now: Instant, ctrl: u8, pkt: &[u8], out: &mut Vec<crate::types::Action>) {
    let adv = if ctrl & 1 == 0 {
        let id = peek_vrid(pkt).and_then(|v| r.find_instance(v, false, None));
        let cfg = id.and_then(|i| r.instance(i)).map(|i| &i.config);
        let opts = DecodeOptions {
            ah_key: cfg.filter(|c| c.auth == AuthConfig::Ah).map(|_| &AH_KEY),
            unicast: cfg.is_some_and(|c| c.unicast),
            v3_checksum_as_v2: false,
            old_unicast_checksum: true,
        };
        decode_ipv4(pkt, &opts)
    } else {
        let hop_limit = Some(if ctrl & 2 == 0 { 255 } else { 64 });
        let meta = Ipv6Meta { src: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 2), dst: v6_group(), hop_limit };
        decode_ipv6(pkt, &meta)
    };
    let Ok(adv) = adv else { return };
    if let Some(id) = r.find_instance(adv.vrid, ctrl & 1 == 1, None) {
        r.handle_advert(now, id, &adv, out);
    }
}

fn v6_group() -> Ipv6Addr {
    Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12)
}

fn v4(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 51, 100, last))
}

/// VRIDs 51–56 and 60 of the lab captures (v2, v3, IPv6, PASS, AH, unicast, FRR interop).
fn lab_config() -> RouterConfig {
    let mut v = Vec::new();
    v.push(instance("v2", 51, 2, false, v4(51)));
    v.push(instance("v3", 52, 3, false, v4(52)));
    v.push(instance("v6", 53, 3, true, IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x53))));
    let mut pass = instance("pass", 54, 2, false, v4(54));
    pass.auth = AuthConfig::Pass(PASS);
    v.push(pass);
    let mut ah = instance("ah", 55, 2, false, v4(55));
    ah.auth = AuthConfig::Ah;
    v.push(ah);
    let mut uni = instance("unicast", 56, 3, false, v4(56));
    uni.unicast = true;
    uni.check_unicast_src = true;
    uni.unicast_peers =
        vec![Peer { addr: v4(1), min_ttl: 0, max_ttl: 255 }, Peer { addr: v4(3), min_ttl: 0, max_ttl: 255 }];
    v.push(uni);
    v.push(instance("frr4", 60, 3, false, v4(60)));
    v.push(instance("frr6", 60, 3, true, IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x60))));
    RouterConfig { options: EngineOptions::default(), instances: v, groups: vec![] }
}

fn instance(name: &str, vrid: u8, version: u8, ipv6: bool, vip: IpAddr) -> InstanceConfig {
    let mut c = InstanceConfig::new(name, vrid, 100);
    c.version = version;
    c.ipv6 = ipv6;
    c.vips = vec![vip];
    c
}
