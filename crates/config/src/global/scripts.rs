//! Script security (keepalived core/notify.c `check_script_secure`,
//! `check_notify_script_secure`): used by the VRRP and checker validation
//! for every configured script.
//!
//! How to use (validation of another area):
//! ```ignore
//! let mut fl = 0;
//! fl |= check_notify_script_secure(ctx, sys, &mut inst.notify_master);
//! ...
//! report_security(ctx, fl, "scripts");
//! ```
//! Everything here is a no-op unless `sys.check_scripts`.

use crate::diag::{Origin, Severity};
use crate::engine::Ctx;
use crate::model::Script;
use crate::system::SystemView;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

/// keepalived's SC_* flags.
pub mod flags {
    pub const ISSCRIPT: u32 = 0x01;
    pub const EXECUTABLE: u32 = 0x02;
    pub const INSECURE: u32 = 0x04;
    pub const INHIBIT: u32 = 0x08;
    pub const NOTFOUND: u32 = 0x10;
    pub const SYSTEM: u32 = 0x20;
}

use flags::*;

const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_ISUID: u32 = 0o4000;
const S_ISGID: u32 = 0o2000;
const S_ISVTX: u32 = 0o1000;
const S_IXUSR: u32 = 0o100;
const S_IXGRP: u32 = 0o010;
const S_IXOTH: u32 = 0o001;
const S_IWGRP: u32 = 0o020;
const S_IWOTH: u32 = 0o002;
const PATH_MAX: usize = 4096;
const NAME_MAX: usize = 255;
/// glibc's confstr(_CS_PATH).
const CS_PATH: &str = "/bin:/usr/bin";
/// The default script user keepalived looks for.
pub const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

/// Our own uid and gid (keepalived `our_uid`, `our_gid`).
pub fn our_ids() -> (u32, u32) {
    (nix::unistd::getuid().as_raw(), nix::unistd::getgid().as_raw())
}

/// keepalived `set_uid_gid`: resolve a user (and optional group, ':' prefix
/// allowed) to ids, logging as keepalived does on failure.
pub(crate) fn resolve_user(
    ctx: &mut Ctx,
    origin: Option<Origin>,
    user: &str,
    group: Option<&str>,
) -> Option<(u32, u32)> {
    let (uid, mut gid) = match nix::unistd::User::from_name(user) {
        Ok(Some(u)) => (u.uid.as_raw(), u.gid.as_raw()),
        Ok(None) => {
            ctx.diags.log(origin, format!("Script user '{user}' does not exist"));
            return None;
        }
        Err(_) => {
            ctx.diags.log(origin, format!("Unable to resolve script username '{user}' - ignoring"));
            return None;
        }
    };
    let group = match group {
        Some(g) if g.starts_with(':') => g.get(1..).filter(|s| !s.is_empty()),
        other => other,
    };
    if let Some(g) = group {
        match nix::unistd::Group::from_name(g) {
            Ok(Some(gr)) => gid = gr.gid.as_raw(),
            Ok(None) => {
                ctx.diags.log(origin, format!("Script group '{g}' does not exist"));
                return None;
            }
            Err(_) => {
                ctx.diags.log(origin, format!("Unable to resolve script group name '{g}' - ignoring"));
                return None;
            }
        }
    }
    Some((uid, gid))
}

/// keepalived `get_default_script_user`: the ids scripts without a user run
/// as: `script_user` if given, else `keepalived_script` if that user exists,
/// else ourselves. With `enable_script_security` already set and no
/// `keepalived_script` user, reports keepalived's error and returns `None`
/// (the script must then be ignored). The result is sticky, as in keepalived.
pub fn get_default_script_user(ctx: &mut Ctx) -> Option<(u32, u32)> {
    if ctx.cfg.global.default_user_fail {
        return None;
    }
    if !ctx.cfg.global.default_script_uid_set {
        ctx.cfg.global.default_script_uid_set = true;
        let origin = Some(ctx.origin);
        match resolve_user(ctx, origin, DEFAULT_SCRIPT_USER, None) {
            Some(ids) => ctx.cfg.global.default_script_ids = Some(ids),
            None => {
                ctx.cfg.global.default_script_ids = Some(our_ids());
                if ctx.cfg.global.enable_script_security {
                    ctx.error(format!("Unable to set default user {DEFAULT_SCRIPT_USER} for script"));
                    ctx.cfg.global.default_user_fail = true;
                    return None;
                }
            }
        }
    }
    Some(ctx.cfg.global.default_script_ids.unwrap_or_else(our_ids))
}

