//! Fuzz target body, shared by the cargo-fuzz target (`fuzz/`) and the corpus replay test
//! (`tests/fuzz_corpus.rs`) so the two cannot drift. Not part of the API.

use crate::preproc::{PreprocOptions, Preprocessor};
use crate::{run, Diagnostics, ParseOptions, SystemView};

/// Inputs longer than this are skipped (the sample configurations are well under it).
pub const MAX_LEN: usize = 64 * 1024;

/// Any bytes as keepalived.conf: preprocess, parse and validate, never touching the filesystem
/// for `include` (patterns are expanded, every alternative counts as missing) and with a fixed
/// `${_RANDOM}` seed; then the consolidated copy the children would read is parsed again.
pub fn parse(data: &[u8]) {
    if data.len() > MAX_LEN {
        return;
    }
    let text = String::from_utf8_lossy(data);
    let popts = PreprocOptions { random_seed: Some(1), no_includes: true, ..Default::default() };
    let opts = ParseOptions {
        system: SystemView { offline: true, ..SystemView::with_interfaces(&["lo", "eth0", "eth1"]) },
        record_copy: true,
        ..Default::default()
    };
    let parsed = run(Preprocessor::from_text("/nonexistent/keepalived.conf", &text, &popts), Diagnostics::new(), &opts);
    if let Some(copy) = parsed.copy {
        let opts = ParseOptions { record_copy: false, ..opts };
        let _ = run(Preprocessor::from_copy(&copy, &popts), Diagnostics::new(), &opts);
    }
}
