//! State notifications of the VRRP child, as keepalived sends them
//! (vrrp_notify.c behaviour, FEATURES.md §4.3–4.4):
//!
//! - the state's own script (`notify_master|backup|fault|stop`, no extra
//!   arguments), then the generic `notify` with
//!   `INSTANCE|GROUP NAME STATE PRIORITY` (a group's priority is always 0);
//! - one line per event on `notify_fifo` and `vrrp_notify_fifo`:
//!   `INSTANCE "VI_1" MASTER 100\n`, `GROUP "G" BACKUP 0\n`, and the events
//!   `MASTER_RX_LOWER_PRI`, `MASTER_PRIORITY`, `BACKUP_PRIORITY`. VRRP lines
//!   carry no trailing NUL (only the LVS writer adds one).
//!
//! - an SMTP alert (keepalived-alert, delivered off the loop by its own
//!   thread) when the instance's or group's `smtp_alert` resolves on, once
//!   per state (keepalived's `last_email_state`), FAULT not with
//!   `no_email_faults`.
//!
//! FIFOs: crate::notify_fifo (shared with the checker child).

use crate::files::ScriptRunOpts;
use keepalived_config::model::Script;
use keepalived_config::Config;
use keepalived_vrrp::State;
use nix::unistd::Pid;
use tracing::info;

/// The scripts one instance runs on its transitions.
#[derive(Default)]
/// (Boxed: most are unset, and a thousand instances should not pay for
/// eight empty scripts each.)
pub struct InstanceScripts {
    pub name: String,
    pub master: Option<Box<Script>>,
    pub backup: Option<Box<Script>>,
    pub fault: Option<Box<Script>>,
    pub stop: Option<Box<Script>>,
    pub deleted: Option<Box<Script>>,
    /// `notify_deleted`: a removed instance reports DELETED, else FAULT.
    pub notify_deleted: bool,
    pub generic: Option<Box<Script>>,
    pub rx_lower_pri: Option<Box<Script>>,
    /// `smtp_alert` resolved (instance, else smtp_alert_vrrp, else smtp_alert).
    pub smtp: bool,
    pub last_email: keepalived_alert::LastEmailState,
}

/// The scripts of a sync group.
#[derive(Default)]
pub struct GroupScripts {
    pub name: String,
    pub master: Option<Box<Script>>,
    pub backup: Option<Box<Script>>,
    pub fault: Option<Box<Script>>,
    pub stop: Option<Box<Script>>,
    pub generic: Option<Box<Script>>,
    pub smtp: bool,
    pub last_email: keepalived_alert::LastEmailState,
}

/// An event line on the FIFOs that is not a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    MasterRxLowerPri,
    MasterPriority,
    BackupPriority,
}

impl Event {
    fn word(self) -> &'static str {
        match self {
            Event::MasterRxLowerPri => "MASTER_RX_LOWER_PRI",
            Event::MasterPriority => "MASTER_PRIORITY",
            Event::BackupPriority => "BACKUP_PRIORITY",
        }
    }
}

pub struct Notifier {
    opts: ScriptRunOpts,
    pub instances: Vec<InstanceScripts>,
    pub groups: Vec<GroupScripts>,
    /// `notify_fifo` and `vrrp_notify_fifo` (shared with the checker child).
    fifos: crate::notify_fifo::Fifos,
    /// Scripts started and not yet reaped (notify, FIFO readers), so that
    /// a stop can give them their second.
    pub running: Vec<Pid>,
    /// SMTP alerts (None: no smtp_server or no notification_email).
    pub alerts: Option<keepalived_alert::AlertSender>,
    router_id: Option<String>,
    no_email_faults: bool,
}

/// The line keepalived writes for an instance or group state or event.
pub fn fifo_line(group: bool, name: &str, word: &str, priority: u8) -> String {
    let kind = if group { "GROUP" } else { "INSTANCE" };
    format!("{kind} \"{name}\" {word} {priority}\n")
}

