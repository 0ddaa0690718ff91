//! The sans-IO VRRP engine: instances, receive checks, timers, tracking and sync groups.
use std::collections::VecDeque;
use std::net::IpAddr;

use crate::config::{AuthConfig, InstanceConfig, RouterConfig};
use crate::types::{Action, GroupId, Input, InstanceId, Instant, RxAdvert, RxAuth, State, Stats, TrackKind};

const PRIO_OWNER: u8 = 255;

// Rate-limit flags (one log line per kind until the next state transition).
const RL_LEN: u32 = 1 << 0;
const RL_TTL: u32 = 1 << 1;
const RL_VERSION: u32 = 1 << 2;
const RL_BAD_AUTH: u32 = 1 << 3;
const RL_WRONG_AUTH: u32 = 1 << 4;
const RL_PASSWD: u32 = 1 << 5;
const RL_INTVL: u32 = 1 << 6;
const RL_TYPE: u32 = 1 << 7;
const RL_CSUM: u32 = 1 << 8;
const RL_UNIMULTI: u32 = 1 << 9;
const RL_OWNER_IGNORE: u32 = 1 << 10;
const RL_ADDR_COUNT: u32 = 1 << 11;
const RL_VIPS: u32 = 1 << 12;
const RL_UNI_SRC: u32 = 1 << 13;
const RL_TTL_RANGE: u32 = 1 << 14;
const RL_AH: u32 = 1 << 15;

/// Tracker runtime state.
#[derive(Clone, Debug)]
struct Tracker {
    kind: TrackKind,
    name: String,
    /// None = script still in its init state.
    up: Option<bool>,
    /// track_file value.
    value: i64,
    /// vrrp_script hysteresis counter (keepalived's `result`), 0..rise+fall-1.
    result: u32,
    rise: u32,
    fall: u32,
}

#[derive(Clone, Copy, Debug)]
struct TrackUse {
    tracker: usize,
    weight: i32,
    reverse: bool,
}

/// Per-instance runtime state (public read-only view through [`Router::instance`]).
#[derive(Clone, Debug)]
pub struct Instance {
    pub config: InstanceConfig,
    pub state: State,
    pub wantstate: State,
    pub effective_priority: u8,
    pub total_priority: i32,
    /// Master_Adver_Interval (µs).
    pub master_adver_int_us: u64,
    /// Current master-down interval (µs).
    pub ms_down_timer_us: u64,
    /// The advert / master-down timer.
    pub sands: Option<Instant>,
    pub master_saddr: Option<IpAddr>,
    pub master_priority: u8,
    pub preempt_time: Option<Instant>,
    /// VIPs installed.
    pub vipset: bool,
    pub stats: Stats,
    /// Source / primary address of the instance (tie-break).
    pub primary_addr: Option<IpAddr>,
    /// The instance's own fault conditions (trackers, interface) and weight-0 scripts still in init.
    pub fault: bool,
    pub script_init: bool,
    rogue_counter: u8,
    rogue_adver_int_us: u64,
    rogue_timer: Option<Instant>,
    rlflags: u32,
    garp_delay_at: Option<Instant>,
    garp_refresh_at: Option<Instant>,
    garp_lower_at: Option<Instant>,
    garp_queue: usize,
    tracks: Vec<TrackUse>,
    interface_tracker: Option<usize>,
}

impl Instance {
    fn owner(&self) -> bool {
        self.config.priority == PRIO_OWNER
    }

    fn skew_calc(&self, pri_val: u64) -> u64 {
        if self.config.version == 3 {
            pri_val * (self.master_adver_int_us / 10_000) * 625 / 16
        } else {
            pri_val * 1_000_000 / 256
        }
    }

    /// Skew_Time (µs).
    pub fn skew_us(&self) -> u64 {
        let p = if self.owner() { PRIO_OWNER } else { self.effective_priority };
        self.skew_calc(256 - u64::from(p))
    }

    /// Master_Down_Interval (µs).
    pub fn master_down_us(&self) -> u64 {
        u64::from(self.config.down_timer_adverts) * self.master_adver_int_us + self.skew_us()
    }

    fn rl(&mut self, flag: u32) -> bool {
        if self.rlflags & flag != 0 {
            false
        } else {
            self.rlflags |= flag;
            true
        }
    }
}

#[derive(Clone, Debug)]
struct Group {
    name: String,
    members: Vec<InstanceId>,
    state: State,
}

#[derive(Clone, Debug)]
struct GarpQueue {
    interface: Option<String>,
    garp_us: u64,
    gna_us: u64,
    next_v4: Instant,
    next_v6: Instant,
    q: VecDeque<(InstanceId, IpAddr)>,
}

/// A rejected advert (the receive check that failed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rx {
    Ok,
    Drop,
}

/// The VRRP engine for all instances of one keepalived VRRP process.
#[derive(Clone, Debug)]
pub struct Router {
    options: crate::config::EngineOptions,
    instances: Vec<Instance>,
    groups: Vec<Group>,
    trackers: Vec<Tracker>,
    garp: Vec<GarpQueue>,
    delayed_start: Option<Instant>,
    started: bool,
}

fn is_multicast(a: &IpAddr) -> bool {
    a.is_multicast()
}

fn log(out: &mut Vec<Action>, s: String) {
    out.push(Action::Log(s));
}

