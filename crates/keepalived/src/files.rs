//! Files and process set-up: pid files (keepalived's paths, OFD locks,
//! "daemon is already running"), daemonizing, network namespaces, umask,
//! core dumps, start-up/shutdown scripts, and the paths of the data, stats
//! and JSON dump files (keepalived's `$TMPDIR` rule, `state_dump_file`,
//! `data_use_instance`).
//!
//! Start-up order in keepalived's `main()` (core/main.c), which the parent
//! should follow:
//! 1. [`apply_umask`] (before anything is created), [`apply_core_dump`],
//!    [`set_tmp_dir`];
//! 2. read the configuration, [`apply_namespace_override`] (`-s`);
//! 3. unless `-t`: [`PidPaths::create_dir`] when [`PidPaths::dir`] is set;
//! 4. with a namespace: [`enter_netns`] (on error log
//!    `Unable to set network namespace NAME - exiting` and stop), then
//!    unless `-t` [`set_run_mount`] (the pid directory becomes
//!    `/run/keepalived/NAME` bind-mounted on `/run/keepalived`);
//! 5. unless `-t`: [`PidFiles::lock`] for the parent and the children that
//!    may run; `Err(PidError::Locked)` → log `daemon is already running`;
//! 6. unless `-n`: [`daemonize`] (before the mio loop exists);
//! 7. `write_pid` of the parent's file; start-up script
//!    ([`run_script_blocking_with`]); fork the children (each calls
//!    [`PidFiles::close_others`] then `write_pid` on its own file);
//!    [`PidFiles::remove_unused`] for the children not run;
//! 8. at exit: children's files closed and the parent's removed
//!    ([`PidFiles::parent_exit`]), [`RunMount::clear`], [`PidDir::remove`],
//!    the core-pattern guard dropped.
//!
//! Logging follows keepalived's texts (all at LOG_INFO unless noted).

use crate::cli::Cli;
use keepalived_config::model::global::{GlobalDefs, RootOptions};

use keepalived_runtime::ProcKind;
use nix::errno::Errno;
use nix::sys::stat::Mode;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tracing::info;

/// RUNSTATEDIR.
pub const RUN_DIR: &str = "/run";
/// KEEPALIVED_PID_DIR (keepalived spells it with a trailing '/').
pub const PID_DIR: &str = "/run/keepalived";
/// Where `ip netns` keeps the named network namespaces.
pub const NETNS_DIR: &str = "/run/netns";
/// KA_TMP_DIR.
pub const KA_TMP_DIR: &str = "/tmp";
/// keepalived's default umask (`S_IXUSR | S_IRWXG | S_IRWXO`).
pub const DEFAULT_UMASK: u32 = 0o177;
/// The kernel's core pattern file.
pub const CORE_PATTERN_FILE: &str = "/proc/sys/kernel/core_pattern";
/// CORENAME_MAX_SIZE: keepalived reads at most this many bytes minus one.
const CORENAME_MAX_SIZE: usize = 128;

/// `rwxr-xr-x`, the pid directories' mode.
const DIR_MODE: u32 = 0o755;
/// `rw-r--r--`, the pid files' mode.
const PID_FILE_MODE: u32 = 0o644;

fn strerror(e: Errno) -> &'static str {
    e.desc()
}

fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(0))
}

/// Run `f` with the umask bits `keep` cleared (keepalived's
/// `umask(umask_val & ~MODE)` ... `umask(umask_val)` around creations), so
/// the object gets exactly its requested mode.
fn with_umask_cleared<T>(keep: u32, f: impl FnOnce() -> T) -> T {
    let prev = nix::sys::stat::umask(Mode::empty());
    let prev_bits = prev.bits() as u32;
    nix::sys::stat::umask(Mode::from_bits_truncate((prev_bits & !keep) as _));
    let r = f();
    nix::sys::stat::umask(prev);
    r
}

// ------------------------------------------------------------------ pid files

/// The pid file names (KEEPALIVED_PID_FILE, VRRP_PID_FILE, ...).
const PARENT_BASE: &str = "keepalived";
const VRRP_BASE: &str = "vrrp";
const CHECKER_BASE: &str = "checkers";
const BFD_BASE: &str = "bfd";
const PID_EXTENSION: &str = ".pid";

/// The four pid files.
#[derive(Clone, Debug)]
pub struct PidPaths {
    pub parent: PathBuf,
    pub vrrp: PathBuf,
    pub checker: PathBuf,
    pub bfd: PathBuf,
    /// `/run/keepalived` when `use_pid_dir`, a namespace or an instance is used.
    pub dir: Option<PathBuf>,
}

/// keepalived's `use_pid_dir`: the keyword, or `net_namespace` (config or
/// `-s`), or `instance`.
pub fn uses_pid_dir(cli: &Cli, root: &RootOptions) -> bool {
    root.use_pid_dir || root.net_namespace.is_some() || cli.namespace.is_some() || root.instance.is_some()
}

impl PidPaths {
    /// keepalived main.c: `-p/-r/-c/-b` are used as given; otherwise with
    /// `instance NAME` the files are `/run/keepalived/BASE_NAME.pid`, with
    /// the pid directory (`use_pid_dir`, a namespace) `/run/keepalived/BASE.pid`,
    /// else `/run/BASE.pid`; BASE is keepalived, vrrp, checkers, bfd.
    pub fn resolve(cli: &Cli, root: &RootOptions) -> PidPaths {
        Self::resolve_in(cli, root, Path::new(RUN_DIR), Path::new(PID_DIR))
    }

    /// [`PidPaths::resolve`] with other RUNSTATEDIR and pid directory (tests).
    pub fn resolve_in(cli: &Cli, root: &RootOptions, run_dir: &Path, pid_dir: &Path) -> PidPaths {
        let use_dir = uses_pid_dir(cli, root);
        let name = |given: &Option<String>, base: &str| -> PathBuf {
            if let Some(p) = given {
                return PathBuf::from(p);
            }
            match (&root.instance, use_dir) {
                // make_pidfile_name(KEEPALIVED_PID_DIR BASE, instance, ".pid")
                (Some(inst), _) => pid_dir.join(format!("{base}_{inst}{PID_EXTENSION}")),
                (None, true) => pid_dir.join(format!("{base}{PID_EXTENSION}")),
                (None, false) => run_dir.join(format!("{base}{PID_EXTENSION}")),
            }
        };
        PidPaths {
            parent: name(&cli.pid, PARENT_BASE),
            vrrp: name(&cli.vrrp_pid, VRRP_BASE),
            checker: name(&cli.checkers_pid, CHECKER_BASE),
            bfd: name(&cli.bfd_pid, BFD_BASE),
            dir: use_dir.then(|| pid_dir.to_path_buf()),
        }
    }

    pub fn for_kind(&self, k: ProcKind) -> &Path {
        match k {
            ProcKind::Vrrp => &self.vrrp,
            ProcKind::Checker => &self.checker,
            ProcKind::Bfd => &self.bfd,
        }
    }

    /// keepalived `create_pid_dir`: create [`PidPaths::dir`] (if any) with
    /// mode 0755 whatever the umask; `None` when no pid directory is used.
    pub fn create_dir(&self) -> Option<PidDir> {
        self.dir.as_deref().map(create_pid_dir)
    }
}

/// The pid directory, removed at exit only if it could be created (or
/// already existed, as keepalived does).
#[derive(Debug)]
pub struct PidDir {
    pub path: PathBuf,
    created: bool,
}

/// keepalived `create_pid_dir`: mkdir with `rwxr-xr-x`; an existing
/// directory is fine; failure logs `Unable to create directory DIR/`.
pub fn create_pid_dir(dir: &Path) -> PidDir {
    let r = with_umask_cleared(DIR_MODE, || nix::unistd::mkdir(dir, Mode::from_bits_truncate(DIR_MODE as _)));
    let created = match r {
        Ok(()) | Err(Errno::EEXIST) => true,
        Err(_) => {
            info!("Unable to create directory {}/", dir.display());
            false
        }
    };
    PidDir { path: dir.to_path_buf(), created }
}

