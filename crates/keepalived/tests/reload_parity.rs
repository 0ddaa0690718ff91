//! Reload (SIGHUP) of the VRRP instances, compared with the real keepalived
//! 2.2.7: three masters run; the new configuration renames one (same VRID:
//! it is the same instance) and changes its addresses, keeps one as it is,
//! drops one and adds one. Under each implementation, in its own network
//! namespace, the kept instances must stay MASTER with no transition and
//! their untouched addresses must never disappear; the dropped address and
//! instance go, the added ones come; the FIFO lines written after the
//! reload and the gratuitous ARPs sent for each address must be the same as
//! keepalived's. Needs root, /usr/sbin/keepalived and tcpdump; fails
//! otherwise.

use keepalived_testkit::daemon::FifoReader;
use keepalived_testkit::kernel::Kernel;
use keepalived_testkit::netns::Node;
use keepalived_testkit::pcap::{garps, Capture};
use keepalived_testkit::prereq::KEEPALIVED;
use keepalived_testkit::wait::secs;
use keepalived_testkit::wait_for;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::{Duration, Instant};

/// The node's addresses, as the kernel reports them.
fn addrs(node: &Node) -> Vec<IpAddr> {
    Kernel::named(&node.ns).addresses(None).into_iter().map(|a| a.addr).collect()
}

fn has(addrs: &[IpAddr], last: u8) -> bool {
    addrs.contains(&IpAddr::V4(Ipv4Addr::new(198, 51, 100, last)))
}

fn instance(name: &str, vrid: u8, vips: &[u8]) -> String {
    let list: String = vips.iter().map(|v| format!("        198.51.100.{v}/32\n")).collect();
    format!(
        "vrrp_instance {name} {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {vrid}\n    priority 100\n    \
         advert_int 1\n    virtual_ipaddress {{\n{list}    }}\n}}\n"
    )
}

fn config(dir: &Path, instances: &[String]) -> String {
    let d = dir.display();
    let mut s = format!(
        "global_defs {{\n    router_id reload\n    notify_fifo {d}/notify.fifo\n    vrrp_garp_master_delay 2\n    \
         vrrp_garp_master_repeat 2\n    vrrp_garp_master_refresh 0\n}}\n"
    );
    for i in instances {
        s.push_str(i);
    }
    s
}

struct Outcome {
    /// FIFO lines written after the reload.
    fifo_after: Vec<String>,
    /// Gratuitous ARPs per address in the 4 s after the reload.
    garps: Vec<(u8, usize)>,
    /// An address that must stay was missing at some point.
    gaps: Vec<String>,
    log: String,
}

fn scenario(tag: &str, binary: &str) -> Outcome {
    let node = Node::new("rl", tag);
    let dir = node.dir.clone();
    let before = [instance("VI_1", 71, &[71, 72]), instance("VI_2", 72, &[73]), instance("VI_3", 73, &[74])];
    // VI_1 renamed (same VRID: the same instance), .72 dropped and .75 added;
    // VI_2 untouched; VI_3 removed; VI_4 new.
    let after = [instance("VI_ONE", 71, &[71, 75]), instance("VI_2", 72, &[73]), instance("VI_4", 74, &[76])];
    // Our own reader keeps the FIFO open (notify_fifo without a script).
    let fifo = dir.join("notify.fifo");
    // Both implementations close and reopen the FIFO at a reload, so a
    // reader sees end of file there: reopen, as a reader loop would.
    let reader = FifoReader::start(&fifo);
    let mut daemon = node.start(binary, &config(&dir, &before));
    let d = dir.display().to_string();
    let all = || [71, 72, 73, 74].iter().all(|v| has(&addrs(&node), *v));
    assert!(wait_for(secs(15), all), "{tag}: not all masters; log in {d}/daemon.log\n{}", node.addrs());
    // Let the start-up GARPs (delay 2 s, repeat 2) finish.
    std::thread::sleep(Duration::from_millis(3000));
    let capture = Capture::start(&node, "arp");
    std::fs::write(node.path("keepalived.conf"), config(&dir, &after)).unwrap();
    let reload_at = Instant::now();
    daemon.signal(nix::sys::signal::Signal::SIGHUP);
    // Watch the addresses that must stay, every 10 ms for 4 s.
    let mut gaps = Vec::new();
    while reload_at.elapsed() < Duration::from_secs(4) {
        let a = addrs(&node);
        for v in [71, 73] {
            if !has(&a, v) {
                gaps.push(format!(".{v} missing at {:?}", reload_at.elapsed()));
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let arp = capture.finish();
    // The new VI_4 elects itself about 3.6 s after the reload, at the edge
    // of this window: its announcements are a boot election's, compared
    // elsewhere; here only the kept and removed instances' addresses count.
    let garps = [71u8, 72, 73, 74, 75].iter().map(|v| (*v, garps(&arp, &format!("198.51.100.{v}")).len())).collect();
    // VI_4 elects itself after its master-down interval.
    wait_for(secs(10), || has(&addrs(&node), 76));
    let a = addrs(&node);
    assert!(has(&a, 71) && has(&a, 73) && has(&a, 75) && has(&a, 76), "{tag}: addresses after reload: {a:?}");
    assert!(!has(&a, 72) && !has(&a, 74), "{tag}: dropped addresses still there: {a:?}");
    daemon.stop();
    let lines = reader.finish();
    let fifo_after =
        lines.into_iter().filter(|(t, l)| *t >= reload_at && !l.contains(" STOP ")).map(|(_, l)| l).collect();
    Outcome { fifo_after, garps, gaps, log: daemon.log() }
}

#[test]
fn reload_matches_keepalived_2_2_7() {
    keepalived_testkit::require(&[KEEPALIVED, "tcpdump"]);
    let theirs = scenario("ka", KEEPALIVED);
    let ours = scenario("rs", env!("CARGO_BIN_EXE_keepalived"));
    println!("after the reload       keepalived 2.2.7 | keepalived-rs");
    for i in 0..theirs.fifo_after.len().max(ours.fifo_after.len()) {
        println!(
            "  FIFO  {:<32} | {}",
            theirs.fifo_after.get(i).map_or("", String::as_str),
            ours.fifo_after.get(i).map_or("", String::as_str)
        );
    }
    for (a, b) in theirs.garps.iter().zip(&ours.garps) {
        println!("  GARPs for 198.51.100.{:<3} {:>12} | {}", a.0, a.1, b.1);
    }
    assert!(theirs.gaps.is_empty(), "keepalived itself dropped a kept address: {:?}", theirs.gaps);
    assert!(ours.gaps.is_empty(), "a kept address disappeared during the reload: {:?}\n{}", ours.gaps, ours.log);
    let mut a = ours.fifo_after.clone();
    let mut b = theirs.fifo_after.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b, "FIFO lines after the reload differ; our log:\n{}", ours.log);
    assert_eq!(ours.garps, theirs.garps, "gratuitous ARPs after the reload differ");
    let after_reload = ours.log.rsplit_once("Reloading").map_or("", |x| x.1);
    for name in ["VI_ONE", "VI_2"] {
        let transitions = after_reload.lines().filter(|l| l.contains(&format!("({name}) Entering"))).count();
        assert_eq!(transitions, 0, "{name} went through a transition at the reload:\n{}", ours.log);
    }
}
