//! The daemons a test talks to: keepalived (2.2.7 or ours) started on a
//! [`Node`] with keepalived's own flags ([`Daemon`]), and the `shared/lab`
//! bridge of hosts ([`Lab`]) where keepalived 2.2.7 and FRR run as peers
//! of ours through the lab's scripts (lab.sh, ka.sh, frr.sh).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::kernel::Kernel;
use crate::netns::Node;
use crate::prereq::{self, KEEPALIVED};
use crate::wait::wait_for;

/// A keepalived started by [`Node::start`], stopped (SIGTERM through its
/// pid file) on drop.
pub struct Daemon {
    child: Child,
    pidfile: PathBuf,
    log: PathBuf,
}

impl Node {
    /// Start `binary` on `conf` (written to the work directory) with
    /// keepalived's flags: foreground, console log, detail, VRRP only.
    pub fn start(&self, binary: &str, conf: &str) -> Daemon {
        self.start_env(binary, conf, &[])
    }

    /// [`Node::start`] with extra environment variables (e.g. `TMPDIR`).
    pub fn start_env(&self, binary: &str, conf: &str, env: &[(&str, &str)]) -> Daemon {
        self.start_with(binary, conf, &["-P"], env)
    }

    /// [`Node::start_env`] with the subsystem flags `modes` instead of
    /// `-P` (none: every child the configuration needs).
    pub fn start_with(&self, binary: &str, conf: &str, modes: &[&str], env: &[(&str, &str)]) -> Daemon {
        let path = self.path("keepalived.conf");
        std::fs::write(&path, conf).unwrap();
        let d = self.dir.display().to_string();
        let log = std::fs::File::create(self.path("daemon.log")).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns, binary, "-n", "-l", "-D"])
            .args(modes)
            .arg("-f")
            .arg(&path)
            .args(["-p", &format!("{d}/k.pid"), "-r", &format!("{d}/v.pid"), "-c", &format!("{d}/c.pid")])
            .args(["-b", &format!("{d}/b.pid")])
            .envs(env.iter().copied())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        Daemon { child, pidfile: self.path("k.pid"), log: self.path("daemon.log") }
    }
}

impl Daemon {
    /// The parent's pid, from its pid file.
    pub fn pid(&self) -> Option<nix::unistd::Pid> {
        let s = std::fs::read_to_string(&self.pidfile).ok()?;
        s.trim().parse().ok().map(nix::unistd::Pid::from_raw)
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        if let Some(p) = self.pid() {
            let _ = nix::sys::signal::kill(p, sig);
        }
    }

    /// SIGTERM, then wait for the exit (SIGKILL after 10 s).
    pub fn stop(&mut self) {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        let child = &mut self.child;
        if !wait_for(Duration::from_secs(10), || matches!(child.try_wait(), Ok(Some(_)))) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}

/// keepalived-rs alone in a fresh network namespace (`unshare -n`, set up
/// by the shell commands `setup` before the daemon is exec'd), with a work
/// directory holding its configuration, pid files, TMPDIR and log (its
/// stderr, `log`). Without IPVS on this host the checker child runs under
/// the `KEEPALIVED_RS_TEST_WITHOUT_IPVS` hook. SIGTERM (SIGKILL after 8 s)
/// and the directory removed on drop (`KA_RS_KEEP_LAB` keeps it).
pub struct Unshared {
    child: Option<Child>,
    pub dir: PathBuf,
}

impl Unshared {
    /// Start `bin` with keepalived's foreground flags, its files in a new
    /// directory for `tag`, then `flags` (`$DIR` in them: that directory);
    /// `env` on top of the hook's.
    pub fn start(bin: &str, tag: &str, setup: &str, config: &str, flags: &[&str], env: &[(&str, &str)]) -> Unshared {
        let dir = crate::servers::scratch(&format!("{tag}-{}", next()));
        use std::os::unix::fs::PermissionsExt;
        // Others must reach a status socket here (the credential check is the gate).
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.join("keepalived.conf"), config).unwrap();
        let log = std::fs::File::create(dir.join("log")).unwrap();
        let d = |f: &str| dir.join(f).to_string_lossy().into_owned();
        let mut args: Vec<String> = ["-n", "-l", "-G"].map(String::from).to_vec();
        for (opt, file) in [("-f", "keepalived.conf"), ("-p", "keepalived.pid"), ("-r", "vrrp.pid")] {
            args.extend([opt.to_string(), d(file)]);
        }
        args.extend(["-c".to_string(), d("checkers.pid"), "-b".to_string(), d("bfd.pid")]);
        args.extend(flags.iter().map(|f| f.replace("$DIR", &dir.to_string_lossy())));
        let child = Command::new("unshare")
            .args(["-n", "bash", "-c"])
            .arg(format!("{setup}; exec \"$0\" \"$@\""))
            .arg(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .env("TMPDIR", &dir)
            .env("KEEPALIVED_RS_TEST_WITHOUT_IPVS", "1")
            .envs(env.iter().copied())
            .spawn()
            .expect("start keepalived-rs under unshare -n");
        Unshared { child: Some(child), dir }
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("log")).unwrap_or_default()
    }

