//! Sync groups (keepalived's vrrp_sync.c): members follow each other into MASTER,
//! BACKUP and FAULT, and the group notifies once per state.
use super::{log, Instance, Router};
use crate::config::SyncGroupConfig;
use crate::types::{Action, GroupId, InstanceId, Instant, State};

/// Runtime state of one `vrrp_sync_group`.
#[derive(Clone, Debug)]
pub(super) struct Group {
    pub(super) name: String,
    pub(super) members: Vec<InstanceId>,
    pub(super) state: State,
}

/// The groups of the configuration; an instance belongs to the first group
/// that names it (invalid or duplicate members are ignored), and its
/// `sync_group` is set from that alone.
pub(super) fn build_groups(gcfgs: Vec<SyncGroupConfig>, instances: &mut [Instance]) -> Vec<Group> {
    for i in instances.iter_mut() {
        i.config.sync_group = None;
    }
    let mut seen = vec![false; instances.len()];
    let groups = gcfgs
        .into_iter()
        .map(|g| {
            let members =
                g.members.into_iter().filter(|&m| m < seen.len() && !std::mem::replace(&mut seen[m], true)).collect();
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
    groups
}

impl Router {
    /// A sync group's state at start or after a reload: FAULT if a member is
    /// in fault, INIT if one waits for its weight-0 scripts, MASTER if every member already is (a reloaded master) or is
    /// an address owner that wants it, else BACKUP.
    pub(super) fn initial_group_state(&self, g: GroupId) -> State {
        let members = &self.groups[g].members;
        let inst = |m: &InstanceId| &self.instances[*m];
        if members.iter().any(|m| inst(m).fault) {
            State::Fault
        } else if members.iter().any(|m| inst(m).script_init) {
            // keepalived's num_member_init: INIT until the scripts report.
            State::Init
        } else if members
            .iter()
            .all(|m| inst(m).state == State::Master || (inst(m).wantstate == State::Master && inst(m).owner()))
        {
            State::Master
        } else {
            State::Backup
        }
    }

    pub(super) fn can_goto_master(&mut self, i: InstanceId, now: Instant) -> bool {
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

    /// Transition state machine hooks for sync groups (keepalived's VRRP_TSM).
    pub(super) fn tsm(&mut self, i: InstanceId, prev: State, now: Instant, out: &mut Vec<Action>) {
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

    pub(super) fn sync_master(&mut self, i: InstanceId, now: Instant, out: &mut Vec<Action>) {
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
    pub(super) fn sync_leave(&mut self, i: InstanceId, target: State, now: Instant, out: &mut Vec<Action>) {
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

    pub(super) fn can_goto_master_quiet(&self, i: InstanceId) -> bool {
        let Some(g) = self.instances[i].config.sync_group else { return true };
        self.groups[g].state == State::Master
            || self.groups[g].members.iter().all(|&m| m == i || self.instances[m].wantstate == State::Master)
    }
}
