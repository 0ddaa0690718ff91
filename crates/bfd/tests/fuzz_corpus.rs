//! Replays the fuzz corpora (`fuzz/seeds/<target>/`, `fuzz/regressions/<target>/`) through the
//! very bodies the cargo-fuzz targets run, on stable Rust.
use keepalived_bfd::fuzzing;
use keepalived_testkit::fuzz::replay;

#[test]
fn bfd_engine() {
    replay("bfd_engine", fuzzing::engine);
}
