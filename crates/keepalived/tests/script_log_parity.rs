//! Track script results in the log and in notifies, compared with the real
//! keepalived 2.2.7: a weight-0 vrrp_script (whose instance is in a sync
//! group) and a weighted one start in their init state, then fail with
//! status 1, change to status 2 and succeed again. keepalived logs
//! `Script `x` now returning N` when the exit status changes and
//! `VRRP_Script(x) succeeded` / `VRRP_Script(x) failed (exited with status
//! N)` when the result crosses rise/fall; while its weight-0 scripts are in
//! their init state an instance waits in FAULT silently: no `Entering FAULT
//! STATE (init)` line, no FAULT notify for it or its sync group. Each
//! implementation runs in its own network namespace; the script lines must
//! be identical and in the same order, each instance's state lines too, and
//! the notify scripts must have been called with the same arguments in the
//! same order per instance. A third weight-0 script fails from its first
//! run: keepalived then sends the FAULT notifies (instance and sync group)
//! and logs the group's sync line, but no `Entering FAULT STATE` line. Needs root and /usr/sbin/keepalived.

use keepalived_testkit::daemon::write_script;
use keepalived_testkit::netns::Node;
use keepalived_testkit::prereq::KEEPALIVED;
use keepalived_testkit::wait::secs;
use keepalived_testkit::wait_for;
use std::path::Path;
use std::time::Duration;

fn config(dir: &Path) -> String {
    let d = dir.display();
    format!(
        r#"global_defs {{
    router_id parity
    script_user root
    enable_script_security
    vrrp_garp_master_delay 0
}}
vrrp_script CHK_0 {{
    script "{d}/chk.sh rc0"
    interval 1
    weight 0
}}
vrrp_script CHK_W {{
    script "{d}/chk.sh rcw"
    interval 1
    weight -20
    rise 2
    fall 2
}}
vrrp_script CHK_F {{
    script "{d}/chk.sh rcf"
    interval 1
    weight 0
}}
vrrp_sync_group G2 {{
    group {{
        VI_4
        VI_5
    }}
    notify "{d}/log.sh group2"
}}
vrrp_sync_group G1 {{
    group {{
        VI_1
        VI_2
    }}
    notify_master "{d}/log.sh group-master"
    notify_backup "{d}/log.sh group-backup"
    notify_fault "{d}/log.sh group-fault"
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 71
    priority 100
    advert_int 1
    track_script {{
        CHK_0
    }}
    notify {d}/log.sh
    virtual_ipaddress {{
        198.51.100.71/32
    }}
}}
vrrp_instance VI_2 {{
    state BACKUP
    interface eth0
    virtual_router_id 72
    priority 100
    advert_int 1
    notify {d}/log.sh
    virtual_ipaddress {{
        198.51.100.72/32
    }}
}}
vrrp_instance VI_4 {{
    interface eth0
    virtual_router_id 74
    priority 100
    advert_int 1
    track_script {{
        CHK_F
    }}
    notify {d}/log.sh
    virtual_ipaddress {{
        198.51.100.74/32
    }}
}}
vrrp_instance VI_5 {{
    interface eth0
    virtual_router_id 75
    priority 100
    advert_int 1
    notify {d}/log.sh
    virtual_ipaddress {{
        198.51.100.75/32
    }}
}}
vrrp_instance VI_3 {{
    state BACKUP
    interface eth0
    virtual_router_id 73
    priority 100
    advert_int 1
    track_script {{
        CHK_W
    }}
    notify {d}/log.sh
    virtual_ipaddress {{
        198.51.100.73/32
    }}
}}
"#
    )
}

struct Outcome {
    log: String,
    scripts: Vec<String>,
}

fn set(dir: &Path, file: &str, rc: u8) {
    std::fs::write(dir.join(file), format!("{rc}\n")).unwrap();
}

