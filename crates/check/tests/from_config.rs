//! EngineConfig::from_config: ids, names, resolved timers and per-checker defaults (keepalived 2.2.7
//! check_data.c validation: retry 1 / DNS 3 / MISC 0; delay_before_retry 1 s / HTTP,SSL 3 s / DNS delay_loop;
//! warmup = delay_loop; checker values inherit RS, which inherit VS).
mod common;

use keepalived_check::*;

const CONF: &str = r#"
track_file tf {
    file /tmp/tf
    weight -4 reverse
}
virtual_server group G1 {
    delay_loop 20
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 10.0.0.1 80 {
        TCP_CHECK {
        }
        HTTP_GET {
            url {
                path /
            }
        }
        SSL_GET {
            url {
                path /
            }
        }
        DNS_CHECK {
            name example.com
        }
        MISC_CHECK {
            misc_path "/usr/bin/check arg1"
        }
        FILE_CHECK {
            track_file tf
        }
    }
    real_server 10.0.0.2 80 {
        retry 5
        delay_before_retry 7
        warmup 2
        alpha
        FILE_CHECK {
            track_file tf
            weight 3
        }
        UDP_CHECK {
            delay_loop 4
        }
    }
}
virtual_server_group G1 {
    10.9.0.1 80
}
virtual_server fwmark 12 {
    lb_algo rr
    lb_kind DR
    real_server 10.0.0.3 80 {
        PING_CHECK {
        }
    }
}
virtual_server 2001:db8::1 443 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    sorry_server 2001:db8::9 443
    real_server 2001:db8::2 443 {
        weight 4
    }
}
"#;

#[test]
fn ids_names_and_defaults() {
    let c = common::engine_config(CONF);
    let names: Vec<&str> = c.virtual_servers.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["[G1]:0", "FWM 12", "[2001:db8::1]:tcp:443"]);
    assert_eq!(c.virtual_servers[1].real_servers[0].name, "[10.0.0.3]:none:0");
    assert_eq!(c.virtual_servers[2].real_servers[0].name, "[2001:db8::2]:tcp:443");
    assert_eq!(c.virtual_servers[2].sorry.as_ref().map(|s| s.name.as_str()), Some("[2001:db8::9]:tcp:443"));
    assert_eq!(c.virtual_servers[2].real_servers[0].weight, 4);
    let kinds: Vec<&str> = c.checkers.iter().map(|k| k.name.as_str()).collect();
    // Protocol checkers in configuration order, then the FILE_CHECKs.
    assert_eq!(
        kinds,
        [
            "TCP_CHECK",
            "HTTP_GET",
            "SSL_GET",
            "DNS_CHECK",
            "MISC_CHECK",
            "UDP_CHECK",
            "PING_CHECK",
            "FILE_CHECK",
            "FILE_CHECK"
        ]
    );
    let s = 1_000_000;
    let by = |i: usize| &c.checkers[i];
    // TCP: retry 1, dbr 1 s, warmup = delay_loop.
    assert_eq!((by(0).retry, by(0).delay_before_retry, by(0).warmup, by(0).delay_loop), (1, s, 20 * s, 20 * s));
    assert_eq!(by(0).connect_timeout, Some(5 * s));
    // HTTP / SSL: dbr 3 s.
    assert_eq!((by(1).retry, by(1).delay_before_retry), (1, 3 * s));
    assert_eq!((by(2).retry, by(2).delay_before_retry), (1, 3 * s));
    // DNS: retry 3, dbr = delay_loop.
    assert_eq!((by(3).retry, by(3).delay_before_retry), (3, 20 * s));
    // MISC: retry 0, its argv[0] for the log lines.
    assert_eq!(by(4).retry, 0);
    assert_eq!(by(4).policy, Policy::Misc { path: "/usr/bin/check".into(), dynamic: false });
    assert_eq!(by(4).connect_timeout, None);
    // RS values win over the built-in defaults, the checker's own over the RS's.
    assert_eq!((by(5).retry, by(5).delay_before_retry, by(5).warmup, by(5).delay_loop), (5, 7 * s, 2 * s, 4 * s));
    assert!(by(5).alpha);
    // PING on a VS with the default delay_loop (60 s).
    assert_eq!(by(6).delay_loop, 60 * s);
    // FILE_CHECK: the track_file's weight and reverse unless set.
    assert_eq!(by(7).policy, Policy::File { track_file: "tf".into(), weight: -4, reverse: true });
    assert_eq!(by(8).policy, Policy::File { track_file: "tf".into(), weight: 3, reverse: false });
    assert!(!by(7).policy.is_polled() && by(0).policy.is_polled());
    assert_eq!(by(7).rs, RsId { vs: VsId(0), rs: 0 });
    assert_eq!(by(8).rs, RsId { vs: VsId(0), rs: 1 });
    assert_eq!(c.virtual_servers[0].real_servers[1].checkers, [CheckerId(5), CheckerId(8)]);
    // Reload keys: FILE_CHECK has none (keepalived has no compare function for it).
    assert!(by(7).reload_key.is_none() && by(0).reload_key.is_some());
    assert_ne!(by(1).reload_key, by(2).reload_key);
}

