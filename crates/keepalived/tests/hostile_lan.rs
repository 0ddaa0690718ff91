//! A hostile LAN: two keepalived-rs nodes (h1 master priority 150, h2
//! backup 100) on a lab bridge, and an attacker in h3 forging adverts with
//! the wire crate through a raw IP_HDRINCL socket (so TTL, checksum, auth,
//! length and version can all be wrong). Every forged class claims priority
//! 254: had it been accepted, the master would step down. Each class must
//! change nothing (VIP on h1 only, no "Entering" line on either node) and be
//! counted under keepalived's vrrp_stats name on both nodes, and logged once
//! (keepalived rate-limits these lines). A 100k-packet flood must leave the
//! cluster as it was. The positive control, a well-formed priority-254
//! advert, does make the master step down: the forging path is real.
//!
//! The counters come from replaying each daemon's event log
//! (KEEPALIVED_RS_EVENT_LOG) on the engine with the same configuration,
//! because the SIGUSR2 stats file does not yet carry the engine's counters;
//! the replayed state is checked against the daemon's to prove the replay
//! followed it. Needs root, ../shared/lab; fails otherwise.

use keepalived_testkit::kernel::Kernel;
use keepalived_testkit::netns::{raw_hdrincl_socket_in, send_datagram};
use keepalived_testkit::peers::{lab_scripts, Lab};
use keepalived_testkit::wait_for;
use keepalived_vrrp::types::{State, Stats};
use keepalived_wire::advert::Ipv4Advert;
use keepalived_wire::vrrp::{self, Addrs, Auth, ChecksumKind, Version};
use keepalived_wire::{ip_proto, ipv4};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const OURS: &str = env!("CARGO_BIN_EXE_keepalived");

const H1: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const H2: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
const ATTACKER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 3);
const MCAST: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

/// What to forge: a VRRP advert, then byte-level damage.
#[derive(Clone)]
struct Forge {
    version: Version,
    vrid: u8,
    priority: u8,
    /// v2: seconds; v3: centiseconds.
    adver_int: u16,
    auth: Auth,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    vip: Ipv4Addr,
}

#[derive(Clone, Copy)]
enum Damage {
    None,
    Checksum,
    /// Auth type byte set to this (checksum recomputed).
    AuthType(u8),
    /// Count field says 2 addresses, one present (checksum recomputed).
    Truncated,
    /// VRRP message cut to 6 bytes: not even a header.
    Runt,
    /// Type field 2 (checksum recomputed).
    Type2,
}

impl Forge {
    /// A well-formed priority-254 advert from the attacker to the group for
    /// VRID `vrid` announcing 198.51.100.`vrid` (the lab's VIP convention),
    /// advert interval 1 s, no authentication.
    fn new(version: Version, vrid: u8) -> Forge {
        Forge {
            version,
            vrid,
            priority: 254,
            adver_int: if version == Version::V2 { 1 } else { 100 },
            auth: Auth::None,
            src: ATTACKER,
            dst: MCAST,
            ttl: 255,
            vip: Ipv4Addr::new(198, 51, 100, vrid),
        }
    }

    fn datagram(&self, damage: Damage) -> Vec<u8> {
        let vips = [self.vip];
        let v = vrrp::Repr {
            version: self.version,
            vrid: self.vrid,
            priority: self.priority,
            max_adver_int: self.adver_int,
            auth: self.auth,
            addrs: Addrs::v4(&vips),
        };
        let mut ip = ipv4::Repr::vrrp(self.src, self.dst, ip_proto::VRRP, 0, v.buffer_len());
        ip.ttl = self.ttl;
        let a = Ipv4Advert { ip, ah: None, vrrp: v };
        let kind = a.checksum_kind(false);
        let mut buf = vec![0u8; a.buffer_len()];
        a.emit(&mut buf, kind).expect("emit");
        let fix = |b: &mut [u8], kind: ChecksumKind| {
            let c = vrrp::compute_checksum(&b[20..], kind);
            b[26..28].copy_from_slice(&c.to_be_bytes());
        };
        match damage {
            Damage::None => {}
            Damage::Checksum => buf[26] ^= 0x5a,
            Damage::AuthType(t) => {
                buf[24] = t;
                fix(&mut buf, kind);
            }
            Damage::Truncated => {
                buf[23] = 2;
                fix(&mut buf, kind);
            }
            Damage::Runt => buf.truncate(26),
            Damage::Type2 => {
                buf[20] = (buf[20] & 0xf0) | 2;
                fix(&mut buf, kind);
            }
        }
        buf
    }
}

