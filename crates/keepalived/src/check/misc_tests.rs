//! MISC_CHECK scripts really run. Each test runs in a process of its own
//! (`in_netns` re-runs the test binary for it): the runner reaps every
//! child of the process, which must not be other tests' commands.

use super::*;
use keepalived_config::diag::{FileId, Origin};
use keepalived_config::model::Script;
use keepalived_testkit::in_netns;
use std::time::Instant;

fn misc(cmd: &str, timeout: Duration, dynamic: bool) -> MiscCheck {
    let args = vec!["/bin/sh".to_string(), "-c".to_string(), cmd.to_string()];
    let script = Script { args, user: None, group: None, origin: Origin::new(FileId::intern("test"), 1, 1) };
    MiscCheck { script: Some(script), timeout: Some(timeout.as_micros() as u64), dynamic, user: None, group: None }
}

/// Run `m` to its end as the child does: its outcome, the script's pid,
/// and how long it took.
fn run(m: &MiscCheck) -> (CheckOutcome, nix::unistd::Pid, Duration) {
    let mut runner = ScriptRunner::new();
    let start = Instant::now();
    assert!(start_one(&mut runner, m));
    loop {
        let _ = runner.on_timers(Instant::now());
        if let Some(r) = runner.reap().into_iter().find(|r| r.tag == Some(CheckerId(3))) {
            finished(r.pid, r.exit);
            return (outcome(r.exit, m.dynamic), r.pid, start.elapsed());
        }
        assert!(start.elapsed() < Duration::from_secs(20), "the script never ended");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn start_one(runner: &mut ScriptRunner<CheckerId>, m: &MiscCheck) -> bool {
    start(runner, CheckerId(3), m, 60_000_000, &ScriptRunOpts::default())
}

#[test]
fn exit_codes_map_as_keepalived() {
    assert_eq!(outcome(Exit::Code(0), false), CheckOutcome::Success);
    assert_eq!(outcome(Exit::Code(0), true), CheckOutcome::Success);
    let f1 = CheckOutcome::Failure { reason: Some("exited with status 1".into()) };
    assert_eq!(outcome(Exit::Code(1), true), f1);
    assert_eq!(outcome(Exit::Code(1), false), f1);
    assert_eq!(outcome(Exit::Code(2), true), CheckOutcome::Weight(0));
    assert_eq!(outcome(Exit::Code(255), true), CheckOutcome::Weight(253));
    let f7 = CheckOutcome::Failure { reason: Some("exited with status 7".into()) };
    assert_eq!(outcome(Exit::Code(7), false), f7);
    assert_eq!(outcome(Exit::Signal(9), false), CheckOutcome::Failure { reason: Some("due to signal 9".into()) });
    assert_eq!(outcome(Exit::TimedOut, true), CheckOutcome::Failure { reason: None });
}

#[test]
fn scripts_exit_codes() {
    in_netns("check::misc::tests::scripts_exit_codes", &[], || {
        let t = Duration::from_secs(5);
        assert_eq!(run(&misc("exit 0", t, false)).0, CheckOutcome::Success);
        assert_eq!(
            run(&misc("exit 1", t, true)).0,
            CheckOutcome::Failure { reason: Some("exited with status 1".into()) }
        );
        assert_eq!(run(&misc("exit 9", t, true)).0, CheckOutcome::Weight(7));
        assert_eq!(
            run(&misc("exit 9", t, false)).0,
            CheckOutcome::Failure { reason: Some("exited with status 9".into()) }
        );
        let killed = run(&misc("kill -9 $$", t, false)).0;
        assert_eq!(killed, CheckOutcome::Failure { reason: Some("due to signal 9".into()) });
    });
}

#[test]
fn hanging_script_is_killed_at_its_timeout() {
    in_netns("check::misc::tests::hanging_script_is_killed_at_its_timeout", &[], || {
        let (o, _, took) = run(&misc("sleep 30", Duration::from_millis(300), false));
        assert_eq!(o, CheckOutcome::Failure { reason: None });
        assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(3), "{took:?}");
    });
}

#[test]
fn forking_script_has_its_group_killed() {
    in_netns("check::misc::tests::forking_script_has_its_group_killed", &[], || {
        // Children ignoring SIGTERM: only the SIGKILL to the group ends them.
        let m = misc("trap '' TERM; sleep 30 & sleep 30 & wait", Duration::from_millis(200), false);
        let (o, pid, took) = run(&m);
        assert_eq!(o, CheckOutcome::Failure { reason: None });
        assert!(took < Duration::from_secs(6), "{took:?}");
        // Killed children are reaped by init, a moment later.
        let deadline = Instant::now() + Duration::from_secs(3);
        while nix::sys::signal::killpg(pid, None).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let alive = nix::sys::signal::killpg(pid, None);
        assert_eq!(alive, Err(nix::errno::Errno::ESRCH), "the script's process group is still there");
    });
}

#[test]
fn megabytes_of_output_are_discarded() {
    in_netns("check::misc::tests::megabytes_of_output_are_discarded", &[], || {
        let (o, _, took) = run(&misc(
            "head -c 20000000 /dev/zero; head -c 5000000 /dev/zero >&2; exit 0",
            Duration::from_secs(10),
            false,
        ));
        assert_eq!(o, CheckOutcome::Success);
        assert!(took < Duration::from_secs(5), "{took:?}");
    });
}
