//! Where the data, stats and JSON dump files go: keepalived's `$TMPDIR`
//! rule, `state_dump_file`, `data_use_instance`, the namespace and
//! instance suffixes.

use keepalived_config::model::global::{GlobalDefs, RootOptions};
use keepalived_runtime::ProcKind;
use std::path::{Path, PathBuf};
use tracing::info;

/// KA_TMP_DIR.
pub const KA_TMP_DIR: &str = "/tmp";

/// The kinds of dump files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpKind {
    ParentData,
    VrrpData,
    CheckData,
    BfdData,
    VrrpStats,
    VrrpJson,
    /// keepalived-rs's BFD counters (keepalived's BFD child writes none).
    BfdStats,
}

impl DumpKind {
    /// The file a child writes for a dump signal (the stats and JSON files
    /// have one name whoever writes them: keepalived's VRRP child alone
    /// does).
    pub fn of(child: ProcKind, req: keepalived_runtime::DumpRequest) -> DumpKind {
        use keepalived_runtime::DumpRequest;
        match (req, child) {
            (DumpRequest::Stats { .. }, ProcKind::Bfd) => DumpKind::BfdStats,
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
        DumpKind::BfdStats => "_bfd",
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
    // keepalived-rs's BFD counters sit next to the BFD data file.
    let ext = if kind == DumpKind::BfdStats { ".stats" } else { ext };
    PathBuf::from(format!("{dir}/{stem}{suffix}{tag}{ext}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::test_util::*;

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
        assert_eq!(dp(DumpKind::BfdStats, &g, &r), "/tmp/keepalived_bfd.stats");
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
}
