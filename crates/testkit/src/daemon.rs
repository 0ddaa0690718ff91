//! The keepalived processes under test: either implementation started on
//! a [`Node`] with keepalived's own flags ([`Daemon`]), keepalived-rs alone
//! in a fresh namespace ([`Unshared`]), and what they talk to on the same
//! host: notify scripts ([`write_script`]) and the notify FIFO ([`FifoReader`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::netns::Node;
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
            .arg(format!("{setup}\nexec \"$0\" \"$@\""))
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