impl PidDir {
    /// keepalived `remove_pid_dir`: rmdir, quietly leaving a non-empty or
    /// busy (mount point) directory.
    pub fn remove(self) {
        if !self.created {
            return;
        }
        if let Err(e) = std::fs::remove_dir(&self.path).map_err(|e| io_errno(&e)) {
            if e != Errno::ENOTEMPTY && e != Errno::EBUSY {
                info!("unlink of {}/ failed - error ({}) '{}'", self.path.display(), e as i32, strerror(e));
            }
        }
    }
}

#[derive(Debug)]
pub enum PidError {
    /// Another live keepalived holds the file ("daemon is already running").
    Locked(PathBuf),
    Io(PathBuf, std::io::Error),
    /// fcntl(F_OFD_SETLK) failed otherwise than with EAGAIN.
    Lock(PathBuf, Errno),
}

impl std::fmt::Display for PidError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PidError::Locked(p) => write!(f, "Another process has pid file {} locked", p.display()),
            PidError::Io(p, e) => write!(f, "pid file {}: {e}", p.display()),
            PidError::Lock(p, e) => {
                write!(f, "Locking pid file {} error {} - {}", p.display(), *e as i32, strerror(*e))
            }
        }
    }
}

impl std::error::Error for PidError {}

/// An open, locked pid file. Dropping it closes the file (releasing the lock
/// if no forked process shares it) but never removes it: use
/// [`PidFile::remove`] in the process that owns it.
#[derive(Debug)]
pub struct PidFile {
    pub path: PathBuf,
    file: Option<File>,
}

fn open_pid_file(path: &Path) -> std::io::Result<File> {
    with_umask_cleared(PID_FILE_MODE, || {
        OpenOptions::new()
            .create(true)
            .write(true)
            .mode(PID_FILE_MODE)
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
            .open(path)
    })
}

fn ofd_lock(file: &File) -> nix::Result<()> {
    let fl = nix::libc::flock {
        l_type: nix::libc::F_WRLCK as nix::libc::c_short,
        l_whence: nix::libc::SEEK_SET as nix::libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    loop {
        match nix::fcntl::fcntl(file, nix::fcntl::FcntlArg::F_OFD_SETLK(&fl)) {
            Err(Errno::EINTR) => continue,
            r => return r.map(|_| ()),
        }
    }
}

/// True when `path` still names the open `file` (same device and inode).
fn same_file(path: &Path, file: &File) -> Option<bool> {
    let st = std::fs::metadata(path).ok()?;
    let fst = file.metadata().ok()?;
    Some(st.dev() == fst.dev() && st.ino() == fst.ino())
}

impl PidFile {
    /// Create/open and lock the file (keepalived `create_pidfile`): open
    /// `O_NOFOLLOW|O_CREAT|O_WRONLY|O_NONBLOCK|O_CLOEXEC` mode 0644, take an
    /// OFD write lock, re-open if the path no longer names the locked file,
    /// then truncate. A file held by a live process gives
    /// [`PidError::Locked`], after logging keepalived's
    /// `Another process has pid file PATH locked` (the caller then logs
    /// `daemon is already running`); a stale file (its process dead) is
    /// simply taken over. Other lock errors are logged as keepalived does.
    ///
    /// keepalived treats every failure here (also an open error, e.g. a
    /// missing directory, which it does not log) as "running": the caller
    /// logs `daemon is already running` for any `Err` and stops.
    pub fn lock(path: &Path) -> Result<PidFile, PidError> {
        loop {
            let file = open_pid_file(path).map_err(|e| PidError::Io(path.to_path_buf(), e))?;
            if let Err(e) = ofd_lock(&file) {
                let err = if e == Errno::EAGAIN || e == Errno::EACCES {
                    PidError::Locked(path.to_path_buf())
                } else {
                    PidError::Lock(path.to_path_buf(), e)
                };
                info!("{err}");
                return Err(err);
            }
            // Make sure the file has not been removed or replaced meanwhile.
            match same_file(path, &file) {
                Some(true) => {}
                Some(false) | None => continue,
            }
            file.set_len(0).map_err(|e| PidError::Io(path.to_path_buf(), e))?;
            return Ok(PidFile { path: path.to_path_buf(), file: Some(file) });
        }
    }

    /// True while the file is open (and so locked).
    #[cfg(test)]
    pub fn is_open(&self) -> bool {
        self.file.is_some()
    }

    /// keepalived `pidfile_write`: write `PID\n` from the start of the
    /// file. If the file was removed meanwhile it is created and locked
    /// again; if it was replaced, the new one is opened.
    pub fn write_pid(&mut self, pid: u32) -> std::io::Result<()> {
        let current = self.file.as_ref().map(|f| same_file(&self.path, f));
        match current {
            Some(Some(true)) => {}
            _ if !self.path.exists() => {
                self.file = None;
                match PidFile::lock(&self.path) {
                    Ok(mut p) => self.file = p.file.take(),
                    Err(PidError::Io(_, e)) => return Err(e),
                    Err(e) => return Err(std::io::Error::other(e.to_string())),
                }
            }
            _ => {
                // Deleted and recreated: open the new one.
                self.file = Some(open_pid_file(&self.path)?);
            }
        }
        let f = self.file.as_mut().ok_or_else(|| std::io::Error::from_raw_os_error(nix::libc::EBADF))?;
        f.seek(std::io::SeekFrom::Start(0))?;
        f.set_len(0)?;
        f.write_all(format!("{pid}\n").as_bytes())
    }

    /// Close without removing (a child closes the parent's files).
    pub fn close(mut self) {
        self.file = None;
    }

    /// Remove the file and close it (keepalived `pidfile_rm`).
    pub fn remove(mut self) {
        let _ = std::fs::remove_file(&self.path);
        self.file = None;
    }
}

/// The parent's and children's pid files, as the parent opens them before
/// forking (keepalived `keepalived_running`): children inherit the open,
/// locked files and each keeps only its own.
#[derive(Debug, Default)]
pub struct PidFiles {
    pub parent: Option<PidFile>,
    pub vrrp: Option<PidFile>,
    pub checker: Option<PidFile>,
    pub bfd: Option<PidFile>,
}

impl PidFiles {
    /// Lock the parent's file, then those of `kinds` (the children that
    /// may run: not `-P`/`-C`/`-B`-excluded), in keepalived's order
    /// (parent, VRRP, checker, BFD). On failure the files already locked
    /// are closed (not removed, as keepalived leaves them).
    pub fn lock(paths: &PidPaths, kinds: &[ProcKind]) -> Result<PidFiles, PidError> {
        let mut set = PidFiles { parent: Some(PidFile::lock(&paths.parent)?), ..Default::default() };
        for k in [ProcKind::Vrrp, ProcKind::Checker, ProcKind::Bfd] {
            if kinds.contains(&k) {
                *set.slot(k) = Some(PidFile::lock(paths.for_kind(k))?);
            }
        }
        Ok(set)
    }

    fn slot(&mut self, k: ProcKind) -> &mut Option<PidFile> {
        match k {
            ProcKind::Vrrp => &mut self.vrrp,
            ProcKind::Checker => &mut self.checker,
            ProcKind::Bfd => &mut self.bfd,
        }
    }

    /// A child's pid file.
    pub fn child_mut(&mut self, k: ProcKind) -> Option<&mut PidFile> {
        self.slot(k).as_mut()
    }

    /// keepalived `start_keepalived`: remove the pid files of the children
    /// that are not run; returns their paths.
    pub fn remove_unused(&mut self, running: &[ProcKind]) -> Vec<PathBuf> {
        let mut removed = Vec::new();
        for k in [ProcKind::Checker, ProcKind::Vrrp, ProcKind::Bfd] {
            if !running.contains(&k) {
                if let Some(p) = self.slot(k).take() {
                    removed.push(p.path.clone());
                    p.remove();
                }
            }
        }
        removed
    }

    /// keepalived `close_other_pidfiles`, in a child (`Some(kind)`): close,
    /// without removing, every file but the child's own.
    pub fn close_others(&mut self, keep: Option<ProcKind>) {
        if let Some(p) = self.parent.take() {
            if keep.is_some() {
                p.close();
            } else {
                self.parent = Some(p);
            }
        }
        for k in [ProcKind::Vrrp, ProcKind::Checker, ProcKind::Bfd] {
            if keep != Some(k) {
                if let Some(p) = self.slot(k).take() {
                    p.close();
                }
            }
        }
    }

    /// keepalived `stop_keepalived` in the parent: close the children's
    /// files (each child removes its own) and remove the parent's.
    pub fn parent_exit(&mut self) {
        self.close_others(None);
        if let Some(p) = self.parent.take() {
            p.remove();
        }
    }

    /// A child at exit: remove its own file (keepalived `pidfile_rm` in
    /// `stop_vrrp` etc.).
    pub fn child_exit(&mut self, k: ProcKind) {
        if let Some(p) = self.slot(k).take() {
            p.remove();
        }
    }
}

// ------------------------------------------------------------------ daemon

/// Detach from the terminal (keepalived daemon.c `xdaemon` and its caller
/// in main.c), unless `-n`. Call it before the mio loop exists, while the
/// process has one thread.
///
/// keepalived forks once (not twice): the original process exits 0 at
/// once; the child becomes session leader (`setsid`), changes to `/`,
/// points stdin/stdout/stderr at `/dev/null`, then waits until its
/// parent has really gone (so `getppid()` no longer returns it). The umask
/// is left as already set by [`apply_umask`]. Errors are logged with
/// keepalived's texts (`xdaemon: fork error`, `xdaemon: setsid error`,
/// `xdaemon: chdir error`) and returned (the chdir error is not fatal).
pub fn daemonize() -> std::io::Result<()> {
    let old_ppid = nix::unistd::getpid();
    match keepalived_sys::fork() {
        Err(e) => {
            info!("xdaemon: fork error");
            Err(e.into())
        }
        Ok(nix::unistd::ForkResult::Parent { .. }) => {
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().flush();
            std::process::exit(0);
        }
        Ok(nix::unistd::ForkResult::Child) => {
            if nix::unistd::setsid().is_err() {
                info!("xdaemon: setsid error");
                return Err(std::io::Error::last_os_error());
            }
            if nix::unistd::chdir("/").is_err() {
                info!("xdaemon: chdir error");
            }
            redirect_std_fds_to_null();
            while nix::unistd::getppid() == old_ppid {
                std::thread::sleep(Duration::from_micros(10));
            }
            Ok(())
        }
    }
}

/// keepalived `set_std_fd(true)`: stdin, stdout and stderr on /dev/null.
pub fn redirect_std_fds_to_null() {
    if let Ok(null) = OpenOptions::new().read(true).write(true).open("/dev/null") {
        let _ = nix::unistd::dup2_stdin(&null);
        let _ = nix::unistd::dup2_stdout(&null);
        let _ = nix::unistd::dup2_stderr(&null);
    }
}

// ------------------------------------------------------------------ namespaces

/// keepalived main.c: `-s NAME` overrides `net_namespace`, logging
/// `Overriding config net_namespace 'OLD' with command line namespace 'NEW'`
/// when the configuration had one. Call it right after reading the config
/// (the dump file names and pid paths then see the effective namespace).
pub fn apply_namespace_override(cli: &Cli, root: &mut RootOptions) {
    if let Some(ns) = &cli.namespace {
        if let Some(old) = &root.net_namespace {
            info!("Overriding config net_namespace '{old}' with command line namespace '{ns}'");
        }
        root.net_namespace = Some(ns.clone());
    }
}

/// Enter network namespace `name` (`/run/netns/NAME`), keepalived
/// namespaces.c `set_namespaces` without the pid-dir mount (see
/// [`set_run_mount`]). Logs `Failed to open PATH` or
/// `setns() failed with error N`; the caller then logs
/// `Unable to set network namespace NAME - exiting`.
///
/// setns(CLONE_NEWNET) changes the namespace of the calling thread only;
/// keepalived-rs processes are single-threaded, and forked children
/// inherit it.
pub fn enter_netns(name: &str) -> std::io::Result<()> {
    enter_netns_path(&Path::new(NETNS_DIR).join(name))
}

/// [`enter_netns`] with the namespace file given (e.g. `/proc/PID/ns/net`).
pub fn enter_netns_path(path: &Path) -> std::io::Result<()> {
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            info!("Failed to open {}", path.display());
            return Err(e);
        }
    };
    nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| {
        info!("setns() failed with error {}", e as i32);
        std::io::Error::from(e)
    })
}

