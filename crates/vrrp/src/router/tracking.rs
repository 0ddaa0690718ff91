//! Tracked objects (interfaces, vrrp_script, track_file, track_process, BFD):
//! weights into the effective priority, weight 0 into FAULT (keepalived's vrrp_track.c).
use super::{log, Router};
use crate::config::EngineOptions;
use crate::types::{Action, InstanceId, Instant, ScriptExit, State, TrackKind};

/// Tracker runtime state.
#[derive(Clone, Debug)]
pub(super) struct Tracker {
    pub(super) kind: TrackKind,
    pub(super) name: String,
    /// None = script still in its init state.
    pub(super) up: Option<bool>,
    /// track_file value.
    pub(super) value: i64,
    /// vrrp_script hysteresis counter (keepalived's `result`), 0..rise+fall-1.
    pub(super) result: u32,
    pub(super) rise: u32,
    pub(super) fall: u32,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct TrackUse {
    pub(super) tracker: usize,
    pub(super) weight: i32,
    pub(super) reverse: bool,
}

impl Tracker {
    /// The index of the tracker of `kind` named `name`, added (in its
    /// initial state: scripts in init unless `init_fail`, processes and BFD
    /// down, files at their initial value) if new.
    pub(super) fn find_or_add(
        trackers: &mut Vec<Tracker>,
        options: &EngineOptions,
        kind: TrackKind,
        name: &str,
    ) -> usize {
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
    }
}

impl Router {
    /// Priorities, faults and init states from the trackers, silently (at
    /// construction and when a reload adopts the old trackers' states).
    pub(super) fn apply_trackers(&mut self) {
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
    pub(super) fn evaluate(&self, i: InstanceId) -> (i32, bool, bool) {
        let inst = &self.instances[i];
        let mut total = i32::from(inst.config.priority);
        let mut fault = false;
        let mut init = false;
        if let Some(t) = inst.interface_tracker {
            if self.trackers[t].up == Some(false) {
                fault = true;
            }
        }
        if inst.no_source {
            fault = true;
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

    pub(super) fn script_result(
        &mut self,
        now: Instant,
        name: &str,
        (success, exit): (bool, Option<ScriptExit>),
        out: &mut Vec<Action>,
    ) {
        let Some(t) = self.trackers.iter_mut().find(|t| t.kind == TrackKind::Script && t.name == name) else {
            return;
        };
        let max = t.rise + t.fall - 1;
        let (was, init) = (t.result, t.up.is_none());
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
        // It logs the result when it crosses `rise` (or is the first failure).
        let logged = if success { was + 1 == t.rise } else { was == t.rise || (init && was < t.rise) };
        if logged {
            let words = exit.unwrap_or(ScriptExit::Status(i32::from(!success))).describe(success);
            log(out, format!("VRRP_Script({name}) {words}"));
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

    /// The source address of an instance without `unicast_src_ip` changed; `None`: its interface
    /// has no address of the family left, a fault (2.2.7 `down_instance`) until one is assigned
    /// (`try_up_instance`). A configured source address is never replaced.
    pub(super) fn source_address(
        &mut self,
        now: Instant,
        instance: InstanceId,
        addr: Option<std::net::IpAddr>,
        out: &mut Vec<Action>,
    ) {
        let Some(i) = self.instances.get_mut(instance) else { return };
        if i.config.src_ip.is_some() {
            return;
        }
        i.primary_addr = addr;
        if i.no_source != addr.is_none() {
            i.no_source = addr.is_none();
            self.trackers_changed(now, out);
        }
    }

    pub(super) fn set_tracker(
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

    pub(super) fn trackers_changed(&mut self, now: Instant, out: &mut Vec<Action>) {
        for i in 0..self.instances.len() {
            self.update_instance(i, now, out);
        }
    }

    pub(super) fn update_instance(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
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
        let was_init = self.instances[i].script_init;
        let was_blocked = self.instances[i].fault || was_init;
        self.instances[i].fault = fault;
        self.instances[i].script_init = init;
        let blocked = fault || init;
        if !self.started || self.instances[i].state == State::Stop {
            return;
        }
        if was_init && !init && fault {
            self.fault_from_init(i, now, out);
            return;
        }
        if was_blocked == blocked {
            return;
        }
        if blocked {
            self.down_instance(i, now, out);
        } else {
            self.try_up_instance(i, now, out);
        }
    }

    pub(super) fn down_instance(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
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

    /// A weight-0 script's first result is a failure while the instance
    /// waited silently in FAULT: keepalived's down_instance then runs
    /// vrrp_state_leave_fault, which logs nothing (state and wantstate are
    /// both FAULT) but sends the FAULT notifies, and syncs the group.
    fn fault_from_init(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
        if self.instances[i].state != State::Fault {
            self.down_instance(i, now, out);
            return;
        }
        let inst = &mut self.instances[i];
        inst.wantstate = State::Fault;
        out.push(Action::Notify { instance: i, state: State::Fault, priority: inst.effective_priority });
        self.sync_leave(i, State::Fault, now, out);
    }

    pub(super) fn try_up_instance(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
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
}
