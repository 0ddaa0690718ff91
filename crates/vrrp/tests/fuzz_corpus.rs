//! Replays the fuzz corpora (`fuzz/seeds/<target>/`, `fuzz/regressions/<target>/`) through the
//! very bodies the cargo-fuzz targets run, on stable Rust.
use keepalived_testkit::fuzz::replay;
use keepalived_vrrp::fuzzing;

#[test]
fn vrrp_engine() {
    replay("vrrp_engine", fuzzing::engine);
}
