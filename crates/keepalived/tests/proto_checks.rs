//! SMTP_CHECK, DNS_CHECK, UDP_CHECK and PING_CHECK through the real daemon
//! (its checker child, without IPVS on this host: the
//! `KEEPALIVED_RS_TEST_WITHOUT_IPVS` hook), in a fresh network namespace:
//! keepalived's log lines, the SMTP retry before the verdict, and
//! `ping_group_range` widened while running and put back at stop.

use keepalived_testkit::in_netns;
use keepalived_testkit::netns::lo_up;
use keepalived_testkit::wait_for;
use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_keepalived");
const RANGE: &str = "/proc/sys/net/ipv4/ping_group_range";

const CONF: &str = "virtual_server 10.9.0.1 53 {
 delay_loop 1
 lb_algo rr
 lb_kind NAT
 protocol TCP
 real_server 127.0.0.1 25 {
  SMTP_CHECK {
   connect_timeout 1
  }
 }
 real_server 127.0.0.2 53 {
  PING_CHECK {
   connect_timeout 1
  }
 }
 real_server 127.0.0.3 53 {
  UDP_CHECK {
   connect_timeout 1
  }
 }
 real_server 127.0.0.4 53 {
  DNS_CHECK {
   connect_timeout 1
  }
 }
}
";

/// The log once it holds every line of `what` (or `within` has passed).
fn wait_log(log: &std::path::Path, what: &[&str], within: Duration) -> String {
    let read = || std::fs::read_to_string(log).unwrap_or_default();
    wait_for(within, || what.iter().all(|w| read().contains(w)));
    read()
}

#[test]
fn smtp_dns_udp_ping_through_the_daemon() {
    in_netns("smtp_dns_udp_ping_through_the_daemon", &[], || {
        lo_up();
        std::fs::write(RANGE, "1\t0\n").unwrap();
        // A silent SMTP server counting its connections.
        let accepts = Arc::new(AtomicU32::new(0));
        let l = TcpListener::bind("127.0.0.1:25").unwrap();
        let a = accepts.clone();
        std::thread::spawn(move || {
            let mut keep = Vec::new();
            for c in l.incoming().flatten() {
                a.fetch_add(1, Ordering::SeqCst);
                keep.push(c);
            }
        });
        let dir = std::env::temp_dir().join(format!("ka-rs-proto-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
        std::fs::write(dir.join("k.conf"), CONF).unwrap();
        let log = std::fs::File::create(dir.join("log")).unwrap();
        let mut d = Command::new(BIN)
            .args(["-n", "-l", "-C", "-f", &p("k.conf"), "-p", &p("p"), "-c", &p("c"), "-r", &p("r"), "-b", &p("b")])
            .env("KEEPALIVED_RS_TEST_WITHOUT_IPVS", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let smtp_down = "SMTP_CHECK Read timeout from server [127.0.0.1]:25";
        let lines = [
            smtp_down,
            "Removing service [127.0.0.1]:tcp:25 from VS [10.9.0.1]:tcp:53",
            "ICMP connection to [127.0.0.2]:tcp:53 success.",
            "UDP_CHECK on service [127.0.0.3]:tcp:53 failed.",
            "Removing service [127.0.0.3]:tcp:53 from VS [10.9.0.1]:tcp:53",
            "DNS_CHECK ([127.0.0.4]:tcp:53) failed to read socket; errno 111 (Connection refused)",
            "Removing service [127.0.0.4]:tcp:53 from VS [10.9.0.1]:tcp:53",
        ];
        let text = wait_log(&dir.join("log"), &lines, Duration::from_secs(20));
        // SMTP: the first failure is retried (delay_before_retry) before the verdict.
        let at_verdict = accepts.load(Ordering::SeqCst);
        let range_running = std::fs::read_to_string(RANGE).unwrap();
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(d.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
        let _ = d.wait();
        let mut text_after = String::new();
        std::fs::File::open(dir.join("log")).unwrap().read_to_string(&mut text_after).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        for l in lines {
            assert!(text.contains(l), "missing {l:?} in:\n{text_after}");
        }
        assert!(!text.contains("Removing service [127.0.0.2]"), "{text_after}");
        assert_eq!(text.matches(smtp_down).count(), 1, "{text_after}");
        assert!(at_verdict >= 2, "SMTP verdict after {at_verdict} connections:\n{text_after}");
        assert!(range_running.starts_with("0\t"), "{range_running}");
        assert!(std::fs::read_to_string(RANGE).unwrap().starts_with("1\t"), "ping_group_range put back at stop");
    });
}
