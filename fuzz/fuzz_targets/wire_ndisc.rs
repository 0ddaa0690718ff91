//! IPv6 + Neighbour Advertisement; round trip: never a panic. Body: `keepalived_wire::fuzzing::ndisc`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keepalived_wire::fuzzing::ndisc(data));
