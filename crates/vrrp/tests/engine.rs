use keepalived_vrrp::*;
use std::net::{IpAddr, Ipv4Addr};

const VIP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 100));
const ME: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const LOWER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const HIGHER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));
const MCAST: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));

fn icfg(name: &str, prio: u8) -> InstanceConfig {
    let mut c = InstanceConfig::new(name, 51, prio);
    c.vips = vec![VIP];
    c.src_ip = Some(ME);
    c
}

fn router(cs: Vec<InstanceConfig>) -> Router {
    Router::new(RouterConfig { options: EngineOptions::default(), instances: cs, groups: vec![] })
}

struct Sim {
    r: Router,
    out: Vec<Action>,
    log: Vec<(u64, Action)>,
    now: u64,
}

impl Sim {
    fn new(r: Router) -> Sim {
        let mut s = Sim { r, out: Vec::new(), log: Vec::new(), now: 0 };
        s.input(Input::Start);
        s
    }
    fn flush(&mut self) {
        for a in self.out.drain(..) {
            self.log.push((self.now, a));
        }
    }
    fn input(&mut self, i: Input) {
        self.r.handle(Instant(self.now), i, &mut self.out);
        self.flush();
    }
    /// Runs timers up to and including `t` (µs), then sets the clock to `t`.
    fn run_to(&mut self, t: u64) {
        while let Some(n) = self.r.poll_timeout() {
            if n.0 > t {
                break;
            }
            self.now = self.now.max(n.0);
            self.r.handle_timeout(Instant(self.now), &mut self.out);
            self.flush();
        }
        self.now = t;
    }
    fn advert(&mut self, i: usize, a: RxAdvert) {
        self.r.handle_advert(Instant(self.now), i, &a, &mut self.out);
        self.flush();
    }
    fn state(&self, i: usize) -> State {
        self.r.instance(i).map(|x| x.state).unwrap_or(State::Stop)
    }
    fn stats(&self, i: usize) -> Stats {
        self.r.instance(i).map(|x| x.stats).unwrap_or_default()
    }
    fn first_log(&self, text: &str) -> Option<u64> {
        self.log.iter().find(|(_, a)| matches!(a, Action::Log(s) if s == text)).map(|(t, _)| *t)
    }
    fn has_log_prefix(&self, text: &str) -> bool {
        self.log.iter().any(|(_, a)| matches!(a, Action::Log(s) if s.starts_with(text)))
    }
    fn count(&self, f: impl Fn(&Action) -> bool) -> usize {
        self.log.iter().filter(|(_, a)| f(a)).count()
    }
}

fn adv(prio: u8, src: IpAddr) -> RxAdvert {
    RxAdvert::new(src, MCAST, 2, 51, prio, 100).with_addrs(&[VIP])
}

const SKEW_100: u64 = 609_375;

#[test]
fn starts_in_backup_and_becomes_master_after_master_down() {
    let mut s = Sim::new(router(vec![icfg("VI_1", 100)]));
    assert_eq!(s.state(0), State::Backup);
    assert_eq!(s.first_log("(VI_1) Entering BACKUP STATE (init)"), Some(0));
    s.run_to(10_000_000);
    assert_eq!(s.first_log("(VI_1) Entering MASTER STATE"), Some(3 * 1_000_000 + SKEW_100));
    assert_eq!(s.state(0), State::Master);
    assert_eq!(s.stats(0).become_master, 1);
    // adverts every second afterwards
    let sends: Vec<u64> =
        s.log.iter().filter(|(_, a)| matches!(a, Action::SendAdvert { priority: 100, .. })).map(|(t, _)| *t).collect();
    assert_eq!(&sends[..3], &[3_609_375, 4_609_375, 5_609_375]);
    // 5 GARPs at once, 5 more after garp_master_delay (5 s)
    let garps: Vec<u64> = s.log.iter().filter(|(_, a)| matches!(a, Action::SendGarp { .. })).map(|(t, _)| *t).collect();
    assert_eq!(garps, vec![3_609_375; 5].into_iter().chain(vec![8_609_375; 5]).collect::<Vec<_>>());
}

#[test]
fn priority_zero_takeover_after_exactly_skew() {
    let mut s = Sim::new(router(vec![icfg("VI_1", 100)]));
    s.run_to(1_000_000);
    s.advert(0, adv(200, HIGHER));
    s.run_to(2_000_000);
    s.advert(0, adv(0, HIGHER));
    assert_eq!(s.stats(0).pri_zero_rcvd, 1);
    s.run_to(5_000_000);
    assert_eq!(s.first_log("(VI_1) Entering MASTER STATE"), Some(2_000_000 + SKEW_100));
}

