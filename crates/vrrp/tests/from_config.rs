use keepalived_config::{parse_str, ParseOptions};
use keepalived_vrrp::*;
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr};

const CONF: &str = r#"
global_defs {
    vrrp_garp_master_repeat 3
}
vrrp_script chk {
    script "/bin/true"
    weight 0
    rise 2
    fall 2
}
vrrp_sync_group G1 {
    group {
        VI_1
        VI_2
    }
}
vrrp_instance VI_1 {
    state MASTER
    interface lo
    virtual_router_id 51
    priority 150
    advert_int 1
    nopreempt
    authentication {
        auth_type PASS
        auth_pass secret
    }
    virtual_ipaddress {
        192.168.1.10/24
    }
    track_script {
        chk
    }
}
vrrp_instance VI_2 {
    interface lo
    virtual_router_id 52
    priority 255
    virtual_ipaddress {
        192.168.2.10
    }
}
"#;

#[test]
fn builds_from_parsed_config() {
    let parsed = parse_str("keepalived.conf", CONF, &ParseOptions::default());
    let rc = RouterConfig::from_config(&parsed.config);
    let rc = match rc {
        Ok(rc) => rc,
        Err(e) => panic!("from_config: {e}"),
    };
    assert_eq!(rc.instances.len(), 2);
    let a = &rc.instances[0];
    assert_eq!((a.vrid, a.priority, a.version, a.advert_int_us), (51, 150, 2, 1_000_000));
    // keepalived clears nopreempt with initial state MASTER
    assert!(a.initial_master && !a.nopreempt);
    assert_eq!(a.auth, AuthConfig::Pass(*b"secret\0\0"));
    assert_eq!(a.vips, vec![IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10))]);
    assert_eq!(a.garp_master_repeat, 3);
    assert_eq!(a.sync_group, Some(0));
    assert_eq!(rc.groups[0].members, vec![0, 1]);
    assert_eq!(rc.instances[1].priority, 255);
    assert!(rc.instances[1].initial_master);
    assert!(Router::from_config(&parsed.config).is_ok());
}

fn arb_addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u8; 16]>().prop_map(IpAddr::from),
        Just(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18))),
    ]
}

fn arb_advert() -> impl Strategy<Value = RxAdvert> {
    (
        arb_addr(),
        arb_addr(),
        any::<Option<u8>>(),
        0u8..5,
        0u8..3,
        any::<u8>(),
        any::<u16>(),
        any::<u8>(),
        proptest::collection::vec(arb_addr(), 0..4),
        any::<bool>(),
        any::<bool>(),
        0u8..4,
    )
        .prop_map(|(src, dst, ttl, version, kind, priority, int, naddr, addrs, len_ok, csum_ok, auth)| {
            let mut a = RxAdvert::new(src, dst, version, 51, priority, int).with_addrs(&addrs);
            a.ttl_or_hoplimit = ttl;
            a.kind = kind;
            a.naddr = naddr;
            a.length_ok = len_ok;
            a.checksum_ok = csum_ok;
            a.auth = match auth {
                0 => RxAuth::None,
                1 => RxAuth::Pass(*b"secret\0\0"),
                2 => RxAuth::Ah { ok: priority % 2 == 0 },
                _ => RxAuth::Other(priority),
            };
            a
        })
}

proptest! {
    #[test]
    fn never_panics_and_keeps_invariants(
        ops in proptest::collection::vec((0u64..3_000_000, any::<bool>(), arb_advert(), any::<u8>()), 1..60)
    ) {
        let mut a = InstanceConfig::new("VI_1", 51, 100);
        a.vips = vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 100))];
        a.trackers = vec![TrackRef { kind: TrackKind::Interface, name: "eth1".into(), weight: -60, reverse: false }];
        let mut b = InstanceConfig::new("VI_2", 52, 255);
        b.version = 3;
        b.sync_group = Some(0);
        a.sync_group = Some(0);
        let mut r = Router::new(RouterConfig {
            options: EngineOptions::default(),
            instances: vec![a, b],
            groups: vec![SyncGroupConfig { name: "G".into(), members: vec![0, 1] }],
        });
        let mut out = Vec::new();
        let mut now = 0u64;
        r.handle(Instant(now), Input::Start, &mut out);
        for (dt, which, adv, ev) in ops {
            now += dt;
            while let Some(t) = r.poll_timeout() {
                if t.0 > now { break; }
                r.handle_timeout(t, &mut out);
            }
            match ev % 8 {
                0 => r.handle(Instant(now), Input::Interface { name: "eth1".into(), up: ev & 8 != 0 }, &mut out),
                1 => r.handle(Instant(now), Input::Interface { name: "eth0".into(), up: ev & 8 != 0 }, &mut out),
                _ => r.handle_advert(Instant(now), usize::from(which), &adv, &mut out),
            }
            for i in r.instances() {
                prop_assert!(i.effective_priority >= 1);
                if i.state == State::Master { prop_assert!(i.vipset); }
                if i.state == State::Fault || i.state == State::Stop { prop_assert!(i.sands.is_none()); }
            }
            out.clear();
        }
    }
}
