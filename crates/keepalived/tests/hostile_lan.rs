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
//! followed it. Needs root, ../shared/lab; skipped with a note otherwise.

mod common;

use common::{raw_hdrincl_socket_in, replayed_stats, send_datagram, usable, wait_for, Lab, OURS};
use keepalived_vrrp::types::{State, Stats};
use keepalived_wire::advert::Ipv4Advert;
use keepalived_wire::vrrp::{self, Addrs, Auth, ChecksumKind, Version};
use keepalived_wire::{ip_proto, ipv4};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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

struct Cluster {
    lab: Lab,
    conf: PathBuf,
    sock: socket2::Socket,
    vip: String,
}

impl Cluster {
    fn start(scripts: &Path, tag: &str, conf_text: &str, vip: &str) -> Cluster {
        let lab = Lab::up(scripts, tag, 3);
        let conf = lab.run.join("keepalived.conf");
        std::fs::write(&conf, conf_text).unwrap();
        lab.start_ka(2, OURS, &conf);
        lab.start_ka(1, OURS, &conf);
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
        const N: usize = 10;
        let before: Vec<(usize, Stats)> = [1, 2].iter().map(|&n| (self.transitions(n), self.stats(n).1)).collect();
        let sent = self.send(d, N, Duration::from_millis(10));
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
            if n == 1 {
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
    let Some(scripts) = usable(&["ip"]) else { return };
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
    let Some(scripts) = usable(&["ip"]) else { return };
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
    let Some(scripts) = usable(&["ip"]) else { return };
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
    let Some(scripts) = usable(&["ip"]) else { return };
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
    let Some(scripts) = usable(&["ip"]) else { return };
    let conf = pass_conf();
    let c = Cluster::start(&scripts, "hlt", &conf, "198.51.100.54");
    let f = Forge { auth: Auth::Pass(vrrp::auth_data(b"lab-pw1")), ..Forge::new(Version::V2, 54) };
    let mut t = Vec::new();
    c.hostile("type 2", &f.datagram(Damage::Type2), Some(|s| s.invalid_type_rcvd), "Invalid packet type", &mut t);
}