#[test]
fn silent_master_death_takeover() {
    let mut s = Sim::new(router(vec![icfg("VI_1", 100)]));
    for k in 0..=5u64 {
        s.run_to(k * 1_000_000 + 500_000);
        s.advert(0, adv(200, HIGHER));
    }
    assert_eq!(s.state(0), State::Backup);
    s.run_to(20_000_000);
    assert_eq!(s.first_log("(VI_1) Entering MASTER STATE"), Some(5_500_000 + 3_000_000 + SKEW_100));
    assert_eq!(s.stats(0).advert_rcvd, 6);
}

#[test]
fn v3_skew_scales_with_interval_and_adopts_master_interval() {
    let mut c = icfg("VI_1", 100);
    c.version = 3;
    c.advert_int_us = 50_000;
    let mut s = Sim::new(router(vec![c.clone()]));
    let skew = 156 * 5 * 625 / 16; // 30468 µs
    assert_eq!(s.r.instance(0).map(|i| i.skew_us()), Some(skew));
    s.run_to(1_000_000);
    assert_eq!(s.first_log("(VI_1) Entering MASTER STATE"), Some(150_000 + skew));

    // a master advertising 1 s: the backup adopts Master_Adver_Interval
    let mut s = Sim::new(router(vec![c]));
    let mut a = RxAdvert::new(HIGHER, MCAST, 3, 51, 200, 100).with_addrs(&[VIP]);
    a.auth = RxAuth::None;
    s.advert(0, a);
    assert_eq!(s.r.instance(0).map(|i| i.master_adver_int_us), Some(1_000_000));
    s.run_to(10_000_000);
    assert_eq!(s.first_log("(VI_1) Entering MASTER STATE"), Some(3_000_000 + SKEW_100));
    assert!(s.has_log_prefix("(VI_1) advertisement interval mismatch ours = 5 centi-sec rcv'd=100 centi-sec"));
}

#[test]
fn preempt_lower_priority_advert_is_discarded() {
    let mut s = Sim::new(router(vec![icfg("VI_1", 150)]));
    let skew150 = 106 * 1_000_000 / 256;
    for k in 0..10u64 {
        s.run_to(k * 1_000_000 + 100);
        if s.state(0) == State::Backup {
            s.advert(0, adv(100, HIGHER));
        }
    }
    assert!(s.has_log_prefix("(VI_1) received lower priority (100) advert from 10.0.0.3 - discarding"));
    assert_eq!(s.first_log("(VI_1) Entering MASTER STATE"), Some(3_000_000 + skew150));
}

#[test]
fn nopreempt_stays_backup() {
    let mut c = icfg("VI_1", 150);
    c.nopreempt = true;
    let mut s = Sim::new(router(vec![c]));
    for k in 0..10u64 {
        s.run_to(k * 1_000_000 + 100);
        s.advert(0, adv(100, HIGHER));
    }
    assert_eq!(s.state(0), State::Backup);
    assert_eq!(s.first_log("(VI_1) Entering MASTER STATE"), None);
}

#[test]
fn preempt_delay_postpones_takeover() {
    let mut c = icfg("VI_1", 150);
    c.preempt_delay_us = 10_000_000;
    let mut s = Sim::new(router(vec![c]));
    let skew150 = 106 * 1_000_000 / 256;
    for k in 0..30u64 {
        s.run_to(k * 1_000_000 + 100);
        if s.state(0) == State::Backup {
            s.advert(0, adv(100, HIGHER));
        }
    }
    // delay started by the first advert at 100 µs, expires at 10.0001 s; the advert at 10.0001 s is the first
    // discarded one, so the timer set at 9.0001 s runs out.
    assert_eq!(s.first_log("(VI_1) Entering MASTER STATE"), Some(9_000_100 + 3_000_000 + skew150));
}

#[test]
fn address_owner_becomes_master_at_once() {
    let mut s = Sim::new(router(vec![icfg("VI_1", 255)]));
    s.run_to(10);
    assert_eq!(s.first_log("(VI_1) Entering MASTER STATE"), Some(1));
    assert_eq!(s.state(0), State::Master);
}

