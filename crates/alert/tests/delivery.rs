//! Delivery against a real SMTP server (python3-aiosmtpd) and against
//! broken ones. Fails when aiosmtpd is not installed (tests/run.sh
//! installs python3-aiosmtpd).

mod common;

use std::time::{Duration, Instant};

use common::*;
use keepalived_alert::{Alert, AlertSender, AlertState, SendError, QUEUE_CAPACITY};
use keepalived_testkit::servers::{free_port, Sink};
use keepalived_testkit::wait_for;

const RCPTS: [&str; 2] = ["ops@example.org", "\"Ops, Night\" <night@example.org>"];

#[test]
fn instance_master_mail() {
    logs();
    let sink = Sink::start("inst", None, free_port());
    let sender = AlertSender::start(settings(sink.port, &RCPTS, Duration::from_secs(5))).unwrap();
    let alert = Alert::vrrp_instance(sender.router_id().as_deref(), "VI_1", AlertState::Master);
    sender.send(alert).unwrap();
    let msgs = sink.wait_messages(1, Duration::from_secs(10));
    assert_eq!(msgs.len(), 1, "no mail received");
    let m = &msgs[0];
    assert_eq!(m.helo, "lb1.example.org");
    assert_eq!(m.mail_from, "keepalived@lb1.example.org");
    assert_eq!(m.rcpt_tos, ["ops@example.org", "night@example.org"]);
    let (headers, body) = m.split();
    assert_date(&headers[0]);
    assert_eq!(
        headers[1..],
        [
            "From: keepalived@lb1.example.org",
            "Subject: [lb1] VRRP Instance VI_1 - Entering MASTER state",
            "X-Mailer: Keepalived",
            "To: ops@example.org, \"Ops, Night\" <night@example.org>",
        ]
    );
    // keepalived ends the text with "\r\n\r\n.\r\n": the server keeps the empty line.
    assert_eq!(body, "=> VRRP Instance is now owning VRRP VIPs <=\r\n\r\n");
    let stats = sender.shutdown(Duration::from_secs(5));
    assert_eq!((stats.queued, stats.sent, stats.failed, stats.dropped), (1, 1, 0, 0));
}

#[test]
fn group_master_mail() {
    let sink = Sink::start("group", None, free_port());
    let sender = AlertSender::start(settings(sink.port, &RCPTS[..1], Duration::from_secs(5))).unwrap();
    let alert = Alert::vrrp_group(Some("lb1"), "VG_1", AlertState::Master).unwrap();
    sender.send(alert).unwrap();
    let msgs = sink.wait_messages(1, Duration::from_secs(10));
    assert_eq!(msgs.len(), 1, "no mail received");
    let m = &msgs[0];
    assert_eq!(m.rcpt_tos, ["ops@example.org"]);
    let (headers, body) = m.split();
    assert_eq!(
        headers[1..],
        [
            "From: keepalived@lb1.example.org",
            "Subject: [lb1] VRRP Group VG_1 - Entering MASTER state",
            "X-Mailer: Keepalived",
            "To: ops@example.org",
        ]
    );
    assert_eq!(body, "=> All VRRP group instances are now in MASTER state <=\r\n\r\n");
    sender.shutdown(Duration::from_secs(5));
}

#[test]
fn header_injection_adds_no_header() {
    let sink = Sink::start("inject", None, free_port());
    let sender = AlertSender::start(settings(sink.port, &RCPTS[..1], Duration::from_secs(5))).unwrap();
    let alert = Alert::vrrp_instance(Some("lb1\r\nX-Evil: 1"), "VI_1\r\nBcc: x@y", AlertState::Backup);
    sender.send(alert).unwrap();
    let alert = Alert::generic(Some("lb1"), "s", "line\r\n.\r\nBcc: x@y\r\n\r\nMAIL FROM:<x@y>");
    sender.send(alert).unwrap();
    let msgs = sink.wait_messages(2, Duration::from_secs(10));
    assert_eq!(msgs.len(), 2);
    for m in &msgs {
        assert_eq!(m.rcpt_tos, ["ops@example.org"], "no extra recipient");
        let (headers, _) = m.split();
        assert_eq!(headers.len(), 5, "{headers:?}");
        for h in &headers {
            assert!(!h.starts_with("Bcc") && !h.starts_with("X-Evil"), "{h:?}");
        }
    }
    let (headers, _) = msgs[0].split();
    assert_eq!(headers[2], "Subject: [lb1  X-Evil: 1] VRRP Instance VI_1  Bcc: x@y - Entering BACKUP state");
    // A lone "." in a body is dot-stuffed, so the mail is not cut there.
    let (_, body) = msgs[1].split();
    assert!(body.starts_with("line\r\n.\r\nBcc: x@y"), "{body:?}");
    sender.shutdown(Duration::from_secs(5));
}

#[test]
fn starttls_with_a_self_signed_certificate() {
    keepalived_testkit::prereq::require_tools(&["openssl"]);
    let sink = Sink::start_with("tls", None, free_port(), true);
    let sender = AlertSender::start(settings(sink.port, &RCPTS[..1], Duration::from_secs(5))).unwrap();
    sender.send(Alert::vrrp_instance(Some("lb1"), "VI_TLS", AlertState::Fault)).unwrap();
    let msgs = sink.wait_messages(1, Duration::from_secs(10));
    assert_eq!(msgs.len(), 1, "no mail received: {:?}", sender.stats());
    assert!(msgs[0].tls, "not sent over STARTTLS");
    let (headers, _) = msgs[0].split();
    assert_eq!(headers[2], "Subject: [lb1] VRRP Instance VI_TLS - Entering FAULT state");
    sender.shutdown(Duration::from_secs(5));
}

