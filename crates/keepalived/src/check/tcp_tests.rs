//! TCP_CHECK attempts against real listeners, each in a fresh network
//! namespace (`keepalived_testkit::in_netns`): refused, listening (never
//! answering), blackholed (timeout), bind_if and bindto.

use super::*;
use crate::check::attempt_tests::drive;
use keepalived_testkit::in_netns;
use keepalived_testkit::netns::lo_up;
use keepalived_testkit::run;
use mio::{Events, Poll};
use std::net::TcpListener;

/// Run one attempt to its end: its result, or `None` when the socket
/// could not be set up.
fn attempt(t: &TcpTarget, timeout: Duration) -> Option<TcpResult> {
    let mut poll = Poll::new().unwrap();
    let mut probes = TcpProbes::new(100, 4);
    attempt_with(&mut poll, &mut probes, t, timeout)
}

/// One attempt of tag 1 with the given loop and probes (kept across
/// attempts: a failed attempt's socket is reused).
fn attempt_with(poll: &mut Poll, probes: &mut TcpProbes<u8>, t: &TcpTarget, timeout: Duration) -> Option<TcpResult> {
    match probes.start(poll.registry(), 1u8, t, timeout, Instant::now()) {
        Started::Done(r) => return Some(r),
        Started::Error => return None,
        Started::Pending => {}
    }
    let give_up = Instant::now() + timeout + Duration::from_secs(5);
    let r = drive(
        poll,
        give_up,
        probes,
        |p, reg, token| p.on_ready(reg, token).filter(|(tag, _)| *tag == 1),
        |p, reg| p.expired(reg, Instant::now()).pop(),
    );
    Some(r.1)
}

fn target(dst: &str) -> TcpTarget {
    TcpTarget { dst: dst.parse().unwrap(), bindto: None, bind_if: None, fwmark: None }
}

#[test]
fn refused_port_fails() {
    in_netns("check::tcp::tests::refused_port_fails", &[], || {
        lo_up();
        assert_eq!(attempt(&target("127.0.0.1:9"), Duration::from_secs(2)), Some(TcpResult::Failed));
    });
}

#[test]
fn listening_port_that_never_answers_succeeds() {
    in_netns("check::tcp::tests::listening_port_that_never_answers_succeeds", &[], || {
        lo_up();
        let l = TcpListener::bind("127.0.0.1:8080").unwrap();
        assert_eq!(attempt(&target("127.0.0.1:8080"), Duration::from_secs(2)), Some(TcpResult::Success));
        drop(l);
    });
}

#[test]
fn blackholed_address_times_out() {
    in_netns("check::tcp::tests::blackholed_address_times_out", &[], || {
        lo_up();
        // Routed out of lo to an address nobody has, not forwarded:
        // dropped, no answer, no error.
        run("ip", &["route", "add", "10.99.0.0/24", "dev", "lo"]);
        let start = Instant::now();
        assert_eq!(attempt(&target("10.99.0.2:80"), Duration::from_millis(700)), Some(TcpResult::Timeout));
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(650) && took < Duration::from_secs(3), "{took:?}");
    });
}

#[test]
fn bindto_sets_the_source() {
    in_netns("check::tcp::tests::bindto_sets_the_source", &[], || {
        lo_up();
        let l = TcpListener::bind("127.0.0.1:8081").unwrap();
        let mut t = target("127.0.0.1:8081");
        t.bindto = Some("127.0.0.5:4321".parse().unwrap());
        assert_eq!(attempt(&t, Duration::from_secs(2)), Some(TcpResult::Success));
        let (_, peer) = l.accept().unwrap();
        assert_eq!(peer, "127.0.0.5:4321".parse().unwrap());
        // An address not on the system cannot be bound: no result, retried later.
        t.bindto = Some("192.0.2.1:0".parse().unwrap());
        assert_eq!(attempt(&t, Duration::from_secs(2)), None);
    });
}

#[test]
fn bind_if_binds_the_device() {
    in_netns("check::tcp::tests::bind_if_binds_the_device", &[], || {
        lo_up();
        let _l = TcpListener::bind("127.0.0.1:8082").unwrap();
        let mut t = target("127.0.0.1:8082");
        t.bind_if = Some("lo".into());
        t.fwmark = Some(7);
        assert_eq!(attempt(&t, Duration::from_secs(2)), Some(TcpResult::Success));
        t.bind_if = Some("nosuchdev".into());
        assert_eq!(attempt(&t, Duration::from_secs(2)), None);
    });
}

#[test]
fn a_failed_attempts_socket_serves_the_next_attempts() {
    in_netns("check::tcp::tests::a_failed_attempts_socket_serves_the_next_attempts", &[], || {
        lo_up();
        run("ip", &["route", "add", "10.99.0.0/24", "dev", "lo"]);
        let mut poll = Poll::new().unwrap();
        let mut probes = TcpProbes::new(100, 4);
        let ms = Duration::from_millis;
        // Refused, refused again, timed out, refused after the timeout (the
        // disconnect from SYN_SENT leaves no error behind), then a listener.
        for (dst, want) in [
            ("127.0.0.1:8090", TcpResult::Failed),
            ("127.0.0.1:8090", TcpResult::Failed),
            ("10.99.0.2:80", TcpResult::Timeout),
            ("10.99.0.2:80", TcpResult::Timeout),
            ("127.0.0.1:8090", TcpResult::Failed),
        ] {
            assert_eq!(attempt_with(&mut poll, &mut probes, &target(dst), ms(300)), Some(want), "{dst}");
            assert_eq!(probes.spares.len(), 1, "the failed attempt's socket is kept");
            assert_eq!(probes.tokens.next, 101, "one token, one socket for all the attempts");
        }
        let l = TcpListener::bind("127.0.0.1:8090").unwrap();
        let r = attempt_with(&mut poll, &mut probes, &target("127.0.0.1:8090"), ms(300));
        assert_eq!(r, Some(TcpResult::Success));
        assert!(probes.spares.is_empty(), "a connected socket is closed, as keepalived does");
        l.accept().unwrap();
        // The disconnects' wake-ups find no attempt: nothing to report.
        poll.poll(&mut Events::with_capacity(8), Some(ms(10))).unwrap();
        probes.cancel(poll.registry(), |_| true);
        assert!(probes.spares.is_empty() && probes.probes.is_empty());
    });
}

#[test]
fn reasons_are_keepalived_lines() {
    assert_eq!(TcpResult::Timeout.reason("[10.0.0.1]:tcp:80").unwrap(), "TCP connection to [10.0.0.1]:tcp:80 timeout.");
    assert_eq!(TcpResult::Failed.reason("[10.0.0.1]:tcp:80").unwrap(), "TCP connection to [10.0.0.1]:tcp:80 failed.");
    assert_eq!(TcpResult::Success.reason("x"), None);
}
