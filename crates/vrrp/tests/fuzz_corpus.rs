//! Replays the fuzz corpora (`fuzz/seeds/<target>/`, `fuzz/regressions/<target>/`) through the
//! very bodies the cargo-fuzz targets run, on stable Rust.
use keepalived_vrrp::fuzzing;
use keepalived_testkit::fuzz::replay;

#[test]
fn vrrp_engine() {
    replay("vrrp_engine", fuzzing::engine);
}
