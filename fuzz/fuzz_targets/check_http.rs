//! HTTP_GET/SSL_GET answers in arbitrary reads: never a panic. Body: `keepalived_check::fuzzing::http`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keepalived_check::fuzzing::http(data));
