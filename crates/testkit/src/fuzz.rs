//! The fuzz corpora as ordinary tests: every input of a cargo-fuzz target's seed directory
//! (`fuzz/seeds/<target>/`, which must exist and hold files) and regression directory
//! (`fuzz/regressions/<target>/`, which may not exist yet) through the very body the target runs,
//! so that CI on stable Rust keeps them passing.
use std::path::{Path, PathBuf};

/// Runs `body` on every corpus file of `target`.
pub fn replay(target: &str, body: fn(&[u8])) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let seeds = files(&root.join("seeds").join(target));
    assert!(!seeds.is_empty(), "no seeds for {target}");
    let regressions = root.join("regressions").join(target);
    let more = if regressions.exists() { files(&regressions) } else { Vec::new() };
    for f in seeds.iter().chain(&more) {
        let data = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        body(&data);
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let rd = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut v: Vec<PathBuf> = rd.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
    v.sort();
    v
}