#[test]
fn state_master_non_owner() {
    // keepalived's vrrp_init_state: outside a sync group a non-owner `state MASTER` gets the full master-down
    // timer; inside a sync group (whose state is BACKUP unless all members are owners) it waits one interval
    // plus the minimal skew.
    let mut c = icfg("VI_1", 100);
    c.initial_master = true;
    let mut s = Sim::new(router(vec![c.clone()]));
    s.run_to(5_000_000);
    assert_eq!(s.first_log("(VI_1) Entering MASTER STATE"), Some(3_000_000 + SKEW_100));

    c.sync_group = Some(0);
    let r = Router::new(RouterConfig {
        options: EngineOptions::default(),
        instances: vec![c],
        groups: vec![SyncGroupConfig { name: "G".into(), members: vec![0] }],
    });
    let mut s = Sim::new(r);
    s.run_to(5_000_000);
    assert_eq!(s.first_log("(VI_1) Entering MASTER STATE"), Some(1_000_000 + 1_000_000 / 256));
}

fn become_master(s: &mut Sim) {
    s.run_to(4_000_000);
    assert_eq!(s.state(0), State::Master);
}

#[test]
fn equal_priority_tie_break_on_address() {
    let mut s = Sim::new(router(vec![icfg("VI_1", 100)]));
    become_master(&mut s);
    s.advert(0, adv(100, LOWER));
    assert_eq!(s.state(0), State::Master);
    assert!(s.has_log_prefix(
        "(VI_1) Received advert from 10.0.0.1 with lower priority 100, ours 100, forcing new election"
    ));
    s.advert(0, adv(100, HIGHER));
    assert_eq!(s.state(0), State::Backup);
    assert!(s.has_log_prefix(
        "(VI_1) Master received advert from 10.0.0.3 with same priority 100 but higher IP address than ours"
    ));
    assert_eq!(s.first_log("(VI_1) Entering BACKUP STATE"), Some(4_000_000));
    assert_eq!(s.stats(0).release_master, 1);
    assert!(s.log.iter().any(|(_, a)| matches!(a, Action::RemoveAddresses { instance: 0 })));
}

#[test]
fn higher_priority_advert_to_master() {
    let mut c = icfg("VI_1", 100);
    c.higher_prio_send_advert = true;
    let mut s = Sim::new(router(vec![c]));
    become_master(&mut s);
    let before = s.stats(0).advert_sent;
    s.advert(0, adv(200, HIGHER));
    assert_eq!(s.state(0), State::Backup);
    assert_eq!(s.stats(0).advert_sent, before + 1);
    assert!(s.has_log_prefix("(VI_1) Master received advert from 10.0.0.3 with higher priority 200, ours 100"));
}

#[test]
fn lower_priority_advert_to_master() {
    let mut c = icfg("VI_1", 100);
    c.garp_lower_prio_repeat = 2;
    c.garp_lower_prio_delay_us = 1_000_000;
    let mut s = Sim::new(router(vec![c]));
    become_master(&mut s);
    let n = s.log.len();
    s.advert(0, adv(50, HIGHER));
    let new: Vec<&Action> = s.log[n..].iter().map(|(_, a)| a).collect();
    assert!(new.contains(&&Action::SendAdvert { instance: 0, priority: 100 }));
    assert_eq!(new.iter().filter(|a| matches!(a, Action::SendGarp { .. })).count(), 2);
    assert!(new.contains(&&Action::NotifyMasterRxLowerPri { instance: 0, priority: 50 }));
    assert_eq!(s.state(0), State::Master);
    // the next advert is one interval after the answer
    let t = s.now;
    s.run_to(t + 1_000_000);
    assert_eq!(s.log.last().map(|(t, _)| *t), Some(t + 1_000_000));

    // lower_prio_no_advert
    let mut c = icfg("VI_1", 100);
    c.lower_prio_no_advert = true;
    let mut s = Sim::new(router(vec![c]));
    become_master(&mut s);
    let sent = s.stats(0).advert_sent;
    s.advert(0, adv(50, HIGHER));
    assert_eq!(s.stats(0).advert_sent, sent);
    assert!(s.has_log_prefix("(VI_1) Received advert from 10.0.0.3 with lower priority 50, ours 100"));
}

#[test]
fn master_answers_priority_zero() {
    let mut s = Sim::new(router(vec![icfg("VI_1", 100)]));
    become_master(&mut s);
    let sent = s.stats(0).advert_sent;
    s.advert(0, adv(0, HIGHER));
    assert_eq!(s.stats(0).advert_sent, sent + 1);
    assert_eq!(s.state(0), State::Master);
}

