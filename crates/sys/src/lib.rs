//! keepalived-rs system-call wrappers that need `unsafe`: the only crate in
//! the workspace where it is allowed (every other crate forbids it). Each
//! function states the contract that makes its use sound.

use nix::unistd::ForkResult;

/// fork(2).
///
/// keepalived's process model forks its children without exec, like
/// keepalived itself. This is sound only while the calling process has a
/// single thread: the child of a multi-threaded process may only call
/// async-signal-safe functions until it execs. keepalived-rs processes
/// are single-threaded by design (one mio loop each, no worker threads);
/// [`ensure_single_threaded`] checks it before forking.
pub fn fork() -> nix::Result<ForkResult> {
    if !ensure_single_threaded() {
        return Err(nix::errno::Errno::EDEADLK);
    }
    // SAFETY: the process has exactly one thread (checked above), so the
    // child gets a consistent copy of all locks and allocator state and may
    // run arbitrary code.
    unsafe { nix::unistd::fork() }
}

/// True when /proc/self/task has exactly one entry (this thread).
pub fn ensure_single_threaded() -> bool {
    match std::fs::read_dir("/proc/self/task") {
        Ok(rd) => rd.count() == 1,
        // Without /proc we cannot tell; keepalived-rs never starts threads.
        Err(_) => true,
    }
}

/// The current value of SIGRTMIN (glibc reserves the first few real-time
/// signals, so this is a function call, not a constant).
pub fn sigrtmin() -> i32 {
    libc::SIGRTMIN()
}

/// The current value of SIGRTMAX.
pub fn sigrtmax() -> i32 {
    libc::SIGRTMAX()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rt_signals_match_keepalived_numbering() {
        // keepalived --signum: JSON = SIGRTMIN+2 = 36, STATS_CLEAR = SIGRTMAX-1 = 63.
        assert_eq!(sigrtmin() + 2, 36);
        assert_eq!(sigrtmax() - 1, 63);
    }

    #[test]
    fn fork_and_wait() {
        assert!(ensure_single_threaded() || std::thread::available_parallelism().is_ok());
        // cargo's test harness runs tests on threads: fork is refused there.
        if !ensure_single_threaded() {
            assert!(fork().is_err());
        }
    }
}

/// kill(2) with a raw signal number: nix's `Signal` has no real-time
/// signals, which keepalived uses for JSON (SIGRTMIN+2) and STATS_CLEAR
/// (SIGRTMAX-1).
pub fn kill_raw(pid: i32, sig: i32) -> std::io::Result<()> {
    // SAFETY: kill(2) takes plain integers and has no memory-safety
    // preconditions; errors are reported through errno.
    let r = unsafe { libc::kill(pid, sig) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// setpriority(PRIO_PROCESS, 0, nice): keepalived's `*_priority`.
pub fn set_nice(nice: i32) -> std::io::Result<()> {
    // SAFETY: plain integer arguments; failure is reported through errno.
    let r = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// SCHED_RR at `priority` with RLIMIT_RTTIME `rttime_us` (keepalived's
/// `*_rt_priority` and `*_rlimit_rttime`): a runaway realtime loop is
/// stopped by the kernel instead of freezing the machine.
pub fn set_realtime(priority: i32, rttime_us: u64) -> std::io::Result<()> {
    nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_RTTIME, rttime_us, rttime_us)
        .map_err(std::io::Error::from)?;
    let param = libc::sched_param { sched_priority: priority };
    // SAFETY: `param` is a valid, initialised sched_param that outlives the
    // call; pid 0 means this thread.
    let r = unsafe { libc::sched_setscheduler(0, libc::SCHED_RR | libc::SCHED_RESET_ON_FORK, &param) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
