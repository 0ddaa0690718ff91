//! Mixed clusters with the real keepalived 2.2.7, in network namespaces
//! built by ../shared/lab (lab.sh, ka.sh, ka-failover.sh): three hosts on a
//! bridge, priorities 150/100/50. For every variant (v2, v3, v3-ipv6, PASS,
//! AH, unicast) and both placements — keepalived-rs as the middle backup
//! (keepalived elects it on the master's death), and keepalived-rs as the
//! master and the lowest backup (keepalived takes over from it) — the
//! master is elected, holds the VIP alone, and SIGTERM (priority 0) and
//! SIGKILL (master-down timer) failovers both hand the VIP to h2 without
//! the lowest host ever taking it. Needs root, keepalived and ../shared/lab;
//! fails otherwise. Timings are printed, not asserted (the
//! benchmark compares them).

use keepalived_testkit::peers::lab_scripts;
use keepalived_testkit::prereq::KEEPALIVED;
use std::process::Command;

#[test]
fn mixed_clusters_with_keepalived_2_2_7() {
    let lab = lab_scripts(&[KEEPALIVED]);
    let ours = env!("CARGO_BIN_EXE_keepalived");
    let prefix = format!("karst{}-", std::process::id() % 10000);
    let run_dir = std::env::temp_dir().join(format!("ka-rs-interop-{}", std::process::id()));
    let mut failures = Vec::new();
    let mut table = Vec::new();
    for variant in ["v2", "v3", "v3-ipv6", "pass", "ah", "unicast"] {
        for (placement, envs) in [
            ("keepalived-rs backup (h2)", vec![("KA_BIN_h2", ours)]),
            ("keepalived-rs master+lowest (h1,h3)", vec![("KA_BIN_h1", ours), ("KA_BIN_h3", ours)]),
        ] {
            let mut cmd = Command::new("bash");
            cmd.arg(lab.join("ka-failover.sh")).args([variant, "1"]).env("LAB_PREFIX", &prefix).env("KA_RUN", &run_dir);
            for (k, v) in &envs {
                cmd.env(k, v);
            }
            let out = cmd.output().expect("run ka-failover.sh");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let term = stdout.lines().find(|l| l.starts_with(&format!("{variant},TERM,")));
            let kill = stdout.lines().find(|l| l.starts_with(&format!("{variant},KILL,")));
            let bad = ["split brain", "grabbed the VIP", "never became master", "never took over"];
            if !out.status.success() || term.is_none() || kill.is_none() || bad.iter().any(|b| stderr.contains(b)) {
                failures.push(format!("{variant} / {placement}: exit {:?}\n{stdout}{stderr}", out.status.code()));
            }
            table.push(format!("{variant:8} {placement:38} {} {}", term.unwrap_or("-"), kill.unwrap_or("-")));
        }
    }
    let _ = Command::new("bash").arg(lab.join("lab.sh")).arg("down").env("LAB_PREFIX", &prefix).status();
    let _ = std::fs::remove_dir_all(&run_dir);
    eprintln!("variant  placement                              failover (ms): SIGTERM, SIGKILL\n{}", table.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
