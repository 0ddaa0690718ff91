//! The notify FIFOs both children write (keepalived lib/notify.c
//! `notify_fifo_open` / `fifo_open` / `notify_fifo_close`): the global
//! `notify_fifo` and the child's own one (`vrrp_notify_fifo` in the VRRP
//! child, `lvs_notify_fifo` in the checker child).
//!
//! A FIFO is created if absent (mode 0644, chowned to the configured
//! user), its reader script is started first, then it is opened read-write
//! and non-blocking so that a missing or slow reader never blocks the loop:
//! a line nobody reads is lost, as in keepalived. Closing removes the FIFOs
//! we created before closing them, so that a reader that reopens in a loop
//! cannot get the old one back.

use keepalived_config::model::global::NotifyFifo;
use keepalived_runtime::script::ScriptRunOpts;
use nix::unistd::Pid;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use tracing::info;

pub(crate) struct Fifo {
    path: String,
    file: std::fs::File,
    /// We made it, so we remove it at exit.
    pub(crate) created: bool,
    /// "" for notify_fifo, else the child's prefix (log texts).
    what: &'static str,
}

/// The open FIFOs of one child and their reader scripts.
#[derive(Default)]
pub struct Fifos {
    fifos: Vec<Fifo>,
    /// The FIFO reader scripts not yet reaped (killed first at a stop).
    pub readers: Vec<Pid>,
    /// `vrrp` / `lvs`: keepalived's "… notify fifo script terminated".
    kind: &'static str,
}

impl Fifos {
    /// Create and open the global `notify_fifo`, then the child's own
    /// `own` FIFO (`what` is its log prefix, e.g. `"vrrp "`), starting their
    /// reader scripts first (keepalived's order). The same path for both is
    /// opened once. Reader pids are also appended to `running`.
    pub fn open(
        &mut self,
        global: &NotifyFifo,
        own: &NotifyFifo,
        what: &'static str,
        opts: &ScriptRunOpts,
        running: &mut Vec<Pid>,
    ) {
        self.kind = what.trim_end_matches([' ', '_']);
        let same = global.name.is_some() && global.name == own.name;
        for (f, w) in [(global, ""), (own, what)] {
            if !w.is_empty() && same {
                continue;
            }
            let Some(path) = f.name.as_deref() else { continue };
            if let Some(fifo) = self.open_one(path, f, w, opts, running) {
                self.fifos.push(fifo);
            }
        }
    }

    pub(crate) fn open_one(
        &mut self,
        path: &str,
        f: &NotifyFifo,
        what: &'static str,
        opts: &ScriptRunOpts,
        running: &mut Vec<Pid>,
    ) -> Option<Fifo> {
        let uid = f.user.as_deref().and_then(|u| nix::unistd::User::from_name(u).ok().flatten());
        let created = make_fifo(path, f, uid.as_ref(), what)?;
        if let Some(s) = &f.script {
            if let Some(pid) = keepalived_runtime::script::spawn(s, &[], opts, false) {
                running.push(pid);
                self.readers.push(pid);
            }
        }
        let file = open_fifo(path, created, what)?;
        // After EEXIST we may have opened something planted by someone
        // else: use only a FIFO owned by us or by the configured user.
        let ours = nix::unistd::getuid().as_raw();
        let ok = file.metadata().is_ok_and(|m| {
            m.file_type().is_fifo() && (m.uid() == ours || uid.as_ref().is_some_and(|u| u.uid.as_raw() == m.uid()))
        });
        if !ok {
            info!("{what}notify fifo {path} is not a fifo we own - not using");
            return None;
        }
        Some(Fifo { path: path.to_string(), file, created, what })
    }

    #[cfg(test)]
    pub(crate) fn push(&mut self, f: Fifo) {
        self.fifos.push(f);
    }

    /// Write one line to every FIFO (lost when the pipe is full).
    pub fn write(&mut self, line: &[u8]) {
        for f in &mut self.fifos {
            if let Err(e) = f.file.write(line) {
                // A full pipe (nobody reading) loses the line, as keepalived does.
                if e.kind() != std::io::ErrorKind::WouldBlock {
                    info!("{}notify fifo write error: {e}", f.what);
                }
            }
        }
    }

