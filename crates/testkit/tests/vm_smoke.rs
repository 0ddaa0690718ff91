//! The IPVS guest boots and runs this binary's tests there.
use keepalived_testkit::vm;

#[test]
fn suite_runs_in_the_ipvs_guest() {
    vm::run_suite(&[], &[], 120);
}

#[test]
fn the_guest_kernel_has_ipvs() {
    if !vm::guest() {
        return;
    }
    let out = std::process::Command::new("ipvsadm").arg("-Ln").output().expect("ipvsadm");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("IP Virtual Server"));
}
