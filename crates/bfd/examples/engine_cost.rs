//! What the engine itself costs at the benchmark load: two engines of 100 sessions each at
//! 50 ms x 3, Up, exchanging every packet for 60 s of virtual time. Prints the CPU time per 30 s
//! of session time (the unit of the child benchmark: keepalived 2.2.7's whole BFD child uses about
//! 278 ticks = 2.78 s of CPU per 30 s) and the cost per packet. Run with
//! `cargo run --release -p keepalived-bfd --example engine_cost`.
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant as Wall;

use keepalived_bfd::*;

fn cfg(me: u8, peer: u8) -> EngineConfig {
    let sessions = (0..100u8)
        .map(|i| SessionConfig {
            name: format!("s{i}"),
            neighbor: IpAddr::V4(Ipv4Addr::new(10, peer, 0, i)),
            source: Some(IpAddr::V4(Ipv4Addr::new(10, me, 0, i))),
            min_rx_us: 50_000,
            min_tx_us: 50_000,
            idle_tx_us: 1_000_000,
            multiplier: 3,
            passive: false,
            ttl: 255,
            max_hops: 0,
            multihop: false,
            to_vrrp: true,
            to_checker: false,
        })
        .collect();
    EngineConfig { sessions }
}

fn main() {
    let mut e = [Engine::new(cfg(1, 2), 1), Engine::new(cfg(2, 1), 2)];
    let mut out = [Vec::new(), Vec::new()];
    let mut queue: Vec<(u64, usize, SocketAddr, SocketAddr, Vec<u8>)> = Vec::new();
    let mut now = 0u64;
    for (x, o) in e.iter_mut().zip(&mut out) {
        x.handle(Instant(0), Input::Start, o);
    }
    let (mut packets, mut ups) = (0u64, 0u64);
    let wall = Wall::now();
    let end = 60_000_000u64;
    let mut measured_from = None;
    loop {
        // Collect the sends of both engines into the queue (50 µs link).
        for (n, o) in out.iter_mut().enumerate() {
            for a in o.drain(..) {
                match a {
                    Action::Send { dst, data, session } => {
                        let src =
                            SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, n as u8 + 1, 0, session.0 as u8)), 49152);
                        queue.push((now + 50, 1 - n, src, dst, data));
                    }
                    Action::Event { up: true, .. } => ups += 1,
                    _ => {}
                }
            }
        }
        let next_timer = e.iter().filter_map(Engine::poll_timeout).map(|t| t.0).min().unwrap_or(u64::MAX);
        let next_pkt = queue.iter().map(|q| q.0).min().unwrap_or(u64::MAX);
        now = next_timer.min(next_pkt);
        if now > end {
            break;
        }
        if measured_from.is_none() && ups >= 200 {
            measured_from = Some((now, wall.elapsed(), packets));
        }
        if next_pkt <= next_timer {
            let i = queue.iter().position(|q| q.0 == now).unwrap_or(0);
            let (_, to, src, dst, data) = queue.swap_remove(i);
            packets += 1;
            e[to].handle_packet(Instant(now), src, Some(dst.ip()), 255, false, &data, &mut out[to]);
        } else {
            for (x, o) in e.iter_mut().zip(&mut out) {
                if x.poll_timeout().is_some_and(|t| t.0 <= now) {
                    x.handle_timeout(Instant(now), o);
                }
            }
        }
    }
    let (t0, w0, p0) = measured_from.expect("all sessions Up");
    let cpu = wall.elapsed() - w0;
    let virt_s = (end - t0) as f64 / 1e6;
    let per_engine_30s = cpu.as_secs_f64() / 2.0 / virt_s * 30.0;
    let n = packets - p0;
    println!(
        "2 engines x 100 sessions at 50 ms x 3: {n} packets handled in {virt_s:.1} s virtual, {:.0} ms CPU; \
         per engine {:.1} ms CPU per 30 s ({:.2} ticks; keepalived 2.2.7's whole child: ~278 ticks); {:.0} ns per packet (receive + send)",
        cpu.as_secs_f64() * 1e3,
        per_engine_30s * 1e3,
        per_engine_30s * 100.0,
        cpu.as_secs_f64() * 1e9 / n as f64
    );
    for x in &e {
        for i in 0..100 {
            assert_eq!(x.session(SessionId(i)).map(|v| v.local_state), Some(State::Up));
        }
    }
}
