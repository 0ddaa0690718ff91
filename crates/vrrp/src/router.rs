//! The sans-IO VRRP engine: [`Router`] owns every instance, sync group,
//! tracker and GARP queue of one keepalived VRRP process; this module holds
//! the types and the public API, the concepts live in the submodules:
//!
//! - `rx_check`: receive checks (keepalived's vrrp_check_packet, RFC 5798 §7.1)
//! - `receive`: an accepted advert in BACKUP / MASTER (RFC 5798 §6.4.2, §6.4.3)
//! - `state`: the state machine and its timers
//! - `lifecycle`, `reload`: start, stop, SIGHUP
//! - `tracking`: tracked objects into priority and FAULT
//! - `sync`: sync groups
//! - `garp`: gratuitous ARP / NA pacing
use std::net::IpAddr;

use crate::config::{InstanceConfig, RouterConfig};
use crate::types::{Action, GroupId, Input, InstanceId, Instant, RxAdvert, State, Stats, TrackKind};

mod garp;
mod lifecycle;
mod receive;
mod reload;
mod rx_check;
mod state;
mod sync;
mod tracking;
mod transition;

use garp::GarpQueue;
use sync::Group;
use tracking::{TrackUse, Tracker};
use transition::Cause;
pub use transition::{Transition, TransitionReason};

pub(crate) const PRIO_OWNER: u8 = 255;

/// Per-instance runtime state (public read-only view through [`Router::instance`]).
#[derive(Clone, Debug)]
pub struct Instance {
    /// The instance's configuration (as built from keepalived.conf).
    pub config: InstanceConfig,
    /// The current state.
    pub state: State,
    /// The state it is heading for (keepalived's `wantstate`, e.g. MASTER while preempt_delay runs).
    pub wantstate: State,
    /// The priority it advertises: base plus tracker weights, clamped to 1..254 (255 for an owner).
    pub effective_priority: u8,
    /// The unclamped sum behind `effective_priority`.
    pub total_priority: i32,
    /// Master_Adver_Interval (µs).
    pub master_adver_int_us: u64,
    /// Current master-down interval (µs).
    pub ms_down_timer_us: u64,
    /// The advert / master-down timer.
    pub sands: Option<Instant>,
    /// The current master's source address, as last seen in its adverts.
    pub master_saddr: Option<IpAddr>,
    /// The current master's priority, as last seen in its adverts.
    pub master_priority: u8,
    /// When a pending `preempt_delay` ends.
    pub preempt_time: Option<Instant>,
    /// VIPs installed.
    pub vipset: bool,
    /// keepalived's per-instance counters (the stats file and SNMP).
    pub stats: Stats,
    /// Source / primary address of the instance (tie-break).
    pub primary_addr: Option<IpAddr>,
    /// The interface lost the address the instance took as its source (no `unicast_src_ip`):
    /// keepalived's `down_instance` on RTM_DELADDR, a fault until an address comes back.
    pub no_source: bool,
    /// The instance's own fault conditions (trackers, interface) and weight-0 scripts still in init.
    pub fault: bool,
    /// A weight-0 tracking script has not reported yet: the instance may not become MASTER.
    pub script_init: bool,
    /// The last state change and its reason (`None` before the first).
    pub last_transition: Option<Transition>,
    /// The state `last_transition` recorded (changes are noted against it).
    noted: State,
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

/// At most this many instances' advert / master-down timers run in one
/// [`Router::handle_timeout`] call (about 0.3 ms of sending on a 2-core test machine).
pub const MAX_STATE_TIMERS_PER_CALL: usize = 64;

fn log(out: &mut Vec<Action>, s: String) {
    out.push(Action::Log(s));
}

impl Instance {
    /// A configured instance before start: INIT, wanting BACKUP (or MASTER
    /// with `state MASTER`), at its configured priority and interval.
    fn new(c: InstanceConfig, garp_queue: usize, tracks: Vec<TrackUse>, interface_tracker: Option<usize>) -> Instance {
        let want = if c.initial_master { State::Master } else { State::Backup };
        let mut inst = Instance {
            effective_priority: c.priority,
            total_priority: i32::from(c.priority),
            primary_addr: c.src_ip,
            no_source: false,
            master_adver_int_us: c.advert_int_us,
            config: c,
            state: State::Init,
            wantstate: want,
            ms_down_timer_us: 0,
            sands: None,
            master_saddr: None,
            master_priority: 0,
            preempt_time: None,
            vipset: false,
            stats: Stats::default(),
            fault: false,
            script_init: false,
            last_transition: None,
            noted: State::Init,
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
        inst
    }
}

impl Router {
    /// Builds the engine from its configuration.
    pub fn new(cfg: RouterConfig) -> Router {
        let RouterConfig { options, instances: icfgs, groups: gcfgs } = cfg;
        let mut trackers: Vec<Tracker> = Vec::new();
        let mut garp: Vec<GarpQueue> = Vec::new();
        let mut instances = Vec::with_capacity(icfgs.len());
        for c in icfgs {
            let tracks: Vec<TrackUse> = c
                .trackers
                .iter()
                .map(|t| TrackUse {
                    tracker: Tracker::find_or_add(&mut trackers, &options, t.kind, &t.name),
                    weight: t.weight.clamp(-253, 253),
                    reverse: t.reverse,
                })
                .collect();
            let interface_tracker = match (&c.interface, c.dont_track_primary) {
                (Some(i), false) => Some(Tracker::find_or_add(&mut trackers, &options, TrackKind::Interface, i)),
                _ => None,
            };
            let garp_queue = GarpQueue::find_or_add(&mut garp, &options, &c.interface);
            instances.push(Instance::new(c, garp_queue, tracks, interface_tracker));
        }
        let groups = sync::build_groups(gcfgs, &mut instances);
        let mut r = Router { options, instances, groups, trackers, garp, delayed_start: None, started: false };
        r.apply_trackers();
        r
    }