#[test]
fn rogue_owner_backs_off_to_254() {
    let mut s = Sim::new(router(vec![icfg("VI_1", 255)]));
    s.run_to(10);
    assert_eq!(s.state(0), State::Master);
    // another owner with a lower address keeps advertising
    s.advert(0, adv(255, LOWER));
    assert!(s.has_log_prefix("(VI_1) CONFIGURATION ERROR: local instance and 10.0.0.1 are both configured"));
    s.run_to(2_500_000); // two more adverts sent -> rogue timer runs
    s.advert(0, adv(255, LOWER));
    assert!(s.has_log_prefix(
        "(VI_1) 10.0.0.1 is still advertising as address owner, please resolve - reducing our priority"
    ));
    assert_eq!(s.r.instance(0).map(|i| i.effective_priority), Some(254));
    assert_eq!(s.state(0), State::Backup);
    // the other owner goes away: we take over again with 255
    s.run_to(10_000_000);
    assert_eq!(s.state(0), State::Master);
    assert!(s.has_log_prefix("(VI_1) Restoring our priority to 255 since other address owner has disappeared"));
    assert_eq!(s.r.instance(0).map(|i| i.effective_priority), Some(255));
}

#[test]
fn shutdown_sends_priority_zero() {
    let mut s = Sim::new(router(vec![icfg("VI_1", 100)]));
    become_master(&mut s);
    s.input(Input::Shutdown);
    assert!(s.log.iter().any(|(_, a)| a == &Action::SendAdvert { instance: 0, priority: 0 }));
    assert_eq!(s.stats(0).pri_zero_sent, 1);
    assert_eq!(s.state(0), State::Stop);
    assert_eq!(s.r.poll_timeout(), None);
}

#[test]
fn tracking_weights_and_fault() {
    let mut c = icfg("VI_1", 100);
    c.trackers = vec![
        TrackRef { kind: TrackKind::Interface, name: "eth1".into(), weight: -30, reverse: false },
        TrackRef { kind: TrackKind::Script, name: "chk".into(), weight: 20, reverse: false },
        TrackRef { kind: TrackKind::File, name: "f".into(), weight: 2, reverse: false },
        TrackRef { kind: TrackKind::Interface, name: "eth2".into(), weight: 0, reverse: false },
    ];
    let mut s = Sim::new(router(vec![c]));
    s.input(Input::ScriptResult { name: "chk".into(), success: true, exit: None });
    assert_eq!(s.r.instance(0).map(|i| i.effective_priority), Some(120));
    assert!(s.has_log_prefix("(VI_1) Changing effective priority from 100 to 120"));
    s.input(Input::Interface { name: "eth1".into(), up: false });
    assert_eq!(s.r.instance(0).map(|i| i.effective_priority), Some(90));
    s.input(Input::FileValue { name: "f".into(), value: 100 });
    assert_eq!(s.r.instance(0).map(|i| i.effective_priority), Some(254));
    s.input(Input::FileValue { name: "f".into(), value: -200 });
    assert_eq!(s.state(0), State::Fault);
    s.input(Input::FileValue { name: "f".into(), value: 0 });
    assert_eq!(s.state(0), State::Backup);
    become_master(&mut s);
    s.input(Input::Interface { name: "eth2".into(), up: false });
    assert_eq!(s.state(0), State::Fault);
    assert!(s.log.iter().any(|(_, a)| a == &Action::SendAdvert { instance: 0, priority: 0 }));
    assert!(s.log.iter().any(|(_, a)| a == &Action::Notify { instance: 0, state: State::Fault, priority: 90 }));
    assert!(s.first_log("(VI_1) Entering FAULT STATE").is_some());
    s.input(Input::Interface { name: "eth2".into(), up: true });
    assert_eq!(s.state(0), State::Backup);
}

#[test]
fn down_timer_follows_priority_changes() {
    let mut c = icfg("VI_1", 100);
    c.trackers = vec![TrackRef { kind: TrackKind::Interface, name: "eth1".into(), weight: 56, reverse: false }];
    let mut s = Sim::new(router(vec![c]));
    // starts at 156: down timer 3 s + 100/256 s
    s.run_to(1_000_000);
    s.input(Input::Interface { name: "eth1".into(), up: false });
    s.run_to(10_000_000);
    assert_eq!(s.first_log("(VI_1) Entering MASTER STATE"), Some(3_000_000 + SKEW_100));
}

