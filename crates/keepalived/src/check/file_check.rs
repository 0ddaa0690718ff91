//! FILE_CHECK: the track_files the checker child's real servers follow
//! (keepalived 2.2.7 check/check_file.c, trackers/track_file.c). The
//! inotify watching and the reading rules are those of the VRRP child's
//! track_file (crate::track_file): a file written, moved in or truncated
//! is read again (empty: 0); a file deleted or moved away counts as 0; the
//! value is C `strtol(…, 0)` of the first 127 bytes (a binary file reads as
//! 0 unless it starts with digits); a number out of range is logged and
//! the previous value kept. The values go to the engine as
//! `Input::FileValue`; it applies FILE_CHECK weights and reverse.
//!
//! As init_track_files, only the track_files some FILE_CHECK uses are
//! watched ("Nothing is tracking this file, so forget it"); `init_file` is
//! written for every track_file of the configuration at start, never at a
//! reload (track_file_end_handler).

use crate::track_file::{self, FileTracker};
use keepalived_check::{EngineConfig, Policy};
use keepalived_config::model::vrrp::TrackFile;
use keepalived_config::Config;
use std::os::fd::RawFd;

/// The inotify watch over the FILE_CHECK track_files.
pub struct FileChecks {
    tracker: FileTracker,
}

/// The track_file names the FILE_CHECKs of `ecfg` follow.
fn tracked_names(ecfg: &EngineConfig) -> Vec<&str> {
    ecfg.checkers
        .iter()
        .filter_map(|c| match &c.policy {
            Policy::File { track_file, .. } => Some(track_file.as_str()),
            _ => None,
        })
        .collect()
}

impl FileChecks {
    /// At start: writes the `init_file`s, watches the FILE_CHECK files and
    /// returns their current values (files that exist) to feed before
    /// `Input::Start`. `None` when no FILE_CHECK is configured (or inotify
    /// is unavailable, logged).
    pub fn new(cfg: &Config, ecfg: &EngineConfig) -> Option<(FileChecks, Vec<(String, i64)>)> {
        FileChecks::build(cfg, ecfg, false)
    }

    /// At a reload: the same, without writing `init_file`s.
    pub fn reload(cfg: &Config, ecfg: &EngineConfig) -> Option<(FileChecks, Vec<(String, i64)>)> {
        FileChecks::build(cfg, ecfg, true)
    }

    fn build(cfg: &Config, ecfg: &EngineConfig, reloading: bool) -> Option<(FileChecks, Vec<(String, i64)>)> {
        if !reloading {
            cfg.vrrp.track_files.iter().for_each(track_file::init_file);
        }
        let names = tracked_names(ecfg);
        let used: Vec<TrackFile> =
            cfg.vrrp.track_files.iter().filter(|t| names.contains(&t.name.as_str())).cloned().collect();
        let (tracker, initial) = FileTracker::new(&used, false)?;
        Some((FileChecks { tracker }, initial))
    }

    /// The inotify descriptor to register for readability.
    pub fn raw_fd(&self) -> RawFd {
        self.tracker.raw_fd()
    }

    /// Reads the pending events; every new value is appended to `out` as
    /// (track_file name, value).
    pub fn on_ready(&mut self, out: &mut Vec<(String, i64)>) {
        self.tracker.on_ready(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("ka-rs-filecheck-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn setup(d: &std::path::Path, init: &str) -> (Config, EngineConfig) {
        let text = format!(
            r#"
track_file used {{
    file {d}/used
    weight 1
    {init}
}}
track_file unused {{
    file {d}/unused
    init_file 3
}}
virtual_server 10.0.0.1 80 {{
    protocol TCP
    real_server 192.168.1.10 80 {{
        FILE_CHECK {{
            track_file used
        }}
    }}
}}
"#,
            d = d.display()
        );
        let cfg = keepalived_config::parse_str("t.conf", &text, &Default::default()).config;
        let ecfg = EngineConfig::from_config(&cfg);
        (cfg, ecfg)
    }

    fn events(fc: &mut FileChecks) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        fc.on_ready(&mut out);
        out
    }

    fn used(v: i64) -> Vec<(String, i64)> {
        vec![("used".to_string(), v)]
    }

    #[test]
    fn init_files_and_only_used_files_watched() {
        let d = dir("init");
        let (cfg, ecfg) = setup(&d, "init_file 7");
        let (mut fc, initial) = FileChecks::new(&cfg, &ecfg).expect("a FILE_CHECK is configured");
        assert_eq!(initial, used(7));
        assert_eq!(std::fs::read_to_string(d.join("unused")).unwrap(), "3\n", "init_file of every track_file");
        std::fs::write(d.join("unused"), "9\n").unwrap();
        assert!(events(&mut fc).is_empty(), "a track_file no FILE_CHECK uses is not watched");
        drop(fc);
        // A reload writes no init_file.
        std::fs::remove_file(d.join("used")).unwrap();
        let (_fc, initial) = FileChecks::reload(&cfg, &ecfg).unwrap();
        assert!(initial.is_empty(), "a missing file gives no initial value (keepalived's last_status 0)");
        assert!(!d.join("used").exists());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn written_truncated_deleted_binary_and_out_of_range() {
        let d = dir("rules");
        let (cfg, ecfg) = setup(&d, "");
        let f = d.join("used");
        std::fs::write(&f, "5\n").unwrap();
        let (mut fc, initial) = FileChecks::new(&cfg, &ecfg).unwrap();
        assert_eq!(initial, used(5));
        std::fs::write(&f, "0x10\n").unwrap();
        assert_eq!(events(&mut fc), used(16), "written: strtol base 0");
        std::fs::write(&f, "").unwrap();
        assert_eq!(events(&mut fc), used(0), "truncated: 0");
        std::fs::write(&f, [0u8, 0xff, 0x12, b'4']).unwrap();
        assert_eq!(events(&mut fc), used(0), "binary: no digits first, 0");
        std::fs::write(&f, b"12\x00\xff").unwrap();
        assert_eq!(events(&mut fc), used(12), "digits then binary: the digits");
        std::fs::write(&f, "4294967296\n").unwrap();
        assert!(events(&mut fc).is_empty(), "out of range: ignored, previous value kept");
        std::fs::remove_file(&f).unwrap();
        assert_eq!(events(&mut fc), used(0), "deleted: 0");
        let tmp = d.join("tmp");
        std::fs::write(&tmp, "-2\n").unwrap();
        std::fs::rename(&tmp, &f).unwrap();
        assert_eq!(events(&mut fc), used(-2), "moved in: read");
        std::fs::rename(&f, &tmp).unwrap();
        assert_eq!(events(&mut fc), used(0), "moved away: 0");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn no_file_check_no_watch() {
        let cfg =
            keepalived_config::parse_str("t.conf", "virtual_server 10.0.0.1 80 {\n}\n", &Default::default()).config;
        assert!(FileChecks::new(&cfg, &EngineConfig::from_config(&cfg)).is_none());
    }
}