/// The pid directory private to a namespace: keepalived namespaces.c
/// `set_run_mount` creates `/run/keepalived/NAME` (0755), moves to a
/// private mount namespace whose mounts are slaves, and bind-mounts it on
/// `/run/keepalived`, so the pid files of instances in different namespaces
/// do not collide (on the host they are under `/run/keepalived/NAME/`).
#[derive(Debug)]
pub struct RunMount {
    pub pid_dir: PathBuf,
    /// `/run/keepalived/NAME`, while it exists.
    pub mount_dir: Option<PathBuf>,
    mounted: bool,
}

/// [`RunMount`] for namespace `name` on `/run/keepalived`; not for `-t`.
pub fn set_run_mount(name: &str) -> RunMount {
    set_run_mount_in(Path::new(PID_DIR), name)
}

/// [`set_run_mount`] with another pid directory (tests).
pub fn set_run_mount_in(pid_dir: &Path, name: &str) -> RunMount {
    // KEEPALIVED_PID_DIR ends in '/', so this is "/run/keepalived/" NAME.
    let mount_dir = PathBuf::from(format!("{}/{name}", pid_dir.display()));
    let mut rm = RunMount { pid_dir: pid_dir.to_path_buf(), mount_dir: None, mounted: false };
    let r = with_umask_cleared(DIR_MODE, || nix::unistd::mkdir(&mount_dir, Mode::from_bits_truncate(DIR_MODE as _)));
    if let Err(e) = r {
        if e != Errno::EEXIST {
            info!("Unable to create directory {}", mount_dir.display());
            return rm;
        }
    }
    rm.mount_dir = Some(mount_dir.clone());
    if let Err(e) = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS) {
        info!("mount unshare failed ({}) '{}'", e as i32, strerror(e));
        return rm;
    }
    if let Err(e) = keepalived_sys::make_mounts_slave() {
        let n = io_errno(&e);
        info!("Mount slave failed, error ({}) '{}'", n as i32, strerror(n));
    }
    if let Err(e) = keepalived_sys::bind_mount(&mount_dir, pid_dir) {
        let n = io_errno(&e);
        info!("Mount failed, error ({}) '{}'", n as i32, strerror(n));
    }
    rm.mounted = true;
    rm
}

impl RunMount {
    /// True once the private mount namespace was entered.
    #[cfg(test)]
    pub fn is_mounted(&self) -> bool {
        self.mounted
    }

    /// keepalived `clear_namespaces` / `unmount_run` at exit: unmount
    /// `/run/keepalived` and remove `/run/keepalived/NAME` if empty.
    pub fn clear(self) {
        if !self.mounted {
            return;
        }
        if let Err(e) = keepalived_sys::umount(&self.pid_dir) {
            info!("unmount of {}/ failed - errno {}", self.pid_dir.display(), io_errno(&e) as i32);
        }
        if let Some(d) = &self.mount_dir {
            if let Err(e) = std::fs::remove_dir(d).map_err(|e| io_errno(&e)) {
                if e != Errno::ENOTEMPTY && e != Errno::EBUSY {
                    info!("unlink of {} failed - error ({}) '{}'", d.display(), e as i32, strerror(e));
                }
            }
        }
    }
}

// ------------------------------------------------------------------ dump files

/// The kinds of dump files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpKind {
    ParentData,
    VrrpData,
    CheckData,
    BfdData,
    VrrpStats,
    VrrpJson,
}

