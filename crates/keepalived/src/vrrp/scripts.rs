//! Running notify and tracking scripts the way keepalived does (FEATURES.md
//! §4.3): fork + exec of the configured argv in its own process group, as
//! the script user, with default signal dispositions, SIGTERM if the VRRP
//! child dies, and IFS / LD_PRELOAD / LD_LIBRARY_PATH removed. Children are
//! reaped by the shell on SIGCHLD, never waited for in the loop.

use crate::files::ScriptRunOpts;
use keepalived_config::model::Script;
use nix::unistd::Pid;
use tracing::warn;

/// The command for a notify or tracking script, with `extra` arguments
/// appended (the generic `notify` gets `INSTANCE NAME STATE PRIORITY`).
pub fn command(
    s: &Script,
    extra: &[&str],
    opts: &ScriptRunOpts,
) -> Option<(std::process::Command, keepalived_sys::ChildSetup)> {
    use std::os::unix::process::CommandExt;
    let prog = s.args.first()?;
    let ids = crate::files::script_ids(s, opts);
    let root = nix::unistd::getuid().is_root();
    let setup = keepalived_sys::ChildSetup {
        gid: Some(ids.gid),
        groups: root.then(|| ids.groups.clone()),
        uid: Some(ids.uid),
        reset_signals: true,
        pdeathsig: Some(nix::sys::signal::Signal::SIGTERM as i32),
    };
    let mut cmd = std::process::Command::new(prog);
    cmd.args(&s.args[1..]).args(extra).stdin(std::process::Stdio::null()).process_group(0);
    cmd.env_remove("IFS").env_remove("LD_PRELOAD").env_remove("LD_LIBRARY_PATH");
    Some((cmd, setup))
}

/// Start a script without waiting for it; its pid, for the callers that
/// watch it (timeouts, the FIFO reader). Failures are logged.
pub fn spawn(s: &Script, extra: &[&str], opts: &ScriptRunOpts, quiet: bool) -> Option<Pid> {
    let (mut cmd, setup) = command(s, extra, opts)?;
    if quiet {
        cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    }
    match keepalived_sys::spawn_with_setup(&mut cmd, &setup) {
        Ok(child) => {
            let pid = Pid::from_raw(child.id() as i32);
            // Reaped on SIGCHLD by the shell, not by std.
            std::mem::forget(child);
            Some(pid)
        }
        Err(e) => {
            warn!("Unable to run script {}: {e}", s.cmd_str());
            None
        }
    }
}
