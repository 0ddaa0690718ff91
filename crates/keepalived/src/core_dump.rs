//! Core dumps: `-m` raises RLIMIT_CORE, `-M[PATTERN]` also sets the
//! kernel's core pattern for the daemon's life.

use crate::cli::Cli;
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use tracing::info;

/// The kernel's core pattern file.
pub const CORE_PATTERN_FILE: &str = "/proc/sys/kernel/core_pattern";
/// CORENAME_MAX_SIZE: keepalived reads at most this many bytes minus one.
const CORENAME_MAX_SIZE: usize = 128;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::test_util::*;

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
}
