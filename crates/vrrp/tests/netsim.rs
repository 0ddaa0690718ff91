//! LAN simulations of several VRRP routers (see `common/mod.rs`): convergence, exact failover figures,
//! partitions, unicast, loss, a property test over random topologies, and record/replay.
mod common;

use common::*;
use keepalived_vrrp::replay::{parse_log, replay_lines, write_log};
use keepalived_vrrp::*;
use proptest::prelude::*;

const S: u64 = 1_000_000;
const SKEW_100_V2: u64 = 609_375; // (256-100)/256 s
const SKEW_200_V2: u64 = 218_750;
const SKEW_100_V3_50MS: u64 = 30_468; // (256-100) × 5 cs × 625/16 µs

/// One row of the results table.
struct Row {
    scenario: &'static str,
    failover_us: u64,
    masters: usize,
}

/// `prios[k]` on node k, one VRID 51 instance each.
fn lan(seed: u64, prios: &[u8], version: u8, adv_us: u64) -> Net {
    let mut net = Net::new(seed);
    for (n, &p) in prios.iter().enumerate() {
        net.add(node_addr(n), single(instance(n, 51, p, version, adv_us)));
    }
    net.start();
    net
}

fn masters(net: &Net) -> usize {
    net.masters(51).len()
}

fn startup_v2() -> Row {
    let mut net = lan(1, &[200, 100, 50], 2, S);
    net.run_until(20 * S);
    let (t, n) = net.first_master_since(51, Instant::ZERO).expect("a master");
    assert_eq!((t.0, n), (3 * S + SKEW_200_V2, 0));
    assert_eq!(net.masters(51), vec![0]);
    assert!(net.duals.is_empty());
    Row { scenario: "v2 startup, prio 200/100/50: first master", failover_us: t.0, masters: masters(&net) }
}

fn prio0_v2() -> Row {
    let mut net = lan(2, &[200, 100, 50], 2, S);
    net.run_until(10 * S);
    net.input(0, Input::Shutdown);
    let t0 = net.now;
    net.run_until(30 * S);
    let (t, n) = net.first_master_since(51, t0).expect("takeover");
    assert_eq!((t.since(t0), n), (SKEW_100_V2, 1));
    assert_eq!(net.masters(51), vec![1]);
    Row {
        scenario: "v2 adv 1 s, master stops (prio 0), prio-100 backup",
        failover_us: t.since(t0),
        masters: masters(&net),
    }
}

fn silent_v2() -> Row {
    let mut net = lan(3, &[200, 100, 50], 2, S);
    net.run_until(10_500_000);
    net.kill(0);
    let last = net.last_advert(0, 51, net.now).expect("master advertised");
    net.run_until(30 * S);
    let (t, n) = net.first_master_since(51, last.add_us(1)).expect("takeover");
    assert_eq!((t.since(last), n), (3 * S + SKEW_100_V2, 1));
    assert_eq!(net.masters(51), vec![1]);
    Row {
        scenario: "v2 adv 1 s, master dies silently, prio-100 backup",
        failover_us: t.since(last),
        masters: masters(&net),
    }
}

fn prio0_v3() -> Row {
    let mut net = lan(4, &[200, 100, 50], 3, 50_000);
    net.run_until(2 * S);
    net.input(0, Input::Shutdown);
    let t0 = net.now;
    net.run_until(4 * S);
    let (t, n) = net.first_master_since(51, t0).expect("takeover");
    assert_eq!((t.since(t0), n), (SKEW_100_V3_50MS, 1));
    Row {
        scenario: "v3 adv 50 ms, master stops (prio 0), prio-100 backup",
        failover_us: t.since(t0),
        masters: masters(&net),
    }
}

fn silent_v3() -> Row {
    let mut net = lan(5, &[200, 100, 50], 3, 50_000);
    net.run_until(2_010_000);
    net.kill(0);
    let last = net.last_advert(0, 51, net.now).expect("master advertised");
    net.run_until(4 * S);
    let (t, n) = net.first_master_since(51, last.add_us(1)).expect("takeover");
    assert_eq!((t.since(last), n), (3 * 50_000 + SKEW_100_V3_50MS, 1));
    Row {
        scenario: "v3 adv 50 ms, master dies silently, prio-100 backup",
        failover_us: t.since(last),
        masters: masters(&net),
    }
}

