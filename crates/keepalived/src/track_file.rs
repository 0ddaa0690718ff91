//! `track_file` (shared by the VRRP and checker children): a number read
//! from a file, watched with inotify, feeds the priority of the VRRP
//! instances and the FILE_CHECK weight of the real servers that track it
//! (keepalived's track_file.c behaviour):
//!
//! - `init_file [VALUE] [overwrite]` writes `VALUE\n` at start-up if the
//!   file is missing (or always with `overwrite`), never at a reload;
//! - the file's directory is watched (so that editors replacing the file
//!   and `mv` into place are seen): a close after writing or a move in
//!   re-reads it, a delete or a move out counts as the value 0;
//! - the value is the file's first 127 bytes read as C `strtol(…, 0)`
//!   would (leading blanks, a sign, `0x` hex or `0` octal, stop at the
//!   first other character; no digits = 0); a number outside the 32-bit
//!   range is logged and ignored.

use keepalived_config::model::vrrp::TrackFile;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use tracing::{info, warn};

struct Watched {
    name: String,
    path: PathBuf,
    /// The file's name inside its (watched) directory.
    file_part: std::ffi::OsString,
    wd: WatchDescriptor,
}

pub struct FileTracker {
    inotify: Inotify,
    files: Vec<Watched>,
}

