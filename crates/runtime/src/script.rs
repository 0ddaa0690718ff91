//! Running scripts as keepalived does (FEATURES.md §4.3): the identity a
//! script runs as (its own `user [group]`, else `script_user`, else
//! `keepalived_script`, else ourselves), keepalived's `system()` fallback
//! for files that are not executables, and
//!
//! - [`run_script_blocking_with`]: the parent's start-up and shutdown
//!   scripts, waited for with keepalived's timeout steps;
//! - [`ScriptRunner`]: the children's notify, tracking and MISC_CHECK
//!   scripts, started without waiting and reaped on SIGCHLD from the
//!   child's loop, with a timeout (SIGTERM to the script's process group,
//!   SIGKILL later) and their output discarded.

use keepalived_config::model::global::GlobalDefs;
use keepalived_config::model::Script;
use nix::errno::Errno;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tracing::{error, info, warn};

fn strerror(e: Errno) -> &'static str {
    e.desc()
}

fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(0))
}

/// How a start-up/shutdown script ended.
#[derive(Debug, PartialEq, Eq)]
pub enum ScriptOutcome {
    Succeeded,
    Failed(i32),
    TimedOut,
    CouldNotRun(String),
    /// Killed by this signal (not by us).
    Signaled(i32),
}

/// The identity a script runs as (keepalived `user_id_t`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScriptIds {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (empty: cleared, as keepalived's setgroups(0)).
    pub groups: Vec<u32>,
}

/// Options for [`run_script_blocking_with`].
#[derive(Clone, Debug, Default)]
pub struct ScriptRunOpts {
    /// `-D`: log `Running startup script X` and `startup script script succeeded`.
    pub log_detail: bool,
    /// The identity scripts without their own user run as (keepalived's
    /// default script user); `None`: `keepalived_script` if it exists,
    /// else ourselves.
    pub default_ids: Option<ScriptIds>,
    /// `set_supplementary_groups`.
    pub set_supplementary_groups: bool,
}

impl ScriptRunOpts {
    /// From the global configuration: `script_user` (else
    /// `keepalived_script`, else ourselves) and `set_supplementary_groups`.
    pub fn from_global(global: &GlobalDefs, log_detail: bool) -> ScriptRunOpts {
        let default_ids = global.script_user.as_ref().map(|su| {
            let supp = su.set_supplementary_groups || global.set_supplementary_groups;
            let groups = if supp { supplementary_groups(&su.user) } else { Vec::new() };
            ScriptIds { uid: su.uid, gid: su.gid, groups }
        });
        ScriptRunOpts { log_detail, default_ids, set_supplementary_groups: global.set_supplementary_groups }
    }
}

pub fn our_ids() -> ScriptIds {
    ScriptIds { uid: nix::unistd::getuid().as_raw(), gid: nix::unistd::getgid().as_raw(), groups: Vec::new() }
}

/// getgrouplist(user, user's primary gid).
fn supplementary_groups(user: &str) -> Vec<u32> {
    let Ok(Some(u)) = nix::unistd::User::from_name(user) else { return Vec::new() };
    let Ok(name) = std::ffi::CString::new(user) else { return Vec::new() };
    match nix::unistd::getgrouplist(&name, u.gid) {
        Ok(gs) => gs.into_iter().map(|g| g.as_raw()).collect(),
        Err(_) => {
            info!("get supplementary groups for {user} returned -1");
            Vec::new()
        }
    }
}

/// keepalived notify.c `set_uid_gid`: a user name and optional group
/// (`:GROUP`, or `:` alone, also sets the supplementary groups).
pub fn resolve_script_user(user: &str, group: Option<&str>, set_supp: bool) -> Option<ScriptIds> {
    let u = match nix::unistd::User::from_name(user) {
        Ok(Some(u)) => u,
        Ok(None) => {
            info!("Script user '{user}' does not exist");
            return None;
        }
        Err(_) => {
            info!("Unable to resolve script username '{user}' - ignoring");
            return None;
        }
    };
    let mut set_supp = set_supp;
    let mut group = group;
    if let Some(g) = group.and_then(|g| g.strip_prefix(':')) {
        set_supp = true;
        group = (!g.is_empty()).then_some(g);
    }
    let mut gid = u.gid.as_raw();
    if let Some(g) = group {
        match nix::unistd::Group::from_name(g) {
            Ok(Some(gr)) => gid = gr.gid.as_raw(),
            Ok(None) => {
                info!("Script group '{g}' does not exist");
                return None;
            }
            Err(_) => {
                info!("Unable to resolve script group name '{g}' - ignoring");
                return None;
            }
        }
    }
    let groups = if set_supp { supplementary_groups(user) } else { Vec::new() };
    Some(ScriptIds { uid: u.uid.as_raw(), gid, groups })
}