fn scenario(tag: &str, binary: &str) -> Outcome {
    let node = Node::new("sl", tag);
    let dir = node.dir.clone();
    write_script(&dir.join("log.sh"), &format!("echo \"$*\" >> {}/scripts.log", dir.display()));
    write_script(&dir.join("chk.sh"), &format!("exit $(cat {}/$1)", dir.display()));
    set(&dir, "rc0", 0);
    set(&dir, "rcw", 0);
    // CHK_F fails from its first run: FAULT notifies without a state line.
    set(&dir, "rcf", 1);
    let mut daemon = node.start(binary, &config(&dir));
    let d = dir.display().to_string();
    let step = |what: &str, ok: bool| assert!(ok, "{tag}: {what} (log in {d}/daemon.log)");
    // 1. Scripts report, the group and VI_3 become master.
    step("master", wait_for(secs(15), || node.has_addr("198.51.100.71") && node.has_addr("198.51.100.73")));
    std::thread::sleep(Duration::from_millis(1500));
    // 2. Failures: status 1, then 2 (no new result line), then success.
    for (file, rc) in [("rc0", 1), ("rcw", 1)] {
        set(&dir, file, rc);
    }
    step("fault removes the VIP", wait_for(secs(5), || !node.has_addr("198.51.100.71")));
    std::thread::sleep(Duration::from_millis(3500));
    set(&dir, "rc0", 2);
    set(&dir, "rcw", 2);
    std::thread::sleep(Duration::from_millis(2500));
    set(&dir, "rc0", 0);
    set(&dir, "rcw", 0);
    set(&dir, "rcf", 0);
    step("master again", wait_for(secs(15), || node.has_addr("198.51.100.71") && node.has_addr("198.51.100.74")));
    std::thread::sleep(Duration::from_millis(3500));
    daemon.stop();
    let scripts = std::fs::read_to_string(dir.join("scripts.log")).unwrap_or_default();
    Outcome { log: daemon.log(), scripts: scripts.lines().map(str::to_string).collect() }
}

/// The messages (after the console time stamp) that contain `pat`.
fn messages(log: &str, pat: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| l.split_once(": ").map(|x| x.1))
        .filter(|m| m.contains(pat))
        .map(str::to_string)
        .collect()
}

#[test]
fn track_script_logs_and_init_notifies_match_keepalived_2_2_7() {
    keepalived_testkit::require(&[KEEPALIVED]);
    let theirs = scenario("ka", KEEPALIVED);
    let ours = scenario("rs", env!("CARGO_BIN_EXE_keepalived"));
    // The script lines.
    let ordered = |log: &str| {
        messages(log, "Script")
            .into_iter()
            .filter(|m| m.starts_with("VRRP_Script(") || m.starts_with("Script `"))
            .collect::<Vec<_>>()
    };
    assert!(!ordered(&theirs.log).is_empty(), "keepalived logged no script line:\n{}", theirs.log);
    // Per script: two scripts started together finish in either order.
    for name in ["CHK_0", "CHK_W", "CHK_F"] {
        let of = |log: &str| {
            let tags = [format!("({name})"), format!("`{name}`")];
            ordered(log).into_iter().filter(|m| tags.iter().any(|t| m.contains(t.as_str()))).collect::<Vec<_>>()
        };
        assert_eq!(of(&ours.log), of(&theirs.log), "{name} result lines differ; our log:\n{}", ours.log);
    }
    // No FAULT (init) line in keepalived 2.2.7, nor in ours.
    assert_eq!(messages(&ours.log, "(init)"), messages(&theirs.log, "(init)"), "init lines differ");
    // Each instance's and the group's state lines, in order.
    let states = ["(VI_1) Entering", "(VI_2) Entering", "(VI_3) Entering", "(VI_4) Entering", "(VI_5) Entering"];
    for name in states.into_iter().chain(["VRRP_Group(G1)", "VRRP_Group(G2)", "effective priority"]) {
        assert_eq!(messages(&ours.log, name), messages(&theirs.log, name), "{name} lines differ");
    }
    // The notify calls: in order per instance and group, and as a whole.
    for name in ["VI_1", "VI_2", "VI_3", "VI_4", "VI_5", "group-", "G1", "group2"] {
        let of = |v: &[String]| v.iter().filter(|l| l.contains(name)).cloned().collect::<Vec<_>>();
        assert_eq!(of(&ours.scripts), of(&theirs.scripts), "{name} notifies differ");
    }
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    assert_eq!(sorted(&ours.scripts), sorted(&theirs.scripts), "notify script calls differ");
}
