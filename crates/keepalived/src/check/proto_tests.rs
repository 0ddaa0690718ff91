//! SMTP_CHECK, DNS_CHECK, UDP_CHECK and PING_CHECK attempts against real
//! servers (aiosmtpd, dnsmasq, socat, the kernel's ICMP echo) and small
//! responders run by the tests, each in a fresh network namespace.

use super::*;
use crate::check::attempt_tests::drive;
use crate::check::tcp::TcpTarget;
use keepalived_config::lvs::model::UdpCheck;
use keepalived_testkit::in_netns;
use keepalived_testkit::netns::lo_up;
use keepalived_testkit::run;
use keepalived_testkit::servers::{spawn, wait_listening, Server};
use mio::Poll;
use std::io::{BufRead, BufReader, Write as _};
use std::net::{TcpListener, UdpSocket};

/// Run one attempt to its end: its result, or `None` when it was not run
/// (rescheduled).
fn attempt(begun: Begin<Kind>, timeout: Duration) -> Option<CheckOutcome> {
    let mut poll = Poll::new().unwrap();
    let mut probes = ProtoProbes::new(100, 4);
    let labels =
        Labels { rs: "[127.0.0.1]:tcp:25".into(), vs: "[10.0.0.1]:tcp:25".into(), rs_pair: "[127.0.0.1]:25".into() };
    match begun {
        Begin::Done(r) => return Some(r),
        Begin::Reschedule => return None,
        Begin::Pending(k) => probes.watch(poll.registry(), 1u8, k, labels, timeout).unwrap(),
    }
    let give_up = Instant::now() + timeout * 3 + Duration::from_secs(5);
    let r = drive(
        &mut poll,
        give_up,
        &mut probes,
        |p, reg, token| p.on_ready(reg, token).filter(|(tag, _)| *tag == 1),
        |p, reg| p.expired(reg, Instant::now()).pop(),
    );
    Some(r.1)
}

fn target(dst: &str) -> TcpTarget {
    TcpTarget { dst: dst.parse().unwrap(), bindto: None, bind_if: None, fwmark: None }
}

fn failed(text: &str) -> Option<CheckOutcome> {
    Some(failure(Some(text.to_string())))
}

// ------------------------------------------------------------------ SMTP

fn smtp(dst: &str, timeout: Duration) -> Option<CheckOutcome> {
    let l = Labels { rs_pair: "[127.0.0.1]:25".into(), ..Labels::default() };
    let begun = match smtp::Smtp::start(&target(dst), "smtpchecker.keepalived.org", &l) {
        Begin::Pending(s) => Begin::Pending(Kind::Smtp(s)),
        Begin::Done(r) => Begin::Done(r),
        Begin::Reschedule => Begin::Reschedule,
    };
    attempt(begun, timeout)
}

/// aiosmtpd (refusing HELO with 550 when `refuse`).
fn aiosmtpd(port: u16, refuse: bool) -> Server {
    let script = format!(
        "import asyncio\nfrom aiosmtpd.controller import Controller\n\
         class H:\n    async def handle_HELO(self, server, session, envelope, hostname):\n        \
         return '550 go away' if {refuse} else '250 pleased'\n\
         c = Controller(H(), hostname='127.0.0.1', port={port})\nc.start()\nimport time\ntime.sleep(3600)\n",
        refuse = if refuse { "True" } else { "False" }
    );
    let s = spawn("/usr/bin/python3", &["-c", &script]);
    wait_listening(&format!("127.0.0.1:{port}"));
    s
}

/// A responder speaking the given lines, one per line it reads after the
/// first (sent at once).
fn scripted(l: TcpListener, lines: &'static [&'static str]) {
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { return };
            let mut r = BufReader::new(c.try_clone().unwrap());
            for (i, line) in lines.iter().enumerate() {
                if i > 0 {
                    let mut buf = String::new();
                    if r.read_line(&mut buf).unwrap_or(0) == 0 {
                        break;
                    }
                }
                let _ = c.write_all(line.as_bytes());
            }
        }
    });
}