/// The identity `script` runs as: its own `user [group]`, else the default
/// script user (see [`ScriptRunOpts::default_ids`]).
pub fn script_ids(script: &Script, opts: &ScriptRunOpts) -> ScriptIds {
    if let Some(u) = &script.user {
        return resolve_script_user(u, script.group.as_deref(), opts.set_supplementary_groups).unwrap_or_else(our_ids);
    }
    if let Some(ids) = &opts.default_ids {
        return ids.clone();
    }
    match nix::unistd::User::from_name("keepalived_script") {
        Ok(Some(_)) => {
            resolve_script_user("keepalived_script", None, opts.set_supplementary_groups).unwrap_or_else(our_ids)
        }
        _ => our_ids(),
    }
}

/// keepalived notify.c `get_default_script_user`: the configured `script_user`, else
/// `keepalived_script` if it exists, else ourselves; `None` when that user is missing and script
/// security is on (2.2.7 reports "Unable to set default user" and has no default).
pub fn default_script_ids(opts: &ScriptRunOpts, script_security: bool) -> Option<ScriptIds> {
    if let Some(ids) = &opts.default_ids {
        return Some(ids.clone());
    }
    match nix::unistd::User::from_name("keepalived_script") {
        Ok(Some(_)) => resolve_script_user("keepalived_script", None, opts.set_supplementary_groups),
        _ if script_security => None,
        _ => Some(our_ids()),
    }
}

/// keepalived notify.c `cmd_str`: the arguments single-quoted (an embedded
/// `'` as `'\''`), except a first word starting with `<` or `>` (a shell
/// redirection test), joined by spaces; what `system()` is given.
pub fn cmd_str(args: &[String]) -> String {
    let mut s = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        if i == 0 && (a.starts_with('<') || a.starts_with('>')) {
            s.push_str(a);
            continue;
        }
        s.push('\'');
        for c in a.chars() {
            if c == '\'' {
                s.push_str("'\\''");
            } else {
                s.push(c);
            }
        }
        s.push('\'');
    }
    s
}

/// Whether keepalived would execve() the file rather than hand it to
/// `system()`: keepalived asks libmagic for an "executable" or "shared
/// object"; an ELF file or a `#!` script is one. Unreadable files are
/// assumed executable (keepalived's default).
fn looks_execable(path: &Path) -> bool {
    let mut head = [0u8; 4];
    match File::open(path).and_then(|mut f| f.read(&mut head)) {
        Ok(n) => (n >= 2 && head[..2] == *b"#!") || (n == 4 && head == *b"\x7fELF"),
        Err(_) => true,
    }
}

/// glibc execvpe's search for a bare name (keepalived notify.c `find_path`),
/// with keepalived's warning when found.
fn find_in_path(name: &str, ids: &ScriptIds) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_else(|_| "/bin:/usr/bin".to_string());
    for dir in path.split(':') {
        let cand = if dir.is_empty() { PathBuf::from(name) } else { Path::new(dir).join(name) };
        let Ok(md) = std::fs::metadata(&cand) else { continue };
        if !md.is_file() || !is_executable(&md, ids.uid, ids.gid) {
            continue;
        }
        info!("WARNING - script `{name}` resolved by path search to `{}`. Please specify full path.", cand.display());
        return Some(cand);
    }
    None
}

/// keepalived notify.c `is_executable`.
fn is_executable(md: &std::fs::Metadata, uid: u32, gid: u32) -> bool {
    let mode = md.permissions().mode();
    (uid == 0 && mode & 0o111 != 0)
        || (uid == md.uid() && mode & 0o100 != 0)
        || (uid != md.uid() && ((gid == md.gid() && mode & 0o010 != 0) || (gid != md.gid() && mode & 0o001 != 0)))
}

/// Run a start-up or shutdown script, waiting at most `timeout` (then
/// SIGTERM, then SIGKILL), logging as keepalived does. `what` is
/// "startup script" or "shutdown script".
pub fn run_script_blocking(script: &Script, timeout: Duration, what: &str) -> ScriptOutcome {
    run_script_blocking_with(script, timeout, what, &ScriptRunOpts::default())
}