#[test]
fn plain_server_gets_plain_mail() {
    let sink = Sink::start("plain", None, free_port());
    let sender = AlertSender::start(settings(sink.port, &RCPTS[..1], Duration::from_secs(5))).unwrap();
    sender.send(Alert::vrrp_instance(Some("lb1"), "VI_P", AlertState::Stop)).unwrap();
    let msgs = sink.wait_messages(1, Duration::from_secs(10));
    assert_eq!(msgs.len(), 1);
    assert!(!msgs[0].tls);
    sender.shutdown(Duration::from_secs(5));
}

#[test]
fn blackholed_server_times_out_once() {
    let bh = Blackhole::start();
    logs();
    let sender = AlertSender::start(settings(bh.port, &RCPTS[..1], Duration::from_secs(1))).unwrap();
    let t = Instant::now();
    sender.send(Alert::vrrp_instance(Some("lb1"), "VI_BH", AlertState::Master)).unwrap();
    assert!(t.elapsed() < Duration::from_millis(50), "send blocked {:?}", t.elapsed());
    assert!(wait_for(Duration::from_secs(5), || sender.stats().failed == 1), "{:?}", sender.stats());
    assert!(t.elapsed() >= Duration::from_millis(900), "failed before the timeout: {:?}", t.elapsed());
    std::thread::sleep(Duration::from_millis(200));
    let needle = format!("127.0.0.1:{}", bh.port);
    let lines = log_lines(&needle);
    eprintln!("{lines:#?}");
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("SMTP alert not sent") && lines[0].contains("timeout"), "{}", lines[0]);
    let s = sender.shutdown(Duration::from_secs(1));
    assert_eq!((s.sent, s.failed), (0, 1));
}

#[test]
fn refused_port_logged_once() {
    logs();
    let port = free_port();
    let sender = AlertSender::start(settings(port, &RCPTS[..1], Duration::from_secs(2))).unwrap();
    sender.send(Alert::vrrp_instance(Some("lb1"), "VI_RF", AlertState::Master)).unwrap();
    assert!(wait_for(Duration::from_secs(5), || sender.stats().failed == 1), "{:?}", sender.stats());
    std::thread::sleep(Duration::from_millis(200));
    let lines = log_lines(&format!("127.0.0.1:{port}"));
    eprintln!("{lines:#?}");
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("connection refused"), "{}", lines[0]);
    sender.shutdown(Duration::from_secs(1));
}

#[test]
fn rejected_recipient_reports_the_code() {
    logs();
    let sink = Sink::start("reject", None, free_port());
    // The sink refuses recipients starting with "reject" (550).
    let mut s = settings(sink.port, &["ops@example.org", "reject@example.org"], Duration::from_secs(5));
    s.router_id = Some("lb1".into());
    let sender = AlertSender::start(s).unwrap();
    sender.send(Alert::vrrp_instance(Some("lb1"), "VI_RJ", AlertState::Master)).unwrap();
    assert!(wait_for(Duration::from_secs(10), || sender.stats().failed == 1), "{:?}", sender.stats());
    std::thread::sleep(Duration::from_millis(200));
    let lines = log_lines(&format!("127.0.0.1:{}", sink.port));
    eprintln!("{lines:#?}");
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("RCPT command rejected, SMTP status code = 550 (5.1.1 no such user)"), "{}", lines[0]);
    assert!(sink.messages().is_empty());
    sender.shutdown(Duration::from_secs(1));
}

#[test]
fn flood_drops_are_counted_and_logged_once() {
    logs();
    let bh = Blackhole::start();
    let mut st = settings(bh.port, &RCPTS[..1], Duration::from_secs(3));
    st.router_id = Some("flood".into());
    let sender = AlertSender::start(st).unwrap();
    let t = Instant::now();
    let mut dropped = 0;
    for i in 0..200 {
        match sender.send(Alert::vrrp_instance(Some("flood"), &format!("VI_FLOOD_{i}"), AlertState::Master)) {
            Ok(()) => {}
            Err(SendError::QueueFull) => dropped += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(t.elapsed() < Duration::from_millis(200), "send blocked {:?}", t.elapsed());
    let s = sender.stats();
    assert_eq!(s.dropped, dropped);
    assert_eq!(s.queued + s.dropped, 200);
    // The queue holds QUEUE_CAPACITY; the thread may hold one more.
    assert!(s.queued == QUEUE_CAPACITY as u64 || s.queued == QUEUE_CAPACITY as u64 + 1, "{s:?}");
    let lines = log_lines("queue full");
    assert_eq!(lines.iter().filter(|l| l.contains("VI_FLOOD")).count(), 1, "{lines:#?}");
    assert!(lines[0].contains("dropped_total=1"), "{}", lines[0]);
    // Shutdown is bounded although the server never answers.
    let t = Instant::now();
    let s = sender.shutdown(Duration::from_millis(500));
    assert!(t.elapsed() < Duration::from_millis(900), "shutdown took {:?}", t.elapsed());
    assert_eq!(s.sent, 0);
    std::thread::sleep(Duration::from_millis(300));
}

#[test]
fn idle_shutdown_is_quick() {
    let bh = Blackhole::start();
    let sender = AlertSender::start(settings(bh.port, &RCPTS[..1], Duration::from_secs(1))).unwrap();
    let t = Instant::now();
    let s = sender.shutdown(Duration::from_millis(100));
    assert!(t.elapsed() < Duration::from_millis(500));
    assert_eq!(s.queued, 0);
}