impl Notifier {
    pub fn new(cfg: &Config, opts: ScriptRunOpts) -> Notifier {
        let instances = cfg
            .vrrp
            .instances
            .iter()
            .map(|m| InstanceScripts {
                name: m.name.clone(),
                master: m.notify_master.clone(),
                backup: m.notify_backup.clone(),
                fault: m.notify_fault.clone(),
                stop: m.notify_stop.clone(),
                deleted: m.notify_deleted_script.clone(),
                notify_deleted: m.notify_deleted,
                generic: m.notify.clone(),
                rx_lower_pri: m.notify_master_rx_lower_pri.clone(),
                smtp: keepalived_alert::vrrp_smtp_alert(m.smtp_alert, &cfg.global),
                last_email: Default::default(),
            })
            .collect();
        let groups = cfg
            .vrrp
            .sync_groups
            .iter()
            .map(|g| GroupScripts {
                name: g.name.clone(),
                master: g.notify_master.clone().map(Box::new),
                backup: g.notify_backup.clone().map(Box::new),
                fault: g.notify_fault.clone().map(Box::new),
                stop: g.notify_stop.clone().map(Box::new),
                generic: g.notify.clone().map(Box::new),
                smtp: keepalived_alert::vrrp_smtp_alert(g.smtp_alert, &cfg.global),
                last_email: Default::default(),
            })
            .collect();
        Notifier {
            opts,
            instances,
            groups,
            fifos: Default::default(),
            running: Vec::new(),
            alerts: None,
            router_id: cfg.global.router_id.clone(),
            no_email_faults: cfg.global.no_email_faults,
        }
    }

    /// Start the SMTP alert sender if mail is configured (or take over the
    /// one of the shell before a reload, with the new settings).
    pub fn start_alerts(&mut self, cfg: &Config, previous: Option<keepalived_alert::AlertSender>) {
        let settings = keepalived_alert::AlertSettings::from_global(&cfg.global);
        self.alerts = keepalived_alert::AlertSender::carry_over(previous, settings);
    }

    /// Send what is queued (bounded: a hung relay cannot hold the stop).
    pub fn stop_alerts(&mut self, within: std::time::Duration) {
        if let Some(a) = self.alerts.take() {
            let st = a.shutdown(within);
            if st.abandoned > 0 {
                info!(abandoned = st.abandoned, "SMTP alerts not sent at stop");
            }
        }
    }

    fn mail(&mut self, group: bool, idx: usize, name: &str, word: &str) {
        use keepalived_alert::{Alert, AlertState};
        let state = match word {
            "MASTER" => AlertState::Master,
            "BACKUP" => AlertState::Backup,
            "FAULT" => AlertState::Fault,
            "STOP" => AlertState::Stop,
            "DELETED" => AlertState::Deleted,
            _ => return,
        };
        let Some(sender) = self.alerts.as_ref() else { return };
        let entry = if group {
            self.groups.get_mut(idx).map(|g| (g.smtp, &mut g.last_email))
        } else {
            self.instances.get_mut(idx).map(|i| (i.smtp, &mut i.last_email))
        };
        let Some((smtp, last)) = entry else { return };
        if !last.should_send(smtp, self.no_email_faults, state) {
            return;
        }
        let rid = self.router_id.as_deref();
        let alert =
            if group { Alert::vrrp_group(rid, name, state) } else { Some(Alert::vrrp_instance(rid, name, state)) };
        if let Some(a) = alert {
            // A full queue is counted and logged by the sender.
            let _ = sender.send(a);
        }
    }

    /// Create and open `notify_fifo` and `vrrp_notify_fifo`, starting their
    /// reader scripts first (keepalived's order).
    pub fn open_fifos(&mut self, cfg: &Config) {
        let g = &cfg.global;
        self.fifos.open(&g.notify_fifo, &g.vrrp_notify_fifo, "vrrp ", &self.opts, &mut self.running);
    }

    fn write_fifos(&mut self, line: &str) {
        self.fifos.write(line.as_bytes());
    }

    fn run(&mut self, s: &Script, extra: &[&str]) {
        if let Some(pid) = keepalived_runtime::script::spawn(s, extra, &self.opts, false) {
            self.running.push(pid);
        }
    }

    /// An instance entered `state` (STOP at shutdown, or DELETED at reload).
    pub fn instance(&mut self, id: usize, state: State, priority: u8) {
        let Some(n) = self.instances.get(id) else { return };
        let specific = match state {
            State::Master => n.master.clone(),
            State::Backup => n.backup.clone(),
            State::Fault => n.fault.clone(),
            State::Stop => n.stop.clone(),
            State::Init => return,
        };
        let (name, generic) = (n.name.clone(), n.generic.clone());
        self.notify(false, id, &name, specific.as_deref(), generic.as_deref(), state.name(), priority);
    }

    /// An instance removed at a reload: DELETED with `notify_deleted`,
    /// else FAULT (keepalived's backward-compatible default).
    pub fn deleted(&mut self, id: usize, priority: u8) {
        let Some(n) = self.instances.get(id) else { return };
        let (name, generic) = (n.name.clone(), n.generic.clone());
        if n.notify_deleted {
            let specific = n.deleted.clone();
            self.notify(false, id, &name, specific.as_deref(), generic.as_deref(), "DELETED", priority);
        } else {
            let specific = n.fault.clone();
            self.notify(false, id, &name, specific.as_deref(), generic.as_deref(), "FAULT", priority);
        }
    }

