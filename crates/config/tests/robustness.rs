//! Robustness: random bytes and mutated sample configurations never panic
//! the parser; they always give a model or diagnostics.

use keepalived_config::{parse_str, ParseOptions, SystemView};
use proptest::prelude::*;
use std::path::PathBuf;

fn opts() -> ParseOptions {
    ParseOptions { system: SystemView::with_interfaces(&["lo", "eth0", "eth1", "eth2", "eth3"]), ..Default::default() }
}

fn samples() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/samples");
    let mut v = Vec::new();
    let rd = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for e in rd.flatten() {
        if let Ok(t) = std::fs::read_to_string(e.path()) {
            if !t.contains("include") {
                v.push(t);
            }
        }
    }
    assert!(v.len() > 30, "{}: only {} samples", dir.display(), v.len());
    v.push(include_str!("../../../keepalived.conf.example").to_string());
    v
}

/// Pieces that exercise the preprocessor and the block structure.
const FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "\"",
    "'",
    "#",
    "!",
    "\\",
    "$X=",
    "$X",
    "${X}",
    "${_RANDOM 1 5}",
    "@a ",
    "@^a ",
    "~SEQ(i,1,3) ",
    "~LST(x,a,b) ",
    "\n",
    " ",
    "\t",
    "vrrp_instance V {",
    "virtual_ipaddress {",
    "real_server 1.2.3.4 80 {",
    "weight -",
    "255",
    "0",
    "-1",
    "4294967296",
    "1.2.3.4/33",
    "::1",
    "state",
    "priority",
    "notify \"/bin/x",
    "HTTP_GET {",
    "url {",
    "\u{0}",
    "\r\n",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes).replace("include", "inc");
        let p = parse_str("random.conf", &text, &opts());
        // Either a model or diagnostics; the exit code is one of keepalived's.
        prop_assert!([0, 2, 4, 5, 6].contains(&p.test_exit_code()));
    }

    #[test]
    fn mutated_samples_never_panic(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0u8..3), 1..20),
    ) {
        let all = samples();
        let mut text: Vec<char> = all[which.index(all.len())].chars().collect();
        for (pos, frag, op) in edits {
            if text.is_empty() { break; }
            let at = pos.index(text.len());
            let f: Vec<char> = FRAGMENTS[frag.index(FRAGMENTS.len())].chars().collect();
            match op {
                0 => { text.splice(at..at, f); }
                1 => { let end = (at + 5).min(text.len()); text.drain(at..end); }
                _ => { let end = (at + f.len()).min(text.len()); text.splice(at..end, f); }
            }
        }
        let s: String = text.into_iter().collect::<String>().replace("include", "inc");
        let p = parse_str("mutated.conf", &s, &opts());
        prop_assert!([0, 2, 4, 5, 6].contains(&p.test_exit_code()));
    }
}
