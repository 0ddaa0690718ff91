//! Interop with FRR 8.4 vrrpd (VRRPv3, VRID 60, IPv4 + IPv6), the lab's
//! frr-interop.sh `vrrp` scenario with keepalived-rs in place of keepalived
//! on h1 (priority 150) and h3 (100), FRR on h2 (120, VMAC macvlans,
//! ../shared/lab/configs/frr-vrrpd.conf; ka-frr-interop.conf, no use_vmac):
//! 1. FRR alone is master (v4 and v6);
//! 2. our h1 starts, preempts FRR for both families, h3 stays backup;
//! 3. SIGTERM h1 (priority 0) -> FRR master again, h3 still backup;
//! 4. SIGTERM FRR vrrpd (priority 0) -> our h3 master, v4 and v6;
//! 5. FRR master again, SIGKILL vrrpd -> our h3 master by its master-down timer.
//!
//! VIP placement and states are asserted at each step; times are printed.
//! Needs root, FRR (/usr/lib/frr/vrrpd, zebra, vtysh) and ../shared/lab;
//! fails otherwise.

use keepalived_testkit::kernel::Kernel;
use keepalived_testkit::peers::{lab_scripts, Lab};
use keepalived_testkit::wait_for;
use std::time::{Duration, Instant};

const OURS: &str = env!("CARGO_BIN_EXE_keepalived");

const V4: &str = "198.51.100.60";
const V6: &str = "2001:db8::60";

