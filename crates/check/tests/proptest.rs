//! Random input sequences (results for any id, file values, BFD events, addresses, reloads, shutdowns, time
//! jumps) must never panic, and the engine's timers never go back in time.
mod common;

use keepalived_check::*;
use proptest::prelude::*;

const CONFIGS: [&str; 3] = [
    r#"
track_file tf {
    file /tmp/tf
    weight 3
}
virtual_server 10.9.0.1 80 {
    delay_loop 3
    lb_algo rr
    lb_kind NAT
    protocol TCP
    quorum 2
    hysteresis 1
    sorry_server 192.168.0.9 80
    sorry_server_inhibit
    ha_suspend
    real_server 127.0.0.1 80 {
        weight 2
        inhibit_on_failure
        TCP_CHECK {
            retry 2
            delay_before_retry 1
        }
        MISC_CHECK {
            misc_path "/bin/true"
            misc_dynamic
            alpha
        }
    }
    real_server 127.0.0.2 80 {
        HTTP_GET {
            url {
                path /
            }
            url {
                path /x
            }
            fast_recovery
        }
        FILE_CHECK {
            track_file tf
        }
    }
    real_server 127.0.0.3 80 {
    }
}
"#,
    r#"
track_file tf {
    file /tmp/tf
    weight 0
}
virtual_server 10.9.0.1 80 {
    delay_loop 2
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    omega
    real_server 127.0.0.1 80 {
        weight 5
        TCP_CHECK {
            retry 0
        }
        FILE_CHECK {
            track_file tf
            weight -2 reverse
        }
    }
    real_server 127.0.0.4 80 {
        DNS_CHECK {
            name x
        }
        SMTP_CHECK {
        }
        UDP_CHECK {
        }
        PING_CHECK {
        }
        BFD_CHECK {
            name b1
        }
    }
}
virtual_server fwmark 7 {
    delay_loop 2
    lb_algo rr
    lb_kind DR
    sorry_server 192.168.0.9 0
    real_server 127.0.0.5 0 {
        MISC_CHECK {
            misc_path "/bin/false"
        }
    }
}
"#,
    r#"
global_defs {
    lvs_flush_on_stop
    rs_init_notifies
    checker_log_all_failures
}
virtual_server 10.9.0.1 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    alpha
    quorum 3
    real_server 127.0.0.1 80 {
        weight 3
        TCP_CHECK {
        }
    }
}
"#,
];

fn outcome() -> impl Strategy<Value = CheckOutcome> {
    prop_oneof![
        Just(CheckOutcome::Success),
        Just(CheckOutcome::Failure { reason: None }),
        Just(CheckOutcome::Failure { reason: Some("exited with status 1".into()) }),
        Just(CheckOutcome::Failure { reason: Some("exited with status x".into()) }),
        any::<i64>().prop_map(CheckOutcome::Weight),
        (0i64..260).prop_map(CheckOutcome::Weight),
    ]
}

#[derive(Clone, Debug)]
enum Step {
    Input(Input),
    Advance(u64),
    Reload(usize),
    AnswerAll(CheckOutcome),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        Just(Step::Input(Input::Start)),
        (0usize..12, outcome()).prop_map(|(c, r)| Step::Input(Input::CheckResult { checker: CheckerId(c), result: r })),
        (prop_oneof![Just("tf".to_string()), Just("zz".to_string())], any::<i64>())
            .prop_map(|(name, value)| Step::Input(Input::FileValue { name, value })),
        (-3i64..4).prop_map(|value| Step::Input(Input::FileValue { name: "tf".into(), value })),
        any::<bool>().prop_map(|up| Step::Input(Input::Bfd { name: "b1".into(), up })),
        (0usize..3, any::<bool>()).prop_map(|(v, present)| Step::Input(Input::VsAddress { vs: VsId(v), present })),
        Just(Step::Input(Input::Shutdown)),
        (0u64..30_000_000).prop_map(Step::Advance),
        (0usize..3).prop_map(Step::Reload),
        outcome().prop_map(Step::AnswerAll),
        outcome().prop_map(Step::AnswerAll),
    ]
}

fn run(config: usize, steps: Vec<Step>) {
    let mut engine = Engine::new(common::engine_config(CONFIGS[config]), 7);
    let mut now = Instant(0);
    let mut out = Vec::new();
    for s in steps {
        match s {
            Step::Input(i) => engine.handle(now, i, &mut out),
            Step::Advance(us) => {
                now = now.add_us(us);
                while let Some(due) = engine.poll_timeout() {
                    if due > now {
                        break;
                    }
                    engine.handle_timeout(due, &mut out);
                }
                assert!(engine.poll_timeout().is_none_or(|t| t > now), "a timer due now was left");
            }
            Step::Reload(c) => {
                engine = Engine::reload(&engine, common::engine_config(CONFIGS[c]), now, &mut out);
            }
            Step::AnswerAll(r) => {
                let started: Vec<CheckerId> = out
                    .iter()
                    .filter_map(|a| match a {
                        Action::StartCheck { checker } => Some(*checker),
                        _ => None,
                    })
                    .collect();
                for c in started {
                    engine.handle(now, Input::CheckResult { checker: c, result: r.clone() }, &mut out);
                }
            }
        }
        if out.len() > 50_000 {
            out.clear();
        }
    }
    let _ = common::snapshot(&engine);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]
    #[test]
    fn random_inputs_never_panic(config in 0usize..3, steps in proptest::collection::vec(step(), 0..80)) {
        run(config, steps);
    }
}
