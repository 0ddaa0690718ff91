//! MISC_CHECK: the `misc_path` script run through the child's
//! [`ScriptRunner`] (its own process group, output discarded, SIGTERM at
//! `misc_timeout` then SIGKILL, as keepalived's `misc_check_thread` /
//! `misc_check_child_thread`), and its exit mapped to an outcome.

use keepalived_check::{CheckOutcome, CheckerId};
use keepalived_config::lvs::model::MiscCheck;
use keepalived_runtime::script::{Exit, ScriptRunOpts, ScriptRunner};
use std::time::Duration;

/// Start one run of `m` for `checker`. The timeout is `misc_timeout`, else
/// the virtual server's `delay_loop` (`delay_loop_us`). `false` when it
/// could not be started (already logged).
pub fn start(
    runner: &mut ScriptRunner<CheckerId>,
    checker: CheckerId,
    m: &MiscCheck,
    delay_loop_us: u64,
    opts: &ScriptRunOpts,
) -> bool {
    let Some(script) = m.script.as_ref() else { return false };
    let timeout = Duration::from_micros(m.timeout.filter(|t| *t > 0).unwrap_or(delay_loop_us));
    runner.spawn(script, &[], opts, Some(timeout), checker).is_some()
}

/// keepalived's verdict on a finished script: 0 succeeds; with
/// `misc_dynamic` 2..=255 succeed with weight `exit - 2`; anything else
/// fails (`exited with status N`, `due to signal N`); a script we killed
/// at its timeout fails with no reason (the engine logs `timed out`).
pub fn outcome(exit: Exit, dynamic: bool) -> CheckOutcome {
    match exit {
        Exit::Code(0) => CheckOutcome::Success,
        Exit::Code(c) if dynamic && (2..=255).contains(&c) => CheckOutcome::Weight(i64::from(c) - 2),
        Exit::Code(c) => CheckOutcome::Failure { reason: Some(format!("exited with status {c}")) },
        Exit::Signal(s) => CheckOutcome::Failure { reason: Some(format!("due to signal {s}")) },
        Exit::TimedOut => CheckOutcome::Failure { reason: None },
    }
}

/// A script has ended. One we killed at its timeout has whatever is left
/// of its process group killed too (keepalived `misc_check_child_thread`
/// sends the group SIGKILL once the script itself is gone).
pub fn finished(pid: nix::unistd::Pid, exit: Exit) {
    if exit == Exit::TimedOut {
        let _ = nix::sys::signal::killpg(pid, nix::sys::signal::Signal::SIGKILL);
    }
}

/// A script that could not be started at all: keepalived's forked child
/// fails to exec and exits 0 ("Script errors aren't server errors",
/// `system_call`), so the check succeeds.
pub fn spawn_failed() -> CheckOutcome {
    CheckOutcome::Success
}

#[cfg(test)]
#[path = "misc_tests.rs"]
mod tests;
