//! Conformance goldens (Holo style): every `tests/conformance/<behaviour>/` directory holds
//! `config.conf` (a keepalived.conf snippet), `input.jsonl` (the timestamped inputs, replay format, see
//! `keepalived_vrrp::replay`) and `expected.jsonl` (every action produced, with its time).
//! `KEEPALIVED_RS_UPDATE_GOLDENS=1 cargo test -p keepalived-vrrp --test conformance` regenerates the
//! expected files.
mod common;

use std::path::Path;

use keepalived_config::{parse_str, ParseOptions};
use keepalived_vrrp::replay::{replay, write_actions};

fn run_dir(dir: &Path) -> Result<String, String> {
    let conf = std::fs::read_to_string(dir.join("config.conf")).map_err(|e| format!("config.conf: {e}"))?;
    let parsed = parse_str("config.conf", &conf, &ParseOptions::default());
    let input = std::fs::read(dir.join("input.jsonl")).map_err(|e| format!("input.jsonl: {e}"))?;
    let actions = replay(&parsed.config, input.as_slice()).map_err(|e| e.to_string())?;
    if actions.is_empty() {
        return Err("no actions".into());
    }
    Ok(write_actions(&actions))
}

#[test]
fn conformance_goldens() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let (n, failures) = keepalived_testkit::golden::run_scenarios(&root, false, |_, dir, _| run_dir(dir));
    assert!(n >= 20, "at least 20 behaviours ({n} found)");
    assert!(
        failures.is_empty(),
        "conformance goldens (KEEPALIVED_RS_UPDATE_GOLDENS=1 regenerates):\n{}",
        failures.join("\n")
    );
}