    /// A sync group entered `state`.
    pub fn group(&mut self, g: usize, name: &str, state: State) {
        let gi = self.groups.iter().position(|x| x.name == name).unwrap_or(g);
        let scripts = self.groups.get(gi);
        let (specific, generic) = match scripts {
            Some(n) => (
                match state {
                    State::Master => n.master.clone(),
                    State::Backup => n.backup.clone(),
                    State::Fault => n.fault.clone(),
                    State::Stop => n.stop.clone(),
                    State::Init => return,
                },
                n.generic.clone(),
            ),
            None => (None, None),
        };
        self.notify(true, gi, name, specific.as_deref(), generic.as_deref(), state.name(), 0);
    }

    /// keepalived's notify_instance_fifo / notify_group_fifo: the state
    /// line on the FIFOs alone.
    pub fn fifo_state(&mut self, group: bool, name: &str, state: State, priority: u8) {
        let line = fifo_line(group, name, state.name(), priority);
        self.write_fifos(&line);
    }

    #[allow(clippy::too_many_arguments)]
    fn notify(
        &mut self,
        group: bool,
        idx: usize,
        name: &str,
        specific: Option<&Script>,
        generic: Option<&Script>,
        word: &str,
        priority: u8,
    ) {
        if let Some(s) = specific {
            self.run(s, &[]);
        }
        if let Some(s) = generic {
            let kind = if group { "GROUP" } else { "INSTANCE" };
            self.run(s, &[kind, name, word, &priority.to_string()]);
        }
        let line = fifo_line(group, name, word, priority);
        self.write_fifos(&line);
        self.mail(group, idx, name, word);
    }

    /// A FIFO-only event (with `notify_master_rx_lower_pri`'s script for
    /// MASTER_RX_LOWER_PRI).
    pub fn event(&mut self, id: usize, event: Event, priority: u8) {
        let Some(n) = self.instances.get(id) else { return };
        let name = n.name.clone();
        if event == Event::MasterRxLowerPri {
            if let Some(s) = n.rx_lower_pri.clone() {
                self.run(&s, &[]);
            }
        }
        let line = fifo_line(false, &name, event.word(), priority);
        self.write_fifos(&line);
    }

    /// The first step of a stop: keepalived SIGTERMs the scripts it watches,
    /// FIFO readers included, before it sends the STOP notifies, so a
    /// `notify_fifo_script` never reads the STOP lines (other readers do).
    pub fn kill_readers(&mut self) {
        self.fifos.kill_readers();
    }

    /// A child exited: forget it. True if it was one of ours.
    pub fn reaped(&mut self, pid: Pid) -> bool {
        self.fifos.reaped(pid);
        let before = self.running.len();
        self.running.retain(|p| *p != pid);
        self.running.len() != before
    }

    /// Close the FIFOs, removing those we created first, so that a reader
    /// that reopens in a loop cannot get the old one back.
    pub fn close_fifos(&mut self) {
        self.fifos.close();
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        self.close_fifos();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_lines_are_keepalived_s() {
        assert_eq!(fifo_line(false, "VI_1", "MASTER", 100), "INSTANCE \"VI_1\" MASTER 100\n");
        assert_eq!(fifo_line(true, "VG_1", "BACKUP", 0), "GROUP \"VG_1\" BACKUP 0\n");
        assert_eq!(
            fifo_line(false, "x", Event::MasterRxLowerPri.word(), 150),
            "INSTANCE \"x\" MASTER_RX_LOWER_PRI 150\n"
        );
    }

    #[test]
    fn a_fifo_without_reader_never_blocks() {
        let dir = std::env::temp_dir().join(format!("ka-rs-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.fifo");
        let cfg = Config::default();
        let mut n = Notifier::new(&cfg, ScriptRunOpts::default());
        let f = keepalived_config::model::global::NotifyFifo {
            name: Some(path.to_string_lossy().into_owned()),
            ..Default::default()
        };
        let fifo = n.fifos.open_one(&path.to_string_lossy(), &f, "", &n.opts, &mut n.running).expect("fifo opened");
        assert!(fifo.created);
        n.fifos.push(fifo);
        // 64 KiB pipe buffer: far more lines than fit, none blocks.
        for _ in 0..10_000 {
            n.write_fifos(&fifo_line(false, "VI_1", "MASTER", 100));
        }
        n.close_fifos();
        assert!(!path.exists(), "a FIFO we created is removed");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