/// The uid/gid a script runs as.
fn script_ids(ctx: &mut Ctx, script: &Script) -> (u32, u32) {
    if let Some(u) = script.user.clone() {
        let origin = Some(script.origin);
        if let Some(ids) = resolve_user(ctx, origin, &u, script.group.as_deref()) {
            return ids;
        }
        return our_ids();
    }
    match ctx.cfg.global.default_script_ids {
        Some(ids) if ctx.cfg.global.default_script_uid_set => ids,
        _ => get_default_script_user(ctx).unwrap_or_else(our_ids),
    }
}

fn is_executable(mode: u32, st_uid: u32, st_gid: u32, uid: u32, gid: u32) -> bool {
    (uid == 0 && mode & (S_IXUSR | S_IXGRP | S_IXOTH) != 0)
        || (uid == st_uid && mode & S_IXUSR != 0)
        || (uid != st_uid && ((gid == st_gid && mode & S_IXGRP != 0) || (gid != st_gid && mode & S_IXOTH != 0)))
}

fn strerror(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => nix::errno::Errno::from_raw(n).desc().to_string(),
        None => e.to_string(),
    }
}

enum FindPath {
    Found,
    Eacces,
    NotFound,
}

/// keepalived `find_path` (glibc execvpe's search): resolve a bare name
/// through PATH, replacing argv[0] with the path found.
fn find_path(ctx: &mut Ctx, script: &mut Script, uid: u32, gid: u32) -> FindPath {
    let file = script.path().to_string();
    if file.is_empty() || file.len() >= PATH_MAX || file.len() > NAME_MAX {
        return FindPath::NotFound;
    }
    if file.contains('/') {
        return FindPath::Found;
    }
    let path = std::env::var("PATH").unwrap_or_else(|_| CS_PATH.to_string());
    let mut got_eacces = false;
    for dir in path.split(':') {
        let candidate = if dir.is_empty() { file.clone() } else { format!("{dir}/{file}") };
        match fs::metadata(&candidate) {
            Ok(md) => {
                let mode = md.permissions().mode();
                if mode & S_IFMT == S_IFREG && is_executable(mode, md.uid(), md.gid(), uid, gid) {
                    ctx.diags.log(
                        Some(script.origin),
                        format!("WARNING - script `{file}` resolved by path search to `{candidate}`. Please specify full path."),
                    );
                    if let Some(a) = script.args.first_mut() {
                        *a = candidate;
                    }
                    return FindPath::Found;
                }
                got_eacces = true;
            }
            Err(e) => {
                if e.raw_os_error() == Some(nix::libc::EACCES) {
                    // stat itself failing with EACCES is not a "found" file
                }
            }
        }
    }
    if got_eacces {
        FindPath::Eacces
    } else {
        FindPath::NotFound
    }
}

/// keepalived `clean_path`: remove leading `./` `../`, `//`, `/./` and
/// `/../` from argv[0]. Returns `None` when nothing changed.
fn clean_path(old: &str) -> Option<String> {
    let b = old.as_bytes();
    let mut ip = 0usize;
    if b.starts_with(b"./") {
        ip += 1;
    } else if b.starts_with(b"../") {
        ip += 2;
    }
    loop {
        let rest = &b[ip..];
        if rest.starts_with(b"/../") {
            ip += 3;
        } else if rest.starts_with(b"/./") {
            ip += 2;
        } else if rest.starts_with(b"//") {
            ip += 1;
        } else {
            break;
        }
    }
    let mut out: Vec<u8> = Vec::with_capacity(b.len() + 1);
    if b.get(ip) != Some(&b'/') {
        out.push(b'/');
    }
    let find = |from: usize| b[from..].iter().position(|&c| c == b'/').map(|p| p + from);
    let mut slash = find(ip);
    match slash {
        None => out.extend_from_slice(&b[ip..]),
        Some(s) if s > ip => out.extend_from_slice(&b[ip..s]),
        _ => {}
    }
    while let Some(s) = slash {
        let next = find(s + 1);
        let Some(n) = next else {
            out.extend_from_slice(&b[s..]);
            break;
        };
        let c1 = b.get(s + 1).copied().unwrap_or(0);
        let c2 = b.get(s + 2).copied().unwrap_or(0);
        if n > s + 3 || (c1 != b'.' && c1 != b'/') || (c1 == b'.' && c2 != b'.' && c2 != b'/') {
            out.extend_from_slice(&b[s..n]);
        } else if n == s + 1 || n == s + 2 {
            // "//" or "/./": dropped
        } else {
            // "/../": remove the previous element
            match out.iter().rposition(|&c| c == b'/') {
                Some(p) => out.truncate(p),
                None => out.clear(),
            }
        }
        slash = next;
    }
    let new = String::from_utf8_lossy(&out).into_owned();
    if new == old {
        None
    } else {
        Some(new)
    }
}

