//! Replays the fuzz corpora (`fuzz/seeds/<target>/`, `fuzz/regressions/<target>/`) through the
//! very bodies the cargo-fuzz targets run, on stable Rust.
use keepalived_testkit::fuzz::replay;
use keepalived_wire::fuzzing;

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
