//! Generic netlink IPVS family resolution and query answers: never a panic. Body: `keepalived_netlink::fuzzing::ipvs`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keepalived_netlink::fuzzing::ipvs(data));
