//! JSONL goldens of the sans-IO engines (Holo's form): each scenario directory holds its input
//! and the `expected.jsonl` the engine must produce; `KEEPALIVED_RS_UPDATE_GOLDENS=1` rewrites
//! them from what the engine produces now.
use std::path::{Path, PathBuf};

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

/// Runs every scenario directory under `root` (sorted by name) and compares what `run` renders
/// for it with its `expected.jsonl`. `run` gets the scenario's name and directory and a list for
/// failures of its own; an `Err` is a scenario that could not run. With `rule_comment`, each
/// `input.jsonl` must open with a comment naming the rule it proves. Returns how many scenarios
/// ran and every failure.
pub fn run_scenarios(
    root: &Path,
    rule_comment: bool,
    mut run: impl FnMut(&str, &Path, &mut Vec<String>) -> Result<String, String>,
) -> (usize, Vec<String>) {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if rule_comment && !std::fs::read_to_string(dir.join("input.jsonl")).unwrap_or_default().starts_with('#') {
            failures.push(format!("{name}: input.jsonl must open with a comment naming its rule"));
        }
        match run(&name, dir, &mut failures) {
            Ok(got) => failures.extend(compare(&name, dir, &got)),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    (dirs.len(), failures)
}