impl DumpKind {
    /// The file a child writes for a dump signal (the stats and JSON files
    /// have one name whoever writes them: keepalived's VRRP child alone
    /// does).
    pub fn of(child: ProcKind, req: keepalived_runtime::DumpRequest) -> DumpKind {
        use keepalived_runtime::DumpRequest;
        match (req, child) {
            (DumpRequest::Stats { .. }, _) => DumpKind::VrrpStats,
            (DumpRequest::Json, _) => DumpKind::VrrpJson,
            (DumpRequest::Data, ProcKind::Vrrp) => DumpKind::VrrpData,
            (DumpRequest::Data, ProcKind::Checker) => DumpKind::CheckData,
            (DumpRequest::Data, ProcKind::Bfd) => DumpKind::BfdData,
        }
    }
}

/// keepalived's temporary directory without logging: `$TMPDIR` when it is
/// an absolute path naming a directory (symlinks followed), else `/tmp`.
pub fn tmp_dir() -> PathBuf {
    tmp_dir_from(std::env::var_os("TMPDIR").as_deref().map(Path::new))
}

fn tmp_dir_from(tmpdir: Option<&Path>) -> PathBuf {
    if let Some(t) = tmpdir {
        if t.is_absolute() && t.is_dir() {
            return t.to_path_buf();
        }
    }
    PathBuf::from(KA_TMP_DIR)
}

/// keepalived utils.c `set_tmp_dir` at start-up: [`tmp_dir`], logging
/// `Environment TMPDIR=X not a directory` for an absolute TMPDIR that is
/// not a directory (a relative one is ignored silently).
pub fn set_tmp_dir() -> PathBuf {
    let env = std::env::var_os("TMPDIR");
    if let Some(t) = env.as_deref().map(Path::new) {
        if t.is_absolute() && !t.is_dir() {
            info!("Environment TMPDIR={} not a directory", t.display());
        }
    }
    tmp_dir_from(env.as_deref().map(Path::new))
}

/// Where a dump file goes.
pub fn dump_path(kind: DumpKind, global: &GlobalDefs, root: &RootOptions) -> PathBuf {
    dump_path_in(kind, global, root, &tmp_dir())
}

/// [`dump_path`] with the temporary directory given.
///
/// keepalived global_data.c `open_dump_file(SUFFIX)` for the `.data` files
/// (SUFFIX `_parent`, ``, `_check`, `_bfd`):
/// - the directory is `state_dump_file`'s when that is absolute (all of it
///   if it ends in `/`, else up to its last `/`), else the tmp dir;
/// - the file name is `state_dump_file`'s last component unless it ends in
///   `/` (then `keepalived.data`);
/// - the result is `DIR/STEM SUFFIX [.NS[_INSTANCE] | .INSTANCE] EXT`,
///   EXT from the name's last `.` (none if it has no dot), the `.NS_INSTANCE`
///   part only with `data_use_instance`.
///
/// Stats and JSON (vrrp_print.c, vrrp_json.c) are always
/// `TMPDIR/keepalived.stats` and `TMPDIR/keepalived.json`:
/// `stats_dump_file` and `json_dump_file` are parsed but unused by
/// keepalived.
pub fn dump_path_in(kind: DumpKind, global: &GlobalDefs, root: &RootOptions, tmp: &Path) -> PathBuf {
    let suffix = match kind {
        DumpKind::ParentData => "_parent",
        DumpKind::VrrpData => "",
        DumpKind::CheckData => "_check",
        DumpKind::BfdData => "_bfd",
        DumpKind::VrrpStats => return tmp.join("keepalived.stats"),
        DumpKind::VrrpJson => return tmp.join("keepalived.json"),
    };
    let tmp_s = tmp.to_string_lossy();
    let sdf = global.state_dump_file.as_deref().filter(|s| !s.is_empty());
    let dir: &str = match sdf {
        Some(s) if s.starts_with('/') => {
            if s.ends_with('/') {
                s
            } else {
                &s[..s.rfind('/').unwrap_or(0)]
            }
        }
        _ => &tmp_s,
    };
    let file_name: &str = match sdf {
        Some(s) if !s.ends_with('/') => s.rsplit_once('/').map_or(s, |(_, f)| f),
        _ => "keepalived.data",
    };
    let (stem, ext) = match file_name.rfind('.') {
        Some(i) => file_name.split_at(i),
        None => (file_name, ""),
    };
    let mut tag = String::new();
    if global.data_use_instance && (root.instance.is_some() || root.net_namespace.is_some()) {
        tag.push('.');
        if let Some(ns) = &root.net_namespace {
            tag.push_str(ns);
        }
        if let Some(inst) = &root.instance {
            if root.net_namespace.is_some() {
                tag.push('_');
            }
            tag.push_str(inst);
        }
    }
    PathBuf::from(format!("{dir}/{stem}{suffix}{tag}{ext}"))
}

// ------------------------------------------------------------------ scripts

// The script runner lives in keepalived-runtime (every child runs scripts).
pub use keepalived_runtime::script::*;

// ------------------------------------------------------------------ core dumps

/// Apply `-m` / `-M[PATTERN]`; the returned guard restores core_pattern.
pub struct CoreDumpGuard {
    pub restore_pattern: Option<String>,
    /// The RLIMIT_CORE before `-m` raised it (keepalived restores it in
    /// scripts it runs).
    pub orig_core_rlimit: Option<(u64, u64)>,
    pattern_file: PathBuf,
    /// Only the process that changed the pattern restores it (forked
    /// children share this memory).
    owner: u32,
}

pub fn apply_core_dump(cli: &Cli) -> CoreDumpGuard {
    apply_core_dump_with(cli, Path::new(CORE_PATTERN_FILE))
}

/// [`apply_core_dump`] on another core_pattern file (tests). keepalived
/// main.c `core_dump_init`: `-M` (default pattern `core`) saves the current
/// pattern and writes the new one (`Unable to read/write core_pattern` on
/// failure); `-m` and `-M` raise RLIMIT_CORE to unlimited
/// (`Failed to get core file size` / `Failed to set core file size`).
pub fn apply_core_dump_with(cli: &Cli, pattern_file: &Path) -> CoreDumpGuard {
    let mut guard = CoreDumpGuard {
        restore_pattern: None,
        orig_core_rlimit: None,
        pattern_file: pattern_file.to_path_buf(),
        owner: std::process::id(),
    };
    if let Some(p) = &cli.core_dump_pattern {
        let pattern = p.as_deref().filter(|s| !s.is_empty()).unwrap_or("core");
        match read_and_set_pattern(pattern_file, pattern) {
            Ok(orig) => guard.restore_pattern = Some(orig),
            Err(_) => info!("Unable to read/write core_pattern"),
        }
    }
    if cli.core_dump || cli.core_dump_pattern.is_some() {
        use nix::sys::resource::{getrlimit, setrlimit, Resource, RLIM_INFINITY};
        match getrlimit(Resource::RLIMIT_CORE) {
            Err(_) => info!("Failed to get core file size"),
            Ok(orig) => match setrlimit(Resource::RLIMIT_CORE, RLIM_INFINITY, RLIM_INFINITY) {
                Err(_) => info!("Failed to set core file size"),
                Ok(()) => guard.orig_core_rlimit = Some(orig),
            },
        }
    }
    guard
}

fn read_and_set_pattern(file: &Path, pattern: &str) -> std::io::Result<String> {
    let mut f = OpenOptions::new().read(true).write(true).open(file)?;
    let mut buf = vec![0u8; CORENAME_MAX_SIZE - 1];
    let n = f.read(&mut buf)?;
    buf.truncate(n);
    // A fresh open: a sysctl file ignores a write after a read.
    OpenOptions::new().write(true).truncate(true).open(file)?.write_all(pattern.as_bytes())?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

impl Drop for CoreDumpGuard {
    fn drop(&mut self) {
        if self.owner != std::process::id() {
            return;
        }
        if let Some(orig) = self.restore_pattern.take() {
            let r = OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&self.pattern_file)
                .and_then(|mut f| f.write_all(orig.as_bytes()));
            if r.is_err() {
                info!("Unable to read/write core_pattern");
            }
        }
    }
}

// ------------------------------------------------------------------ umask