/// keepalived `check_security`: every component of `filename` must be
/// root-owned and not writable by non-root (directories may be sticky).
fn check_security(ctx: &mut Ctx, origin: &Origin, filename: &str, security: bool) -> u32 {
    let b = filename.as_bytes();
    let mut next = Some(0usize);
    while let Some(start) = next {
        let slash = b[start..].iter().position(|&c| c == b'/').map(|p| p + start);
        let (part, is_last) = match slash {
            Some(s) => {
                next = Some(s + 1);
                let end = if s == 0 { 1 } else { s };
                (&filename[..end], false)
            }
            None => {
                next = None;
                (filename, true)
            }
        };
        let md = match fs::symlink_metadata(part) {
            Ok(m) => m,
            Err(e) => {
                let errno = e.raw_os_error().unwrap_or(0);
                if [nix::libc::EACCES, nix::libc::ELOOP, nix::libc::ENOENT, nix::libc::ENOTDIR].contains(&errno) {
                    ctx.diags.log(
                        Some(*origin),
                        format!("check_script_secure could not find script '{filename}' - disabling"),
                    );
                } else {
                    ctx.diags.log(
                        Some(*origin),
                        format!(
                            "check_script_secure('{filename}') returned errno {errno} - {} - disabling",
                            strerror(&e)
                        ),
                    );
                }
                return NOTFOUND;
            }
        };
        let mode = md.mode();
        let fmt = mode & S_IFMT;
        if (!is_last && fmt != S_IFDIR) || (is_last && fmt != S_IFREG && fmt != S_IFLNK) {
            ctx.diags.log(Some(*origin), format!("Wrong file type found in script path '{filename}'."));
            return INHIBIT;
        }
        let dir_no_sticky = fmt == S_IFDIR && mode & S_ISVTX == 0;
        if md.uid() != 0
            || ((dir_no_sticky || fmt == S_IFREG) && ((md.gid() != 0 && mode & S_IWGRP != 0) || mode & S_IWOTH != 0))
        {
            let suffix = if security { " - disabling" } else { "" };
            ctx.diags.log(Some(*origin), format!("Unsafe permissions found for script '{filename}'{suffix}."));
            return INSECURE | if security { INHIBIT } else { 0 };
        }
    }
    0
}

/// Check one script the way keepalived does, logging what keepalived logs.
/// Returns the SC_* flags. Does nothing (returns 0) unless
/// `sys.check_scripts`.
///
/// Bare names are resolved through PATH and argv[0] is replaced by the
/// path found (and cleaned of `//`, `/./`, `/../`), as keepalived does.
pub fn check_script_secure(ctx: &mut Ctx, sys: &SystemView, script: &mut Script) -> u32 {
    if !sys.check_scripts {
        return 0;
    }
    let arg0 = script.path().to_string();
    // "</file": a file-openable test, never executed.
    if let Some(rest) = arg0.strip_prefix('<') {
        if rest.trim_start_matches([' ', '\t']).starts_with('/') {
            return SYSTEM;
        }
    }
    let origin = script.origin;
    let (uid, gid) = script_ids(ctx, script);
    if !arg0.contains('/') {
        match find_path(ctx, script, uid, gid) {
            FindPath::Found => {}
            FindPath::Eacces => {
                ctx.diags.log(Some(origin), format!("Permissions failure for script {arg0} in path - disabling"));
                return NOTFOUND;
            }
            FindPath::NotFound => {
                ctx.diags.log(Some(origin), format!("Cannot find script {arg0} in path - disabling"));
                return NOTFOUND;
            }
        }
    }
    let arg0 = script.path().to_string();
    let real_path = match fs::canonicalize(&arg0) {
        Ok(p) => p.to_string_lossy().into_owned(),
        Err(e) => {
            ctx.diags.log(Some(origin), format!("Script {arg0} cannot be accessed - {}", strerror(&e)));
            return NOTFOUND;
        }
    };
    // keepalived 2.2.7: argv[0] becomes the resolved path, keeping the
    // file name as written when that name, in the resolved directory, is
    // the same file (multi-call programs look at their name); the security
    // walk is then done on the resolved path(s), so a symlinked directory
    // such as /bin on a merged-/usr host is never itself walked.
    let (new_path, real_file_path) = resolved_names(&arg0, &real_path);
    if ctx.cfg.global.use_symlink_paths {
        // keepalived master's option: run the path as written (cleaned).
        if let Some(new) = clean_path(&arg0) {
            if let Some(a) = script.args.first_mut() {
                *a = new;
            }
        }
    } else if new_path != arg0 {
        if let Some(a) = script.args.first_mut() {
            *a = new_path.clone();
        }
    }
    let arg0 = script.path().to_string();
    let md = match fs::metadata(real_file_path.as_deref().unwrap_or(&new_path)) {
        Ok(m) => m,
        Err(_) => {
            ctx.diags.log(Some(origin), format!("Unable to access script `{arg0}` - disabling"));
            return NOTFOUND;
        }
    };

    let mut fl = ISSCRIPT;
    let mode = md.mode();
    let mut need_protection = false;
    if is_executable(mode, md.uid(), md.gid(), uid, gid) {
        fl |= EXECUTABLE;
        if uid == 0
            || gid == 0
            || (md.uid() == 0 && mode & S_IXUSR != 0 && mode & S_ISUID != 0)
            || (md.gid() == 0 && mode & S_IXGRP != 0 && mode & S_ISGID != 0)
        {
            need_protection = true;
        }
    } else {
        ctx.diags.log(
            Some(origin),
            format!("WARNING - script '{arg0}' is not executable for uid:gid {uid}:{gid} - disabling."),
        );
    }
    if need_protection {
        let security = ctx.cfg.global.enable_script_security;
        fl |= check_security(ctx, &origin, &new_path, security);
        if let Some(p) = &real_file_path {
            fl |= check_security(ctx, &origin, p, security);
        }
    }
    fl
}