/// C's `strtol(s, NULL, 0)` on the text, `None` when it overflows.
pub fn parse_value(text: &[u8]) -> Option<i64> {
    let mut i = 0;
    while i < text.len() && matches!(text[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut neg = false;
    if i < text.len() && (text[i] == b'+' || text[i] == b'-') {
        neg = text[i] == b'-';
        i += 1;
    }
    let mut base = 10u32;
    if text.get(i) == Some(&b'0') {
        if matches!(text.get(i + 1), Some(b'x' | b'X')) && text.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit()) {
            base = 16;
            i += 2;
        } else {
            base = 8;
        }
    }
    let mut v: i128 = 0;
    while let Some(d) = text.get(i).and_then(|c| (*c as char).to_digit(base)) {
        v = v * i128::from(base) + i128::from(d);
        if v > i128::from(i64::MAX) + 1 {
            return None; // ERANGE
        }
        i += 1;
    }
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}

/// The value of a tracked file now: missing or empty reads as 0; `None`
/// means "invalid, keep the previous value" (logged).
pub fn read_value(path: &Path) -> Option<i64> {
    use std::io::Read;
    let mut buf = [0u8; 127];
    let n = match std::fs::File::open(path) {
        Ok(mut f) => f.read(&mut buf).unwrap_or(0),
        Err(_) => 0,
    };
    if n == 0 {
        return Some(0);
    }
    match parse_value(&buf[..n]) {
        Some(v) if (i64::from(i32::MIN)..=i64::from(i32::MAX) + 1).contains(&v) => Some(v),
        other => {
            info!("Invalid number {} read from {} - ignoring", other.unwrap_or(i64::MAX), path.display());
            None
        }
    }
}

/// `init_file`: write the initial value unless the file exists (or always
/// with `overwrite`, but only over a regular file).
pub fn init_file(tf: &TrackFile) {
    let (Some(init), Some(file)) = (tf.init_file, tf.file.as_deref()) else { return };
    let meta = std::fs::metadata(file);
    if let (Ok(m), true) = (&meta, init.overwrite) {
        if !m.is_file() {
            warn!("Cannot initialise track file {} - it is not a regular file", tf.name);
            return;
        }
    }
    if (meta.is_err() || init.overwrite) && std::fs::write(file, format!("{}\n", init.value)).is_err() {
        warn!("Unable to initialise track file {}", tf.name);
    }
}

impl FileTracker {
    /// Watch every track_file; returns the tracker and the current value of
    /// each file that exists (to give the engine before it starts).
    pub fn new(files: &[TrackFile], write_init: bool) -> Option<(FileTracker, Vec<(String, i64)>)> {
        if files.is_empty() {
            return None;
        }
        let inotify = match Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK) {
            Ok(i) => i,
            Err(e) => {
                warn!("Unable to monitor track files: {e}");
                return None;
            }
        };
        let mut t = FileTracker { inotify, files: Vec::new() };
        let mut initial = Vec::new();
        for tf in files {
            let Some(file) = tf.file.as_deref() else { continue };
            if write_init {
                init_file(tf);
            }
            let p = Path::new(file);
            let (dir, part) = match (p.parent(), p.file_name()) {
                (Some(d), Some(f)) => (if d.as_os_str().is_empty() { Path::new(".") } else { d }, f),
                _ => {
                    warn!("track file {} is not accessible - ignoring", tf.name);
                    continue;
                }
            };
            let Ok(dir) = std::fs::canonicalize(dir) else {
                warn!("track file {} is not accessible - ignoring", tf.name);
                continue;
            };
            let flags = AddWatchFlags::IN_CLOSE_WRITE | AddWatchFlags::IN_DELETE | AddWatchFlags::IN_MOVE;
            let wd = match t.inotify.add_watch(&dir, flags) {
                Ok(wd) => wd,
                Err(e) => {
                    warn!("Unable to watch track file {} ({}): {e}", tf.name, dir.display());
                    continue;
                }
            };
            let path = dir.join(part);
            if path.exists() {
                if let Some(v) = read_value(&path) {
                    initial.push((tf.name.clone(), v));
                }
            }
            t.files.push(Watched { name: tf.name.clone(), path, file_part: part.to_os_string(), wd });
        }
        Some((t, initial))
    }

    pub fn raw_fd(&self) -> RawFd {
        self.inotify.as_fd().as_raw_fd()
    }

    /// Read pending inotify events; new values go to `out`.
    pub fn on_ready(&mut self, out: &mut Vec<(String, i64)>) {
        loop {
            let events = match self.inotify.read_events() {
                Ok(ev) => ev,
                Err(nix::errno::Errno::EAGAIN) => return,
                Err(e) => {
                    info!("inotify read() returned error {e}");
                    return;
                }
            };
            if events.is_empty() {
                return;
            }
            for ev in events {
                if ev.mask.contains(AddWatchFlags::IN_ISDIR) {
                    continue;
                }
                let Some(name) = ev.name.as_ref() else { continue };
                for f in self.files.iter().filter(|f| f.wd == ev.wd && &f.file_part == name) {
                    if ev.mask.intersects(AddWatchFlags::IN_MOVED_FROM | AddWatchFlags::IN_DELETE) {
                        // Gone: as though the value were 0.
                        out.push((f.name.clone(), 0));
                    } else if let Some(v) = read_value(&f.path) {
                        out.push((f.name.clone(), v));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_like_strtol_base_0() {
        assert_eq!(parse_value(b"42\n"), Some(42));
        assert_eq!(parse_value(b"  -7 trailing"), Some(-7));
        assert_eq!(parse_value(b"0x1f"), Some(31));
        assert_eq!(parse_value(b"010"), Some(8));
        assert_eq!(parse_value(b"abc"), Some(0));
        assert_eq!(parse_value(b"+3"), Some(3));
        assert_eq!(parse_value(b"0x"), Some(0));
        assert_eq!(parse_value(b"99999999999999999999999"), None);
    }

    #[test]
    fn out_of_range_values_are_ignored_and_missing_files_are_zero() {
        let dir = std::env::temp_dir().join(format!("ka-rs-tf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("v");
        std::fs::write(&f, "4294967296\n").unwrap();
        assert_eq!(read_value(&f), None);
        std::fs::write(&f, "2147483648\n").unwrap();
        assert_eq!(read_value(&f), Some(2147483648), "INT32_MAX + 1 is accepted, as in keepalived");
        std::fs::remove_file(&f).unwrap();
        assert_eq!(read_value(&f), Some(0));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn writes_moves_and_deletes_are_seen() {
        let dir = std::env::temp_dir().join(format!("ka-rs-tf2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("track");
        let tf = TrackFile {
            name: "TF".into(),
            file: Some(f.to_string_lossy().into_owned()),
            weight: Default::default(),
            init_file: Some(keepalived_config::model::vrrp::TrackFileInit { value: 5, overwrite: false }),
            origin: keepalived_config::diag::Origin::new(keepalived_config::diag::FileId::intern("test"), 1, 1),
        };
        let (mut t, initial) = FileTracker::new(std::slice::from_ref(&tf), true).unwrap();
        assert_eq!(initial, vec![("TF".to_string(), 5)]);
        let mut out = Vec::new();
        std::fs::write(&f, "12\n").unwrap();
        t.on_ready(&mut out);
        assert_eq!(out.last(), Some(&("TF".to_string(), 12)));
        let tmp = dir.join("new");
        std::fs::write(&tmp, "-3\n").unwrap();
        std::fs::rename(&tmp, &f).unwrap();
        out.clear();
        t.on_ready(&mut out);
        assert_eq!(out.last(), Some(&("TF".to_string(), -3)));
        std::fs::remove_file(&f).unwrap();
        out.clear();
        t.on_ready(&mut out);
        assert_eq!(out, vec![("TF".to_string(), 0)]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