#[test]
fn smtp_aiosmtpd_succeeds_and_a_refused_helo_fails() {
    in_netns("check::proto::tests::smtp_aiosmtpd_succeeds_and_a_refused_helo_fails", &[], || {
        lo_up();
        keepalived_testkit::prereq::require_python("aiosmtpd");
        let _ok = aiosmtpd(2525, false);
        assert_eq!(smtp("127.0.0.1:2525", Duration::from_secs(2)), Some(CheckOutcome::Success));
        let _no = aiosmtpd(2526, true);
        assert_eq!(
            smtp("127.0.0.1:2526", Duration::from_secs(2)),
            failed("Bad HELO response from server [127.0.0.1]:2526")
        );
    });
}

#[test]
fn smtp_failures() {
    in_netns("check::proto::tests::smtp_failures", &[], || {
        lo_up();
        // Refused.
        assert_eq!(smtp("127.0.0.1:9", Duration::from_secs(1)), failed("Could not connect to server [127.0.0.1]:9"));
        // Accepts, never sends a banner: the read times out.
        let silent = TcpListener::bind("127.0.0.1:2601").unwrap();
        let start = Instant::now();
        assert_eq!(
            smtp("127.0.0.1:2601", Duration::from_millis(600)),
            failed("Read timeout from server [127.0.0.1]:2601")
        );
        assert!(start.elapsed() >= Duration::from_millis(550));
        drop(silent);
        // Closes at once.
        let l = TcpListener::bind("127.0.0.1:2602").unwrap();
        std::thread::spawn(move || l.incoming().for_each(drop));
        assert_eq!(smtp("127.0.0.1:2602", Duration::from_secs(2)), failed("Read failure from server [127.0.0.1]:2602"));
        // A multi-line banner is a bad banner in 2.2.7.
        scripted(TcpListener::bind("127.0.0.1:2603").unwrap(), &["220-hello\r\n220 there\r\n"]);
        assert_eq!(
            smtp("127.0.0.1:2603", Duration::from_secs(2)),
            failed("Bad greeting banner from server [127.0.0.1]:2603")
        );
        // The whole dialogue with a QUIT answered by closing is fine only
        // once a line came: here the server closes after 250.
        scripted(TcpListener::bind("127.0.0.1:2604").unwrap(), &["220 hi\r\n", "250 ok\r\n"]);
        assert_eq!(smtp("127.0.0.1:2604", Duration::from_secs(2)), failed("Read failure from server [127.0.0.1]:2604"));
        scripted(TcpListener::bind("127.0.0.1:2605").unwrap(), &["220 hi\r\n", "250 ok\r\n", "221 bye\r\n"]);
        assert_eq!(smtp("127.0.0.1:2605", Duration::from_secs(2)), Some(CheckOutcome::Success));
    });
}

// ------------------------------------------------------------------ DNS

fn dns(dst: &str, qtype: &str, name: &str, timeout: Duration) -> Option<CheckOutcome> {
    let begun = match dns::Dns::start(&target(dst), qtype, name, "[127.0.0.1]:udp:53") {
        Begin::Pending(s) => Begin::Pending(Kind::Dns(s)),
        Begin::Done(r) => Begin::Done(r),
        Begin::Reschedule => Begin::Reschedule,
    };
    attempt(begun, timeout)
}

/// A UDP responder answering each query with `answers(query)`.
fn responder(addr: &str, answers: fn(&[u8]) -> Vec<Vec<u8>>) {
    let s = UdpSocket::bind(addr).unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            for a in answers(&buf[..n]) {
                let _ = s.send_to(&a, from);
            }
        }
    });
}

