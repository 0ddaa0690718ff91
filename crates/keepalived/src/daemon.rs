//! Detaching from the terminal (`-n` not given), as keepalived's
//! `xdaemon()` does. Self-contained: tests/files_daemon.rs compiles it in
//! by path.

use std::fs::OpenOptions;
use std::io::Write;
use std::time::Duration;
use tracing::info;

/// Detach from the terminal (keepalived daemon.c `xdaemon` and its caller
/// in main.c), unless `-n`. Call it before the mio loop exists, while the
/// process has one thread.
///
/// keepalived forks once (not twice): the original process exits 0 at
/// once; the child becomes session leader (`setsid`), changes to `/`,
/// points stdin/stdout/stderr at `/dev/null`, then waits until its
/// parent has really gone (so `getppid()` no longer returns it). The umask
/// is left as already set by `umask::apply_umask`. Errors are logged with
/// keepalived's texts (`xdaemon: fork error`, `xdaemon: setsid error`,
/// `xdaemon: chdir error`) and returned (the chdir error is not fatal).
pub fn daemonize() -> std::io::Result<()> {
    let old_ppid = nix::unistd::getpid();
    match keepalived_sys::fork() {
        Err(e) => {
            info!("xdaemon: fork error");
            Err(e.into())
        }
        Ok(nix::unistd::ForkResult::Parent { .. }) => {
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().flush();
            std::process::exit(0);
        }
        Ok(nix::unistd::ForkResult::Child) => {
            if nix::unistd::setsid().is_err() {
                info!("xdaemon: setsid error");
                return Err(std::io::Error::last_os_error());
            }
            if nix::unistd::chdir("/").is_err() {
                info!("xdaemon: chdir error");
            }
            redirect_std_fds_to_null();
            while nix::unistd::getppid() == old_ppid {
                std::thread::sleep(Duration::from_micros(10));
            }
            Ok(())
        }
    }
}

/// keepalived `set_std_fd(true)`: stdin, stdout and stderr on /dev/null.
pub fn redirect_std_fds_to_null() {
    if let Ok(null) = OpenOptions::new().read(true).write(true).open("/dev/null") {
        let _ = nix::unistd::dup2_stdin(&null);
        let _ = nix::unistd::dup2_stdout(&null);
        let _ = nix::unistd::dup2_stderr(&null);
    }
}
