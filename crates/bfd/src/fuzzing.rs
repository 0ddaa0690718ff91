//! Fuzz target body, shared by the cargo-fuzz target (`fuzz/`) and the corpus replay test
//! (`tests/fuzz_corpus.rs`) so the two cannot drift. Not part of the API.
//!
//! The BFD child's receive path: [`Engine::handle_packet`] with sessions configured as in the
//! lab capture (keepalived 198.51.100.1 / 2001:db8::1 facing FRR at .2 / ::2, plus a multihop
//! session), the timers run in between. The input is a list of records `[ctrl, ttl, len,
//! bytes…]` (a short last record takes what is left): `ctrl` bits 0–1 pick the sender (FRR v4,
//! FRR v6, an unknown host, the multihop neighbour), bit 2 the multihop port, bit 3 whether the
//! destination address is known, bits 4–7 advance the clock by that many 50 ms steps first.

use crate::config::EngineConfig;
use crate::engine::Engine;
use crate::types::{Action, Input, Instant};
use keepalived_config::{parse_str, ParseOptions};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::OnceLock;

const LAB_CONF: &str = "
bfd_instance frr4 {
    neighbor_ip 198.51.100.2
    source_ip 198.51.100.1
    min_rx 100
    min_tx 100
    multiplier 3
}
bfd_instance frr6 {
    neighbor_ip 2001:db8::2
    source_ip 2001:db8::1
    min_rx 100
    min_tx 100
    multiplier 3
}
bfd_instance far {
    neighbor_ip 203.0.113.9
    source_ip 198.51.100.1
    multihop
    max_hops 5
}
";

/// Timer expiries run at one instant before the engine is deemed stuck.
const MAX_TIMER_RUNS: usize = 10_000;

fn lab_config() -> EngineConfig {
    static CFG: OnceLock<EngineConfig> = OnceLock::new();
    CFG.get_or_init(|| EngineConfig::from_config(&parse_str("fuzz.conf", LAB_CONF, &ParseOptions::default()).config))
        .clone()
}

/// Run the records of `data` through an engine configured as the lab's.
pub fn engine(data: &[u8]) {
    let cfg = lab_config();
    assert_eq!(cfg.sessions.len(), 3, "the lab configuration has three sessions");
    let mut e = Engine::new(cfg, 1);
    let mut out = Vec::new();
    let mut now = Instant(1_000_000);
    e.handle(now, Input::Start, &mut out);
    let mut rest = data;
    while let Some((&ctrl, tail)) = rest.split_first() {
        let (ttl, len, tail) = match tail {
            [ttl, len, t @ ..] => (*ttl, usize::from(*len), t),
            _ => (255, tail.len(), &[][..]),
        };
        let (pkt, tail) = tail.split_at(len.min(tail.len()));
        rest = tail;
        now = now.add_us(u64::from(ctrl >> 4) * 50_000);
        run_timers(&mut e, now, &mut out);
        let (src, dst) = peer(ctrl);
        let dst = (ctrl & 8 != 0).then_some(dst);
        e.handle_packet(now, src, dst, ttl, ctrl & 4 != 0, pkt, &mut out);
        out.clear();
    }
    e.handle(now, Input::Shutdown, &mut out);
}

fn run_timers(e: &mut Engine, now: Instant, out: &mut Vec<Action>) {
    for _ in 0..MAX_TIMER_RUNS {
        match e.poll_timeout() {
            Some(t) if t <= now => e.handle_timeout(now, out),
            _ => return,
        }
        out.clear();
    }
    panic!("timers still due at {now:?} after {MAX_TIMER_RUNS} runs");
}

/// Sender and local address.
fn peer(ctrl: u8) -> (SocketAddr, IpAddr) {
    let local4 = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
    let (src, dst): (IpAddr, IpAddr) = match ctrl & 3 {
        0 => (Ipv4Addr::new(198, 51, 100, 2).into(), local4),
        1 => (
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2).into(),
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).into(),
        ),
        2 => (Ipv4Addr::new(192, 0, 2, 77).into(), local4),
        _ => (Ipv4Addr::new(203, 0, 113, 9).into(), local4),
    };
    (SocketAddr::new(src, 49152), dst)
}
