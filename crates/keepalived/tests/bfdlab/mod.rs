//! Shared by the bfd_* lab tests: configurations, the BFD control packets
//! of a bridge capture decoded with the wire crate, and the measurements
//! taken from them (detection delays, transmit gaps).
#![allow(dead_code)]

use keepalived_testkit::pcap::read_pcap;
use keepalived_testkit::peers::Lab;
use keepalived_wire::bfd::{Packet, State};
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

/// One BFD control packet seen on the bridge.
#[derive(Clone, Debug)]
pub struct Seen {
    pub t_us: u64,
    pub dport: u16,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub ttl: u8,
    pub state: State,
    pub diag: u8,
    pub poll: bool,
    pub fin: bool,
    pub mult: u8,
    pub my_discr: u32,
    pub your_discr: u32,
    pub min_tx: u32,
    pub min_rx: u32,
}

/// Source, destination, source port, destination port, TTL / hop limit, payload.
type Udp<'a> = (IpAddr, IpAddr, u16, u16, u8, &'a [u8]);

/// The UDP payload to/from port 3784/4784 of an Ethernet frame, with the
/// addresses, ports and TTL / hop limit.
fn udp_payload(f: &[u8]) -> Option<Udp<'_>> {
    let et = u16::from_be_bytes([*f.get(12)?, *f.get(13)?]);
    let ip = f.get(14..)?;
    let (src, dst, ttl, udp) = match et {
        0x0800 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            if *ip.get(9)? != 17 {
                return None;
            }
            let s: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let d: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            (IpAddr::from(s), IpAddr::from(d), *ip.get(8)?, ip.get(ihl..)?)
        }
        0x86dd => {
            if *ip.get(6)? != 17 {
                return None;
            }
            let s: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let d: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            (IpAddr::from(s), IpAddr::from(d), *ip.get(7)?, ip.get(40..)?)
        }
        _ => return None,
    };
    let sport = u16::from_be_bytes([*udp.first()?, *udp.get(1)?]);
    let dport = u16::from_be_bytes([*udp.get(2)?, *udp.get(3)?]);
    if dport != 3784 && dport != 4784 {
        return None;
    }
    Some((src, dst, sport, dport, ttl, udp.get(8..)?))
}

/// Every BFD control packet of a capture, decoded with keepalived_wire.
pub fn decode(path: &Path) -> Vec<Seen> {
    let mut v = Vec::new();
    for f in read_pcap(path) {
        let Some((src, dst, sport, dport, ttl, payload)) = udp_payload(&f.data) else { continue };
        let Ok(p) = Packet::new_checked(payload) else { continue };
        v.push(Seen {
            t_us: f.t_us,
            dport,
            src,
            dst,
            sport,
            ttl,
            state: p.state(),
            diag: p.diag(),
            poll: p.poll(),
            fin: p.final_flag(),
            mult: p.detect_mult(),
            my_discr: p.my_discriminator(),
            your_discr: p.your_discriminator(),
            min_tx: p.desired_min_tx(),
            min_rx: p.required_min_rx(),
        });
    }
    v
}

/// For every Up→Down transition of `ours` (packets from `us` to `peer`,
/// diag 1 "Control Detection Time Expired"), the time from the peer's last
/// packet before it to our first Down packet, in ms.
pub fn detection_delays(seen: &[Seen], us: IpAddr, peer: IpAddr) -> Vec<f64> {
    let mut delays = Vec::new();
    let mut last_peer: Option<u64> = None;
    let mut our_state = State::Down;
    for p in seen {
        if p.src == peer && p.dst == us {
            last_peer = Some(p.t_us);
        } else if p.src == us && p.dst == peer {
            if our_state == State::Up && p.state == State::Down && p.diag == 1 {
                if let Some(t) = last_peer {
                    delays.push((p.t_us - t) as f64 / 1000.0);
                }
            }
            our_state = p.state;
        }
    }
    delays
}

/// The gaps (ms) between consecutive Up packets from `src` to `dst`
/// without the poll or final bit (steady state).
pub fn tx_gaps(seen: &[Seen], src: IpAddr, dst: IpAddr) -> Vec<f64> {
    let mut gaps = Vec::new();
    let mut prev: Option<&Seen> = None;
    for p in seen.iter().filter(|p| p.src == src && p.dst == dst) {
        if let Some(q) = prev {
            if q.state == State::Up && p.state == State::Up && !p.poll && !p.fin && !q.poll && !q.fin {
                gaps.push((p.t_us - q.t_us) as f64 / 1000.0);
            }
        }
        prev = Some(p);
    }
    gaps
}

/// The `q` quantile (0..=1) of `v`.
pub fn quantile(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    if s.is_empty() {
        return f64::NAN;
    }
    let k = ((s.len() - 1) as f64 * q).round() as usize;
    s[k.min(s.len() - 1)]
}

/// Our side (h1) of two sessions with h2, 100 ms x 3, IPv6 without
/// `hoplimit` (keepalived-rs's default is RFC 5881's 255).
pub fn ours_conf(global: &str, extra: &str) -> String {
    format!(
        "global_defs {{\n  router_id h1\n{global}}}\n\
         bfd_instance H2_V4 {{\n  neighbor_ip 198.51.100.2\n  source_ip 198.51.100.1\n  min_rx 100\n  min_tx 100\n  multiplier 3\n}}\n\
         bfd_instance H2_V6 {{\n  neighbor_ip 2001:db8::2\n  source_ip 2001:db8::1\n  min_rx 100\n  min_tx 100\n  multiplier 3\n}}\n{extra}"
    )
}

/// keepalived 2.2.7 on h2, the mirror of [`ours_conf`] (its IPv6 default
/// hop limit of 64 would be dropped: `hoplimit 255`).
pub fn peer_conf() -> String {
    "global_defs {\n  router_id h2\n}\n\
     bfd_instance H1_V4 {\n  neighbor_ip 198.51.100.1\n  source_ip 198.51.100.2\n  min_rx 100\n  min_tx 100\n  multiplier 3\n}\n\
     bfd_instance H1_V6 {\n  neighbor_ip 2001:db8::1\n  source_ip 2001:db8::2\n  min_rx 100\n  min_tx 100\n  multiplier 3\n  hoplimit 255\n}\n"
        .to_string()
}

/// How many times `needle` occurs in host N's keepalived log.
pub fn log_count(lab: &Lab, n: u32, needle: &str) -> usize {
    lab.ka_log(n).matches(needle).count()
}

pub fn pid_file(lab: &Lab, n: u32, which: &str) -> Option<i32> {
    std::fs::read_to_string(lab.run.join("ka").join(format!("h{n}-{which}.pid"))).ok()?.trim().parse().ok()
}

pub fn signal(pid: i32, sig: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
}

/// A pseudo-random duration in `0..max_ms` (the freeze moments).
pub fn random_ms(max_ms: u64) -> Duration {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let x = (t.subsec_nanos() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
    Duration::from_millis(x % max_ms.max(1))
}
