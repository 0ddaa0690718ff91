//! The VRRP side of `lvs_sync_daemon IF INSTANCE …`: the IPVS sync daemon
//! follows the named instance (keepalived 2.2.7 vrrp_scheduler.c
//! `vrrp_init_state`: backup daemon at start; vrrp.c
//! `vrrp_state_become_master` → `ipvs_syncd_master`,
//! `vrrp_state_leave_master` → `ipvs_syncd_backup`; vrrp_daemon.c
//! `reload_vrrp_thread`: the current role again after a reload). keepalived
//! talks to IPVS from the VRRP process; here the checker child does, so
//! these become `PeerEvent::SyncDaemon` events sent through the parent
//! (check/sync_daemon.rs applies them). The stop is the checker child's.

use keepalived_config::Config;
use keepalived_runtime::PeerEvent;
use keepalived_vrrp::State;

/// Watches the named instance's transitions; queues the events to send.
#[derive(Debug, Default)]
pub struct SyncDaemonHook {
    /// The followed instance (None: no lvs_sync_daemon, or it names no
    /// instance of ours).
    instance: Option<String>,
    /// `id`, else the instance's VRID (vrrp.c `vrrp_complete_init`).
    syncid: u8,
    /// The role last sent (true: master).
    last: Option<bool>,
    pending: Vec<PeerEvent>,
}

impl SyncDaemonHook {
    pub fn new(cfg: &Config) -> SyncDaemonHook {
        let Some(sd) = cfg.global.lvs_sync_daemon.as_ref() else { return SyncDaemonHook::default() };
        let Some(name) = sd.vrrp_instance.as_deref() else { return SyncDaemonHook::default() };
        let Some(inst) = cfg.vrrp.instances.iter().find(|i| i.name == name) else {
            tracing::error!("Unable to find vrrp instance {name} for lvs_syncd - clearing lvs_syncd config");
            return SyncDaemonHook::default();
        };
        let syncid = sd.syncid.and_then(|i| u8::try_from(i).ok()).or(inst.vrid).unwrap_or(0);
        SyncDaemonHook { instance: Some(name.to_string()), syncid, last: None, pending: Vec::new() }
    }

    fn send(&mut self, master: bool) {
        self.last = Some(master);
        self.pending.push(PeerEvent::SyncDaemon { master, syncid: self.syncid });
    }

    /// Start-up: the backup daemon.
    pub fn start(&mut self) {
        if self.instance.is_some() {
            self.send(false);
        }
    }

    /// An instance notified `state`: entering MASTER starts the master
    /// daemon, leaving it (BACKUP, FAULT) the backup one. STOP is left to
    /// the checker child's own stop.
    pub fn on_state(&mut self, instance: &str, state: State) {
        if self.instance.as_deref() != Some(instance) {
            return;
        }
        match state {
            State::Master if self.last != Some(true) => self.send(true),
            State::Backup | State::Fault if self.last == Some(true) => self.send(false),
            _ => {}
        }
    }

    /// After a reload: the role the instance has now.
    pub fn reloaded(&mut self, state: Option<State>) {
        if self.instance.is_some() {
            self.send(state == Some(State::Master));
        }
    }

    /// The followed instance, if any.
    pub fn instance(&self) -> Option<&str> {
        self.instance.as_deref()
    }

    /// The events to send to the checker child.
    pub fn take(&mut self) -> Vec<PeerEvent> {
        std::mem::take(&mut self.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(sync: &str) -> Config {
        let text = format!(
            "global_defs {{\n {sync}\n}}\n\
             vrrp_instance VI_1 {{\n interface lo\n virtual_router_id 51\n priority 100\n virtual_ipaddress {{\n 10.9.9.9\n }}\n}}\n\
             vrrp_instance VI_2 {{\n interface lo\n virtual_router_id 52\n priority 100\n virtual_ipaddress {{\n 10.9.9.8\n }}\n}}\n"
        );
        keepalived_config::parse_str("t.conf", &text, &Default::default()).config
    }

    fn ev(master: bool, syncid: u8) -> PeerEvent {
        PeerEvent::SyncDaemon { master, syncid }
    }

    #[test]
    fn the_named_instance_s_transitions() {
        let mut h = SyncDaemonHook::new(&cfg("lvs_sync_daemon lo VI_1"));
        assert_eq!(h.instance(), Some("VI_1"));
        h.start();
        assert_eq!(h.take(), vec![ev(false, 51)], "backup daemon at start, sync id = VRID");
        h.on_state("VI_1", State::Backup);
        h.on_state("VI_2", State::Master);
        assert!(h.take().is_empty(), "entering BACKUP at start, and other instances, change nothing");
        h.on_state("VI_1", State::Master);
        h.on_state("VI_1", State::Master);
        assert_eq!(h.take(), vec![ev(true, 51)]);
        h.on_state("VI_1", State::Fault);
        assert_eq!(h.take(), vec![ev(false, 51)], "leaving MASTER: backup daemon");
        h.on_state("VI_1", State::Backup);
        assert!(h.take().is_empty());
        h.on_state("VI_1", State::Master);
        h.on_state("VI_1", State::Backup);
        h.on_state("VI_1", State::Stop);
        assert_eq!(h.take(), vec![ev(true, 51), ev(false, 51)], "STOP is the checker's business");
        h.reloaded(Some(State::Master));
        assert_eq!(h.take(), vec![ev(true, 51)]);
    }

    #[test]
    fn sync_id_and_missing_instances() {
        let mut h = SyncDaemonHook::new(&cfg("lvs_sync_daemon lo inst VI_2 id 7"));
        h.start();
        assert_eq!(h.take(), vec![ev(false, 7)]);
        for s in ["lvs_sync_daemon lo VI_9", "lvs_sync_daemon lo", ""] {
            let mut h = SyncDaemonHook::new(&cfg(s));
            h.start();
            h.on_state("VI_1", State::Master);
            h.reloaded(Some(State::Master));
            assert!(h.take().is_empty(), "{s}: nothing to follow");
        }
    }
}