/// keepalived main.c `set_umask`: strtoll base 0 (`0x1f`, `077`, `63`);
/// `None` unless the whole string is a value within 0777.
pub fn parse_umask(s: &str) -> Option<u32> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let t = t.strip_prefix('+').unwrap_or(t);
    if let Some(neg) = t.strip_prefix('-') {
        // "-0" is 0 for strtoll; anything else negative is invalid.
        return (!neg.is_empty() && neg.chars().all(|c| c == '0')).then_some(0);
    }
    let (digits, radix) = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (h, 16)
    } else if t.len() > 1 && t.starts_with('0') {
        (&t[1..], 8)
    } else {
        (t, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u64::from_str_radix(digits, radix).ok()?;
    (v <= 0o777).then_some(v as u32)
}

/// The umask in force: `-u` (when valid) wins over the config's `umask`,
/// else keepalived's default 0177.
pub fn effective_umask(cli: &Cli, global: &GlobalDefs) -> u32 {
    cli.umask.as_deref().and_then(parse_umask).or(global.umask).unwrap_or(DEFAULT_UMASK)
}

/// Apply `-u` / `umask` (command line wins). An invalid `-u` prints
/// keepalived's `Invalid --umask option X` (no newline) to stderr and is
/// ignored.
pub fn apply_umask(cli: &Cli, global: &GlobalDefs) {
    if let Some(u) = &cli.umask {
        if parse_umask(u).is_none() {
            eprint!("Invalid --umask option {u}");
        }
    }
    let m = effective_umask(cli, global);
    nix::sys::stat::umask(Mode::from_bits_truncate(m as _));
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)] // used by the tests that the files_daemon binary compiles in
    use std::time::Instant;
    use keepalived_config::model::Script;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Mutex;

    /// Tests that create files or change the umask hold this (the umask is
    /// process-wide and the harness runs tests on threads).
    static UMASK_LOCK: Mutex<()> = Mutex::new(());

    fn lock_umask() -> std::sync::MutexGuard<'static, ()> {
        UMASK_LOCK.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let p = std::env::temp_dir().join(format!(
                "ka-rs-files-{tag}-{}-{}",
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

    fn is_root() -> bool {
        nix::unistd::getuid().is_root()
    }

    // ------------------------------------------------------------ pid paths

    fn paths(cli: &Cli, root: &RootOptions) -> PidPaths {
        PidPaths::resolve(cli, root)
    }

    fn names(p: &PidPaths) -> [String; 4] {
        [&p.parent, &p.vrrp, &p.checker, &p.bfd].map(|x| x.display().to_string())
    }

    #[test]
    fn pid_paths_default() {
        let p = paths(&Cli::default(), &RootOptions::default());
        assert_eq!(names(&p), ["/run/keepalived.pid", "/run/vrrp.pid", "/run/checkers.pid", "/run/bfd.pid"]);
        assert!(p.dir.is_none());
        assert_eq!(p.for_kind(ProcKind::Vrrp), Path::new("/run/vrrp.pid"));
        assert_eq!(p.for_kind(ProcKind::Checker), Path::new("/run/checkers.pid"));
        assert_eq!(p.for_kind(ProcKind::Bfd), Path::new("/run/bfd.pid"));
    }

    #[test]
    fn pid_paths_command_line_overrides() {
        let cli = Cli {
            pid: Some("/x/k.pid".into()),
            vrrp_pid: Some("/x/v.pid".into()),
            checkers_pid: Some("c.pid".into()),
            bfd_pid: Some("/x/b.pid".into()),
            ..Default::default()
        };
        let p = paths(&cli, &RootOptions::default());
        assert_eq!(names(&p), ["/x/k.pid", "/x/v.pid", "c.pid", "/x/b.pid"]);
        assert!(p.dir.is_none());
        // Only some given: the others keep their defaults.
        let cli = Cli { vrrp_pid: Some("/x/v.pid".into()), ..Default::default() };
        let p = paths(&cli, &RootOptions::default());
        assert_eq!(names(&p), ["/run/keepalived.pid", "/x/v.pid", "/run/checkers.pid", "/run/bfd.pid"]);
    }

    #[test]
    fn pid_paths_pid_dir() {
        let in_dir = [
            "/run/keepalived/keepalived.pid",
            "/run/keepalived/vrrp.pid",
            "/run/keepalived/checkers.pid",
            "/run/keepalived/bfd.pid",
        ];
        // use_pid_dir
        let root = RootOptions { use_pid_dir: true, ..Default::default() };
        let p = paths(&Cli::default(), &root);
        assert_eq!(names(&p), in_dir);
        assert_eq!(p.dir.as_deref(), Some(Path::new("/run/keepalived")));
        // net_namespace in the config
        let root = RootOptions { net_namespace: Some("blue".into()), ..Default::default() };
        let p = paths(&Cli::default(), &root);
        assert_eq!(names(&p), in_dir);
        assert!(p.dir.is_some());
        // -s on the command line
        let cli = Cli { namespace: Some("red".into()), ..Default::default() };
        let p = paths(&cli, &RootOptions::default());
        assert_eq!(names(&p), in_dir);
        assert!(p.dir.is_some());
        // -p still wins, the directory is still used for the others
        let cli = Cli { namespace: Some("red".into()), pid: Some("/tmp/k.pid".into()), ..Default::default() };
        let p = paths(&cli, &RootOptions::default());
        assert_eq!(p.parent, PathBuf::from("/tmp/k.pid"));
        assert_eq!(p.vrrp, PathBuf::from("/run/keepalived/vrrp.pid"));
        assert!(p.dir.is_some());
    }

    #[test]
    fn pid_paths_instance() {
        let with_inst = [
            "/run/keepalived/keepalived_i1.pid",
            "/run/keepalived/vrrp_i1.pid",
            "/run/keepalived/checkers_i1.pid",
            "/run/keepalived/bfd_i1.pid",
        ];
        for (ns, upd) in [(None, false), (Some("blue"), false), (None, true), (Some("blue"), true)] {
            let root = RootOptions {
                instance: Some("i1".into()),
                net_namespace: ns.map(String::from),
                use_pid_dir: upd,
                ..Default::default()
            };
            let p = paths(&Cli::default(), &root);
            assert_eq!(names(&p), with_inst, "ns {ns:?} use_pid_dir {upd}");
            assert_eq!(p.dir.as_deref(), Some(Path::new("/run/keepalived")));
            // -s with an instance: same names.
            let cli = Cli { namespace: Some("x".into()), ..Default::default() };
            assert_eq!(names(&paths(&cli, &root)), with_inst);
        }
        let root = RootOptions { instance: Some("i1".into()), ..Default::default() };
        let cli = Cli { pid: Some("/p".into()), bfd_pid: Some("/b".into()), ..Default::default() };
        let p = paths(&cli, &root);
        assert_eq!(names(&p), ["/p", "/run/keepalived/vrrp_i1.pid", "/run/keepalived/checkers_i1.pid", "/b"]);
    }

    #[test]
    fn pid_paths_resolve_in_other_dirs() {
        let root = RootOptions { instance: Some("z".into()), ..Default::default() };
        let p = PidPaths::resolve_in(&Cli::default(), &root, Path::new("/r"), Path::new("/r/ka"));
        assert_eq!(p.parent, PathBuf::from("/r/ka/keepalived_z.pid"));
        let p = PidPaths::resolve_in(&Cli::default(), &RootOptions::default(), Path::new("/r"), Path::new("/r/ka"));
        assert_eq!(p.bfd, PathBuf::from("/r/bfd.pid"));
    }

    #[test]
    fn pid_dir_created_0755_and_removed_when_empty() {
        let _g = lock_umask();
        let t = TempDir::new("piddir");
        let dir = t.path().join("keepalived");
        let prev = nix::sys::stat::umask(Mode::from_bits_truncate(0o177));
        let d = create_pid_dir(&dir);
        nix::sys::stat::umask(prev);
        let md = std::fs::metadata(&dir).unwrap();
        assert!(md.is_dir());
        assert_eq!(md.permissions().mode() & 0o7777, 0o755);
        // Existing: fine, and removed at exit when empty.
        let d2 = create_pid_dir(&dir);
        d.remove();
        assert!(!dir.exists());
        d2.remove(); // ENOENT: logged, no panic
                     // Not empty: kept.
        let d = create_pid_dir(&dir);
        std::fs::write(dir.join("x"), "").unwrap();
        d.remove();
        assert!(dir.exists());
        // Cannot create: not removed later.
        let d = create_pid_dir(&t.path().join("no/such/dir"));
        assert!(!d.created);
        // Through PidPaths.
        let root = RootOptions { use_pid_dir: true, ..Default::default() };
        let p = PidPaths::resolve_in(&Cli::default(), &root, t.path(), &t.path().join("pd"));
        p.create_dir().unwrap().remove();
        assert!(PidPaths::resolve(&Cli::default(), &RootOptions::default()).create_dir().is_none());
    }

    // ------------------------------------------------------------ pid files

    #[test]
    fn pid_file_lock_write_and_conflict() {
        let _g = lock_umask();
        let t = TempDir::new("lock");
        let path = t.path().join("keepalived.pid");
        let prev = nix::sys::stat::umask(Mode::from_bits_truncate(0o177));
        let mut a = PidFile::lock(&path).expect("first lock");
        nix::sys::stat::umask(prev);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o644);
        a.write_pid(1234).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "1234\n");
        // Rewriting starts again from the beginning.
        a.write_pid(56).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "56\n");
        // A second daemon (another open file description) is refused.
        match PidFile::lock(&path) {
            Err(e @ PidError::Locked(_)) => {
                assert_eq!(e.to_string(), format!("Another process has pid file {} locked", path.display()))
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        // The refused attempt did not truncate the file.
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "56\n");
        // Released: the next one gets it and truncates it.
        a.close();
        assert!(path.exists());
        let b = PidFile::lock(&path).expect("lock after release");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        b.remove();
        assert!(!path.exists());
    }

    #[test]
    fn pid_file_stale_is_taken_over() {
        let _g = lock_umask();
        let t = TempDir::new("stale");
        let path = t.path().join("vrrp.pid");
        // A pid file left by a dead process: no lock held.
        std::fs::write(&path, "999999999\n").unwrap();
        let mut p = PidFile::lock(&path).expect("stale file taken over");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        p.write_pid(std::process::id()).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{}\n", std::process::id()));
        assert!(p.is_open());
        p.remove();
    }

    #[test]
    fn pid_file_lock_held_by_other_process() {
        let _g = lock_umask();
        let t = TempDir::new("flock");
        let path = t.path().join("k.pid");
        // flock(1) with -o takes a BSD lock, which does not conflict with OFD
        // locks; use a python-free way: a shell holding an OFD lock is not
        // available, so check a lock held by another open file description
        // survives a fork-like duplicate: dup'ed fds share the lock.
        let a = PidFile::lock(&path).unwrap();
        let dup = a.file.as_ref().unwrap().try_clone().unwrap();
        a.close();
        // The duplicate still holds the lock (shared open file description),
        // as a forked child holding its inherited pid file does.
        assert!(matches!(PidFile::lock(&path), Err(PidError::Locked(_))));
        drop(dup);
        PidFile::lock(&path).unwrap().remove();
    }

    #[test]
    fn pid_file_recreated_when_removed_or_replaced() {
        let _g = lock_umask();
        let t = TempDir::new("recreate");
        let path = t.path().join("k.pid");
        let mut p = PidFile::lock(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        p.write_pid(7).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "7\n");
        // Recreated and locked again.
        assert!(matches!(PidFile::lock(&path), Err(PidError::Locked(_))));
        // Replaced by another file: the new one is written.
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, "junk junk junk\n").unwrap();
        p.write_pid(8).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "8\n");
        p.remove();
        assert!(!path.exists());
    }

    #[test]
    fn pid_file_refuses_symlink_and_missing_dir() {
        let _g = lock_umask();
        let t = TempDir::new("symlink");
        let target = t.path().join("target");
        std::fs::write(&target, "x").unwrap();
        let link = t.path().join("k.pid");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(PidFile::lock(&link), Err(PidError::Io(..))));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "x");
        assert!(matches!(PidFile::lock(&t.path().join("no/dir/k.pid")), Err(PidError::Io(..))));
    }

    #[test]
    fn pid_files_set() {
        let _g = lock_umask();
        let t = TempDir::new("set");
        let cli = Cli::default();
        let root = RootOptions { instance: Some("t".into()), ..Default::default() };
        let p = PidPaths::resolve_in(&cli, &root, t.path(), t.path());
        let all = [ProcKind::Vrrp, ProcKind::Checker, ProcKind::Bfd];
        let mut set = PidFiles::lock(&p, &all).unwrap();
        for f in [&p.parent, &p.vrrp, &p.checker, &p.bfd] {
            assert!(f.exists(), "{}", f.display());
        }
        assert_eq!(p.vrrp, t.path().join("vrrp_t.pid"));
        // A second keepalived with the same instance is refused.
        assert!(matches!(PidFiles::lock(&p, &all), Err(PidError::Locked(_))));
        // A second one differing only in the parent file is refused on a child file.
        let cli2 = Cli { pid: Some(t.path().join("other.pid").display().to_string()), ..Default::default() };
        let p2 = PidPaths::resolve_in(&cli2, &root, t.path(), t.path());
        assert!(matches!(PidFiles::lock(&p2, &all), Err(PidError::Locked(_))));
        // Unused children's files removed.
        let removed = set.remove_unused(&[ProcKind::Vrrp]);
        assert_eq!(removed, vec![p.checker.clone(), p.bfd.clone()]);
        assert!(!p.checker.exists() && !p.bfd.exists() && p.vrrp.exists());
        set.child_mut(ProcKind::Vrrp).unwrap().write_pid(42).unwrap();
        assert_eq!(std::fs::read_to_string(&p.vrrp).unwrap(), "42\n");
        assert!(set.child_mut(ProcKind::Bfd).is_none());
        // Parent at exit: its own file removed, the child's closed only.
        set.parent_exit();
        assert!(!p.parent.exists());
        assert!(p.vrrp.exists());
        // Nobody holds the child's file now.
        let mut again = PidFiles::lock(&p, &[ProcKind::Vrrp]).unwrap();
        // A child keeps only its own.
        again.close_others(Some(ProcKind::Vrrp));
        assert!(again.parent.is_none() && again.vrrp.is_some());
        assert!(p.parent.exists());
        again.child_exit(ProcKind::Vrrp);
        assert!(!p.vrrp.exists());
        let _ = std::fs::remove_file(&p.parent);
        // Only the kinds asked for are locked.
        let set = PidFiles::lock(&p, &[ProcKind::Checker]).unwrap();
        assert!(set.vrrp.is_none() && set.bfd.is_none() && set.checker.is_some());
    }

    // ------------------------------------------------------------ dump paths

    fn g_with(sdf: Option<&str>, dui: bool) -> GlobalDefs {
        let mut g = GlobalDefs::default();
        g.state_dump_file = sdf.map(String::from);
        g.data_use_instance = dui;
        g
    }

    fn dp(kind: DumpKind, g: &GlobalDefs, root: &RootOptions) -> String {
        dump_path_in(kind, g, root, Path::new("/tmp")).display().to_string()
    }

    #[test]
    fn dump_paths_default() {
        let g = GlobalDefs::default();
        let r = RootOptions::default();
        assert_eq!(dp(DumpKind::ParentData, &g, &r), "/tmp/keepalived_parent.data");
        assert_eq!(dp(DumpKind::VrrpData, &g, &r), "/tmp/keepalived.data");
        assert_eq!(dp(DumpKind::CheckData, &g, &r), "/tmp/keepalived_check.data");
        assert_eq!(dp(DumpKind::BfdData, &g, &r), "/tmp/keepalived_bfd.data");
        assert_eq!(dp(DumpKind::VrrpStats, &g, &r), "/tmp/keepalived.stats");
        assert_eq!(dp(DumpKind::VrrpJson, &g, &r), "/tmp/keepalived.json");
        let other = dump_path_in(DumpKind::CheckData, &g, &r, Path::new("/var/tmp"));
        assert_eq!(other, PathBuf::from("/var/tmp/keepalived_check.data"));
        let other = dump_path_in(DumpKind::VrrpJson, &g, &r, Path::new("/var/tmp"));
        assert_eq!(other, PathBuf::from("/var/tmp/keepalived.json"));
    }

    #[test]
    fn dump_paths_state_dump_file() {
        let r = RootOptions::default();
        let g = g_with(Some("/var/lib/ka/state.txt"), false);
        assert_eq!(dp(DumpKind::VrrpData, &g, &r), "/var/lib/ka/state.txt");
        assert_eq!(dp(DumpKind::CheckData, &g, &r), "/var/lib/ka/state_check.txt");
        assert_eq!(dp(DumpKind::ParentData, &g, &r), "/var/lib/ka/state_parent.txt");
        // Stats and JSON are not moved.
        assert_eq!(dp(DumpKind::VrrpStats, &g, &r), "/tmp/keepalived.stats");
        // A directory: keepalived.data inside (keepalived's double '/').
        let g = g_with(Some("/var/lib/ka/"), false);
        assert_eq!(dp(DumpKind::BfdData, &g, &r), "/var/lib/ka//keepalived_bfd.data");
        // No extension; the last dot of the name only.
        let g = g_with(Some("/v.d/dump"), false);
        assert_eq!(dp(DumpKind::CheckData, &g, &r), "/v.d/dump_check");
        let g = g_with(Some("/v/a.b.c"), false);
        assert_eq!(dp(DumpKind::CheckData, &g, &r), "/v/a.b_check.c");
        let g = g_with(Some("/v/.hidden"), false);
        assert_eq!(dp(DumpKind::CheckData, &g, &r), "/v/_check.hidden");
        // In the root directory.
        let g = g_with(Some("/dump.x"), false);
        assert_eq!(dp(DumpKind::ParentData, &g, &r), "/dump_parent.x");
        // Relative: the name only, in the tmp dir.
        let g = g_with(Some("sub/dir/my.data"), false);
        assert_eq!(dp(DumpKind::CheckData, &g, &r), "/tmp/my_check.data");
        let g = g_with(Some("plain"), false);
        assert_eq!(dp(DumpKind::VrrpData, &g, &r), "/tmp/plain");
        let g = g_with(Some("rel/"), false);
        assert_eq!(dp(DumpKind::VrrpData, &g, &r), "/tmp/keepalived.data");
    }

    #[test]
    fn dump_paths_data_use_instance() {
        let ns = RootOptions { net_namespace: Some("blue".into()), ..Default::default() };
        let inst = RootOptions { instance: Some("i1".into()), ..Default::default() };
        let both =
            RootOptions { net_namespace: Some("blue".into()), instance: Some("i1".into()), ..Default::default() };
        let g = g_with(None, true);
        assert_eq!(dp(DumpKind::VrrpData, &g, &RootOptions::default()), "/tmp/keepalived.data");
        assert_eq!(dp(DumpKind::VrrpData, &g, &ns), "/tmp/keepalived.blue.data");
        assert_eq!(dp(DumpKind::CheckData, &g, &inst), "/tmp/keepalived_check.i1.data");
        assert_eq!(dp(DumpKind::ParentData, &g, &both), "/tmp/keepalived_parent.blue_i1.data");
        assert_eq!(dp(DumpKind::VrrpStats, &g, &both), "/tmp/keepalived.stats");
        let g = g_with(Some("/d/s.txt"), true);
        assert_eq!(dp(DumpKind::BfdData, &g, &both), "/d/s_bfd.blue_i1.txt");
        let g = g_with(Some("/d/s"), true);
        assert_eq!(dp(DumpKind::BfdData, &g, &inst), "/d/s_bfd.i1");
        // Without data_use_instance, nothing added.
        let g = g_with(None, false);
        assert_eq!(dp(DumpKind::VrrpData, &g, &both), "/tmp/keepalived.data");
    }

    #[test]
    fn tmpdir_rule() {
        let t = TempDir::new("tmpdir");
        assert_eq!(tmp_dir_from(None), PathBuf::from("/tmp"));
        assert_eq!(tmp_dir_from(Some(t.path())), t.path());
        // Relative: ignored.
        assert_eq!(tmp_dir_from(Some(Path::new("relative/dir"))), PathBuf::from("/tmp"));
        // Not a directory: ignored.
        let f = t.path().join("file");
        std::fs::write(&f, "").unwrap();
        assert_eq!(tmp_dir_from(Some(&f)), PathBuf::from("/tmp"));
        assert_eq!(tmp_dir_from(Some(&t.path().join("missing"))), PathBuf::from("/tmp"));
        // A symlink to a directory is followed (stat).
        let l = t.path().join("link");
        std::os::unix::fs::symlink(t.path(), &l).unwrap();
        assert_eq!(tmp_dir_from(Some(&l)), l);
        // The environment is what dump_path uses.
        let expect = tmp_dir_from(std::env::var_os("TMPDIR").as_deref().map(Path::new));
        assert_eq!(tmp_dir(), expect);
        assert_eq!(set_tmp_dir(), expect);
        let d = dump_path(DumpKind::CheckData, &GlobalDefs::default(), &RootOptions::default());
        assert_eq!(d, expect.join("keepalived_check.data"));
    }

    #[test]
    fn namespace_override() {
        let cli = Cli { namespace: Some("red".into()), ..Default::default() };
        let mut root = RootOptions { net_namespace: Some("blue".into()), ..Default::default() };
        apply_namespace_override(&cli, &mut root);
        assert_eq!(root.net_namespace.as_deref(), Some("red"));
        let mut root = RootOptions::default();
        apply_namespace_override(&Cli::default(), &mut root);
        assert!(root.net_namespace.is_none());
    }

    // ------------------------------------------------------------ umask

    #[test]
    fn umask_parsing() {
        assert_eq!(parse_umask("0177"), Some(0o177));
        assert_eq!(parse_umask("077"), Some(0o77));
        assert_eq!(parse_umask("0x1f"), Some(0x1f));
        assert_eq!(parse_umask("18"), Some(18));
        assert_eq!(parse_umask("0"), Some(0));
        assert_eq!(parse_umask(" 022"), Some(0o22));
        assert_eq!(parse_umask("0777"), Some(0o777));
        assert_eq!(parse_umask("01000"), None);
        assert_eq!(parse_umask("-1"), None);
        assert_eq!(parse_umask("08"), None);
        assert_eq!(parse_umask("22x"), None);
        assert_eq!(parse_umask(""), None);
        assert_eq!(parse_umask("0x"), None);
        assert_eq!(parse_umask("-0"), Some(0));
        assert_eq!(parse_umask("+077"), Some(0o77));
        assert_eq!(parse_umask("0x+5"), None);
        assert_eq!(parse_umask("0+5"), None);
    }

    #[test]
    fn umask_precedence_and_apply() {
        let _g = lock_umask();
        let mut g = GlobalDefs::default();
        g.umask = Some(0o027);
        assert_eq!(effective_umask(&Cli::default(), &GlobalDefs::default()), 0o177);
        assert_eq!(effective_umask(&Cli::default(), &g), 0o027);
        let cli = Cli { umask: Some("0002".into()), ..Default::default() };
        assert_eq!(effective_umask(&cli, &g), 0o002);
        // An invalid -u is ignored.
        let bad = Cli { umask: Some("99999".into()), ..Default::default() };
        assert_eq!(effective_umask(&bad, &g), 0o027);
        assert_eq!(effective_umask(&bad, &GlobalDefs::default()), 0o177);

        let prev = nix::sys::stat::umask(Mode::from_bits_truncate(0o022));
        apply_umask(&cli, &g);
        let now = nix::sys::stat::umask(Mode::from_bits_truncate(0o022));
        assert_eq!(now.bits() as u32, 0o002);
        apply_umask(&Cli::default(), &GlobalDefs::default());
        let now = nix::sys::stat::umask(prev);
        assert_eq!(now.bits() as u32, 0o177);
    }

    // ------------------------------------------------------------ core dump

    /// The core-dump tests change the process-wide RLIMIT_CORE: one at a time.
    static CORE_LIMIT: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn core_pattern_set_and_restored() {
        let _serial = CORE_LIMIT.lock().unwrap_or_else(|e| e.into_inner());
        let t = TempDir::new("core");
        let f = t.path().join("core_pattern");
        std::fs::write(&f, "|/usr/share/apport/apport %p\n").unwrap();
        let orig_limit = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_CORE).unwrap();
        let cli = Cli { core_dump_pattern: Some(Some("/var/crash/core.%p".into())), ..Default::default() };
        let g = apply_core_dump_with(&cli, &f);
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "/var/crash/core.%p");
        assert_eq!(g.restore_pattern.as_deref(), Some("|/usr/share/apport/apport %p\n"));
        // -M implies -m.
        let lim = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_CORE).unwrap();
        assert_eq!(lim, (nix::sys::resource::RLIM_INFINITY, nix::sys::resource::RLIM_INFINITY));
        assert_eq!(g.orig_core_rlimit, Some(orig_limit));
        drop(g);
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "|/usr/share/apport/apport %p\n");

        // -M without a pattern: "core".
        let cli = Cli { core_dump_pattern: Some(None), ..Default::default() };
        let g = apply_core_dump_with(&cli, &f);
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "core");
        drop(g);
        // -m alone leaves the pattern alone.
        let cli = Cli { core_dump: true, ..Default::default() };
        let g = apply_core_dump_with(&cli, &f);
        assert!(g.restore_pattern.is_none());
        drop(g);
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "|/usr/share/apport/apport %p\n");
        // Unreadable pattern file: nothing to restore.
        let cli = Cli { core_dump_pattern: Some(None), ..Default::default() };
        let g = apply_core_dump_with(&cli, &t.path().join("missing/core_pattern"));
        assert!(g.restore_pattern.is_none());
        drop(g);
        // Neither option: nothing done.
        let g = apply_core_dump(&Cli::default());
        assert!(g.restore_pattern.is_none() && g.orig_core_rlimit.is_none());
        // Restore the original limit for the rest of the tests.
        let _ = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_CORE, orig_limit.0, orig_limit.1);
    }

    #[test]
    fn core_pattern_not_restored_by_other_process() {
        let _serial = CORE_LIMIT.lock().unwrap_or_else(|e| e.into_inner());
        let t = TempDir::new("core2");
        let f = t.path().join("core_pattern");
        std::fs::write(&f, "orig\n").unwrap();
        let mut g = apply_core_dump_with(&Cli { core_dump_pattern: Some(None), ..Default::default() }, &f);
        g.owner = g.owner.wrapping_add(1); // as if dropped in a forked child
        drop(g);
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "core");
    }

    // ------------------------------------------------------------ scripts

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
        let _g = lock_umask();
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
        let _g = lock_umask();
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

    #[test]
    fn script_without_shebang_runs_through_shell() {
        let _g = lock_umask();
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
        let _g = lock_umask();
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
        let _g = lock_umask();
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
        if !is_root() {
            eprintln!("not root: script user switching not tested");
            return;
        }
        let Ok(Some(nobody)) = nix::unistd::User::from_name("nobody") else {
            eprintln!("no user nobody: script user switching not tested");
            return;
        };
        let _g = lock_umask();
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

    // ------------------------------------------------------------ namespaces

    /// The inode of a namespace file.
    fn ns_ino(p: &str) -> u64 {
        std::fs::metadata(p).unwrap().ino()
    }

    /// A process in a new network namespace, killed on drop.
    struct NsHolder(std::process::Child);

    impl NsHolder {
        fn start() -> Option<NsHolder> {
            let c = std::process::Command::new("unshare").args(["-n", "sleep", "30"]).spawn().ok()?;
            let h = NsHolder(c);
            let me = ns_ino("/proc/self/ns/net");
            let path = format!("/proc/{}/ns/net", h.0.id());
            for _ in 0..200 {
                // unshare execs sleep once the namespace exists.
                if std::fs::metadata(&path).map(|m| m.ino() != me).unwrap_or(false) {
                    return Some(h);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            None
        }
        fn ns_path(&self) -> PathBuf {
            PathBuf::from(format!("/proc/{}/ns/net", self.0.id()))
        }
    }

    impl Drop for NsHolder {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn netns_enter_in_thread() {
        if !is_root() {
            eprintln!("not root: network namespaces not tested");
            return;
        }
        let Some(h) = NsHolder::start() else {
            eprintln!("unshare -n unavailable: network namespaces not tested");
            return;
        };
        let target = std::fs::metadata(h.ns_path()).unwrap().ino();
        let path = h.ns_path();
        // setns(CLONE_NEWNET) only moves the calling thread.
        let seen = std::thread::spawn(move || {
            enter_netns_path(&path).unwrap();
            ns_ino("/proc/thread-self/ns/net")
        })
        .join()
        .unwrap();
        assert_eq!(seen, target);
        assert_ne!(ns_ino("/proc/thread-self/ns/net"), target);
        // Unknown name: an error (the caller logs "Unable to set network namespace").
        assert!(enter_netns("ka-rs-no-such-namespace").is_err());
    }

    #[test]
    fn netns_by_name_with_ip_netns() {
        if !is_root() || !Path::new("/usr/sbin/ip").exists() && !Path::new("/sbin/ip").exists() {
            eprintln!("not root or no ip(8): named network namespaces not tested");
            return;
        }
        let name = format!("ka-rs-test-{}", std::process::id());
        let ok = std::process::Command::new("ip").args(["netns", "add", &name]).status().map(|s| s.success());
        if ok.ok() != Some(true) {
            eprintln!("ip netns add failed: named network namespaces not tested");
            return;
        }
        let n2 = name.clone();
        let r = std::thread::spawn(move || {
            enter_netns(&n2).map(|_| (ns_ino("/proc/thread-self/ns/net"), ns_ino(&format!("/run/netns/{n2}"))))
        })
        .join()
        .unwrap();
        let _ = std::process::Command::new("ip").args(["netns", "del", &name]).status();
        let (seen, want) = r.unwrap();
        assert_eq!(seen, want);
    }

    #[test]
    fn netns_run_mount_in_thread() {
        if !is_root() {
            eprintln!("not root: namespace pid directory not tested");
            return;
        }
        let _g = lock_umask();
        let t = TempDir::new("runmount");
        let pid_dir = t.path().join("keepalived");
        std::fs::create_dir(&pid_dir).unwrap();
        let pd = pid_dir.clone();
        let r = std::thread::spawn(move || {
            let rm = set_run_mount_in(&pd, "blue");
            if !rm.is_mounted() {
                return Err("unshare(CLONE_NEWNS) refused".to_string());
            }
            // A pid file written in the thread's /run/keepalived lands in
            // /run/keepalived/blue.
            let mut p = PidFile::lock(&pd.join("keepalived.pid")).map_err(|e| e.to_string())?;
            p.write_pid(9).unwrap();
            let inside = std::fs::read_to_string(pd.join("keepalived.pid")).unwrap();
            let under = std::fs::read_to_string(pd.join("blue/keepalived.pid"));
            p.remove();
            // pid_dir is now pid_dir/blue mounted: its mode is blue's.
            let mode = std::fs::metadata(&pd).unwrap().permissions().mode() & 0o7777;
            rm.clear();
            Ok((inside, under.is_err(), mode))
        })
        .join()
        .unwrap();
        match r {
            Err(e) => eprintln!("{e}: namespace pid directory not tested"),
            Ok((inside, hidden, mode)) => {
                assert_eq!(inside, "9\n");
                // In the thread, pid_dir/blue is hidden by the mount.
                assert!(hidden);
                assert_eq!(mode, 0o755);
                // Seen from the host: the file was in pid_dir/blue, now removed
                // with the directory.
                assert!(!pid_dir.join("blue").exists());
                assert!(!pid_dir.join("keepalived.pid").exists());
            }
        }
    }

    // daemonize() needs a single-threaded process: see tests/files_daemon.rs.
}
