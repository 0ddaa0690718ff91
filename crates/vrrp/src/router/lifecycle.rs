//! Start and stop: keepalived's vrrp_init_state (initial BACKUP/FAULT/MASTER and the
//! first timers, RFC 5798 §6.4.1) and the shutdown/removal path (priority 0, §6.4.3).
use super::{log, Router};
use crate::types::{Action, InstanceId, Instant, State};

impl Router {
    pub(super) fn start(&mut self, now: Instant, out: &mut Vec<Action>) {
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
        self.start_instances(now, out, &vec![false; n], &vec![false; g], false);
    }

    /// keepalived's vrrp_init_state: group notifies for groups in FAULT or
    /// BACKUP (unless unchanged by a reload), then each instance's initial
    /// state and timer. A `reload_master` instance stays MASTER and sends
    /// its next advert at once.
    pub(super) fn start_instances(
        &mut self,
        now: Instant,
        out: &mut Vec<Action>,
        reload_master: &[bool],
        group_same: &[bool],
        reload: bool,
    ) {
        // keepalived writes the state of what it does not notify at a
        // reload to the FIFOs when asked to (vrrp_init_state).
        let fifo = reload && self.options.fifo_states_on_reload;
        for (g, grp) in self.groups.iter().enumerate() {
            let st = grp.state;
            let same = group_same.get(g).copied().unwrap_or(false);
            // vrrp_init_state notifies groups in FAULT or BACKUP only.
            if matches!(st, State::Fault | State::Backup) && !same {
                out.push(Action::NotifyGroup { group: g, state: st });
            } else if fifo {
                out.push(Action::FifoGroupState { group: g, state: st });
            }
        }
        for i in 0..self.instances.len() {
            let group_state = self.instances[i].config.sync_group.map(|g| self.groups[g].state);
            let reloading_master = reload_master.get(i).copied().unwrap_or(false);
            let inst = &mut self.instances[i];
            // A member of a group in INIT waits too (keepalived's num_member_init).
            let blocked = inst.fault || inst.script_init || group_state == Some(State::Init);
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
                    // keepalived 2.2.7 compares the state with itself here (it
                    // has not changed yet), so it never logs "Entering FAULT
                    // STATE (init)": an instance waiting for its scripts goes
                    // to FAULT silently, and notifies only for a real fault,
                    // which it logs as vrrp_init_state does.
                    inst.state = State::Fault;
                    if inst.fault {
                        log(out, format!("({}) entering FAULT state", inst.config.name));
                    }
                }
                if begin != inst.state && (inst.state != State::Fault || inst.fault) {
                    out.push(Action::Notify { instance: i, state: inst.state, priority: inst.effective_priority });
                } else if fifo {
                    out.push(Action::FifoState { instance: i, state: inst.state, priority: inst.effective_priority });
                }
            }
            self.init_sands(i, now);
        }
    }

    pub(super) fn stop_instance(&mut self, i: InstanceId, notify_state: State, out: &mut Vec<Action>) {
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

    pub(super) fn restore_interface(&mut self, i: InstanceId, out: &mut Vec<Action>) {
        self.remove_delayed_arp(i);
        let inst = &mut self.instances[i];
        if inst.vipset {
            inst.vipset = false;
            out.push(Action::RemoveAddresses { instance: i });
        }
    }
}