/// The child being waited for.
struct Running {
    child: std::process::Child,
    /// Run through `/bin/sh -c` (keepalived's `system()` path).
    system: bool,
    cmd: String,
}

impl Running {
    /// The wait status as keepalived's parent sees it: with `system()` the
    /// intermediate child exits 0 for 126/127 after logging, and re-raises
    /// a signal that killed the shell.
    fn status(&self, st: std::process::ExitStatus) -> (Option<i32>, Option<i32>) {
        use std::os::unix::process::ExitStatusExt;
        match (st.code(), st.signal()) {
            (Some(c), _) if self.system && c == 127 => {
                error!("Couldn't find command: {}", self.cmd);
                (Some(0), None)
            }
            (Some(c), _) if self.system && c == 126 => {
                error!("Couldn't execute command: {}", self.cmd);
                (Some(0), None)
            }
            (c, s) => (c, s),
        }
    }

    /// Wait until `deadline`; `Some(status)` once reaped.
    fn wait_until(&mut self, deadline: Instant) -> Option<std::io::Result<std::process::ExitStatus>> {
        loop {
            match self.child.try_wait() {
                Ok(Some(st)) => return Some(Ok(st)),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(5)));
        }
    }
}

/// kill(-pgid, sig); `Err` with the errno.
fn kill_group(pid: u32, sig: nix::sys::signal::Signal) -> nix::Result<()> {
    nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid as i32), sig)
}

/// [`run_script_blocking`] with keepalived's `-D` logging and the script
/// user. As keepalived notify.c `system_call_script`:
/// - the child runs in its own process group, with the script's uid/gid and
///   supplementary groups (keepalived's default script user otherwise),
///   default signal dispositions, stdin/stdout/stderr on /dev/null, and
///   without `IFS`, `LD_PRELOAD` and `LD_LIBRARY_PATH`;
/// - an executable (ELF or `#!`) is exec'ed directly with
///   PR_SET_PDEATHSIG=SIGTERM (a bare name is looked up in PATH, with
///   keepalived's "Please specify full path" warning); anything else
///   (including `</file` tests) goes through `/bin/sh -c` with the quoted
///   command line;
/// - on timeout (main.c `handle_child_timeout`): `WHAT timed out`, SIGTERM
///   to the group, 2 s later SIGKILL, 2 s later
///   `WHAT (PID N) failed to terminate after kill` and SIGKILL, 10 s later
///   give up; a script that died of our SIGTERM gets its group SIGKILLed;
/// - completion: `WHAT script failed, status N` (keepalived's text doubles
///   "script"), and with `-D` `WHAT script succeeded`.
pub fn run_script_blocking_with(script: &Script, timeout: Duration, what: &str, opts: &ScriptRunOpts) -> ScriptOutcome {
    use std::os::unix::process::CommandExt;
    let arg0 = script.path().to_string();
    if arg0.is_empty() {
        return ScriptOutcome::CouldNotRun("empty script".to_string());
    }
    if opts.log_detail {
        info!("Running {what} {arg0}");
    }
    let ids = script_ids(script, opts);
    let (our_uid, our_gid) = (nix::unistd::getuid().as_raw(), nix::unistd::getgid().as_raw());

    let mut exec_path = PathBuf::from(&arg0);
    let mut system = arg0.starts_with('<');
    if !system && !arg0.contains('/') {
        if let Some(p) = find_in_path(&arg0, &ids) {
            exec_path = p;
        }
    }
    if !system && exec_path.exists() && !looks_execable(&exec_path) {
        system = true;
    }
    let cmd_line = cmd_str(&script.args);
    let mut cmd = if system {
        let mut c = std::process::Command::new("/bin/sh");
        c.arg0("sh").arg("-c").arg(&cmd_line);
        c
    } else {
        let mut c = std::process::Command::new(&exec_path);
        c.arg0(&arg0).args(script.args.iter().skip(1));
        c
    };
    cmd.process_group(0)
        .env_remove("IFS")
        .env_remove("LD_PRELOAD")
        .env_remove("LD_LIBRARY_PATH")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let setup = keepalived_sys::ChildSetup {
        gid: (ids.gid != our_gid).then_some(ids.gid),
        // setgroups needs CAP_SETGID: keepalived (root) always calls it.
        groups: (our_uid == 0).then(|| ids.groups.clone()),
        uid: (ids.uid != our_uid).then_some(ids.uid),
        reset_signals: true,
        pdeathsig: (!system).then_some(nix::libc::SIGTERM),
    };
    let child = match keepalived_sys::spawn_with_setup(&mut cmd, &setup) {
        Ok(c) => c,
        Err(e) => {
            // keepalived's forked child logs this and exits 0.
            let n = io_errno(&e);
            let shown = if system { cmd_line.clone() } else { exec_path.display().to_string() };
            let msg = format!("Error exec-ing command '{shown}', error {}: {}", n as i32, strerror(n));
            error!("{msg}");
            if opts.log_detail {
                info!("{what} script succeeded");
            }
            return ScriptOutcome::CouldNotRun(msg);
        }
    };
    let pid = child.id();
    let mut run = Running { child, system, cmd: cmd_line };

    let finish = |run: &Running, st: std::io::Result<std::process::ExitStatus>, we_sent_term: bool| -> ScriptOutcome {
        let st = match st {
            Ok(st) => st,
            Err(e) => return ScriptOutcome::CouldNotRun(e.to_string()),
        };
        match run.status(st) {
            (Some(0), _) => {
                if opts.log_detail {
                    info!("{what} script succeeded");
                }
                ScriptOutcome::Succeeded
            }
            (Some(c), _) => {
                info!("{what} script failed, status {c}");
                ScriptOutcome::Failed(c)
            }
            (None, Some(sig)) => {
                if we_sent_term && sig == nix::libc::SIGTERM {
                    // Make sure anything the script started dies too.
                    let _ = kill_group(pid, nix::sys::signal::Signal::SIGKILL);
                }
                ScriptOutcome::Signaled(sig)
            }
            _ => ScriptOutcome::CouldNotRun("unknown wait status".to_string()),
        }
    };

    if let Some(st) = run.wait_until(Instant::now() + timeout) {
        return finish(&run, st, false);
    }
    // Timed out: SIGTERM, SIGKILL, SIGKILL again, then give up.
    use nix::sys::signal::Signal::{SIGKILL, SIGTERM};
    let steps = [(SIGTERM, 2u64), (SIGKILL, 2), (SIGKILL, 10)];
    for (i, (sig, secs)) in steps.into_iter().enumerate() {
        match i {
            0 => info!("{what} timed out"),
            2 => info!("{what} (PID {pid}) failed to terminate after kill"),
            _ => {}
        }
        if let Err(e) = kill_group(pid, sig) {
            if e == Errno::ESRCH {
                info!("{what} (PID {pid}) lost");
                return ScriptOutcome::TimedOut;
            }
            info!("kill -{} of {what} ({pid}) failed with errno {}", sig as i32, e as i32);
        }
        if let Some(st) = run.wait_until(Instant::now() + Duration::from_secs(secs)) {
            let _ = finish(&run, st, i == 0);
            return ScriptOutcome::TimedOut;
        }
    }
    ScriptOutcome::TimedOut
}

