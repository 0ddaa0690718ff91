//! Rtnetlink link/address dumps and notifications, acks, proc connector: never a panic. Body: `keepalived_netlink::fuzzing::route`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keepalived_netlink::fuzzing::route(data));