#[test]
fn weight_zero_script_holds_init() {
    let mut c = icfg("VI_1", 100);
    c.trackers = vec![TrackRef { kind: TrackKind::Script, name: "chk".into(), weight: 0, reverse: false }];
    let mut s = Sim::new(router(vec![c]));
    assert_eq!(s.state(0), State::Fault);
    assert_eq!(s.count(|a| matches!(a, Action::Notify { .. })), 0);
    s.run_to(10_000_000);
    assert_eq!(s.state(0), State::Fault);
    s.input(Input::ScriptResult { name: "chk".into(), success: true, exit: None });
    assert_eq!(s.state(0), State::Backup);
    s.run_to(20_000_000);
    assert_eq!(s.first_log("(VI_1) Entering MASTER STATE"), Some(13_609_375));
}

#[test]
fn owner_priority_never_changes() {
    let mut c = icfg("VI_1", 255);
    c.trackers = vec![TrackRef { kind: TrackKind::Interface, name: "eth1".into(), weight: -50, reverse: false }];
    let mut s = Sim::new(router(vec![c]));
    s.input(Input::Interface { name: "eth1".into(), up: false });
    assert_eq!(s.r.instance(0).map(|i| i.effective_priority), Some(255));
}

fn group_router() -> Router {
    let mut a = icfg("VI_1", 100);
    a.sync_group = Some(0);
    let mut b = icfg("VI_2", 100);
    b.vrid = 52;
    b.sync_group = Some(0);
    b.trackers = vec![TrackRef { kind: TrackKind::Interface, name: "eth9".into(), weight: 0, reverse: false }];
    Router::new(RouterConfig {
        options: EngineOptions::default(),
        instances: vec![a, b],
        groups: vec![SyncGroupConfig { name: "G1".into(), members: vec![0, 1] }],
    })
}

#[test]
fn sync_group_members_move_together() {
    let mut s = Sim::new(group_router());
    assert!(s.log.iter().any(|(_, a)| a == &Action::NotifyGroup { group: 0, state: State::Backup }));
    s.run_to(4_000_000);
    assert_eq!((s.state(0), s.state(1)), (State::Master, State::Master));
    assert!(s.has_log_prefix("VRRP_Group(G1) Syncing instances to MASTER state"));
    // one member goes to FAULT: all follow
    s.input(Input::Interface { name: "eth9".into(), up: false });
    assert_eq!((s.state(0), s.state(1)), (State::Fault, State::Fault));
    assert!(s.log.iter().any(|(_, a)| a == &Action::NotifyGroup { group: 0, state: State::Fault }));
    s.input(Input::Interface { name: "eth9".into(), up: true });
    assert_eq!((s.state(0), s.state(1)), (State::Backup, State::Backup));
    s.run_to(9_000_000);
    assert_eq!((s.state(0), s.state(1)), (State::Master, State::Master));
    // a higher priority master for one member: both go BACKUP
    s.advert(0, adv(200, HIGHER));
    assert_eq!((s.state(0), s.state(1)), (State::Backup, State::Backup));
    assert!(s.has_log_prefix("VRRP_Group(G1) Syncing instances to BACKUP state"));
    // master only when both want it: keep the first member's master alive
    for k in 0..10u64 {
        s.run_to(9_000_000 + k * 1_000_000 + 1);
        s.advert(0, adv(200, HIGHER));
    }
    assert_eq!((s.state(0), s.state(1)), (State::Backup, State::Backup));
}

fn rejected(mut a: RxAdvert, cfg: impl FnOnce(&mut InstanceConfig), master: bool) -> (Stats, Vec<Action>) {
    let mut c = icfg("VI_1", 100);
    cfg(&mut c);
    let mut s = Sim::new(router(vec![c]));
    if master {
        become_master(&mut s);
    }
    let st = s.state(0);
    let sands = s.r.instance(0).and_then(|i| i.sands);
    let base = s.stats(0);
    let n = s.log.len();
    if a.version == 0 {
        a.version = 2;
    }
    s.advert(0, a);
    assert_eq!(s.state(0), st);
    assert_eq!(s.r.instance(0).and_then(|i| i.sands), sands);
    let st2 = s.stats(0);
    let new = s.log[n..].iter().map(|(_, a)| a.clone()).collect::<Vec<_>>();
    assert!(!new.iter().any(|a| matches!(a, Action::SendAdvert { .. })));
    let mut d = st2;
    d.advert_sent -= base.advert_sent;
    d.advert_rcvd -= base.advert_rcvd;
    (d, new)
}