    /// `from_config(&keepalived_config::Config)`: the engine for a parsed configuration.
    pub fn from_config(cfg: &keepalived_config::Config) -> Result<Router, crate::config::ConfigError> {
        Ok(Router::new(RouterConfig::from_config(cfg)?))
    }

    /// Every instance, indexed by [`InstanceId`].
    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    /// One instance.
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

    /// A vrrp_script's hysteresis counter (keepalived's `result`) and
    /// whether it is still in its init state.
    pub fn script_state(&self, name: &str) -> Option<(u32, bool)> {
        let t = self.trackers.iter().find(|t| t.kind == TrackKind::Script && t.name == name)?;
        Some((t.result, t.up.is_none()))
    }

    /// A tracked object's state: up (`None`: a script in its init state)
    /// and, for a track_file, its value.
    pub fn tracker_state(&self, kind: TrackKind, name: &str) -> Option<(Option<bool>, i64)> {
        let t = self.trackers.iter().find(|t| t.kind == kind && t.name == name)?;
        Some((t.up, t.value))
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
        let start = out.len();
        let (tracker, reason) = match &input {
            Input::Start => (None, TransitionReason::Startup),
            Input::Advert { instance, advert } => (None, self.advert_reason(*instance, advert)),
            Input::Interface { name, .. } => self.tracker_cause(TrackKind::Interface, name),
            Input::ScriptResult { name, .. } => self.tracker_cause(TrackKind::Script, name),
            Input::FileValue { name, .. } => self.tracker_cause(TrackKind::File, name),
            Input::Process { name, .. } => self.tracker_cause(TrackKind::Process, name),
            Input::Bfd { name, .. } => self.tracker_cause(TrackKind::Bfd, name),
            Input::SourceAddress { addr, .. } => (None, TransitionReason::SourceAddress { addr: *addr }),
            Input::Shutdown => (None, TransitionReason::Shutdown),
            Input::Remove { .. } => (None, TransitionReason::Removed),
        };
        let instance = match &input {
            Input::Advert { instance, .. } | Input::Remove { instance } | Input::SourceAddress { instance, .. } => {
                Some(*instance)
            }
            _ => None,
        };
        let is_start = matches!(input, Input::Start);
        self.handle_input(now, input, out);
        // The tracker's state after the input, for the reason's text.
        let reason = match reason {
            TransitionReason::Tracker { what, name, .. } => self.tracker_cause(what, &name).1,
            r => r,
        };
        let cause = Cause { instance, tracker, reason: &reason };
        if is_start {
            self.note_all(now, &cause);
        } else {
            self.note_notifies(now, &out[start..], &cause);
        }
    }