// ------------------------------------------------------------------ scripts in a child's loop

/// The command for a notify, tracking or MISC_CHECK script, with `extra`
/// arguments appended (the generic `notify` gets `INSTANCE NAME STATE
/// PRIORITY`), and the set-up its child needs: the script's identity,
/// default signal dispositions, SIGTERM if the child process dies, its own
/// process group, and `IFS` / `LD_PRELOAD` / `LD_LIBRARY_PATH` removed.
pub fn command(
    s: &Script,
    extra: &[&str],
    opts: &ScriptRunOpts,
) -> Option<(std::process::Command, keepalived_sys::ChildSetup)> {
    use std::os::unix::process::CommandExt;
    let prog = s.args.first()?;
    let ids = script_ids(s, opts);
    let root = nix::unistd::getuid().is_root();
    let setup = keepalived_sys::ChildSetup {
        gid: Some(ids.gid),
        groups: root.then(|| ids.groups.clone()),
        uid: Some(ids.uid),
        reset_signals: true,
        pdeathsig: Some(nix::sys::signal::Signal::SIGTERM as i32),
    };
    let mut cmd = std::process::Command::new(prog);
    cmd.args(&s.args[1..]).args(extra).stdin(std::process::Stdio::null()).process_group(0);
    cmd.env_remove("IFS").env_remove("LD_PRELOAD").env_remove("LD_LIBRARY_PATH");
    Some((cmd, setup))
}