impl Router {
    /// Builds the engine from its configuration.
    pub fn new(cfg: RouterConfig) -> Router {
        let RouterConfig { options, instances: icfgs, groups: gcfgs } = cfg;
        let mut trackers: Vec<Tracker> = Vec::new();
        let find_or_add = |kind: TrackKind, name: &str, trackers: &mut Vec<Tracker>| -> usize {
            if let Some(p) = trackers.iter().position(|t| t.kind == kind && t.name == name) {
                return p;
            }
            let (mut rise, mut fall, mut up, mut result, mut value) = (1, 1, Some(true), 0, 0);
            match kind {
                TrackKind::Script => {
                    if let Some(s) = options.scripts.iter().find(|s| s.name == name) {
                        rise = s.rise.max(1);
                        fall = s.fall.max(1);
                        if s.init_fail {
                            up = Some(false);
                        } else {
                            up = None;
                            result = rise - 1;
                        }
                    } else {
                        up = None;
                    }
                }
                TrackKind::File => {
                    value = options.file_init.iter().find(|f| f.0 == name).map(|f| f.1).unwrap_or(0);
                }
                TrackKind::Process | TrackKind::Bfd => up = Some(false),
                TrackKind::Interface => {}
            }
            trackers.push(Tracker { kind, name: name.to_string(), up, value, result, rise, fall });
            trackers.len() - 1
        };
        let mut garp: Vec<GarpQueue> = Vec::new();
        let mut instances = Vec::with_capacity(icfgs.len());
        for c in icfgs {
            let tracks: Vec<TrackUse> = c
                .trackers
                .iter()
                .map(|t| TrackUse {
                    tracker: find_or_add(t.kind, &t.name, &mut trackers),
                    weight: t.weight.clamp(-253, 253),
                    reverse: t.reverse,
                })
                .collect();
            let interface_tracker = match (&c.interface, c.dont_track_primary) {
                (Some(i), false) => Some(find_or_add(TrackKind::Interface, i, &mut trackers)),
                _ => None,
            };
            let garp_queue = match garp.iter().position(|g| g.interface == c.interface) {
                Some(p) => p,
                None => {
                    let pacing =
                        c.interface.as_ref().and_then(|i| options.garp_groups.iter().find(|g| &g.interface == i));
                    garp.push(GarpQueue {
                        interface: c.interface.clone(),
                        garp_us: pacing.map(|p| p.garp_interval_us).unwrap_or(options.garp_interval_us),
                        gna_us: pacing.map(|p| p.gna_interval_us).unwrap_or(options.gna_interval_us),
                        next_v4: Instant::ZERO,
                        next_v6: Instant::ZERO,
                        q: VecDeque::new(),
                    });
                    garp.len() - 1
                }
            };
            let adv = c.advert_int_us;
            let want = if c.initial_master { State::Master } else { State::Backup };
            let mut inst = Instance {
                effective_priority: c.priority,
                total_priority: i32::from(c.priority),
                primary_addr: c.src_ip,
                config: c,
                state: State::Init,
                wantstate: want,
                master_adver_int_us: adv,
                ms_down_timer_us: 0,
                sands: None,
                master_saddr: None,
                master_priority: 0,
                preempt_time: None,
                vipset: false,
                stats: Stats::default(),
                fault: false,
                script_init: false,
                rogue_counter: 0,
                rogue_adver_int_us: 0,
                rogue_timer: None,
                rlflags: 0,
                garp_delay_at: None,
                garp_refresh_at: None,
                garp_lower_at: None,
                garp_queue,
                tracks,
                interface_tracker,
            };
            inst.ms_down_timer_us = inst.master_down_us();
            instances.push(inst);
        }
        // Membership comes from the groups only; invalid or duplicate members are ignored.
        for i in instances.iter_mut() {
            i.config.sync_group = None;
        }
        let mut seen = vec![false; instances.len()];
        let groups = gcfgs
            .into_iter()
            .map(|g| {
                let members = g
                    .members
                    .into_iter()
                    .filter(|&m| m < seen.len() && !std::mem::replace(&mut seen[m], true))
                    .collect();
                Group { name: g.name, members, state: State::Init }
            })
            .collect::<Vec<_>>();
        for (gi, g) in groups.iter().enumerate() {
            for &m in &g.members {
                if let Some(i) = instances.get_mut(m) {
                    i.config.sync_group = Some(gi);
                }
            }
        }
        let mut r = Router { options, instances, groups, trackers, garp, delayed_start: None, started: false };
        r.apply_trackers();
        r
    }

    /// `from_config(&keepalived_config::Config)`: the engine for a parsed configuration.
    pub fn from_config(cfg: &keepalived_config::Config) -> Result<Router, crate::config::ConfigError> {
        Ok(Router::new(RouterConfig::from_config(cfg)?))
    }

    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    pub fn instance(&self, id: InstanceId) -> Option<&Instance> {
        self.instances.get(id)
    }

    /// The instance an advert received for (VRID, family, interface, unicast) belongs to.
    pub fn find_instance(&self, vrid: u8, ipv6: bool, interface: Option<&str>) -> Option<InstanceId> {
        self.instances.iter().position(|i| {
            i.config.vrid == vrid
                && i.config.ipv6 == ipv6
                && (interface.is_none() || i.config.interface.as_deref() == interface)
        })
    }

    /// The state of a sync group.
    pub fn group_state(&self, g: GroupId) -> Option<State> {
        self.groups.get(g).map(|g| g.state)
    }

    /// The name of a sync group.
    pub fn group_name(&self, g: GroupId) -> Option<&str> {
        self.groups.get(g).map(|g| g.name.as_str())
    }

    /// Zero every instance's counters (keepalived's STATS_CLEAR signal,
    /// after the stats file is written).
    pub fn clear_stats(&mut self) {
        for i in &mut self.instances {
            i.stats = Stats::default();
        }
    }

