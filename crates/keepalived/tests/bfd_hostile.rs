//! Hostile BFD input in the lab (issue 13): keepalived-rs on h1 runs two
//! sessions Up with keepalived 2.2.7 on h2; h3 forges control packets with
//! a raw socket, spoofing h2's address, every one of which would take the
//! session of its family Down if it were accepted (State AdminDown with our
//! discriminators); one test per family:
//! wrong version, a Length field too small and one larger than the
//! datagram, Detect Mult 0, My Discriminator 0, TTL 254 on a single-hop
//! session (RFC 5881 §5; over IPv6 hop limit 63, below the 64 that
//! keepalived 2.2.7 peers send and that is still accepted), an unknown Your Discriminator, a datagram
//! shorter than the mandatory section, and a flood of 20 000 packets.
//! Every kind is counted (SIGUSR2, keepalived_bfd.stats) and neither
//! session leaves Up. Needs root, tcpdump, /usr/sbin/keepalived and
//! ../shared/lab.

mod bfdlab;

use bfdlab::{decode, log_count, pid_file, signal};
use keepalived_testkit::netns::{raw_hdrincl_socket_in, send_datagram, within};
use keepalived_testkit::peers::{lab_scripts, Lab};
use keepalived_testkit::wait_for;
use keepalived_wire::bfd::State;
use nix::sys::signal::Signal;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV6};
use std::time::Duration;

const OURS: &str = env!("CARGO_BIN_EXE_keepalived");

const KEEPALIVED: &str = "/usr/sbin/keepalived";
const US: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
const US6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const PEER6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
const EACH: u64 = 100;
const FLOOD: u64 = 20_000;

/// A control packet: version, state (AdminDown/Down), Detect Mult, Length
/// field, discriminators; `len` bytes of it are sent.
struct Forged {
    version: u8,
    state: State,
    mult: u8,
    length: u8,
    my: u32,
    your: u32,
    len: usize,
    ttl: u8,
}

