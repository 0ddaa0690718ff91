//! Files and process set-up, one concern per module: pid files
//! ([`crate::pidfile`]), daemonizing ([`crate::daemon`]), network namespaces
//! ([`crate::netns`]), the paths of the dump files ([`crate::dump_paths`]),
//! core dumps ([`crate::core_dump`]) and the umask ([`crate::umask`]); the
//! start-up/shutdown script runner is keepalived-runtime's `script`. Their
//! items are re-exported here, so `files::X` names them all.
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

pub use crate::core_dump::*;
pub use crate::daemon::*;
pub use crate::dump_paths::*;
pub use crate::netns::*;
pub use crate::pidfile::*;
pub use crate::umask::*;
// The script runner lives in keepalived-runtime (every child runs scripts).
pub use keepalived_runtime::script::*;

use nix::errno::Errno;

/// The C library's text for `e` (keepalived logs `strerror(errno)`).
pub(crate) fn strerror(e: Errno) -> &'static str {
    e.desc()
}

/// The errno of an I/O error (0 when it has none).
pub(crate) fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(0))
}

/// What the modules' tests share.
#[cfg(test)]
pub(crate) mod test_util {
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    /// Tests that create files, change the umask or start processes hold
    /// this: the harness runs tests on threads, the umask is process-wide,
    /// and a process forked by one test holds the files another test has
    /// open (and their OFD locks) until it execs.
    static PROCESS_LOCK: Mutex<()> = Mutex::new(());

    pub(crate) fn lock_process() -> std::sync::MutexGuard<'static, ()> {
        PROCESS_LOCK.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh directory under the system temp dir, removed on drop.
    pub(crate) struct TempDir(PathBuf);

    impl TempDir {
        pub(crate) fn new(tag: &str) -> TempDir {
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
        pub(crate) fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    pub(crate) fn is_root() -> bool {
        nix::unistd::getuid().is_root()
    }
}
