//! Replays the fuzz corpora (`fuzz/seeds/<target>/`, `fuzz/regressions/<target>/`) through the
//! very bodies the cargo-fuzz targets run, on stable Rust.
use keepalived_check::fuzzing;
use keepalived_testkit::fuzz::replay;

#[test]
fn check_http() {
    replay("check_http", fuzzing::http);
}

#[test]
fn check_smtp() {
    replay("check_smtp", fuzzing::smtp);
}

#[test]
fn check_replies() {
    replay("check_replies", fuzzing::replies);
}
