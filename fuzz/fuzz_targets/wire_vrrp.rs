//! VRRP v2/v3 over IPv4 (whole datagram, AH) and IPv6; emit/parse round trip: never a panic. Body: `keepalived_wire::fuzzing::vrrp`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keepalived_wire::fuzzing::vrrp(data));
