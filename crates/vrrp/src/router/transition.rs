//! The last state change of each instance and why it happened, for the
//! status socket (`keepalived --status`). Recorded after each input from
//! the notifies the input produced (every reported state change has one),
//! so the state machine itself is untouched; start and reload also catch
//! the silent changes (an instance waiting in FAULT for its scripts).
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::Router;
use crate::types::{Action, InstanceId, Instant, State, TrackKind};

/// Why an instance changed state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TransitionReason {
    /// The first state at start.
    Startup,
    /// The state taken at a reload.
    Reload,
    /// No advert from the master within the master-down interval.
    MasterDown,
    /// An advert from another router (a higher priority, or the same with a higher address).
    Advert {
        /// Its source address.
        from: IpAddr,
        /// Its priority.
        priority: u8,
        /// Our effective priority when it arrived.
        ours: u8,
    },
    /// A tracked object changed.
    Tracker {
        /// What kind of object.
        what: TrackKind,
        /// Its name.
        name: String,
        /// Its state after the change (`None`: a script still in its init state).
        up: Option<bool>,
    },
    /// The instance followed its sync group.
    SyncGroup {
        /// The group's name.
        group: String,
        /// The member that moved first, when known.
        instance: Option<String>,
    },
    /// keepalived is stopping.
    Shutdown,
    /// The instance was removed at a reload.
    Removed,
    /// The interface lost the instance's source address (`None`), or got one back.
    SourceAddress {
        /// The new source address.
        addr: Option<IpAddr>,
    },
}

/// An instance's last state change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// When (engine time).
    pub at: Instant,
    /// The state it left.
    pub from: State,
    /// The state it entered.
    pub to: State,
    /// Why.
    pub reason: TransitionReason,
}

fn kind_word(k: TrackKind) -> &'static str {
    match k {
        TrackKind::Interface => "interface",
        TrackKind::Script => "track_script",
        TrackKind::File => "track_file",
        TrackKind::Process => "track_process",
        TrackKind::Bfd => "track_bfd",
    }
}

impl fmt::Display for TransitionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransitionReason::Startup => f.write_str("startup"),
            TransitionReason::Reload => f.write_str("reload"),
            TransitionReason::MasterDown => f.write_str("no advert from the master (master down timer expired)"),
            TransitionReason::Advert { from, priority, ours } if priority == ours => {
                write!(f, "advert from {from} with the same priority {priority} and a higher address")
            }
            TransitionReason::Advert { from, priority, ours } => {
                write!(f, "advert from {from} with priority {priority}, ours {ours}")
            }
            TransitionReason::Tracker { what, name, up } => {
                let st = match up {
                    Some(true) => "up",
                    Some(false) => "down",
                    None => "initialising",
                };
                write!(f, "{} {name} {st}", kind_word(*what))
            }
            TransitionReason::SyncGroup { group, instance: Some(i) } => write!(f, "sync group {group} followed {i}"),
            TransitionReason::SyncGroup { group, instance: None } => write!(f, "sync group {group}"),
            TransitionReason::Shutdown => f.write_str("shutdown"),
            TransitionReason::Removed => f.write_str("removed at reload"),
            TransitionReason::SourceAddress { addr: None } => f.write_str("source address removed from the interface"),
            TransitionReason::SourceAddress { addr: Some(a) } => write!(f, "source address {a} assigned"),
        }
    }
}

/// What caused the changes being recorded.
pub(super) struct Cause<'a> {
    /// The instance the input was for, if one (others that moved followed their sync group).
    pub(super) instance: Option<InstanceId>,
    /// The tracker the input was about, if one (instances that do not use it followed their group).
    pub(super) tracker: Option<usize>,
    pub(super) reason: &'a TransitionReason,
}

impl Router {
    /// Record the state changes reported by the notifies in `out`.
    pub(super) fn note_notifies(&mut self, now: Instant, out: &[Action], cause: &Cause<'_>) {
        for a in out {
            if let Action::Notify { instance, .. } = *a {
                self.note(instance, now, cause);
            }
        }
    }

    /// Record every instance whose state differs from the one last recorded.
    pub(super) fn note_all(&mut self, now: Instant, cause: &Cause<'_>) {
        for i in 0..self.instances.len() {
            self.note(i, now, cause);
        }
    }

    fn note(&mut self, i: InstanceId, now: Instant, cause: &Cause<'_>) {
        let Some(inst) = self.instances.get(i) else { return };
        let (from, to) = (inst.noted, inst.state);
        if from == to {
            return;
        }
        let reason = self.reason_for(i, cause);
        let inst = &mut self.instances[i];
        inst.noted = to;
        inst.last_transition = Some(Transition { at: now, from, to, reason });
    }

    fn reason_for(&self, i: InstanceId, cause: &Cause<'_>) -> TransitionReason {
        let inst = &self.instances[i];
        let direct = match (cause.instance, cause.tracker) {
            (Some(c), _) => c == i,
            (None, Some(t)) => inst.tracks.iter().any(|u| u.tracker == t) || inst.interface_tracker == Some(t),
            (None, None) => true,
        };
        match inst.config.sync_group.and_then(|g| self.groups.get(g)) {
            Some(g) if !direct => TransitionReason::SyncGroup {
                group: g.name.clone(),
                instance: cause.instance.and_then(|c| self.instances.get(c)).map(|c| c.config.name.clone()),
            },
            _ => cause.reason.clone(),
        }
    }

    /// The tracker of `kind` named `name` and its reason, for [`Cause`].
    pub(super) fn tracker_cause(&self, kind: TrackKind, name: &str) -> (Option<usize>, TransitionReason) {
        let t = self.trackers.iter().position(|t| t.kind == kind && t.name == name);
        let up = t.and_then(|t| self.trackers[t].up);
        (t, TransitionReason::Tracker { what: kind, name: name.to_string(), up })
    }
}
