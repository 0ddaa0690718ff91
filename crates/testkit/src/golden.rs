//! JSONL goldens of the sans-IO engines (Holo's form): each scenario directory holds its input
//! and the `expected.jsonl` the engine must produce; `KEEPALIVED_RS_UPDATE_GOLDENS=1` rewrites
//! them from what the engine produces now.
use std::path::Path;

/// The goldens are being regenerated.
pub fn updating() -> bool {
    std::env::var_os("KEEPALIVED_RS_UPDATE_GOLDENS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Checks `got` against `dir/expected.jsonl` (or writes it when [`updating`]); a difference
/// comes back as a message naming scenario `name` and the first line that differs.
pub fn compare(name: &str, dir: &Path, got: &str) -> Option<String> {
    let path = dir.join("expected.jsonl");
    if updating() {
        std::fs::write(&path, got).expect("write expected.jsonl");
        return None;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    if got == want {
        return None;
    }
    let line = got
        .lines()
        .zip(want.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(got.lines().count().min(want.lines().count()));
    Some(format!(
        "{name}: differs at line {}\n  got:  {}\n  want: {}",
        line + 1,
        got.lines().nth(line).unwrap_or("<end>"),
        want.lines().nth(line).unwrap_or("<end>")
    ))
}
