//! `use_vmac` and `no_accept` on the wire and in the kernel, compared with
//! the real keepalived 2.2.7: one node (its own network namespace, a veth
//! to a peer namespace) runs an IPv4 instance with `use_vmac` and
//! `no_accept`, alone, so it becomes master. Under each implementation:
//! the macvlan `vrrp.61` exists (mode private, MAC 00:00:5e:00:01:3d) and
//! holds the VIP; gratuitous ARPs leave with the virtual MAC; the nftables
//! ruleset is the same text; traffic from the peer to the VIP is dropped;
//! after SIGTERM the macvlan and the table are gone.
//! Needs root, /usr/sbin/keepalived, nft and tcpdump; skipped otherwise.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn have(cmd: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {cmd}")]).output().is_ok_and(|o| o.status.success())
}

fn usable() -> bool {
    let root = nix::unistd::getuid().is_root();
    if !root || !Path::new("/usr/sbin/keepalived").exists() || !have("nft") || !have("tcpdump") {
        eprintln!("SKIP: needs root, /usr/sbin/keepalived, nft and tcpdump");
        return false;
    }
    true
}

fn sh(cmd: &str) -> String {
    let out = Command::new("sh").args(["-c", cmd]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Lab(String);

impl Lab {
    fn new(name: String) -> Lab {
        let lab = Lab(name);
        lab.cleanup();
        let n = &lab.0;
        let script = format!(
            "set -e; ip netns add {n}; ip netns add {n}p; \
             ip -n {n} link add eth0 type veth peer name peth0 netns {n}p; \
             ip -n {n} link set lo up; ip -n {n} link set eth0 up; ip -n {n}p link set peth0 up; \
             ip -n {n} addr add 198.51.100.1/24 dev eth0; ip -n {n}p addr add 198.51.100.2/24 dev peth0"
        );
        assert!(Command::new("sh").args(["-c", &script]).status().unwrap().success());
        lab
    }
    fn cleanup(&self) {
        let n = &self.0;
        let _ = Command::new("sh")
            .args(["-c", &format!("ip netns del {n} 2>/dev/null; ip netns del {n}p 2>/dev/null")])
            .status();
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.cleanup();
    }
}

const CONF: &str = "global_defs {
    router_id vmac
    vrrp_garp_master_delay 0
    vrrp_garp_master_repeat 3
    vrrp_garp_master_refresh 0
}
vrrp_instance VI_VMAC {
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority 100
    advert_int 1
    use_vmac
    no_accept
    virtual_ipaddress {
        198.51.100.61/24
    }
}
";

struct Outcome {
    link: String,
    vip_on: String,
    ruleset: String,
    garp_macs: Vec<String>,
    ping_blocked: bool,
    after_stop_link: bool,
    after_stop_table: bool,
}

fn scenario(tag: &str, binary: &str) -> Outcome {
    let dir = PathBuf::from(format!("/tmp/ka-rs-vmac-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, CONF).unwrap();
    let lab = Lab::new(format!("kavm{}{tag}", std::process::id() % 100000));
    let n = lab.0.clone();
    let pcap = dir.join("arp.pcap");
    let mut tcpdump = Command::new("ip")
        .args(["netns", "exec", &format!("{n}p"), "tcpdump", "-Z", "root", "-U", "-e", "-n", "-i", "peth0", "-w"])
        .arg(&pcap)
        .arg("arp")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let d = dir.display().to_string();
    let log = std::fs::File::create(dir.join("daemon.log")).unwrap();
    let mut child = Command::new("ip")
        .args(["netns", "exec", &n, binary, "-n", "-l", "-D", "-P", "-f"])
        .arg(&conf)
        .args(["-p", &format!("{d}/k.pid"), "-r", &format!("{d}/v.pid"), "-c", &format!("{d}/c.pid")])
        .args(["-b", &format!("{d}/b.pid")])
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(15);
    while !sh(&format!("ip -n {n} -o addr show")).contains("198.51.100.61/") {
        assert!(Instant::now() < end, "{tag}: never master; log in {d}/daemon.log");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let link = sh(&format!(
        "ip -n {n} -d -j link show vrrp.61 | python3 -c 'import json,sys; l=json.load(sys.stdin)[0]; \
         print(l[\"address\"], l[\"linkinfo\"][\"info_kind\"], l[\"linkinfo\"][\"info_data\"][\"mode\"], l.get(\"link\"))'"
    ))
    .trim()
    .to_string();
    let vip_on = sh(&format!("ip -n {n} -o -4 addr show to 198.51.100.61 | awk '{{print $2}}'")).trim().to_string();
    let ruleset = sh(&format!("ip netns exec {n} nft list ruleset"));
    let ping_blocked = !Command::new("ip")
        .args(["netns", "exec", &format!("{n}p"), "ping", "-c", "1", "-W", "1", "198.51.100.61"])
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success();
    let pid: i32 = std::fs::read_to_string(format!("{d}/k.pid")).unwrap().trim().parse().unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM).unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    while !matches!(child.try_wait(), Ok(Some(_))) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let after_stop_link = sh(&format!("ip -n {n} link show")).contains("vrrp.61");
    let after_stop_table = sh(&format!("ip netns exec {n} nft list ruleset")).contains("table");
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(tcpdump.id() as i32), nix::sys::signal::Signal::SIGINT);
    let _ = tcpdump.wait();
    let garp_macs = sh(&format!("tcpdump -e -n -r {} 2>/dev/null", pcap.display()))
        .lines()
        .filter(|l| l.contains("who-has 198.51.100.61 ") && l.contains("tell 198.51.100.61,"))
        .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_string())
        .collect();
    drop(lab);
    let _ = std::fs::remove_dir_all(&dir);
    Outcome { link, vip_on, ruleset, garp_macs, ping_blocked, after_stop_link, after_stop_table }
}

#[test]
fn vmac_and_no_accept_match_keepalived_2_2_7() {
    if !usable() {
        return;
    }
    let theirs = scenario("ka", "/usr/sbin/keepalived");
    let ours = scenario("rs", env!("CARGO_BIN_EXE_keepalived"));
    println!("{:28} {:48} | keepalived-rs", "", "keepalived 2.2.7");
    println!("{:28} {:48} | {}", "vrrp.61 (mac kind mode link)", theirs.link, ours.link);
    println!("{:28} {:48} | {}", "VIP on", theirs.vip_on, ours.vip_on);
    println!("{:28} {:48} | {:?}", "GARP source MACs", format!("{:?}", theirs.garp_macs), ours.garp_macs);
    println!("{:28} {:48} | {}", "ping to VIP dropped", theirs.ping_blocked, ours.ping_blocked);
    println!("{:28} {:48} | {}", "VMAC left after stop", theirs.after_stop_link, ours.after_stop_link);
    println!("{:28} {:48} | {}", "nft table left after stop", theirs.after_stop_table, ours.after_stop_table);
    assert!(theirs.link.starts_with("00:00:5e:00:01:3d macvlan private"), "keepalived's VMAC: {}", theirs.link);
    assert_eq!(ours.link, theirs.link);
    assert_eq!(ours.vip_on, theirs.vip_on);
    assert_eq!(ours.garp_macs, theirs.garp_macs);
    assert_eq!(ours.ping_blocked, theirs.ping_blocked);
    assert_eq!(ours.ruleset, theirs.ruleset, "nft rulesets differ");
    assert!(!ours.after_stop_link && !ours.after_stop_table, "VMAC or nft table left after stop");
}
