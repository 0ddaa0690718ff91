//! `fifo_write_vrrp_states_on_reload`, compared with the real keepalived
//! 2.2.7: two MASTER instances in one sync group and two FAULT instances
//! (their interface is down) in another run under each implementation; a
//! reload (SIGHUP) with the same configuration changes no state, so nothing
//! is notified, and with the keyword the states are written to the FIFO
//! again. The FIFO lines after the reload must be the same as keepalived's.
//! Needs root and /usr/sbin/keepalived; fails otherwise.

use keepalived_testkit::daemon::FifoReader;
use keepalived_testkit::netns::Node;
use keepalived_testkit::prereq::KEEPALIVED;
use keepalived_testkit::sh;
use keepalived_testkit::wait::secs;
use keepalived_testkit::wait_for;
use std::path::Path;
use std::time::{Duration, Instant};

fn instance(name: &str, vrid: u8, ifname: &str) -> String {
    format!(
        "vrrp_instance {name} {{\n    state MASTER\n    interface {ifname}\n    virtual_router_id {vrid}\n    \
         priority 200\n    advert_int 1\n    virtual_ipaddress {{\n        192.0.2.{vrid}/32\n    }}\n}}\n"
    )
}

fn config(dir: &Path, flag: bool) -> String {
    let d = dir.display();
    let mut s = format!("global_defs {{\n    router_id fifo\n    notify_fifo {d}/notify.fifo\n");
    if flag {
        s.push_str("    fifo_write_vrrp_states_on_reload\n");
    }
    s.push_str("}\nvrrp_sync_group G_M {\n    group {\n        VI_M1\n        VI_M2\n    }\n}\n");
    s.push_str("vrrp_sync_group G_F {\n    group {\n        VI_F1\n        VI_F2\n    }\n}\n");
    for (n, v, i) in [("VI_M1", 61, "eth0"), ("VI_M2", 62, "eth0"), ("VI_F1", 63, "eth1"), ("VI_F2", 64, "eth1")] {
        s.push_str(&instance(n, v, i));
    }
    s
}

/// The FIFO lines written after the reload, sorted.
fn scenario(tag: &str, binary: &str, flag: bool) -> Vec<String> {
    let node = Node::new("fr", tag);
    sh(&format!("ip -n {n} link add eth1 type veth peer name peth1; ip -n {n} link set eth1 down", n = node.ns));
    let dir = node.dir.clone();
    let fifo = dir.join("notify.fifo");
    // Both implementations reopen the FIFO at a reload: read in a loop.
    let reader = FifoReader::start(&fifo);
    let mut daemon = node.start(binary, &config(&dir, flag));
    let masters = || node.has_addr("192.0.2.61") && node.has_addr("192.0.2.62");
    assert!(wait_for(secs(15), masters), "{tag}: not master; log:\n{}", daemon.log());
    std::thread::sleep(Duration::from_millis(1000));
    let reload_at = Instant::now();
    daemon.signal(nix::sys::signal::Signal::SIGHUP);
    std::thread::sleep(Duration::from_millis(2500));
    daemon.stop();
    let lines = reader.finish();
    let mut after: Vec<String> =
        lines.into_iter().filter(|(t, l)| *t >= reload_at && !l.contains(" STOP ")).map(|(_, l)| l).collect();
    after.sort();
    after
}

#[test]
fn states_written_on_reload_match_keepalived_2_2_7() {
    keepalived_testkit::require(&[KEEPALIVED]);
    for flag in [true, false] {
        let theirs = scenario("ka", KEEPALIVED, flag);
        let ours = scenario("rs", env!("CARGO_BIN_EXE_keepalived"), flag);
        println!("== fifo_write_vrrp_states_on_reload {flag}\nkeepalived 2.2.7: {theirs:#?}\nkeepalived-rs: {ours:#?}");
        if flag {
            assert!(!theirs.is_empty(), "keepalived wrote nothing at the reload");
        }
        assert_eq!(ours, theirs, "FIFO lines after the reload (flag {flag})");
    }
}
