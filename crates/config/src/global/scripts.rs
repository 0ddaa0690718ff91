//! Script security (keepalived core/notify.c `check_script_secure`,
//! `check_notify_script_secure`): used by the VRRP and checker validation
//! for every configured script.

use crate::engine::Ctx;
use crate::model::Script;
use crate::system::SystemView;

/// keepalived's SC_* flags.
pub mod flags {
    pub const ISSCRIPT: u32 = 0x01;
    pub const EXECUTABLE: u32 = 0x02;
    pub const INSECURE: u32 = 0x04;
    pub const INHIBIT: u32 = 0x08;
    pub const NOTFOUND: u32 = 0x10;
    pub const SYSTEM: u32 = 0x20;
}

/// Check one script the way keepalived does, logging what keepalived logs.
/// Returns the SC_* flags. Does nothing (returns 0) unless
/// `sys.check_scripts`.
pub fn check_script_secure(_ctx: &mut Ctx, _sys: &SystemView, _script: &mut Script) -> u32 {
    0
}

/// As [`check_script_secure`], and drop the script (set `None`) when it
/// must not run (not found, inhibited, or not executable).
pub fn check_notify_script_secure(ctx: &mut Ctx, sys: &SystemView, script: &mut Option<Script>) -> u32 {
    let Some(s) = script.as_mut() else { return 0 };
    check_script_secure(ctx, sys, s)
}

/// After checking all of a process's scripts: keepalived's
/// "SECURITY VIOLATION - {what} are being executed but script_security not
/// enabled.{ There are insecure scripts.}" when a script was found and
/// `enable_script_security` is off. `what` is "scripts" (VRRP),
/// "check scripts" (checker) or "start/shutdown scripts" (parent).
pub fn report_security(_ctx: &mut Ctx, _flags: u32, _what: &str) {}
