//! track_bfd in the lab (issue 13): h1 runs VRRP instance VI_1 (priority
//! 150, VIP 198.51.100.71) tracking BFD session B2 to h2, where keepalived
//! 2.2.7 runs the BFD peer and the backup VRRP instance (priority 100).
//! Freezing h2's BFD child takes B2 Down on h1:
//! * without a weight VI_1 goes FAULT and the VIP moves to h2; after
//!   SIGCONT, B2 Up, VI_1 takes the VIP back (preempt);
//! * with `weight -60` VI_1's priority drops to 90, h2 preempts; back to
//!   150 after SIGCONT and h1 preempts again.
//!
//! The same scenario runs with keepalived 2.2.7 in h1's seat: the notify
//! script lines of VI_1 (state sequence) must be the same. The time from
//! the freeze to the VIP on h2 is printed. Needs root, tcpdump is not
//! used; /usr/sbin/keepalived and ../shared/lab.

mod bfdlab;

use bfdlab::{pid_file, signal};
use keepalived_testkit::peers::{lab_scripts, Lab};
use keepalived_testkit::wait_for;
use nix::sys::signal::Signal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const OURS: &str = env!("CARGO_BIN_EXE_keepalived");

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
const KEEPALIVED: &str = "/usr/sbin/keepalived";
const VIP: &str = "198.51.100.71";

fn seat_conf(notify: &str, weight: &str) -> String {
    format!(
        "global_defs {{\n  router_id h1\n  script_user root\n  vrrp_garp_master_delay 0\n}}\n\
         bfd_instance B2 {{\n  neighbor_ip 198.51.100.2\n  source_ip 198.51.100.1\n  min_rx 100\n  min_tx 100\n  multiplier 3\n}}\n\
         vrrp_instance VI_1 {{\n  interface eth0\n  state BACKUP\n  virtual_router_id 71\n  priority 150\n  advert_int 1\n\
           track_bfd {{\n    B2 {weight}\n  }}\n  virtual_ipaddress {{\n    {VIP}/24\n  }}\n  notify \"{notify}\"\n}}\n"
    )
}

fn peer_conf() -> String {
    format!(
        "global_defs {{\n  router_id h2\n}}\n\
         bfd_instance B1 {{\n  neighbor_ip 198.51.100.1\n  source_ip 198.51.100.2\n  min_rx 100\n  min_tx 100\n  multiplier 3\n}}\n\
         vrrp_instance VI_1 {{\n  interface eth0\n  state BACKUP\n  virtual_router_id 71\n  priority 100\n  advert_int 1\n\
           virtual_ipaddress {{\n    {VIP}/24\n  }}\n}}\n"
    )
}