/// The query turned into a reply header with `rcode`, id changed by `delta`.
fn reply(q: &[u8], rcode: u8, delta: u16) -> Vec<u8> {
    let mut r = q.to_vec();
    let id = u16::from_be_bytes([q[0], q[1]]).wrapping_add(delta);
    r[..2].copy_from_slice(&id.to_be_bytes());
    r[2] = 0x81;
    r[3] = 0x80 | rcode;
    r
}

#[test]
fn dns_against_dnsmasq() {
    in_netns("check::proto::tests::dns_against_dnsmasq", &["dnsmasq"], || {
        lo_up();
        // The upstream of fail.test answers SERVFAIL.
        responder("127.0.0.1:5399", |q| vec![reply(q, 2, 0)]);
        let _d = spawn(
            "dnsmasq",
            &[
                "-k",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                "--listen-address=127.0.0.1",
                "--port=5353",
                "--user=root",
                "--pid-file=/tmp/keepalived-rs-dns-test.pid",
                "--address=/up.test/10.1.1.1",
                "--address=/nx.test/",
                "--server=/fail.test/127.0.0.1#5399",
            ],
        );
        std::thread::sleep(Duration::from_millis(500));
        let t = Duration::from_secs(2);
        assert_eq!(dns("127.0.0.1:5353", "A", "up.test", t), Some(CheckOutcome::Success));
        assert_eq!(dns("127.0.0.1:5353", "A", "nx.test", t), failed("read error occurred. (rcode = 3)"));
        assert_eq!(dns("127.0.0.1:5353", "A", "x.fail.test", t), failed("read error occurred. (rcode = 2)"));
        // No listener: the port unreachable fails the read.
        assert_eq!(
            dns("127.0.0.1:5354", "SOA", "", t),
            failed("failed to read socket; errno 111 (Connection refused)")
        );
    });
}

#[test]
fn dns_ignores_other_ids() {
    in_netns("check::proto::tests::dns_ignores_other_ids", &[], || {
        lo_up();
        // Only a wrong id: ignored until the timeout.
        responder("127.0.0.1:5301", |q| vec![reply(q, 0, 1)]);
        let start = Instant::now();
        assert_eq!(dns("127.0.0.1:5301", "SOA", "", Duration::from_millis(600)), failed("read timeout from socket"));
        assert!(start.elapsed() >= Duration::from_millis(550));
        // A wrong id, a short datagram, a query, then the answer.
        responder("127.0.0.1:5302", |q| vec![reply(q, 0, 7), vec![1, 2, 3], q.to_vec(), reply(q, 0, 0)]);
        assert_eq!(dns("127.0.0.1:5302", "MX", "example.org", Duration::from_secs(2)), Some(CheckOutcome::Success));
    });
}

// ------------------------------------------------------------------ UDP

fn udp_check(require: Option<&[u8]>) -> UdpCheck {
    UdpCheck {
        payload: None,
        require_reply: require.is_some(),
        reply_data: require.filter(|d| !d.is_empty()).map(<[u8]>::to_vec),
        reply_mask: None,
        min_reply_length: 0,
        max_reply_length: 255,
    }
}

fn udp(dst: &str, c: &UdpCheck, timeout: Duration) -> Option<CheckOutcome> {
    let begun = match udp::Udp::start(&target(dst), c) {
        Begin::Pending(s) => Begin::Pending(Kind::Udp(s)),
        Begin::Done(r) => Begin::Done(r),
        Begin::Reschedule => Begin::Reschedule,
    };
    attempt(begun, timeout)
}