#[test]
fn keys_for_reload_matching() {
    let c = common::engine_config(CONF);
    assert_eq!(c.virtual_servers[0].key, VsKey::Group { name: "G1".into(), index: 0 });
    assert_eq!(c.virtual_servers[1].key, VsKey::Fwmark { mark: 12, ipv6: false });
    assert!(matches!(c.virtual_servers[2].key, VsKey::Addr { port: 443, .. }));
}

#[test]
fn engine_config_round_trips_through_json() {
    let c = common::engine_config(CONF);
    let text = serde_json::to_string(&c).expect("serialise");
    let back: EngineConfig = serde_json::from_str(&text).expect("deserialise");
    assert_eq!(back, c);
}

#[test]
fn hand_built_inconsistent_config_is_sanitized() {
    let mut c = common::engine_config(CONF);
    let mut bad = c.checkers[0].clone();
    bad.rs = RsId { vs: VsId(9), rs: 0 };
    c.checkers.insert(0, bad);
    c.virtual_servers[0].real_servers[0].checkers.push(CheckerId(77));
    let n = c.checkers.len();
    let mut e = Engine::new(c, 1);
    assert_eq!(e.config().checkers.len(), n - 1);
    assert_eq!(e.config().virtual_servers[0].real_servers[0].checkers[0], CheckerId(0));
    let mut out = Vec::new();
    e.handle(Instant(0), Input::Start, &mut out);
    e.handle_timeout(Instant(100_000_000), &mut out);
    assert!(out.iter().any(|a| matches!(a, Action::StartCheck { .. })));
}

/// The shell coalesces wake-ups: `handle_timeout_early` starts the checkers due up to the horizon, at
/// `now`, and leaves the later ones alone.
#[test]
fn timers_within_the_horizon_start_early() {
    let mut e = Engine::new(common::engine_config(CONF), 7);
    let mut out = Vec::new();
    e.handle(Instant(0), Input::Start, &mut out);
    let mut due: Vec<Instant> = Vec::new();
    while let Some(t) = e.poll_timeout() {
        due.push(t);
        e.handle_timeout(t, &mut Vec::new());
        if due.len() > 3 {
            break;
        }
    }
    // A fresh engine: the first timer at t0, the next at t1 > t0.
    let mut e = Engine::new(common::engine_config(CONF), 7);
    e.handle(Instant(0), Input::Start, &mut out);
    let (t0, t1) = (due[0], due[1]);
    assert!(t1 > t0);
    let mut out = Vec::new();
    e.handle_timeout_early(t0, Instant(t1.0 - 1), &mut out);
    assert!(out.iter().any(|a| matches!(a, Action::StartCheck { .. })));
    assert_eq!(e.poll_timeout(), Some(t1), "the later timer is left alone");
    out.clear();
    e.handle_timeout_early(t0, t1, &mut out);
    assert!(out.iter().any(|a| matches!(a, Action::StartCheck { .. })), "started early, at t0");
    assert_ne!(e.poll_timeout(), Some(t1));
}
