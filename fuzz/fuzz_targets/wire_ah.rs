//! IPsec AH header and HMAC-MD5-96 over datagrams; round trip: never a panic. Body: `keepalived_wire::fuzzing::ah`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keepalived_wire::fuzzing::ah(data));
