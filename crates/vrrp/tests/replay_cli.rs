//! The `keepalived-replay` command reproduces every conformance golden
//! from its recorded inputs, byte for byte.

use std::path::Path;
use std::process::Command;

#[test]
fn replay_command_reproduces_every_golden() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let d = e.path();
        if !d.join("input.jsonl").exists() {
            continue;
        }
        let out = Command::new(env!("CARGO_BIN_EXE_keepalived-replay"))
            .arg("-f")
            .arg(d.join("config.conf"))
            .arg(d.join("input.jsonl"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}: {}", d.display(), String::from_utf8_lossy(&out.stderr));
        let expected: String = std::fs::read_to_string(d.join("expected.jsonl"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{}", d.display());
        n += 1;
    }
    assert!(n >= 20, "only {n} goldens");
}
