//! The network-namespace harness of the kernel-facing tests (netlink,
//! sockets, VMAC, nftables): a test re-runs its own test binary under
//! `unshare -n`, filtered to itself, so that its body runs in a fresh,
//! empty network namespace that disappears with the process; nothing on
//! the host changes. A test that cannot run here (not root, no `unshare`
//! or `ip`, a missing tool) prints `SKIP:` and passes.

pub mod vm;

use std::process::Command;

/// Set in the re-run process: the body runs there.
const IN_NETNS: &str = "KEEPALIVED_TEST_IN_NETNS";

/// True inside the re-run (the fresh namespace).
pub fn inside() -> bool {
    std::env::var_os(IN_NETNS).is_some()
}

/// `cmd arg` runs and succeeds (a tool check).
pub fn have(cmd: &str, arg: &str) -> bool {
    Command::new(cmd).arg(arg).output().map(|o| o.status.success()).unwrap_or(false)
}

/// Run a command that must succeed; its standard output.
pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(out.status.success(), "{cmd} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run `body` in a fresh network namespace by re-running the test `name`
/// there. `tools` are `(command, version flag)` pairs the body needs
/// besides `unshare` and `ip`; without one of them the test is skipped.
pub fn in_netns(name: &str, tools: &[(&str, &str)], body: fn()) {
    if inside() {
        body();
        return;
    }
    let usable = Command::new("unshare")
        .args(["-n", "ip", "link", "show", "lo"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !usable {
        println!("SKIP: {name} needs root, `unshare` and `ip`");
        return;
    }
    if let Some((t, _)) = tools.iter().find(|(t, flag)| !have(t, flag)) {
        println!("SKIP: {name} needs `{t}`");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("unshare")
        .arg("-n")
        .arg(&exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(IN_NETNS, "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "in the new namespace:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"), "the test did not run in the namespace");
}
