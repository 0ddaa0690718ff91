//! Network namespaces: `-s NAME` over `net_namespace`, entering a named
//! namespace as `ip netns` keeps them, and the private `/run/keepalived`
//! bind mount keepalived sets up inside one.

use crate::cli::Cli;
use crate::files::{io_errno, strerror};
use crate::pidfile::{DIR_MODE, PID_DIR};
use crate::umask::with_umask_cleared;
use keepalived_config::model::global::RootOptions;
use nix::errno::Errno;
use nix::sys::stat::Mode;
use std::fs::File;
use std::path::{Path, PathBuf};
use tracing::info;

/// Where `ip netns` keeps the named network namespaces.
pub const NETNS_DIR: &str = "/run/netns";

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::test_util::*;
    use crate::pidfile::PidFile;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::time::Duration;

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
        let _g = lock_process();
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
        let _g = lock_process();
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
        let _g = lock_process();
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
}
