//! Pid files, as keepalived keeps them: their paths (`-p -r -c -b`,
//! `--pid-dir`, `instance`, `net_namespace`), the pid directory, and the
//! files themselves, locked with OFD locks so a second keepalived finds
//! "daemon is already running".

use crate::cli::Cli;
use crate::files::{io_errno, strerror};
use crate::umask::with_umask_cleared;
use keepalived_config::model::global::RootOptions;
use keepalived_runtime::ProcKind;
use nix::errno::Errno;
use nix::sys::stat::Mode;
use std::fs::{File, OpenOptions};
use std::io::{Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use tracing::info;

/// `rwxr-xr-x`, the pid directories' mode.
pub(crate) const DIR_MODE: u32 = 0o755;
/// `rw-r--r--`, the pid files' mode.
const PID_FILE_MODE: u32 = 0o644;
/// RUNSTATEDIR.
pub const RUN_DIR: &str = "/run";
/// KEEPALIVED_PID_DIR (keepalived spells it with a trailing '/').
pub const PID_DIR: &str = "/run/keepalived";

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::test_util::*;
    use std::os::unix::fs::PermissionsExt;

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
        let _g = lock_process();
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
        let _g = lock_process();
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
        let _g = lock_process();
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
        let _g = lock_process();
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
        let _g = lock_process();
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
        let _g = lock_process();
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
        let _g = lock_process();
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
}