/// Whether a forged class, though counted, is still processed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Accepted {
    No,
    /// keepalived >= 2.4 (and keepalived-rs) count an address-list
    /// mismatch and accept the advert; 2.2.7 drops it (FEATURES.md §6).
    AddrListMismatch,
}

struct Cluster {
    lab: Lab,
    conf: PathBuf,
    sock: socket2::Socket,
    vip: String,
}

impl Cluster {
    fn start(scripts: &Path, tag: &str, conf_text: &str, vip: &str) -> Cluster {
        Cluster::start_bin(scripts, tag, conf_text, vip, OURS)
    }

    /// [`Cluster::start`] with daemon binary `bin` (keepalived-rs or 2.2.7).
    fn start_bin(scripts: &Path, tag: &str, conf_text: &str, vip: &str, bin: &str) -> Cluster {
        let lab = Lab::up(scripts, tag, 3);
        let conf = lab.run.join("keepalived.conf");
        std::fs::write(&conf, conf_text).unwrap();
        lab.start_ka(2, bin, &conf);
        lab.start_ka(1, bin, &conf);
        let t0 = Instant::now();
        assert!(
            wait_for(Duration::from_secs(15), || lab.holders(vip) == [1]),
            "h1 never became the only master; h1 log:\n{}\nh2 log:\n{}",
            lab.ka_log(1),
            lab.ka_log(2)
        );
        eprintln!("[{tag}] h1 master after {} ms", t0.elapsed().as_millis());
        // Let h2 settle as backup (it hears h1's adverts).
        std::thread::sleep(Duration::from_millis(1200));
        let sock = raw_hdrincl_socket_in(&lab.ns(3), ip_proto::VRRP);
        Cluster { lab, conf, sock, vip: vip.to_string() }
    }

    fn transitions(&self, n: u32) -> usize {
        self.lab.ka_log(n).lines().filter(|l| l.contains("Entering")).count()
    }

    fn stats(&self, n: u32) -> (State, Stats) {
        let r = replayed_stats(&self.conf, &format!("h{n}"), &self.lab.events_path(n));
        (r[0].1, r[0].2)
    }

    fn send(&self, d: &[u8], count: usize, gap: Duration) -> usize {
        let mut sent = 0;
        for _ in 0..count {
            if send_datagram(&self.sock, ATTACKER, d).is_ok() {
                sent += 1;
            }
            if !gap.is_zero() {
                std::thread::sleep(gap);
            }
        }
        sent
    }

    /// Sends `count` copies of a forged class and checks nothing changed,
    /// the right counter moved by `count` on both nodes, and the log line.
    fn hostile(&self, name: &str, d: &[u8], counter: Option<fn(&Stats) -> u64>, log: &str, table: &mut Vec<String>) {
        let send = |n| self.send(d, n, Duration::from_millis(10));
        self.hostile_with(name, &send, counter, log, Accepted::No, table);
    }

    /// [`Cluster::hostile`] with any sender (`send(n)` sends n copies and
    /// says how many went out); `accepted`: the class is counted but still
    /// processed (so the master's advert_rcvd may move).
    fn hostile_with(
        &self,
        name: &str,
        send: &dyn Fn(usize) -> usize,
        counter: Option<fn(&Stats) -> u64>,
        log: &str,
        accepted: Accepted,
        table: &mut Vec<String>,
    ) {
        const N: usize = 10;
        let before: Vec<(usize, Stats)> = [1, 2].iter().map(|&n| (self.transitions(n), self.stats(n).1)).collect();
        let sent = send(N);
        assert_eq!(sent, N, "{name}: the attacker could not send");
        std::thread::sleep(Duration::from_millis(300));
        let mut row = format!("{name:22}");
        for (k, n) in [1u32, 2].into_iter().enumerate() {
            assert_eq!(self.transitions(n), before[k].0, "{name}: h{n} changed state; log:\n{}", self.lab.ka_log(n));
            let (state, after) = self.stats(n);
            let want = if n == 1 { State::Master } else { State::Backup };
            assert_eq!(state, want, "{name}: the replay of h{n}'s event log ended in {state:?}");
            let delta = counter.map(|c| c(&after) - c(&before[k].1));
            if let Some(d) = delta {
                assert_eq!(d, N as u64, "{name}: h{n} counted {d} of {N}");
            }
            // The master hears no genuine adverts: any accepted one is forged.
            if n == 1 && accepted == Accepted::No {
                assert_eq!(after.advert_rcvd, before[k].1.advert_rcvd, "{name}: h1 accepted a forged advert");
            }
            row += &format!("  h{n}: {:>3}", delta.map_or("-".to_string(), |d| d.to_string()));
        }
        assert_eq!(self.lab.holders(&self.vip), [1], "{name}: the VIP moved");
        if !log.is_empty() {
            for n in [1, 2] {
                assert!(self.lab.ka_log(n).contains(log), "{name}: h{n} did not log `{log}`:\n{}", self.lab.ka_log(n));
            }
        }
        table.push(row);
    }

