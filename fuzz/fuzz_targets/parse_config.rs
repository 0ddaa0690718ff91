//! Any bytes given as keepalived.conf must produce a model or diagnostics,
//! never a panic or a hang. Run: `cargo +nightly fuzz run parse_config`.
#![no_main]

use keepalived_config::{parse_str, ParseOptions, SystemView};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Includes would read the fuzzing host's files; everything else is fair.
    if text.contains("include") || text.len() > 16 * 1024 {
        return;
    }
    let opts = ParseOptions { system: SystemView::with_interfaces(&["lo", "eth0", "eth1"]), ..Default::default() };
    let _ = parse_str("fuzz.conf", &text, &opts);
});