    /// SIGTERM the reader scripts (keepalived kills the scripts it watches
    /// before the stop notifies).
    pub fn kill_readers(&mut self) {
        for pid in self.readers.drain(..) {
            let _ = nix::sys::signal::killpg(pid, nix::sys::signal::Signal::SIGTERM);
        }
    }

    /// A child exited: forget it if it was a reader (logged as keepalived's
    /// `vrrp_notify_fifo_script_exit` / `lvs_notify_fifo_script_exit`).
    pub fn reaped(&mut self, pid: Pid) -> bool {
        let before = self.readers.len();
        self.readers.retain(|p| *p != pid);
        let was = self.readers.len() != before;
        if was {
            info!("{} notify fifo script terminated", self.kind);
        }
        was
    }

    /// Close the FIFOs, removing those we created first.
    pub fn close(&mut self) {
        for f in self.fifos.drain(..) {
            if f.created {
                let _ = std::fs::remove_file(&f.path);
            }
            drop(f.file);
        }
    }
}

impl Drop for Fifos {
    fn drop(&mut self) {
        self.close();
    }
}

/// `mkfifo` with keepalived's mode and owner; `Some(created)`, or `None`
/// when the FIFO can neither be made nor found.
fn make_fifo(path: &str, f: &NotifyFifo, uid: Option<&nix::unistd::User>, what: &str) -> Option<bool> {
    use nix::sys::stat::Mode;
    let gid = match f.group.as_deref() {
        Some(gname) => nix::unistd::Group::from_name(gname).ok().flatten().map(|g| g.gid),
        None => uid.map(|u| u.gid),
    };
    match nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o644)) {
        Ok(()) => {
            let (our_uid, our_gid) = (nix::unistd::getuid(), nix::unistd::getgid());
            let want_uid = uid.map(|u| u.uid).filter(|u| *u != our_uid);
            let want_gid = gid.filter(|g| *g != our_gid);
            if (want_uid.is_some() || want_gid.is_some()) && nix::unistd::chown(path, want_uid, want_gid).is_err() {
                info!("Failed to set uid:gid for fifo {path}");
            }
            Some(true)
        }
        Err(nix::errno::Errno::EEXIST) => Some(false),
        Err(_) => {
            info!("Unable to create {what}notify fifo {path}");
            None
        }
    }
}

fn open_fifo(path: &str, created: bool, what: &str) -> Option<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOFOLLOW)
        .open(path);
    match file {
        Ok(file) => Some(file),
        Err(e) => {
            info!("Unable to open {what}notify fifo {path} - errno {}", e.raw_os_error().unwrap_or(0));
            if created {
                let _ = std::fs::remove_file(path);
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn spec(path: &std::path::Path) -> NotifyFifo {
        NotifyFifo { name: Some(path.display().to_string()), ..Default::default() }
    }

    #[test]
    fn one_path_for_both_is_opened_once_and_a_plain_file_is_refused() {
        let dir = std::env::temp_dir().join(format!("ka-rs-fifos-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("both.fifo");
        let (mut f, mut running) = (Fifos::default(), Vec::new());
        f.open(&spec(&p), &spec(&p), "lvs_", &ScriptRunOpts::default(), &mut running);
        assert_eq!(f.fifos.len(), 1);
        let mut r = std::fs::OpenOptions::new().read(true).custom_flags(nix::libc::O_NONBLOCK).open(&p).unwrap();
        f.write(b"VS FWM 1 UP\n");
        let mut buf = [0u8; 64];
        let n = r.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"VS FWM 1 UP\n", "written once");
        f.close();
        assert!(!p.exists());
        let plain = dir.join("plain");
        std::fs::write(&plain, "x").unwrap();
        f.open(&NotifyFifo::default(), &spec(&plain), "lvs_", &ScriptRunOpts::default(), &mut running);
        assert!(f.fifos.is_empty(), "a regular file is not a FIFO");
        assert!(plain.exists(), "and is not ours to remove");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