    /// A 100k flood of `d`: the cluster stays as it was; prints the rate.
    fn flood(&self, name: &str, d: &[u8], counter: fn(&Stats) -> u64, table: &mut Vec<String>) {
        const N: usize = 100_000;
        let before = [self.transitions(1), self.transitions(2)];
        let c0 = counter(&self.stats(1).1);
        let t0 = Instant::now();
        let sent = self.send(d, N, Duration::ZERO);
        let took = t0.elapsed();
        std::thread::sleep(Duration::from_millis(1500));
        for (k, n) in [1u32, 2].into_iter().enumerate() {
            assert_eq!(self.transitions(n), before[k], "{name}: h{n} changed state; log:\n{}", self.lab.ka_log(n));
            assert!(self.lab.ka_vrrp_pid(n).is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists()));
        }
        assert_eq!(self.lab.holders(&self.vip), [1], "{name}: the VIP moved");
        let (state, s) = self.stats(1);
        assert_eq!(state, State::Master);
        let counted = counter(&s) - c0;
        assert!(counted > 0 && counted <= sent as u64, "{name}: counted {counted} of {sent}");
        eprintln!(
            "flood: {sent} packets in {} ms ({:.0}/s); h1 counted {counted} (the rest overflowed the socket buffer)",
            took.as_millis(),
            sent as f64 / took.as_secs_f64()
        );
        table.push(format!("{name:22}  h1: {counted} of {sent}"));
    }

    /// The positive control: a well-formed higher-priority advert makes the
    /// master step down; then h1 takes the VIP back (master-down timer).
    fn control(&self, d: &[u8]) {
        let before = self.transitions(1);
        let t0 = Instant::now();
        self.send(d, 1, Duration::ZERO);
        assert!(
            wait_for(Duration::from_secs(3), || self.lab.ka_log(1).lines().filter(|l| l.contains("Entering")).count()
                > before
                && self
                    .lab
                    .ka_log(1)
                    .lines()
                    .rev()
                    .find(|l| l.contains("Entering"))
                    .is_some_and(|l| l.contains("BACKUP"))),
            "positive control: h1 did not step down for a priority-254 advert; log:\n{}",
            self.lab.ka_log(1)
        );
        let stepped = t0.elapsed();
        assert!(wait_for(Duration::from_secs(2), || !self.lab.has_addr(1, &self.vip)), "h1 kept the VIP as backup");
        assert!(wait_for(Duration::from_secs(8), || self.lab.holders(&self.vip) == [1]), "h1 did not come back");
        eprintln!(
            "positive control: h1 stepped down after {} ms, master again after {} ms",
            stepped.as_millis(),
            t0.elapsed().as_millis()
        );
    }
}

const GLOBAL: &str = "global_defs {\n router_id hostile\n vrrp_garp_master_delay 1\n vrrp_garp_master_repeat 1\n \
                      vrrp_garp_master_refresh 0\n}\n";

/// The lab's PASS instance (VRID 54, password lab-pw1), h1 150 / h2 100.
fn pass_conf() -> String {
    format!(
        "{GLOBAL}vrrp_instance VI_pass {{\n state BACKUP\n interface eth0\n virtual_router_id 54\n version 2\n \
         @h1 priority 150\n @h2 priority 100\n advert_int 1\n authentication {{\n  auth_type PASS\n  auth_pass lab-pw1\n }}\n \
         virtual_ipaddress {{\n  198.51.100.54/24\n }}\n}}\n"
    )
}

