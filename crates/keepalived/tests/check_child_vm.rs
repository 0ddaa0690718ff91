//! The checker child end to end, in the IPVS guest (`keepalived_testkit::vm`:
//! one boot runs this whole binary): our daemon with `-C` programs IPVS
//! from TCP_CHECK and MISC_CHECK results, follows a reload, and removes
//! its services at stop (or leaves them with `-I`). Real servers are
//! listeners of this test on 127.0.0.x; what IPVS holds is read with
//! `ipvsadm -Ln`.
//!
//! One test runs on the host: without IPVS the child ends the daemon as
//! keepalived 2.2.7 does.

use keepalived_testkit::vm;
use std::net::TcpListener;
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

/// A scratch directory of this test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("check_child_vm-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Our daemon, checker child only, logging to a file.
struct Daemon {
    child: Option<Child>,
    dir: PathBuf,
}

impl Daemon {
    fn start(dir: &Path, conf: &str, extra: &[&str]) -> Daemon {
        let cf = dir.join("keepalived.conf");
        std::fs::write(&cf, conf).unwrap();
        let log = std::fs::File::create(dir.join("log")).unwrap();
        let p = |n: &str| dir.join(n).display().to_string();
        let mut c = Command::new(OURS);
        c.args(["-n", "-l", "-D", "-C", "-f", &p("keepalived.conf"), "-p", &p("k.pid"), "-c", &p("c.pid")]);
        c.args(["-r", &p("v.pid"), "-b", &p("b.pid")]).args(extra);
        c.stdout(log.try_clone().unwrap()).stderr(log).stdin(Stdio::null());
        Daemon { child: Some(c.spawn().unwrap()), dir: dir.to_path_buf() }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    fn signal(&self, sig: nix::sys::signal::Signal) {
        let pid = self.child.as_ref().unwrap().id() as i32;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig).unwrap();
    }

    fn reload(&self, conf: &str) {
        std::fs::write(self.dir.join("keepalived.conf"), conf).unwrap();
        self.signal(nix::sys::signal::Signal::SIGHUP);
    }

