//! BFD engine goldens: every `tests/scenarios/<name>/` holds `a.conf` (and `b.conf` for a two-node
//! scenario), `input.jsonl` (opening with a comment naming the RFC 5880/5881/5883 rule it proves;
//! format in `common/mod.rs`) and `expected.jsonl` (every action with its time, then the final
//! state). `KEEPALIVED_RS_UPDATE_GOLDENS=1 cargo test -p keepalived-bfd --test goldens` regenerates
//! the expected files.
mod common;

use std::path::Path;

#[test]
fn scenario_goldens() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("tests/scenarios")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let input = std::fs::read_to_string(dir.join("input.jsonl")).unwrap_or_default();
        if !input.starts_with('#') {
            failures.push(format!("{name}: input.jsonl must open with a comment naming its rule"));
        }
        let got = match common::run_dir(dir) {
            Ok(g) => g,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        if name.starts_with("drop-") || name.starts_with("flood-") {
            if let Err(e) = common::no_change_after_forgery(&got) {
                failures.push(format!("{name}: {e}"));
            }
        }
        failures.extend(keepalived_testkit::golden::compare(&name, dir, &got));
    }
    assert!(failures.is_empty(), "goldens (KEEPALIVED_RS_UPDATE_GOLDENS=1 regenerates):\n{}", failures.join("\n"));
}