/// FRR's view, e.g. "v4=Master v6=Master", from `show vrrp`.
fn frr_state(lab: &mut Lab) -> String {
    let out = lab.frr(&["vtysh", "2", "-c", "show vrrp"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let mut v = Vec::new();
    for l in text.lines().filter(|l| l.contains("Status (v")) {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() >= 3 {
            v.push(format!("{}={}", f[1].trim_matches(|c| c == '(' || c == ')'), f[2]));
        }
    }
    v.join(" ")
}

fn frr_is(lab: &mut Lab, want: &str) -> bool {
    frr_state(lab) == format!("v4={want} v6={want}")
}

/// FRR's master holds the VIPs on carrier-up macvlans; a backup's are in protodown.
fn frr_macvlan_up(lab: &Lab) -> bool {
    Kernel::named(&lab.ns(2)).link("vrrp4-60").is_some_and(|l| !l.no_carrier)
}

fn frr_pid(lab: &Lab, daemon: &str) -> Option<i32> {
    std::fs::read_to_string(lab.frr_dir(2).join(format!("{daemon}.lpid"))).ok()?.trim().parse().ok()
}

fn ms(since: Instant) -> u128 {
    since.elapsed().as_millis()
}

#[test]
fn keepalived_rs_and_frr_vrrpd_hand_over_both_ways() {
    let scripts = lab_scripts(&["ip", "/usr/lib/frr/vrrpd", "/usr/lib/frr/zebra", "vtysh"]);
    let mut lab = Lab::up(&scripts, "fi", 3);
    let conf = scripts.join("configs/ka-frr-interop.conf");
    let zebra = scripts.join("configs/frr-zebra.conf");
    let vrrpd = scripts.join("configs/frr-vrrpd.conf");
    let z = zebra.to_str().unwrap();
    let v = vrrpd.to_str().unwrap();
    let mut times = Vec::new();

    // 1. FRR alone.
    lab.frr(&["vmac", "2", "60", "4", "198.51.100.60/24"]);
    lab.frr(&["vmac", "2", "60", "6", "2001:db8::60/64"]);
    lab.frr(&["start", "2", "zebra", z]);
    let t = Instant::now();
    lab.frr(&["start", "2", "vrrpd", v]);
    assert!(
        wait_for(Duration::from_secs(10), || frr_is(&mut lab, "Master")),
        "FRR never became master: {}",
        frr_state(&mut lab)
    );
    times.push(format!("1. FRR alone -> Master (v4, v6) after {} ms", ms(t)));

    // 2. Our h1 (150) preempts FRR (120) for both families; h3 (100) stays backup.
    let t = Instant::now();
    lab.start_ka(1, OURS, &conf);
    lab.start_ka(3, OURS, &conf);
    assert!(
        wait_for(Duration::from_secs(10), || lab.has_addr(1, V4) && lab.has_addr(1, V6)),
        "keepalived-rs h1 did not preempt FRR; FRR: {}; h1 log:\n{}",
        frr_state(&mut lab),
        lab.ka_log(1)
    );
    times.push(format!("2. h1 (150) holds v4+v6 VIPs {} ms after start", ms(t)));
    assert!(
        wait_for(Duration::from_secs(5), || frr_is(&mut lab, "Backup")),
        "FRR did not go backup: {}",
        frr_state(&mut lab)
    );
    std::thread::sleep(Duration::from_millis(2300));
    assert!(frr_is(&mut lab, "Backup"), "FRR left backup: {}", frr_state(&mut lab));
    assert!(lab.has_addr(1, V4) && lab.has_addr(1, V6), "h1 lost a VIP");
    assert!(!lab.has_addr(3, V4) && !lab.has_addr(3, V6), "h3 took a VIP as backup");

    // 3. SIGTERM h1 -> priority 0 -> FRR master.
    let t = Instant::now();
    lab.stop_ka(1, "TERM");
    assert!(wait_for(Duration::from_secs(10), frr_macvlan_up_fn(&lab)), "FRR did not take over from h1");
    times.push(format!("3. SIGTERM h1 -> FRR master (macvlan up) after {} ms", ms(t)));
    assert!(wait_for(Duration::from_secs(3), || frr_is(&mut lab, "Master")), "FRR state: {}", frr_state(&mut lab));
    assert!(!lab.has_addr(1, V4) && !lab.has_addr(1, V6), "h1 kept a VIP after SIGTERM");
    std::thread::sleep(Duration::from_millis(2300));
    assert!(!lab.has_addr(3, V4) && !lab.has_addr(3, V6), "h3 (100) took a VIP from FRR (120)");
    assert!(frr_is(&mut lab, "Master"), "FRR state: {}", frr_state(&mut lab));

    // 4. SIGTERM FRR vrrpd -> priority 0 (v4 and v6) -> our h3 master.
    let t = Instant::now();
    let pid = frr_pid(&lab, "vrrpd").expect("vrrpd pid");
    let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    assert!(wait_for(Duration::from_secs(10), || lab.has_addr(3, V4)), "h3 did not take v4 after FRR's SIGTERM");
    let t4 = ms(t);
    assert!(wait_for(Duration::from_secs(10), || lab.has_addr(3, V6)), "h3 did not take v6 after FRR's SIGTERM");
    times.push(format!("4. SIGTERM FRR vrrpd -> h3 master: v4 after {t4} ms, v6 after {} ms", ms(t)));
    std::thread::sleep(Duration::from_millis(1500));
    assert!(lab.has_addr(3, V4) && lab.has_addr(3, V6), "h3 lost a VIP");
    assert!(!lab.has_addr(1, V4), "h1 (stopped) holds a VIP");
    let _ = std::fs::remove_file(lab.frr_dir(2).join("vrrpd.lpid"));

    // 5. The crash case: FRR master again, then SIGKILL vrrpd.
    lab.stop_ka(3, "TERM");
    assert!(!lab.has_addr(3, V4) && !lab.has_addr(3, V6), "h3 kept a VIP after SIGTERM");
    lab.frr(&["start", "2", "vrrpd", v]);
    assert!(
        wait_for(Duration::from_secs(10), || frr_is(&mut lab, "Master")),
        "FRR not master again: {}",
        frr_state(&mut lab)
    );
    lab.start_ka(3, OURS, &conf);
    std::thread::sleep(Duration::from_millis(2700));
    assert!(!lab.has_addr(3, V4), "h3 (100) preempted FRR (120)");
    let t = Instant::now();
    let pid = frr_pid(&lab, "vrrpd").expect("vrrpd pid");
    let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
    let _ = std::fs::remove_file(lab.frr_dir(2).join("vrrpd.lpid"));
    assert!(wait_for(Duration::from_secs(10), || lab.has_addr(3, V4)), "h3 did not take v4 after FRR's SIGKILL");
    let t5 = ms(t);
    assert!(wait_for(Duration::from_secs(10), || lab.has_addr(3, V6)), "h3 did not take v6 after FRR's SIGKILL");
    times.push(format!(
        "5. SIGKILL FRR vrrpd -> h3 master (master-down timer): v4 after {t5} ms, v6 after {} ms",
        ms(t)
    ));
    let _ = lab.frr(&["stop", "2", "zebra"]);
    // FRR leaves per-process directories behind a SIGKILL (lab README §7).
    let _ = std::process::Command::new("sh").args(["-c", &format!("rm -rf /var/tmp/frr/vrrpd.{pid}")]).status();
    eprintln!("{}", times.join("\n"));
}

fn frr_macvlan_up_fn(lab: &Lab) -> impl FnMut() -> bool + '_ {
    move || frr_macvlan_up(lab)
}
