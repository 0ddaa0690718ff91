//! Track scripts named through symlinked directories (/bin, /sbin on a
//! merged-/usr host), under enable_script_security, run by both daemons:
//! keepalived 2.2.7 checks the path after realpath(), runs the scripts and
//! applies their weights, so the effective priorities and the election
//! must come out the same under keepalived-rs (which used to refuse them
//! with "Wrong file type found in script path"). The `-t` side is in
//! config_samples.rs. Needs root and /usr/sbin/keepalived; fails
//! otherwise.

use keepalived_testkit::netns::Node;
use keepalived_testkit::prereq::KEEPALIVED;
use std::time::Duration;

const CONF: &str = "global_defs {
    router_id sp
    enable_script_security
    script_user root
}
vrrp_script chk_up {
    script \"/bin/sh -c 'exit 0'\"
    interval 1
    weight 20
}
vrrp_script chk_down {
    script \"/bin/kill -0 999999\"
    interval 1
    weight -30
}
vrrp_script chk_true {
    script /bin/true
    interval 1
}
vrrp_instance VI_SP {
    interface eth0
    virtual_router_id 92
    priority 100
    advert_int 1
    track_script {
        chk_up
        chk_down
        chk_true
    }
    virtual_ipaddress {
        198.51.100.92/24
    }
}
";

fn scenario(tag: &str, binary: &str) -> (bool, Vec<String>, String) {
    let node = Node::new("sp", tag);
    let mut daemon = node.start(binary, CONF);
    // Long enough for the scripts to report and a master election.
    std::thread::sleep(Duration::from_millis(5500));
    let has_vip = node.has_addr("198.51.100.92");
    daemon.stop();
    let log = daemon.log();
    let prios =
        log.lines().filter_map(|l| l.find("(VI_SP) Changing effective priority").map(|i| l[i..].to_string())).collect();
    (has_vip, prios, log)
}

#[test]
fn bin_and_sbin_scripts_run_with_their_weights_as_in_keepalived_2_2_7() {
    keepalived_testkit::require(&[KEEPALIVED]);
    let (theirs_vip, theirs_prios, theirs_log) = scenario("ka", KEEPALIVED);
    let (ours_vip, ours_prios, ours_log) = scenario("rs", env!("CARGO_BIN_EXE_keepalived"));
    let logs = format!("--- keepalived 2.2.7:\n{theirs_log}\n--- keepalived-rs:\n{ours_log}");
    assert!(theirs_vip, "keepalived 2.2.7 did not become master\n{logs}");
    assert_eq!(ours_vip, theirs_vip, "{logs}");
    // The scripts report in whichever order they finish: compare where the
    // priority ends, 100 + 20 (chk_up succeeds) - 30 (chk_down fails).
    let final_prio = |p: &[String]| p.last().and_then(|l| l.rsplit(' ').next().map(str::to_string));
    assert_eq!(final_prio(&theirs_prios).as_deref(), Some("90"), "{logs}");
    assert_eq!(final_prio(&ours_prios), final_prio(&theirs_prios), "{logs}");
    for bad in ["Wrong file type", "insecure", "Unsafe permissions", "cannot be accessed"] {
        assert!(!ours_log.contains(bad), "{bad}:\n{logs}");
    }
}