#[test]
fn udp_against_socat() {
    in_netns("check::proto::tests::udp_against_socat", &["socat"], || {
        lo_up();
        let _echo = spawn("socat", &["UDP4-RECVFROM:7001,bind=127.0.0.1,fork", "PIPE"]);
        let _garbage = spawn("socat", &["UDP4-RECVFROM:7002,bind=127.0.0.1,fork", "SYSTEM:head -c 1000 /dev/zero"]);
        let _silent = spawn("socat", &["-u", "UDP4-RECV:7003,bind=127.0.0.1", "OPEN:/dev/null"]);
        std::thread::sleep(Duration::from_millis(500));
        let t = Duration::from_millis(700);
        let rs = "[127.0.0.1]:tcp:25";
        // Echo: the reply starts with our payload.
        assert_eq!(udp("127.0.0.1:7001", &udp_check(Some(b"keepalived check")), t), Some(CheckOutcome::Success));
        assert_eq!(udp("127.0.0.1:7001", &udp_check(Some(b"")), t), Some(CheckOutcome::Success));
        assert_eq!(udp("127.0.0.1:7001", &udp_check(None), t), Some(CheckOutcome::Success));
        let mismatch = format!("UDP check to {rs} reply data mismatch.");
        assert_eq!(udp("127.0.0.1:7001", &udp_check(Some(b"keepalived chock")), t), failed(&mismatch));
        let mut masked = udp_check(Some(b"keepalived chock"));
        masked.reply_mask = Some({
            let mut m = vec![0u8; 16];
            m[13] = 0xff;
            m
        });
        assert_eq!(udp("127.0.0.1:7001", &masked, t), Some(CheckOutcome::Success));
        // 1000 bytes of zeros: over max_reply_length.
        assert_eq!(udp("127.0.0.1:7002", &udp_check(Some(&[0])), t), failed(&mismatch));
        // No listener: port unreachable.
        let down = format!("UDP connection to {rs} failed.");
        assert_eq!(udp("127.0.0.1:7009", &udp_check(None), t), failed(&down));
        assert_eq!(udp("127.0.0.1:7009", &udp_check(Some(b"")), t), failed(&down));
        assert_eq!(udp("[::1]:7009", &udp_check(None), t), failed(&down));
        // A listener that never answers: fine unless a reply is required.
        assert_eq!(udp("127.0.0.1:7003", &udp_check(None), t), Some(CheckOutcome::Success));
        assert_eq!(udp("127.0.0.1:7003", &udp_check(Some(b"")), t), failed(&down));
    });
}

// ------------------------------------------------------------------ PING

fn ping(dst: &str, timeout: Duration) -> Option<CheckOutcome> {
    let begun = match ping::Ping::start(dst.parse().unwrap()) {
        Begin::Pending(s) => Begin::Pending(Kind::Ping(s)),
        Begin::Done(r) => Begin::Done(r),
        Begin::Reschedule => Begin::Reschedule,
    };
    attempt(begun, timeout)
}

#[test]
fn ping_answered_and_dropped() {
    in_netns("check::proto::tests::ping_answered_and_dropped", &["nft"], || {
        lo_up();
        // A new namespace lets no group open ping sockets: keepalived
        // widens the range.
        std::fs::write("/proc/sys/net/ipv4/ping_group_range", "1\t0\n").unwrap();
        assert_eq!(ping("127.0.0.1", Duration::from_secs(1)), None);
        let mut range = ping::GroupRange::default();
        range.set();
        assert!(std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").unwrap().starts_with("0\t"));
        assert_eq!(ping("127.0.0.1", Duration::from_secs(1)), Some(CheckOutcome::Success));
        assert_eq!(ping("::1", Duration::from_secs(1)), Some(CheckOutcome::Success));
        run("nft", &["add table inet t"]);
        run("nft", &["add chain inet t in { type filter hook input priority 0 ; }"]);
        run("nft", &["add rule inet t in meta l4proto { icmp, ipv6-icmp } drop"]);
        let start = Instant::now();
        assert_eq!(
            ping("127.0.0.1", Duration::from_millis(600)),
            failed("ICMP connection to address [127.0.0.1]:tcp:25 timeout.")
        );
        assert!(start.elapsed() >= Duration::from_millis(550));
        range.restore();
        assert!(std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").unwrap().starts_with("1\t"));
    });
}
