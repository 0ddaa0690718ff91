//! Replays the fuzz corpora (`fuzz/seeds/<target>/`, `fuzz/regressions/<target>/`) through the
//! very bodies the cargo-fuzz targets run, on stable Rust.
use keepalived_wire::fuzzing;
use std::path::PathBuf;

/// Every file of the target's seed directory (which must exist and hold files) and of its
/// regression directory (which may not exist yet).
fn replay(target: &str, body: fn(&[u8])) {
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

fn files(dir: &std::path::Path) -> Vec<PathBuf> {
    let rd = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut v: Vec<PathBuf> = rd.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
    v.sort();
    v
}

#[test]
fn wire_vrrp() {
    replay("wire_vrrp", fuzzing::vrrp);
}

#[test]
fn wire_ah() {
    replay("wire_ah", fuzzing::ah);
}

#[test]
fn wire_arp() {
    replay("wire_arp", fuzzing::arp);
}

#[test]
fn wire_ndisc() {
    replay("wire_ndisc", fuzzing::ndisc);
}

#[test]
fn wire_bfd() {
    replay("wire_bfd", fuzzing::bfd);
}