fn fault_and_preempt_back() -> Row {
    let mut net = lan(6, &[200, 100], 2, S);
    net.run_until(10 * S);
    net.input(0, Input::Interface { name: "eth0".into(), up: false });
    let t0 = net.now;
    assert_eq!(net.state(0, 51), Some(State::Fault));
    net.run_until(15 * S);
    let (t, n) = net.first_master_since(51, t0).expect("takeover");
    assert_eq!((t.since(t0), n), (SKEW_100_V2, 1));
    // link back: BACKUP, ignores the lower-priority master, preempts after its own master-down interval
    net.input(0, Input::Interface { name: "eth0".into(), up: true });
    let t1 = net.now;
    net.run_until(30 * S);
    let (t, n) = net.first_master_since(51, t1).expect("preempt");
    assert_eq!((t.since(t1), n), (3 * S + SKEW_200_V2, 0));
    assert_eq!(net.masters(51), vec![0]);
    Row {
        scenario: "v2 interface down on master → FAULT, then preempt back",
        failover_us: t.since(t1),
        masters: masters(&net),
    }
}

fn nopreempt_stays() -> Row {
    let mut net = Net::new(7);
    let mut a = instance(0, 51, 200, 2, S);
    a.nopreempt = true;
    net.add(node_addr(0), single(a));
    net.add(node_addr(1), single(instance(1, 51, 100, 2, S)));
    net.start();
    net.run_until(10 * S);
    net.input(0, Input::Interface { name: "eth0".into(), up: false });
    net.run_until(12 * S);
    net.input(0, Input::Interface { name: "eth0".into(), up: true });
    net.run_until(40 * S);
    assert_eq!(net.masters(51), vec![1], "nopreempt: the higher priority router stays BACKUP");
    Row { scenario: "v2 nopreempt: higher prio returns, stays BACKUP", failover_us: 0, masters: masters(&net) }
}

fn partition_heal() -> Row {
    let mut net = lan(8, &[200, 100, 50], 2, S);
    net.run_until(10 * S);
    net.partition(&[&[0], &[1, 2]]);
    net.run_until(20 * S);
    assert_eq!(net.masters(51), vec![0, 1], "each side elects a master");
    net.heal();
    let h = net.now;
    net.run_until(40 * S);
    assert_eq!(net.masters(51), vec![0]);
    let d = net.duals.iter().find(|d| d.end.is_some_and(|e| e > h)).expect("dual master period");
    let end = d.end.expect("ended");
    assert!(end.since(h) <= S, "dual master resolved within one advert interval ({} µs)", end.since(h));
    Row {
        scenario: "v2 partition {0}|{1,2} healed: dual master resolved after",
        failover_us: end.since(h),
        masters: masters(&net),
    }
}

fn unicast_silent() -> Row {
    let mut net = Net::new(9);
    for (n, p) in [(0usize, 200u8), (1, 100)] {
        let mut c = instance(n, 51, p, 2, S);
        c.unicast = true;
        c.unicast_peers = vec![Peer { addr: node_addr(1 - n), min_ttl: 0, max_ttl: 255 }];
        net.add(node_addr(n), single(c));
    }
    net.start();
    net.run_until(10_500_000);
    assert_eq!(net.masters(51), vec![0]);
    net.kill(0);
    let last = net.last_advert(0, 51, net.now).expect("advert");
    net.run_until(20 * S);
    let (t, n) = net.first_master_since(51, last.add_us(1)).expect("takeover");
    assert_eq!((t.since(last), n), (3 * S + SKEW_100_V2, 1));
    Row { scenario: "v2 unicast peers, master dies silently", failover_us: t.since(last), masters: masters(&net) }
}

fn lossy() -> Row {
    let mut net = lan(10, &[200, 150, 100, 50], 2, S);
    net.loss_permille = 200;
    net.jitter_us = 2_000;
    net.run_until(120 * S);
    net.loss_permille = 0;
    let h = net.now;
    net.run_until(140 * S);
    assert_eq!(net.masters(51), vec![0]);
    assert!(net.duals.iter().all(|d| d.end.is_some_and(|e| e.since(h.max(d.start)) <= 4 * S)));
    let flaps = net.transitions.iter().filter(|x| x.3 == State::Master).count();
    Row {
        scenario: "v2 4 routers, 20 % loss for 120 s: MASTER transitions",
        failover_us: flaps as u64,
        masters: masters(&net),
    }
}