/// Start a script without waiting for it; its pid, for the callers that
/// watch it. `quiet`: its output goes to /dev/null (tracking and check
/// scripts, as keepalived). Failures are logged. The caller reaps it (or a
/// [`ScriptRunner`] does).
pub fn spawn(s: &Script, extra: &[&str], opts: &ScriptRunOpts, quiet: bool) -> Option<nix::unistd::Pid> {
    let (mut cmd, setup) = command(s, extra, opts)?;
    if quiet {
        cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    }
    match keepalived_sys::spawn_with_setup(&mut cmd, &setup) {
        Ok(child) => {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            // Reaped on SIGCHLD from the loop, not by std.
            std::mem::forget(child);
            Some(pid)
        }
        Err(e) => {
            warn!("Unable to run script {}: {e}", s.cmd_str());
            None
        }
    }
}

/// How a script started by a [`ScriptRunner`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this status.
    Code(i32),
    /// A signal we did not send ended it.
    Signal(i32),
    /// It overran its timeout and was killed.
    TimedOut,
}

/// A child process reaped on SIGCHLD.
#[derive(Debug)]
pub struct Reaped<T> {
    pub pid: nix::unistd::Pid,
    /// What the caller gave [`ScriptRunner::spawn`]; `None` for a child the
    /// runner did not start (a FIFO reader, a notify script started with
    /// [`spawn`]): the caller may be tracking it.
    pub tag: Option<T>,
    pub exit: Exit,
}

struct Watched<T> {
    tag: T,
    /// The pending timeout step.
    timer: Option<crate::TimerId>,
    timed_out: bool,
}

/// Scripts started from a child's mio loop: each runs in its own process
/// group with its output discarded; at its timeout the group gets SIGTERM,
/// and SIGKILL [`KILL_AFTER`] later if it is still there (keepalived's
/// child timeout). The loop reaps every child on SIGCHLD through
/// [`ScriptRunner::reap`]: the runner is the child process's one reaper.
pub struct ScriptRunner<T> {
    running: std::collections::HashMap<i32, Watched<T>>,
    timers: crate::TimerHeap<(i32, bool)>,
}

/// Time between the SIGTERM of a timed-out script and its SIGKILL.
pub const KILL_AFTER: Duration = Duration::from_secs(2);

impl<T> Default for ScriptRunner<T> {
    fn default() -> Self {
        ScriptRunner { running: Default::default(), timers: crate::TimerHeap::new() }
    }
}

impl<T> ScriptRunner<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Start `s` with `extra` arguments; `timeout` is counted from now.
    /// `None` when it could not be started (already logged).
    pub fn spawn(
        &mut self,
        s: &Script,
        extra: &[&str],
        opts: &ScriptRunOpts,
        timeout: Option<Duration>,
        tag: T,
    ) -> Option<nix::unistd::Pid> {
        let pid = spawn(s, extra, opts, true)?;
        let now = Instant::now();
        let timer = timeout.map(|t| self.timers.add(now, t, (pid.as_raw(), false)));
        self.running.insert(pid.as_raw(), Watched { tag, timer, timed_out: false });
        Some(pid)
    }

    /// Scripts still running.
    pub fn len(&self) -> usize {
        self.running.len()
    }

    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// The tags of the scripts still running.
    pub fn tags(&self) -> impl Iterator<Item = &T> {
        self.running.values().map(|w| &w.tag)
    }

    /// Time until the next timeout step.
    pub fn poll_timeout(&mut self, now: Instant) -> Option<Duration> {
        self.timers.poll_timeout(now)
    }

    /// Timeout steps due: SIGTERM to an overrunning script's group, SIGKILL
    /// to one that outlived its SIGTERM. Returns the tags that timed out
    /// now (for the caller's log line); they are reported again, as
    /// [`Exit::TimedOut`], when reaped.
    pub fn on_timers(&mut self, now: Instant) -> Vec<&T> {
        let mut fired = Vec::new();
        while let Some((_, (pid, killing))) = self.timers.pop_expired(now) {
            let Some(w) = self.running.get_mut(&pid) else { continue };
            let group = nix::unistd::Pid::from_raw(pid);
            if killing {
                let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
                w.timer = None;
                continue;
            }
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGTERM);
            w.timed_out = true;
            w.timer = Some(self.timers.add(now, KILL_AFTER, (pid, true)));
            fired.push(pid);
        }
        fired.iter().filter_map(|p| self.running.get(p).map(|w| &w.tag)).collect()
    }

    /// SIGCHLD: reap every child that ended (ours and any other child of
    /// this process) without blocking.
    pub fn reap(&mut self) -> Vec<Reaped<T>> {
        use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
        let mut out = Vec::new();
        loop {
            let (pid, exit) = match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => (pid, Exit::Code(code)),
                Ok(WaitStatus::Signaled(pid, sig, _)) => (pid, Exit::Signal(sig as i32)),
                Ok(WaitStatus::StillAlive) | Err(_) => return out,
                Ok(_) => continue,
            };
            let Some(w) = self.running.remove(&pid.as_raw()) else {
                out.push(Reaped { pid, tag: None, exit });
                continue;
            };
            if let Some(t) = w.timer {
                self.timers.cancel(t);
            }
            let exit = if w.timed_out { Exit::TimedOut } else { exit };
            out.push(Reaped { pid, tag: Some(w.tag), exit });
        }
    }

    /// Stop: SIGTERM to every running script's group (keepalived's first
    /// stop step); they are reaped as usual.
    pub fn terminate_all(&mut self) {
        for pid in self.running.keys() {
            let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(*pid), nix::sys::signal::Signal::SIGTERM);
        }
    }

    /// Forget a running script (its result is no longer wanted) after
    /// sending its group SIGTERM; it is still reaped, with no tag.
    pub fn abandon(&mut self, pred: impl Fn(&T) -> bool) {
        let gone: Vec<i32> = self.running.iter().filter(|(_, w)| pred(&w.tag)).map(|(p, _)| *p).collect();
        for pid in gone {
            if let Some(w) = self.running.remove(&pid) {
                if let Some(t) = w.timer {
                    self.timers.cancel(t);
                }
            }
            let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
        }
    }
}

