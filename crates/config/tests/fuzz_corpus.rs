//! Replays the fuzz corpora (`fuzz/seeds/<target>/`, `fuzz/regressions/<target>/`) through the
//! very bodies the cargo-fuzz targets run, on stable Rust.
use keepalived_config::fuzzing;
use keepalived_testkit::fuzz::replay;

#[test]
fn config_parse() {
    replay("config_parse", fuzzing::parse);
}
