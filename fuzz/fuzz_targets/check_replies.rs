//! DNS_CHECK, PING_CHECK and UDP_CHECK replies: never a panic. Body: `keepalived_check::fuzzing::replies`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keepalived_check::fuzzing::replies(data));
