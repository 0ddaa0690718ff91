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
    let (n, failures) = keepalived_testkit::golden::run_scenarios(&root, true, |name, dir, failures| {
        let got = common::run_dir(dir)?;
        if name.starts_with("drop-") || name.starts_with("flood-") {
            if let Err(e) = common::no_change_after_forgery(&got) {
                failures.push(format!("{name}: {e}"));
            }
        }
        Ok(got)
    });
    assert!(n > 0);
    assert!(failures.is_empty(), "goldens (KEEPALIVED_RS_UPDATE_GOLDENS=1 regenerates):\n{}", failures.join("\n"));
}
