//! Our dump against the file keepalived 2.2.7 wrote for the same
//! configuration (testdata/check_dump: ka.conf run in the IPVS guest with
//! `keepalived -n -l -D -C -f ka.conf`, SIGUSR1 after 5 s, before any check
//! had run: every checker has a 100 s warmup).
use super::*;
use keepalived_check::{Action, CheckOutcome, Input, Instant};

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

/// Compares line by line; `Last ran` lines (wall-clock times) aside, and
/// the lines starting with one of `skip`.
fn compare(ours: &str, reference: &'static str, skip: &[&str]) {
    let start = reference.find("------< LVS Topology >------").expect("reference has the LVS section");
    let keep = |l: &&str| !l.starts_with("   Last ran = ") && !skip.iter().any(|s| l.starts_with(s));
    let theirs: Vec<&str> = reference[start..].lines().filter(keep).collect();
    let ours_start = ours.find("------< LVS Topology >------").unwrap_or(0);
    let ours: Vec<&str> = ours[ours_start..].lines().filter(keep).collect();
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
fn the_dump_matches_keepalived_2_2_7_line_by_line() {
    let cfg = keepalived_config::parse_str("ka.conf", CONF, &Default::default()).config;
    let e = engine(&cfg);
    assert!(reference_section().len() > 200);
    compare(&check_data(&cfg, &e), REFERENCE, &[]);
}

/// The second reference: `ka_after_checks.conf` 5.5 s after start, the
/// TCP_CHECK failing (connection refused), one MISC_CHECK exiting 1, a
/// dynamic one exiting 5 (weight 3). The engine is driven with the same
/// outcomes in virtual time. (Copy exit5.sh to /tmp/kadump to re-run it.)
#[test]
fn the_dump_after_checks_ran_matches_keepalived_2_2_7() {
    const CONF2: &str = include_str!("../../../testdata/check_dump/ka_after_checks.conf");
    const REF2: &str = include_str!("../../../testdata/check_dump/keepalived_check_after_checks.data");
    let cfg = keepalived_config::parse_str("ka2.conf", CONF2, &Default::default()).config;
    let mut e = Engine::from_config(&cfg, 7);
    let mut out = Vec::new();
    e.handle(Instant::ZERO, Input::Start, &mut out);
    let end = Instant::from_micros(5_500_000);
    while let Some(t) = e.poll_timeout().filter(|t| *t <= end) {
        let mut acts = Vec::new();
        e.handle_timeout(t, &mut acts);
        for a in acts {
            let Action::StartCheck { checker } = a else { continue };
            let result = match checker.0 {
                0 => CheckOutcome::Failure { reason: Some("TCP connection failed.".into()) },
                1 => CheckOutcome::Failure { reason: Some("exited with status 1".into()) },
                _ => CheckOutcome::Weight(3),
            };
            e.handle(t, Input::CheckResult { checker, result }, &mut out);
        }
    }
    // A TCP_CHECK that is down retries once per delay_loop: whether the dump
    // falls between the two attempts (retry_it 1) or not (0) depends on the
    // random warmup, keepalived's random() or the engine's seeded one.
    compare(&check_data(&cfg, &e), REF2, &["   Retries iterations = "]);
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

/// The third reference: every other checker type, SSL, IPv6, GUE tunnels,
/// DR with a sorry server, per-RS timers; the BFD session reported down by
/// the BFD child before the dump.
#[test]
fn the_dump_of_every_checker_type_matches_keepalived_2_2_7() {
    const CONF3: &str = include_str!("../../../testdata/check_dump/ka_checkers.conf");
    const REF3: &str = include_str!("../../../testdata/check_dump/keepalived_check_checkers.data");
    let cfg = keepalived_config::parse_str("ka3.conf", CONF3, &Default::default()).config;
    let mut e = Engine::from_config(&cfg, 3);
    let mut out = Vec::new();
    e.handle(Instant::ZERO, Input::Start, &mut out);
    e.handle(Instant::from_micros(1_500_000), Input::Bfd { name: "bfd1".into(), up: false }, &mut out);
    let ours = check_data(&cfg, &e);
    let ssl = "------< SSL definitions >------\n Password : secret\n------< LVS Topology >------\n";
    assert!(ours.starts_with(ssl) && REF3.contains(ssl));
    compare(&ours, REF3, &[]);
}

#[test]
fn an_ssl_get_without_ssl_block_shows_the_autogen_context() {
    let text = "virtual_server 10.0.0.1 443 {\n protocol TCP\n real_server 10.0.0.2 443 {\n  SSL_GET {\n   url {\n    path /\n   }\n  }\n }\n}\n";
    let cfg = keepalived_config::parse_str("t.conf", text, &Default::default()).config;
    let e = engine(&cfg);
    assert!(check_data(&cfg, &e)
        .starts_with("------< SSL definitions >------\n Using autogen SSL context\n------< LVS Topology >------\n"));
}

/// The fourth reference: HTTP_GET urls with regexes (options, offsets, JIT
/// stack), as 2.2.7 prints them.
#[test]
fn regex_lines_match_keepalived_2_2_7() {
    const CONF4: &str = include_str!("../../../testdata/check_dump/ka_regex.conf");
    const REF4: &str = include_str!("../../../testdata/check_dump/keepalived_check_regex.data");
    let cfg = keepalived_config::parse_str("ka4.conf", CONF4, &Default::default()).config;
    let e = engine(&cfg);
    compare(&check_data(&cfg, &e), REF4, &[]);
}
