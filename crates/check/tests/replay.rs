//! The JSONL event log replays deterministically (same seed, same actions) and rejects bad logs.
mod common;

use keepalived_check::replay::{parse_log, replay, write_actions, ReplayError};
use keepalived_check::*;

const CONF: &str = r#"
virtual_server 10.9.0.1 80 {
    delay_loop 10
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 8080 {
        TCP_CHECK {
        }
    }
}
"#;

const EVENTS: &str = r#"# a start, one answered attempt, the end
{"t":0,"input":"Start"}
{"t":20000000,"input":{"CheckResult":{"checker":0,"result":{"Failure":{"reason":null}}}}}
{"t":60000000}
"#;

#[test]
fn replay_is_deterministic() {
    let cfg = common::parse_config(CONF);
    let a = replay(&cfg, 3, EVENTS.as_bytes()).expect("replay");
    let b = replay(&cfg, 3, EVENTS.as_bytes()).expect("replay");
    assert_eq!(write_actions(&a), write_actions(&b));
    // First attempt between 1 s and 1 s + warmup (= delay_loop).
    let first = a.iter().find(|(_, x)| matches!(x, Action::StartCheck { .. })).map(|(t, _)| *t);
    assert!(first.is_some_and(|t| t >= Instant(1_000_000) && t <= Instant(11_000_000)), "{first:?}");
    // The failure at 20 s removes the real server (first failure is final at start: retry_it = retry).
    assert!(a.iter().any(|(t, x)| *t == Instant(20_000_000) && matches!(x, Action::DelDest { .. })));
    // Another seed draws another warmup.
    let c = replay(&cfg, 4, EVENTS.as_bytes()).expect("replay");
    let first_c = c.iter().find(|(_, x)| matches!(x, Action::StartCheck { .. })).map(|(t, _)| *t);
    assert_ne!(first, first_c);
}

#[test]
fn bad_logs_are_rejected() {
    assert!(matches!(parse_log("{\"t\":5}\n{\"t\":4}\n".as_bytes()), Err(ReplayError::TimeTravel { line: 2, .. })));
    assert!(matches!(parse_log("{\"t\":\"x\"}\n".as_bytes()), Err(ReplayError::Parse { line: 1, .. })));
    assert_eq!(parse_log("# only a comment\n\n".as_bytes()).map(|l| l.len()).ok(), Some(0));
}
