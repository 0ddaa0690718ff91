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
