//! Ethernet + ARP; round trip: never a panic. Body: `keepalived_wire::fuzzing::arp`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keepalived_wire::fuzzing::arp(data));
