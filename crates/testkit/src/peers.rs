//! Lab peers: the `shared/lab` bridge of hosts ([`Lab`]) where keepalived
//! 2.2.7 and FRR run as peers of ours through the lab's scripts (lab.sh,
//! ka.sh, frr.sh).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::kernel::Kernel;
use crate::prereq::{self, KEEPALIVED};
use crate::wait::wait_for;

/// $KA_LAB_DIR, else the first `shared/lab` above the crate (../shared/lab
/// of the repository, also from a git worktree deeper down).
pub fn lab_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("KA_LAB_DIR") {
        return Some(PathBuf::from(d));
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().map(|a| a.join("shared/lab")).find(|d| d.join("lab.sh").exists())
}

/// The lab scripts, once root and every tool in `tools` are there; a
/// missing one fails the test.
pub fn lab_scripts(tools: &[&str]) -> PathBuf {
    prereq::require(tools);
    lab_dir().expect("this test needs ../shared/lab (lab.sh, ka.sh, frr.sh) beside the repository, or KA_LAB_DIR")
}

/// A lab of `hosts` namespaces on a bridge (lab.sh), with its own run
/// directory for keepalived (ka.sh) and FRR (frr.sh) files, under a
/// pid-based LAB_PREFIX; torn down by Drop whatever happens
/// (`KA_RS_KEEP_LAB` keeps the run directory).
pub struct Lab {
    pub scripts: PathBuf,
    pub prefix: String,
    pub run: PathBuf,
    pub hosts: u32,
    frr: bool,
    tcpdump: Vec<Child>,
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

    /// Host N holds `addr` on eth0.
    pub fn has_addr(&self, n: u32, addr: &str) -> bool {
        self.has_addr_on(n, "eth0", addr)
    }

    pub fn has_addr_on(&self, n: u32, dev: &str, addr: &str) -> bool {
        Kernel::named(&self.ns(n)).has_addr(Some(dev), addr)
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
        if bin != KEEPALIVED {
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
        self.pid_file(&format!("h{n}.launcher.pid"))
    }

    pub fn ka_vrrp_pid(&self, n: u32) -> Option<i32> {
        self.pid_file(&format!("h{n}-vrrp.pid"))
    }

    fn pid_file(&self, name: &str) -> Option<i32> {
        std::fs::read_to_string(self.run.join("ka").join(name)).ok()?.trim().parse().ok()
    }

    /// FRR helpers (frr.sh); marks the lab so Drop stops FRR in every host.
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