/// One run with `seat` in h1; the notify lines of VI_1 and the failover time.
fn run(scripts: &std::path::Path, seat: &str, weight: &str, tag: &str) -> (Vec<String>, u128, u128) {
    let lab = Lab::up(scripts, tag, 2);
    let notes = lab.run.join("notify.out");
    let script = lab.run.join("notify.sh");
    std::fs::write(&script, format!("#!/bin/sh\necho \"$1 $2 $3\" >> {}\n", notes.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let seat_c = lab.run.join("seat.conf");
    std::fs::write(&seat_c, seat_conf(script.to_str().unwrap(), weight)).unwrap();
    let peer_c = lab.run.join("peer.conf");
    std::fs::write(&peer_c, peer_conf()).unwrap();
    lab.start_ka_args(2, KEEPALIVED, &peer_c, &[]);
    lab.start_ka_args(1, seat, &seat_c, &[]);
    let vip_on = |n: u32| lab.has_addr(n, VIP) && lab.holders(VIP).len() == 1;
    assert!(wait_for(Duration::from_secs(15), || vip_on(1)), "{seat}: h1 never master:\n{}", lab.ka_log(1));
    std::thread::sleep(Duration::from_secs(2));
    let bfd = pid_file(&lab, 2, "bfd").expect("h2 BFD child");
    let t = Instant::now();
    signal(bfd, Signal::SIGSTOP);
    let moved = wait_for(Duration::from_secs(6), || vip_on(2));
    let to_backup = t.elapsed().as_millis();
    std::thread::sleep(Duration::from_secs(1));
    signal(bfd, Signal::SIGCONT);
    assert!(moved, "{seat}: VIP never moved to h2:\n{}", lab.ka_log(1));
    let t = Instant::now();
    assert!(wait_for(Duration::from_secs(15), || vip_on(1)), "{seat}: h1 never master again:\n{}", lab.ka_log(1));
    let back = t.elapsed().as_millis();
    std::thread::sleep(Duration::from_secs(1));
    lab.stop_ka(1, "TERM");
    // The STOP notify runs asynchronously at stop: wait for its line.
    wait_for(Duration::from_secs(3), || std::fs::read_to_string(&notes).is_ok_and(|t| t.contains(" STOP")));
    let lines = std::fs::read_to_string(&notes).unwrap_or_default().lines().map(str::to_string).collect();
    (lines, to_backup, back)
}

fn compare(weight: &str, tag: &str) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let scripts = lab_scripts(&["ip", KEEPALIVED]);
    let (ours, ours_down, ours_up) = run(&scripts, OURS, weight, &format!("{tag}o"));
    let (theirs, their_down, their_up) = run(&scripts, KEEPALIVED, weight, &format!("{tag}k"));
    eprintln!(
        "track_bfd {weight:?}: freeze -> VIP on the backup: ours {ours_down} ms, keepalived 2.2.7 {their_down} ms"
    );
    eprintln!("track_bfd {weight:?}: SIGCONT -> VIP back: ours {ours_up} ms, keepalived 2.2.7 {their_up} ms");
    eprintln!("notify lines: ours {ours:?}\nkeepalived 2.2.7 {theirs:?}");
    assert_eq!(ours, theirs, "notify sequences differ");
}

#[test]
fn track_bfd_without_weight_faults_the_instance() {
    compare("", "btf");
}

#[test]
fn track_bfd_with_weight_lowers_the_priority() {
    compare("weight -60", "btw");
}

/// A respawned child hears the BFD states again: SIGKILL of our VRRP
/// child (respawned by the parent) leaves B2 Up for the new child, which
/// takes the VIP back (keepalived 2.2.7's new VRRP child would keep the
/// instance in FAULT until B2 next changes: docs/compat.md); SIGKILL of
/// our BFD child: the new one starts with B2 Down (keepalived's start-up
/// event), the instance faults, and is MASTER again once B2 is Up.
#[test]
fn respawned_children_get_the_bfd_state() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let scripts = lab_scripts(&["ip", KEEPALIVED]);
    let lab = Lab::up(&scripts, "btr", 2);
    let seat_c = lab.run.join("seat.conf");
    std::fs::write(&seat_c, seat_conf("/bin/true", "")).unwrap();
    let peer_c = lab.run.join("peer.conf");
    std::fs::write(&peer_c, peer_conf()).unwrap();
    lab.start_ka_args(2, KEEPALIVED, &peer_c, &[]);
    lab.start_ka_args(1, OURS, &seat_c, &[]);
    let vip_on = |n: u32| lab.has_addr(n, VIP) && lab.holders(VIP).len() == 1;
    assert!(wait_for(Duration::from_secs(15), || vip_on(1)), "h1 never master:\n{}", lab.ka_log(1));

    let vrrp = pid_file(&lab, 1, "vrrp").expect("our VRRP child");
    signal(vrrp, Signal::SIGKILL);
    assert!(wait_for(Duration::from_secs(5), || pid_file(&lab, 1, "vrrp").is_some_and(|p| p != vrrp)), "no respawn");
    assert!(
        wait_for(Duration::from_secs(15), || vip_on(1)
            && lab.ka_log(1).matches("(VI_1) Entering MASTER STATE").count() >= 2),
        "the respawned VRRP child did not become master again:\n{}",
        lab.ka_log(1)
    );

    let bfd = pid_file(&lab, 1, "bfd").expect("our BFD child");
    let faults = lab.ka_log(1).matches("(VI_1) Entering FAULT STATE").count();
    signal(bfd, Signal::SIGKILL);
    assert!(
        wait_for(Duration::from_secs(10), || lab.ka_log(1).matches("(VI_1) Entering FAULT STATE").count() > faults),
        "the new BFD child's start-up Down did not fault VI_1:\n{}",
        lab.ka_log(1)
    );
    assert!(
        wait_for(Duration::from_secs(15), || vip_on(1)
            && lab.ka_log(1).matches("(VI_1) Entering MASTER STATE").count() >= 3),
        "VI_1 not master again after the BFD child's respawn:\n{}",
        lab.ka_log(1)
    );
}
