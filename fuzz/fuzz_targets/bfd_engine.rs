//! The BFD child's Engine::handle_packet with configured sessions, timers: never a panic. Body: `keepalived_bfd::fuzzing::engine`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keepalived_bfd::fuzzing::engine(data));
