//! The receive buffers of the VRRP sockets (`kernel_rx_buf_size`,
//! `vrrp_rx_bufs_policy`, `vrrp_rx_bufs_multiplier`), compared with the
//! real keepalived 2.2.7: the same configuration runs under each
//! implementation; the data dump (SIGUSR1) shows each socket's size
//! (`Rx buf size = N`, the sum keepalived computes over the socket's
//! instances and sets as SO_RCVBUF) and each instance's
//! `Kernel rx buffer size`: both must be the same, socket by socket.
//! Needs root and /usr/sbin/keepalived; fails otherwise.

use keepalived_testkit::netns::Node;
use keepalived_testkit::prereq::KEEPALIVED;
use keepalived_testkit::sh;
use keepalived_testkit::wait::secs;
use keepalived_testkit::wait_for;
use std::time::Duration;

fn config(policy: &str) -> String {
    format!(
        "global_defs {{
    router_id rxbufs
    {policy}
}}
vrrp_instance A {{
    state BACKUP
    interface eth0
    virtual_router_id 91
    priority 100
    kernel_rx_buf_size 100000
    virtual_ipaddress {{
        192.0.2.91/32
    }}
}}
vrrp_instance B {{
    state BACKUP
    interface eth0
    virtual_router_id 92
    priority 100
    virtual_ipaddress {{
        192.0.2.92/32
        192.0.2.93/32
    }}
}}
vrrp_instance C {{
    state BACKUP
    interface eth0
    virtual_router_id 93
    priority 100
    authentication {{
        auth_type AH
        auth_pass secret
    }}
    virtual_ipaddress {{
        192.0.2.94/32
    }}
}}
vrrp_instance D {{
    state BACKUP
    interface eth0
    virtual_router_id 94
    priority 100
    virtual_ipaddress {{
        2001:db8:94::1
    }}
}}
"
    )
}

/// The sockpool and per-instance buffer lines of the data dump: one
/// `family protocol: Rx buf size = N` per socket, sorted.
fn buffers(data: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut fam, mut proto) = (String::new(), String::new());
    for l in data.lines().map(str::trim) {
        if let Some(v) = l.strip_prefix("Family = ") {
            fam = v.to_string();
        } else if let Some(v) = l.strip_prefix("Protocol = ") {
            proto = v.to_string();
        } else if l.starts_with("Rx buf size = ") {
            out.push(format!("{fam} {proto}: {l}"));
        } else if l.starts_with("Kernel rx buffer size = ") || l.starts_with("VRRP Instance = ") {
            out.push(l.to_string());
        }
    }
    out.sort();
    out
}

fn scenario(tag: &str, binary: &str, policy: &str) -> Vec<String> {
    let node = Node::new("rxb", tag);
    let tmp = node.dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let daemon = node.start_env(binary, &config(policy), &[("TMPDIR", tmp.to_str().unwrap())]);
    let data = tmp.join("keepalived.data");
    std::thread::sleep(Duration::from_millis(1500));
    let pid = daemon.pid().expect("pid file").as_raw();
    sh(&format!("kill -USR1 {pid}"));
    assert!(wait_for(secs(5), || std::fs::metadata(&data).is_ok_and(|m| m.len() > 0)), "{tag}: no data dump");
    std::thread::sleep(Duration::from_millis(300));
    let got = buffers(&std::fs::read_to_string(&data).unwrap());
    drop(daemon);
    got
}

#[test]
fn vrrp_socket_receive_buffers_match_keepalived_2_2_7() {
    keepalived_testkit::require(&[KEEPALIVED]);
    for policy in [
        "vrrp_rx_bufs_policy ADVERT\n    vrrp_rx_bufs_multiplier 10",
        "vrrp_rx_bufs_policy MTU",
        "vrrp_rx_bufs_policy 70000",
        "",
    ] {
        let theirs = scenario("ka", KEEPALIVED, policy);
        let ours = scenario("rs", env!("CARGO_BIN_EXE_keepalived"), policy);
        println!("== {policy:?}\nkeepalived 2.2.7: {theirs:#?}\nkeepalived-rs: {ours:#?}");
        assert!(theirs.iter().any(|l| l.contains("Kernel rx buffer size = 100000")), "{theirs:?}");
        assert_eq!(ours, theirs, "{policy:?}");
    }
}

/// The receive buffers of the VRRP child's rtnetlink sockets, as `ss`
/// reports them in the node's namespace (`rb…`, twice what was asked).
fn netlink_buffers(tag: &str, binary: &str, global: &str) -> String {
    let node = Node::new("rxn", tag);
    let conf = config(global);
    let daemon = node.start(binary, &conf);
    std::thread::sleep(Duration::from_millis(1500));
    let ss = sh(&format!("ip netns exec {} ss -f netlink -a -m -p", node.ns));
    drop(daemon);
    ss
}

#[test]
fn netlink_monitor_buffer_matches_keepalived_2_2_7() {
    keepalived_testkit::require(&[KEEPALIVED, "ss"]);
    let global = "vrrp_netlink_monitor_rcv_bufs 300000\n    vrrp_netlink_monitor_rcv_bufs_force";
    for (tag, binary) in [("ka", KEEPALIVED), ("rs", env!("CARGO_BIN_EXE_keepalived"))] {
        let ss = netlink_buffers(tag, binary, global);
        let has = ss.lines().any(|l| l.contains("rtnl:") && l.contains("keepalived") && l.contains("rb600000"));
        assert!(has, "{tag}: no rtnetlink socket of 600000 bytes:\n{ss}");
    }
}
