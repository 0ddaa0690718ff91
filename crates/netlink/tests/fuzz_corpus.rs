//! Replays the fuzz corpora (`fuzz/seeds/<target>/`, `fuzz/regressions/<target>/`) through the
//! very bodies the cargo-fuzz targets run, on stable Rust.
use keepalived_netlink::fuzzing;
use keepalived_testkit::fuzz::replay;

#[test]
fn netlink_route() {
    replay("netlink_route", fuzzing::route);
}

#[test]
fn netlink_ipvs() {
    replay("netlink_ipvs", fuzzing::ipvs);
}