fn table(rows: &[Row]) -> String {
    let mut s = format!("{:<62} {:>12} {:>7}\n", "scenario", "failover_us", "masters");
    for r in rows {
        s.push_str(&format!("{:<62} {:>12} {:>7}\n", r.scenario, r.failover_us, r.masters));
    }
    s
}

#[test]
fn results_table_matches_snapshot() {
    let rows = vec![
        startup_v2(),
        prio0_v2(),
        silent_v2(),
        prio0_v3(),
        silent_v3(),
        fault_and_preempt_back(),
        nopreempt_stays(),
        partition_heal(),
        unicast_silent(),
        lossy(),
    ];
    for r in &rows {
        assert_eq!(r.masters, 1, "{}", r.scenario);
    }
    let got = table(&rows);
    print!("{got}");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/netsim.txt");
    if keepalived_testkit::golden::updating() {
        std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots")).expect("mkdir");
        std::fs::write(path, &got).expect("write snapshot");
        return;
    }
    let want = std::fs::read_to_string(path).unwrap_or_default();
    assert_eq!(got, want, "results differ from {path}; regenerate with KEEPALIVED_RS_UPDATE_GOLDENS=1");
}

#[test]
fn recorded_run_replays_identically() {
    // lossy, jittery run with a partition, a fault and a shutdown
    let mut net = lan(11, &[200, 100, 100, 50], 2, S);
    net.loss_permille = 100;
    net.jitter_us = 3_000;
    net.run_until(10 * S);
    net.partition(&[&[0, 1], &[2, 3]]);
    net.run_until(20 * S);
    net.heal();
    net.input(1, Input::Interface { name: "eth0".into(), up: false });
    net.run_until(25 * S);
    net.input(1, Input::Interface { name: "eth0".into(), up: true });
    net.run_until(30 * S);
    net.input(0, Input::Shutdown);
    net.run_until(40 * S);
    for n in 0..net.nodes.len() {
        let text = write_log(&net.event_log(n));
        let lines = parse_log(text.as_bytes()).expect("parse");
        let mut fresh = Router::new(net.nodes[n].config.clone());
        let replayed = replay_lines(&mut fresh, &lines);
        assert!(!replayed.is_empty());
        assert_eq!(replayed, net.nodes[n].actions, "node {n}");
    }
}

#[test]
fn recorded_run_from_keepalived_conf_replays_identically() {
    let conf = |prio: u8, me: &str| {
        format!(
            "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n priority {prio}\n advert_int 1\n \
             mcast_src_ip {me}\n virtual_ipaddress {{\n  10.0.0.100/24\n }}\n}}\n"
        )
    };
    let confs = [conf(150, "10.0.0.1"), conf(100, "10.0.0.2"), conf(120, "10.0.0.3")];
    let mut net = Net::new(12);
    let mut parsed = Vec::new();
    for (n, text) in confs.iter().enumerate() {
        let p = keepalived_config::parse_str("keepalived.conf", text, &keepalived_config::ParseOptions::default());
        let rc = RouterConfig::from_config(&p.config).expect("config");
        let r = Router::from_config(&p.config).expect("router");
        net.add_router(node_addr(n), r, rc);
        parsed.push(p.config);
    }
    net.loss_permille = 150;
    net.jitter_us = 1_000;
    net.start();
    net.run_until(15 * S);
    net.kill(0);
    net.run_until(30 * S);
    assert_eq!(net.masters(51), vec![2]);
    for (n, cfg) in parsed.iter().enumerate() {
        let text = write_log(&net.event_log(n));
        let replayed = replay(cfg, text.as_bytes()).expect("replay");
        assert_eq!(replayed, net.nodes[n].actions, "node {n}");
    }
}

// ---------------------------------------------------------------------------------------------- proptest

#[derive(Clone, Debug)]
struct VridSpec {
    version: u8,
    adv_us: u64,
}

#[derive(Clone, Debug)]
struct NodeSpec {
    /// Per VRID: (priority, nopreempt, script weight).
    inst: Vec<(u8, bool, i32)>,
}

#[derive(Clone, Debug)]
enum Ev {
    /// Instance interface down/up (weight 0: FAULT).
    Link(usize, bool),
    /// Weighted script result.
    Script(usize, bool),
    Partition(Vec<u32>),
    Heal,
}

fn arb_vrid() -> impl Strategy<Value = VridSpec> {
    prop_oneof![
        Just(VridSpec { version: 2, adv_us: S }),
        (1u64..=20).prop_map(|cs| VridSpec { version: 3, adv_us: cs * 50_000 }),
    ]
}

