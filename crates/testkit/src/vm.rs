//! The IPVS guest: this host's kernel has no IPVS, so the tests that need
//! it run inside a throw-away Debian kernel booted by
//! `shared/ipvs-vm/run-in-vm.sh`. Booting costs seconds, so one boot runs
//! one whole test binary: a single host-side test ([`run_suite`]) boots the
//! guest and re-runs its own binary there with [`GUEST`] set; every other
//! test of that binary starts with `if !vm::guest() { return; }`.
//!
//! The repository (and so `target/`) is shared into the guest at the same
//! path, so the binary, the daemon under test and the test data are all
//! where they were on the host.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Set in the guest's environment.
pub const GUEST: &str = "KEEPALIVED_TEST_IN_IPVS_VM";

/// True inside the IPVS guest.
pub fn guest() -> bool {
    std::env::var_os(GUEST).is_some()
}

/// The repository root (the workspace that holds `crates/`).
pub fn repo_root() -> PathBuf {
    let mut p = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !p.join("crates").is_dir() || !p.join("Cargo.toml").is_file() {
        if !p.pop() {
            break;
        }
    }
    p
}

/// `shared/ipvs-vm/run-in-vm.sh`: `$IPVS_VM_SCRIPT`, else a `shared/` folder
/// beside the repository or beside one of its parents (CI lays it beside the
/// clone; a git worktree may sit one level deeper).
pub fn script() -> Option<PathBuf> {
    if let Some(s) = std::env::var_os("IPVS_VM_SCRIPT") {
        return Some(PathBuf::from(s));
    }
    let root = repo_root();
    root.ancestors().skip(1).map(|a| a.join("shared/ipvs-vm/run-in-vm.sh")).find(|p| p.is_file())
}

/// Boot the guest once and run every test of the current test binary in
/// it (one at a time). `tools` are host binaries copied into the guest
/// besides `ipvsadm ip bash` (e.g. `keepalived` for keepalived 2.2.7);
/// `shares` are extra host folders shared at the same path. Call it from
/// one `#[test]` of the binary; in the guest it returns at once.
///
/// Without the script or qemu the suite fails: these tests are required,
/// and `tests/run.sh` installs what they need.
pub fn run_suite(tools: &[&str], shares: &[&Path], timeout_secs: u32) {
    run_suite_env(tools, shares, timeout_secs, &[]);
}

/// [`run_suite`], also passing the host's values of the environment
/// variables named in `pass_env` (those that are set) into the guest,
/// e.g. a test binary's own knobs (`IPVS_PARITY_ONLY`, ...).
pub fn run_suite_env(tools: &[&str], shares: &[&Path], timeout_secs: u32, pass_env: &[&str]) {
    if guest() {
        return;
    }
    boot(tools, shares, timeout_secs, pass_env, "");
}

/// Boot the guest and run there the tests of this binary whose names
/// contain `filter` (a unit-test module's guest tests); the guest's output.
/// In the guest it returns at once, with nothing.
pub fn run_matching(filter: &str, timeout_secs: u32) -> String {
    if guest() {
        return String::new();
    }
    boot(&[], &[], timeout_secs, &[], filter)
}

/// One guest boot running this test binary (the tests matching `filter`,
/// all when empty); panics unless they all pass. Its standard output.
fn boot(tools: &[&str], shares: &[&Path], timeout_secs: u32, pass_env: &[&str], filter: &str) -> String {
    let script = script().expect("shared/ipvs-vm/run-in-vm.sh not found beside the repository (set IPVS_VM_SCRIPT)");
    let exe = std::env::current_exe().expect("the test binary");
    let root = repo_root();
    let mut all_tools = vec!["ipvsadm", "ip", "bash"];
    all_tools.extend_from_slice(tools);
    // The guest runs the same binary, every test but this launcher.
    let cmd = format!(
        "{exports}export {GUEST}=1 RUST_BACKTRACE=1 PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH; cd {root}; {exe} --test-threads=1 --nocapture {filter}",
        exports = exports(pass_env),
        root = root.display(),
        exe = exe.display()
    );
    let mut c = Command::new(&script);
    c.env("IPVS_VM_TOOLS", all_tools.join(" ")).arg("-t").arg(timeout_secs.to_string()).arg("-m").arg("1024");
    c.arg("-s").arg(&root);
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from);
    if let Some(t) = target.filter(|t| !t.starts_with(&root)) {
        c.arg("-s").arg(t);
    }
    for s in shares {
        c.arg("-s").arg(s);
    }
    c.arg("--").arg(cmd);
    let out = c.output().expect("run-in-vm.sh");
    let stdout = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(out.status.success(), "the IPVS guest run failed ({})", out.status);
    assert!(stdout.contains("test result: ok"), "the test binary did not finish in the guest");
    stdout
}

/// `export NAME='value'; ` for each variable of `names` set here.
fn exports(names: &[&str]) -> String {
    let mut exports = String::new();
    for name in names {
        if let Some(v) = std::env::var_os(name) {
            let v = v.to_string_lossy().replace('\'', "'\\''");
            exports.push_str(&format!("export {name}='{v}'; "));
        }
    }
    exports
}