impl Forged {
    fn payload(&self) -> Vec<u8> {
        let mut p = vec![0u8; 24];
        p[0] = (self.version << 5) | 7; // diag 7 AdminDown
        p[1] = self.state.bits() << 6;
        p[2] = self.mult;
        p[3] = self.length;
        p[4..8].copy_from_slice(&self.my.to_be_bytes());
        p[8..12].copy_from_slice(&self.your.to_be_bytes());
        p[12..16].copy_from_slice(&100_000u32.to_be_bytes());
        p[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        p.truncate(self.len);
        p
    }

    /// IPv4 + UDP (checksum 0: none) from the peer's address.
    fn datagram(&self) -> Vec<u8> {
        let payload = self.payload();
        let udp_len = 8 + payload.len();
        let total = 20 + udp_len;
        let mut d = vec![0u8; 20];
        d[0] = 0x45;
        d[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        d[8] = self.ttl;
        d[9] = 17;
        d[12..16].copy_from_slice(&PEER.octets());
        d[16..20].copy_from_slice(&US.octets());
        d.extend_from_slice(&49999u16.to_be_bytes());
        d.extend_from_slice(&3784u16.to_be_bytes());
        d.extend_from_slice(&(udp_len as u16).to_be_bytes());
        d.extend_from_slice(&[0, 0]);
        d.extend_from_slice(&payload);
        d
    }
}

/// The IPv6 session's counterpart of [`Forged::datagram`]: IPv6 + UDP (the
/// checksum RFC 8200 §8.1 requires, so the kernel hands it over) from the
/// peer's address, the hop limit in `ttl`.
fn datagram_v6(f: &Forged) -> Vec<u8> {
    let payload = f.payload();
    let udp_len = 8 + payload.len();
    let mut udp = Vec::with_capacity(udp_len);
    udp.extend_from_slice(&49999u16.to_be_bytes());
    udp.extend_from_slice(&3784u16.to_be_bytes());
    udp.extend_from_slice(&(udp_len as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(&payload);
    let sum = udp6_checksum(&PEER6, &US6, &udp);
    udp[6..8].copy_from_slice(&sum.to_be_bytes());
    let mut d = vec![0u8; 40];
    d[0] = 0x60;
    d[4..6].copy_from_slice(&(udp_len as u16).to_be_bytes());
    d[6] = 17;
    d[7] = f.ttl;
    d[8..24].copy_from_slice(&PEER6.octets());
    d[24..40].copy_from_slice(&US6.octets());
    d.extend_from_slice(&udp);
    d
}

/// The UDP checksum over the IPv6 pseudo-header (RFC 8200 §8.1).
fn udp6_checksum(src: &Ipv6Addr, dst: &Ipv6Addr, udp: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut add = |b: &[u8]| {
        for c in b.chunks(2) {
            sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
    };
    add(&src.octets());
    add(&dst.octets());
    add(&(udp.len() as u32).to_be_bytes());
    add(&[0, 0, 0, 17]);
    add(udp);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    match !(sum as u16) {
        0 => 0xffff,
        s => s,
    }
}

/// Every `reason: n` line of the stats file, summed over the sessions and
/// the packets no session could be named for.
fn drops(text: &str) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for l in text.lines().filter(|l| l.starts_with("    ")) {
        if let Some((k, v)) = l.trim().split_once(": ") {
            *m.entry(k.to_string()).or_default() += v.trim().parse::<u64>().unwrap_or(0);
        }
    }
    m
}

/// The forger's way to the wire for one family.
enum Sender {
    V4(socket2::Socket),
    V6(socket2::Socket),
}

impl Sender {
    fn open(lab: &Lab, v6: bool) -> Sender {
        if !v6 {
            return Sender::V4(raw_hdrincl_socket_in(&lab.ns(3), 17));
        }
        // IPPROTO_RAW: the IPv6 header is ours (the kernel sets IPV6_HDRINCL for it).
        Sender::V6(within(&lab.ns(3), || {
            let raw = socket2::Protocol::from(255); // IPPROTO_RAW
            socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::RAW, Some(raw)).expect("raw IPv6 socket")
        }))
    }

    fn send(&self, f: &Forged) -> std::io::Result<usize> {
        match self {
            Sender::V4(s) => send_datagram(s, Ipv4Addr::new(198, 51, 100, 3), &f.datagram()),
            Sender::V6(s) => s.send_to(&datagram_v6(f), &SocketAddrV6::new(US6, 0, 0, 0).into()),
        }
    }
}

#[test]
fn forged_and_malformed_packets_are_counted_and_change_no_session() {
    forged_packets("bho", false);
}

/// The same over IPv6 (RFC 5881 §5: hop limit 255 on single hop).
#[test]
fn forged_ipv6_packets_are_counted_and_change_no_session() {
    forged_packets("bh6", true);
}

fn forged_packets(tag: &str, v6: bool) {
    let (us, peer): (IpAddr, IpAddr) = if v6 { (US6.into(), PEER6.into()) } else { (US.into(), PEER.into()) };
    let scripts = lab_scripts(&["ip", "tcpdump", KEEPALIVED]);
    let mut lab = Lab::up(&scripts, tag, 3);
    let pcap = lab.run.join("bfd.pcap");
    lab.capture(&pcap, &["udp", "port", "3784"]);
    let peer_c = lab.run.join("peer.conf");
    std::fs::write(&peer_c, bfdlab::peer_conf()).unwrap();
    lab.start_ka_args(2, KEEPALIVED, &peer_c, &[]);
    let ours_c = lab.run.join("ours.conf");
    std::fs::write(&ours_c, bfdlab::ours_conf("", "")).unwrap();
    lab.start_ka_args(1, OURS, &ours_c, &[]);
    let up = |n: &str| log_count(&lab, 1, &format!("({n}) Entering Up state")) == 1;
    assert!(wait_for(Duration::from_secs(15), || up("H2_V4") && up("H2_V6")), "{}", lab.ka_log(1));
    std::thread::sleep(Duration::from_millis(500));

    // Our and the peer's discriminators of this family's session, from the wire (tcpdump hands
    // packets over in blocks: wait for one of our Up packets to show).
    let mut discrs = None;
    wait_for(Duration::from_secs(5), || {
        discrs = decode(&pcap)
            .iter()
            .rev()
            .find(|p| p.src == us && p.dst == peer && p.state == State::Up)
            .map(|p| (p.my_discr, p.your_discr));
        discrs.is_some()
    });
    let (mine, theirs) = discrs.expect("our Up packet");

    let good =
        Forged { version: 1, state: State::AdminDown, mult: 3, length: 24, my: theirs, your: mine, len: 24, ttl: 255 };
    let kinds: Vec<(&str, Forged)> = vec![
        ("version", Forged { version: 2, ..good }),
        ("length", Forged { length: 20, ..good }),
        ("length", Forged { length: 48, ..good }),
        ("detect_mult_zero", Forged { mult: 0, ..good }),
        ("my_discr_zero", Forged { my: 0, ..good }),
        // IPv6 accepts hop limits down to keepalived 2.2.7's 64 (its peers send 64 by default;
        // docs/compat.md): below that the packet is a GTSM failure as in 2.2.7.
        ("ttl", Forged { ttl: if v6 { 63 } else { 254 }, ..good }),
        ("unknown_discr", Forged { your: mine ^ 0x5a5a_5a5a, ..good }),
        ("short", Forged { len: 20, length: 20, ..good }),
    ];
    let sender = Sender::open(&lab, v6);
    let mut sent: BTreeMap<&str, u64> = BTreeMap::new();
    for (name, f) in &kinds {
        for _ in 0..EACH {
            sender.send(f).expect("send");
            *sent.entry(name).or_default() += 1;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let flood = Forged { your: mine.wrapping_add(1), ..good };
    for _ in 0..FLOOD {
        let _ = sender.send(&flood);
    }
    std::thread::sleep(Duration::from_secs(1));

    // No session left Up.
    let log = lab.ka_log(1);
    assert!(!log.contains("Entering Down state") && !log.contains("Entering AdminDown"), "a session changed:\n{log}");
    assert_eq!(log_count(&lab, 1, "Entering Up state"), 2, "{log}");

    // Every kind counted.
    let bfd = pid_file(&lab, 1, "bfd").expect("our BFD child");
    let stats = lab.tmp_dir(1).join("keepalived_bfd.stats");
    signal(bfd, Signal::SIGUSR2);
    assert!(wait_for(Duration::from_secs(3), || stats.exists()), "no stats file");
    std::thread::sleep(Duration::from_millis(200));
    let text = std::fs::read_to_string(&stats).unwrap();
    let counted = drops(&text);
    eprintln!("sent {sent:?} + flood {FLOOD}\nstats:\n{text}");
    for (name, n) in &sent {
        let want = if *name == "unknown_discr" { n + FLOOD } else { *n };
        let got = counted.get(*name).copied().unwrap_or(0);
        // The flood may overrun the socket buffer: what was received is counted.
        let floor = if *name == "unknown_discr" { *n } else { want };
        assert!(got >= floor && got <= want, "{name}: {got} counted, {want} sent\n{text}");
    }
    lab.stop_captures();
}