fn arb_prio() -> impl Strategy<Value = u8> {
    prop_oneof![1 => Just(255u8), 6 => 1u8..=254]
}

/// VRIDs, nodes, timed events, loss per mille, seed, jitter.
type Case = (Vec<VridSpec>, Vec<NodeSpec>, Vec<(u64, Ev)>, u32, u64, u64);

fn arb_case() -> impl Strategy<Value = Case> {
    (proptest::collection::vec(arb_vrid(), 1..=2), 2usize..=6).prop_flat_map(|(vrids, n)| {
        let nv = vrids.len();
        let node = proptest::collection::vec((arb_prio(), any::<bool>(), -60i32..=60), nv..=nv)
            .prop_map(|inst| NodeSpec { inst });
        let ev = prop_oneof![
            (0..n, any::<bool>()).prop_map(|(k, up)| Ev::Link(k, up)),
            (0..n, any::<bool>()).prop_map(|(k, ok)| Ev::Script(k, ok)),
            proptest::collection::vec(0u32..3, n..=n).prop_map(Ev::Partition),
            Just(Ev::Heal),
        ];
        (
            Just(vrids),
            proptest::collection::vec(node, n..=n),
            proptest::collection::vec((0u64..20_000_000, ev), 0..12),
            0u32..=200,
            0u64..=5_000,
            any::<u64>(),
        )
    })
}

fn build(vrids: &[VridSpec], nodes: &[NodeSpec], seed: u64) -> Net {
    let mut net = Net::new(seed);
    for (n, spec) in nodes.iter().enumerate() {
        let mut instances = Vec::new();
        for (k, v) in vrids.iter().enumerate() {
            let (prio, nopreempt, w) = spec.inst[k];
            let mut c = instance(n, 51 + k as u8, prio, v.version, v.adv_us);
            c.name = format!("VI_{k}");
            c.nopreempt = nopreempt && prio != 255;
            if prio != 255 && w != 0 {
                c.trackers = vec![TrackRef { kind: TrackKind::Script, name: "chk".into(), weight: w, reverse: false }];
            }
            instances.push(c);
        }
        let options = EngineOptions {
            scripts: vec![keepalived_vrrp::config::ScriptConfig {
                name: "chk".into(),
                rise: 1,
                fall: 1,
                init_fail: false,
            }],
            ..EngineOptions::default()
        };
        net.add(node_addr(n), RouterConfig { options, instances, groups: vec![] });
    }
    net.start();
    net
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, .. ProptestConfig::default() })]
    #[test]
    fn random_lans_converge_to_one_master((vrids, nodes, mut events, loss, jitter, seed) in arb_case()) {
        let mut net = build(&vrids, &nodes, seed);
        net.loss_permille = loss;
        net.jitter_us = jitter;
        events.sort_by_key(|e| e.0);
        for (t, ev) in &events {
            net.run_until(*t);
            match ev {
                Ev::Link(k, up) => net.input(*k, Input::Interface { name: "eth0".into(), up: *up }),
                Ev::Script(k, ok) => net.input(*k, Input::ScriptResult { name: "chk".into(), success: *ok, exit: None }),
                Ev::Partition(segs) => {
                    for (k, s) in segs.iter().enumerate() {
                        net.nodes[k].segment = *s;
                    }
                }
                Ev::Heal => net.heal(),
            }
        }
        net.run_until(20 * S);
        // the network becomes healthy: no loss, no partition, links up
        net.loss_permille = 0;
        net.heal();
        for k in 0..nodes.len() {
            net.input(k, Input::Interface { name: "eth0".into(), up: true });
        }
        let healthy = net.now;
        net.run_until(40 * S);
        for (k, v) in vrids.iter().enumerate() {
            let vrid = 51 + k as u8;
            let m = net.masters(vrid);
            prop_assert!(m.len() == 1, "vrid {} masters {:?}", vrid, m);
            // a master-down interval (3 adverts + at most 1 s of skew) plus the worst delivery delay
            let bound = 3 * v.adv_us + v.adv_us.max(S) + net.jitter_us;
            for d in net.duals.iter().filter(|d| d.vrid == vrid && d.end.is_none_or(|e| e > healthy)) {
                let end = d.end.unwrap_or(net.now);
                prop_assert!(end.since(d.start.max(healthy)) <= bound, "dual master {:?} after {:?}", d, healthy);
            }
        }
    }
}
