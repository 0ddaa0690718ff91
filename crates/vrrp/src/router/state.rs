//! The state machine (RFC 5798 §6.4, keepalived's vrrp_state_*): timers, going to
//! MASTER, leaving MASTER and FAULT, and the adverts sent on the way.
use super::{log, Router, PRIO_OWNER};
use crate::types::{Action, InstanceId, Instant, State};

impl Router {
    /// The advert / master-down timer (RFC 5798 §6.4.2, §6.4.3) and the
    /// rogue-owner timer of instance `i`, if due.
    pub(super) fn state_timers(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
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
        self.rogue_timer(i, now, out);
    }

    /// The rogue-owner timer of instance `i`, if due.
    pub(super) fn rogue_timer(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
        if self.instances[i].rogue_timer.is_some_and(|t| t <= now) {
            self.instances[i].rogue_timer = None;
            log(
                out,
                format!("({}): rogue address owner appears to have stopped advertising", self.instances[i].config.name),
            );
        }
    }

    pub(super) fn base_time(&self, now: Instant) -> Instant {
        match self.delayed_start {
            Some(d) if d > now => d,
            _ => now,
        }
    }

    pub(super) fn init_sands(&mut self, i: InstanceId, now: Instant) {
        let base = self.base_time(now);
        let inst = &mut self.instances[i];
        inst.sands = match inst.state {
            State::Master => Some(base.add_us(inst.config.advert_int_us)),
            State::Backup => Some(base.add_us(inst.ms_down_timer_us)),
            _ => None,
        };
    }

    pub(super) fn send_prio0(&mut self, i: InstanceId, out: &mut Vec<Action>) {
        let inst = &mut self.instances[i];
        inst.stats.advert_sent += 1;
        inst.stats.pri_zero_sent += 1;
        out.push(Action::SendAdvert { instance: i, priority: 0 });
    }

    pub(super) fn send_adv(&mut self, i: InstanceId, out: &mut Vec<Action>) {
        let inst = &mut self.instances[i];
        inst.stats.advert_sent += 1;
        out.push(Action::SendAdvert { instance: i, priority: inst.effective_priority });
    }

    pub(super) fn goto_master(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
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

    pub(super) fn master_tx(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
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

    pub(super) fn become_master(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
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
    pub(super) fn leave_master(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
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

    pub(super) fn leave_fault(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
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
}
