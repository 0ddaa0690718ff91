//! Shared harness of the comparison tests that run the same configuration
//! under the real keepalived 2.2.7 and under keepalived-rs: a network
//! namespace per run with `eth0` (a veth whose far end is in a peer
//! namespace, `<name>p`, where captures and pings run), the daemon started
//! with keepalived's own flags, stopped with SIGTERM through its pid file,
//! everything removed on drop.
#![allow(dead_code)] // each test file uses its own part

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const KEEPALIVED: &str = "/usr/sbin/keepalived";

/// Root, keepalived 2.2.7 and the given commands, else a SKIP note.
pub fn usable(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !have(t)).collect();
    if !nix::unistd::getuid().is_root() || !Path::new(KEEPALIVED).exists() || !missing.is_empty() {
        eprintln!("SKIP: needs root, {KEEPALIVED} and {tools:?} (missing: {missing:?})");
        return false;
    }
    true
}

pub fn have(cmd: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {cmd}")]).output().is_ok_and(|o| o.status.success())
}

/// A shell command's standard output.
pub fn sh(cmd: &str) -> String {
    let out = Command::new("sh").args(["-c", cmd]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn run(args: &[&str]) {
    let st = Command::new(args[0]).args(&args[1..]).status().unwrap();
    assert!(st.success(), "{args:?} failed");
}

pub fn wait_for(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A node: namespace `name` with `eth0` = 198.51.100.1/24, its far end
/// `peth0` = 198.51.100.2/24 in namespace `name`p, and a work directory.
pub struct Node {
    pub ns: String,
    pub peer: String,
    pub dir: PathBuf,
}

impl Node {
    pub fn new(test: &str, tag: &str) -> Node {
        let ns = format!("ka{test}{}{tag}", std::process::id() % 100000);
        let peer = format!("{ns}p");
        let dir = PathBuf::from(format!("/tmp/ka-rs-{test}-{}-{tag}", std::process::id()));
        let node = Node { ns, peer, dir };
        node.remove();
        std::fs::create_dir_all(&node.dir).unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            // Scripts under enable_script_security need a directory only root writes.
            std::fs::set_permissions(&node.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let (n, p) = (&node.ns, &node.peer);
        let script = format!(
            "set -e; ip netns add {n}; ip netns add {p}; \
             ip -n {n} link add eth0 type veth peer name peth0 netns {p}; \
             ip -n {n} link set lo up; ip -n {n} link set eth0 up; ip -n {p} link set peth0 up; \
             ip -n {n} addr add 198.51.100.1/24 dev eth0; ip -n {p} addr add 198.51.100.2/24 dev peth0"
        );
        assert!(Command::new("sh").args(["-c", &script]).status().unwrap().success(), "lab set-up");
        node
    }

    /// Run a command in the node's namespace.
    pub fn exec(&self, args: &[&str]) {
        let mut v = vec!["ip", "netns", "exec", &self.ns];
        v.extend_from_slice(args);
        run(&v);
    }

    /// `ip -o addr show` of the node.
    pub fn addrs(&self) -> String {
        sh(&format!("ip -n {} -o addr show", self.ns))
    }

    pub fn has_addr(&self, addr: &str) -> bool {
        self.addrs().contains(&format!(" {addr}/"))
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

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

    fn remove(&self) {
        let _ = Command::new("sh")
            .args(["-c", &format!("ip netns del {} 2>/dev/null; ip netns del {} 2>/dev/null", self.ns, self.peer)])
            .status();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.remove();
        if std::env::var_os("PARITY_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub struct Daemon {
    child: Child,
    pidfile: PathBuf,
    log: PathBuf,
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
        if !wait_for(10, || matches!(child.try_wait(), Ok(Some(_)))) {
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

/// A tcpdump in the node's peer namespace, writing a pcap file.
pub struct Capture {
    child: Child,
    pub file: PathBuf,
}

impl Capture {
    pub fn start(node: &Node, filter: &str) -> Capture {
        let file = node.path("capture.pcap");
        // -Z root: tcpdump would drop to its own user and fail to write here.
        let child = Command::new("ip")
            .args(["netns", "exec", &node.peer, "tcpdump", "-Z", "root", "-U", "-n", "-i", "peth0", "-w"])
            .arg(&file)
            .arg(filter)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(500));
        Capture { child, file }
    }

    /// Stop and return the capture as `tcpdump -e -n -r` text.
    pub fn finish(mut self) -> String {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        );
        let _ = self.child.wait();
        sh(&format!("tcpdump -e -n -r {} 2>/dev/null", self.file.display()))
    }
}

/// The gratuitous ARPs for `addr` in a capture's text.
pub fn garps(text: &str, addr: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains(&format!("who-has {addr} ")) && l.contains(&format!("tell {addr},")))
        .map(str::to_string)
        .collect()
}
