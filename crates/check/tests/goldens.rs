//! Checker engine goldens: every `tests/scenarios/<rule>/` holds `config.conf`, `input.jsonl` (opening with a
//! comment naming the keepalived 2.2.7 rule it proves; format in `common/mod.rs`) and `expected.jsonl` (every
//! action with its time, then the final state). `KEEPALIVED_RS_UPDATE_GOLDENS=1 cargo test -p
//! keepalived-check --test goldens` regenerates the expected files.
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
        failures.extend(keepalived_testkit::golden::compare(&name, dir, &got));
    }
    assert!(failures.is_empty(), "goldens (KEEPALIVED_RS_UPDATE_GOLDENS=1 regenerates):\n{}", failures.join("\n"));
}