#[test]
fn receive_checks_reject_under_the_right_counter() {
    for master in [false, true] {
        let mut a = adv(200, HIGHER);
        a.ttl_or_hoplimit = Some(254);
        let (st, log) = rejected(a, |_| {}, master);
        assert_eq!((st.ip_ttl_err, st.advert_rcvd), (1, 0));
        assert!(
            matches!(&log[0], Action::Log(s) if s == "(VI_1) invalid TTL/HL from 10.0.0.3. Received 254 and expect 255")
        );

        let mut a = adv(200, HIGHER);
        a.version = 3;
        let (st, log) = rejected(a, |_| {}, master);
        assert_eq!(st.vers_err, 1);
        assert!(
            matches!(&log[0], Action::Log(s) if s == "(VI_1) wrong VRRP version from 10.0.0.3. Received 3 and expect 2")
        );

        let mut a = adv(200, HIGHER);
        a.adver_int_cs = 200;
        let (st, log) = rejected(a, |_| {}, master);
        assert_eq!(st.advert_interval_err, 0, "keepalived 2.2.7 never increments it");
        assert!(
            matches!(&log[0], Action::Log(s) if s == "(VI_1) advertisement interval mismatch with 10.0.0.3 mine=1 sec rcv'd=2 sec")
        );

        let mut a = adv(200, HIGHER);
        a.kind = 2;
        assert_eq!(rejected(a, |_| {}, master).0.invalid_type_rcvd, 1);

        let mut a = adv(200, HIGHER);
        a.length_ok = false;
        assert_eq!(rejected(a, |_| {}, master).0.packet_len_err, 1);

        let mut a = adv(200, HIGHER);
        a.checksum_ok = false;
        assert_eq!(rejected(a, |_| {}, master).0.chk_err, 1);

        let mut a = adv(200, HIGHER);
        a.auth = RxAuth::Other(7);
        assert_eq!(rejected(a, |_| {}, master).0.invalid_authtype, 1);

        let mut a = adv(200, HIGHER);
        a.auth = RxAuth::Pass(*b"secret\0\0");
        assert_eq!(rejected(a, |_| {}, master).0.authtype_mismatch, 1);

        let mut a = adv(200, HIGHER);
        a.auth = RxAuth::Pass(*b"wrong\0\0\0");
        let (st, log) = rejected(a, |c| c.auth = AuthConfig::Pass(*b"secret\0\0"), master);
        assert_eq!(st.auth_failure, 1);
        assert!(matches!(&log[0], Action::Log(s) if s == "(VI_1) received an invalid passwd from 10.0.0.3!"));

        let mut a = adv(200, HIGHER);
        a.auth = RxAuth::Ah { ok: false };
        assert_eq!(rejected(a, |c| c.auth = AuthConfig::Ah, master).0.auth_failure, 1);

        // unicast packet on a multicast instance
        let mut a = adv(200, HIGHER);
        a.dst = ME;
        let (st, log) = rejected(a, |_| {}, master);
        assert_eq!(st.addr_list_err, 1);
        assert!(
            matches!(&log[0], Action::Log(s) if s == "(VI_1) Expected multicast packet but received unicast packet from 10.0.0.3")
        );

        // unicast: source not a peer / TTL outside the peer's window
        let uni = |c: &mut InstanceConfig| {
            c.unicast = true;
            c.check_unicast_src = true;
            c.unicast_peers = vec![Peer { addr: LOWER, min_ttl: 250, max_ttl: 255 }];
        };
        let mut a = adv(200, HIGHER);
        a.dst = ME;
        let (_, log) = rejected(a, uni, master);
        assert!(matches!(&log[0], Action::Log(s) if s == "(VI_1) unicast source address 10.0.0.3 not a unicast peer"));
        let mut a = adv(200, LOWER);
        a.dst = ME;
        a.ttl_or_hoplimit = Some(64);
        let (st, _) = rejected(a, uni, master);
        // keepalived counts the advert as received before the unicast peer checks
        assert_eq!((st.ip_ttl_err, st.advert_rcvd), (1, 1));
    }
}

#[test]
fn unicast_ttl_not_checked_without_peer_window() {
    let mut c = icfg("VI_1", 100);
    c.unicast = true;
    c.unicast_peers = vec![Peer { addr: HIGHER, min_ttl: 0, max_ttl: 255 }];
    let mut s = Sim::new(router(vec![c]));
    let mut a = adv(200, HIGHER);
    a.dst = ME;
    a.ttl_or_hoplimit = Some(60);
    s.advert(0, a);
    assert_eq!(s.stats(0).advert_rcvd, 1);
    assert_eq!(s.stats(0).ip_ttl_err, 0);
}

