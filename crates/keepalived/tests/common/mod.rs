//! Shared by the lab tests (hostile_lan, wire_capture, interop_frr): a
//! private copy of ../shared/lab (lab.sh, ka.sh, frr.sh) under a pid-based
//! LAB_PREFIX, torn down by a Drop guard whatever happens; a raw socket
//! opened inside a lab host; a pcap reader; the engine's counters recomputed
//! from the daemon's event log. Each test binary uses a subset.
#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const OURS: &str = env!("CARGO_BIN_EXE_keepalived");

/// $KA_LAB_DIR, else the first `shared/lab` above the crate (../shared/lab
/// of the repository, also from a git worktree deeper down).
pub fn lab_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("KA_LAB_DIR") {
        return Some(PathBuf::from(d));
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().map(|a| a.join("shared/lab")).find(|d| d.join("lab.sh").exists())
}

pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// The lab scripts when we are root and every tool in `tools` exists; else prints SKIP.
pub fn usable(tools: &[&str]) -> Option<PathBuf> {
    if !is_root() {
        eprintln!("SKIP: needs root");
        return None;
    }
    let Some(lab) = lab_dir() else {
        eprintln!("SKIP: needs ../shared/lab (lab.sh, ka.sh)");
        return None;
    };
    for t in tools {
        let found = if t.starts_with('/') {
            Path::new(t).exists()
        } else {
            Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !found {
            eprintln!("SKIP: {t} is missing");
            return None;
        }
    }
    Some(lab)
}

pub fn wait_for(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A lab of `hosts` namespaces on a bridge (lab.sh), with its own run
/// directory for keepalived (ka.sh) and FRR (frr.sh) files.
pub struct Lab {
    pub scripts: PathBuf,
    pub prefix: String,
    pub run: PathBuf,
    pub hosts: u32,
    frr: bool,
    tcpdump: Vec<std::process::Child>,
}

impl Lab {
    pub fn up(scripts: &Path, tag: &str, hosts: u32) -> Lab {
        let pid = std::process::id();
        let prefix = format!("{tag}{}-", pid % 100_000);
        let run = std::env::temp_dir().join(format!("ka-rs-{tag}-{pid}"));
        let _ = std::fs::remove_dir_all(&run);
        std::fs::create_dir_all(&run).unwrap();
        let lab = Lab { scripts: scripts.to_path_buf(), prefix, run, hosts, frr: false, tcpdump: Vec::new() };
        let _ = lab.script("lab.sh", &["down"]);
        let out = lab.script("lab.sh", &["up", &hosts.to_string()]);
        assert!(out.status.success(), "lab.sh up failed: {}", String::from_utf8_lossy(&out.stderr));
        lab
    }

    fn cmd(&self, script: &str) -> Command {
        let mut c = Command::new("bash");
        c.arg(self.scripts.join(script))
            .env("LAB_PREFIX", &self.prefix)
            .env("KA_RUN", self.run.join("ka"))
            .env("FRR_RUN", self.run.join("frr"))
            .stdin(Stdio::null());
        c
    }

    pub fn script(&self, script: &str, args: &[&str]) -> Output {
        self.cmd(script).args(args).output().expect("run a lab script")
    }

    pub fn ns(&self, n: u32) -> String {
        format!("{}h{n}", self.prefix)
    }

    pub fn sw(&self) -> String {
        format!("{}sw", self.prefix)
    }

    /// `ip -n hN -o addr show dev eth0` lists `addr`.
    pub fn has_addr(&self, n: u32, addr: &str) -> bool {
        self.has_addr_on(n, "eth0", addr)
    }

    pub fn has_addr_on(&self, n: u32, dev: &str, addr: &str) -> bool {
        let out = Command::new("ip").args(["-n", &self.ns(n), "-o", "addr", "show", "dev", dev]).output();
        out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(&format!(" {addr}/")))
    }

    /// Hosts (1..=hosts) holding `addr` on eth0.
    pub fn holders(&self, addr: &str) -> Vec<u32> {
        (1..=self.hosts).filter(|&n| self.has_addr(n, addr)).collect()
    }

    pub fn ka_log_path(&self, n: u32) -> PathBuf {
        self.run.join("ka").join(format!("h{n}.log"))
    }

    pub fn ka_log(&self, n: u32) -> String {
        std::fs::read_to_string(self.ka_log_path(n)).unwrap_or_default()
    }

    pub fn events_path(&self, n: u32) -> PathBuf {
        self.run.join(format!("h{n}.events.jsonl"))
    }

    /// Start keepalived `bin` in host N with ka.sh (config-id hN, VRRP only,
    /// the event log recorded when it is keepalived-rs).
    pub fn start_ka(&self, n: u32, bin: &str, conf: &Path) {
        let mut c = self.cmd("ka.sh");
        c.args(["start", &n.to_string()]).arg(conf).arg("-P").env(format!("KA_BIN_h{n}"), bin);
        if bin == OURS {
            c.env("KEEPALIVED_RS_EVENT_LOG", self.events_path(n));
        }
        let out = c.output().expect("ka.sh start");
        assert!(out.status.success(), "ka.sh start {n}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Start keepalived `bin` in host N with ka.sh and `args` (no `-P`:
    /// every child the configuration needs, BFD included), with TMPDIR the
    /// host's own directory (`run`/tmp-hN: its dump files).
    pub fn start_ka_args(&self, n: u32, bin: &str, conf: &Path, args: &[&str]) {
        let tmp = self.tmp_dir(n);
        std::fs::create_dir_all(&tmp).unwrap();
        let mut c = self.cmd("ka.sh");
        c.args(["start", &n.to_string()]).arg(conf).args(args).env(format!("KA_BIN_h{n}"), bin).env("TMPDIR", tmp);
        let out = c.output().expect("ka.sh start");
        assert!(out.status.success(), "ka.sh start {n}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Host N's TMPDIR under [`Lab::start_ka_args`].
    pub fn tmp_dir(&self, n: u32) -> PathBuf {
        self.run.join(format!("tmp-h{n}"))
    }

    /// ka.sh stop (SIGTERM by default: the priority-0 advert).
    pub fn stop_ka(&self, n: u32, sig: &str) {
        let _ = self.script("ka.sh", &["stop", &n.to_string(), sig]);
    }

    /// ka.sh crash: no priority-0 advert.
    pub fn crash_ka(&self, n: u32) {
        let _ = self.script("ka.sh", &["crash", &n.to_string()]);
    }

    pub fn ka_parent_pid(&self, n: u32) -> Option<i32> {
        std::fs::read_to_string(self.run.join("ka").join(format!("h{n}.launcher.pid"))).ok()?.trim().parse().ok()
    }

    pub fn ka_vrrp_pid(&self, n: u32) -> Option<i32> {
        std::fs::read_to_string(self.run.join("ka").join(format!("h{n}-vrrp.pid"))).ok()?.trim().parse().ok()
    }

    /// FRR helpers (frr.sh); marks the lab so Drop stops FRR in host N=2.
    pub fn frr(&mut self, args: &[&str]) -> Output {
        self.frr = true;
        self.script("frr.sh", args)
    }

    pub fn frr_dir(&self, n: u32) -> PathBuf {
        self.run.join("frr").join(format!("h{n}"))
    }

    /// Start tcpdump on the bridge, writing `file`; returns once it runs.
    pub fn capture(&mut self, file: &Path, filter: &[&str]) {
        self.capture_opts(file, filter, false);
    }

    /// [`Lab::capture`] with `--immediate-mode`: packets reach the file at
    /// once instead of in the kernel's blocks (which a stop can cut short),
    /// at the cost of a wake-up per packet (not for floods).
    pub fn capture_immediate(&mut self, file: &Path, filter: &[&str]) {
        self.capture_opts(file, filter, true);
    }

    fn capture_opts(&mut self, file: &Path, filter: &[&str], immediate: bool) {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.sw(), "tcpdump", "-i", "br0"]);
        if immediate {
            c.arg("--immediate-mode");
        }
        let child = c
            .args(["-U", "-s", "0", "-w"])
            .arg(file)
            .args(filter)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tcpdump");
        self.tcpdump.push(child);
        wait_for(Duration::from_secs(3), || std::fs::metadata(file).is_ok_and(|m| m.len() >= 24));
        std::thread::sleep(Duration::from_millis(300));
    }

    /// Stop every capture (SIGINT: tcpdump flushes its file).
    pub fn stop_captures(&mut self) {
        for mut c in self.tcpdump.drain(..) {
            let _ = Command::new("kill").args(["-INT", &c.id().to_string()]).status();
            if !wait_for(Duration::from_secs(3), || c.try_wait().is_ok_and(|s| s.is_some())) {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.stop_captures();
        for n in 1..=self.hosts {
            self.stop_ka(n, "TERM");
        }
        if self.frr {
            for n in 1..=self.hosts {
                let _ = self.script("frr.sh", &["stop", &n.to_string()]);
            }
        }
        let _ = self.script("lab.sh", &["down"]);
        if std::env::var_os("KA_RS_KEEP_LAB").is_none() {
            let _ = std::fs::remove_dir_all(&self.run);
        } else {
            eprintln!("kept {}", self.run.display());
        }
    }
}

/// A raw IPv4 socket with IP_HDRINCL, opened in namespace `ns` (a thread
/// enters it for the creation; the socket stays in that namespace).
pub fn raw_hdrincl_socket_in(ns: &str, protocol: u8) -> socket2::Socket {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let f = std::fs::File::open(&path).expect("open the netns");
        nix::sched::setns(f.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        let s = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::RAW,
            Some(socket2::Protocol::from(i32::from(protocol))),
        )
        .expect("raw socket");
        s.set_header_included_v4(true).expect("IP_HDRINCL");
        s
    })
    .join()
    .expect("socket thread")
}

/// Send a whole IPv4 datagram (header included) to its destination, out
/// of interface address `via` for multicast.
pub fn send_datagram(s: &socket2::Socket, via: Ipv4Addr, datagram: &[u8]) -> std::io::Result<usize> {
    let dst = Ipv4Addr::new(datagram[16], datagram[17], datagram[18], datagram[19]);
    if dst.is_multicast() {
        s.set_multicast_if_v4(&via)?;
    }
    s.send_to(datagram, &std::net::SocketAddrV4::new(dst, 0).into())
}

/// One captured frame: time (µs since the epoch) and bytes.
pub struct Frame {
    pub t_us: u64,
    pub data: Vec<u8>,
}

/// Minimal classic-libpcap reader (µs or ns timestamps, either byte order).
pub fn read_pcap(path: &Path) -> Vec<Frame> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(data.len() >= 24, "{}: not a pcap", path.display());
    let magic = u32::from_le_bytes(data[0..4].try_into().unwrap());
    let (le, nano) = match magic {
        0xa1b2c3d4 => (true, false),
        0xa1b23c4d => (true, true),
        0xd4c3b2a1 => (false, false),
        0x4d3cb2a1 => (false, true),
        m => panic!("{}: not a classic pcap (magic {m:#x})", path.display()),
    };
    let u32_at = |at: usize| {
        let a: [u8; 4] = data[at..at + 4].try_into().unwrap();
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    assert_eq!(u32_at(20), 1, "{}: Ethernet link type expected", path.display());
    let mut frames = Vec::new();
    let mut at = 24;
    while at + 16 <= data.len() {
        let sec = u64::from(u32_at(at));
        let frac = u64::from(u32_at(at + 4));
        let incl = u32_at(at + 8) as usize;
        at += 16;
        if at + incl > data.len() {
            break; // a capture cut short by SIGINT
        }
        let t_us = sec * 1_000_000 + if nano { frac / 1000 } else { frac };
        frames.push(Frame { t_us, data: data[at..at + incl].to_vec() });
        at += incl;
    }
    frames
}

/// The per-instance counters of keepalived-rs in host N, recomputed by
/// replaying its event log (KEEPALIVED_RS_EVENT_LOG) on the same engine and
/// configuration: the stats file (SIGUSR2) does not carry the engine's
/// counters yet. Also the replayed state, to check the replay followed the
/// daemon.
pub fn replayed_stats(
    conf: &Path,
    config_id: &str,
    events: &Path,
) -> Vec<(String, keepalived_vrrp::types::State, keepalived_vrrp::types::Stats)> {
    let parsed = keepalived_config::parse_file(
        conf.to_str().unwrap(),
        &keepalived_config::ParseOptions { config_id: Some(config_id.to_string()), ..Default::default() },
    );
    let mut router = keepalived_vrrp::router::Router::from_config(&parsed.config).expect("engine config");
    let f = std::fs::File::open(events).unwrap_or_else(|e| panic!("{}: {e}", events.display()));
    let lines = keepalived_vrrp::replay::parse_log(std::io::BufReader::new(f)).expect("event log");
    let _ = keepalived_vrrp::replay::replay_lines(&mut router, &lines);
    router.instances().iter().map(|i| (i.config.name.clone(), i.state, i.stats)).collect()
}
