//! BFD_CHECK end to end in the IPVS guest (`keepalived_testkit::vm`): our
//! daemon (checker and BFD children) runs a virtual server whose real
//! server is checked by BFD_CHECK on session PEER; the BFD peer is a
//! second keepalived-rs (BFD child only) in network namespace `bfdpeer`,
//! joined by a veth pair. The real server is in IPVS once PEER is Up;
//! freezing the peer's BFD child (SIGSTOP) removes it, SIGCONT restores
//! it. What IPVS holds is read with `ipvsadm -Ln`.

use keepalived_testkit::vm;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const OURS: &str = env!("CARGO_BIN_EXE_keepalived");
/// The guest is emulated (TCG): generous.
const WITHIN: Duration = Duration::from_secs(30);

#[test]
fn suite_runs_in_the_ipvs_guest() {
    vm::run_suite(&[], &[], 600);
}

/// iproute2 (copied into the guest's /usr/local/bin; busybox's `ip` comes
/// first in the guest's PATH and has no `netns` nor `link add`).
fn ip() -> &'static str {
    if Path::new("/usr/local/bin/ip").exists() {
        "/usr/local/bin/ip"
    } else {
        "ip"
    }
}

fn sh(cmd: &str) {
    let cmd = cmd.replace("IP ", &format!("{} ", ip()));
    let st = Command::new("sh").args(["-c", &cmd]).status().expect("sh");
    assert!(st.success(), "{cmd} failed");
}

fn ipvsadm() -> String {
    let out = Command::new("ipvsadm").args(["-Ln"]).output().expect("ipvsadm");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn has_rs(rs: &str) -> bool {
    ipvsadm().lines().any(|l| l.trim_start().starts_with(&format!("-> {rs}")))
}

/// keepalived-rs with `conf`, in network namespace `ns` (None: this one).
fn daemon(dir: &Path, ns: Option<&str>, conf: &str) -> Child {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("keepalived.conf"), conf).unwrap();
    let log = std::fs::File::create(dir.join("log")).unwrap();
    let p = |n: &str| dir.join(n).display().to_string();
    let mut c = match ns {
        Some(ns) => {
            let mut c = Command::new(ip());
            c.args(["netns", "exec", ns, OURS]);
            c
        }
        None => Command::new(OURS),
    };
    c.args(["-n", "-l", "-D", "-f", &p("keepalived.conf"), "-p", &p("k.pid"), "-c", &p("c.pid")]);
    c.args(["-r", &p("v.pid"), "-b", &p("b.pid")]);
    c.stdout(log.try_clone().unwrap()).stderr(log).stdin(Stdio::null());
    c.spawn().unwrap()
}

fn log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("log")).unwrap_or_default()
}

fn wait(what: &str, dirs: &[&PathBuf], f: impl Fn() -> bool) {
    let deadline = Instant::now() + WITHIN;
    while !f() {
        if Instant::now() > deadline {
            let logs: Vec<String> = dirs.iter().map(|d| format!("--- {}\n{}", d.display(), log(d))).collect();
            panic!("{what}\n{}\n{}", ipvsadm(), logs.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stop(mut c: Child) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(c.id() as i32), nix::sys::signal::Signal::SIGTERM);
    let deadline = Instant::now() + WITHIN;
    while c.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = c.kill();
    let _ = c.wait();
}

#[test]
fn bfd_check_removes_and_restores_the_real_server() {
    if !vm::guest() {
        return;
    }
    sh("mkdir -p /run/netns && IP netns add bfdpeer && IP link add bfd0 type veth peer name bfd1 && IP link set bfd1 netns bfdpeer");
    sh("IP addr add 10.77.0.1/24 dev bfd0 && IP link set bfd0 up && IP link set lo up");
    sh("IP -n bfdpeer addr add 10.77.0.2/24 dev bfd1 && IP -n bfdpeer link set bfd1 up && IP -n bfdpeer link set lo up");
    let base = std::env::temp_dir().join(format!("bfd_check_vm-{}", std::process::id()));
    let (main_d, peer_d) = (base.join("main"), base.join("peer"));
    let peer = daemon(
        &peer_d,
        Some("bfdpeer"),
        "bfd_instance MAIN {\n neighbor_ip 10.77.0.1\n source_ip 10.77.0.2\n min_rx 100\n min_tx 100\n multiplier 3\n}\n",
    );
    let main = daemon(
        &main_d,
        None,
        "bfd_instance PEER {\n neighbor_ip 10.77.0.2\n source_ip 10.77.0.1\n min_rx 100\n min_tx 100\n multiplier 3\n checker\n}\n\
         virtual_server 10.10.0.30 80 {\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n protocol TCP\n\
          real_server 127.0.0.30 8080 {\n  weight 1\n  BFD_CHECK {\n   name PEER\n  }\n }\n}\n",
    );
    let dirs = [&main_d, &peer_d];
    let rs = "127.0.0.30:8080";
    wait("the real server never came in", &dirs, || has_rs(rs));
    // Past the poll sequence that brings the detection time to 300 ms.
    std::thread::sleep(Duration::from_secs(1));
    let pid: i32 = std::fs::read_to_string(peer_d.join("b.pid")).unwrap().trim().parse().unwrap();
    let freeze = |sig| nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig).unwrap();
    for round in 1..=3 {
        let t = Instant::now();
        freeze(nix::sys::signal::Signal::SIGSTOP);
        wait(&format!("round {round}: the real server stayed"), &dirs, || !has_rs(rs));
        eprintln!("round {round}: real server removed {} ms after the freeze", t.elapsed().as_millis());
        freeze(nix::sys::signal::Signal::SIGCONT);
        let t = Instant::now();
        wait(&format!("round {round}: the real server never came back"), &dirs, || has_rs(rs));
        eprintln!("round {round}: real server back {} ms after SIGCONT", t.elapsed().as_millis());
    }
    let text = log(&main_d);
    assert!(text.contains("BFD check of [PEER] RS([127.0.0.30]:tcp:8080) is DOWN"), "{text}");
    assert!(text.contains("BFD check of [PEER] RS([127.0.0.30]:tcp:8080) is UP"), "{text}");
    stop(main);
    stop(peer);
    let _ = Command::new(ip()).args(["netns", "del", "bfdpeer"]).status();
}