    fn handle_input(&mut self, now: Instant, input: Input, out: &mut Vec<Action>) {
        match input {
            Input::Start => self.start(now, out),
            Input::Advert { instance, advert } => self.receive(now, instance, &advert, out),
            Input::Interface { name, up } => self.set_tracker(now, TrackKind::Interface, &name, Some(up), 0, out),
            Input::ScriptResult { name, success, exit } => self.script_result(now, &name, (success, exit), out),
            Input::FileValue { name, value } => self.set_tracker(now, TrackKind::File, &name, Some(true), value, out),
            Input::Process { name, up } => self.set_tracker(now, TrackKind::Process, &name, Some(up), 0, out),
            Input::Bfd { name, up } => self.set_tracker(now, TrackKind::Bfd, &name, Some(up), 0, out),
            Input::SourceAddress { instance, addr } => self.source_address(now, instance, addr, out),
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

    /// The reason an advert for `instance` would give a state change.
    fn advert_reason(&self, instance: InstanceId, adv: &RxAdvert) -> TransitionReason {
        let ours = self.instances.get(instance).map_or(0, |i| i.effective_priority);
        TransitionReason::Advert { from: adv.src, priority: adv.priority, ours }
    }

    /// Receive path without the `Input` wrapper (no copy of the advert).
    pub fn handle_advert(&mut self, now: Instant, instance: InstanceId, advert: &RxAdvert, out: &mut Vec<Action>) {
        let start = out.len();
        let reason = self.advert_reason(instance, advert);
        self.receive(now, instance, advert, out);
        if out.len() > start {
            let cause = Cause { instance: Some(instance), tracker: None, reason: &reason };
            self.note_notifies(now, &out[start..], &cause);
        }
    }

    /// Runs the timers due at `now`: every GARP and rogue-owner timer, and the advert /
    /// master-down timers of at most [`MAX_STATE_TIMERS_PER_CALL`] instances, the earliest due
    /// first. When more are due, [`Router::poll_timeout`] stays in the past and the shell calls
    /// again after sending this share, with a fresh `now`.
    pub fn handle_timeout(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.delayed_start.is_some_and(|d| d <= now) {
            self.delayed_start = None;
        }
        let cutoff = self.state_timer_cutoff(now);
        for i in 0..self.instances.len() {
            let start = out.len();
            if self.instances[i].sands.is_some_and(|s| (s, i) <= cutoff) {
                self.state_timers(i, now, out);
            } else {
                self.rogue_timer(i, now, out);
            }
            if out.len() > start {
                let cause = Cause { instance: Some(i), tracker: None, reason: &TransitionReason::MasterDown };
                self.note_notifies(now, &out[start..], &cause);
            }
            self.garp_timers(i, now, out);
        }
        self.drain_garps(now, out);
    }

    /// The last `(due time, instance)` whose advert / master-down timer runs in this call.
    ///
    /// Why a bound: keepalived sends every advert due in one wake-up at that wake-up's time
    /// and restarts each one's timer from it, so instances that became MASTER together stay
    /// in lock-step for ever and the last of a thousand leaves several ms after its due time.
    /// RFC 5798 §6.4.3 restarts the Adver_Timer when the advert is sent; handling a bounded
    /// share per call restarts each share's timers from the time it is actually sent, so
    /// the instances spread over the time their sending takes and each advert leaves within
    /// one wake-up of its due time.
    fn state_timer_cutoff(&self, now: Instant) -> (Instant, InstanceId) {
        let due = || {
            self.instances
                .iter()
                .enumerate()
                .filter_map(move |(i, inst)| inst.sands.filter(|s| *s <= now).map(|s| (s, i)))
        };
        // The usual case, a few due: everything due runs, nothing is collected.
        if due().nth(MAX_STATE_TIMERS_PER_CALL).is_none() {
            return (now, usize::MAX);
        }
        let mut all: Vec<_> = due().collect();
        let (_, last, _) = all.select_nth_unstable(MAX_STATE_TIMERS_PER_CALL - 1);
        *last
    }
}