#[test]
fn forged_v2_pass_adverts_change_nothing_and_are_counted() {
    let scripts = lab_scripts(&["ip"]);
    let conf = pass_conf();
    let c = Cluster::start(&scripts, "hlp", &conf, "198.51.100.54");
    let good = Forge { auth: Auth::Pass(vrrp::auth_data(b"lab-pw1")), ..Forge::new(Version::V2, 54) };
    let with = |f: &dyn Fn(&mut Forge)| {
        let mut x = good.clone();
        f(&mut x);
        x
    };
    let mut t = Vec::new();
    c.hostile(
        "TTL 64",
        &with(&|f| f.ttl = 64).datagram(Damage::None),
        Some(|s| s.ip_ttl_err),
        "invalid TTL/HL",
        &mut t,
    );
    c.hostile("bad checksum", &good.datagram(Damage::Checksum), Some(|s| s.chk_err), "Invalid VRRPv2 checksum", &mut t);
    c.hostile(
        "auth type 7",
        &good.datagram(Damage::AuthType(7)),
        Some(|s| s.invalid_authtype),
        "Invalid auth type",
        &mut t,
    );
    c.hostile(
        "missing auth (type 0)",
        &with(&|f| f.auth = Auth::None).datagram(Damage::None),
        Some(|s| s.authtype_mismatch),
        "received a 0 auth",
        &mut t,
    );
    c.hostile(
        "bad password",
        &with(&|f| f.auth = Auth::Pass(vrrp::auth_data(b"guess"))).datagram(Damage::None),
        Some(|s| s.auth_failure),
        "invalid passwd",
        &mut t,
    );
    c.hostile(
        "version 3",
        &with(&|f| {
            f.version = Version::V3;
            f.auth = Auth::None;
            f.adver_int = 100;
        })
        .datagram(Damage::None),
        Some(|s| s.vers_err),
        "wrong VRRP version",
        &mut t,
    );
    // Dropped and logged; keepalived 2.2.7 never increments
    // advert_interval_err (vrrp.c drops without counting), keepalived-rs
    // does: the counter is printed, not asserted.
    c.hostile(
        "advert interval 3 s",
        &with(&|f| f.adver_int = 3).datagram(Damage::None),
        None,
        "advertisement interval mismatch",
        &mut t,
    );
    t.push(format!("  (advert_interval_err on h1: {})", c.stats(1).1.advert_interval_err));
    c.hostile(
        "truncated (count 2)",
        &good.datagram(Damage::Truncated),
        Some(|s| s.packet_len_err),
        "invalid length",
        &mut t,
    );
    // Not even a VRRP header: dropped before the engine, counted by the
    // shell in its rate-limited "dropped" line.
    c.hostile("runt (6 bytes)", &good.datagram(Damage::Runt), None, "dropped an unreadable VRRP packet", &mut t);
    // Another VRID: not ours, silently ignored (keepalived logs it only
    // with log_unknown_vrids, see unknown_vrids_are_logged_when_asked).
    c.hostile("VRID 99", &with(&|f| f.vrid = 99).datagram(Damage::None), None, "", &mut t);
    c.flood("flood: bad checksum", &good.datagram(Damage::Checksum), |s| s.chk_err, &mut t);
    eprintln!("forged class (VRRPv2 PASS)  counted by h1, h2 (10 sent)\n{}", t.join("\n"));
    c.control(&good.datagram(Damage::None));
}

#[test]
fn forged_v3_adverts_change_nothing_and_are_counted() {
    let scripts = lab_scripts(&["ip"]);
    let conf = format!(
        "{GLOBAL}vrrp_instance VI_v3 {{\n state BACKUP\n interface eth0\n virtual_router_id 52\n version 3\n \
         @h1 priority 150\n @h2 priority 100\n advert_int 1\n virtual_ipaddress {{\n  198.51.100.52/24\n }}\n}}\n"
    );
    let c = Cluster::start(&scripts, "hl3", &conf, "198.51.100.52");
    let good = Forge::new(Version::V3, 52);
    let with = |f: &dyn Fn(&mut Forge)| {
        let mut x = good.clone();
        f(&mut x);
        x
    };
    let mut t = Vec::new();
    c.hostile("TTL 1", &with(&|f| f.ttl = 1).datagram(Damage::None), Some(|s| s.ip_ttl_err), "invalid TTL/HL", &mut t);
    c.hostile("bad checksum", &good.datagram(Damage::Checksum), Some(|s| s.chk_err), "Invalid VRRPv3 checksum", &mut t);
    // A v2-style checksum (no pseudo-header) on a v3 advert is wrong too.
    let mut plain = good.datagram(Damage::None);
    let ck = vrrp::compute_checksum(&plain[20..], ChecksumKind::Plain);
    plain[26..28].copy_from_slice(&ck.to_be_bytes());
    c.hostile("v2-style checksum", &plain, Some(|s| s.chk_err), "Invalid VRRPv3 checksum", &mut t);
    c.hostile(
        "version 2",
        &with(&|f| {
            f.version = Version::V2;
            f.adver_int = 1;
        })
        .datagram(Damage::None),
        Some(|s| s.vers_err),
        "wrong VRRP version",
        &mut t,
    );
    c.hostile(
        "truncated (count 2)",
        &good.datagram(Damage::Truncated),
        Some(|s| s.packet_len_err),
        "invalid length",
        &mut t,
    );
    c.hostile("type 2", &good.datagram(Damage::Type2), Some(|s| s.invalid_type_rcvd), "Invalid packet type", &mut t);
    eprintln!("forged class (VRRPv3)  counted by h1, h2 (10 sent)\n{}", t.join("\n"));
    c.control(&good.datagram(Damage::None));
}

