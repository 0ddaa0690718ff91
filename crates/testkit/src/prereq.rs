//! What a test needs from the host: root and tools. CI runs as root with
//! every tool installed (`tests/run.sh` installs them), so a missing one is
//! a broken set-up and fails the test with the reason rather than letting
//! it pass without running.

use std::path::Path;
use std::process::{Command, Stdio};

/// keepalived 2.2.7, Debian's package: the reference of the parity tests.
pub const KEEPALIVED: &str = "/usr/sbin/keepalived";

/// The effective user is root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// `tool` exists: an absolute path that is there, or a command on `PATH`.
pub fn have(tool: &str) -> bool {
    if tool.starts_with('/') {
        return Path::new(tool).exists();
    }
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Panic unless we are root and every tool in `tools` exists.
pub fn require(tools: &[&str]) {
    assert!(is_root(), "this test needs root (CI runs as root)");
    require_tools(tools);
}

/// Panic unless every tool in `tools` exists (a test that runs unprivileged).
pub fn require_tools(tools: &[&str]) {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !have(t)).collect();
    assert!(missing.is_empty(), "this test needs {missing:?} (tests/run.sh installs them)");
}

/// Python's `module` imports (e.g. `aiosmtpd`, Debian's python3-aiosmtpd).
pub fn require_python(module: &str) {
    let ok = Command::new("/usr/bin/python3")
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "this test needs the Python module {module} (tests/run.sh installs it)");
}