#[test]
fn vip_mismatch_logged_and_accepted_or_dropped() {
    let mut s = Sim::new(router(vec![icfg("VI_1", 100)]));
    let a = RxAdvert::new(HIGHER, MCAST, 2, 51, 200, 100).with_addrs(&[LOWER]);
    s.advert(0, a);
    assert_eq!(s.stats(0).addr_list_err, 1);
    assert_eq!(s.stats(0).advert_rcvd, 1);
    assert!(
        s.has_log_prefix("(VI_1) ip address associated with VRID 51 not present in advert from 10.0.0.3: 10.0.0.100")
    );
    assert_eq!(s.r.instance(0).and_then(|i| i.master_saddr), Some(HIGHER));
    let a = RxAdvert::new(HIGHER, MCAST, 2, 51, 200, 100);
    s.advert(0, a);
    assert!(s.has_log_prefix("(VI_1) expected 1 VIPs but received 0"));

    // keepalived <= 2.3 behaviour
    let mut r = RouterConfig { options: EngineOptions::default(), instances: vec![icfg("VI_1", 100)], groups: vec![] };
    r.options.drop_on_vip_mismatch = true;
    let mut s = Sim::new(Router::new(r));
    let sands = s.r.instance(0).and_then(|i| i.sands);
    s.run_to(1_000_000);
    s.advert(0, RxAdvert::new(HIGHER, MCAST, 2, 51, 200, 100).with_addrs(&[LOWER]));
    assert_eq!(s.r.instance(0).and_then(|i| i.sands), sands);
    assert_eq!(s.stats(0).addr_list_err, 1);
}

#[test]
fn rejected_log_lines_are_rate_limited() {
    let mut s = Sim::new(router(vec![icfg("VI_1", 100)]));
    let mut a = adv(200, HIGHER);
    a.ttl_or_hoplimit = Some(1);
    for _ in 0..100 {
        s.advert(0, a);
    }
    assert_eq!(s.stats(0).ip_ttl_err, 100);
    assert_eq!(s.count(|a| matches!(a, Action::Log(s) if s.contains("invalid TTL"))), 1);
}

#[test]
fn steady_state_receive_emits_nothing() {
    let mut s = Sim::new(router(vec![icfg("VI_1", 100)]));
    s.advert(0, adv(200, HIGHER));
    let n = s.log.len();
    for k in 1..1000u64 {
        s.now = k * 1000;
        s.advert(0, adv(200, HIGHER));
    }
    assert_eq!(s.log.len(), n);
}

#[test]
fn inputs_and_actions_round_trip_as_json() {
    let i = Input::Advert { instance: 0, advert: adv(100, HIGHER) };
    let j = serde_json::to_string(&i).unwrap_or_default();
    let back: Input = serde_json::from_str(&j).unwrap_or(Input::Start);
    assert_eq!(back, i);
    let a = Action::Notify { instance: 1, state: State::Master, priority: 100 };
    let j = serde_json::to_string(&a).unwrap_or_default();
    assert_eq!(serde_json::from_str::<Action>(&j).ok(), Some(a));
}

#[test]
fn startup_delay_holds_instances() {
    let mut r = RouterConfig { options: EngineOptions::default(), instances: vec![icfg("VI_1", 255)], groups: vec![] };
    r.options.startup_delay_us = 2_000_000;
    let mut s = Sim::new(Router::new(r));
    s.run_to(10_000_000);
    assert_eq!(s.first_log("(VI_1) Entering MASTER STATE"), Some(2_000_001));
}

#[test]
fn garp_pacing() {
    let mut r = RouterConfig { options: EngineOptions::default(), instances: vec![icfg("VI_1", 255)], groups: vec![] };
    r.options.garp_interval_us = 10_000;
    let mut s = Sim::new(Router::new(r));
    s.run_to(1_000_000);
    let garps: Vec<u64> = s.log.iter().filter(|(_, a)| matches!(a, Action::SendGarp { .. })).map(|(t, _)| *t).collect();
    assert_eq!(garps, vec![1, 10_001, 20_001, 30_001, 40_001]);
}

#[test]
fn bad_group_references_do_not_panic() {
    let mut a = icfg("VI_1", 100);
    a.sync_group = Some(7);
    let r = Router::new(RouterConfig {
        options: EngineOptions::default(),
        instances: vec![a],
        groups: vec![SyncGroupConfig { name: "G".into(), members: vec![0, 0, 9] }],
    });
    let mut s = Sim::new(r);
    s.run_to(5_000_000);
    assert_eq!(s.state(0), State::Master);
    s.advert(3, adv(200, HIGHER));
    s.input(Input::Remove { instance: 9 });
    s.input(Input::SourceAddress { instance: 9, addr: None });
}