#[test]
fn unicast_instance_ignores_a_higher_priority_from_a_non_peer() {
    let scripts = lab_scripts(&["ip"]);
    let conf = format!(
        "{GLOBAL}vrrp_instance VI_unicast {{\n state BACKUP\n interface eth0\n virtual_router_id 56\n version 3\n \
         @h1 priority 150\n @h2 priority 100\n advert_int 1\n check_unicast_src\n @h1 unicast_src_ip 198.51.100.1\n \
         @h2 unicast_src_ip 198.51.100.2\n unicast_peer {{\n  @^h1 198.51.100.1\n  @^h2 198.51.100.2\n }}\n \
         virtual_ipaddress {{\n  198.51.100.56/24\n }}\n}}\n"
    );
    let c = Cluster::start(&scripts, "hlu", &conf, "198.51.100.56");
    let to_h1 = Forge { dst: H1, ..Forge::new(Version::V3, 56) };
    let mut t = Vec::new();
    let before = (c.transitions(1), c.transitions(2));
    let sent = c.send(&to_h1.datagram(Damage::None), 10, Duration::from_millis(10))
        + c.send(&Forge { dst: H2, ..to_h1.clone() }.datagram(Damage::None), 10, Duration::from_millis(10));
    assert_eq!(sent, 20);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!((c.transitions(1), c.transitions(2)), before, "a non-peer advert changed a state");
    assert_eq!(c.lab.holders(&c.vip), [1], "the VIP moved");
    for n in [1, 2] {
        assert!(
            c.lab.ka_log(n).contains("unicast source address 198.51.100.3 not a unicast peer"),
            "h{n} did not log the non-peer:\n{}",
            c.lab.ka_log(n)
        );
    }
    t.push("non-peer priority 254: dropped, logged on h1 and h2".to_string());
    eprintln!("{}", t.join("\n"));
    // The same advert spoofed from the peer h2 is accepted.
    c.control(&Forge { src: H2, ..to_h1 }.datagram(Damage::None));
}

/// keepalived logs "Unknown VRID(n) received on interface(eth0). ignoring..."
/// with `log_unknown_vrids` (the kernel VRID filter is then left off).
#[test]
fn unknown_vrids_are_logged_when_asked() {
    let scripts = lab_scripts(&["ip"]);
    let conf = "global_defs {\n log_unknown_vrids\n}\nvrrp_instance VI_1 {\n state BACKUP\n interface eth0\n \
                virtual_router_id 52\n version 3\n @h1 priority 150\n @h2 priority 100\n advert_int 1\n \
                virtual_ipaddress {\n  198.51.100.52/24\n }\n}\n";
    let c = Cluster::start(&scripts, "hlv", conf, "198.51.100.52");
    let f = Forge { vip: Ipv4Addr::new(198, 51, 100, 52), ..Forge::new(Version::V3, 99) };
    c.send(&f.datagram(Damage::None), 3, Duration::from_millis(10));
    std::thread::sleep(Duration::from_millis(300));
    assert!(c.lab.ka_log(1).contains("Unknown VRID(99) received on interface(eth0)"), "{}", c.lab.ka_log(1));
}

/// keepalived checks a VRRPv2 advert's auth type, password and interval
/// before its type (vrrp.c vrrp_check_packet), so a type-2 advert with the
/// right password counts invalid_type_rcvd, not an auth mismatch (the
/// decoder keeps the auth of an advert whose type is wrong).
#[test]
fn v2_pass_advert_of_type_2_counts_invalid_type() {
    let scripts = lab_scripts(&["ip"]);
    let conf = pass_conf();
    let c = Cluster::start(&scripts, "hlt", &conf, "198.51.100.54");
    let f = Forge { auth: Auth::Pass(vrrp::auth_data(b"lab-pw1")), ..Forge::new(Version::V2, 54) };
    let mut t = Vec::new();
    c.hostile("type 2", &f.datagram(Damage::Type2), Some(|s| s.invalid_type_rcvd), "Invalid packet type", &mut t);
}

// ---------------------------------------------------------------- IPv6

const MCAST6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
const VIP6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x53);

