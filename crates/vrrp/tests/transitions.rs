//! The engine records each instance's last state change and its reason
//! (for `keepalived --status`), on the virtual clock.
use keepalived_vrrp::*;
use std::net::{IpAddr, Ipv4Addr};

const VIP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 100));
const ME: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const HIGHER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));
const MCAST: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));

fn icfg(name: &str, vrid: u8, prio: u8) -> InstanceConfig {
    let mut c = InstanceConfig::new(name, vrid, prio);
    c.vips = vec![VIP];
    c.src_ip = Some(ME);
    c.interface = Some("eth0".into());
    c
}

struct Sim {
    r: Router,
    out: Vec<Action>,
    now: u64,
}

impl Sim {
    fn new(instances: Vec<InstanceConfig>, groups: Vec<SyncGroupConfig>) -> Sim {
        let r = Router::new(RouterConfig { options: EngineOptions::default(), instances, groups });
        let mut s = Sim { r, out: Vec::new(), now: 1_000 };
        s.input(Input::Start);
        s
    }
    fn input(&mut self, i: Input) {
        self.r.handle(Instant(self.now), i, &mut self.out);
        self.out.clear();
    }
    fn run_to(&mut self, t: u64) {
        while let Some(n) = self.r.poll_timeout().filter(|n| n.0 <= t) {
            self.now = self.now.max(n.0);
            self.r.handle_timeout(Instant(self.now), &mut self.out);
            self.out.clear();
        }
        self.now = t;
    }
    fn last(&self, i: usize) -> Transition {
        self.r.instance(i).and_then(|x| x.last_transition.clone()).expect("a transition")
    }
}

#[test]
fn startup_then_master_down_then_higher_advert() {
    let mut s = Sim::new(vec![icfg("VI_1", 51, 100)], vec![]);
    let t = s.last(0);
    assert_eq!(
        (t.from, t.to, t.at, &t.reason),
        (State::Init, State::Backup, Instant(1_000), &TransitionReason::Startup)
    );
    s.run_to(10_000_000);
    let t = s.last(0);
    assert_eq!((t.from, t.to, &t.reason), (State::Backup, State::Master, &TransitionReason::MasterDown));
    let down = t.at;
    assert!(down.0 > 3_000_000 && down.0 < 4_000_000, "master down after ~3.6 s, at {}", down.0);
    assert_eq!(t.reason.to_string(), "no advert from the master (master down timer expired)");
    let adv = RxAdvert::new(HIGHER, MCAST, 2, 51, 150, 100).with_addrs(&[VIP]);
    s.r.handle_advert(Instant(s.now), 0, &adv, &mut s.out);
    let t = s.last(0);
    assert_eq!((t.from, t.to, t.at), (State::Master, State::Backup, Instant(10_000_000)));
    assert_eq!(t.reason, TransitionReason::Advert { from: HIGHER, priority: 150, ours: 100 });
    assert_eq!(t.reason.to_string(), "advert from 10.0.0.3 with priority 150, ours 100");
    // An advert that changes nothing leaves the record alone.
    s.now += 1_000_000;
    s.r.handle_advert(Instant(s.now), 0, &adv, &mut s.out);
    assert_eq!(s.last(0).at, Instant(10_000_000));
}

#[test]
fn tracker_and_sync_group_reasons() {
    let mut a = icfg("A", 51, 100);
    a.trackers = vec![TrackRef { kind: TrackKind::Interface, name: "eth1".into(), weight: 0, reverse: false }];
    let b = icfg("B", 52, 100);
    let groups = vec![SyncGroupConfig { name: "G".into(), members: vec![0, 1] }];
    let mut s = Sim::new(vec![a, b], groups);
    s.input(Input::Interface { name: "eth1".into(), up: true });
    s.run_to(10_000_000);
    assert_eq!(s.last(0).to, State::Master);
    assert_eq!(s.last(1).to, State::Master);
    s.input(Input::Interface { name: "eth1".into(), up: false });
    let ta = s.last(0);
    assert_eq!((ta.from, ta.to), (State::Master, State::Fault));
    let want = TransitionReason::Tracker { what: TrackKind::Interface, name: "eth1".into(), up: Some(false) };
    assert_eq!(ta.reason, want);
    assert_eq!(ta.reason.to_string(), "interface eth1 down");
    let tb = s.last(1);
    assert_eq!((tb.from, tb.to), (State::Master, State::Fault));
    assert_eq!(tb.reason, TransitionReason::SyncGroup { group: "G".into(), instance: None });
}

#[test]
fn shutdown_and_reload() {
    let mut s = Sim::new(vec![icfg("VI_1", 51, 100)], vec![]);
    s.run_to(10_000_000);
    let before = s.last(0);
    // A reload that keeps the instance keeps its record.
    let mut new = Router::new(RouterConfig {
        options: EngineOptions::default(),
        instances: vec![icfg("VI_1", 51, 100), icfg("VI_2", 52, 90)],
        groups: vec![],
    });
    new.adopt(&s.r, &[Some(0), None], Instant(s.now), &mut s.out);
    s.r = new;
    s.out.clear();
    assert_eq!(s.last(0), before);
    assert_eq!((s.last(1).to, &s.last(1).reason), (State::Backup, &TransitionReason::Reload));
    s.input(Input::Shutdown);
    assert_eq!(
        (s.last(0).from, s.last(0).to, &s.last(0).reason),
        (State::Master, State::Stop, &TransitionReason::Shutdown)
    );
}
