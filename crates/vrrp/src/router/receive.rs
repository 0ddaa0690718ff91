//! An accepted advert in BACKUP (RFC 5798 §6.4.2) and in MASTER (§6.4.3), with
//! keepalived's additions (rogue address owners, lower-priority replies, GARPs).
use super::rx_check::Rx;
use super::{log, Router, PRIO_OWNER};
use crate::types::{Action, InstanceId, Instant, RxAdvert, State};

impl Router {
    pub(super) fn receive(&mut self, now: Instant, i: InstanceId, adv: &RxAdvert, out: &mut Vec<Action>) {
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

    pub(super) fn backup_rx(&mut self, i: InstanceId, now: Instant, adv: &RxAdvert, out: &mut Vec<Action>) {
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
    pub(super) fn master_rx(
        &mut self,
        i: InstanceId,
        now: Instant,
        adv: &RxAdvert,
        out: &mut Vec<Action>,
    ) -> (bool, bool) {
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
        if adv.priority == eff {
            self.equal_priority_rx(i, adv, addr_cmp, out);
        }
        let inst = &mut self.instances[i];
        let eff = inst.effective_priority;
        if adv.priority < eff || (adv.priority == eff && addr_cmp < 0) {
            let replied = self.lower_priority_rx(i, now, adv, out);
            return (false, sent || replied);
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

    /// An advert at our priority: our own address looped back, or another
    /// address owner (keepalived's rogue-owner handling: reduce our
    /// priority to 254 if it keeps advertising).
    fn equal_priority_rx(&mut self, i: InstanceId, adv: &RxAdvert, addr_cmp: i8, out: &mut Vec<Action>) {
        let inst = &mut self.instances[i];
        let eff = inst.effective_priority;
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

    /// A lower-priority advert while MASTER (RFC 5798 §6.4.3 discards it;
    /// keepalived replies with an advert to force a new election unless
    /// `lower_prio_no_advert`, and sends GARPs if configured). Returns
    /// whether an advert was sent.
    fn lower_priority_rx(&mut self, i: InstanceId, now: Instant, adv: &RxAdvert, out: &mut Vec<Action>) -> bool {
        let inst = &self.instances[i];
        let eff = inst.effective_priority;
        let mut sent = false;
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
        if !inst.config.lower_prio_no_advert {
            self.send_adv(i, out);
            sent = true;
        }
        self.lower_prio_garps(i, now, out);
        out.push(Action::NotifyMasterRxLowerPri { instance: i, priority: adv.priority });
        sent
    }
}
