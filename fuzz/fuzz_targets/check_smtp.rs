//! SMTP_CHECK server replies in arbitrary reads: never a panic. Body: `keepalived_check::fuzzing::smtp`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keepalived_check::fuzzing::smtp(data));