/// The attacker's IPv6 side: a raw VRRP socket in h3 (the kernel adds the
/// IPv6 header: hop limit from IPV6_MULTICAST_HOPS, source h3's
/// link-local; checksum left to us) and that link-local address.
struct Attacker6 {
    sock: socket2::Socket,
    ifindex: u32,
    src: Ipv6Addr,
}

impl Attacker6 {
    fn open(lab: &Lab) -> Attacker6 {
        let path = format!("/run/netns/{}", lab.ns(3));
        let (sock, ifindex) = std::thread::spawn(move || {
            let f = std::fs::File::open(&path).expect("open the netns");
            nix::sched::setns(std::os::fd::AsFd::as_fd(&f), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            let s = socket2::Socket::new(
                socket2::Domain::IPV6,
                socket2::Type::RAW,
                Some(socket2::Protocol::from(i32::from(ip_proto::VRRP))),
            )
            .expect("raw IPv6 socket");
            let ifindex = nix::net::if_::if_nametoindex("eth0").expect("eth0 in h3");
            s.set_multicast_if_v6(ifindex).expect("IPV6_MULTICAST_IF");
            s.set_multicast_loop_v6(false).expect("IPV6_MULTICAST_LOOP");
            (s, ifindex)
        })
        .join()
        .expect("socket thread");
        let addrs = Kernel::named(&lab.ns(3)).addresses(Some("eth0"));
        let link_local = |a: &IpAddr| matches!(a, IpAddr::V6(v) if v.segments()[0] & 0xffc0 == 0xfe80);
        let src = addrs
            .iter()
            .find_map(|a| match a.addr {
                IpAddr::V6(v) if link_local(&a.addr) => Some(v),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no link-local address on h3 eth0: {addrs:?}"));
        Attacker6 { sock, ifindex, src }
    }

    /// Sends `msg` `count` times with hop limit `hl` to ff02::12.
    fn send(&self, msg: &[u8], hl: u8, count: usize) -> usize {
        self.sock.set_multicast_hops_v6(u32::from(hl)).expect("IPV6_MULTICAST_HOPS");
        let to = std::net::SocketAddrV6::new(MCAST6, 0, 0, self.ifindex);
        let mut sent = 0;
        for _ in 0..count {
            if self.sock.send_to(msg, &to.into()).is_ok() {
                sent += 1;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        sent
    }

    /// A VRRPv3 advert from the attacker for VRID `vrid`, priority `prio`,
    /// announcing `vips`, 1 s interval, then `damage` (the checksum is
    /// recomputed after every damage but `Checksum`).
    fn message(&self, vrid: u8, prio: u8, vips: &[Ipv6Addr], damage: Damage) -> Vec<u8> {
        let r = vrrp::Repr {
            version: Version::V3,
            vrid,
            priority: prio,
            max_adver_int: 100,
            auth: Auth::None,
            addrs: Addrs::v6(vips),
        };
        let kind = ChecksumKind::ipv6(self.src, MCAST6);
        let mut b = vec![0u8; r.buffer_len()];
        r.emit_into(&mut b, kind).expect("emit");
        match damage {
            Damage::None | Damage::AuthType(_) => {}
            Damage::Checksum => b[6] ^= 0x5a,
            Damage::Truncated => b[3] = 2,
            Damage::Runt => b.truncate(6),
            Damage::Type2 => b[0] = (b[0] & 0xf0) | 2,
        }
        if !matches!(damage, Damage::Checksum | Damage::Runt) {
            let c = vrrp::compute_checksum(&b, kind);
            b[6..8].copy_from_slice(&c.to_be_bytes());
        }
        b
    }
}

/// The IPv6 classes of forged adverts (keepalived-rs decodes IPv6 adverts in
/// the engine's decode module, so these reach the instance's counters like
/// IPv4 ones): hop limit, checksum, version, type, length and address list
/// are each counted on both nodes and change nothing; another VRID is
/// ignored. Counters as for IPv4 (replayed event logs); keepalived 2.2.7 is
/// not run here.
#[test]
fn forged_ipv6_adverts_change_nothing_and_are_counted() {
    let scripts = lab_scripts(&["ip"]);
    let c = Cluster::start(&scripts, "hl6", &v6_conf(), "2001:db8::53");
    let a = Attacker6::open(&c.lab);
    let good = |d: Damage| a.message(53, 254, &[VIP6], d);
    let mut t = Vec::new();
    let mut class = |name: &str, msg: Vec<u8>, hl: u8, counter: Option<fn(&Stats) -> u64>, log: &str, acc| {
        c.hostile_with(name, &|n| a.send(&msg, hl, n), counter, log, acc, &mut t);
    };
    class("hop limit 64", good(Damage::None), 64, Some(|s| s.ip_ttl_err), "invalid TTL/HL", Accepted::No);
    class("hop limit 1", good(Damage::None), 1, Some(|s| s.ip_ttl_err), "invalid TTL/HL", Accepted::No);
    // keepalived 2.2.7 sets IPV6_CHECKSUM on its socket: the kernel drops
    // these before it (no counter); keepalived-rs checks and counts them.
    class("bad checksum", good(Damage::Checksum), 255, Some(|s| s.chk_err), "Invalid VRRPv3 checksum", Accepted::No);
    let mut v2 = good(Damage::None);
    v2[0] = 0x21;
    let v2 = {
        let c = vrrp::compute_checksum(&v2, ChecksumKind::ipv6(a.src, MCAST6));
        v2[6..8].copy_from_slice(&c.to_be_bytes());
        v2
    };
    class("version 2", v2, 255, Some(|s| s.vers_err), "wrong VRRP version", Accepted::No);
    let v4 = {
        let mut b = good(Damage::None);
        b[0] = 0x41;
        let c = vrrp::compute_checksum(&b, ChecksumKind::ipv6(a.src, MCAST6));
        b[6..8].copy_from_slice(&c.to_be_bytes());
        b
    };
    class("version 4", v4, 255, Some(|s| s.vers_err), "wrong VRRP version", Accepted::No);
    class("type 2", good(Damage::Type2), 255, Some(|s| s.invalid_type_rcvd), "Invalid packet type", Accepted::No);
    class(
        "count 2, one address",
        good(Damage::Truncated),
        255,
        Some(|s| s.packet_len_err),
        "invalid length",
        Accepted::No,
    );
    // Counted and logged, then processed (priority 1: nothing to win).
    class(
        "address list (none)",
        a.message(53, 1, &[], Damage::None),
        255,
        Some(|s| s.addr_list_err),
        "expected 1 VIPs but received 0",
        Accepted::AddrListMismatch,
    );
    class("runt (6 bytes)", good(Damage::Runt), 255, None, "", Accepted::No);
    class("VRID 99", a.message(99, 254, &[VIP6], Damage::None), 255, None, "", Accepted::No);
    eprintln!("forged class (VRRPv3 IPv6)  counted by h1, h2 (10 sent)\n{}", t.join("\n"));
    // Positive control: a well-formed priority-254 IPv6 advert is obeyed.
    let before = c.transitions(1);
    a.send(&good(Damage::None), 255, 1);
    assert!(
        wait_for(Duration::from_secs(3), || c.transitions(1) > before
            && c.lab.ka_log(1).lines().rev().find(|l| l.contains("Entering")).is_some_and(|l| l.contains("BACKUP"))),
        "positive control: h1 did not step down for a priority-254 IPv6 advert; log:\n{}",
        c.lab.ka_log(1)
    );
    assert!(wait_for(Duration::from_secs(8), || c.lab.holders(&c.vip) == [1]), "h1 did not come back");
}

/// The IPv6 instance (VRID 53, 2001:db8::53), h1 150 / h2 100.
fn v6_conf() -> String {
    format!(
        "{GLOBAL}vrrp_instance VI_v6 {{\n state BACKUP\n interface eth0\n virtual_router_id 53\n version 3\n \
         @h1 priority 150\n @h2 priority 100\n advert_int 1\n virtual_ipaddress {{\n  2001:db8::53/64\n }}\n}}\n"
    )
}

/// keepalived 2.2.7's counters from its SIGUSR2 stats file (written to
/// /tmp/keepalived.stats by the VRRP child): advert_rcvd, packet_len_err,
/// ip_ttl_err, invalid_type_rcvd, addr_list_err. (vers_err and chk_err are
/// not in the file.)
fn ka227_stats(lab: &Lab, n: u32) -> [u64; 5] {
    let file = std::path::Path::new("/tmp/keepalived.stats");
    let _ = std::fs::remove_file(file);
    let pid = lab.ka_parent_pid(n).expect("keepalived 2.2.7 pid");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGUSR2).expect("SIGUSR2");
    let mut text = String::new();
    assert!(
        wait_for(Duration::from_secs(3), || {
            text = std::fs::read_to_string(file).unwrap_or_default();
            text.contains("Priority Zero:") && text.trim_end().ends_with(|c: char| c.is_ascii_digit())
        }),
        "h{n}: no stats file"
    );
    let mut vals = text.lines().filter_map(|l| l.rsplit_once(": ").and_then(|(_, v)| v.trim().parse::<u64>().ok()));
    // Received, Sent, Became master, Released master, Length, TTL, Invalid Type, Interval, Address List
    let v: Vec<u64> = vals.by_ref().take(9).collect();
    [v[0], v[4], v[5], v[6], v[8]]
}

/// The same forged IPv6 classes at keepalived 2.2.7 (/usr/sbin/keepalived)
/// in h1 and h2: what its stats file shows per class (10 sent), next to
/// what keepalived-rs counts (forged_ipv6_adverts_change_nothing_and_are_counted).
/// The classes whose counter 2.2.7 prints must agree; the rest are printed.
#[test]
fn keepalived_227_counts_forged_ipv6_adverts_the_same() {
    const KA227: &str = "/usr/sbin/keepalived";
    let scripts = lab_scripts(&["ip", KA227]);
    let c = Cluster::start_bin(&scripts, "hk6", &v6_conf(), "2001:db8::53", KA227);
    let a = Attacker6::open(&c.lab);
    let good = |d: Damage| a.message(53, 254, &[VIP6], d);
    let fix = |mut b: Vec<u8>, byte0: u8| {
        b[0] = byte0;
        let ck = vrrp::compute_checksum(&b, ChecksumKind::ipv6(a.src, MCAST6));
        b[6..8].copy_from_slice(&ck.to_be_bytes());
        b
    };
    // (class, message, hop limit, index of the counter that must move by 10 in [rcvd, len, ttl, type, addr])
    let classes: Vec<(&str, Vec<u8>, u8, Option<usize>)> = vec![
        ("hop limit 64", good(Damage::None), 64, Some(2)),
        ("bad checksum", good(Damage::Checksum), 255, None),
        ("version 4", fix(good(Damage::None), 0x41), 255, None),
        ("type 2", good(Damage::Type2), 255, Some(3)),
        ("count 2, one address", good(Damage::Truncated), 255, Some(1)),
        ("address list (none)", a.message(53, 1, &[], Damage::None), 255, Some(4)),
    ];
    let mut table = Vec::new();
    for (name, msg, hl, want) in classes {
        let before = [ka227_stats(&c.lab, 1), ka227_stats(&c.lab, 2)];
        let t_before = (c.transitions(1), c.transitions(2));
        assert_eq!(a.send(&msg, hl, 10), 10, "{name}: the attacker could not send");
        std::thread::sleep(Duration::from_millis(300));
        let after = [ka227_stats(&c.lab, 1), ka227_stats(&c.lab, 2)];
        assert_eq!((c.transitions(1), c.transitions(2)), t_before, "{name}: 2.2.7 changed state");
        assert_eq!(c.lab.holders(&c.vip), [1], "{name}: the VIP moved under 2.2.7");
        let mut row = format!("{name:22}");
        for k in 0..2 {
            let d: Vec<u64> = (0..5).map(|i| after[k][i] - before[k][i]).collect();
            row += &format!(
                "  h{}: rcvd {:>2} len {:>2} ttl {:>2} type {:>2} addr {:>2}",
                k + 1,
                d[0],
                d[1],
                d[2],
                d[3],
                d[4]
            );
            if let Some(i) = want {
                assert_eq!(d[i], 10, "{name}: 2.2.7 on h{} counted {:?}", k + 1, d);
            }
        }
        table.push(row);
    }
    eprintln!("keepalived 2.2.7, forged IPv6 classes (10 sent)\n{}", table.join("\n"));
}

/// The per-instance counters of keepalived-rs in host N, recomputed by
/// replaying its event log (KEEPALIVED_RS_EVENT_LOG) on the same engine and
/// configuration: the stats file (SIGUSR2) does not carry the engine's
/// counters yet. Also the replayed state, to check the replay followed the
/// daemon.
pub fn replayed_stats(
    conf: &Path,
    config_id: &str,
    events: &Path,
) -> Vec<(String, keepalived_vrrp::types::State, keepalived_vrrp::types::Stats)> {
    let parsed = keepalived_config::parse_file(
        conf.to_str().unwrap(),
        &keepalived_config::ParseOptions { config_id: Some(config_id.to_string()), ..Default::default() },
    );
    let mut router = keepalived_vrrp::router::Router::from_config(&parsed.config).expect("engine config");
    let f = std::fs::File::open(events).unwrap_or_else(|e| panic!("{}: {e}", events.display()));
    let lines = keepalived_vrrp::replay::parse_log(std::io::BufReader::new(f)).expect("event log");
    let _ = keepalived_vrrp::replay::replay_lines(&mut router, &lines);
    router.instances().iter().map(|i| (i.config.name.clone(), i.state, i.stats)).collect()
}