/// Reap every ended child process without blocking, for a child that
/// watches none of its own (no zombie is left).
pub fn reap_all() {
    let _ = ScriptRunner::<()>::new().reap();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// The script tests run one at a time (they time process groups and
    /// signals; the harness runs tests on threads).
    static SERIAL: Mutex<()> = Mutex::new(());

    fn serial() -> std::sync::MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let p = std::env::temp_dir().join(format!(
                "ka-rs-script-{tag}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn script(args: &[&str]) -> Script {
        Script {
            args: args.iter().map(|s| s.to_string()).collect(),
            user: None,
            group: None,
            origin: keepalived_config::diag::Origin::new(keepalived_config::diag::FileId::intern("test"), 1, 1),
        }
    }

    fn write_script(dir: &Path, name: &str, body: &str, mode: u32) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    /// Our own identity, so tests do not depend on a keepalived_script user.
    fn opts() -> ScriptRunOpts {
        ScriptRunOpts { log_detail: true, default_ids: Some(our_ids()), set_supplementary_groups: false }
    }

    const T: Duration = Duration::from_secs(10);

    #[test]
    fn script_success_and_failure() {
        let _g = serial();
        assert_eq!(
            run_script_blocking_with(&script(&["/bin/true"]), T, "startup script", &opts()),
            ScriptOutcome::Succeeded
        );
        assert_eq!(
            run_script_blocking_with(&script(&["/bin/false"]), T, "startup script", &opts()),
            ScriptOutcome::Failed(1)
        );
        let t = TempDir::new("scr");
        let s = write_script(t.path(), "s.sh", "#!/bin/sh\nexit $1\n", 0o755);
        let s = s.to_str().unwrap();
        assert_eq!(
            run_script_blocking_with(&script(&[s, "3"]), T, "shutdown script", &opts()),
            ScriptOutcome::Failed(3)
        );
        assert_eq!(
            run_script_blocking_with(&script(&[s, "0"]), T, "shutdown script", &opts()),
            ScriptOutcome::Succeeded
        );
        // The plain entry point.
        assert_eq!(run_script_blocking(&script(&[s, "0"]), T, "startup script"), ScriptOutcome::Succeeded);
    }

    #[test]
    fn script_arguments_environment_and_process_group() {
        let _g = serial();
        let t = TempDir::new("env");
        let out = t.path().join("out");
        let s = write_script(
            t.path(),
            "env.sh",
            "#!/bin/sh\n{ echo \"args=$#:$1:$2\"; echo \"ifs=${IFS+set}\"; echo \"pre=${LD_PRELOAD+set}\"; \
             echo \"llp=${LD_LIBRARY_PATH+set}\"; echo \"keep=$KA_RS_TEST_KEEP\"; \
             echo \"pgid=$(cut -d' ' -f5 /proc/$$/stat)\"; echo \"pid=$$\"; \
             echo \"sigterm=$(grep SigIgn /proc/$$/status)\"; } > \"$3\"\n",
            0o755,
        );
        std::env::set_var("KA_RS_TEST_KEEP", "yes");
        let sc = script(&[s.to_str().unwrap(), "a b", "it's", out.to_str().unwrap()]);
        assert_eq!(run_script_blocking_with(&sc, T, "startup script", &opts()), ScriptOutcome::Succeeded);
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains("args=3:a b:it's\n"), "{text}");
        assert!(text.contains("pre=\n") && text.contains("llp=\n") && text.contains("keep=yes\n"), "{text}");
        let field = |k: &str| text.lines().find_map(|l| l.strip_prefix(k)).unwrap().to_string();
        assert_eq!(field("pgid="), field("pid="), "script leads its own process group");
    }

    /// keepalived `reset_process_priorities`: a script does not inherit the open-file limit and the
    /// niceness the daemon raised for itself.
    #[test]
    fn scripts_get_the_original_limits_and_niceness() {
        let _g = serial();
        let (cur, max) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap();
        let t = TempDir::new("limits");
        let out = t.path().join("out");
        let s = write_script(
            t.path(),
            "lim.sh",
            "#!/bin/sh\necho \"$(ulimit -n) $(cut -d' ' -f19 /proc/$$/stat)\" > \"$1\"\n",
            0o755,
        );
        let nice_before = std::fs::read_to_string("/proc/self/stat").unwrap().split(' ').nth(18).unwrap().to_string();
        // Start below the hard limit, as a daemon started with a soft limit does.
        let start = cur.saturating_sub(100);
        nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, start, max).unwrap();
        keepalived_sys::set_nofile_limit(cur, max).unwrap();
        keepalived_sys::set_nice(5).unwrap();
        let sc = script(&[s.to_str().unwrap(), out.to_str().unwrap()]);
        let outcome = run_script_blocking_with(&sc, T, "startup script", &opts());
        // Put the test process back (the niceness only goes down as root, which these tests are).
        let _ = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, cur, max);
        let _ = keepalived_sys::set_nice(nice_before.parse().unwrap());
        assert_eq!(outcome, ScriptOutcome::Succeeded);
        assert_eq!(std::fs::read_to_string(&out).unwrap(), format!("{start} {nice_before}\n"));
    }

    #[test]
    fn script_without_shebang_runs_through_shell() {
        let _g = serial();
        let t = TempDir::new("noshebang");
        let out = t.path().join("out");
        let s = write_script(t.path(), "plain", "echo \"ran $1\" > \"$2\"\nexit 4\n", 0o755);
        let sc = script(&[s.to_str().unwrap(), "x'y", out.to_str().unwrap()]);
        assert_eq!(run_script_blocking_with(&sc, T, "startup script", &opts()), ScriptOutcome::Failed(4));
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "ran x'y\n");
        // A file test.
        let ok = script(&["</etc/passwd"]);
        assert_eq!(run_script_blocking_with(&ok, T, "startup script", &opts()), ScriptOutcome::Succeeded);
        let missing = format!("<{}", t.path().join("nope").display());
        match run_script_blocking_with(&script(&[&missing]), T, "startup script", &opts()) {
            ScriptOutcome::Failed(n) => assert_ne!(n, 0),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn script_path_search_and_missing() {
        assert_eq!(
            run_script_blocking_with(&script(&["true"]), T, "startup script", &opts()),
            ScriptOutcome::Succeeded
        );
        assert_eq!(
            run_script_blocking_with(&script(&["false"]), T, "startup script", &opts()),
            ScriptOutcome::Failed(1)
        );
        match run_script_blocking_with(&script(&["/nonexistent/script"]), T, "startup script", &opts()) {
            ScriptOutcome::CouldNotRun(m) => {
                assert!(m.starts_with("Error exec-ing command '/nonexistent/script', error 2"), "{m}")
            }
            o => panic!("{o:?}"),
        }
        match run_script_blocking_with(&script(&[]), T, "startup script", &opts()) {
            ScriptOutcome::CouldNotRun(_) => {}
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn script_timeout_kills_group() {
        let _g = serial();
        let t = TempDir::new("timeout");
        let pidf = t.path().join("bgpid");
        // The script starts a background sleep in its group, then waits.
        let s = write_script(t.path(), "slow.sh", "#!/bin/sh\nsleep 30 &\necho $! > \"$1\"\nwait\n", 0o755);
        let sc = script(&[s.to_str().unwrap(), pidf.to_str().unwrap()]);
        let start = Instant::now();
        let r = run_script_blocking_with(&sc, Duration::from_millis(300), "startup script", &opts());
        assert_eq!(r, ScriptOutcome::TimedOut);
        assert!(start.elapsed() < Duration::from_secs(4), "{:?}", start.elapsed());
        // The background child was killed with the group.
        let bg: i32 = std::fs::read_to_string(&pidf).unwrap().trim().parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let alive = std::fs::read_to_string(format!("/proc/{bg}/stat"))
                .map(|s| !s.split(") ").nth(1).unwrap_or("").starts_with('Z'))
                .unwrap_or(false);
            if !alive {
                break;
            }
            assert!(Instant::now() < deadline, "background process {bg} survived");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn script_ignoring_sigterm_gets_sigkill() {
        let _g = serial();
        let t = TempDir::new("stubborn");
        let s = write_script(t.path(), "stubborn.sh", "#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 0.1; done\n", 0o755);
        let start = Instant::now();
        let r = run_script_blocking_with(
            &script(&[s.to_str().unwrap()]),
            Duration::from_millis(200),
            "shutdown script",
            &opts(),
        );
        assert_eq!(r, ScriptOutcome::TimedOut);
        let e = start.elapsed();
        assert!(e >= Duration::from_secs(2) && e < Duration::from_secs(5), "{e:?}");
    }

    #[test]
    fn script_runs_as_user() {
        keepalived_testkit::require(&[]);
        let Ok(Some(nobody)) = nix::unistd::User::from_name("nobody") else {
            panic!("this test needs the user nobody");
        };
        let _g = serial();
        let t = TempDir::new("user");
        std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let out = t.path().join("ids");
        let s = write_script(t.path(), "id.sh", "#!/bin/sh\n{ id -u; id -g; id -G; } > \"$1\"\n", 0o755);
        let mut sc = script(&[s.to_str().unwrap(), out.to_str().unwrap()]);
        sc.user = Some("nobody".into());
        assert_eq!(run_script_blocking_with(&sc, T, "startup script", &opts()), ScriptOutcome::Succeeded);
        let text = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let (u, g) = (nobody.uid.as_raw().to_string(), nobody.gid.as_raw().to_string());
        assert_eq!(lines, [u.as_str(), g.as_str(), g.as_str()], "supplementary groups cleared");
        // The default script user applies to scripts without one.
        let _ = std::fs::remove_file(&out);
        let sc = script(&[s.to_str().unwrap(), out.to_str().unwrap()]);
        let o = ScriptRunOpts {
            default_ids: Some(ScriptIds { uid: nobody.uid.as_raw(), gid: nobody.gid.as_raw(), groups: vec![] }),
            ..Default::default()
        };
        assert_eq!(run_script_blocking_with(&sc, T, "startup script", &o), ScriptOutcome::Succeeded);
        assert!(std::fs::read_to_string(&out).unwrap().starts_with(&format!("{u}\n")));
        // ":" group: supplementary groups of the user set.
        let mut sc = script(&[s.to_str().unwrap(), out.to_str().unwrap()]);
        sc.user = Some("nobody".into());
        sc.group = Some(":".into());
        let ids = script_ids(&sc, &opts());
        assert_eq!(ids.uid, nobody.uid.as_raw());
        assert!(ids.groups.contains(&nobody.gid.as_raw()));
        // Unknown user: ourselves (keepalived refuses it at parse time).
        let mut sc = script(&["/bin/true"]);
        sc.user = Some("no-such-user-ka-rs".into());
        assert_eq!(script_ids(&sc, &opts()), our_ids());
    }

    #[test]
    fn script_cmd_str_quoting() {
        let a = |v: &[&str]| cmd_str(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(a(&["/bin/echo", "a b", "it's"]), "'/bin/echo' 'a b' 'it'\\''s'");
        assert_eq!(a(&["</etc/passwd"]), "</etc/passwd");
        assert_eq!(a(&[">/tmp/x", "<y"]), ">/tmp/x '<y'");
    }

    #[test]
    fn script_ids_from_global() {
        let g = GlobalDefs::default();
        let o = ScriptRunOpts::from_global(&g, true);
        assert!(o.default_ids.is_none() && o.log_detail);
        let mut g = GlobalDefs::default();
        g.script_user = Some(keepalived_config::model::global::ScriptUser {
            user: "root".into(),
            group: None,
            uid: 0,
            gid: 0,
            set_supplementary_groups: true,
        });
        let o = ScriptRunOpts::from_global(&g, false);
        let ids = o.default_ids.unwrap();
        assert_eq!((ids.uid, ids.gid), (0, 0));
        assert!(ids.groups.contains(&0));
    }
}