/// keepalived 2.2.7 `check_script_secure`'s choice of names after
/// realpath(): returns the path argv[0] becomes and, when that path keeps
/// the written file name (a symlink to a differently named file in the same
/// resolved directory), the fully resolved file as well.
fn resolved_names(arg0: &str, real_path: &str) -> (String, Option<String>) {
    if arg0 == real_path {
        return (real_path.to_string(), None);
    }
    let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let (orig_file, new_file) = (base(arg0), base(real_path));
    if orig_file == new_file {
        return (real_path.to_string(), None);
    }
    let dir = &real_path[..real_path.len() - new_file.len()];
    let candidate = format!("{dir}{orig_file}");
    let same_file = match (fs::metadata(real_path), fs::metadata(&candidate)) {
        (Ok(r), Ok(c)) => r.dev() == c.dev() && r.ino() == c.ino(),
        (Err(_), _) => true,
        (Ok(_), Err(_)) => false,
    };
    if same_file {
        (candidate, Some(real_path.to_string()))
    } else {
        (real_path.to_string(), None)
    }
}

/// As [`check_script_secure`], and drop the script (set `None`) when it
/// must not run (not found, inhibited, or not executable).
pub fn check_notify_script_secure<S: std::borrow::BorrowMut<Script>>(
    ctx: &mut Ctx,
    sys: &SystemView,
    script: &mut Option<S>,
) -> u32 {
    let Some(s) = script.as_mut() else { return 0 };
    let fl = check_script_secure(ctx, sys, s.borrow_mut());
    if sys.check_scripts && (fl & (INHIBIT | NOTFOUND) != 0 || fl & EXECUTABLE == 0) {
        *script = None;
    }
    fl
}

/// keepalived main.c `check_start_stop_script_secure`: as
/// [`check_notify_script_secure`] but a `</file` test script is kept.
pub fn check_start_stop_script_secure(ctx: &mut Ctx, sys: &SystemView, script: &mut Option<Script>) -> u32 {
    let Some(s) = script.as_mut() else { return 0 };
    let fl = check_script_secure(ctx, sys, s);
    if sys.check_scripts && (fl & (INHIBIT | NOTFOUND) != 0 || fl & (EXECUTABLE | SYSTEM) == 0) {
        *script = None;
    }
    fl
}

/// After checking all of a process's scripts: keepalived's
/// "SECURITY VIOLATION - {what} are being executed but script_security not
/// enabled.{ There are insecure scripts.}" when a script was found and
/// `enable_script_security` is off. `what` is "scripts" (VRRP),
/// "check scripts" (checker) or "start/shutdown scripts" (parent).
pub fn report_security(ctx: &mut Ctx, flags: u32, what: &str) {
    if ctx.cfg.global.enable_script_security || flags & ISSCRIPT == 0 {
        return;
    }
    let extra = if flags & INSECURE != 0 { " There are insecure scripts." } else { "" };
    ctx.report_at(
        Severity::SecurityError,
        None,
        format!("SECURITY VIOLATION - {what} are being executed but script_security not enabled.{extra}"),
    );
}

#[cfg(test)]
mod tests {
    use super::clean_path;

    #[test]
    fn clean_paths() {
        assert_eq!(clean_path("/usr/bin/x"), None);
        assert_eq!(clean_path("/usr//bin/x").as_deref(), Some("/usr/bin/x"));
        assert_eq!(clean_path("/usr/./bin/x").as_deref(), Some("/usr/bin/x"));
        assert_eq!(clean_path("/usr/lib/../bin/x").as_deref(), Some("/usr/bin/x"));
        assert_eq!(clean_path("//x").as_deref(), Some("/x"));
        assert_eq!(clean_path("./x").as_deref(), Some("/x"));
        assert_eq!(clean_path("a/b").as_deref(), Some("/a/b"));
    }
}