    /// The parent's pid (0 once it has exited).
    pub fn pid(&self) -> i32 {
        self.child.as_ref().map_or(0, |c| c.id() as i32)
    }

    /// The pid in pid file `file` of the work directory.
    pub fn pid_of(&self, file: &str) -> Option<i32> {
        std::fs::read_to_string(self.path(file)).ok()?.trim().parse().ok()
    }

    /// `kill -SIG` to the parent (`sig`: `HUP`, `USR1`...).
    pub fn signal(&self, sig: &str) {
        let _ = Command::new("kill").args([format!("-{sig}"), self.pid().to_string()]).status();
    }

    /// Wait for the parent to exit; its exit code.
    pub fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let child = self.child.as_mut()?;
        let mut code = None;
        if !wait_for(within, || child.try_wait().ok().flatten().map(|st| code = st.code()).is_some()) {
            return None;
        }
        self.child = None;
        code
    }

    /// Run `f` on a thread inside the daemon's network namespace.
    pub fn within<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        crate::netns::within_path(&format!("/proc/{}/ns/net", self.pid()), f)
    }

    /// A shell command in the daemon's network namespace, which must succeed.
    pub fn sh(&self, cmd: &str) {
        let st = Command::new("nsenter").args(["-t", &self.pid().to_string(), "-n", "sh", "-c", cmd]).status();
        assert!(st.is_ok_and(|s| s.success()), "{cmd}");
    }

    /// Take the parent's process (the test stops it itself).
    pub fn take_child(&mut self) -> Option<Child> {
        self.child.take()
    }
}

impl Drop for Unshared {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").args(["-TERM", &c.id().to_string()]).status();
            if !wait_for(Duration::from_secs(8), || c.try_wait().is_ok_and(|s| s.is_some())) {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
        if std::env::var_os("KA_RS_KEEP_LAB").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A reader of a daemon's notify FIFO that keeps reading across the
/// close and reopen both implementations do at a reload; each line with
/// the time it arrived.
pub struct FifoReader {
    path: PathBuf,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Vec<(Instant, String)>>,
}

impl FifoReader {
    /// Make the FIFO at `path` and start reading it.
    pub fn start(path: &Path) -> FifoReader {
        let _ = nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o644));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (fifo, flag) = (path.to_path_buf(), stop.clone());
        let thread = std::thread::spawn(move || {
            use std::io::BufRead;
            let mut lines = Vec::new();
            while !flag.load(std::sync::atomic::Ordering::SeqCst) {
                let Ok(f) = std::fs::File::open(&fifo) else { break };
                lines.extend(std::io::BufReader::new(f).lines().map_while(Result::ok).map(|l| (Instant::now(), l)));
            }
            lines
        });
        FifoReader { path: path.to_path_buf(), stop, thread }
    }

    /// Stop reading (unblocking a reader that waits for a writer); every line read.
    pub fn finish(self) -> Vec<(Instant, String)> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        {
            use std::os::unix::fs::OpenOptionsExt;
            let _ = std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(&self.path);
        }
        self.thread.join().unwrap_or_default()
    }
}

/// A `/bin/sh` script at `path` running `body`, mode 0755 (notify and
/// check scripts the daemons run).
pub fn write_script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A number unique in this process (work directories of one tag).
fn next() -> u32 {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
}

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
