//! Keepalived.conf text: preprocess, parse, validate; re-parse the consolidated copy: never a panic. Body: `keepalived_config::fuzzing::parse`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keepalived_config::fuzzing::parse(data));