    /// The earliest time at which [`Router::handle_timeout`] has work to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t: Option<Instant> = None;
        let mut upd = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t| t.min(x)));
            }
        };
        for i in &self.instances {
            upd(i.sands);
            upd(i.garp_delay_at);
            upd(i.garp_refresh_at);
            upd(i.garp_lower_at);
            upd(i.rogue_timer);
        }
        for g in &self.garp {
            if let Some((_, a)) = g.q.front() {
                upd(Some(if a.is_ipv4() { g.next_v4 } else { g.next_v6 }));
            }
        }
        t
    }

    /// Feeds one input; actions are appended to `out` (which the caller clears and reuses).
    pub fn handle(&mut self, now: Instant, input: Input, out: &mut Vec<Action>) {
        match input {
            Input::Start => self.start(now, out),
            Input::Advert { instance, advert } => self.receive(now, instance, &advert, out),
            Input::Interface { name, up } => self.set_tracker(now, TrackKind::Interface, &name, Some(up), 0, out),
            Input::ScriptResult { name, success } => self.script_result(now, &name, success, out),
            Input::FileValue { name, value } => self.set_tracker(now, TrackKind::File, &name, Some(true), value, out),
            Input::Process { name, up } => self.set_tracker(now, TrackKind::Process, &name, Some(up), 0, out),
            Input::Bfd { name, up } => self.set_tracker(now, TrackKind::Bfd, &name, Some(up), 0, out),
            Input::SourceAddress { instance, addr } => {
                if let Some(i) = self.instances.get_mut(instance) {
                    i.primary_addr = i.config.src_ip.or(addr);
                }
            }
            Input::Shutdown => {
                for i in 0..self.instances.len() {
                    self.stop_instance(i, State::Stop, out);
                }
                // keepalived's notify_shutdown: every sync group hears STOP too.
                for g in 0..self.groups.len() {
                    if self.groups[g].state != State::Stop {
                        self.groups[g].state = State::Stop;
                        out.push(Action::NotifyGroup { group: g, state: State::Stop });
                    }
                }
            }
            Input::Remove { instance } => {
                if instance < self.instances.len() {
                    self.stop_instance(instance, State::Fault, out);
                }
            }
        }
    }

    /// Receive path without the `Input` wrapper (no copy of the advert).
    pub fn handle_advert(&mut self, now: Instant, instance: InstanceId, advert: &RxAdvert, out: &mut Vec<Action>) {
        self.receive(now, instance, advert, out);
    }

    // ------------------------------------------------------------------ timers

    fn base_time(&self, now: Instant) -> Instant {
        match self.delayed_start {
            Some(d) if d > now => d,
            _ => now,
        }
    }

    fn init_sands(&mut self, i: InstanceId, now: Instant) {
        let base = self.base_time(now);
        let inst = &mut self.instances[i];
        inst.sands = match inst.state {
            State::Master => Some(base.add_us(inst.config.advert_int_us)),
            State::Backup => Some(base.add_us(inst.ms_down_timer_us)),
            _ => None,
        };
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.delayed_start.is_some_and(|d| d <= now) {
            self.delayed_start = None;
        }
        for i in 0..self.instances.len() {
            if self.instances[i].sands.is_some_and(|s| s <= now) {
                let prev = self.instances[i].state;
                match prev {
                    State::Backup => {
                        self.instances[i].wantstate = State::Master;
                        self.goto_master(i, now, out);
                    }
                    State::Master => self.master_tx(i, now, out),
                    _ => {}
                }
                self.tsm(i, prev, now, out);
                self.init_sands(i, now);
            }
            if self.instances[i].rogue_timer.is_some_and(|t| t <= now) {
                self.instances[i].rogue_timer = None;
                log(
                    out,
                    format!(
                        "({}): rogue address owner appears to have stopped advertising",
                        self.instances[i].config.name
                    ),
                );
            }
            if self.instances[i].garp_delay_at.is_some_and(|t| t <= now) {
                self.instances[i].garp_delay_at = None;
                let rep = self.instances[i].config.garp_master_repeat;
                self.send_link_update(i, rep, now, out);
            }
            if self.instances[i].garp_lower_at.is_some_and(|t| t <= now) {
                self.instances[i].garp_lower_at = None;
                let rep = self.instances[i].config.garp_lower_prio_repeat;
                self.send_link_update(i, rep, now, out);
            }
            if self.instances[i].garp_refresh_at.is_some_and(|t| t <= now) {
                let (rep, per) = (
                    self.instances[i].config.garp_master_refresh_repeat,
                    self.instances[i].config.garp_master_refresh_us,
                );
                self.instances[i].garp_refresh_at = Some(now.add_us(per.max(1)));
                self.send_link_update(i, rep, now, out);
            }
        }
        self.drain_garps(now, out);
    }

    // ------------------------------------------------------------------ GARP / NA

    fn send_link_update(&mut self, i: InstanceId, rep: u32, now: Instant, out: &mut Vec<Action>) {
        let inst = &self.instances[i];
        let q = &mut self.garp[inst.garp_queue];
        for _ in 0..rep {
            for a in inst.config.vips.iter().chain(inst.config.evips.iter()) {
                q.q.push_back((i, *a));
            }
        }
        self.drain_garps(now, out);
    }

    fn drain_garps(&mut self, now: Instant, out: &mut Vec<Action>) {
        for g in &mut self.garp {
            while let Some(&(i, a)) = g.q.front() {
                let (next, intv) = if a.is_ipv4() { (&mut g.next_v4, g.garp_us) } else { (&mut g.next_v6, g.gna_us) };
                if intv > 0 && *next > now {
                    break;
                }
                g.q.pop_front();
                if intv > 0 {
                    *next = now.add_us(intv);
                }
                out.push(if a.is_ipv4() {
                    Action::SendGarp { instance: i, addr: a }
                } else {
                    Action::SendNa { instance: i, addr: a }
                });
            }
        }
    }

    fn remove_delayed_arp(&mut self, i: InstanceId) {
        let qi = self.instances[i].garp_queue;
        self.garp[qi].q.retain(|(x, _)| *x != i);
        let inst = &mut self.instances[i];
        inst.garp_delay_at = None;
        inst.garp_refresh_at = None;
        inst.garp_lower_at = None;
    }

    // ------------------------------------------------------------------ start / stop

    fn start(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.started {
            return;
        }
        self.started = true;
        if self.options.startup_delay_us > 0 {
            self.delayed_start = Some(now.add_us(self.options.startup_delay_us));
        }
        for g in 0..self.groups.len() {
            self.groups[g].state = self.initial_group_state(g);
        }
        let n = self.instances.len();
        let g = self.groups.len();
        self.start_instances(now, out, &vec![false; n], &vec![false; g]);
    }

    /// A sync group's state at start or after a reload: FAULT if a member is
    /// blocked, MASTER if every member already is (a reloaded master) or is
    /// an address owner that wants it, else BACKUP.
    fn initial_group_state(&self, g: GroupId) -> State {
        let members = &self.groups[g].members;
        let inst = |m: &InstanceId| &self.instances[*m];
        if members.iter().any(|m| inst(m).fault || inst(m).script_init) {
            State::Fault
        } else if members
            .iter()
            .all(|m| inst(m).state == State::Master || (inst(m).wantstate == State::Master && inst(m).owner()))
        {
            State::Master
        } else {
            State::Backup
        }
    }

    /// keepalived's vrrp_init_state: group notifies for groups in FAULT or
    /// BACKUP (unless unchanged by a reload), then each instance's initial
    /// state and timer. A `reload_master` instance stays MASTER and sends
    /// its next advert at once.
    fn start_instances(&mut self, now: Instant, out: &mut Vec<Action>, reload_master: &[bool], group_same: &[bool]) {
        for (g, grp) in self.groups.iter().enumerate() {
            let st = grp.state;
            if st != State::Master && !group_same.get(g).copied().unwrap_or(false) {
                out.push(Action::NotifyGroup { group: g, state: st });
            }
        }
        for i in 0..self.instances.len() {
            let group_state = self.instances[i].config.sync_group.map(|g| self.groups[g].state);
            let reloading_master = reload_master.get(i).copied().unwrap_or(false);
            let inst = &mut self.instances[i];
            let blocked = inst.fault || inst.script_init;
            let new_state = group_state.unwrap_or(inst.wantstate);
            if !blocked
                && new_state == State::Master
                && (inst.owner() || reloading_master)
                && inst.wantstate == State::Master
            {
                if reloading_master {
                    inst.sands = Some(now);
                    continue;
                }
                inst.state = State::Backup;
                inst.ms_down_timer_us = 1;
            } else {
                inst.ms_down_timer_us = if new_state == State::Backup && inst.wantstate == State::Master {
                    inst.master_adver_int_us + inst.skew_calc(1)
                } else {
                    inst.master_down_us()
                };
                let begin = inst.state;
                if !blocked && new_state != State::Fault {
                    if inst.state != State::Backup {
                        log(out, format!("({}) Entering BACKUP STATE (init)", inst.config.name));
                    }
                    inst.state = State::Backup;
                } else {
                    if begin != State::Fault {
                        log(out, format!("({}) Entering FAULT STATE (init)", inst.config.name));
                    }
                    inst.state = State::Fault;
                }
                if begin != inst.state && (inst.state != State::Fault || inst.fault) {
                    out.push(Action::Notify { instance: i, state: inst.state, priority: inst.effective_priority });
                }
            }
            self.init_sands(i, now);
        }
    }

    /// Reload (SIGHUP): this engine, built from the new configuration,
    /// takes over from `old` as keepalived does (vrrp_exist / restore_vrrp_state /
    /// vrrp_init_state with `reload`):
    ///
    /// - `matches[new] = Some(old)` pairs instances with the same VRID,
    ///   family, interface, unicast source and multicast group (the caller
    ///   matches; names do not matter). Unmatched old instances must have
    ///   been given [`Input::Remove`] on `old` before.
    /// - Tracker states (interfaces, scripts, files, processes, BFD) carry
    ///   over by name, so nothing re-initialises that did not change.
    /// - A matched instance keeps its state (unless it is now in fault),
    ///   counters and master information: a MASTER stays MASTER with no
    ///   election and sends an advert at once; its addresses are re-added
    ///   (the caller removes those that went away) and, if it has new
    ///   ones, gratuitous ARPs / NAs go out for them. A BACKUP stays BACKUP
    ///   with a fresh master-down timer. No notify for an unchanged state.
    /// - A sync group whose state is the same as before does not notify.
    /// - New instances start as at boot.
    pub fn adopt(&mut self, old: &Router, matches: &[Option<InstanceId>], now: Instant, out: &mut Vec<Action>) {
        for t in &mut self.trackers {
            if let Some(o) = old.trackers.iter().find(|o| o.kind == t.kind && o.name == t.name) {
                t.up = o.up;
                t.value = o.value;
                t.result = o.result;
            }
        }
        self.apply_trackers();
        let mut reload_master = vec![false; self.instances.len()];
        for (i, m) in matches.iter().enumerate().take(self.instances.len()) {
            let Some(o) = m.and_then(|o| old.instances.get(o)) else { continue };
            let inst = &mut self.instances[i];
            inst.stats = o.stats;
            inst.master_saddr = o.master_saddr;
            inst.master_priority = o.master_priority;
            inst.master_adver_int_us = o.master_adver_int_us;
            inst.vipset = o.vipset;
            if inst.primary_addr.is_none() {
                inst.primary_addr = o.primary_addr;
            }
            if matches!(o.state, State::Master | State::Backup) && !inst.fault && !inst.script_init {
                inst.state = o.state;
                inst.wantstate = o.state;
                reload_master[i] = o.state == State::Master;
            } else if o.state == State::Fault {
                // Already reported: a fault found again is not notified again.
                inst.state = State::Fault;
            }
        }
        let mut group_same = vec![false; self.groups.len()];
        #[allow(clippy::needless_range_loop)] // self.groups[g] is written while self.instances is read
        for g in 0..self.groups.len() {
            let st = self.initial_group_state(g);
            let before = old.groups.iter().find(|o| o.name == self.groups[g].name).map(|o| o.state);
            group_same[g] = before == Some(st);
            self.groups[g].state = st;
        }
        self.started = true;
        self.start_instances(now, out, &reload_master, &group_same);
        for (i, m) in matches.iter().enumerate().take(self.instances.len()) {
            let (Some(o), true) = (m.and_then(|o| old.instances.get(o)), reload_master[i]) else { continue };
            if self.instances[i].state != State::Master {
                continue;
            }
            // keepalived re-adds every address of a reloaded master (the
            // kernel may have dropped routes with a removed VIP) and
            // announces them all if any is new or refreshes are configured.
            out.push(Action::AddAddresses { instance: i });
            self.instances[i].vipset = true;
            let inst = &self.instances[i];
            let known = |a: &IpAddr| o.config.vips.contains(a) || o.config.evips.contains(a);
            let new_addr = inst.config.vips.iter().chain(inst.config.evips.iter()).any(|a| !known(a));
            let (rep, delay, refresh) =
                (inst.config.garp_master_repeat, inst.config.garp_master_delay_us, inst.config.garp_master_refresh_us);
            // One block only: keepalived 2.2.7 schedules a second block after
            // garp_master_delay in its source, but on the wire (measured by
            // tests/reload_parity.rs) only the first block goes out.
            let _ = delay;
            if new_addr || refresh > 0 {
                self.send_link_update(i, rep, now, out);
            }
            if refresh > 0 {
                self.instances[i].garp_refresh_at = Some(now.add_us(refresh));
            }
        }
    }

    fn stop_instance(&mut self, i: InstanceId, notify_state: State, out: &mut Vec<Action>) {
        if self.instances[i].state == State::Stop {
            return;
        }
        if self.instances[i].state == State::Master {
            self.send_prio0(i, out);
        }
        self.restore_interface(i, out);
        let inst = &mut self.instances[i];
        inst.state = State::Stop;
        inst.sands = None;
        inst.rogue_timer = None;
        out.push(Action::Notify { instance: i, state: notify_state, priority: inst.effective_priority });
    }

    fn send_prio0(&mut self, i: InstanceId, out: &mut Vec<Action>) {
        let inst = &mut self.instances[i];
        inst.stats.advert_sent += 1;
        inst.stats.pri_zero_sent += 1;
        out.push(Action::SendAdvert { instance: i, priority: 0 });
    }

    fn send_adv(&mut self, i: InstanceId, out: &mut Vec<Action>) {
        let inst = &mut self.instances[i];
        inst.stats.advert_sent += 1;
        out.push(Action::SendAdvert { instance: i, priority: inst.effective_priority });
    }

    fn restore_interface(&mut self, i: InstanceId, out: &mut Vec<Action>) {
        self.remove_delayed_arp(i);
        let inst = &mut self.instances[i];
        if inst.vipset {
            inst.vipset = false;
            out.push(Action::RemoveAddresses { instance: i });
        }
    }

    // ------------------------------------------------------------------ transitions

    fn can_goto_master(&mut self, i: InstanceId, now: Instant) -> bool {
        let Some(g) = self.instances[i].config.sync_group else { return true };
        if self.groups[g].state == State::Master {
            return true;
        }
        let others_ready =
            self.groups[g].members.iter().all(|&m| m == i || self.instances[m].wantstate == State::Master);
        if !others_ready {
            let inst = &mut self.instances[i];
            inst.ms_down_timer_us = inst.master_down_us();
            self.init_sands(i, now);
        }
        others_ready
    }

    fn goto_master(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
        if !self.can_goto_master(i, now) {
            self.instances[i].wantstate = State::Master;
            return;
        }
        let inst = &mut self.instances[i];
        inst.rlflags = 0;
        inst.state = State::Master;
        self.init_sands(i, now);
        self.master_tx(i, now, out);
    }

    fn master_tx(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
        self.send_adv(i, out);
        if !self.instances[i].vipset {
            log(out, format!("({}) Entering MASTER STATE", self.instances[i].config.name));
            self.become_master(i, now, out);
        } else if self.instances[i].owner() {
            let inst = &mut self.instances[i];
            if inst.rogue_counter > 0 {
                inst.rogue_counter -= 1;
                if inst.rogue_counter == 0 {
                    let t = inst.rogue_adver_int_us.max(inst.config.advert_int_us) * 12 / 10;
                    inst.rogue_timer = Some(now.add_us(t));
                }
            }
        }
    }

    fn become_master(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
        let inst = &mut self.instances[i];
        inst.stats.become_master += 1;
        if inst.owner() && inst.effective_priority != PRIO_OWNER {
            log(
                out,
                format!(
                    "({}) Restoring our priority to 255 since other address owner has disappeared",
                    inst.config.name
                ),
            );
            inst.effective_priority = PRIO_OWNER;
            inst.total_priority = i32::from(PRIO_OWNER);
        }
        inst.master_adver_int_us = inst.config.advert_int_us;
        out.push(Action::AddAddresses { instance: i });
        inst.vipset = true;
        let (rep, delay, refresh) =
            (inst.config.garp_master_repeat, inst.config.garp_master_delay_us, inst.config.garp_master_refresh_us);
        if delay > 0 {
            inst.garp_delay_at = Some(now.add_us(delay));
        }
        if refresh > 0 {
            inst.garp_refresh_at = Some(now.add_us(delay + refresh));
        }
        let prio = inst.effective_priority;
        self.send_link_update(i, rep, now, out);
        out.push(Action::Notify { instance: i, state: State::Master, priority: prio });
    }

    /// Leaves MASTER for `wantstate` (BACKUP or FAULT).
    fn leave_master(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
        let want = self.instances[i].wantstate;
        {
            let inst = &mut self.instances[i];
            inst.rlflags = 0;
            match want {
                State::Backup => {
                    log(out, format!("({}) Entering BACKUP STATE", inst.config.name));
                    inst.preempt_time = None;
                }
                State::Fault => {
                    log(out, format!("({}) Entering FAULT STATE", inst.config.name));
                }
                _ => return,
            }
        }
        if want == State::Fault {
            self.send_prio0(i, out);
        }
        self.restore_interface(i, out);
        let inst = &mut self.instances[i];
        inst.state = want;
        out.push(Action::Notify { instance: i, state: want, priority: inst.effective_priority });
        inst.ms_down_timer_us = inst.master_down_us();
        inst.stats.release_master += 1;
        if inst.rogue_timer.is_some() {
            inst.rogue_timer = None;
        } else {
            inst.rogue_counter = 0;
        }
        self.init_sands(i, now);
    }

    fn leave_fault(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
        if self.instances[i].wantstate == State::Master {
            self.goto_master(i, now, out);
        } else {
            let was_master = self.instances[i].state == State::Master;
            let want = self.instances[i].wantstate;
            if self.instances[i].state != want {
                log(out, format!("({}) Entering {} STATE", self.instances[i].config.name, want.name()));
            }
            if want == State::Fault && was_master {
                self.send_prio0(i, out);
                self.restore_interface(i, out);
            }
            let inst = &mut self.instances[i];
            inst.state = want;
            out.push(Action::Notify { instance: i, state: want, priority: inst.effective_priority });
            if want == State::Backup {
                inst.preempt_time = None;
            }
        }
        let inst = &mut self.instances[i];
        inst.master_adver_int_us = inst.config.advert_int_us;
        inst.ms_down_timer_us = inst.master_down_us();
        self.init_sands(i, now);
    }

    /// Transition state machine hooks for sync groups (keepalived's VRRP_TSM).
    fn tsm(&mut self, i: InstanceId, prev: State, now: Instant, out: &mut Vec<Action>) {
        if self.instances[i].config.sync_group.is_none() {
            return;
        }
        let cur = self.instances[i].state;
        match (prev, cur) {
            (State::Backup | State::Master | State::Fault, State::Master) => self.sync_master(i, now, out),
            (State::Master, State::Backup) => self.sync_leave(i, State::Backup, now, out),
            _ => {}
        }
    }

    fn sync_master(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
        let Some(g) = self.instances[i].config.sync_group else { return };
        if self.groups[g].state == State::Master || !self.can_goto_master(i, now) {
            return;
        }
        log(out, format!("VRRP_Group({}) Syncing instances to MASTER state", self.groups[g].name));
        for m in self.groups[g].members.clone() {
            if m != i && self.instances[m].state != State::Master {
                self.instances[m].wantstate = State::Master;
                self.goto_master(m, now, out);
            }
        }
        self.groups[g].state = State::Master;
        out.push(Action::NotifyGroup { group: g, state: State::Master });
    }

    /// The other members of `i`'s sync group follow it out of MASTER, to
    /// BACKUP or FAULT (keepalived's vrrp_sync_backup / vrrp_sync_fault).
    fn sync_leave(&mut self, i: InstanceId, target: State, now: Instant, out: &mut Vec<Action>) {
        let Some(g) = self.instances[i].config.sync_group else { return };
        if self.groups[g].state == target {
            return;
        }
        log(out, format!("VRRP_Group({}) Syncing instances to {} state", self.groups[g].name, target.name()));
        for m in self.groups[g].members.clone() {
            if m == i || self.instances[m].state == target {
                continue;
            }
            self.instances[m].wantstate = target;
            match (self.instances[m].state, target) {
                (State::Master, _) => self.leave_master(m, now, out),
                (State::Fault | State::Init, State::Backup) => self.leave_fault(m, now, out),
                (State::Backup | State::Init, State::Fault) => {
                    self.instances[m].state = State::Fault;
                    self.leave_fault(m, now, out);
                }
                _ => {}
            }
        }
        self.groups[g].state = target;
        out.push(Action::NotifyGroup { group: g, state: target });
    }

    // ------------------------------------------------------------------ tracking

    /// Priorities, faults and init states from the trackers, silently (at
    /// construction and when a reload adopts the old trackers' states).
    fn apply_trackers(&mut self) {
        for i in 0..self.instances.len() {
            let (total, fault, init) = self.evaluate(i);
            let inst = &mut self.instances[i];
            inst.total_priority = total;
            if !inst.owner() {
                inst.effective_priority = total.clamp(1, 254) as u8;
            }
            inst.fault = fault;
            inst.script_init = init;
            inst.ms_down_timer_us = inst.master_down_us();
        }
    }

    /// (total priority, own fault, a weight-0 script still in init).
    fn evaluate(&self, i: InstanceId) -> (i32, bool, bool) {
        let inst = &self.instances[i];
        let mut total = i32::from(inst.config.priority);
        let mut fault = false;
        let mut init = false;
        if let Some(t) = inst.interface_tracker {
            if self.trackers[t].up == Some(false) {
                fault = true;
            }
        }
        if inst.config.unicast_fault_no_peer && inst.config.unicast_peers.is_empty() {
            fault = true;
        }
        for u in &inst.tracks {
            let t = &self.trackers[u.tracker];
            let mult = if u.reverse { -1 } else { 1 };
            if t.kind == TrackKind::File {
                if u.weight == 0 {
                    if (t.value != 0) != u.reverse {
                        fault = true;
                    }
                } else {
                    let status = t.value.saturating_mul(i64::from(u.weight)).saturating_mul(mult);
                    if status <= -254 {
                        fault = true;
                    } else {
                        total += status.min(253) as i32;
                    }
                }
                continue;
            }
            let Some(up) = t.up else {
                if u.weight == 0 {
                    init = true;
                }
                continue;
            };
            if u.weight == 0 {
                if up == u.reverse {
                    fault = true;
                }
            } else if (u.weight > 0 && up) || (u.weight < 0 && !up) {
                total += u.weight * mult as i32;
            }
        }
        (total, fault, init)
    }

    fn script_result(&mut self, now: Instant, name: &str, success: bool, out: &mut Vec<Action>) {
        let Some(t) = self.trackers.iter_mut().find(|t| t.kind == TrackKind::Script && t.name == name) else {
            return;
        };
        let max = t.rise + t.fall - 1;
        // keepalived's vrrp_script_child_thread: reaching `rise` jumps to the top of the range (so `fall`
        // failures are needed to go down), going down resets to 0 (so `rise` successes are needed to go up).
        if success {
            if t.result + 1 < t.rise {
                t.result += 1;
            } else {
                t.result = max;
            }
        } else if t.result > t.rise {
            t.result -= 1;
        } else {
            t.result = 0;
        }
        let up = t.result >= t.rise;
        let new = match t.up {
            None if !success || up => Some(up),
            None => None,
            Some(_) => Some(up),
        };
        if new == t.up {
            return;
        }
        t.up = new;
        self.trackers_changed(now, out);
    }

    fn set_tracker(
        &mut self,
        now: Instant,
        kind: TrackKind,
        name: &str,
        up: Option<bool>,
        value: i64,
        out: &mut Vec<Action>,
    ) {
        let mut changed = false;
        for t in self.trackers.iter_mut().filter(|t| t.kind == kind && t.name == name) {
            if t.up != up || t.value != value {
                t.up = up;
                t.value = value;
                changed = true;
            }
        }
        if changed {
            self.trackers_changed(now, out);
        }
    }

    fn trackers_changed(&mut self, now: Instant, out: &mut Vec<Action>) {
        for i in 0..self.instances.len() {
            self.update_instance(i, now, out);
        }
    }

    fn update_instance(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
        let (total, fault, init) = self.evaluate(i);
        {
            let inst = &mut self.instances[i];
            inst.total_priority = total;
            if !inst.owner() {
                let new = total.clamp(1, 254) as u8;
                if new != inst.effective_priority {
                    log(
                        out,
                        format!(
                            "({}) Changing effective priority from {} to {}",
                            inst.config.name, inst.effective_priority, new
                        ),
                    );
                    inst.effective_priority = new;
                    let old = inst.ms_down_timer_us;
                    inst.ms_down_timer_us = inst.master_down_us();
                    if inst.state == State::Backup {
                        if let Some(s) = inst.sands {
                            inst.sands = Some(if old < inst.ms_down_timer_us {
                                s.add_us(inst.ms_down_timer_us - old)
                            } else {
                                Instant(s.0.saturating_sub(old - inst.ms_down_timer_us))
                            });
                        }
                    }
                    if inst.config.notify_priority_changes {
                        out.push(Action::NotifyPriority { instance: i, priority: new });
                    }
                }
            }
        }
        let was_blocked = self.instances[i].fault || self.instances[i].script_init;
        self.instances[i].fault = fault;
        self.instances[i].script_init = init;
        let blocked = fault || init;
        if !self.started || was_blocked == blocked || self.instances[i].state == State::Stop {
            return;
        }
        if blocked {
            self.down_instance(i, now, out);
        } else {
            self.try_up_instance(i, now, out);
        }
    }

    fn down_instance(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
        let st = self.instances[i].state;
        self.instances[i].wantstate = State::Fault;
        match st {
            State::Master => self.leave_master(i, now, out),
            State::Backup | State::Init => {
                log(out, format!("({}) Entering FAULT STATE", self.instances[i].config.name));
                let inst = &mut self.instances[i];
                inst.state = State::Fault;
                inst.sands = None;
                out.push(Action::Notify { instance: i, state: State::Fault, priority: inst.effective_priority });
            }
            _ => {}
        }
        self.sync_leave(i, State::Fault, now, out);
    }

    fn try_up_instance(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
        if let Some(g) = self.instances[i].config.sync_group {
            let others_blocked = self.groups[g]
                .members
                .iter()
                .any(|&m| m != i && (self.instances[m].fault || self.instances[m].script_init));
            if others_blocked {
                return;
            }
        }
        let inst = &mut self.instances[i];
        inst.wantstate = if inst.owner() && inst.config.initial_master { State::Master } else { State::Backup };
        inst.master_adver_int_us = inst.config.advert_int_us;
        if inst.wantstate == State::Master && self.instances[i].config.sync_group.is_some() {
            let _ = self.can_goto_master(i, now);
        }
        let want = self.instances[i].wantstate;
        if want == State::Master && !self.can_goto_master_quiet(i) {
            self.instances[i].wantstate = State::Backup;
        }
        self.leave_fault(i, now, out);
        self.instances[i].wantstate = want;
        if self.instances[i].config.sync_group.is_some() {
            if self.instances[i].state == State::Master {
                self.sync_master(i, now, out);
            } else {
                self.sync_leave(i, State::Backup, now, out);
            }
        }
    }

    fn can_goto_master_quiet(&self, i: InstanceId) -> bool {
        let Some(g) = self.instances[i].config.sync_group else { return true };
        self.groups[g].state == State::Master
            || self.groups[g].members.iter().all(|&m| m == i || self.instances[m].wantstate == State::Master)
    }

    // ------------------------------------------------------------------ receive

    fn receive(&mut self, now: Instant, i: InstanceId, adv: &RxAdvert, out: &mut Vec<Action>) {
        let Some(inst) = self.instances.get(i) else { return };
        let prev = inst.state;
        match prev {
            State::Backup => self.backup_rx(i, now, adv, out),
            State::Master => {
                let (leave, sent) = self.master_rx(i, now, adv, out);
                if leave {
                    self.instances[i].wantstate = State::Backup;
                    self.leave_master(i, now, out);
                }
                self.tsm(i, prev, now, out);
                if self.instances[i].state == State::Master {
                    if sent {
                        self.init_sands(i, now);
                    }
                    return;
                }
            }
            _ => return,
        }
        if prev == State::Backup {
            self.tsm(i, prev, now, out);
        }
    }

    /// keepalived's vrrp_check_packet for the fields the wire layer hands over.
    fn check_packet(&mut self, i: InstanceId, adv: &RxAdvert, check_vip: bool, out: &mut Vec<Action>) -> Rx {
        let drop_vip = self.options.drop_on_vip_mismatch;
        let global_check_src = self.options.check_unicast_src;
        let inst = &mut self.instances[i];
        let c = &inst.config;
        let name = &c.name;
        if !adv.length_ok {
            inst.stats.packet_len_err += 1;
            if inst.rlflags & RL_LEN == 0 {
                inst.rlflags |= RL_LEN;
                log(out, format!("({}) vrrp packet from {} has an invalid length", name, adv.src));
            }
            return Rx::Drop;
        }
        if !c.unicast {
            if let Some(ttl) = adv.ttl_or_hoplimit {
                if ttl != 255 {
                    inst.stats.ip_ttl_err += 1;
                    if inst.rl(RL_TTL) {
                        log(
                            out,
                            format!(
                                "({}) invalid TTL/HL from {}. Received {} and expect 255",
                                inst.config.name, adv.src, ttl
                            ),
                        );
                    }
                    return Rx::Drop;
                }
            }
        }
        if adv.version != inst.config.version {
            inst.stats.vers_err += 1;
            if inst.rl(RL_VERSION) {
                log(
                    out,
                    format!(
                        "({}) wrong VRRP version from {}. Received {} and expect {}",
                        inst.config.name, adv.src, adv.version, inst.config.version
                    ),
                );
            }
            return Rx::Drop;
        }
        if inst.config.version == 2 {
            let rx_type = match adv.auth {
                RxAuth::None => 0,
                RxAuth::Pass(_) => 1,
                RxAuth::Ah { .. } => 2,
                RxAuth::Other(n) => {
                    inst.stats.invalid_authtype += 1;
                    if inst.rl(RL_BAD_AUTH) {
                        log(out, format!("({}) Invalid auth type from {}: {}", inst.config.name, adv.src, n));
                    }
                    return Rx::Drop;
                }
            };
            let our_type = match inst.config.auth {
                AuthConfig::None => 0,
                AuthConfig::Pass(_) => 1,
                AuthConfig::Ah => 2,
            };
            if rx_type != our_type {
                inst.stats.authtype_mismatch += 1;
                if inst.rl(RL_WRONG_AUTH) {
                    log(
                        out,
                        format!(
                            "({}) received a {} auth from {}, expecting {}!",
                            inst.config.name, rx_type, adv.src, our_type
                        ),
                    );
                }
                return Rx::Drop;
            }
            match (adv.auth, inst.config.auth) {
                (RxAuth::Pass(p), AuthConfig::Pass(ours)) => {
                    // constant-time comparison
                    let diff = p.iter().zip(ours.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b));
                    if diff != 0 {
                        inst.stats.auth_failure += 1;
                        if inst.rl(RL_PASSWD) {
                            log(out, format!("({}) received an invalid passwd from {}!", inst.config.name, adv.src));
                        }
                        return Rx::Drop;
                    }
                }
                (RxAuth::Ah { ok: false }, _) => {
                    inst.stats.auth_failure += 1;
                    if inst.rl(RL_AH) {
                        log(out, format!("({}) IPSEC-AH : invalid ICV from {}", inst.config.name, adv.src));
                    }
                    return Rx::Drop;
                }
                _ => {}
            }
            if inst.config.advert_int_us != u64::from(adv.adver_int_cs) * 10_000 {
                // keepalived 2.2.7 never counts this in advert_interval_err
                // (the counter exists but nothing increments it).
                if inst.rl(RL_INTVL) {
                    log(
                        out,
                        format!(
                            "({}) advertisement interval mismatch with {} mine={} sec rcv'd={} sec",
                            inst.config.name,
                            adv.src,
                            inst.config.advert_int_us / 1_000_000,
                            adv.adver_int_cs / 100
                        ),
                    );
                }
                return Rx::Drop;
            }
        }
        if adv.kind != 1 {
            inst.stats.invalid_type_rcvd += 1;
            if inst.rl(RL_TYPE) {
                log(
                    out,
                    format!("({}) Invalid packet type from {}. {} and expect 1", inst.config.name, adv.src, adv.kind),
                );
            }
            return Rx::Drop;
        }
        if inst.config.version == 3
            && inst.config.advert_int_us != u64::from(adv.adver_int_cs) * 10_000
            && inst.rl(RL_INTVL)
        {
            log(
                out,
                format!(
                    "({}) advertisement interval mismatch ours = {} centi-sec rcv'd={} centi-sec",
                    inst.config.name,
                    inst.config.advert_int_us / 10_000,
                    adv.adver_int_cs
                ),
            );
        }
        if !adv.checksum_ok {
            inst.stats.chk_err += 1;
            if inst.rl(RL_CSUM) {
                log(
                    out,
                    format!("({}) Invalid VRRPv{} checksum from {}", inst.config.name, inst.config.version, adv.src),
                );
            }
            return Rx::Drop;
        }
        if is_multicast(&adv.dst) == inst.config.unicast {
            inst.stats.addr_list_err += 1;
            if inst.rl(RL_UNIMULTI) {
                let (exp, got) = if inst.config.unicast { ("un", "mult") } else { ("mult", "un") };
                log(
                    out,
                    format!(
                        "({}) Expected {}icast packet but received {}icast packet from {}",
                        inst.config.name, exp, got, adv.src
                    ),
                );
            }
            return Rx::Drop;
        }
        if inst.config.owner_ignore_adverts && inst.effective_priority == PRIO_OWNER {
            if inst.rl(RL_OWNER_IGNORE) {
                log(
                    out,
                    format!("({}) Dropping packet(s) from {} since we are address owner", inst.config.name, adv.src),
                );
            }
            return Rx::Drop;
        }
        inst.stats.advert_rcvd += 1;
        let nvip = inst.config.vips.len();
        if usize::from(adv.naddr) != nvip {
            inst.stats.addr_list_err += 1;
            if inst.rl(RL_ADDR_COUNT) {
                log(out, format!("({}) expected {} VIPs but received {}", inst.config.name, nvip, adv.naddr));
            }
            if drop_vip {
                return Rx::Drop;
            }
        } else if check_vip {
            if let Some(missing) = inst.config.vips.iter().find(|v| !adv.addrs.contains(v)) {
                let missing = *missing;
                inst.stats.addr_list_err += 1;
                if inst.rl(RL_VIPS) {
                    log(
                        out,
                        format!(
                            "({}) ip address associated with VRID {} not present in advert from {}: {}",
                            inst.config.name, inst.config.vrid, adv.src, missing
                        ),
                    );
                }
                if drop_vip {
                    return Rx::Drop;
                }
            }
        }
        if inst.config.unicast && (global_check_src || inst.config.check_unicast_src) {
            match inst.config.unicast_peers.iter().find(|p| p.addr == adv.src) {
                Some(p) => {
                    let (min, max) = (p.min_ttl, p.max_ttl);
                    if let Some(ttl) = adv.ttl_or_hoplimit {
                        if ttl < min || ttl > max {
                            inst.stats.ip_ttl_err += 1;
                            if inst.rl(RL_TTL_RANGE) {
                                log(
                                    out,
                                    format!(
                                        "({}) TTL/HL {} from {} not in range [{}, {}]",
                                        inst.config.name, ttl, adv.src, min, max
                                    ),
                                );
                            }
                            return Rx::Drop;
                        }
                    }
                }
                None => {
                    if inst.rl(RL_UNI_SRC) {
                        log(
                            out,
                            format!("({}) unicast source address {} not a unicast peer", inst.config.name, adv.src),
                        );
                    }
                    return Rx::Drop;
                }
            }
        }
        if adv.priority == 0 {
            inst.stats.pri_zero_rcvd += 1;
        }
        Rx::Ok
    }

    fn backup_rx(&mut self, i: InstanceId, now: Instant, adv: &RxAdvert, out: &mut Vec<Action>) {
        let master_change = self.instances[i].master_saddr != Some(adv.src);
        let check_vip = master_change || !self.instances[i].config.skip_check_adv_addr;
        if self.check_packet(i, adv, check_vip, out) != Rx::Ok {
            return;
        }
        let inst = &mut self.instances[i];
        if master_change {
            inst.rlflags = 0;
        }
        if inst.owner() && inst.effective_priority == PRIO_OWNER - 1 && (master_change || adv.priority != PRIO_OWNER) {
            log(
                out,
                format!(
                    "({}) Restoring our priority to 255 since received advert with lower priority",
                    inst.config.name
                ),
            );
            inst.effective_priority = PRIO_OWNER;
            inst.total_priority = i32::from(PRIO_OWNER);
        }
        if adv.priority == 0 {
            inst.ms_down_timer_us = inst.skew_us();
        } else if inst.config.nopreempt
            || adv.priority >= inst.effective_priority
            || (inst.config.preempt_delay_us > 0 && inst.preempt_time.is_none_or(|t| t > now))
        {
            if inst.config.version == 3 {
                let mai = u64::from(adv.adver_int_cs) * 10_000;
                if mai != inst.master_adver_int_us && mai > 0 {
                    inst.master_adver_int_us = mai;
                }
            }
            inst.ms_down_timer_us = inst.master_down_us();
            inst.master_saddr = Some(adv.src);
            inst.master_priority = adv.priority;
            if inst.config.preempt_delay_us > 0 {
                if adv.priority >= inst.effective_priority {
                    inst.preempt_time = None;
                } else if inst.preempt_time.is_none() {
                    inst.preempt_time = Some(now.add_us(inst.config.preempt_delay_us));
                }
            }
            inst.wantstate = State::Backup;
        } else {
            log(
                out,
                format!(
                    "({}) received lower priority ({}) advert from {} - discarding",
                    inst.config.name, adv.priority, adv.src
                ),
            );
            inst.master_saddr = Some(adv.src);
            return;
        }
        self.init_sands(i, now);
    }

    /// Returns (leave master, advert sent).
    fn master_rx(&mut self, i: InstanceId, now: Instant, adv: &RxAdvert, out: &mut Vec<Action>) -> (bool, bool) {
        if self.check_packet(i, adv, true, out) != Rx::Ok {
            return (false, false);
        }
        let mut sent = false;
        let inst = &self.instances[i];
        let eff = inst.effective_priority;
        let addr_cmp = match inst.primary_addr {
            Some(ours) if ours.is_ipv4() == adv.src.is_ipv4() => adv.src.cmp(&ours) as i8,
            _ => 0,
        };
        if adv.priority == 0
            || (inst.config.higher_prio_send_advert && (adv.priority > eff || (adv.priority == eff && addr_cmp > 0)))
        {
            self.send_adv(i, out);
            sent = true;
            if adv.priority == 0 {
                return (false, sent);
            }
        }
        let inst = &mut self.instances[i];
        if adv.priority == eff {
            if addr_cmp == 0 {
                log(
                    out,
                    format!(
                        "({}) WARNING - equal priority advert received from remote host with our IP address.",
                        inst.config.name
                    ),
                );
            } else if eff == PRIO_OWNER {
                if addr_cmp > 0 {
                    log(out, format!("({}) CONFIGURATION ERROR: local instance and {} are both configured as address owner, please resolve", inst.config.name, adv.src));
                } else if inst.rogue_timer.is_some() {
                    log(
                        out,
                        format!(
                            "({}) {} is still advertising as address owner, please resolve - reducing our priority",
                            inst.config.name, adv.src
                        ),
                    );
                    inst.rogue_timer = None;
                    inst.effective_priority = PRIO_OWNER - 1;
                    inst.total_priority = i32::from(PRIO_OWNER - 1);
                } else {
                    inst.rogue_adver_int_us = u64::from(adv.adver_int_cs) * 10_000;
                    if inst.rogue_counter == 0 {
                        log(out, format!("({}) CONFIGURATION ERROR: local instance and {} are both configured as address owner, please resolve", inst.config.name, adv.src));
                        inst.rogue_counter = 2;
                    }
                }
            }
        }
        let eff = inst.effective_priority;
        if adv.priority < eff || (adv.priority == eff && addr_cmp < 0) {
            log(
                out,
                format!(
                    "({}) Received advert from {} with lower priority {}, ours {}{}",
                    inst.config.name,
                    adv.src,
                    adv.priority,
                    eff,
                    if inst.config.lower_prio_no_advert { "" } else { ", forcing new election" }
                ),
            );
            let (no_adv, rep, delay) = (
                inst.config.lower_prio_no_advert,
                inst.config.garp_lower_prio_repeat,
                inst.config.garp_lower_prio_delay_us,
            );
            if !no_adv {
                self.send_adv(i, out);
                sent = true;
            }
            let mut targets = vec![];
            if let Some(g) = self.instances[i].config.sync_group {
                targets.extend(self.groups[g].members.iter().copied().filter(|&m| m != i));
            }
            if rep > 0 {
                self.send_link_update(i, rep, now, out);
                if delay > 0 {
                    self.instances[i].garp_lower_at = Some(now.add_us(delay));
                }
            }
            for m in targets {
                let (r, d) = (
                    self.instances[m].config.garp_lower_prio_repeat,
                    self.instances[m].config.garp_lower_prio_delay_us,
                );
                if r == 0 {
                    continue;
                }
                self.send_link_update(m, r, now, out);
                if d > 0 {
                    self.instances[m].garp_lower_at = Some(now.add_us(d));
                }
            }
            out.push(Action::NotifyMasterRxLowerPri { instance: i, priority: adv.priority });
            return (false, sent);
        }
        if adv.priority > eff || (adv.priority == eff && addr_cmp > 0) {
            if adv.priority > eff {
                log(
                    out,
                    format!(
                        "({}) Master received advert from {} with higher priority {}, ours {}",
                        inst.config.name, adv.src, adv.priority, eff
                    ),
                );
            } else {
                log(
                    out,
                    format!(
                        "({}) Master received advert from {} with same priority {} but higher IP address than ours",
                        inst.config.name, adv.src, adv.priority
                    ),
                );
            }
            if inst.config.version == 3 && adv.adver_int_cs > 0 {
                inst.master_adver_int_us = u64::from(adv.adver_int_cs) * 10_000;
            }
            inst.ms_down_timer_us = inst.master_down_us();
            inst.master_saddr = Some(adv.src);
            inst.master_priority = adv.priority;
            return (true, sent);
        }
        (false, sent)
    }
}