    /// SIGTERM and wait for the daemon to end.
    fn stop(&mut self) {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        let mut c = self.child.take().unwrap();
        let deadline = Instant::now() + WITHIN;
        while c.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the daemon did not stop:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("--- daemon log\n{}", self.log());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn ipvsadm(args: &[&str]) -> String {
    let out = Command::new("ipvsadm").args(args).output().expect("ipvsadm");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The destinations of a service (`"TCP  10.10.0.1:80"`) as
/// `address:port weight`, sorted; `None` when there is no such service.
fn dests(svc: &str) -> Option<Vec<String>> {
    let text = ipvsadm(&["-Ln"]);
    let mut lines = text.lines().skip_while(|l| !l.starts_with(svc));
    lines.next()?;
    let mut v: Vec<String> = lines
        .take_while(|l| l.starts_with("  ->"))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            format!("{} {}", w[1], w[3])
        })
        .collect();
    v.sort();
    Some(v)
}

/// Wait until the service's destinations are `want` (`None`: no service).
fn expect(d: &Daemon, svc: &str, want: Option<&[&str]>) {
    let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let deadline = Instant::now() + WITHIN;
    loop {
        let got = dests(svc);
        if got == want {
            return;
        }
        if Instant::now() > deadline {
            panic!("{svc}: want {want:?}, IPVS has {got:?}\n{}\n--- daemon log\n{}", ipvsadm(&["-Ln"]), d.log());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn tcp_vs(vip: &str, servers: &[(&str, u16, u32)]) -> String {
    let mut s = format!("global_defs {{\n router_id guest\n}}\nvirtual_server {vip} 80 {{\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n protocol TCP\n");
    for (a, p, w) in servers {
        s += &format!(
            " real_server {a} {p} {{\n  weight {w}\n  TCP_CHECK {{\n   connect_timeout 1\n   retry 0\n  }}\n }}\n"
        );
    }
    s + "}\n"
}

fn listen(addr: &str) -> TcpListener {
    TcpListener::bind(addr).unwrap_or_else(|e| panic!("listen on {addr}: {e}"))
}

#[test]
fn tcp_check_follows_the_listeners() {
    if !vm::guest() {
        return;
    }
    let dir = scratch("tcp");
    let a = listen("127.0.0.2:8081");
    let mut d = Daemon::start(&dir, &tcp_vs("10.10.0.1", &[("127.0.0.2", 8081, 1), ("127.0.0.3", 8082, 2)]), &[]);
    let svc = "TCP  10.10.0.1:80";
    expect(&d, svc, Some(&["127.0.0.2:8081 1"]));
    let b = listen("127.0.0.3:8082");
    expect(&d, svc, Some(&["127.0.0.2:8081 1", "127.0.0.3:8082 2"]));
    drop(a);
    expect(&d, svc, Some(&["127.0.0.3:8082 2"]));
    d.stop();
    assert_eq!(dests(svc), None, "the service is still there after stop:\n{}", d.log());
    drop(b);
}

#[test]
fn misc_check_follows_the_exit_code() {
    if !vm::guest() {
        return;
    }
    let dir = scratch("misc");
    let code = dir.join("code");
    std::fs::write(&code, "0").unwrap();
    let script = dir.join("check.sh");
    std::fs::write(&script, format!("#!/bin/sh\nexit $(cat {})\n", code.display())).unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(&mut std::fs::metadata(&script).unwrap().permissions(), 0o755);
    Command::new("chmod").args(["755", &script.display().to_string()]).status().unwrap();
    let conf = format!(
        "virtual_server 10.10.0.2 80 {{\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n protocol TCP\n \
         real_server 127.0.0.4 8083 {{\n  weight 1\n  MISC_CHECK {{\n   misc_path {}\n   misc_timeout 5\n   misc_dynamic\n  }}\n }}\n}}\n",
        script.display()
    );
    let mut d = Daemon::start(&dir, &conf, &[]);
    let svc = "TCP  10.10.0.2:80";
    expect(&d, svc, Some(&["127.0.0.4:8083 1"]));
    std::fs::write(&code, "1").unwrap();
    expect(&d, svc, Some(&[]));
    std::fs::write(&code, "7").unwrap();
    expect(&d, svc, Some(&["127.0.0.4:8083 5"]));
    std::fs::write(&code, "0").unwrap();
    expect(&d, svc, Some(&["127.0.0.4:8083 1"]));
    d.stop();
    assert_eq!(dests(svc), None);
}

#[test]
fn reload_keeps_survivors_and_changes_the_rest() {
    if !vm::guest() {
        return;
    }
    let dir = scratch("reload");
    let _l: Vec<TcpListener> =
        ["127.0.0.5:8084", "127.0.0.6:8085", "127.0.0.7:8086"].iter().map(|a| listen(a)).collect();
    let mut d = Daemon::start(&dir, &tcp_vs("10.10.0.3", &[("127.0.0.5", 8084, 1), ("127.0.0.6", 8085, 1)]), &[]);
    let svc = "TCP  10.10.0.3:80";
    expect(&d, svc, Some(&["127.0.0.5:8084 1", "127.0.0.6:8085 1"]));
    // A mark on the survivor: a delete and re-add (or an edit) would lose it.
    ipvsadm(&["-e", "-t", "10.10.0.3:80", "-r", "127.0.0.5:8084", "-m", "-w", "77"]);
    expect(&d, svc, Some(&["127.0.0.5:8084 77", "127.0.0.6:8085 1"]));
    d.reload(&tcp_vs("10.10.0.3", &[("127.0.0.5", 8084, 1), ("127.0.0.7", 8086, 1)]));
    expect(&d, svc, Some(&["127.0.0.5:8084 77", "127.0.0.7:8086 1"]));
    d.stop();
    assert_eq!(dests(svc), None);
}

#[test]
fn stop_with_dont_release_ipvs_keeps_the_service() {
    if !vm::guest() {
        return;
    }
    let dir = scratch("keep");
    let _l = listen("127.0.0.8:8087");
    let mut d = Daemon::start(&dir, &tcp_vs("10.10.0.4", &[("127.0.0.8", 8087, 3)]), &["-I"]);
    let svc = "TCP  10.10.0.4:80";
    expect(&d, svc, Some(&["127.0.0.8:8087 3"]));
    d.stop();
    assert_eq!(dests(svc), Some(vec!["127.0.0.8:8087 3".to_string()]), "{}", d.log());
    ipvsadm(&["-D", "-t", "10.10.0.4:80"]);
}

#[test]
fn without_ipvs_the_daemon_stops_as_keepalived() {
    if vm::guest() || Path::new("/proc/net/ip_vs").exists() {
        return;
    }
    let dir = scratch("noipvs");
    let mut d = Daemon::start(&dir, &tcp_vs("10.10.0.5", &[("127.0.0.9", 8088, 1)]), &[]);
    let mut c = d.child.take().unwrap();
    let deadline = Instant::now() + WITHIN;
    while c.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the daemon did not stop:\n{}", d.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = d.log();
    for line in [
        "Initializing ipvs",
        "IPVS: Can't initialize ipvs: No such file or directory",
        "Shutting down service [127.0.0.9]:tcp:8088 from VS [10.10.0.5]:tcp:80",
        "exited with permanent error FATAL. Terminating",
    ] {
        assert!(log.contains(line), "missing {line:?} in\n{log}");
    }
}

fn group_vs(entries: &[&str]) -> String {
    let entries: String = entries.iter().map(|e| format!(" {e} 80\n")).collect();
    format!(
        "virtual_server_group G {{\n{entries}}}\nvirtual_server group G {{\n delay_loop 1\n lb_algo rr\n lb_kind DR\n protocol TCP\n \
         real_server 127.0.0.10 80 {{\n  weight 2\n  TCP_CHECK {{\n   connect_timeout 1\n   retry 0\n  }}\n }}\n}}\n"
    )
}

/// A group reload as keepalived 2.2.7 does it: a kept entry is left alone,
/// a new one gets the live destinations; a removed entry loses them but
/// its service stays (2.2.7 does not count them down), and at stop the
/// entries a reload added stay too (their destinations were never
/// counted). The parity suite's `vsg` scenario pins the same.
#[test]
fn reload_of_a_group_as_keepalived() {
    if !vm::guest() {
        return;
    }
    let dir = scratch("group");
    let _l = listen("127.0.0.10:80");
    let mut d = Daemon::start(&dir, &group_vs(&["10.10.1.1", "10.10.1.2"]), &[]);
    let (s1, s2, s3) = ("TCP  10.10.1.1:80", "TCP  10.10.1.2:80", "TCP  10.10.1.3:80");
    expect(&d, s1, Some(&["127.0.0.10:80 2"]));
    expect(&d, s2, Some(&["127.0.0.10:80 2"]));
    ipvsadm(&["-e", "-t", "10.10.1.2:80", "-r", "127.0.0.10:80", "-g", "-w", "77"]);
    d.reload(&group_vs(&["10.10.1.2", "10.10.1.3"]));
    expect(&d, s3, Some(&["127.0.0.10:80 2"]));
    expect(&d, s1, Some(&[]));
    expect(&d, s2, Some(&["127.0.0.10:80 77"]));
    d.stop();
    assert_eq!((dests(s1), dests(s2), dests(s3)), (Some(vec![]), None, Some(vec![])), "{}", d.log());
    ipvsadm(&["-C"]);
}

/// Least privilege: once started, the checker child keeps only
/// cap_chown, cap_dac_override, cap_kill, cap_setgid, cap_setuid,
/// cap_net_bind_service, cap_net_admin and cap_net_raw, with the bounding
/// set untouched; IPVS still follows the checks afterwards (the other tests
/// here run after the drop too: reloads, MISC_CHECK scripts).
#[test]
fn checker_child_keeps_only_its_capabilities() {
    if !vm::guest() {
        return;
    }
    let dir = scratch("caps");
    let a = listen("127.0.0.9:8089");
    let mut d = Daemon::start(&dir, &tcp_vs("10.10.0.9", &[("127.0.0.9", 8089, 1)]), &[]);
    let svc = "TCP  10.10.0.9:80";
    expect(&d, svc, Some(&["127.0.0.9:8089 1"]));
    let pid = std::fs::read_to_string(dir.join("c.pid")).unwrap();
    // The child drops its capabilities once started, which may be just after IPVS got its first
    // destination: wait for its line.
    let deadline = Instant::now() + WITHIN;
    while !d.log().contains("Capabilities kept") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).unwrap();
    let ours = std::fs::read_to_string("/proc/self/status").unwrap();
    let cap = |st: &str, name: &str| {
        let line = st.lines().find(|l| l.starts_with(name)).unwrap().to_string();
        u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
    };
    assert_eq!(cap(&status, "CapEff:"), 0x34e3, "{status}");
    assert_eq!(cap(&status, "CapPrm:"), 0x34e3, "{status}");
    assert_eq!(cap(&status, "CapBnd:"), cap(&ours, "CapBnd:"), "{status}");
    drop(a);
    expect(&d, svc, Some(&[]));
    d.stop();
    assert!(d.log().contains("Capabilities kept: cap_chown,cap_dac_override,cap_kill,cap_setgid,cap_setuid,cap_net_bind_service,cap_net_admin,cap_net_raw"));
    assert_eq!(dests(svc), None);
}

/// `GET /metrics` from the daemon's metrics endpoint.
fn scrape(addr: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("metrics at {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut body = String::new();
    let _ = s.read_to_string(&mut body);
    body
}

/// The value of the sample `series` (name and labels) in a scrape.
fn sample(body: &str, series: &str) -> Option<u64> {
    body.lines().find_map(|l| l.strip_prefix(series)?.trim().parse::<f64>().ok()).map(|v| v as u64)
}

/// The IPVS counters in the metrics are the kernel's: connections made through the virtual
/// server appear in `keepalived_rs_virtual_server_connections_total` and the real server's, equal
/// to what `ipvsadm -Ln --stats` shows.
#[test]
fn metrics_carry_the_ipvs_counters() {
    if !vm::guest() {
        return;
    }
    let dir = scratch("stats");
    let rs = listen("127.0.0.2:8091");
    let conf = "global_defs {\n router_id guest\n}\nvirtual_server 10.10.9.1 80 {\n lb_algo rr\n lb_kind NAT\n \
                protocol TCP\n real_server 127.0.0.2 8091 {\n  weight 1\n }\n}\n";
    let mut d = Daemon::start(&dir, conf, &["--metrics=127.0.0.1:9651"]);
    expect(&d, "TCP  10.10.9.1:80", Some(&["127.0.0.2:8091 1"]));
    let _ = Command::new("ip").args(["addr", "add", "10.10.9.1/32", "dev", "lo"]).status();
    let target: std::net::SocketAddr = "10.10.9.1:80".parse().unwrap();
    for _ in 0..3 {
        let _ = std::net::TcpStream::connect_timeout(&target, Duration::from_millis(500));
    }
    // The kernel folds its per-CPU counters into what it reports every 2 s (the IPVS estimator):
    // wait until it reports the connections, then scrape.
    let read_stats = || ipvsadm(&["-Ln", "--stats", "-t", "10.10.9.1:80"]);
    let deadline = Instant::now() + WITHIN;
    while !read_stats().lines().any(|l| l.trim_start().starts_with("TCP") && l.split_whitespace().nth(2) == Some("3"))
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    let body = scrape("127.0.0.1:9651");
    let stats = read_stats();
    let _ = Command::new("ip").args(["addr", "del", "10.10.9.1/32", "dev", "lo"]).status();
    d.stop();
    drop(rs);
    // ipvsadm --stats: `TCP  10.10.9.1:80  Conns InPkts OutPkts InBytes OutBytes`, then `  -> RIP:PORT …`.
    let conns = |prefix: &str| -> Option<u64> {
        stats.lines().find(|l| l.trim_start().starts_with(prefix))?.split_whitespace().nth(2)?.parse().ok()
    };
    let vs = "keepalived_rs_virtual_server_connections_total{virtual_server=\"[10.10.9.1]:tcp:80\"}";
    let real = "keepalived_rs_real_server_connections_total{virtual_server=\"[10.10.9.1]:tcp:80\",\
                real_server=\"[127.0.0.2]:tcp:8091\"}";
    eprintln!("ipvsadm --stats:\n{stats}\nmetrics: vs {:?} rs {:?}", sample(&body, vs), sample(&body, real));
    assert_eq!(sample(&body, vs), conns("TCP"), "{body}\n{stats}");
    assert_eq!(sample(&body, real), conns("-> 127.0.0.2:8091"), "{body}\n{stats}");
    assert!(body.contains("keepalived_rs_real_server_active_connections{"), "{body}");
}
