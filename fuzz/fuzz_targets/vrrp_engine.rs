//! The VRRP child's packet path: decode, demultiplex, engine, timers: never a panic. Body: `keepalived_vrrp::fuzzing::engine`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keepalived_vrrp::fuzzing::engine(data));