#[test]
fn script_rise_fall_hysteresis_as_keepalived() {
    // rise 2 / fall 2, weight 0: init (result 1) -> one success is enough to rise, then 2 failures to fall,
    // then 2 successes to rise again (keepalived resets the counter to 0 when the script fails).
    let mut c = icfg("VI_1", 100);
    c.trackers = vec![TrackRef { kind: TrackKind::Script, name: "chk".into(), weight: 0, reverse: false }];
    let options = EngineOptions {
        scripts: vec![config::ScriptConfig { name: "chk".into(), rise: 2, fall: 2, init_fail: false }],
        ..EngineOptions::default()
    };
    let mut s = Sim::new(Router::new(RouterConfig { options, instances: vec![c], groups: vec![] }));
    let res = |s: &mut Sim, ok: bool| s.input(Input::ScriptResult { name: "chk".into(), success: ok, exit: None });
    assert_eq!(s.state(0), State::Fault);
    res(&mut s, true);
    assert_eq!(s.state(0), State::Backup);
    res(&mut s, false);
    assert_eq!(s.state(0), State::Backup, "one failure after rising is not enough with fall 2");
    res(&mut s, false);
    assert_eq!(s.state(0), State::Fault);
    res(&mut s, true);
    assert_eq!(s.state(0), State::Fault, "one success after falling is not enough with rise 2");
    res(&mut s, true);
    assert_eq!(s.state(0), State::Backup);
}

#[test]
fn reduced_rogue_owner_logs_higher_priority() {
    // an owner that backed off to 254 and then hears 255 logs keepalived's "higher priority" line
    let mut s = Sim::new(router(vec![icfg("VI_1", 255)]));
    s.run_to(1);
    for k in 0..3u64 {
        s.run_to(k * 1_000_000 + 500_000);
        s.advert(0, adv(255, LOWER));
    }
    assert_eq!(s.state(0), State::Backup);
    assert!(s.has_log_prefix("(VI_1) Master received advert from 10.0.0.1 with higher priority 255, ours 254"));
}

/// 100 instances become MASTER in the same instant. One `handle_timeout` call sends at most
/// `MAX_STATE_TIMERS_PER_CALL` (64) adverts; the shell calls again with the time it has reached, and
/// each share's next advert is due one interval after its own call (RFC 5798 §6.4.3: the
/// Adver_Timer restarts when the advert is sent), so the instances no longer stay in lock-step.
#[test]
fn a_burst_of_due_adverts_is_sent_in_bounded_shares_and_spreads() {
    let cs: Vec<InstanceConfig> = (0..100u8)
        .map(|n| {
            let mut c = InstanceConfig::new(&format!("VI_{n}"), n + 1, 100);
            c.vips = vec![VIP];
            c.src_ip = Some(ME);
            c
        })
        .collect();
    let mut s = Sim::new(router(cs));
    let down = 3 * 1_000_000 + SKEW_100;
    assert_eq!(s.r.poll_timeout(), Some(Instant(down)));
    // Each call at a later time, as a shell that spends 100 µs sending each share.
    let sends = |s: &Sim| s.count(|a| matches!(a, Action::SendAdvert { .. }));
    let mut shares = Vec::new();
    let mut t = down;
    while s.r.poll_timeout().is_some_and(|d| d.0 <= t) {
        let before = sends(&s);
        s.now = t;
        s.r.handle_timeout(Instant(t), &mut s.out);
        s.flush();
        shares.push(sends(&s) - before);
        t += 100;
    }
    assert_eq!(shares, vec![64, 36]);
    assert!((0..100).all(|i| s.state(i) == State::Master));
    // The next adverts are due at two times, 100 µs apart, one interval on.
    let mut due: Vec<u64> = (0..100).map(|i| s.r.instance(i).unwrap().sands.unwrap().0).collect();
    due.sort_unstable();
    due.dedup();
    assert_eq!(due, (0..2).map(|k| down + 1_000_000 + 100 * k).collect::<Vec<_>>());
    // A shell that is on time sends each share at its own due time.
    let before = sends(&s);
    s.run_to(down + 1_000_000 + 100);
    assert_eq!(sends(&s) - before, 100);
}
