//! Checker engine goldens: every `tests/scenarios/<rule>/` holds `config.conf`, `input.jsonl` (opening with a
//! comment naming the keepalived 2.2.7 rule it proves; format in `common/mod.rs`) and `expected.jsonl` (every
//! action with its time, then the final state). `KEEPALIVED_RS_UPDATE_GOLDENS=1 cargo test -p
//! keepalived-check --test goldens` regenerates the expected files.
mod common;

use std::path::Path;

#[test]
fn scenario_goldens() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let (_, failures) = keepalived_testkit::golden::run_scenarios(&root, true, |_, dir, _| common::run_dir(dir));
    assert!(failures.is_empty(), "goldens (KEEPALIVED_RS_UPDATE_GOLDENS=1 regenerates):\n{}", failures.join("\n"));
}
