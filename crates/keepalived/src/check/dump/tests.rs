//! Our dump against the file keepalived 2.2.7 wrote for the same
//! configuration (testdata/check_dump: ka.conf run in the IPVS guest with
//! `keepalived -n -l -D -C -f ka.conf`, SIGUSR1 after 5 s, before any check
//! had run: every checker has a 100 s warmup).
use super::*;
use keepalived_check::{Input, Instant};

const CONF: &str = include_str!("../../../testdata/check_dump/ka.conf");
const REFERENCE: &str = include_str!("../../../testdata/check_dump/keepalived_check.data");

fn engine(cfg: &Config) -> Engine {
    let mut e = Engine::from_config(cfg, 1);
    let mut out = Vec::new();
    // /tmp/tf1 held init_file's 3.
    e.handle(Instant::ZERO, Input::FileValue { name: "tf1".into(), value: 3 }, &mut out);
    e.handle(Instant::ZERO, Input::Start, &mut out);
    e
}

/// The checker section of the reference (the global section before it is
/// not ours to write).
fn reference_section() -> Vec<&'static str> {
    let start = REFERENCE.find("------< LVS Topology >------").expect("reference has the LVS section");
    REFERENCE[start..].lines().collect()
}

#[test]
fn the_dump_matches_keepalived_2_2_7_line_by_line() {
    let cfg = keepalived_config::parse_str("ka.conf", CONF, &Default::default()).config;
    let e = engine(&cfg);
    let ours = check_data(&cfg, &e);
    let ours: Vec<&str> = ours.lines().collect();
    let theirs = reference_section();
    let mut diffs = Vec::new();
    for i in 0..ours.len().max(theirs.len()) {
        let (a, b) = (ours.get(i).copied().unwrap_or("<none>"), theirs.get(i).copied().unwrap_or("<none>"));
        if a != b {
            diffs.push(format!("line {}: ours {a:?}\n         2.2.7 {b:?}", i + 1));
        }
    }
    assert!(diffs.is_empty(), "{} lines differ:\n{}", diffs.len(), diffs.join("\n"));
}

#[test]
fn no_virtual_server_no_section() {
    let cfg = keepalived_config::parse_str("t.conf", "global_defs {\n}\n", &Default::default()).config;
    let e = engine(&cfg);
    assert_eq!(check_data(&cfg, &e), "");
}

#[test]
fn status_codes_merge_as_the_bitmap_prints() {
    let mut u = m::Url::new(keepalived_config::diag::Origin::new(keepalived_config::diag::FileId::intern("t"), 1, 1));
    assert_eq!(status_ranges(&u), vec![(200, 299)]);
    u.status_codes = vec![(404, 404), (200, 200), (201, 210), (300, 302)];
    assert_eq!(status_ranges(&u), vec![(200, 210), (300, 302), (404, 404)]);
}
